package momento_test

import (
	"testing"

	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/cache"
	"github.com/setsuna-io/setsuna/internal/testnode"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// ListCaches advertises the limits the server enforces, including the
// configured topic limits.
func TestListCachesReportsEnforcedLimits(t *testing.T) {
	n := testnode.Start(t, embed.Config{TopicMaxPayload: 5000, TopicMaxSubscriptions: 7})
	control := pb.NewScsControlClient(n.Dial(t))
	if _, err := control.CreateCache(t.Context(), &pb.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	resp, err := control.ListCaches(t.Context(), &pb.ListCachesRequest{})
	if err != nil || len(resp.Cache) != 1 {
		t.Fatalf("%v %v", resp, err)
	}
	cl, tl := resp.Cache[0].CacheLimits, resp.Cache[0].TopicLimits
	if cl.MaxItemSizeKb != cache.MaxItemSize/1024 || cl.MaxTtlSeconds != uint64(cache.MaxTTL.Seconds()) {
		t.Errorf("cache limits %v", cl)
	}
	if tl.MaxPublishMessageSizeKb != 4 || tl.MaxSubscriptionCount != 7 {
		t.Errorf("topic limits %v, want 4 KiB (5000 bytes rounded down) and 7 subscriptions", tl)
	}
}
