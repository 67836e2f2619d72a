package server_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/testnode"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// BenchmarkUnaryGet is a Momento GET of 100 B through a real server over
// loopback gRPC, client and server in this process: allocs/op and cpu-µs/op
// (process CPU time from getrusage, client included, less load-sensitive
// than ns/op) are the per-call costs of the whole unary path. "auth" sends
// a cache-scoped API key on every call, as the SDKs do; the verified-token
// cache makes its cost a map hit, so it should stay within ~1.1× of "dev".
func BenchmarkUnaryGet(b *testing.B) {
	for _, mode := range []string{"dev", "auth"} {
		b.Run(mode, func(b *testing.B) {
			n := testnode.Start(b, embed.Config{Auth: mode == "auth", CosmosListen: "off"})
			ctx := context.Background()
			if mode == "auth" {
				admin := n.Mint(b, auth.MintRequest{SuperUser: true})
				ctx = metadata.AppendToOutgoingContext(context.Background(), "authorization", admin)
			}
			conn := n.Dial(b)
			if _, err := pb.NewScsControlClient(conn).CreateCache(ctx, &pb.CreateCacheRequest{CacheName: "c"}); err != nil {
				b.Fatal(err)
			}
			if mode == "auth" {
				tok := n.Mint(b, auth.MintRequest{Perms: []auth.Permission{{Resource: auth.ResourceCache, Role: auth.RoleReadWrite, Cache: "c"}}})
				ctx = metadata.AppendToOutgoingContext(context.Background(), "authorization", tok)
			}
			ctx = metadata.AppendToOutgoingContext(ctx, "cache", "c")
			scs := pb.NewScsClient(conn)
			if _, err := scs.Set(ctx, &pb.SetRequest{CacheKey: []byte("key:0000001"), CacheBody: make([]byte, 100), TtlMilliseconds: uint64(time.Hour / time.Millisecond)}); err != nil {
				b.Fatal(err)
			}
			req := &pb.GetRequest{CacheKey: []byte("key:0000001")}
			for range 100 { // warm the connection and the token cache
				if _, err := scs.Get(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
			cpu0 := cpuTime()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(p *testing.PB) {
				for p.Next() {
					if r, err := scs.Get(ctx, req); err != nil || r.GetResult() != pb.ECacheResult_Hit {
						b.Errorf("get: %v %v", r, err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
