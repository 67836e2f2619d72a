package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/setsuna-io/setsuna/internal/store/memstore"
)

const dataUsage = `Usage: setsuna data verify DIR

Checks a data directory offline (the --data-dir of a stopped server, or its
engine/ subdirectory): reads the snapshot and every log record as a start
would, checks every checksum and that every record applies, and prints what
it found. It writes nothing. Exit status: 0 when a start would succeed (a
torn record at the end of the log, from a crash during a write, is reported
and would be cut), 1 when a start would refuse (damage in the middle of the
log, a damaged or missing snapshot: see serve --repair), 2 for a usage error.
`

func runData(args []string) int { return data(args, os.Stdout, os.Stderr) }

func data(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, dataUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] != "verify" || len(args) != 2 {
		fmt.Fprint(stderr, dataUsage)
		return 2
	}
	dir := args[1]
	if st, err := os.Stat(filepath.Join(dir, "engine")); err == nil && st.IsDir() {
		dir = filepath.Join(dir, "engine")
	}
	if _, err := os.Stat(dir); err != nil {
		fmt.Fprintf(stderr, "setsuna data verify: %v\n", err)
		return 2
	}
	rep, err := memstore.Verify(dir, memstore.Options{Logger: slog.New(slog.DiscardHandler)}, memstore.TopicLogOptions{})
	fmt.Fprintf(stdout, "data directory: %s\n", dir)
	if rep.Snapshot != 0 {
		fmt.Fprintf(stdout, "snapshot:       %016x.snap (%d bytes)\n", rep.Snapshot, rep.SnapshotBytes)
	} else {
		fmt.Fprintf(stdout, "snapshot:       none\n")
	}
	fmt.Fprintf(stdout, "log:            %d segments, %d bytes, %d records\n", rep.Segments, rep.LogBytes, rep.Records)
	fmt.Fprintf(stdout, "contents:       %d caches, %d items, %d topics, %d retained messages\n", rep.Caches, rep.Items, rep.Topics, rep.Messages)
	fmt.Fprintf(stdout, "closed cleanly: %v\n", rep.Clean)
	for _, p := range rep.Problems {
		fmt.Fprintf(stdout, "problem:        %s\n", p)
	}
	var ce *memstore.CorruptError
	switch {
	case errors.As(err, &ce):
		fmt.Fprintf(stdout, "result:         DAMAGED: a start would refuse (serve --repair keeps what can be read)\n")
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "setsuna data verify: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "result:         OK\n")
	return 0
}
