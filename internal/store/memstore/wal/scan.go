package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Corruption is a damaged frame: a torn tail (Torn) or data that had been
// on stable storage.
type Corruption struct {
	Segment uint64
	Offset  int64
	Reason  string
	Torn    bool
}

func (c *Corruption) Error() string {
	what := "corrupt"
	if c.Torn {
		what = "torn tail"
	}
	return fmt.Sprintf("wal: segment %s: %s at offset %d: %s", SegmentName(c.Segment), what, c.Offset, c.Reason)
}

// SegmentInfo is what a scan of one segment found.
type SegmentInfo struct {
	Seg    uint64
	Policy Fsync
	Boot   string
	// End is the offset after the last good frame; Size the file's size.
	End, Size int64
	// MaxSynced is the highest synced offset a batch header claimed;
	// DataEnd the end of the last record.
	MaxSynced, DataEnd int64
	// Clean: the segment ends with the clean-close batch header.
	Clean   bool
	Records int
	// Damage is the first damaged frame, nil when there is none.
	Damage *Corruption
}

// SegmentName is the file name of segment seg.
func SegmentName(seg uint64) string { return fmt.Sprintf("%016x.wal", seg) }

// ListSegments returns the segment numbers in dir, ascending.
func ListSegments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var segs []uint64
	for _, e := range ents {
		name := e.Name()
		if len(name) != 20 || !strings.HasSuffix(name, ".wal") {
			continue
		}
		n, err := strconv.ParseUint(name[:16], 16, 64)
		if err != nil {
			continue
		}
		segs = append(segs, n)
	}
	slices.Sort(segs)
	return segs, nil
}

// ScanSegment reads the segment seg in dir and calls fn with each record's
// bytes (valid until fn returns), in order, up to the first damaged frame.
// An error of fn ends the scan and is returned. Damage is reported in the
// result, not as an error: the caller decides (a torn tail of the last
// segment is cut; anything else is corruption).
func ScanSegment(dir string, seg uint64, fn func(rec []byte) error) (SegmentInfo, error) {
	info := SegmentInfo{Seg: seg}
	data, err := os.ReadFile(filepath.Join(dir, SegmentName(seg)))
	if err != nil {
		return info, err
	}
	info.Size = int64(len(data))
	damage := func(off int, reason string) {
		info.Damage = &Corruption{Segment: seg, Offset: int64(off), Reason: reason}
		// Torn when no batch header, before or after the damage, says
		// that data at or after it had been synced.
		info.Damage.Torn = max(info.MaxSynced, syncedAfter(data, off+1)) <= int64(off)
	}
	p, n, err := DecodeFrame(data)
	if err != nil {
		damage(0, "segment header: "+err.Error())
		return info, nil
	}
	h, ok := parseSegmentHeader(p)
	if !ok || h.seg != seg {
		damage(0, "invalid segment header")
		info.Damage.Torn = false
		return info, nil
	}
	info.Policy, info.Boot = h.policy, h.boot
	off := n
	info.End = int64(off)
	for off < len(data) {
		p, n, err := DecodeFrame(data[off:])
		if err != nil {
			damage(off, err.Error())
			return info, nil
		}
		switch p[0] {
		case kindBatch:
			if len(p) != batchFrame-frameHeader {
				damage(off, "invalid batch header")
				return info, nil
			}
			info.MaxSynced = max(info.MaxSynced, int64(binary.LittleEndian.Uint64(p[2:])))
			info.Clean = p[1]&flagClean != 0
		case kindRecord:
			if err := fn(p[1:]); err != nil {
				return info, err
			}
			info.Records++
			info.DataEnd = int64(off + n)
			info.Clean = false
		default:
			damage(off, fmt.Sprintf("unknown frame kind %d", p[0]))
			return info, nil
		}
		off += n
		info.End = int64(off)
	}
	return info, nil
}

// syncedAfter is the highest synced offset claimed by a valid batch header
// found at or after from (byte by byte: the frames after a damaged one
// cannot be walked by their lengths).
func syncedAfter(data []byte, from int) int64 {
	var best int64
	for i := from; i+batchFrame <= len(data); i++ {
		if binary.LittleEndian.Uint32(data[i:]) != batchFrame-frameHeader || data[i+frameHeader] != kindBatch {
			continue
		}
		p := data[i+frameHeader : i+batchFrame]
		if crc32.Checksum(p, castagnoli) == binary.LittleEndian.Uint32(data[i+4:]) {
			best = max(best, int64(binary.LittleEndian.Uint64(p[2:])))
		}
	}
	return best
}

// ErrNoSegments: the directory holds no segment.
var ErrNoSegments = errors.New("wal: no segments")
