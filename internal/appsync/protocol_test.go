package appsync_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/setsuna-io/setsuna/internal/appsync"
)

const (
	addedPostSub = `subscription { addedPost { id author title } }`
	addPostMut   = `mutation { addPost(id: "p1", author: "a", title: "hello") { id author title } }`
)

func TestHandshakeAndKeepAlive(t *testing.T) {
	e := newEnv(t, opts{})
	c := e.dialAppSync(t, testKey)
	if c.ws.Subprotocol() != "graphql-ws" {
		t.Fatalf("subprotocol %q, want graphql-ws echoed", c.ws.Subprotocol())
	}
	c.send(`{"type":"connection_init"}`)
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	var frames []string
	for i := 0; i < 2; i++ {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, string(b))
	}
	// ka comes at once after the ack, not only after the first interval.
	expect(t, "frames", strings.Join(frames, " "), `{"type":"connection_ack","payload":{"connectionTimeoutMs":300000}} {"type":"ka"}`)
}

func TestAuthTransports(t *testing.T) {
	e := newEnv(t, opts{})
	host := strings.TrimPrefix(e.url, "http://")
	hdr, _ := json.Marshal(map[string]any{"x-api-key": testKey})
	std := base64.StdEncoding.EncodeToString(hdr)
	if !strings.ContainsAny(std, "+/") {
		t.Fatalf("test key should produce + or / in base64: %s", std)
	}
	for _, c := range []struct {
		name      string
		path      string
		protocols []string
		header    http.Header
	}{
		{"header subprotocol", "/graphql/realtime", []string{"graphql-ws", "header-" + b64url(map[string]any{"host": host, "x-api-key": testKey})}, nil},
		// Not percent-encoded, as subscription-link 3.x and Amplify ≤ 6.5 send it.
		{"query string", "/graphql/realtime?header=" + std + "&payload=e30=", []string{"graphql-ws"}, nil},
		{"plain headers", "/realtime", []string{"graphql-ws"}, http.Header{"X-Api-Key": {testKey}}},
		{"upgrade on /graphql", "/graphql", []string{"graphql-ws", "header-" + b64url(map[string]any{"x-api-key": testKey})}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			ws, _, err := websocket.Dial(ctx, e.wsURL(c.path), &websocket.DialOptions{Subprotocols: c.protocols, HTTPHeader: c.header})
			if err != nil {
				t.Fatal(err)
			}
			defer ws.CloseNow()
			cl := &client{t: t, ws: ws}
			cl.handshake()
		})
	}
}

func TestBadAPIKeyIsConnectionError(t *testing.T) {
	e := newEnv(t, opts{})
	c := e.dialAppSync(t, "da2-wrong") // the upgrade itself succeeds
	c.send(`{"type":"connection_init"}`)
	expect(t, "connection_error", c.next(),
		`{"payload":{"errors":[{"errorType":"UnauthorizedException","message":"You are not authorized to make this call.","errorCode":401}]},"type":"connection_error"}`)
	if code := c.closed(); code != websocket.StatusNormalClosure {
		t.Fatalf("close code %d", code)
	}
}

func TestStartDataStop(t *testing.T) {
	e := newEnv(t, opts{})
	c := e.dialAppSync(t, testKey)
	c.handshake()
	c.start("s1", testKey, addedPostSub, nil)
	expect(t, "start_ack", c.next(), `{"id":"s1","type":"start_ack"}`)
	status, _, body := e.post(t, testKey, addPostMut, nil)
	expect(t, "mutation", fmt.Sprint(status, " ", body), `200 {"data":{"addPost":{"id":"p1","author":"a","title":"hello"}}}`)
	expect(t, "data", c.next(), `{"type":"data","id":"s1","payload":{"data":{"addedPost":{"id":"p1","author":"a","title":"hello"}}}}`)
	c.send(`{"type":"stop","id":"s1"}`)
	expect(t, "complete", c.next(), `{"id":"s1","type":"complete"}`)
	// The last subscription gone, the fan-out topic is released.
	e.post(t, testKey, addPostMut, nil)
	c.start("s2", testKey, `subscription { deletedPost { id } }`, nil)
	expect(t, "start_ack", c.next(), `{"id":"s2","type":"start_ack"}`)
}

