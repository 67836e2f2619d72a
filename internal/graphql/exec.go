package graphql

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// Limits on request documents: nothing a client sends may exhaust the server.
const (
	MaxDocumentBytes = 1 << 20
	DefaultMaxDepth  = 64
)

// Request is a GraphQL request as it arrives over HTTP or in a start message.
type Request struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName,omitempty"`
	Variables     map[string]any `json:"variables,omitempty"`
}

// Operation is a parsed, validated operation with coerced variables.
type Operation struct {
	Query string
	Doc   *ast.QueryDocument
	Op    *ast.OperationDefinition
	Vars  map[string]any
}

// Kind is "query", "mutation" or "subscription".
func (o *Operation) Kind() ast.Operation { return o.Op.Operation }

// Executor runs operations against one schema. Set its fields before use; it is
// then safe for concurrent use.
type Executor struct {
	Schema *Schema
	// Resolvers by "Type.field". Root Query and Mutation fields without one use
	// NoneResolver; other fields read the parent map by field name.
	Resolvers map[string]Resolver
	// DefaultAuth is the API's default authorization mode ("" = any mode).
	DefaultAuth AuthMode
	MaxDepth    int // 0 = DefaultMaxDepth

	docs docCache
}

// Response is the result of an operation.
type Response struct {
	Data   Object // nil with errors = "data": null
	Errors Errors
	// Publications are the subscription events a mutation produced: one per
	// root mutation field that returned a non-null value.
	Publications []Publication
	// Invalidations requested by the mutation's resolvers.
	Invalidations []Invalidation
}

// Publication is a mutation's result as subscribers see it: the value of the
// mutation field restricted to the mutation's own selection set, keyed by
// field name (aliases undone), objects carrying "__typename".
type Publication struct {
	Mutation string
	Payload  any
}

// SetResolver registers r for typ.field.
func (e *Executor) SetResolver(typ, field string, r Resolver) {
	if e.Resolvers == nil {
		e.Resolvers = map[string]Resolver{}
	}
	e.Resolvers[typ+"."+field] = r
}

// Prepare parses and validates a request. The errors carry line and column.
func (e *Executor) Prepare(req Request) (*Operation, Errors) {
	if len(req.Query) > MaxDocumentBytes {
		return nil, Errors{{ErrorType: ErrTypeValidation, Message: fmt.Sprintf("document is over the %d byte limit", MaxDocumentBytes)}}
	}
	if strings.TrimSpace(req.Query) == "" {
		return nil, Errors{{ErrorType: ErrTypeValidation, Message: "no query string was present"}}
	}
	doc, errs := e.docs.get(req.Query)
	if doc == nil && errs == nil {
		doc, errs = e.parse(req.Query)
		e.docs.put(req.Query, doc, errs)
	}
	if errs != nil {
		return nil, errs
	}
	var op *ast.OperationDefinition
	if req.OperationName == "" {
		if len(doc.Operations) != 1 {
			return nil, Errors{{ErrorType: ErrTypeValidation, Message: "operationName is required when the document has several operations"}}
		}
		op = doc.Operations[0]
	} else if op = doc.Operations.ForName(req.OperationName); op == nil {
		return nil, Errors{{ErrorType: ErrTypeValidation, Message: fmt.Sprintf("unknown operation named %q", req.OperationName)}}
	}
	maxDepth := e.MaxDepth
	if maxDepth == 0 {
		maxDepth = DefaultMaxDepth
	}
	if d := depth(op.SelectionSet, map[string]bool{}); d > maxDepth {
		return nil, Errors{{ErrorType: ErrTypeValidation, Message: fmt.Sprintf("query depth %d is over the limit of %d", d, maxDepth), Locations: posLocation(op.Position)}}
	}
	vars, verr := validator.VariableValues(e.Schema.ast, op, req.Variables)
	if verr != nil {
		return nil, Errors{asGQLError(verr, ErrTypeValidation)}
	}
	// gqlparser accepts any value for a custom scalar; check the AWS scalars
	// (and Int's range) ourselves, in variables and in literals.
	for _, vd := range op.VariableDefinitions {
		if v, ok := vars[vd.Variable]; ok {
			if _, err := e.coerceInput(vd.Type, v); err != nil {
				return nil, Errors{{ErrorType: ErrTypeValidation, Message: fmt.Sprintf("Variable '%s' has an invalid value: %v", vd.Variable, err), Locations: posLocation(vd.Position)}}
			}
		}
	}
	if err := e.checkLiterals(doc, vars); err != nil {
		return nil, Errors{err}
	}
	return &Operation{Query: req.Query, Doc: doc, Op: op, Vars: vars}, nil
}

