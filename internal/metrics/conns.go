package metrics

import (
	"net"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// CountConns wraps a listener so that its connections are counted in
// setsuna_connections_open and setsuna_connections_total{listener}.
func (m *Metrics) CountConns(listener string, l net.Listener) net.Listener {
	return &countingListener{Listener: l, open: m.conns.WithLabelValues(listener), total: m.connsTotal.WithLabelValues(listener)}
}

type countingListener struct {
	net.Listener
	open  prometheus.Gauge
	total prometheus.Counter
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.total.Inc()
	l.open.Inc()
	return &countedConn{Conn: c, open: l.open}, nil
}

type countedConn struct {
	net.Conn
	open   prometheus.Gauge
	closed atomic.Bool
}

func (c *countedConn) Close() error {
	if !c.closed.Swap(true) {
		c.open.Dec()
	}
	return c.Conn.Close()
}
