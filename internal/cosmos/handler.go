package cosmos

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Options configure a Handler.
type Options struct {
	// MasterKey is the account key, base64 (default EmulatorKey).
	MasterKey string
	// Skew is how far x-ms-date may be from now (default DefaultSkew).
	Skew time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// AccountID is the account's id in GET / (default "setsuna"; never
	// "localhost", which makes the SDK ignore the endpoints it is given).
	AccountID string
	// MaxDocumentSize bounds a document (default 2 MB, the service's).
	MaxDocumentSize int
	// NoMasterKey refuses master-key requests: only resource tokens are
	// accepted (Setsuna with --auth and no --cosmos-key).
	NoMasterKey bool
	// Identify returns the context the Backend's calls of an authenticated
	// request run with: for the master key (resourceToken "") the
	// account's caller, for a resource token the caller it names, or an
	// error (a *Error, or anything, which is a 401). Default: ctx as is,
	// and resource tokens refused.
	Identify func(ctx context.Context, resourceToken string) (context.Context, error)
}

// DefaultMaxDocumentSize is the service's document size limit.
const DefaultMaxDocumentSize = 2 << 20

// maxResourceBody bounds database and container request bodies.
const maxResourceBody = 256 << 10

// Handler serves the Cosmos REST API over a Backend.
type Handler struct {
	b         Backend
	auth      authenticator
	identify  func(context.Context, string) (context.Context, error)
	now       func() time.Time
	accountID string
	maxDoc    int
}

// New returns a Handler for b.
func New(b Backend, o Options) (*Handler, error) {
	if o.MasterKey == "" {
		o.MasterKey = EmulatorKey
	}
	key, err := base64.StdEncoding.DecodeString(o.MasterKey)
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("cosmos: the master key is not base64")
	}
	if o.Skew <= 0 {
		o.Skew = DefaultSkew
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.AccountID == "" {
		o.AccountID = "setsuna"
	}
	if o.AccountID == "localhost" {
		return nil, fmt.Errorf("cosmos: account id localhost makes the SDK ignore its endpoints")
	}
	if o.MaxDocumentSize <= 0 {
		o.MaxDocumentSize = DefaultMaxDocumentSize
	}
	if o.NoMasterKey {
		key = nil
	}
	if o.Identify == nil {
		o.Identify = func(ctx context.Context, tok string) (context.Context, error) {
			if tok != "" {
				return nil, unauthorized("Resource tokens are not accepted by this server; use the account's master key.")
			}
			return ctx, nil
		}
	}
	return &Handler{b: b, auth: authenticator{key: key, skew: o.Skew, now: o.Now}, identify: o.Identify, now: o.Now, accountID: o.AccountID, maxDoc: o.MaxDocumentSize}, nil
}

// ServeHTTP authenticates, routes and answers one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set(hActivityID, newActivityID())
	hd.Set(hRequestCharge, "1")
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			writeError(w, newError(http.StatusInternalServerError, "internal error"))
		}
	}()
	segs, ok := pathSegments(r)
	if !ok {
		writeError(w, badRequest("The request path is not valid."))
		return
	}
	tok, e := h.auth.check(r, segs)
	if e != nil {
		writeError(w, e)
		return
	}
	ctx, err := h.identify(r.Context(), tok)
	if err != nil {
		var ce *Error
		if !errors.As(err, &ce) {
			ce = unauthorized("The input authorization token can't serve the request.")
		}
		writeError(w, ce)
		return
	}
	r = r.WithContext(ctx)
	if e := h.route(w, r, segs); e != nil {
		writeError(w, e)
	}
}

// pathSegments decodes the request path. The SDK builds URLs with
// encodeURI, which leaves "?" as is, so an id with "?" arrives as a query
// string: the whole request target is the path.
func pathSegments(r *http.Request) ([]string, bool) {
	raw := r.URL.EscapedPath()
	if r.URL.RawQuery != "" || r.URL.ForceQuery {
		raw += "?" + r.URL.RawQuery
	}
	raw = strings.Trim(raw, "/")
	if raw == "" {
		return nil, true
	}
	parts := strings.Split(raw, "/")
	if len(parts) > 8 {
		return nil, false
	}
	for i, p := range parts {
		s, err := url.PathUnescape(p)
		if err != nil || s == "" {
			return nil, false
		}
		parts[i] = s
	}
	return parts, true
}

