package broker_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/broker"
	"github.com/setsuna-io/setsuna/internal/broker/brokertest"
)

func newMemory(t *testing.T, opts broker.Options) broker.Broker {
	b := broker.NewMemory(opts)
	t.Cleanup(func() { b.Close() })
	return b
}

func TestMemory(t *testing.T) {
	brokertest.Run(t, newMemory)
}

func TestFrameBuiltOnce(t *testing.T) {
	b := broker.NewMemory(broker.Options{})
	defer b.Close()
	top := broker.Topic{Cache: "c", Epoch: 1, Name: "t"}
	s1, _ := b.Subscribe(context.Background(), top, broker.Position{})
	s2, _ := b.Subscribe(context.Background(), top, broker.Position{})
	defer s1.Close()
	defer s2.Close()
	if _, _, err := b.Publish(context.Background(), top, broker.Value{Data: []byte("x")}, ""); err != nil {
		t.Fatal(err)
	}
	builds := 0
	build := func(m *broker.Message) any { builds++; return string(m.Value.Data) + "!" }
	for _, s := range []broker.Subscription{s1, s2} {
		evs, err := s.Poll(nil)
		if err != nil || len(evs) != 1 {
			t.Fatalf("poll: %v %v", evs, err)
		}
		if f := evs[0].Msg.Frame(build); f != "x!" {
			t.Fatalf("frame %v", f)
		}
	}
	if builds != 1 {
		t.Fatalf("frame built %d times for two subscribers", builds)
	}
}

func TestIdleTopicDropped(t *testing.T) {
	b := broker.NewMemory(broker.Options{IdleTopicTTL: 20 * time.Millisecond})
	defer b.Close()
	top := broker.Topic{Cache: "c", Epoch: 1, Name: "t"}
	_, page, err := b.Publish(context.Background(), top, broker.Value{Data: []byte("x")}, "")
	if err != nil {
		t.Fatal(err)
	}
	// Wait (without a timing assertion) until the janitor dropped the topic:
	// a resume at its page then gets the new page.
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := b.Subscribe(context.Background(), top, broker.Position{Seq: 2, Page: page})
		if err != nil {
			t.Fatal(err)
		}
		evs, _ := s.Poll(nil)
		s.Close()
		if len(evs) == 1 && evs[0].Msg == nil && evs[0].Gap.Page > page && evs[0].Gap.Last == 1 && evs[0].Gap.New == 0 {
			return
		}
		if len(evs) != 0 {
			t.Fatalf("resume on an idle topic: %+v", evs)
		}
		if time.Now().After(deadline) {
			t.Fatal("idle topic never dropped")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSubscribedTopicKept(t *testing.T) {
	b := broker.NewMemory(broker.Options{IdleTopicTTL: time.Millisecond})
	defer b.Close()
	top := broker.Topic{Cache: "c", Epoch: 1, Name: "t"}
	s, err := b.Subscribe(context.Background(), top, broker.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	time.Sleep(50 * time.Millisecond) // several janitor rounds
	if _, _, err := b.Publish(context.Background(), top, broker.Value{Data: []byte("x")}, ""); err != nil {
		t.Fatal(err)
	}
	evs, err := s.Poll(nil)
	if err != nil || len(evs) != 1 || evs[0].Msg == nil || evs[0].Msg.Seq != 1 {
		t.Fatalf("subscriber of a quiet topic lost a message: %+v %v", evs, err)
	}
}

func TestNoGoroutinesLeft(t *testing.T) {
	before := runtime.NumGoroutine()
	for i := 0; i < 10; i++ {
		b := broker.NewMemory(broker.Options{})
		s, _ := b.Subscribe(context.Background(), broker.Topic{Cache: "c", Epoch: 1, Name: "t"}, broker.Position{})
		s.Close()
		b.Close()
	}
	waitGoroutines(t, before)
}

// waitGoroutines waits until at most n goroutines run.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestValidTopicName(t *testing.T) {
	for name, want := range map[string]bool{"a": true, "topic-1/x.y": true, "日本": true, "": false, "a\x00": false, "\xc3": false} {
		if got := broker.ValidTopicName(name); got != want {
			t.Errorf("ValidTopicName(%q) = %v", name, got)
		}
	}
}

// BenchmarkMemoryFanOut: the engine alone, one publisher to 1, 100 and
// 1,000 polling subscribers, 100-byte messages, the publisher never waiting;
// reports messages delivered per second and the discontinuities of
// subscribers that fell more than the buffer behind.
func BenchmarkMemoryFanOut(b *testing.B) {
	for _, subs := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) {
			br := broker.NewMemory(broker.Options{})
			defer br.Close()
			top := broker.Topic{Cache: "c", Epoch: 1, Name: "t"}
			var wg sync.WaitGroup
			var gaps, delivered atomic.Int64
			for i := 0; i < subs; i++ {
				s, err := br.Subscribe(context.Background(), top, broker.Position{})
				if err != nil {
					b.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer s.Close()
					buf := make([]broker.Event, 0, 64)
					n := int64(0)
					defer func() { delivered.Add(n) }()
					for got := uint64(0); got < uint64(b.N); {
						ready := s.Ready()
						evs, err := s.Poll(buf[:0])
						if err != nil {
							return
						}
						for _, e := range evs {
							if e.Msg == nil {
								gaps.Add(1)
								got = e.Gap.New
							} else {
								got = e.Msg.Seq
								n++
							}
						}
						if len(evs) == 0 {
							<-ready
						}
					}
				}()
			}
			payload := make([]byte, 100)
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if _, _, err := br.Publish(context.Background(), top, broker.Value{Data: payload, Binary: true}, ""); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
			b.ReportMetric(float64(delivered.Load())/time.Since(start).Seconds(), "deliveries/s")
			b.ReportMetric(float64(gaps.Load()), "discontinuities")
		})
	}
}
