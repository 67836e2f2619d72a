package redisstore

import (
	"os"
	"testing"

	"github.com/setsuna-io/setsuna/internal/redistest"
)

// cluster is the package's Redis Cluster (3 primaries, 3 replicas), shared
// by the suites: they use unique cache names.
var cluster *redistest.Cluster

func TestMain(m *testing.M) {
	os.Exit(redistest.Main(m, redistest.Options{Primaries: 3, Replicas: 1}, &cluster))
}
