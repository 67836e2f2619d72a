// Package clustertest runs several Setsuna nodes as processes on the redis
// engine over one real Redis Cluster (3 primaries, 3 replicas), and checks
// what a cluster promises: a message published on one node reaches
// subscribers on the others in order, a feed read on one node sees writes
// made on another, a killed node loses no acknowledged write and its
// clients go on from another node without a silent gap, and a killed Redis
// primary is replaced by its replica without restarting any node.
package clustertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/client"
	"github.com/setsuna-io/setsuna/internal/redistest"
	"github.com/setsuna-io/setsuna/internal/testnode"
)

var redisCluster *redistest.Cluster

func TestMain(m *testing.M) {
	code := redistest.Main(m, redistest.Options{Primaries: 3, Replicas: 1}, &redisCluster)
	testnode.CleanupBinary()
	os.Exit(code)
}

// startNode starts a node on the shared Redis Cluster.
func startNode(t *testing.T, id string, flags ...string) *testnode.Proc {
	t.Helper()
	args := append([]string{"--engine", "redis", "--redis-addrs", strings.Join(redisCluster.Addrs(), ","),
		"--node-id", id}, flags...)
	return testnode.StartProc(t, args...)
}

func cacheClient(t *testing.T, addr string) *client.CacheClient {
	t.Helper()
	c, err := client.NewCacheClient(client.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var cacheSeq int

func newCache(t *testing.T, addr string) string {
	t.Helper()
	cacheSeq++
	name := fmt.Sprintf("cl-%s-%d-%d", strings.ReplaceAll(t.Name(), "/", "-"), os.Getpid(), cacheSeq)
	if _, err := cacheClient(t, addr).CreateCache(context.Background(), &client.CreateCacheRequest{CacheName: name}); err != nil {
		t.Fatalf("CreateCache on %s: %v", addr, err)
	}
	return name
}

// recorder is a PubSubListener that keeps what it got.
type recorder struct {
	mu       sync.Mutex
	msgs     []*client.PubSubMessage
	statuses []string
	changed  chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) OnMessage(m *client.PubSubMessage) {
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

func (r *recorder) OnStatus(status, info string) {
	r.mu.Lock()
	r.statuses = append(r.statuses, status+" "+info)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

func (r *recorder) wait(t *testing.T, what string, cond func(r *recorder) bool) {
	t.Helper()
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok, ch := cond(r), r.changed
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("timed out waiting for %s; statuses %q, %d messages", what, r.statuses, len(r.msgs))
		}
	}
}

func (r *recorder) has(s string) bool { return slices.Contains(r.statuses, s) }

func (r *recorder) contents() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.msgs {
		out = append(out, string(m.Content))
	}
	return out
}

func pubsub(t *testing.T, servers ...string) (*client.PubSubClient, *recorder) {
	t.Helper()
	rec := newRecorder()
	c, err := client.NewPubSubClient(client.PubSubConfig{Servers: servers, Listener: rec,
		Reconnect: client.ReconnectPolicy{QuickInitialDelay: 50 * time.Millisecond, BackoffBase: 200 * time.Millisecond, BackoffMax: time.Second},
		Liveness:  2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Disconnect)
	return c, rec
}

func subscribe(t *testing.T, c *client.PubSubClient, rec *recorder, subject string) {
	t.Helper()
	if err := c.Subscribe(subject); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, "subscribed to "+subject, func(r *recorder) bool { return r.has(client.NotifySubscribeAllow + " " + subject) })
}

// publish publishes until the publication is acknowledged (a publisher on
// another node may see NO_SUBSCRIBER while the subscriber moves nodes).
func publish(t *testing.T, c *client.PubSubClient, subject, content string) {
	t.Helper()
	key := fmt.Sprintf("%s-%s", subject, content)
	for tries := 0; ; tries++ {
		res, err := c.Publish(context.Background(), &client.PubSubMessage{Subject: subject, Content: []byte(content), IdempotencyKey: key})
		if err == nil && res.Status == client.PublishOK {
			return
		}
		if tries > 500 {
			t.Fatalf("publish %s %s: %+v %v", subject, content, res, err)
		}
		time.Sleep(20 * time.Millisecond) // wait for the subscriber to come back (a retry loop, not a synchronisation)
	}
}

// TestMessagesCrossNodes: a subscriber on A gets, in order, every message
// published on C; the subscriber count is cluster-wide (C sees A's
// subscriber: no NO_SUBSCRIBER).
func TestMessagesCrossNodes(t *testing.T) {
	a, b, c := startNode(t, "a"), startNode(t, "b"), startNode(t, "c")
	cache := newCache(t, b.Addr)
	subject := "/" + cache + "/scores"
	sub, rec := pubsub(t, a.Addr)
	subscribe(t, sub, rec, subject)
	pub, _ := pubsub(t, c.Addr)
	var want []string
	for i := range 200 {
		v := fmt.Sprint("m", i)
		want = append(want, v)
		res, err := pub.Publish(context.Background(), &client.PubSubMessage{Subject: subject, Content: []byte(v)})
		if err != nil || res.Status != client.PublishOK {
			t.Fatalf("publish %d on c: %+v, %v (want OK: a's subscriber counts on every node)", i, res, err)
		}
	}
	rec.wait(t, "200 messages", func(r *recorder) bool { return len(r.msgs) >= len(want) })
	if got := rec.contents(); !slices.Equal(got, want) {
		t.Fatalf("a received %q..., want %q... in order", got[:min(5, len(got))], want[:5])
	}
}

// TestFeedCrossNodes: a feed reader on B sees the writes made on A, and the
// items written on A are read on B.
func TestFeedCrossNodes(t *testing.T) {
	a, b := startNode(t, "a"), startNode(t, "b")
	cache := newCache(t, a.Addr)
	ca := cacheClient(t, a.Addr)
	ctx := context.Background()
	for i := range 50 {
		if _, err := ca.Set(ctx, &client.SetRequest{CacheName: cache, Key: client.String(fmt.Sprint("k", i)), Value: client.String(fmt.Sprint("v", i))}); err != nil {
			t.Fatal(err)
		}
	}
	cb := cacheClient(t, b.Addr)
	resp, err := cb.Get(ctx, &client.GetRequest{CacheName: cache, Key: client.String("k49")})
	if hit, ok := resp.(*client.GetHit); err != nil || !ok || hit.ValueString() != "v49" {
		t.Fatalf("Get k49 on b = %v, %v; want v49", resp, err)
	}
	fc, err := client.NewFeedClient(client.Config{Address: b.Addr})
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	it := fc.NewFeedIterator(cache, client.StartFromBeginning(), client.LatestVersion, nil)
	seen := map[string]bool{}
	for {
		page, err := it.ReadNext(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range page.Items {
			seen[string(ch.Key)] = true
		}
		if page.NotModified() {
			break
		}
	}
	if len(seen) != 50 {
		t.Fatalf("feed on b saw %d keys, want the 50 written on a", len(seen))
	}
}

// TestNodeKilled: SIGKILL of the node a subscriber and a writer use. Every
// write it acknowledged is on the other node; the subscriber fails over to
// the other node and resumes with nothing lost (DATA_SYNC), or says what it
// lost (DATA_RESYNC): never a silent gap.
func TestNodeKilled(t *testing.T) {
	nodes := []*testnode.Proc{startNode(t, "a"), startNode(t, "b")}
	cache := newCache(t, nodes[1].Addr)
	subject := "/" + cache + "/orders"
	sub, rec := pubsub(t, nodes[0].Addr, nodes[1].Addr)
	subscribe(t, sub, rec, subject)
	// The client picks a server at random: kill the one it is on.
	victim, survivor := nodes[0], nodes[1]
	if sub.Server() == survivor.Addr {
		victim, survivor = survivor, victim
	}
	pub, _ := pubsub(t, survivor.Addr)
	cv := cacheClient(t, victim.Addr)
	ctx := context.Background()
	var want []string
	for i := range 20 {
		want = append(want, fmt.Sprint("m", i))
		publish(t, pub, subject, want[i])
		if _, err := cv.Set(ctx, &client.SetRequest{CacheName: cache, Key: client.String(fmt.Sprint("k", i)), Value: client.String("v"), Ttl: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	rec.wait(t, "the first 20 messages", func(r *recorder) bool { return len(r.msgs) >= 20 })
	victim.Kill()
	for i := 20; i < 40; i++ {
		want = append(want, fmt.Sprint("m", i))
		publish(t, pub, subject, want[i])
	}
	rec.wait(t, "40 messages or a resync", func(r *recorder) bool {
		return len(r.msgs) >= 40 || r.has(client.NotifyDataResync+" "+subject)
	})
	if got := sub.Server(); got != survivor.Addr {
		t.Fatalf("subscriber on %s after the kill, want the survivor %s", got, survivor.Addr)
	}
	if rec.has(client.NotifyDataResync + " " + subject) {
		t.Logf("the subscriber reported lost messages (DATA_RESYNC): allowed, never silent")
	} else if got := rec.contents(); !slices.Equal(got, want) {
		t.Fatalf("received %q, want %q: a gap without DATA_RESYNC", got, want)
	}
	cs := cacheClient(t, survivor.Addr)
	for i := range 20 {
		resp, err := cs.Get(ctx, &client.GetRequest{CacheName: cache, Key: client.String(fmt.Sprint("k", i))})
		if _, ok := resp.(*client.GetHit); err != nil || !ok {
			t.Fatalf("k%d, acknowledged by the killed node, on the survivor: %v, %v", i, resp, err)
		}
	}
}

// TestRedisPrimaryKilled: SIGKILL of a Redis primary while a node writes.
// The replica takes over and the node recovers by itself; the test logs
// what was lost: with --redis-wait-replicas 1 an acknowledged write is on
// the replica, so nothing is.
func TestRedisPrimaryKilled(t *testing.T) {
	for _, wait := range []int{0, 1} {
		t.Run(fmt.Sprintf("wait-replicas=%d", wait), func(t *testing.T) {
			n := startNode(t, fmt.Sprint("w", wait), "--redis-wait-replicas", fmt.Sprint(wait))
			cache := newCache(t, n.Addr)
			c := cacheClient(t, n.Addr)
			ctx := context.Background()
			var acked []string
			unknown, refused := 0, 0
			write := func(i int) error {
				k := fmt.Sprint("k", i)
				_, err := c.Set(ctx, &client.SetRequest{CacheName: cache, Key: client.String(k), Value: client.String("v"), Ttl: time.Hour})
				if err == nil {
					acked = append(acked, k)
				}
				return err
			}
			// A subscriber on the node, to a topic published through it
			// before, during and after the failover.
			subject := "/" + cache + "/failover"
			sub, rec := pubsub(t, n.Addr)
			subscribe(t, sub, rec, subject)
			pub, _ := pubsub(t, n.Addr)
			var published []string
			publishSome := func(from, to int) {
				for i := from; i < to; i++ {
					v := fmt.Sprint("m", i)
					res, err := pub.Publish(ctx, &client.PubSubMessage{Subject: subject, Content: []byte(v)})
					if err == nil && res.Status == client.PublishOK {
						published = append(published, v)
					}
				}
			}
			for i := range 200 {
				if err := write(i); err != nil {
					t.Fatal(err)
				}
			}
			publishSome(0, 20)
			primary, err := redisCluster.Primary("k0")
			if err != nil {
				t.Fatal(err)
			}
			primary.Kill()
			restarted := false
			t.Cleanup(func() {
				if !restarted {
					_ = primary.Start()
					_ = redisCluster.WaitHealthy(60 * time.Second)
				}
			})
			// Write on while the replica takes over: some writes fail
			// (UNAVAILABLE), none is reported done without being done.
			for i := 200; i < 300 && unknown+refused < 10; i++ {
				if err := write(i); err != nil {
					var ce *client.Error
					if !errors.As(err, &ce) {
						t.Fatalf("write %d: %v", i, err)
					}
					if strings.Contains(err.Error(), "outcome is unknown") {
						unknown++
					} else {
						refused++
					}
				}
			}
			if err := redisCluster.WaitHealthy(60 * time.Second); err != nil {
				t.Fatal(err)
			}
			// The old primary comes back as the new one's replica (with
			// --redis-wait-replicas 1, writes to its slots cannot be
			// confirmed until it does).
			if err := primary.Start(); err != nil {
				t.Fatal(err)
			}
			restarted = true
			if err := redisCluster.WaitHealthy(60 * time.Second); err != nil {
				t.Fatal(err)
			}
			// The node recovers without a restart.
			for i := 300; ; i++ {
				err := write(i)
				if err == nil {
					break
				}
				if i > 2000 {
					t.Fatalf("the node does not recover after the failover: %v", err)
				}
				time.Sleep(10 * time.Millisecond) // a retry loop while slots settle, not a synchronisation
			}
			publishSome(20, 40)
			rec.wait(t, "every acknowledged message or a resync", func(r *recorder) bool {
				return len(r.msgs) >= len(published) || r.has(client.NotifyDataResync+" "+subject)
			})
			got := rec.contents()
			if !rec.has(client.NotifyDataResync+" "+subject) && !slices.Equal(got, published) {
				t.Fatalf("subscriber got %q, want %q or a DATA_RESYNC: a silent gap", got, published)
			}
			lost := 0
			for _, k := range acked {
				resp, err := c.Get(ctx, &client.GetRequest{CacheName: cache, Key: client.String(k)})
				if err != nil {
					t.Fatalf("Get %s after the failover: %v", k, err)
				}
				if _, ok := resp.(*client.GetHit); !ok {
					lost++
				}
			}
			t.Logf("--redis-wait-replicas %d: %d acknowledged writes, %d lost in the failover; %d writes refused, %d of unknown outcome; the subscriber got %d of %d acknowledged messages (resync: %v)",
				wait, len(acked), lost, refused, unknown, len(got), len(published), rec.has(client.NotifyDataResync+" "+subject))
			if wait > 0 && lost > 0 {
				t.Fatalf("%d acknowledged writes lost although each waited for a replica", lost)
			}
		})
	}
}
