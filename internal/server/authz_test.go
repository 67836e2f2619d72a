package server_test

import (
	"context"
	"errors"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/testnode"
	feedpb "github.com/setsuna-io/setsuna/proto/feedpb"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// class is what an RPC needs. Authorization lives in the services; this
// table, written apart from them on purpose, says what each registered RPC
// must demand, and the matrix below checks every RPC against every kind of
// principal on a real server. A handler that skipped its service would let
// an out-of-scope token through and fail the matrix; an RPC added without a
// row fails TestEveryRPCIsClassified.
type class string

const (
	cRead    class = "read"
	cWrite   class = "write"
	cCond    class = "cond"
	cControl class = "control"
	cAny     class = "any"
	cSelf    class = "self"
	cSub     class = "subscribe"
	cPub     class = "publish"
)

var rpcClasses = map[string]class{
	"Ping/Ping":                     cAny,
	"ScsControl/CreateCache":        cControl,
	"ScsControl/DeleteCache":        cControl,
	"ScsControl/FlushCache":         cControl,
	"ScsControl/ListCaches":         cControl,
	"Auth/GenerateApiToken":         cSelf,
	"Auth/RefreshApiToken":          cSelf,
	"Token/GenerateDisposableToken": cSelf,
	"Health/Check":                  cSelf,
	"Health/List":                   cSelf,
	"Health/Watch":                  cSelf,
	"Pubsub/Publish":                cPub,
	"Pubsub/Subscribe":              cSub,
	// The publish API answers authorization in its body (the DENIED
	// status) and authenticates itself: its matrix is pubsub_authz_test.go.
	"PubSub/Publish":             cSelf,
	"PubSub/Subscribe":           cSelf,
	"PubSub/Servers":             cSelf,
	"Feed/GetFeedRanges":         cRead,
	"Feed/ReadFeed":              cRead,
	"Feed/TailFeed":              cRead,
	"Scs/Get":                    cRead,
	"Scs/GetWithHash":            cRead,
	"Scs/GetBatch":               cRead,
	"Scs/Set":                    cWrite,
	"Scs/SetBatch":               cWrite,
	"Scs/SetIf":                  cCond,
	"Scs/SetIfHash":              cCond,
	"Scs/SetIfNotExists":         cCond,
	"Scs/Delete":                 cWrite,
	"Scs/KeysExist":              cRead,
	"Scs/Increment":              cCond,
	"Scs/UpdateTtl":              cCond,
	"Scs/ItemGetTtl":             cRead,
	"Scs/ItemGetType":            cRead,
	"Scs/DictionaryGet":          cRead,
	"Scs/DictionaryFetch":        cRead,
	"Scs/DictionarySet":          cWrite,
	"Scs/DictionaryIncrement":    cCond,
	"Scs/DictionaryDelete":       cWrite,
	"Scs/DictionaryLength":       cRead,
	"Scs/SetFetch":               cRead,
	"Scs/SetSample":              cRead,
	"Scs/SetUnion":               cWrite,
	"Scs/SetDifference":          cWrite,
	"Scs/SetContains":            cRead,
	"Scs/SetLength":              cRead,
	"Scs/SetPop":                 cCond,
	"Scs/ListPushFront":          cWrite,
	"Scs/ListPushBack":           cWrite,
	"Scs/ListPopFront":           cCond,
	"Scs/ListPopBack":            cCond,
	"Scs/ListErase":              cWrite,
	"Scs/ListRemove":             cWrite,
	"Scs/ListFetch":              cRead,
	"Scs/ListLength":             cRead,
	"Scs/ListConcatenateFront":   cWrite,
	"Scs/ListConcatenateBack":    cWrite,
	"Scs/ListRetain":             cCond,
	"Scs/SortedSetPut":           cWrite,
	"Scs/SortedSetFetch":         cRead,
	"Scs/SortedSetGetScore":      cRead,
	"Scs/SortedSetRemove":        cWrite,
	"Scs/SortedSetIncrement":     cCond,
	"Scs/SortedSetGetRank":       cRead,
	"Scs/SortedSetLength":        cRead,
	"Scs/SortedSetLengthByScore": cRead,
	"Scs/SortedSetUnionStore":    cCond,
	// Leaderboards: whole-cache data (key-scoped grants give none).
	"Leaderboard/UpsertElements":       cWrite,
	"Leaderboard/RemoveElements":       cWrite,
	"Leaderboard/DeleteLeaderboard":    cWrite,
	"Leaderboard/GetLeaderboardLength": cRead,
	"Leaderboard/GetByRank":            cRead,
	"Leaderboard/GetByScore":           cRead,
	"Leaderboard/GetRank":              cRead,
	"Leaderboard/GetCompetitionRank":   cRead,
}

func shortName(full string) string {
	parts := strings.Split(strings.TrimPrefix(full, "/"), "/")
	svc := parts[0][strings.LastIndex(parts[0], ".")+1:]
	return svc + "/" + parts[1]
}

// registeredMethods lists every RPC the node serves, with whether it is a
// stream.
func registeredMethods(t *testing.T, n *testnode.Node) map[string]bool {
	out := map[string]bool{}
	for name, info := range n.Server().GRPCServer().GetServiceInfo() {
		for _, m := range info.Methods {
			out["/"+name+"/"+m.Name] = m.IsServerStream || m.IsClientStream
		}
	}
	if len(out) < 60 {
		t.Fatalf("only %d methods registered", len(out))
	}
	return out
}

func TestEveryRPCIsClassified(t *testing.T) {
	n := testnode.Start(t, embed.Config{})
	for full := range registeredMethods(t, n) {
		if _, ok := rpcClasses[shortName(full)]; !ok {
			t.Errorf("%s has no row in the permission matrix (rpcClasses)", full)
		}
	}
}

type matrixEnv struct {
	node *testnode.Node
	conn *grpc.ClientConn
}

func newAuthEnv(t *testing.T) *matrixEnv {
	t.Helper()
	n := testnode.Start(t, embed.Config{Auth: true})
	return &matrixEnv{node: n, conn: n.Dial(t)}
}

func (e *matrixEnv) mint(t *testing.T, req auth.MintRequest) string { return e.node.Mint(t, req) }

// request builds a valid request of method, addressed to cache "c", item
// key "k" and topic "t" wherever it names one, with every oneof set, so
// that only authorization can refuse it.
func request(t *testing.T, full string) proto.Message {
	t.Helper()
	parts := strings.Split(strings.TrimPrefix(full, "/"), "/")
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(parts[0]))
	if err != nil {
		t.Fatalf("%s: %v", full, err)
	}
	md := d.(protoreflect.ServiceDescriptor).Methods().ByName(protoreflect.Name(parts[1]))
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
	if err != nil {
		t.Fatalf("%s: %v", full, err)
	}
	msg := mt.New()
	fill(msg, 0)
	return msg.Interface()
}

