package store

import (
	"github.com/setsuna-io/setsuna/internal/epk"
	"github.com/setsuna-io/setsuna/internal/errs"
)

// Checks every engine makes alike, so that engines refuse the same input
// with the same error.

// CheckCacheConfig validates a CreateCache call and returns the cache's
// partition count (defaultParts when cfg gives none) and a copy of its
// attributes.
func CheckCacheConfig(name string, cfg CacheConfig, defaultParts int) (parts int, attrs map[string]string, err error) {
	if !ValidCacheName(name) {
		return 0, nil, errs.ErrInvalidName.Msgf("invalid cache name %q", name)
	}
	parts = cfg.Partitions
	if parts == 0 {
		parts = defaultParts
	}
	if parts < 1 || parts > epk.MaxPartitions {
		return 0, nil, errs.ErrInvalidArgument.Msgf("partitions %d outside [1, %d]", parts, epk.MaxPartitions)
	}
	if cfg.KeyScheme > KeyCosmosMultiHash || cfg.Tiling > TilingV1 {
		return 0, nil, errs.ErrInvalidArgument.Msgf("unknown key scheme %d or tiling %d", cfg.KeyScheme, cfg.Tiling)
	}
	attrs = make(map[string]string, len(cfg.Attrs))
	n := 0
	for k, v := range cfg.Attrs {
		if k == "" {
			return 0, nil, errs.ErrInvalidArgument.Msgf("empty cache attribute name")
		}
		n += len(k) + len(v)
		attrs[k] = v
	}
	if n > MaxAttrsSize {
		return 0, nil, errs.ErrInvalidArgument.Msgf("cache attributes of %d bytes exceed %d", n, MaxAttrsSize)
	}
	return parts, attrs, nil
}

// ParseInt64 is the strict base-10 int64 parser of Increment: an optional
// '-' then digits, nothing else (no '+', spaces or underscores, unlike
// strconv).
func ParseInt64(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	const limit = 1 << 63 // magnitude of MinInt64
	var n uint64
	for _, c := range b {
		d := c - '0'
		if d > 9 || n > limit/10 {
			return 0, false
		}
		n = n*10 + uint64(d)
		if n > limit {
			return 0, false
		}
	}
	if neg {
		return -int64(n), true // n == limit wraps to MinInt64, as intended
	}
	if n == limit {
		return 0, false
	}
	return int64(n), true
}

// CheckElement refuses a collection element (field, value or member) over
// MaxElementSize; what names it in the message.
func CheckElement(b []byte, what string) error {
	if len(b) > MaxElementSize {
		return errs.ErrElementTooLarge.Withf("%s of %d bytes exceeds %d", what, len(b), MaxElementSize)
	}
	return nil
}

// CheckElements is CheckElement of each of bs.
func CheckElements(bs [][]byte, what string) error {
	for _, b := range bs {
		if err := CheckElement(b, what); err != nil {
			return err
		}
	}
	return nil
}
