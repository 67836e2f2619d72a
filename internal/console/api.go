package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/cache"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/feed"
)

// ---- session ----

type sessionResp struct {
	Auth      bool              `json:"auth"` // false: dev mode, no key needed
	Principal string            `json:"principal"`
	SuperUser bool              `json:"super_user"`
	ExpiresAt int64             `json:"expires_at,omitempty"`
	Perms     []auth.Permission `json:"permissions,omitempty"`
}

// session says who the key is: the console's login check.
func (c *Console) session(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	return writeJSON(w, http.StatusOK, sessionResp{Auth: c.o.Auth != nil, Principal: p.ID, SuperUser: p.SuperUser, ExpiresAt: p.ExpiresAt, Perms: p.Perms})
}

// ---- caches ----

type cacheResp struct {
	Name       string `json:"name"`
	Partitions int    `json:"partitions"`
	Epoch      uint64 `json:"epoch"`
}

func (c *Console) listCaches(w http.ResponseWriter, r *http.Request) error {
	infos, err := c.o.Cache.ListCaches(r.Context())
	if err != nil {
		return err
	}
	out := make([]cacheResp, len(infos))
	for i, in := range infos {
		out[i] = cacheResp{in.Name, in.Partitions, in.Epoch}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (c *Console) createCache(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	info, err := c.o.Cache.CreateCache(r.Context(), req.Name, cache.CacheConfig{})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, cacheResp{info.Name, info.Partitions, info.Epoch})
}

func (c *Console) deleteCache(w http.ResponseWriter, r *http.Request) error {
	if err := c.o.Cache.DeleteCache(r.Context(), r.PathValue("cache")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (c *Console) flushCache(w http.ResponseWriter, r *http.Request) error {
	if err := c.o.Cache.FlushCache(r.Context(), r.PathValue("cache")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- keys ----

// Bounds of one key-browser request.
const (
	defaultKeyLimit = 100
	maxKeyLimit     = 1000
	maxScanned      = 10000 // changes read per request; the token continues
)

type keyResp struct {
	Key  Bytes  `json:"key"`
	Kind string `json:"kind"`
	LSN  uint64 `json:"lsn"`
}

type keysResp struct {
	Keys         []keyResp `json:"keys"`
	Continuation string    `json:"continuation"`
	Done         bool      `json:"done"` // the whole cache was read
	Scanned      int       `json:"scanned"`
}

// keys lists the live keys of a cache with a prefix, read from the
// latest-version change feed from the beginning (or a continuation): every
// live item is there once, at its last change. An item changed while the
// browser pages may show twice or, if deleted meanwhile, be gone; the
// console says so.
func (c *Console) keys(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit := defaultKeyLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxKeyLimit {
			return errs.ErrInvalidArgument.Msgf("limit must be 1-%d", maxKeyLimit)
		}
		limit = n
	}
	prefix := q.Get("prefix")
	req := feed.Request{Cache: r.PathValue("cache"), Start: feed.StartBeginning, Mode: feed.ModeLatestVersion,
		Continuation: q.Get("continuation"), PageSizeHint: limit}
	out := keysResp{Keys: []keyResp{}}
	for len(out.Keys) < limit && out.Scanned < maxScanned {
		page, err := c.o.Feed.Read(r.Context(), req)
		if err != nil {
			return err
		}
		req.Continuation = page.Continuation
		out.Continuation = page.Continuation
		if page.NotModified {
			out.Done = true
			break
		}
		out.Scanned += len(page.Changes)
		for _, ch := range page.Changes {
			if strings.HasPrefix(string(ch.Key), prefix) {
				out.Keys = append(out.Keys, keyResp{Key: bytesOf(ch.Key), Kind: ch.Kind.String(), LSN: ch.LSN})
			}
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// ---- items ----

// maxElements bounds the elements of a collection the console shows.
const maxElements = 1000

type element struct {
	Field *Bytes   `json:"field,omitempty"` // dictionaries
	Value Bytes    `json:"value"`
	Score *float64 `json:"score,omitempty"` // sorted sets
}

type itemResp struct {
	Key       Bytes     `json:"key"`
	Kind      string    `json:"kind"`
	LSN       uint64    `json:"lsn"`
	TTLMillis *int64    `json:"ttl_ms"` // null: never expires
	Value     *Bytes    `json:"value,omitempty"`
	Elements  []element `json:"elements,omitempty"`
	Truncated bool      `json:"truncated,omitempty"`
}

func (c *Console) getItem(w http.ResponseWriter, r *http.Request) error {
	key, err := keyParam(r)
	if err != nil {
		return err
	}
	ctx, name := r.Context(), r.PathValue("cache")
	meta, found, err := c.o.Cache.ItemMeta(ctx, name, key)
	if err != nil {
		return err
	}
	if !found {
		return errs.ErrItemNotFound
	}
	out := itemResp{Key: bytesOf(key), Kind: meta.Kind.String(), LSN: meta.LSN}
	if d, ok := c.o.Cache.Remaining(meta.ExpiresAt); ok {
		ms := d.Milliseconds()
		out.TTLMillis = &ms
	}
	add := func(e element) {
		if len(out.Elements) >= maxElements {
			out.Truncated = true
			return
		}
		out.Elements = append(out.Elements, e)
	}
	switch meta.Kind {
	case cache.KindScalar:
		v, m, ok, err := c.o.Cache.GetWithMeta(ctx, name, key)
		if err != nil {
			return err
		}
		found, out.LSN = ok, m.LSN
		b := bytesOf(v)
		out.Value = &b
	case cache.KindDictionary:
		var fvs []cache.FieldValue
		fvs, found, err = c.o.Cache.DictionaryFetch(ctx, name, key)
		for _, fv := range fvs {
			f := bytesOf(fv.Field)
			add(element{Field: &f, Value: bytesOf(fv.Value)})
		}
	case cache.KindSet:
		var vs [][]byte
		vs, found, err = c.o.Cache.SetFetch(ctx, name, key)
		for _, v := range vs {
			add(element{Value: bytesOf(v)})
		}
	case cache.KindList:
		var vs [][]byte
		vs, found, err = c.o.Cache.ListFetch(ctx, name, key, 0, maxElements+1)
		for _, v := range vs {
			add(element{Value: bytesOf(v)})
		}
	case cache.KindSortedSet:
		var es []cache.ScoredElement
		es, found, err = c.o.Cache.SortedSetFetchByRank(ctx, name, key, 0, maxElements+1, false)
		for _, e := range es {
			s := e.Score
			add(element{Value: bytesOf(e.Value), Score: &s})
		}
	}
	if err != nil {
		return err
	}
	if !found {
		return errs.ErrItemNotFound
	}
	return writeJSON(w, http.StatusOK, out)
}

func (c *Console) setItem(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Key        Bytes `json:"key"`
		Value      Bytes `json:"value"`
		TTLSeconds int64 `json:"ttl_seconds"` // 0: never expires
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	key, err := req.Key.decode()
	if err != nil {
		return err
	}
	value, err := req.Value.decode()
	if err != nil {
		return err
	}
	if req.TTLSeconds < 0 || req.TTLSeconds > int64(cache.MaxTTL/time.Second) {
		return errs.ErrInvalidArgument.Msgf("ttl_seconds must be 0 (never expires) to %d", int64(cache.MaxTTL/time.Second))
	}
	if err := c.o.Cache.Set(r.Context(), r.PathValue("cache"), key, value, time.Duration(req.TTLSeconds)*time.Second); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (c *Console) deleteItem(w http.ResponseWriter, r *http.Request) error {
	key, err := keyParam(r)
	if err != nil {
		return err
	}
	if err := c.o.Cache.Delete(r.Context(), r.PathValue("cache"), key); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- API keys ----

type scope struct {
	Resource    string `json:"resource"` // cache or topic
	Role        string `json:"role"`     // readwrite, readonly, writeonly
	Cache       string `json:"cache,omitempty"`
	Key         string `json:"key,omitempty"`
	KeyPrefix   string `json:"key_prefix,omitempty"`
	Topic       string `json:"topic,omitempty"`
	TopicPrefix string `json:"topic_prefix,omitempty"`
}

type mintedResp struct {
	APIKey       string `json:"api_key"`
	ID           string `json:"id"`
	RefreshToken string `json:"refresh_token"`
	Endpoint     string `json:"endpoint"`
	ValidUntil   int64  `json:"valid_until"` // unix seconds, 0: never
}

var errAuthOff = errs.ErrUnimplemented.Msgf("auth is off (dev mode): there are no API keys; start the server with --auth")

// mintKey mints an API key with the given scopes, as Momento's
// generateApiKey does (a super-user key may mint; nobody mints super
// users).
func (c *Console) mintKey(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Scopes           []scope `json:"scopes"`
		ExpiresInSeconds int64   `json:"expires_in_seconds"` // 0: never
		TokenID          string  `json:"token_id"`
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if c.o.Auth == nil {
		return errAuthOff
	}
	if len(req.Scopes) == 0 {
		return errs.ErrInvalidArgument.Msgf("give at least one scope")
	}
	if req.ExpiresInSeconds < 0 {
		return errs.ErrInvalidArgument.Msgf("expires_in_seconds must not be negative")
	}
	mr := auth.MintRequest{ValidFor: time.Duration(req.ExpiresInSeconds) * time.Second, TokenID: req.TokenID}
	for _, s := range req.Scopes {
		pm := auth.Permission{Resource: s.Resource, Role: s.Role, Cache: s.Cache}
		switch s.Resource {
		case auth.ResourceCache:
			if s.Key != "" {
				pm.Key = []byte(s.Key)
			}
			if s.KeyPrefix != "" {
				pm.KeyPrefix = []byte(s.KeyPrefix)
			}
		case auth.ResourceTopic:
			pm.Topic, pm.TopicPrefix = s.Topic, s.TopicPrefix
		default:
			return errs.ErrInvalidArgument.Msgf("scope resource must be cache or topic, not %q", s.Resource)
		}
		mr.Perms = append(mr.Perms, pm)
	}
	m, err := c.o.Auth.GenerateAPIKey(auth.FromContext(r.Context()), mr)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, mintedResp{APIKey: m.APIKey, ID: m.ID, RefreshToken: m.RefreshToken, Endpoint: m.Endpoint, ValidUntil: m.ValidUntil})
}

// revokeKey revokes a key by its id (or the token id it was minted with).
func (c *Console) revokeKey(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		ID string `json:"id"`
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if c.o.Auth == nil {
		return errAuthOff
	}
	if err := c.o.Auth.RevokeToken(auth.FromContext(r.Context()), req.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
