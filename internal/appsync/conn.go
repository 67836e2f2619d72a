package appsync

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/setsuna-io/setsuna/internal/graphql"
)

// Subprotocols, in the order the server prefers them.
const (
	protoAppSync   = "graphql-ws"           // AppSync (and Apollo's legacy protocol, same name)
	protoTransport = "graphql-transport-ws" // the graphql-ws npm library
)

// maxClientFrame bounds one client message: a start carries a query of at
// most graphql.MaxDocumentBytes plus its variables.
const maxClientFrame = graphql.MaxDocumentBytes + 256*1024

// conn is one WebSocket connection of either protocol. Writes go through a
// bounded queue drained by a goroutine that exists only while there is
// something to send, so an idle connection costs one goroutine (its reader).
type conn struct {
	h     *Handler
	ws    *websocket.Conn
	proto string
	ctx   context.Context
	stop  context.CancelFunc

	mu            sync.Mutex
	who           *graphql.Identity
	authErr       error // connection credentials were rejected
	acked         bool
	refused       bool
	subs          map[string]*liveSub
	queue         [][]byte
	queuedBytes   int
	flushing      bool
	closed        bool
	ka            *time.Timer
	upgradeHeader AuthHeader
	drainClose    *closeReq
	closeDone     chan struct{}
	life          *time.Timer
}

func (h *Handler) serveWS(w http.ResponseWriter, r *http.Request) {
	offered := offeredSubprotocols(r.Header.Values("Sec-WebSocket-Protocol"))
	// Credentials: the header- subprotocol entry, else ?header=, else plain
	// HTTP headers. A bad one is reported after the upgrade (connection_error),
	// never as a refused upgrade: clients reconnect in a storm on that.
	hdr, found, decErr := headerFromSubprotocols(offered)
	if !found {
		hdr, found, decErr = headerFromQuery(r.URL.RawQuery)
	}
	var ah AuthHeader
	if found && decErr == nil {
		ah = authHeaderFromJSON(hdr)
	} else if !found {
		ah = headerFromHTTP(r)
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols: []string{protoAppSync, protoTransport},
		// Any origin: access is decided by the credentials, as in AppSync.
		InsecureSkipVerify: true,
	})
	if err != nil {
		return // Accept has answered
	}
	ws.SetReadLimit(maxClientFrame)
	c := &conn{h: h, ws: ws, proto: ws.Subprotocol(), subs: map[string]*liveSub{}, closeDone: make(chan struct{})}
	if c.proto == "" {
		c.proto = protoAppSync
	}
	c.ctx, c.stop = context.WithCancel(context.Background())
	defer c.stop()
	if !h.track(c) {
		_ = ws.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	defer h.untrack(c)
	switch {
	case decErr != nil:
		c.authErr = decErr
	case c.proto == protoAppSync || ah["x-api-key"] != "" || ah["authorization"] != "":
		c.who, c.authErr = h.auth.Authenticate(r.Context(), ah)
	default:
		// graphql-transport-ws clients usually send credentials in
		// connection_init; keep the upgrade's headers as the fallback.
		c.pendingAuth(ah)
	}
	c.mu.Lock()
	c.life = time.AfterFunc(h.maxLifetime, func() {
		c.close(websocket.StatusNormalClosure, "connection lifetime of "+h.maxLifetime.String()+" reached")
	})
	c.mu.Unlock()
	if c.proto == protoTransport {
		c.serveTransport()
	} else {
		c.serveAppSync()
	}
}

func (h *Handler) track(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns[c] = struct{}{}
	return true
}

func (h *Handler) untrack(c *conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	c.close(websocket.StatusNormalClosure, "")
	<-c.closeDone
	c.stop()
	c.mu.Lock()
	subs := c.subs
	c.subs = map[string]*liveSub{}
	c.mu.Unlock()
	for _, ls := range subs {
		h.disp.remove(ls)
	}
}

// read returns the next text message; binary frames are refused, as AppSync
// speaks text only.
func (c *conn) read() ([]byte, error) {
	typ, b, err := c.ws.Read(c.ctx)
	if err != nil {
		return nil, err
	}
	if typ != websocket.MessageText {
		c.close(websocket.StatusUnsupportedData, "binary frames are not supported")
		return nil, errors.New("binary frame")
	}
	return b, nil
}

// send queues a frame. A connection whose queue is full is closed: a slow
// client must not hold unbounded memory, and a reconnect tells it (and
// Amplify's connection-state events) that it missed data.
func (c *conn) send(frame []byte) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	// Bounded by frames and by bytes (an event may be 240 KB); one frame
	// always fits.
	if len(c.queue) > 0 && (len(c.queue) >= c.h.sendQueue || c.queuedBytes+len(frame) > c.h.sendQueueBytes) {
		c.mu.Unlock()
		c.h.log.Warn("appsync: dropping a connection that does not keep up", "queued", len(c.queue))
		// Its socket buffer is full, so a close frame would not get through.
		c.closeHard()
		return
	}
	c.queue = append(c.queue, frame)
	c.queuedBytes += len(frame)
	if !c.flushing {
		c.flushing = true
		go c.flush()
	}
	c.mu.Unlock()
}

