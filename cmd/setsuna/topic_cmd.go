package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/setsuna-io/setsuna/client"
)

const topicUsage = `Usage: setsuna topic <command> [flags] [args]

Commands:
  publish <cache> <topic> <value>   publish a text message
  subscribe <cache> <topic>         print "<sequence number>\t<value>" per message until interrupted
                                    (binary values print as 0x<hex>; discontinuities go to stderr)
      --after N                     resume after sequence number N (from the replay buffer)
      --count N                     exit after N messages

Flags may appear before or after the arguments; "--" ends the flags.
  --addr string       server address (default $SETSUNA_ADDR or 127.0.0.1:8080)
  --token string      token sent as authorization (default $SETSUNA_TOKEN)
  --timeout duration  deadline of publish, and of the subscription's start (default 5s)

Exit status: 0 ok (subscribe: interrupted), 2 usage or invalid argument, 3 server or connection error.
`

// runTopic implements "setsuna topic"; subscribe runs until SIGINT/SIGTERM.
func runTopic(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runTopicIO(ctx, args, os.Stdout, os.Stderr)
}

// runTopicIO runs "setsuna topic" with args (after "topic"); subscribe runs
// until ctx is done.
func runTopicIO(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, topicUsage)
		return exitUsage
	}
	name := args[0]
	var nargs int
	switch name {
	case "-h", "--help", "-help", "help":
		fmt.Fprint(stdout, topicUsage)
		return exitOK
	case "publish":
		nargs = 3
	case "subscribe":
		nargs = 2
	default:
		fmt.Fprintf(stderr, "setsuna: unknown topic command %q\n\n%s", name, topicUsage)
		return exitUsage
	}

	fs := flag.NewFlagSet("setsuna topic "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	conn := addConnFlags(fs, "deadline of publish and of the subscription's start")
	after := fs.Uint64("after", 0, "")
	count := fs.Uint64("count", 0, "")
	pos, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, topicUsage)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "setsuna: %v\n\n%s", err, topicUsage)
		return exitUsage
	}
	if len(pos) != nargs {
		synopsis := "<cache> <topic> <value>"
		if name == "subscribe" {
			synopsis = "<cache> <topic>"
		}
		fmt.Fprintf(stderr, "setsuna: topic %s takes arguments %s\n", name, synopsis)
		return exitUsage
	}
	if *conn.timeout <= 0 {
		fmt.Fprintf(stderr, "setsuna: --timeout must be positive, got %v\n", *conn.timeout)
		return exitUsage
	}
	tc, err := dial(conn, client.NewTopicClient)
	if err != nil {
		fmt.Fprintf(stderr, "setsuna: cannot create client: %v\n", err)
		return exitUsage
	}
	defer tc.Close()
	cc := &cacheCall{addr: *conn.addr, args: pos, stdout: stdout, stderr: stderr}
	if name == "publish" {
		return topicPublish(ctx, tc, cc)
	}
	return topicSubscribe(ctx, tc, cc, *after, *count)
}

func topicPublish(ctx context.Context, tc *client.TopicClient, cc *cacheCall) int {
	cache, topic, value := cc.args[0], cc.args[1], cc.args[2]
	_, err := tc.Publish(ctx, &client.TopicPublishRequest{CacheName: cache, TopicName: topic, Value: client.String(value)})
	if err != nil {
		return cc.fail("publish to "+topic, cache, err)
	}
	return exitOK
}

func topicSubscribe(ctx context.Context, tc *client.TopicClient, cc *cacheCall, after, count uint64) int {
	cache, topic := cc.args[0], cc.args[1]
	sub, err := tc.Subscribe(ctx, &client.TopicSubscribeRequest{CacheName: cache, TopicName: topic, ResumeAtTopicSequenceNumber: after})
	if err != nil {
		if ctx.Err() != nil {
			return exitOK
		}
		return cc.fail("subscribe to "+topic, cache, err)
	}
	defer sub.Close()
	for {
		ev, err := sub.Event(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return exitOK
			}
			return cc.fail("subscribe to "+topic, cache, err)
		}
		switch e := ev.(type) {
		case *client.TopicItem:
			fmt.Fprintf(cc.stdout, "%d\t%s\n", e.SequenceNumber, formatTopicValue(e.Value))
			if count--; count == 0 {
				return exitOK
			}
		case *client.TopicDiscontinuity:
			fmt.Fprintf(cc.stderr, "setsuna: discontinuity: last %d, continuing after %d in page %d\n",
				e.LastSequenceNumber, e.NewSequenceNumber, e.NewSequencePage)
		}
	}
}

// formatTopicValue prints text as is (newlines escaped, so that each message
// is one line) and binary as 0x<hex>.
func formatTopicValue(v client.TopicValue) string {
	switch v := v.(type) {
	case client.String:
		return strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\r", "\\r").Replace(string(v))
	case client.Bytes:
		return "0x" + hex.EncodeToString(v)
	}
	return ""
}
