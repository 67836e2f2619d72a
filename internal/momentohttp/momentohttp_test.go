package momentohttp_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/testnode"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

type reply struct {
	status int
	body   string
}

func do(t *testing.T, method, url string, header http.Header, body string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, string(b)}
}

func want(t *testing.T, what string, got reply, status int, bodyPart string) {
	t.Helper()
	if got.status != status || !strings.Contains(got.body, bodyPart) {
		t.Fatalf("%s: %d %q, want %d with %q", what, got.status, got.body, status, bodyPart)
	}
}

func createCache(t *testing.T, n *testnode.Node, name string, token string) {
	t.Helper()
	ctx := context.Background()
	if token != "" {
		ctx = metadataAuth(ctx, token)
	}
	if _, err := pb.NewScsControlClient(n.Dial(t)).CreateCache(ctx, &pb.CreateCacheRequest{CacheName: name}); err != nil {
		t.Fatal(err)
	}
}

// The documented routes in dev mode, as curl sends them.
func TestCacheAndTopicRoutes(t *testing.T) {
	n := testnode.Start(t, embed.Config{})
	createCache(t, n, "c", "")
	base := "http://" + n.HTTPAddr()

	want(t, "put", do(t, "PUT", base+"/cache/c?key=k1&ttl_seconds=60", nil, "v1"), 204, "")
	want(t, "get", do(t, "GET", base+"/cache/c?key=k1", nil, ""), 200, "v1")
	bk := base64.RawURLEncoding.EncodeToString([]byte{0xff, 0x00, 'k'})
	want(t, "put base64 key", do(t, "PUT", base+"/cache/c?key_base64="+bk+"&ttl_seconds=60", nil, "bin"), 204, "")
	want(t, "get base64 key", do(t, "GET", base+"/cache/c?key_base64="+bk, nil, ""), 200, "bin")
	want(t, "miss", do(t, "GET", base+"/cache/c?key=nope", nil, ""), 404, "Key Not Found")
	want(t, "delete", do(t, "DELETE", base+"/cache/c?key=k1", nil, ""), 204, "")
	want(t, "delete missing", do(t, "DELETE", base+"/cache/c?key=k1", nil, ""), 204, "")
	want(t, "get after delete", do(t, "GET", base+"/cache/c?key=k1", nil, ""), 404, "Key Not Found")

	for _, c := range []struct{ method, url string }{
		{"PUT", base + "/cache/nope?key=k&ttl_seconds=5"}, {"GET", base + "/cache/nope?key=k"},
		{"DELETE", base + "/cache/nope?key=k"}, {"POST", base + "/topics/nope/t"},
	} {
		want(t, c.method+" on a missing cache", do(t, c.method, c.url, nil, "x"), 404, "Cache Not Found")
	}
	want(t, "no ttl", do(t, "PUT", base+"/cache/c?key=k", nil, "v"), 400, "ttl_seconds")
	want(t, "bad ttl", do(t, "PUT", base+"/cache/c?key=k&ttl_seconds=-1", nil, "v"), 400, "ttl_seconds")
	want(t, "no key", do(t, "GET", base+"/cache/c", nil, ""), 400, "key")
	want(t, "two keys", do(t, "GET", base+"/cache/c?key=a&key_base64=YQ", nil, ""), 400, "not both")
	want(t, "bad base64", do(t, "GET", base+"/cache/c?key_base64=***", nil, ""), 400, "base64")
	want(t, "reserved key", do(t, "GET", base+"/cache/c?key_base64="+base64.RawURLEncoding.EncodeToString([]byte("\x00setsuna\x00x")), nil, ""), 400, "reserved")
	want(t, "bad cache name", do(t, "GET", base+"/cache/a%20b?key=k", nil, ""), 400, "invalid cache name")
	want(t, "wrong method", do(t, "POST", base+"/cache/c?key=k", nil, ""), 405, "")

	want(t, "publish text", do(t, "POST", base+"/topics/c/t", http.Header{"Content-Type": {"text/plain"}}, "hello"), 204, "")
	want(t, "publish bytes", do(t, "POST", base+"/topics/c/t", http.Header{"Content-Type": {"application/octet-stream"}}, "\xff"), 204, "")
	want(t, "publish bad text", do(t, "POST", base+"/topics/c/t", http.Header{"Content-Type": {"text/plain"}}, "\xff"), 400, "UTF-8")
	want(t, "publish empty", do(t, "POST", base+"/topics/c/t", nil, ""), 400, "")
	want(t, "publish too large", do(t, "POST", base+"/topics/c/t", nil, strings.Repeat("x", 4097)), 429, "")
}

// With --auth: the key in the header or the query, never both; scopes hold.
func TestAuth(t *testing.T) {
	n := testnode.Start(t, embed.Config{Auth: true})
	super := n.Mint(t, auth.MintRequest{SuperUser: true, ValidFor: time.Hour})
	reader := n.Mint(t, auth.MintRequest{ValidFor: time.Hour, Perms: []auth.Permission{{Resource: auth.ResourceCache, Role: auth.RoleReadOnly, Cache: "c"}}})
	createCache(t, n, "c", super)
	base := "http://" + n.HTTPAddr()
	h := func(tok string) http.Header { return http.Header{"Authorization": {tok}} }

	want(t, "no key", do(t, "GET", base+"/cache/c?key=k", nil, ""), 401, "missing")
	want(t, "bad key", do(t, "GET", base+"/cache/c?key=k", h("nonsense"), ""), 401, "")
	want(t, "header put", do(t, "PUT", base+"/cache/c?key=k&ttl_seconds=60", h(super), "v"), 204, "")
	want(t, "query get", do(t, "GET", base+"/cache/c?key=k&token="+super, nil, ""), 200, "v")
	want(t, "v1 wrapped key", do(t, "GET", base+"/cache/c?key=k", h(auth.WrapV1(super, "localhost")), ""), 200, "v")
	want(t, "both", do(t, "GET", base+"/cache/c?key=k&token="+super, h(super), ""), 400, "not both")
	want(t, "read-only get", do(t, "GET", base+"/cache/c?key=k", h(reader), ""), 200, "v")
	want(t, "read-only put", do(t, "PUT", base+"/cache/c?key=k&ttl_seconds=60", h(reader), "v"), 403, "")
	want(t, "read-only publish", do(t, "POST", base+"/topics/c/t", h(reader), "m"), 403, "")
}
