// Package pubsubproc holds the publish API's tests against servers running
// as separate processes: a server stopped with SIGSTOP (TIMEOUT, and an
// idempotent retry that lands once) and three servers of which the
// connected one is killed with SIGKILL mid-stream (failover).
package pubsubproc
