package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"github.com/setsuna-io/setsuna/client"
)

// "setsuna dict|list|set|zset": the common collection operations. Flags,
// environment and exit codes are those of "setsuna cache".

const collFlagsUsage = `
Flags may appear before or after the arguments; "--" ends the flags.
  --addr string       server address (default $SETSUNA_ADDR or 127.0.0.1:8080)
  --token string      token sent as authorization (default $SETSUNA_TOKEN)
  --timeout duration  deadline of the call (default 5s)
  --ttl duration      TTL of a collection a write creates (default 60s)
  --no-refresh        keep an existing collection's TTL on writes
  --front             list push/pop: at the front (default: the back)
  --truncate n        list push: keep at most n elements, dropping from the other end
  --desc              zset range/rank: descending order

Exit status: 0 ok, 1 miss, 2 usage or invalid argument, 3 server or connection error.
`

var collGroups = map[string]struct {
	usage string
	cmds  map[string]collCommand
}{
	"dict": {usage: `Usage: setsuna dict <command> [flags] [args]

Commands:
  set <cache> <dict> <field> <value> [<field> <value>...]   write fields
  get <cache> <dict> <field>        print a field's value (exit 1 on a miss)
  fetch <cache> <dict>              print field=value lines, sorted by field
  del <cache> <dict> <field>...     remove fields
  incr <cache> <dict> <field> [n]   add n (default 1) to a field and print it
  len <cache> <dict>                print the number of fields
`, cmds: map[string]collCommand{
		"set":   {args: "<cache> <dict> <field> <value> [<field> <value>...]", minArgs: 4, maxArgs: 1 << 20, run: dictSet},
		"get":   {args: "<cache> <dict> <field>", minArgs: 3, maxArgs: 3, run: dictGet},
		"fetch": {args: "<cache> <dict>", minArgs: 2, maxArgs: 2, run: dictFetch},
		"del":   {args: "<cache> <dict> <field>...", minArgs: 3, maxArgs: 1 << 20, run: dictDel},
		"incr":  {args: "<cache> <dict> <field> [n]", minArgs: 3, maxArgs: 4, run: dictIncr},
		"len":   {args: "<cache> <dict>", minArgs: 2, maxArgs: 2, run: dictLen},
	}},
	"list": {usage: `Usage: setsuna list <command> [flags] [args]

Commands:
  push <cache> <list> <value>...    append values (--front: prepend) and print the length
  pop <cache> <list>                remove and print the last (--front: first) value
  fetch <cache> <list> [start] [end]  print values start..end-1, one per line (negative: from the end)
  len <cache> <list>                print the length
`, cmds: map[string]collCommand{
		"push":  {args: "<cache> <list> <value>...", minArgs: 3, maxArgs: 1 << 20, run: listPush},
		"pop":   {args: "<cache> <list>", minArgs: 2, maxArgs: 2, run: listPop},
		"fetch": {args: "<cache> <list> [start] [end]", minArgs: 2, maxArgs: 4, run: listFetch},
		"len":   {args: "<cache> <list>", minArgs: 2, maxArgs: 2, run: listLen},
	}},
	"set": {usage: `Usage: setsuna set <command> [flags] [args]

Commands:
  add <cache> <set> <element>...        add elements
  rm <cache> <set> <element>...         remove elements
  members <cache> <set>                 print the elements, sorted, one per line
  contains <cache> <set> <element>      exit 0 if a member, 1 if not
  len <cache> <set>                     print the number of elements
`, cmds: map[string]collCommand{
		"add":      {args: "<cache> <set> <element>...", minArgs: 3, maxArgs: 1 << 20, run: setAdd},
		"rm":       {args: "<cache> <set> <element>...", minArgs: 3, maxArgs: 1 << 20, run: setRm},
		"members":  {args: "<cache> <set>", minArgs: 2, maxArgs: 2, run: setMembers},
		"contains": {args: "<cache> <set> <element>", minArgs: 3, maxArgs: 3, run: setContains},
		"len":      {args: "<cache> <set>", minArgs: 2, maxArgs: 2, run: setLen},
	}},
	"zset": {usage: `Usage: setsuna zset <command> [flags] [args]

Commands:
  add <cache> <zset> <score> <element> [<score> <element>...]   set scores
  range <cache> <zset> [start] [end]    print "element score" lines by rank (--desc)
  rank <cache> <zset> <element>         print the 0-based rank (--desc)
  score <cache> <zset> <element>        print the score (exit 1 on a miss)
  incr <cache> <zset> <element> <n>     add n to the score and print it
  rm <cache> <zset> <element>...        remove elements
  len <cache> <zset>                    print the number of elements
`, cmds: map[string]collCommand{
		"add":   {args: "<cache> <zset> <score> <element> [<score> <element>...]", minArgs: 4, maxArgs: 1 << 20, run: zsetAdd},
		"range": {args: "<cache> <zset> [start] [end]", minArgs: 2, maxArgs: 4, run: zsetRange},
		"rank":  {args: "<cache> <zset> <element>", minArgs: 3, maxArgs: 3, run: zsetRank},
		"score": {args: "<cache> <zset> <element>", minArgs: 3, maxArgs: 3, run: zsetScore},
		"incr":  {args: "<cache> <zset> <element> <n>", minArgs: 4, maxArgs: 4, run: zsetIncr},
		"rm":    {args: "<cache> <zset> <element>...", minArgs: 3, maxArgs: 1 << 20, run: zsetRm},
		"len":   {args: "<cache> <zset>", minArgs: 2, maxArgs: 2, run: zsetLen},
	}},
}

