package appsync_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/setsuna-io/setsuna/internal/graphql"
)

// A reload serves the new schema to new operations, while a subscription
// opened before it keeps its own schema and still gets the events of the
// mutations the new schema runs.
func TestReload(t *testing.T) {
	e := newEnv(t, opts{})
	c := e.dialAppSync(t, testKey)
	c.handshake()
	c.start("old", testKey, `subscription { addedPost { id title } }`, nil)
	expect(t, "start_ack", c.next(), `{"id":"old","type":"start_ack"}`)

	const tagged = `mutation { addPost(id: "p1", author: "a", title: "hello", tags: ["x"]) { id title tags } }`
	status, _, body := e.post(t, testKey, tagged, nil)
	if !strings.Contains(body, "tags") || !strings.Contains(body, "errors") {
		t.Fatalf("before the reload, tags is unknown: %d %s", status, body)
	}

	sdl, err := os.ReadFile("testdata/blog.graphql")
	if err != nil {
		t.Fatal(err)
	}
	next := strings.Replace(string(sdl), "  version: Int!\n", "  version: Int!\n  tags: [String]\n", 1)
	next = strings.Replace(next, "addPost(id: ID! author: String! title: String", "addPost(id: ID! author: String! tags: [String] title: String", 1)
	schema, err := graphql.LoadSchema("blog2.graphql", next)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.h.Reload(&graphql.Executor{Schema: schema}, nil); err != nil {
		t.Fatal(err)
	}
	c.start("new", testKey, `subscription { addedPost { id tags } }`, nil)
	expect(t, "start_ack", c.next(), `{"id":"new","type":"start_ack"}`)

	status, _, body = e.post(t, testKey, tagged, nil)
	expect(t, "mutation on the new schema", fmt.Sprint(status, " ", body), `200 {"data":{"addPost":{"id":"p1","title":"hello","tags":["x"]}}}`)
	got := []string{c.next(), c.next()} // one per subscription, in either order
	slices.Sort(got)
	expect(t, "new subscription", got[0], `{"type":"data","id":"new","payload":{"data":{"addedPost":{"id":"p1","tags":["x"]}}}}`)
	expect(t, "old subscription", got[1], `{"type":"data","id":"old","payload":{"data":{"addedPost":{"id":"p1","title":"hello"}}}}`)

	if err := e.h.Reload(nil, nil); err == nil {
		t.Fatal("a reload without a schema was accepted")
	}
}
