package storetest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/epk"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// testSetBatchAtomicPerPartition runs batches from two writers at once and
// checks in the all-versions feed that, within every partition, each batch
// is one run of consecutive LSNs ending at its BatchEnd with no change of
// another batch inside it.
func testSetBatchAtomicPerPartition(t *testing.T, e *env) {
	start := e.avadNow()
	const writers, rounds, size = 2, 100, 8
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				items := make([]store.Item, size)
				for i := range items {
					items[i] = store.Item{Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "w%d-r%d", w, r)}
				}
				if err := e.s.SetBatch(e.ctx, e.cache, items); err != nil {
					t.Errorf("SetBatch: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for p, after := range start {
		cs, _ := e.readPart(store.FeedRead{Partition: p, Mode: store.FeedAllVersions, AfterLSN: after, PageSizeHint: 1})
		for i := 0; i < len(cs); {
			c := cs[i]
			end := c.BatchEnd
			if end == 0 { // the batch had one item in this partition
				end = c.LSN
			}
			batch := string(c.Value)
			for j := i; i < len(cs) && cs[i].LSN <= end; i++ {
				if string(cs[i].Value) != batch {
					t.Fatalf("partition %d: change %d (%s) inside the batch of %s ending at %d", p, cs[i].LSN, cs[i].Value, batch, end)
				}
				if cs[i].LSN != c.LSN+uint64(i-j) {
					t.Fatalf("partition %d: batch %s has LSN %d after %d", p, batch, cs[i].LSN, cs[i-1].LSN)
				}
			}
			if cs[i-1].LSN != end {
				t.Fatalf("partition %d: batch %s ends at %d, want %d", p, batch, cs[i-1].LSN, end)
			}
		}
	}
}

func testGetBatch(t *testing.T, e *env) {
	e.set("a", "1", 0)
	e.set("b", "2", time.Minute)
	e.set("c", "3", 0)
	keys := [][]byte{[]byte("c"), []byte("missing"), []byte("a"), []byte("b"), []byte("a")}
	f := func(want ...string) {
		t.Helper()
		values, found, err := e.s.GetBatch(e.ctx, e.cache, keys)
		if err != nil || len(values) != len(keys) || len(found) != len(keys) {
			t.Fatalf("GetBatch = %q, %v, %v", values, found, err)
		}
		for i, w := range want {
			if got := string(values[i]); (w != "") != found[i] || got != w {
				t.Fatalf("GetBatch[%d] = %q (found %v), want %q", i, got, found[i], w)
			}
		}
	}
	f("3", "", "1", "2", "1")
	e.clock.Advance(time.Minute)
	f("3", "", "1", "", "1")

	if err := e.s.DictionarySet(e.ctx, e.cache, []byte("dict"), []store.FieldValue{{Field: []byte("f"), Value: []byte("v")}}, store.CollectionTTL{}); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.s.GetBatch(e.ctx, e.cache, [][]byte{[]byte("a"), []byte("dict")})
	wantErr(t, "GetBatch with a dictionary", err, errs.ErrWrongType)
	_, _, err = e.s.GetBatch(e.ctx, e.cache, [][]byte{[]byte("a"), nil})
	wantErr(t, "GetBatch with an empty key", err, errs.ErrInvalidArgument)
	_, _, err = e.s.GetBatch(e.ctx, uniqueName("missing"), [][]byte{[]byte("a")})
	wantErr(t, "GetBatch of a missing cache", err, errs.ErrCacheNotFound)
	if values, found, err := e.s.GetBatch(e.ctx, e.cache, nil); err != nil || len(values) != 0 || len(found) != 0 {
		t.Fatalf("GetBatch(no keys) = %v, %v, %v", values, found, err)
	}
}

