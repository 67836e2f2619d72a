package errs

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"
)

// Reporter turns errors into public errors for a surface. Internal errors
// are logged with a request id that the client also reads, at most burst
// lines per interval (the rest are counted and reported with the next line),
// so that a failing engine cannot flood the log from a hot path.
type Reporter struct {
	log      *slog.Logger
	interval time.Duration
	burst    int

	mu         sync.Mutex
	windowEnd  time.Time
	logged     int
	suppressed int
}

// NewReporter logs to log (slog.Default when nil), at most 10 internal
// errors a second.
func NewReporter(log *slog.Logger) *Reporter {
	if log == nil {
		log = slog.Default()
	}
	return &Reporter{log: log, interval: time.Second, burst: 10}
}

// Public returns the public form of err (nil for nil). op names what failed
// ("get", "read the feed") in the log line and in the client message.
func (r *Reporter) Public(op string, err error) *Error {
	if err == nil {
		return nil
	}
	if e := As(err); e != nil {
		return e
	}
	id := requestID()
	r.report(op, id, err)
	return ErrInternal.Msgf("cannot %s: internal error (request id %s)", op, id)
}

func (r *Reporter) report(op, id string, err error) {
	now := time.Now()
	r.mu.Lock()
	if now.After(r.windowEnd) {
		r.windowEnd, r.logged = now.Add(r.interval), 0
	}
	if r.logged >= r.burst {
		r.suppressed++
		r.mu.Unlock()
		return
	}
	r.logged++
	suppressed := r.suppressed
	r.suppressed = 0
	r.mu.Unlock()
	if suppressed > 0 {
		r.log.Error("internal error", "op", op, "request_id", id, "err", err, "suppressed_since_last", suppressed)
		return
	}
	r.log.Error("internal error", "op", op, "request_id", id, "err", err)
}

func requestID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}
