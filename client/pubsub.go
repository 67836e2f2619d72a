package client

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/setsuna-io/setsuna/proto/pubsubpb"
)

// PublishStatus is the outcome of a publication: the strings of
// MigratoryData's NOTIFY_PUBLISH_* constants.
type PublishStatus string

const (
	PublishOK           PublishStatus = "NOTIFY_PUBLISH_OK"
	PublishFailed       PublishStatus = "NOTIFY_PUBLISH_FAILED"
	PublishDenied       PublishStatus = "NOTIFY_PUBLISH_DENIED"
	PublishNoSubscriber PublishStatus = "NOTIFY_PUBLISH_NO_SUBSCRIBER"
	// PublishTimeout: no answer within the publish timeout; the message may
	// or may not have been published. Publish it again with the same
	// IdempotencyKey to have it land once.
	PublishTimeout PublishStatus = "NOTIFY_PUBLISH_TIMEOUT"
)

// Notifications a [PubSubListener] receives besides the publish statuses,
// with MigratoryData's names. The info string is the server address
// (server up/down) or the subject (the others).
const (
	NotifyServerUp       = "NOTIFY_SERVER_UP"
	NotifyServerDown     = "NOTIFY_SERVER_DOWN"
	NotifySubscribeAllow = "NOTIFY_SUBSCRIBE_ALLOW"
	NotifySubscribeDeny  = "NOTIFY_SUBSCRIBE_DENY"
	// NotifyDataSync: a subject resumed on a (new) server with nothing lost.
	NotifyDataSync = "NOTIFY_DATA_SYNC"
	// NotifyDataResync: messages of the subject were lost (a failover to a
	// server without the subject's history, or a reader too slow); the
	// stream goes on from the server's current state, after its snapshot.
	NotifyDataResync = "NOTIFY_DATA_RESYNC"
)

// PubSubMessage is a message to publish, or one received.
type PubSubMessage struct {
	Subject string // /<cache>/<topic path>
	Content []byte
	Binary  bool // false: Content is UTF-8 text
	// Closure is echoed in the publication's result and status
	// notification.
	Closure string
	// Retained, to publish: keep the message as the subject's snapshot
	// (for RetainFor, 0: until replaced). Received: this is the snapshot,
	// delivered first after subscribing.
	Retained  bool
	RetainFor time.Duration
	// IdempotencyKey makes a publication retried within the server's dedup
	// window land once. Publish sets a random one when it is empty, and
	// uses it for its own retries across a failover.
	IdempotencyKey string

	// Received messages: where the message is in its subject (Epoch is the
	// topic's page) and who published it.
	Seq, Epoch  uint64
	PublisherID string
}

// PublishResult is the answer to a publication.
type PublishResult struct {
	Status PublishStatus
	// Reason is a stable identifier of why (every status but OK and
	// TIMEOUT), Message the server's words.
	Reason, Message string
	Closure         string
	Seq, Epoch      uint64
	// Duplicate: the idempotency key had been used within the window; this
	// is the first publication's place.
	Duplicate bool
}

// PubSubListener receives messages and notifications, one call at a time,
// in order, from one goroutine of the client. A listener that blocks holds
// the client's streams back (and the server eventually reports a
// discontinuity).
type PubSubListener interface {
	OnMessage(m *PubSubMessage)
	OnStatus(status, info string)
}

// ListenerFuncs adapts two functions to a PubSubListener; nil ones ignore.
type ListenerFuncs struct {
	Message func(m *PubSubMessage)
	Status  func(status, info string)
}

func (l ListenerFuncs) OnMessage(m *PubSubMessage) {
	if l.Message != nil {
		l.Message(m)
	}
}

func (l ListenerFuncs) OnStatus(status, info string) {
	if l.Status != nil {
		l.Status(status, info)
	}
}

// PubSubConfig configures a [PubSubClient]; zero fields take defaults.
type PubSubConfig struct {
	// Servers to connect to (see SetServers); the client connects once it
	// has them.
	Servers          []string
	EntitlementToken string
	Listener         PubSubListener
	Reconnect        ReconnectPolicy
	// PublishTimeout bounds a publication, retries across a failover
	// included (default 10 s); past it the status is PublishTimeout.
	PublishTimeout time.Duration
	// ConnectTimeout bounds one connection attempt (default 5 s).
	ConnectTimeout time.Duration
	// Liveness: a subscription silent this long (servers send heartbeats
	// every 5 s) means the server is down (default 15 s).
	Liveness    time.Duration
	TLS         bool
	TLSConfig   *tls.Config
	DialOptions []grpc.DialOption
}

