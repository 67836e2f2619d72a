package redistest

import (
	"strings"
	"testing"
	"time"
)

func TestClusterFailover(t *testing.T) {
	c := Start(t, Options{Primaries: 3, Replicas: 1})
	if len(c.Servers) != 6 {
		t.Fatalf("%d servers, want 6", len(c.Servers))
	}
	p, err := c.Primary("k")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := c.CLI("", "-c", "set", "k", "v"); err != nil || strings.TrimSpace(out) != "OK" {
		t.Fatalf("set: %v %q", err, out)
	}
	p.Kill()
	if err := c.WaitHealthy(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	np, err := c.Primary("k")
	if err != nil || np == p {
		t.Fatalf("primary after failover: %v %v", np, err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
}

func TestStandalone(t *testing.T) {
	c := Start(t, Options{Password: "pw"})
	if out, err := c.CLI("", "ping"); err != nil || strings.TrimSpace(out) != "PONG" {
		t.Fatalf("ping: %v %q", err, out)
	}
}
