package client

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"time"
)

// ReconnectPolicy is how a [PubSubClient] waits between reconnection
// attempts after it lost its server, as MigratoryData's clients do: a quick
// phase of QuickMaxRetries attempts, the n-th after
//
//	QuickInitialDelay×n − random(0, QuickInitialDelay)
//
// then a truncated exponential backoff, the m-th attempt after the quick
// phase after
//
//	min(BackoffMax, BackoffBase×2^(m−1)) − random(0, BackoffBase)
//
// The random part spreads out clients that lost the same server. Zero
// fields take the defaults (3, 5 s, 20 s, 360 s), so the first attempt
// comes within QuickInitialDelay of the loss.
type ReconnectPolicy struct {
	QuickMaxRetries   int
	QuickInitialDelay time.Duration
	BackoffBase       time.Duration
	BackoffMax        time.Duration
}

// Defaults of ReconnectPolicy.
const (
	DefaultQuickMaxRetries   = 3
	DefaultQuickInitialDelay = 5 * time.Second
	DefaultBackoffBase       = 20 * time.Second
	DefaultBackoffMax        = 360 * time.Second
)

func (p ReconnectPolicy) withDefaults() ReconnectPolicy {
	if p.QuickMaxRetries <= 0 {
		p.QuickMaxRetries = DefaultQuickMaxRetries
	}
	if p.QuickInitialDelay <= 0 {
		p.QuickInitialDelay = DefaultQuickInitialDelay
	}
	if p.BackoffBase <= 0 {
		p.BackoffBase = DefaultBackoffBase
	}
	if p.BackoffMax <= 0 {
		p.BackoffMax = DefaultBackoffMax
	}
	p.BackoffMax = max(p.BackoffMax, p.BackoffBase)
	return p
}

// Delay is the wait before reconnection attempt retry (1, 2, ...), with
// jitter r in [0, 1).
func (p ReconnectPolicy) Delay(retry int, r float64) time.Duration {
	p = p.withDefaults()
	retry = max(retry, 1)
	r = min(max(r, 0), 1)
	if retry <= p.QuickMaxRetries {
		return p.QuickInitialDelay*time.Duration(retry) - time.Duration(r*float64(p.QuickInitialDelay))
	}
	m := retry - p.QuickMaxRetries
	d := p.BackoffMax
	if m-1 < 30 {
		d = min(p.BackoffMax, p.BackoffBase<<(m-1))
	}
	return max(0, d-time.Duration(r*float64(p.BackoffBase)))
}

// serverEntry is one server of the list: "host:port", or "weight host:port"
// to weight the random choice among servers (default weight 100).
type serverEntry struct {
	addr   string
	weight int
}

const defaultWeight = 100

func parseServers(list []string) ([]serverEntry, error) {
	if len(list) == 0 {
		return nil, invalidArgument("the server list is empty")
	}
	out := make([]serverEntry, 0, len(list))
	for _, s := range list {
		e := serverEntry{weight: defaultWeight}
		fields := strings.Fields(s)
		switch len(fields) {
		case 1:
			e.addr = fields[0]
		case 2:
			w, err := strconv.Atoi(fields[0])
			if err != nil || w < 0 || w > 1000 {
				return nil, invalidArgument("server %q: the weight must be an integer 0-1000", s)
			}
			e.weight, e.addr = w, fields[1]
		default:
			return nil, invalidArgument("server %q: want \"host:port\" or \"weight host:port\"", s)
		}
		e.addr = strings.TrimPrefix(e.addr, "grpc://")
		if _, _, err := net.SplitHostPort(e.addr); err != nil {
			return nil, invalidArgument("server %q: %v", s, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// pickServer chooses a server at random by weight among those not in
// failed; when every server failed it chooses among all of them (a server
// of weight 0 only when nothing else is left).
func pickServer(list []serverEntry, failed map[string]bool, rnd *rand.Rand) (string, error) {
	for _, skipFailed := range []bool{true, false} {
		total := 0
		for _, e := range list {
			if !(skipFailed && failed[e.addr]) {
				total += e.weight
			}
		}
		if total == 0 {
			for _, e := range list {
				if !(skipFailed && failed[e.addr]) {
					return e.addr, nil
				}
			}
			continue
		}
		n := rnd.IntN(total)
		for _, e := range list {
			if skipFailed && failed[e.addr] {
				continue
			}
			if n < e.weight {
				return e.addr, nil
			}
			n -= e.weight
		}
	}
	return "", fmt.Errorf("no server")
}
