package cosmos

import (
	"context"
	"time"

	"github.com/setsuna-io/setsuna/internal/epk"
)

// Backend is everything the surface needs from Setsuna. It is written in
// Setsuna's terms (catalog entries, caches, items, LSNs, partitions), not
// Cosmos's: the surface owns every wire format, the backend owns storage
// and atomicity. Errors are the Err* values of this package (wrapped or
// not); anything else is an internal error. Every method is safe for
// concurrent use and authorizes nothing (the surface has authenticated
// the caller; a services-layer Authorizer may still refuse with an error
// that wraps ErrInvalid or ErrNotFound).
type Backend interface {
	// CreateDatabase adds a database entry; an existing id is
	// ErrConflict. Props is opaque to the backend (the surface's resource
	// JSON) and is returned unchanged by Database and Databases.
	CreateDatabase(ctx context.Context, db Database) error
	// Database returns one entry, or ErrNotFound.
	Database(ctx context.Context, id string) (Database, error)
	// Databases lists every entry in a stable order.
	Databases(ctx context.Context) ([]Database, error)
	// DeleteDatabase removes the entry and deletes all its containers
	// (as DeleteContainer does); a missing id is ErrNotFound.
	DeleteDatabase(ctx context.Context, id string) error

	// CreateContainer creates the cache of a container in database
	// spec.Database (missing: ErrNotFound; existing container id:
	// ErrConflict) with len(spec.Ranges) partitions, partition i owning
	// the EPK range spec.Ranges[i]. It returns the container as
	// Container does. The backend may refuse a layout it cannot hold
	// (ErrInvalid), or return other ranges of the same count.
	CreateContainer(ctx context.Context, spec ContainerSpec) (Container, error)
	// Container returns a container, or ErrNotFound when it or its
	// database is missing.
	Container(ctx context.Context, db, id string) (Container, error)
	// Containers lists the containers of a database (ErrNotFound when
	// the database is missing) in a stable order.
	Containers(ctx context.Context, db string) ([]Container, error)
	// DeleteContainer deletes the cache and its items and change log;
	// a container created again with the same id is a new epoch whose
	// feed positions do not carry over. Missing: ErrNotFound.
	DeleteContainer(ctx context.Context, db, id string) error

	// ReadDoc returns the live document with key k, or ErrNotFound
	// (also for an expired one).
	ReadDoc(ctx context.Context, c Container, k DocKey) (Doc, error)
	// PutDoc writes a document atomically:
	//   - PutCreate: only when no live document has the key, else ErrConflict;
	//   - PutUpsert: always;
	//   - PutReplace: only when one does, else ErrNotFound;
	// and, when p.IfLSN is not zero, only when the live document's LSN
	// equals it (ErrNotFound when there is none, ErrPreconditionFailed
	// when it differs). The write gets the next LSN of its partition and
	// the given TTL (zero: never expires). It returns the document as
	// written and whether it was created (no live document before).
	PutDoc(ctx context.Context, c Container, p DocPut) (doc Doc, created bool, err error)
	// DeleteDoc deletes a live document (ErrNotFound if none), under
	// the same IfLSN condition as PutDoc.
	DeleteDoc(ctx context.Context, c Container, k DocKey, ifLSN uint64) error

	// ReadFeed reads one page of the change feed of one partition. See
	// FeedRead for the scope and start, FeedPage for the result.
	ReadFeed(ctx context.Context, c Container, r FeedRead) (FeedPage, error)
}

// Database is a database entry.
type Database struct {
	ID    string
	Props []byte // opaque: stored at creation, returned as is
}

// ContainerSpec is a container to create.
type ContainerSpec struct {
	Database string
	ID       string
	// Scheme is how the container hashes partition keys into EPKs (the
	// backend places documents by DocKey.EPK, which the surface computes
	// with it; a backend that derives EPKs itself needs it too).
	Scheme epk.Scheme
	// Ranges is the EPK layout wanted, one range per partition, sorted
	// and tiling "".."FF" (epk.Ranges or epk.RangesV1).
	Ranges []epk.Range
	Props  []byte // opaque: stored at creation, returned as is
}

