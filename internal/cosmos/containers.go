package cosmos

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/setsuna-io/setsuna/internal/epk"
)

// containerInfo is what the surface reads back from a container's Props.
type containerInfo struct {
	RID          string          `json:"_rid"`
	Self         string          `json:"_self"`
	PartitionKey pkDef           `json:"partitionKey"`
	DefaultTTL   json.RawMessage `json:"defaultTtl"`

	rid []byte
	ttl int // 0: TTL off, -1: on without default, n: default seconds
}

func parseContainerInfo(props []byte) (*containerInfo, *Error) {
	var ci containerInfo
	if err := json.Unmarshal(props, &ci); err != nil {
		return nil, newError(http.StatusInternalServerError, "the container's stored definition is unreadable")
	}
	rid, ok := decodeRID(ci.RID)
	if !ok || len(rid) != 8 {
		return nil, newError(http.StatusInternalServerError, "the container's stored _rid is unreadable")
	}
	ci.rid = rid
	ci.PartitionKey.ensureSegs()
	ci.ttl, _ = parseDefaultTTL(ci.DefaultTTL)
	return &ci, nil
}

// parseDefaultTTL reads defaultTtl: absent or null is off, else -1 or a
// positive number of seconds.
func parseDefaultTTL(raw json.RawMessage) (int, *Error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	n, err := strconv.ParseInt(string(raw), 10, 32)
	if err != nil || n == 0 || n < -1 {
		return 0, badRequest(fmt.Sprintf("The value %s of defaultTtl is invalid: use -1 or a positive number of seconds up to 2147483647.", trunc(string(raw))))
	}
	return int(n), nil
}

func (h *Handler) createContainer(w http.ResponseWriter, r *http.Request, db string) *Error {
	m, id, e := readResource(r, "container")
	if e != nil {
		return e
	}
	pkRaw, _ := m.get("partitionKey")
	def, e := parsePKDef(pkRaw)
	if e != nil {
		return e
	}
	ttlRaw, _ := m.get("defaultTtl")
	if _, e := parseDefaultTTL(ttlRaw); e != nil {
		return e
	}
	if raw, ok := m.get("changeFeedPolicy"); ok && string(raw) != "null" {
		var p struct {
			RetentionDuration *int `json:"retentionDuration"`
		}
		if json.Unmarshal(raw, &p) != nil || p.RetentionDuration != nil && *p.RetentionDuration < 0 {
			return badRequest("The changeFeedPolicy is invalid: retentionDuration is a number of minutes >= 0.")
		}
	}
	n, e := parsePartitions(r.Header)
	if e != nil {
		return e
	}
	d, err := h.b.Database(r.Context(), db)
	if err != nil {
		return notFoundOr(err, "database", db)
	}
	var dp dbProps
	dbRID, ok := []byte(nil), false
	if json.Unmarshal(d.Props, &dp) == nil {
		dbRID, ok = decodeRID(dp.RID)
	}
	if !ok || len(dbRID) != 4 {
		return newError(http.StatusInternalServerError, "the database's stored _rid is unreadable")
	}
	ranges := epk.Ranges(n)
	if def.scheme() == epk.SchemeV1 {
		ranges = epk.RangesV1(n)
	}
	rid := encodeRID(newContainerRID(dbRID))
	pkJSONDef, _ := json.Marshal(def)
	props := m.without(systemProps).
		set("id", jsonString(id)).
		set("partitionKey", pkJSONDef)
	if _, ok := props.get("indexingPolicy"); !ok {
		props = props.set("indexingPolicy", json.RawMessage(`{"indexingMode":"consistent","automatic":true,"includedPaths":[{"path":"/*"}],"excludedPaths":[{"path":"/\"_etag\"/?"}]}`))
	}
	props = props.
		set("_rid", jsonString(rid)).
		set("_self", jsonString("dbs/"+dp.RID+"/colls/"+rid+"/")).
		set("_etag", jsonString(newResourceETag())).
		set("_ts", json.RawMessage(strconv.FormatInt(h.now().Unix(), 10))).
		set("_docs", jsonString("docs/")).
		set("_sprocs", jsonString("sprocs/")).
		set("_triggers", jsonString("triggers/")).
		set("_udfs", jsonString("udfs/")).
		set("_conflicts", jsonString("conflicts/"))
	c, err := h.b.CreateContainer(r.Context(), ContainerSpec{Database: db, ID: id, Scheme: def.scheme(), Ranges: ranges, Props: props.marshal()})
	if err != nil {
		return conflictOr(err, "container", id, "database", db)
	}
	writeJSON(w, http.StatusCreated, c.Props)
	return nil
}

