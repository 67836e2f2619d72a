// Package auth holds Setsuna's credentials and its one Authorizer: signed
// API keys, disposable and refresh tokens, Momento's permission model, and
// revocation. Surfaces authenticate callers (Service.Verify) and put the
// Principal into the request context; services turn each operation into an
// Op and ask Authorize. Its errors are errs.ErrUnauthenticated,
// errs.ErrPermissionDenied and errs.ErrInvalidToken.
package auth

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/setsuna-io/setsuna/internal/errs"
)

// Token kinds.
const (
	KindAPIKey     = "api"
	KindDisposable = "disposable"
	KindRefresh    = "refresh"
)

// Resources and roles of a Permission (Momento's permission model).
const (
	ResourceCache    = "cache"
	ResourceTopic    = "topic"
	ResourceFunction = "function"

	RoleReadWrite = "readwrite" // cache ReadWrite / topic PublishSubscribe
	RoleReadOnly  = "readonly"  // cache ReadOnly / topic SubscribeOnly
	RoleWriteOnly = "writeonly" // cache WriteOnly (no conditional writes) / topic PublishOnly
	RoleInvoke    = "invoke"    // functions: accepted and kept, grants nothing here
)

// Permission is one grant. Empty selectors mean "all": Cache "" is every
// cache; with neither Key nor KeyPrefix every item; likewise topics.
type Permission struct {
	Resource    string `json:"r"`
	Role        string `json:"role"`
	Cache       string `json:"c,omitempty"`
	Key         []byte `json:"k,omitempty"`
	KeyPrefix   []byte `json:"kp,omitempty"`
	Topic       string `json:"t,omitempty"`
	TopicPrefix string `json:"tp,omitempty"`
	Function    string `json:"f,omitempty"`
	FuncPrefix  string `json:"fp,omitempty"`
}

// Claims are what a token carries. A verified token's claims are its Principal.
type Claims struct {
	ID        string       `json:"jti"`
	Kind      string       `json:"knd"`
	TokenID   string       `json:"tid,omitempty"` // chosen by the minter; topics publisher_id
	IssuedAt  int64        `json:"iat"`
	ExpiresAt int64        `json:"exp,omitempty"`  // unix seconds; 0 = never
	Lifetime  int64        `json:"life,omitempty"` // seconds; a refresh keeps it
	SuperUser bool         `json:"su,omitempty"`
	Perms     []Permission `json:"p,omitempty"`
	RefreshOf string       `json:"rof,omitempty"` // refresh tokens: jti of their API key
	// Root is the jti of the key a refreshed key descends from (its first
	// ancestor, kept through every refresh): revoking it revokes them all.
	Root string `json:"root,omitempty"`
	// RootIssuedAt is the root's iat: a revocation of a token_id applies to
	// the keys of families minted before it, however recently refreshed.
	RootIssuedAt int64 `json:"riat,omitempty"`
	// Type "g" marks a v2 API key, as the SDKs detect one (see v2.go).
	Type string `json:"t,omitempty"`

	// kid is the signing key that verified the token (not a claim): a
	// token stops verifying, cached or streaming, once its key is removed.
	kid string
}

// Principal is who is calling.
type Principal = Claims

// DevPrincipal is the caller when auth is off: it may do anything.
var DevPrincipal = &Principal{ID: "dev", Kind: KindAPIKey, SuperUser: true}

// Access is what an operation does to the data it names.
type Access uint8

const (
	AccessRead        Access = iota // reads only
	AccessWrite                     // plain writes (WriteOnly may)
	AccessConditional               // reads and writes: CAS, increments, pops (ReadWrite only)
	AccessControl                   // creates, deletes or flushes caches (super user only)
	AccessAny                       // any authenticated caller (ping)
)

// Op is one authorization question: may the principal do Name?
type Op struct {
	Name     string // the RPC, for messages
	Resource string // ResourceCache or ResourceTopic ("" with AccessControl/AccessAny)
	Access   Access
	Cache    string
	// Cache ops name every item key they touch in Key (one) or Keys
	// (several); with neither, the op touches every item of the cache.
	Key   []byte
	Keys  [][]byte
	Topic string
}

