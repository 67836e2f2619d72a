// Package publish is the publish API's service: MigratoryData's model of
// publication with a status, over the topics service. A subject
// /<cache>/<topic path> is a topic (ParseSubject), so publishers of this API
// and Momento subscribers meet. A publication is answered with one of
// MigratoryData's statuses, decided here in this order:
//
//   - FAILED: a request that cannot be published (bad subject, closure or
//     key, payload empty or too large, missing cache, engine failure), with
//     the errs row that says why;
//   - DENIED: the Authorizer refuses the caller publishing on the topic
//     (Setsuna token permissions, or the basic entitlement's allow token);
//   - NO_SUBSCRIBER: nobody subscribes to the subject on any node (presence
//     from the hub, cluster-wide over an engine that shares it) and the
//     message is not retained: nothing was published;
//   - OK: the message was appended (or, with an idempotency key used within
//     the dedup window, had been: Duplicate);
//
// TIMEOUT is the client's: no answer within its deadline.
//
// Retained messages (retained.go) keep the latest message of a subject as
// its snapshot, delivered first to new subscribers. Idempotency keys are
// checked by the engine (store.TopicAppendOnce), so a retry lands once
// whichever node it reaches.
package publish

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/topics"
)

// Limits and defaults.
const (
	MaxClosureLen      = 1024
	DefaultDedupWindow = 2 * time.Minute
	MaxDedupWindow     = time.Hour
	DefaultMaxRetained = 4096
	// MaxRetainedTTL bounds a retained message's expiry.
	MaxRetainedTTL = store.MaxTTL
)

// Status is the outcome of a publication (TIMEOUT is the client's).
type Status uint8

const (
	StatusOK Status = iota + 1
	StatusFailed
	StatusDenied
	StatusNoSubscriber
)

func (s Status) String() string {
	switch s {
	case StatusOK:
		return "OK"
	case StatusFailed:
		return "FAILED"
	case StatusDenied:
		return "DENIED"
	case StatusNoSubscriber:
		return "NO_SUBSCRIBER"
	}
	return "UNKNOWN"
}

// Options configure a Service; zero fields take the defaults.
type Options struct {
	// DedupWindow is how long an idempotency key is remembered.
	DedupWindow time.Duration
	// MaxRetained bounds the subjects with a retained message.
	MaxRetained int
	Logger      *slog.Logger
	// Now is the clock of snapshot expiry (tests); default time.Now.
	Now func() time.Time
}

// Service publishes with a status and subscribes with snapshots.
type Service struct {
	topics *topics.Service
	recs   store.Records
	opts   Options
	rep    *errs.Reporter

	// retained: per-subject locks order the snapshot updates of this node;
	// count is the number of retained subjects as this node last saw it.
	// countMu orders adding a new subject against the sweep's recount, so
	// that a recount cannot overwrite an add it did not see. Lock order:
	// locks[i], then countMu.
	locks   [64]sync.Mutex
	countMu sync.Mutex
	count   atomic.Int64

	stop chan struct{}
	done chan struct{}
}

// New returns a running service over the topics service and the engine's
// records (where retained messages live); Close stops its sweeper.
func New(t *topics.Service, recs store.Records, opts Options) *Service {
	if opts.DedupWindow <= 0 {
		opts.DedupWindow = DefaultDedupWindow
	}
	opts.DedupWindow = min(opts.DedupWindow, MaxDedupWindow)
	if opts.MaxRetained <= 0 {
		opts.MaxRetained = DefaultMaxRetained
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Service{topics: t, recs: recs, opts: opts, rep: errs.NewReporter(opts.Logger), stop: make(chan struct{}), done: make(chan struct{})}
	go s.sweeper()
	return s
}

// Options returns the effective options.
func (s *Service) Options() Options { return s.opts }

// MaxPayload is the largest message content, in bytes.
func (s *Service) MaxPayload() int { return s.topics.Limits().MaxPayloadBytes }

// Close stops the sweeper of expired snapshots.
func (s *Service) Close() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

// Message is a publication.
type Message struct {
	Subject string
	Content []byte
	Binary  bool // false: UTF-8 text
	// Closure is echoed in the Result (MigratoryData's closure).
	Closure string
	// Retained keeps the message as the subject's snapshot, for RetainFor
	// (0: until replaced).
	Retained  bool
	RetainFor time.Duration
	// IdempotencyKey, when set, makes a retry within the dedup window land
	// once.
	IdempotencyKey string
}

// Result is the answer to a publication.
type Result struct {
	Status Status
	// Err says why, for every status but OK (a row of the errs table).
	Err     *errs.Error
	Closure string
	// Seq and Epoch place the message in its topic (epoch is the topic's
	// page); Duplicate: the key was used within the window and this is the
	// first publication's place.
	Seq, Epoch uint64
	Duplicate  bool
}

// Publish publishes m and says how it went. It never fails otherwise: every
// outcome is a Result.
func (s *Service) Publish(ctx context.Context, m Message) Result {
	r := Result{Closure: m.Closure}
	if len(m.Closure) > MaxClosureLen {
		r.Closure = ""
		return s.fail(r, errs.ErrClosureTooLarge.Withf("%d bytes, the limit is %d", len(m.Closure), MaxClosureLen))
	}
	cache, topic, err := ParseSubject(m.Subject)
	if err != nil {
		return s.fail(r, err)
	}
	if err := auth.Check(ctx, auth.Op{Name: "Publish", Resource: auth.ResourceTopic, Access: auth.AccessWrite, Cache: cache, Topic: topic}); err != nil {
		return s.fail(r, err)
	}
	if k := m.IdempotencyKey; k != "" && (len(k) > store.MaxIdempotencyKeyLen || !printable(k)) {
		return s.fail(r, errs.ErrInvalidIdempotencyKey.Withf("it must be 1-%d printable ASCII bytes", store.MaxIdempotencyKeyLen))
	}
	if !m.Binary && !utf8.Valid(m.Content) {
		return s.fail(r, errs.ErrInvalidArgument.Msgf("text content must be UTF-8 (send other bytes as binary)"))
	}
	if m.RetainFor < 0 || m.RetainFor > MaxRetainedTTL {
		return s.fail(r, errs.ErrInvalidArgument.Msgf("the retention of a retained message must be between 0 (until replaced) and %v", MaxRetainedTTL))
	}
	if m.Retained {
		if err := s.checkRetainedRoom(ctx, cache, topic); err != nil {
			return s.fail(r, err)
		}
	}
	p, err := s.topics.PublishWith(ctx, cache, topic, topics.Value{Data: m.Content, Binary: m.Binary}, topics.PublishOptions{
		Key: m.IdempotencyKey, Window: s.opts.DedupWindow, RequireSubscriber: !m.Retained,
	})
	if err != nil {
		return s.fail(r, err)
	}
	r.Status, r.Seq, r.Epoch, r.Duplicate = StatusOK, p.Seq, p.Page, p.Duplicate
	if m.Retained {
		// The message is published; a snapshot that cannot be kept is
		// logged, not a failure of the publication.
		if err := s.retain(ctx, cache, topic, m, p); err != nil {
			s.rep.Public("keep the retained message", err)
		}
	}
	return r
}

// fail turns err into the Result's status.
func (s *Service) fail(r Result, err error) Result {
	r.Err = s.rep.Public("publish", err)
	switch {
	case errors.Is(err, errs.ErrNoSubscriber):
		r.Status = StatusNoSubscriber
	case errors.Is(err, errs.ErrPermissionDenied), errors.Is(err, errs.ErrUnauthenticated):
		r.Status = StatusDenied
	default:
		r.Status = StatusFailed
	}
	return r
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
