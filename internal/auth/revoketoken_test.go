package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
)

func TestRevokeToken(t *testing.T) {
	s, kr, clk, _ := newTestService(t)
	super := superKey(t, kr, clk.get())
	caller, err := s.Verify(super.JWT)
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.GenerateAPIKey(caller, MintRequest{Perms: allData, ValidFor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Verify(key.JWT)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(p, super.ID); !errors.Is(err, errs.ErrPermissionDenied) {
		t.Fatalf("revoke by a non-super-user key: %v", err)
	}
	if err := s.RevokeToken(caller, " "); !errors.Is(err, errs.ErrInvalidArgument) {
		t.Fatalf("revoke of an empty id: %v", err)
	}
	ctx, stop := s.Watch(context.Background(), p)
	defer stop()
	if err := s.RevokeToken(caller, key.ID); err != nil {
		t.Fatal(err)
	}
	// At once: no poll needed.
	if _, err := s.Verify(key.JWT); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("revoked key still verifies: %v", err)
	}
	<-ctx.Done() // its open streams end
	if _, err := s.Verify(super.JWT); err != nil {
		t.Fatalf("the revoker's own key: %v", err)
	}
}
