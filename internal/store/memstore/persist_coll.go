package memstore

import (
	"fmt"

	"github.com/setsuna-io/setsuna/internal/store"
)

// Collections in the log. A collection's first commit after it was built
// (or after a restart) logs its whole content; later commits log only the
// element changes since the previous commit, which the collection's
// primitives (dict.put, list.pushBack, zset.del, ...) record into the
// deltaLog of its partition. Without persistence no collection has a
// deltaLog and the primitives' calls return at once.

// deltaLog collects the element changes of one collection between two
// commits of its partition; guarded by the partition's lock.
type deltaLog struct {
	owner  collection
	b      []byte
	n      int
	broken bool // changes of two collections mixed: a bug, logged at commit
}

func (j *deltaLog) add(owner collection, op byte) {
	if j.owner != owner {
		if j.n > 0 {
			j.broken = true
		}
		j.owner = owner
	}
	j.b = append(j.b, op)
	j.n++
}

func (j *deltaLog) reset() {
	j.owner, j.n, j.broken = nil, 0, false
	if cap(j.b) > 1<<20 {
		j.b = nil
	}
	j.b = j.b[:0]
}

func (j *deltaLog) dictPut(d *dict, field string, value []byte) {
	if j != nil {
		j.add(d, deltaDictPut)
		j.b = putBytes(putString(j.b, field), value)
	}
}

func (j *deltaLog) dictDel(d *dict, field string) {
	if j != nil {
		j.add(d, deltaDictDel)
		j.b = putString(j.b, field)
	}
}

func (j *deltaLog) setAdd(s *set, e string) {
	if j != nil {
		j.add(s, deltaSetAdd)
		j.b = putString(j.b, e)
	}
}

func (j *deltaLog) setDel(s *set, e string) {
	if j != nil {
		j.add(s, deltaSetDel)
		j.b = putString(j.b, e)
	}
}

func (j *deltaLog) listPush(l *list, front bool, v []byte) {
	if j != nil {
		j.add(l, deltaListPush)
		j.b = putBytes(putBool(j.b, front), v)
	}
}

func (j *deltaLog) listPop(l *list, front bool) {
	if j != nil {
		j.add(l, deltaListPop)
		j.b = putBool(j.b, front)
	}
}

// listSet records the whole list after a rewrite (keep), which costs
// O(n) anyway.
func (j *deltaLog) listSet(l *list) {
	if j != nil {
		j.add(l, deltaListSet)
		j.b = putUvarint(j.b, uint64(l.n))
		for i := range l.n {
			j.b = putBytes(j.b, l.at(i))
		}
	}
}

func (j *deltaLog) zput(z *zset, val string, score float64) {
	if j != nil {
		j.add(z, deltaZPut)
		j.b = putFloat(putString(j.b, val), score)
	}
}

func (j *deltaLog) zdel(z *zset, val string) {
	if j != nil {
		j.add(z, deltaZDel)
		j.b = putString(j.b, val)
	}
}

// deltaLogOf returns the deltaLog a collection records into.
func deltaLogOf(c collection) *deltaLog {
	switch c := c.(type) {
	case *dict:
		return c.j
	case *set:
		return c.j
	case *list:
		return c.j
	case *zset:
		return c.j
	}
	return nil
}

// attachDeltaLog makes c record its changes into j.
func attachDeltaLog(c collection, j *deltaLog) {
	switch c := c.(type) {
	case *dict:
		c.j = j
	case *set:
		c.j = j
	case *list:
		c.j = j
	case *zset:
		c.j = j
	}
}

// appendCollection appends the whole content of c.
func appendCollection(b []byte, c collection) []byte {
	switch c := c.(type) {
	case *dict:
		b = putUvarint(b, uint64(len(c.m)))
		for f, v := range c.m {
			b = putBytes(putString(b, f), v)
		}
	case *set:
		b = putUvarint(b, uint64(len(c.m)))
		for e := range c.m {
			b = putString(b, e)
		}
	case *list:
		b = putUvarint(b, uint64(c.n))
		for i := range c.n {
			b = putBytes(b, c.at(i))
		}
	case *zset:
		b = putUvarint(b, uint64(c.n))
		for x := c.head.lv[0].next; x != nil; x = x.lv[0].next {
			b = putFloat(putString(b, x.val), x.score)
		}
	default:
		panic(fmt.Sprintf("BUG: collection %T", c))
	}
	return b
}

// decodeCollection reads a whole collection of kind.
func decodeCollection(d *dec, kind store.Kind) collection {
	if kind < store.KindDictionary || kind > store.KindSortedSet {
		d.fail()
		return nil
	}
	c := newCollection(kind)
	n := d.count()
	for range n {
		switch c := c.(type) {
		case *dict:
			f := d.string()
			c.put(f, d.bytes())
		case *set:
			c.add(d.string())
		case *list:
			c.pushBack(d.bytes())
		case *zset:
			v := d.string()
			c.put(v, d.float())
		}
	}
	return c
}

// applyDelta applies a delta body to c.
func applyDelta(d *dec, c collection) {
	n := d.count()
	for range n {
		op := d.byte()
		if d.err != nil {
			return
		}
		switch x := c.(type) {
		case *dict:
			switch op {
			case deltaDictPut:
				f := d.string()
				x.put(f, d.bytes())
			case deltaDictDel:
				x.del(d.string())
			default:
				d.fail()
			}
		case *set:
			switch op {
			case deltaSetAdd:
				x.add(d.string())
			case deltaSetDel:
				x.del(d.string())
			default:
				d.fail()
			}
		case *list:
			switch op {
			case deltaListPush:
				front := d.bool()
				v := d.bytes()
				if d.err == nil && front {
					x.pushFront(v)
				} else if d.err == nil {
					x.pushBack(v)
				}
			case deltaListPop:
				front := d.bool()
				switch {
				case d.err != nil:
				case x.n == 0:
					d.fail()
				case front:
					x.popFront()
				default:
					x.popBack()
				}
			case deltaListSet:
				m := d.count()
				vals := make([][]byte, 0, min(m, 1024))
				for range m {
					vals = append(vals, d.bytes())
				}
				if d.err == nil {
					*x = list{j: x.j}
					for _, v := range vals {
						x.pushBack(v)
					}
				}
			default:
				d.fail()
			}
		case *zset:
			switch op {
			case deltaZPut:
				v := d.string()
				x.put(v, d.float())
			case deltaZDel:
				x.del(d.string())
			default:
				d.fail()
			}
		}
	}
}
