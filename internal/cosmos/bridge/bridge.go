// Package bridge implements the Cosmos surface's Backend on Setsuna's
// services, so that a container is a Setsuna cache every other surface
// sees:
//
//   - a database is a record in namespace "cosmos.databases";
//   - a container is the cache "<database>/<container>", created with the
//     KeyCosmos* key scheme of its hash (V1, V2, MultiHash), one partition
//     per range of its layout (V1 or V2 tiling), and its properties in the
//     cache attribute "cosmos.props";
//   - a document is the item whose key is the JSON array of its partition
//     key values and its id (["p1","a1"]; the engine places it by the EPK
//     of those values) and whose value is the document's JSON; its LSN and
//     commit time are its _etag and _ts, so If-Match is an
//     optimistic-concurrency write on the LSN;
//   - an item that another surface wrote (a key without that form) is
//     shown as a document whose id is the key.
//
// Every call runs with the caller the surface identified, so the services
// authorize it like any other request.
package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/setsuna-io/setsuna/internal/cache"
	"github.com/setsuna-io/setsuna/internal/cosmos"
	"github.com/setsuna-io/setsuna/internal/epk"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/feed"
)

const (
	dbNamespace = "cosmos.databases"
	attrProps   = "cosmos.props"
	attrDB      = "cosmos.database"
	attrID      = "cosmos.id"
)

// Bridge is the Backend.
type Bridge struct {
	cache *cache.Service
	feed  *feed.Service
	rep   *errs.Reporter
}

var _ cosmos.Backend = (*Bridge)(nil)

// New returns the Backend over the cache and feed services.
func New(c *cache.Service, f *feed.Service, rep *errs.Reporter) *Bridge {
	return &Bridge{cache: c, feed: f, rep: rep}
}

// handle is what a Container carries for the bridge.
type handle struct {
	cache string
	info  cache.CacheInfo
}

// cacheName is the cache of a container: "<database>/<container>" with
// every byte outside printable ASCII, and "%" and "/", percent-encoded
// (Cosmos ids may hold spaces and any Unicode; cache names may not).
func cacheName(db, id string) string { return escapeID(db) + "/" + escapeID(id) }

// escapeID percent-encodes an id for a cache name or a record key.
func escapeID(id string) string {
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c <= ' ' || c > '~' || c == '%' || c == '/' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// unescapeID reverses escapeID.
func unescapeID(s string) string {
	u, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return u
}

// fail maps a service error to the Cosmos surface's errors.
func (b *Bridge) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	e := b.rep.Public(op, err)
	switch e.Code {
	case errs.CodeNotFound:
		return cosmos.ErrNotFound
	case errs.CodeAlreadyExists:
		return cosmos.ErrConflict
	case errs.CodeUnauthenticated:
		return &cosmos.Error{Status: http.StatusUnauthorized, Code: "Unauthorized", Message: e.Msg}
	case errs.CodePermissionDenied:
		return &cosmos.Error{Status: http.StatusForbidden, Code: "Forbidden", Message: e.Msg}
	case errs.CodeInvalidArgument, errs.CodeFailedPrecondition:
		return &cosmos.Error{Status: http.StatusBadRequest, Code: "BadRequest", Message: e.Msg}
	case errs.CodeOutOfRange:
		return cosmos.ErrRetention
	case errs.CodeResourceExhausted:
		if e.Reason == errs.ErrItemTooLarge.Reason {
			return cosmos.ErrTooLarge
		}
		return cosmos.ErrThrottled
	case errs.CodeUnavailable, errs.CodeCanceled, errs.CodeDeadlineExceeded:
		return cosmos.ErrUnavailable
	}
	return &cosmos.Error{Status: http.StatusInternalServerError, Code: "InternalServerError", Message: e.Msg}
}

// checkID refuses ids too long for a Setsuna cache name once encoded.
func checkID(what, id string) error {
	if id == "" || len(escapeID(id)) > 127 {
		return &cosmos.Error{Status: http.StatusBadRequest, Code: "BadRequest",
			Message: "Setsuna keeps a " + what + " id as part of a cache name: at most 127 bytes once every byte outside printable ASCII is written as %XX."}
	}
	return nil
}

// ---- databases ----

// CreateDatabase implements cosmos.Backend.
func (b *Bridge) CreateDatabase(ctx context.Context, db cosmos.Database) error {
	if err := checkID("database", db.ID); err != nil {
		return err
	}
	if _, found, err := b.cache.GetRecord(ctx, dbNamespace, escapeID(db.ID)); err != nil || found {
		if found {
			return cosmos.ErrConflict
		}
		return b.fail("create a database", err)
	}
	return b.fail("create a database", b.cache.PutRecord(ctx, dbNamespace, escapeID(db.ID), db.Props))
}

