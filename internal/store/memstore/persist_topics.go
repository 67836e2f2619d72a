package memstore

import (
	"context"
	"errors"
	"time"

	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore/wal"
)

// Topics in the log. A topic's creation (with its page), its messages,
// its drop (idle) and the drop of a cache's topics are logged. A message
// is logged under the topic's lock, in sequence order, and shown to
// readers (head) only once its batch is written, so that no reader sees a
// message that a crash can take back: a subscriber that resumes after a
// restart finds every message it saw, or a new page if history was lost.

// topicJournal is the log state of one topic; guarded by topic.mu.
type topicJournal struct {
	ps          *persister
	cache, name string
	epoch       uint64
	buf         []byte
}

func (l *TopicLog) logErr() error {
	if l.ps == nil {
		return nil
	}
	return l.ps.err()
}

// journalTopic logs a new topic (under l.mu) and makes it journal.
func (l *TopicLog) journalTopic(ref store.TopicRef, t *topic) {
	if l.ps == nil {
		return
	}
	t.jr = &topicJournal{ps: l.ps, cache: ref.Cache, name: ref.Name, epoch: ref.Epoch}
	l.ps.log.Append(encodeTopicRef(recTopicCreate, ref.Cache, ref.Epoch, ref.Name, t.page))
}

func encodeTopicRef(typ byte, cache string, epoch uint64, name string, page uint64) []byte {
	b := putString([]byte{typ}, cache)
	b = putUvarint(b, epoch)
	b = putString(b, name)
	return putUvarint(b, page)
}

// journalTopicDrop logs an idle topic's drop (under l.mu).
func (l *TopicLog) journalTopicDrop(cache string, epoch uint64, name string, t *topic) {
	if l.ps != nil {
		l.ps.log.Append(encodeTopicRef(recTopicDrop, cache, epoch, name, t.page))
	}
}

// journalDropCache logs DropCache (under l.mu).
func (l *TopicLog) journalDropCache(cache string, epoch uint64) {
	if l.ps != nil {
		l.ps.log.Append(putUvarint(putString([]byte{recTopicDropCache}, cache), epoch))
	}
}

// journalDedup logs an AppendOnce key (under its stripe's lock); nil
// without persistence. Its expiry is wall-clock time, as the keys keep it.
func (l *TopicLog) journalDedup(k dedupKey, e dedupEntry) *wal.Batch {
	if l.ps == nil {
		return nil
	}
	return l.ps.log.Append(encodeDedup(k, e))
}

func encodeDedup(k dedupKey, e dedupEntry) []byte {
	b := putString([]byte{recTopicDedup}, k.cache)
	b = putUvarint(b, k.epoch)
	b = putString(b, k.topic)
	b = putString(b, k.key)
	b = putUvarint(b, e.seq)
	b = putUvarint(b, e.page)
	return putVarint(b, e.expires)
}

// journal logs a message (under t.mu); nil without persistence.
func (t *topic) journal(m *store.TopicMessage) *wal.Batch {
	j := t.jr
	if j == nil {
		return nil
	}
	b := encodeTopicRef(recTopicAppend, j.cache, j.epoch, j.name, t.page)
	b = putUvarint(b, m.Seq)
	b = putBool(b, m.Value.Binary)
	b = putString(b, m.PublisherID)
	b = putBytes(b, m.Value.Data)
	return j.ps.log.Append(b)
}

// publish shows the messages up to seq to readers.
func (t *topic) publish(seq uint64) {
	t.mu.Lock()
	if t.dropped.Load() || t.head.Load() >= seq {
		t.mu.Unlock()
		return
	}
	t.head.Store(seq)
	ch := make(chan struct{})
	old := t.notify.Swap(&ch)
	t.mu.Unlock()
	close(*old)
}

// attach makes every topic journal (after a restore).
func (l *TopicLog) attach(ps *persister) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ps = ps
	for cache, c := range l.caches {
		for name, t := range c.topics {
			t.mu.Lock()
			t.jr = &topicJournal{ps: ps, cache: cache, name: name, epoch: c.epoch}
			t.mu.Unlock()
		}
	}
}

