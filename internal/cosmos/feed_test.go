package cosmos

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

const (
	incremental  = "Incremental Feed"
	fullFidelity = "Full-Fidelity Feed"
)

// page reads one feed page and returns its documents and etag.
func (e *env) page(coll string, hdr ...string) (status int, docs []map[string]any, etag string) {
	e.t.Helper()
	r := e.do("GET", "/dbs/db1/colls/"+coll+"/docs", nil, hdr...)
	etag = r.Header().Get("etag")
	if r.Code != 200 && r.Code != 304 {
		e.t.Fatalf("feed status %d: %s", r.Code, r.Body.String())
	}
	if etag == "" || r.Header().Get(hPKRangeID) == "" {
		e.t.Fatalf("feed response without etag or range id: %v", r.Header())
	}
	if r.Code == 304 {
		if r.Body.Len() != 0 {
			e.t.Fatalf("304 with a body %q", r.Body.String())
		}
		return 304, nil, etag
	}
	var body struct {
		RID   string           `json:"_rid"`
		Docs  []map[string]any `json:"Documents"`
		Count int              `json:"_count"`
	}
	if err := json.Unmarshal(r.Body.Bytes(), &body); err != nil || body.Count != len(body.Docs) || body.Docs == nil || body.RID == "" {
		e.t.Fatalf("feed body %s: %v", r.Body.String(), err)
	}
	return 200, body.Docs, etag
}

func (e *env) put(coll, id, pk string, extra string) {
	e.t.Helper()
	e.do("POST", "/dbs/db1/colls/"+coll+"/docs", fmt.Sprintf(`{"id":%q,"pk":%q%s}`, id, pk, extra),
		hPartitionKey, fmt.Sprintf("[%q]", pk), hUpsert, "true").want2xx()
}

func (r resp) want2xx() resp {
	r.t.Helper()
	if r.Code/100 != 2 {
		r.t.Fatalf("status %d: %s", r.Code, r.Body.String())
	}
	return r
}

func ids(docs []map[string]any) (out []string) {
	for _, d := range docs {
		if c, ok := d["current"].(map[string]any); ok {
			d = c
		}
		out = append(out, fmt.Sprint(d["id"]))
	}
	return out
}

func TestFeedLatestVersion(t *testing.T) {
	e := newEnv(t)
	e.setup("c", map[string]any{"partitionKey": map[string]any{"paths": []string{"/pk"}, "version": 2}})
	// Now: 304 with the current position.
	st, _, now := e.page("c", hAIM, incremental, hIfNoneMatch, "*", hPKRangeID, "0")
	if st != 304 || now != `"0"` {
		t.Fatalf("Now on an empty container: %d %s", st, now)
	}
	e.put("c", "a", "p1", "")
	e.put("c", "b", "p2", "")
	e.put("c", "a", "p1", `,"v":2`) // a moves after b
	st, docs, etag := e.page("c", hAIM, incremental, hIfNoneMatch, now, hPKRangeID, "0")
	if st != 200 || fmt.Sprint(ids(docs)) != "[b a]" || docs[1]["v"] != 2.0 || docs[1]["_lsn"] != 3.0 || etag != `"3"` {
		t.Fatalf("after Now: %d %v %s", st, docs, etag)
	}
	if st, _, again := e.page("c", hAIM, incremental, hIfNoneMatch, etag, hPKRangeID, "0"); st != 304 || again != etag {
		t.Fatalf("nothing new: %d %s, want 304 %s", st, again, etag)
	}
	// Beginning, one item a page, resumed from each etag (unquoted too).
	var got []string
	inm := ""
	for range 5 {
		hdr := []string{hAIM, incremental, hPKRangeID, "0", hMaxItemCount, "1"}
		if inm != "" {
			hdr = append(hdr, hIfNoneMatch, inm)
		}
		st, docs, etag := e.page("c", hdr...)
		if st == 304 {
			break
		}
		got = append(got, ids(docs)...)
		inm = etag[1 : len(etag)-1]
	}
	if fmt.Sprint(got) != "[b a]" {
		t.Errorf("from Beginning by ones: %v", got)
	}
	// Deletes do not show; the feed item equals the document plus _lsn.
	read := e.do("GET", docs0("c")+"/b", nil, hPartitionKey, `["p2"]`).want(200).obj()
	_, fromStart, _ := e.page("c", hAIM, incremental, hPKRangeID, "0")
	b := fromStart[0]
	delete(b, "_lsn")
	if fmt.Sprint(b) != fmt.Sprint(read) {
		t.Errorf("feed item %v != document %v", b, read)
	}
	e.do("DELETE", docs0("c")+"/b", nil, hPartitionKey, `["p2"]`).want(204)
	if _, docs, _ := e.page("c", hAIM, incremental, hPKRangeID, "0"); fmt.Sprint(ids(docs)) != "[a]" {
		t.Errorf("after delete: %v", ids(docs))
	}
}

