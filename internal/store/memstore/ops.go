package memstore

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore/wal"
)

var errEmptyKey = errs.ErrInvalidArgument.Msgf("empty key")

func checkTTL(ttl time.Duration) error {
	if !store.ValidTTL(ttl) {
		return errs.ErrInvalidArgument.Msgf("ttl %v outside [0, %v]", ttl, store.MaxTTL)
	}
	return nil
}

func (s *Store) checkItem(key, value []byte, ttl time.Duration) error {
	if len(key) == 0 {
		return errEmptyKey
	}
	if err := checkTTL(ttl); err != nil {
		return err
	}
	if n := len(key) + len(value); n > s.maxItemSize {
		return errs.ErrItemTooLarge.Withf("item of %d bytes exceeds %d", n, s.maxItemSize)
	}
	return nil
}

// need is the reservation for writing a new item of this size.
func need(key, value []byte) int64 { return int64(len(key)+len(value)) + ItemOverhead }

// live reports whether it exists and has not expired at now.
func live(it *item, now int64) bool { return it != nil && !it.expired(now) }

// alive is live for readers, who read the clock only for items with a TTL.
func (s *Store) alive(it *item) bool {
	return it != nil && (it.expires == 0 || it.expires > s.clock.nanos())
}

// write runs fn under the write lock of key's partition, after reserving
// need bytes (evicting if needed). fn returns the change in accounted bytes.
func (s *Store) write(name string, key []byte, need int64, fn func(p *partition, now int64) (int64, error)) error {
	c, err := s.lookup(name)
	if err != nil {
		return err
	}
	if err := s.logErr(); err != nil {
		return err
	}
	reserved, err := s.reserve(need)
	if err != nil {
		return err
	}
	p, _ := c.partition(key)
	var delta int64
	p.mu.Lock()
	if p.dead {
		err = errNoCache(name)
	} else {
		delta, err = fn(p, s.clock.nanos())
		p.bytes += delta
	}
	b := p.takeBatch() // persistence: the log batch of this change (persist.go)
	p.mu.Unlock()
	if delta != reserved {
		s.used.Add(delta - reserved)
	}
	if b != nil {
		err = cmp.Or(err, waitLogged(b))
	}
	return err
}

// read runs fn under the read lock of key's partition.
func (s *Store) read(name string, key []byte, fn func(p *partition, index int)) error {
	if len(key) == 0 {
		return errEmptyKey
	}
	c, err := s.lookup(name)
	if err != nil {
		return err
	}
	p, i := c.partition(key)
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.dead {
		return errNoCache(name)
	}
	fn(p, i)
	return nil
}

// Get returns the value of a live scalar. The slice is shared: callers must
// not modify it.
func (s *Store) Get(_ context.Context, name string, key []byte) (value []byte, found bool, err error) {
	var kindErr error
	err = s.read(name, key, func(p *partition, _ int) {
		it := p.items.get(key)
		if !s.alive(it) {
			return
		}
		if it.kind != store.KindScalar {
			kindErr = wrongType(it)
			return
		}
		s.touch(it)
		value, found = it.value(), true
	})
	return value, found, cmp.Or(err, kindErr)
}

func wrongType(it *item) error {
	return errs.ErrWrongType.Withf("item is a %v", it.kind)
}

// Set stores a scalar, replacing an item of any kind.
func (s *Store) Set(_ context.Context, name string, key, value []byte, ttl time.Duration) error {
	if err := s.checkItem(key, value, ttl); err != nil {
		return err
	}
	return s.write(name, key, need(key, value), func(p *partition, now int64) (int64, error) {
		return p.putScalar(key, value, s.clock.expiry(ttl, now), now), nil
	})
}

