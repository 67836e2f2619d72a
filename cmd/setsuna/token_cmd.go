package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/setsuna-io/setsuna/internal/auth"
)

const tokenUsage = `Usage: setsuna token <command> [flags]

Offline key management: these commands read the keyring in --data-dir (the
same directory as 'setsuna serve --auth --data-dir'); no server is needed.

Commands:
  issue --super-user [--expires 24h|never]   mint a key and print it (v1 format, for the SDKs)
  issue --all-data [--expires 24h|never]     mint an AllDataReadWrite key (no cache management)
  issue ... --v2                             mint a v2 API key instead (for MOMENTO_API_KEY with
                                             MOMENTO_ENDPOINT, CredentialProvider.fromEnvVarV2)
  issue ... --init                           create the keyring if --data-dir has none (without it,
                                             a mistyped --data-dir is an error, not a new keyring)
  revoke <id>                                revoke a key by its token id or its jti, and the keys
                                             refreshed from it; a running server refuses them within
                                             a second, streams included. Keys minted later with the
                                             same token id are not revoked
  rotate-key                                 add a new active signing key (old keys keep verifying);
                                             a running server signs with it within a second
  remove-key <key id>                        drop an inactive signing key: its tokens stop working,
                                             on a running server within a second, streams included
  keys                                       list signing key ids

Flags:
  --data-dir DIR   defaults to $SETSUNA_DATA_DIR
  --endpoint ADDR  endpoint written into issued v1 keys (default 127.0.0.1:8080). The SDKs
                   dial cache.ADDR, control.ADDR and token.ADDR over TLS; a NAME without a
                   port means port 443 (see setsuna cert dev). v2 keys carry no endpoint:
                   the SDK reads it from MOMENTO_ENDPOINT.
  --token-id ID    token id to embed (issue; shown to subscribers as publisher_id)
`

func runTopLevelToken(args []string) int { return runToken(args, os.Stdout, os.Stderr) }

func runToken(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, tokenUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd := args[0]
	fs := flag.NewFlagSet("token "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dataDir := fs.String("data-dir", os.Getenv("SETSUNA_DATA_DIR"), "")
	endpoint := fs.String("endpoint", "127.0.0.1:8080", "")
	superUser := fs.Bool("super-user", false, "")
	allData := fs.Bool("all-data", false, "")
	expires := fs.String("expires", "24h", "")
	tokenID := fs.String("token-id", "", "")
	v2 := fs.Bool("v2", false, "")
	initKeys := fs.Bool("init", false, "")
	var pos []string
	rest := args[1:]
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			fmt.Fprintf(stderr, "setsuna token %s: %v\n", cmd, err)
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if *dataDir == "" {
		fmt.Fprintf(stderr, "setsuna token %s: --data-dir (or SETSUNA_DATA_DIR) is required\n", cmd)
		return 2
	}
	keys := filepath.Join(*dataDir, auth.KeyFileName)
	fail := func(err error) int {
		fmt.Fprintf(stderr, "setsuna token %s: %v\n", cmd, err)
		return 1
	}
	wantArgs := func(n int) bool {
		if len(pos) != n {
			fmt.Fprintf(stderr, "setsuna token %s: expected %d argument(s), got %d\n\n%s", cmd, n, len(pos), tokenUsage)
			return false
		}
		return true
	}
	switch cmd {
	case "issue":
		if !wantArgs(0) {
			return 2
		}
		req := auth.MintRequest{TokenID: *tokenID, V2: *v2}
		switch {
		case *superUser && !*allData:
			req.SuperUser = true
		case *allData && !*superUser:
			req.Perms = []auth.Permission{
				{Resource: auth.ResourceCache, Role: auth.RoleReadWrite},
				{Resource: auth.ResourceTopic, Role: auth.RoleReadWrite},
			}
		default:
			fmt.Fprintf(stderr, "setsuna token issue: give exactly one of --super-user or --all-data\n")
			return 2
		}
		if *expires != "never" {
			d, err := time.ParseDuration(*expires)
			if err != nil || d <= 0 {
				fmt.Fprintf(stderr, "setsuna token issue: invalid --expires %q: use a duration like 24h or 'never'\n", *expires)
				return 2
			}
			req.ValidFor = d
		}
		load := auth.LoadKeyring
		if *initKeys {
			load = auth.LoadOrCreateKeyring
		}
		kr, err := load(keys)
		if errors.Is(err, os.ErrNotExist) {
			return fail(fmt.Errorf("%s has no keyring (%s): start 'setsuna serve --auth --data-dir %s' once, or give --init to create one", *dataDir, auth.KeyFileName, *dataDir))
		}
		if err != nil {
			return fail(err)
		}
		m, err := auth.MintAPIKey(kr, *endpoint, req, time.Now())
		if err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout, m.APIKey)
		fmt.Fprintf(stderr, "issued key %s (jti) expiring %s\n", m.ID, expiryText(m.ValidUntil))
		if *v2 {
			fmt.Fprintf(stderr, "v2 key: export MOMENTO_API_KEY=<the key above> MOMENTO_ENDPOINT=%s\n", *endpoint)
		}
		return 0
	case "revoke":
		if !wantArgs(1) {
			return 2
		}
		if err := auth.Revoke(filepath.Join(*dataDir, auth.RevokedFileName), pos[0]); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stderr, "revoked %s\n", pos[0])
		return 0
	case "rotate-key":
		if !wantArgs(0) {
			return 2
		}
		id, err := auth.RotateKeys(keys)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%s\n", id)
		fmt.Fprintln(stderr, "new signing key is active (a running server picks it up within a second); older keys still verify")
		return 0
	case "remove-key":
		if !wantArgs(1) {
			return 2
		}
		if err := auth.RemoveKey(keys, pos[0]); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stderr, "removed key %s; a running server refuses its tokens within a second\n", pos[0])
		return 0
	case "keys":
		if !wantArgs(0) {
			return 2
		}
		kr, err := auth.LoadKeyring(keys)
		if err != nil {
			return fail(err)
		}
		ids, active := kr.KeyIDs()
		sort.Strings(ids)
		for _, id := range ids {
			mark := ""
			if id == active {
				mark = "\tactive"
			}
			fmt.Fprintf(stdout, "%s%s\n", id, mark)
		}
		return 0
	}
	fmt.Fprintf(stderr, "setsuna token: unknown command %q\n\n%s", cmd, tokenUsage)
	return 2
}

func expiryText(unix int64) string {
	if unix == 0 {
		return "never"
	}
	return time.Unix(unix, 0).UTC().Format(time.RFC3339)
}
