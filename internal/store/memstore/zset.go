package memstore

import (
	"math/rand/v2"
)

// zset is a sorted set: a skip list ordered by (score, element bytes) whose
// links carry spans (the number of level-0 steps they skip), which gives
// O(log n) rank lookups, plus a map from element to node for O(1) scores.
// It follows the structure Pugh described, with the rank extension Redis
// popularized.
type zset struct {
	head  *znode
	tail  *znode
	level int
	n     int
	nodes map[string]*znode
	bytes int64
	j     *deltaLog // persistence: records changes (persist_coll.go)
}

const (
	zMaxLevel = 32
	zP        = 4 // a node reaches level i+1 with probability 1/zP
)

type zlink struct {
	next *znode
	span int
}

type znode struct {
	val   string
	score float64
	prev  *znode
	lv    []zlink
}

func newZSet() *zset {
	return &zset{head: &znode{lv: make([]zlink, zMaxLevel)}, level: 1, nodes: map[string]*znode{}}
}

func (z *zset) mem() int64  { return z.bytes }
func (z *zset) length() int { return z.n }

// before reports whether node x sorts before (score, val).
func (x *znode) before(score float64, val string) bool {
	return x.score < score || x.score == score && x.val < val
}

func randomLevel() int {
	l := 1
	for l < zMaxLevel && rand.IntN(zP) == 0 {
		l++
	}
	return l
}

// put sets the score of val and reports whether the set changed.
func (z *zset) put(val string, score float64) bool {
	if x := z.nodes[val]; x != nil {
		if x.score == score {
			return false
		}
		z.unlink(x)
		val = x.val
	} else {
		z.bytes += int64(len(val)) + zsetEntryOverhead
	}
	z.nodes[val] = z.insert(val, score)
	z.j.zput(z, val, score)
	return true
}

// del removes val and reports whether it was present.
func (z *zset) del(val string) bool {
	x := z.nodes[val]
	if x == nil {
		return false
	}
	z.unlink(x)
	delete(z.nodes, val)
	z.bytes -= int64(len(val)) + zsetEntryOverhead
	z.j.zdel(z, val)
	return true
}

func (z *zset) insert(val string, score float64) *znode {
	var update [zMaxLevel]*znode
	var rank [zMaxLevel]int
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		if i < z.level-1 {
			rank[i] = rank[i+1]
		}
		for x.lv[i].next != nil && x.lv[i].next.before(score, val) {
			rank[i] += x.lv[i].span
			x = x.lv[i].next
		}
		update[i] = x
	}
	lvl := randomLevel()
	if lvl > z.level {
		for i := z.level; i < lvl; i++ {
			update[i] = z.head
			z.head.lv[i].span = z.n
		}
		z.level = lvl
	}
	x = &znode{val: val, score: score, lv: make([]zlink, lvl)}
	for i := range lvl {
		x.lv[i].next = update[i].lv[i].next
		update[i].lv[i].next = x
		x.lv[i].span = update[i].lv[i].span - (rank[0] - rank[i])
		update[i].lv[i].span = rank[0] - rank[i] + 1
	}
	for i := lvl; i < z.level; i++ {
		update[i].lv[i].span++
	}
	if update[0] != z.head {
		x.prev = update[0]
	}
	if x.lv[0].next != nil {
		x.lv[0].next.prev = x
	} else {
		z.tail = x
	}
	z.n++
	return x
}

// unlink removes node t from the list (not from the map).
func (z *zset) unlink(t *znode) {
	var update [zMaxLevel]*znode
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for x.lv[i].next != nil && x.lv[i].next.before(t.score, t.val) {
			x = x.lv[i].next
		}
		update[i] = x
	}
	for i := range z.level {
		if update[i].lv[i].next == t {
			update[i].lv[i].span += t.lv[i].span - 1
			update[i].lv[i].next = t.lv[i].next
		} else {
			update[i].lv[i].span--
		}
	}
	if t.lv[0].next != nil {
		t.lv[0].next.prev = t.prev
	} else {
		z.tail = t.prev
	}
	for z.level > 1 && z.head.lv[z.level-1].next == nil {
		z.head.lv[z.level-1].span = 0
		z.level--
	}
	z.n--
}

// rank is the 0-based ascending rank of node t.
func (z *zset) rank(t *znode) int {
	r := 0
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for x.lv[i].next != nil && !t.before(x.lv[i].next.score, x.lv[i].next.val) {
			r += x.lv[i].span
			x = x.lv[i].next
		}
		if x == t {
			return r - 1
		}
	}
	panic("BUG: node not in its sorted set")
}

// at returns the node of 0-based ascending rank r (0 <= r < n).
func (z *zset) at(r int) *znode {
	r++ // spans count 1-based positions
	traversed := 0
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for x.lv[i].next != nil && traversed+x.lv[i].span <= r {
			traversed += x.lv[i].span
			x = x.lv[i].next
		}
		if traversed == r {
			return x
		}
	}
	panic("BUG: rank out of range")
}

// countBelow returns how many elements score below s (orEqual: at most s).
func (z *zset) countBelow(s float64, orEqual bool) int {
	r := 0
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for next := x.lv[i].next; next != nil && (next.score < s || orEqual && next.score == s); next = x.lv[i].next {
			r += x.lv[i].span
			x = next
		}
	}
	return r
}
