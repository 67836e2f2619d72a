// Package tlsx gives Setsuna's listeners (gRPC, HTTP, and later Cosmos and
// AppSync) their TLS: a certificate and key from PEM files, reloaded when
// the files change or on demand (SIGHUP), so that a renewed certificate
// takes effect without a restart and without dropping connections. A
// reload that fails keeps the certificate in use and is logged.
//
// It also makes development certificates: a local CA and a server
// certificate signed by it (see Dev).
package tlsx

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultPoll is how often a Reloader looks at its files.
const DefaultPoll = 2 * time.Second

// Reloader holds the current certificate of a certificate/key file pair.
type Reloader struct {
	certFile, keyFile string
	log               *slog.Logger

	cert atomic.Pointer[tls.Certificate]

	mu    sync.Mutex // serializes reloads; guards stamp
	stamp [2]fileStamp

	stop chan struct{}
	done chan struct{}
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// Options configure New.
type Options struct {
	Logger *slog.Logger
	// Poll is how often the files are checked for changes (0: DefaultPoll,
	// negative: never; Reload and Check still work).
	Poll time.Duration
}

// New loads the pair and starts watching it. Close stops the watcher.
func New(certFile, keyFile string, o Options) (*Reloader, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("tls: both a certificate and a key file are needed")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Poll == 0 {
		o.Poll = DefaultPoll
	}
	r := &Reloader{certFile: certFile, keyFile: keyFile, log: o.Logger, stop: make(chan struct{}), done: make(chan struct{})}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	if o.Poll > 0 {
		go r.watch(o.Poll)
	} else {
		close(r.done)
	}
	return r, nil
}

// Reload reads the files now. On error the previous certificate stays.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reloadLocked()
}

func (r *Reloader) reloadLocked() error {
	stamps, err := r.stamps()
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls: cannot load %s and %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert.Store(&cert)
	r.stamp = stamps
	if leaf := cert.Leaf; leaf != nil {
		r.log.Info("tls certificate loaded", "cert", r.certFile, "subject", leaf.Subject.String(),
			"dns", leaf.DNSNames, "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

func (r *Reloader) stamps() ([2]fileStamp, error) {
	var out [2]fileStamp
	for i, p := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(p)
		if err != nil {
			return out, fmt.Errorf("tls: %w", err)
		}
		out[i] = fileStamp{fi.ModTime(), fi.Size()}
	}
	return out, nil
}

// Check reloads the pair if either file changed since the last load, and
// reports whether it did. The watcher calls it; so may tests.
func (r *Reloader) Check() (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	stamps, err := r.stamps()
	if err != nil {
		return false, err
	}
	if stamps == r.stamp {
		return false, nil
	}
	if err := r.reloadLocked(); err != nil {
		// A renewal writes two files: a half-written pair fails until the
		// second lands. Remember nothing, so the next check tries again.
		return false, err
	}
	return true, nil
}

func (r *Reloader) watch(every time.Duration) {
	defer close(r.done)
	t := time.NewTicker(every)
	defer t.Stop()
	var lastErr string
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			_, err := r.Check()
			switch {
			case err != nil && err.Error() != lastErr:
				r.log.Warn("tls certificate reload failed; keeping the current one", "err", err)
				lastErr = err.Error()
			case err == nil:
				lastErr = ""
			}
		}
	}
}

// Certificate is the current certificate.
func (r *Reloader) Certificate() *tls.Certificate { return r.cert.Load() }

// ServerConfig returns a server configuration that always presents the
// current certificate; nextProtos are the ALPN protocols ("h2" for gRPC,
// "h2" and "http/1.1" for HTTP).
func (r *Reloader) ServerConfig(nextProtos ...string) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: nextProtos,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return r.cert.Load(), nil
		},
	}
}

// Close stops watching the files.
func (r *Reloader) Close() {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	<-r.done
}
