package memstore

import (
	"encoding/binary"
	"errors"
	"math"
)

// The records of the persistent memory engine (persist.go): the payload of
// one WAL record or one snapshot frame is a type byte and fields encoded
// with the helpers below (unsigned varints, signed varints for wall-clock
// nanoseconds, length-prefixed byte strings).
const (
	// Log records: one committed mutation each.
	recCacheCreate    = 1  // epoch, name, partitions, key scheme, tiling, attrs
	recCacheDelete    = 2  // epoch
	recCommit         = 3  // see partition.journal
	recFlush          = 4  // epoch, partition, lsn
	recLogOn          = 5  // epoch, partition, lsn: the all-versions log starts
	recPut            = 6  // namespace, key, value (Records)
	recDel            = 7  // namespace, key
	recTopicCreate    = 8  // cache, epoch, name, page
	recTopicAppend    = 9  // cache, epoch, name, page, seq, binary, publisher, data
	recTopicDrop      = 10 // cache, epoch, name, page
	recTopicDropCache = 11 // cache, epoch
	recEpoch          = 12 // old epoch, new epoch: history was lost (restore)
	recLSNJump        = 13 // epoch, partition, lsn: LSNs up to it are skipped (restore)
	recTopicDedup     = 14 // cache, epoch, name, key, seq, page, expires (wall): an AppendOnce key

	// Snapshot frames.
	snapHeader    = 32 // version, segment, wall time
	snapPartition = 33 // epoch, partition, lsn, logOn, floor
	snapItem      = 34 // key, kind, expires, lsn, at, span, op, indexed, body (full)
	snapFeedRec   = 35 // one all-versions log record
	snapTopic     = 36 // cache, epoch, name, page, first, last
	snapEnd       = 37 // counts
)

// Flags of a commit record.
const (
	commitTTLExpired = 1 << iota
	commitFull       // the body is the whole collection
	commitDelta      // the body is a list of collection changes
)

// Collection change ops in a commit's delta body.
const (
	deltaDictPut  = 1 // field, value
	deltaDictDel  = 2 // field
	deltaSetAdd   = 3 // element
	deltaSetDel   = 4 // element
	deltaListPush = 5 // front, value
	deltaListPop  = 6 // front
	deltaListSet  = 7 // n, values: the whole list
	deltaZPut     = 8 // element, score
	deltaZDel     = 9 // element
)

func putUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }
func putVarint(b []byte, v int64) []byte   { return binary.AppendVarint(b, v) }
func putBytes(b, v []byte) []byte          { return append(binary.AppendUvarint(b, uint64(len(v))), v...) }
func putString(b []byte, v string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}
func putBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}
func putFloat(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

var errDecode = errors.New("record truncated or malformed")

// dec reads the fields of one record; the first error sticks and every
// later read returns a zero value.
type dec struct {
	b   []byte
	err error
}

func (d *dec) fail() {
	if d.err == nil {
		d.err = errDecode
	}
	d.b = nil
}

func (d *dec) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *dec) bool() bool { return d.byte() != 0 }

func (d *dec) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// int reads a uvarint that must fit in [0, limit].
func (d *dec) int(limit int) int {
	v := d.uvarint()
	if v > uint64(limit) {
		d.fail()
		return 0
	}
	return int(v)
}

// bytes returns a copy of a length-prefixed byte string (non-nil).
func (d *dec) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	v := make([]byte, n)
	copy(v, d.b)
	d.b = d.b[n:]
	return v
}

func (d *dec) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	v := string(d.b[:n])
	d.b = d.b[n:]
	return v
}

func (d *dec) float() float64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

// count reads a count of elements that each take at least one byte.
func (d *dec) count() int { return d.int(len(d.b)) }