func fill(msg protoreflect.Message, depth int) {
	fields := msg.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		if o := f.ContainingOneof(); o != nil && !o.IsSynthetic() && oneofChoice(o) != f {
			continue // set one field of each oneof only
		}
		switch {
		case f.Name() == "cache_key" || f.Name() == "dictionary_name" || f.Name() == "set_name" || f.Name() == "list_name":
			msg.Set(f, protoreflect.ValueOfBytes([]byte("k")))
		case f.Name() == "cache_name":
			msg.Set(f, protoreflect.ValueOfString("c"))
		case f.Name() == "topic":
			msg.Set(f, protoreflect.ValueOfString("t"))
		case f.Name() == "cache_keys":
			msg.Mutable(f).List().Append(protoreflect.ValueOfBytes([]byte("k")))
		case f.Name() == "leaderboard":
			msg.Set(f, protoreflect.ValueOfString("b"))
		case f.Name() == "ids":
			msg.Mutable(f).List().Append(protoreflect.ValueOfUint32(1))
		case f.Name() == "end_exclusive":
			msg.Set(f, protoreflect.ValueOfUint32(10))
		case f.Name() == "partition_key" || f.Name() == "range_json":
			// Feed reads: the whole cache.
		case f.IsList() && f.Message() != nil && depth < 3:
			l := msg.Mutable(f).List()
			el := l.NewElement()
			fill(el.Message(), depth+1)
			l.Append(el)
		case f.IsList() || f.IsMap():
		case f.Message() != nil && depth < 3:
			fill(msg.Mutable(f).Message(), depth+1)
		case f.Kind() == protoreflect.BytesKind:
			msg.Set(f, protoreflect.ValueOfBytes([]byte("v")))
		case f.Kind() == protoreflect.StringKind && f.ContainingOneof() != nil:
			msg.Set(f, protoreflect.ValueOfString("v"))
		case f.Kind() == protoreflect.Uint64Kind && f.ContainingOneof() != nil:
			msg.Set(f, protoreflect.ValueOfUint64(1000))
		}
	}
}

