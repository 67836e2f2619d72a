package cosmos

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseFeedStart(t *testing.T) {
	f := func(inm, ims string, want feedStart) {
		t.Helper()
		got, e := parseFeedStart(inm, ims)
		if e != nil || got != want {
			t.Errorf("parseFeedStart(%q, %q) = %+v, %v; want %+v", inm, ims, got, e, want)
		}
	}
	at := time.Date(2026, 11, 23, 19, 46, 33, 0, time.UTC)
	f("", "", feedStart{Kind: startBeginning})
	f("*", "", feedStart{Kind: startNow})
	f(`"7"`, "", feedStart{Kind: startAfter, LSN: 7})
	f("7", "", feedStart{Kind: startAfter, LSN: 7})
	f(`"0"`, "", feedStart{Kind: startAfter})
	f(`"18446744073709551615"`, "", feedStart{Kind: startAfter, LSN: 1<<64 - 1})
	f("", "Mon, 23 Nov 2026 19:46:33 GMT", feedStart{Kind: startTime, Time: at})
	f(`"3"`, "Mon, 23 Nov 2026 19:46:33 GMT", feedStart{Kind: startAfter, LSN: 3})
	bad := func(inm, ims string) {
		t.Helper()
		if got, e := parseFeedStart(inm, ims); e == nil || e.Status != 400 {
			t.Errorf("parseFeedStart(%q, %q) = %+v, %v; want 400", inm, ims, got, e)
		}
	}
	bad(`"x"`, "")
	bad(`"-1"`, "")
	bad(`"+1"`, "")
	bad(`""`, "")
	bad(`"18446744073709551616"`, "")
	bad(`W/"1"`, "")
	bad("", "yesterday")
}

func TestFeedETagRoundTrip(t *testing.T) {
	for _, n := range []uint64{0, 1, 42, 1<<64 - 1} {
		if got, ok := parseFeedETag(formatFeedETag(n)); !ok || got != n {
			t.Errorf("feed etag %d: round trip %d %v", n, got, ok)
		}
	}
}

func TestDocETag(t *testing.T) {
	coll := []byte{1, 2, 3, 4, 0x85, 6, 7, 8}
	for _, n := range []uint64{1, 255, 1 << 47, 1<<64 - 2} {
		s := formatDocETag(coll, n)
		if got, ok := parseDocETag(coll, s); !ok || got != n {
			t.Errorf("doc etag %d = %s: round trip %d %v", n, s, got, ok)
		}
	}
	s := formatDocETag(coll, 9)
	if s != `"85060708-0000-0000-0000-000000000009"` {
		t.Errorf("doc etag format %s", s)
	}
	for _, bad := range []string{"", "*", `"x"`, strings.ToUpper(formatDocETag(coll, 0xabc)), s[1 : len(s)-1], formatDocETag([]byte{1, 2, 3, 4, 5, 6, 7, 8}, 9)} {
		if got, ok := parseDocETag(coll, bad); ok {
			t.Errorf("parseDocETag(%q) = %d, want refused", bad, got)
		}
	}
}

func TestParseMaxItemCount(t *testing.T) {
	f := func(v string, want int, ok bool) {
		t.Helper()
		got, e := parseMaxItemCount(v)
		if (e == nil) != ok || ok && got != want {
			t.Errorf("parseMaxItemCount(%q) = %d, %v; want %d ok=%v", v, got, e, want, ok)
		}
	}
	f("", DefaultPageSize, true)
	f("-1", DefaultPageSize, true)
	f("1", 1, true)
	f(" 10 ", 10, true)
	f("5000", MaxPageSize, true)
	f("99999999999999999999", MaxPageSize, true)
	f("0", 0, false)
	f("-2", 0, false)
	f("ten", 0, false)
	f("1.5", 0, false)
	f("-99999999999999999999", 0, false)
}

