// Package momento is the Momento gRPC surface: it decodes the wire contract
// of cache_client.Scs, control_client.ScsControl, cache_client.Ping,
// cache_client.pubsub.Pubsub, leaderboard.Leaderboard, auth.Auth and
// token.Token, calls the cache, topics, leaderboard and auth services, and
// maps their errors to the statuses (and trailers) the official SDKs
// expect. It holds no semantics and does no authorization of its own: the
// services do. Callers are authenticated by the listener's
// grpcx.Authenticator before a handler runs.
package momento

import (
	"log/slog"
	"time"

	"google.golang.org/grpc"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/cache"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/leaderboard"
	"github.com/setsuna-io/setsuna/internal/topics"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// DefaultHeartbeatInterval is how often an idle subscription gets a
// heartbeat (the SDKs treat any message as liveness).
const DefaultHeartbeatInterval = 5 * time.Second

// Options configure the surface.
type Options struct {
	Cache *cache.Service
	// Topics serves cache_client.pubsub.Pubsub; nil answers UNIMPLEMENTED.
	Topics *topics.Service
	// Leaderboards serves leaderboard.Leaderboard; nil answers UNIMPLEMENTED.
	Leaderboards *leaderboard.Service
	// Auth mints tokens; nil is dev mode, where the token RPCs are refused.
	Auth   *auth.Service
	Logger *slog.Logger
	// HeartbeatInterval of idle subscriptions (default 5s).
	HeartbeatInterval time.Duration
}

// Service implements the Momento services.
type Service struct {
	cache     *cache.Service
	topics    *topics.Service
	lb        *leaderboard.Service
	auth      *auth.Service
	log       *slog.Logger
	rep       *errs.Reporter
	heartbeat time.Duration
}

// New returns the surface.
func New(o Options) *Service {
	if o.Cache == nil {
		panic("BUG: momento.New without a cache service")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = DefaultHeartbeatInterval
	}
	return &Service{cache: o.Cache, topics: o.Topics, lb: o.Leaderboards, auth: o.Auth, log: o.Logger, rep: errs.NewReporter(o.Logger), heartbeat: o.HeartbeatInterval}
}

// Register adds every Momento service to gs.
func (s *Service) Register(gs *grpc.Server) {
	pb.RegisterScsServer(gs, &dataServer{s: s})
	pb.RegisterScsControlServer(gs, &controlServer{s: s})
	pb.RegisterPingServer(gs, pingServer{})
	pb.RegisterAuthServer(gs, &authServer{s: s})
	pb.RegisterTokenServer(gs, &tokenServer{s: s})
	pb.RegisterPubsubServer(gs, &pubsubServer{s: s})
	if s.lb != nil {
		pb.RegisterLeaderboardServer(gs, &leaderboardServer{s: s, lb: s.lb})
	}
}

// PublicMethods are the RPCs that take the caller's key in their body and
// check it themselves: the listener must not authenticate them by header.
var PublicMethods = []string{
	"/auth.Auth/GenerateApiToken",
	"/auth.Auth/RefreshApiToken",
	"/token.Token/GenerateDisposableToken",
}

// ScalarMethods are the unary RPCs whose response carries at most one scalar
// item, under the item size limit, so it cannot outgrow a response
// (grpcx.ResponseLimit need not size it).
var ScalarMethods = []string{
	pb.Scs_Get_FullMethodName, pb.Scs_GetWithHash_FullMethodName,
	pb.Scs_Set_FullMethodName, pb.Scs_SetIf_FullMethodName, pb.Scs_SetIfHash_FullMethodName, pb.Scs_SetIfNotExists_FullMethodName,
	pb.Scs_Delete_FullMethodName, pb.Scs_Increment_FullMethodName, pb.Scs_UpdateTtl_FullMethodName,
	pb.Scs_ItemGetTtl_FullMethodName, pb.Scs_ItemGetType_FullMethodName,
}
