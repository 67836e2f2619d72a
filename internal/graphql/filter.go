package graphql

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Filter is an AppSync enhanced subscription filter (the output of
// util.transform.toSubscriptionFilter): the rules inside one FilterSet must
// all hold (AND); any one FilterSet of the group suffices (OR).
type Filter struct {
	FilterGroup []FilterSet `json:"filterGroup"`
}

// FilterSet is one "filters" object.
type FilterSet struct {
	Filters []Rule `json:"filters"`
}

// Rule compares one (possibly dotted) field of the event with a value.
type Rule struct {
	FieldName string `json:"fieldName"`
	Operator  string `json:"operator"`
	Value     any    `json:"value"`
}

// AppSync's enhanced filter limits.
const (
	MaxFilterSets        = 10
	MaxFieldsPerSet      = 5
	MaxInValues          = 5
	MaxContainsAnyValues = 20
	MaxFilterString      = 256
	MaxFieldDepth        = 5
)

// ParseFilter decodes and checks a filter in AppSync's JSON form.
func ParseFilter(data []byte) (*Filter, error) {
	var f Filter
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("filter is not valid JSON: %v", err)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// Validate enforces the operators and AppSync's limits.
func (f *Filter) Validate() error {
	if len(f.FilterGroup) == 0 {
		return fmt.Errorf("filterGroup is empty")
	}
	if len(f.FilterGroup) > MaxFilterSets {
		return fmt.Errorf("filterGroup has %d filters; at most %d may be combined with OR", len(f.FilterGroup), MaxFilterSets)
	}
	for i, set := range f.FilterGroup {
		if len(set.Filters) == 0 {
			return fmt.Errorf("filterGroup[%d] has no filters", i)
		}
		fields := map[string]bool{}
		for _, r := range set.Filters {
			fields[r.FieldName] = true
			if err := r.validate(); err != nil {
				return fmt.Errorf("filterGroup[%d]: %w", i, err)
			}
		}
		if len(fields) > MaxFieldsPerSet {
			return fmt.Errorf("filterGroup[%d] uses %d fields; at most %d", i, len(fields), MaxFieldsPerSet)
		}
	}
	return nil
}

func (r *Rule) validate() error {
	if r.FieldName == "" {
		return fmt.Errorf("a filter has no fieldName")
	}
	if strings.Count(r.FieldName, ".")+1 > MaxFieldDepth {
		return fmt.Errorf("fieldName %q nests deeper than %d levels", r.FieldName, MaxFieldDepth)
	}
	if err := checkStrings(r.Value); err != nil {
		return fmt.Errorf("%s: %w", r.FieldName, err)
	}
	list, isList := r.Value.([]any)
	switch r.Operator {
	case "eq", "ne":
		if isList {
			return fmt.Errorf("%s: %s takes a single value", r.FieldName, r.Operator)
		}
	case "le", "lt", "ge", "gt", "lte", "gte":
		if _, ok := number(r.Value); !ok {
			if _, ok := r.Value.(string); !ok {
				return fmt.Errorf("%s: %s takes a number or a string", r.FieldName, r.Operator)
			}
		}
	case "contains", "notContains":
		if isList || r.Value == nil {
			return fmt.Errorf("%s: %s takes a single value", r.FieldName, r.Operator)
		}
	case "beginsWith":
		if _, ok := r.Value.(string); !ok {
			return fmt.Errorf("%s: beginsWith takes a string", r.FieldName)
		}
	case "in", "notIn":
		if !isList || len(list) == 0 || len(list) > MaxInValues {
			return fmt.Errorf("%s: %s takes a list of 1 to %d values", r.FieldName, r.Operator, MaxInValues)
		}
	case "containsAny":
		if !isList || len(list) == 0 || len(list) > MaxContainsAnyValues {
			return fmt.Errorf("%s: containsAny takes a list of 1 to %d values", r.FieldName, MaxContainsAnyValues)
		}
	case "between":
		if !isList || len(list) != 2 {
			return fmt.Errorf("%s: between takes a list of two values", r.FieldName)
		}
	default:
		return fmt.Errorf("%s: unknown operator %q", r.FieldName, r.Operator)
	}
	return nil
}

func checkStrings(v any) error {
	switch v := v.(type) {
	case string:
		if len(v) > MaxFilterString {
			return fmt.Errorf("string value is over %d characters", MaxFilterString)
		}
	case []any:
		for _, e := range v {
			if err := checkStrings(e); err != nil {
				return err
			}
		}
	case map[string]any:
		return fmt.Errorf("a filter value cannot be an object")
	}
	return nil
}

// Match evaluates the filter against an event payload. Top-level lists are not
// filterable in AppSync: they never match.
func (f *Filter) Match(payload any) bool {
	if _, ok := payload.(map[string]any); !ok {
		return false
	}
	for _, set := range f.FilterGroup {
		all := true
		for i := range set.Filters {
			if !set.Filters[i].Match(payload) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// fieldValue follows a dotted path through nested objects.
func fieldValue(payload any, path string) (any, bool) {
	cur := payload
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// Match evaluates one rule.
func (r *Rule) Match(payload any) bool {
	v, _ := fieldValue(payload, r.FieldName)
	switch r.Operator {
	case "eq":
		return jsonEqual(v, r.Value)
	case "ne":
		return !jsonEqual(v, r.Value)
	case "lt":
		c, ok := compare(v, r.Value)
		return ok && c < 0
	case "le", "lte":
		c, ok := compare(v, r.Value)
		return ok && c <= 0
	case "gt":
		c, ok := compare(v, r.Value)
		return ok && c > 0
	case "ge", "gte":
		c, ok := compare(v, r.Value)
		return ok && c >= 0
	case "contains":
		return containsValue(v, r.Value)
	case "notContains":
		return !containsValue(v, r.Value)
	case "beginsWith":
		s, ok := v.(string)
		p, _ := r.Value.(string)
		return ok && strings.HasPrefix(s, p)
	case "in":
		return inList(v, r.Value)
	case "notIn":
		return !inList(v, r.Value)
	case "between":
		b, _ := r.Value.([]any)
		if len(b) != 2 {
			return false
		}
		lo, ok1 := compare(v, b[0])
		hi, ok2 := compare(v, b[1])
		return ok1 && ok2 && lo >= 0 && hi <= 0
	case "containsAny":
		have, ok := v.([]any)
		want, _ := r.Value.([]any)
		if !ok {
			return false
		}
		for _, w := range want {
			for _, h := range have {
				if jsonEqual(h, w) {
					return true
				}
			}
		}
		return false
	}
	return false
}

func compare(a, b any) (int, bool) {
	if an, ok := number(a); ok {
		bn, ok := number(b)
		if !ok {
			return 0, false
		}
		switch {
		case an < bn:
			return -1, true
		case an > bn:
			return 1, true
		}
		return 0, true
	}
	as, ok1 := a.(string)
	bs, ok2 := b.(string)
	if !ok1 || !ok2 {
		return 0, false
	}
	return strings.Compare(as, bs), true
}

func containsValue(field, v any) bool {
	switch f := field.(type) {
	case string:
		s, ok := v.(string)
		return ok && strings.Contains(f, s)
	case []any:
		for _, e := range f {
			if jsonEqual(e, v) {
				return true
			}
		}
	}
	return false
}

func inList(v, list any) bool {
	l, _ := list.([]any)
	for _, e := range l {
		if jsonEqual(v, e) {
			return true
		}
	}
	return false
}

// ToSubscriptionFilter converts the object form AppSync's
// util.transform.toSubscriptionFilter takes ({"field": {"op": value}, "and":
// [...], "or": [...]}) into a Filter, expanding to OR-of-ANDs. As in AppSync,
// several operators on one field are alternatives (OR), sibling keys are
// conjuncts (AND).
func ToSubscriptionFilter(obj map[string]any) (*Filter, error) {
	dnf, err := toDNF(obj, 0)
	if err != nil {
		return nil, err
	}
	f := &Filter{}
	for _, conj := range dnf {
		f.FilterGroup = append(f.FilterGroup, FilterSet{Filters: conj})
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

type dnf [][]Rule

func and(a, b dnf) dnf {
	var out dnf
	for _, x := range a {
		for _, y := range b {
			c := append(append([]Rule(nil), x...), y...)
			out = append(out, c)
		}
	}
	return out
}

func toDNF(obj map[string]any, depth int) (dnf, error) {
	if depth > 10 {
		return nil, fmt.Errorf("filter nests too deeply")
	}
	// Fields first (sorted, for a stable output), then and/or.
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		li, lj := keys[i] == "and" || keys[i] == "or", keys[j] == "and" || keys[j] == "or"
		if li != lj {
			return lj
		}
		return keys[i] < keys[j]
	})
	out := dnf{{}}
	for _, k := range keys {
		v := obj[k]
		var part dnf
		switch k {
		case "and", "or":
			list, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("%s takes a list", k)
			}
			if k == "and" {
				part = dnf{{}}
			}
			for _, e := range list {
				m, ok := e.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%s takes a list of objects", k)
				}
				sub, err := toDNF(m, depth+1)
				if err != nil {
					return nil, err
				}
				if k == "and" {
					part = and(part, sub)
				} else {
					part = append(part, sub...)
				}
			}
		default:
			ops, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("field %q takes an object of operators", k)
			}
			opNames := make([]string, 0, len(ops))
			for op := range ops {
				opNames = append(opNames, op)
			}
			sort.Strings(opNames)
			for _, op := range opNames {
				part = append(part, []Rule{{FieldName: k, Operator: op, Value: ops[op]}})
			}
		}
		if len(part) == 0 {
			continue
		}
		out = and(out, part)
		if len(out) > MaxFilterSets {
			return nil, fmt.Errorf("filter expands to more than %d alternatives", MaxFilterSets)
		}
	}
	return out, nil
}
