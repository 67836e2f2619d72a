package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// Limits of minted tokens.
const (
	MaxDisposableValidity = 25 * time.Hour // Momento's hard limit for disposable tokens
	MaxTokenIDLen         = 64
	defaultPollInterval   = 250 * time.Millisecond
)

// Config configures a Service.
type Config struct {
	Keyring *Keyring
	// KeyPath is the keyring's file, polled like the revocation list and
	// re-read on Reload, so that rotating or removing a key needs no
	// restart ("" = Keyring never changes).
	KeyPath     string
	RevokedPath string        // revocation list to poll ("" = none)
	Endpoint    string        // put into minted v1 keys; SDKs derive cache.<endpoint> etc. from it
	Poll        time.Duration // key file, revocation and shared poll interval (default 250ms)
	Now         func() time.Time
	Logger      *slog.Logger
	// Shared, when set, are the records of an engine that several nodes
	// serve (the Redis engine): the keyring and the revocation list then
	// live there too, so that every node verifies what any node mints and
	// enforces what any node revokes (shared.go). nil (the memory engine):
	// the files alone.
	Shared store.Records
}

// Service verifies and mints credentials.
type Service struct {
	keys     atomic.Pointer[Keyring]
	keySrc   *keySource // nil: the keyring is fixed
	endpoint string
	now      func() time.Time
	log      *slog.Logger
	revoked  *revocations
	revPath  string
	// refreshMu makes a refresh token's check and revocation one step, so
	// that of two concurrent refreshes with one token only one succeeds.
	refreshMu sync.Mutex
	ctx       context.Context // of the shared engine's calls; ends with Close
	cancel    context.CancelFunc
	stop      chan struct{}
	done      chan struct{}

	// verified remembers tokens whose signature checked out (an ed25519
	// verification costs more than a whole cache GET); expiry and
	// revocation are still checked on every use.
	vmu      sync.RWMutex
	verified map[string]*Principal
}

// maxVerified bounds the verified-token cache; past it, half is dropped.
const maxVerified = 4096

// New starts a Service; Close stops its revocation poller.
func New(cfg Config) *Service {
	if cfg.Keyring == nil {
		panic("BUG: auth.New without a keyring")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Poll <= 0 {
		cfg.Poll = defaultPollInterval
	}
	s := &Service{
		endpoint: cfg.Endpoint, now: cfg.Now, log: cfg.Logger, revPath: cfg.RevokedPath,
		stop: make(chan struct{}), done: make(chan struct{}),
		verified: map[string]*Principal{},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.keys.Store(cfg.Keyring)
	if cfg.KeyPath != "" || cfg.Shared != nil {
		s.keySrc = &keySource{path: cfg.KeyPath, shared: cfg.Shared, log: cfg.Logger}
	}
	s.revoked = newRevocations(s.ctx, cfg.RevokedPath, cfg.Shared, cfg.Logger, cfg.Now)
	if cfg.Shared != nil {
		// Before the first call: a node verifies the shared keys from the
		// start. If the engine cannot be read, the poller keeps trying.
		_ = s.reloadKeys(false)
	}
	go s.poll(cfg.Poll)
	return s
}

// Close stops the poller.
func (s *Service) Close() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
		s.cancel()
	}
	<-s.done
}

func (s *Service) poll(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			_ = s.reloadKeys(false) // logged there
			s.revoked.reload()
		}
	}
}

// Reload re-reads the keyring and the revocation list now (SIGHUP). It
// returns why the keyring did not load; the current one then stays.
func (s *Service) Reload() error {
	err := s.reloadKeys(true)
	s.revoked.reload()
	return err
}

// keyring is the current keyring.
func (s *Service) keyring() *Keyring { return s.keys.Load() }

// unwrap accepts a raw JWT or a v1 key (base64 JSON {"api_key","endpoint"}).
func unwrap(token string) string {
	token = strings.TrimSpace(token)
	if strings.Count(token, ".") == 2 || len(token) > 2*maxTokenLen {
		return token
	}
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return token
	}
	var v1 struct {
		APIKey string `json:"api_key"`
	}
	if json.Unmarshal(raw, &v1) != nil || v1.APIKey == "" {
		return token
	}
	return v1.APIKey
}

