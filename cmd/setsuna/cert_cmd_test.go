package main

import (
	"bytes"
	"crypto/tls"
	"path/filepath"
	"strings"
	"testing"
)

func TestCertDev(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := runCert([]string{"dev", "--data-dir", dir, "--host", "setsuna.test"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"made a new CA", "api.cache.setsuna.test", "NODE_EXTRA_CA_CERTS=", "SSL_CERT_FILE=", "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=", "--tls-cert", "--endpoint setsuna.test"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "tls", "server.pem"), filepath.Join(dir, "tls", "server-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := pair.Leaf.VerifyHostname("cache.setsuna.test"); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := runCert([]string{"dev", "--data-dir", dir}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "reused the CA") {
		t.Fatalf("second run: %d %s", code, out.String())
	}
	for _, args := range [][]string{{}, {"dev"}, {"nope"}, {"dev", "--data-dir", dir, "extra"}, {"dev", "--data-dir", dir, "--host", "bad name"}} {
		if code := runCert(args, &out, &errOut); code == 0 {
			t.Errorf("%v: exit 0", args)
		}
	}
}
