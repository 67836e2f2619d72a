package drivers

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// NATS drives nats-server core pub/sub through nats.go. Subscribers are
// spread over conns connections; the publisher has its own connection.
type NATS struct {
	pub   *nats.Conn
	conns []*nats.Conn
	subs  []*nats.Subscription
	drops atomic.Int64
}

// NewNATS connects conns subscriber connections and one publisher
// connection to url, retrying until the server answers or ctx ends.
func NewNATS(ctx context.Context, url string, conns int) (*NATS, error) {
	n := &NATS{}
	dial := func() (*nats.Conn, error) {
		for {
			nc, err := nats.Connect(url, nats.NoReconnect(), nats.Name("setsuna-bench"),
				nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
					if err == nats.ErrSlowConsumer {
						n.drops.Add(1)
					}
				}))
			if err == nil {
				return nc, nil
			}
			if ctx.Err() != nil {
				return nil, fmt.Errorf("nats at %s not ready: %w", url, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	var err error
	if n.pub, err = dial(); err != nil {
		return nil, err
	}
	for i := 0; i < conns; i++ {
		nc, err := dial()
		if err != nil {
			n.Close()
			return nil, err
		}
		n.conns = append(n.conns, nc)
	}
	return n, nil
}

func (n *NATS) Name() string { return "nats" }

func (n *NATS) Subscribe(ctx context.Context, i int, topic string, handler func([]byte)) error {
	nc := n.conns[i%len(n.conns)]
	sub, err := nc.Subscribe(topic, func(m *nats.Msg) { handler(m.Data) })
	if err != nil {
		return err
	}
	// Generous client-side buffers: the publisher's window, not the client's
	// pending limit, is what keeps the run loss-free.
	if err := sub.SetPendingLimits(1<<20, 256<<20); err != nil {
		return err
	}
	n.subs = append(n.subs, sub)
	// Flush makes the server process the SUB before we publish.
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return nc.FlushWithContext(fctx)
}

func (n *NATS) Publish(_ context.Context, topic string, payload []byte) error {
	return n.pub.Publish(topic, payload)
}

func (n *NATS) Dropped() int64 {
	var d int64
	for _, s := range n.subs {
		if c, err := s.Dropped(); err == nil {
			d += int64(c)
		}
	}
	return d
}

func (n *NATS) Close() error {
	if n.pub != nil {
		n.pub.Close()
	}
	for _, c := range n.conns {
		c.Close()
	}
	return nil
}