func testDeleteIf(t *testing.T, e *env) {
	n := 0
	// present/value describe the item before the call ("" value: absent).
	f := func(value string, cond store.Condition, wantDeleted bool) {
		t.Helper()
		n++
		key := "k" + strconv.Itoa(n)
		if value != "" {
			e.set(key, value, 0)
		}
		deleted, err := e.s.DeleteIf(e.ctx, e.cache, []byte(key), cond)
		if err != nil || deleted != wantDeleted {
			t.Fatalf("DeleteIf(%q, %+v) = %v, %v; want %v", value, cond, deleted, err, wantDeleted)
		}
		switch {
		case value == "" || deleted:
			e.wantMissing(key)
		default:
			e.want(key, value)
		}
	}
	eq := func(k store.CondKind, v string) store.Condition { return store.Condition{Kind: k, Value: []byte(v)} }
	hash := func(k store.CondKind, v string) store.Condition {
		return store.Condition{Kind: k, Value: store.Hash([]byte(v))}
	}
	f("", store.Condition{Kind: store.CondAlways}, false)
	f("v", store.Condition{Kind: store.CondAlways}, true)
	f("v", store.Condition{Kind: store.CondPresent}, true)
	f("v", store.Condition{Kind: store.CondAbsent}, false)
	f("", eq(store.CondEqual, "v"), false)
	f("v", eq(store.CondEqual, "v"), true)
	f("v", eq(store.CondEqual, "w"), false)
	f("v", eq(store.CondNotEqual, "w"), true)
	f("v", eq(store.CondNotEqual, "v"), false)
	f("v", hash(store.CondPresentAndHashEqual, "v"), true)
	f("v", hash(store.CondPresentAndHashEqual, "w"), false)
	f("v", hash(store.CondPresentAndHashNotEqual, "w"), true)

	// A conditional delete is a delete in the feed, with its previous image.
	pos := e.avadNow()
	e.set("fed", "old", 0)
	if ok, err := e.s.DeleteIf(e.ctx, e.cache, []byte("fed"), eq(store.CondEqual, "old")); err != nil || !ok {
		t.Fatalf("DeleteIf = %v, %v", ok, err)
	}
	p := e.partitionOf("fed")
	cs, _ := e.readPart(store.FeedRead{Partition: p, Mode: store.FeedAllVersions, PartitionKey: []byte("fed"), AfterLSN: pos[p]})
	if got := summary(cs); got != "create fed=old; delete fed= prev=old; " {
		t.Fatalf("feed of a conditional delete: %s", got)
	}

	// Value conditions compare scalars only; presence works on any kind.
	if err := e.s.SetAdd(e.ctx, e.cache, []byte("set"), bs("x"), store.CollectionTTL{}); err != nil {
		t.Fatal(err)
	}
	_, err := e.s.DeleteIf(e.ctx, e.cache, []byte("set"), eq(store.CondEqual, "x"))
	wantErr(t, "DeleteIf(equal) of a set", err, errs.ErrWrongType)
	if ok, err := e.s.DeleteIf(e.ctx, e.cache, []byte("set"), store.Condition{Kind: store.CondPresent}); err != nil || !ok {
		t.Fatalf("DeleteIf(present) of a set = %v, %v", ok, err)
	}
	_, err = e.s.DeleteIf(e.ctx, e.cache, []byte("k"), store.Condition{Kind: 99})
	wantErr(t, "DeleteIf with an unknown condition", err, errs.ErrInvalidArgument)
	_, err = e.s.DeleteIf(e.ctx, e.cache, nil, store.Condition{})
	wantErr(t, "DeleteIf with an empty key", err, errs.ErrInvalidArgument)
	_, err = e.s.DeleteIf(e.ctx, uniqueName("missing"), []byte("k"), store.Condition{})
	wantErr(t, "DeleteIf in a missing cache", err, errs.ErrCacheNotFound)
}

