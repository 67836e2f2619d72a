package graphql

import (
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// Introspection values: the executor resolves fields of the __* types through
// introspectField, with these wrappers as sources.
type (
	iSchema struct{}
	iType   struct {
		def  *ast.Definition
		wrap string
		of   *ast.Type
	}
	iField     struct{ f *ast.FieldDefinition }
	iInput     struct{ a *ast.ArgumentDefinition }
	iEnumValue struct{ v *ast.EnumValueDefinition }
	iDirective struct{ d *ast.DirectiveDefinition }
)

func (x *execution) introspectRoot(f *ast.Field) any {
	if f.Name == "__schema" {
		return iSchema{}
	}
	args, _ := x.e.Args(f, x.vars)
	name, _ := args["name"].(string)
	if def := x.e.Schema.ast.Types[name]; def != nil {
		return iType{def: def}
	}
	return nil
}

// typeOf wraps an AST type reference in its LIST/NON_NULL layers.
func typeOf(s *Schema, t *ast.Type) any {
	if t == nil {
		return nil
	}
	if t.NonNull {
		inner := *t
		inner.NonNull = false
		return iType{wrap: "NON_NULL", of: &inner}
	}
	if t.Elem != nil {
		return iType{wrap: "LIST", of: t.Elem}
	}
	if def := s.ast.Types[t.NamedType]; def != nil {
		return iType{def: def}
	}
	return nil
}

func deprecation(ds ast.DirectiveList) (bool, any) {
	d := ds.ForName("deprecated")
	if d == nil {
		return false, nil
	}
	if a := d.Arguments.ForName("reason"); a != nil && a.Value != nil {
		return true, a.Value.Raw
	}
	return true, "No longer supported"
}

func strOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func introspectField(s *Schema, typeName, field string, source any, args map[string]any) any {
	includeDeprecated, _ := args["includeDeprecated"].(bool)
	switch src := source.(type) {
	case iSchema:
		switch field {
		case "description":
			return strOrNil(s.ast.Description)
		case "types":
			names := make([]string, 0, len(s.ast.Types))
			for n := range s.ast.Types {
				names = append(names, n)
			}
			sort.Strings(names)
			out := make([]any, 0, len(names))
			for _, n := range names {
				out = append(out, iType{def: s.ast.Types[n]})
			}
			return out
		case "queryType":
			return iType{def: s.ast.Query}
		case "mutationType":
			if s.ast.Mutation == nil {
				return nil
			}
			return iType{def: s.ast.Mutation}
		case "subscriptionType":
			if s.ast.Subscription == nil {
				return nil
			}
			return iType{def: s.ast.Subscription}
		case "directives":
			names := make([]string, 0, len(s.ast.Directives))
			for n := range s.ast.Directives {
				names = append(names, n)
			}
			sort.Strings(names)
			out := make([]any, 0, len(names))
			for _, n := range names {
				out = append(out, iDirective{s.ast.Directives[n]})
			}
			return out
		}
	case iType:
		if src.wrap != "" {
			switch field {
			case "kind":
				return src.wrap
			case "ofType":
				return typeOf(s, src.of)
			}
			return nil
		}
		d := src.def
		switch field {
		case "kind":
			return string(d.Kind)
		case "name":
			return d.Name
		case "description":
			return strOrNil(d.Description)
		case "specifiedByURL":
			if sb := d.Directives.ForName("specifiedBy"); sb != nil {
				if a := sb.Arguments.ForName("url"); a != nil && a.Value != nil {
					return a.Value.Raw
				}
			}
			return nil
		case "fields":
			if d.Kind != ast.Object && d.Kind != ast.Interface {
				return nil
			}
			out := []any{}
			for _, f := range d.Fields {
				if strings.HasPrefix(f.Name, "__") {
					continue
				}
				if dep, _ := deprecation(f.Directives); dep && !includeDeprecated {
					continue
				}
				out = append(out, iField{f})
			}
			return out
		case "interfaces":
			if d.Kind != ast.Object && d.Kind != ast.Interface {
				return nil
			}
			out := []any{}
			for _, n := range d.Interfaces {
				if def := s.ast.Types[n]; def != nil {
					out = append(out, iType{def: def})
				}
			}
			return out
		case "possibleTypes":
			if d.Kind != ast.Interface && d.Kind != ast.Union {
				return nil
			}
			out := []any{}
			for _, p := range s.ast.GetPossibleTypes(d) {
				out = append(out, iType{def: p})
			}
			return out
		case "enumValues":
			if d.Kind != ast.Enum {
				return nil
			}
			out := []any{}
			for _, v := range d.EnumValues {
				if dep, _ := deprecation(v.Directives); dep && !includeDeprecated {
					continue
				}
				out = append(out, iEnumValue{v})
			}
			return out
		case "inputFields":
			if d.Kind != ast.InputObject {
				return nil
			}
			out := []any{}
			for _, f := range d.Fields {
				out = append(out, iInput{&ast.ArgumentDefinition{Name: f.Name, Description: f.Description, Type: f.Type,
					DefaultValue: f.DefaultValue, Directives: f.Directives}})
			}
			return out
		case "ofType":
			return nil
		case "isOneOf":
			return d.Directives.ForName("oneOf") != nil
		}
	case iField:
		switch field {
		case "name":
			return src.f.Name
		case "description":
			return strOrNil(src.f.Description)
		case "args":
			out := []any{}
			for _, a := range src.f.Arguments {
				out = append(out, iInput{a})
			}
			return out
		case "type":
			return typeOf(s, src.f.Type)
		case "isDeprecated":
			dep, _ := deprecation(src.f.Directives)
			return dep
		case "deprecationReason":
			_, r := deprecation(src.f.Directives)
			return r
		}
	case iInput:
		switch field {
		case "name":
			return src.a.Name
		case "description":
			return strOrNil(src.a.Description)
		case "type":
			return typeOf(s, src.a.Type)
		case "defaultValue":
			if src.a.DefaultValue == nil {
				return nil
			}
			return src.a.DefaultValue.String()
		case "isDeprecated":
			dep, _ := deprecation(src.a.Directives)
			return dep
		case "deprecationReason":
			_, r := deprecation(src.a.Directives)
			return r
		}
	case iEnumValue:
		switch field {
		case "name":
			return src.v.Name
		case "description":
			return strOrNil(src.v.Description)
		case "isDeprecated":
			dep, _ := deprecation(src.v.Directives)
			return dep
		case "deprecationReason":
			_, r := deprecation(src.v.Directives)
			return r
		}
	case iDirective:
		switch field {
		case "name":
			return src.d.Name
		case "description":
			return strOrNil(src.d.Description)
		case "isRepeatable":
			return src.d.IsRepeatable
		case "locations":
			out := make([]any, 0, len(src.d.Locations))
			for _, l := range src.d.Locations {
				out = append(out, string(l))
			}
			return out
		case "args":
			out := []any{}
			for _, a := range src.d.Arguments {
				out = append(out, iInput{a})
			}
			return out
		}
	}
	_ = typeName
	return nil
}
