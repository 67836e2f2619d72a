package redisstore

import (
	"os"
	"testing"

	"github.com/setsuna-io/setsuna/internal/redistest"
)

var cluster *redistest.Cluster

func TestMain(m *testing.M) {
	var code int
	cluster, code = redistest.Main(m, redistest.Options{Primaries: 3, Replicas: 1})
	os.Exit(code)
}
