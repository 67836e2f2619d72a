package cosmos

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/setsuna-io/setsuna/internal/epk"
)

// memBackend is an in-memory Backend for the handler tests: one LSN
// sequence per partition, a latest-version view and an all-versions log,
// TTL against an injectable clock.
type memBackend struct {
	mu    sync.Mutex
	now   func() time.Time
	dbs   []Database
	colls map[[2]string]*memColl
	epoch int
}

type memColl struct {
	c     Container
	parts []*memPart
}

type memPart struct {
	lsn  uint64
	docs map[[2]string]*memDoc // (pk, id)
	log  []Change
}

type memDoc struct {
	doc     Doc
	expires time.Time
}

func newMemBackend(now func() time.Time) *memBackend {
	return &memBackend{now: now, colls: map[[2]string]*memColl{}}
}

func (b *memBackend) CreateDatabase(_ context.Context, d Database) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, x := range b.dbs {
		if x.ID == d.ID {
			return ErrConflict
		}
	}
	b.dbs = append(b.dbs, d)
	return nil
}

func (b *memBackend) Database(_ context.Context, id string) (Database, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, x := range b.dbs {
		if x.ID == id {
			return x, nil
		}
	}
	return Database{}, ErrNotFound
}

func (b *memBackend) Databases(context.Context) ([]Database, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.dbs), nil
}

func (b *memBackend) DeleteDatabase(_ context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := slices.IndexFunc(b.dbs, func(d Database) bool { return d.ID == id })
	if i < 0 {
		return ErrNotFound
	}
	b.dbs = slices.Delete(b.dbs, i, i+1)
	for k := range b.colls {
		if k[0] == id {
			delete(b.colls, k)
		}
	}
	return nil
}

func (b *memBackend) hasDB(id string) bool {
	return slices.ContainsFunc(b.dbs, func(d Database) bool { return d.ID == id })
}

func (b *memBackend) CreateContainer(_ context.Context, s ContainerSpec) (Container, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.hasDB(s.Database) {
		return Container{}, ErrNotFound
	}
	k := [2]string{s.Database, s.ID}
	if b.colls[k] != nil {
		return Container{}, ErrConflict
	}
	b.epoch++
	c := Container{Database: s.Database, ID: s.ID, Props: s.Props, Handle: b.epoch}
	mc := &memColl{}
	for i, r := range s.Ranges {
		c.Ranges = append(c.Ranges, Range{ID: strconv.Itoa(i), Min: r.Min, Max: r.Max})
		mc.parts = append(mc.parts, &memPart{docs: map[[2]string]*memDoc{}})
	}
	mc.c = c
	b.colls[k] = mc
	return c, nil
}

func (b *memBackend) Container(_ context.Context, db, id string) (Container, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	mc := b.colls[[2]string{db, id}]
	if mc == nil {
		return Container{}, ErrNotFound
	}
	return mc.c, nil
}

