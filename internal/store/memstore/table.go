package memstore

import (
	"hash/maphash"
	"iter"
)

// itemTable is a partition's items by key: an open-addressing hash table of
// item pointers with linear probing, 9 B per slot (the pointer and a tag
// byte), at most 3/4 full. The key is the item's own (item.key), so a slot
// holds no copy of it: a Go map[string]*item costs ~56 B per entry at this
// size (a 16 B string header and an 8 B pointer per slot, control bytes,
// 7/8 load and doubling), this ~16 B on average.
//
// Growth is incremental, so no write pays an O(n) rehash under the
// partition lock: a full table becomes old, a table twice its size takes the
// inserts, and every write moves migrateStep slots of old to it; lookups
// look in both until old is drained. Deleting from old leaves a tombstone
// (old takes no inserts, and a backward shift could move an item behind the
// migration cursor); deleting from the current table shifts the following
// run back, so it never holds tombstones. Guarded by the partition lock.
type itemTable struct {
	seed  maphash.Seed
	cur   slotTable
	old   slotTable // being drained into cur; nil slots when no growth runs
	moved int       // old's slots before this are migrated
}

type slotTable struct {
	slots []*item
	tags  []uint8 // tagEmpty, tagDead, or tagOf(hash)
	n     int     // items, not counting tombstones
}

const (
	tagEmpty    = 0
	tagDead     = 1
	minSlots    = 8
	migrateStep = 16
)

// tagOf is the tag of a hash: its top 7 bits with the high bit set, so it is
// neither tagEmpty nor tagDead and a probe rarely dereferences a slot whose
// key differs.
func tagOf(h uint64) uint8 { return uint8(h>>57) | 0x80 }

func newItemTable() itemTable { return itemTable{seed: maphash.MakeSeed()} }

func (t *itemTable) len() int { return t.cur.n + t.old.n }

func (t *itemTable) hashBytes(k []byte) uint64  { return maphash.Bytes(t.seed, k) }
func (t *itemTable) hashString(k string) uint64 { return maphash.String(t.seed, k) }

// get returns the item under key, or nil.
func (t *itemTable) get(key []byte) *item {
	if t.len() == 0 {
		return nil
	}
	h := t.hashBytes(key)
	if it := t.cur.find(h, key); it != nil {
		return it
	}
	if t.old.n > 0 {
		return t.old.find(h, key)
	}
	return nil
}

// getStr is get for a string key.
func (t *itemTable) getStr(key string) *item { return t.get(keyBytes(key)) }

func (s *slotTable) find(h uint64, key []byte) *item {
	if len(s.slots) == 0 {
		return nil
	}
	mask := len(s.slots) - 1
	tag := tagOf(h)
	for i := int(h) & mask; ; i = (i + 1) & mask {
		switch s.tags[i] {
		case tagEmpty:
			return nil
		case tag:
			if it := s.slots[i]; int(it.klen) == len(key) && it.key() == string(key) {
				return it
			}
		}
	}
}

// put adds it, whose key must not be in the table.
func (t *itemTable) put(it *item) {
	t.migrate()
	if (t.cur.n+1)*4 > len(t.cur.slots)*3 {
		t.grow()
	}
	t.cur.insert(t.hashString(it.key()), it)
}

// insert places it in the first free slot of its run.
func (s *slotTable) insert(h uint64, it *item) {
	mask := len(s.slots) - 1
	i := int(h) & mask
	for s.tags[i] >= 0x80 {
		i = (i + 1) & mask
	}
	s.slots[i], s.tags[i] = it, tagOf(h)
	s.n++
}

// grow starts draining a full current table into one twice its size. A
// growth still running (which the step size makes unlikely) finishes first.
func (t *itemTable) grow() {
	for t.old.n > 0 {
		t.migrate()
	}
	size := max(2*len(t.cur.slots), minSlots)
	t.old, t.moved = t.cur, 0
	t.cur = slotTable{slots: make([]*item, size), tags: make([]uint8, size)}
	if t.old.n == 0 {
		t.old = slotTable{}
	}
}

// migrate moves up to migrateStep slots of old to cur.
func (t *itemTable) migrate() {
	if t.old.n == 0 {
		if t.old.slots != nil {
			t.old = slotTable{}
		}
		return
	}
	for end := min(t.moved+migrateStep, len(t.old.slots)); t.moved < end; t.moved++ {
		i := t.moved
		if t.old.tags[i] >= 0x80 {
			it := t.old.slots[i]
			t.old.slots[i], t.old.tags[i] = nil, tagDead
			t.old.n--
			t.cur.insert(t.hashString(it.key()), it)
		}
	}
	if t.old.n == 0 || t.moved == len(t.old.slots) {
		t.old = slotTable{}
	}
}

// del removes it (by identity), if it is in the table.
func (t *itemTable) del(it *item) {
	t.migrate()
	h := t.hashString(it.key())
	if t.cur.remove(t.seed, h, it, false) {
		return
	}
	if t.old.n > 0 {
		t.old.remove(t.seed, h, it, true)
	}
}

// remove unlinks it; with tombstone false the rest of its run shifts back
// (linear probing's deletion without tombstones).
func (s *slotTable) remove(seed maphash.Seed, h uint64, it *item, tombstone bool) bool {
	if len(s.slots) == 0 {
		return false
	}
	mask := len(s.slots) - 1
	i := int(h) & mask
	for ; s.slots[i] != it; i = (i + 1) & mask {
		if s.tags[i] == tagEmpty {
			return false
		}
	}
	s.n--
	if tombstone {
		s.slots[i], s.tags[i] = nil, tagDead
		return true
	}
	// Move back each later item of the run that may live at i: one whose
	// home slot is not cyclically in (i, j].
	for j := (i + 1) & mask; s.tags[j] != tagEmpty; j = (j + 1) & mask {
		home := int(maphash.String(seed, s.slots[j].key())) & mask
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			s.slots[i], s.tags[i] = s.slots[j], s.tags[j]
			i = j
		}
	}
	s.slots[i], s.tags[i] = nil, tagEmpty
	return true
}

// all yields every item, in no particular order. The table must not change
// meanwhile.
func (t *itemTable) all() iter.Seq[*item] {
	return func(yield func(*item) bool) {
		for _, s := range []*slotTable{&t.cur, &t.old} {
			for i, tag := range s.tags {
				if tag >= 0x80 && !yield(s.slots[i]) {
					return
				}
			}
		}
	}
}

// any returns some item, or nil when the table is empty.
func (t *itemTable) any() *item {
	for it := range t.all() {
		return it
	}
	return nil
}

// reset empties the table and lets go of its memory.
func (t *itemTable) reset() { *t = itemTable{seed: t.seed} }
