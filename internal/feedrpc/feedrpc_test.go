package feedrpc_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/testnode"
	pb "github.com/setsuna-io/setsuna/proto/feedpb"
	momentopb "github.com/setsuna-io/setsuna/proto/momentopb"
)

func TestStatuses(t *testing.T) {
	conn := testnode.Start(t, embed.Config{Partitions: 4}).Dial(t)
	ctl, data := momentopb.NewScsControlClient(conn), momentopb.NewScsClient(conn)
	if _, err := ctl.CreateCache(t.Context(), &momentopb.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	inCache := metadata.NewOutgoingContext(t.Context(), metadata.Pairs("cache", "c"))
	fc := pb.NewFeedClient(conn)
	in := func(cache string) metadata.MD { return metadata.Pairs("cache", cache) }
	call := func(md metadata.MD, req *pb.ReadFeedRequest) (*pb.ReadFeedResponse, codes.Code) {
		resp, err := fc.ReadFeed(metadata.NewOutgoingContext(t.Context(), md), req)
		return resp, status.Code(err)
	}
	if _, code := call(metadata.MD{}, &pb.ReadFeedRequest{}); code != codes.InvalidArgument {
		t.Fatalf("no cache header: %v", code)
	}
	if _, code := call(in("nope"), &pb.ReadFeedRequest{}); code != codes.NotFound {
		t.Fatalf("unknown cache: %v", code)
	}
	for _, req := range []*pb.ReadFeedRequest{
		{Start: &pb.ReadFeedRequest_Continuation{Continuation: "bad"}},
		{RangeJson: `{"Range":{"min":"x","max":"FF"}}`},
		{RangeJson: `{"PK":"a"}`, PartitionKey: "a"},
		{Mode: 9},
		{Start: &pb.ReadFeedRequest_Beginning{Beginning: &pb.Beginning{}}, Mode: pb.Mode_MODE_ALL_VERSIONS_AND_DELETES},
		{Start: &pb.ReadFeedRequest_PointInTimeMs{PointInTimeMs: 1}, Mode: pb.Mode_MODE_ALL_VERSIONS_AND_DELETES},
	} {
		if _, code := call(in("c"), req); code != codes.InvalidArgument {
			t.Fatalf("%v: %v", req, code)
		}
	}
	// A NotModified response from now, then a change.
	resp, code := call(in("c"), &pb.ReadFeedRequest{Mode: pb.Mode_MODE_ALL_VERSIONS_AND_DELETES})
	if code != codes.OK || !resp.NotModified || resp.Continuation == "" {
		t.Fatalf("from now: %v %v", resp, code)
	}
	tok := resp.Continuation
	if _, err := data.Set(inCache, &momentopb.SetRequest{CacheKey: []byte("k"), CacheBody: []byte("v"), TtlMilliseconds: 3600_000}); err != nil {
		t.Fatal(err)
	}
	if _, err := data.Delete(inCache, &momentopb.DeleteRequest{CacheKey: []byte("k")}); err != nil {
		t.Fatal(err)
	}
	resp, code = call(in("c"), &pb.ReadFeedRequest{Start: &pb.ReadFeedRequest_Continuation{Continuation: tok}})
	if code != codes.OK || len(resp.Changes) != 2 {
		t.Fatalf("changes: %v %v", resp, code)
	}
	if del := resp.Changes[1]; del.Current != nil || string(del.Previous.GetValue()) != "v" || del.Metadata.OperationType != pb.OperationType_OPERATION_TYPE_DELETE {
		t.Fatalf("delete: %v", del)
	}
	// Retention (a flush) and epoch.
	if _, err := ctl.FlushCache(t.Context(), &momentopb.FlushCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	if _, code := call(in("c"), &pb.ReadFeedRequest{Start: &pb.ReadFeedRequest_Continuation{Continuation: tok}}); code != codes.OutOfRange {
		t.Fatalf("across a flush: %v", code)
	}
	if _, err := ctl.DeleteCache(t.Context(), &momentopb.DeleteCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ctl.CreateCache(t.Context(), &momentopb.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	if _, code := call(in("c"), &pb.ReadFeedRequest{Start: &pb.ReadFeedRequest_Continuation{Continuation: tok}}); code != codes.FailedPrecondition {
		t.Fatalf("another epoch: %v", code)
	}
	rs, err := fc.GetFeedRanges(metadata.NewOutgoingContext(t.Context(), in("c")), &pb.GetFeedRangesRequest{})
	if err != nil || len(rs.Ranges) != 4 || rs.Ranges[3].Json != `{"Range":{"min":"3000","max":"FF"}}` {
		t.Fatalf("ranges: %v %v", rs, err)
	}
}
