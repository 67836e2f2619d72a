package graphql

import (
	"context"
	"encoding/json"
	"os"
	"testing"
)

// FuzzDocument runs arbitrary documents and variables through the whole
// request path: parse, validate, coerce, execute or subscribe, project.
// Run with: go test -fuzz=FuzzDocument ./internal/graphql
func FuzzDocument(f *testing.F) {
	sdl, err := os.ReadFile("testdata/blog.graphql")
	if err != nil {
		f.Fatal(err)
	}
	schema, err := LoadSchema("blog.graphql", string(sdl))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []struct{ q, v string }{
		{`mutation { addPost(id: "p1", author: "a", title: "t") { id author title ... on Post { url } } }`, `{}`},
		{`subscription S($id: ID!) { updatedPost(id: $id, author: null) { id @skip(if: true) title } }`, `{"id":"x"}`},
		{`query Q { __schema { types { name fields(includeDeprecated: true) { name type { kind ofType { name } } } } } }`, `{}`},
		{`{ __type(name: "Post") { name possibleTypes { name } } getPost(id: 1) { __typename } }`, `null`},
		{`fragment F on Post { id ...F } { getPost(id: "1") { ...F } }`, `{}`},
		{`mutation($v: Int!) { updatePost(id: "1", author: "a", ups: 1, downs: 2, expectedVersion: $v) { version } }`, `{"v": 1.5}`},
		{`{ a: getPost(id: "1") { id } a: getPost(id: "2") { id } }`, `{}`},
		{"subscription { deletedPost { id } } subscription { addedPost { id } }", `{}`},
	} {
		f.Add(s.q, s.v)
	}
	f.Fuzz(func(t *testing.T, query, vars string) {
		e := &Executor{Schema: schema}
		var v map[string]any
		_ = json.Unmarshal([]byte(vars), &v)
		op, errs := e.Prepare(Request{Query: query, Variables: v})
		if errs != nil {
			if len(errs) == 0 {
				t.Fatal("empty error list")
			}
			return
		}
		if op.Kind() == "subscription" {
			s, errs := e.Subscribe(context.Background(), op, nil, nil)
			if errs == nil {
				payload := map[string]any{"__typename": "Post", "id": "1", "author": "a", "version": 1.0}
				if s.Matches(payload) {
					if !json.Valid(e.Project(s, payload)) {
						t.Fatal("projection is not valid JSON")
					}
				}
			}
			return
		}
		resp := e.Execute(context.Background(), op, nil)
		if _, err := json.Marshal(resp.Data); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzFilter checks that any filter that validates can be evaluated.
func FuzzFilter(f *testing.F) {
	f.Add(`{"filterGroup":[{"filters":[{"fieldName":"a.b","operator":"between","value":[1,5]},{"fieldName":"c","operator":"in","value":["x"]}]}]}`, `{"a":{"b":3},"c":"x"}`)
	f.Add(`{"filterGroup":[{"filters":[{"fieldName":"tags","operator":"containsAny","value":["x","y"]}]}]}`, `{"tags":["y"]}`)
	f.Fuzz(func(t *testing.T, filter, payload string) {
		flt, err := ParseFilter([]byte(filter))
		if err != nil {
			return
		}
		var p any
		_ = json.Unmarshal([]byte(payload), &p)
		_ = flt.Match(p)
		var obj map[string]any
		if json.Unmarshal([]byte(filter), &obj) == nil {
			if tf, err := ToSubscriptionFilter(obj); err == nil {
				_ = tf.Match(p)
			}
		}
	})
}