// oneofChoice is the field fill sets in a oneof: the first one, but never
// SetDifference's minuend, which the server refuses as unsupported.
func oneofChoice(o protoreflect.OneofDescriptor) protoreflect.FieldDescriptor {
	for i := 0; i < o.Fields().Len(); i++ {
		if f := o.Fields().Get(i); f.Name() != "minuend" {
			return f
		}
	}
	return nil
}

// call invokes method as token and returns the status code it ends with.
func (e *matrixEnv) call(t *testing.T, full string, stream bool, token string) codes.Code {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", token, "cache", "c")
	req := request(t, full)
	if !stream {
		var resp anyMsg
		return status.Code(e.conn.Invoke(ctx, full, req, &resp))
	}
	cs, err := e.conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, full)
	if err != nil {
		return status.Code(err)
	}
	if err := cs.SendMsg(req); err != nil {
		return status.Code(err)
	}
	cs.CloseSend()
	var resp anyMsg
	err = cs.RecvMsg(&resp)
	if errors.Is(err, io.EOF) {
		return codes.OK
	}
	return status.Code(err)
}

// anyMsg accepts any response; the matrix only looks at statuses.
type anyMsg struct{ pb.Missing }

func (*anyMsg) Reset() {}

func TestPermissionMatrix(t *testing.T) {
	e := newAuthEnv(t)
	super := e.mint(t, auth.MintRequest{SuperUser: true})
	if code := e.call(t, "/control_client.ScsControl/CreateCache", false, super); code != codes.OK {
		t.Fatalf("create cache as super user: %v", code)
	}
	cache := func(role, cacheSel string, key, prefix []byte) auth.Permission {
		return auth.Permission{Resource: auth.ResourceCache, Role: role, Cache: cacheSel, Key: key, KeyPrefix: prefix}
	}
	topic := func(role, cacheSel, name, prefix string) auth.Permission {
		return auth.Permission{Resource: auth.ResourceTopic, Role: role, Cache: cacheSel, Topic: name, TopicPrefix: prefix}
	}
	// Each principal, and which classes it may call on cache c / key k /
	// topic t. Key-scoped principals may not read the whole-cache feed.
	principals := []struct {
		name   string
		token  string
		may    []class
		noFeed bool
	}{
		{"super user", super, []class{cRead, cWrite, cCond, cControl, cAny, cSub, cPub}, false},
		{"all data read-write", e.mint(t, auth.MintRequest{Perms: []auth.Permission{cache(auth.RoleReadWrite, "", nil, nil), topic(auth.RoleReadWrite, "", "", "")}}), []class{cRead, cWrite, cCond, cAny, cSub, cPub}, false},
		{"cache c read-only", e.mint(t, auth.MintRequest{Perms: []auth.Permission{cache(auth.RoleReadOnly, "c", nil, nil)}}), []class{cRead, cAny}, false},
		{"cache c write-only", e.mint(t, auth.MintRequest{Perms: []auth.Permission{cache(auth.RoleWriteOnly, "c", nil, nil)}}), []class{cWrite, cAny}, false},
		{"cache c read-write", e.mint(t, auth.MintRequest{Perms: []auth.Permission{cache(auth.RoleReadWrite, "c", nil, nil)}}), []class{cRead, cWrite, cCond, cAny}, false},
		{"cache other read-write", e.mint(t, auth.MintRequest{Perms: []auth.Permission{cache(auth.RoleReadWrite, "other", nil, nil)}}), []class{cAny}, false},
		{"all caches key k", e.mint(t, auth.MintRequest{Perms: []auth.Permission{cache(auth.RoleReadWrite, "", []byte("k"), nil)}}), []class{cRead, cWrite, cCond, cAny}, true},
		{"all caches key z", e.mint(t, auth.MintRequest{Perms: []auth.Permission{cache(auth.RoleReadWrite, "", []byte("z"), nil)}}), []class{cAny}, true},
		{"cache c prefix k read-only", e.mint(t, auth.MintRequest{Perms: []auth.Permission{cache(auth.RoleReadOnly, "c", nil, []byte("k"))}}), []class{cRead, cAny}, true},
		{"cache c prefix x", e.mint(t, auth.MintRequest{Perms: []auth.Permission{cache(auth.RoleReadWrite, "c", nil, []byte("x"))}}), []class{cAny}, true},
		{"topics subscribe-only", e.mint(t, auth.MintRequest{Perms: []auth.Permission{topic(auth.RoleReadOnly, "", "", "")}}), []class{cSub, cAny}, false},
		{"topic t publish-only", e.mint(t, auth.MintRequest{Perms: []auth.Permission{topic(auth.RoleWriteOnly, "c", "t", "")}}), []class{cPub, cAny}, false},
		{"topic prefix x in cache c", e.mint(t, auth.MintRequest{Perms: []auth.Permission{topic(auth.RoleReadWrite, "c", "", "x")}}), []class{cAny}, false},
		{"topics of cache other", e.mint(t, auth.MintRequest{Perms: []auth.Permission{topic(auth.RoleReadWrite, "other", "", "")}}), []class{cAny}, false},
	}
	methods := registeredMethods(t, e.node)
	names := make([]string, 0, len(methods))
	for m := range methods {
		names = append(names, m)
	}
	sort.Strings(names)
	for _, p := range principals {
		for _, full := range names {
			cl := rpcClasses[shortName(full)]
			if cl == cSelf || full == "/control_client.ScsControl/DeleteCache" {
				continue // the token RPCs check their body; deleting c would end the matrix
			}
			allowed := false
			for _, m := range p.may {
				allowed = allowed || m == cl
			}
			if p.noFeed && (strings.HasPrefix(full, "/setsuna.feed.v1.Feed/") || strings.HasPrefix(full, "/leaderboard.Leaderboard/")) {
				allowed = false // whole-cache data needs a grant on every item
			}
			code := e.call(t, full, methods[full], p.token)
			denied := code == codes.PermissionDenied || code == codes.Unauthenticated
			if allowed == denied || allowed && code == codes.InvalidArgument {
				t.Errorf("%s calling %s (%s): status %v, want allowed=%v", p.name, shortName(full), cl, code, allowed)
			}
		}
	}
}

