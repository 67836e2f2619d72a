package tlsx_test

import (
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/tlsx"
)

func quiet() tlsx.Options { return tlsx.Options{Logger: slog.New(slog.DiscardHandler), Poll: -1} }

func TestDevCertificateCoversTheSDKNames(t *testing.T) {
	dir := t.TempDir()
	f, err := tlsx.Dev(dir, []string{"setsuna.example", "10.1.2.3"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !f.NewCA {
		t.Fatal("first run must make a CA")
	}
	pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(f.CA)
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	for _, name := range []string{"localhost", "cache.localhost", "cache.setsuna.example", "control.setsuna.example",
		"token.setsuna.example", "api.cache.setsuna.example", "setsuna.example", "127.0.0.1", "10.1.2.3", "::1"} {
		if _, err := pair.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := pair.Leaf.Verify(x509.VerifyOptions{DNSName: "other.example", Roots: pool}); err == nil {
		t.Error("certificate verifies for a name it was not made for")
	}
	if fi, _ := os.Stat(f.Key); fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", fi.Mode().Perm())
	}

	// A second run reuses the CA, so a client that trusts it still does.
	g, err := tlsx.Dev(dir, []string{"second.example"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	caPEM2, _ := os.ReadFile(g.CA)
	if g.NewCA || string(caPEM2) != string(caPEM) {
		t.Fatal("second run replaced the CA")
	}
	if !slices.Contains(g.Names, "api.cache.second.example") {
		t.Fatalf("names %v", g.Names)
	}
	if _, err := tlsx.Dev(dir, []string{"bad name!"}, time.Now()); err == nil {
		t.Fatal("an invalid host name was accepted")
	}
}

func TestReloaderServesAndReloads(t *testing.T) {
	dir := t.TempDir()
	f, err := tlsx.Dev(dir, []string{"one.example"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r, err := tlsx.New(f.Cert, f.Key, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(f.CA)
	pool.AppendCertsFromPEM(caPEM)

	lis, err := tls.Listen("tcp", "127.0.0.1:0", r.ServerConfig("http/1.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) { _ = c.(*tls.Conn).Handshake(); c.Close() }(c)
		}
	}()
	dial := func(name string) error {
		c, err := tls.Dial("tcp", lis.Addr().String(), &tls.Config{RootCAs: pool, ServerName: name})
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial("cache.one.example"); err != nil {
		t.Fatal(err)
	}
	if err := dial("cache.two.example"); err == nil {
		t.Fatal("handshake for a name the certificate lacks")
	}
	if changed, err := r.Check(); changed || err != nil {
		t.Fatalf("check without a change: %v %v", changed, err)
	}

	// Renew the files in place (a new certificate for another name): the
	// next check picks them up and new handshakes get the new certificate.
	if _, err := tlsx.Dev(dir, []string{"two.example"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	// Same size and a coarse mtime could hide a change: make the stamp differ.
	future := time.Now().Add(time.Minute)
	os.Chtimes(f.Cert, future, future)
	if changed, err := r.Check(); !changed || err != nil {
		t.Fatalf("check after renewal: %v %v", changed, err)
	}
	if err := dial("cache.two.example"); err != nil {
		t.Fatal(err)
	}

	// A broken file is refused and the current certificate stays.
	if err := os.WriteFile(f.Cert, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(); err == nil {
		t.Fatal("reload of a broken certificate succeeded")
	}
	if err := dial("cache.two.example"); err != nil {
		t.Fatalf("broken reload dropped the certificate: %v", err)
	}
	if _, err := tlsx.New(filepath.Join(dir, "missing.pem"), f.Key, quiet()); err == nil {
		t.Fatal("New with a missing file succeeded")
	}
}
