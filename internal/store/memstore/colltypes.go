package memstore

import "slices"

// dict is a dictionary: a hash map of field to value. Values are never
// mutated in place, so readers may keep them.
type dict struct {
	m     map[string][]byte
	bytes int64
	j     *deltaLog // persistence: records changes (persist_coll.go)
}

func (d *dict) mem() int64  { return d.bytes }
func (d *dict) length() int { return len(d.m) }

func (d *dict) put(field string, value []byte) {
	if old, ok := d.m[field]; ok {
		d.bytes += int64(len(value) - len(old))
	} else {
		d.bytes += int64(len(field)+len(value)) + dictEntryOverhead
	}
	d.m[field] = value
	d.j.dictPut(d, field, value)
}

func (d *dict) del(field string) bool {
	old, ok := d.m[field]
	if ok {
		d.bytes -= int64(len(field)+len(old)) + dictEntryOverhead
		delete(d.m, field)
		d.j.dictDel(d, field)
	}
	return ok
}

// set is a hash set of elements.
type set struct {
	m     map[string]struct{}
	bytes int64
	j     *deltaLog // persistence: records changes (persist_coll.go)
}

func (s *set) mem() int64  { return s.bytes }
func (s *set) length() int { return len(s.m) }

func (s *set) add(e string) bool {
	if _, ok := s.m[e]; ok {
		return false
	}
	s.m[e] = struct{}{}
	s.bytes += int64(len(e)) + setEntryOverhead
	s.j.setAdd(s, e)
	return true
}

func (s *set) del(e string) bool {
	if _, ok := s.m[e]; !ok {
		return false
	}
	delete(s.m, e)
	s.bytes -= int64(len(e)) + setEntryOverhead
	s.j.setDel(s, e)
	return true
}

// list is a deque in a ring buffer whose capacity is a power of two: O(1)
// push and pop at both ends, O(1) indexing, O(n) only for range rewrites.
type list struct {
	buf   [][]byte
	head  int // index in buf of element 0
	n     int
	bytes int64
	j     *deltaLog // persistence: records changes (persist_coll.go)
}

func (l *list) mem() int64  { return l.bytes }
func (l *list) length() int { return l.n }

func (l *list) at(i int) []byte { return l.buf[(l.head+i)&(len(l.buf)-1)] }

// resize moves the elements into a ring of capacity c (a power of two >= n).
func (l *list) resize(c int) {
	nb := make([][]byte, c)
	for i := range l.n {
		nb[i] = l.at(i)
	}
	l.buf, l.head = nb, 0
}

func (l *list) grow() {
	if l.n == len(l.buf) {
		l.resize(max(8, 2*len(l.buf)))
	}
}

// shrink halves a ring that is at most a quarter full, so that memory
// follows the length.
func (l *list) shrink() {
	if len(l.buf) > 64 && l.n <= len(l.buf)/4 {
		l.resize(len(l.buf) / 2)
	}
}

func elemBytes(v []byte) int64 { return int64(len(v)) + listEntryOverhead }

func (l *list) pushBack(v []byte) {
	l.grow()
	l.buf[(l.head+l.n)&(len(l.buf)-1)] = v
	l.n++
	l.bytes += elemBytes(v)
	l.j.listPush(l, false, v)
}

func (l *list) pushFront(v []byte) {
	l.grow()
	l.head = (l.head - 1) & (len(l.buf) - 1)
	l.buf[l.head] = v
	l.n++
	l.bytes += elemBytes(v)
	l.j.listPush(l, true, v)
}

func (l *list) popFront() []byte {
	v := l.buf[l.head]
	l.buf[l.head] = nil
	l.head = (l.head + 1) & (len(l.buf) - 1)
	l.n--
	l.bytes -= elemBytes(v)
	l.j.listPop(l, true)
	l.shrink()
	return v
}

func (l *list) popBack() []byte {
	i := (l.head + l.n - 1) & (len(l.buf) - 1)
	v := l.buf[i]
	l.buf[i] = nil
	l.n--
	l.bytes -= elemBytes(v)
	l.j.listPop(l, false)
	l.shrink()
	return v
}

// slice copies the elements [start, end) out.
func (l *list) slice(start, end int) [][]byte {
	out := make([][]byte, 0, end-start)
	for i := start; i < end; i++ {
		out = append(out, l.at(i))
	}
	return out
}

// keep rewrites the list to the elements whose index keep reports true.
func (l *list) keep(keep func(i int, v []byte) bool) (changed bool) {
	vals := make([][]byte, 0, l.n)
	for i := range l.n {
		if v := l.at(i); keep(i, v) {
			vals = append(vals, v)
		}
	}
	if len(vals) == l.n {
		return false
	}
	c := 8
	for c < len(vals) {
		c *= 2
	}
	l.buf = make([][]byte, c)
	copy(l.buf, vals)
	l.head, l.n, l.bytes = 0, len(vals), 0
	for _, v := range vals {
		l.bytes += elemBytes(v)
	}
	l.j.listSet(l)
	return true
}

// values returns a copy of all elements in order.
func (l *list) values() [][]byte { return slices.Clip(l.slice(0, l.n)) }
