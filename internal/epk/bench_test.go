package epk

import (
	"strconv"
	"testing"
)

func BenchmarkSum128(b *testing.B) {
	for _, n := range []int{16, 64, 1024} {
		data := make([]byte, n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				Sum128(data)
			}
		})
	}
}

func BenchmarkPartitionOf(b *testing.B) {
	key := []byte("user:1234567890")
	for b.Loop() {
		PartitionOf(V2Bytes(key), 16)
	}
}

func BenchmarkPartitionOfKey(b *testing.B) {
	key := []byte("user:1234567890")
	for b.Loop() {
		PartitionOfKey(key, 16)
	}
}

func BenchmarkV2(b *testing.B) {
	for b.Loop() {
		V2("user:1234567890")
	}
}

func BenchmarkPartitionOfHex(b *testing.B) {
	e := V2("user:1234567890")
	for b.Loop() {
		PartitionOfHex(e, 16)
	}
}
