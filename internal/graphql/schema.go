package graphql

import (
	"errors"
	"fmt"
	"sort"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// MaxSchemaBytes is AppSync's schema document quota (1 MB).
const MaxSchemaBytes = 1 << 20

// Schema is a loaded, checked AppSync schema.
type Schema struct {
	ast *ast.Schema
	// triggers maps a Mutation field to the Subscription fields whose
	// @aws_subscribe lists it, in schema order.
	triggers map[string][]string
}

// SchemaError is a schema that did not load, with where it went wrong.
type SchemaError struct {
	File    string
	Line    int // 1-based; 0 if unknown
	Column  int
	Message string
}

func (e *SchemaError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
}

func schemaErr(file string, err error) error {
	var ge *gqlerror.Error
	if errors.As(err, &ge) {
		se := &SchemaError{File: file, Message: ge.Message}
		if len(ge.Locations) > 0 {
			se.Line, se.Column = ge.Locations[0].Line, ge.Locations[0].Column
		}
		if f, ok := ge.Extensions["file"].(string); ok && f != "" {
			se.File = f
		}
		return se
	}
	return &SchemaError{File: file, Message: err.Error()}
}

// LoadSchema parses and checks an AppSync schema. file names the source in
// error messages.
func LoadSchema(file, sdl string) (*Schema, error) {
	if len(sdl) > MaxSchemaBytes {
		return nil, &SchemaError{File: file, Message: fmt.Sprintf("schema is %d bytes, over the %d byte limit", len(sdl), MaxSchemaBytes)}
	}
	src := &ast.Source{Name: file, Input: sdl}
	doc, err := parser.ParseSchema(src)
	if err != nil {
		return nil, schemaErr(file, err)
	}
	s, err := validator.LoadSchema(validator.Prelude, preludeFor(doc), src)
	if err != nil {
		return nil, schemaErr(file, err)
	}
	if s.Query == nil {
		return nil, &SchemaError{File: file, Message: "schema has no query type"}
	}
	sc := &Schema{ast: s, triggers: map[string][]string{}}
	if err := sc.checkSubscribe(file); err != nil {
		return nil, err
	}
	return sc, nil
}

// AST exposes the parsed schema (read-only).
func (s *Schema) AST() *ast.Schema { return s.ast }

// Triggered returns the Subscription fields that a Mutation field triggers.
func (s *Schema) Triggered(mutationField string) []string { return s.triggers[mutationField] }

// checkSubscribe enforces @aws_subscribe's rules: only on Subscription fields,
// every listed mutation exists, and returns the same named type (and list
// shape; nullability may differ, as in AppSync's own addPost: Post! / addedPost: Post).
func (s *Schema) checkSubscribe(file string) error {
	at := func(p *ast.Position, format string, args ...any) error {
		se := &SchemaError{File: file, Message: fmt.Sprintf(format, args...)}
		if p != nil {
			se.Line, se.Column = p.Line, p.Column
			if p.Src != nil && p.Src.Name != "" {
				se.File = p.Src.Name
			}
		}
		return se
	}
	names := make([]string, 0, len(s.ast.Types))
	for n := range s.ast.Types {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		def := s.ast.Types[n]
		if def.BuiltIn {
			continue
		}
		for _, f := range def.Fields {
			d := f.Directives.ForName("aws_subscribe")
			if d == nil {
				continue
			}
			if s.ast.Subscription == nil || def != s.ast.Subscription {
				return at(d.Position, "@aws_subscribe on %s.%s: allowed only on fields of the subscription type", def.Name, f.Name)
			}
			arg := d.Arguments.ForName("mutations")
			if arg == nil || arg.Value == nil {
				return at(d.Position, "@aws_subscribe on %s.%s needs mutations", def.Name, f.Name)
			}
			for _, c := range arg.Value.Children {
				mname := c.Value.Raw
				if s.ast.Mutation == nil {
					return at(c.Value.Position, "@aws_subscribe on %s.%s: mutation %q: the schema has no mutation type", def.Name, f.Name, mname)
				}
				mf := s.ast.Mutation.Fields.ForName(mname)
				if mf == nil {
					return at(c.Value.Position, "@aws_subscribe on %s.%s: mutation %q is not a field of %s", def.Name, f.Name, mname, s.ast.Mutation.Name)
				}
				if !sameShape(mf.Type, f.Type) {
					return at(c.Value.Position, "@aws_subscribe on %s.%s: mutation %q returns %s, the subscription returns %s", def.Name, f.Name, mname, mf.Type, f.Type)
				}
				if !contains(s.triggers[mname], f.Name) {
					s.triggers[mname] = append(s.triggers[mname], f.Name)
				}
			}
		}
	}
	return nil
}

// sameShape compares two types ignoring non-null wrappers.
func sameShape(a, b *ast.Type) bool {
	for a != nil && b != nil {
		if (a.Elem == nil) != (b.Elem == nil) {
			return false
		}
		if a.Elem == nil {
			return a.NamedType == b.NamedType
		}
		a, b = a.Elem, b.Elem
	}
	return a == nil && b == nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
