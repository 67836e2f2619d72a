package topics_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store/memstore"
	"github.com/setsuna-io/setsuna/internal/topics"
)

func newService(t *testing.T, maxPayload int) *topics.Service {
	t.Helper()
	log := memstore.NewTopicLog(memstore.TopicLogOptions{})
	epochs := func(_ context.Context, cache string) (uint64, error) {
		if cache == "c" {
			return 1, nil
		}
		return 0, errs.ErrCacheNotFound
	}
	hub := topics.NewHub(log, epochs, topics.HubOptions{})
	t.Cleanup(func() {
		hub.Close()
		log.Close()
	})
	return topics.NewService(hub, maxPayload, 0)
}

func as(tokenID string, perms ...auth.Permission) context.Context {
	return auth.NewContext(context.Background(), &auth.Principal{ID: "p", Kind: auth.KindAPIKey, TokenID: tokenID, Perms: perms})
}

var dev = auth.NewContext(context.Background(), auth.DevPrincipal)

func TestPublishLimits(t *testing.T) {
	svc := newService(t, 10)
	text := func(s string) topics.Value { return topics.Value{Data: []byte(s)} }
	cases := []struct {
		cache, topic string
		v            topics.Value
		want         error
	}{
		{"c", "t", topics.Value{}, errs.ErrEmptyPayload},
		{"c", "t", topics.Value{Data: []byte{}, Binary: true}, errs.ErrEmptyPayload},
		{"c", "t", text("12345678901"), errs.ErrPayloadTooLarge},
		{"c", "", text("x"), errs.ErrInvalidTopic},
		{"c", strings.Repeat("t", topics.MaxTopicNameLen+1), text("x"), errs.ErrInvalidTopic},
		{"c", "bad\xff", text("x"), errs.ErrInvalidTopic},
		{"c", "ctl\n", text("x"), errs.ErrInvalidTopic},
		{"bad name", "t", text("x"), errs.ErrInvalidName},
		{"missing", "t", text("x"), errs.ErrCacheNotFound},
		{"c", "t", text("1234567890"), nil},
		{"c", "ü-topic", text("x"), nil},
	}
	for _, c := range cases {
		_, _, err := svc.Publish(dev, c.cache, c.topic, c.v)
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("publish(%q, %q, %q) = %v, want %v", c.cache, c.topic, c.v.Data, err, c.want)
		}
	}
	_, _, err := svc.Publish(dev, "c", "t", text("12345678901"))
	if !strings.Contains(fmt.Sprint(err), "the limit is 10 bytes") {
		t.Errorf("payload error %q does not name the limit", err)
	}
	if l := svc.Limits(); l.MaxPayloadBytes != 10 || l.MaxSubscriptions != topics.DefaultMaxSubscriptionsPerCache {
		t.Errorf("limits %+v", l)
	}
}

func TestTopicAuthorization(t *testing.T) {
	svc := newService(t, 0)
	pub := as("sensor-7", auth.Permission{Resource: auth.ResourceTopic, Role: auth.RoleWriteOnly, Cache: "c", TopicPrefix: "in-"})
	sub := as("", auth.Permission{Resource: auth.ResourceTopic, Role: auth.RoleReadOnly, Cache: "c"})
	cacheOnly := as("", auth.Permission{Resource: auth.ResourceCache, Role: auth.RoleReadWrite})
	s, err := svc.Subscribe(sub, "c", "in-1", topics.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := svc.Publish(pub, "c", "in-1", topics.Value{Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what string
		err  error
	}{
		{"publish outside the prefix", func() error { _, _, err := svc.Publish(pub, "c", "out", topics.Value{Data: []byte("x")}); return err }()},
		{"publish with a subscribe-only key", func() error { _, _, err := svc.Publish(sub, "c", "in-1", topics.Value{Data: []byte("x")}); return err }()},
		{"subscribe with a publish-only key", func() error { _, err := svc.Subscribe(pub, "c", "in-1", topics.Position{}); return err }()},
		{"subscribe with a cache key", func() error { _, err := svc.Subscribe(cacheOnly, "c", "in-1", topics.Position{}); return err }()},
	} {
		if !errors.Is(c.err, errs.ErrPermissionDenied) {
			t.Errorf("%s: %v, want permission denied", c.what, c.err)
		}
	}
	// The publisher id is the publishing token's id.
	for {
		ready := s.Ready()
		evs, err := s.Poll(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) > 0 {
			if evs[0].Msg == nil || evs[0].Msg.PublisherID != "sensor-7" {
				t.Fatalf("event %+v, want a message from sensor-7", evs[0])
			}
			break
		}
		<-ready
	}
	if _, err := svc.Subscribe(context.Background(), "c", "t", topics.Position{}); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("subscribe without a caller: %v", err)
	}
}