// Defaults of PubSubConfig.
const (
	DefaultPublishTimeout = 10 * time.Second
	DefaultConnectTimeout = 5 * time.Second
	DefaultLiveness       = 15 * time.Second
	listenerQueue         = 1024
)

// PubSubClient is a client of Setsuna's publish API (setsuna.pubsub.v1) in
// the shape of MigratoryData's client: it connects to one server of a list
// and fails over to another with a reconnect policy, publishes with a
// status, and keeps its subscriptions across failovers, resuming each
// subject after the last message received (NotifyDataSync) or reporting
// that messages were lost (NotifyDataResync): never a silent gap. It is safe
// for concurrent use.
type PubSubClient struct {
	cfg    PubSubConfig
	policy ReconnectPolicy

	mu        sync.Mutex
	servers   []serverEntry
	token     string
	listener  PubSubListener
	subs      map[string]*subState
	sess      *session
	sessReady chan struct{} // closed when sess is set
	kick      chan struct{} // wakes the run loop (servers changed)
	started   bool
	closed    bool

	events chan func()
	stop   chan struct{}
	wg     sync.WaitGroup // run loop and dispatcher
	rnd    *mrand.Rand
}

// subState is one subscribed subject: where it stands and its stream.
type subState struct {
	epoch, seq uint64
	sess       *session // the session its stream runs on
	cancel     context.CancelFunc
}

type session struct {
	addr   string
	cc     *grpc.ClientConn
	api    pb.PubSubClient
	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup // its streams
	// detached is closed once the session is no longer the client's.
	detached chan struct{}
}

func (s *session) fail(err error) { s.cancel(err) }

// NewPubSubClient returns a client; it connects when it has servers (in
// cfg or with SetServers).
func NewPubSubClient(cfg PubSubConfig) (*PubSubClient, error) {
	if cfg.PublishTimeout <= 0 {
		cfg.PublishTimeout = DefaultPublishTimeout
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.Liveness <= 0 {
		cfg.Liveness = DefaultLiveness
	}
	if !printableASCII(cfg.EntitlementToken) {
		return nil, invalidArgument("the entitlement token must consist of printable ASCII characters")
	}
	c := &PubSubClient{
		cfg: cfg, policy: cfg.Reconnect.withDefaults(),
		token: cfg.EntitlementToken, listener: cfg.Listener,
		subs: map[string]*subState{}, sessReady: make(chan struct{}), kick: make(chan struct{}, 1),
		events: make(chan func(), listenerQueue), stop: make(chan struct{}),
		rnd: mrand.New(mrand.NewPCG(mrand.Uint64(), mrand.Uint64())),
	}
	c.wg.Add(1)
	go c.dispatch()
	if len(cfg.Servers) > 0 {
		if err := c.SetServers(cfg.Servers); err != nil {
			c.Disconnect()
			return nil, err
		}
	}
	return c, nil
}

// SetServers sets the servers to connect to ("host:port", or "weight
// host:port"), and connects to one of them, chosen at random by weight.
// Called again, it replaces the list, moving to another server when the
// current one is no longer listed.
func (c *PubSubClient) SetServers(servers []string) error {
	list, err := parseServers(servers)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return newError(ClientSdkError, "the client is disconnected", nil)
	}
	c.servers = list
	if !c.started {
		c.started = true
		c.wg.Add(1)
		go c.run()
		return nil
	}
	if c.sess != nil {
		listed := false
		for _, e := range list {
			listed = listed || e.addr == c.sess.addr
		}
		if !listed {
			c.sess.fail(errors.New("server removed from the list"))
		}
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
	return nil
}

// SetEntitlementToken sets the token sent with every later call: a Setsuna
// token, or the server's --entitlement-allow-token. Streams already open
// keep the token they were opened with until they reconnect.
func (c *PubSubClient) SetEntitlementToken(token string) {
	c.mu.Lock()
	c.token = token
	c.mu.Unlock()
}

// SetListener sets who receives messages and notifications.
func (c *PubSubClient) SetListener(l PubSubListener) {
	c.mu.Lock()
	c.listener = l
	c.mu.Unlock()
}

// Server is the address of the server the client is connected to ("" when
// it is not).
func (c *PubSubClient) Server() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess == nil {
		return ""
	}
	return c.sess.addr
}

// notify queues a listener call; it blocks while the queue is full.
func (c *PubSubClient) notify(f func(l PubSubListener)) {
	c.mu.Lock()
	l := c.listener
	c.mu.Unlock()
	if l == nil {
		return
	}
	select {
	case c.events <- func() { f(l) }:
	case <-c.stop:
	}
}

