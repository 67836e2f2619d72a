package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	f := func(in string, want int64) {
		t.Helper()
		got, err := parseSize(in)
		if err != nil {
			t.Fatalf("parseSize(%q): %v", in, err)
		}
		if got != want {
			t.Fatalf("parseSize(%q) = %d, want %d", in, got, want)
		}
	}
	f("0", 0)
	f("1048576", 1<<20)
	f("512MiB", 512<<20)
	f("2GB", 2e9)
	f("1.5 GiB", 3<<29)
	f("64k", 64<<10)
	f("10b", 10)

	bad := func(in string) {
		t.Helper()
		if _, err := parseSize(in); err == nil {
			t.Fatalf("parseSize(%q) succeeded, want an error", in)
		}
	}
	bad("")
	bad("-1")
	bad("MiB")
	bad("12XB")
	bad("NaN")
	bad("1e30TiB")
}

func TestLoadServeConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "setsuna.json")
	if err := os.WriteFile(file, []byte(`{"listen": "127.0.0.1:1111", "max-memory": "1GiB", "partitions": 8, "log-level": "debug"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f := func(args []string, env map[string]string, wantListen string, wantMem int64, wantParts int) {
		t.Helper()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		cfg := serveFlags(fs).cfg
		lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
		if err := loadServeConfig(fs, args, lookup); err != nil {
			t.Fatalf("loadServeConfig(%v, %v): %v", args, env, err)
		}
		if cfg.Listen != wantListen || cfg.MaxMemory != wantMem || cfg.Partitions != wantParts {
			t.Fatalf("got listen=%s mem=%d parts=%d, want %s %d %d", cfg.Listen, cfg.MaxMemory, cfg.Partitions, wantListen, wantMem, wantParts)
		}
	}
	f(nil, nil, "127.0.0.1:8080", 0, 0) // 0: the engine's default partitions
	f([]string{"--config", file}, nil, "127.0.0.1:1111", 1<<30, 8)
	f(nil, map[string]string{"SETSUNA_CONFIG": file, "SETSUNA_LISTEN": "127.0.0.1:2222"}, "127.0.0.1:2222", 1<<30, 8)
	f([]string{"--config=" + file, "--listen", "127.0.0.1:3333"}, map[string]string{"SETSUNA_LISTEN": "127.0.0.1:2222", "SETSUNA_MAX_MEMORY": "2MiB"}, "127.0.0.1:3333", 2<<20, 8)
}

// Integers of a million and more stay integers (a float64 decode would
// make "1e+06" of them, which no integer flag accepts).
func TestConfigFileLargeIntegers(t *testing.T) {
	file := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(file, []byte(`{"topic-replay-messages": 1000000, "max-memory": 3000000000, "shutdown-timeout": "90s"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg := serveFlags(fs).cfg
	if err := loadServeConfig(fs, []string{"--config", file}, func(string) (string, bool) { return "", false }); err != nil {
		t.Fatal(err)
	}
	if cfg.TopicReplayMessages != 1000000 || cfg.MaxMemory != 3000000000 || cfg.ShutdownTimeout != 90*time.Second {
		t.Fatalf("config = replay %d, max memory %d, shutdown %v", cfg.TopicReplayMessages, cfg.MaxMemory, cfg.ShutdownTimeout)
	}
}

func TestLoadServeConfigErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	f := func(args []string, env map[string]string, wantErr string) {
		t.Helper()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(&bytes.Buffer{})
		serveFlags(fs)
		lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
		err := loadServeConfig(fs, args, lookup)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("loadServeConfig(%v, %v) error = %v, want it to contain %q", args, env, err, wantErr)
		}
	}
	f([]string{"--config", filepath.Join(dir, "missing.json")}, nil, "cannot read config file")
	f([]string{"--config", write("bad.json", "{")}, nil, "cannot parse config file")
	f([]string{"--config", write("two.json", `{"listen": "127.0.0.1:1"} {}`)}, nil, "trailing data")
	f([]string{"--config", write("unknown.json", `{"lisen": "x"}`)}, nil, `unknown setting "lisen"`)
	f([]string{"--config", write("badsize.json", `{"max-memory": "lots"}`)}, nil, "invalid max-memory")
	f(nil, map[string]string{"SETSUNA_PARTITIONS": "many"}, "SETSUNA_PARTITIONS")
	f([]string{"--no-such-flag"}, nil, "no-such-flag")
	f([]string{"extra"}, nil, `unexpected argument "extra"`)
}

func TestServeRefusesOpenAddressWithoutAuth(t *testing.T) {
	var stderr bytes.Buffer
	code := serve([]string{"--listen", "0.0.0.0:0"}, &stderr, nil)
	if code != 2 || !strings.Contains(stderr.String(), "non-loopback") {
		t.Fatalf("serve on 0.0.0.0 = %d, stderr %q; want exit 2 naming non-loopback", code, stderr.String())
	}
}

func TestServeStartsAndStops(t *testing.T) {
	var stderr syncBuffer
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		done <- serve([]string{"--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--cosmos-listen", "off", "--log-format", "json"}, &stderr, stop)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "setsuna listening") {
		if time.Now().After(deadline) {
			t.Fatalf("server did not start; stderr: %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	if code := <-done; code != 0 {
		t.Fatalf("serve exit code %d; stderr: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), `"msg":"stopped"`) {
		t.Fatalf("no stop log in %s", stderr.String())
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "512MiB", "2GB", "1.5 GiB", "64k", "", "-1", "NaN", "1e30TiB", "9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSize(s)
		if err == nil && n < 0 {
			t.Fatalf("parseSize(%q) = %d, a negative size without an error", s, n)
		}
	})
}

func TestServeBadFlagIsOneLine(t *testing.T) {
	var stderr bytes.Buffer
	if code := serve([]string{"--max-connections", "abc"}, &stderr, nil); code != 2 {
		t.Fatalf("exit code %d, want 2", code)
	}
	out := stderr.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "-max-connections") || strings.Contains(out, "Usage:") {
		t.Fatalf("want one line naming the flag, got:\n%s", out)
	}
	stderr.Reset()
	if code := serve([]string{"-h"}, &stderr, nil); code != 0 || !strings.Contains(stderr.String(), "-max-connections") {
		t.Fatalf("-h: code %d, output:\n%s", code, stderr.String())
	}
}

// Every serve flag is in the README's configuration table.
func TestReadmeListsEveryServeFlag(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	serveFlags(fs)
	fs.VisitAll(func(f *flag.Flag) {
		if !bytes.Contains(readme, []byte("`--"+f.Name+"`")) {
			t.Errorf("README.md does not document --%s", f.Name)
		}
	})
}