// Authorize is the Authorizer: nil when p may perform op, else an error
// wrapping errs.ErrPermissionDenied that names the operation and resource.
func Authorize(p *Principal, op Op) error {
	if p.SuperUser || op.Access == AccessAny {
		return nil
	}
	switch {
	case op.Access == AccessControl:
		return denied(op, "cache %q: only a super-user key may manage caches", op.Cache)
	case op.Resource == ResourceTopic:
		for i := range p.Perms {
			if p.Perms[i].allowsTopic(op) {
				return nil
			}
		}
		return denied(op, "cache %q topic %q", op.Cache, op.Topic)
	case op.Resource == ResourceCache:
		if op.Key != nil {
			for i := range p.Perms {
				if p.Perms[i].allowsCache(op, op.Key) {
					return nil
				}
			}
			return denied(op, "cache %q key %s", op.Cache, quoteKey(op.Key))
		}
		if len(op.Keys) == 0 {
			for i := range p.Perms {
				if p.Perms[i].allowsCache(op, nil) {
					return nil
				}
			}
			return denied(op, "cache %q", op.Cache)
		}
	keys:
		for _, k := range op.Keys {
			for i := range p.Perms {
				if p.Perms[i].allowsCache(op, k) {
					continue keys
				}
			}
			return denied(op, "cache %q key %s", op.Cache, quoteKey(k))
		}
		return nil
	}
	panic("BUG: auth op without a resource: " + op.Name)
}

func denied(op Op, format string, args ...any) error {
	return errs.ErrPermissionDenied.Withf("%s on %s", op.Name, fmt.Sprintf(format, args...))
}

func (pm *Permission) allowsCache(op Op, key []byte) bool {
	if pm.Resource != ResourceCache || (pm.Cache != "" && pm.Cache != op.Cache) || !roleAllows(pm.Role, op.Access) {
		return false
	}
	switch {
	case key == nil:
		return pm.Key == nil && pm.KeyPrefix == nil
	case pm.Key != nil:
		return bytes.Equal(pm.Key, key)
	default:
		return bytes.HasPrefix(key, pm.KeyPrefix)
	}
}

func (pm *Permission) allowsTopic(op Op) bool {
	if pm.Resource != ResourceTopic || (pm.Cache != "" && pm.Cache != op.Cache) || !roleAllows(pm.Role, op.Access) {
		return false
	}
	if pm.Topic != "" {
		return pm.Topic == op.Topic
	}
	return strings.HasPrefix(op.Topic, pm.TopicPrefix)
}

func roleAllows(role string, a Access) bool {
	switch role {
	case RoleReadWrite:
		return a <= AccessConditional
	case RoleReadOnly:
		return a == AccessRead
	case RoleWriteOnly:
		return a == AccessWrite
	}
	return false
}

func quoteKey(k []byte) string {
	if len(k) > 64 {
		return strconv.Quote(string(k[:64])) + "..."
	}
	return strconv.Quote(string(k))
}

// maxPermissions bounds the grants of one token (Momento: 20 statements).
const maxPermissions = 20

// ValidatePermissions checks a requested grant list: not empty, not too
// long, every entry well-formed, and no two entries for the same resource.
func ValidatePermissions(perms []Permission) error {
	if len(perms) == 0 {
		return errs.ErrInvalidToken.Withf("cannot create token with empty permission list")
	}
	if len(perms) > maxPermissions {
		return errs.ErrInvalidToken.Withf("%d permissions, at most %d", len(perms), maxPermissions)
	}
	seen := make(map[string]bool, len(perms))
	for i, pm := range perms {
		if err := pm.validate(); err != nil {
			return errs.ErrInvalidToken.Withf("permission %d: %v", i, err)
		}
		id := pm.resourceID()
		if seen[id] {
			return errs.ErrInvalidToken.Withf("cannot create token with duplicate or conflicting permissions (permission %d repeats a resource)", i)
		}
		seen[id] = true
	}
	return nil
}

func (pm *Permission) validate() error {
	switch pm.Resource {
	case ResourceCache:
		if pm.Role != RoleReadWrite && pm.Role != RoleReadOnly && pm.Role != RoleWriteOnly {
			return errors.New("cache role must be ReadWrite, ReadOnly or WriteOnly")
		}
		if pm.Key != nil && len(pm.Key) == 0 {
			return errors.New("item key selector must not be empty")
		}
	case ResourceTopic:
		if pm.Role != RoleReadWrite && pm.Role != RoleReadOnly && pm.Role != RoleWriteOnly {
			return errors.New("topic role must be PublishSubscribe, SubscribeOnly or PublishOnly")
		}
	case ResourceFunction:
		if pm.Role != RoleInvoke {
			return errors.New("function role must be Invoke")
		}
	default:
		return errors.New("permission names no cache, topic or function")
	}
	return nil
}

// resourceID identifies what a permission is about, regardless of role.
func (pm *Permission) resourceID() string {
	return fmt.Sprintf("%s|%q|%q|%q|%q|%q|%q|%q", pm.Resource, pm.Cache, pm.Key, pm.KeyPrefix, pm.Topic, pm.TopicPrefix, pm.Function, pm.FuncPrefix)
}
