package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash/fnv"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/topics"
)

// Retained messages live in the engine's records (store.Records), shared by
// every node of the engine: one record per subject in namespace retainedNS,
// keyed by a hash of cache and topic (record keys are printable ASCII), with
// the epoch of the cache it was published in, so that a re-created cache
// does not inherit an old snapshot. A record holds the message's place in
// its topic (page, seq): a snapshot never replaces a newer one (on this
// node; two nodes racing on one subject may leave either), and a subscriber
// that receives the snapshot skips its live copy.
//
// Expired snapshots and those of deleted caches are ignored when read and
// deleted by a sweep every sweepEvery, which also recounts the subjects for
// the MaxRetained bound (so on a cluster the bound is approximate by what
// other nodes added since this node's last sweep).
const (
	retainedNS = "publish.retained"
	sweepEvery = time.Minute
)

type retainedRecord struct {
	Cache     string `json:"c"`
	Topic     string `json:"t"`
	Epoch     uint64 `json:"e"` // of the cache
	Page      uint64 `json:"p"`
	Seq       uint64 `json:"s"`
	Data      []byte `json:"d"`
	Binary    bool   `json:"b,omitempty"`
	Publisher string `json:"u,omitempty"`
	Expires   int64  `json:"x,omitempty"` // unix ms; 0: never
}

func retainedKey(cache, topic string) string {
	h := sha256.New()
	h.Write([]byte(cache))
	h.Write([]byte{0})
	h.Write([]byte(topic))
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Service) lock(key string) func() {
	h := fnv.New32a()
	h.Write([]byte(key))
	mu := &s.locks[h.Sum32()%uint32(len(s.locks))]
	mu.Lock()
	return mu.Unlock
}

// current reads a subject's live snapshot (nil when there is none).
func (s *Service) current(ctx context.Context, cache, topic string) (*retainedRecord, error) {
	raw, found, err := s.recs.GetRecord(ctx, retainedNS, retainedKey(cache, topic))
	if err != nil || !found {
		return nil, err
	}
	var rec retainedRecord
	if json.Unmarshal(raw, &rec) != nil || rec.Cache != cache || rec.Topic != topic {
		return nil, nil // unreadable or a hash collision: no snapshot
	}
	if rec.Expires != 0 && s.opts.Now().UnixMilli() >= rec.Expires {
		return nil, nil
	}
	epoch, err := s.topics.Epoch(ctx, cache)
	if err != nil {
		return nil, err
	}
	if rec.Epoch != epoch {
		return nil, nil
	}
	return &rec, nil
}

// checkRetainedRoom refuses a new retained subject beyond MaxRetained.
func (s *Service) checkRetainedRoom(ctx context.Context, cache, topic string) error {
	if s.count.Load() < int64(s.opts.MaxRetained) {
		return nil
	}
	if _, found, err := s.recs.GetRecord(ctx, retainedNS, retainedKey(cache, topic)); err != nil || found {
		return err
	}
	return errs.ErrRetainedLimitExceeded.Withf("%d subjects have a retained message, the limit", s.opts.MaxRetained)
}

// retain makes a published message its subject's snapshot.
func (s *Service) retain(ctx context.Context, cache, topic string, m Message, p topics.Published) error {
	key := retainedKey(cache, topic)
	defer s.lock(key)()
	epoch, err := s.topics.Epoch(ctx, cache)
	if err != nil {
		return err
	}
	raw, found, err := s.recs.GetRecord(ctx, retainedNS, key)
	if err != nil {
		return err
	}
	if found {
		var old retainedRecord
		if json.Unmarshal(raw, &old) == nil && old.Epoch == epoch && (old.Page > p.Page || old.Page == p.Page && old.Seq >= p.Seq) {
			return nil // a newer (or this same) message is the snapshot already
		}
	}
	rec := retainedRecord{Cache: cache, Topic: topic, Epoch: epoch, Page: p.Page, Seq: p.Seq, Data: m.Content, Binary: m.Binary}
	if pr := principalTokenID(ctx); pr != "" {
		rec.Publisher = pr
	}
	if m.RetainFor > 0 {
		rec.Expires = s.opts.Now().Add(m.RetainFor).UnixMilli()
	}
	b, err := json.Marshal(&rec)
	if err != nil {
		return err
	}
	if !found {
		s.countMu.Lock()
		defer s.countMu.Unlock()
	}
	if err := s.recs.PutRecord(ctx, retainedNS, key, b); err != nil {
		return err
	}
	if !found {
		s.count.Add(1)
	}
	return nil
}

// sweeper runs sweep every sweepEvery until Close.
func (s *Service) sweeper() {
	defer close(s.done)
	s.sweep()
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
			s.sweep()
		}
	}
}

// sweep deletes expired snapshots and those of deleted or re-created
// caches, and recounts the others.
func (s *Service) sweep() {
	ctx, cancel := context.WithTimeout(context.Background(), sweepEvery/2)
	defer cancel()
	s.countMu.Lock()
	defer s.countMu.Unlock()
	recs, err := s.recs.ListRecords(ctx, retainedNS)
	if err != nil {
		return
	}
	now := s.opts.Now().UnixMilli()
	epochs := map[string]uint64{}
	live := 0
	for _, r := range recs {
		var rec retainedRecord
		stale := json.Unmarshal(r.Value, &rec) != nil || rec.Expires != 0 && now >= rec.Expires
		if !stale {
			e, ok := epochs[rec.Cache]
			if !ok {
				var err error
				e, err = s.topics.Epoch(ctx, rec.Cache)
				switch {
				case err == nil:
				case errs.As(err) != nil && errs.As(err).Reason == errs.ErrCacheNotFound.Reason:
					e = 0
				default:
					live++ // the engine is unreachable: keep it, count it
					continue
				}
				epochs[rec.Cache] = e
			}
			stale = e != rec.Epoch
		}
		if stale {
			_ = s.recs.DeleteRecord(ctx, retainedNS, r.Key)
			continue
		}
		live++
	}
	s.count.Store(int64(live))
}
