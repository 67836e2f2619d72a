package drivers

import (
	"context"
	"sync"
	"time"

	"github.com/setsuna-io/setsuna/client"
)

// SetsunaTopics drives Setsuna topics through the Go client's TopicClient:
// subscribers spread over conns clients (one gRPC connection each), the
// publisher on its own client. Topics live in the bench cache.
type SetsunaTopics struct {
	pub     *client.TopicClient
	clients []*client.TopicClient
	mu      sync.Mutex
	subs    []*client.TopicSubscription
	wg      sync.WaitGroup
}

func init() {
	NewSetsunaTopics = func(addr string, conns int) (Topics, error) {
		cfg := client.Config{Address: addr, Timeout: 10 * time.Second}
		t := &SetsunaTopics{}
		var err error
		if t.pub, err = client.NewTopicClient(cfg); err != nil {
			return nil, err
		}
		for i := 0; i < conns; i++ {
			c, err := client.NewTopicClient(cfg)
			if err != nil {
				t.Close()
				return nil, err
			}
			t.clients = append(t.clients, c)
		}
		return t, nil
	}
}

func (t *SetsunaTopics) Name() string { return "setsuna" }

func (t *SetsunaTopics) Subscribe(ctx context.Context, i int, topic string, handler func([]byte)) error {
	sub, err := t.clients[i%len(t.clients)].Subscribe(ctx, &client.TopicSubscribeRequest{CacheName: CacheName, TopicName: topic})
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.subs = append(t.subs, sub)
	t.mu.Unlock()
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		for {
			v, err := sub.Item(context.Background())
			if err != nil {
				return
			}
			switch b := v.(type) {
			case client.Bytes:
				handler(b)
			case client.String:
				handler([]byte(b))
			}
		}
	}()
	return nil
}

func (t *SetsunaTopics) Publish(ctx context.Context, topic string, payload []byte) error {
	_, err := t.pub.Publish(ctx, &client.TopicPublishRequest{CacheName: CacheName, TopicName: topic, Value: client.Bytes(payload)})
	return err
}

// Dropped is not observable from the Go client (a discontinuity event
// would say so; the scenario counts undelivered messages instead).
func (t *SetsunaTopics) Dropped() int64 { return 0 }

func (t *SetsunaTopics) Close() error {
	t.mu.Lock()
	subs := t.subs
	t.subs = nil
	t.mu.Unlock()
	for _, s := range subs {
		s.Close()
	}
	t.wg.Wait()
	if t.pub != nil {
		t.pub.Close()
	}
	for _, c := range t.clients {
		c.Close()
	}
	return nil
}
