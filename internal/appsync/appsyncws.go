package appsync

import (
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/setsuna-io/setsuna/internal/graphql"
)

// AppSync's real-time protocol (subprotocol graphql-ws).

var kaFrame = []byte(`{"type":"ka"}`)

type errorEntry struct {
	ErrorType string `json:"errorType"`
	Message   string `json:"message"`
	ErrorCode int    `json:"errorCode,omitempty"`
	// Validation errors keep their position in the query.
	Locations []graphql.Location `json:"locations,omitempty"`
	Path      []any              `json:"path,omitempty"`
}

const notAuthorized = "You are not authorized to make this call."

func (c *conn) sendError(id *string, entries ...errorEntry) {
	frame := map[string]any{"type": "error", "payload": map[string]any{"errors": entries}}
	if id != nil {
		frame["id"] = *id
	}
	c.sendJSON(frame)
}

func gqlEntries(errs graphql.Errors) []errorEntry {
	out := make([]errorEntry, 0, len(errs))
	for _, e := range errs {
		t := e.ErrorType
		if t == "" {
			t = graphql.ErrTypeValidation
		}
		out = append(out, errorEntry{ErrorType: t, Message: e.Message, Locations: e.Locations, Path: e.Path})
	}
	return out
}

func (c *conn) serveAppSync() {
	if c.authErr != nil {
		// Answer at connection_init as AppSync does, or when the client
		// does not send one: a rejected connection is not kept open.
		t := time.AfterFunc(c.h.initTimeout, c.refuse)
		defer t.Stop()
	}
	for {
		b, err := c.read()
		if err != nil {
			return
		}
		m, err := decodeMessage(b)
		if err != nil {
			c.sendError(nil, errorEntry{ErrorType: "BadRequestException", Message: err.Error()})
			continue
		}
		switch m.Type {
		case "connection_init":
			if c.authErr != nil {
				c.refuse()
				continue // keep reading until the close completes
			}
			c.mu.Lock()
			first := !c.acked
			c.acked = true
			c.mu.Unlock()
			c.send([]byte(`{"type":"connection_ack","payload":{"connectionTimeoutMs":` + strconv.FormatInt(c.h.connTimeout.Milliseconds(), 10) + `}}`))
			if first {
				c.startKeepAlive(kaFrame)
			}
		case "start":
			c.start(m)
		case "stop":
			if m.ID == nil {
				c.sendError(nil, errorEntry{ErrorType: "BadRequestException", Message: "stop message has no id"})
				continue
			}
			c.removeSub(*m.ID)
			c.sendJSON(map[string]any{"type": "complete", "id": *m.ID})
		case "connection_terminate": // Apollo's legacy protocol
			c.close(websocket.StatusNormalClosure, "")
			return
		default:
			// AppSync's own reply, which carries no id.
			c.sendError(nil, errorEntry{ErrorType: "UnsupportedOperation", Message: "unknown not supported through the realtime channel"})
		}
	}
}

// refuse sends connection_error for rejected credentials, then closes; once.
func (c *conn) refuse() {
	c.mu.Lock()
	done := c.refused
	c.refused = true
	c.mu.Unlock()
	if done {
		return
	}
	c.h.log.Info("appsync: connection refused", "err", c.authErr)
	c.sendJSON(map[string]any{"type": "connection_error", "payload": map[string]any{
		"errors": []errorEntry{{ErrorType: "UnauthorizedException", Message: notAuthorized, ErrorCode: 401}}}})
	c.closeAfterFlush(websocket.StatusNormalClosure, "unauthorized")
}

func (c *conn) start(m *message) {
	if m.ID == nil || *m.ID == "" {
		c.sendError(nil, errorEntry{ErrorType: "BadRequestException", Message: "start message has no id"})
		return
	}
	id := m.ID
	if c.authErr != nil {
		c.sendError(id, errorEntry{ErrorType: "UnauthorizedException", Message: notAuthorized, ErrorCode: 401})
		return
	}
	if c.hasSub(*id) {
		c.sendError(id, errorEntry{ErrorType: "DuplicatedOperationError", Message: "Duplicated operation with id " + *id})
		return
	}
	req, authObj, err := decodeStart(m.Payload)
	if err != nil {
		c.sendError(id, errorEntry{ErrorType: "BadRequestException", Message: err.Error()})
		return
	}
	// Each start carries its own authorization (a connection may mix modes);
	// without one, the connection's identity applies.
	who := c.who
	if authObj != nil {
		if who, err = c.h.auth.Authenticate(c.ctx, authHeaderFromJSON(authObj)); err != nil {
			c.sendError(id, errorEntry{ErrorType: "UnauthorizedException", Message: notAuthorized, ErrorCode: 401})
			return
		}
	}
	a := c.h.api.Load()
	ls, errs := c.subscribe(a, req, who)
	if errs != nil {
		c.sendError(id, gqlEntries(errs)...)
		return
	}
	if t, msg := c.addSub(*id, a.exec, ls); t != "" {
		c.sendError(id, errorEntry{ErrorType: t, Message: msg})
		return
	}
	c.sendJSON(map[string]any{"type": "start_ack", "id": *id})
}

// subscribe prepares and registers a subscription operation.
func (c *conn) subscribe(a *api, req startRequest, who *graphql.Identity) (*graphql.Subscription, graphql.Errors) {
	op, errs := a.exec.Prepare(graphql.Request{Query: req.Query, Variables: req.Variables, OperationName: req.OperationName})
	if errs != nil {
		return nil, errs
	}
	return a.exec.Subscribe(c.ctx, op, who, a.hooks)
}
