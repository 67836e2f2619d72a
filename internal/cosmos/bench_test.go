package cosmos

import (
	"fmt"
	"testing"
)

// The surface's own cost per request over the in-memory Backend: what a
// change feed page of 100 documents and a point read take to parse,
// authenticate and render.

func benchEnv(b *testing.B, docsN int) *env {
	e := newEnv(b)
	e.setup("c", map[string]any{"partitionKey": map[string]any{"paths": []string{"/pk"}, "version": 2}})
	for i := range docsN {
		e.do("POST", docs, fmt.Sprintf(`{"id":"d%d","pk":"p%d","name":"document %d","tags":["a","b","c"],"n":%d}`, i, i%10, i, i),
			hPartitionKey, fmt.Sprintf(`["p%d"]`, i%10)).want(201)
	}
	return e
}

func BenchmarkFeedPage100(b *testing.B) {
	e := benchEnv(b, 100)
	b.ReportAllocs()
	for b.Loop() {
		if r := e.do("GET", docs, nil, hAIM, incremental, hPKRangeID, "0"); r.Code != 200 {
			b.Fatalf("status %d", r.Code)
		}
	}
	b.ReportMetric(100*float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

func BenchmarkPointRead(b *testing.B) {
	e := benchEnv(b, 10)
	b.ReportAllocs()
	for b.Loop() {
		if r := e.do("GET", docs+"/d3", nil, hPartitionKey, `["p3"]`); r.Code != 200 {
			b.Fatalf("status %d", r.Code)
		}
	}
}
