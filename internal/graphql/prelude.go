package graphql

import (
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// appsyncPrelude declares what AppSync provides implicitly, so that a schema
// written for AppSync (which never declares these) loads unchanged. The auth
// directive shapes follow AWS's simulator.
var appsyncPrelude = []preludeEntry{
	{"AWSDate", "scalar AWSDate"},
	{"AWSTime", "scalar AWSTime"},
	{"AWSDateTime", "scalar AWSDateTime"},
	{"AWSTimestamp", "scalar AWSTimestamp"},
	{"AWSEmail", "scalar AWSEmail"},
	{"AWSJSON", "scalar AWSJSON"},
	{"AWSURL", "scalar AWSURL"},
	{"AWSPhone", "scalar AWSPhone"},
	{"AWSIPAddress", "scalar AWSIPAddress"},
	{"@aws_subscribe", "directive @aws_subscribe(mutations: [String!]!) on FIELD_DEFINITION"},
	{"@aws_api_key", "directive @aws_api_key on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | INPUT_OBJECT"},
	{"@aws_iam", "directive @aws_iam on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | INPUT_OBJECT"},
	{"@aws_oidc", "directive @aws_oidc on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | INPUT_OBJECT"},
	{"@aws_lambda", "directive @aws_lambda on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | INPUT_OBJECT"},
	{"@aws_cognito_user_pools", "directive @aws_cognito_user_pools(cognito_groups: [String!]) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | INPUT_OBJECT"},
	{"@aws_auth", "directive @aws_auth(cognito_groups: [String!]!) on FIELD_DEFINITION | OBJECT"},
	// Other AppSync directives, accepted and ignored.
	{"@aws_publish", "directive @aws_publish(subscriptions: [String!]!) on FIELD_DEFINITION"},
	{"@canonical", "directive @canonical on OBJECT"},
	{"@hidden", "directive @hidden on OBJECT | FIELD_DEFINITION"},
	{"@renamed", "directive @renamed(to: String!) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | INPUT_OBJECT"},
}

type preludeEntry struct{ name, sdl string }

// preludeFor returns the prelude minus whatever the user's document declares
// itself (some AppSync schemas declare the AWS scalars for code generators).
func preludeFor(doc *ast.SchemaDocument) *ast.Source {
	declared := map[string]bool{}
	if doc != nil {
		for _, d := range doc.Definitions {
			declared[d.Name] = true
		}
		for _, d := range doc.Directives {
			declared["@"+d.Name] = true
		}
	}
	var b strings.Builder
	for _, e := range appsyncPrelude {
		if !declared[e.name] {
			b.WriteString(e.sdl)
			b.WriteByte('\n')
		}
	}
	return &ast.Source{Name: "appsync-prelude.graphql", Input: b.String(), BuiltIn: true}
}
