package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore"
	"github.com/setsuna-io/setsuna/internal/store/memstore/wal"
)

func TestDataVerify(t *testing.T) {
	dir := t.TempDir()
	eng := filepath.Join(dir, "engine")
	s, tl, err := memstore.Open(memstore.Options{Logger: slog.New(slog.DiscardHandler)}, memstore.TopicLogOptions{}, memstore.PersistOptions{Dir: eng, Fsync: wal.FsyncNo})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.CreateCache(ctx, "c", store.CacheConfig{}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c", "d"} {
		if err := s.Set(ctx, "c", []byte(k), []byte(strings.Repeat(k, 100)), 0); err != nil {
			t.Fatal(err)
		}
	}
	tl.Close()
	s.Close()

	var out strings.Builder
	if code := data([]string{"verify", dir}, &out, io.Discard); code != 0 || !strings.Contains(out.String(), "1 caches, 4 items") || !strings.Contains(out.String(), "result:         OK") {
		t.Fatalf("verify of a good directory: exit %d\n%s", code, out.String())
	}
	seg := filepath.Join(eng, wal.SegmentName(1))
	b, _ := os.ReadFile(seg)
	b[len(b)/2] ^= 1
	os.WriteFile(seg, b, 0o600)
	out.Reset()
	if code := data([]string{"verify", eng}, &out, io.Discard); code != 1 || !strings.Contains(out.String(), "DAMAGED") {
		t.Fatalf("verify of a damaged directory: exit %d\n%s", code, out.String())
	}
	if code := data([]string{"verify"}, io.Discard, io.Discard); code != 2 {
		t.Fatalf("verify without a directory: exit %d, want 2", code)
	}
}
