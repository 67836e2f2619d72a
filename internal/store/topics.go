package store

import (
	"context"
	"time"
	"unicode/utf8"
)

// TopicLog is the engine contract of topics: a per-topic log of messages.
// The topics hub (internal/topics) builds subscriptions, backlogs,
// discontinuities, encode-once fan-out and presence on top of it, the same
// for every engine; an engine only stores, reads and wakes.
//
// A topic is (cache, epoch, name) and comes into being on first use
// (Append or Open) with a new page: a number larger than any page the
// topic's name had before in that cache (pages are Unix milliseconds, made
// strictly increasing). Its sequence numbers start at 1 and grow by one per
// message. The log keeps a bounded window of the newest messages (by count
// and bytes, engine options) and may drop an idle topic (no Append or Open
// for at least five minutes, engine option); a dropped or lost topic comes
// back with a new page, so readers can always tell a gap from the topic's
// own history.
//
// Epochs: a call with a newer epoch than the log holds for the cache drops
// every topic of the older epoch first; a call with an older epoch is
// errs.ErrCacheNotFound (the caller saw a cache that has since been deleted
// and re-created).
type TopicLog interface {
	// Append adds a message and returns its sequence number and page.
	Append(ctx context.Context, t TopicRef, m TopicValue, publisherID string) (seq, page uint64, err error)
	// Open creates the topic when it does not exist and returns its state;
	// it also marks the topic in use, so that a topic whose subscribers keep
	// opening it is never dropped as idle.
	Open(ctx context.Context, t TopicRef) (TopicState, error)
	// Read returns up to max messages with Seq >= from, oldest first, and
	// the topic's state at the time of the read. Messages before
	// state.First are gone; a missing topic reads as a zero state.
	Read(ctx context.Context, t TopicRef, from uint64, max int) (TopicState, []*TopicMessage, error)
	// Notify returns a channel that is closed at the next Append to the
	// topic or when the topic is dropped (creating the topic like Open).
	// Take it before a Read that may find nothing new, then wait on it.
	Notify(ctx context.Context, t TopicRef) (<-chan struct{}, error)
	// DropCache drops every topic of the cache whose epoch is at most
	// epoch; later calls with such an epoch are errs.ErrCacheNotFound.
	DropCache(ctx context.Context, cache string, epoch uint64) error
	// Close ends the log: waiters wake, later calls are
	// errs.ErrShuttingDown.
	Close() error
}

// TopicRef names a topic. Epoch is the epoch of the cache the caller saw
// (CacheInfo.Epoch).
type TopicRef struct {
	Cache string
	Epoch uint64
	Name  string
}

// TopicValue is a message payload and its kind.
type TopicValue struct {
	Data   []byte
	Binary bool // false: UTF-8 text
}

// TopicMessage is one message of a topic. Messages are immutable once read:
// the hub shares them among subscribers.
type TopicMessage struct {
	Seq         uint64
	Page        uint64
	Value       TopicValue
	PublisherID string
}

// TopicState is where a topic stands. Page 0 means the topic does not
// exist. First is the oldest sequence number still retained and Last the
// newest one given out (0: none); First == Last+1 when nothing is retained.
type TopicState struct {
	Page  uint64
	First uint64
	Last  uint64
}

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

// Optional capabilities of a TopicLog. A log whose engine several nodes
// share implements them so that presence and idempotency hold across the
// cluster; the hub and the publish service use them when the log does.

// MaxIdempotencyKeyLen bounds idempotency keys, in bytes.
const MaxIdempotencyKeyLen = 128

// TopicPresence counts the subscribers of a topic on every node of the
// engine, for the publish API's "no subscriber" status.
type TopicPresence interface {
	// SetPresence records that node has n subscribers of t; n == 0 removes
	// the entry. An entry that is not set again within ttl expires, so the
	// counts of a node that died vanish by themselves.
	SetPresence(ctx context.Context, node string, t TopicRef, n int, ttl time.Duration) error
	// Presence returns the number of subscribers of t over every node
	// whose entry has not expired.
	Presence(ctx context.Context, t TopicRef) (int, error)
}

// TopicAppendOnce appends with an idempotency key, so that a publication
// retried after a lost answer lands once.
type TopicAppendOnce interface {
	// AppendOnce is Append, unless key was used with t by an AppendOnce
	// within window: then it appends nothing and returns that append's
	// sequence number and page with dup set. The check and the append are
	// one atomic step. An engine may forget a key before window ends when
	// it holds more keys than its bound (the newest keys are kept).
	AppendOnce(ctx context.Context, t TopicRef, m TopicValue, publisherID, key string, window time.Duration) (seq, page uint64, dup bool, err error)
	// Appended reports whether key was used with t within its window, and
	// with which sequence number and page.
	Appended(ctx context.Context, t TopicRef, key string) (seq, page uint64, found bool, err error)
}
