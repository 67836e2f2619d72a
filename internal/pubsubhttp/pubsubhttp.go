// Package pubsubhttp is the publish API on the HTTP listener, the same
// service and authentication as setsuna.pubsub.v1 (internal/pubsubrpc):
//
//	POST /v1/publish    JSON {"subject", "content" | "content_base64",
//	                    "closure", "retained", "retain_ms", "idempotency_key"}
//	                    → JSON {"status", "reason", "message", "closure",
//	                    "seq", "epoch", "duplicate"}
//	GET  /v1/subscribe?subject=/c/t
//	                    server-sent events: "subscribed", "message",
//	                    "discontinuity", "error"; resume with Last-Event-ID
//	                    (or ?last_event_id=) "<epoch>-<seq>"
//	GET  /v1/servers    JSON {"node_id", "servers", "http"}
//
// The token is the Authorization header (raw or "Bearer ...") or the token
// query parameter (browsers' EventSource cannot set headers). A publish
// response's status is in its body; the HTTP status follows it: 200 for OK
// and NO_SUBSCRIBER, 401/403 for DENIED, the error's status for FAILED.
//
// Limits: a publish body is bounded by the payload limit; open event
// streams are bounded (MaxStreams), each writes with a deadline, and a
// stream's buffering is the subscription's bounded backlog: a client too
// slow to read gets a discontinuity, never unbounded memory.
package pubsubhttp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/httpx"
	"github.com/setsuna-io/setsuna/internal/publish"
)

// Defaults of Options.
const (
	DefaultMaxStreams   = 1024
	DefaultHeartbeat    = 5 * time.Second
	DefaultWriteTimeout = 30 * time.Second
	pollBatch           = 64
	// maxBuffered bounds what a stream encodes before it writes.
	maxBuffered = 32 << 10
)

// Options configure the surface.
type Options struct {
	Publish     *publish.Service
	Entitlement auth.Entitlement
	// MaxStreams bounds the open event streams of this node.
	MaxStreams int
	// Heartbeat is how often an idle stream gets a comment line.
	Heartbeat time.Duration
	// WriteTimeout bounds each write to a stream.
	WriteTimeout time.Duration
	Servers      func() (node string, grpcAddrs []string, httpAddr string)
	Logger       *slog.Logger
}

type handler struct {
	o       Options
	rep     *errs.Reporter
	streams chan struct{}
}

