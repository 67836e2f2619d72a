package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCollectionCommands(t *testing.T) {
	addr := startCacheCLIServer(t)
	if code, _, stderr := cacheCLI("create", "--addr", addr, "c"); code != 0 {
		t.Fatalf("create cache: %d %s", code, stderr)
	}
	f := func(group, args string, wantCode int, wantOut string) {
		t.Helper()
		var out, errOut bytes.Buffer
		argv := append(strings.Fields(args), "--addr", addr)
		code := runCollectionIO(group, argv, &out, &errOut)
		if code != wantCode || out.String() != wantOut {
			t.Fatalf("setsuna %s %s = exit %d, stdout %q (stderr %q); want exit %d, stdout %q",
				group, args, code, out.String(), errOut.String(), wantCode, wantOut)
		}
	}
	f("dict", "set c user name mo", 0, "")
	f("dict", "set c user city kyoto", 0, "")
	f("dict", "get c user name", 0, "mo\n")
	f("dict", "get c user nope", 1, "")
	f("dict", "incr c user visits 3", 0, "3\n")
	f("dict", "len c user", 0, "3\n")
	f("dict", "incr c user name 1", 3, "") // not an integer: FAILED_PRECONDITION
	f("dict", "del c user city", 0, "")
	f("dict", "fetch c nobody", 1, "")

	f("list", "push c q a", 0, "1\n")
	f("list", "push c q b", 0, "2\n")
	f("list", "push c q z --front", 0, "3\n")
	f("list", "fetch c q", 0, "z\na\nb\n")
	f("list", "pop c q", 0, "b\n")
	f("list", "len c q", 0, "2\n")
	f("list", "pop c nolist", 1, "")

	f("set", "add c s x y x", 0, "")
	f("set", "len c s", 0, "2\n")
	f("set", "rm c s x", 0, "")
	f("set", "members c s", 0, "y\n")

	f("zset", "add c board 42 alice 7 bob", 0, "")
	f("zset", "range c board --desc", 0, "alice 42\nbob 7\n")
	f("zset", "rank c board bob", 0, "0\n")
	f("zset", "score c board alice", 0, "42\n")
	f("zset", "score c board carol", 1, "")
	f("zset", "incr c board bob 100", 0, "107\n")
	f("zset", "add c board notanumber alice", 2, "")

	// A collection command on an item of another kind is a server error, not a miss.
	f("list", "push c user x", 3, "")
	f("dict", "", 2, "")
}
