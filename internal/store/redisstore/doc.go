// Package redisstore is the redis engine: store.Store and store.TopicLog on
// Redis/Valkey ≥ 7, as a Redis Cluster (primaries with replicas) or a single
// server, shared by any number of Setsuna nodes. It runs the engine-neutral
// suites (storetest, topicstest) unchanged.
//
// # Key layout
//
// Every key starts with "sx:". A hash tag ({...}) puts what one Lua script
// touches in one slot: the catalog, one partition of one cache, one topic.
// Items are native Redis types, so an operator can look at them with
// redis-cli.
//
//	sx:{sx}:caches           hash   cache name → cache record (JSON: epoch, partitions, scheme, tiling, attrs)
//	sx:{sx}:epoch            string the last epoch given out (INCR): epochs are unique across every cache,
//	                                so an epoch names one incarnation of one cache
//	sx:{sx}:dead             zset   "epoch/partitions" of deleted caches whose keys are still being removed
//	                                (score: deletion time, Unix ms); any node's background loop removes them
//	sx:{sx}:sweep            zset   expiry schedule of partitions: partition base "sx:{E.P}:" → Unix ms at
//	                                which its sweep is due (its earliest expiry, or now while it has
//	                                flushed items to remove); a hint for the sweep (background.go)
//	sx:{r}:<ns>              hash   records of namespace ns (store.Records): key → value
//
// Partition P of the cache incarnation with epoch E (tag {E.P}):
//
//	sx:{E.P}:s               hash   partition state: lsn (last LSN), gen (item generation, bumped by
//	                                FlushCache), floor (all-versions retention floor), ms (last commit
//	                                time, Unix ms: commit times never go back within a partition),
//	                                dead (set once the cache is deleted), fl (generations flushed whose
//	                                items are still being removed, space-separated), av (1 once the
//	                                partition logs all versions: from its first all-versions read).
//	                                CreateCache makes it before publishing the cache, and a script that
//	                                finds it missing or
//	                                dead refuses (cache_not_found): a node with a stale catalog cannot
//	                                write into a deleted incarnation
//	sx:{E.P}:m               hash   item key → meta "kind lsn expiresAtMs modifiedMs op batchEnd"
//	                                (expiresAtMs 0: never; op the store.FeedOp of the last change,
//	                                batchEnd its BatchEnd or 0); the item index, also what a cache
//	                                delete scans
//	sx:{E.P}:i<gen>:<key>    any    the item: string (scalar), hash (dictionary), set, list, zset;
//	                                native expiry at expiresAt + ExpiryGrace
//	sx:{E.P}:f<gen>          hash   the meta of generation gen, renamed from m by FlushCache: the items
//	                                still to remove in the background
//	sx:{E.P}:x               zset   latest-version index: item key, score = LSN of its last change
//	sx:{E.P}:l               stream all-versions-and-deletes log: id <lsn>-0, bounded by count (MAXLEN);
//	                                fields o op, k key, t kind, m commit ms, v value, b batch end,
//	                                p previous kind, pl previous LSN, pv previous value, x TTL expiry
//	sx:{E.P}:e               zset   expiry schedule: item key, score = expiresAtMs
//
// Topic N of cache C at epoch E (tag {t.E.C N}: a cache name has no space,
// so the pair is unambiguous, and C is in the tag because the TopicLog
// contract does not make epochs unique across caches; "C N" is replaced by
// "#" and the hex SHA-1 of "C N" when either holds a brace):
//
//	sx:{t.E.C N}:s           hash   state: pg (page), sq (last seq), cm (bytes ever appended), bs (a lower
//	                                bound of the bytes before the window), dead (tombstone of a dropped epoch)
//	sx:{t.E.C N}:l           stream the window: id <page>-<seq>, fields d (data), b (binary), p (publisher),
//	                                c (cm after this message); bounded by MAXLEN and by bytes (XTRIM MINID)
//	sx:{t.E.C N}:w           sharded pub/sub channel: every append and drop SPUBLISHes a wake-up on it
//	sx:{t.E.C N}:p           hash   presence: node → "count deadlineMs"
//	sx:{t.E.C N}:i           hash   idempotency keys: key → "seq page deadlineMs"
//	sx:{t.E.C N}:o           zset   idempotency keys by the time they were recorded (oldest forgotten first)
//
// A cache's topic bookkeeping (tag {tc.C}, C hashed likewise):
//
//	sx:{tc.C}:s              hash   epoch (newest used), dead (newest dropped), page (the last page given
//	                                out, to any topic of C: pages grow across names and epochs)
//	sx:{tc.C}:t              zset   index of the topics to drop: member "E:N", score E
//	sx:{tc.C}:x              zset   same members, score: when the entry last named a live topic (negative:
//	                                minus the time a re-check began)
//
// One script appends: it checks the state and the stream together (state
// without the stream it should have, or a stream without state, is a lost
// topic: evicted, flushed), bumps sq, XADDs with MAXLEN, trims by bytes,
// refreshes the idle TTL (PEXPIRE) and SPUBLISHes. A missing or lost topic
// is first admitted by a script in the cache's slot, which refuses a
// dropped or replaced epoch, gives the page (Unix ms, strictly increasing
// per cache) and indexes the topic; the topic is then created on that page,
// so a lost topic comes back on a new page and readers see a
// discontinuity, never a silent gap. Admission at a newer epoch returns the
// older epochs' topics, which are dropped (a tombstone state, an idle TTL
// long, that refuses the epoch, and a wake-up) before they leave the index;
// a node that dies half way leaves them indexed, and the next admission
// drops them. DropCache records the dropped epoch and drops what the index
// lists, in batches: no SCAN. Admissions also re-check a few index entries
// older than the idle TTL and remove those whose topic expired, so the
// index stays bounded by the live topics. A cache's bookkeeping expires 30
// days after its last admission or drop.
//
// A node subscribes (SSUBSCRIBE, one connection per primary) only to the
// channels of topics it has waiters on; see topiclog_notify.go.
//
// # Time
//
// Every instant (expiry, commit time, presence and idempotency deadlines)
// comes from the calling node's clock, passed to scripts as an argument;
// Redis's TIME is never used. Nodes must keep their clocks synchronised
// (store package documentation). Within a partition, commit times are made
// non-decreasing, so LSN order is also commit-time order.
//
// # Feed notification
//
// FeedNotify closes its channel at the next change a node makes through
// itself, or after 100ms: changes made by other nodes are not signalled
// (no pub/sub per change), so a reader waiting on another node's writes
// polls at that interval.
//
// # Scripts and errors
//
// Every mutation of a partition is one Lua script: the item, its meta, the
// LSN bump, the index and the log change together or not at all. A script
// refuses with "SXERR <reason>" (a row of the errs table). Runner maps
// network and cluster errors to the store contract (retried when nothing
// was done, errs.ErrOutcomeUnknown when a write may have been applied).
package redisstore
