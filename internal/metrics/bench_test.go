package metrics

import (
	"context"
	"testing"

	"google.golang.org/grpc"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore"
)

// BenchmarkUnaryInterceptor is what the metrics add to each unary call
// (counter, histogram, two clock reads, the method lookup), with the
// access log off as by default.
func BenchmarkUnaryInterceptor(b *testing.B) {
	m := New(Options{AccessLogEvery: -1})
	m.grpc = map[string]*method{"/cache_client.Scs/Get": {surface: "momento", op: "Scs/Get", m: m}}
	info := &grpc.UnaryServerInfo{FullMethod: "/cache_client.Scs/Get"}
	h := func(ctx context.Context, req any) (any, error) { return req, nil }
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _ = m.UnaryInterceptor(ctx, nil, info, h)
		}
	})
}

// BenchmarkInstrumentedGet is an engine Get through the counting wrapper,
// beside BenchmarkPlainGet without it.
func BenchmarkInstrumentedGet(b *testing.B) { benchGet(b, true) }
func BenchmarkPlainGet(b *testing.B)        { benchGet(b, false) }

func benchGet(b *testing.B, instrumented bool) {
	var st store.Store = memstore.New(memstore.Options{})
	defer st.Close()
	if instrumented {
		st = New(Options{}).InstrumentStore(st)
	}
	ctx := auth.NewContext(context.Background(), auth.DevPrincipal)
	if _, err := st.CreateCache(ctx, "c", store.CacheConfig{}); err != nil {
		b.Fatal(err)
	}
	if err := st.Set(ctx, "c", []byte("k"), make([]byte, 100), 0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _, _ = st.Get(ctx, "c", []byte("k"))
		}
	})
}
