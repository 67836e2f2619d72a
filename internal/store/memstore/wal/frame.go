// Package wal is the memory engine's write-ahead log: numbered segment
// files of length-prefixed, CRC-checked frames, appended by one writer
// goroutine that batches concurrent appenders into one write (and, with
// FsyncAlways, one fsync): group commit.
//
// File format (all integers little-endian):
//
//	segment  := frame*                      file <dir>/<16 hex digits>.wal
//	frame    := length u32 | crc u32 | payload[length]
//	crc      := CRC-32C (Castagnoli) of payload
//	payload  := kind u8 | body
//	kind 0   segment header: version u8 | segment u64 | fsync policy u8 | boot id (rest)
//	kind 1   batch header:   flags u8 (1: clean close) | synced u64
//	kind 2   record:         the caller's bytes
//
// Every segment starts with its header. Every write of the writer starts
// with a batch header whose synced field is the offset of this segment up
// to which an fsync had completed before the write: data before it is on
// stable storage, data after it may have been torn by a power loss. A
// damaged frame before the highest synced offset seen is corruption; one
// after it is a torn tail. Close ends the last segment with a clean batch
// header.
package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Frame kinds.
const (
	kindSegment = 0
	kindBatch   = 1
	kindRecord  = 2
)

const (
	frameHeader = 8
	// MaxFrame bounds one frame's payload: larger lengths are corruption.
	MaxFrame = 1 << 30
	version  = 1
	// batchFrame is the size of a batch header frame.
	batchFrame = frameHeader + 1 + 1 + 8
	flagClean  = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors of DecodeFrame.
var (
	ErrShort    = errors.New("wal: frame extends past the end of the data")
	ErrLength   = errors.New("wal: invalid frame length")
	ErrChecksum = errors.New("wal: frame checksum mismatch")
)

// DecodeFrame decodes the frame at the start of b and returns its payload
// (aliasing b) and its total size.
func DecodeFrame(b []byte) (payload []byte, n int, err error) {
	if len(b) < frameHeader {
		return nil, 0, ErrShort
	}
	length := binary.LittleEndian.Uint32(b)
	if length == 0 || length > MaxFrame {
		return nil, 0, ErrLength
	}
	if uint64(len(b)-frameHeader) < uint64(length) {
		return nil, 0, ErrShort
	}
	payload = b[frameHeader : frameHeader+int(length)]
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return nil, 0, ErrChecksum
	}
	return payload, frameHeader + int(length), nil
}

// AppendFrame appends a frame of kind with body to dst.
func AppendFrame(dst []byte, kind byte, body []byte) []byte {
	var h [frameHeader + 1]byte
	binary.LittleEndian.PutUint32(h[:], uint32(len(body)+1))
	crc := crc32.Update(crc32.Checksum([]byte{kind}, castagnoli), castagnoli, body)
	binary.LittleEndian.PutUint32(h[4:], crc)
	h[frameHeader] = kind
	dst = append(dst, h[:]...)
	return append(dst, body...)
}

// putBatchHeader writes a batch header frame into b[:batchFrame].
func putBatchHeader(b []byte, flags byte, synced int64) {
	binary.LittleEndian.PutUint32(b, batchFrame-frameHeader)
	p := b[frameHeader:batchFrame]
	p[0] = kindBatch
	p[1] = flags
	binary.LittleEndian.PutUint64(p[2:], uint64(synced))
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(p, castagnoli))
}

// segmentHeader is the first frame of every segment.
type segmentHeader struct {
	seg    uint64
	policy Fsync
	boot   string
}

func appendSegmentHeader(dst []byte, h segmentHeader) []byte {
	body := make([]byte, 0, 10+len(h.boot))
	body = append(body, version)
	body = binary.LittleEndian.AppendUint64(body, h.seg)
	body = append(body, byte(h.policy))
	body = append(body, h.boot...)
	return AppendFrame(dst, kindSegment, body)
}

func parseSegmentHeader(p []byte) (segmentHeader, bool) {
	if len(p) < 11 || p[0] != kindSegment || p[1] != version {
		return segmentHeader{}, false
	}
	return segmentHeader{seg: binary.LittleEndian.Uint64(p[2:]), policy: Fsync(p[10]), boot: string(p[11:])}, true
}

// AppendRecord appends a record frame (the framing of segments) to dst.
func AppendRecord(dst, rec []byte) []byte { return AppendFrame(dst, kindRecord, rec) }

// Reader reads record frames one after another from a stream (snapshots).
type Reader struct {
	r   io.Reader
	buf []byte
	off int64
}

// NewReader reads frames from r.
func NewReader(r io.Reader) *Reader { return &Reader{r: r} }

// Offset is the offset of the next frame.
func (r *Reader) Offset() int64 { return r.off }

// Next returns the next record (valid until the next call), io.EOF at a
// clean end, or an error for a damaged or short frame.
func (r *Reader) Next() ([]byte, error) {
	var h [frameHeader]byte
	if _, err := io.ReadFull(r.r, h[:]); err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, ErrShort
	}
	length := binary.LittleEndian.Uint32(h[:])
	if length == 0 || length > MaxFrame {
		return nil, ErrLength
	}
	if cap(r.buf) < int(length) {
		r.buf = make([]byte, length)
	}
	p := r.buf[:length]
	if _, err := io.ReadFull(r.r, p); err != nil {
		return nil, ErrShort
	}
	if crc32.Checksum(p, castagnoli) != binary.LittleEndian.Uint32(h[4:]) {
		return nil, ErrChecksum
	}
	if p[0] != kindRecord {
		return nil, fmt.Errorf("wal: unexpected frame kind %d", p[0])
	}
	r.off += frameHeader + int64(length)
	return p[1:], nil
}