// collOpts are the collection flags of one invocation.
type collOpts struct {
	noRefresh bool
	front     bool
	desc      bool
	truncate  uint
}

// collCommand is one subcommand of a collection group.
type collCommand struct {
	args    string // positional synopsis
	minArgs int
	maxArgs int
	run     func(ctx context.Context, cc *collCall) int
}

// collCall is one parsed invocation: the cache call and the collection flags.
type collCall struct {
	*cacheCall
	collOpts
}

func runCollection(group string, args []string) int {
	return runCollectionIO(group, args, os.Stdout, os.Stderr)
}

func runCollectionIO(group string, args []string, stdout, stderr io.Writer) int {
	g := collGroups[group]
	usage := g.usage + collFlagsUsage
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "--help", "-help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	cmd, ok := g.cmds[name]
	if !ok {
		fmt.Fprintf(stderr, "setsuna: unknown %s command %q\n\n%s", group, name, usage)
		return exitUsage
	}
	fs := flag.NewFlagSet("setsuna "+group+" "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	conn := addConnFlags(fs, "deadline of the call")
	ttl := fs.Duration("ttl", client.DefaultTTL, "TTL of a collection a write creates")
	var o collOpts
	fs.BoolVar(&o.noRefresh, "no-refresh", false, "keep an existing collection's TTL")
	fs.BoolVar(&o.front, "front", false, "list push/pop at the front")
	fs.BoolVar(&o.desc, "desc", false, "descending order")
	fs.UintVar(&o.truncate, "truncate", 0, "list push: keep at most n elements")
	pos, err := parseInterspersed(fs, args[1:])
	if err == flag.ErrHelp {
		fmt.Fprintf(stdout, "Usage: setsuna %s %s [flags] %s\n%s", group, name, cmd.args, collFlagsUsage)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "setsuna: %v\n", err)
		return exitUsage
	}
	if len(pos) < cmd.minArgs || len(pos) > cmd.maxArgs {
		fmt.Fprintf(stderr, "setsuna: %s %s takes arguments %s\n", group, name, cmd.args)
		return exitUsage
	}
	if *conn.timeout <= 0 || *ttl <= 0 {
		fmt.Fprintf(stderr, "setsuna: --timeout and --ttl must be positive\n")
		return exitUsage
	}
	c, err := dial(conn, client.NewCacheClient)
	if err != nil {
		fmt.Fprintf(stderr, "setsuna: cannot create client: %v\n", err)
		return exitUsage
	}
	defer c.Close()
	cc := &collCall{cacheCall: &cacheCall{client: c, addr: *conn.addr, args: pos, ttl: *ttl, stdout: stdout, stderr: stderr}, collOpts: o}
	return cmd.run(context.Background(), cc)
}

func (cc *collCall) collTTL() *client.CollectionTtl {
	return &client.CollectionTtl{Ttl: cc.ttl, RefreshTtl: !cc.noRefresh}
}

func (cc *collCall) usageErr(format string, args ...any) int {
	fmt.Fprintf(cc.stderr, "setsuna: "+format+"\n", args...)
	return exitUsage
}

func values(ss []string) []client.Value {
	out := make([]client.Value, len(ss))
	for i, s := range ss {
		out[i] = client.String(s)
	}
	return out
}