func (e *Executor) parse(query string) (*ast.QueryDocument, Errors) {
	doc, perr := parser.ParseQuery(&ast.Source{Name: "request", Input: query})
	if perr != nil {
		return nil, Errors{asGQLError(perr, ErrTypeValidation)}
	}
	if errs := validator.Validate(e.Schema.ast, doc); len(errs) > 0 {
		return nil, fromGQL(errs, ErrTypeValidation)
	}
	return doc, nil
}

// docCacheSize bounds the parsed documents kept: clients send the same few
// documents again and again, and ten thousand subscribers of one document
// should share one parsed tree (it is read-only after validation).
const docCacheSize = 512

type docCache struct {
	mu      sync.Mutex
	entries map[string]docEntry
}

type docEntry struct {
	doc  *ast.QueryDocument
	errs Errors
}

func (c *docCache) get(q string) (*ast.QueryDocument, Errors) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[q]
	return e.doc, e.errs
}

func (c *docCache) put(q string, doc *ast.QueryDocument, errs Errors) {
	if len(q) > 64<<10 {
		return // large documents are rare; don't let them crowd the cache
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]docEntry{}
	}
	if len(c.entries) >= docCacheSize {
		for k := range c.entries { // evict one at random
			delete(c.entries, k)
			break
		}
	}
	c.entries[q] = docEntry{doc: doc, errs: errs}
}

// depth measures selection nesting, following fragments once.
func depth(ss ast.SelectionSet, seen map[string]bool) int {
	max := 0
	for _, s := range ss {
		d := 0
		switch s := s.(type) {
		case *ast.Field:
			if len(s.SelectionSet) > 0 {
				d = 1 + depth(s.SelectionSet, seen)
			} else {
				d = 1
			}
		case *ast.InlineFragment:
			d = depth(s.SelectionSet, seen)
		case *ast.FragmentSpread:
			if s.Definition != nil && !seen[s.Name] {
				seen[s.Name] = true
				d = depth(s.Definition.SelectionSet, seen)
				delete(seen, s.Name)
			}
		}
		if d > max {
			max = d
		}
	}
	return max
}