func TestUnauthenticatedCallers(t *testing.T) {
	e := newAuthEnv(t)
	expired, err := auth.MintAPIKey(e.node.Keyring(t), "", auth.MintRequest{SuperUser: true, ValidFor: time.Second}, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"", "garbage", "a.b.c", expired.JWT} {
		for _, m := range []string{"/cache_client.Scs/Get", "/control_client.ScsControl/ListCaches", "/cache_client.Ping/Ping", "/setsuna.feed.v1.Feed/ReadFeed"} {
			if code := e.call(t, m, false, tok); code != codes.Unauthenticated {
				t.Errorf("%s with token %.10q: %v, want Unauthenticated", m, tok, code)
			}
		}
		for _, m := range []string{"/cache_client.Scs/GetBatch", "/cache_client.pubsub.Pubsub/Subscribe", "/setsuna.feed.v1.Feed/TailFeed"} {
			if code := e.call(t, m, true, tok); code != codes.Unauthenticated {
				t.Errorf("%s with token %.10q: %v, want Unauthenticated", m, tok, code)
			}
		}
	}
	// The health service answers without a key, for load balancers.
	if code := e.call(t, "/grpc.health.v1.Health/Check", false, ""); code != codes.OK {
		t.Errorf("health check without a key: %v", code)
	}
}

