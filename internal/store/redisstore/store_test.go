package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/setsuna-io/setsuna/internal/redistest"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/storetest"
)

// dialOpts connects to c as a node does and returns the client (closed
// when t ends) and a Store on it.
func dialOpts(t testing.TB, c *redistest.Cluster, o Options) (redis.UniversalClient, *Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := Dial(ctx, ClientOptions{Addrs: c.Addrs()})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { rc.Close() })
	s, err := New(rc, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return rc, s
}

// newSuiteStore is the storetest constructor on cluster c.
func newSuiteStore(c *redistest.Cluster) storetest.NewStore {
	return func(t *testing.T, now func() time.Time) store.Store {
		_, s := dialOpts(t, c, Options{Now: now, SweepInterval: 100 * time.Millisecond})
		return s
	}
}

// testCluster is the package's shared cluster when TestMain has one, else
// a cluster of t's own. (redistest.Main returns the cluster only after
// m.Run, so the shared variable is nil while the tests run; each top-level
// test that needs a cluster then starts one.)
func testCluster(t testing.TB) *redistest.Cluster {
	t.Helper()
	if cluster != nil {
		return cluster
	}
	return redistest.Start(t, redistest.Options{Primaries: 3, Replicas: 1})
}

func TestSuite(t *testing.T) {
	storetest.Run(t, newSuiteStore(testCluster(t)))
}

func TestSuiteStandalone(t *testing.T) {
	single := redistest.Start(t, redistest.Options{})
	storetest.Run(t, newSuiteStore(single))
}
