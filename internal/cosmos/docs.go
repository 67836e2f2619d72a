package cosmos

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxTTL is the largest ttl the service accepts, in seconds.
const maxTTL = math.MaxInt32

// neverLSN is an IfLSN that matches no document: an If-Match etag that is
// not one of ours still has to fail as a precondition, not as bad input.
const neverLSN = math.MaxUint64

func (h *Handler) createDoc(w http.ResponseWriter, r *http.Request, db, coll string) *Error {
	if isQuery(r) {
		return badRequest("Queries are not supported by Setsuna; read documents by id or through the change feed.")
	}
	upsert, e := parseBoolHeader(hUpsert, r.Header.Get(hUpsert))
	if e != nil {
		return e
	}
	c, ci, e := h.container(r, db, coll)
	if e != nil {
		return e
	}
	put, e := h.docPut(r, ci, "")
	if e != nil {
		return e
	}
	put.Mode = PutCreate
	if upsert {
		put.Mode = PutUpsert
		switch v := strings.TrimSpace(r.Header.Get(hIfMatch)); {
		case v == "*":
			put.Mode = PutReplace
		case v != "":
			put.IfLSN = ci.ifLSN(v)
		}
	}
	doc, created, err := h.b.PutDoc(r.Context(), c, put)
	if err != nil {
		return docError(err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	ci.writeDoc(w, status, doc)
	return nil
}

func (h *Handler) replaceDoc(w http.ResponseWriter, r *http.Request, db, coll, id string) *Error {
	c, ci, e := h.container(r, db, coll)
	if e != nil {
		return e
	}
	put, e := h.docPut(r, ci, id)
	if e != nil {
		return e
	}
	put.Mode = PutReplace
	if v := strings.TrimSpace(r.Header.Get(hIfMatch)); v != "" && v != "*" {
		put.IfLSN = ci.ifLSN(v)
	}
	doc, _, err := h.b.PutDoc(r.Context(), c, put)
	if err != nil {
		return docError(err)
	}
	ci.writeDoc(w, http.StatusOK, doc)
	return nil
}

func (h *Handler) readDoc(w http.ResponseWriter, r *http.Request, db, coll, id string) *Error {
	c, ci, key, e := h.docTarget(r, db, coll, id)
	if e != nil {
		return e
	}
	doc, err := h.b.ReadDoc(r.Context(), c, key)
	if err != nil {
		return docError(err)
	}
	etag := formatDocETag(ci.rid, doc.LSN)
	if strings.TrimSpace(r.Header.Get(hIfNoneMatch)) == etag {
		w.Header().Set("etag", etag)
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	ci.writeDoc(w, http.StatusOK, doc)
	return nil
}

func (h *Handler) deleteDoc(w http.ResponseWriter, r *http.Request, db, coll, id string) *Error {
	c, ci, key, e := h.docTarget(r, db, coll, id)
	if e != nil {
		return e
	}
	var ifLSN uint64
	if v := strings.TrimSpace(r.Header.Get(hIfMatch)); v != "" && v != "*" {
		ifLSN = ci.ifLSN(v)
	}
	if err := h.b.DeleteDoc(r.Context(), c, key, ifLSN); err != nil {
		return docError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// docTarget resolves the container and key of a point read or delete.
func (h *Handler) docTarget(r *http.Request, db, coll, id string) (Container, *containerInfo, DocKey, *Error) {
	c, ci, e := h.container(r, db, coll)
	if e != nil {
		return c, nil, DocKey{}, e
	}
	key, e := ci.headerKey(r, id)
	return c, ci, key, e
}

func isQuery(r *http.Request) bool {
	q, _ := parseBoolHeader(hIsQuery, r.Header.Get(hIsQuery))
	plan, _ := parseBoolHeader(hQueryPlan, r.Header.Get(hQueryPlan))
	return q || plan || strings.HasPrefix(r.Header.Get("Content-Type"), "application/query+json")
}

func docError(err error) *Error {
	switch e := fromBackend(err); e.Status {
	case http.StatusConflict:
		return newError(http.StatusConflict, "Entity with the specified id already exists in the system.")
	default:
		return e
	}
}

// docPut parses a document body (and, for a replace, checks it against
// urlID): its id, its partition key against the header's, its ttl.
func (h *Handler) docPut(r *http.Request, ci *containerInfo, urlID string) (DocPut, *Error) {
	body, e := readBody(r, h.maxDoc)
	if e != nil {
		return DocPut{}, e
	}
	m, err := parseObject(body)
	if err != nil {
		return DocPut{}, badRequest("The document is not a JSON object: " + err.Error() + ".")
	}
	if urlID != "" {
		if e := validID("document", urlID); e != nil {
			return DocPut{}, e
		}
		if _, ok := m.get("id"); !ok {
			m = append(members{{"id", jsonString(urlID)}}, m...)
		}
	}
	id, e := stringMember(m, "id", "document")
	if e != nil {
		return DocPut{}, e
	}
	if urlID != "" && id != urlID {
		return DocPut{}, badRequest(fmt.Sprintf("The document id %q does not match the id %q of the request URL.", trunc(id), trunc(urlID)))
	}
	vals, e := ci.PartitionKey.extract(m)
	if e != nil {
		return DocPut{}, e
	}
	pk := pkJSON(vals)
	if hv := r.Header.Get(hPartitionKey); hv != "" {
		hvals, e := parsePKHeader(hv)
		if e != nil {
			return DocPut{}, e
		}
		if hvals, e = ci.PartitionKey.full(hvals); e != nil {
			return DocPut{}, e
		}
		if pkJSON(hvals) != pk {
			return DocPut{}, &Error{Status: http.StatusBadRequest, Code: "BadRequest", Substatus: subPartitionKeyMismatch,
				Message: fmt.Sprintf("PartitionKey extracted from document doesn't match the one specified in the header (document %s, header %s).", trunc(pk), trunc(pkJSON(hvals)))}
		}
	}
	epkHex, e := ci.PartitionKey.epkOf(vals)
	if e != nil {
		return DocPut{}, e
	}
	ttl, e := ci.itemTTL(m)
	if e != nil {
		return DocPut{}, e
	}
	stored := m.without(systemProps).marshal()
	if len(stored) > h.maxDoc {
		return DocPut{}, newError(http.StatusRequestEntityTooLarge, fmt.Sprintf("Request size is too large: the limit is %d bytes.", h.maxDoc))
	}
	return DocPut{Key: DocKey{EPK: epkHex, PK: pk, ID: id}, Body: stored, TTL: ttl}, nil
}

// headerKey is the key of a point read or delete: the id and the
// partition key header (the SDK always sends it, [{}] when undefined).
func (ci *containerInfo) headerKey(r *http.Request, id string) (DocKey, *Error) {
	if e := validID("document", id); e != nil {
		return DocKey{}, e
	}
	hv := r.Header.Get(hPartitionKey)
	if hv == "" {
		return DocKey{}, badRequest("PartitionKey value must be supplied for this operation.")
	}
	vals, e := parsePKHeader(hv)
	if e != nil {
		return DocKey{}, e
	}
	if vals, e = ci.PartitionKey.full(vals); e != nil {
		return DocKey{}, e
	}
	epkHex, e := ci.PartitionKey.epkOf(vals)
	if e != nil {
		return DocKey{}, e
	}
	return DocKey{EPK: epkHex, PK: pkJSON(vals), ID: id}, nil
}

// ifLSN is the IfLSN of an If-Match etag.
func (ci *containerInfo) ifLSN(etag string) uint64 {
	if lsn, ok := parseDocETag(ci.rid, etag); ok && lsn != 0 {
		return lsn
	}
	return neverLSN
}

// itemTTL applies the container's defaultTtl and the document's ttl: with
// TTL off the document's ttl is ignored; -1 is never.
func (ci *containerInfo) itemTTL(m members) (time.Duration, *Error) {
	if ci.ttl == 0 {
		return 0, nil
	}
	secs := int64(ci.ttl)
	if raw, ok := m.get("ttl"); ok {
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || n == 0 || n < -1 || n > maxTTL {
			return 0, badRequest(fmt.Sprintf("The value %s of the ttl property is invalid: use -1 or a positive number of seconds up to %d.", trunc(string(raw)), maxTTL))
		}
		secs = n
	}
	if secs < 0 {
		return 0, nil
	}
	return time.Duration(secs) * time.Second, nil
}

func (ci *containerInfo) writeDoc(w http.ResponseWriter, status int, d Doc) {
	w.Header().Set("etag", formatDocETag(ci.rid, d.LSN))
	writeJSON(w, status, ci.appendDoc(nil, d, false))
}

// appendDoc appends d with its system properties; withLSN adds _lsn, which
// only change feed items carry. The bodies this surface stores are objects
// with an id and no system properties: those are copied with the
// properties appended, without decoding them (the change feed's hot path).
func (ci *containerInfo) appendDoc(dst []byte, d Doc, withLSN bool) []byte {
	if end, ok := plainObject(d.Body); ok {
		dst = append(dst, d.Body[:end]...)
		return ci.appendSystem(append(dst, ','), d, withLSN)
	}
	return ci.appendDecoded(dst, d, withLSN)
}

// appendDecoded is appendDoc for any body: an object is decoded to drop
// system properties and add a missing id.
func (ci *containerInfo) appendDecoded(dst []byte, d Doc, withLSN bool) []byte {
	m, err := parseObject(d.Body)
	if err != nil {
		// Another surface's value: shown as a document holding it.
		m = members{{"id", jsonString(d.Key.ID)}}
		if utf8.Valid(d.Body) {
			m = m.set("value", jsonString(string(d.Body)))
		} else {
			m = m.set("valueBase64", jsonString(base64.StdEncoding.EncodeToString(d.Body)))
		}
	} else {
		m = m.without(systemProps)
		if _, ok := m.get("id"); !ok {
			m = append(members{{"id", jsonString(d.Key.ID)}}, m...)
		}
	}
	dst = m.appendTo(dst)
	dst = dst[:len(dst)-1] // reopen the object
	if len(m) > 0 {
		dst = append(dst, ',')
	}
	return ci.appendSystem(dst, d, withLSN)
}

// appendSystem appends the system properties and closes the object.
func (ci *containerInfo) appendSystem(dst []byte, d Doc, withLSN bool) []byte {
	rid := encodeRID(documentRID(ci.rid, d.Key.PK, d.Key.ID))
	dst = append(dst, `"_rid":"`...)
	dst = append(dst, rid...)
	dst = append(dst, `","_self":`...)
	dst = appendJSONString(dst, ci.Self+"docs/"+rid+"/")
	dst = append(dst, `,"_etag":`...)
	dst = appendJSONString(dst, formatDocETag(ci.rid, d.LSN))
	dst = append(dst, `,"_attachments":"attachments/"`...)
	if !d.Time.IsZero() {
		dst = append(dst, `,"_ts":`...)
		dst = strconv.AppendInt(dst, d.Time.Unix(), 10)
	}
	if withLSN {
		dst = append(dst, `,"_lsn":`...)
		dst = strconv.AppendUint(dst, d.LSN, 10)
	}
	return append(dst, '}')
}

// plainObject reports whether b is a JSON object with an "id" member and
// no system property among its top-level names (none of them escaped),
// and where its closing brace is.
func plainObject(b []byte) (closing int, ok bool) {
	if !json.Valid(b) {
		return 0, false
	}
	i := skipSpace(b, 0)
	if b[i] != '{' {
		return 0, false
	}
	hasID := false
	for i = skipSpace(b, i+1); b[i] != '}'; {
		// b is valid JSON: a member is "name" : value, then , or }.
		end := i + 1
		for b[end] != '"' {
			if b[end] == '\\' {
				return 0, false
			}
			end++
		}
		name := string(b[i+1 : end])
		if name == "id" {
			hasID = true
		} else if len(name) > 0 && name[0] == '_' && slices.Contains(systemProps, name) {
			return 0, false
		}
		i = skipValue(b, skipSpace(b, skipSpace(b, end+1)+1))
		if i = skipSpace(b, i); b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return i, hasID
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index after the valid JSON value at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	for i < len(b) && !strings.ContainsRune(",}] \t\r\n", rune(b[i])) {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i].
func skipString(b []byte, i int) int {
	for i++; b[i] != '"'; i++ {
		if b[i] == '\\' {
			i++
		}
	}
	return i + 1
}
