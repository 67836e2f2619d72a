package tlsx

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DevFiles are the files Dev writes, inside DIR/tls.
type DevFiles struct {
	CA, CAKey, Cert, Key string
	// Names are the DNS names and IP addresses the certificate covers.
	Names []string
	// NewCA says whether the CA was made now (else an existing one signed).
	NewCA bool
}

// Validity of development certificates.
const (
	devCAValidity   = 10 * 365 * 24 * time.Hour
	devCertValidity = 397 * 24 * time.Hour // what browsers and Apple accept
)

// SDKNames are the names the Momento SDKs derive from an endpoint NAME:
// NAME itself (the endpoint in keys), cache.NAME, control.NAME, token.NAME
// (gRPC) and api.cache.NAME (the HTTP API).
func SDKNames(name string) []string {
	return []string{name, "cache." + name, "control." + name, "token." + name, "api.cache." + name}
}

// Dev makes a development CA in dir/tls (once: an existing one is reused,
// so clients that trust it keep trusting it) and a new server certificate
// signed by it for localhost, 127.0.0.1, ::1 and SDKNames of localhost and
// of each host. A host that is an IP address is added as it is.
func Dev(dir string, hosts []string, now time.Time) (DevFiles, error) {
	tdir := filepath.Join(dir, "tls")
	f := DevFiles{
		CA: filepath.Join(tdir, "ca.pem"), CAKey: filepath.Join(tdir, "ca-key.pem"),
		Cert: filepath.Join(tdir, "server.pem"), Key: filepath.Join(tdir, "server-key.pem"),
	}
	if err := os.MkdirAll(tdir, 0o700); err != nil {
		return f, fmt.Errorf("cannot create %s: %w", tdir, err)
	}
	ca, caKey, err := loadCA(f.CA, f.CAKey)
	if errors.Is(err, os.ErrNotExist) {
		ca, caKey, err = newCA(f.CA, f.CAKey, now)
		f.NewCA = true
	}
	if err != nil {
		return f, err
	}

	var dns []string
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	add := func(name string) {
		if !slices.Contains(dns, name) {
			dns = append(dns, name)
		}
	}
	for _, n := range SDKNames("localhost") {
		add(n)
	}
	for _, h := range hosts {
		h = strings.TrimSpace(strings.ToLower(h))
		if h == "" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
			continue
		}
		if err := checkHost(h); err != nil {
			return f, err
		}
		for _, n := range SDKNames(h) {
			add(n)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return f, fmt.Errorf("cannot generate a key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"Setsuna development"}, CommonName: dns[len(dns)-1]},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(devCertValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     dns,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return f, fmt.Errorf("cannot sign the server certificate: %w", err)
	}
	if err := writePEM(f.Key, "EC PRIVATE KEY", mustMarshalEC(key), 0o600); err != nil {
		return f, err
	}
	if err := writePEM(f.Cert, "CERTIFICATE", der, 0o644); err != nil {
		return f, err
	}
	f.Names = dns
	for _, ip := range ips {
		f.Names = append(f.Names, ip.String())
	}
	return f, nil
}

// checkHost accepts DNS names of letters, digits, '-' and '.'.
func checkHost(h string) error {
	if len(h) > 253 {
		return fmt.Errorf("host name %q is too long", h)
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("invalid host name %q", h)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("invalid host name %q", h)
			}
		}
	}
	return nil
}

func newCA(certPath, keyPath string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot generate the CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"Setsuna development"}, CommonName: "Setsuna development CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(devCAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot make the CA certificate: %w", err)
	}
	if err := writePEM(keyPath, "EC PRIVATE KEY", mustMarshalEC(key), 0o600); err != nil {
		return nil, nil, err
	}
	if err := writePEM(certPath, "CERTIFICATE", der, 0o644); err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func loadCA(certPath, keyPath string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, err
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, fmt.Errorf("cannot read the development CA in %s: not PEM", filepath.Dir(certPath))
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the development CA %s: %w", certPath, err)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the development CA key %s: %w", keyPath, err)
	}
	return cert, key, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	return n
}

func mustMarshalEC(k *ecdsa.PrivateKey) []byte {
	b, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		panic("BUG: cannot marshal a P-256 key: " + err.Error())
	}
	return b
}

// writePEM writes atomically, so a server reloading the file never reads
// half of it.
func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(mode)
	if err == nil {
		err = pem.Encode(tmp, &pem.Block{Type: typ, Bytes: der})
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}