func (b *memBackend) Containers(_ context.Context, db string) ([]Container, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.hasDB(db) {
		return nil, ErrNotFound
	}
	var out []Container
	for k, mc := range b.colls {
		if k[0] == db {
			out = append(out, mc.c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (b *memBackend) DeleteContainer(_ context.Context, db, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := [2]string{db, id}
	if b.colls[k] == nil {
		return ErrNotFound
	}
	delete(b.colls, k)
	return nil
}

// coll finds the live collection of c (same epoch) and the partition of e.
func (b *memBackend) coll(c Container) (*memColl, error) {
	mc := b.colls[[2]string{c.Database, c.ID}]
	if mc == nil || mc.c.Handle != c.Handle {
		return nil, ErrNotFound
	}
	return mc, nil
}

func (mc *memColl) part(e string) *memPart {
	rs := make([]epk.Range, len(mc.c.Ranges))
	for i, r := range mc.c.Ranges {
		rs[i] = epk.Range{Min: r.Min, Max: r.Max}
	}
	return mc.parts[epk.Find(rs, e)]
}

// expire purges expired documents as all-versions deletes.
func (b *memBackend) expire(p *memPart) {
	now := b.now()
	var keys [][2]string
	for k, d := range p.docs {
		if !d.expires.IsZero() && !now.Before(d.expires) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return p.docs[keys[i]].doc.LSN < p.docs[keys[j]].doc.LSN })
	for _, k := range keys {
		d := p.docs[k]
		delete(p.docs, k)
		p.lsn++
		p.log = append(p.log, Change{Op: OpDelete, Doc: Doc{Key: d.doc.Key, LSN: p.lsn, Time: now},
			HasPrevious: true, Previous: d.doc.Body, PreviousLSN: d.doc.LSN, TTLExpired: true})
	}
}

func (b *memBackend) ReadDoc(_ context.Context, c Container, k DocKey) (Doc, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	mc, err := b.coll(c)
	if err != nil {
		return Doc{}, err
	}
	p := mc.part(k.EPK)
	b.expire(p)
	d := p.docs[[2]string{k.PK, k.ID}]
	if d == nil {
		return Doc{}, ErrNotFound
	}
	return d.doc, nil
}

func (b *memBackend) PutDoc(_ context.Context, c Container, w DocPut) (Doc, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	mc, err := b.coll(c)
	if err != nil {
		return Doc{}, false, err
	}
	p := mc.part(w.Key.EPK)
	b.expire(p)
	k := [2]string{w.Key.PK, w.Key.ID}
	old := p.docs[k]
	switch {
	case w.Mode == PutCreate && old != nil:
		return Doc{}, false, ErrConflict
	case (w.Mode == PutReplace || w.IfLSN != 0) && old == nil:
		return Doc{}, false, ErrNotFound
	case w.IfLSN != 0 && old.doc.LSN != w.IfLSN:
		return Doc{}, false, ErrPreconditionFailed
	}
	now := b.now()
	p.lsn++
	d := &memDoc{doc: Doc{Key: w.Key, Body: slices.Clone(w.Body), LSN: p.lsn, Time: now}}
	if w.TTL > 0 {
		d.expires = now.Add(w.TTL)
	}
	p.docs[k] = d
	ch := Change{Op: OpCreate, Doc: d.doc}
	if old != nil {
		ch.Op, ch.HasPrevious, ch.Previous, ch.PreviousLSN = OpReplace, true, old.doc.Body, old.doc.LSN
	}
	p.log = append(p.log, ch)
	return d.doc, old == nil, nil
}

func (b *memBackend) DeleteDoc(_ context.Context, c Container, k DocKey, ifLSN uint64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	mc, err := b.coll(c)
	if err != nil {
		return err
	}
	p := mc.part(k.EPK)
	b.expire(p)
	key := [2]string{k.PK, k.ID}
	old := p.docs[key]
	switch {
	case old == nil:
		return ErrNotFound
	case ifLSN != 0 && old.doc.LSN != ifLSN:
		return ErrPreconditionFailed
	}
	delete(p.docs, key)
	p.lsn++
	p.log = append(p.log, Change{Op: OpDelete, Doc: Doc{Key: k, LSN: p.lsn, Time: b.now()},
		HasPrevious: true, Previous: old.doc.Body, PreviousLSN: old.doc.LSN})
	return nil
}

func (b *memBackend) ReadFeed(_ context.Context, c Container, r FeedRead) (FeedPage, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	mc, err := b.coll(c)
	if err != nil {
		return FeedPage{}, err
	}
	i, err := strconv.Atoi(r.RangeID)
	if err != nil || i < 0 || i >= len(mc.parts) {
		return FeedPage{}, fmt.Errorf("range %q: %w", r.RangeID, ErrRangeGone)
	}
	p := mc.parts[i]
	b.expire(p)
	if r.Start == FeedNow {
		return FeedPage{LSN: p.lsn}, nil
	}
	in := func(k DocKey) bool {
		if r.PK != "" {
			return k.PK == r.PK
		}
		return k.EPK >= r.MinEPK && (r.MaxEPK == "" || k.EPK < r.MaxEPK)
	}
	var cands []Change
	if r.AllVersions {
		for _, ch := range p.log {
			if ch.Doc.LSN > r.AfterLSN && in(ch.Doc.Key) {
				cands = append(cands, ch)
			}
		}
	} else {
		for _, d := range p.docs {
			if in(d.doc.Key) && (r.Start == FeedSince && !d.doc.Time.Before(r.Since) || r.Start == FeedAfter && d.doc.LSN > r.AfterLSN) {
				cands = append(cands, Change{Op: OpCreate, Doc: d.doc})
			}
		}
		sort.Slice(cands, func(i, j int) bool { return cands[i].Doc.LSN < cands[j].Doc.LSN })
	}
	if len(cands) == 0 {
		if r.Start == FeedSince {
			return FeedPage{LSN: p.lsn}, nil
		}
		return FeedPage{LSN: r.AfterLSN}, nil
	}
	if len(cands) > r.MaxItems {
		cands = cands[:r.MaxItems]
	}
	return FeedPage{Changes: cands, LSN: cands[len(cands)-1].Doc.LSN}, nil
}