func (c *PubSubClient) status(status, info string) {
	c.notify(func(l PubSubListener) { l.OnStatus(status, info) })
}

func (c *PubSubClient) dispatch() {
	defer c.wg.Done()
	for {
		select {
		case f := <-c.events:
			f()
		case <-c.stop:
			return
		}
	}
}

// Disconnect closes the connection and ends every subscription; the client
// cannot be used again.
func (c *PubSubClient) Disconnect() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	sess := c.sess
	c.mu.Unlock()
	close(c.stop)
	if sess != nil {
		sess.fail(errors.New("disconnected"))
	}
	c.wg.Wait()
}

func (c *PubSubClient) outgoing(ctx context.Context) context.Context {
	c.mu.Lock()
	token := c.token
	c.mu.Unlock()
	return metadata.AppendToOutgoingContext(ctx, "authorization", token)
}

// run connects, waits for the connection to fail, and reconnects with the
// policy until Disconnect.
func (c *PubSubClient) run() {
	defer c.wg.Done()
	failed := map[string]bool{}
	retry := 0
	for {
		if retry > 0 {
			t := time.NewTimer(c.policy.Delay(retry, c.rnd.Float64()))
			select {
			case <-c.stop:
				t.Stop()
				return
			case <-t.C:
			case <-c.kick:
				t.Stop()
			}
		}
		c.mu.Lock()
		addr, err := pickServer(c.servers, failed, c.rnd)
		c.mu.Unlock()
		if err != nil {
			return
		}
		sess, err := c.connect(addr)
		if err != nil {
			select {
			case <-c.stop:
				return
			default:
			}
			failed[addr] = true
			if len(failed) >= c.serverCount() {
				clear(failed)
				failed[addr] = true
			}
			retry++
			c.status(NotifyServerDown, addr)
			continue
		}
		clear(failed)
		retry = 0
		if !c.attach(sess) {
			sess.cc.Close()
			return
		}
		c.status(NotifyServerUp, addr)
		select {
		case <-sess.ctx.Done():
		case <-c.stop:
			sess.fail(errors.New("disconnected"))
		}
		c.detach(sess)
		select {
		case <-c.stop:
			return
		default:
		}
		c.status(NotifyServerDown, addr)
		failed[addr] = true
		if len(failed) >= c.serverCount() {
			clear(failed)
			failed[addr] = true
		}
		retry = 1
	}
}

func (c *PubSubClient) serverCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.servers)
}

// connect dials addr and checks that a Setsuna server answers there.
func (c *PubSubClient) connect(addr string) (*session, error) {
	creds := insecure.NewCredentials()
	if c.cfg.TLS || c.cfg.TLSConfig != nil {
		tc := c.cfg.TLSConfig
		if tc == nil {
			tc = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		creds = credentials.NewTLS(tc)
	}
	opts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: keepaliveTime, Timeout: keepaliveTimeout, PermitWithoutStream: true}),
	}, c.cfg.DialOptions...)
	cc, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, err
	}
	api := pb.NewPubSubClient(cc)
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.ConnectTimeout)
	defer cancel()
	go func() {
		select {
		case <-c.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	if _, err := api.Servers(ctx, &pb.ServersRequest{}); err != nil {
		cc.Close()
		return nil, err
	}
	sctx, scancel := context.WithCancelCause(context.Background())
	return &session{addr: addr, cc: cc, api: api, ctx: sctx, cancel: scancel, detached: make(chan struct{})}, nil
}

// attach makes sess the current session and opens its streams.
func (c *PubSubClient) attach(sess *session) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.sess = sess
	close(c.sessReady)
	for subject, st := range c.subs {
		c.startStream(sess, subject, st)
	}
	return true
}

// detach ends sess: its streams stop, the connection closes, publishers
// wait for the next session.
func (c *PubSubClient) detach(sess *session) {
	c.mu.Lock()
	if c.sess == sess {
		c.sess = nil
		c.sessReady = make(chan struct{})
	}
	c.mu.Unlock()
	close(sess.detached)
	sess.wg.Wait()
	sess.cc.Close()
}

// startStream opens the stream of subject on sess. Under c.mu.
func (c *PubSubClient) startStream(sess *session, subject string, st *subState) {
	ctx, cancel := context.WithCancel(sess.ctx)
	st.sess, st.cancel = sess, cancel
	sess.wg.Add(1)
	go func() {
		defer sess.wg.Done()
		defer cancel()
		c.stream(ctx, sess, subject, st)
	}()
}