// Database implements cosmos.Backend.
func (b *Bridge) Database(ctx context.Context, id string) (cosmos.Database, error) {
	if checkID("database", id) != nil {
		return cosmos.Database{}, cosmos.ErrNotFound
	}
	props, found, err := b.cache.GetRecord(ctx, dbNamespace, escapeID(id))
	if err != nil {
		return cosmos.Database{}, b.fail("read a database", err)
	}
	if !found {
		return cosmos.Database{}, cosmos.ErrNotFound
	}
	return cosmos.Database{ID: id, Props: props}, nil
}

// Databases implements cosmos.Backend.
func (b *Bridge) Databases(ctx context.Context) ([]cosmos.Database, error) {
	recs, err := b.cache.ListRecords(ctx, dbNamespace)
	if err != nil {
		return nil, b.fail("list databases", err)
	}
	out := make([]cosmos.Database, len(recs))
	for i, r := range recs {
		out[i] = cosmos.Database{ID: unescapeID(r.Key), Props: r.Value}
	}
	return out, nil
}

// DeleteDatabase implements cosmos.Backend.
func (b *Bridge) DeleteDatabase(ctx context.Context, id string) error {
	cs, err := b.Containers(ctx, id)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if err := b.DeleteContainer(ctx, id, c.ID); err != nil && !errors.Is(err, cosmos.ErrNotFound) {
			return err
		}
	}
	return b.fail("delete a database", b.cache.DeleteRecord(ctx, dbNamespace, escapeID(id)))
}

// ---- containers ----

// tilingOf finds the tiling whose ranges are rs.
func tilingOf(rs []epk.Range) (cache.Tiling, bool) {
	n := len(rs)
	if n < 1 || n > 256 {
		return 0, false
	}
	for _, t := range []cache.Tiling{cache.TilingV2, cache.TilingV1} {
		if slices.Equal(t.Ranges(n), rs) {
			return t, true
		}
	}
	return 0, false
}

// CreateContainer implements cosmos.Backend.
func (b *Bridge) CreateContainer(ctx context.Context, spec cosmos.ContainerSpec) (cosmos.Container, error) {
	if err := checkID("container", spec.ID); err != nil {
		return cosmos.Container{}, err
	}
	if _, err := b.Database(ctx, spec.Database); err != nil {
		return cosmos.Container{}, err
	}
	tiling, ok := tilingOf(spec.Ranges)
	if !ok {
		return cosmos.Container{}, &cosmos.Error{Status: http.StatusBadRequest, Code: "BadRequest", Message: "Setsuna partitions a container evenly, into 1 to 256 ranges."}
	}
	scheme, ok := keySchemes[spec.Scheme]
	if !ok {
		return cosmos.Container{}, &cosmos.Error{Status: http.StatusBadRequest, Code: "BadRequest", Message: "unknown partition key hash"}
	}
	info, err := b.cache.CreateCache(ctx, cacheName(spec.Database, spec.ID), cache.CacheConfig{
		Partitions: len(spec.Ranges),
		KeyScheme:  scheme,
		Tiling:     tiling,
		Attrs:      map[string]string{attrProps: string(spec.Props), attrDB: spec.Database, attrID: spec.ID},
	})
	if err != nil {
		return cosmos.Container{}, b.fail("create a container", err)
	}
	return containerOf(info), nil
}

var keySchemes = map[epk.Scheme]cache.KeyScheme{
	epk.SchemeV1: cache.KeyCosmosV1, epk.SchemeV2: cache.KeyCosmosV2, epk.SchemeMultiHash: cache.KeyCosmosMultiHash,
}

func containerOf(info cache.CacheInfo) cosmos.Container {
	frs := cache.FeedRanges(info)
	rs := make([]cosmos.Range, len(frs))
	for i, fr := range frs {
		rs[i] = cosmos.Range{ID: fr.ID, Min: fr.MinEPK, Max: fr.MaxEPK}
	}
	return cosmos.Container{
		Database: info.Attrs[attrDB], ID: info.Attrs[attrID], Ranges: rs,
		Props: []byte(info.Attrs[attrProps]), Handle: handle{cache: info.Name, info: info},
	}
}

// Container implements cosmos.Backend.
func (b *Bridge) Container(ctx context.Context, db, id string) (cosmos.Container, error) {
	if checkID("database", db) != nil || checkID("container", id) != nil {
		return cosmos.Container{}, cosmos.ErrNotFound
	}
	info, err := b.cache.CacheInfo(ctx, cacheName(db, id))
	if err != nil {
		return cosmos.Container{}, b.fail("read a container", err)
	}
	if info.Attrs[attrDB] != db || info.Attrs[attrID] != id {
		return cosmos.Container{}, cosmos.ErrNotFound // a cache of another surface with that name
	}
	return containerOf(info), nil
}

