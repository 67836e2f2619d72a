package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/setsuna-io/setsuna/internal/testnode"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testnode.CleanupBinary()
	os.Exit(code)
}

// SIGHUP reloads the GraphQL schema; a schema that does not load leaves the
// running one in place.
func TestSIGHUPReloadsGraphQLSchema(t *testing.T) {
	const v1 = `type Post { id: ID! title: String }
type Query { getPost(id: ID!): Post }
type Mutation { addPost(id: ID!, title: String): Post }
type Subscription { addedPost: Post @aws_subscribe(mutations: ["addPost"]) }
`
	v2 := strings.Replace(v1, "title: String }", "title: String tags: [String] }", 1)
	path := filepath.Join(t.TempDir(), "schema.graphql")
	write := func(sdl string) {
		if err := os.WriteFile(path, []byte(sdl), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(v1)
	p := testnode.StartProc(t, "--graphql-schema", path, "--graphql-listen", "127.0.0.1:0", "--graphql-api-key", "k")
	query := func(q string) string {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"query": q})
		req, _ := http.NewRequest(http.MethodPost, "http://"+p.GraphQLAddr+"/graphql", bytes.NewReader(body))
		req.Header.Set("x-api-key", "k")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	const tags = `mutation { addPost(id: "1", title: "t") { id tags } }`
	if got := query(tags); !strings.Contains(got, `"errors"`) {
		t.Fatalf("tags before any reload: %s", got)
	}

	write("type Query {") // does not parse
	p.Signal(syscall.SIGHUP)
	p.WaitLog(t, "reload", 1)
	if got, want := query(`mutation { addPost(id: "1", title: "t") { id title } }`), `{"data":{"addPost":{"id":"1","title":"t"}}}`; got != want {
		t.Fatalf("after a failed reload\n got %s\nwant %s", got, want)
	}

	write(v2)
	p.Signal(syscall.SIGHUP)
	p.WaitLog(t, "graphql schema reloaded", 1)
	if got, want := query(tags), `{"data":{"addPost":{"id":"1","tags":null}}}`; got != want {
		t.Fatalf("after the reload\n got %s\nwant %s", got, want)
	}
}