// SetIf stores a scalar when cond holds for the current item.
func (s *Store) SetIf(_ context.Context, name string, key, value []byte, ttl time.Duration, cond store.Condition) (res store.WriteResult, err error) {
	if cond.Kind > store.CondLSNEqual {
		return res, errs.ErrInvalidArgument.Msgf("condition kind %d", cond.Kind)
	}
	if err := s.checkItem(key, value, ttl); err != nil {
		return res, err
	}
	err = s.write(name, key, need(key, value), func(p *partition, now int64) (int64, error) {
		it := p.items.get(key)
		if ok, err := holds(it, now, cond); !ok {
			return 0, err
		}
		res.Stored, res.Created = true, !live(it, now)
		delta := p.putScalar(key, value, s.clock.expiry(ttl, now), now)
		res.LSN, res.Modified = p.items.get(key).lsn, s.clock.time(now)
		return delta, nil
	})
	return res, err
}

// holds evaluates cond against the item under a key (nil when missing).
// Value conditions compare scalars only: on a collection they are
// errs.ErrWrongType.
func holds(it *item, now int64, cond store.Condition) (bool, error) {
	present := live(it, now)
	var current []byte
	var lsn uint64
	if present {
		lsn = it.lsn
		switch {
		case it.kind == store.KindScalar:
			current = it.value()
		case cond.Kind > store.CondPresent && cond.Kind != store.CondLSNEqual:
			return false, wrongType(it)
		}
	}
	return cond.Holds(current, present, lsn), nil
}

// SetBatch stores all items atomically: it locks every involved partition
// in ascending order, and each partition's items get consecutive LSNs in
// request order.
func (s *Store) SetBatch(_ context.Context, name string, items []store.Item) error {
	var total int64
	for i, it := range items {
		if err := s.checkItem(it.Key, it.Value, it.TTL); err != nil {
			return errs.Prefixf(err, "batch item %d", i)
		}
		total += need(it.Key, it.Value)
	}
	c, err := s.lookup(name)
	if err != nil || len(items) == 0 {
		return err
	}
	if err := s.logErr(); err != nil {
		return err
	}
	reserved, err := s.reserve(total)
	if err != nil {
		return err
	}
	type ref struct{ part, idx int }
	refs := make([]ref, len(items))
	for i, it := range items {
		refs[i] = ref{c.partitionIndex(it.Key), i}
	}
	slices.SortFunc(refs, func(a, b ref) int { return cmp.Or(cmp.Compare(a.part, b.part), cmp.Compare(a.idx, b.idx)) })

	dead := false
	for j, r := range refs {
		if j == 0 || r.part != refs[j-1].part {
			p := &c.parts[r.part]
			p.mu.Lock()
			dead = dead || p.dead
		}
	}
	var delta int64
	if !dead {
		now := s.clock.nanos()
		for j := 0; j < len(refs); {
			k := j + 1
			for k < len(refs) && refs[k].part == refs[j].part {
				k++
			}
			// Purge expired items first so that the batch's puts are its
			// only changes: consecutive LSNs, one group in the feed.
			p := &c.parts[refs[j].part]
			var pd int64
			for _, r := range refs[j:k] {
				pd += p.purgeExpired(items[r.idx].Key, now)
			}
			p.beginBatch(k - j)
			for _, r := range refs[j:k] {
				it := &items[r.idx]
				pd += p.putScalar(it.Key, it.Value, s.clock.expiry(it.TTL, now), now)
			}
			p.endBatch()
			p.bytes += pd
			delta += pd
			j = k
		}
	}
	var b *wal.Batch // persistence: the log batch of the last change
	for j, r := range refs {
		if j == 0 || r.part != refs[j-1].part {
			b = cmp.Or(c.parts[r.part].takeBatch(), b)
			c.parts[r.part].mu.Unlock()
		}
	}
	s.used.Add(delta - reserved)
	if dead {
		return errNoCache(name)
	}
	return waitLogged(b)
}

