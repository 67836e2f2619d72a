package graphql

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/vektah/gqlparser/v2/ast"
)

// SubscribeHook runs when a subscription starts (AppSync's subscription
// resolver): it may refuse the subscription, or set an enhanced filter and an
// invalidation filter.
type SubscribeHook interface {
	OnSubscribe(ctx context.Context, p *ResolveParams) (*SubscribeResult, error)
}

// SubscribeResult is what a SubscribeHook decides.
type SubscribeResult struct {
	Filter             *Filter // replaces argument filtering when set
	InvalidationFilter *Filter
}

// Subscription is one live subscription, ready to match and project events.
type Subscription struct {
	Field              string // root field of the Subscription type
	Key                string // response key (alias or field name)
	Args               map[string]any
	Filter             *Filter
	InvalidationFilter *Filter
	// Group is equal for two subscriptions that receive byte-identical data
	// for every event: same document, variables and filter.
	Group string

	op *Operation
}

// Subscribe registers a prepared subscription operation: it checks the kind,
// authorizes the root field, runs the field's hook and computes the filter.
func (e *Executor) Subscribe(ctx context.Context, op *Operation, who *Identity, hooks map[string]SubscribeHook) (*Subscription, Errors) {
	if op.Op.Operation != ast.Subscription {
		return nil, Errors{{ErrorType: ErrTypeUnsupported, Message: fmt.Sprintf("%s not supported through the realtime channel", op.Op.Operation)}}
	}
	root := e.Schema.ast.Subscription
	x := &execution{e: e, vars: op.Vars, doc: op.Doc}
	fields := x.collect(root, op.Op.SelectionSet, nil, nil)
	var cf *collected
	for i := range fields {
		if fields[i].fields[0].Name != "__typename" {
			if cf != nil {
				return nil, Errors{{ErrorType: ErrTypeValidation, Message: "a subscription must select exactly one top level field"}}
			}
			cf = &fields[i]
		}
	}
	if cf == nil {
		return nil, Errors{{ErrorType: ErrTypeValidation, Message: "a subscription must select exactly one top level field"}}
	}
	f := cf.fields[0]
	def := root.Fields.ForName(f.Name)
	if err := e.Schema.Authorize(who, e.DefaultAuth, root, def); err != nil {
		ge := err.(*Error)
		ge.Locations = posLocation(f.Position)
		return nil, Errors{ge}
	}
	args, err := e.SuppliedArgs(f, op.Vars)
	if err != nil {
		return nil, Errors{{ErrorType: ErrTypeValidation, Message: err.Error(), Locations: posLocation(f.Position)}}
	}
	s := &Subscription{Field: f.Name, Key: cf.key, Args: args, op: op}
	if h := hooks[f.Name]; h != nil {
		all, _ := e.Args(f, op.Vars)
		res, err := h.OnSubscribe(ctx, &ResolveParams{TypeName: root.Name, FieldName: f.Name, Field: def, Args: all, Identity: who, Selection: f})
		if err != nil {
			e := &Error{Message: err.Error(), ErrorType: "BadRequestException", Locations: posLocation(f.Position)}
			var re *ResolverError
			var ge *Error
			if asErr(err, &re) {
				e.Message, e.ErrorType = re.Message, re.Type
			} else if asErr(err, &ge) {
				e.Message, e.ErrorType = ge.Message, ge.ErrorType
			}
			return nil, Errors{e}
		}
		if res != nil {
			s.Filter, s.InvalidationFilter = res.Filter, res.InvalidationFilter
		}
	}
	s.Group = groupKey(op, s)
	return s, nil
}

func groupKey(op *Operation, s *Subscription) string {
	h := sha256.New()
	h.Write([]byte(op.Query))
	h.Write([]byte{0})
	h.Write([]byte(op.Op.Name))
	h.Write([]byte{0})
	vb, _ := json.Marshal(op.Vars)
	h.Write(vb)
	h.Write([]byte{0})
	if s.Filter != nil {
		fb, _ := json.Marshal(s.Filter)
		h.Write(fb)
	} else {
		ab, _ := json.Marshal(s.Args)
		h.Write(ab)
	}
	h.Write([]byte{0})
	if s.InvalidationFilter != nil {
		ib, _ := json.Marshal(s.InvalidationFilter)
		h.Write(ib)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Matches reports whether an event payload (a Publication's Payload) passes the
// subscription's filter: the enhanced filter if one is set, otherwise the
// argument filter, where each supplied argument must equal the top-level field
// of the same name and an explicit null requires that field to be null.
func (s *Subscription) Matches(payload any) bool {
	if s.Filter != nil {
		return s.Filter.Match(payload)
	}
	if len(s.Args) == 0 {
		return true
	}
	m, ok := payload.(map[string]any)
	if !ok {
		return false
	}
	for k, want := range s.Args {
		if !jsonEqual(m[k], want) {
			return false
		}
	}
	return true
}

// Invalidated reports whether an invalidateSubscriptions payload ends this
// subscription.
func (s *Subscription) Invalidated(payload map[string]any) bool {
	return s.InvalidationFilter != nil && s.InvalidationFilter.Match(payload)
}

// Project renders the subscriber's selection set over an event payload and
// returns the data message payload, {"data":{...},"errors":[...]}. Fields the
// mutation did not select are null, or an error where the schema says
// non-null. data is never null: clients drop a message whose data is null.
func (e *Executor) Project(s *Subscription, payload any) []byte {
	root := e.Schema.ast.Subscription
	x := &execution{e: e, vars: s.op.Vars, doc: s.op.Doc}
	fields := x.collect(root, s.op.Op.SelectionSet, nil, nil)
	src := map[string]any{s.Field: payload}
	data := make(Object, 0, len(fields))
	for _, cf := range fields {
		v, _, _ := x.field(root, src, cf.fields, []any{cf.key})
		data = append(data, Member{Key: cf.key, Value: v})
	}
	var buf bytes.Buffer
	buf.WriteString(`{"data":`)
	_ = writeJSON(&buf, data)
	if len(x.errs) > 0 {
		buf.WriteString(`,"errors":`)
		eb, _ := json.Marshal(x.errs)
		buf.Write(eb)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}
