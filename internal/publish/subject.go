package publish

import (
	"strings"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// MaxSubjectLen bounds subjects: "/" cache "/" topic at their limits.
const MaxSubjectLen = 1 + store.MaxCacheNameLen + 1 + store.MaxTopicNameLen

// ParseSubject splits a subject /<cache>/<topic path> into the cache and the
// topic: /sport/football is topic "football" of cache "sport", and
// /sport/football/uk is topic "football/uk". A subject of one segment
// (/sport), an empty segment or a name its topic or cache could not have is
// errs.ErrInvalidSubject.
func ParseSubject(subject string) (cache, topic string, err error) {
	if len(subject) > MaxSubjectLen {
		return "", "", errs.ErrInvalidSubject.Withf("%d bytes, the limit is %d", len(subject), MaxSubjectLen)
	}
	rest, ok := strings.CutPrefix(subject, "/")
	if !ok {
		return "", "", errs.ErrInvalidSubject.Withf("%q: a subject is a path /<cache>/<topic>", trunc(subject))
	}
	cache, topic, ok = strings.Cut(rest, "/")
	if !ok || cache == "" || topic == "" {
		return "", "", errs.ErrInvalidSubject.Withf("%q: a subject has at least two segments, /<cache>/<topic>", trunc(subject))
	}
	if strings.HasSuffix(topic, "/") || strings.Contains(topic, "//") {
		return "", "", errs.ErrInvalidSubject.Withf("%q: empty segment", trunc(subject))
	}
	if !store.ValidCacheName(cache) {
		return "", "", errs.ErrInvalidSubject.Withf("%q: the cache segment must be printable ASCII without spaces", trunc(subject))
	}
	if !store.ValidTopicName(topic) {
		return "", "", errs.ErrInvalidSubject.Withf("%q: the topic path must be UTF-8 without control characters, at most %d bytes", trunc(subject), store.MaxTopicNameLen)
	}
	return cache, topic, nil
}

// Subject is the subject of a topic of cache.
func Subject(cache, topic string) string { return "/" + cache + "/" + topic }

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