// permanentSubscribe reports whether a subscribe error ends the
// subscription of that subject (the server will never accept it).
func permanentSubscribe(err error) bool {
	switch status.Code(err) {
	case codes.PermissionDenied, codes.Unauthenticated, codes.InvalidArgument, codes.NotFound, codes.Unimplemented, codes.ResourceExhausted:
		return true
	}
	return false
}

var errSilent = errors.New("the server went silent")

// stream reads one subject's stream until it ends; a transport failure
// fails the session (the server is down).
func (c *PubSubClient) stream(ctx context.Context, sess *session, subject string, st *subState) {
	c.mu.Lock()
	req := &pb.SubscribeRequest{Subject: subject, Epoch: st.epoch, Seq: st.seq}
	c.mu.Unlock()
	stream, err := sess.api.Subscribe(c.outgoing(ctx), req)
	if err == nil {
		watchdog := time.AfterFunc(c.cfg.Liveness, func() { sess.fail(errSilent) })
		defer watchdog.Stop()
		absorbGap := false
		for {
			var ev *pb.SubscribeEvent
			ev, err = stream.Recv()
			if err != nil {
				break
			}
			watchdog.Reset(c.cfg.Liveness)
			absorbGap = c.handle(subject, st, ev, absorbGap)
		}
	}
	if ctx.Err() != nil {
		return // unsubscribed, or the session ended
	}
	if permanentSubscribe(err) {
		c.mu.Lock()
		if c.subs[subject] == st {
			delete(c.subs, subject)
		}
		c.mu.Unlock()
		c.status(NotifySubscribeDeny, subject)
		return
	}
	sess.fail(err)
}

// handle applies one event of subject's stream; absorbGap says a resync was
// just reported, so the discontinuity that follows is not reported again.
func (c *PubSubClient) handle(subject string, st *subState, ev *pb.SubscribeEvent, absorbGap bool) bool {
	switch k := ev.Kind.(type) {
	case *pb.SubscribeEvent_Subscribed:
		s := k.Subscribed
		c.mu.Lock()
		st.epoch, st.seq = s.Epoch, s.Seq
		c.mu.Unlock()
		switch {
		case !s.Resumed:
			c.status(NotifySubscribeAllow, subject)
		case s.InSync:
			c.status(NotifyDataSync, subject)
		default:
			c.status(NotifyDataResync, subject)
			return true
		}
	case *pb.SubscribeEvent_Discontinuity:
		d := k.Discontinuity
		c.mu.Lock()
		st.epoch, st.seq = d.Epoch, d.NewSeq
		c.mu.Unlock()
		if !absorbGap {
			c.status(NotifyDataResync, subject)
		}
		return false
	case *pb.SubscribeEvent_Message:
		m := k.Message
		c.mu.Lock()
		deliver := true
		switch {
		case m.Epoch == st.epoch && m.Seq > st.seq:
			st.seq = m.Seq
		case m.Snapshot:
			// A snapshot of an older page, or already behind the stream:
			// delivered, but it does not move the resume position.
		case m.Epoch == st.epoch:
			deliver = false // delivered before (a resume that overlapped)
		default:
			st.epoch, st.seq = m.Epoch, m.Seq
		}
		c.mu.Unlock()
		if deliver {
			msg := &PubSubMessage{Subject: subject, Content: m.Content, Binary: m.Binary, Retained: m.Snapshot, Seq: m.Seq, Epoch: m.Epoch, PublisherID: m.PublisherId}
			c.notify(func(l PubSubListener) { l.OnMessage(msg) })
		}
	}
	return absorbGap
}

// Subscribe adds subjects; the listener gets NotifySubscribeAllow (or
// Deny) for each, then its snapshot and messages. Subscriptions survive
// failovers.
func (c *PubSubClient) Subscribe(subjects ...string) error {
	for _, s := range subjects {
		if err := checkSubject(s); err != nil {
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return newError(ClientSdkError, "the client is disconnected", nil)
	}
	for _, s := range subjects {
		if c.subs[s] != nil {
			continue
		}
		st := &subState{}
		c.subs[s] = st
		if c.sess != nil {
			c.startStream(c.sess, s, st)
		}
	}
	return nil
}

// Unsubscribe removes subjects.
func (c *PubSubClient) Unsubscribe(subjects ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range subjects {
		if st := c.subs[s]; st != nil {
			if st.cancel != nil {
				st.cancel()
			}
			delete(c.subs, s)
		}
	}
}

// Subjects lists the subscribed subjects.
func (c *PubSubClient) Subjects() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.subs))
	for s := range c.subs {
		out = append(out, s)
	}
	return out
}