func (h *Handler) container(r *http.Request, db, id string) (Container, *containerInfo, *Error) {
	c, err := h.b.Container(r.Context(), db, id)
	if err != nil {
		return c, nil, notFoundOr(err, "container", db+"/"+id)
	}
	ci, e := parseContainerInfo(c.Props)
	return c, ci, e
}

func (h *Handler) readContainer(w http.ResponseWriter, r *http.Request, db, id string) *Error {
	c, _, e := h.container(r, db, id)
	if e != nil {
		return e
	}
	writeJSON(w, http.StatusOK, c.Props)
	return nil
}

func (h *Handler) listContainers(w http.ResponseWriter, r *http.Request, db string) *Error {
	cs, err := h.b.Containers(r.Context(), db)
	if err != nil {
		return notFoundOr(err, "database", db)
	}
	rid := ""
	if d, err := h.b.Database(r.Context(), db); err == nil {
		var dp dbProps
		json.Unmarshal(d.Props, &dp)
		rid = dp.RID
	}
	items := make([]json.RawMessage, len(cs))
	for i, c := range cs {
		items[i] = c.Props
	}
	writeFeedList(w, rid, "DocumentCollections", items)
	return nil
}

func (h *Handler) deleteContainer(w http.ResponseWriter, r *http.Request, db, id string) *Error {
	if err := h.b.DeleteContainer(r.Context(), db, id); err != nil {
		return notFoundOr(err, "container", db+"/"+id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// partitionKeyRanges lists the live ranges. The SDK needs id,
// minInclusive and maxExclusive, contiguous from "" to "FF"; .NET and
// Java also read them incrementally (A-IM + If-None-Match), answered
// with 304 while nothing changed.
func (h *Handler) partitionKeyRanges(w http.ResponseWriter, r *http.Request, db, id string) *Error {
	c, ci, e := h.container(r, db, id)
	if e != nil {
		return e
	}
	sum := sha256.New()
	for _, rg := range c.Ranges {
		fmt.Fprintf(sum, "%s\x00%s\x00%s\x00", rg.ID, rg.Min, rg.Max)
	}
	etag := fmt.Sprintf(`"%x"`, sum.Sum(nil)[:8])
	w.Header().Set("etag", etag)
	if r.Header.Get(hAIM) != "" && strings.TrimSpace(r.Header.Get(hIfNoneMatch)) == etag {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	items := make([]json.RawMessage, len(c.Ranges))
	for i, rg := range c.Ranges {
		parents := rg.Parents
		if parents == nil {
			parents = []string{}
		}
		ridBytes := append(append([]byte{}, ci.rid...), byte(i>>8), byte(i), 0, 0, 0, 0, 0, 0)
		items[i], _ = json.Marshal(map[string]any{
			"_rid": encodeRID(ridBytes), "id": rg.ID, "_etag": etag,
			"minInclusive": rg.Min, "maxExclusive": rg.Max, "ridPrefix": i,
			"_self":              ci.Self + "pkranges/" + encodeRID(ridBytes) + "/",
			"throughputFraction": 1 / float64(len(c.Ranges)), "status": "online",
			"parents": parents, "_ts": 0, "lsn": 0,
		})
	}
	writeFeedList(w, ci.RID, "PartitionKeyRanges", items)
	return nil
}
