// Package gctune keeps the Go heap's headroom proportional to a cache's needs.
//
// A cache's heap is mostly long-lived data. With Go's default GOGC=100 the
// process grows to about twice its live data between collections; a fixed
// low GOGC fixes that for large heaps but makes a small heap collect every
// few hundred kilobytes. The tuner sets GOGC so that the headroom is a
// quarter of the live heap, but never less than MinHeadroom: small heaps keep
// GOGC=100, large ones go down to 25.
package gctune

import (
	"runtime/debug"
	"runtime/metrics"
	"time"
)

const (
	MinHeadroom = 64 << 20 // bytes of growth allowed between collections, at least
	MinPercent  = 25
	MaxPercent  = 100
	interval    = time.Second
)

// Percent is the GOGC the tuner picks for a live heap of live bytes.
func Percent(live uint64) int {
	if live == 0 {
		return MaxPercent
	}
	headroom := max(uint64(MinHeadroom), live/4)
	p := int(min(uint64(MaxPercent), 100*headroom/live))
	return max(MinPercent, p)
}

// Start runs the tuner until stop is closed.
func Start(stop <-chan struct{}) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	last := -1
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				if p := Percent(sample[0].Value.Uint64()); p != last {
					debug.SetGCPercent(p)
					last = p
				}
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
}
