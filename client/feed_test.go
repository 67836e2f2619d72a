package client_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/client"
	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/testnode"
)

// feedEnv is a running node, a cache client and a feed client.
type feedEnv struct {
	cache *client.CacheClient
	feed  *client.FeedClient
	name  string
}

func newFeedEnv(t *testing.T) *feedEnv {
	t.Helper()
	cfg := client.Config{Address: testnode.Start(t, embed.Config{}).Addr()}
	cc, err := client.NewCacheClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := client.NewFeedClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cc.Close()
		fc.Close()
	})
	e := &feedEnv{cache: cc, feed: fc, name: "feed"}
	if _, err := cc.CreateCache(t.Context(), &client.CreateCacheRequest{CacheName: e.name}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *feedEnv) set(t *testing.T, key, value string, ttl time.Duration) {
	t.Helper()
	if ttl == 0 {
		ttl = time.Hour
	}
	if _, err := e.cache.Set(t.Context(), &client.SetRequest{CacheName: e.name, Key: client.String(key), Value: client.String(value), Ttl: ttl}); err != nil {
		t.Fatal(err)
	}
}

func (e *feedEnv) del(t *testing.T, key string) {
	t.Helper()
	if _, err := e.cache.Delete(t.Context(), &client.DeleteRequest{CacheName: e.name, Key: client.String(key)}); err != nil {
		t.Fatal(err)
	}
}

// drain reads until NotModified and returns the items and the token of
// the NotModified response.
func drain(t *testing.T, it *client.FeedIterator) ([]client.ChangeFeedItem, string) {
	t.Helper()
	var out []client.ChangeFeedItem
	for it.HasMoreResults() {
		resp, err := it.ReadNext(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if resp.ContinuationToken() == "" {
			t.Fatal("response without a continuation token")
		}
		if resp.NotModified() {
			if resp.Count() != 0 {
				t.Fatal("NotModified with items")
			}
			return out, resp.ContinuationToken()
		}
		out = append(out, resp.Items...)
	}
	return nil, ""
}

func show(items []client.ChangeFeedItem) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		s := fmt.Sprintf("%s %s", it.Metadata.OperationType, it.Key)
		if it.Current != nil {
			s += "=" + it.Current.ValueString()
		}
		if it.Previous != nil {
			s += " prev=" + it.Previous.ValueString()
		}
		if it.Metadata.TimeToLiveExpired {
			s += " ttl"
		}
		out = append(out, s)
	}
	return out
}

func sorted(s []string) []string { slices.Sort(s); return s }

func TestFeedWholeCacheFromNow(t *testing.T) {
	e := newFeedEnv(t)
	e.set(t, "before", "x", 0)
	it := e.feed.NewFeedIterator(e.name, client.StartFromNow(), client.LatestVersion, nil)
	if items, _ := drain(t, it); len(items) != 0 {
		t.Fatalf("from now, before writes: %q", show(items))
	}
	e.set(t, "a", "1", 0)
	e.set(t, "b", "1", 0)
	e.set(t, "a", "2", 0)
	items, _ := drain(t, it)
	if got := sorted(show(items)); !slices.Equal(got, []string{"create b=1", "replace a=2"}) {
		t.Fatalf("whole cache from now: %q", got)
	}
}

func TestFeedFromBeginning(t *testing.T) {
	e := newFeedEnv(t)
	for i := range 30 {
		e.set(t, fmt.Sprint("k", i), fmt.Sprint(i), 0)
	}
	e.del(t, "k7")
	it := e.feed.NewFeedIterator(e.name, client.StartFromBeginning(), client.LatestVersion, &client.FeedOptions{PageSizeHint: 4})
	items, _ := drain(t, it)
	if len(items) != 29 {
		t.Fatalf("%d items from the beginning, want 29 (deletes do not show)", len(items))
	}
	for _, it := range items {
		if string(it.Key) == "k7" || it.Current == nil || it.Previous != nil {
			t.Fatalf("item %+v", it)
		}
	}
}

func TestFeedPartitionKey(t *testing.T) {
	e := newFeedEnv(t)
	for i := range 20 {
		e.set(t, fmt.Sprint("user", i%4), fmt.Sprint(i), 0)
	}
	r, err := client.FeedRangeForPartitionKey("user1")
	if err != nil {
		t.Fatal(err)
	}
	it := e.feed.NewFeedIterator(e.name, client.StartFromBeginning(), client.LatestVersion, &client.FeedOptions{Range: &r})
	items, tok := drain(t, it)
	if got := show(items); !slices.Equal(got, []string{"replace user1=17"}) {
		t.Fatalf("partition key user1: %q", got)
	}
	e.set(t, "user2", "x", 0)
	e.set(t, "user1", "y", 0)
	it = e.feed.NewFeedIterator(e.name, client.StartFromContinuation(tok), client.LatestVersion, nil)
	items, _ = drain(t, it)
	if got := show(items); !slices.Equal(got, []string{"replace user1=y"}) {
		t.Fatalf("partition key user1 resumed: %q", got)
	}
}

