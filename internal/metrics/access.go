package metrics

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/setsuna-io/setsuna/internal/auth"
)

// accessLog writes one line per request, or per Nth request: surface, op,
// cache, status, duration and the caller's principal id (the token's jti;
// never the token). The principal reaches the line through an
// auth.CallerSlot that the surface fills when it authenticates.
type accessLog struct {
	log   *slog.Logger
	on    bool
	every uint64 // 0: every request at debug level
	level slog.Level
	n     atomic.Uint64
}

func newAccessLog(log *slog.Logger, every int) *accessLog {
	a := &accessLog{log: log}
	switch {
	case every < 0:
	case every == 0:
		// The level is fixed for the node's life: decide once.
		a.on, a.level = log.Enabled(context.Background(), slog.LevelDebug), slog.LevelDebug
	default:
		a.on, a.every, a.level = true, uint64(every), slog.LevelInfo
	}
	return a
}

// pick says whether this request gets a line.
func (a *accessLog) pick() bool {
	if !a.on {
		return false
	}
	return a.every <= 1 || a.n.Add(1)%a.every == 0
}

func (a *accessLog) write(ctx context.Context, surface, op, cache, status string, d time.Duration, slot *auth.CallerSlot) {
	// The slot has the caller when a surface authenticated inside the
	// wrapped handler; a caller authenticated before it (gRPC's tap) is in
	// ctx already.
	principal := ""
	p := slot.Principal()
	if p == nil {
		p = auth.FromContext(ctx)
	}
	if p != nil {
		principal = p.ID
	}
	a.log.LogAttrs(ctx, a.level, "access",
		slog.String("surface", surface), slog.String("op", op), slog.String("cache", cache),
		slog.String("status", status), slog.Duration("duration", d), slog.String("principal", principal))
}
