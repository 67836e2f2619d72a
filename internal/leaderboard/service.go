// Package leaderboard is the leaderboard service: named leaderboards inside
// a cache, each a set of elements (id uint32, score float64) ranked by
// score, with Momento's limits and errors written once for every surface.
//
// Representation: a leaderboard is a sorted set of the engine, kept in its
// cache under the key store.ServiceKeyPrefix + "lb\x00" + name, whose
// members are the ids as 4 big-endian bytes. Equal scores therefore rank by
// id, a leaderboard never expires, and deleting or flushing the cache
// removes its leaderboards with everything else. No engine call is
// specific to leaderboards; the cache service refuses keys with the
// service prefix, so no client item can collide with a leaderboard.
//
// Authorization: a leaderboard is cache data as a whole; reads need read
// access to the whole cache, writes write access (token scopes limited to
// item keys grant no leaderboard).
package leaderboard

import (
	"context"
	"encoding/binary"
	"math"
	"unicode/utf8"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// Limits (Momento's: 8192 elements per call and per range).
const (
	MaxElementsPerCall = 8192
	MaxNameLen         = 255 // bytes of UTF-8
)

// Element is one leaderboard entry.
type Element struct {
	ID    uint32
	Score float64
}

// Ranked is an element with its 0-based rank in the requested order.
type Ranked struct {
	ID    uint32
	Score float64
	Rank  uint32
}

// Order of ranks: ascending (rank 0 has the lowest score) or descending.
type Order uint8

const (
	Ascending Order = iota
	Descending
)

// ScoreRange selects scores in [Min, Max); a nil end is unbounded.
type ScoreRange struct {
	Min, Max *float64
}

// Service is the leaderboard service over one engine.
type Service struct {
	st store.Store
}

// New returns the service over st.
func New(st store.Store) *Service { return &Service{st: st} }

const keyPrefix = store.ServiceKeyPrefix + "lb\x00"

func key(name string) []byte { return append([]byte(keyPrefix), name...) }

func member(id uint32) []byte { return binary.BigEndian.AppendUint32(make([]byte, 0, 4), id) }

func idOf(m []byte) uint32 {
	if len(m) != 4 {
		return 0 // not written by this service; cannot happen
	}
	return binary.BigEndian.Uint32(m)
}

func invalid(format string, args ...any) error { return errs.ErrInvalidArgument.Msgf(format, args...) }

func checkName(name string) error {
	if name == "" {
		return invalid("leaderboard name must not be empty")
	}
	if len(name) > MaxNameLen || !utf8.ValidString(name) {
		return invalid("leaderboard name must be 1-%d bytes of UTF-8", MaxNameLen)
	}
	return nil
}

// authorize checks the names, then asks the Authorizer, then the context.
func authorize(ctx context.Context, op string, a auth.Access, cache, name string) error {
	if !store.ValidCacheName(cache) {
		return errs.ErrInvalidName.Msgf("invalid cache name %q: it must be 1-%d printable ASCII bytes without spaces", trunc(cache), store.MaxCacheNameLen)
	}
	if err := checkName(name); err != nil {
		return err
	}
	if err := auth.Check(ctx, auth.Op{Name: op, Resource: auth.ResourceCache, Access: a, Cache: cache}); err != nil {
		return err
	}
	return ctx.Err()
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

func checkScore(what string, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return invalid("%s must be a finite number, got %v", what, f)
	}
	return nil
}

func checkCount(what string, n int) error {
	if n < 1 || n > MaxElementsPerCall {
		return invalid("%s: give 1 to %d, got %d", what, MaxElementsPerCall, n)
	}
	return nil
}

// Upsert inserts or updates elements; a later duplicate id wins. It is one
// change: all of it or none.
func (s *Service) Upsert(ctx context.Context, cache, name string, elements []Element) error {
	if err := authorize(ctx, "UpsertElements", auth.AccessWrite, cache, name); err != nil {
		return err
	}
	if err := checkCount("leaderboard upsert elements", len(elements)); err != nil {
		return err
	}
	out := make([]store.ScoredElement, len(elements))
	for i, e := range elements {
		if err := checkScore("score", e.Score); err != nil {
			return errs.Prefixf(err, "element %d", i)
		}
		out[i] = store.ScoredElement{Value: member(e.ID), Score: e.Score}
	}
	return s.st.SortedSetPut(ctx, cache, key(name), out, store.CollectionTTL{})
}

// Remove removes elements by id; missing ids are ignored.
func (s *Service) Remove(ctx context.Context, cache, name string, ids []uint32) error {
	if err := authorize(ctx, "RemoveElements", auth.AccessWrite, cache, name); err != nil {
		return err
	}
	if err := checkCount("leaderboard remove ids", len(ids)); err != nil {
		return err
	}
	ms := make([][]byte, len(ids))
	for i, id := range ids {
		ms[i] = member(id)
	}
	return s.st.SortedSetRemove(ctx, cache, key(name), ms)
}

// Delete removes a leaderboard; a missing one is not an error.
func (s *Service) Delete(ctx context.Context, cache, name string) error {
	if err := authorize(ctx, "DeleteLeaderboard", auth.AccessWrite, cache, name); err != nil {
		return err
	}
	_, err := s.st.DeleteKind(ctx, cache, key(name), store.KindSortedSet)
	return err
}

// Length is the number of elements (0 for a missing leaderboard).
func (s *Service) Length(ctx context.Context, cache, name string) (int, error) {
	if err := authorize(ctx, "GetLeaderboardLength", auth.AccessRead, cache, name); err != nil {
		return 0, err
	}
	n, _, err := s.st.SortedSetLength(ctx, cache, key(name))
	return n, err
}

// ByRank returns the elements with ranks [start, end) in order; the range
// must hold 1 to MaxElementsPerCall ranks.
func (s *Service) ByRank(ctx context.Context, cache, name string, start, end uint32, order Order) ([]Ranked, error) {
	if err := authorize(ctx, "GetByRank", auth.AccessRead, cache, name); err != nil {
		return nil, err
	}
	if end <= start {
		return nil, invalid("rank range [%d, %d) is empty: the end must be greater than the start", start, end)
	}
	if end-start > MaxElementsPerCall {
		return nil, invalid("rank range [%d, %d) spans %d ranks, at most %d", start, end, end-start, MaxElementsPerCall)
	}
	els, _, err := s.st.SortedSetFetchByRank(ctx, cache, key(name), int(start), int(end), order == Descending)
	if err != nil {
		return nil, err
	}
	return ranked(els, start), nil
}

func ranked(els []store.ScoredElement, first uint32) []Ranked {
	out := make([]Ranked, len(els))
	for i, e := range els {
		out[i] = Ranked{ID: idOf(e.Value), Score: e.Score, Rank: first + uint32(i)}
	}
	return out
}

// ByScore returns the elements with scores in r, in order, skipping offset
// of them and returning at most limit (0: MaxElementsPerCall). Ranks are
// positions in the whole leaderboard.
func (s *Service) ByScore(ctx context.Context, cache, name string, r ScoreRange, offset, limit uint32, order Order) ([]Ranked, error) {
	if err := authorize(ctx, "GetByScore", auth.AccessRead, cache, name); err != nil {
		return nil, err
	}
	if limit == 0 {
		limit = MaxElementsPerCall
	}
	if limit > MaxElementsPerCall {
		return nil, invalid("limit of %d elements, at most %d", limit, MaxElementsPerCall)
	}
	lo := store.ScoreBound{Score: math.Inf(-1)}
	hi := store.ScoreBound{Score: math.Inf(1)}
	if r.Min != nil {
		if err := checkScore("minimum score", *r.Min); err != nil {
			return nil, err
		}
		lo.Score = *r.Min
	}
	if r.Max != nil {
		if err := checkScore("maximum score", *r.Max); err != nil {
			return nil, err
		}
		hi = store.ScoreBound{Score: *r.Max, Exclusive: true}
	}
	if lo.Score > hi.Score {
		return nil, invalid("score range: the minimum %v is greater than the maximum %v", lo.Score, hi.Score)
	}
	k := key(name)
	desc := order == Descending
	els, found, err := s.st.SortedSetFetchByScore(ctx, cache, k, lo, hi, desc, int(offset), int(limit))
	if err != nil || !found || len(els) == 0 {
		return []Ranked{}, err
	}
	// The first element's rank places the page; the rest follow it.
	first, present, _, err := s.st.SortedSetGetRank(ctx, cache, k, els[0].Value, desc)
	if err != nil {
		return nil, err
	}
	if !present { // removed between the two reads
		return s.ranksOf(ctx, cache, k, els, desc)
	}
	return ranked(els, uint32(first)), nil
}

// ranksOf looks every element's rank up on its own.
func (s *Service) ranksOf(ctx context.Context, cache string, k []byte, els []store.ScoredElement, desc bool) ([]Ranked, error) {
	out := make([]Ranked, 0, len(els))
	for _, e := range els {
		r, present, _, err := s.st.SortedSetGetRank(ctx, cache, k, e.Value, desc)
		if err != nil {
			return nil, err
		}
		if present {
			out = append(out, Ranked{ID: idOf(e.Value), Score: e.Score, Rank: uint32(r)})
		}
	}
	return out, nil
}

// Ranks returns the ordinal rank of each id present, in request order;
// missing ids are left out.
func (s *Service) Ranks(ctx context.Context, cache, name string, ids []uint32, order Order) ([]Ranked, error) {
	if err := authorize(ctx, "GetRank", auth.AccessRead, cache, name); err != nil {
		return nil, err
	}
	if len(ids) > MaxElementsPerCall {
		return nil, invalid("%d ids, at most %d", len(ids), MaxElementsPerCall)
	}
	els, err := s.scores(ctx, cache, name, ids)
	if err != nil || len(els) == 0 {
		return []Ranked{}, err
	}
	return s.ranksOf(ctx, cache, key(name), els, order == Descending)
}

// scores returns the present ids of ids with their scores, in request order.
func (s *Service) scores(ctx context.Context, cache, name string, ids []uint32) ([]store.ScoredElement, error) {
	ms := make([][]byte, len(ids))
	for i, id := range ids {
		ms[i] = member(id)
	}
	scores, present, found, err := s.st.SortedSetGetScores(ctx, cache, key(name), ms)
	if err != nil || !found {
		return nil, err
	}
	out := make([]store.ScoredElement, 0, len(ids))
	for i := range ids {
		if present[i] {
			out = append(out, store.ScoredElement{Value: ms[i], Score: scores[i]})
		}
	}
	return out, nil
}

// CompetitionRanks returns each present id's competition rank: the number
// of elements that rank strictly before it, so that equal scores share a
// rank ("1224" ranking). Missing ids are left out.
func (s *Service) CompetitionRanks(ctx context.Context, cache, name string, ids []uint32, order Order) ([]Ranked, error) {
	if err := authorize(ctx, "GetCompetitionRank", auth.AccessRead, cache, name); err != nil {
		return nil, err
	}
	if len(ids) > MaxElementsPerCall {
		return nil, invalid("%d ids, at most %d", len(ids), MaxElementsPerCall)
	}
	els, err := s.scores(ctx, cache, name, ids)
	if err != nil || len(els) == 0 {
		return []Ranked{}, err
	}
	k := key(name)
	byScore := map[float64]uint32{}
	out := make([]Ranked, len(els))
	for i, e := range els {
		r, ok := byScore[e.Score]
		if !ok {
			lo := store.ScoreBound{Score: math.Inf(-1)}
			hi := store.ScoreBound{Score: e.Score, Exclusive: true}
			if order == Descending {
				lo = store.ScoreBound{Score: e.Score, Exclusive: true}
				hi = store.ScoreBound{Score: math.Inf(1)}
			}
			n, _, err := s.st.SortedSetLengthByScore(ctx, cache, k, lo, hi)
			if err != nil {
				return nil, err
			}
			r = uint32(n)
			byScore[e.Score] = r
		}
		out[i] = Ranked{ID: idOf(e.Value), Score: e.Score, Rank: r}
	}
	return out, nil
}