// parse verifies signature and expiry of a token of one of kinds.
func (s *Service) parse(token string, kinds ...string) (*Claims, error) {
	c, err := s.parseSigned(token, kinds...)
	if err != nil {
		return nil, err
	}
	if c.expired(s.now()) {
		return nil, errs.ErrUnauthenticated.Withf("token expired")
	}
	return c, nil
}

// parseSigned verifies the signature and kind of a token, not its expiry.
func (s *Service) parseSigned(token string, kinds ...string) (*Claims, error) {
	if token == "" {
		return nil, errs.ErrUnauthenticated.Withf("missing auth token")
	}
	c, err := parseJWT(unwrap(token), s.keyring().publicKey)
	if err != nil {
		return nil, errs.ErrUnauthenticated.Withf("%v", err)
	}
	kindOK := false
	for _, k := range kinds {
		kindOK = kindOK || c.Kind == k
	}
	if !kindOK {
		return nil, errs.ErrUnauthenticated.Withf("a %s token cannot be used here", c.Kind)
	}
	return c, nil
}

func (c *Claims) expired(now time.Time) bool { return c.ExpiresAt != 0 && now.Unix() >= c.ExpiresAt }

// Verify authenticates a caller's token (an API key or disposable token).
func (s *Service) Verify(token string) (*Principal, error) {
	s.vmu.RLock()
	p := s.verified[token]
	s.vmu.RUnlock()
	// A Verify racing a reload may have cached a token of a key that is gone.
	if p != nil && !s.keyring().has(p.kid) {
		p = nil
	}
	if p == nil {
		var err error
		if p, err = s.parse(token, KindAPIKey, KindDisposable); err != nil {
			return nil, err
		}
		s.remember(token, p)
	} else if p.ExpiresAt != 0 && s.now().Unix() >= p.ExpiresAt {
		return nil, errs.ErrUnauthenticated.Withf("token expired")
	}
	if s.revoked.revoked(p) {
		return nil, errs.ErrUnauthenticated.Withf("token revoked")
	}
	return p, nil
}

func (s *Service) remember(token string, p *Principal) {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	if len(s.verified) >= maxVerified {
		n := 0
		for k := range s.verified {
			if n++; n > maxVerified/2 {
				break
			}
			delete(s.verified, k)
		}
	}
	s.verified[token] = p
}

// forgetVerified empties the verified-token cache (the keyring changed).
func (s *Service) forgetVerified() {
	s.vmu.Lock()
	clear(s.verified)
	s.vmu.Unlock()
}

// Watch returns a context that is cancelled when p is revoked or expires,
// so long-lived streams end too. Call stop when the stream ends.
func (s *Service) Watch(ctx context.Context, p *Principal) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	unwatch := s.revoked.watch(p, cancel)
	stopTimer := func() bool { return true }
	if p.ExpiresAt != 0 {
		d := time.Unix(p.ExpiresAt, 0).Sub(s.now())
		t := time.AfterFunc(d, func() { cancel(errs.ErrUnauthenticated.Withf("token expired")) })
		stopTimer = t.Stop
	}
	return ctx, func() {
		unwatch()
		stopTimer()
		cancel(nil)
	}
}

// MintRequest describes a token to mint.
type MintRequest struct {
	SuperUser   bool
	Perms       []Permission
	ValidFor    time.Duration // 0: never expires (API keys only)
	TokenID     string
	Description string
	// V2 mints a v2 API key (see v2.go) instead of a v1 key.
	V2 bool

	// Set by a refresh: the key family's first key and when it was minted.
	root         string
	rootIssuedAt int64
}

// Minted is a freshly minted credential in the SDKs' v1 format.
type Minted struct {
	APIKey       string // base64 JSON {"api_key": <jwt>, "endpoint": ...}
	JWT          string // the inner token the SDKs send as authorization
	RefreshToken string // API keys only
	Endpoint     string
	ValidUntil   int64 // unix seconds; 0 = never
	ID           string
}