func TestParseSmallHeaders(t *testing.T) {
	rid := func(v, want string, ok bool) {
		t.Helper()
		got, e := parseRangeID(v)
		if (e == nil) != ok || got != want {
			t.Errorf("parseRangeID(%q) = %q, %v", v, got, e)
		}
	}
	rid("0", "0", true)
	rid("I9sSKYFuEOg=,3", "3", true)
	rid("", "", false)
	rid(",", "", false)
	rid(strings.Repeat("1", maxRangeID+1), "", false)

	ep := func(v, want string, ok bool) {
		t.Helper()
		got, e := parseEPK(hStartEPK, v)
		if (e == nil) != ok || got != want {
			t.Errorf("parseEPK(%q) = %q, %v", v, got, e)
		}
	}
	ep("", "", true)
	ep("05C1DFFFFFFFF8", "05C1DFFFFFFFF8", true)
	ep("3a", "3A", true)
	ep("FG", "", false)
	ep(strings.Repeat("A", maxEPKLen+1), "", false)

	aim := func(v string, want feedMode, ok bool) {
		t.Helper()
		got, e := parseAIM(v)
		if (e == nil) != ok || got != want {
			t.Errorf("parseAIM(%q) = %v, %v", v, got, e)
		}
	}
	aim("", notFeed, true)
	aim("Incremental Feed", latestVersion, true)
	aim("incremental feed", latestVersion, true)
	aim("Full-Fidelity Feed", allVersions, true)
	aim("Full Fidelity", notFeed, false)

	b := func(v string, want, ok bool) {
		t.Helper()
		got, e := parseBoolHeader(hUpsert, v)
		if (e == nil) != ok || got != want {
			t.Errorf("parseBoolHeader(%q) = %v, %v", v, got, e)
		}
	}
	b("", false, true)
	b("true", true, true)
	b("True", true, true)
	b("false", false, true)
	b("yes", false, false)
}

func TestParsePKHeader(t *testing.T) {
	f := func(v, canonical string) {
		t.Helper()
		vals, e := parsePKHeader(v)
		if e != nil || pkJSON(vals) != canonical {
			t.Errorf("parsePKHeader(%q) = %s, %v; want %s", v, pkJSON(vals), e, canonical)
		}
	}
	f(`["v"]`, `["v"]`)
	f(`[ "v" ]`, `["v"]`)
	f(`[5]`, `[5]`)
	f(`[5.0]`, `[5]`)
	f(`[1e3]`, `[1000]`)
	f(`[-0.5]`, `[-0.5]`)
	f(`[true]`, `[true]`)
	f(`[false]`, `[false]`)
	f(`[null]`, `[null]`)
	f(`[{}]`, `[{}]`)
	f(`[{ }]`, `[{}]`)
	f(`[]`, `[]`)
	f(`["a","b"]`, `["a","b"]`)
	f(`["a",{},2]`, `["a",{},2]`)
	f(`["\u65e5\u672c"]`, `["日本"]`)
	f(`["<&>"]`, `["<&>"]`)
	f(`["q\"uote"]`, `["q\"uote"]`)
	bad := func(v string) {
		t.Helper()
		if vals, e := parsePKHeader(v); e == nil || e.Status != 400 {
			t.Errorf("parsePKHeader(%q) = %v, %v; want 400", v, vals, e)
		}
	}
	bad(``)
	bad(`"v"`)
	bad(`v`)
	bad(`[`)
	bad(`["a"] x`)
	bad(`["a"]]`)
	bad(`[["a"]]`)
	bad(`[{"a":1}]`)
	bad(`[1e999]`)
	bad(`["a","b","c","d"]`)
	bad(`[` + strings.Repeat(`"a",`, 3000) + `"a"]`)
}

