package redisstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/setsuna-io/setsuna/internal/errs"
)

// evalWait runs a mutation followed by WAIT on the same connection of the
// primary that owns the partition's slot (Options.WaitReplicas). A moved
// slot or a refusal before the script ran is retried like Runner.Eval; a
// WAIT that counts fewer replicas than asked, or that fails, makes the
// applied mutation errs.ErrOutcomeUnknown (it may be lost in a failover).
func (s *Store) evalWait(ctx context.Context, p partRef, sc *Script, args []any) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(5 * time.Second)
	backoff := 10 * time.Millisecond
	for {
		v, sent, err := s.evalWaitOnce(ctx, p.keys, sc, args)
		if err == nil {
			return v, nil
		}
		if msg, ok := strings.CutPrefix(err.Error(), scriptErrPrefix); ok {
			return nil, scriptError(msg)
		}
		var pe *errs.Error
		if errors.As(err, &pe) {
			return nil, err
		}
		reloadOnFailure(s.c, err)
		moved := redis.HasErrorPrefix(err, "MOVED") || redis.HasErrorPrefix(err, "ASK")
		if moved && s.cluster != nil {
			s.cluster.ReloadState(ctx)
		}
		if sent && !moved && !refusedBeforeRun(err) {
			return nil, classify(ctx, err, true)
		}
		if time.Now().After(deadline) {
			return nil, errs.ErrUnavailable.Because(err)
		}
		select {
		case <-ctx.Done():
			return nil, errs.ErrUnavailable.Because(err)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 500*time.Millisecond)
	}
}

// evalWaitOnce runs one attempt; sent says whether the script may have
// reached Redis.
func (s *Store) evalWaitOnce(ctx context.Context, keys []string, sc *Script, args []any) (any, bool, error) {
	var c redis.UniversalClient = s.c
	if s.cluster != nil {
		node, err := s.cluster.MasterForKey(ctx, keys[0])
		if err != nil {
			return nil, false, err
		}
		c = node
	}
	for _, verb := range []string{"evalsha", "eval"} {
		body := sc.hash
		if verb == "eval" {
			body = sc.src
		}
		full := make([]any, 0, 3+len(keys)+len(args))
		full = append(full, verb, body, len(keys))
		for _, k := range keys {
			full = append(full, k)
		}
		full = append(full, args...)
		pipe := c.Pipeline()
		cmd := redis.NewCmd(ctx, full...)
		_ = pipe.Process(ctx, writeCmd{cmd})
		w := pipe.Do(ctx, "wait", s.waitN, s.waitT.Milliseconds())
		_, _ = pipe.Exec(ctx)
		v, err := cmd.Result()
		if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			continue
		}
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, true, err
		}
		acks, werr := w.Int()
		if werr != nil {
			return nil, true, errs.ErrOutcomeUnknown.Because(werr)
		}
		if acks < s.waitN {
			return nil, true, errs.ErrOutcomeUnknown.Withf("%d of %d replicas acknowledged the change", acks, s.waitN)
		}
		return v, true, err
	}
	return nil, true, errors.New("redis: NOSCRIPT after EVAL")
}
