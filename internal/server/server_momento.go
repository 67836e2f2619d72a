package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/setsuna-io/setsuna/internal/faults"
	"github.com/setsuna-io/setsuna/internal/grpcx"
	"github.com/setsuna-io/setsuna/internal/momentohttp"
	"github.com/setsuna-io/setsuna/internal/tlsx"
)

// testAdminHeartbeat is the heartbeat of idle subscriptions with the test
// admin on (unless TopicHeartbeat says otherwise): the SDKs' retry suites
// count heartbeats toward stream-error-message-limit and expect a few
// within seconds, as momento-local sends them.
const testAdminHeartbeat = time.Second

// momentoComplete is what issue 12 adds to a Server: TLS on every
// listener, the Momento HTTP API, and momento-local's fault injection with
// its test admin listener.
type momentoComplete struct {
	certs    *tlsx.Reloader   // nil without TLS
	faults   *faults.Injector // nil without the test admin
	admin    *http.Server
	adminLis net.Listener
}

// setupMomentoComplete loads the TLS pair and adds the gRPC options and
// interceptors of TLS and fault injection; it runs before the gRPC server
// is made. Fault injection comes right after panic recovery, before
// authentication, so that a blocked server refuses every call.
func (s *Server) setupMomentoComplete(unary *[]grpc.UnaryServerInterceptor, streams *[]grpc.StreamServerInterceptor) ([]grpc.ServerOption, error) {
	// A request that does not decode is INVALID_ARGUMENT (Momento's answer),
	// checked first of all.
	bad := grpcx.NewBadRequests()
	opts := []grpc.ServerOption{bad.ServerOption()}
	*unary = append([]grpc.UnaryServerInterceptor{bad.Unary}, *unary...)
	*streams = append([]grpc.StreamServerInterceptor{bad.Stream}, *streams...)
	if s.cfg.TLSEnabled() {
		r, err := tlsx.New(s.cfg.TLSCert, s.cfg.TLSKey, tlsx.Options{Logger: s.log})
		if err != nil {
			return nil, err
		}
		s.certs = r
		opts = append(opts, grpc.Creds(credentials.NewTLS(r.ServerConfig("h2"))))
	}
	if s.cfg.TestAdminListen != "" {
		s.faults = faults.New()
		// After the decode check and panic recovery, before authentication.
		*unary = append((*unary)[:2], append([]grpc.UnaryServerInterceptor{s.faults.Unary}, (*unary)[2:]...)...)
		*streams = append((*streams)[:2], append([]grpc.StreamServerInterceptor{s.faults.Stream}, (*streams)[2:]...)...)
		s.log.Warn("fault injection is on (--test-admin-listen): request metadata can fail and delay calls; never use this in production", "test_admin", s.cfg.TestAdminListen)
	}
	return opts, nil
}

// heartbeat is the heartbeat interval the topics surface gets.
func (c *Config) heartbeat() time.Duration {
	if c.TopicHeartbeat == 0 && c.TestAdminListen != "" {
		return testAdminHeartbeat
	}
	return c.TopicHeartbeat
}

// momentoCompleteHTTP registers the Momento HTTP API on the HTTP listener
// and makes the test admin server. When the test admin address is the HTTP
// listener's, /block and /unblock are served there.
func (s *Server) momentoCompleteHTTP() {
	momentohttp.New(momentohttp.Options{Cache: s.cache, Topics: s.topics, Auth: s.auth, Logger: s.log}).Register(s.httpMux)
	if s.faults == nil {
		return
	}
	if s.cfg.TestAdminListen == s.cfg.HTTPListen && !strings.HasSuffix(s.cfg.HTTPListen, ":0") {
		s.httpMux.Handle("/block", s.faults.Handler())
		s.httpMux.Handle("/unblock", s.faults.Handler())
		return
	}
	// The SDKs' test admin clients speak plain HTTP, as momento-local's
	// does; the listener is loopback only (Validate).
	s.admin = &http.Server{Handler: s.faults.Handler(), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 16 << 10}
}

func (s *Server) startTestAdmin() error {
	if s.admin == nil {
		return nil
	}
	lis, err := net.Listen("tcp", s.cfg.TestAdminListen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", s.cfg.TestAdminListen, err)
	}
	s.mu.Lock()
	s.adminLis = lis
	s.mu.Unlock()
	go func() {
		if err := s.admin.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("test admin server stopped", "err", err)
		}
	}()
	return nil
}

// TestAdminAddr is the test admin listener's address ("" when it is off or
// shares the HTTP listener).
func (s *Server) TestAdminAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.adminLis == nil {
		return ""
	}
	return s.adminLis.Addr().String()
}

// Faults is the fault injector (nil unless the test admin is on).
func (s *Server) Faults() *faults.Injector { return s.faults }

// ReloadTLS re-reads the certificate and key now (SIGHUP). Without TLS it
// does nothing.
func (s *Server) ReloadTLS() error {
	if s.certs == nil {
		return nil
	}
	return s.certs.Reload()
}

func (s *Server) stopMomentoComplete(ctx context.Context) {
	if s.admin != nil {
		if err := s.admin.Shutdown(ctx); err != nil {
			s.admin.Close()
		}
	}
	if s.certs != nil {
		s.certs.Close()
	}
}

// certsConfig is the TLS configuration of the HTTP listeners (HTTP/2 and
// HTTP/1.1), always presenting the current certificate; nil without TLS.
func (s *Server) certsConfig() *tls.Config {
	if s.certs == nil {
		return nil
	}
	return s.certs.ServerConfig("h2", "http/1.1")
}

// tlsListener serves TLS on the HTTP and Cosmos listeners when configured
// (the AppSync listener sniffs TLS and plaintext on one port instead).
func (s *Server) tlsListener(name string, l net.Listener) net.Listener {
	if s.tls != nil && (name == "http" || name == "cosmos") {
		return tls.NewListener(l, s.tls)
	}
	return l
}