// Delete removes an item of any kind; a missing key is not an error.
func (s *Store) Delete(_ context.Context, name string, key []byte) error {
	if len(key) == 0 {
		return errEmptyKey
	}
	return s.write(name, key, 0, func(p *partition, now int64) (int64, error) {
		it := p.items.get(key)
		if it == nil {
			return 0, nil
		}
		// An expired item is purged now: its expiry is the change.
		p.commit(now, store.FeedDelete, it, image{}, !live(it, now))
		return -p.remove(it), nil
	})
}

// KeysExist reports, in request order, which keys hold a live item.
func (s *Store) KeysExist(_ context.Context, name string, keys [][]byte) ([]bool, error) {
	out := make([]bool, len(keys))
	err := s.readEach(name, keys, func(i int, it *item) error {
		out[i] = it != nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetBatch returns, in request order, the values of live scalar items.
func (s *Store) GetBatch(_ context.Context, name string, keys [][]byte) ([][]byte, []bool, error) {
	values, found := make([][]byte, len(keys)), make([]bool, len(keys))
	err := s.readEach(name, keys, func(i int, it *item) error {
		if it == nil {
			return nil
		}
		if it.kind != store.KindScalar {
			return wrongType(it)
		}
		s.touch(it)
		values[i], found[i] = it.value(), true
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return values, found, nil
}

// readEach looks the cache up once and calls fn with the live item of each
// key (nil when missing or expired) under its partition's read lock.
func (s *Store) readEach(name string, keys [][]byte, fn func(i int, it *item) error) error {
	for _, key := range keys {
		if len(key) == 0 {
			return errEmptyKey
		}
	}
	c, err := s.lookup(name)
	if err != nil {
		return err
	}
	for i, key := range keys {
		p, _ := c.partition(key)
		p.mu.RLock()
		if p.dead {
			p.mu.RUnlock()
			return errNoCache(name)
		}
		it := p.items.get(key)
		if !s.alive(it) {
			it = nil
		}
		err := fn(i, it)
		p.mu.RUnlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// DeleteIf removes a scalar when cond holds for it.
func (s *Store) DeleteIf(_ context.Context, name string, key []byte, cond store.Condition) (deleted bool, err error) {
	if cond.Kind > store.CondLSNEqual {
		return false, errs.ErrInvalidArgument.Msgf("condition kind %d", cond.Kind)
	}
	if len(key) == 0 {
		return false, errEmptyKey
	}
	err = s.write(name, key, 0, func(p *partition, now int64) (int64, error) {
		it := p.items.get(key)
		if ok, err := holds(it, now, cond); !ok || !live(it, now) {
			return p.purgeExpired(key, now), err
		}
		deleted = true
		p.commit(now, store.FeedDelete, it, image{}, false)
		return -p.remove(it), nil
	})
	return deleted, err
}

// DeleteKind removes the item under key when it is of kind.
func (s *Store) DeleteKind(_ context.Context, name string, key []byte, kind store.Kind) (found bool, err error) {
	if len(key) == 0 {
		return false, errEmptyKey
	}
	if kind > store.KindSortedSet {
		return false, errs.ErrInvalidArgument.Msgf("unknown item kind %d", kind)
	}
	err = s.write(name, key, 0, func(p *partition, now int64) (int64, error) {
		it := p.items.get(key)
		if !live(it, now) {
			return p.purgeExpired(key, now), nil
		}
		if it.kind != kind {
			return 0, wrongType(it)
		}
		found = true
		p.commit(now, store.FeedDelete, it, image{}, false)
		return -p.remove(it), nil
	})
	return found, err
}

// Increment adds amount to a base-10 int64 scalar, creating it when missing.
func (s *Store) Increment(_ context.Context, name string, key []byte, amount int64, ttl time.Duration) (result int64, err error) {
	if len(key) == 0 {
		return 0, errEmptyKey
	}
	if err := checkTTL(ttl); err != nil {
		return 0, err
	}
	const maxDigits = len("-9223372036854775808")
	err = s.write(name, key, int64(len(key)+maxDigits)+ItemOverhead, func(p *partition, now int64) (int64, error) {
		result = amount
		if it := p.items.get(key); live(it, now) {
			if it.kind != store.KindScalar {
				return 0, wrongType(it)
			}
			cur, ok := store.ParseInt64(it.value())
			if !ok {
				return 0, errs.ErrNotInteger.Withf("increment %q", truncate(it.value()))
			}
			result = cur + amount
			if amount > 0 && result < cur || amount < 0 && result > cur {
				return 0, errs.ErrOverflow.Withf("increment %d by %d", cur, amount)
			}
		}
		var buf [maxDigits]byte
		value := strconv.AppendInt(buf[:0], result, 10)
		if len(key)+len(value) > s.maxItemSize {
			return 0, errs.ErrItemTooLarge.Withf("item of %d bytes exceeds %d", len(key)+len(value), s.maxItemSize)
		}
		return p.putScalar(key, value, s.clock.expiry(ttl, now), now), nil
	})
	if err != nil {
		return 0, err
	}
	return result, nil
}

func truncate(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

// UpdateTTL changes the expiry of a live item of any kind.
func (s *Store) UpdateTTL(_ context.Context, name string, key []byte, mode store.TTLMode, ttl time.Duration) (result store.TTLResult, err error) {
	if len(key) == 0 {
		return 0, errEmptyKey
	}
	if ttl <= 0 || !store.ValidTTL(ttl) {
		return 0, errs.ErrInvalidArgument.Msgf("ttl %v outside (0, %v]", ttl, store.MaxTTL)
	}
	if mode > store.TTLDecrease {
		return 0, errs.ErrInvalidArgument.Msgf("ttl mode %d", mode)
	}
	err = s.write(name, key, 0, func(p *partition, now int64) (int64, error) {
		it := p.items.get(key)
		if !live(it, now) {
			result = store.TTLMissing
			return 0, nil
		}
		exp := s.clock.expiry(ttl, now)
		apply := mode == store.TTLOverwrite ||
			mode == store.TTLIncrease && it.expires != 0 && exp > it.expires ||
			mode == store.TTLDecrease && (it.expires == 0 || exp < it.expires)
		if !apply {
			result = store.TTLNotSet
			return 0, nil
		}
		prev := imageOf(it)
		p.setExpiry(it, exp)
		p.commit(now, store.FeedReplace, it, prev, false)
		result = store.TTLSet
		return 0, nil
	})
	return result, err
}

// Meta returns the kind, expiry, partition, LSN and commit time of a live
// item.
func (s *Store) Meta(_ context.Context, name string, key []byte) (meta store.Meta, found bool, err error) {
	err = s.read(name, key, func(p *partition, index int) {
		it := p.items.get(key)
		if !s.alive(it) {
			return
		}
		meta, found = s.metaOf(p, index, it), true
	})
	return meta, found, err
}

// GetWithMeta returns a live scalar's value with its Meta, under one lock.
func (s *Store) GetWithMeta(_ context.Context, name string, key []byte) (value []byte, meta store.Meta, found bool, err error) {
	var kindErr error
	err = s.read(name, key, func(p *partition, index int) {
		it := p.items.get(key)
		if !s.alive(it) {
			return
		}
		if it.kind != store.KindScalar {
			kindErr = wrongType(it)
			return
		}
		s.touch(it)
		value, meta, found = it.value(), s.metaOf(p, index, it), true
	})
	return value, meta, found, cmp.Or(err, kindErr)
}

// metaOf describes a live item; the commit time comes from its entry in
// the latest-version index, which the item's LSN finds by binary search.
// Under the partition's lock.
func (s *Store) metaOf(p *partition, index int, it *item) store.Meta {
	m := store.Meta{Kind: it.kind, Partition: index, LSN: it.lsn}
	if it.expires != 0 {
		m.ExpiresAt = s.clock.time(it.expires)
	}
	if p.feed.find(it) != nil {
		m.Modified = s.clock.time(it.at)
	}
	return m
}
