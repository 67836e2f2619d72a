package cosmos

import (
	"fmt"
	"net/http"
	"strconv"
)

// docsFeed answers GET .../docs: with A-IM it is the change feed of one
// partition key range, a part of one (x-ms-start-epk/x-ms-end-epk) or one
// logical partition (x-ms-documentdb-partitionkey).
func (h *Handler) docsFeed(w http.ResponseWriter, r *http.Request, db, coll string) *Error {
	mode, e := parseAIM(r.Header.Get(hAIM))
	if e != nil {
		return e
	}
	if mode == notFeed {
		return badRequest("Listing documents is not supported by Setsuna; read the change feed (A-IM: Incremental Feed) instead.")
	}
	start, e := parseFeedStart(r.Header.Get(hIfNoneMatch), r.Header.Get(hIfModifiedSince))
	if e != nil {
		return e
	}
	if mode == allVersions && (start.Kind == startBeginning || start.Kind == startTime) {
		return badRequest(retentionMessage)
	}
	size, e := parseMaxItemCount(r.Header.Get(hMaxItemCount))
	if e != nil {
		return e
	}
	c, ci, e := h.container(r, db, coll)
	if e != nil {
		return e
	}
	fr, rg, e := ci.feedScope(r, c)
	if e != nil {
		return e
	}
	fr.AllVersions = mode == allVersions
	fr.MaxItems = size
	switch start.Kind {
	case startNow:
		fr.Start = FeedNow
	case startAfter:
		fr.Start, fr.AfterLSN = FeedAfter, start.LSN
	case startTime:
		fr.Start, fr.Since = FeedSince, start.Time
	}
	page, err := h.b.ReadFeed(r.Context(), c, fr)
	if err != nil {
		return fromBackend(err)
	}

	body := []byte(`{"_rid":`)
	body = appendJSONString(body, ci.RID)
	body = append(body, `,"Documents":[`...)
	n := 0
	for _, ch := range page.Changes {
		if !fr.inScope(ch.Doc.Key) || !fr.AllVersions && ch.Op == OpDelete {
			continue // the backend's filter is the contract; this is a guard
		}
		if n > 0 {
			body = append(body, ',')
		}
		if fr.AllVersions {
			body = ci.appendChange(body, ch)
		} else {
			body = ci.appendDoc(body, ch.Doc, true)
		}
		n++
	}

	hd := w.Header()
	hd.Set("etag", formatFeedETag(page.LSN))
	hd.Set(hPKRangeID, rg.ID)
	hd.Set("lsn", strconv.FormatUint(page.LSN, 10))
	hd.Set(hSessionToken, rg.ID+":-1#"+strconv.FormatUint(page.LSN, 10))
	hd.Set(hContentPath, ci.RID)
	if n == 0 {
		// Never 200 with an empty page: callers would spin.
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	hd.Set(hItemCount, strconv.Itoa(n))
	body = append(body, `],"_count":`...)
	body = strconv.AppendInt(body, int64(n), 10)
	writeJSON(w, http.StatusOK, append(body, '}'))
	return nil
}

// feedScope resolves the scope headers to a FeedRead and the range read.
// A partition key wins over a range id, as the SDK sends only it.
func (ci *containerInfo) feedScope(r *http.Request, c Container) (FeedRead, Range, *Error) {
	var fr FeedRead
	if hv := r.Header.Get(hPartitionKey); hv != "" {
		vals, e := parsePKHeader(hv)
		if e != nil {
			return fr, Range{}, e
		}
		if vals, e = ci.PartitionKey.full(vals); e != nil {
			return fr, Range{}, e
		}
		if fr.EPK, e = ci.PartitionKey.epkOf(vals); e != nil {
			return fr, Range{}, e
		}
		fr.PK = pkJSON(vals)
		i := findRange(c.Ranges, fr.EPK)
		if i < 0 {
			return fr, Range{}, newError(http.StatusInternalServerError, "no partition key range holds the partition key")
		}
		fr.RangeID = c.Ranges[i].ID
		return fr, c.Ranges[i], nil
	}
	var rg Range
	if hv := r.Header.Get(hPKRangeID); hv != "" {
		id, e := parseRangeID(hv)
		if e != nil {
			return fr, rg, e
		}
		found := false
		for _, x := range c.Ranges {
			if x.ID == id {
				rg, found = x, true
				break
			}
		}
		if !found {
			// Retired by a split (or never ours): the SDK re-reads
			// /pkranges and moves to the ranges that cover its own.
			return fr, rg, fromBackend(ErrRangeGone)
		}
	} else if len(c.Ranges) == 1 {
		rg = c.Ranges[0]
	} else {
		return fr, rg, badRequest("The change feed of a container with several partition key ranges is read per range: send x-ms-documentdb-partitionkeyrangeid or x-ms-documentdb-partitionkey.")
	}
	fr.RangeID = rg.ID
	lo, hi := rg.Min, rg.Max
	if v := r.Header.Get(hStartEPK); v != "" {
		s, e := parseEPK(hStartEPK, v)
		if e != nil {
			return fr, rg, e
		}
		lo = max(lo, s)
	}
	if v := r.Header.Get(hEndEPK); v != "" {
		s, e := parseEPK(hEndEPK, v)
		if e != nil {
			return fr, rg, e
		}
		if s != "" {
			hi = min(hi, s)
		}
	}
	if lo >= hi {
		return fr, rg, badRequest(fmt.Sprintf("The EPK range [%q, %q) does not overlap partition key range %s [%q, %q).", trunc(lo), trunc(hi), rg.ID, rg.Min, rg.Max))
	}
	if lo != rg.Min || hi != rg.Max {
		fr.MinEPK, fr.MaxEPK = lo, hi
	}
	return fr, rg, nil
}

func findRange(rs []Range, e string) int {
	for i, r := range rs {
		if r.Min <= e && e < r.Max {
			return i
		}
	}
	return -1
}

// inScope re-checks a change against the read's scope.
func (fr *FeedRead) inScope(k DocKey) bool {
	if fr.PK != "" {
		return k.PK == fr.PK
	}
	if fr.MinEPK != "" || fr.MaxEPK != "" {
		return k.EPK >= fr.MinEPK && (fr.MaxEPK == "" || k.EPK < fr.MaxEPK)
	}
	return true
}

// appendChange appends an all-versions-and-deletes item:
// {current?, previous?, metadata{operationType, lsn, crts, previousImageLSN?,
// timeToLiveExpired?, id?, partitionKey?}}.
func (ci *containerInfo) appendChange(dst []byte, ch Change) []byte {
	dst = append(dst, '{')
	if ch.Op != OpDelete {
		dst = append(dst, `"current":`...)
		dst = append(ci.appendDoc(dst, ch.Doc, true), ',')
	}
	if ch.HasPrevious && ch.Previous != nil {
		prev := Doc{Key: ch.Doc.Key, Body: ch.Previous, LSN: ch.PreviousLSN}
		dst = append(dst, `"previous":`...)
		dst = append(ci.appendDoc(dst, prev, true), ',')
	}
	op := "create"
	switch ch.Op {
	case OpReplace:
		op = "replace"
	case OpDelete:
		op = "delete"
	}
	dst = append(dst, `"metadata":{"operationType":"`...)
	dst = append(dst, op...)
	dst = append(dst, `","lsn":`...)
	dst = strconv.AppendUint(dst, ch.Doc.LSN, 10)
	dst = append(dst, `,"crts":`...)
	dst = strconv.AppendInt(dst, ch.Doc.Time.Unix(), 10)
	if ch.PreviousLSN != 0 {
		dst = append(dst, `,"previousImageLSN":`...)
		dst = strconv.AppendUint(dst, ch.PreviousLSN, 10)
	}
	if ch.Op == OpDelete {
		dst = append(dst, `,"timeToLiveExpired":`...)
		dst = strconv.AppendBool(dst, ch.TTLExpired)
		dst = append(dst, `,"id":`...)
		dst = appendJSONString(dst, ch.Doc.Key.ID)
		if pk := ci.PartitionKey.partitionKeyObject(ch.Doc.Key.PK); pk != nil {
			dst = append(dst, `,"partitionKey":`...)
			dst = append(dst, pk...)
		}
	}
	return append(dst, "}}"...)
}