// TestFeedTwoMachines: an orchestrator hands the two halves of the ranges to
// two readers as JSON strings; read in parallel, they see every item once.
func TestFeedTwoMachines(t *testing.T) {
	e := newFeedEnv(t)
	const n = 300
	for i := range n {
		e.set(t, fmt.Sprint("item-", i), "v", 0)
	}
	ranges, err := e.feed.GetFeedRanges(t.Context(), e.name)
	if err != nil || len(ranges) < 2 {
		t.Fatalf("GetFeedRanges: %v, %v", ranges, err)
	}
	half := len(ranges) / 2
	jsons := []string{
		fmt.Sprintf(`{"Range":{"min":%q,"max":%q}}`, ranges[0].MinEPK, ranges[half-1].MaxEPK),
		fmt.Sprintf(`{"Range":{"min":%q,"max":%q}}`, ranges[half].MinEPK, ranges[len(ranges)-1].MaxEPK),
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for _, js := range jsons {
		wg.Go(func() {
			r, err := client.FeedRangeFromJSONString(js)
			if err != nil {
				t.Error(err)
				return
			}
			it := e.feed.NewFeedIterator(e.name, client.StartFromBeginning(), client.LatestVersion, &client.FeedOptions{Range: &r, PageSizeHint: 17})
			for {
				resp, err := it.ReadNext(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if resp.NotModified() {
					return
				}
				mu.Lock()
				for _, item := range resp.Items {
					seen[string(item.Key)]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("the two machines saw %d distinct items, want %d", len(seen), n)
	}
	for k, c := range seen {
		if c != 1 {
			t.Fatalf("%s seen %d times", k, c)
		}
	}
	// Each range of GetFeedRanges survives a JSON round trip.
	for _, r := range ranges {
		back, err := client.FeedRangeFromJSONString(r.ToJSONString())
		if err != nil || back.MinEPK != r.MinEPK || back.MaxEPK != r.MaxEPK {
			t.Fatalf("round trip of %s: %+v, %v", r.ToJSONString(), back, err)
		}
	}
}

func TestFeedContinuationOnNotModified(t *testing.T) {
	e := newFeedEnv(t)
	for i := range 10 {
		e.set(t, fmt.Sprint("k", i), "1", 0)
	}
	it := e.feed.NewFeedIterator(e.name, client.StartFromBeginning(), client.LatestVersion, nil)
	items, tok := drain(t, it)
	if len(items) != 10 {
		t.Fatalf("%d items", len(items))
	}
	e.set(t, "k3", "2", 0)
	e.set(t, "new", "1", 0)
	resumed := e.feed.NewFeedIterator(e.name, client.StartFromContinuation(tok), client.LatestVersion, nil)
	items, _ = drain(t, resumed)
	if got := sorted(show(items)); !slices.Equal(got, []string{"create new=1", "replace k3=2"}) {
		t.Fatalf("resumed: %q", got)
	}
}

func TestFeedAllVersionsAndDeletes(t *testing.T) {
	e := newFeedEnv(t)
	e.set(t, "old", "0", 0)
	bad := e.feed.NewFeedIterator(e.name, client.StartFromBeginning(), client.AllVersionsAndDeletes, nil)
	if _, err := bad.ReadNext(t.Context()); !errors.Is(err, client.ErrInvalidArgument) || !strings.Contains(err.Error(), "retention period") {
		t.Fatalf("all versions from the beginning: %v", err)
	}
	it := e.feed.NewFeedIterator(e.name, client.StartFromNow(), client.AllVersionsAndDeletes, nil)
	drain(t, it)
	e.set(t, "a", "1", 0)
	e.set(t, "a", "2", 0)
	e.del(t, "a")
	e.set(t, "t", "x", 20*time.Millisecond)
	var items []client.ChangeFeedItem
	deadline := time.Now().Add(10 * time.Second)
	for len(items) < 5 && time.Now().Before(deadline) {
		more, _ := drain(t, it)
		items = append(items, more...)
		time.Sleep(10 * time.Millisecond)
	}
	want := []string{"create a=1", "replace a=2 prev=1", "delete a prev=2", "create t=x", "delete t prev=x ttl"}
	// Per key, changes come in LSN order.
	var gotA, gotT []string
	for _, s := range show(items) {
		if strings.Contains(s, " a") {
			gotA = append(gotA, s)
		} else {
			gotT = append(gotT, s)
		}
	}
	if !slices.Equal(append(gotA, gotT...), want) {
		t.Fatalf("all versions: %q, want %q", show(items), want)
	}
	for _, it := range items {
		if it.Metadata.LSN == 0 || it.Metadata.CommitTime.IsZero() {
			t.Fatalf("metadata %+v", it.Metadata)
		}
	}
}

func TestFeedBatchInOnePage(t *testing.T) {
	e := newFeedEnv(t)
	it := e.feed.NewFeedIterator(e.name, client.StartFromNow(), client.AllVersionsAndDeletes, &client.FeedOptions{PageSizeHint: 1})
	drain(t, it)
	var batch []client.BatchSetItem
	for i := range 40 {
		batch = append(batch, client.BatchSetItem{Key: client.String(fmt.Sprint("b", i)), Value: client.String("v")})
	}
	if _, err := e.cache.SetBatch(t.Context(), &client.SetBatchRequest{CacheName: e.name, Items: batch, Ttl: time.Hour}); err != nil {
		t.Fatal(err)
	}
	total := 0
	for {
		resp, err := it.ReadNext(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if resp.NotModified() {
			break
		}
		// One page per partition: the batch's changes of a partition are
		// consecutive and never split.
		last := resp.Items[resp.Count()-1].Metadata
		for _, item := range resp.Items {
			if item.Metadata.BatchEndLSN != last.LSN || item.Metadata.Partition != last.Partition {
				t.Fatalf("page of %d items split a batch: %+v", resp.Count(), item.Metadata)
			}
		}
		total += resp.Count()
	}
	if total != 40 {
		t.Fatalf("%d batch changes, want 40", total)
	}
}

func TestFeedTokenErrors(t *testing.T) {
	e := newFeedEnv(t)
	e.set(t, "a", "1", 0)
	it := e.feed.NewFeedIterator(e.name, client.StartFromBeginning(), client.LatestVersion, nil)
	_, tok := drain(t, it)
	for _, bad := range []string{"garbage", "v1.", "v1.e30", tok[:len(tok)-3], tok + "x"} {
		_, err := e.feed.NewFeedIterator(e.name, client.StartFromContinuation(bad), client.LatestVersion, nil).ReadNext(t.Context())
		if !errors.Is(err, client.ErrInvalidArgument) {
			t.Fatalf("token %q: %v, want InvalidArgument", bad, err)
		}
	}
	if _, err := e.feed.NewFeedIterator("other", client.StartFromContinuation(tok), client.LatestVersion, nil).ReadNext(t.Context()); !errors.Is(err, client.ErrCacheNotFound) {
		t.Fatalf("token on a missing cache: %v", err)
	}
	// Delete and re-create: the old token is refused, never re-read from 0.
	if _, err := e.cache.DeleteCache(t.Context(), &client.DeleteCacheRequest{CacheName: e.name}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cache.CreateCache(t.Context(), &client.CreateCacheRequest{CacheName: e.name}); err != nil {
		t.Fatal(err)
	}
	_, err := e.feed.NewFeedIterator(e.name, client.StartFromContinuation(tok), client.LatestVersion, nil).ReadNext(t.Context())
	if !client.IsFeedEpochError(err) {
		t.Fatalf("token of the old epoch: %v", err)
	}
	// All-versions retention: a flush ends it.
	all := e.feed.NewFeedIterator(e.name, client.StartFromNow(), client.AllVersionsAndDeletes, nil)
	_, tok = drain(t, all)
	e.set(t, "x", "1", 0)
	if _, err := e.cache.FlushCache(t.Context(), &client.FlushCacheRequest{CacheName: e.name}); err != nil {
		t.Fatal(err)
	}
	_, err = e.feed.NewFeedIterator(e.name, client.StartFromContinuation(tok), client.AllVersionsAndDeletes, nil).ReadNext(t.Context())
	if !client.IsFeedRetentionError(err) {
		t.Fatalf("all versions across a flush: %v", err)
	}
}

func TestFeedPointInTime(t *testing.T) {
	e := newFeedEnv(t)
	e.set(t, "early", "1", 0)
	time.Sleep(30 * time.Millisecond)
	at := time.Now()
	time.Sleep(30 * time.Millisecond)
	e.set(t, "late", "1", 0)
	items, _ := drain(t, e.feed.NewFeedIterator(e.name, client.StartFromTime(at), client.LatestVersion, nil))
	if got := show(items); !slices.Equal(got, []string{"create late=1"}) {
		t.Fatalf("from %v: %q", at, got)
	}
}

func TestFeedTail(t *testing.T) {
	e := newFeedEnv(t)
	it := e.feed.NewFeedIterator(e.name, client.StartFromNow(), client.LatestVersion, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got := make(chan string, 10)
	done := make(chan error, 1)
	go func() {
		done <- it.Tail(ctx, func(r *client.FeedResponse) error {
			for _, item := range r.Items {
				got <- string(item.Key)
			}
			if r.NotModified() {
				got <- "<caught up>"
			}
			return nil
		})
	}()
	if s := <-got; s != "<caught up>" {
		t.Fatalf("first message %q", s)
	}
	e.set(t, "pushed", "1", 0)
	if s := <-got; s != "pushed" {
		t.Fatalf("pushed change: %q", s)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Tail ended with %v", err)
	}
	// The iterator continues after the last page Tail passed on.
	e.set(t, "later", "1", 0)
	items, _ := drain(t, it)
	if got := show(items); !slices.Equal(got, []string{"create later=1"}) {
		t.Fatalf("after Tail: %q", got)
	}
}
