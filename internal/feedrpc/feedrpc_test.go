package feedrpc

import (
	"log/slog"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/setsuna-io/setsuna/internal/store/memstore"
	pb "github.com/setsuna-io/setsuna/proto/feedpb"
)

func TestStatuses(t *testing.T) {
	st := memstore.New(memstore.Options{})
	st.CreateCache(t.Context(), "c")
	gs := grpc.NewServer()
	Register(gs, st, slog.New(slog.DiscardHandler))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gs.Serve(lis)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		gs.Stop()
		st.Close()
	})
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
	st.Set(t.Context(), "c", []byte("k"), []byte("v"), time.Hour)
	st.Delete(t.Context(), "c", []byte("k"))
	resp, code = call(in("c"), &pb.ReadFeedRequest{Start: &pb.ReadFeedRequest_Continuation{Continuation: tok}})
	if code != codes.OK || len(resp.Changes) != 2 {
		t.Fatalf("changes: %v %v", resp, code)
	}
	if del := resp.Changes[1]; del.Current != nil || string(del.Previous.GetValue()) != "v" || del.Metadata.OperationType != pb.OperationType_OPERATION_TYPE_DELETE {
		t.Fatalf("delete: %v", del)
	}
	// Retention (a flush) and epoch.
	st.FlushCache(t.Context(), "c")
	if _, code := call(in("c"), &pb.ReadFeedRequest{Start: &pb.ReadFeedRequest_Continuation{Continuation: tok}}); code != codes.OutOfRange {
		t.Fatalf("across a flush: %v", code)
	}
	st.DeleteCache(t.Context(), "c")
	st.CreateCache(t.Context(), "c")
	if _, code := call(in("c"), &pb.ReadFeedRequest{Start: &pb.ReadFeedRequest_Continuation{Continuation: tok}}); code != codes.FailedPrecondition {
		t.Fatalf("another epoch: %v", code)
	}
	rs, err := fc.GetFeedRanges(metadata.NewOutgoingContext(t.Context(), in("c")), &pb.GetFeedRangesRequest{})
	if err != nil || len(rs.Ranges) != memstore.DefaultPartitions || rs.Ranges[3].Json != `{"Range":{"min":"3000","max":"FF"}}` {
		t.Fatalf("ranges: %v %v", rs, err)
	}
}
