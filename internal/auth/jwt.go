package auth

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Setsuna's tokens are compact JWTs signed with Ed25519 ("EdDSA"). The
// verifier accepts exactly one header shape, so "alg":"none", HMAC
// confusion and unknown key ids are refused before any claim is read.

var b64 = base64.RawURLEncoding

// maxTokenLen bounds what the verifier will look at.
const maxTokenLen = 8 << 10

type jwtHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid"`
}

// signJWT encodes claims and signs them with key.
func signJWT(key *signingKey, claims *Claims) (string, error) {
	h, err := json.Marshal(jwtHeader{Alg: "EdDSA", Typ: "JWT", Kid: key.ID})
	if err != nil {
		return "", fmt.Errorf("cannot encode token header: %w", err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("cannot encode token claims: %w", err)
	}
	signing := b64.EncodeToString(h) + "." + b64.EncodeToString(c)
	sig := ed25519.Sign(key.Private, []byte(signing))
	return signing + "." + b64.EncodeToString(sig), nil
}

var errMalformed = errors.New("malformed token")

// parseJWT checks the shape and signature of token with the key its header
// names and returns its claims. It does not check expiry or revocation.
func parseJWT(token string, lookup func(kid string) (ed25519.PublicKey, bool)) (*Claims, error) {
	if len(token) == 0 || len(token) > maxTokenLen {
		return nil, errMalformed
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errMalformed
	}
	hb, err := b64.DecodeString(parts[0])
	if err != nil {
		return nil, errMalformed
	}
	var h jwtHeader
	if err := strictUnmarshal(hb, &h); err != nil {
		return nil, errMalformed
	}
	if h.Alg != "EdDSA" || h.Typ != "JWT" {
		return nil, fmt.Errorf("unsupported token algorithm %q", h.Alg)
	}
	pub, ok := lookup(h.Kid)
	if !ok {
		return nil, errors.New("token signed by an unknown key")
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, errMalformed
	}
	if !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig) {
		return nil, errors.New("invalid token signature")
	}
	cb, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, errMalformed
	}
	var c Claims
	if err := strictUnmarshal(cb, &c); err != nil {
		return nil, errMalformed
	}
	c.kid = h.Kid
	return &c, nil
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errMalformed
	}
	return nil
}
