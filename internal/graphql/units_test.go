package graphql_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/setsuna-io/setsuna/internal/graphql"
)

func TestAWSScalars(t *testing.T) {
	s, err := graphql.LoadSchema("s.graphql", `
type Query { echo(v: In!): Out }
input In { date: AWSDate time: AWSTime dt: AWSDateTime ts: AWSTimestamp email: AWSEmail json: AWSJSON url: AWSURL phone: AWSPhone ip: AWSIPAddress n: Int }
type Out { date: AWSDate time: AWSTime dt: AWSDateTime ts: AWSTimestamp email: AWSEmail json: AWSJSON url: AWSURL phone: AWSPhone ip: AWSIPAddress n: Int }`)
	if err != nil {
		t.Fatal(err)
	}
	e := &graphql.Executor{Schema: s}
	f := func(field string, value any, ok bool) {
		t.Helper()
		op, errs := e.Prepare(graphql.Request{Query: `query($v: In!) { echo(v: $v) { ` + field + ` } }`, Variables: map[string]any{"v": map[string]any{field: value}}})
		if ok != (errs == nil) {
			t.Errorf("%s = %#v: valid %v, want %v (%v)", field, value, errs == nil, ok, errs)
			return
		}
		if ok {
			if resp := e.Execute(context.Background(), op, nil); len(resp.Errors) > 0 {
				t.Errorf("%s = %#v: echo failed: %v", field, value, resp.Errors)
			}
		}
	}
	f("date", "1970-01-01", true)
	f("date", "1970-01-01Z", true)
	f("date", "1970-01-01-07:00", true)
	f("date", "1970-13-01", false)
	f("date", "01/01/1970", false)
	f("time", "12:30", true)
	f("time", "12:30:24.500-07:00", true)
	f("time", "25:00", false)
	f("dt", "1970-01-01T12:00:00.000Z", true)
	f("dt", "1970-01-01T12:00+01:00", true)
	f("dt", "1970-01-01T12:00:00", false) // the offset is compulsory
	f("ts", 1700000000.0, true)
	f("ts", 1.5, false)
	f("email", "someone@example.com", true)
	f("email", "not an email", false)
	f("json", `{"a":[1,2]}`, true)
	f("json", `{"a":`, false)
	f("url", "https://www.amazon.com/dp/B000NZW3KC/", true)
	f("url", "mailto:someone@example.com", true)
	f("url", "no scheme", false)
	f("phone", "+1 555-0100", true)
	f("phone", "call me", false)
	f("ip", "192.0.2.1", true)
	f("ip", "2001:db8::/32", true)
	f("ip", "300.1.1.1", false)
	f("n", 2147483647.0, true)
	f("n", 2147483648.0, false)
	f("n", 1.5, false)

	// Literals are checked too, with their position.
	_, errs := e.Prepare(graphql.Request{Query: `{ echo(v: {email: "nope"}) { email } }`})
	if errs == nil || errs[0].Locations[0] != (graphql.Location{Line: 1, Column: 8}) {
		t.Errorf("literal: %v", errs)
	}
}

func TestSchemaErrors(t *testing.T) {
	for _, c := range []struct{ name, sdl, want string }{
		{"syntax", "type Query {\n  a: Int\n  b: \n}", "s.graphql:4:1: Expected Name, found }"},
		{"undefined type", "type Query {\n  a: Nope\n}", "s.graphql:2:6: Undefined type Nope."},
		{"unknown mutation", "type Query { a: Int }\ntype Mutation { m: Int }\ntype Subscription {\n  s: Int @aws_subscribe(mutations: [\"m\", \"x\"])\n}",
			`s.graphql:4:43: @aws_subscribe on Subscription.s: mutation "x" is not a field of Mutation`},
		{"type mismatch", "type Query { a: Int }\ntype Mutation { m: String! }\ntype Subscription {\n  s: Int @aws_subscribe(mutations: [\"m\"])\n}",
			`s.graphql:4:38: @aws_subscribe on Subscription.s: mutation "m" returns String!, the subscription returns Int`},
		{"list mismatch", "type Query { a: Int }\ntype Mutation { m: [Int] }\ntype Subscription {\n  s: Int @aws_subscribe(mutations: [\"m\"])\n}",
			`s.graphql:4:38: @aws_subscribe on Subscription.s: mutation "m" returns [Int], the subscription returns Int`},
		{"not on subscription", "type Query { a: Int @aws_subscribe(mutations: []) }", "s.graphql:1:22: @aws_subscribe on Query.a: allowed only on fields of the subscription type"},
		{"no query", "type Mutation { m: Int }", "s.graphql: schema has no query type"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := graphql.LoadSchema("s.graphql", c.sdl)
			if err == nil || err.Error() != c.want {
				t.Fatalf("got %v\nwant %s", err, c.want)
			}
		})
	}
	// AppSync schemas load as written, including ones that declare the AWS
	// scalars themselves, with every auth directive.
	_, err := graphql.LoadSchema("ok.graphql", `
scalar AWSDateTime
type Post @aws_api_key @aws_iam { id: ID! at: AWSDateTime @aws_cognito_user_pools(cognito_groups: ["admin"]) j: AWSJSON @aws_oidc @aws_lambda }
type Query { get: Post @aws_auth(cognito_groups: ["a"]) }
type Mutation { put: Post! }
type Subscription { onPut: Post @aws_subscribe(mutations: ["put"]) @aws_api_key }`)
	if err != nil {
		t.Fatal(err)
	}
}