// GenerateAPIKey mints an API key for caller. Only a super-user key may mint,
// and nobody mints super-user keys over the wire.
func (s *Service) GenerateAPIKey(caller *Principal, req MintRequest) (Minted, error) {
	if err := s.checkMinter(caller, req); err != nil {
		return Minted{}, err
	}
	if req.ValidFor < 0 {
		return Minted{}, errs.ErrInvalidToken.Withf("expiry must be positive")
	}
	req.V2 = req.V2 || caller.IsV2()
	return s.mintAPIKey(req, s.now())
}

// GenerateDisposable mints a short-lived token; it must expire within 25 h.
func (s *Service) GenerateDisposable(caller *Principal, req MintRequest) (Minted, error) {
	if err := s.checkMinter(caller, req); err != nil {
		return Minted{}, err
	}
	if req.ValidFor <= 0 || req.ValidFor > MaxDisposableValidity {
		return Minted{}, errs.ErrInvalidToken.Withf("disposable tokens must expire within %v", MaxDisposableValidity)
	}
	now := s.now()
	c := &Claims{ID: newID(), Kind: KindDisposable, TokenID: req.TokenID, IssuedAt: now.Unix(),
		ExpiresAt: now.Add(req.ValidFor).Unix(), Perms: req.Perms}
	jwt, err := signJWT(s.keyring().active, c)
	if err != nil {
		return Minted{}, err
	}
	return Minted{APIKey: WrapV1(jwt, s.endpoint), JWT: jwt, Endpoint: s.endpoint, ValidUntil: c.ExpiresAt, ID: c.ID}, nil
}

func (s *Service) checkMinter(caller *Principal, req MintRequest) error {
	if !caller.SuperUser || caller.Kind != KindAPIKey {
		return errs.ErrPermissionDenied.Withf("only a super-user API key may create tokens")
	}
	if req.SuperUser {
		return errs.ErrPermissionDenied.Withf("super-user keys cannot be created over the API (use `setsuna token issue --super-user`)")
	}
	if len(req.TokenID) > MaxTokenIDLen {
		return errs.ErrInvalidToken.Withf("token id longer than %d characters", MaxTokenIDLen)
	}
	return ValidatePermissions(req.Perms)
}

// RefreshAPIKey swaps an unexpired API key and its refresh token for a new
// pair with the same permissions and the same validity period. A refresh
// token is good for one refresh: using it revokes it.
//
// A forged or revoked key is errs.ErrUnauthenticated; an expired key or
// refresh token, or one already used, is errs.ErrInvalidToken
// (INVALID_ARGUMENT), as Momento answers: the request names a pair that can
// no longer be refreshed.
func (s *Service) RefreshAPIKey(apiKey, refreshToken string) (Minted, error) {
	key, err := s.parseSigned(apiKey, KindAPIKey)
	if err != nil {
		return Minted{}, err
	}
	if s.revoked.revoked(key) {
		return Minted{}, errs.ErrUnauthenticated.Withf("token revoked")
	}
	rt, err := s.parseSigned(refreshToken, KindRefresh)
	if err != nil {
		return Minted{}, err
	}
	if rt.RefreshOf != key.ID {
		return Minted{}, errs.ErrUnauthenticated.Withf("refresh token belongs to another API key")
	}
	if key.expired(s.now()) || rt.expired(s.now()) {
		return Minted{}, errs.ErrInvalidToken.Withf("the API key or its refresh token has expired: it can no longer be refreshed")
	}
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	if s.revoked.revoked(rt) {
		return Minted{}, errRefreshUsed
	}
	// Used on another node since the last poll? (Narrows the window to the
	// engine's own latency; the records offer no compare-and-set.)
	if used, err := s.revoked.sharedRevoked(rt.ID); used || err != nil {
		if err != nil {
			s.log.Error("cannot check a refresh token with the shared engine; refused", "err", err)
			return Minted{}, errs.ErrUnavailable.Withf("cannot check the refresh token; try again")
		}
		return Minted{}, errRefreshUsed
	}
	// Fail closed: a use that cannot be recorded could be repeated.
	if err := s.revoked.add(Revocation{ID: rt.ID, Before: s.now().UTC(), Expires: rt.ExpiresAt}); err != nil {
		s.log.Error("cannot record the use of a refresh token; refused", "refresh_of", key.ID, "err", err)
		return Minted{}, errs.ErrUnavailable.Withf("cannot record the use of the refresh token; try again")
	}
	root, rootIAT := key.Root, key.RootIssuedAt
	if root == "" {
		root, rootIAT = key.ID, key.IssuedAt
	}
	return s.mintAPIKey(MintRequest{SuperUser: key.SuperUser, Perms: key.Perms, ValidFor: time.Duration(key.Lifetime) * time.Second,
		TokenID: key.TokenID, V2: key.IsV2(), root: root, rootIssuedAt: rootIAT}, s.now())
}

