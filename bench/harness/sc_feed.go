package harness

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/setsuna-io/setsuna/bench/drivers"
	"github.com/setsuna-io/setsuna/bench/hist"
	"github.com/setsuna-io/setsuna/client"
)

// The change feed (issue 6): how fast the feed can be read against how fast
// changes can be written, and how soon a write is visible to a reader.
// There is no peer: the comparison is with Setsuna's own write rate.
func init() {
	Register(&Scenario{
		Name:  "feed",
		Title: "change feed: read rate vs write rate, write-to-visible latency (Setsuna alone)",
		Order: 50,
		Run:   runFeed,
	})
}

const (
	feedChanges      = 1_000_000
	feedQuickChanges = 100_000
	feedWriters      = 16
	feedVisibleRate  = 5000 // writes/s while measuring write-to-visible
)

func runFeed(e *Env) (*Table, error) {
	n := feedChanges
	if e.Quick() {
		n = feedQuickChanges
	}
	s, err := e.StartSetsuna()
	if err != nil {
		return nil, err
	}
	ctx := e.Context()
	kv, err := drivers.NewSetsuna(ctx, s.Addr)
	if err != nil {
		return nil, err
	}
	defer kv.Close()
	fc, err := client.NewFeedClient(client.Config{Address: s.Addr, Timeout: 30 * time.Second})
	if err != nil {
		return nil, err
	}
	defer fc.Close()

	// Writes: n distinct keys, SetBatch of 100 from 16 writers.
	keys := makeKeys(n)
	value := makeValue(100)
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var werr atomic.Value
	for w := 0; w < feedWriters; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(batchSize)) - batchSize
				if i >= n {
					return
				}
				if err := kv.SetBatch(ctx, keys[i:min(i+batchSize, n)], value); err != nil {
					werr.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := werr.Load().(error); err != nil {
		return nil, fmt.Errorf("write: %w", err)
	}
	writeRate := float64(n) / time.Since(start).Seconds()
	e.Logf("setsuna wrote %d changes at %s changes/s", n, fmtRate(writeRate))

	read := func(rng *client.FeedRange) (int, error) {
		it := fc.NewFeedIterator(drivers.CacheName, client.StartFromBeginning(), client.LatestVersion, &client.FeedOptions{Range: rng, PageSizeHint: 1000})
		got := 0
		for {
			page, err := it.ReadNext(ctx)
			if err != nil {
				return got, err
			}
			if page.NotModified() {
				return got, nil
			}
			got += page.Count()
		}
	}
	start = time.Now()
	got, err := read(nil)
	if err != nil || got != n {
		return nil, fmt.Errorf("one reader read %d of %d changes: %v", got, n, err)
	}
	oneRate := float64(got) / time.Since(start).Seconds()

	ranges, err := fc.GetFeedRanges(ctx, drivers.CacheName)
	if err != nil {
		return nil, err
	}
	start = time.Now()
	counts := make([]int, len(ranges))
	errs := make([]error, len(ranges))
	for i := range ranges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[i], errs[i] = read(&ranges[i])
		}()
	}
	wg.Wait()
	total := 0
	for i := range ranges {
		if errs[i] != nil {
			return nil, errs[i]
		}
		total += counts[i]
	}
	if total != n {
		return nil, fmt.Errorf("%d range readers read %d of %d changes", len(ranges), total, n)
	}
	parRate := float64(total) / time.Since(start).Seconds()

	polled, err := writeToVisible(ctx, kv, fc, e.Duration(), false)
	if err != nil {
		return nil, err
	}
	tailed, err := writeToVisible(ctx, kv, fc, e.Duration(), true)
	if err != nil {
		return nil, err
	}

	t := &Table{Header: []string{"measure", "value", "× write rate"}}
	t.Rows = append(t.Rows,
		[]string{fmt.Sprintf("write: %d changes, SetBatch of %d, %d writers", n, batchSize, feedWriters), fmtRate(writeRate) + " changes/s", "1.00×"},
		[]string{"read: 1 reader, whole cache, pages of 1000", fmtRate(oneRate) + " changes/s", fmt.Sprintf("**%.2f×**", oneRate/writeRate)},
		[]string{fmt.Sprintf("read: %d range readers in parallel", len(ranges)), fmtRate(parRate) + " changes/s", fmt.Sprintf("**%.2f×**", parRate/writeRate)},
		visibleRow("polling ReadNext", polled),
		visibleRow("TailFeed stream", tailed),
	)
	best := max(oneRate, parRate)
	p99 := min(polled.QuantileDuration(0.99), tailed.QuantileDuration(0.99))
	t.Goals = append(t.Goals,
		Goal{Name: "feed read ≥ 5× write rate", Met: best >= 5*writeRate, Detail: fmt.Sprintf("best read rate %.2f× the write rate (goal ≥ 5×)", best/writeRate)},
		Goal{Name: "feed write-to-visible p99 < 1 ms", Met: p99 < time.Millisecond, Detail: fmt.Sprintf("p99 %s (goal < 1 ms): polling reader %s, TailFeed stream %s", fmtDur(p99), fmtDur(polled.QuantileDuration(0.99)), fmtDur(tailed.QuantileDuration(0.99)))},
	)
	t.AddNote("All through the server binary and the Go client (gRPC over loopback); the generator and the server are pinned to one CPU each as in the other scenarios. Write-to-visible: a writer sets one key at a steady rate with its send time as the value; a reader from Now records arrival minus send time, once polling ReadNext (NotModified pages are retried at once, so the latency includes a poll round trip) and once on the server-pushed TailFeed stream.")
	return t, nil
}

