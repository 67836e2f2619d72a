package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// unreachable is an engine whose servers do not answer.
type unreachable struct{ store.Store }

func (unreachable) Ping(context.Context) error { return errs.ErrUnavailable.Withf("no server answers") }

func TestReadyzReflectsTheEngine(t *testing.T) {
	s := &Server{store: unreachable{}}
	for _, c := range []struct {
		ready bool
		want  string
	}{{false, "starting or stopping"}, {true, "engine is unreachable"}} {
		s.ready.Store(c.ready)
		w := httptest.NewRecorder()
		s.readyz(w, httptest.NewRequest("GET", "/readyz", nil))
		if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), c.want) {
			t.Errorf("ready=%v: %d %q", c.ready, w.Code, w.Body.String())
		}
	}
}
