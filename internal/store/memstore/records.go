package memstore

import (
	"context"
	"slices"
	"strings"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// records is the engine's system key-value space (store.Records). It is
// small and rarely written, so one mutex guards it.
type records struct {
	byNS map[string]map[string][]byte
}

func checkRecordName(ns, key string) error {
	if !store.ValidRecordName(ns) || !store.ValidRecordName(key) {
		return errs.ErrInvalidArgument.Msgf("record namespace and key must be 1-%d printable ASCII bytes", store.MaxCacheNameLen)
	}
	return nil
}

// PutRecord implements store.Records.
func (s *Store) PutRecord(_ context.Context, ns, key string, value []byte) error {
	if err := checkRecordName(ns, key); err != nil {
		return err
	}
	if len(value) > store.MaxRecordSize {
		return errs.ErrItemTooLarge.Withf("record of %d bytes exceeds %d", len(value), store.MaxRecordSize)
	}
	if err := s.logErr(); err != nil {
		return err
	}
	s.recMu.Lock()
	s.putRecord(ns, key, slices.Clone(value))
	b := s.journalRecord(ns, key, value, false) // persistence (persist.go)
	s.recMu.Unlock()
	return waitLogged(b)
}

// putRecord stores value (kept as is) under recMu.
func (s *Store) putRecord(ns, key string, value []byte) {
	if s.recs.byNS == nil {
		s.recs.byNS = map[string]map[string][]byte{}
	}
	m := s.recs.byNS[ns]
	if m == nil {
		m = map[string][]byte{}
		s.recs.byNS[ns] = m
	}
	m[key] = value
}

// GetRecord implements store.Records.
func (s *Store) GetRecord(_ context.Context, ns, key string) ([]byte, bool, error) {
	if err := checkRecordName(ns, key); err != nil {
		return nil, false, err
	}
	s.recMu.Lock()
	defer s.recMu.Unlock()
	v, ok := s.recs.byNS[ns][key]
	return v, ok, nil
}

// DeleteRecord implements store.Records.
func (s *Store) DeleteRecord(_ context.Context, ns, key string) error {
	if err := checkRecordName(ns, key); err != nil {
		return err
	}
	if err := s.logErr(); err != nil {
		return err
	}
	s.recMu.Lock()
	s.deleteRecord(ns, key)
	b := s.journalRecord(ns, key, nil, true)
	s.recMu.Unlock()
	return waitLogged(b)
}

func (s *Store) deleteRecord(ns, key string) { delete(s.recs.byNS[ns], key) }

// ListRecords implements store.Records.
func (s *Store) ListRecords(_ context.Context, ns string) ([]store.Record, error) {
	if !store.ValidRecordName(ns) {
		return nil, errs.ErrInvalidArgument.Msgf("record namespace must be 1-%d printable ASCII bytes", store.MaxCacheNameLen)
	}
	s.recMu.Lock()
	defer s.recMu.Unlock()
	m := s.recs.byNS[ns]
	out := make([]store.Record, 0, len(m))
	for k, v := range m {
		out = append(out, store.Record{Key: k, Value: v})
	}
	slices.SortFunc(out, func(a, b store.Record) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}
