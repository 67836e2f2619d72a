package console

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/feed"
	"github.com/setsuna-io/setsuna/internal/httpx"
	"github.com/setsuna-io/setsuna/internal/topics"
)

// Live views are server-sent events (text/event-stream, one JSON object
// per "data:" line), read by the app with fetch so that the key travels in
// the Authorization header, never in a URL. Errors after the stream began
// are an {"type":"error"} event, then the stream ends.

// keepAlive is the comment line sent on idle streams, inside the idle
// timeouts of proxies.
const keepAlive = 15 * time.Second

type sse struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func startSSE(w http.ResponseWriter) *sse {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return &sse{w: w, rc: http.NewResponseController(w)}
}

func (s *sse) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := s.w.Write(append(append([]byte("data: "), b...), '\n', '\n')); err != nil {
		return err
	}
	return s.rc.Flush()
}

func (s *sse) ping() error {
	if _, err := s.w.Write([]byte(": ping\n\n")); err != nil {
		return err
	}
	return s.rc.Flush()
}

// fail ends a stream with the public form of err.
func (c *Console) streamError(s *sse, op string, err error) error {
	e := c.rep.Public(op, err)
	_ = s.send(map[string]any{"type": "error", "code": e.Reason, "message": e.Msg, "status": httpx.Status(e.Code)})
	return nil
}

// ---- topics ----

func (c *Console) publish(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Value Bytes `json:"value"`
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	v, err := req.Value.decode()
	if err != nil {
		return err
	}
	seq, page, err := c.o.Topics.Publish(r.Context(), r.PathValue("cache"), r.PathValue("topic"), topics.Value{Data: v, Binary: req.Value.Base64 != ""})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]uint64{"sequence": seq, "page": page})
}

// subscribe streams a topic: {"type":"subscribed"} once the subscription
// is open, then {"type":"message", sequence, page, value} and
// {"type":"discontinuity", last, new, page} events. ?resume_at=N&page=P
// resumes after sequence number N of page P, like the SDKs.
func (c *Console) subscribe(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var from topics.Position
	if s := q.Get("resume_at"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return errs.ErrInvalidArgument.Msgf("resume_at must be a sequence number")
		}
		from.Seq = n + 1
	}
	if s := q.Get("page"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return errs.ErrInvalidArgument.Msgf("page must be a number")
		}
		from.Page = n
	}
	ctx := r.Context()
	sub, err := c.o.Topics.Subscribe(ctx, r.PathValue("cache"), r.PathValue("topic"), from)
	if err != nil {
		return err // before the stream: a plain JSON error
	}
	defer sub.Close()
	s := startSSE(w)
	if err := s.send(map[string]string{"type": "subscribed"}); err != nil {
		return nil
	}
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	buf := make([]topics.Event, 0, 64)
	for {
		ready := sub.Ready()
		evs, err := sub.Poll(ctx, buf[:0])
		if err != nil {
			return c.streamError(s, "subscribe", err)
		}
		for _, ev := range evs {
			var v any
			if ev.Msg == nil {
				v = map[string]any{"type": "discontinuity", "last": ev.Gap.Last, "new": ev.Gap.New, "page": ev.Gap.Page}
			} else {
				v = map[string]any{"type": "message", "sequence": ev.Msg.Seq, "page": ev.Msg.Page, "value": bytesOf(ev.Msg.Value.Data)}
			}
			if err := s.send(v); err != nil {
				return nil
			}
		}
		if len(evs) > 0 {
			continue
		}
		select {
		case <-ready:
		case <-tick.C:
			if s.ping() != nil {
				return nil
			}
		case <-ctx.Done():
			if cause := context.Cause(ctx); cause != nil && cause != context.Canceled {
				return c.streamError(s, "subscribe", cause)
			}
			return nil
		}
	}
}

// ---- change feed ----

type rangeResp struct {
	ID        string `json:"id"`
	Partition int    `json:"partition"`
	Min       string `json:"min"`
	Max       string `json:"max"`
	Range     string `json:"range"` // the JSON the SDKs hand around
}

func (c *Console) feedRanges(w http.ResponseWriter, r *http.Request) error {
	_, rs, err := c.o.Feed.Ranges(r.Context(), r.PathValue("cache"))
	if err != nil {
		return err
	}
	out := make([]rangeResp, len(rs))
	for i, ri := range rs {
		out[i] = rangeResp{ID: ri.ID, Partition: ri.Partition, Min: ri.MinEPK, Max: ri.MaxEPK, Range: ri.Range.ToJSON()}
	}
	return writeJSON(w, http.StatusOK, out)
}

type changeResp struct {
	Op         string `json:"op"`
	Key        Bytes  `json:"key"`
	Kind       string `json:"kind"`
	LSN        uint64 `json:"lsn"`
	Partition  int    `json:"partition"`
	CommitTime int64  `json:"commit_time_ms"`
	Value      *Bytes `json:"value,omitempty"`
	TTLExpired bool   `json:"ttl_expired,omitempty"`
}

// tail streams a change feed: {"type":"page", changes, continuation,
// not_modified} for every page with changes and each time it catches up.
// ?range=<feed range JSON> (default: the whole cache), ?start=beginning|now
// (default now), ?mode=latest|all, ?continuation=<token> to resume — the
// console's pause keeps the last token and resume sends it.
func (c *Console) tail(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	req := feed.Request{Cache: r.PathValue("cache"), Continuation: q.Get("continuation"), Range: feed.Whole()}
	if s := q.Get("range"); s != "" {
		rg, err := feed.FromJSON(s)
		if err != nil {
			return err
		}
		req.Range = rg
	}
	switch q.Get("start") {
	case "", "now":
		req.Start = feed.StartNow
	case "beginning":
		req.Start = feed.StartBeginning
	default:
		return errs.ErrInvalidArgument.Msgf("start must be beginning or now")
	}
	switch q.Get("mode") {
	case "":
	case "latest":
		req.Mode = feed.ModeLatestVersion
	case "all":
		req.Mode = feed.ModeAllVersions
	default:
		return errs.ErrInvalidArgument.Msgf("mode must be latest or all")
	}
	ctx := r.Context()
	var s *sse
	err := c.o.Feed.Tail(ctx, req, func(p feed.Page) error {
		if s == nil {
			s = startSSE(w)
		}
		out := map[string]any{"type": "page", "continuation": p.Continuation, "not_modified": p.NotModified}
		chs := make([]changeResp, len(p.Changes))
		for i := range p.Changes {
			ch := &p.Changes[i]
			chs[i] = changeResp{Op: ch.Op.String(), Key: bytesOf(ch.Key), Kind: ch.Kind.String(), LSN: ch.LSN,
				Partition: p.Partition, CommitTime: ch.CommitTime.UnixMilli(), TTLExpired: ch.TTLExpired}
			if ch.Value != nil {
				b := bytesOf(ch.Value)
				chs[i].Value = &b
			}
		}
		out["changes"] = chs
		return s.send(out)
	})
	switch {
	case s == nil:
		return err // nothing sent yet: a plain JSON error
	case err == nil || ctx.Err() != nil && context.Cause(ctx) == context.Canceled:
		return nil
	}
	return c.streamError(s, "tail the feed", err)
}