// checkSubject is the client's check of a subject's shape; the server
// checks the rest.
func checkSubject(s string) error {
	rest, ok := strings.CutPrefix(s, "/")
	cache, topic, two := strings.Cut(rest, "/")
	if !ok || !two || cache == "" || topic == "" {
		return invalidArgument("invalid subject %q: a subject is /<cache>/<topic path>", s)
	}
	return nil
}

var statusOf = map[pb.PublishStatus]PublishStatus{
	pb.PublishStatus_PUBLISH_STATUS_OK:            PublishOK,
	pb.PublishStatus_PUBLISH_STATUS_FAILED:        PublishFailed,
	pb.PublishStatus_PUBLISH_STATUS_DENIED:        PublishDenied,
	pb.PublishStatus_PUBLISH_STATUS_NO_SUBSCRIBER: PublishNoSubscriber,
}

func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Publish publishes m and returns its status; the listener also gets it,
// with the closure as info. It waits for a connection when there is none,
// and retries across a failover with the same idempotency key, all within
// the publish timeout (and ctx); past it the status is PublishTimeout. The
// error is for requests the client refuses (a nil message, a bad subject)
// and a disconnected client.
func (c *PubSubClient) Publish(ctx context.Context, m *PubSubMessage) (PublishResult, error) {
	if m == nil {
		return PublishResult{}, nilRequest("Publish")
	}
	if err := checkSubject(m.Subject); err != nil {
		return PublishResult{}, err
	}
	if m.RetainFor < 0 {
		return PublishResult{}, invalidArgument("RetainFor must not be negative")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	key := m.IdempotencyKey
	if key == "" {
		key = newKey()
	}
	req := &pb.PublishRequest{
		Subject: m.Subject, Content: m.Content, Binary: m.Binary, Closure: m.Closure,
		Retained: m.Retained, RetainMs: uint64(durationMillis(m.RetainFor)), IdempotencyKey: key,
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.PublishTimeout)
	defer cancel()
	res, err := c.publish(ctx, req)
	if err != nil {
		return PublishResult{}, err
	}
	c.status(string(res.Status), res.Closure)
	return res, nil
}

func (c *PubSubClient) publish(ctx context.Context, req *pb.PublishRequest) (PublishResult, error) {
	timeout := PublishResult{Status: PublishTimeout, Closure: req.Closure}
	for {
		sess, err := c.waitSession(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return timeout, nil
			}
			return PublishResult{}, err
		}
		resp, err := sess.api.Publish(c.outgoing(ctx), req)
		if err == nil {
			st, ok := statusOf[resp.Status]
			if !ok {
				st = PublishFailed
			}
			return PublishResult{Status: st, Reason: resp.Reason, Message: resp.Message, Closure: resp.Closure,
				Seq: resp.Seq, Epoch: resp.Epoch, Duplicate: resp.Duplicate}, nil
		}
		if ctx.Err() != nil || status.Code(err) == codes.DeadlineExceeded {
			return timeout, nil
		}
		switch status.Code(err) {
		case codes.Unavailable, codes.Canceled:
			// The server is gone (or going): move on and retry there with
			// the same key.
			sess.fail(err)
			select {
			case <-sess.ctx.Done():
			case <-ctx.Done():
			}
			continue
		}
		s, _ := status.FromError(err)
		return PublishResult{Status: PublishFailed, Reason: strings.ToLower(status.Code(err).String()), Message: s.Message(), Closure: req.Closure}, nil
	}
}

// waitSession returns the current session, waiting for one.
func (c *PubSubClient) waitSession(ctx context.Context) (*session, error) {
	for {
		c.mu.Lock()
		sess, ready, closed := c.sess, c.sessReady, c.closed
		c.mu.Unlock()
		if closed {
			return nil, newError(ClientSdkError, "the client is disconnected", nil)
		}
		if sess != nil && sess.ctx.Err() == nil {
			return sess, nil
		}
		if sess != nil {
			ready = sess.detached // failing: wait until it is replaced
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.stop:
		}
	}
}

// PublishAsync publishes m in the background and calls done with the
// result (the closure is in it), as well as notifying the listener.
func (c *PubSubClient) PublishAsync(m *PubSubMessage, done func(PublishResult, error)) {
	go func() {
		res, err := c.Publish(context.Background(), m)
		if done != nil {
			done(res, err)
		}
	}()
}