func (h *Handler) route(w http.ResponseWriter, r *http.Request, s []string) *Error {
	m := r.Method
	switch {
	case len(s) == 0:
		if m == http.MethodGet {
			return h.account(w, r)
		}
	case s[0] != "dbs":
		return newError(http.StatusNotFound, fmt.Sprintf("Resource type %q is not supported by Setsuna.", trunc(s[0])))
	case len(s) == 1:
		switch m {
		case http.MethodGet:
			return h.listDatabases(w, r)
		case http.MethodPost:
			return h.createDatabase(w, r)
		}
	case len(s) == 2:
		switch m {
		case http.MethodGet:
			return h.readDatabase(w, r, s[1])
		case http.MethodDelete:
			return h.deleteDatabase(w, r, s[1])
		}
	case s[2] != "colls":
		return newError(http.StatusNotFound, fmt.Sprintf("Resource type %q is not supported by Setsuna.", trunc(s[2])))
	case len(s) == 3:
		switch m {
		case http.MethodGet:
			return h.listContainers(w, r, s[1])
		case http.MethodPost:
			return h.createContainer(w, r, s[1])
		}
	case len(s) == 4:
		switch m {
		case http.MethodGet:
			return h.readContainer(w, r, s[1], s[3])
		case http.MethodDelete:
			return h.deleteContainer(w, r, s[1], s[3])
		}
	case len(s) == 5 && s[4] == "pkranges":
		if m == http.MethodGet {
			return h.partitionKeyRanges(w, r, s[1], s[3])
		}
	case s[4] != "docs":
		return newError(http.StatusNotFound, fmt.Sprintf("Resource type %q is not supported by Setsuna.", trunc(s[4])))
	case len(s) == 5:
		switch m {
		case http.MethodGet:
			return h.docsFeed(w, r, s[1], s[3])
		case http.MethodPost:
			return h.createDoc(w, r, s[1], s[3])
		}
	case len(s) == 6:
		switch m {
		case http.MethodGet:
			return h.readDoc(w, r, s[1], s[3], s[5])
		case http.MethodPut:
			return h.replaceDoc(w, r, s[1], s[3], s[5])
		case http.MethodDelete:
			return h.deleteDoc(w, r, s[1], s[3], s[5])
		}
	default:
		return newError(http.StatusNotFound, "The requested resource is not supported by Setsuna.")
	}
	return newError(http.StatusMethodNotAllowed, fmt.Sprintf("%s is not supported on this resource by Setsuna.", m))
}

func newActivityID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0F | 0x40
	b[8] = b[8]&0x3F | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// writeJSON sends a JSON body with status.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// readBody reads at most limit bytes of the request body.
func readBody(r *http.Request, limit int) ([]byte, *Error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, badRequest("The request body could not be read.")
	}
	if len(b) > limit {
		return nil, newError(http.StatusRequestEntityTooLarge, fmt.Sprintf("Request size is too large: the limit is %d bytes.", limit))
	}
	return b, nil
}

// validID checks a resource id as the service does: 1..255 characters,
// none of / \ ? #, no trailing space.
func validID(what, id string) *Error {
	switch {
	case id == "":
		return badRequest(fmt.Sprintf("The %s id must not be empty.", what))
	case len(id) > 255:
		return badRequest(fmt.Sprintf("The %s id is longer than 255 characters.", what))
	case strings.ContainsAny(id, `/\?#`):
		return badRequest(fmt.Sprintf("The %s id %q contains an invalid character (/ \\ ? #).", what, trunc(id)))
	case strings.HasSuffix(id, " "):
		return badRequest(fmt.Sprintf("The %s id %q ends with a space.", what, trunc(id)))
	}
	return nil
}

// --- account -------------------------------------------------------

func (h *Handler) account(w http.ResponseWriter, r *http.Request) *Error {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	endpoint := scheme + "://" + r.Host + "/"
	loc := []map[string]string{{"name": "setsuna", "databaseAccountEndpoint": endpoint}}
	body, _ := json.Marshal(map[string]any{
		"id": h.accountID, "_rid": h.accountID + ".setsuna", "_self": "", "_etag": "",
		"_dbs": "//dbs/", "media": "//media/", "addresses": "//addresses/",
		"writableLocations": loc, "readableLocations": loc,
		"enableMultipleWriteLocations": false,
		"userConsistencyPolicy":        map[string]string{"defaultConsistencyLevel": "Session"},
		"userReplicationPolicy":        map[string]any{"asyncReplication": false, "minReplicaSetSize": 1, "maxReplicasetSize": 1},
		"systemReplicationPolicy":      map[string]any{"minReplicaSetSize": 1, "maxReplicasetSize": 1},
		"readPolicy":                   map[string]int{"primaryReadCoefficient": 1, "secondaryReadCoefficient": 1},
		// .NET and Java read it as a JSON string.
		"queryEngineConfiguration": `{"maxSqlQueryInputLength":262144,"maxJoinsPerSqlQuery":5,"maxLogicalAndPerSqlQuery":500,"maxLogicalOrPerSqlQuery":500,"maxUdfRefPerSqlQuery":10,"maxInExpressionItemsCount":16000,"queryMaxInMemorySortDocumentCount":500,"maxQueryRequestTimeoutFraction":0.9,"sqlAllowNonFiniteNumbers":false,"sqlAllowAggregateFunctions":true,"sqlAllowSubQuery":true,"sqlAllowScalarSubQuery":true,"allowNewKeywords":true,"sqlAllowLike":true,"sqlAllowGroupByClause":true,"maxSpatialQueryCells":12,"spatialMaxGeometryPointCount":256,"sqlDisableOptimizationFlags":0,"sqlAllowTop":true,"enableSpatialIndexing":true}`,
	})
	writeJSON(w, http.StatusOK, body)
	return nil
}

