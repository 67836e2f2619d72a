package harness

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// cosmosEmulatorKey is the Cosmos DB emulator's well-known master key,
// which Setsuna accepts by default.
const cosmosEmulatorKey = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="

// cosmosResource derives the signed resource type and link from a request
// path, as @azure/cosmos does: trim slashes and split; an even number of
// segments names a resource (type = the second-to-last segment, link = the
// whole path), an odd number a feed (type = the last segment, link = its
// parent). The link is the un-encoded path.
func cosmosResource(path string) (typ, link string) {
	path = strings.Trim(path, "/")
	if path == "" {
		return "", ""
	}
	segs := strings.Split(path, "/")
	n := len(segs)
	if n%2 == 0 {
		return segs[n-2], path
	}
	return segs[n-1], strings.Join(segs[:n-1], "/")
}

// cosmosAuth is the authorization header value of a master-key request:
// encodeURIComponent("type=master&ver=1.0&sig=" + base64(HMAC-SHA256(key,
// lower(verb)\nlower(type)\nlink\nlower(date)\n\n))).
func cosmosAuth(key []byte, verb, resourceType, resourceLink, date string) string {
	m := hmac.New(sha256.New, key)
	io.WriteString(m, strings.ToLower(verb)+"\n"+strings.ToLower(resourceType)+"\n"+resourceLink+"\n"+strings.ToLower(date)+"\n\n")
	sig := base64.StdEncoding.EncodeToString(m.Sum(nil))
	// encodeURIComponent and url.QueryEscape agree on this alphabet
	// (base64 plus "=&."), except that QueryEscape turns " " into "+",
	// which cannot occur here.
	return url.QueryEscape("type=master&ver=1.0&sig=" + sig)
}

// cosmosREST issues @azure/cosmos-shaped requests (the headers the 4.x
// SDK sends on every call) with master-key auth.
type cosmosREST struct {
	base string // http://host:port
	key  []byte
	hc   *http.Client
}

func newCosmosREST(addr string, conns int) (*cosmosREST, error) {
	key, err := base64.StdEncoding.DecodeString(cosmosEmulatorKey)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: 90 * time.Second}
	return &cosmosREST{base: "http://" + addr, key: key, hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}, nil
}

func (c *cosmosREST) close() { c.hc.CloseIdleConnections() }

// do sends one request to path (un-encoded, e.g. "/dbs/d/colls/c/docs")
// and returns the status, the headers and the body.
func (c *cosmosREST) do(ctx context.Context, method, path string, hdr map[string]string, body []byte) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+(&url.URL{Path: path}).EscapedPath(), rd)
	if err != nil {
		return 0, nil, nil, err
	}
	date := time.Now().UTC().Format(http.TimeFormat)
	typ, link := cosmosResource(path)
	h := req.Header
	h.Set("authorization", cosmosAuth(c.key, method, typ, link, date))
	h.Set("x-ms-date", date)
	h.Set("x-ms-version", "2020-07-15")
	h.Set("Cache-Control", "no-cache")
	h.Set("User-Agent", "azsdk-js-azure-cosmos/4.10.1 setsuna-bench")
	h.Set("x-ms-useragent", "azsdk-js-azure-cosmos/4.10.1 setsuna-bench")
	h.Set("Accept", "application/json")
	h.Set("x-ms-documentdb-responsecontinuationtokenlimitinkb", "1")
	h.Set("x-ms-documentdb-query-enablecrosspartition", "true")
	h.Set("x-ms-cosmos-sdk-supportedcapabilities", "1")
	h.Set("x-ms-cosmos-allow-tentative-writes", "true")
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		h.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, resp.Header, nil, err
	}
	return resp.StatusCode, resp.Header, data, nil
}

// expect is do that fails unless the status is one of ok.
func (c *cosmosREST) expect(ctx context.Context, method, path string, hdr map[string]string, body []byte, ok ...int) (http.Header, []byte, error) {
	st, h, data, err := c.do(ctx, method, path, hdr, body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	for _, s := range ok {
		if st == s {
			return h, data, nil
		}
	}
	if len(data) > 300 {
		data = data[:300]
	}
	return nil, nil, fmt.Errorf("%s %s: status %d: %s", method, path, st, data)
}
