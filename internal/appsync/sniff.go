package appsync

import (
	"bufio"
	"crypto/tls"
	"net"
	"sync"
	"time"
)

// SniffTimeout bounds how long a new connection may take to send its first byte.
const SniffTimeout = 10 * time.Second

// SniffTLS serves TLS and plaintext on one listener: a connection whose first
// byte is a TLS handshake record (0x16) is wrapped in tls.Server, any other is
// served as is. Amplify v6 always dials wss:// even for an http:// endpoint,
// while its queries and the Apollo link use plain http://, so both must work
// on the same port. With cfg nil every connection is plaintext.
//
// Accept never blocks on a slow client: each connection is classified in its
// own goroutine, at most SniffTimeout long.
func SniffTLS(l net.Listener, cfg *tls.Config) net.Listener {
	if cfg == nil {
		return l
	}
	cfg = cfg.Clone()
	// WebSocket upgrades need HTTP/1.1.
	cfg.NextProtos = []string{"http/1.1"}
	s := &sniffListener{Listener: l, cfg: cfg, conns: make(chan net.Conn), done: make(chan struct{})}
	go s.loop()
	return s
}

type sniffListener struct {
	net.Listener
	cfg   *tls.Config
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	err   error // set before done is closed
}

func (s *sniffListener) loop() {
	for {
		c, err := s.Listener.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			s.once.Do(func() {
				s.err = err
				close(s.done)
			})
			return
		}
		go s.classify(c)
	}
}

func (s *sniffListener) classify(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(SniffTimeout))
	br := bufio.NewReaderSize(c, 16)
	first, err := br.Peek(1)
	_ = c.SetReadDeadline(time.Time{})
	if err != nil {
		_ = c.Close()
		return
	}
	var out net.Conn = &peekedConn{Conn: c, r: br}
	if first[0] == 0x16 {
		out = tls.Server(out, s.cfg)
	}
	select {
	case s.conns <- out:
	case <-s.done:
		_ = out.Close()
	}
}

func (s *sniffListener) Accept() (net.Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case <-s.done:
		return nil, s.err
	}
}

func (s *sniffListener) Close() error {
	err := s.Listener.Close()
	s.once.Do(func() {
		s.err = net.ErrClosed
		close(s.done)
	})
	return err
}

// peekedConn replays the peeked byte before reading from the socket.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) {
	if c.r != nil {
		if c.r.Buffered() > 0 {
			return c.r.Read(p)
		}
		c.r = nil // drop the buffer once drained
	}
	return c.Conn.Read(p)
}
