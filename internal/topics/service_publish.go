package topics

import (
	"context"
	"time"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/errs"
)

// What the publish API (internal/publish) asks of the topics service beyond
// Publish: idempotency keys and the "no subscriber" precondition, checked
// after the same validation and authorization as Publish.

// PublishOptions are the publish API's additions to a publication.
type PublishOptions struct {
	// Key, when set, makes the publication idempotent within Window.
	Key    string
	Window time.Duration
	// RequireSubscriber refuses the publication with errs.ErrNoSubscriber
	// when no node has a subscriber of the topic.
	RequireSubscriber bool
}

// Published is the outcome of PublishWith.
type Published struct {
	Seq, Page uint64
	// Duplicate: the key was used within the window; nothing was appended
	// and Seq and Page are the first publication's.
	Duplicate bool
}

// PublishWith is Publish with options. A key already used within its window
// answers the first publication's outcome, whether or not anyone subscribes
// now; the presence check comes after it.
func (s *Service) PublishWith(ctx context.Context, cache, topic string, v Value, o PublishOptions) (Published, error) {
	if err := checkTopic(cache, topic); err != nil {
		return Published{}, err
	}
	if err := authorize(ctx, "Publish", auth.AccessWrite, cache, topic); err != nil {
		return Published{}, err
	}
	if len(v.Data) == 0 {
		return Published{}, errs.ErrEmptyPayload
	}
	if len(v.Data) > s.maxPayload {
		return Published{}, errs.ErrPayloadTooLarge.Withf("%d bytes, the limit is %d bytes", len(v.Data), s.maxPayload)
	}
	var publisher string
	caller := auth.FromContext(ctx)
	if caller != nil {
		publisher = caller.TokenID
	}
	if o.Key != "" {
		seq, page, found, err := s.hub.Published(ctx, cache, topic, o.Key)
		if err != nil {
			return Published{}, err
		}
		if found {
			return Published{Seq: seq, Page: page, Duplicate: true}, nil
		}
	}
	// A retry of a publication already made is not charged again.
	if err := s.quotas.take(caller, len(v.Data), s.now()); err != nil {
		return Published{}, err
	}
	if o.RequireSubscriber {
		present, err := s.hub.Present(ctx, cache, topic)
		if err != nil {
			return Published{}, err
		}
		if !present {
			return Published{}, errs.ErrNoSubscriber
		}
	}
	if o.Key == "" {
		seq, page, err := s.hub.Publish(ctx, cache, topic, v, publisher)
		return Published{Seq: seq, Page: page}, err
	}
	seq, page, dup, err := s.hub.PublishOnce(ctx, cache, topic, v, publisher, o.Key, o.Window)
	return Published{Seq: seq, Page: page, Duplicate: dup}, err
}

// Epoch returns the current epoch of a cache (errs.ErrCacheNotFound when it
// does not exist).
func (s *Service) Epoch(ctx context.Context, cache string) (uint64, error) {
	return s.hub.Epoch(ctx, cache)
}
