// Command rediscluster runs a command beside a fresh Redis Cluster of
// redis-server processes (3 primaries, 1 replica each; package redistest),
// with the seed addresses in SETSUNA_TEST_REDIS_ADDRS (not SETSUNA_REDIS_ADDRS,
// which serve would read as --redis-addrs), and stops the cluster when
// the command ends. `make conformance-cluster` runs the SDK suites with it:
//
//	go run ./internal/redistest/rediscluster -- npm test
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/setsuna-io/setsuna/internal/redistest"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: rediscluster [--] command [args...]")
		return 2
	}
	dir, err := os.MkdirTemp("", "rediscluster-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "rediscluster:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	c, err := redistest.StartIn(dir, redistest.Options{Primaries: 3, Replicas: 1})
	if c != nil {
		defer c.Stop()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rediscluster:", err)
		return 1
	}
	addrs := strings.Join(c.Addrs(), ",")
	fmt.Fprintf(os.Stderr, "rediscluster: redis cluster at %s\n", addrs)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "SETSUNA_TEST_REDIS_ADDRS="+addrs)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "rediscluster:", err)
		return 1
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return max(ee.ExitCode(), 1)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rediscluster:", err)
		return 1
	}
	return 0
}
