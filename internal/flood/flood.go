// Package flood opens half-sent gRPC calls over raw HTTP/2, for the abuse
// tests and benchmark.
package flood

import (
	"bytes"
	"fmt"
	"net"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Flooder speaks raw HTTP/2 to a gRPC listener: it opens calls that send
// their headers and one byte of a promised 100-byte message, and never more,
// as the attack of issue 11 did. Tests and the abuse benchmark use it.
type Flooder struct {
	Conn net.Conn
	fr   *http2.Framer
	hbuf bytes.Buffer
	henc *hpack.Encoder
	next uint32
}

// Dial connects to addr and sends the HTTP/2 preface.
func Dial(addr string) (*Flooder, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	f := &Flooder{Conn: c, fr: http2.NewFramer(c, c), next: 1}
	f.henc = hpack.NewEncoder(&f.hbuf)
	if _, err := c.Write([]byte(http2.ClientPreface)); err != nil {
		c.Close()
		return nil, err
	}
	if err := f.fr.WriteSettings(); err != nil {
		c.Close()
		return nil, err
	}
	return f, nil
}

// Close closes the connection.
func (f *Flooder) Close() error { return f.Conn.Close() }

// Open starts n half-sent calls of the method at path (e.g.
// "/cache_client.Scs/Set"), authorized by token when not empty.
func (f *Flooder) Open(n int, token, path string) error {
	for range n {
		f.hbuf.Reset()
		for _, h := range [][2]string{
			{":method", "POST"}, {":scheme", "http"}, {":path", path}, {":authority", "setsuna"},
			{"content-type", "application/grpc"}, {"te", "trailers"}, {"cache", "c"}, {"authorization", token},
		} {
			if err := f.henc.WriteField(hpack.HeaderField{Name: h[0], Value: h[1]}); err != nil {
				return err
			}
		}
		id := f.next
		f.next += 2
		if err := f.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: f.hbuf.Bytes(), EndHeaders: true}); err != nil {
			return err
		}
		// A gRPC message prefix promising 100 bytes, and the first of them.
		if err := f.fr.WriteData(id, false, []byte{0, 0, 0, 0, 100, 'x'}); err != nil {
			return err
		}
	}
	return nil
}

// Sync waits until the server has processed every frame sent so far (the
// ack of a PING sent after them), counting the streams it ended on the way:
// RST_STREAM, or a response that ends the stream.
func (f *Flooder) Sync() (ended int, err error) {
	if err := f.fr.WritePing(false, [8]byte{1}); err != nil {
		return 0, err
	}
	return f.read(func(fr http2.Frame, n int) bool {
		p, ok := fr.(*http2.PingFrame)
		return ok && p.IsAck() && p.Data == [8]byte{1}
	})
}

// WaitEnded reads the server's frames until n streams have ended.
func (f *Flooder) WaitEnded(n int) error {
	got, err := f.read(func(_ http2.Frame, ended int) bool { return ended >= n })
	if err != nil {
		return fmt.Errorf("%d of %d streams ended: %w", got, n, err)
	}
	return nil
}

// read reads frames, answering SETTINGS, until done says so (checked after
// each frame and before the first), within 30 s.
func (f *Flooder) read(done func(fr http2.Frame, ended int) bool) (int, error) {
	ended := map[uint32]bool{}
	if done(nil, 0) {
		return 0, nil
	}
	f.Conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	defer f.Conn.SetReadDeadline(time.Time{})
	for {
		fr, err := f.fr.ReadFrame()
		if err != nil {
			return len(ended), fmt.Errorf("reading the server's frames: %w", err)
		}
		switch fr := fr.(type) {
		case *http2.RSTStreamFrame:
			ended[fr.StreamID] = true
		case *http2.HeadersFrame:
			if fr.StreamEnded() {
				ended[fr.StreamID] = true
			}
		case *http2.DataFrame:
			if fr.StreamEnded() {
				ended[fr.StreamID] = true
			}
		case *http2.SettingsFrame:
			if !fr.IsAck() {
				_ = f.fr.WriteSettingsAck()
			}
		}
		if done(fr, len(ended)) {
			return len(ended), nil
		}
	}
}
