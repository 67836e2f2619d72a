package appsync

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
)

// message is any client message of either protocol.
type message struct {
	Type    string          `json:"type"`
	ID      *string         `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// decodeMessage parses one client text frame.
func decodeMessage(b []byte) (*message, error) {
	var m message
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		return nil, errors.New("message is not a JSON object")
	}
	if dec.More() {
		return nil, errors.New("trailing data after the message")
	}
	return &m, nil
}

// startPayload is the payload of an AppSync start message.
type startPayload struct {
	Data       *string `json:"data"` // a JSON string: {"query":...,"variables":...}
	Extensions struct {
		Authorization map[string]any `json:"authorization"`
	} `json:"extensions"`
	// Apollo's legacy subscriptions-transport-ws shares the subprotocol name
	// and sends the request inline.
	Query         *string        `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

type startRequest struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

// decodeStart extracts the GraphQL request and the authorization object.
func decodeStart(raw json.RawMessage) (req startRequest, auth map[string]any, err error) {
	var p startPayload
	if len(raw) == 0 {
		return req, nil, errors.New("start message has no payload")
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return req, nil, errors.New("start message payload is not valid")
	}
	switch {
	case p.Data != nil:
		if err := json.Unmarshal([]byte(*p.Data), &req); err != nil {
			return req, nil, errors.New("payload.data is not a JSON object with a query")
		}
	case p.Query != nil:
		req = startRequest{Query: *p.Query, Variables: p.Variables, OperationName: p.OperationName}
	default:
		return req, nil, errors.New("start message payload has no data")
	}
	return req, p.Extensions.Authorization, nil
}

// decodeB64JSON decodes a base64 JSON object, accepting standard or URL
// alphabets with or without padding (clients differ).
func decodeB64JSON(s string) (map[string]any, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	var b []byte
	var err error
	if strings.ContainsAny(s, "-_") {
		b, err = base64.RawURLEncoding.DecodeString(s)
	} else {
		b, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, errors.New("header is not valid base64")
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, errors.New("header is not a JSON object")
	}
	return m, nil
}

// headerFromSubprotocols finds a `header-<base64url JSON>` entry.
func headerFromSubprotocols(offered []string) (map[string]any, bool, error) {
	for _, p := range offered {
		if enc, ok := strings.CutPrefix(p, "header-"); ok {
			m, err := decodeB64JSON(enc)
			return m, true, err
		}
	}
	return nil, false, nil
}

// headerFromQuery reads `header=` from the raw query: the clients do not
// percent-encode it, so url.ParseQuery would turn '+' into a space.
func headerFromQuery(rawQuery string) (map[string]any, bool, error) {
	for _, kv := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k != "header" {
			continue
		}
		if strings.Contains(v, "%") {
			if u, err := url.PathUnescape(v); err == nil {
				v = u
			}
		}
		m, err := decodeB64JSON(strings.ReplaceAll(v, " ", "+"))
		return m, true, err
	}
	return nil, false, nil
}

// offeredSubprotocols splits Sec-WebSocket-Protocol values ("a,b" or "a, b").
func offeredSubprotocols(values []string) []string {
	var out []string
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
