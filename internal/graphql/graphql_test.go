package graphql_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/setsuna-io/setsuna/internal/graphql"
	"github.com/setsuna-io/setsuna/internal/graphql/graphqltest"
)

func loadSchema(t testing.TB, file string) *graphql.Schema {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s, err := graphql.LoadSchema(file, string(b))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// run executes a query or mutation and returns the response as JSON.
func run(t testing.TB, e *graphql.Executor, query string, vars map[string]any) (*graphql.Response, string) {
	t.Helper()
	op, errs := e.Prepare(graphql.Request{Query: query, Variables: vars})
	if errs != nil {
		t.Fatalf("prepare %q: %v", query, errs)
	}
	resp := e.Execute(context.Background(), op, nil)
	out := map[string]any{"data": resp.Data}
	if resp.Data == nil {
		out["data"] = nil
	}
	if len(resp.Errors) > 0 {
		out["errors"] = resp.Errors
	}
	return resp, mustJSON(t, out)
}

func subscribe(t testing.TB, e *graphql.Executor, query string, vars map[string]any) *graphql.Subscription {
	t.Helper()
	op, errs := e.Prepare(graphql.Request{Query: query, Variables: vars})
	if errs != nil {
		t.Fatalf("prepare %q: %v", query, errs)
	}
	s, errs := e.Subscribe(context.Background(), op, nil, nil)
	if errs != nil {
		t.Fatalf("subscribe %q: %v", query, errs)
	}
	return s
}

// deliver returns what the subscription receives for the publications of a
// mutation response ("" = nothing).
func deliver(e *graphql.Executor, s *graphql.Subscription, resp *graphql.Response) string {
	var got []string
	for _, p := range resp.Publications {
		if !contains(e.Schema.Triggered(p.Mutation), s.Field) || !s.Matches(p.Payload) {
			continue
		}
		got = append(got, string(e.Project(s, p.Payload)))
	}
	return strings.Join(got, "\n")
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

func TestBlogMutationSelectionSet(t *testing.T) {
	e := &graphql.Executor{Schema: loadSchema(t, "testdata/blog.graphql")}
	onlyAuthorTitle := subscribe(t, e, `subscription { addedPost { author title } }`, nil)
	allFields := subscribe(t, e, `subscription NewPostSub { addedPost { __typename version title content author url } }`, nil)
	aliased := subscribe(t, e, `subscription { p: addedPost { ...F } } fragment F on Post { id t: title url }`, nil)
	updated := subscribe(t, e, `subscription { updatedPost(id: "p1") { id title } }`, nil)

	resp, got := run(t, e, `mutation { addPost(id: "p1", author: "AUTHORNAME", title: "Our first post!", content: "first", url: "https://x.example") { id author title } }`, nil)
	if want := `{"data":{"addPost":{"id":"p1","author":"AUTHORNAME","title":"Our first post!"}}}`; got != want {
		t.Fatalf("mutation response\n got %s\nwant %s", got, want)
	}
	// The subscriber's selection is a subset of the mutation's: it gets those fields.
	if got, want := deliver(e, onlyAuthorTitle, resp), `{"data":{"addedPost":{"author":"AUTHORNAME","title":"Our first post!"}}}`; got != want {
		t.Errorf("author/title subscriber\n got %s\nwant %s", got, want)
	}
	// Fields the mutation did not select are null; version is Int! so the
	// object is nulled with AppSync's error.
	if got, want := deliver(e, allFields, resp), `{"data":{"addedPost":null},"errors":[{"message":"Cannot return null for non-nullable type: 'Int' within parent 'Post' (/addedPost/version)","errorType":"NonNullViolation","locations":[{"line":1,"column":50}],"path":["addedPost","version"]}]}`; got != want {
		t.Errorf("all-fields subscriber\n got %s\nwant %s", got, want)
	}
	// content and url were arguments but not selected by the mutation: null.
	if got, want := deliver(e, aliased, resp), `{"data":{"p":{"id":"p1","t":"Our first post!","url":null}}}`; got != want {
		t.Errorf("aliased subscriber\n got %s\nwant %s", got, want)
	}
	if got := deliver(e, updated, resp); got != "" {
		t.Errorf("updatedPost subscriber got an addPost event: %s", got)
	}
}

func TestBlogArgumentFilters(t *testing.T) {
	e := &graphql.Executor{Schema: loadSchema(t, "testdata/blog.graphql")}
	byIDAuthor := subscribe(t, e, `subscription UpdatedPostSub { updatedPost(id:"XYZ", author:"ABC") { title content } }`, nil)
	byID := subscribe(t, e, `subscription($id: ID!, $author: String) { updatedPost(id: $id, author: $author) { id author } }`, map[string]any{"id": "XYZ"})
	other := subscribe(t, e, `subscription { updatedPost(id:"other") { id } }`, nil)

	const m = `mutation($a: String!) { updatePost(id: "XYZ", author: $a, title: "t", content: "c", ups: 1, downs: 0, expectedVersion: 1) { id author title content } }`
	resp, _ := run(t, e, m, map[string]any{"a": "ABC"})
	if got, want := deliver(e, byIDAuthor, resp), `{"data":{"updatedPost":{"title":"t","content":"c"}}}`; got != want {
		t.Errorf("id+author\n got %s\nwant %s", got, want)
	}
	// $author declared but not provided: omitted, so no author filter.
	if got, want := deliver(e, byID, resp), `{"data":{"updatedPost":{"id":"XYZ","author":"ABC"}}}`; got != want {
		t.Errorf("id only\n got %s\nwant %s", got, want)
	}
	if got := deliver(e, other, resp); got != "" {
		t.Errorf("other id got %s", got)
	}
	resp, _ = run(t, e, m, map[string]any{"a": "someone else"})
	if got := deliver(e, byIDAuthor, resp); got != "" {
		t.Errorf("author filter let through %s", got)
	}
	// A filter compares with the mutation's selection: a mutation that did not
	// select author can never match author:"ABC".
	resp, _ = run(t, e, `mutation { updatePost(id: "XYZ", author: "ABC", ups: 1, downs: 0, expectedVersion: 1) { id title } }`, nil)
	if got := deliver(e, byIDAuthor, resp); got != "" {
		t.Errorf("unselected author matched: %s", got)
	}
}

func TestTodoOwnerNull(t *testing.T) {
	e := &graphql.Executor{Schema: loadSchema(t, "testdata/todo.graphql")}
	all := subscribe(t, e, `subscription MySubscription { onUpdateTodo { description id name when where } }`, nil)
	noOwner := subscribe(t, e, `subscription MySubscription { onUpdateTodo(owner: null) { id owner } }`, nil)
	nullVar := subscribe(t, e, `subscription($o: String) { onUpdateTodo(owner: $o) { id } }`, map[string]any{"o": nil})
	alice := subscribe(t, e, `subscription { onUpdateTodo(owner: "alice") { id } }`, nil)

	const m = `mutation($in: UpdateTodoInput!) { updateTodo(input: $in) { id name when where description owner } }`
	resp, _ := run(t, e, m, map[string]any{"in": map[string]any{"id": "t1", "name": "n", "when": "tomorrow", "where": "home", "description": "d"}})
	if got, want := deliver(e, all, resp), `{"data":{"onUpdateTodo":{"description":"d","id":"t1","name":"n","when":"tomorrow","where":"home"}}}`; got != want {
		t.Errorf("all\n got %s\nwant %s", got, want)
	}
	if got, want := deliver(e, noOwner, resp), `{"data":{"onUpdateTodo":{"id":"t1","owner":null}}}`; got != want {
		t.Errorf("owner:null\n got %s\nwant %s", got, want)
	}
	if got, want := deliver(e, nullVar, resp), `{"data":{"onUpdateTodo":{"id":"t1"}}}`; got != want {
		t.Errorf("owner:$o=null\n got %s\nwant %s", got, want)
	}
	if got := deliver(e, alice, resp); got != "" {
		t.Errorf("alice got an ownerless update: %s", got)
	}
	resp, _ = run(t, e, m, map[string]any{"in": map[string]any{"id": "t2", "name": "n", "when": "w", "where": "h", "description": "d", "owner": "alice"}})
	if got := deliver(e, noOwner, resp); got != "" {
		t.Errorf("owner:null got an owned update: %s", got)
	}
	if got, want := deliver(e, alice, resp), `{"data":{"onUpdateTodo":{"id":"t2"}}}`; got != want {
		t.Errorf("alice\n got %s\nwant %s", got, want)
	}
	// name is String! and was not provided: updateTodo is null with an error,
	// and a null result publishes nothing.
	resp, _ = run(t, e, m, map[string]any{"in": map[string]any{"id": "t3"}})
	if resp.Errors == nil || len(resp.Publications) != 0 {
		t.Errorf("want a non-null error and no publication, got %v / %d", resp.Errors, len(resp.Publications))
	}
}

func TestCacheDataSource(t *testing.T) {
	e := &graphql.Executor{Schema: loadSchema(t, "testdata/blog.graphql")}
	cfg, err := graphql.ParseResolverConfig([]byte(`{
		"dataSources": {"blog": {"type": "SETSUNA_CACHE", "cache": "blog"}},
		"resolvers": {
			"Query.getPost": {"dataSource": "blog", "operation": "get"},
			"Mutation.addPost": {"dataSource": "blog", "operation": "create"},
			"Mutation.updatePost": {"dataSource": "blog", "operation": "update"},
			"Mutation.deletePost": {"dataSource": "blog", "operation": "delete"}
		}}`))
	if err != nil {
		t.Fatal(err)
	}
	store := graphqltest.NewMemStore()
	if _, err := cfg.Apply(e, func(string, graphql.DataSourceConfig) (graphql.Store, error) { return store, nil }); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ query, want string }{
		{`mutation { addPost(id: "p1", author: "a", title: "t") { id version title } }`,
			`{"data":{"addPost":{"id":"p1","version":1,"title":"t"}}}`},
		{`mutation { addPost(id: "p1", author: "a") { id } }`,
			`{"data":null,"errors":[{"message":"The conditional request failed","errorType":"DynamoDB:ConditionalCheckFailedException","locations":[{"line":1,"column":12}],"path":["addPost"]}]}`},
		{`mutation { updatePost(id: "p1", author: "b", ups: 1, downs: 0, expectedVersion: 1) { author title version } }`,
			`{"data":{"updatePost":{"author":"b","title":"t","version":2}}}`},
		{`mutation { updatePost(id: "p1", author: "c", ups: 1, downs: 0, expectedVersion: 1) { version } }`,
			`{"data":null,"errors":[{"message":"The conditional request failed","errorType":"DynamoDB:ConditionalCheckFailedException","locations":[{"line":1,"column":12}],"path":["updatePost"]}]}`},
		{`{ getPost(id: "p1") { author ups } }`, `{"data":{"getPost":{"author":"b","ups":1}}}`},
		{`mutation { deletePost(id: "p1") { id author } }`, `{"data":{"deletePost":{"id":"p1","author":"b"}}}`},
		{`{ getPost(id: "p1") { id } }`, `{"data":{"getPost":null}}`},
	} {
		if _, got := run(t, e, c.query, nil); got != c.want {
			t.Errorf("%s\n got %s\nwant %s", c.query, got, c.want)
		}
	}
}
