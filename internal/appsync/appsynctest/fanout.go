// Package appsynctest holds in-process fakes of the appsync package's
// contracts, for tests and the test server. The real Fanout is the topics hub.
package appsynctest

import (
	"context"
	"sync"
)

// MemFanout is an in-process appsync.Fanout: Publish calls every subscriber's
// deliver before it returns, one publisher at a time per subscription.
type MemFanout struct {
	mu     sync.RWMutex
	next   int
	topics map[string]map[int]*memSub
	// Published counts events per topic (for tests).
	Published map[string]int
}

type memSub struct {
	mu      sync.Mutex
	deliver func([]byte)
}

// NewMemFanout returns an empty fan-out.
func NewMemFanout() *MemFanout {
	return &MemFanout{topics: map[string]map[int]*memSub{}, Published: map[string]int{}}
}

// Publish implements appsync.Fanout.
func (f *MemFanout) Publish(_ context.Context, topic string, event []byte) error {
	f.mu.Lock()
	f.Published[topic]++
	subs := make([]*memSub, 0, len(f.topics[topic]))
	for _, s := range f.topics[topic] {
		subs = append(subs, s)
	}
	f.mu.Unlock()
	for _, s := range subs {
		s.mu.Lock()
		if s.deliver != nil {
			s.deliver(event)
		}
		s.mu.Unlock()
	}
	return nil
}

// Subscribe implements appsync.Fanout.
func (f *MemFanout) Subscribe(topic string, deliver func([]byte)) (func(), error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	id := f.next
	if f.topics[topic] == nil {
		f.topics[topic] = map[int]*memSub{}
	}
	s := &memSub{deliver: deliver}
	f.topics[topic][id] = s
	return func() {
		f.mu.Lock()
		delete(f.topics[topic], id)
		if len(f.topics[topic]) == 0 {
			delete(f.topics, topic)
		}
		f.mu.Unlock()
		s.mu.Lock()
		s.deliver = nil
		s.mu.Unlock()
	}, nil
}

// Topics is the number of topics with subscribers (for tests).
func (f *MemFanout) Topics() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.topics)
}
