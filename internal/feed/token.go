package feed

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/setsuna-io/setsuna/internal/epk"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// Continuation tokens are opaque to clients:
//
//	"v1." + base64url(JSON{"c":cache,"e":epoch,"m":mode,"r":range JSON,
//	                       "p":[{"i":partition,"l":lsn[,"t":true]}…],"n":next,"t":start ms})
//
// One position per partition of the range (the LSN read up to, the Cosmos
// etag of that partition-key range; "t" marks a partition whose
// point-in-time start is not resolved yet), the partition to read first
// next time ("n", round robin, as the JS SDK does across ranges), and the
// cache epoch: a token of a deleted-and-recreated cache is refused.
const tokenPrefix = "v1."

// MaxTokenLen bounds a continuation token.
const MaxTokenLen = 64 << 10

type position struct {
	Partition int    `json:"i"`
	LSN       uint64 `json:"l"`
	Pending   bool   `json:"t,omitempty"` // point-in-time start not yet resolved
}

type state struct {
	Cache     string     `json:"c"`
	Epoch     uint64     `json:"e"`
	Mode      Mode       `json:"m"`
	Range     string     `json:"r"`
	Positions []position `json:"p"`
	Next      int        `json:"n"`
	StartMs   int64      `json:"t,omitempty"`

	rng    Range
	pieces []piece
}

func (s *state) encode() string {
	b, err := json.Marshal(s)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// decodeToken parses and checks a token on its own; bind checks it against
// the cache.
func decodeToken(tok string) (*state, error) {
	if len(tok) > MaxTokenLen {
		return nil, errs.ErrInvalidContinuation.Withf("%d bytes", len(tok))
	}
	rest, ok := strings.CutPrefix(tok, tokenPrefix)
	if !ok {
		return nil, errs.ErrInvalidContinuation.Withf("not a Setsuna v1 token")
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return nil, errs.ErrInvalidContinuation.Withf("%v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var s state
	if err := dec.Decode(&s); err != nil || dec.More() {
		return nil, errs.ErrInvalidContinuation.Withf("malformed content")
	}
	if !store.ValidCacheName(s.Cache) || s.Epoch == 0 || (s.Mode != ModeLatestVersion && s.Mode != ModeAllVersions) {
		return nil, errs.ErrInvalidContinuation.Withf("bad cache, epoch or mode")
	}
	if s.rng, err = FromJSON(s.Range); err != nil {
		return nil, errs.ErrInvalidContinuation.Withf("%v", err)
	}
	if len(s.Positions) == 0 || len(s.Positions) > epk.MaxPartitions || s.Next < 0 || s.Next >= len(s.Positions) {
		return nil, errs.ErrInvalidContinuation.Withf("bad positions")
	}
	for i, p := range s.Positions {
		if p.Partition < 0 || p.Partition >= epk.MaxPartitions || i > 0 && p.Partition <= s.Positions[i-1].Partition {
			return nil, errs.ErrInvalidContinuation.Withf("bad positions")
		}
		if p.Pending && (p.LSN != 0 || s.Mode == ModeAllVersions || s.StartMs == 0) {
			return nil, errs.ErrInvalidContinuation.Withf("bad positions")
		}
	}
	return &s, nil
}

// bind checks s against the cache's current epoch and partitions.
func (s *state) bind(cache string, info store.CacheInfo) error {
	if s.Cache != cache {
		return errs.ErrInvalidContinuation.Withf("the token is for cache %q, not %q", s.Cache, cache)
	}
	if s.Epoch != info.Epoch {
		return errs.ErrFeedEpoch.Withf("cache %q was deleted and re-created since the token was issued (epoch %d, now %d)", cache, s.Epoch, info.Epoch)
	}
	ps, err := s.rng.pieces(info)
	if err != nil {
		return errs.ErrInvalidContinuation.Withf("%v", err)
	}
	if len(ps) != len(s.Positions) {
		return errs.ErrInvalidContinuation.Withf("positions do not match the range")
	}
	for i := range ps {
		if ps[i].partition != s.Positions[i].Partition {
			return errs.ErrInvalidContinuation.Withf("positions do not match the range")
		}
	}
	s.pieces = ps
	return nil
}