// writeTimeout bounds one frame write to a stalled peer.
const writeTimeout = 30 * time.Second

func (c *conn) flush() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.closed {
			c.queue = nil
			c.queuedBytes = 0
			c.flushing = false
			dc := c.drainClose
			c.mu.Unlock()
			if dc != nil {
				c.close(dc.code, dc.reason)
			}
			return
		}
		frame := c.queue[0]
		c.queue[0] = nil
		c.queue = c.queue[1:]
		c.queuedBytes -= len(frame)
		c.mu.Unlock()
		ctx, cancel := context.WithTimeout(c.ctx, writeTimeout)
		err := c.ws.Write(ctx, websocket.MessageText, frame)
		cancel()
		if err != nil {
			c.closeHard()
			return
		}
	}
}

func (c *conn) sendJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.h.log.Error("appsync: cannot encode a frame", "err", err)
		return
	}
	c.send(b)
}

// close ends the connection once with a close handshake; pending frames are dropped.
func (c *conn) close(code websocket.StatusCode, reason string) { c.shut(code, reason, false) }

// closeHard ends the connection without a close handshake.
func (c *conn) closeHard() { c.shut(0, "", true) }

func (c *conn) shut(code websocket.StatusCode, reason string, hard bool) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.queue = nil
	c.queuedBytes = 0
	if c.ka != nil {
		c.ka.Stop()
	}
	if c.life != nil {
		c.life.Stop()
	}
	c.mu.Unlock()
	// Close waits for the peer's close frame; don't hold up the caller.
	go func() {
		if hard {
			_ = c.ws.CloseNow()
		} else {
			_ = c.ws.Close(code, reason)
		}
		close(c.closeDone)
	}()
}

// closeAfterFlush sends the queued frames, then closes (for connection_error
// and invalidation, whose last frame must reach the client).
func (c *conn) closeAfterFlush(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	if c.flushing {
		c.drainClose = &closeReq{code: code, reason: reason}
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.close(code, reason)
}

type closeReq struct {
	code   websocket.StatusCode
	reason string
}

// startKeepAlive sends msg now and then every keepAlive interval.
func (c *conn) startKeepAlive(msg []byte) {
	c.send(msg)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.ka != nil {
		return
	}
	var tick func()
	tick = func() {
		c.send(msg)
		c.mu.Lock()
		if !c.closed {
			c.ka.Reset(c.h.keepAlive)
		}
		c.mu.Unlock()
	}
	c.ka = time.AfterFunc(c.h.keepAlive, tick)
}

// sendData delivers an event's shared data payload to one subscription.
func (c *conn) sendData(id string, data []byte) {
	typ := `{"type":"data","id":`
	if c.proto == protoTransport {
		typ = `{"type":"next","id":`
	}
	frame := make([]byte, 0, len(typ)+len(id)+len(data)+16)
	frame = append(frame, typ...)
	frame = strconv.AppendQuote(frame, id)
	frame = append(frame, `,"payload":`...)
	frame = append(frame, data...)
	frame = append(frame, '}')
	c.send(frame)
}

// invalidate ends a subscription that extensions.invalidateSubscriptions
// matched: complete, then AppSync closes the connection.
func (c *conn) invalidate(ls *liveSub) {
	if !c.removeSub(ls.id) {
		return
	}
	c.sendJSON(map[string]any{"type": "complete", "id": ls.id})
	if c.proto == protoAppSync {
		c.closeAfterFlush(websocket.StatusNormalClosure, "subscription invalidated")
	}
}

// addSub registers a subscription unless the id is taken or the connection is
// at its limit; it returns an AppSync error type and message on refusal.
func (c *conn) addSub(id string, exec *graphql.Executor, s *graphql.Subscription) (string, string) {
	ls := &liveSub{id: id, conn: c, sub: s, exec: exec}
	c.mu.Lock()
	if _, dup := c.subs[id]; dup {
		c.mu.Unlock()
		return "DuplicatedOperationError", "Duplicated operation with id " + id
	}
	if len(c.subs) >= c.h.maxSubs {
		c.mu.Unlock()
		return "MaxSubscriptionsReachedError", "Max number of " + strconv.Itoa(c.h.maxSubs) + " subscriptions reached"
	}
	c.subs[id] = ls
	c.mu.Unlock()
	if err := c.h.disp.add(ls); err != nil {
		c.mu.Lock()
		delete(c.subs, id)
		c.mu.Unlock()
		c.h.log.Error("appsync: fan-out subscribe failed", "field", s.Field, "err", err)
		return graphql.ErrTypeInternal, "cannot subscribe right now"
	}
	return "", ""
}

func (c *conn) hasSub(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.subs[id]
	return ok
}

func (c *conn) removeSub(id string) bool {
	c.mu.Lock()
	ls, ok := c.subs[id]
	delete(c.subs, id)
	c.mu.Unlock()
	if ok {
		c.h.disp.remove(ls)
	}
	return ok
}

// pendingAuth keeps upgrade headers for a graphql-transport-ws connection
// that may authenticate in connection_init instead.
func (c *conn) pendingAuth(ah AuthHeader) { c.upgradeHeader = ah }