// Register adds the routes to mux.
func Register(mux *http.ServeMux, o Options) {
	if o.MaxStreams <= 0 {
		o.MaxStreams = DefaultMaxStreams
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	h := &handler{o: o, rep: errs.NewReporter(o.Logger), streams: make(chan struct{}, o.MaxStreams)}
	mux.HandleFunc("POST /v1/publish", h.publish)
	mux.HandleFunc("GET /v1/subscribe", h.subscribe)
	mux.HandleFunc("GET /v1/servers", h.servers)
}

func (h *handler) authenticate(r *http.Request) (context.Context, error) {
	p, err := h.o.Entitlement.Principal(httpx.Token(r))
	if err != nil {
		return r.Context(), err
	}
	return auth.NewContext(r.Context(), p), nil
}

type publishRequest struct {
	Subject        string  `json:"subject"`
	Content        *string `json:"content"`
	ContentBase64  *string `json:"content_base64"`
	Closure        string  `json:"closure"`
	Retained       bool    `json:"retained"`
	RetainMs       int64   `json:"retain_ms"`
	IdempotencyKey string  `json:"idempotency_key"`
}

type publishResponse struct {
	Status    string `json:"status"`
	Reason    string `json:"reason,omitempty"`
	Message   string `json:"message,omitempty"`
	Closure   string `json:"closure,omitempty"`
	Seq       uint64 `json:"seq,omitempty"`
	Epoch     uint64 `json:"epoch,omitempty"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

// bodyLimit bounds a publish body: the payload (base64 or JSON-escaped text
// at up to 6 bytes a byte), the subject and closure likewise, and the rest.
func (h *handler) bodyLimit() int64 {
	return int64(6*(h.o.Publish.MaxPayload()+publish.MaxSubjectLen+publish.MaxClosureLen) + 4096)
}

func (h *handler) publish(w http.ResponseWriter, r *http.Request) {
	var req publishRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, h.bodyLimit()))
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		e := errs.ErrInvalidArgument.Msgf("the body must be one JSON object: %v", err)
		if errors.As(err, &tooBig) {
			e = errs.ErrPayloadTooLarge.Withf("the request body exceeds %d bytes", tooBig.Limit)
		}
		writeResult(w, publish.Result{Status: publish.StatusFailed, Err: e})
		return
	}
	res := publish.Result{Closure: req.Closure}
	ctx, err := h.authenticate(r)
	msg := publish.Message{Subject: req.Subject, Closure: req.Closure, Retained: req.Retained, IdempotencyKey: req.IdempotencyKey}
	switch {
	case err != nil:
		e := errs.As(err)
		if e == nil {
			e = errs.ErrUnauthenticated
		}
		res.Status, res.Err = publish.StatusDenied, e
	case (req.Content == nil) == (req.ContentBase64 == nil):
		res.Status, res.Err = publish.StatusFailed, errs.ErrInvalidArgument.Msgf("give exactly one of content (text) and content_base64 (binary)")
	case req.RetainMs < 0:
		res.Status, res.Err = publish.StatusFailed, errs.ErrInvalidArgument.Msgf("retain_ms must not be negative")
	default:
		if req.Content != nil {
			msg.Content = []byte(*req.Content)
		} else if msg.Content, err = base64.StdEncoding.DecodeString(*req.ContentBase64); err != nil {
			res.Status, res.Err = publish.StatusFailed, errs.ErrInvalidArgument.Msgf("content_base64 is not base64: %v", err)
			break
		} else {
			msg.Binary = true
		}
		msg.RetainFor = time.Duration(min(req.RetainMs, int64(publish.MaxRetainedTTL/time.Millisecond)+1)) * time.Millisecond
		res = h.o.Publish.Publish(ctx, msg)
	}
	writeResult(w, res)
}

func writeResult(w http.ResponseWriter, res publish.Result) {
	out := publishResponse{Status: res.Status.String(), Closure: res.Closure, Seq: res.Seq, Epoch: res.Epoch, Duplicate: res.Duplicate}
	code := http.StatusOK
	if res.Err != nil {
		out.Reason, out.Message = res.Err.Reason, res.Err.Msg
		if res.Status == publish.StatusDenied || res.Status == publish.StatusFailed {
			code = httpx.Status(res.Err.Code)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(&out)
}

func (h *handler) servers(w http.ResponseWriter, _ *http.Request) {
	var out struct {
		NodeID  string   `json:"node_id"`
		Servers []string `json:"servers"`
		HTTP    string   `json:"http"`
	}
	if h.o.Servers != nil {
		out.NodeID, out.Servers, out.HTTP = h.o.Servers()
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(&out)
}

// ParseEventID reads an event id "<epoch>-<seq>".
func ParseEventID(id string) (epoch, seq uint64, err error) {
	e, s, ok := strings.Cut(strings.TrimSpace(id), "-")
	if ok {
		if epoch, err = strconv.ParseUint(e, 10, 64); err == nil {
			seq, err = strconv.ParseUint(s, 10, 64)
		}
	}
	if !ok || err != nil {
		return 0, 0, errs.ErrInvalidArgument.Msgf("invalid event id %q: it is <epoch>-<seq>", trunc(id))
	}
	return epoch, seq, nil
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

func (h *handler) subscribe(w http.ResponseWriter, r *http.Request) {
	ctx, err := h.authenticate(r)
	if err != nil {
		httpx.WriteError(w, h.rep.Public("subscribe", err))
		return
	}
	var epoch, seq uint64
	id := r.Header.Get("Last-Event-ID")
	if id == "" {
		id = r.URL.Query().Get("last_event_id")
	}
	if id != "" {
		if epoch, seq, err = ParseEventID(id); err != nil {
			httpx.WriteError(w, errs.As(err))
			return
		}
	}
	select {
	case h.streams <- struct{}{}:
		defer func() { <-h.streams }()
	default:
		httpx.WriteError(w, errs.ErrStreamsLimitExceeded.Withf("this server serves %d event streams, the limit", cap(h.streams)))
		return
	}
	ctx, stop := h.o.Entitlement.Watch(ctx, auth.FromContext(ctx))
	defer stop()
	sub, err := h.o.Publish.Subscribe(ctx, r.URL.Query().Get("subject"), epoch, seq)
	if err != nil {
		httpx.WriteError(w, h.rep.Public("subscribe", err))
		return
	}
	defer sub.Close()

	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	sw := &sseWriter{w: w, rc: rc, timeout: h.o.WriteTimeout, subject: sub.Subject}
	st := sub.Start
	sw.cur.epoch, sw.cur.seq = st.Epoch, st.Seq
	sw.event("subscribed", fmt.Sprintf("%d-%d", st.Epoch, st.Seq), map[string]any{
		"subject": sub.Subject, "epoch": st.Epoch, "seq": st.Seq, "resumed": st.Resumed, "in_sync": st.InSync,
	})
	if sw.flush() != nil {
		return
	}
	tick := time.NewTicker(h.o.Heartbeat)
	defer tick.Stop()
	buf := make([]publish.Event, 0, pollBatch)
	sent := false
	for {
		ready := sub.Ready()
		evs, err := sub.Poll(ctx, buf[:0])
		for i := range evs {
			sw.send(&evs[i])
			evs[i] = publish.Event{}
			if len(sw.buf) >= maxBuffered && sw.flush() != nil {
				return
			}
		}
		if len(evs) > 0 {
			sent = true
			if sw.flush() != nil {
				return
			}
		}
		if err != nil {
			if ctx.Err() == nil {
				e := h.rep.Public("subscribe", err)
				sw.event("error", "", map[string]any{"code": e.Reason, "message": e.Msg})
				_ = sw.flush()
			}
			return
		}
		if len(evs) > 0 {
			continue
		}
		select {
		case <-ready:
		case <-ctx.Done():
			if e := errs.As(context.Cause(ctx)); e != nil && e.Code == errs.CodeUnauthenticated {
				sw.event("error", "", map[string]any{"code": e.Reason, "message": e.Msg})
				_ = sw.flush()
			}
			return
		case <-tick.C:
			if !sent {
				sw.comment("hb")
				if sw.flush() != nil {
					return
				}
			}
			sent = false
		}
	}
}

// sseWriter writes events to one stream. A write error ends the stream at
// the next flush.
type sseWriter struct {
	w       io.Writer
	rc      *http.ResponseController
	timeout time.Duration
	subject string
	buf     []byte
	err     error
	cur     struct{ epoch, seq uint64 } // the last event id given
}

func (s *sseWriter) send(ev *publish.Event) {
	if ev.Msg == nil {
		g := ev.Gap
		s.cur.epoch, s.cur.seq = g.Page, g.New
		s.event("discontinuity", fmt.Sprintf("%d-%d", g.Page, g.New), map[string]any{"last_seq": g.Last, "new_seq": g.New, "epoch": g.Page})
		return
	}
	m := ev.Msg
	body := map[string]any{"subject": s.subject, "seq": m.Seq, "epoch": m.Epoch}
	if m.Value.Binary {
		body["content_base64"] = base64.StdEncoding.EncodeToString(m.Value.Data)
	} else {
		body["content"] = string(m.Value.Data)
	}
	if m.Snapshot {
		body["snapshot"] = true
	}
	if m.PublisherID != "" {
		body["publisher_id"] = m.PublisherID
	}
	// The id moves forward only within the stream's epoch: a snapshot of an
	// older page, or one already behind, leaves the resume position alone.
	id := ""
	if m.Epoch == s.cur.epoch && m.Seq > s.cur.seq {
		s.cur.seq = m.Seq
		id = fmt.Sprintf("%d-%d", m.Epoch, m.Seq)
	}
	s.event("message", id, body)
}

func (s *sseWriter) event(name, id string, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		s.err = err
		return
	}
	s.buf = append(s.buf, "event: "...)
	s.buf = append(s.buf, name...)
	s.buf = append(s.buf, '\n')
	if id != "" {
		s.buf = append(s.buf, "id: "...)
		s.buf = append(s.buf, id...)
		s.buf = append(s.buf, '\n')
	}
	s.buf = append(s.buf, "data: "...)
	s.buf = append(s.buf, b...)
	s.buf = append(s.buf, "\n\n"...)
}

func (s *sseWriter) comment(text string) {
	s.buf = append(s.buf, ": "...)
	s.buf = append(s.buf, text...)
	s.buf = append(s.buf, "\n\n"...)
}

func (s *sseWriter) flush() error {
	if s.err != nil {
		return s.err
	}
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	if _, err := s.w.Write(s.buf); err != nil {
		s.err = err
		return err
	}
	s.buf = s.buf[:0]
	if cap(s.buf) > 2*maxBuffered {
		s.buf = nil // one large message does not pin its buffer
	}
	if err := s.rc.Flush(); err != nil {
		s.err = err
		return err
	}
	return nil
}
