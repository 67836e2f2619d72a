package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/setsuna-io/setsuna/internal/tlsx"
)

const certUsage = `Usage: setsuna cert dev --data-dir DIR [--host NAME]...

Makes a development CA (once; later runs reuse it) and a server certificate
signed by it in DIR/tls, for localhost, 127.0.0.1, ::1 and, for localhost and
each --host NAME, the names the Momento SDKs derive from an endpoint: NAME,
cache.NAME, control.NAME, token.NAME and api.cache.NAME. It prints how to
serve with it and how to make clients trust it.

Flags:
  --data-dir DIR   defaults to $SETSUNA_DATA_DIR
  --host NAME      an endpoint name or IP address to cover (repeatable)
`

type hostList []string

func (h *hostList) String() string     { return strings.Join(*h, ",") }
func (h *hostList) Set(v string) error { *h = append(*h, v); return nil }

func runTopLevelCert(args []string) int { return runCert(args, os.Stdout, os.Stderr) }

func runCert(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, certUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] != "dev" {
		fmt.Fprintf(stderr, "setsuna cert: unknown command %q\n\n%s", args[0], certUsage)
		return 2
	}
	fs := flag.NewFlagSet("cert dev", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dataDir := fs.String("data-dir", os.Getenv("SETSUNA_DATA_DIR"), "")
	var hosts hostList
	fs.Var(&hosts, "host", "")
	if err := fs.Parse(args[1:]); err != nil {
		fmt.Fprintf(stderr, "setsuna cert dev: %v\n\n%s", err, certUsage)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "setsuna cert dev: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *dataDir == "" {
		fmt.Fprintln(stderr, "setsuna cert dev: --data-dir (or SETSUNA_DATA_DIR) is required")
		return 2
	}
	f, err := tlsx.Dev(*dataDir, hosts, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "setsuna cert dev: %v\n", err)
		return 1
	}
	ca := "reused the CA"
	if f.NewCA {
		ca = "made a new CA"
	}
	endpoint := "localhost"
	if len(hosts) > 0 {
		endpoint = hosts[0]
	}
	fmt.Fprintf(stdout, `Development certificate written (%s).
  CA:          %s
  certificate: %s
  key:         %s
  names:       %s

Serve with it:
  setsuna serve --tls-cert %s --tls-key %s --endpoint %s ...

Trust the CA (its key stays in %s; never share it):
  Node (https, fetch):      export NODE_EXTRA_CA_CERTS=%s
  Node gRPC (@gomomento):   export GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=%s   (replaces grpc-js's default roots)
  Go, curl, OpenSSL:        export SSL_CERT_FILE=%s
  curl, once:               curl --cacert %s https://api.cache.%s/...
`, ca, f.CA, f.Cert, f.Key, strings.Join(f.Names, " "), f.Cert, f.Key, endpoint, f.CAKey, f.CA, f.CA, f.CA, f.CA, endpoint)
	return 0
}