func docs0(coll string) string { return "/dbs/db1/colls/" + coll + "/docs" }

func TestFeedScopes(t *testing.T) {
	e := newEnv(t)
	e.setup("c", map[string]any{"partitionKey": map[string]any{"paths": []string{"/pk"}, "version": 2}}, hOfferThroughput, "40000")
	for i := range 40 {
		e.put("c", fmt.Sprint("d", i), fmt.Sprint("p", i%8), "")
	}
	// Every range, whole: each document exactly once.
	seen := map[string]int{}
	for r := range 4 {
		st, docs, _ := e.page("c", hAIM, incremental, hPKRangeID, fmt.Sprint(r))
		if st == 200 {
			for _, d := range docs {
				seen[fmt.Sprint(d["pk"], "/", d["id"])]++
			}
		}
	}
	if len(seen) != 40 {
		t.Errorf("ranges together saw %d documents, want 40", len(seen))
	}
	// One logical partition.
	st, docs, _ := e.page("c", hAIM, incremental, hPartitionKey, `["p3"]`)
	if st != 200 || len(docs) != 5 {
		t.Fatalf("partition key p3: %d %v", st, ids(docs))
	}
	for _, d := range docs {
		if d["pk"] != "p3" {
			t.Errorf("partition key scope leaked %v", d)
		}
	}
	// Halves of range 0 by EPK: together the whole range, each once.
	_, all, _ := e.page("c", hAIM, incremental, hPKRangeID, "0")
	_, lo, _ := e.page("c", hAIM, incremental, hPKRangeID, "0", hStartEPK, "", hEndEPK, "08")
	_, hi, _ := e.page("c", hAIM, incremental, hPKRangeID, "0", hStartEPK, "08", hEndEPK, "1000")
	if len(lo)+len(hi) != len(all) {
		t.Errorf("EPK halves %d + %d, whole range %d", len(lo), len(hi), len(all))
	}
	e.do("GET", docs0("c"), nil, hAIM, incremental, hPKRangeID, "0", hStartEPK, "30", hEndEPK, "40").want(400)
	e.do("GET", docs0("c"), nil, hAIM, incremental, hPKRangeID, "0", hStartEPK, "zz").want(400)
	r := e.do("GET", docs0("c"), nil, hAIM, incremental, hPKRangeID, "9").want(410)
	if r.Header().Get("x-ms-substatus") != "1002" {
		t.Errorf("retired range: substatus %q, want 1002", r.Header().Get("x-ms-substatus"))
	}
	e.do("GET", docs0("c"), nil, hAIM, incremental).want(400)
	e.do("GET", docs0("c"), nil).want(400)
	e.do("GET", docs0("c"), nil, hAIM, "Sometimes Feed").want(400)
	e.do("GET", docs0("c"), nil, hAIM, incremental, hPKRangeID, "0", hIfNoneMatch, `"x"`).want(400)
	e.do("GET", docs0("c"), nil, hAIM, incremental, hPKRangeID, "0", hMaxItemCount, "0").want(400)
	e.do("GET", docs0("c"), nil, hAIM, incremental, hPKRangeID, "0", hIfModifiedSince, "yesterday").want(400)
	e.do("GET", docs0("nope"), nil, hAIM, incremental, hPKRangeID, "0").want(404)
}

func TestFeedFromTime(t *testing.T) {
	e := newEnv(t)
	e.setup("c", map[string]any{"partitionKey": map[string]any{"paths": []string{"/pk"}, "version": 2}})
	e.put("c", "old", "p", "")
	e.clk.advance(time.Minute)
	since := e.clk.now().UTC().Format(http.TimeFormat)
	st, _, etag := e.page("c", hAIM, incremental, hPKRangeID, "0", hIfModifiedSince, since)
	if st != 304 || etag != `"1"` {
		t.Fatalf("nothing since: %d %s, want 304 with the current LSN", st, etag)
	}
	e.put("c", "new", "p", "")
	st, docs, _ := e.page("c", hAIM, incremental, hPKRangeID, "0", hIfModifiedSince, since)
	if st != 200 || fmt.Sprint(ids(docs)) != "[new]" {
		t.Errorf("since: %d %v", st, ids(docs))
	}
	// If-None-Match wins over If-Modified-Since.
	st, docs, _ = e.page("c", hAIM, incremental, hPKRangeID, "0", hIfModifiedSince, since, hIfNoneMatch, `"0"`)
	if st != 200 || fmt.Sprint(ids(docs)) != "[old new]" {
		t.Errorf("etag and time: %d %v", st, ids(docs))
	}
}