func visibleRow(how string, h *hist.Histogram) []string {
	return []string{fmt.Sprintf("write-to-visible at %d writes/s, %s: p50 / p99 / max", feedVisibleRate, how),
		fmt.Sprintf("%s / %s / %s (%d samples)", fmtDur(h.QuantileDuration(0.5)), fmtDur(h.QuantileDuration(0.99)), fmtDur(time.Duration(h.Max())), h.Count()), ""}
}

// writeToVisible measures how long a write takes to appear in the feed, read
// by polling ReadNext or from the TailFeed stream.
func writeToVisible(ctx context.Context, kv *drivers.Setsuna, fc *client.FeedClient, d time.Duration, tail bool) (*hist.Histogram, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	h := hist.New()
	it := fc.NewFeedIterator(drivers.CacheName, client.StartFromNow(), client.LatestVersion, nil)
	if _, err := it.ReadNext(ctx); err != nil { // pins "now" before writing
		return nil, err
	}
	done := make(chan error, 1)
	go func() {
		tick := time.NewTicker(time.Second / feedVisibleRate)
		defer tick.Stop()
		stop := time.After(d)
		buf := make([]byte, 8)
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			case <-tick.C:
			}
			binary.BigEndian.PutUint64(buf, uint64(time.Now().UnixNano()))
			if err := kv.Set(ctx, "visible", buf); err != nil {
				done <- err
				return
			}
		}
	}()
	record := func(page *client.FeedResponse) {
		now := time.Now().UnixNano()
		for _, item := range page.Items {
			if v := item.Current; v != nil && len(v.Value) == 8 {
				h.Record(now - int64(binary.BigEndian.Uint64(v.Value)))
			}
		}
	}
	if tail {
		tailCtx, stopTail := context.WithCancel(ctx)
		tailErr := make(chan error, 1)
		go func() {
			tailErr <- it.Tail(tailCtx, func(page *client.FeedResponse) error { record(page); return nil })
		}()
		err := <-done
		stopTail()
		if terr := <-tailErr; terr != nil && tailCtx.Err() == nil {
			return nil, terr
		}
		return h, err
	}
	for {
		select {
		case err := <-done:
			return h, err
		default:
		}
		page, err := it.ReadNext(ctx)
		if err != nil {
			return nil, err
		}
		record(page)
	}
}
