package drivers

import (
	"context"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/setsuna-io/setsuna/client"
)

// Collections is the sorted-set and list work of the collections scenario:
// Setsuna's SortedSet*/List* RPCs against Redis ZADD/ZRANK/ZRANGE and
// RPUSH/LPOP. Each call is one request.
type Collections interface {
	ZAdd(ctx context.Context, set, member string, score float64) error
	ZRank(ctx context.Context, set, member string) error
	// ZRange reads the n elements from rank start, with scores.
	ZRange(ctx context.Context, set string, start, n int) error
	ZLoad(ctx context.Context, set string, members []string) error
	Push(ctx context.Context, list string, value []byte) error
	Pop(ctx context.Context, list string) error
}

var (
	_ Collections = (*Setsuna)(nil)
	_ Collections = (*Redis)(nil)
)

func (s *Setsuna) ZAdd(ctx context.Context, set, member string, score float64) error {
	_, err := s.c.SortedSetPutElements(ctx, &client.SortedSetPutElementsRequest{CacheName: CacheName, SetName: set,
		Elements: []client.SortedSetElement{{Value: client.String(member), Score: score}}})
	return err
}

func (s *Setsuna) ZRank(ctx context.Context, set, member string) error {
	r, err := s.c.SortedSetGetRank(ctx, &client.SortedSetGetRankRequest{CacheName: CacheName, SetName: set, Value: client.String(member)})
	if err != nil {
		return err
	}
	if _, ok := r.(*client.SortedSetGetRankHit); !ok {
		return errMiss
	}
	return nil
}

func (s *Setsuna) ZRange(ctx context.Context, set string, start, n int) error {
	from, to := int32(start), int32(start+n)
	r, err := s.c.SortedSetFetchByRank(ctx, &client.SortedSetFetchByRankRequest{CacheName: CacheName, SetName: set, StartRank: &from, EndRank: &to})
	if err != nil {
		return err
	}
	if hit, ok := r.(*client.SortedSetFetchHit); !ok || len(hit.Elements()) != n {
		return errMiss
	}
	return nil
}

// ZLoad puts members with score = index, 1,000 per request.
func (s *Setsuna) ZLoad(ctx context.Context, set string, members []string) error {
	ttl := &client.CollectionTtl{Ttl: TTL}
	for start := 0; start < len(members); start += 1000 {
		end := min(start+1000, len(members))
		els := make([]client.SortedSetElement, 0, end-start)
		for i := start; i < end; i++ {
			els = append(els, client.SortedSetElement{Value: client.String(members[i]), Score: float64(i)})
		}
		if _, err := s.c.SortedSetPutElements(ctx, &client.SortedSetPutElementsRequest{CacheName: CacheName, SetName: set, Elements: els, Ttl: ttl}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Setsuna) Push(ctx context.Context, list string, value []byte) error {
	_, err := s.c.ListPushBack(ctx, &client.ListPushRequest{CacheName: CacheName, ListName: list, Values: []client.Value{client.Bytes(value)}})
	return err
}

func (s *Setsuna) Pop(ctx context.Context, list string) error {
	r, err := s.c.ListPopFront(ctx, &client.ListPopRequest{CacheName: CacheName, ListName: list})
	if err != nil {
		return err
	}
	if _, ok := r.(*client.ListPopHit); !ok {
		return errMiss
	}
	return nil
}

func (r *Redis) ZAdd(ctx context.Context, set, member string, score float64) error {
	return r.c.ZAdd(ctx, set, redis.Z{Score: score, Member: member}).Err()
}

func (r *Redis) ZRank(ctx context.Context, set, member string) error {
	err := r.c.ZRank(ctx, set, member).Err()
	if err == redis.Nil {
		return errMiss
	}
	return err
}

func (r *Redis) ZRange(ctx context.Context, set string, start, n int) error {
	zs, err := r.c.ZRangeWithScores(ctx, set, int64(start), int64(start+n-1)).Result()
	if err != nil {
		return err
	}
	if len(zs) != n {
		return errMiss
	}
	return nil
}

func (r *Redis) ZLoad(ctx context.Context, set string, members []string) error {
	for start := 0; start < len(members); start += 1000 {
		end := min(start+1000, len(members))
		zs := make([]redis.Z, 0, end-start)
		for i := start; i < end; i++ {
			zs = append(zs, redis.Z{Score: float64(i), Member: members[i]})
		}
		if err := r.c.ZAdd(ctx, set, zs...).Err(); err != nil {
			return err
		}
	}
	return r.c.Expire(ctx, set, TTL).Err()
}

func (r *Redis) Push(ctx context.Context, list string, value []byte) error {
	return r.c.RPush(ctx, list, value).Err()
}

func (r *Redis) Pop(ctx context.Context, list string) error {
	err := r.c.LPop(ctx, list).Err()
	if err == redis.Nil {
		return errMiss
	}
	return err
}

// member names the i-th element of a benchmark sorted set.
func Member(i int) string { return "member:" + strconv.Itoa(i) }
