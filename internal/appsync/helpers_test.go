package appsync_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/setsuna-io/setsuna/internal/appsync"
	"github.com/setsuna-io/setsuna/internal/appsync/appsynctest"
	"github.com/setsuna-io/setsuna/internal/graphql"
	"github.com/setsuna-io/setsuna/internal/graphql/graphqltest"
)

// hangGuard bounds every wait so that a broken server fails the test instead
// of hanging it; no test asserts on time.
const hangGuard = 20 * time.Second

const testKey = "da2-???>>>~~~" // its base64 has + and /

type env struct {
	h      *appsync.Handler
	srv    *httptest.Server
	fanout *appsynctest.MemFanout
	url    string // http://127.0.0.1:port
}

type opts struct {
	schema    string // file in testdata
	resolvers string // JSON config
	cfg       func(*appsync.Config)
}

func newEnv(t testing.TB, o opts) *env {
	t.Helper()
	if o.schema == "" {
		o.schema = "blog.graphql"
	}
	sdl, err := os.ReadFile("testdata/" + o.schema)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := graphql.LoadSchema(o.schema, string(sdl))
	if err != nil {
		t.Fatal(err)
	}
	exec := &graphql.Executor{Schema: schema}
	var hooks map[string]graphql.SubscribeHook
	if o.resolvers != "" {
		rc, err := graphql.ParseResolverConfig([]byte(o.resolvers))
		if err != nil {
			t.Fatal(err)
		}
		store := graphqltest.NewMemStore()
		if hooks, err = rc.Apply(exec, func(string, graphql.DataSourceConfig) (graphql.Store, error) { return store, nil }); err != nil {
			t.Fatal(err)
		}
	}
	fan := appsynctest.NewMemFanout()
	cfg := appsync.Config{Executor: exec, Hooks: hooks, Auth: &appsync.KeyAuth{APIKeys: []string{testKey}}, Fanout: fan}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	h, err := appsync.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		h.Close()
		srv.Close()
	})
	return &env{h: h, srv: srv, fanout: fan, url: srv.URL}
}

// post sends a GraphQL request over HTTP and returns status, header and body.
func (e *env) post(t testing.TB, key, query string, vars map[string]any) (int, http.Header, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func b64url(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// client is a raw WebSocket client speaking JSON frames.
type client struct {
	t  testing.TB
	ws *websocket.Conn
}

func (e *env) wsURL(path string) string { return "ws" + strings.TrimPrefix(e.url, "http") + path }

// dialAppSync connects as Amplify v6 does: graphql-ws plus a header- entry.
func (e *env) dialAppSync(t testing.TB, key string) *client {
	t.Helper()
	hdr := map[string]any{"host": strings.TrimPrefix(e.url, "http://"), "x-api-key": key, "x-amz-date": "20261201T000000Z"}
	return e.dial(t, "/graphql/realtime", []string{"graphql-ws", "header-" + b64url(hdr)})
}

func (e *env) dial(t testing.TB, path string, protocols []string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, e.wsURL(path), &websocket.DialOptions{Subprotocols: protocols})
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	ws.SetReadLimit(1 << 20)
	c := &client{t: t, ws: ws}
	t.Cleanup(func() { _ = ws.CloseNow() })
	return c
}

func (c *client) send(v any) {
	c.t.Helper()
	var b []byte
	if s, ok := v.(string); ok {
		b = []byte(s)
	} else {
		b, _ = json.Marshal(v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next returns the next frame as raw JSON, skipping keep-alives.
func (c *client) next() string {
	c.t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
		typ, b, err := c.ws.Read(ctx)
		cancel()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if typ != websocket.MessageText {
			c.t.Fatalf("server sent a binary frame")
		}
		if s := string(b); s != `{"type":"ka"}` && s != `{"type":"ping"}` {
			return s
		}
	}
}

// closed waits for the server to close and returns the close status.
func (c *client) closed() websocket.StatusCode {
	c.t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
		_, _, err := c.ws.Read(ctx)
		cancel()
		if err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

// start sends an AppSync start with the API key in extensions.authorization.
func (c *client) start(id, key, query string, vars map[string]any) {
	c.t.Helper()
	data, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	c.send(map[string]any{"id": id, "type": "start", "payload": map[string]any{
		"data":       string(data),
		"extensions": map[string]any{"authorization": map[string]any{"host": "localhost", "x-api-key": key}},
	}})
}

// handshake does connection_init and checks connection_ack.
func (c *client) handshake() {
	c.t.Helper()
	c.send(`{"type":"connection_init"}`)
	if got, want := c.next(), `{"type":"connection_ack","payload":{"connectionTimeoutMs":300000}}`; got != want {
		c.t.Fatalf("ack\n got %s\nwant %s", got, want)
	}
}

func expect(t testing.TB, what, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s\n got %s\nwant %s", what, got, want)
	}
}
