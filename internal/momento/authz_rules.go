package momento

import (
	"google.golang.org/protobuf/proto"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/feed"
	feedpb "github.com/setsuna-io/setsuna/proto/feedpb"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// rule says how to authorize one RPC. Every RPC the server registers must
// have one (TestEveryRPCHasAnAuthRule), so a new RPC cannot slip past the
// Authorizer.
type rule struct {
	access   auth.Access
	resource string // auth.ResourceCache / auth.ResourceTopic; "" for control and any
	// keys lists the item keys a cache request touches.
	keys func(proto.Message) [][]byte
	// selfAuth RPCs carry the caller's token in their body and check it
	// themselves (the token and auth services), or need no caller (health).
	selfAuth bool
}

func one(k []byte) [][]byte { return [][]byte{k} }

// allItems is the keys of a request that reads a whole cache or a range of
// it: none, which makes auth.Authorize require a grant on every item.
func allItems(proto.Message) [][]byte { return nil }

// feedKeys is the item a change-feed read is limited to: its partition
// key, given as such or as a {"PK":…} range; any other read needs every item.
func feedKeys(m proto.Message) [][]byte {
	r := m.(*feedpb.ReadFeedRequest)
	if r.PartitionKey != "" {
		return one([]byte(r.PartitionKey))
	}
	if rng, err := feed.FromJSON(r.RangeJson); err == nil && r.RangeJson != "" {
		if pk, ok := rng.IsPartitionKey(); ok {
			return one([]byte(pk))
		}
	}
	return nil
}

func cacheRule(a auth.Access, keys func(proto.Message) [][]byte) rule {
	return rule{access: a, resource: auth.ResourceCache, keys: keys}
}

const (
	read  = auth.AccessRead
	write = auth.AccessWrite
	cond  = auth.AccessConditional
)

// rules maps full method names to their authorization.
var rules = map[string]rule{
	"/cache_client.Ping/Ping": {access: auth.AccessAny},

	"/control_client.ScsControl/CreateCache": {access: auth.AccessControl},
	"/control_client.ScsControl/DeleteCache": {access: auth.AccessControl},
	"/control_client.ScsControl/FlushCache":  {access: auth.AccessControl},
	"/control_client.ScsControl/ListCaches":  {access: auth.AccessControl},

	"/auth.Auth/GenerateApiToken":          {selfAuth: true},
	"/auth.Auth/RefreshApiToken":           {selfAuth: true},
	"/token.Token/GenerateDisposableToken": {selfAuth: true},
	"/grpc.health.v1.Health/Check":         {selfAuth: true},
	"/grpc.health.v1.Health/List":          {selfAuth: true},
	"/grpc.health.v1.Health/Watch":         {selfAuth: true},

	// The change feed (internal/feedrpc) reads items: a cache read.
	"/setsuna.feed.v1.Feed/GetFeedRanges": cacheRule(read, allItems),
	"/setsuna.feed.v1.Feed/ReadFeed":      cacheRule(read, feedKeys),
	"/setsuna.feed.v1.Feed/TailFeed":      cacheRule(read, feedKeys),

	"/cache_client.pubsub.Pubsub/Publish":   {access: write, resource: auth.ResourceTopic},
	"/cache_client.pubsub.Pubsub/Subscribe": {access: read, resource: auth.ResourceTopic},

	"/cache_client.Scs/Get":         cacheRule(read, func(m proto.Message) [][]byte { return one(m.(*pb.GetRequest).CacheKey) }),
	"/cache_client.Scs/GetWithHash": cacheRule(read, func(m proto.Message) [][]byte { return one(m.(*pb.GetWithHashRequest).CacheKey) }),
	"/cache_client.Scs/GetBatch": cacheRule(read, func(m proto.Message) [][]byte {
		items := m.(*pb.GetBatchRequest).Items
		keys := make([][]byte, len(items))
		for i, it := range items {
			keys[i] = it.CacheKey
		}
		return keys
	}),
	"/cache_client.Scs/Set": cacheRule(write, func(m proto.Message) [][]byte { return one(m.(*pb.SetRequest).CacheKey) }),
	"/cache_client.Scs/SetBatch": cacheRule(write, func(m proto.Message) [][]byte {
		items := m.(*pb.SetBatchRequest).Items
		keys := make([][]byte, len(items))
		for i, it := range items {
			keys[i] = it.CacheKey
		}
		return keys
	}),
	"/cache_client.Scs/SetIf":          cacheRule(cond, func(m proto.Message) [][]byte { return one(m.(*pb.SetIfRequest).CacheKey) }),
	"/cache_client.Scs/SetIfHash":      cacheRule(cond, func(m proto.Message) [][]byte { return one(m.(*pb.SetIfHashRequest).CacheKey) }),
	"/cache_client.Scs/SetIfNotExists": cacheRule(cond, func(m proto.Message) [][]byte { return one(m.(*pb.SetIfNotExistsRequest).CacheKey) }),
	"/cache_client.Scs/Delete":         cacheRule(write, func(m proto.Message) [][]byte { return one(m.(*pb.DeleteRequest).CacheKey) }),
	"/cache_client.Scs/KeysExist":      cacheRule(read, func(m proto.Message) [][]byte { return m.(*pb.KeysExistRequest).CacheKeys }),
	"/cache_client.Scs/Increment":      cacheRule(cond, func(m proto.Message) [][]byte { return one(m.(*pb.IncrementRequest).CacheKey) }),
	// UpdateTtl is conditional on the item's presence (and its TTL), which
	// WriteOnly keys may not observe.
	"/cache_client.Scs/UpdateTtl":   cacheRule(cond, func(m proto.Message) [][]byte { return one(m.(*pb.UpdateTtlRequest).CacheKey) }),
	"/cache_client.Scs/ItemGetTtl":  cacheRule(read, func(m proto.Message) [][]byte { return one(m.(*pb.ItemGetTtlRequest).CacheKey) }),
	"/cache_client.Scs/ItemGetType": cacheRule(read, func(m proto.Message) [][]byte { return one(m.(*pb.ItemGetTypeRequest).CacheKey) }),

	"/cache_client.Scs/DictionaryGet":       cacheRule(read, func(m proto.Message) [][]byte { return one(m.(*pb.DictionaryGetRequest).DictionaryName) }),
	"/cache_client.Scs/DictionaryFetch":     cacheRule(read, func(m proto.Message) [][]byte { return one(m.(*pb.DictionaryFetchRequest).DictionaryName) }),
	"/cache_client.Scs/DictionarySet":       cacheRule(write, func(m proto.Message) [][]byte { return one(m.(*pb.DictionarySetRequest).DictionaryName) }),
	"/cache_client.Scs/DictionaryIncrement": cacheRule(cond, func(m proto.Message) [][]byte { return one(m.(*pb.DictionaryIncrementRequest).DictionaryName) }),
	"/cache_client.Scs/DictionaryDelete":    cacheRule(write, func(m proto.Message) [][]byte { return one(m.(*pb.DictionaryDeleteRequest).DictionaryName) }),
	"/cache_client.Scs/DictionaryLength":    cacheRule(read, func(m proto.Message) [][]byte { return one(m.(*pb.DictionaryLengthRequest).DictionaryName) }),

	"/cache_client.Scs/SetFetch":      cacheRule(read, func(m proto.Message) [][]byte { return one(m.(*pb.SetFetchRequest).SetName) }),
	"/cache_client.Scs/SetSample":     cacheRule(read, func(m proto.Message) [][]byte { return one(m.(*pb.SetSampleRequest).SetName) }),
	"/cache_client.Scs/SetUnion":      cacheRule(write, func(m proto.Message) [][]byte { return one(m.(*pb.SetUnionRequest).SetName) }),
	"/cache_client.Scs/SetDifference": cacheRule(write, func(m proto.Message) [][]byte { return one(m.(*pb.SetDifferenceRequest).SetName) }),
	"/cache_client.Scs/SetContains":   cacheRule(read, func(m proto.Message) [][]byte { return one(m.(*pb.SetContainsRequest).SetName) }),
	"/cache_client.Scs/SetLength":     cacheRule(read, func(m proto.Message) [][]byte { return one(m.(*pb.SetLengthRequest).SetName) }),
	"/cache_client.Scs/SetPop":        cacheRule(cond, func(m proto.Message) [][]byte { return one(m.(*pb.SetPopRequest).SetName) }),

	"/cache_client.Scs/ListPushFront":        cacheRule(write, func(m proto.Message) [][]byte { return one(m.(*pb.ListPushFrontRequest).ListName) }),
	"/cache_client.Scs/ListPushBack":         cacheRule(write, func(m proto.Message) [][]byte { return one(m.(*pb.ListPushBackRequest).ListName) }),
	"/cache_client.Scs/ListPopFront":         cacheRule(cond, func(m proto.Message) [][]byte { return one(m.(*pb.ListPopFrontRequest).ListName) }),
	"/cache_client.Scs/ListPopBack":          cacheRule(cond, func(m proto.Message) [][]byte { return one(m.(*pb.ListPopBackRequest).ListName) }),
	"/cache_client.Scs/ListErase":            cacheRule(write, func(m proto.Message) [][]byte { return one(m.(*pb.ListEraseRequest).ListName) }),
	"/cache_client.Scs/ListRemove":           cacheRule(write, func(m proto.Message) [][]byte { return one(m.(*pb.ListRemoveRequest).ListName) }),
	"/cache_client.Scs/ListFetch":            cacheRule(read, func(m proto.Message) [][]byte { return one(m.(*pb.ListFetchRequest).ListName) }),
	"/cache_client.Scs/ListLength":           cacheRule(read, func(m proto.Message) [][]byte { return one(m.(*pb.ListLengthRequest).ListName) }),
	"/cache_client.Scs/ListConcatenateFront": cacheRule(write, func(m proto.Message) [][]byte { return one(m.(*pb.ListConcatenateFrontRequest).ListName) }),
	"/cache_client.Scs/ListConcatenateBack":  cacheRule(write, func(m proto.Message) [][]byte { return one(m.(*pb.ListConcatenateBackRequest).ListName) }),
	"/cache_client.Scs/ListRetain":           cacheRule(cond, func(m proto.Message) [][]byte { return one(m.(*pb.ListRetainRequest).ListName) }),

	"/cache_client.Scs/SortedSetPut":           cacheRule(write, func(m proto.Message) [][]byte { return one(m.(*pb.SortedSetPutRequest).SetName) }),
	"/cache_client.Scs/SortedSetFetch":         cacheRule(read, func(m proto.Message) [][]byte { return one(m.(*pb.SortedSetFetchRequest).SetName) }),
	"/cache_client.Scs/SortedSetGetScore":      cacheRule(read, func(m proto.Message) [][]byte { return one(m.(*pb.SortedSetGetScoreRequest).SetName) }),
	"/cache_client.Scs/SortedSetRemove":        cacheRule(write, func(m proto.Message) [][]byte { return one(m.(*pb.SortedSetRemoveRequest).SetName) }),
	"/cache_client.Scs/SortedSetIncrement":     cacheRule(cond, func(m proto.Message) [][]byte { return one(m.(*pb.SortedSetIncrementRequest).SetName) }),
	"/cache_client.Scs/SortedSetGetRank":       cacheRule(read, func(m proto.Message) [][]byte { return one(m.(*pb.SortedSetGetRankRequest).SetName) }),
	"/cache_client.Scs/SortedSetLength":        cacheRule(read, func(m proto.Message) [][]byte { return one(m.(*pb.SortedSetLengthRequest).SetName) }),
	"/cache_client.Scs/SortedSetLengthByScore": cacheRule(read, func(m proto.Message) [][]byte { return one(m.(*pb.SortedSetLengthByScoreRequest).SetName) }),
	// UnionStore reads its sources and writes its destination: all keys must
	// be covered, with a role that may both read and write.
	"/cache_client.Scs/SortedSetUnionStore": cacheRule(cond, func(m proto.Message) [][]byte {
		r := m.(*pb.SortedSetUnionStoreRequest)
		keys := [][]byte{r.SetName}
		for _, src := range r.Sources {
			keys = append(keys, src.SetName)
		}
		return keys
	}),
}
