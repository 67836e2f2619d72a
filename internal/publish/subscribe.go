package publish

import (
	"context"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/topics"
)

// Start is where a subscription starts, told to the subscriber first.
type Start struct {
	// Epoch and Seq: the stream continues after Seq of Epoch (the topic's
	// page), unless a discontinuity follows at once.
	Epoch, Seq uint64
	// Resumed: the subscriber asked to resume; InSync: it resumes with
	// nothing lost (MigratoryData's NOTIFY_DATA_SYNC; otherwise RESYNC).
	Resumed, InSync bool
}

// Delivery is a message as a subscriber receives it.
type Delivery struct {
	Seq, Epoch  uint64
	Value       topics.Value
	PublisherID string
	// Snapshot: the subject's retained message, delivered first.
	Snapshot bool
}

// Event is a Delivery, or (Msg == nil) a discontinuity: the messages after
// Gap.Last up to Gap.New of page Gap.Page are lost.
type Event struct {
	Msg *Delivery
	Gap topics.Discontinuity
}

// Subscription is one subscriber of a subject. Use it from one goroutine,
// as a topics.Subscription.
type Subscription struct {
	Subject string
	Start   Start

	sub     *topics.Subscription
	first   []Event // delivered before anything polled later
	skip    topics.Position
	hasSkip bool
	buf     []topics.Event
}

// Subscribe subscribes to subject. With epoch 0 it starts with new
// messages, after the subject's snapshot; otherwise it resumes after seq of
// epoch (the last message received) and gets the snapshot only when it
// could not resume in sync.
func (s *Service) Subscribe(ctx context.Context, subject string, epoch, seq uint64) (*Subscription, error) {
	cache, topic, err := ParseSubject(subject)
	if err != nil {
		return nil, err
	}
	var from topics.Position
	if epoch != 0 {
		from = topics.Position{Seq: seq + 1, Page: epoch}
	}
	sub, err := s.topics.Subscribe(ctx, cache, topic, from)
	if err != nil {
		return nil, err
	}
	out := &Subscription{Subject: subject, sub: sub}
	pos := sub.Position()
	out.Start = Start{Epoch: pos.Page, Seq: pos.Seq - 1, Resumed: epoch != 0}
	// A resume that cannot be honoured yields its discontinuity at once.
	evs, err := sub.Poll(ctx, make([]topics.Event, 0, 64))
	if err != nil {
		sub.Close()
		return nil, err
	}
	out.Start.InSync = out.Start.Resumed && (len(evs) == 0 || evs[0].Msg != nil)
	i := 0
	for ; i < len(evs) && evs[i].Msg == nil; i++ {
		out.first = append(out.first, Event{Gap: evs[i].Gap})
	}
	if !out.Start.InSync {
		snap, err := s.current(ctx, cache, topic)
		if err != nil {
			sub.Close()
			return nil, err
		}
		if snap != nil {
			out.first = append(out.first, Event{Msg: &Delivery{Seq: snap.Seq, Epoch: snap.Page, Value: topics.Value{Data: snap.Data, Binary: snap.Binary}, PublisherID: snap.Publisher, Snapshot: true}})
			out.skip, out.hasSkip = topics.Position{Seq: snap.Seq, Page: snap.Page}, true
		}
	}
	for _, ev := range evs[i:] {
		if d := out.delivery(ev); d != nil {
			out.first = append(out.first, *d)
		}
	}
	return out, nil
}

// delivery converts a hub event, dropping the live copy of the snapshot.
func (s *Subscription) delivery(ev topics.Event) *Event {
	if ev.Msg == nil {
		return &Event{Gap: ev.Gap}
	}
	m := ev.Msg
	if s.hasSkip && m.Seq == s.skip.Seq && m.Page == s.skip.Page {
		return nil
	}
	return &Event{Msg: &Delivery{Seq: m.Seq, Epoch: m.Page, Value: m.Value, PublisherID: m.PublisherID}}
}

// Ready returns a channel closed when Poll may have something new; take it
// before Poll.
func (s *Subscription) Ready() <-chan struct{} {
	if len(s.first) > 0 {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	return s.sub.Ready()
}

// Poll appends the events available now to dst (up to its capacity, 64
// when it has none) and fails once the subject's topic is gone
// (errs.ErrCacheNotFound, errs.ErrShuttingDown).
func (s *Subscription) Poll(ctx context.Context, dst []Event) ([]Event, error) {
	if cap(dst) == 0 {
		dst = make([]Event, 0, 64)
	}
	for len(s.first) > 0 && len(dst) < cap(dst) {
		dst = append(dst, s.first[0])
		s.first = s.first[1:]
	}
	if len(dst) == cap(dst) {
		return dst, nil
	}
	if n := cap(dst) - len(dst); cap(s.buf) < n {
		s.buf = make([]topics.Event, 0, n)
	}
	evs, err := s.sub.Poll(ctx, s.buf[:0:cap(dst)-len(dst)])
	for i, ev := range evs {
		if d := s.delivery(ev); d != nil {
			dst = append(dst, *d)
		}
		evs[i] = topics.Event{} // the hub's messages are not kept alive here
	}
	return dst, err
}

// Close ends the subscription.
func (s *Subscription) Close() { s.sub.Close() }

func principalTokenID(ctx context.Context) string {
	if p := auth.FromContext(ctx); p != nil {
		return p.TokenID
	}
	return ""
}