func optInt32(cc *collCall, s string) (*int32, bool) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		cc.usageErr("invalid index %q", s)
		return nil, false
	}
	v := int32(n)
	return &v, true
}

// ---- dict ----

func dictSet(ctx context.Context, cc *collCall) int {
	a := cc.args
	if len(a)%2 != 0 {
		return cc.usageErr("dict set takes field value pairs")
	}
	var els []client.DictionaryElement
	for i := 2; i < len(a); i += 2 {
		els = append(els, client.DictionaryElement{Field: client.String(a[i]), Value: client.String(a[i+1])})
	}
	_, err := cc.client.DictionarySetFields(ctx, &client.DictionarySetFieldsRequest{CacheName: a[0], DictionaryName: a[1], Elements: els, Ttl: cc.collTTL()})
	if err != nil {
		return cc.fail("set dictionary fields", a[0], err)
	}
	return exitOK
}

func dictGet(ctx context.Context, cc *collCall) int {
	a := cc.args
	resp, err := cc.client.DictionaryGetField(ctx, &client.DictionaryGetFieldRequest{CacheName: a[0], DictionaryName: a[1], Field: client.String(a[2])})
	if err != nil {
		return cc.fail("get dictionary field", a[0], err)
	}
	hit, ok := resp.(*client.DictionaryGetFieldHit)
	if !ok {
		return exitMiss
	}
	fmt.Fprintln(cc.stdout, hit.ValueString())
	return exitOK
}

