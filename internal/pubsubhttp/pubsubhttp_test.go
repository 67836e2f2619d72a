package pubsubhttp_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/setsuna-io/setsuna/client"
	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/pubsubhttp"
	"github.com/setsuna-io/setsuna/internal/testnode"
)

func start(t *testing.T, cfg embed.Config) string {
	t.Helper()
	n := testnode.Start(t, cfg)
	cc, err := client.NewCacheClient(client.Config{Address: n.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if _, err := cc.CreateCache(context.Background(), &client.CreateCacheRequest{CacheName: "sport"}); err != nil {
		t.Fatal(err)
	}
	return "http://" + n.HTTPAddr()
}

type answer struct {
	Status, Reason, Closure string
	Seq, Epoch              uint64
}

func post(t *testing.T, base, body string) (int, answer) {
	t.Helper()
	resp, err := http.Post(base+"/v1/publish", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, a
}

// sse reads one event stream.
type sse struct {
	resp *http.Response
	r    *bufio.Reader
}

type event struct {
	name, id string
	data     map[string]any
}

func subscribe(t *testing.T, base, subject, lastID string) (*sse, int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/subscribe?subject="+subject, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return &sse{resp: resp, r: bufio.NewReader(resp.Body)}, resp.StatusCode
}

func (s *sse) next(t *testing.T) event {
	t.Helper()
	var ev event
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && ev.name != "":
			return ev
		case strings.HasPrefix(line, "event: "):
			ev.name = line[7:]
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(line[6:]), &ev.data); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestPublishStatusesAndCodes(t *testing.T) {
	base := start(t, embed.Config{TopicMaxPayload: 8})
	f := func(body string, code int, status, reason string) {
		t.Helper()
		gotCode, a := post(t, base, body)
		if gotCode != code || a.Status != status || a.Reason != reason {
			t.Errorf("%s: %d %+v, want %d %s %s", body, gotCode, a, code, status, reason)
		}
	}
	f(`{"subject":"/sport/football","content":"x","closure":"c"}`, 200, "NO_SUBSCRIBER", "no_subscriber")
	f(`{"subject":"/sport","content":"x"}`, 400, "FAILED", "invalid_subject")
	f(`{"subject":"/sport/football","content":"123456789"}`, 429, "FAILED", "topic_payload_too_large")
	f(`{"subject":"/sport/football"}`, 400, "FAILED", "invalid_argument")
	f(`{"subject":"/sport/football","content":"x","content_base64":"eA=="}`, 400, "FAILED", "invalid_argument")
	f(`{"subject":"/sport/football","content_base64":"!"}`, 400, "FAILED", "invalid_argument")
	f(`not json`, 400, "FAILED", "invalid_argument")
	f(`{"subject":"/sport/football","content":"`+strings.Repeat("x", 1<<20)+`"}`, 429, "FAILED", "topic_payload_too_large")
	f(`{"subject":"/nocache/football","content":"x"}`, 404, "FAILED", "cache_not_found")
	f(`{"subject":"/sport/football","content":"x","retained":true}`, 200, "OK", "")
}

func TestSubscribeResumeWithLastEventID(t *testing.T) {
	base := start(t, embed.Config{})
	s, code := subscribe(t, base, "/sport/football", "")
	if code != 200 {
		t.Fatalf("subscribe: %d", code)
	}
	if ev := s.next(t); ev.name != "subscribed" || ev.data["in_sync"] != false {
		t.Fatalf("first event %+v", ev)
	}
	for _, v := range []string{"a", "b"} {
		if _, a := post(t, base, `{"subject":"/sport/football","content":"`+v+`"}`); a.Status != "OK" {
			t.Fatalf("publish %s: %+v", v, a)
		}
	}
	first, second := s.next(t), s.next(t)
	if first.name != "message" || first.data["content"] != "a" || second.data["content"] != "b" || first.id == "" {
		t.Fatalf("events %+v %+v", first, second)
	}
	// Reconnect with the id of the first: in sync, and only the second.
	r, _ := subscribe(t, base, "/sport/football", first.id)
	if ev := r.next(t); ev.name != "subscribed" || ev.data["resumed"] != true || ev.data["in_sync"] != true {
		t.Fatalf("resume %+v", ev)
	}
	if ev := r.next(t); ev.data["content"] != "b" || ev.id != second.id {
		t.Fatalf("resumed with %+v, want b", ev)
	}
	// An id of another epoch (another server's) resumes with a discontinuity.
	o, _ := subscribe(t, base, "/sport/football", "1-5")
	if ev := o.next(t); ev.name != "subscribed" || ev.data["in_sync"] != false {
		t.Fatalf("foreign resume %+v", ev)
	}
	if ev := o.next(t); ev.name != "discontinuity" || ev.data["last_seq"] != float64(5) {
		t.Fatalf("foreign resume then %+v", ev)
	}
	if _, code := subscribe(t, base, "/sport/football", "nonsense"); code != 400 {
		t.Fatalf("bad Last-Event-ID: %d", code)
	}
	if _, code := subscribe(t, base, "/sport", ""); code != 400 {
		t.Fatalf("bad subject: %d", code)
	}
}

func TestStreamsBounded(t *testing.T) {
	base := start(t, embed.Config{PublishMaxStreams: 1})
	s, code := subscribe(t, base, "/sport/football", "")
	if code != 200 {
		t.Fatal(code)
	}
	s.next(t)
	if _, code := subscribe(t, base, "/sport/football", ""); code != http.StatusTooManyRequests {
		t.Fatalf("second stream: %d, want 429", code)
	}
}

func TestParseEventID(t *testing.T) {
	if e, s, err := pubsubhttp.ParseEventID("17-3"); err != nil || e != 17 || s != 3 {
		t.Fatalf("17-3: %d %d %v", e, s, err)
	}
	for _, bad := range []string{"", "17", "a-3", "17-", "-3", "17-3-4"} {
		if _, _, err := pubsubhttp.ParseEventID(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
