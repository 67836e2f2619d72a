package momento_test

import (
	"testing"

	"google.golang.org/grpc/codes"

	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// The leaderboard RPCs as the SDKs send them: the cache in the "cache"
// header, ids uint32, scores double, ranges half-open.
func TestLeaderboardWire(t *testing.T) {
	h := newHarness(t)
	h.createCache(t, "lb")
	ctx := withCache(t, "lb")
	c := pb.NewLeaderboardClient(h.conn)
	if _, err := c.UpsertElements(ctx, &pb.UpsertElementsRequest{Leaderboard: "b", Elements: []*pb.LeaderboardElement{
		{Id: 123, Score: 100}, {Id: 456, Score: 200}, {Id: 789, Score: 27.004309862363737},
	}}); err != nil {
		t.Fatal(err)
	}
	resp, err := c.GetByScore(ctx, &pb.GetByScoreRequest{Leaderboard: "b", LimitElements: 8192,
		ScoreRange: &pb.ScoreRange{Min: &pb.ScoreRange_UnboundedMin{UnboundedMin: &pb.Unbounded{}}, Max: &pb.ScoreRange_MaxExclusive{MaxExclusive: 200}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Elements) != 2 || resp.Elements[0].Id != 789 || resp.Elements[0].Score != 27.004309862363737 || resp.Elements[1].Rank != 1 {
		t.Fatalf("by score: %v", resp.Elements)
	}
	byRank, err := c.GetByRank(ctx, &pb.GetByRankRequest{Leaderboard: "b", RankRange: &pb.RankRange{StartInclusive: 0, EndExclusive: 1}, Order: pb.LeaderboardOrder_DESCENDING})
	if err != nil || len(byRank.Elements) != 1 || byRank.Elements[0].Id != 456 {
		t.Fatalf("by rank: %v %v", byRank, err)
	}
	ranks, err := c.GetRank(ctx, &pb.GetRankRequest{Leaderboard: "b", Ids: []uint32{123, 7}})
	if err != nil || len(ranks.Elements) != 1 || ranks.Elements[0].Rank != 1 {
		t.Fatalf("ranks: %v %v", ranks, err)
	}
	comp, err := c.GetCompetitionRank(ctx, &pb.GetCompetitionRankRequest{Leaderboard: "b", Ids: []uint32{456}})
	if err != nil || len(comp.Elements) != 1 || comp.Elements[0].Rank != 0 {
		t.Fatalf("competition rank (descending by default): %v %v", comp, err)
	}
	n, err := c.GetLeaderboardLength(ctx, &pb.GetLeaderboardLengthRequest{Leaderboard: "b"})
	if err != nil || n.Count != 3 {
		t.Fatalf("length: %v %v", n, err)
	}
	if _, err := c.RemoveElements(ctx, &pb.RemoveElementsRequest{Leaderboard: "b", Ids: []uint32{123}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteLeaderboard(ctx, &pb.DeleteLeaderboardRequest{Leaderboard: "b"}); err != nil {
		t.Fatal(err)
	}

	_, err = c.GetByRank(ctx, &pb.GetByRankRequest{Leaderboard: "b", RankRange: &pb.RankRange{StartInclusive: 0, EndExclusive: 8193}})
	wantCode(t, err, codes.InvalidArgument, "8192")
	_, err = c.UpsertElements(ctx, &pb.UpsertElementsRequest{Leaderboard: "b"})
	wantCode(t, err, codes.InvalidArgument, "")
	_, err = c.GetLeaderboardLength(withCache(t, "nope"), &pb.GetLeaderboardLengthRequest{Leaderboard: "b"})
	wantCode(t, err, codes.NotFound, "")
	_, err = c.GetLeaderboardLength(t.Context(), &pb.GetLeaderboardLengthRequest{Leaderboard: "b"})
	wantCode(t, err, codes.InvalidArgument, "cache")
}
