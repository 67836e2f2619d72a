package cosmos

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Wire header names (the SDK sends them in lower case).
const (
	hAIM              = "A-IM"
	hIfNoneMatch      = "If-None-Match"
	hIfModifiedSince  = "If-Modified-Since"
	hIfMatch          = "If-Match"
	hMaxItemCount     = "x-ms-max-item-count"
	hPKRangeID        = "x-ms-documentdb-partitionkeyrangeid"
	hStartEPK         = "x-ms-start-epk"
	hEndEPK           = "x-ms-end-epk"
	hPartitionKey     = "x-ms-documentdb-partitionkey"
	hOfferThroughput  = "x-ms-offer-throughput"
	hAutopilot        = "x-ms-cosmos-offer-autopilot-settings"
	hUpsert           = "x-ms-documentdb-is-upsert"
	hIsQuery          = "x-ms-documentdb-isquery"
	hQueryPlan        = "x-ms-cosmos-is-query-plan-request"
	hActivityID       = "x-ms-activity-id"
	hRequestCharge    = "x-ms-request-charge"
	hSessionToken     = "x-ms-session-token"
	hItemCount        = "x-ms-item-count"
	hContentPath      = "x-ms-content-path"
	hWireFormatHeader = "x-ms-cosmos-changefeed-wire-format-version"
)

// Limits of parsed headers.
const (
	// DefaultPageSize is the page size when x-ms-max-item-count is absent
	// or -1, the service's default.
	DefaultPageSize = 100
	// MaxPageSize caps x-ms-max-item-count.
	MaxPageSize = 1000
	maxEPKLen   = 256 // three MultiHash levels are 96 characters
	maxRangeID  = 64
	// maxPartitionKeyHeader bounds x-ms-documentdb-partitionkey (a
	// string value is at most 2 KB on the service).
	maxPartitionKeyHeader = 8 << 10
	// RUPerPartition is the throughput one physical partition serves.
	RUPerPartition = 10_000
	// MaxPartitions bounds the partitions a container may ask for.
	MaxPartitions = 256
)

// feedMode is the change feed mode named by A-IM.
type feedMode uint8

const (
	notFeed feedMode = iota
	latestVersion
	allVersions
)

func parseAIM(v string) (feedMode, *Error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		return notFeed, nil
	case "incremental feed":
		return latestVersion, nil
	case "full-fidelity feed":
		return allVersions, nil
	}
	return notFeed, badRequest(fmt.Sprintf("Invalid value %q for header A-IM; use \"Incremental Feed\" or \"Full-Fidelity Feed\".", trunc(v)))
}

// startKind is where a change feed read starts.
type startKind uint8

const (
	startBeginning startKind = iota
	startNow
	startAfter // strictly after an LSN (an etag)
	startTime
)

type feedStart struct {
	Kind startKind
	LSN  uint64
	Time time.Time
}

// parseFeedStart reads If-None-Match ("*" = now, else the etag of an
// earlier page), which wins over If-Modified-Since (the SDK sends both
// on the pages after a point-in-time start); neither is the beginning.
func parseFeedStart(inm, ims string) (feedStart, *Error) {
	if inm = strings.TrimSpace(inm); inm != "" {
		if inm == "*" {
			return feedStart{Kind: startNow}, nil
		}
		lsn, ok := parseFeedETag(inm)
		if !ok {
			return feedStart{}, badRequest(fmt.Sprintf("Invalid continuation %q in If-None-Match: a change feed etag is a quoted LSN.", trunc(inm)))
		}
		return feedStart{Kind: startAfter, LSN: lsn}, nil
	}
	if ims = strings.TrimSpace(ims); ims != "" {
		t, err := http.ParseTime(ims)
		if err != nil {
			return feedStart{}, badRequest(fmt.Sprintf("Invalid value %q for header If-Modified-Since: want an RFC 1123 date.", trunc(ims)))
		}
		return feedStart{Kind: startTime, Time: t}, nil
	}
	return feedStart{Kind: startBeginning}, nil
}

// formatFeedETag is the etag of a change feed position: a quoted decimal
// LSN, as the service sends it.
func formatFeedETag(lsn uint64) string { return `"` + strconv.FormatUint(lsn, 10) + `"` }

