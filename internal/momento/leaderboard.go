package momento

import (
	"context"

	"github.com/setsuna-io/setsuna/internal/leaderboard"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// leaderboardServer implements leaderboard.Leaderboard over the leaderboard
// service. The cache is named by the "cache" header, as on Scs.
type leaderboardServer struct {
	pb.UnimplementedLeaderboardServer
	s  *Service
	lb *leaderboard.Service
}

var _ pb.LeaderboardServer = (*leaderboardServer)(nil)

func order(o pb.LeaderboardOrder) leaderboard.Order {
	if o == pb.LeaderboardOrder_DESCENDING {
		return leaderboard.Descending
	}
	return leaderboard.Ascending
}

func rankedOut(in []leaderboard.Ranked) []*pb.RankedElement {
	out := make([]*pb.RankedElement, len(in))
	for i, e := range in {
		out[i] = &pb.RankedElement{Id: e.ID, Score: e.Score, Rank: e.Rank}
	}
	return out
}

func (l *leaderboardServer) DeleteLeaderboard(ctx context.Context, req *pb.DeleteLeaderboardRequest) (*pb.Empty, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	if err := l.lb.Delete(ctx, c, req.Leaderboard); err != nil {
		return nil, l.s.status(ctx, "delete leaderboard", err)
	}
	return &pb.Empty{}, nil
}

func (l *leaderboardServer) UpsertElements(ctx context.Context, req *pb.UpsertElementsRequest) (*pb.Empty, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	els := make([]leaderboard.Element, len(req.Elements))
	for i, e := range req.Elements {
		els[i] = leaderboard.Element{ID: e.GetId(), Score: e.GetScore()}
	}
	if err := l.lb.Upsert(ctx, c, req.Leaderboard, els); err != nil {
		return nil, l.s.status(ctx, "upsert leaderboard elements", err)
	}
	return &pb.Empty{}, nil
}

func (l *leaderboardServer) RemoveElements(ctx context.Context, req *pb.RemoveElementsRequest) (*pb.Empty, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	if err := l.lb.Remove(ctx, c, req.Leaderboard, req.Ids); err != nil {
		return nil, l.s.status(ctx, "remove leaderboard elements", err)
	}
	return &pb.Empty{}, nil
}

func (l *leaderboardServer) GetLeaderboardLength(ctx context.Context, req *pb.GetLeaderboardLengthRequest) (*pb.GetLeaderboardLengthResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	n, err := l.lb.Length(ctx, c, req.Leaderboard)
	if err != nil {
		return nil, l.s.status(ctx, "leaderboard length", err)
	}
	return &pb.GetLeaderboardLengthResponse{Count: u32(n)}, nil
}

func (l *leaderboardServer) GetByRank(ctx context.Context, req *pb.GetByRankRequest) (*pb.GetByRankResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	r := req.GetRankRange()
	els, err := l.lb.ByRank(ctx, c, req.Leaderboard, r.GetStartInclusive(), r.GetEndExclusive(), order(req.Order))
	if err != nil {
		return nil, l.s.status(ctx, "leaderboard fetch by rank", err)
	}
	return &pb.GetByRankResponse{Elements: rankedOut(els)}, nil
}

func (l *leaderboardServer) GetByScore(ctx context.Context, req *pb.GetByScoreRequest) (*pb.GetByScoreResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	var r leaderboard.ScoreRange
	if m, ok := req.GetScoreRange().GetMin().(*pb.ScoreRange_MinInclusive); ok {
		r.Min = &m.MinInclusive
	}
	if m, ok := req.GetScoreRange().GetMax().(*pb.ScoreRange_MaxExclusive); ok {
		r.Max = &m.MaxExclusive
	}
	els, err := l.lb.ByScore(ctx, c, req.Leaderboard, r, req.Offset, req.LimitElements, order(req.Order))
	if err != nil {
		return nil, l.s.status(ctx, "leaderboard fetch by score", err)
	}
	return &pb.GetByScoreResponse{Elements: rankedOut(els)}, nil
}

func (l *leaderboardServer) GetRank(ctx context.Context, req *pb.GetRankRequest) (*pb.GetRankResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	els, err := l.lb.Ranks(ctx, c, req.Leaderboard, req.Ids, order(req.Order))
	if err != nil {
		return nil, l.s.status(ctx, "leaderboard get rank", err)
	}
	return &pb.GetRankResponse{Elements: rankedOut(els)}, nil
}

func (l *leaderboardServer) GetCompetitionRank(ctx context.Context, req *pb.GetCompetitionRankRequest) (*pb.GetCompetitionRankResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	o := leaderboard.Descending // the default when the request names none
	if req.Order != nil {
		o = order(*req.Order)
	}
	els, err := l.lb.CompetitionRanks(ctx, c, req.Leaderboard, req.Ids, o)
	if err != nil {
		return nil, l.s.status(ctx, "leaderboard competition rank", err)
	}
	return &pb.GetCompetitionRankResponse{Elements: rankedOut(els)}, nil
}
