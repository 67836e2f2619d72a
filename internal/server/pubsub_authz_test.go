package server_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/testnode"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
	pspb "github.com/setsuna-io/setsuna/proto/pubsubpb"
)

// The publish API's permission matrix: every kind of principal publishing
// and subscribing on /c/t over setsuna.pubsub.v1. A refused publication is
// the DENIED status; a refused subscription ends with PERMISSION_DENIED or
// UNAUTHENTICATED.
func TestPubSubPermissionMatrix(t *testing.T) {
	for _, allow := range []string{"", "basic-token"} {
		n := testnode.Start(t, embed.Config{Auth: true, EntitlementAllowToken: allow})
		super := n.Mint(t, auth.MintRequest{SuperUser: true})
		conn := n.Dial(t)
		api := pspb.NewPubSubClient(conn)
		topic := func(role, cacheSel, name, prefix string) auth.Permission {
			return auth.Permission{Resource: auth.ResourceTopic, Role: role, Cache: cacheSel, Topic: name, TopicPrefix: prefix}
		}
		principals := []struct {
			name     string
			token    string
			pub, sub bool
		}{
			{"super user", super, true, true},
			{"all topics", n.Mint(t, auth.MintRequest{Perms: []auth.Permission{topic(auth.RoleReadWrite, "", "", "")}}), true, true},
			{"cache c read-write, no topics", n.Mint(t, auth.MintRequest{Perms: []auth.Permission{{Resource: auth.ResourceCache, Role: auth.RoleReadWrite, Cache: "c"}}}), false, false},
			{"topics subscribe-only", n.Mint(t, auth.MintRequest{Perms: []auth.Permission{topic(auth.RoleReadOnly, "", "", "")}}), false, true},
			{"topic t publish-only", n.Mint(t, auth.MintRequest{Perms: []auth.Permission{topic(auth.RoleWriteOnly, "c", "t", "")}}), true, false},
			{"topic prefix x in cache c", n.Mint(t, auth.MintRequest{Perms: []auth.Permission{topic(auth.RoleReadWrite, "c", "", "x")}}), false, false},
			{"topics of cache other", n.Mint(t, auth.MintRequest{Perms: []auth.Permission{topic(auth.RoleReadWrite, "other", "", "")}}), false, false},
			{"no token", "", false, false},
			{"forged token", "a.b.c", false, false},
		}
		if allow != "" {
			principals = append(principals, struct {
				name     string
				token    string
				pub, sub bool
			}{"the allow token", allow, true, true})
		}
		ctx := func(token string) (context.Context, context.CancelFunc) {
			c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			return metadata.AppendToOutgoingContext(c, "authorization", token, "cache", "c"), cancel
		}
		c, cancel := ctx(super)
		if _, err := pb.NewScsControlClient(conn).CreateCache(c, &pb.CreateCacheRequest{CacheName: "c"}); err != nil {
			t.Fatal(err)
		}
		cancel()
		for _, p := range principals {
			c, cancel := ctx(p.token)
			resp, err := api.Publish(c, &pspb.PublishRequest{Subject: "/c/t", Content: []byte("v"), Retained: true})
			if err != nil {
				t.Fatalf("%s: publish: %v", p.name, err)
			}
			denied := resp.Status == pspb.PublishStatus_PUBLISH_STATUS_DENIED
			if denied == p.pub || !denied && resp.Status != pspb.PublishStatus_PUBLISH_STATUS_OK {
				t.Errorf("allow token %q, %s publishing on /c/t: %v %s, want allowed=%v", allow, p.name, resp.Status, resp.Reason, p.pub)
			}
			stream, err := api.Subscribe(c, &pspb.SubscribeRequest{Subject: "/c/t"})
			if err == nil {
				_, err = stream.Recv()
			}
			code := status.Code(err)
			if sdenied := code == codes.PermissionDenied || code == codes.Unauthenticated; sdenied == p.sub || !sdenied && code != codes.OK {
				t.Errorf("allow token %q, %s subscribing to /c/t: %v, want allowed=%v", allow, p.name, err, p.sub)
			}
			cancel()
		}
	}
}
