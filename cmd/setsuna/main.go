// Command setsuna runs the Setsuna server and talks to one from the shell.
package main

import (
	"fmt"
	"os"
)

const usage = `setsuna — a self-hosted real-time data platform

Usage:
  setsuna serve [flags]            run the server (see: setsuna serve -h)
  setsuna cache <command> [args]   manage caches and items (see: setsuna cache -h)
  setsuna token <command> [args]   issue and revoke API keys offline (see: setsuna token -h)
  setsuna cert dev [flags]         make a development CA and TLS certificate (see: setsuna cert -h)
  setsuna topic <command> [args]   publish to and subscribe to topics (see: setsuna topic -h)
  setsuna feed <command> [args]    read a cache's change feed (see: setsuna feed -h)
  setsuna dict|list|set|zset <command> [args]   collections (see: setsuna dict -h)
  setsuna bench [flags]            load-test Setsuna beside Redis/NATS (see: setsuna bench -h)
  setsuna cluster nodes [flags]    list the nodes of a redis engine (see: setsuna cluster -h)
  setsuna data verify DIR          check a data directory offline (see: setsuna data -h)
  setsuna version                  print the version
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(args[1:])
	case "cache":
		return runCache(args[1:])
	case "token":
		return runTopLevelToken(args[1:])
	case "cert":
		return runTopLevelCert(args[1:])
	case "topic":
		return runTopic(args[1:])
	case "feed":
		return runFeed(args[1:])
	case "bench":
		return runBench(args[1:])
	case "cluster":
		return runCluster(args[1:])
	case "data":
		return runData(args[1:])
	case "dict", "list", "set", "zset":
		return runCollection(args[0], args[1:])
	case "version", "--version":
		fmt.Println(version)
		return 0
	case "help", "-h", "--help":
		fmt.Print(usage)
		return 0
	}
	fmt.Fprintf(os.Stderr, "setsuna: unknown command %q\n\n%s", args[0], usage)
	return 2
}