// Container is an existing container.
type Container struct {
	Database string
	ID       string
	// Ranges are the live partition key ranges, sorted by Min and tiling
	// "".."FF"; Ranges[i].ID names it in FeedRead and on the wire.
	Ranges []Range
	Props  []byte
	// Handle is the backend's own reference (the cache name, an epoch);
	// the surface passes Container back unchanged and never reads it.
	Handle any
}

// Range is one physical partition key range.
type Range struct {
	ID       string // the partition index in decimal, unique for the container's life
	Min, Max string // EPK bounds [Min, Max)
	Parents  []string
}

// DocKey identifies a document: its id within a logical partition.
type DocKey struct {
	// EPK is the effective partition key of PK (uppercase hex): the
	// backend places the document in the partition whose range holds it.
	EPK string
	// PK is the canonical JSON array of the partition-key values, e.g.
	// ["a",1]; documents are unique per (PK, ID).
	PK string
	ID string
}

// Doc is a live document.
type Doc struct {
	Key DocKey
	// Body is the document's JSON as written (no system properties);
	// for items written by other surfaces, whatever bytes they hold.
	Body []byte
	// LSN of the document's last change in its partition; its _etag.
	LSN  uint64
	Time time.Time // commit time of the last change (_ts)
}

// PutMode selects the precondition of PutDoc.
type PutMode uint8

const (
	PutCreate PutMode = iota + 1
	PutUpsert
	PutReplace
)

// DocPut is one document write.
type DocPut struct {
	Key   DocKey
	Body  []byte
	TTL   time.Duration // zero: never expires
	Mode  PutMode
	IfLSN uint64 // zero: unconditional
}

// FeedStart is where a feed read starts.
type FeedStart uint8

const (
	// FeedAfter reads the changes with LSN > FeedRead.AfterLSN (0 = from
	// the beginning of the partition).
	FeedAfter FeedStart = iota
	// FeedNow reads nothing: the page is empty and its LSN is the
	// partition's current LSN.
	FeedNow
	// FeedSince reads from the first change committed at or after
	// FeedRead.Since; with none, the page is empty and its LSN is the
	// partition's current LSN.
	FeedSince
)

// FeedRead is one page read of one partition's change feed.
type FeedRead struct {
	// RangeID names the partition (Range.ID); one that no longer exists
	// is ErrRangeGone, one that never existed ErrNotFound.
	RangeID string
	// MinEPK and MaxEPK narrow the read to documents whose EPK is in
	// [MinEPK, MaxEPK) ("" MaxEPK: no upper bound).
	MinEPK, MaxEPK string
	// PK, when not empty, narrows the read to the documents whose
	// DocKey.PK equals it; RangeID is then the range that holds its EPK.
	PK  string
	EPK string // the EPK of PK, when PK is set
	// AllVersions reads every change (creates, replaces, deletes with
	// their previous image) instead of the latest version of each live
	// document. A start before the retained log is ErrRetention.
	AllVersions bool
	Start       FeedStart
	AfterLSN    uint64
	Since       time.Time
	// MaxItems is a page size hint (>= 1); changes of one atomic batch
	// are never split, so a page may hold more.
	MaxItems int
}

// FeedPage is the result of a feed read.
type FeedPage struct {
	// Changes in ascending LSN order. Latest-version reads return each
	// live document once, at its last LSN, with Op create or replace.
	Changes []Change
	// LSN is the position to continue after: every change in scope up
	// to it has been delivered. With no changes it is the start position
	// (FeedAfter) or the partition's current LSN (FeedNow, FeedSince).
	LSN uint64
}

// ChangeOp is the operation of a change.
type ChangeOp uint8

const (
	OpCreate ChangeOp = iota + 1
	OpReplace
	OpDelete
)

// Change is one entry of a feed page.
type Change struct {
	Op ChangeOp
	// Doc is the document after the change; for a delete, Body is nil
	// and LSN and Time are those of the delete.
	Doc Doc
	// Previous is the body before a replace or delete, when known.
	HasPrevious bool
	Previous    []byte
	PreviousLSN uint64 // the LSN of the previous image, when known
	TTLExpired  bool   // a delete that purged an expired document
}