// checkLiterals validates argument values against their types wherever the
// document spells them out.
func (e *Executor) checkLiterals(doc *ast.QueryDocument, vars map[string]any) *Error {
	var walk func(ast.SelectionSet) *Error
	walk = func(ss ast.SelectionSet) *Error {
		for _, s := range ss {
			switch s := s.(type) {
			case *ast.Field:
				if s.Definition != nil {
					for _, a := range s.Arguments {
						ad := s.Definition.Arguments.ForName(a.Name)
						if ad == nil || a.Value == nil || a.Value.Kind == ast.Variable {
							continue
						}
						v, err := a.Value.Value(vars)
						if err == nil {
							_, err = e.coerceInput(ad.Type, v)
						}
						if err != nil {
							return &Error{ErrorType: ErrTypeValidation, Locations: posLocation(a.Position),
								Message: fmt.Sprintf("Validation error of type WrongType: argument '%s' with value '%s' is not valid: %v", a.Name, a.Value.String(), err)}
						}
					}
				}
				if err := walk(s.SelectionSet); err != nil {
					return err
				}
			case *ast.InlineFragment:
				if err := walk(s.SelectionSet); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, op := range doc.Operations {
		if err := walk(op.SelectionSet); err != nil {
			return err
		}
	}
	for _, f := range doc.Fragments {
		if err := walk(f.SelectionSet); err != nil {
			return err
		}
	}
	return nil
}

// coerceInput normalises an input value to the executor's model (Int as
// int64, Float as float64) and checks scalars.
func (e *Executor) coerceInput(t *ast.Type, v any) (any, error) {
	if v == nil {
		if t.NonNull {
			return nil, fmt.Errorf("null for non-null type %s", t)
		}
		return nil, nil
	}
	if t.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			// Input coercion wraps a single value in a list.
			c, err := e.coerceInput(t.Elem, v)
			if err != nil {
				return nil, err
			}
			return []any{c}, nil
		}
		out := make([]any, len(list))
		for i, el := range list {
			c, err := e.coerceInput(t.Elem, el)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	def := e.Schema.ast.Types[t.NamedType]
	if def == nil {
		return nil, fmt.Errorf("unknown type %s", t.NamedType)
	}
	switch def.Kind {
	case ast.Scalar:
		return validateScalar(def.Name, v)
	case ast.Enum:
		s, ok := v.(string)
		if !ok || def.EnumValues.ForName(s) == nil {
			return nil, fmt.Errorf("not a valid '%s'", def.Name)
		}
		return s, nil
	case ast.InputObject:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("not a valid '%s'", def.Name)
		}
		out := make(map[string]any, len(m))
		for k, fv := range m {
			fd := def.Fields.ForName(k)
			if fd == nil {
				return nil, fmt.Errorf("unknown field '%s' of '%s'", k, def.Name)
			}
			c, err := e.coerceInput(fd.Type, fv)
			if err != nil {
				return nil, fmt.Errorf("field '%s': %w", k, err)
			}
			out[k] = c
		}
		for _, fd := range def.Fields {
			if _, ok := out[fd.Name]; ok {
				continue
			}
			if fd.DefaultValue != nil {
				dv, err := fd.DefaultValue.Value(nil)
				if err == nil {
					out[fd.Name], _ = e.coerceInput(fd.Type, dv)
				}
			} else if fd.Type.NonNull {
				return nil, fmt.Errorf("missing required field '%s' of '%s'", fd.Name, def.Name)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s is not an input type", def.Name)
}

// Args returns the coerced arguments of a field selection.
func (e *Executor) Args(f *ast.Field, vars map[string]any) (map[string]any, error) {
	if f.Definition == nil {
		return map[string]any{}, nil
	}
	raw, err := safeArgumentMap(f, vars)
	if err != nil {
		return nil, err
	}
	for _, ad := range f.Definition.Arguments {
		v, ok := raw[ad.Name]
		if !ok {
			continue
		}
		c, err := e.coerceInput(ad.Type, v)
		if err != nil {
			return nil, fmt.Errorf("argument '%s': %w", ad.Name, err)
		}
		raw[ad.Name] = c
	}
	return raw, nil
}

// safeArgumentMap guards gqlparser's ArgumentMap, which panics on a literal it
// cannot convert (validation should have caught it first).
func safeArgumentMap(f *ast.Field, vars map[string]any) (m map[string]any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("invalid argument: %v", r)
		}
	}()
	return f.ArgumentMap(vars), nil
}

// SuppliedArgs returns only the arguments the client wrote in the document
// (no SDL defaults), with explicit nulls present; variables that were declared
// but not provided count as omitted. This is what AppSync's argument filters see.
func (e *Executor) SuppliedArgs(f *ast.Field, vars map[string]any) (map[string]any, error) {
	all, err := e.Args(f, vars)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(f.Arguments))
	for _, a := range f.Arguments {
		if a.Value != nil && a.Value.Kind == ast.Variable {
			if _, ok := vars[a.Value.Raw]; !ok {
				continue
			}
		}
		if v, ok := all[a.Name]; ok {
			out[a.Name] = v
		}
	}
	return out, nil
}

// Execute runs a prepared query or mutation. Subscriptions are registered, not
// executed: see Subscribe.
func (e *Executor) Execute(ctx context.Context, op *Operation, who *Identity) *Response {
	var root *ast.Definition
	switch op.Op.Operation {
	case ast.Query:
		root = e.Schema.ast.Query
	case ast.Mutation:
		root = e.Schema.ast.Mutation
	default:
		return &Response{Errors: Errors{{ErrorType: ErrTypeUnsupported, Message: "subscriptions are served on the real-time endpoint, not over HTTP"}}}
	}
	if root == nil {
		return &Response{Errors: Errors{{ErrorType: ErrTypeValidation, Message: fmt.Sprintf("schema is not configured for %ss", op.Op.Operation)}}}
	}
	x := &execution{e: e, ctx: ctx, vars: op.Vars, doc: op.Doc, who: who, ext: &Extensions{}, resolve: true,
		mutation: op.Op.Operation == ast.Mutation}
	resp := &Response{}
	fields := x.collect(root, op.Op.SelectionSet, nil, nil)
	data := make(Object, 0, len(fields))
	ok := true
	for _, cf := range fields {
		f := cf.fields[0]
		path := []any{cf.key}
		v, p, fok := x.field(root, nil, cf.fields, path)
		if !fok && f.Definition != nil && f.Definition.Type.NonNull {
			ok = false
		}
		data = append(data, Member{Key: cf.key, Value: v})
		if x.mutation && v != nil && f.Name != "__typename" && f.Definition != nil {
			resp.Publications = mergePublication(resp.Publications, f.Name, p)
		}
	}
	if ok {
		resp.Data = data
	}
	resp.Errors = x.errs
	resp.Invalidations = x.ext.invalidations
	return resp
}

func mergePublication(pubs []Publication, name string, p any) []Publication {
	for i := range pubs {
		if pubs[i].Mutation == name {
			pubs[i].Payload = mergePayload(pubs[i].Payload, p)
			return pubs
		}
	}
	return append(pubs, Publication{Mutation: name, Payload: p})
}

// mergePayload joins the payloads of two selections of the same field.
func mergePayload(a, b any) any {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if !aok || !bok {
		if a == nil {
			return b
		}
		return a
	}
	for k, v := range bm {
		if have, ok := am[k]; ok {
			am[k] = mergePayload(have, v)
		} else {
			am[k] = v
		}
	}
	return am
}

// execution is the state of one operation run.
type execution struct {
	e        *Executor
	ctx      context.Context
	vars     map[string]any
	doc      *ast.QueryDocument
	who      *Identity
	ext      *Extensions
	errs     Errors
	resolve  bool // false: projection mode, every field reads its parent map
	mutation bool // build publications
}

type collected struct {
	key    string
	fields []*ast.Field
}

// collect implements the spec's CollectFields.
func (x *execution) collect(obj *ast.Definition, ss ast.SelectionSet, out []collected, visited map[string]bool) []collected {
	for _, s := range ss {
		switch s := s.(type) {
		case *ast.Field:
			if !x.included(s.Directives) {
				continue
			}
			key := s.Alias
			if key == "" {
				key = s.Name
			}
			found := false
			for i := range out {
				if out[i].key == key {
					out[i].fields = append(out[i].fields, s)
					found = true
					break
				}
			}
			if !found {
				out = append(out, collected{key: key, fields: []*ast.Field{s}})
			}
		case *ast.InlineFragment:
			if !x.included(s.Directives) || !x.applies(obj, s.TypeCondition) {
				continue
			}
			out = x.collect(obj, s.SelectionSet, out, visited)
		case *ast.FragmentSpread:
			if !x.included(s.Directives) {
				continue
			}
			if visited == nil {
				visited = map[string]bool{}
			}
			if visited[s.Name] {
				continue
			}
			visited[s.Name] = true
			def := s.Definition
			if def == nil {
				def = x.doc.Fragments.ForName(s.Name)
			}
			if def == nil || !x.applies(obj, def.TypeCondition) {
				continue
			}
			out = x.collect(obj, def.SelectionSet, out, visited)
		}
	}
	return out
}

func (x *execution) included(ds ast.DirectiveList) bool {
	if d := ds.ForName("skip"); d != nil {
		if v, _ := d.ArgumentMap(x.vars)["if"].(bool); v {
			return false
		}
	}
	if d := ds.ForName("include"); d != nil {
		if v, _ := d.ArgumentMap(x.vars)["if"].(bool); !v {
			return false
		}
	}
	return true
}

func (x *execution) applies(obj *ast.Definition, cond string) bool {
	if cond == "" || cond == obj.Name {
		return true
	}
	def := x.e.Schema.ast.Types[cond]
	if def == nil || (def.Kind != ast.Interface && def.Kind != ast.Union) {
		return false
	}
	for _, pt := range x.e.Schema.ast.GetPossibleTypes(def) {
		if pt.Name == obj.Name {
			return true
		}
	}
	return false
}

func (x *execution) fail(path []any, pos *ast.Position, errType, format string, args ...any) {
	x.errs = append(x.errs, &Error{Message: fmt.Sprintf(format, args...), ErrorType: errType, Path: append([]any(nil), path...), Locations: posLocation(pos)})
}

// field resolves and completes one response key. ok=false means the value is
// null because of an error already recorded.
func (x *execution) field(obj *ast.Definition, source any, fields []*ast.Field, path []any) (v any, payload any, ok bool) {
	f := fields[0]
	if f.Name == "__typename" {
		return obj.Name, obj.Name, true
	}
	def := f.Definition
	if def == nil {
		def = obj.Fields.ForName(f.Name)
	}
	if def == nil {
		x.fail(path, f.Position, ErrTypeValidation, "Field '%s' in type '%s' is undefined", f.Name, obj.Name)
		return nil, nil, false
	}
	var raw any
	if x.resolve && (f.Name == "__schema" || f.Name == "__type") && obj == x.e.Schema.ast.Query {
		raw = x.introspectRoot(f)
	} else if x.resolve && strings.HasPrefix(obj.Name, "__") {
		args, _ := x.e.Args(f, x.vars)
		raw = introspectField(x.e.Schema, obj.Name, f.Name, source, args)
	} else if x.resolve {
		if err := x.e.Schema.Authorize(x.who, x.e.DefaultAuth, obj, def); err != nil {
			x.errs = append(x.errs, &Error{Message: err.(*Error).Message, ErrorType: ErrTypeUnauthorized, Path: append([]any(nil), path...), Locations: posLocation(f.Position)})
			return nil, nil, false
		}
		r := x.e.Resolvers[obj.Name+"."+f.Name]
		isRoot := obj == x.e.Schema.ast.Query || obj == x.e.Schema.ast.Mutation
		if r == nil && isRoot {
			r = NoneResolver
		}
		if r != nil {
			args, err := x.e.Args(f, x.vars)
			if err != nil {
				x.fail(path, f.Position, ErrTypeValidation, "%v", err)
				return nil, nil, false
			}
			raw, err = x.callResolver(r, &ResolveParams{TypeName: obj.Name, FieldName: f.Name, Field: def, Args: args,
				Source: source, Identity: x.who, Selection: f, Ext: x.ext})
			if err != nil {
				x.resolverError(path, f, err)
				return nil, nil, false
			}
		} else {
			raw = lookup(source, f.Name)
		}
	} else {
		raw = lookup(source, f.Name)
	}
	return x.complete(def.Type, fields, raw, path, obj)
}

func (x *execution) callResolver(r Resolver, p *ResolveParams) (v any, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			err = &ResolverError{Type: ErrTypeInternal, Message: "internal error in resolver"}
		}
	}()
	return r.Resolve(x.ctx, p)
}