// Containers implements cosmos.Backend.
func (b *Bridge) Containers(ctx context.Context, db string) ([]cosmos.Container, error) {
	if _, err := b.Database(ctx, db); err != nil {
		return nil, err
	}
	infos, err := b.cache.ListCaches(ctx)
	if err != nil {
		return nil, b.fail("list containers", err)
	}
	var out []cosmos.Container
	for _, info := range infos {
		if info.Attrs[attrDB] == db && info.Attrs[attrID] != "" {
			out = append(out, containerOf(info))
		}
	}
	return out, nil
}

// DeleteContainer implements cosmos.Backend.
func (b *Bridge) DeleteContainer(ctx context.Context, db, id string) error {
	if _, err := b.Container(ctx, db, id); err != nil {
		return err
	}
	return b.fail("delete a container", b.cache.DeleteCache(ctx, cacheName(db, id)))
}

// ---- documents ----

// itemKey is the item key of a document: its canonical partition-key
// array with the id appended.
func itemKey(k cosmos.DocKey) []byte {
	id, _ := json.Marshal(k.ID)
	key := make([]byte, 0, len(k.PK)+1+len(id))
	key = append(key, k.PK[:len(k.PK)-1]...)
	if len(k.PK) > 2 {
		key = append(key, ',')
	}
	key = append(key, id...)
	return append(key, ']')
}

// docKey is the document key of an item key; a key of another surface is
// a document whose id is the key.
func docKey(key []byte, info *cache.CacheInfo) cosmos.DocKey {
	if _, ok := epk.DocKeyComponents(key); ok {
		// The partition key is the array up to the end of its
		// second-to-last element, as written (canonical when the bridge
		// wrote it); the id is the last element.
		dec := json.NewDecoder(bytes.NewReader(key))
		_, _ = dec.Token()
		var ends []int64
		var last json.RawMessage
		for dec.More() && dec.Decode(&last) == nil {
			ends = append(ends, dec.InputOffset())
		}
		var id string
		if len(ends) >= 2 && json.Unmarshal(last, &id) == nil {
			return cosmos.DocKey{EPK: info.EPK(key), PK: string(key[:ends[len(ends)-2]]) + "]", ID: id}
		}
	}
	id := string(key)
	pk, _ := json.Marshal([]string{id})
	return cosmos.DocKey{EPK: info.EPK(key), PK: string(pk), ID: id}
}

func handleOf(c cosmos.Container) handle { return c.Handle.(handle) }

// ReadDoc implements cosmos.Backend.
func (b *Bridge) ReadDoc(ctx context.Context, c cosmos.Container, k cosmos.DocKey) (cosmos.Doc, error) {
	h := handleOf(c)
	v, m, found, err := b.cache.GetWithMeta(ctx, h.cache, itemKey(k))
	if errors.Is(err, errs.ErrWrongType) {
		return cosmos.Doc{}, cosmos.ErrNotFound
	}
	if err != nil {
		return cosmos.Doc{}, b.fail("read a document", err)
	}
	if !found {
		return cosmos.Doc{}, cosmos.ErrNotFound
	}
	return cosmos.Doc{Key: k, Body: v, LSN: m.LSN, Time: m.Modified}, nil
}

// PutDoc implements cosmos.Backend.
func (b *Bridge) PutDoc(ctx context.Context, c cosmos.Container, p cosmos.DocPut) (cosmos.Doc, bool, error) {
	h := handleOf(c)
	key := itemKey(p.Key)
	var cond cache.Condition
	switch {
	case p.Mode == cosmos.PutCreate:
		cond = cache.Condition{Kind: cache.CondAbsent}
	case p.IfLSN != 0:
		cond = cache.Condition{Kind: cache.CondLSNEqual, LSN: p.IfLSN}
	case p.Mode == cosmos.PutReplace:
		cond = cache.Condition{Kind: cache.CondPresent}
	default:
		cond = cache.Condition{Kind: cache.CondAlways}
	}
	res, err := b.cache.SetIf(ctx, h.cache, key, p.Body, p.TTL, cond)
	if err != nil {
		return cosmos.Doc{}, false, b.fail("write a document", err)
	}
	if !res.Stored {
		switch {
		case p.Mode == cosmos.PutCreate:
			return cosmos.Doc{}, false, cosmos.ErrConflict
		case p.IfLSN != 0 && b.exists(ctx, h.cache, key):
			return cosmos.Doc{}, false, cosmos.ErrPreconditionFailed
		}
		return cosmos.Doc{}, false, cosmos.ErrNotFound
	}
	return cosmos.Doc{Key: p.Key, Body: p.Body, LSN: res.LSN, Time: res.Modified}, res.Created, nil
}