// restoreTopic creates the topic with page (replacing one of another page)
// in a log that is not serving yet.
func (l *TopicLog) restoreTopic(cache string, epoch uint64, name string, page uint64) *topic {
	c := l.caches[cache]
	if c != nil && c.epoch > epoch {
		return nil
	}
	if c == nil || c.epoch < epoch {
		if c != nil {
			c.drop()
		}
		c = &cacheTopics{epoch: epoch, topics: map[string]*topic{}}
		l.caches[cache] = c
	}
	if c.dead {
		return nil
	}
	if t := c.topics[name]; t != nil {
		if t.page == page {
			return t
		}
		t.drop()
	}
	t := newTopic(l.opts.MaxMessages)
	t.total = &l.bytes
	t.page = page
	t.lastUsed.Store(time.Now().UnixNano())
	c.topics[name] = t
	return t
}

func (l *TopicLog) findTopic(cache string, epoch uint64, name string, page uint64) *topic {
	c := l.caches[cache]
	if c == nil || c.epoch != epoch || c.dead {
		return nil
	}
	if t := c.topics[name]; t != nil && t.page == page {
		return t
	}
	return nil
}

// topicRecord applies a topic record of the log.
func (r *replayer) topicRecord(typ byte, d *dec) error {
	if typ == recTopicDedup {
		var k dedupKey
		k.cache, k.epoch, k.topic, k.key = d.string(), d.uvarint(), d.string(), d.string()
		e := dedupEntry{seq: d.uvarint(), page: d.uvarint(), expires: d.varint()}
		if now := time.Now().UnixNano(); d.err == nil && e.expires > now {
			x := &r.tl.extras
			x.init()
			s := x.stripe(&k)
			s.mu.Lock()
			s.put(k, e, r.tl.dedupCapacity(), now)
			s.mu.Unlock()
		}
		return nil
	}
	if typ == recTopicDropCache {
		cache, epoch := d.string(), d.uvarint()
		if d.err == nil {
			r.tl.DropCache(context.Background(), cache, epoch)
		}
		return nil
	}
	cache, epoch, name, page := d.string(), d.uvarint(), d.string(), d.uvarint()
	if d.err != nil {
		return nil
	}
	r.maxPage = max(r.maxPage, page)
	switch typ {
	case recTopicCreate:
		r.tl.restoreTopic(cache, epoch, name, page)
	case recTopicDrop:
		if t := r.tl.findTopic(cache, epoch, name, page); t != nil {
			delete(r.tl.caches[cache].topics, name)
			t.drop()
		}
	case recTopicAppend:
		return r.topicAppend(r.tl.findTopic(cache, epoch, name, page), d)
	}
	return nil
}

// topicAppend applies one logged message to t (nil: skip).
func (r *replayer) topicAppend(t *topic, d *dec) error {
	seq := d.uvarint()
	binary := d.bool()
	pub := d.string()
	data := d.bytes()
	if d.err != nil || t == nil || seq <= t.next {
		return nil
	}
	if seq != t.next+1 {
		if !r.popts.Repair {
			return badRecord("topic message %d follows %d", seq, t.next)
		}
		return nil // repaired: every topic is dropped at the end
	}
	t.append(store.TopicValue{Data: data, Binary: binary}, pub, &r.tl.opts, &r.tl.bytes)
	return nil
}

// loadTopic applies a topic frame of a snapshot; t is the topic of the
// last snapTopic.
func (r *replayer) loadTopic(typ byte, d *dec, t *topic, got *snapStats) (*topic, error) {
	switch typ {
	case recTopicDropCache:
		return nil, r.topicRecord(typ, d)
	case snapTopic:
		cache, epoch, name, page := d.string(), d.uvarint(), d.string(), d.uvarint()
		first, last := d.uvarint(), d.uvarint()
		if d.err != nil || first == 0 || first > last+1 {
			return nil, errors.New("invalid topic frame")
		}
		r.maxPage = max(r.maxPage, page)
		t = r.tl.restoreTopic(cache, epoch, name, page)
		if t == nil {
			return nil, errors.New("topic of a dropped cache")
		}
		t.next = first - 1
		t.head.Store(first - 1)
		t.tail.Store(first)
		got.topics++
		return t, nil
	case recTopicAppend:
		if t == nil {
			return nil, errors.New("topic message outside a topic")
		}
		d.string()
		d.uvarint()
		d.string()
		d.uvarint()
		got.messages++
		return t, r.topicAppend(t, d)
	}
	return t, nil
}