func TestStartErrors(t *testing.T) {
	e := newEnv(t, opts{})
	c := e.dialAppSync(t, testKey)
	c.handshake()
	c.start("ok", testKey, addedPostSub, nil)
	expect(t, "start_ack", c.next(), `{"id":"ok","type":"start_ack"}`)
	for _, tc := range []struct {
		name, frame, want string
	}{
		{"syntax", startFrame("a", testKey, `subscription { addedPost { id `),
			`{"id":"a","payload":{"errors":[{"errorType":"ValidationError","message":"Expected Name, found \u003cEOF\u003e","locations":[{"line":1,"column":31}]}]},"type":"error"}`},
		{"validation", startFrame("b", testKey, `subscription { addedPost { nope } }`),
			`{"id":"b","payload":{"errors":[{"errorType":"ValidationError","message":"Cannot query field \"nope\" on type \"Post\".","locations":[{"line":1,"column":28}]}]},"type":"error"}`},
		{"query over the socket", startFrame("c", testKey, `query { getPost(id: "x") { id } }`),
			`{"id":"c","payload":{"errors":[{"errorType":"UnsupportedOperation","message":"query not supported through the realtime channel"}]},"type":"error"}`},
		{"mutation over the socket", startFrame("d", testKey, addPostMut),
			`{"id":"d","payload":{"errors":[{"errorType":"UnsupportedOperation","message":"mutation not supported through the realtime channel"}]},"type":"error"}`},
		{"bad key in start", startFrame("e", "da2-wrong", addedPostSub),
			`{"id":"e","payload":{"errors":[{"errorType":"UnauthorizedException","message":"You are not authorized to make this call.","errorCode":401}]},"type":"error"}`},
		{"duplicate id", startFrame("ok", testKey, addedPostSub),
			`{"id":"ok","payload":{"errors":[{"errorType":"DuplicatedOperationError","message":"Duplicated operation with id ok"}]},"type":"error"}`},
		{"data not JSON", `{"id":"f","type":"start","payload":{"data":"{nope"}}`,
			`{"id":"f","payload":{"errors":[{"errorType":"BadRequestException","message":"payload.data is not a JSON object with a query"}]},"type":"error"}`},
		{"unknown type", `{"id":"g","type":"subscribe","payload":{}}`,
			`{"payload":{"errors":[{"errorType":"UnsupportedOperation","message":"unknown not supported through the realtime channel"}]},"type":"error"}`},
		{"not JSON", `hello`,
			`{"payload":{"errors":[{"errorType":"BadRequestException","message":"message is not a JSON object"}]},"type":"error"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			c.send(tc.frame)
			expect(t, "reply", c.next(), tc.want)
		})
	}
	// The connection survived every error.
	c.t = t
	e.post(t, testKey, addPostMut, nil)
	expect(t, "data", c.next(), `{"type":"data","id":"ok","payload":{"data":{"addedPost":{"id":"p1","author":"a","title":"hello"}}}}`)
}

func startFrame(id, key, query string) string {
	data, _ := json.Marshal(map[string]any{"query": query})
	b, _ := json.Marshal(map[string]any{"id": id, "type": "start", "payload": map[string]any{
		"data": string(data), "extensions": map[string]any{"authorization": map[string]any{"x-api-key": key}}}})
	return string(b)
}

func TestMaxSubscriptions(t *testing.T) {
	e := newEnv(t, opts{})
	c := e.dialAppSync(t, testKey)
	c.handshake()
	for i := 0; i < appsync.DefaultMaxSubscriptions; i++ {
		id := fmt.Sprint("s", i)
		c.start(id, testKey, addedPostSub, nil)
		expect(t, "start_ack", c.next(), `{"id":"`+id+`","type":"start_ack"}`)
	}
	c.start("over", testKey, addedPostSub, nil)
	expect(t, "101st", c.next(), `{"id":"over","payload":{"errors":[{"errorType":"MaxSubscriptionsReachedError","message":"Max number of 100 subscriptions reached"}]},"type":"error"}`)
}

func TestPayloadLimitDropsEvent(t *testing.T) {
	e := newEnv(t, opts{cfg: func(c *appsync.Config) { c.MaxPayload = 200 }})
	c := e.dialAppSync(t, testKey)
	c.handshake()
	c.start("s", testKey, `subscription { addedPost { id title } }`, nil)
	expect(t, "start_ack", c.next(), `{"id":"s","type":"start_ack"}`)
	e.post(t, testKey, `mutation { addPost(id: "big", author: "a", title: "`+strings.Repeat("x", 300)+`") { id title } }`, nil)
	e.post(t, testKey, `mutation { addPost(id: "small", author: "a", title: "t") { id title } }`, nil)
	// Events are delivered in order, so the first frame proves the big one was dropped.
	expect(t, "data", c.next(), `{"type":"data","id":"s","payload":{"data":{"addedPost":{"id":"small","title":"t"}}}}`)
}

func TestConnectionLifetime(t *testing.T) {
	e := newEnv(t, opts{cfg: func(c *appsync.Config) { c.MaxLifetime = time.Millisecond }})
	c := e.dialAppSync(t, testKey)
	if code := c.closed(); code != websocket.StatusNormalClosure {
		t.Fatalf("close code %d", code)
	}
}

func TestGroupsEncodeOnce(t *testing.T) {
	e := newEnv(t, opts{})
	a := e.dialAppSync(t, testKey)
	b := e.dialAppSync(t, testKey)
	a.handshake()
	b.handshake()
	for _, c := range []*client{a, b} {
		c.start("x", testKey, addedPostSub, nil)
		expect(t, "ack", c.next(), `{"id":"x","type":"start_ack"}`)
	}
	a.start("y", testKey, `subscription { addedPost { title } }`, nil)
	expect(t, "ack", a.next(), `{"id":"y","type":"start_ack"}`)
	if n := e.fanout.Topics(); n != 1 {
		t.Fatalf("fan-out topics %d, want 1 per subscription field", n)
	}
	e.post(t, testKey, addPostMut, nil)
	// Within one event the order among groups is not fixed.
	got := []string{a.next(), a.next()}
	sort.Strings(got)
	got = append(got, b.next())
	expect(t, "frames", strings.Join(got, "\n"), strings.Join([]string{
		`{"type":"data","id":"x","payload":{"data":{"addedPost":{"id":"p1","author":"a","title":"hello"}}}}`,
		`{"type":"data","id":"y","payload":{"data":{"addedPost":{"title":"hello"}}}}`,
		`{"type":"data","id":"x","payload":{"data":{"addedPost":{"id":"p1","author":"a","title":"hello"}}}}`,
	}, "\n"))
}

func TestHTTPErrors(t *testing.T) {
	e := newEnv(t, opts{})
	for _, c := range []struct {
		name, key, body string
		status          int
		errType         string
	}{
		{"no key", "", `{"query":"{ getPost(id: \"1\") { id } }"}`, 401, "UnauthorizedException"},
		{"bad key", "da2-no", `{"query":"{ getPost(id: \"1\") { id } }"}`, 401, "UnauthorizedException"},
		{"malformed", testKey, `{"query":`, 400, "MalformedHttpRequestException"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", strings.NewReader(c.body))
			if c.key != "" {
				req.Header.Set("x-api-key", c.key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.status || resp.Header.Get("x-amzn-ErrorType") != c.errType {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), c.status, c.errType)
			}
		})
	}
	status, _, body := e.post(t, testKey, `{ getPost(id: "1") { nope } }`, nil)
	expect(t, "validation", fmt.Sprint(status, " ", body),
		`200 {"data":null,"errors":[{"message":"Cannot query field \"nope\" on type \"Post\".","errorType":"ValidationError","locations":[{"line":1,"column":22}]}]}`)
}

func TestGraphQLTransportWS(t *testing.T) {
	e := newEnv(t, opts{})
	c := e.dial(t, "/graphql", []string{"graphql-transport-ws"})
	if c.ws.Subprotocol() != "graphql-transport-ws" {
		t.Fatalf("subprotocol %q", c.ws.Subprotocol())
	}
	c.send(map[string]any{"type": "connection_init", "payload": map[string]any{"x-api-key": testKey}})
	expect(t, "ack", c.next(), `{"type":"connection_ack"}`)
	c.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": addedPostSub}})
	c.send(map[string]any{"id": "2", "type": "subscribe", "payload": map[string]any{"query": addPostMut}})
	// The mutation's event is fanned out before its own result is sent.
	expect(t, "event", c.next(), `{"type":"next","id":"1","payload":{"data":{"addedPost":{"id":"p1","author":"a","title":"hello"}}}}`)
	expect(t, "mutation result", c.next(), `{"type":"next","id":"2","payload":{"data":{"addPost":{"id":"p1","author":"a","title":"hello"}}}}`)
	expect(t, "mutation complete", c.next(), `{"id":"2","type":"complete"}`)
	c.send(map[string]any{"id": "3", "type": "subscribe", "payload": map[string]any{"query": `subscription { nope }`}})
	expect(t, "error", c.next(), `{"id":"3","payload":[{"message":"Cannot query field \"nope\" on type \"Subscription\".","errorType":"ValidationError","locations":[{"line":1,"column":16}]}],"type":"error"}`)
	c.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": addedPostSub}})
	if code := c.closed(); code != 4409 {
		t.Fatalf("duplicate id: close %d, want 4409", code)
	}

	bad := e.dial(t, "/graphql", []string{"graphql-transport-ws"})
	bad.send(map[string]any{"type": "connection_init", "payload": map[string]any{"x-api-key": "nope"}})
	if code := bad.closed(); code != 4403 {
		t.Fatalf("bad key: close %d, want 4403", code)
	}
	early := e.dial(t, "/graphql", []string{"graphql-transport-ws"})
	early.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": addedPostSub}})
	if code := early.closed(); code != 4401 {
		t.Fatalf("subscribe before ack: close %d, want 4401", code)
	}
}

func TestEnhancedFilterAndInvalidation(t *testing.T) {
	e := newEnv(t, opts{resolvers: `{"resolvers": {
		"Subscription.addedPost": {
			"subscriptionFilter": {"filterGroup": [
				{"filters": [{"fieldName": "author", "operator": "in", "value": ["ann", "bob"]}, {"fieldName": "title", "operator": "beginsWith", "value": "news"}]},
				{"filters": [{"fieldName": "author", "operator": "eq", "value": "root"}]}]},
			"invalidationFilter": {"filterGroup": [{"filters": [{"fieldName": "author", "operator": "eq", "value": "ann"}]}]}
		},
		"Mutation.deletePost": {"invalidateSubscriptions": [{"subscriptionField": "addedPost", "payload": {"author": {"$args": "id"}}}]}
	}}`})
	c := e.dialAppSync(t, testKey)
	c.handshake()
	c.start("f", testKey, `subscription { addedPost { id author } }`, nil)
	expect(t, "ack", c.next(), `{"id":"f","type":"start_ack"}`)
	for _, m := range []string{
		`mutation { addPost(id: "1", author: "ann", title: "old") { id author title } }`,   // title fails
		`mutation { addPost(id: "2", author: "carl", title: "news") { id author title } }`, // author fails
		`mutation { addPost(id: "3", author: "bob", title: "news!") { id author title } }`, // first group
		`mutation { addPost(id: "4", author: "root") { id author } }`,                      // second group
	} {
		e.post(t, testKey, m, nil)
	}
	expect(t, "first", c.next(), `{"type":"data","id":"f","payload":{"data":{"addedPost":{"id":"3","author":"bob"}}}}`)
	expect(t, "second", c.next(), `{"type":"data","id":"f","payload":{"data":{"addedPost":{"id":"4","author":"root"}}}}`)
	e.post(t, testKey, `mutation { deletePost(id: "someone") { id } }`, nil) // does not match
	e.post(t, testKey, `mutation { deletePost(id: "ann") { id } }`, nil)
	expect(t, "invalidated", c.next(), `{"id":"f","type":"complete"}`)
	if code := c.closed(); code != websocket.StatusNormalClosure {
		t.Fatalf("close %d", code)
	}
}

// TestTLSAndPlainOnOnePort serves both on one listener, as Amplify v6 needs.
func TestTLSAndPlainOnOnePort(t *testing.T) {
	e := newEnv(t, opts{})
	cert := httptestCert(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sl := appsync.SniffTLS(l, &tls.Config{Certificates: []tls.Certificate{cert}})
	srv := &http.Server{Handler: e.h}
	go srv.Serve(sl)
	t.Cleanup(func() { srv.Close() })
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	addr := l.Addr().String()
	for _, scheme := range []string{"http", "https"} {
		req, _ := http.NewRequest(http.MethodPost, scheme+"://"+addr+"/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
		req.Header.Set("x-api-key", testKey)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", scheme, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || (scheme == "https") != (resp.TLS != nil) {
			t.Fatalf("%s: status %d tls %v", scheme, resp.StatusCode, resp.TLS != nil)
		}
	}
	for _, scheme := range []string{"ws", "wss"} {
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
		ws, _, err := websocket.Dial(ctx, scheme+"://"+addr+"/graphql/realtime", &websocket.DialOptions{
			HTTPClient:   hc,
			Subprotocols: []string{"graphql-ws", "header-" + b64url(map[string]any{"x-api-key": testKey})},
		})
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", scheme, err)
		}
		c := &client{t: t, ws: ws}
		c.handshake()
		ws.CloseNow()
	}
	// A client that connects and never speaks does not hold up the others.
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
	req.Header.Set("x-api-key", testKey)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestRejectedConnectionWithoutInit(t *testing.T) {
	e := newEnv(t, opts{cfg: func(c *appsync.Config) { c.InitTimeout = time.Millisecond }})
	c := e.dialAppSync(t, "da2-wrong")
	// No connection_init: the server still answers and closes.
	expect(t, "connection_error", c.next(),
		`{"payload":{"errors":[{"errorType":"UnauthorizedException","message":"You are not authorized to make this call.","errorCode":401}]},"type":"connection_error"}`)
	if code := c.closed(); code != websocket.StatusNormalClosure {
		t.Fatalf("close code %d", code)
	}
}

// TestSlowClientIsDropped: a client that stops reading is disconnected once
// its bounded queue is full, instead of holding server memory.
func TestSlowClientIsDropped(t *testing.T) {
	e := newEnv(t, opts{cfg: func(c *appsync.Config) { c.SendQueue = 4 }})
	c := e.dialAppSync(t, testKey)
	c.handshake()
	c.start("s", testKey, `subscription { addedPost { title } }`, nil)
	expect(t, "start_ack", c.next(), `{"id":"s","type":"start_ack"}`)
	big := strings.Repeat("x", 200<<10)
	// Far more than the socket buffers hold, so the queue must overflow.
	for i := 0; i < 150; i++ {
		e.post(t, testKey, `mutation($t: String) { addPost(id: "p", author: "a", title: $t) { title } }`, map[string]any{"t": big})
	}
	// The client never closes, so the end of its stream is the server's
	// doing; with its buffers full no close frame can reach it.
	if code := c.closed(); code != -1 {
		t.Fatalf("close code %d, want the connection dropped", code)
	}
}

func TestPeriodicKeepAlive(t *testing.T) {
	e := newEnv(t, opts{cfg: func(c *appsync.Config) { c.KeepAlive = time.Millisecond }})
	c := e.dialAppSync(t, testKey)
	c.send(`{"type":"connection_init"}`)
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	kas := 0
	for kas < 3 {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) == `{"type":"ka"}` {
			kas++
		}
	}
}
