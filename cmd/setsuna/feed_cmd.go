package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/setsuna-io/setsuna/client"
)

const feedUsage = `Usage: setsuna feed <command> [flags] [args]

Commands:
  ranges <cache>   print one line per partition: "<id>\t<FeedRange JSON>"
  tail <cache>     print one JSON line per change until interrupted; polls when nothing is new

Flags of tail:
  --from string       beginning | now | <RFC 3339 time> | <continuation token> (default now)
  --range string      a FeedRange JSON, e.g. {"Range":{"min":"","max":"2000"}} (default: whole cache)
  --key string        only the changes of this partition (item) key
  --mode string       latest | all (all versions and deletes; from now or a token) (default latest)
  --page-size int     page size hint (default: the server's)
  --poll duration     wait between reads when nothing is new (default 500ms)
  --count N           exit after N changes (default: follow until interrupted)

Flags may appear before or after the arguments; "--" ends the flags.
  --addr string       server address (default $SETSUNA_ADDR or 127.0.0.1:8080)
  --token string      token sent as authorization (default $SETSUNA_TOKEN)
  --timeout duration  deadline of each call (default 5s)

A change line: {"op","key","lsn","partition","time","kind","value","previous","ttlExpired","batchEnd"}
(keys and values that are not UTF-8 print as 0x<hex>); the last line of each page also carries
"continuation", the token to resume after it with --from.

Exit status: 0 ok (tail: interrupted), 2 usage or invalid argument, 3 server or connection error.
`

// runFeed implements "setsuna feed"; tail runs until SIGINT/SIGTERM.
func runFeed(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runFeedIO(ctx, args, os.Stdout, os.Stderr)
}

// runFeedIO runs "setsuna feed" with args (after "feed"); tail runs until
// ctx is done.
func runFeedIO(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, feedUsage)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "--help", "-help", "help":
		fmt.Fprint(stdout, feedUsage)
		return exitOK
	case "ranges", "tail":
	default:
		fmt.Fprintf(stderr, "setsuna: unknown feed command %q\n\n%s", name, feedUsage)
		return exitUsage
	}
	fs := flag.NewFlagSet("setsuna feed "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	conn := addConnFlags(fs, "deadline of each call")
	from := fs.String("from", "now", "start")
	rangeJSON := fs.String("range", "", "FeedRange JSON")
	key := fs.String("key", "", "partition key")
	mode := fs.String("mode", "latest", "latest | all")
	pageSize := fs.Int("page-size", 0, "page size hint")
	poll := fs.Duration("poll", 500*time.Millisecond, "wait when nothing is new")
	count := fs.Uint64("count", 0, "exit after N changes")
	pos, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, feedUsage)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "setsuna: %v\n\n%s", err, feedUsage)
		return exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "setsuna: feed %s takes one argument, <cache>\n", name)
		return exitUsage
	}
	if *conn.timeout <= 0 || *poll <= 0 || *pageSize < 0 {
		fmt.Fprintln(stderr, "setsuna: --timeout and --poll must be positive, --page-size not negative")
		return exitUsage
	}
	fc, err := dial(conn, client.NewFeedClient)
	if err != nil {
		fmt.Fprintf(stderr, "setsuna: cannot create client: %v\n", err)
		return exitUsage
	}
	defer fc.Close()
	cc := &cacheCall{addr: *conn.addr, args: pos, stdout: stdout, stderr: stderr}
	cache := pos[0]
	if name == "ranges" {
		ranges, err := fc.GetFeedRanges(ctx, cache)
		if err != nil {
			return cc.fail("get the feed ranges of "+cache, cache, err)
		}
		for _, r := range ranges {
			fmt.Fprintf(stdout, "%s\t%s\n", r.ID, r.ToJSONString())
		}
		return exitOK
	}

	opts := &client.FeedOptions{PageSizeHint: *pageSize}
	switch {
	case *rangeJSON != "" && *key != "":
		fmt.Fprintln(stderr, "setsuna: use --range or --key, not both")
		return exitUsage
	case *rangeJSON != "":
		r, err := client.FeedRangeFromJSONString(*rangeJSON)
		if err != nil {
			fmt.Fprintf(stderr, "setsuna: --range: %v\n", err)
			return exitUsage
		}
		opts.Range = &r
	case *key != "":
		r, err := client.FeedRangeForPartitionKey(*key)
		if err != nil {
			fmt.Fprintf(stderr, "setsuna: --key: %v\n", err)
			return exitUsage
		}
		opts.Range = &r
	}
	var m client.ChangeFeedMode
	switch *mode {
	case "latest":
		m = client.LatestVersion
	case "all":
		m = client.AllVersionsAndDeletes
	default:
		fmt.Fprintf(stderr, "setsuna: --mode must be latest or all, got %q\n", *mode)
		return exitUsage
	}
	start, err := parseFrom(*from)
	if err != nil {
		fmt.Fprintf(stderr, "setsuna: --from: %v\n", err)
		return exitUsage
	}
	it := fc.NewFeedIterator(cache, start, m, opts)
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for it.HasMoreResults() {
		resp, err := it.ReadNext(ctx)
		if err != nil {
			if done(ctx) {
				return exitOK
			}
			return cc.fail("read the feed of "+cache, cache, err)
		}
		for i, item := range resp.Items {
			line := changeLine(item)
			if i == len(resp.Items)-1 {
				line.Continuation = resp.ContinuationToken()
			}
			if err := enc.Encode(line); err != nil {
				return exitFailure
			}
			if *count--; *count == 0 {
				return exitOK
			}
		}
		if resp.NotModified() {
			select {
			case <-ctx.Done():
				return exitOK
			case <-time.After(*poll):
			}
		}
	}
	return exitOK
}

