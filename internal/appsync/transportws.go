package appsync

import (
	"encoding/json"
	"time"

	"github.com/coder/websocket"

	"github.com/setsuna-io/setsuna/internal/graphql"
)

// The graphql-transport-ws protocol (the graphql-ws npm library, Apollo's
// GraphQLWsLink): close codes as that library defines them.
const (
	closeBadRequest    websocket.StatusCode = 4400
	closeUnauthorized  websocket.StatusCode = 4401
	closeForbidden     websocket.StatusCode = 4403
	closeInitTimeout   websocket.StatusCode = 4408
	closeSubscriberDup websocket.StatusCode = 4409
	closeTooManyInits  websocket.StatusCode = 4429
)

var pingFrame = []byte(`{"type":"ping"}`)

type subscribePayload struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
	Extensions    map[string]any `json:"extensions"`
}

// initAuth reads credentials from a connection_init payload: either the
// header object itself ({"x-api-key": ...}) or nested under "headers" or
// "authorization".
func initAuth(raw json.RawMessage) AuthHeader {
	var p map[string]any
	if len(raw) == 0 || json.Unmarshal(raw, &p) != nil || p == nil {
		return nil
	}
	for _, k := range []string{"headers", "authorization"} {
		if m, ok := p[k].(map[string]any); ok {
			return authHeaderFromJSON(m)
		}
	}
	h := authHeaderFromJSON(p)
	if h["x-api-key"] == "" && h["authorization"] == "" {
		return nil
	}
	return h
}

func (c *conn) serveTransport() {
	initTimer := time.AfterFunc(c.h.initTimeout, func() {
		c.mu.Lock()
		acked := c.acked
		c.mu.Unlock()
		if !acked {
			c.close(closeInitTimeout, "Connection initialisation timeout")
		}
	})
	defer initTimer.Stop()
	initSeen := false
	for {
		b, err := c.read()
		if err != nil {
			return
		}
		m, err := decodeMessage(b)
		if err != nil || m.Type == "" {
			c.close(closeBadRequest, "Invalid message received")
			return
		}
		switch m.Type {
		case "connection_init":
			if initSeen {
				c.close(closeTooManyInits, "Too many initialisation requests")
				return
			}
			initSeen = true
			if ah := initAuth(m.Payload); ah != nil {
				c.who, c.authErr = c.h.auth.Authenticate(c.ctx, ah)
			} else if c.upgradeHeader != nil {
				c.who, c.authErr = c.h.auth.Authenticate(c.ctx, c.upgradeHeader)
			}
			if c.authErr != nil {
				c.close(closeForbidden, "Forbidden")
				return
			}
			c.mu.Lock()
			c.acked = true
			c.mu.Unlock()
			c.send([]byte(`{"type":"connection_ack"}`))
			c.startKeepAlive(pingFrame)
		case "ping":
			c.send([]byte(`{"type":"pong"}`))
		case "pong":
		case "subscribe":
			c.mu.Lock()
			acked := c.acked
			c.mu.Unlock()
			if !acked {
				c.close(closeUnauthorized, "Unauthorized")
				return
			}
			if m.ID == nil || *m.ID == "" {
				c.close(closeBadRequest, "Invalid message received")
				return
			}
			if c.hasSub(*m.ID) {
				c.close(closeSubscriberDup, "Subscriber for "+*m.ID+" already exists")
				return
			}
			var p subscribePayload
			if json.Unmarshal(m.Payload, &p) != nil {
				c.close(closeBadRequest, "Invalid message received")
				return
			}
			c.subscribeTransport(*m.ID, p)
		case "complete":
			if m.ID != nil {
				c.removeSub(*m.ID)
			}
		default:
			c.close(closeBadRequest, "Invalid message received")
			return
		}
	}
}

func (c *conn) transportErrors(id string, errs graphql.Errors) {
	c.sendJSON(map[string]any{"type": "error", "id": id, "payload": errs})
}

func (c *conn) subscribeTransport(id string, p subscribePayload) {
	a := c.h.api.Load()
	op, errs := a.exec.Prepare(graphql.Request{Query: p.Query, Variables: p.Variables, OperationName: p.OperationName})
	if errs != nil {
		c.transportErrors(id, errs)
		return
	}
	if op.Kind() != "subscription" {
		// Queries and mutations are allowed on this protocol.
		resp := c.h.executeOp(c.ctx, a, op, c.who)
		frame := []byte(`{"type":"next","id":`)
		idb, _ := json.Marshal(id)
		frame = append(frame, idb...)
		frame = append(frame, `,"payload":`...)
		frame = append(frame, encodeResponse(resp)...)
		frame = append(frame, '}')
		c.send(frame)
		c.sendJSON(map[string]any{"type": "complete", "id": id})
		return
	}
	s, errs := a.exec.Subscribe(c.ctx, op, c.who, a.hooks)
	if errs != nil {
		c.transportErrors(id, errs)
		return
	}
	if t, msg := c.addSub(id, a.exec, s); t != "" {
		if t == "DuplicatedOperationError" {
			c.close(closeSubscriberDup, "Subscriber for "+id+" already exists")
			return
		}
		c.transportErrors(id, graphql.Errors{{ErrorType: t, Message: msg}})
	}
}
