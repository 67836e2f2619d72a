package graphql

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// ResolverConfig is the file given to `serve --graphql-resolvers FILE` (JSON).
// See docs/graphql-resolvers.md for the format with examples.
type ResolverConfig struct {
	DataSources map[string]DataSourceConfig `json:"dataSources"`
	// Resolvers by "Type.field".
	Resolvers map[string]FieldConfig `json:"resolvers"`
}

// DataSourceConfig declares a data source.
type DataSourceConfig struct {
	Type  string `json:"type"`  // "NONE" or "SETSUNA_CACHE"
	Cache string `json:"cache"` // SETSUNA_CACHE: the cache that holds the items
}

// FieldConfig configures one field.
type FieldConfig struct {
	DataSource string  `json:"dataSource,omitempty"`
	Operation  CacheOp `json:"operation,omitempty"` // SETSUNA_CACHE: get, list, create, update, delete
	// TypeName is the stored type; default: the field's named return type, or
	// the type of its "items" field for a connection type.
	TypeName string `json:"typeName,omitempty"`

	// Subscription fields only.
	// SubscriptionFilter is an enhanced filter ({"filterGroup":[...]}) whose
	// values may be templates: {"$args":"name"} or {"$identity":"claim"}.
	SubscriptionFilter json.RawMessage `json:"subscriptionFilter,omitempty"`
	// FilterArgument names a String/AWSJSON argument in which the client sends
	// a filter object for toSubscriptionFilter (ANDed with SubscriptionFilter).
	FilterArgument     string          `json:"filterArgument,omitempty"`
	InvalidationFilter json.RawMessage `json:"invalidationFilter,omitempty"`

	// Mutation fields only: extensions.invalidateSubscriptions calls, made
	// after the field resolves; payload values may be templates, plus
	// {"$result":"field"} for the mutation's result.
	InvalidateSubscriptions []InvalidationTemplate `json:"invalidateSubscriptions,omitempty"`
}

// InvalidationTemplate is one configured invalidateSubscriptions call.
type InvalidationTemplate struct {
	SubscriptionField string         `json:"subscriptionField"`
	Payload           map[string]any `json:"payload"`
}

// StoreOpener returns the Store behind a SETSUNA_CACHE data source.
type StoreOpener func(name string, ds DataSourceConfig) (Store, error)

// ParseResolverConfig decodes a config file strictly (unknown keys are errors).
func ParseResolverConfig(data []byte) (*ResolverConfig, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c ResolverConfig
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("resolver config: %v", err)
	}
	return &c, nil
}

// Apply checks the config against the schema and installs its resolvers in e.
// It returns the subscribe hooks for the real-time surface.
func (c *ResolverConfig) Apply(e *Executor, open StoreOpener) (map[string]SubscribeHook, error) {
	s := e.Schema.ast
	hooks := map[string]SubscribeHook{}
	stores := map[string]Store{}
	keys := make([]string, 0, len(c.Resolvers))
	for k := range c.Resolvers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		fc := c.Resolvers[key]
		typ, field, ok := strings.Cut(key, ".")
		def := s.Types[typ]
		if !ok || def == nil || def.Fields.ForName(field) == nil {
			return nil, fmt.Errorf("resolver config: %q is not a field of the schema", key)
		}
		fd := def.Fields.ForName(field)
		isSub := s.Subscription != nil && def == s.Subscription
		isMut := s.Mutation != nil && def == s.Mutation
		if !isSub && (fc.SubscriptionFilter != nil || fc.FilterArgument != "" || fc.InvalidationFilter != nil) {
			return nil, fmt.Errorf("resolver config: %s: filters apply to subscription fields only", key)
		}
		if !isMut && len(fc.InvalidateSubscriptions) > 0 {
			return nil, fmt.Errorf("resolver config: %s: invalidateSubscriptions applies to mutation fields only", key)
		}
		var r Resolver
		if fc.DataSource != "" {
			ds, ok := c.DataSources[fc.DataSource]
			if !ok {
				return nil, fmt.Errorf("resolver config: %s: unknown data source %q", key, fc.DataSource)
			}
			switch ds.Type {
			case "NONE":
				r = NoneResolver
			case "SETSUNA_CACHE":
				if ds.Cache == "" {
					return nil, fmt.Errorf("resolver config: data source %q needs a cache", fc.DataSource)
				}
				switch fc.Operation {
				case OpGet, OpList, OpCreate, OpUpdate, OpDelete:
				default:
					return nil, fmt.Errorf("resolver config: %s: operation must be get, list, create, update or delete, not %q", key, fc.Operation)
				}
				st := stores[fc.DataSource]
				if st == nil {
					if open == nil {
						return nil, fmt.Errorf("resolver config: data source %q: no cache store is available", fc.DataSource)
					}
					var err error
					if st, err = open(fc.DataSource, ds); err != nil {
						return nil, fmt.Errorf("resolver config: data source %q: %v", fc.DataSource, err)
					}
					stores[fc.DataSource] = st
				}
				tn := fc.TypeName
				if tn == "" {
					tn = storedType(s, fd, fc.Operation)
				}
				sdef := s.Types[tn]
				if sdef == nil || sdef.Kind != ast.Object {
					return nil, fmt.Errorf("resolver config: %s: stored type %q is not an object type", key, tn)
				}
				r = &CacheResolver{Store: st, Table: Table{Cache: ds.Cache, Type: tn}, Op: fc.Operation, Def: sdef}
			default:
				return nil, fmt.Errorf("resolver config: data source %q: type must be NONE or SETSUNA_CACHE, not %q", fc.DataSource, ds.Type)
			}
		}
		if len(fc.InvalidateSubscriptions) > 0 {
			for _, inv := range fc.InvalidateSubscriptions {
				if s.Subscription == nil || s.Subscription.Fields.ForName(inv.SubscriptionField) == nil {
					return nil, fmt.Errorf("resolver config: %s: invalidateSubscriptions: %q is not a subscription field", key, inv.SubscriptionField)
				}
			}
			if len(fc.InvalidateSubscriptions) > MaxInvalidationsPerRequest {
				return nil, fmt.Errorf("resolver config: %s: at most %d invalidateSubscriptions", key, MaxInvalidationsPerRequest)
			}
			if r == nil {
				r = NoneResolver
			}
			r = &invalidating{next: r, calls: fc.InvalidateSubscriptions}
		}
		if r != nil {
			e.SetResolver(typ, field, r)
		}
		if isSub {
			h := &templateHook{filterArg: fc.FilterArgument}
			var err error
			if h.filter, err = parseTemplate(fc.SubscriptionFilter); err != nil {
				return nil, fmt.Errorf("resolver config: %s: subscriptionFilter: %v", key, err)
			}
			if h.invalidation, err = parseTemplate(fc.InvalidationFilter); err != nil {
				return nil, fmt.Errorf("resolver config: %s: invalidationFilter: %v", key, err)
			}
			if fc.FilterArgument != "" && fd.Arguments.ForName(fc.FilterArgument) == nil {
				return nil, fmt.Errorf("resolver config: %s: filterArgument %q is not an argument of the field", key, fc.FilterArgument)
			}
			if h.filter != nil || h.invalidation != nil || h.filterArg != "" {
				hooks[field] = h
			}
		}
	}
	return hooks, nil
}