// snapshot writes the topic frames of a snapshot.
func (l *TopicLog) snapshot(put func([]byte) error, st *snapStats) error {
	type named struct {
		name string
		t    *topic
	}
	type entry struct {
		cache  string
		epoch  uint64
		dead   bool
		topics []named
	}
	l.mu.RLock()
	var list []entry
	for cache, c := range l.caches {
		e := entry{cache: cache, epoch: c.epoch, dead: c.dead}
		for name, t := range c.topics {
			e.topics = append(e.topics, named{name, t})
		}
		list = append(list, e)
	}
	l.mu.RUnlock()
	// AppendOnce keys still within their window.
	x := &l.extras
	x.init()
	now := time.Now().UnixNano()
	for i := range x.stripes {
		s := &x.stripes[i]
		s.mu.Lock()
		var recs [][]byte
		for k, e := range s.m {
			if e.expires > now {
				recs = append(recs, encodeDedup(k, e))
			}
		}
		s.mu.Unlock()
		for _, r := range recs {
			if err := put(r); err != nil {
				return err
			}
		}
	}
	for _, e := range list {
		if e.dead {
			if err := put(putUvarint(putString([]byte{recTopicDropCache}, e.cache), e.epoch)); err != nil {
				return err
			}
			continue
		}
		for _, n := range e.topics {
			t := n.t
			t.mu.Lock()
			if t.dropped.Load() {
				t.mu.Unlock()
				continue
			}
			first, last := t.tail.Load(), t.next
			head := encodeTopicRef(snapTopic, e.cache, e.epoch, n.name, t.page)
			frames := [][]byte{putUvarint(putUvarint(head, first), last)}
			r := t.ring.Load()
			for seq := first; seq <= last; seq++ {
				m := r.at(seq)
				if m == nil || m.Seq != seq {
					break
				}
				b := encodeTopicRef(recTopicAppend, e.cache, e.epoch, n.name, t.page)
				b = putUvarint(b, seq)
				b = putBool(b, m.Value.Binary)
				b = putString(b, m.PublisherID)
				frames = append(frames, putBytes(b, m.Value.Data))
			}
			t.mu.Unlock()
			if len(frames)-1 != int(last+1-first) {
				continue // cannot happen under t.mu; never write a topic with holes
			}
			for _, f := range frames {
				if err := put(f); err != nil {
					return err
				}
			}
			st.topics++
			st.messages += len(frames) - 1
		}
	}
	return nil
}

// finishRestore makes new pages larger than every restored one.
func (l *TopicLog) finishRestore(maxPage uint64) {
	for {
		cur := lastPage.Load()
		if cur >= maxPage || lastPage.CompareAndSwap(cur, maxPage) {
			return
		}
	}
}

func (l *TopicLog) counts() (topics, messages int) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, c := range l.caches {
		for _, t := range c.topics {
			topics++
			messages += int(t.head.Load() + 1 - t.tail.Load())
		}
	}
	return topics, messages
}

// dropAllForRestore drops every topic (history was lost) and returns the
// records that log it.
func (l *TopicLog) dropAllForRestore() [][]byte {
	var recs [][]byte
	for cache, c := range l.caches {
		for name, t := range c.topics {
			recs = append(recs, encodeTopicRef(recTopicDrop, cache, c.epoch, name, t.page))
			t.drop()
		}
		if !c.dead {
			c.topics = map[string]*topic{}
		}
	}
	return recs
}