// done reports whether ctx has ended, also when a call's deadline, taken
// from ctx, fired a moment before ctx's own timer.
func done(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ctx.Err() != nil || ok && !time.Now().Before(d)
}

// parseFrom reads --from: beginning, now, an RFC 3339 time or a token.
func parseFrom(s string) (client.StartFrom, error) {
	switch s {
	case "beginning":
		return client.StartFromBeginning(), nil
	case "now", "":
		return client.StartFromNow(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return client.StartFromTime(t), nil
	}
	if strings.HasPrefix(s, "v1.") {
		return client.StartFromContinuation(s), nil
	}
	return client.StartFrom{}, fmt.Errorf("want beginning, now, an RFC 3339 time or a continuation token, got %q", s)
}

type changeJSON struct {
	Op           string `json:"op"`
	Key          string `json:"key"`
	LSN          uint64 `json:"lsn"`
	Partition    int    `json:"partition"`
	Time         string `json:"time"`
	Kind         string `json:"kind,omitempty"`
	Value        string `json:"value,omitempty"`
	Previous     string `json:"previous,omitempty"`
	PreviousKind string `json:"previousKind,omitempty"`
	TTLExpired   bool   `json:"ttlExpired,omitempty"`
	BatchEnd     uint64 `json:"batchEnd,omitempty"`
	Continuation string `json:"continuation,omitempty"`
}

func changeLine(it client.ChangeFeedItem) changeJSON {
	out := changeJSON{
		Op: string(it.Metadata.OperationType), Key: printable(it.Key), LSN: it.Metadata.LSN, Partition: it.Metadata.Partition,
		Time: it.Metadata.CommitTime.UTC().Format(time.RFC3339Nano), TTLExpired: it.Metadata.TimeToLiveExpired, BatchEnd: it.Metadata.BatchEndLSN,
	}
	if it.Current != nil {
		out.Kind, out.Value = string(it.Current.Kind), printable(it.Current.Value)
	}
	if it.Previous != nil {
		out.PreviousKind, out.Previous = string(it.Previous.Kind), printable(it.Previous.Value)
	}
	return out
}

// printable is text as is, and anything else as 0x<hex>.
func printable(b []byte) string {
	if utf8.Valid(b) && !strings.HasPrefix(string(b), "0x") {
		return string(b)
	}
	return "0x" + hex.EncodeToString(b)
}
