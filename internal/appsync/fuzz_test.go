package appsync

import (
	"encoding/json"
	"testing"
)

// Fuzz targets for everything a client sends before or inside a frame. Run
// one with: go test -fuzz=FuzzDecodeMessage ./internal/appsync

func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"connection_init"}`,
		`{"id":"1","type":"start","payload":{"data":"{\"query\":\"subscription { a }\",\"variables\":{}}","extensions":{"authorization":{"x-api-key":"k","host":"h"}}}}`,
		`{"id":"1","type":"stop"}`,
		`{"id":"1","type":"subscribe","payload":{"query":"{ a }"}}`,
		`{"type":"start","payload":{"query":"subscription { a }"}}`,
		`{"id":1}`, `[]`, `null`, `{"type":"x"} trailing`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			return
		}
		if m.Type == "start" {
			req, auth, err := decodeStart(m.Payload)
			if err == nil && req.Query == "" && auth == nil {
				_ = req
			}
		}
		_ = initAuth(m.Payload)
		var sp subscribePayload
		_ = json.Unmarshal(m.Payload, &sp)
	})
}

func FuzzAuthHeader(f *testing.F) {
	for _, s := range []string{
		"header=eyJ4LWFwaS1rZXkiOiJkYTItPz8/Pj4+fn5+In0=&payload=e30=",
		"header=eyJ4LWFwaS1rZXkiOiJkYTItPz8 Pj4+fn5+In0&payload=e30",
		"header=eyJ4LWFwaS1rZXkiOiJkYTItPz8%2FPj4%2Bfn5%2BIn0%3D",
		"x=1&header=&payload=", "header=%zz", "header=e30",
	} {
		f.Add(s, "graphql-ws,header-eyJ4LWFwaS1rZXkiOiJrIn0")
	}
	f.Fuzz(func(t *testing.T, rawQuery, protocols string) {
		offered := offeredSubprotocols([]string{protocols})
		if m, ok, err := headerFromSubprotocols(offered); ok && err == nil && m == nil {
			t.Fatal("subprotocol header decoded to nil without an error")
		}
		if m, ok, err := headerFromQuery(rawQuery); ok && err == nil {
			if m == nil {
				t.Fatal("query header decoded to nil without an error")
			}
			_ = authHeaderFromJSON(m)
		}
	})
}
