package appsync

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/setsuna-io/setsuna/internal/graphql"
)

// Fanout carries subscription events between the nodes of a cluster (the
// server backs it with the topics hub).
//
// Publish sends event to every current subscriber of topic on every node; it
// may return before delivery. Subscribe registers deliver for topic until
// cancel is called: deliver is called once per event, in publish order per
// publisher, never concurrently for one subscription, and does not block (it
// only enqueues). Subscribe must not wait for a deliver call to finish (the
// surface holds a lock while subscribing). Events may be dropped for a slow
// node but never duplicated. The surface subscribes once per topic per node,
// not once per client, so a Fanout sees one subscription per live
// subscription field.
type Fanout interface {
	Publish(ctx context.Context, topic string, event []byte) error
	Subscribe(topic string, deliver func(event []byte)) (cancel func(), err error)
}

// event is what travels on a topic: a mutation's publication or an
// invalidateSubscriptions call for one subscription field.
type event struct {
	Mutation   string         `json:"mutation,omitempty"`
	Payload    any            `json:"payload,omitempty"`
	Invalidate map[string]any `json:"invalidate,omitempty"`
}

// dispatcher keeps this node's live subscriptions grouped by (field, group):
// subscribers in one group get byte-identical data, so each event is
// filtered and encoded once per group.
type dispatcher struct {
	h      *Handler
	mu     sync.RWMutex
	fields map[string]*fieldSubs
}

type fieldSubs struct {
	groups map[groupID]*group
	cancel func()
}

// groupID tells groups apart by schema version too: the same document may
// project differently on a reloaded schema.
type groupID struct {
	exec *graphql.Executor
	key  string
}

type group struct {
	sub     *graphql.Subscription // the first member's; all members are equivalent
	exec    *graphql.Executor     // that prepared sub
	members map[*liveSub]struct{}
}

// liveSub is one client's subscription on one connection.
type liveSub struct {
	id   string
	conn *conn
	sub  *graphql.Subscription
	exec *graphql.Executor
}

func (ls *liveSub) group() groupID { return groupID{ls.exec, ls.sub.Group} }

func (d *dispatcher) topic(field string) string { return d.h.topicPrefix + field }

// add registers ls, subscribing to the field's topic on first use.
func (d *dispatcher) add(ls *liveSub) error {
	field := ls.sub.Field
	d.mu.Lock()
	fs := d.fields[field]
	if fs == nil {
		fs = &fieldSubs{groups: map[groupID]*group{}}
		d.fields[field] = fs
		cancel, err := d.h.fanout.Subscribe(d.topic(field), func(b []byte) { d.deliver(fs, field, b) })
		if err != nil {
			delete(d.fields, field)
			d.mu.Unlock()
			return err
		}
		fs.cancel = cancel
	}
	g := fs.groups[ls.group()]
	if g == nil {
		g = &group{sub: ls.sub, exec: ls.exec, members: map[*liveSub]struct{}{}}
		fs.groups[ls.group()] = g
	}
	g.members[ls] = struct{}{}
	d.mu.Unlock()
	return nil
}

// remove unregisters ls; the last one of a field drops the topic subscription.
func (d *dispatcher) remove(ls *liveSub) {
	var cancel func()
	d.mu.Lock()
	if fs := d.fields[ls.sub.Field]; fs != nil {
		if g := fs.groups[ls.group()]; g != nil {
			delete(g.members, ls)
			if len(g.members) == 0 {
				delete(fs.groups, ls.group())
			}
		}
		if len(fs.groups) == 0 {
			delete(d.fields, ls.sub.Field)
			cancel = fs.cancel
		}
	}
	d.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// deliver handles one event from the fan-out subscription of from; a late
// event of a cancelled subscription is ignored, so that a field that is
// resubscribed meanwhile does not get it twice.
func (d *dispatcher) deliver(from *fieldSubs, field string, b []byte) {
	var ev event
	if err := json.Unmarshal(b, &ev); err != nil {
		d.h.log.Warn("appsync: dropping an undecodable event", "field", field, "err", err)
		return
	}
	var invalidated []*liveSub
	d.mu.RLock()
	fs := d.fields[field]
	if fs != nil && fs == from {
		for _, g := range fs.groups {
			if ev.Invalidate != nil {
				if g.sub.Invalidated(ev.Invalidate) {
					for m := range g.members {
						invalidated = append(invalidated, m)
					}
				}
				continue
			}
			if !g.sub.Matches(ev.Payload) {
				continue
			}
			data := g.exec.Project(g.sub, ev.Payload)
			if len(data) > d.h.maxPayload {
				// AppSync drops an over-size event; an error frame would end
				// the client's subscription, which AppSync does not do.
				d.h.log.Warn("appsync: dropping an event over the payload limit", "field", field, "bytes", len(data), "limit", d.h.maxPayload)
				continue
			}
			for m := range g.members {
				m.conn.sendData(m.id, data)
			}
		}
	}
	d.mu.RUnlock()
	if len(invalidated) > 0 {
		// Not from inside deliver: ending the last subscription of a field
		// cancels the fan-out subscription that is calling us.
		go func() {
			for _, m := range invalidated {
				m.conn.invalidate(m)
			}
		}()
	}
}

// publish sends a mutation's events and invalidations to the fan-out.
func (d *dispatcher) publish(ctx context.Context, schema *graphql.Schema, resp *graphql.Response) {
	for _, p := range resp.Publications {
		fields := schema.Triggered(p.Mutation)
		if len(fields) == 0 {
			continue
		}
		b, err := json.Marshal(event{Mutation: p.Mutation, Payload: p.Payload})
		if err != nil {
			d.h.log.Error("appsync: cannot encode an event", "mutation", p.Mutation, "err", err)
			continue
		}
		for _, f := range fields {
			if err := d.h.fanout.Publish(ctx, d.topic(f), b); err != nil {
				d.h.log.Warn("appsync: publish failed", "field", f, "err", err)
			}
		}
	}
	for _, inv := range resp.Invalidations {
		payload := inv.Payload
		if payload == nil {
			payload = map[string]any{}
		}
		b, _ := json.Marshal(event{Invalidate: payload})
		if err := d.h.fanout.Publish(ctx, d.topic(inv.SubscriptionField), b); err != nil {
			d.h.log.Warn("appsync: publish failed", "field", inv.SubscriptionField, "err", err)
		}
	}
}
