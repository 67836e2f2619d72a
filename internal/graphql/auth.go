package graphql

import (
	"fmt"

	"github.com/vektah/gqlparser/v2/ast"
)

// AuthMode is an AppSync authorization mode.
type AuthMode string

// The AppSync modes, with the schema directive that allows each.
const (
	AuthAPIKey  AuthMode = "API_KEY"                   // @aws_api_key
	AuthIAM     AuthMode = "AWS_IAM"                   // @aws_iam
	AuthOIDC    AuthMode = "OPENID_CONNECT"            // @aws_oidc
	AuthCognito AuthMode = "AMAZON_COGNITO_USER_POOLS" // @aws_cognito_user_pools, @aws_auth
	AuthLambda  AuthMode = "AWS_LAMBDA"                // @aws_lambda
)

var modeDirectives = map[string]AuthMode{
	"aws_api_key":            AuthAPIKey,
	"aws_iam":                AuthIAM,
	"aws_oidc":               AuthOIDC,
	"aws_cognito_user_pools": AuthCognito,
	"aws_auth":               AuthCognito,
	"aws_lambda":             AuthLambda,
}

// Identity is an authenticated caller as the GraphQL layer sees it.
type Identity struct {
	Mode    AuthMode
	Subject string         // who (key id, token subject); for logs and filters
	Groups  []string       // cognito_groups checks
	Claims  map[string]any // $identity.* in filter templates
	// Principal is whatever the surface's authenticator produced (for example
	// the Setsuna principal); data sources pass it back to the services.
	Principal any
}

// Authorize reports whether who may access typ.field, resolving directives as
// AppSync does: the field's auth directives, else its type's, else the default
// mode. A nil identity means auth is off and everything is allowed.
func (s *Schema) Authorize(who *Identity, defaultMode AuthMode, typ *ast.Definition, field *ast.FieldDefinition) error {
	if who == nil || typ == nil || field == nil {
		return nil
	}
	allowed, ok := allowedBy(who, field.Directives)
	if !ok {
		allowed, ok = allowedBy(who, typ.Directives)
	}
	if !ok {
		allowed = who.Mode == defaultMode || defaultMode == ""
	}
	if allowed {
		return nil
	}
	return &Error{ErrorType: ErrTypeUnauthorized, Message: fmt.Sprintf("Not Authorized to access %s on type %s", field.Name, typ.Name)}
}

// allowedBy returns (allowed, present): present is false when the list has no
// auth directive at all.
func allowedBy(who *Identity, ds ast.DirectiveList) (bool, bool) {
	present := false
	for _, d := range ds {
		mode, ok := modeDirectives[d.Name]
		if !ok {
			continue
		}
		present = true
		if mode != who.Mode {
			continue
		}
		if mode == AuthCognito {
			if a := d.Arguments.ForName("cognito_groups"); a != nil && a.Value != nil && len(a.Value.Children) > 0 {
				if !inGroups(who.Groups, a.Value.Children) {
					continue
				}
			}
		}
		return true, true
	}
	return false, present
}

func inGroups(have []string, want ast.ChildValueList) bool {
	for _, w := range want {
		for _, g := range have {
			if w.Value != nil && w.Value.Raw == g {
				return true
			}
		}
	}
	return false
}
