package memstore

import (
	"context"
	"testing"

	"github.com/setsuna-io/setsuna/internal/store"
)

// A key that SortedSetUnionStore replaces shows once in the latest-version
// feed, at its new LSN (the replaced item's index entry must go stale).
func TestUnionStoreReplaceShowsOnceInTheFeed(t *testing.T) {
	ctx := context.Background()
	s := newTest(t, Options{Partitions: 1})
	if err := s.SortedSetPut(ctx, "c", []byte("src"), []store.ScoredElement{{Value: []byte("a"), Score: 1}}, store.CollectionTTL{}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []float64{1, 2} {
		if _, err := s.SortedSetUnionStore(ctx, "c", []byte("dst"), []store.UnionSource{{Key: []byte("src"), Weight: w}}, store.AggregateSum, 0); err != nil {
			t.Fatal(err)
		}
	}
	page, err := s.ReadFeed(ctx, "c", store.FeedRead{Partition: 0, Mode: store.FeedLatestVersion})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range page.Changes {
		if string(c.Key) == "dst" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("dst shows %d times in the latest-version feed: %+v", n, page.Changes)
	}
}