func TestFeedAllVersions(t *testing.T) {
	e := newEnv(t)
	e.setup("c", map[string]any{"partitionKey": map[string]any{"paths": []string{"/pk"}, "version": 2}, "defaultTtl": -1,
		"changeFeedPolicy": map[string]any{"retentionDuration": 10}})
	avad := []string{hAIM, fullFidelity, hWireFormatHeader, "2021-09-15", hPKRangeID, "0"}
	for _, start := range [][]string{{}, {hIfModifiedSince, e.clk.now().UTC().Format(http.TimeFormat)}} {
		r := e.do("GET", docs0("c"), nil, append(avad, start...)...).want(400)
		if r.message() != retentionMessage {
			t.Errorf("AVAD start %v: message %q", start, r.message())
		}
	}
	e.do("GET", docs0("c"), nil, hAIM, fullFidelity, hPartitionKey, `["p"]`).want(400)

	_, _, now := e.page("c", append(avad, hIfNoneMatch, "*")...)
	e.put("c", "x", "p", `,"v":1`)
	e.put("c", "x", "p", `,"v":2`)
	e.do("DELETE", docs0("c")+"/x", nil, hPartitionKey, `["p"]`).want(204)
	e.put("c", "t", "p", `,"ttl":5`)
	e.clk.advance(5 * time.Second)
	st, docs, _ := e.page("c", append(avad, hIfNoneMatch, now)...)
	if st != 200 || len(docs) != 5 {
		t.Fatalf("AVAD: %d %v", st, docs)
	}
	f := func(i int, op string, wantCurrent, wantPrevious bool) map[string]any {
		t.Helper()
		d := docs[i]
		md := d["metadata"].(map[string]any)
		_, cur := d["current"]
		_, prev := d["previous"]
		if md["operationType"] != op || cur != wantCurrent || prev != wantPrevious || md["lsn"] == nil || md["crts"] == nil {
			t.Errorf("change %d = %v, want %s current=%v previous=%v", i, d, op, wantCurrent, wantPrevious)
		}
		return md
	}
	f(0, "create", true, false)
	md := f(1, "replace", true, true)
	if md["previousImageLSN"] != 1.0 || docs[1]["previous"].(map[string]any)["v"] != 1.0 || docs[1]["current"].(map[string]any)["_lsn"] != 2.0 {
		t.Errorf("replace %v", docs[1])
	}
	md = f(2, "delete", false, true)
	if md["id"] != "x" || md["timeToLiveExpired"] != false || fmt.Sprint(md["partitionKey"]) != "map[pk:p]" {
		t.Errorf("delete metadata %v", md)
	}
	f(3, "create", true, false)
	if md = f(4, "delete", false, true); md["timeToLiveExpired"] != true || md["id"] != "t" {
		t.Errorf("ttl delete metadata %v", md)
	}
	// Latest version from the same position shows none of the deleted.
	if st, _, _ := e.page("c", hAIM, incremental, hPKRangeID, "0", hIfNoneMatch, now); st != 304 {
		t.Errorf("latest version after deletes: %d", st)
	}
}

func TestFeedRecreatedContainer(t *testing.T) {
	e := newEnv(t)
	def := map[string]any{"partitionKey": map[string]any{"paths": []string{"/pk"}, "version": 2}}
	e.setup("c", def)
	rid1 := e.do("GET", "/dbs/db1/colls/c", nil).want(200).obj()["_rid"]
	e.do("DELETE", "/dbs/db1/colls/c", nil).want(204)
	e.setup("c", def)
	// The SDK refuses a token whose rid is not the container's.
	if rid2 := e.do("GET", "/dbs/db1/colls/c", nil).want(200).obj()["_rid"]; rid2 == rid1 {
		t.Errorf("re-created container kept _rid %v", rid1)
	}
}
