// Command testserver serves the AppSync surface with in-process fakes (an
// in-memory store and fan-out, static API keys) so that the conformance suite
// can run before the surface is wired into `setsuna serve`. It takes the same
// flags as `setsuna serve` for this surface; the first argument may be
// "serve". Test use only.
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/setsuna-io/setsuna/internal/appsync"
	"github.com/setsuna-io/setsuna/internal/appsync/appsynctest"
	"github.com/setsuna-io/setsuna/internal/graphql"
	"github.com/setsuna-io/setsuna/internal/graphql/graphqltest"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "serve" {
		args = args[1:]
	}
	fs := flag.NewFlagSet("testserver", flag.ExitOnError)
	schemaFile := fs.String("graphql-schema", "", "AppSync schema file (SDL)")
	listen := fs.String("graphql-listen", "127.0.0.1:8082", "address for HTTP and WebSocket")
	resolvers := fs.String("graphql-resolvers", "", "resolver config file (JSON)")
	certFile := fs.String("tls-cert", "", "TLS certificate (PEM)")
	keyFile := fs.String("tls-key", "", "TLS key (PEM)")
	var keys multi
	fs.Var(&keys, "graphql-api-key", "accepted x-api-key (repeatable)")
	// Flags of `setsuna serve` that this surface does not use.
	fs.String("log-level", "info", "ignored")
	fs.String("listen", "", "ignored")
	_ = fs.Parse(args)
	if err := run(*schemaFile, *listen, *resolvers, *certFile, *keyFile, keys); err != nil {
		fmt.Fprintln(os.Stderr, "testserver:", err)
		os.Exit(1)
	}
}

func run(schemaFile, listen, resolvers, certFile, keyFile string, keys []string) error {
	if schemaFile == "" {
		return errors.New("--graphql-schema is required")
	}
	sdl, err := os.ReadFile(schemaFile)
	if err != nil {
		return err
	}
	schema, err := graphql.LoadSchema(schemaFile, string(sdl))
	if err != nil {
		return err
	}
	exec := &graphql.Executor{Schema: schema}
	var hooks map[string]graphql.SubscribeHook
	if resolvers != "" {
		b, err := os.ReadFile(resolvers)
		if err != nil {
			return err
		}
		cfg, err := graphql.ParseResolverConfig(b)
		if err != nil {
			return err
		}
		store := graphqltest.NewMemStore()
		hooks, err = cfg.Apply(exec, func(string, graphql.DataSourceConfig) (graphql.Store, error) { return store, nil })
		if err != nil {
			return err
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h, err := appsync.New(appsync.Config{
		Executor: exec, Hooks: hooks, Auth: &appsync.KeyAuth{APIKeys: keys},
		Fanout: appsynctest.NewMemFanout(), Logger: log,
	})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return err
		}
		l = appsync.SniffTLS(l, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		h.Close()
		_ = srv.Close()
	}()
	log.Info("appsync test server listening", "addr", l.Addr().String(), "tls", certFile != "")
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
