package topics

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/errs"
)

// PublishQuota bounds what one API key may publish, so that one key cannot
// take a node's fan-out from the others. Zero fields mean no bound. Dev
// mode has one caller for everybody and is not bounded.
type PublishQuota struct {
	Messages int   // messages per second
	Bytes    int64 // payload bytes per second
}

// Defaults of the publish quota with auth on: far above one client's
// legitimate rate, far below what starves a node.
const (
	DefaultPublishMessagesPerKey = 10_000
	DefaultPublishBytesPerKey    = 32 << 20
)

// quotas keeps a token bucket pair per key. The buckets allow a second's
// worth at once; a bucket idle until full is dropped by the next sweep, so
// the map holds only keys that published lately.
type quotas struct {
	q PublishQuota

	mu        sync.Mutex
	keys      map[string]*buckets
	lastSweep time.Time
}

type buckets struct {
	msgs, bytes *rate.Limiter
}

const quotaSweepEvery = time.Minute

func newQuotas(q PublishQuota) *quotas {
	return &quotas{q: q, keys: map[string]*buckets{}}
}

// take charges one message of n bytes to p, or says which bound it is over.
func (qs *quotas) take(p *auth.Principal, n int, now time.Time) error {
	if qs == nil || p == nil || p == auth.DevPrincipal || qs.q.Messages <= 0 && qs.q.Bytes <= 0 {
		return nil
	}
	qs.mu.Lock()
	defer qs.mu.Unlock()
	if now.Sub(qs.lastSweep) >= quotaSweepEvery {
		qs.sweep(now)
	}
	b := qs.keys[p.ID]
	if b == nil {
		b = &buckets{}
		if qs.q.Messages > 0 {
			b.msgs = rate.NewLimiter(rate.Limit(qs.q.Messages), qs.q.Messages)
		}
		if qs.q.Bytes > 0 {
			burst := int(min(qs.q.Bytes, 1<<30))
			b.bytes = rate.NewLimiter(rate.Limit(qs.q.Bytes), burst)
		}
		qs.keys[p.ID] = b
	}
	var m *rate.Reservation
	if b.msgs != nil {
		if m = b.msgs.ReserveN(now, 1); !m.OK() || m.DelayFrom(now) > 0 {
			m.CancelAt(now)
			return errs.ErrPublishRateExceeded.Withf("this API key may publish %d messages per second", qs.q.Messages)
		}
	}
	if b.bytes != nil {
		if r := b.bytes.ReserveN(now, n); !r.OK() || r.DelayFrom(now) > 0 {
			r.CancelAt(now)
			if m != nil {
				m.CancelAt(now)
			}
			return errs.ErrPublishThroughputExceeded.Withf("this API key may publish %d bytes per second", qs.q.Bytes)
		}
	}
	return nil
}

// sweep drops the buckets that refilled, which a new pair equals.
func (qs *quotas) sweep(now time.Time) {
	qs.lastSweep = now
	for id, b := range qs.keys {
		if (b.msgs == nil || b.msgs.TokensAt(now) >= float64(b.msgs.Burst())) &&
			(b.bytes == nil || b.bytes.TokensAt(now) >= float64(b.bytes.Burst())) {
			delete(qs.keys, id)
		}
	}
}
