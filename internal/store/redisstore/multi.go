package redisstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// call is one partition script of a multi-partition operation.
type call struct {
	p   partRef
	sc  *Script
	op  []any // the op's arguments (ARGV[4...]), or every ARGV when raw
	raw bool  // a script without the prelude
	res any
	err error
}

// execCalls runs calls (each on its own partition) in one pipeline, which
// the cluster client splits per node and runs in parallel: one round trip
// per server. The retry rules are Runner.Eval's, per call: a call refused
// before it ran is sent again, a read that failed on the network too, a
// write that may have run is errs.ErrOutcomeUnknown. It returns the first
// error of a call (errs.ErrOutcomeUnknown before others, as it is the one
// a caller must not take for a failure).
func (s *Store) execCalls(ctx context.Context, write bool, calls []*call) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if write && s.waitN > 0 {
		for _, c := range calls {
			c.res, c.err = s.evalPart(ctx, c.p, c.sc, true, c.op...)
		}
		return firstErr(calls)
	}
	deadline := time.Now().Add(cmpDur(s.run.Budget, 5*time.Second))
	backoff := 10 * time.Millisecond
	pending := calls
	useEval := map[*call]bool{}
	for len(pending) > 0 {
		pipe := s.c.Pipeline()
		cmds := make([]*redis.Cmd, len(pending))
		for i, c := range pending {
			verb, body := "evalsha", c.sc.hash
			if useEval[c] {
				verb, body = "eval", c.sc.src
			}
			args := c.op
			if !c.raw {
				args = s.args(c.p, c.op)
			}
			full := make([]any, 0, 4+len(args))
			full = append(full, verb, body, len(c.p.keys))
			for _, k := range c.p.keys {
				full = append(full, k)
			}
			full = append(full, args...)
			cmd := redis.NewCmd(ctx, full...)
			cmd.SetFirstKeyPos(3)
			cmds[i] = cmd
			if write {
				_ = pipe.Process(ctx, writeCmd{cmd})
			} else {
				_ = pipe.Process(ctx, cmd)
			}
		}
		_, _ = pipe.Exec(ctx)
		var again []*call
		var lastErr error
		noscript := false
		for i, c := range pending {
			v, err := cmds[i].Result()
			switch {
			case err == nil || errors.Is(err, redis.Nil):
				c.res, c.err = v, nil
			case redis.HasErrorPrefix(err, "NOSCRIPT"):
				useEval[c] = true
				again = append(again, c)
				noscript = true
			default:
				if msg, ok := strings.CutPrefix(err.Error(), scriptErrPrefix); ok {
					c.err = scriptError(msg)
					break
				}
				reloadOnFailure(s.c, err)
				if refusedBeforeRun(err) || (!write && transient(err)) {
					again = append(again, c)
					lastErr = err
					break
				}
				c.err = classify(ctx, err, write)
			}
		}
		pending = again
		if len(pending) == 0 || noscript && lastErr == nil {
			continue
		}
		if time.Now().After(deadline) {
			for _, c := range pending {
				c.err = errs.ErrUnavailable.Because(lastErr)
			}
			break
		}
		select {
		case <-ctx.Done():
			for _, c := range pending {
				if write {
					c.err = errs.ErrUnavailable.Because(lastErr)
				} else {
					c.err = ctx.Err()
				}
			}
			pending = nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 500*time.Millisecond)
	}
	return firstErr(calls)
}

func firstErr(calls []*call) error {
	var first error
	for _, c := range calls {
		if c.err == nil {
			continue
		}
		if errors.Is(c.err, errs.ErrOutcomeUnknown) {
			return c.err
		}
		if first == nil {
			first = c.err
		}
	}
	return first
}

// runCalls is execCalls for calls of one cache, with runKey's handling of
// a stale catalog copy: when a script finds its partition gone, the
// catalog is read again and, for a new incarnation, the calls are rebuilt
// by build and run once more (a refused call did nothing; the others of a
// read are simply read again; a write is only redone when every call was
// refused, so nothing is applied twice).
func (s *Store) runCalls(ctx context.Context, cache string, write bool, build func(info cacheView) []*call) ([]*call, error) {
	info, err := s.cacheInfo(ctx, cache)
	if err != nil {
		return nil, err
	}
	calls := build(cacheView{s: s, info: info})
	err = s.execCalls(ctx, write, calls)
	if err != nil && write && !errors.Is(err, errs.ErrCacheNotFound) {
		err = partial(calls, err)
	}
	if err == nil || !errors.Is(err, errs.ErrCacheNotFound) {
		if err == nil && write {
			s.wake(cache)
			for _, c := range calls {
				s.markDirty(c.p.base)
			}
		}
		return calls, err
	}
	if write {
		for _, c := range calls {
			if c.err == nil {
				return calls, errNoCache(cache) // partly applied to a dying incarnation
			}
		}
	}
	s.forget(cache, info.Epoch)
	ninfo, lerr := s.lookup(ctx, cache)
	if lerr != nil {
		return nil, lerr
	}
	if ninfo.Epoch == info.Epoch {
		return nil, errNoCache(cache)
	}
	calls = build(cacheView{s: s, info: ninfo})
	err = s.execCalls(ctx, write, calls)
	if err != nil && write && !errors.Is(err, errs.ErrCacheNotFound) {
		err = partial(calls, err)
	}
	if errors.Is(err, errs.ErrCacheNotFound) {
		s.forget(cache, ninfo.Epoch)
		return nil, errNoCache(cache)
	}
	if err == nil && write {
		s.wake(cache)
		for _, c := range calls {
			s.markDirty(c.p.base)
		}
	}
	return calls, err
}

// partial maps the failure of a multi-partition write some of whose
// calls were applied: the call as a whole is then neither done nor
// failed, so it is errs.ErrOutcomeUnknown (an ErrUnavailable of one
// partition says nothing was done there only).
func partial(calls []*call, err error) error {
	if errors.Is(err, errs.ErrOutcomeUnknown) {
		return err
	}
	for _, c := range calls {
		if c.err == nil {
			return errs.ErrOutcomeUnknown.Because(err)
		}
	}
	return err
}

// cacheView routes keys of one incarnation.
type cacheView struct {
	s    *Store
	info store.CacheInfo
}

func (v cacheView) partOf(key []byte) partRef { return v.s.partAt(v.info, v.info.PartitionOf(key)) }
func (v cacheView) partAt(i int) partRef      { return v.s.partAt(v.info, i) }