// --- databases -----------------------------------------------------

// dbProps is what the surface keeps of a database.
type dbProps struct {
	RID string `json:"_rid"`
}

// readResource reads the body of a database or container create: a JSON
// object with a valid id.
func readResource(r *http.Request, what string) (members, string, *Error) {
	body, e := readBody(r, maxResourceBody)
	if e != nil {
		return nil, "", e
	}
	m, err := parseObject(body)
	if err != nil {
		return nil, "", badRequest("The request body is not a JSON object: " + err.Error() + ".")
	}
	id, e := stringMember(m, "id", what)
	return m, id, e
}

func (h *Handler) createDatabase(w http.ResponseWriter, r *http.Request) *Error {
	m, id, e := readResource(r, "database")
	if e != nil {
		return e
	}
	rid := encodeRID(newDatabaseRID())
	props := m.without(systemProps).
		set("id", jsonString(id)).
		set("_rid", jsonString(rid)).
		set("_self", jsonString("dbs/"+rid+"/")).
		set("_etag", jsonString(newResourceETag())).
		set("_colls", jsonString("colls/")).
		set("_users", jsonString("users/")).
		set("_ts", json.RawMessage(strconv.FormatInt(h.now().Unix(), 10))).
		marshal()
	if err := h.b.CreateDatabase(r.Context(), Database{ID: id, Props: props}); err != nil {
		return conflictOr(err, "database", id, "", "")
	}
	writeJSON(w, http.StatusCreated, props)
	return nil
}

func (h *Handler) readDatabase(w http.ResponseWriter, r *http.Request, id string) *Error {
	d, err := h.b.Database(r.Context(), id)
	if err != nil {
		return notFoundOr(err, "database", id)
	}
	writeJSON(w, http.StatusOK, d.Props)
	return nil
}

func (h *Handler) listDatabases(w http.ResponseWriter, r *http.Request) *Error {
	ds, err := h.b.Databases(r.Context())
	if err != nil {
		return fromBackend(err)
	}
	items := make([]json.RawMessage, len(ds))
	for i, d := range ds {
		items[i] = d.Props
	}
	writeFeedList(w, "", "Databases", items)
	return nil
}

func (h *Handler) deleteDatabase(w http.ResponseWriter, r *http.Request, id string) *Error {
	if err := h.b.DeleteDatabase(r.Context(), id); err != nil {
		return notFoundOr(err, "database", id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// writeFeedList sends a resource list: {"_rid", "<key>": [...], "_count"}.
func writeFeedList(w http.ResponseWriter, rid, key string, items []json.RawMessage) {
	if items == nil {
		items = []json.RawMessage{}
	}
	body, _ := json.Marshal(map[string]any{"_rid": rid, key: items, "_count": len(items)})
	w.Header().Set(hItemCount, strconv.Itoa(len(items)))
	writeJSON(w, http.StatusOK, body)
}

func notFoundOr(err error, what, id string) *Error {
	if errors.Is(err, ErrNotFound) {
		return newError(http.StatusNotFound, fmt.Sprintf("Resource Not Found: %s %q does not exist.", what, trunc(id)))
	}
	return fromBackend(err)
}

// conflictOr maps a create's error; ErrNotFound is about the parent.
func conflictOr(err error, what, id, parent, parentID string) *Error {
	if errors.Is(err, ErrConflict) {
		return newError(http.StatusConflict, fmt.Sprintf("Resource with specified id, name, or unique index already exists: %s %q.", what, trunc(id)))
	}
	return notFoundOr(err, parent, parentID)
}

func newResourceETag() string {
	var b [8]byte
	rand.Read(b[:])
	return fmt.Sprintf(`"%x-0000-0000-0000-%x"`, b[:4], b[4:])
}
