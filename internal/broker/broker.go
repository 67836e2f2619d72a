// Package broker holds Setsuna's topics: per-topic sequence numbers within a
// page, a bounded replay buffer for resume, and fan-out to subscribers whose
// backlog is bounded. The Broker interface is what every engine implements
// (memory now, Redis later); surfaces map its errors to their protocols.
//
// Semantics shared by every engine:
//
//   - A topic is (cache, epoch, name) and is created on first use. Its page is
//     chosen at creation (Unix milliseconds, strictly increasing in a process);
//     its sequence numbers start at 1 and grow by one per message.
//   - A subscription starts at a Position. Seq 0 means "new messages only";
//     otherwise Seq is the first sequence number to deliver. A page other than
//     the topic's (and not 0) yields a Discontinuity carrying the new page, then
//     what is still buffered. A requested range that is gone yields a
//     Discontinuity, then the oldest message still buffered.
//   - A Discontinuity{Last, New, Page} says: the sequence numbers in (Last, New]
//     are lost; the stream continues with New+1 in Page. A client that resumes
//     at "last seen + 1" after it (Momento's Node SDK does) loses nothing more.
//   - A subscriber whose backlog exceeds its bound gets a Discontinuity and
//     continues with the newest message: no unbounded memory, no silent gap.
package broker

import (
	"context"
	"errors"
	"sync/atomic"
	"unicode/utf8"
)

// Sentinel errors. Surfaces map them to their protocol's statuses.
var (
	// ErrCacheDeleted: the topic's cache was deleted (or re-created with a
	// newer epoch). Open subscriptions end with it.
	ErrCacheDeleted = errors.New("broker: cache not found")
	// ErrClosed: the broker is shutting down.
	ErrClosed = errors.New("broker: closed")
	// ErrInvalidTopic: the topic name is empty, too long or not UTF-8.
	ErrInvalidTopic = errors.New("broker: invalid topic name")
	// ErrEmptyPayload: a message must carry at least one byte.
	ErrEmptyPayload = errors.New("broker: empty payload")
	// ErrPayloadTooLarge: the message is over Options.MaxPayload.
	ErrPayloadTooLarge = errors.New("broker: payload too large")
	// ErrTooManySubscriptions: the cache has Options.MaxSubscriptionsPerCache
	// open subscriptions.
	ErrTooManySubscriptions = errors.New("broker: too many subscribers")
)

// MaxTopicNameLen bounds topic names, in bytes.
const MaxTopicNameLen = 255

// ValidTopicName reports whether name is a usable topic name: 1 to
// MaxTopicNameLen bytes of valid UTF-8 without control characters.
func ValidTopicName(name string) bool {
	if name == "" || len(name) > MaxTopicNameLen || !utf8.ValidString(name) {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// Topic names one topic. Epoch is the epoch of the cache at the time of the
// call (store.CacheInfo.Epoch): a newer epoch replaces every topic of the
// cache (failing their subscriptions), an older one is ErrCacheDeleted.
type Topic struct {
	Cache string
	Epoch uint64
	Name  string
}

// Value is a message payload and its kind.
type Value struct {
	Data   []byte
	Binary bool // false: UTF-8 text
}

// Position is where a subscription starts.
type Position struct {
	Seq  uint64 // 0: new messages only; else the first sequence number to deliver
	Page uint64 // 0: the topic's current page
}

// Message is one published message. Messages are immutable and shared by
// every subscriber and the replay buffer.
type Message struct {
	Seq         uint64
	Page        uint64
	Value       Value
	PublisherID string

	frame atomic.Pointer[frameBox]
}

type frameBox struct{ v any }

// Frame returns the surface's encoded form of m, building it with build the
// first time. Concurrent first callers may each build; one result wins and is
// returned to all later callers, so a message is encoded about once however
// many subscribers send it.
func (m *Message) Frame(build func(*Message) any) any {
	if b := m.frame.Load(); b != nil {
		return b.v
	}
	nb := &frameBox{v: build(m)}
	if m.frame.CompareAndSwap(nil, nb) {
		return nb.v
	}
	return m.frame.Load().v
}

// Event is what a subscription yields: a message, or (Msg == nil) a
// discontinuity.
type Event struct {
	Msg *Message
	Gap Discontinuity
}

// Discontinuity reports lost sequence numbers: (Last, New] in Page are gone
// and the next message is New+1.
type Discontinuity struct {
	Last uint64
	New  uint64
	Page uint64
}

// Subscription is one subscriber's view of a topic. Use it from one
// goroutine:
//
//	for {
//		ready := sub.Ready()
//		evs, err := sub.Poll(buf[:0])
//		if err != nil { ... }          // ErrCacheDeleted, ErrClosed
//		if len(evs) > 0 { deliver; continue }
//		select { case <-ready: case <-ctx.Done(): ... }
//	}
type Subscription interface {
	// Ready returns a channel that is closed when Poll may have something
	// new. Take it before Poll, so that nothing published in between is
	// missed.
	Ready() <-chan struct{}
	// Poll appends to dst the events available now, at most cap(dst)-len(dst)
	// of them (at least one if cap(dst) is 0), without blocking. It fails once
	// the topic is gone.
	Poll(dst []Event) ([]Event, error)
	// Close ends the subscription and releases its slot. Idempotent.
	Close()
}

// Broker is the topics engine.
type Broker interface {
	// Publish appends v to the topic (creating it) and returns the message's
	// sequence number and page.
	Publish(ctx context.Context, t Topic, v Value, publisherID string) (seq, page uint64, err error)
	// Subscribe opens a subscription starting at from.
	Subscribe(ctx context.Context, t Topic, from Position) (Subscription, error)
	// DeleteCache drops every topic of the cache and fails their
	// subscriptions with ErrCacheDeleted.
	DeleteCache(cache string)
	// Close fails every subscription with ErrClosed and refuses new calls.
	Close() error
}