// TestFeedScopes: whole-cache feed reads need a grant on every item; a
// partition-key read needs a grant on that key.
func TestFeedScopes(t *testing.T) {
	e := newAuthEnv(t)
	if code := e.call(t, "/control_client.ScsControl/CreateCache", false, e.mint(t, auth.MintRequest{SuperUser: true})); code != codes.OK {
		t.Fatalf("create cache as super user: %v", code)
	}
	fc := feedpb.NewFeedClient(e.conn)
	mint := func(perms ...auth.Permission) string { return e.mint(t, auth.MintRequest{Perms: perms}) }
	perm := func(role, cache string, key []byte) auth.Permission {
		return auth.Permission{Resource: auth.ResourceCache, Role: role, Cache: cache, Key: key}
	}
	type call struct {
		name string
		do   func(ctx context.Context) error
	}
	calls := []call{
		{"ranges", func(ctx context.Context) error {
			_, err := fc.GetFeedRanges(ctx, &feedpb.GetFeedRangesRequest{})
			return err
		}},
		{"read whole", func(ctx context.Context) error {
			_, err := fc.ReadFeed(ctx, &feedpb.ReadFeedRequest{})
			return err
		}},
		{"read pk k", func(ctx context.Context) error {
			_, err := fc.ReadFeed(ctx, &feedpb.ReadFeedRequest{PartitionKey: "k"})
			return err
		}},
		{"read range pk k", func(ctx context.Context) error {
			_, err := fc.ReadFeed(ctx, &feedpb.ReadFeedRequest{RangeJson: `{"PK":"k"}`})
			return err
		}},
		{"tail pk k", func(ctx context.Context) error {
			s, err := fc.TailFeed(ctx, &feedpb.ReadFeedRequest{PartitionKey: "k"})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		}},
		{"tail whole", func(ctx context.Context) error {
			s, err := fc.TailFeed(ctx, &feedpb.ReadFeedRequest{})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		}},
	}
	principals := []struct {
		name  string
		token string
		may   []string
	}{
		{"cache c read-only", mint(perm(auth.RoleReadOnly, "c", nil)), []string{"ranges", "read whole", "read pk k", "read range pk k", "tail pk k", "tail whole"}},
		{"cache c write-only", mint(perm(auth.RoleWriteOnly, "c", nil)), nil},
		{"cache other", mint(perm(auth.RoleReadWrite, "other", nil)), nil},
		{"key k", mint(perm(auth.RoleReadWrite, "", []byte("k"))), []string{"read pk k", "read range pk k", "tail pk k"}},
		{"key z", mint(perm(auth.RoleReadWrite, "", []byte("z"))), nil},
	}
	for _, p := range principals {
		for _, c := range calls {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", p.token, "cache", "c")
			code := status.Code(c.do(ctx))
			cancel()
			allowed := false
			for _, m := range p.may {
				allowed = allowed || m == c.name
			}
			if denied := code == codes.PermissionDenied; allowed == denied || allowed && code != codes.OK {
				t.Errorf("%s calling %s: %v, want allowed=%v", p.name, c.name, code, allowed)
			}
		}
	}
}
