package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/testnode"
	"github.com/setsuna-io/setsuna/internal/tlsx"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

func caPool(t *testing.T, path string) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return pool
}

// With --tls-cert/--tls-key both listeners serve TLS only; SIGHUP's reload
// takes a renewed pair for new handshakes.
func TestTLSOnEveryListener(t *testing.T) {
	dir := t.TempDir()
	f, err := tlsx.Dev(dir, []string{"one.test"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	n := testnode.Start(t, embed.Config{TLSCert: f.Cert, TLSKey: f.Key})
	pool := caPool(t, f.CA)

	dial := func(name string) (*grpc.ClientConn, error) {
		return grpc.NewClient(n.Addr(), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: name})))
	}
	conn, err := dial("cache.one.test")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := pb.NewScsControlClient(conn).CreateCache(ctx, &pb.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatalf("gRPC over TLS: %v", err)
	}
	plain, err := grpc.NewClient(n.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, err := pb.NewScsControlClient(plain).ListCaches(ctx, &pb.ListCachesRequest{}); err == nil {
		t.Fatal("plaintext gRPC accepted by a TLS listener")
	}

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "api.cache.one.test"}}}
	resp, err := client.Get("https://" + n.HTTPAddr() + "/healthz")
	if err != nil {
		t.Fatalf("HTTPS: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz over TLS: %d", resp.StatusCode)
	}

	// Renew for another name and reload as SIGHUP does.
	if _, err := tlsx.Dev(dir, []string{"two.test"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := n.Server().ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	c, err := tls.Dial("tcp", n.Addr(), &tls.Config{RootCAs: pool, ServerName: "cache.two.test", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatalf("handshake with the renewed certificate: %v", err)
	}
	c.Close()
}

func TestTLSConfigErrors(t *testing.T) {
	if _, err := embed.Start(embed.Config{Listen: "127.0.0.1:0", HTTPListen: "off", TLSCert: "only-cert.pem"}); err == nil {
		t.Fatal("a certificate without a key was accepted")
	}
	if _, err := embed.Start(embed.Config{Listen: "127.0.0.1:0", HTTPListen: "off", TLSCert: "missing.pem", TLSKey: "missing-key.pem"}); err == nil {
		t.Fatal("missing TLS files were accepted")
	}
	if _, err := embed.Start(embed.Config{Listen: "127.0.0.1:0", HTTPListen: "off", Auth: true, DataDir: t.TempDir(), TestAdminListen: "0.0.0.0:0"}); err == nil {
		t.Fatal("a non-loopback test admin was accepted")
	}
}
