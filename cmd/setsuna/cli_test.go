package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/server"
)

// startCacheCLIServer starts an in-process server for the CLI tests.
func startCacheCLIServer(t *testing.T) string {
	t.Helper()
	srv, err := server.New(server.Config{Listen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0", CosmosListen: "off", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
	})
	return srv.Addr()
}

// cacheCLI runs "setsuna cache <args>" and returns the exit status and
// output.
func cacheCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = runCacheIO(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// withAddr inserts --addr after the command name.
func withAddr(addr string, args ...string) []string {
	if len(args) == 0 {
		return []string{"--addr", addr}
	}
	return append([]string{args[0], "--addr", addr}, args[1:]...)
}

type cliStep struct {
	args     []string
	code     int
	stdout   string // exact, unless stdoutRE is set
	stdoutRE string
	stderrRE string // "" = stderr must be empty
}

func runSteps(t *testing.T, addr string, steps []cliStep) {
	t.Helper()
	for _, s := range steps {
		code, stdout, stderr := cacheCLI(withAddr(addr, s.args...)...)
		name := strings.Join(s.args, " ")
		if code != s.code {
			t.Errorf("%s: exit %d, want %d (stdout %q, stderr %q)", name, code, s.code, stdout, stderr)
		}
		if s.stdoutRE != "" {
			if !regexp.MustCompile(s.stdoutRE).MatchString(stdout) {
				t.Errorf("%s: stdout %q does not match %q", name, stdout, s.stdoutRE)
			}
		} else if stdout != s.stdout {
			t.Errorf("%s: stdout %q, want %q", name, stdout, s.stdout)
		}
		if s.stderrRE == "" && stderr != "" {
			t.Errorf("%s: unexpected stderr %q", name, stderr)
		}
		if s.stderrRE != "" && !regexp.MustCompile(s.stderrRE).MatchString(stderr) {
			t.Errorf("%s: stderr %q does not match %q", name, stderr, s.stderrRE)
		}
	}
}

func TestCacheCLI(t *testing.T) {
	addr := startCacheCLIServer(t)
	runSteps(t, addr, []cliStep{
		{args: []string{"create", "c1"}, code: 0},
		{args: []string{"create", "c1"}, code: 0, stderrRE: `^setsuna: cache already exists: c1\n$`},
		{args: []string{"create", "c2"}, code: 0},
		{args: []string{"list"}, code: 0, stdout: "c1\nc2\n"},

		{args: []string{"set", "c1", "k", "v a l"}, code: 0},
		{args: []string{"get", "c1", "k"}, code: 0, stdout: "v a l"},
		{args: []string{"get", "c1", "missing"}, code: 1, stderrRE: `^miss\n$`},
		{args: []string{"ttl", "c1", "k"}, code: 0, stdoutRE: `^(59\.\d+s|1m0s)\n$`},
		{args: []string{"ttl", "c1", "missing"}, code: 1, stderrRE: `^miss\n$`},

		// Flags after the positionals, before them, and with "=".
		{args: []string{"set", "c1", "k2", "v2", "--ttl", "30s"}, code: 0},
		{args: []string{"ttl", "c1", "k2"}, code: 0, stdoutRE: `^(29\.\d+s|30s)\n$`},
		{args: []string{"set", "--ttl=2h", "c1", "k3", "v3"}, code: 0},
		{args: []string{"ttl", "c1", "k3", "--timeout", "3s"}, code: 0, stdoutRE: `^(1h59m5\d\.\d+s|2h0m0s)\n$`},
		{args: []string{"get", "-timeout=3s", "c1", "k3"}, code: 0, stdout: "v3"},
		// "--" ends flags, so values may start with a dash.
		{args: []string{"set", "c1", "--", "dash", "--ttl"}, code: 0},
		{args: []string{"get", "c1", "dash"}, code: 0, stdout: "--ttl"},

		{args: []string{"incr", "c1", "n"}, code: 0, stdout: "1\n"},
		{args: []string{"incr", "c1", "n", "41"}, code: 0, stdout: "42\n"},
		{args: []string{"incr", "c1", "n", "-50"}, code: 0, stdout: "-8\n"},
		{args: []string{"incr", "c1", "n", "--", "-2"}, code: 0, stdout: "-10\n"},
		{args: []string{"get", "c1", "n"}, code: 0, stdout: "-10"},
		{args: []string{"incr", "c1", "k"}, code: 3,
			stderrRE: `^setsuna: cannot increment key: failed precondition: .*integer.*\n$`},

		{args: []string{"del", "c1", "k"}, code: 0},
		{args: []string{"get", "c1", "k"}, code: 1, stderrRE: `^miss\n$`},
		{args: []string{"del", "c1", "k"}, code: 0},

		{args: []string{"flush", "c1"}, code: 0},
		{args: []string{"get", "c1", "k2"}, code: 1, stderrRE: `^miss\n$`},

		{args: []string{"get", "nope", "k"}, code: 3, stderrRE: `^setsuna: cannot get key: cache not found: nope\n$`},
		{args: []string{"set", "nope", "k", "v"}, code: 3, stderrRE: `^setsuna: cannot set key: cache not found: nope\n$`},
		{args: []string{"flush", "nope"}, code: 3, stderrRE: `^setsuna: cannot flush cache: cache not found: nope\n$`},

		{args: []string{"delete", "c1"}, code: 0},
		{args: []string{"delete", "c1"}, code: 3, stderrRE: `^setsuna: cannot delete cache: cache not found: c1\n$`},
		{args: []string{"list"}, code: 0, stdout: "c2\n"},

		// Invalid arguments caught by the client or the server are usage errors.
		{args: []string{"get", "", "k"}, code: 2, stderrRE: `^setsuna: cannot get key: invalid argument: cache name cannot be empty`},
		{args: []string{"create", "a b"}, code: 2, stderrRE: `^setsuna: cannot create cache: invalid argument: .*a b`},
		{args: []string{"get", "c2", ""}, code: 2, stderrRE: `^setsuna: cannot get key: invalid argument: key cannot be empty\n$`},
	})
}

func TestCacheCLIUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		stdoutRE string
		stderrRE string
	}{
		{"no command", nil, 2, `^$`, `^Usage: setsuna cache <command>`},
		{"help", []string{"-h"}, 0, `^Usage: setsuna cache <command>(.|\n)*incr <cache> <key> \[amount\]`, `^$`},
		{"help word", []string{"help"}, 0, `^Usage: setsuna cache`, `^$`},
		{"command help", []string{"get", "-h"}, 0, `^Usage: setsuna cache get \[flags\] <cache> <key>\n(.|\n)*-addr`, `^$`},
		{"command help after args", []string{"set", "c", "k", "--help"}, 0, `^Usage: setsuna cache set (.|\n)*-ttl`, `^$`},
		{"unknown command", []string{"frob"}, 2, `^$`, `^setsuna: unknown cache command "frob"`},
		{"too few args", []string{"get", "c"}, 2, `^$`, `^setsuna: cache get takes arguments <cache> <key>\n`},
		{"too many args", []string{"del", "c", "k", "x"}, 2, `^$`, `^setsuna: cache del takes arguments`},
		{"list takes none", []string{"list", "x"}, 2, `^$`, `^setsuna: cache list takes no arguments`},
		{"unknown flag", []string{"get", "c", "k", "--bogus"}, 2, `^$`, `^setsuna: unknown flag --bogus\n`},
		{"ttl only for writes", []string{"get", "c", "k", "--ttl", "5s"}, 2, `^$`, `^setsuna: unknown flag --ttl\n`},
		{"flag without value", []string{"get", "c", "k", "--addr"}, 2, `^$`, `^setsuna: flag --addr needs a value\n`},
		{"bad duration", []string{"get", "c", "k", "--timeout", "soon"}, 2, `^$`, `^setsuna: invalid value "soon" for flag --timeout: want a duration`},
		{"zero timeout", []string{"get", "c", "k", "--timeout", "0s"}, 2, `^$`, `^setsuna: --timeout must be positive`},
		{"negative ttl", []string{"set", "c", "k", "v", "--ttl", "-1s"}, 2, `^$`, `^setsuna: --ttl must be positive`},
		{"bad amount", []string{"incr", "c", "k", "x"}, 2, `^$`, `^setsuna: amount must be a 64-bit integer, got "x"\n$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// No server runs: none of these may need one.
			code, stdout, stderr := cacheCLI(tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if !regexp.MustCompile(tt.stdoutRE).MatchString(stdout) {
				t.Errorf("stdout %q does not match %q", stdout, tt.stdoutRE)
			}
			if !regexp.MustCompile(tt.stderrRE).MatchString(stderr) {
				t.Errorf("stderr %q does not match %q", stderr, tt.stderrRE)
			}
		})
	}
}

func TestCacheCLIEnvironment(t *testing.T) {
	addr := startCacheCLIServer(t)
	t.Setenv(envAddr, addr)
	t.Setenv(envToken, "some-token")
	if code, _, stderr := cacheCLI("create", "envcache"); code != 0 {
		t.Fatalf("create with $%s: exit %d, %s", envAddr, code, stderr)
	}
	if code, stdout, _ := cacheCLI("list"); code != 0 || stdout != "envcache\n" {
		t.Fatalf("list with $%s: exit %d, %q", envAddr, code, stdout)
	}
	if _, stdout, _ := cacheCLI("get", "-h"); strings.Contains(stdout, "some-token") || !strings.Contains(stdout, addr) {
		t.Errorf("help must show $%s but not the token:\n%s", envAddr, stdout)
	}
	// --addr overrides the environment.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := lis.Addr().String()
	lis.Close()
	code, _, stderr := cacheCLI("list", "--addr", closed, "--timeout", "2s")
	if code != 3 || !strings.HasPrefix(stderr, "setsuna: cannot list caches: server unavailable at "+closed+": ") {
		t.Fatalf("list against a closed port: exit %d, stderr %q", code, stderr)
	}
}

func TestCacheCLIBinaryValue(t *testing.T) {
	addr := startCacheCLIServer(t)
	value := "tab\there\nnewline, ünïcödé, 🙂"
	runSteps(t, addr, []cliStep{
		{args: []string{"create", "b"}, code: 0},
		{args: []string{"set", "b", "key with spaces", value}, code: 0},
		{args: []string{"get", "b", "key with spaces"}, code: 0, stdout: value},
	})
}

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args    []string
		wantPos string
		wantErr string
	}{
		{[]string{"a", "--addr", "x:1", "b"}, "a b", ""},
		{[]string{"--addr=x:1", "a"}, "a", ""},
		{[]string{"a", "-5", "-1.5"}, "a -5 -1.5", ""},
		{[]string{"a", "--", "--addr", "-x"}, "a --addr -x", ""},
		{[]string{"-", "a"}, "- a", ""},
		{[]string{"--nope"}, "", "unknown flag --nope"},
		{[]string{"---addr", "x"}, "", "unknown flag ---addr"},
		{[]string{"--=x"}, "", "unknown flag --=x"},
		{[]string{"a", "--addr"}, "", "flag --addr needs a value"},
	}
	for _, tt := range tests {
		fs := newTestFlagSet()
		pos, err := parseInterspersed(fs, tt.args)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%q: err %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || strings.Join(pos, " ") != tt.wantPos {
			t.Errorf("%q: pos %q, err %v; want %q", tt.args, pos, err, tt.wantPos)
		}
	}
}

func newTestFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("addr", "", "")
	return fs
}
