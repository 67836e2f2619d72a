package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/setsuna-io/setsuna/bench/hist"
	"github.com/setsuna-io/setsuna/bench/loadgen"
	"github.com/setsuna-io/setsuna/client"
)

// The change feed of a Cosmos container (issue 13), read whole two ways
// from one server: @azure/cosmos-shaped REST requests (A-IM: Incremental
// Feed, one physical partition key range at a time, continuation by
// If-None-Match) and the gRPC feed (setsuna.feed.v1 through the Go
// client). Both read the same items; the ratio is HTTP/gRPC.
func init() {
	Register(&Scenario{
		Name:  "cosmos-feed",
		Title: "Cosmos change feed over REST (@azure/cosmos-shaped) vs the gRPC feed, same container",
		Order: 51,
		Run:   runCosmosFeed,
	})
}

const (
	cosmosFeedItems      = 100_000
	cosmosFeedQuickItems = 20_000
	cosmosFeedWriters    = 16
	cosmosFeedRU         = 40_000 // 4 physical partitions (10,000 RU/s each)
	cosmosFeedPage       = 1000   // the server's largest page, both surfaces
	cosmosFeedMinPasses  = 3
	cosmosDB             = "bench"
	cosmosColl           = "feed"
)

// feedPass accumulates whole-feed reads of one surface.
type feedPass struct {
	passes, pages, items int
	wall, gen, server    time.Duration
	page                 *hist.Histogram
}

func (p *feedPass) pagesPerSec() float64 { return float64(p.pages) / p.wall.Seconds() }
func (p *feedPass) itemsPerSec() float64 { return float64(p.items) / p.wall.Seconds() }
func (p *feedPass) serverPerItem() time.Duration {
	if p.items == 0 {
		return 0
	}
	return p.server / time.Duration(p.items)
}

// timed runs one whole read, charging its wall, generator and server CPU.
func (p *feedPass) timed(pid int, read func() (pages, items int, err error)) error {
	s0, _ := loadgen.ProcCPU(pid)
	g0, t0 := loadgen.SelfCPU(), time.Now()
	pages, items, err := read()
	p.wall += time.Since(t0)
	p.gen += loadgen.SelfCPU() - g0
	s1, _ := loadgen.ProcCPU(pid)
	p.server += s1 - s0
	p.passes++
	p.pages += pages
	p.items += items
	return err
}

