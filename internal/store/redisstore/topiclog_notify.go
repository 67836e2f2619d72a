package redisstore

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// Wake-ups. Every append SPUBLISHes on its topic's channel (in the topic's
// slot). A log subscribes only to the channels of topics someone waits on:
// one connection per primary that serves such a channel, each channel with
// its own SSUBSCRIBE (one slot per command, as Redis requires). Notify
// returns once Redis confirmed the subscription, so an append after Notify
// returns always wakes the channel it handed out.
//
// Nothing is missed silently: a connection that fails (or stops answering
// pings) is closed and every channel on it is woken; its waiters read again
// and subscribe anew. A subscription nobody renewed with Notify within a
// sweep period is dropped, waking whoever still holds its channel, so the
// subscribed channels stay bounded by the topics with waiters. go-redis's
// own resubscription after a reconnect is never relied on: it sends every
// channel in one command, which a cluster refuses across slots.

// topicSubscribeTimeout bounds the wait for Redis to confirm an SSUBSCRIBE.
const topicSubscribeTimeout = 5 * time.Second

type topicWaiter struct {
	ch     chan struct{} // closed at the next wake-up; replaced then
	sh     *topicShard
	ready  chan struct{} // closed once confirmed (active) or failed (err)
	active bool
	err    error
	used   bool // Notify handed out ch since the last sweep
}

// topicShard is one wake-up connection, to the primary at addr.
type topicShard struct {
	addr  string
	ps    *redis.PubSub
	subs  map[string]*topicWaiter
	unsub map[string]int // SUNSUBSCRIBEs sent and not yet confirmed
	dead  bool
}

// Notify implements store.TopicLog.
func (l *TopicLog) Notify(ctx context.Context, ref store.TopicRef) (<-chan struct{}, error) {
	if err := l.check(ref); err != nil {
		return nil, err
	}
	ch, err := l.subscribe(ctx, keysOfTopic(ref).wake)
	if err != nil {
		return nil, l.fail(err)
	}
	// Like Open: the topic exists (and its epoch is valid) once Notify returns.
	if _, err := l.Open(ctx, ref); err != nil {
		return nil, err
	}
	return ch, nil
}

// subscribe returns the current wake-up channel of channel, subscribing
// first when needed.
func (l *TopicLog) subscribe(ctx context.Context, channel string) (<-chan struct{}, error) {
	for attempt := 0; ; attempt++ {
		l.mu.Lock()
		if l.closed.Load() {
			l.mu.Unlock()
			return nil, errs.ErrShuttingDown
		}
		w := l.waiters[channel]
		if w == nil {
			l.mu.Unlock()
			if attempt >= 3 {
				return nil, errs.ErrUnavailable.Because(errors.New("redis wake-up connection keeps failing"))
			}
			if err := l.addWaiter(ctx, channel); err != nil {
				return nil, err
			}
			continue
		}
		if w.active {
			w.used = true
			ch := w.ch
			l.mu.Unlock()
			return ch, nil
		}
		ready := w.ready
		l.mu.Unlock()
		t := time.NewTimer(topicSubscribeTimeout)
		select {
		case <-ready:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
			l.teardown(w.sh, errors.New("SSUBSCRIBE not confirmed in time"))
		}
		l.mu.Lock()
		err := w.err
		l.mu.Unlock()
		if err != nil {
			if l.closed.Load() {
				return nil, errs.ErrShuttingDown
			}
			return nil, errs.ErrUnavailable.Because(err)
		}
	}
}

// addWaiter subscribes to channel on the connection of its primary; the
// confirmation arrives on the connection's receiver.
func (l *TopicLog) addWaiter(ctx context.Context, channel string) error {
	sh, err := l.shardFor(ctx, channel)
	if err != nil {
		return err
	}
	l.mu.Lock()
	if l.waiters[channel] != nil || sh.dead || l.closed.Load() {
		l.mu.Unlock()
		return nil // the caller looks again
	}
	w := &topicWaiter{ch: make(chan struct{}), sh: sh, ready: make(chan struct{}), used: true}
	l.waiters[channel] = w
	sh.subs[channel] = w
	l.mu.Unlock()
	// Not ctx: go-redis drops the connection when a command's context ends.
	if err := sh.ps.SSubscribe(context.Background(), channel); err != nil {
		l.teardown(sh, err)
	}
	return nil
}

// shardFor returns the connection to the primary of channel's slot.
func (l *TopicLog) shardFor(ctx context.Context, channel string) (*topicShard, error) {
	var addr string
	var sub func() *redis.PubSub
	if cc, ok := l.c.(*redis.ClusterClient); ok {
		m, err := cc.MasterForKey(ctx, channel)
		if err != nil {
			return nil, errs.ErrUnavailable.Because(err)
		}
		addr = m.Options().Addr
		sub = func() *redis.PubSub { return m.SSubscribe(context.Background()) }
	} else {
		sub = func() *redis.PubSub { return l.c.SSubscribe(context.Background()) }
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return nil, errs.ErrShuttingDown
	}
	if sh := l.shards[addr]; sh != nil && !sh.dead {
		return sh, nil
	}
	sh := &topicShard{addr: addr, ps: sub(), subs: map[string]*topicWaiter{}, unsub: map[string]int{}}
	l.shards[addr] = sh
	l.wg.Add(1)
	go l.receive(sh)
	return sh, nil
}