// exists tells a failed condition from a missing document, for the error.
func (b *Bridge) exists(ctx context.Context, cacheName string, key []byte) bool {
	_, found, err := b.cache.ItemMeta(ctx, cacheName, key)
	return err == nil && found
}

// DeleteDoc implements cosmos.Backend.
func (b *Bridge) DeleteDoc(ctx context.Context, c cosmos.Container, k cosmos.DocKey, ifLSN uint64) error {
	h := handleOf(c)
	key := itemKey(k)
	cond := cache.Condition{Kind: cache.CondPresent}
	if ifLSN != 0 {
		cond = cache.Condition{Kind: cache.CondLSNEqual, LSN: ifLSN}
	}
	deleted, err := b.cache.DeleteIf(ctx, h.cache, key, cond)
	if err != nil {
		return b.fail("delete a document", err)
	}
	if !deleted {
		if ifLSN != 0 && b.exists(ctx, h.cache, key) {
			return cosmos.ErrPreconditionFailed
		}
		return cosmos.ErrNotFound
	}
	return nil
}

// ---- change feed ----

// nextEPK is the smallest EPK string after every string that has e as a
// prefix but e itself: [e, nextEPK(e)) holds exactly e among EPKs of e's
// length and longer ones of other prefixes.
func nextEPK(e string) string { return e + "0" }

// ReadFeed implements cosmos.Backend.
func (b *Bridge) ReadFeed(ctx context.Context, c cosmos.Container, r cosmos.FeedRead) (cosmos.FeedPage, error) {
	h := handleOf(c)
	part, err := strconv.Atoi(r.RangeID)
	if err != nil || part < 0 || part >= h.info.Partitions || strconv.Itoa(part) != r.RangeID {
		return cosmos.FeedPage{}, cosmos.ErrNotFound
	}
	fr := feed.PartitionRead{
		Partition: part, Epoch: h.info.Epoch, PageSizeHint: r.MaxItems, MaxBytes: feed.DefaultPageBytes,
		MinEPK: r.MinEPK, MaxEPK: r.MaxEPK, AfterLSN: r.AfterLSN,
	}
	if r.PK != "" {
		// A logical partition: every document whose EPK is exactly r.EPK.
		fr.MinEPK, fr.MaxEPK = r.EPK, nextEPK(r.EPK)
	}
	if r.AllVersions {
		fr.Mode = feed.AllVersions
	}
	switch r.Start {
	case cosmos.FeedNow:
		fr.Start = feed.FromNow
	case cosmos.FeedSince:
		fr.Start, fr.StartTime = feed.FromTime, r.Since
	}
	page, err := b.feed.ReadPartition(ctx, h.cache, fr)
	if errors.Is(err, errs.ErrFeedEpoch) {
		return cosmos.FeedPage{}, cosmos.ErrNotFound // deleted and re-created since the container was read
	}
	if err != nil {
		return cosmos.FeedPage{}, b.fail("read the change feed", err)
	}
	out := cosmos.FeedPage{LSN: page.LastLSN, Changes: make([]cosmos.Change, 0, len(page.Changes))}
	for i := range page.Changes {
		ch := &page.Changes[i]
		k := docKey(ch.Key, &h.info)
		if r.PK != "" && k.PK != r.PK {
			continue
		}
		out.Changes = append(out.Changes, change(ch, k))
	}
	return out, nil
}

var ops = map[feed.Op]cosmos.ChangeOp{feed.OpCreate: cosmos.OpCreate, feed.OpReplace: cosmos.OpReplace, feed.OpDelete: cosmos.OpDelete}

func change(ch *feed.Change, k cosmos.DocKey) cosmos.Change {
	out := cosmos.Change{
		Op:  ops[ch.Op],
		Doc: cosmos.Doc{Key: k, LSN: ch.LSN, Time: ch.CommitTime},
		// Previous images of scalars only: a collection has no JSON body.
		HasPrevious: ch.HasPrevious && ch.PreviousKind == cache.KindScalar,
		PreviousLSN: ch.PreviousLSN,
		TTLExpired:  ch.TTLExpired,
	}
	if ch.Op != feed.OpDelete && ch.Kind == cache.KindScalar {
		out.Doc.Body = ch.Value
	}
	if out.HasPrevious {
		out.Previous = ch.Previous
	}
	return out
}
