package gctune

import "testing"

func TestPercent(t *testing.T) {
	f := func(live uint64, want int) {
		t.Helper()
		if got := Percent(live); got != want {
			t.Fatalf("Percent(%d MiB) = %d, want %d", live>>20, got, want)
		}
	}
	f(0, 100)
	f(10<<20, 100) // small heap: default headroom
	f(64<<20, 100) // headroom of 64 MiB = 100 %
	f(128<<20, 50) // 64 MiB over 128
	f(256<<20, 25) // a quarter of the live heap
	f(4<<30, 25)   // never below 25
	f(200<<20, 32) // 64/200
}