// receive reads one connection until it fails.
func (l *TopicLog) receive(sh *topicShard) {
	defer l.wg.Done()
	pinged := false
	for {
		msg, err := sh.ps.ReceiveTimeout(context.Background(), l.o.pingEvery)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !pinged {
				// Quiet: make sure the connection still answers.
				pinged = true
				if err = sh.ps.Ping(context.Background()); err == nil {
					continue
				}
			}
			l.teardown(sh, err)
			return
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Message:
			l.wake(sh, m.Channel)
		case *redis.Subscription:
			l.confirm(sh, m)
		case *redis.Pong:
			if l.o.onPong != nil {
				l.o.onPong()
			}
		}
	}
}

func (l *TopicLog) wake(sh *topicShard, channel string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := sh.subs[channel]; w != nil && w.active {
		close(w.ch)
		w.ch = make(chan struct{})
	}
}

func (l *TopicLog) confirm(sh *topicShard, m *redis.Subscription) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch m.Kind {
	case "ssubscribe":
		if w := sh.subs[m.Channel]; w != nil && !w.active {
			w.active = true
			close(w.ready)
		}
	case "sunsubscribe":
		if n := sh.unsub[m.Channel]; n > 0 {
			if n == 1 {
				delete(sh.unsub, m.Channel)
			} else {
				sh.unsub[m.Channel] = n - 1
			}
			return
		}
		// Unasked: the slot left this primary (resharding, failover).
		if w := sh.subs[m.Channel]; w != nil {
			l.dropWaiter(w, m.Channel, errors.New("unsubscribed by redis"))
		}
	}
}

// dropWaiter wakes and forgets a subscription. Under l.mu.
func (l *TopicLog) dropWaiter(w *topicWaiter, channel string, err error) {
	close(w.ch)
	if !w.active {
		w.err = err
		close(w.ready)
	}
	delete(w.sh.subs, channel)
	if l.waiters[channel] == w {
		delete(l.waiters, channel)
	}
}

// teardown closes a connection and wakes every channel on it.
func (l *TopicLog) teardown(sh *topicShard, err error) {
	l.mu.Lock()
	if sh.dead {
		l.mu.Unlock()
		return
	}
	sh.dead = true
	if l.shards[sh.addr] == sh {
		delete(l.shards, sh.addr)
	}
	n := len(sh.subs)
	for ch, w := range sh.subs {
		l.dropWaiter(w, ch, err)
	}
	l.mu.Unlock()
	_ = sh.ps.Close()
	if l.closed.Load() || err == nil {
		return
	}
	l.o.Logger.Warn("redis topic wake-up connection lost; its waiters read again", "addr", sh.addr, "channels", n, "err", err)
	if cc, ok := l.c.(*redis.ClusterClient); ok {
		cc.ReloadState(context.Background()) // the slot may have moved
	}
}

// closeWaiters ends every connection (Close).
func (l *TopicLog) closeWaiters() {
	l.mu.Lock()
	shards := make([]*topicShard, 0, len(l.shards))
	for _, sh := range l.shards {
		shards = append(shards, sh)
	}
	l.mu.Unlock()
	for _, sh := range shards {
		l.teardown(sh, errs.ErrShuttingDown)
	}
}

// sweeper drops the subscriptions nobody renewed.
func (l *TopicLog) sweeper() {
	defer l.wg.Done()
	t := time.NewTicker(l.o.sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.sweep()
		}
	}
}

// sweep drops the subscriptions without a Notify since the last sweep and
// closes connections left without subscriptions.
func (l *TopicLog) sweep() {
	type drop struct {
		sh *topicShard
		ch string
	}
	var drops []drop
	var idle []*topicShard
	l.mu.Lock()
	for ch, w := range l.waiters {
		if !w.active {
			continue
		}
		if w.used {
			w.used = false
			continue
		}
		l.dropWaiter(w, ch, nil)
		w.sh.unsub[ch]++
		drops = append(drops, drop{w.sh, ch})
	}
	for _, sh := range l.shards {
		if len(sh.subs) == 0 {
			idle = append(idle, sh)
		}
	}
	l.mu.Unlock()
	for _, d := range drops {
		if err := d.sh.ps.SUnsubscribe(context.Background(), d.ch); err != nil {
			l.teardown(d.sh, err)
		}
	}
	for _, sh := range idle {
		l.teardown(sh, nil)
	}
}

// subscribed is the number of channels the log subscribes to (tests).
func (l *TopicLog) subscribed() (channels, conns int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.waiters), len(l.shards)
}
