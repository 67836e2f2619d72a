package feed

import (
	"context"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// Mode is the change feed mode. ModeDefault means the continuation's mode,
// else latest version.
type Mode uint8

const (
	ModeDefault Mode = iota
	ModeLatestVersion
	ModeAllVersions
)

func (m Mode) String() string {
	switch m {
	case ModeLatestVersion:
		return "latest"
	case ModeAllVersions:
		return "all"
	}
	return "default"
}

func (m Mode) store() store.FeedMode {
	if m == ModeAllVersions {
		return store.FeedAllVersions
	}
	return store.FeedLatestVersion
}

// StartKind is where a new reader starts.
type StartKind uint8

const (
	StartNow StartKind = iota // the SDKs' default
	StartBeginning
	StartTime
)

// DefaultPageBytes bounds a page's keys and values: half the 16 MiB a gRPC
// response may carry, leaving room for previous images' framing.
const DefaultPageBytes = 8 << 20

// Request is one ReadNext. A Continuation wins over Start (as the SDKs
// document); its range must then be Range or Whole.
type Request struct {
	Cache        string
	Start        StartKind
	StartTime    time.Time
	Continuation string
	Range        Range
	Mode         Mode
	// MaxBytes bounds the keys and values of a page (<= 0: DefaultPageBytes),
	// so that a page always fits a response: it may end inside a batch.
	MaxBytes int
	// PageSizeHint bounds the changes of a page (<= 0: the engine's
	// default); a batch is never split, so a page may hold more.
	PageSizeHint int
}

// Page is the answer to one Read: the changes of one partition of the
// range (round robin across them), or NotModified when no partition had
// any. Continuation always resumes right after it.
type Page struct {
	Changes      []store.Change
	Continuation string
	NotModified  bool
	Mode         Mode
	Partition    int // the partition of Changes
}

// Read reads the next page of a change feed.
func Read(ctx context.Context, st store.Store, r Request) (Page, error) {
	s, err := begin(ctx, st, r)
	if err != nil {
		return Page{}, err
	}
	maxBytes := r.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultPageBytes
	}
	return s.read(ctx, st, r.PageSizeHint, maxBytes)
}

// begin builds the reader state of r: decoded from its continuation, or
// new.
func begin(ctx context.Context, st store.Store, r Request) (*state, error) {
	if r.Mode > ModeAllVersions {
		return nil, errs.ErrInvalidArgument.Msgf("unknown feed mode %d", r.Mode)
	}
	info, err := st.CacheInfo(ctx, r.Cache)
	if err != nil {
		return nil, err
	}
	if r.Continuation != "" {
		s, err := decodeToken(r.Continuation)
		if err != nil {
			return nil, err
		}
		if r.Range != Whole() && r.Range != s.rng {
			return nil, errs.ErrInvalidContinuation.Withf("it is for range %s, not %s", s.Range, r.Range.ToJSON())
		}
		if err := s.bind(r.Cache, info); err != nil {
			return nil, err
		}
		if r.Mode != ModeDefault {
			// Positions are LSNs in both modes, so a reader may switch;
			// all-versions reads out of retention fail clearly.
			s.Mode = r.Mode
			if s.Mode == ModeAllVersions && s.StartMs != 0 {
				for _, p := range s.Positions {
					if p.Pending {
						return nil, errs.ErrAllVersionsStart
					}
				}
			}
		}
		return s, nil
	}
	mode := r.Mode
	if mode == ModeDefault {
		mode = ModeLatestVersion
	}
	if mode == ModeAllVersions && r.Start != StartNow {
		return nil, errs.ErrAllVersionsStart
	}
	ps, err := r.Range.pieces(info)
	if err != nil {
		return nil, err
	}
	s := &state{Cache: r.Cache, Epoch: info.Epoch, Mode: mode, Range: r.Range.ToJSON(), rng: r.Range, pieces: ps}
	for _, p := range ps {
		pos := position{Partition: p.partition}
		switch r.Start {
		case StartTime:
			pos.Pending = true
		case StartNow:
			page, err := st.ReadFeed(ctx, r.Cache, store.FeedRead{Partition: p.partition, Epoch: info.Epoch, Mode: mode.store(), Start: store.FeedFromNow})
			if err != nil {
				return nil, err
			}
			pos.LSN = page.LastLSN
		case StartBeginning:
		default:
			return nil, errs.ErrInvalidArgument.Msgf("unknown feed start %d", r.Start)
		}
		s.Positions = append(s.Positions, pos)
	}
	if r.Start == StartTime {
		s.StartMs = r.StartTime.UnixMilli()
		if s.StartMs == 0 {
			s.StartMs = -1 // the epoch itself; 0 means "no time"
		}
	}
	return s, nil
}

// read reads the partitions of s round robin from s.Next and returns the
// first non-empty page, or NotModified when all are empty.
func (s *state) read(ctx context.Context, st store.Store, size, maxBytes int) (Page, error) {
	n := len(s.Positions)
	for k := range n {
		j := (s.Next + k) % n
		pos, pc := &s.Positions[j], &s.pieces[j]
		fr := store.FeedRead{
			Partition: pc.partition, Epoch: s.Epoch, Mode: s.Mode.store(), AfterLSN: pos.LSN,
			PageSizeHint: size, MaxBytes: maxBytes, MinEPK: pc.min, MaxEPK: pc.max, PartitionKey: pc.key,
		}
		if pos.Pending {
			fr.Start, fr.StartTime = store.FeedFromTime, time.UnixMilli(max(s.StartMs, 0))
		}
		page, err := st.ReadFeed(ctx, s.Cache, fr)
		if err != nil {
			return Page{}, err
		}
		pos.LSN, pos.Pending = page.LastLSN, false
		if len(page.Changes) > 0 {
			s.Next = (j + 1) % n
			return Page{Changes: page.Changes, Continuation: s.encode(), Mode: s.Mode, Partition: pc.partition}, nil
		}
	}
	return Page{Continuation: s.encode(), NotModified: true, Mode: s.Mode, Partition: -1}, nil
}