func testDeleteKind(t *testing.T, e *env) {
	if err := e.s.DictionarySet(e.ctx, e.cache, []byte("d"), []store.FieldValue{{Field: []byte("f"), Value: []byte("v")}, {Field: []byte("g"), Value: []byte("w")}}, store.CollectionTTL{}); err != nil {
		t.Fatal(err)
	}
	e.set("s", "scalar", 0)
	pos := e.avadNow()
	_, err := e.s.DeleteKind(e.ctx, e.cache, []byte("s"), store.KindDictionary)
	wantErr(t, "DeleteKind(dictionary) of a scalar", err, errs.ErrWrongType)
	e.want("s", "scalar")
	if found, err := e.s.DeleteKind(e.ctx, e.cache, []byte("d"), store.KindDictionary); err != nil || !found {
		t.Fatalf("DeleteKind(dictionary) = %v, %v", found, err)
	}
	if _, found, err := e.s.DictionaryFetch(e.ctx, e.cache, []byte("d")); err != nil || found {
		t.Fatalf("dictionary after DeleteKind: found %v, %v", found, err)
	}
	if found, err := e.s.DeleteKind(e.ctx, e.cache, []byte("d"), store.KindDictionary); err != nil || found {
		t.Fatalf("DeleteKind of a missing item = %v, %v", found, err)
	}
	// All fields go in one change.
	p := e.partitionOf("d")
	cs, _ := e.readPart(store.FeedRead{Partition: p, Mode: store.FeedAllVersions, PartitionKey: []byte("d"), AfterLSN: pos[p]})
	if len(cs) != 1 || cs[0].Op != store.FeedDelete || cs[0].PreviousKind != store.KindDictionary {
		t.Fatalf("feed of DeleteKind: %s", summary(cs))
	}
	_, err = e.s.DeleteKind(e.ctx, e.cache, []byte("d"), 99)
	wantErr(t, "DeleteKind of an unknown kind", err, errs.ErrInvalidArgument)
}

