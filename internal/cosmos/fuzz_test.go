package cosmos

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Every fuzz target checks the one promise of the surface: bad input
// gets a Cosmos error body (JSON {code, message}), never a panic or a 500.

func checkErrorBody(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code < 400 {
		return
	}
	var m struct{ Code, Message string }
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || m.Code == "" || m.Message == "" {
		t.Fatalf("status %d with body %q: not a Cosmos error body", rec.Code, rec.Body.String())
	}
	if rec.Code == 500 {
		t.Fatalf("internal error: %s", rec.Body.String())
	}
}

func FuzzAuthHeader(f *testing.F) {
	f.Add("type%3Dmaster%26ver%3D1.0%26sig%3Dc09PEVJrgp2uQRkr934kFbTqhByc7TVr3OHyqlu%2Bc%2Bc%3D", "Thu, 27 Apr 2017 00:51:12 GMT")
	f.Add("type=master&ver=1.0&sig=", "")
	f.Add("type%3Dresource%26ver%3D1.0%26sig%3D", "Mon, 23 Nov 2026 19:46:33 GMT")
	f.Add("%zz", "not a date")
	f.Add("&&&===", "Mon, 23 Nov 2026 19:46:33 +0000")
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, auth, date string) {
		if tok, err := parseAuthHeader(auth); err == nil && (tok.Type == "" || tok.Sig == "" || tok.Ver == "") {
			t.Fatalf("parseAuthHeader(%q) = %+v without an error", auth, tok)
		}
		req := httptest.NewRequest("GET", "http://h/dbs", nil)
		req.Header.Set("Authorization", auth)
		req.Header.Set("x-ms-date", date)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		checkErrorBody(t, rec)
		if rec.Code != 401 {
			t.Fatalf("auth header %q date %q: status %d", auth, date, rec.Code)
		}
	})
}

// FuzzFeedHeaders drives the change feed with arbitrary scope, start and
// page headers against a container with documents.
func FuzzFeedHeaders(f *testing.F) {
	f.Add("Incremental Feed", "*", "", "0", "", "", "", "")
	f.Add("Incremental Feed", `"3"`, "Mon, 23 Nov 2026 19:46:33 GMT", "1", "10", "", "", "")
	f.Add("Full-Fidelity Feed", "", "", "0", "-1", "", "", "")
	f.Add("incremental feed", "7", "", "x,1", "1", "", "0800", "1000")
	f.Add("Incremental Feed", "", "", "", "", `["p1"]`, "", "")
	f.Add("Incremental Feed", "", "", "", "", `[{}]`, "FF", "")
	f.Add("Full-Fidelity Feed", "*", "", "", "", `[1e999]`, "", "")
	e0 := newEnv(f)
	e0.setup("c", map[string]any{"partitionKey": map[string]any{"paths": []string{"/pk"}, "version": 2}}, hOfferThroughput, "20000")
	for i, pk := range []string{"p1", "p2", "p3"} {
		e0.do("POST", docs, `{"id":"d`+string(rune('0'+i))+`","pk":"`+pk+`"}`, hPartitionKey, `["`+pk+`"]`).want(201)
	}
	f.Fuzz(func(t *testing.T, aim, inm, ims, rangeID, maxItems, pk, startEPK, endEPK string) {
		e := e0.withT(t)
		hdr := []string{hAIM, aim, hIfNoneMatch, inm, hIfModifiedSince, ims, hPKRangeID, rangeID,
			hMaxItemCount, maxItems, hPartitionKey, pk, hStartEPK, startEPK, hEndEPK, endEPK}
		for _, v := range hdr {
			if strings.ContainsAny(v, "\r\n\x00") {
				return // not a header value net/http would deliver
			}
		}
		r := e.do("GET", docs, nil, hdr...)
		checkErrorBody(t, r.ResponseRecorder)
		switch r.Code {
		case 200, 304:
			if r.Header().Get("etag") == "" {
				t.Fatalf("feed %d without an etag", r.Code)
			}
			if _, ok := parseFeedETag(r.Header().Get("etag")); !ok {
				t.Fatalf("feed etag %q does not parse", r.Header().Get("etag"))
			}
		case 400, 410:
		default:
			t.Fatalf("feed status %d: %s", r.Code, r.Body.String())
		}
		// The parsers agree with the handler on their own.
		parseMaxItemCount(maxItems)
		parseRangeID(rangeID)
		parseEPK(hStartEPK, startEPK)
		if s, e := parseFeedStart(inm, ims); e == nil && s.Kind == startAfter {
			if back, ok := parseFeedETag(formatFeedETag(s.LSN)); !ok || back != s.LSN {
				t.Fatalf("etag round trip of %d", s.LSN)
			}
		}
	})
}