func runCosmosFeed(e *Env) (*Table, error) {
	n := cosmosFeedItems
	if e.Quick() {
		n = cosmosFeedQuickItems
	}
	caddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s, err := e.startSetsunaWith("--cosmos-listen", caddr)
	if err != nil {
		return nil, err
	}
	ctx := e.Context()
	rest, err := newCosmosREST(caddr, cosmosFeedWriters)
	if err != nil {
		return nil, err
	}
	defer rest.close()
	if err := waitCosmos(ctx, rest); err != nil {
		return nil, err
	}

	// Database and container through REST: 4 physical partitions,
	// partition key /pk (hash V2).
	if _, _, err := rest.expect(ctx, "POST", "/dbs", nil, []byte(`{"id":"`+cosmosDB+`"}`), 201); err != nil {
		return nil, err
	}
	collPath := "/dbs/" + cosmosDB + "/colls/" + cosmosColl
	if _, _, err := rest.expect(ctx, "POST", "/dbs/"+cosmosDB+"/colls",
		map[string]string{"x-ms-offer-throughput": strconv.Itoa(cosmosFeedRU)},
		[]byte(`{"id":"`+cosmosColl+`","partitionKey":{"paths":["/pk"],"kind":"Hash","version":2}}`), 201); err != nil {
		return nil, err
	}

	// Preload: n documents created one per POST, as items.create does,
	// from 16 writers; 1,000 logical partitions.
	filler := fmt.Sprintf("%0100d", 0)
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var werr atomic.Value
	for w := 0; w < cosmosFeedWriters; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				pk := fmt.Sprintf("p%03d", i%1000)
				body := fmt.Sprintf(`{"id":"d%07d","pk":"%s","n":%d,"filler":"%s"}`, i, pk, i, filler)
				if _, _, err := rest.expect(ctx, "POST", collPath+"/docs",
					map[string]string{"x-ms-documentdb-partitionkey": `["` + pk + `"]`}, []byte(body), 201); err != nil {
					werr.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := werr.Load().(error); err != nil {
		return nil, fmt.Errorf("preload: %w", err)
	}
	writeRate := float64(n) / time.Since(start).Seconds()
	e.Logf("created %d documents through REST at %s docs/s", n, fmtRate(writeRate))

	// The ranges, as the SDK reads them before a container-wide feed.
	_, data, err := rest.expect(ctx, "GET", collPath+"/pkranges", nil, nil, 200)
	if err != nil {
		return nil, err
	}
	var pkr struct {
		PartitionKeyRanges []struct {
			ID string `json:"id"`
		}
	}
	if err := json.Unmarshal(data, &pkr); err != nil || len(pkr.PartitionKeyRanges) == 0 {
		return nil, fmt.Errorf("pkranges: %v: %.200s", err, data)
	}
	rangeIDs := make([]string, len(pkr.PartitionKeyRanges))
	for i, r := range pkr.PartitionKeyRanges {
		rangeIDs[i] = r.ID
	}

	fc, err := client.NewFeedClient(client.Config{Address: s.Addr, Timeout: 30 * time.Second})
	if err != nil {
		return nil, err
	}
	defer fc.Close()
	cacheName := cosmosDB + "/" + cosmosColl
	granges, err := fc.GetFeedRanges(ctx, cacheName)
	if err != nil {
		return nil, err
	}

	httpRead := func(h *hist.Histogram) (int, int, error) {
		return readCosmosFeedREST(ctx, rest, collPath, rangeIDs, h)
	}
	grpcRead := func(h *hist.Histogram) (int, int, error) {
		return readCosmosFeedGRPC(ctx, fc, cacheName, granges, h)
	}
	check := func(what string, items int, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if items != n {
			return fmt.Errorf("%s read %d of %d documents", what, items, n)
		}
		return nil
	}
	// Warm-up: one untimed pass each.
	for _, r := range []struct {
		name string
		fn   func(*hist.Histogram) (int, int, error)
	}{{"http", httpRead}, {"grpc", grpcRead}} {
		_, items, err := r.fn(hist.New())
		if err := check(r.name+" warm-up", items, err); err != nil {
			return nil, err
		}
	}
	// Measured: alternate whole passes (so that load from other tenants of
	// the machine falls on both alike) until each surface has had the
	// window and at least 3 passes.
	hp := &feedPass{page: hist.New()}
	gp := &feedPass{page: hist.New()}
	for hp.passes < cosmosFeedMinPasses || hp.wall < e.Duration() || gp.wall < e.Duration() {
		var items int
		if err := hp.timed(s.PID, func() (int, int, error) { p, i, err := httpRead(hp.page); items = i; return p, i, err }); err != nil {
			return nil, fmt.Errorf("http: %w", err)
		}
		if err := check("http", items, nil); err != nil {
			return nil, err
		}
		if err := gp.timed(s.PID, func() (int, int, error) { p, i, err := grpcRead(gp.page); items = i; return p, i, err }); err != nil {
			return nil, fmt.Errorf("grpc: %w", err)
		}
		if err := check("grpc", items, nil); err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}

	t := &Table{Header: []string{"surface", "passes", "pages", "pages/s", "items/s", "p50/page", "p99/page", "max/page", "gen CPU", "server CPU", "server CPU/item"}}
	row := func(name string, p *feedPass) []string {
		return []string{name, fmt.Sprint(p.passes), fmt.Sprint(p.pages), fmtRate(p.pagesPerSec()), fmtRate(p.itemsPerSec()),
			fmtDur(p.page.QuantileDuration(0.5)), fmtDur(p.page.QuantileDuration(0.99)), fmtDur(time.Duration(p.page.Max())),
			fmt.Sprintf("%.0f%%", 100*p.gen.Seconds()/p.wall.Seconds()), fmt.Sprintf("%.0f%%", 100*p.server.Seconds()/p.wall.Seconds()),
			fmtNs(p.serverPerItem())}
	}
	t.Rows = append(t.Rows, row("Cosmos REST (HTTP/1.1, @azure/cosmos headers)", hp), row("gRPC feed (setsuna.feed.v1, Go client)", gp),
		[]string{"http/grpc", "", "", fmtRatio(hp.pagesPerSec(), gp.pagesPerSec()), fmtRatio(hp.itemsPerSec(), gp.itemsPerSec()),
			fmtRatio(float64(hp.page.Quantile(0.5)), float64(gp.page.Quantile(0.5))), fmtRatio(float64(hp.page.Quantile(0.99)), float64(gp.page.Quantile(0.99))),
			fmtRatio(float64(hp.page.Max()), float64(gp.page.Max())), "", "", fmtRatio(float64(hp.serverPerItem()), float64(gp.serverPerItem()))})
	t.AddNote("%d documents (~170 B JSON each, 1,000 logical partitions) created through REST (one POST per document, %d writers) at %s docs/s into a container of %d RU/s = %d physical partitions; the container is a Setsuna cache (%q), so the gRPC feed reads the same items.",
		n, cosmosFeedWriters, fmtRate(writeRate), cosmosFeedRU, len(rangeIDs), cacheName)
	t.AddNote("One pass reads the whole feed from the beginning (latest version), one range after another, pages of %d: REST `GET …/docs` with `A-IM: Incremental Feed`, `x-ms-documentdb-partitionkeyrangeid`, `x-ms-max-item-count`, the previous `etag` as `If-None-Match` and a master-key HMAC computed per request (plus the headers the JS SDK adds to every call), body decoded as JSON; gRPC through `FeedClient.NewFeedIterator` per range from `GetFeedRanges`. A range ends at its first 304 / NotModified page, which counts in the wall time but not as a page. Passes alternate HTTP, gRPC; one warm-up pass each is not counted.", cosmosFeedPage)
	t.AddNote("pages/s and items/s are over the passes' wall time (one reader, one request in flight); p50/p99/max are per 200 page, from send to a decoded page. gen CPU and server CPU are CPU time / wall time (the generator pinned to CPU 1, the server to CPU 0); server CPU/item = server CPU time / items read. Server CPU comes from /proc ticks (10 ms).")
	return t, nil
}

func fmtNs(d time.Duration) string {
	if d < 10*time.Microsecond {
		return fmt.Sprintf("%.2fµs", float64(d)/1e3)
	}
	return fmtDur(d)
}

// waitCosmos waits until the Cosmos listener answers GET /.
func waitCosmos(ctx context.Context, c *cosmosREST) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _, _, err := c.do(ctx, "GET", "/", nil, nil)
		if err == nil && st == 200 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cosmos listener not ready: status %d, %v", st, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readCosmosFeedREST reads the latest-version feed of every range from the
// beginning, as the SDK's container-wide iterator does per range.
func readCosmosFeedREST(ctx context.Context, c *cosmosREST, collPath string, ranges []string, h *hist.Histogram) (pages, items int, err error) {
	var body struct {
		Documents []json.RawMessage `json:"Documents"`
		Count     int               `json:"_count"`
	}
	for _, id := range ranges {
		etag := ""
		for {
			hdr := map[string]string{
				"A-IM":                                "Incremental Feed",
				"x-ms-documentdb-partitionkeyrangeid": id,
				"x-ms-max-item-count":                 strconv.Itoa(cosmosFeedPage),
			}
			if etag != "" {
				hdr["If-None-Match"] = etag
			}
			t0 := time.Now()
			st, rh, data, err := c.do(ctx, "GET", collPath+"/docs", hdr, nil)
			if err != nil {
				return pages, items, err
			}
			if st == 304 {
				break
			}
			if st != 200 {
				return pages, items, fmt.Errorf("range %s: status %d: %.200s", id, st, data)
			}
			body.Documents = body.Documents[:0]
			if err := json.Unmarshal(data, &body); err != nil {
				return pages, items, fmt.Errorf("range %s: %w", id, err)
			}
			h.RecordDuration(time.Since(t0))
			if body.Count != len(body.Documents) {
				return pages, items, fmt.Errorf("range %s: _count %d, %d documents", id, body.Count, len(body.Documents))
			}
			etag = rh.Get("etag")
			if etag == "" {
				return pages, items, fmt.Errorf("range %s: 200 without an etag", id)
			}
			pages++
			items += len(body.Documents)
		}
	}
	return pages, items, nil
}

// readCosmosFeedGRPC reads the same feed through the gRPC feed client.
func readCosmosFeedGRPC(ctx context.Context, fc *client.FeedClient, cacheName string, ranges []client.FeedRange, h *hist.Histogram) (pages, items int, err error) {
	for i := range ranges {
		it := fc.NewFeedIterator(cacheName, client.StartFromBeginning(), client.LatestVersion, &client.FeedOptions{Range: &ranges[i], PageSizeHint: cosmosFeedPage})
		for {
			t0 := time.Now()
			page, err := it.ReadNext(ctx)
			if err != nil {
				return pages, items, err
			}
			if page.NotModified() {
				break
			}
			h.RecordDuration(time.Since(t0))
			pages++
			items += page.Count()
		}
	}
	return pages, items, nil
}