var errRefreshUsed = errs.ErrInvalidToken.Withf("the refresh token has already been used: it can no longer be refreshed")

// mintAPIKey signs an API key and its refresh token without checking who asks.
func (s *Service) mintAPIKey(req MintRequest, now time.Time) (Minted, error) {
	return MintAPIKey(s.keyring(), s.endpoint, req, now)
}

// MintAPIKey signs an API key with the keyring's active key. It checks
// nothing about a caller: the CLI uses it to bootstrap the first super user.
func MintAPIKey(kr *Keyring, endpoint string, req MintRequest, now time.Time) (Minted, error) {
	c := &Claims{ID: newID(), Kind: KindAPIKey, TokenID: req.TokenID, IssuedAt: now.Unix(),
		Lifetime: int64(req.ValidFor / time.Second), SuperUser: req.SuperUser, Perms: req.Perms,
		Root: req.root, RootIssuedAt: req.rootIssuedAt}
	if req.V2 {
		c.Type = TypeV2
	}
	if req.ValidFor > 0 {
		c.ExpiresAt = now.Add(req.ValidFor).Unix()
	}
	jwt, err := signJWT(kr.active, c)
	if err != nil {
		return Minted{}, err
	}
	rt, err := signJWT(kr.active, &Claims{ID: newID(), Kind: KindRefresh, IssuedAt: now.Unix(), ExpiresAt: c.ExpiresAt, RefreshOf: c.ID})
	if err != nil {
		return Minted{}, err
	}
	m := Minted{APIKey: WrapV1(jwt, endpoint), JWT: jwt, RefreshToken: rt, Endpoint: endpoint, ValidUntil: c.ExpiresAt, ID: c.ID}
	if req.V2 {
		m.APIKey = jwt // a v2 key is the bare JWT; the endpoint travels apart
	}
	return m, nil
}

// WrapV1 encodes a token as the SDKs' v1 key: base64 of {"api_key","endpoint"}.
func WrapV1(jwt, endpoint string) string {
	b, _ := json.Marshal(struct {
		Endpoint string `json:"endpoint"`
		APIKey   string `json:"api_key"`
	}{endpoint, jwt})
	return base64.StdEncoding.EncodeToString(b)
}

func newID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// RevokeToken adds a token id (its jti, or the token_id it was minted
// with) to the revocation list, as `setsuna token revoke` does, and applies
// it at once: later calls with that token fail and its open streams end.
// Only a super-user API key may revoke.
func (s *Service) RevokeToken(caller *Principal, id string) error {
	if caller == nil || !caller.SuperUser || caller.Kind != KindAPIKey {
		return errs.ErrPermissionDenied.Withf("only a super-user API key may revoke tokens")
	}
	id = strings.TrimSpace(id)
	if id == "" || len(id) > MaxTokenIDLen {
		return errs.ErrInvalidArgument.Withf("a token id must be 1-%d characters", MaxTokenIDLen)
	}
	if s.revPath == "" && s.revoked.shared == nil {
		return errs.ErrUnavailable.Withf("this server keeps no revocation list")
	}
	return s.revoked.add(Revocation{ID: id, Before: s.now().UTC()})
}
