package appsync

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/setsuna-io/setsuna/internal/graphql"
)

// AppSync's limits and timers.
const (
	DefaultMaxSubscriptions = 100
	DefaultMaxPayload       = 240 * 1024
	DefaultMaxLifetime      = 24 * time.Hour
	// AppSync sends ka about once a minute; the Apollo link needs one within
	// 60 s and Amplify flags 65 s of silence, so stay well inside both.
	DefaultKeepAlive         = 30 * time.Second
	DefaultConnectionTimeout = 300 * time.Second
	DefaultSendQueue         = 256     // frames queued per connection before it is dropped as too slow
	DefaultSendQueueBytes    = 1 << 20 // bytes queued per connection, likewise
	DefaultInitTimeout       = 10 * time.Second
	maxRequestBytes          = 1 << 20
)

// Config configures a Handler. Executor, Auth and Fanout are required.
type Config struct {
	Executor *graphql.Executor
	// Hooks run when a subscription on their field starts (enhanced and
	// invalidation filters); see graphql.ResolverConfig.Apply.
	Hooks  map[string]graphql.SubscribeHook
	Auth   Authenticator
	Fanout Fanout
	// TopicPrefix names the fan-out topics: prefix + subscription field.
	TopicPrefix string
	Logger      *slog.Logger

	MaxSubscriptions  int
	MaxPayload        int
	MaxLifetime       time.Duration
	KeepAlive         time.Duration
	ConnectionTimeout time.Duration // advertised in connection_ack
	SendQueue         int
	SendQueueBytes    int
	// InitTimeout is how long a connection may wait before connection_init:
	// graphql-transport-ws closes it (4408); AppSync answers a rejected
	// credential with connection_error when it runs out.
	InitTimeout time.Duration
}

// Handler serves the AppSync surface.
type Handler struct {
	api         atomic.Pointer[api]
	auth        Authenticator
	fanout      Fanout
	topicPrefix string
	log         *slog.Logger

	maxSubs        int
	maxPayload     int
	maxLifetime    time.Duration
	keepAlive      time.Duration
	connTimeout    time.Duration
	sendQueue      int
	sendQueueBytes int
	initTimeout    time.Duration

	disp dispatcher

	mu     sync.Mutex
	conns  map[*conn]struct{}
	closed bool
}

// New checks cfg and returns a Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Executor == nil || cfg.Executor.Schema == nil || cfg.Auth == nil || cfg.Fanout == nil {
		return nil, errors.New("appsync: executor with a schema, auth and fanout are required")
	}
	h := &Handler{
		auth: cfg.Auth, fanout: cfg.Fanout,
		topicPrefix: cfg.TopicPrefix, log: cfg.Logger,
		maxSubs: cfg.MaxSubscriptions, maxPayload: cfg.MaxPayload, maxLifetime: cfg.MaxLifetime,
		keepAlive: cfg.KeepAlive, connTimeout: cfg.ConnectionTimeout, sendQueue: cfg.SendQueue, sendQueueBytes: cfg.SendQueueBytes,
		initTimeout: cfg.InitTimeout,
		conns:       map[*conn]struct{}{},
	}
	if h.topicPrefix == "" {
		h.topicPrefix = "graphql/"
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&h.maxSubs, DefaultMaxSubscriptions)
	def(&h.maxPayload, DefaultMaxPayload)
	def(&h.sendQueue, DefaultSendQueue)
	def(&h.sendQueueBytes, DefaultSendQueueBytes)
	defD(&h.maxLifetime, DefaultMaxLifetime)
	defD(&h.keepAlive, DefaultKeepAlive)
	defD(&h.connTimeout, DefaultConnectionTimeout)
	defD(&h.initTimeout, DefaultInitTimeout)
	h.disp = dispatcher{h: h, fields: map[string]*fieldSubs{}}
	h.api.Store(&api{exec: cfg.Executor, hooks: cfg.Hooks})
	return h, nil
}

// api is one version of the schema and its resolvers. A reload swaps it;
// an operation runs on the version it was prepared with, and a
// subscription keeps its version for its life.
type api struct {
	exec  *graphql.Executor
	hooks map[string]graphql.SubscribeHook
}

// Reload serves exec and hooks to every operation from now on (a new
// schema, on SIGHUP). Open subscriptions keep the schema they started on
// and still get the events of their field's mutations.
func (h *Handler) Reload(exec *graphql.Executor, hooks map[string]graphql.SubscribeHook) error {
	if exec == nil || exec.Schema == nil {
		return errors.New("appsync: reload needs an executor with a schema")
	}
	h.api.Store(&api{exec: exec, hooks: hooks})
	return nil
}