// FuzzPartitionKey checks that the canonical form of a parsed key parses
// to itself, and that EPKs of full keys are computable.
func FuzzPartitionKey(f *testing.F) {
	for _, s := range []string{`["v"]`, `[5]`, `[5.0]`, `[true]`, `[null]`, `[{}]`, `[]`, `["a",{},2]`, `["\u65e5"]`, `[{"a":1}]`, `[1e999]`, `[`, `"x"`} {
		f.Add(s)
	}
	defs := []pkDef{}
	for _, d := range []string{`{"paths":["/a"]}`, `{"paths":["/a"],"version":2}`, `{"paths":["/a","/b"],"kind":"MultiHash"}`, `{"paths":["/a","/b","/c"],"kind":"MultiHash"}`} {
		pd, _ := parsePKDef([]byte(d))
		defs = append(defs, pd)
	}
	f.Fuzz(func(t *testing.T, v string) {
		vals, e := parsePKHeader(v)
		if e != nil {
			if e.Status != 400 || e.Message == "" {
				t.Fatalf("parsePKHeader(%q): %+v", v, e)
			}
			return
		}
		canon := pkJSON(vals)
		again, e := parsePKHeader(canon)
		if e != nil || pkJSON(again) != canon {
			t.Fatalf("parsePKHeader(%q) = %s, which parses to %s, %v", v, canon, pkJSON(again), e)
		}
		for i := range defs {
			full, e := defs[i].full(vals)
			if e != nil {
				continue
			}
			if s, e := defs[i].epkOf(full); e != nil || s == "" {
				t.Fatalf("epkOf(%s) under %v: %q, %v", canon, defs[i].Paths, s, e)
			}
		}
	})
}

// FuzzETags checks both etag formats: whatever parses, formats back to
// an equal value.
func FuzzETags(f *testing.F) {
	coll := []byte{1, 2, 3, 4, 0x85, 6, 7, 8}
	for _, s := range []string{`"7"`, "7", `""`, `"-1"`, "*", formatDocETag(coll, 9), `"85060708-0000-0000-0000-00000000000g"`, `"18446744073709551616"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, ok := parseFeedETag(s); ok {
			if back, ok := parseFeedETag(formatFeedETag(n)); !ok || back != n {
				t.Fatalf("feed etag %q -> %d does not round-trip", s, n)
			}
		}
		if n, ok := parseDocETag(coll, s); ok && formatDocETag(coll, n) != s {
			t.Fatalf("doc etag %q -> %d formats as %s", s, n, formatDocETag(coll, n))
		}
	})
}

// FuzzDocument posts arbitrary bodies and partition key headers: a
// document is stored only when its header matches its body.
func FuzzDocument(f *testing.F) {
	f.Add(`{"id":"a","pk":"p"}`, `["p"]`, "")
	f.Add(`{"id":"a","pk":"p"}`, `["q"]`, "true")
	f.Add(`{"id":"a","pk":"p","ttl":-1}`, ``, "")
	f.Add(`{"id":"a","pk":{"x":1}}`, `[{}]`, "")
	f.Add(`{"id":"a","id":"b"}`, `[{}]`, "")
	f.Add(`{"id":"a/b","pk":1}`, `[1]`, "false")
	f.Add(`[]`, `[]`, "")
	e0 := newEnv(f)
	e0.setup("c", map[string]any{"partitionKey": map[string]any{"paths": []string{"/pk"}, "version": 2}, "defaultTtl": 60})
	f.Fuzz(func(t *testing.T, body, pk, upsert string) {
		e := e0.withT(t)
		for _, v := range []string{pk, upsert} {
			if strings.ContainsAny(v, "\r\n\x00") {
				return
			}
		}
		hdr := []string{hUpsert, upsert}
		if pk != "" {
			hdr = append(hdr, hPartitionKey, pk)
		}
		r := e.do("POST", docs, body, hdr...)
		checkErrorBody(t, r.ResponseRecorder)
		switch r.Code {
		case 200, 201:
			m := r.obj()
			if m["id"] == nil || m["_etag"] != r.Header().Get("etag") {
				t.Fatalf("stored %v", m)
			}
		case 400, 409, 413:
		default:
			t.Fatalf("status %d: %s", r.Code, r.Body.String())
		}
		e.clk.advance(time.Second)
	})
}
