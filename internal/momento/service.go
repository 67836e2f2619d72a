// Package momento is the Momento gRPC surface: it translates the wire
// contract of cache_client.Scs, control_client.ScsControl and
// cache_client.Ping into Store calls and maps errors to the statuses the
// official SDKs expect. It holds no semantics of its own.
package momento

import (
	"log/slog"
	"time"

	"google.golang.org/grpc"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/store"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// Service implements the Momento services over a Store.
type Service struct {
	store store.Store
	log   *slog.Logger
	now   func() time.Time
	auth  *auth.Service // nil: dev mode, no authentication
	tp    topics        // topics state, set by EnableTopics (pubsub.go)
}

// New returns the surface for st.
func New(st store.Store, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: st, log: log, now: time.Now}
}

// Register adds every Momento service to gs.
func (s *Service) Register(gs *grpc.Server) {
	pb.RegisterScsServer(gs, &dataServer{s: s})
	pb.RegisterScsControlServer(gs, &controlServer{s: s})
	pb.RegisterPingServer(gs, pingServer{})
	pb.RegisterAuthServer(gs, &authServer{s: s})
	pb.RegisterTokenServer(gs, &tokenServer{s: s})
	s.registerPubsub(gs)
}
