package cosmos

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// EmulatorKey is the Cosmos DB emulator's well-known master key, the
// default so that the SDK's and the emulator's documented setups work.
const EmulatorKey = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="

// DefaultSkew is how far x-ms-date may be from the server's clock; the
// service allows about 15 minutes.
const DefaultSkew = 15 * time.Minute

// maxAuthHeader bounds the authorization header (a master signature is
// about 100 bytes; resource tokens are longer).
const maxAuthHeader = 4096

// authToken is the parsed authorization header.
type authToken struct {
	Type string // "master", "resource", "aad"
	Ver  string
	Sig  string
}

// parseAuthHeader decodes the URL-encoded header (once, keeping "+", so
// not as a query string) and splits type=..&ver=..&sig=...
func parseAuthHeader(h string) (authToken, error) {
	var t authToken
	if h == "" {
		return t, fmt.Errorf("required header authorization is missing; ensure a valid authorization token is passed")
	}
	if len(h) > maxAuthHeader {
		return t, fmt.Errorf("the authorization header is longer than %d bytes", maxAuthHeader)
	}
	dec, err := url.PathUnescape(h)
	if err != nil {
		return t, fmt.Errorf("the authorization header is not URL-encoded: %v", err)
	}
	for part := range strings.SplitSeq(dec, "&") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return t, fmt.Errorf("the authorization header has a part without '=': %q", trunc(part))
		}
		switch k {
		case "type":
			t.Type = v
		case "ver":
			t.Ver = v
		case "sig":
			t.Sig = v
		}
	}
	if t.Type == "" || t.Ver == "" || t.Sig == "" {
		return t, fmt.Errorf("the authorization header needs type, ver and sig")
	}
	return t, nil
}

// resourceOf derives the signed resource type and link from the decoded
// path segments: an even count names a resource (type = the
// second-to-last segment, link = the whole path), an odd count a feed
// (type = the last segment, link = its parent).
func resourceOf(segs []string) (typ, link string) {
	switch n := len(segs); {
	case n == 0:
		return "", ""
	case n%2 == 0:
		return segs[n-2], strings.Join(segs, "/")
	default:
		return segs[n-1], strings.Join(segs[:n-1], "/")
	}
}

// signature is the master-key HMAC of a request, base64.
func signature(key []byte, verb, resourceType, resourceLink, date string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.ToLower(verb) + "\n" + strings.ToLower(resourceType) + "\n" + resourceLink + "\n" + strings.ToLower(date) + "\n\n"))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// AuthHeader returns the authorization header a client sends for a
// request (used by tests and Go clients).
func AuthHeader(key []byte, verb, resourceType, resourceLink, date string) string {
	return url.QueryEscape("type=master&ver=1.0&sig=" + signature(key, verb, resourceType, resourceLink, date))
}

// authenticator checks master-key signatures.
type authenticator struct {
	key  []byte
	skew time.Duration
	now  func() time.Time
}

func unauthorized(msg string) *Error { return newError(http.StatusUnauthorized, msg) }

// check verifies r, whose decoded path segments are segs.
// check verifies a request's authorization: a master-key signature, or a
// resource token (type=resource), whose value it returns for the caller's
// Identify to verify.
func (a *authenticator) check(r *http.Request, segs []string) (resourceToken string, e *Error) {
	tok, err := parseAuthHeader(r.Header.Get("Authorization"))
	if err != nil {
		return "", unauthorized(capitalize(err.Error()) + ".")
	}
	if tok.Type == "resource" {
		return tok.Sig, nil
	}
	if tok.Type != "master" {
		return "", unauthorized(fmt.Sprintf("Authorization type %q is not supported; use the account's master key or a resource token.", trunc(tok.Type)))
	}
	if a.key == nil {
		return "", unauthorized("Master keys are not accepted by this server; use a resource token (a Setsuna API key).")
	}
	return "", a.checkMaster(r, segs)
}

func (a *authenticator) checkMaster(r *http.Request, segs []string) *Error {
	tok, _ := parseAuthHeader(r.Header.Get("Authorization"))
	date := r.Header.Get("x-ms-date")
	if date == "" {
		date = r.Header.Get("Date")
	}
	t, err := http.ParseTime(date)
	if err != nil {
		return unauthorized("The input date header is invalid format. Please pass in RFC 1123 style date format.")
	}
	now := a.now()
	if d := now.Sub(t); d > a.skew || d < -a.skew {
		return unauthorized(fmt.Sprintf("The authorization token is not valid at the current time. Please create another token and retry (token start time: %s, token expiry time: %s, current server time: %s).",
			t.UTC().Format(http.TimeFormat), t.Add(a.skew).UTC().Format(http.TimeFormat), now.UTC().Format(http.TimeFormat)))
	}
	got, err := base64.StdEncoding.DecodeString(tok.Sig)
	if err != nil {
		return unauthorized("The input authorization token can't serve the request. The signature is not base64.")
	}
	typ, link := resourceOf(segs)
	want, _ := base64.StdEncoding.DecodeString(signature(a.key, r.Method, typ, link, date))
	if !hmac.Equal(got, want) {
		payload := strings.ReplaceAll(strings.ToLower(r.Method)+"\n"+strings.ToLower(typ)+"\n"+link+"\n"+strings.ToLower(date)+"\n\n", "\n", `\n`)
		return unauthorized("The input authorization token can't serve the request. The wrong key is being used or the expected payload is not built as per the protocol. Server used the following payload to sign: '" + trunc(payload) + "'")
	}
	return nil
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// trunc shortens client text quoted in errors.
func trunc(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}