func (x *execution) resolverError(path []any, f *ast.Field, err error) {
	e := &Error{Message: err.Error(), Path: append([]any(nil), path...), Locations: posLocation(f.Position)}
	var re *ResolverError
	var ge *Error
	switch {
	case asErr(err, &re):
		e.Message, e.ErrorType, e.Data, e.ErrorInfo = re.Message, re.Type, re.Data, re.ErrorInfo
	case asErr(err, &ge):
		e.Message, e.ErrorType = ge.Message, ge.ErrorType
	}
	x.errs = append(x.errs, e)
}

func lookup(source any, name string) any {
	switch s := source.(type) {
	case map[string]any:
		return s[name]
	case Object:
		v, _ := s.Get(name)
		return v
	}
	return nil
}

// complete implements CompleteValue. payload is the same value keyed by field
// name with __typename on objects (built only for mutations).
func (x *execution) complete(t *ast.Type, fields []*ast.Field, v any, path []any, parent *ast.Definition) (any, any, bool) {
	if t.NonNull {
		inner := *t
		inner.NonNull = false
		out, p, ok := x.complete(&inner, fields, v, path, parent)
		if !ok {
			return nil, nil, false
		}
		if out == nil {
			x.fail(path, fields[0].Position, ErrTypeNonNull, "Cannot return null for non-nullable type: '%s' within parent '%s' (/%s)",
				t.Name(), parent.Name, pathString(path))
			return nil, nil, false
		}
		return out, p, true
	}
	if v == nil {
		return nil, nil, true
	}
	if t.Elem != nil {
		list, ok := toList(v)
		if !ok {
			x.fail(path, fields[0].Position, ErrTypeInternal, "Can't resolve value (/%s) : type mismatch error, expected type LIST", pathString(path))
			return nil, nil, false
		}
		out := make([]any, len(list))
		var pl []any
		if x.mutation {
			pl = make([]any, len(list))
		}
		for i, el := range list {
			cv, cp, ok := x.complete(t.Elem, fields, el, append(path, i), parent)
			if !ok && t.Elem.NonNull {
				return nil, nil, false
			}
			out[i] = cv
			if pl != nil {
				pl[i] = cp
			}
		}
		if pl == nil {
			return out, nil, true
		}
		return out, pl, true
	}
	def := x.e.Schema.ast.Types[t.NamedType]
	switch def.Kind {
	case ast.Scalar:
		s, err := validateScalar(def.Name, v)
		if err != nil {
			x.fail(path, fields[0].Position, ErrTypeInternal, "Can't serialize value (/%s) : %v", pathString(path), err)
			return nil, nil, false
		}
		return s, s, true
	case ast.Enum:
		s, ok := v.(string)
		if !ok || def.EnumValues.ForName(s) == nil {
			x.fail(path, fields[0].Position, ErrTypeInternal, "Can't serialize value (/%s) : not a valid '%s'", pathString(path), def.Name)
			return nil, nil, false
		}
		return s, s, true
	}
	obj := def
	if def.Kind == ast.Interface || def.Kind == ast.Union {
		obj = x.resolveType(def, v)
		if obj == nil {
			x.fail(path, fields[0].Position, ErrTypeInternal, "Can't resolve the concrete type of '%s' (/%s): the value has no valid __typename", def.Name, pathString(path))
			return nil, nil, false
		}
	}
	var ss ast.SelectionSet
	for _, f := range fields {
		ss = append(ss, f.SelectionSet...)
	}
	sub := x.collect(obj, ss, nil, nil)
	out := make(Object, 0, len(sub))
	var pm map[string]any
	if x.mutation {
		pm = map[string]any{"__typename": obj.Name}
	}
	for _, cf := range sub {
		fv, fp, ok := x.field(obj, v, cf.fields, append(path, cf.key))
		f := cf.fields[0]
		if !ok {
			fd := f.Definition
			if fd == nil {
				fd = obj.Fields.ForName(f.Name)
			}
			if fd != nil && fd.Type.NonNull {
				return nil, nil, false
			}
		}
		out = append(out, Member{Key: cf.key, Value: fv})
		if pm != nil && f.Name != "__typename" {
			if have, ok := pm[f.Name]; ok {
				pm[f.Name] = mergePayload(have, fp)
			} else {
				pm[f.Name] = fp
			}
		}
	}
	if pm == nil {
		return out, nil, true
	}
	return out, pm, true
}