// parseFeedETag accepts "42" with or without quotes.
func parseFeedETag(s string) (uint64, bool) {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	if s == "" || len(s) > 20 || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// formatDocETag is a document's _etag: GUID-shaped, from the container's
// rid (so that an etag of a re-created container never matches) and the
// LSN of the document's last write.
func formatDocETag(coll []byte, lsn uint64) string {
	return fmt.Sprintf(`"%08x-0000-0000-%04x-%012x"`, ridTail(coll), lsn>>48, lsn&(1<<48-1))
}

// parseDocETag returns the LSN of an _etag of this container.
func parseDocETag(coll []byte, s string) (uint64, bool) {
	// "tttttttt-0000-0000-hhhh-llllllllllll"
	if len(s) != 38 || s[0] != '"' || s[37] != '"' || s[9:19] != "-0000-0000" || s[19] != '-' || s[24] != '-' {
		return 0, false
	}
	tail, ok1 := hexUint(s[1:9])
	hi, ok2 := hexUint(s[20:24])
	lo, ok3 := hexUint(s[25:37])
	if !ok1 || !ok2 || !ok3 || uint32(tail) != ridTail(coll) {
		return 0, false
	}
	return hi<<48 | lo, true
}

func hexUint(s string) (uint64, bool) {
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		default:
			return 0, false
		}
		n = n<<4 | uint64(c)
	}
	return n, true
}

func ridTail(coll []byte) uint32 {
	if len(coll) < 4 {
		return 0
	}
	b := coll[len(coll)-4:]
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// parseMaxItemCount reads x-ms-max-item-count: absent or -1 is the
// default; larger than MaxPageSize is capped.
func parseMaxItemCount(v string) (int, *Error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return DefaultPageSize, nil
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil && len(v) <= 20 && strings.Trim(v, "0123456789") == "":
		return MaxPageSize, nil // a huge positive number
	case err != nil || n == 0 || n < -1:
		return 0, badRequest(fmt.Sprintf("Invalid value %q for header x-ms-max-item-count: want a positive integer or -1.", trunc(v)))
	case n == -1:
		return DefaultPageSize, nil
	}
	return min(n, MaxPageSize), nil
}

// parseRangeID reads x-ms-documentdb-partitionkeyrangeid; some SDKs send
// "<collection rid>,<range id>".
func parseRangeID(v string) (string, *Error) {
	v = strings.TrimSpace(v)
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	if v == "" || len(v) > maxRangeID {
		return "", badRequest(fmt.Sprintf("Invalid value %q for header x-ms-documentdb-partitionkeyrangeid.", trunc(v)))
	}
	return v, nil
}

// parseEPK reads x-ms-start-epk / x-ms-end-epk: uppercase hex (lower
// case is folded; the SDK compares bounds as strings).
func parseEPK(name, v string) (string, *Error) {
	if len(v) > maxEPKLen {
		return "", badRequest(fmt.Sprintf("Header %s is longer than %d characters.", name, maxEPKLen))
	}
	v = strings.ToUpper(strings.TrimSpace(v))
	for i := 0; i < len(v); i++ {
		if c := v[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return "", badRequest(fmt.Sprintf("Invalid value %q for header %s: want hexadecimal.", trunc(v), name))
		}
	}
	return v, nil
}

// parsePartitions turns x-ms-offer-throughput (or the autoscale maximum)
// into a partition count: one per RUPerPartition, at least one.
func parsePartitions(h http.Header) (int, *Error) {
	ru := 0
	if v := strings.TrimSpace(h.Get(hOfferThroughput)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return 0, badRequest(fmt.Sprintf("Invalid value %q for header x-ms-offer-throughput: want a positive integer.", trunc(v)))
		}
		ru = n
	} else if v := strings.TrimSpace(h.Get(hAutopilot)); v != "" {
		var s struct {
			MaxThroughput int `json:"maxThroughput"`
		}
		if len(v) > 1024 || json.Unmarshal([]byte(v), &s) != nil || s.MaxThroughput <= 0 {
			return 0, badRequest(fmt.Sprintf("Invalid value %q for header x-ms-cosmos-offer-autopilot-settings.", trunc(v)))
		}
		ru = s.MaxThroughput
	}
	if ru > MaxPartitions*RUPerPartition {
		return 0, badRequest(fmt.Sprintf("Throughput %d RU/s is over the limit of %d RU/s (%d partitions).", ru, MaxPartitions*RUPerPartition, MaxPartitions))
	}
	return max(1, (ru+RUPerPartition-1)/RUPerPartition), nil
}

// parseBoolHeader reads true/false in any case; absent is false.
func parseBoolHeader(name, v string) (bool, *Error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, badRequest(fmt.Sprintf("Invalid value %q for header %s: want true or false.", trunc(v), name))
}
