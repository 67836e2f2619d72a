package graphql

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// Item is one stored object: field name → value in the JSON model. Its "id"
// is a string; "version" (an int64 kept by the Store) counts its updates.
type Item = map[string]any

// Table names where a type's items live.
type Table struct {
	Cache string // Setsuna cache
	Type  string // GraphQL type name, e.g. "Post"
}

// ErrConditionFailed is what a Store returns when an id already exists on
// Create, or is missing or at another version on Update/Delete. Resolvers
// turn it into AppSync's DynamoDB:ConditionalCheckFailedException.
var ErrConditionFailed = errors.New("the conditional request failed")

// Store is the contract of the Setsuna-cache data source. Each method is
// atomic per item and authorizes who against the cache. Items are returned as
// stored, including "version".
type Store interface {
	// Get returns the item, or (nil, nil) if there is none.
	Get(ctx context.Context, who *Identity, t Table, id string) (Item, error)
	// List returns up to limit items (limit > 0) after nextToken ("" = from
	// the start) and the token for the next page ("" = no more).
	List(ctx context.Context, who *Identity, t Table, limit int, nextToken string) ([]Item, string, error)
	// Create stores item (which has an "id") with version 1; ErrConditionFailed if the id exists.
	Create(ctx context.Context, who *Identity, t Table, item Item) (Item, error)
	// Update merges fields into the existing item (a nil value removes a field),
	// increments its version and returns the new item. ErrConditionFailed if
	// the item is missing, or expectedVersion is set and differs.
	Update(ctx context.Context, who *Identity, t Table, id string, fields Item, expectedVersion *int64) (Item, error)
	// Delete removes the item and returns what was stored; ErrConditionFailed
	// if it is missing or expectedVersion is set and differs.
	Delete(ctx context.Context, who *Identity, t Table, id string, expectedVersion *int64) (Item, error)
}

// CacheOp is an operation of the Setsuna-cache data source.
type CacheOp string

// The cache data source's operations.
const (
	OpGet    CacheOp = "get"
	OpList   CacheOp = "list"
	OpCreate CacheOp = "create"
	OpUpdate CacheOp = "update"
	OpDelete CacheOp = "delete"
)

// DefaultListLimit is the page size of a list without a limit argument.
const DefaultListLimit = 100

// CacheResolver resolves a field through a Store, the way AppSync's generated
// DynamoDB resolvers do: arguments come from `input` if that is the field's
// only argument, otherwise from the argument map; create assigns a missing id
// and createdAt/updatedAt when the type has them; update and delete honour
// expectedVersion.
type CacheResolver struct {
	Store Store
	Table Table
	Op    CacheOp
	Def   *ast.Definition  // the stored type, for createdAt/updatedAt; may be nil
	Now   func() time.Time // nil = time.Now
}

// Resolve implements Resolver.
func (r *CacheResolver) Resolve(ctx context.Context, p *ResolveParams) (any, error) {
	in := p.Args
	if len(p.Field.Arguments) == 1 && p.Field.Arguments[0].Name == "input" {
		m, _ := p.Args["input"].(map[string]any)
		in = m
	}
	fields := make(Item, len(in))
	for k, v := range in {
		fields[k] = v
	}
	var expected *int64
	if v, ok := fields["expectedVersion"]; ok {
		delete(fields, "expectedVersion")
		if n, ok := v.(int64); ok {
			expected = &n
		}
	}
	id, _ := fields["id"].(string)
	var (
		out any
		err error
	)
	switch r.Op {
	case OpGet:
		var it Item
		it, err = r.Store.Get(ctx, p.Identity, r.Table, id)
		if it != nil {
			out = it
		}
	case OpList:
		limit := DefaultListLimit
		if n, ok := fields["limit"].(int64); ok && n > 0 && n < 1000 {
			limit = int(n)
		}
		token, _ := fields["nextToken"].(string)
		var items []Item
		var next string
		items, next, err = r.Store.List(ctx, p.Identity, r.Table, limit, token)
		list := make([]any, len(items))
		for i, it := range items {
			list[i] = it
		}
		if p.Field.Type.Elem != nil {
			out = list
		} else {
			var nt any
			if next != "" {
				nt = next
			}
			out = map[string]any{"items": list, "nextToken": nt}
		}
	case OpCreate:
		if id == "" {
			fields["id"] = newID()
		}
		r.stamp(fields, true)
		var it Item
		it, err = r.Store.Create(ctx, p.Identity, r.Table, fields)
		out = it
	case OpUpdate:
		if id == "" {
			return nil, &ResolverError{Type: "BadRequestException", Message: "update needs an id"}
		}
		delete(fields, "id")
		r.stamp(fields, false)
		var it Item
		it, err = r.Store.Update(ctx, p.Identity, r.Table, id, fields, expected)
		out = it
	case OpDelete:
		var it Item
		it, err = r.Store.Delete(ctx, p.Identity, r.Table, id, expected)
		out = it
	default:
		return nil, fmt.Errorf("unknown cache operation %q", r.Op)
	}
	if errors.Is(err, ErrConditionFailed) {
		return nil, &ResolverError{Type: "DynamoDB:ConditionalCheckFailedException", Message: "The conditional request failed"}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// stamp sets createdAt/updatedAt when the stored type declares them.
func (r *CacheResolver) stamp(fields Item, create bool) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	def := r.Def
	if def == nil {
		return
	}
	ts := now().UTC().Format("2006-01-02T15:04:05.000Z")
	if create && def.Fields.ForName("createdAt") != nil {
		if _, ok := fields["createdAt"]; !ok {
			fields["createdAt"] = ts
		}
	}
	if def.Fields.ForName("updatedAt") != nil {
		if _, ok := fields["updatedAt"]; !ok {
			fields["updatedAt"] = ts
		}
	}
}

// newID is a random UUID v4, as util.autoId() makes.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
