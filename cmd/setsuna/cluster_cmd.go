package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/setsuna-io/setsuna/internal/cluster"
	"github.com/setsuna-io/setsuna/internal/store/redisstore"
)

const clusterUsage = `Usage: setsuna cluster nodes --redis-addrs host:port[,...] [flags]

Lists the nodes registered in a redis engine: every node that serves the
data at --redis-addrs, with its listeners and whether it heartbeated within
the last 5 seconds. It reads the registry from Redis, so it works whichever
nodes are down. SETSUNA_REDIS_PASSWORD is read like serve's.

Flags:
`

func runCluster(args []string) int { return clusterCmd(args, os.Stdout, os.Stderr, os.LookupEnv) }

func clusterCmd(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	if len(args) == 0 || args[0] != "nodes" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(stdout, clusterUsage)
			return 0
		}
		fmt.Fprint(stderr, clusterUsage)
		return 2
	}
	fs := flag.NewFlagSet("cluster nodes", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var addrs listFlag
	fs.Var(&addrs, "redis-addrs", "seed addresses of the engine's Redis Cluster, or one Redis server")
	user := fs.String("redis-username", "", "ACL user name")
	pass := fs.String("redis-password", "", "password (prefer SETSUNA_REDIS_PASSWORD)")
	format := fs.String("format", "table", "table or json")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, clusterUsage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintf(stderr, "setsuna cluster nodes: %v\n", err)
		return 2
	}
	if len(addrs) == 0 {
		if v, ok := lookupEnv("SETSUNA_REDIS_ADDRS"); ok {
			_ = addrs.Set(v)
		}
	}
	if len(addrs) == 0 {
		fmt.Fprintln(stderr, "setsuna cluster nodes: --redis-addrs is required")
		return 2
	}
	if *pass == "" {
		*pass, _ = lookupEnv("SETSUNA_REDIS_PASSWORD")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := redisstore.Dial(ctx, redisstore.ClientOptions{Addrs: addrs, Username: *user, Password: *pass})
	if err != nil {
		fmt.Fprintf(stderr, "setsuna cluster nodes: %v\n", err)
		return 1
	}
	defer c.Close()
	nodes, err := cluster.List(ctx, redisstore.NewRecords(c))
	if err != nil {
		fmt.Fprintf(stderr, "setsuna cluster nodes: %v\n", err)
		return 1
	}
	now := time.Now()
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(nodes); err != nil {
			fmt.Fprintf(stderr, "setsuna cluster nodes: %v\n", err)
			return 1
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tSTATE\tHEARTBEAT\tLISTENERS\tVERSION")
	for _, n := range nodes {
		state := "up"
		if !n.Alive(now, cluster.DefaultTTL) {
			state = "down"
		}
		var ls []string
		for name, a := range n.Addrs {
			ls = append(ls, name+"="+a)
		}
		sort.Strings(ls)
		fmt.Fprintf(tw, "%s\t%s\t%s ago\t%s\t%s\n", n.ID, state, now.Sub(n.Heartbeat).Round(time.Second), strings.Join(ls, " "), n.Version)
	}
	tw.Flush()
	return 0
}
