package graphql_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/setsuna-io/setsuna/internal/graphql"
)

func TestFilterOperators(t *testing.T) {
	payload := map[string]any{
		"id": "p1", "n": 3.0, "s": "hello world", "tags": []any{"a", "b"}, "none": nil,
		"loc": map[string]any{"address": map[string]any{"country": "JP"}},
	}
	f := func(field, op string, value any, want bool) {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"filterGroup": []any{map[string]any{"filters": []any{map[string]any{"fieldName": field, "operator": op, "value": value}}}}})
		flt, err := graphql.ParseFilter(b)
		if err != nil {
			t.Fatalf("%s %s %v: %v", field, op, value, err)
		}
		if got := flt.Match(payload); got != want {
			t.Errorf("%s %s %v: %v, want %v", field, op, value, got, want)
		}
	}
	f("id", "eq", "p1", true)
	f("id", "eq", "P1", false) // case-sensitive
	f("n", "eq", 3, true)
	f("none", "eq", nil, true)
	f("missing", "eq", nil, true)
	f("id", "ne", "x", true)
	f("n", "lt", 4, true)
	f("n", "le", 3, true)
	f("n", "lte", 3, true)
	f("n", "gt", 3, false)
	f("n", "ge", 3, true)
	f("s", "gt", "hello", true)
	f("n", "gt", "2", false) // no cross-type comparison
	f("s", "contains", "lo wo", true)
	f("tags", "contains", "b", true)
	f("tags", "notContains", "c", true)
	f("s", "notContains", "hello", false)
	f("s", "beginsWith", "hell", true)
	f("s", "beginsWith", "world", false)
	f("id", "in", []any{"p0", "p1"}, true)
	f("id", "notIn", []any{"p0", "p1"}, false)
	f("n", "between", []any{1, 3}, true) // inclusive
	f("n", "between", []any{4, 5}, false)
	f("tags", "containsAny", []any{"x", "a"}, true)
	f("tags", "containsAny", []any{"x"}, false)
	f("loc.address.country", "eq", "JP", true)

	// AND inside filters, OR across filterGroup; top-level lists never match.
	flt, err := graphql.ParseFilter([]byte(`{"filterGroup":[
		{"filters":[{"fieldName":"id","operator":"eq","value":"p1"},{"fieldName":"n","operator":"gt","value":5}]},
		{"filters":[{"fieldName":"s","operator":"beginsWith","value":"hello"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !flt.Match(payload) || flt.Match([]any{payload}) {
		t.Error("OR across groups / list payload")
	}
}

func TestFilterLimits(t *testing.T) {
	rule := func(field, op string, v any) map[string]any {
		return map[string]any{"fieldName": field, "operator": op, "value": v}
	}
	group := func(rules ...map[string]any) map[string]any { return map[string]any{"filters": rules} }
	many := func(n int, f func(i int) any) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	for _, c := range []struct {
		name string
		f    map[string]any
		err  string
	}{
		{"11 groups", map[string]any{"filterGroup": many(11, func(int) any { return group(rule("a", "eq", 1)) })}, "at most 10"},
		{"6 fields", map[string]any{"filterGroup": []any{group(rule("a", "eq", 1), rule("b", "eq", 1), rule("c", "eq", 1), rule("d", "eq", 1), rule("e", "eq", 1), rule("f", "eq", 1))}}, "at most 5"},
		{"6 in values", map[string]any{"filterGroup": []any{group(rule("a", "in", many(6, func(i int) any { return i })))}}, "1 to 5 values"},
		{"21 containsAny", map[string]any{"filterGroup": []any{group(rule("a", "containsAny", many(21, func(i int) any { return i })))}}, "1 to 20 values"},
		{"long string", map[string]any{"filterGroup": []any{group(rule("a", "eq", strings.Repeat("x", 257)))}}, "over 256"},
		{"deep field", map[string]any{"filterGroup": []any{group(rule("a.b.c.d.e.f", "eq", 1))}}, "deeper than 5"},
		{"unknown operator", map[string]any{"filterGroup": []any{group(rule("a", "attributeExists", true))}}, "unknown operator"},
		{"between one value", map[string]any{"filterGroup": []any{group(rule("a", "between", []any{1}))}}, "two values"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, _ := json.Marshal(c.f)
			if _, err := graphql.ParseFilter(b); err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("got %v, want an error with %q", err, c.err)
			}
		})
	}
	// Five fields and ten groups are allowed.
	b, _ := json.Marshal(map[string]any{"filterGroup": many(10, func(int) any {
		return group(rule("a", "eq", 1), rule("b", "eq", 1), rule("c", "eq", 1), rule("d", "eq", 1), rule("e", "eq", 1))
	})})
	if _, err := graphql.ParseFilter(b); err != nil {
		t.Fatal(err)
	}
}

func TestToSubscriptionFilter(t *testing.T) {
	var obj map[string]any
	_ = json.Unmarshal([]byte(`{"userId": {"eq": 1}, "or": [{"group": {"in": ["Admin", "Developer"]}}, {"level": {"gt": 5}}]}`), &obj)
	f, err := graphql.ToSubscriptionFilter(obj)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(f)
	want := `{"filterGroup":[{"filters":[{"fieldName":"userId","operator":"eq","value":1},{"fieldName":"group","operator":"in","value":["Admin","Developer"]}]},{"filters":[{"fieldName":"userId","operator":"eq","value":1},{"fieldName":"level","operator":"gt","value":5}]}]}`
	if string(b) != want {
		t.Fatalf("\n got %s\nwant %s", b, want)
	}
	for _, c := range []struct {
		p    string
		want bool
	}{
		{`{"userId":1,"group":"Admin"}`, true},
		{`{"userId":1,"level":6}`, true},
		{`{"userId":2,"group":"Admin"}`, false},
		{`{"userId":1,"group":"Guest","level":1}`, false},
	} {
		var p any
		_ = json.Unmarshal([]byte(c.p), &p)
		if got := f.Match(p); got != c.want {
			t.Errorf("%s: %v, want %v", c.p, got, c.want)
		}
	}
}