// Close ends every WebSocket connection (for shutdown; http.Server.Shutdown
// does not see hijacked connections).
func (h *Handler) Close() {
	h.mu.Lock()
	h.closed = true
	conns := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.close(websocket.StatusGoingAway, "server shutting down")
	}
}

// Connections is the number of open WebSocket connections.
func (h *Handler) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// ServeHTTP routes: POST /graphql; WebSocket upgrades on /graphql,
// /graphql/realtime and /realtime; OPTIONS for CORS preflight.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cors(w)
	path := strings.TrimSuffix(r.URL.Path, "/")
	isWS := strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
	switch {
	case r.Method == http.MethodOptions:
		w.WriteHeader(http.StatusOK)
	case isWS && (path == "/graphql" || path == "/graphql/realtime" || path == "/realtime"):
		h.serveWS(w, r)
	case path == "/graphql" && r.Method == http.MethodPost:
		h.servePOST(w, r)
	case path == "/graphql":
		httpError(w, http.StatusMethodNotAllowed, "MethodNotAllowedException", "use POST for queries and mutations, a WebSocket for subscriptions")
	default:
		httpError(w, http.StatusNotFound, "NotFoundException", "no such path; the GraphQL endpoint is /graphql")
	}
}

func cors(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
	hd.Set("Access-Control-Allow-Headers", "content-type, x-api-key, authorization, x-amz-date, x-amz-user-agent, x-amz-security-token, x-amz-content-sha256")
	hd.Set("Access-Control-Expose-Headers", "x-amzn-requestid, x-amzn-errortype")
	hd.Set("Access-Control-Max-Age", "86400")
}

// httpError answers in AppSync's error shape with its x-amzn-ErrorType header.
func httpError(w http.ResponseWriter, status int, errType, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("x-amzn-ErrorType", errType)
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"errors": []map[string]any{{"errorType": errType, "message": msg}}})
	_, _ = w.Write(b)
}

func (h *Handler) servePOST(w http.ResponseWriter, r *http.Request) {
	who, err := h.auth.Authenticate(r.Context(), headerFromHTTP(r))
	if err != nil {
		msg := "You are not authorized to make this call."
		if errors.Is(err, ErrNoCredentials) {
			msg = "Valid authorization header not provided."
		}
		httpError(w, http.StatusUnauthorized, "UnauthorizedException", msg)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil {
		httpError(w, http.StatusBadRequest, "MalformedHttpRequestException", "cannot read the request body")
		return
	}
	if len(body) > maxRequestBytes {
		httpError(w, http.StatusRequestEntityTooLarge, "PayloadTooLargeException", "the request body is over 1 MB")
		return
	}
	var req graphql.Request
	if err := json.Unmarshal(body, &req); err != nil {
		httpError(w, http.StatusBadRequest, "MalformedHttpRequestException", "The request body is not a JSON object with a query")
		return
	}
	resp := h.execute(r.Context(), req, who)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = w.Write(encodeResponse(resp))
}

// execute runs a query or mutation and fans out what a mutation published.
func (h *Handler) execute(ctx context.Context, req graphql.Request, who *graphql.Identity) *graphql.Response {
	a := h.api.Load()
	op, errs := a.exec.Prepare(req)
	if errs != nil {
		return &graphql.Response{Errors: errs}
	}
	return h.executeOp(ctx, a, op, who)
}

func (h *Handler) executeOp(ctx context.Context, a *api, op *graphql.Operation, who *graphql.Identity) *graphql.Response {
	resp := a.exec.Execute(ctx, op, who)
	// Events go out before the response so that a client that awaits the
	// mutation finds its own event already on the way; a client that hangs
	// up meanwhile must not cancel what was committed.
	h.disp.publish(context.WithoutCancel(ctx), a.exec.Schema, resp)
	return resp
}

// encodeResponse writes {"data":...,"errors":[...]}.
func encodeResponse(resp *graphql.Response) []byte {
	var b []byte
	data, _ := json.Marshal(resp.Data)
	if resp.Data == nil {
		data = []byte("null")
	}
	b = append(b, `{"data":`...)
	b = append(b, data...)
	if len(resp.Errors) > 0 {
		b = append(b, `,"errors":`...)
		b = append(b, graphql.MarshalErrors(resp.Errors)...)
	}
	return append(b, '}')
}