func dictFetch(ctx context.Context, cc *collCall) int {
	a := cc.args
	resp, err := cc.client.DictionaryFetch(ctx, &client.DictionaryFetchRequest{CacheName: a[0], DictionaryName: a[1]})
	if err != nil {
		return cc.fail("fetch dictionary", a[0], err)
	}
	hit, ok := resp.(*client.DictionaryFetchHit)
	if !ok {
		return exitMiss
	}
	m := hit.ValueMap()
	fields := make([]string, 0, len(m))
	for f := range m {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	for _, f := range fields {
		fmt.Fprintf(cc.stdout, "%s=%s\n", f, m[f])
	}
	return exitOK
}

func dictDel(ctx context.Context, cc *collCall) int {
	a := cc.args
	_, err := cc.client.DictionaryRemoveFields(ctx, &client.DictionaryRemoveFieldsRequest{CacheName: a[0], DictionaryName: a[1], Fields: values(a[2:])})
	if err != nil {
		return cc.fail("remove dictionary fields", a[0], err)
	}
	return exitOK
}

func dictIncr(ctx context.Context, cc *collCall) int {
	a := cc.args
	amount := int64(1)
	if len(a) == 4 {
		n, err := strconv.ParseInt(a[3], 10, 64)
		if err != nil {
			return cc.usageErr("invalid amount %q: want a 64-bit integer", a[3])
		}
		amount = n
	}
	resp, err := cc.client.DictionaryIncrement(ctx, &client.DictionaryIncrementRequest{CacheName: a[0], DictionaryName: a[1], Field: client.String(a[2]), Amount: amount, Ttl: cc.collTTL()})
	if err != nil {
		return cc.fail("increment dictionary field", a[0], err)
	}
	fmt.Fprintln(cc.stdout, resp.(*client.DictionaryIncrementSuccess).Value())
	return exitOK
}

func printLength(cc *collCall, resp client.LengthResponse) int {
	hit, ok := resp.(*client.LengthHit)
	if !ok {
		fmt.Fprintln(cc.stdout, 0)
		return exitMiss
	}
	fmt.Fprintln(cc.stdout, hit.Length())
	return exitOK
}

func dictLen(ctx context.Context, cc *collCall) int {
	resp, err := cc.client.DictionaryLength(ctx, &client.DictionaryLengthRequest{CacheName: cc.args[0], DictionaryName: cc.args[1]})
	if err != nil {
		return cc.fail("count dictionary fields", cc.args[0], err)
	}
	return printLength(cc, resp)
}

// ---- list ----

func listPush(ctx context.Context, cc *collCall) int {
	a, o := cc.args, cc.collOpts
	req := &client.ListPushRequest{CacheName: a[0], ListName: a[1], Values: values(a[2:]), TruncateToSize: uint32(min(o.truncate, 1<<32-1)), Ttl: cc.collTTL()}
	push := cc.client.ListConcatenateBack
	if o.front {
		push = cc.client.ListConcatenateFront
	}
	resp, err := push(ctx, req)
	if err != nil {
		return cc.fail("push to list", a[0], err)
	}
	fmt.Fprintln(cc.stdout, resp.(*client.ListPushSuccess).ListLength())
	return exitOK
}

func listPop(ctx context.Context, cc *collCall) int {
	a := cc.args
	pop := cc.client.ListPopBack
	if cc.front {
		pop = cc.client.ListPopFront
	}
	resp, err := pop(ctx, &client.ListPopRequest{CacheName: a[0], ListName: a[1]})
	if err != nil {
		return cc.fail("pop from list", a[0], err)
	}
	hit, ok := resp.(*client.ListPopHit)
	if !ok {
		return exitMiss
	}
	fmt.Fprintln(cc.stdout, hit.ValueString())
	return exitOK
}

func listFetch(ctx context.Context, cc *collCall) int {
	a := cc.args
	req := &client.ListFetchRequest{CacheName: a[0], ListName: a[1]}
	var ok bool
	if len(a) > 2 {
		if req.StartIndex, ok = optInt32(cc, a[2]); !ok {
			return exitUsage
		}
	}
	if len(a) > 3 {
		if req.EndIndex, ok = optInt32(cc, a[3]); !ok {
			return exitUsage
		}
	}
	resp, err := cc.client.ListFetch(ctx, req)
	if err != nil {
		return cc.fail("fetch list", a[0], err)
	}
	hit, ok := resp.(*client.ListFetchHit)
	if !ok {
		return exitMiss
	}
	for _, v := range hit.ValueList() {
		fmt.Fprintln(cc.stdout, v)
	}
	return exitOK
}

func listLen(ctx context.Context, cc *collCall) int {
	resp, err := cc.client.ListLength(ctx, &client.ListLengthRequest{CacheName: cc.args[0], ListName: cc.args[1]})
	if err != nil {
		return cc.fail("count list elements", cc.args[0], err)
	}
	return printLength(cc, resp)
}

// ---- set ----

func setAdd(ctx context.Context, cc *collCall) int {
	a := cc.args
	_, err := cc.client.SetAddElements(ctx, &client.SetAddElementsRequest{CacheName: a[0], SetName: a[1], Elements: values(a[2:]), Ttl: cc.collTTL()})
	if err != nil {
		return cc.fail("add set elements", a[0], err)
	}
	return exitOK
}

func setRm(ctx context.Context, cc *collCall) int {
	a := cc.args
	_, err := cc.client.SetRemoveElements(ctx, &client.SetRemoveElementsRequest{CacheName: a[0], SetName: a[1], Elements: values(a[2:])})
	if err != nil {
		return cc.fail("remove set elements", a[0], err)
	}
	return exitOK
}

func setMembers(ctx context.Context, cc *collCall) int {
	a := cc.args
	resp, err := cc.client.SetFetch(ctx, &client.SetFetchRequest{CacheName: a[0], SetName: a[1]})
	if err != nil {
		return cc.fail("fetch set", a[0], err)
	}
	hit, ok := resp.(*client.SetElementsHit)
	if !ok {
		return exitMiss
	}
	els := hit.ValueString()
	slices.Sort(els)
	for _, e := range els {
		fmt.Fprintln(cc.stdout, e)
	}
	return exitOK
}

func setContains(ctx context.Context, cc *collCall) int {
	a := cc.args
	resp, err := cc.client.SetContainsElements(ctx, &client.SetContainsElementsRequest{CacheName: a[0], SetName: a[1], Elements: values(a[2:3])})
	if err != nil {
		return cc.fail("test set membership", a[0], err)
	}
	if hit, ok := resp.(*client.SetContainsElementsHit); ok && hit.ContainsElements()[0] {
		fmt.Fprintln(cc.stdout, "true")
		return exitOK
	}
	fmt.Fprintln(cc.stdout, "false")
	return exitMiss
}

func setLen(ctx context.Context, cc *collCall) int {
	resp, err := cc.client.SetLength(ctx, &client.SetLengthRequest{CacheName: cc.args[0], SetName: cc.args[1]})
	if err != nil {
		return cc.fail("count set elements", cc.args[0], err)
	}
	return printLength(cc, resp)
}

// ---- zset ----

func formatScore(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func zsetAdd(ctx context.Context, cc *collCall) int {
	a := cc.args
	if len(a)%2 != 0 {
		return cc.usageErr("zset add takes score element pairs")
	}
	var els []client.SortedSetElement
	for i := 2; i < len(a); i += 2 {
		s, err := strconv.ParseFloat(a[i], 64)
		if err != nil {
			return cc.usageErr("invalid score %q", a[i])
		}
		els = append(els, client.SortedSetElement{Value: client.String(a[i+1]), Score: s})
	}
	_, err := cc.client.SortedSetPutElements(ctx, &client.SortedSetPutElementsRequest{CacheName: a[0], SetName: a[1], Elements: els, Ttl: cc.collTTL()})
	if err != nil {
		return cc.fail("add sorted set elements", a[0], err)
	}
	return exitOK
}

func (cc *collCall) order() client.SortedSetOrder {
	if cc.desc {
		return client.DESCENDING
	}
	return client.ASCENDING
}

func zsetRange(ctx context.Context, cc *collCall) int {
	a := cc.args
	req := &client.SortedSetFetchByRankRequest{CacheName: a[0], SetName: a[1], Order: cc.order()}
	var ok bool
	if len(a) > 2 {
		if req.StartRank, ok = optInt32(cc, a[2]); !ok {
			return exitUsage
		}
	}
	if len(a) > 3 {
		if req.EndRank, ok = optInt32(cc, a[3]); !ok {
			return exitUsage
		}
	}
	resp, err := cc.client.SortedSetFetchByRank(ctx, req)
	if err != nil {
		return cc.fail("fetch sorted set", a[0], err)
	}
	hit, ok := resp.(*client.SortedSetFetchHit)
	if !ok {
		return exitMiss
	}
	for _, e := range hit.Elements() {
		fmt.Fprintf(cc.stdout, "%s %s\n", e.Value, formatScore(e.Score))
	}
	return exitOK
}

func zsetRank(ctx context.Context, cc *collCall) int {
	a := cc.args
	resp, err := cc.client.SortedSetGetRank(ctx, &client.SortedSetGetRankRequest{CacheName: a[0], SetName: a[1], Value: client.String(a[2]), Order: cc.order()})
	if err != nil {
		return cc.fail("rank sorted set element", a[0], err)
	}
	hit, ok := resp.(*client.SortedSetGetRankHit)
	if !ok {
		return exitMiss
	}
	fmt.Fprintln(cc.stdout, hit.Rank())
	return exitOK
}

func zsetScore(ctx context.Context, cc *collCall) int {
	a := cc.args
	resp, err := cc.client.SortedSetGetScores(ctx, &client.SortedSetGetScoresRequest{CacheName: a[0], SetName: a[1], Values: values(a[2:3])})
	if err != nil {
		return cc.fail("score sorted set element", a[0], err)
	}
	if hit, ok := resp.(*client.SortedSetGetScoresHit); ok {
		if s, ok := hit.Responses()[0].(*client.SortedSetGetScoreHit); ok {
			fmt.Fprintln(cc.stdout, formatScore(s.Score()))
			return exitOK
		}
	}
	return exitMiss
}

func zsetIncr(ctx context.Context, cc *collCall) int {
	a := cc.args
	n, err := strconv.ParseFloat(a[3], 64)
	if err != nil {
		return cc.usageErr("invalid amount %q", a[3])
	}
	resp, err := cc.client.SortedSetIncrementScore(ctx, &client.SortedSetIncrementScoreRequest{CacheName: a[0], SetName: a[1], Value: client.String(a[2]), Amount: n, Ttl: cc.collTTL()})
	if err != nil {
		return cc.fail("increment sorted set score", a[0], err)
	}
	fmt.Fprintln(cc.stdout, formatScore(resp.(*client.SortedSetIncrementScoreSuccess).Score()))
	return exitOK
}

func zsetRm(ctx context.Context, cc *collCall) int {
	a := cc.args
	_, err := cc.client.SortedSetRemoveElements(ctx, &client.SortedSetRemoveElementsRequest{CacheName: a[0], SetName: a[1], Values: values(a[2:])})
	if err != nil {
		return cc.fail("remove sorted set elements", a[0], err)
	}
	return exitOK
}

func zsetLen(ctx context.Context, cc *collCall) int {
	resp, err := cc.client.SortedSetLength(ctx, &client.SortedSetLengthRequest{CacheName: cc.args[0], SetName: cc.args[1]})
	if err != nil {
		return cc.fail("count sorted set elements", cc.args[0], err)
	}
	return printLength(cc, resp)
}