func testCacheConfig(t *testing.T, e *env) {
	name := uniqueName("config")
	attrs := map[string]string{"cosmos.rid": "abc=", "x": strings.Repeat("y", 100)}
	info, err := e.s.CreateCache(e.ctx, name, store.CacheConfig{Partitions: 7, Attrs: attrs})
	if err != nil {
		t.Fatalf("CreateCache: %v", err)
	}
	t.Cleanup(func() { _ = e.s.DeleteCache(e.ctx, name) })
	check := func(what string, got store.CacheInfo) {
		t.Helper()
		if got.Name != name || got.Partitions != 7 || got.Epoch == 0 || got.Epoch != info.Epoch || got.KeyScheme != store.KeyPlain {
			t.Fatalf("%s: %+v", what, got)
		}
		if len(got.Attrs) != len(attrs) || got.Attrs["cosmos.rid"] != "abc=" || got.Attrs["x"] != attrs["x"] {
			t.Fatalf("%s: attrs %v", what, got.Attrs)
		}
	}
	check("CreateCache", info)
	got, err := e.s.CacheInfo(e.ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	check("CacheInfo", got)
	listed, ok := e.info(name)
	if !ok {
		t.Fatal("cache not listed")
	}
	check("ListCaches", listed)
	attrs["cosmos.rid"] = "changed"
	if got, _ := e.s.CacheInfo(e.ctx, name); got.Attrs["cosmos.rid"] != "abc=" {
		t.Fatal("the engine kept the caller's attribute map")
	}
	rs := store.FeedRanges(got)
	if len(rs) != 7 || rs[0].MinEPK != "" || rs[6].MaxEPK != "FF" {
		t.Fatalf("feed ranges of 7 partitions: %+v", rs)
	}
	for i := range 7 {
		if _, err := e.s.ReadFeed(e.ctx, name, store.FeedRead{Partition: i}); err != nil {
			t.Fatalf("ReadFeed(partition %d of 7): %v", i, err)
		}
	}
	if def, _ := e.info(e.cache); def.Partitions < 1 || def.Attrs == nil {
		t.Fatalf("default cache: %+v", def)
	}
	for _, bad := range []store.CacheConfig{
		{Partitions: -1},
		{Partitions: epk.MaxPartitions + 1},
		{KeyScheme: 9},
		{Attrs: map[string]string{"": "v"}},
		{Attrs: map[string]string{"big": strings.Repeat("v", store.MaxAttrsSize+1)}},
	} {
		_, err := e.s.CreateCache(e.ctx, uniqueName("bad"), bad)
		wantErr(t, fmt.Sprintf("CreateCache(%+v)", bad.Partitions), err, errs.ErrInvalidArgument)
	}
}

// testCosmosKeys: a Cosmos container's documents ("[pk..., id]" JSON keys)
// are placed and filtered by the EPK of their partition key under the
// container's hash, and every other key falls back to its plain hash.
func testCosmosKeys(t *testing.T, e *env) {
	name := uniqueName("cosmos")
	info, err := e.s.CreateCache(e.ctx, name, store.CacheConfig{Partitions: 8, KeyScheme: store.KeyCosmosV2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.s.DeleteCache(e.ctx, name) })
	ranges := epk.Ranges(8)
	var keys [][]byte
	used := map[int]bool{}
	for i := range 40 {
		pk := fmt.Sprintf("tenant-%d", i%20)
		key := fmt.Appendf(nil, `[%q,"doc-%d"]`, pk, i)
		if err := e.s.Set(e.ctx, name, key, []byte(`{"n":1}`), 0); err != nil {
			t.Fatal(err)
		}
		want := epk.Find(ranges, epk.V2(pk))
		if m := e.metaIn(name, key); m.Partition != want {
			t.Fatalf("document %s in partition %d, want %d (by the EPK of its partition key)", key, m.Partition, want)
		}
		if got := info.PartitionOf(key); got != want {
			t.Fatalf("CacheInfo.PartitionOf(%s) = %d, want %d", key, got, want)
		}
		used[want] = true
		keys = append(keys, key)
	}
	if len(used) < 4 {
		t.Fatalf("40 documents of 20 partition keys used only %d of 8 partitions", len(used))
	}
	// Documents of one partition key share a partition and an EPK, and an
	// EPK sub-range selects exactly them.
	target := epk.V2("tenant-3")
	p := epk.Find(ranges, target)
	page, err := e.s.ReadFeed(e.ctx, name, store.FeedRead{Partition: p, MinEPK: target, MaxEPK: target + "0"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range page.Changes {
		got = append(got, string(c.Key))
	}
	if !slices.Equal(got, []string{`["tenant-3","doc-3"]`, `["tenant-3","doc-23"]`}) {
		t.Fatalf("sub-range of one EPK: %q", got)
	}
	// Keys that are not document keys are placed by their plain hash.
	for _, k := range []string{"plain", `["only-id"]`, `[1,2]`, `["a","b","c","d","id"]`} {
		if got, want := info.PartitionOf([]byte(k)), epk.PartitionOfKey([]byte(k), 8); got != want {
			t.Fatalf("PartitionOf(%s) = %d, want the plain %d", k, got, want)
		}
	}
}

func (e *env) metaIn(cache string, key []byte) store.Meta {
	e.t.Helper()
	m, found, err := e.s.Meta(e.ctx, cache, key)
	if err != nil || !found {
		e.t.Fatalf("Meta(%s) = %+v, %v, %v", key, m, found, err)
	}
	return m
}

func testRecords(t *testing.T, e *env) {
	ns := uniqueName("ns")
	if err := e.s.PutRecord(e.ctx, ns, "b", []byte("2")); err != nil {
		t.Fatal(err)
	}
	if err := e.s.PutRecord(e.ctx, ns, "a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := e.s.PutRecord(e.ctx, ns, "b", []byte("two")); err != nil {
		t.Fatal(err)
	}
	buf := []byte("3")
	if err := e.s.PutRecord(e.ctx, ns, "c", buf); err != nil {
		t.Fatal(err)
	}
	buf[0] = 'X'
	got, err := e.s.ListRecords(e.ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, r := range got {
		s = append(s, r.Key+"="+string(r.Value))
	}
	if !slices.Equal(s, []string{"a=1", "b=two", "c=3"}) {
		t.Fatalf("ListRecords = %q", s)
	}
	if v, found, err := e.s.GetRecord(e.ctx, ns, "b"); err != nil || !found || string(v) != "two" {
		t.Fatalf("GetRecord(b) = %q, %v, %v", v, found, err)
	}
	if err := e.s.DeleteRecord(e.ctx, ns, "b"); err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeleteRecord(e.ctx, ns, "b"); err != nil {
		t.Fatalf("DeleteRecord of a missing record: %v", err)
	}
	if _, found, err := e.s.GetRecord(e.ctx, ns, "b"); err != nil || found {
		t.Fatalf("GetRecord after delete = %v, %v", found, err)
	}
	if other, err := e.s.ListRecords(e.ctx, uniqueName("empty")); err != nil || len(other) != 0 {
		t.Fatalf("ListRecords of an unused namespace = %v, %v", other, err)
	}
	wantErr(t, "PutRecord with an empty key", e.s.PutRecord(e.ctx, ns, "", nil), errs.ErrInvalidArgument)
	wantErr(t, "PutRecord with a space", e.s.PutRecord(e.ctx, "a b", "k", nil), errs.ErrInvalidArgument)
	wantErr(t, "PutRecord too large", e.s.PutRecord(e.ctx, ns, "big", make([]byte, store.MaxRecordSize+1)), errs.ErrItemTooLarge)
}

// testTilingV1: a V1 container's partitions own the ranges of
// epk.RangesV1 and place documents by the V1 hash of their partition key.
func testTilingV1(t *testing.T, e *env) {
	name := uniqueName("v1")
	info, err := e.s.CreateCache(e.ctx, name, store.CacheConfig{Partitions: 3, KeyScheme: store.KeyCosmosV1, Tiling: store.TilingV1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.s.DeleteCache(e.ctx, name) })
	if info.Tiling != store.TilingV1 || info.KeyScheme != store.KeyCosmosV1 {
		t.Fatalf("CacheInfo = %+v", info)
	}
	want := epk.RangesV1(3)
	rs := store.FeedRanges(info)
	for i := range want {
		if rs[i].MinEPK != want[i].Min || rs[i].MaxEPK != want[i].Max {
			t.Fatalf("feed range %d = %+v, want %+v", i, rs[i], want[i])
		}
	}
	used := map[int]bool{}
	for i := range 30 {
		pk := fmt.Sprintf("sample%d", i)
		key := fmt.Appendf(nil, `[%q,"id"]`, pk)
		if err := e.s.Set(e.ctx, name, key, []byte("{}"), 0); err != nil {
			t.Fatal(err)
		}
		p := epk.Find(want, epk.V1Value(epk.String(pk)))
		if m := e.metaIn(name, key); m.Partition != p {
			t.Fatalf("%s in partition %d, want %d", key, m.Partition, p)
		}
		used[p] = true
	}
	if len(used) != 3 {
		t.Fatalf("30 V1 partition keys used %d of 3 partitions: the V1 tiling does not spread them", len(used))
	}
}

// testFeedPageBytes: a page ends before the change that would take it over
// MaxBytes, even inside a batch, and always holds one change, so a reader
// of huge values makes progress.
func testFeedPageBytes(t *testing.T, e *env) {
	name := uniqueName("bytes")
	if _, err := e.s.CreateCache(e.ctx, name, store.CacheConfig{Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.s.DeleteCache(e.ctx, name) })
	// An all-versions reader starts from now, before the writes.
	now, err := e.s.ReadFeed(e.ctx, name, store.FeedRead{Partition: 0, Mode: store.FeedAllVersions, Start: store.FeedFromNow})
	if err != nil {
		t.Fatal(err)
	}
	var items []store.Item
	for i := range 6 {
		items = append(items, store.Item{Key: fmt.Appendf(nil, "big-%d", i), Value: make([]byte, 1<<20)})
	}
	if err := e.s.SetBatch(e.ctx, name, items); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []store.FeedMode{store.FeedLatestVersion, store.FeedAllVersions} {
		after := uint64(0)
		if mode == store.FeedAllVersions {
			after = now.LastLSN
		}
		var sizes []int
		for range 20 {
			page, err := e.s.ReadFeed(e.ctx, name, store.FeedRead{Partition: 0, Mode: mode, AfterLSN: after, MaxBytes: 2<<20 + 1<<10})
			if err != nil {
				t.Fatal(err)
			}
			if page.NotModified {
				break
			}
			sizes = append(sizes, len(page.Changes))
			after = page.LastLSN
		}
		if !slices.Equal(sizes, []int{2, 2, 2}) {
			t.Fatalf("%v pages of six 1 MiB changes under 2 MiB: %v changes each, want 2, 2, 2", mode, sizes)
		}
		// One change over the bound still makes a page of one.
		page, err := e.s.ReadFeed(e.ctx, name, store.FeedRead{Partition: 0, Mode: mode, AfterLSN: now.LastLSN, MaxBytes: 1000})
		if err != nil || len(page.Changes) != 1 {
			t.Fatalf("a page under a bound smaller than one change: %d changes, %v", len(page.Changes), err)
		}
	}
}