func (x *execution) resolveType(abstract *ast.Definition, v any) *ast.Definition {
	possible := x.e.Schema.ast.GetPossibleTypes(abstract)
	name, _ := lookup(v, "__typename").(string)
	for _, p := range possible {
		if p.Name == name {
			return p
		}
	}
	if name == "" && len(possible) == 1 {
		return possible[0]
	}
	return nil
}

func toList(v any) ([]any, bool) {
	if l, ok := v.([]any); ok {
		return l, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

func pathString(path []any) string {
	var b strings.Builder
	for i, p := range path {
		if i > 0 {
			b.WriteByte('/')
		}
		switch p := p.(type) {
		case string:
			b.WriteString(p)
		case int:
			b.WriteString(strconv.Itoa(p))
		}
	}
	return b.String()
}

func asErr[T error](err error, target *T) bool {
	for err != nil {
		if t, ok := err.(T); ok {
			*target = t
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// jsonEqual compares values of the JSON model, treating numbers by value.
func jsonEqual(a, b any) bool {
	if an, ok := number(a); ok {
		bn, ok := number(b)
		return ok && an == bn
	}
	switch a := a.(type) {
	case nil:
		return b == nil
	case string:
		bs, ok := b.(string)
		return ok && a == bs
	case bool:
		bb, ok := b.(bool)
		return ok && a == bb
	case []any:
		bl, ok := b.([]any)
		if !ok || len(a) != len(bl) {
			return false
		}
		for i := range a {
			if !jsonEqual(a[i], bl[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, v := range a {
			if bv, ok := bm[k]; !ok || !jsonEqual(v, bv) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case float32:
		return float64(n), true
	case int32:
		return float64(n), true
	}
	return 0, false
}