func TestExecutorFeatures(t *testing.T) {
	s, err := graphql.LoadSchema("s.graphql", `
interface Node { id: ID! }
type User implements Node { id: ID! name: String tags: [String!] }
type Group implements Node { id: ID! size: Int }
union Thing = User | Group
enum Color { RED GREEN }
type Query {
  node(id: ID!): Node
  things: [Thing]
  color(c: Color = RED): Color
  echo(s: String, n: Int): String
  strict: String!
  deep: Query
}`)
	if err != nil {
		t.Fatal(err)
	}
	e := &graphql.Executor{Schema: s, MaxDepth: 5}
	e.SetResolver("Query", "node", graphql.ResolverFunc(func(_ context.Context, p *graphql.ResolveParams) (any, error) {
		return map[string]any{"__typename": "User", "id": p.Args["id"], "name": "ann", "tags": []any{"a", "b"}}, nil
	}))
	e.SetResolver("Query", "things", graphql.ResolverFunc(func(context.Context, *graphql.ResolveParams) (any, error) {
		return []any{map[string]any{"__typename": "Group", "id": "g", "size": 3.0}, map[string]any{"__typename": "User", "id": "u"}}, nil
	}))
	e.SetResolver("Query", "color", graphql.ResolverFunc(func(_ context.Context, p *graphql.ResolveParams) (any, error) { return p.Args["c"], nil }))
	e.SetResolver("Query", "echo", graphql.ResolverFunc(func(_ context.Context, p *graphql.ResolveParams) (any, error) {
		b, _ := json.Marshal(p.Args)
		return string(b), nil
	}))
	e.SetResolver("Query", "strict", graphql.ResolverFunc(func(context.Context, *graphql.ResolveParams) (any, error) {
		return nil, &graphql.ResolverError{Type: "Custom", Message: "nope", ErrorInfo: map[string]any{"k": 1}}
	}))
	e.SetResolver("Query", "deep", graphql.ResolverFunc(func(context.Context, *graphql.ResolveParams) (any, error) { return map[string]any{}, nil }))
	for _, c := range []struct {
		name, query string
		vars        map[string]any
		want        string
	}{
		{"alias fragments typename", `{ n: node(id: "1") { __typename ... on User { name tags } ...G } } fragment G on Group { size }`, nil,
			`{"data":{"n":{"__typename":"User","name":"ann","tags":["a","b"]}}}`},
		{"union", `{ things { ... on Node { id } ... on Group { size } } }`, nil, `{"data":{"things":[{"id":"g","size":3},{"id":"u"}]}}`},
		{"skip include", `query($x: Boolean!) { node(id: "1") { id @include(if: $x) ... on User { name @skip(if: $x) } } }`, map[string]any{"x": true},
			`{"data":{"node":{"id":"1"}}}`},
		{"enum default", `{ a: color b: color(c: GREEN) }`, nil, `{"data":{"a":"RED","b":"GREEN"}}`},
		{"null vs omitted", `query($n: Int) { a: echo(s: null) b: echo(n: $n) c: echo }`, nil,
			`{"data":{"a":"{\"s\":null}","b":"{}","c":"{}"}}`},
		{"explicit null variable", `query($n: Int) { echo(n: $n) }`, map[string]any{"n": nil}, `{"data":{"echo":"{\"n\":null}"}}`},
		{"non-null error propagates", `{ strict echo }`, nil,
			`{"data":null,"errors":[{"message":"nope","errorType":"Custom","locations":[{"line":1,"column":3}],"path":["strict"],"errorInfo":{"k":1}}]}`},
		{"introspection", `{ __type(name: "Thing") { kind possibleTypes { name } } __schema { queryType { name } } }`, nil,
			`{"data":{"__type":{"kind":"UNION","possibleTypes":[{"name":"User"},{"name":"Group"}]},"__schema":{"queryType":{"name":"Query"}}}}`},
		{"introspection fields", `{ __type(name: "User") { fields { name type { kind name ofType { name } } } interfaces { name } } }`, nil,
			`{"data":{"__type":{"fields":[{"name":"id","type":{"kind":"NON_NULL","name":null,"ofType":{"name":"ID"}}},{"name":"name","type":{"kind":"SCALAR","name":"String","ofType":null}},{"name":"tags","type":{"kind":"LIST","name":null,"ofType":{"name":null}}}],"interfaces":[{"name":"Node"}]}}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, got := run(t, e, c.query, c.vars); got != c.want {
				t.Fatalf("\n got %s\nwant %s", got, c.want)
			}
		})
	}
	_, errs := e.Prepare(graphql.Request{Query: `{ deep { deep { deep { deep { deep { echo } } } } } }`})
	if errs == nil || !strings.Contains(errs[0].Message, "depth 6 is over the limit of 5") {
		t.Fatalf("depth: %v", errs)
	}
	full, _ := graphql.LoadSchema("s", `type Query { a: Int }`)
	introspect := &graphql.Executor{Schema: full}
	// The query graphql-js clients and tools send to discover a schema.
	if _, got := run(t, introspect, `query IntrospectionQuery { __schema { queryType { name } mutationType { name } subscriptionType { name }
		types { kind name description fields(includeDeprecated: true) { name args { name defaultValue type { kind name } } isDeprecated deprecationReason }
		inputFields { name } interfaces { name } enumValues(includeDeprecated: true) { name } possibleTypes { name } }
		directives { name locations args { name } } } }`, nil); strings.Contains(got, `"errors"`) || !strings.Contains(got, `"name":"aws_subscribe"`) {
		t.Fatalf("introspection query: %.400s", got)
	}
}

func TestAuthDirectives(t *testing.T) {
	s, err := graphql.LoadSchema("s.graphql", `
type Secret @aws_cognito_user_pools(cognito_groups: ["admin"]) { v: String }
type Query {
  open: String
  keyOnly: String @aws_api_key
  lambda: String @aws_lambda @aws_api_key
  secret: Secret @aws_api_key @aws_cognito_user_pools
}`)
	if err != nil {
		t.Fatal(err)
	}
	e := &graphql.Executor{Schema: s, DefaultAuth: graphql.AuthAPIKey}
	e.SetResolver("Query", "secret", graphql.ResolverFunc(func(context.Context, *graphql.ResolveParams) (any, error) {
		return map[string]any{"v": "x"}, nil
	}))
	f := func(who *graphql.Identity, query, want string) {
		t.Helper()
		op, errs := e.Prepare(graphql.Request{Query: query})
		if errs != nil {
			t.Fatal(errs)
		}
		b, _ := json.Marshal(map[string]any{"data": e.Execute(context.Background(), op, who).Data, "errors": e.Execute(context.Background(), op, who).Errors})
		if string(b) != want {
			t.Errorf("%v %s\n got %s\nwant %s", who, query, b, want)
		}
	}
	key := &graphql.Identity{Mode: graphql.AuthAPIKey}
	token := &graphql.Identity{Mode: graphql.AuthLambda}
	admin := &graphql.Identity{Mode: graphql.AuthCognito, Groups: []string{"admin"}}
	user := &graphql.Identity{Mode: graphql.AuthCognito, Groups: []string{"users"}}
	f(key, `{ open keyOnly lambda }`, `{"data":{"open":null,"keyOnly":null,"lambda":null},"errors":null}`)
	f(token, `{ lambda }`, `{"data":{"lambda":null},"errors":null}`)
	f(token, `{ open }`, `{"data":{"open":null},"errors":[{"message":"Not Authorized to access open on type Query","errorType":"Unauthorized","locations":[{"line":1,"column":3}],"path":["open"]}]}`)
	f(token, `{ keyOnly }`, `{"data":{"keyOnly":null},"errors":[{"message":"Not Authorized to access keyOnly on type Query","errorType":"Unauthorized","locations":[{"line":1,"column":3}],"path":["keyOnly"]}]}`)
	f(admin, `{ secret { v } }`, `{"data":{"secret":{"v":"x"}},"errors":null}`)
	f(user, `{ secret { v } }`, `{"data":{"secret":{"v":null}},"errors":[{"message":"Not Authorized to access v on type Secret","errorType":"Unauthorized","locations":[{"line":1,"column":12}],"path":["secret","v"]}]}`)
	f(nil, `{ keyOnly secret { v } }`, `{"data":{"keyOnly":null,"secret":{"v":"x"}},"errors":null}`)
}