func TestParsePKDef(t *testing.T) {
	f := func(def, want string, scheme string) {
		t.Helper()
		d, e := parsePKDef([]byte(def))
		if e != nil {
			t.Errorf("parsePKDef(%s): %v", def, e)
			return
		}
		got := fmt.Sprintf("%v %s %d", d.Paths, d.Kind, d.Version)
		if got != want || d.scheme().String() != scheme {
			t.Errorf("parsePKDef(%s) = %s %s; want %s %s", def, got, d.scheme(), want, scheme)
		}
	}
	f(``, "[/_partitionKey] Hash 1", "Hash/V1")
	f(`null`, "[/_partitionKey] Hash 1", "Hash/V1")
	f(`{"paths":["/pk"]}`, "[/pk] Hash 1", "Hash/V1")
	f(`{"paths":["/pk"],"version":2}`, "[/pk] Hash 2", "Hash/V2")
	f(`{"paths":["/a","/b"],"kind":"MultiHash"}`, "[/a /b] MultiHash 2", "MultiHash")
	f(`{"paths":["/a","/b/c","/d"],"kind":"MultiHash","version":2}`, "[/a /b/c /d] MultiHash 2", "MultiHash")
	seg := func(p string, want ...string) {
		t.Helper()
		got, err := parsePath(p)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("parsePath(%q) = %q, %v; want %q", p, got, err, want)
		}
	}
	seg("/a", "a")
	seg("/a/b", "a", "b")
	seg(`/"a b"/c`, "a b", "c")
	seg(`/"a/b"`, "a/b")
	for _, p := range []string{"", "/", "a", "/a/", "//a", `/"a`, `/"a"b`} {
		if got, err := parsePath(p); err == nil {
			t.Errorf("parsePath(%q) = %q, want an error", p, got)
		}
	}
}

func TestExtractPartitionKey(t *testing.T) {
	d, _ := parsePKDef([]byte(`{"paths":["/a","/b/c","/d"],"kind":"MultiHash"}`))
	f := func(doc, want string) {
		t.Helper()
		m, err := parseObject([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		vals, e := d.extract(m)
		if e != nil || pkJSON(vals) != want {
			t.Errorf("extract(%s) = %s, %v; want %s", doc, pkJSON(vals), e, want)
		}
	}
	f(`{"a":"x","b":{"c":2},"d":null}`, `["x",2,null]`)
	f(`{"a":"x"}`, `["x",{},{}]`)
	f(`{"a":{},"b":5,"d":true}`, `[{},{},true]`)
	m, _ := parseObject([]byte(`{"a":[1]}`))
	if vals, e := d.extract(m); e == nil {
		t.Errorf("an array partition key was accepted: %v", vals)
	}
}

func TestRIDs(t *testing.T) {
	db := newDatabaseRID()
	coll := newContainerRID(db)
	doc := documentRID(coll, `["p"]`, "id")
	if len(db) != 4 || len(coll) != 8 || len(doc) != 16 || string(coll[:4]) != string(db) || string(doc[:8]) != string(coll) || coll[4]&0x80 == 0 {
		t.Fatalf("rids %x %x %x", db, coll, doc)
	}
	if string(documentRID(coll, `["p"]`, "id")) != string(doc) || string(documentRID(coll, `["q"]`, "id")) == string(doc) {
		t.Error("document rids must be stable per (partition key, id) and differ otherwise")
	}
	for range 200 {
		s := encodeRID(newContainerRID(newDatabaseRID()))
		if strings.Contains(s, "/") {
			t.Fatalf("rid %s contains /", s)
		}
		if b, ok := decodeRID(s); !ok || len(b) != 8 {
			t.Fatalf("rid %s does not decode", s)
		}
	}
}

func TestErrorMapping(t *testing.T) {
	f := func(err error, status, sub int) {
		t.Helper()
		e := fromBackend(fmt.Errorf("wrapped: %w", err))
		if e.Status != status || e.Substatus != sub || e.Code != codeOf(status) || e.Message == "" {
			t.Errorf("fromBackend(%v) = %+v; want %d/%d", err, e, status, sub)
		}
	}
	f(ErrNotFound, 404, 0)
	f(ErrConflict, 409, 0)
	f(ErrPreconditionFailed, 412, 0)
	f(ErrInvalid, 400, 0)
	f(ErrTooLarge, 413, 0)
	f(ErrRangeGone, 410, subRangeGone)
	f(ErrRetention, 400, 0)
	f(ErrThrottled, 429, 0)
	f(ErrUnavailable, 503, 0)
	f(fmt.Errorf("disk on fire"), 500, 0)
	if m := fromBackend(ErrRetention).Message; m != retentionMessage {
		t.Errorf("retention message %q", m)
	}
}