// storedType guesses the item type: the named return type, or for a list
// operation returning a connection, the type of its items.
func storedType(s *ast.Schema, fd *ast.FieldDefinition, op CacheOp) string {
	name := fd.Type.Name()
	if op == OpList && fd.Type.Elem == nil {
		if def := s.Types[name]; def != nil {
			if items := def.Fields.ForName("items"); items != nil {
				return items.Type.Name()
			}
		}
	}
	return name
}

// parseTemplate checks a filter template's shape (templates are substituted
// at subscribe time, then validated with the real values).
func parseTemplate(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok || m["filterGroup"] == nil {
		return nil, fmt.Errorf(`must be an object with "filterGroup"`)
	}
	return v, nil
}

// substitute replaces {"$args":k}, {"$identity":k} and {"$result":k} objects.
func substitute(v any, args map[string]any, who *Identity, result any) any {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			for k, ref := range v {
				name, _ := ref.(string)
				switch k {
				case "$args":
					val, _ := fieldValue(args, name)
					return val
				case "$identity":
					if who == nil {
						return nil
					}
					if name == "sub" || name == "subject" {
						return who.Subject
					}
					val, _ := fieldValue(who.Claims, name)
					return val
				case "$result":
					val, _ := fieldValue(result, name)
					return val
				}
			}
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = substitute(e, args, who, result)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = substitute(e, args, who, result)
		}
		return out
	}
	return v
}

func filterFrom(v any) (*Filter, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return ParseFilter(b)
}

type templateHook struct {
	filter, invalidation any
	filterArg            string
}

func (h *templateHook) OnSubscribe(_ context.Context, p *ResolveParams) (*SubscribeResult, error) {
	res := &SubscribeResult{}
	var err error
	if h.filter != nil {
		if res.Filter, err = filterFrom(substitute(h.filter, p.Args, p.Identity, nil)); err != nil {
			return nil, &ResolverError{Type: "BadRequestException", Message: "invalid subscription filter: " + err.Error()}
		}
	}
	if h.filterArg != "" {
		if raw, ok := p.Args[h.filterArg]; ok && raw != nil {
			var obj map[string]any
			switch raw := raw.(type) {
			case string:
				if err := json.Unmarshal([]byte(raw), &obj); err != nil {
					return nil, &ResolverError{Type: "BadRequestException", Message: "filter argument is not a JSON object"}
				}
			case map[string]any:
				obj = raw
			}
			f, err := ToSubscriptionFilter(obj)
			if err != nil {
				return nil, &ResolverError{Type: "BadRequestException", Message: "invalid subscription filter: " + err.Error()}
			}
			if res.Filter == nil {
				res.Filter = f
			} else {
				// Both: every configured alternative AND every client one.
				var combined Filter
				for _, a := range res.Filter.FilterGroup {
					for _, b := range f.FilterGroup {
						combined.FilterGroup = append(combined.FilterGroup, FilterSet{Filters: append(append([]Rule(nil), a.Filters...), b.Filters...)})
					}
				}
				if err := combined.Validate(); err != nil {
					return nil, &ResolverError{Type: "BadRequestException", Message: "invalid subscription filter: " + err.Error()}
				}
				res.Filter = &combined
			}
		}
	}
	if h.invalidation != nil {
		if res.InvalidationFilter, err = filterFrom(substitute(h.invalidation, p.Args, p.Identity, nil)); err != nil {
			return nil, &ResolverError{Type: "BadRequestException", Message: "invalid invalidation filter: " + err.Error()}
		}
	}
	return res, nil
}

// invalidating runs a resolver, then the configured invalidateSubscriptions.
type invalidating struct {
	next  Resolver
	calls []InvalidationTemplate
}

func (r *invalidating) Resolve(ctx context.Context, p *ResolveParams) (any, error) {
	out, err := r.next.Resolve(ctx, p)
	if err != nil {
		return nil, err
	}
	for _, c := range r.calls {
		payload, _ := substitute(c.Payload, p.Args, p.Identity, out).(map[string]any)
		if err := p.Ext.InvalidateSubscriptions(Invalidation{SubscriptionField: c.SubscriptionField, Payload: payload}); err != nil {
			return nil, err
		}
	}
	return out, nil
}
