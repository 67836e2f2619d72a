package cosmos

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// Resource ids (_rid) are base64 of 4 bytes for a database, the database's
// 4 plus 4 for a container (high bit set, as the service does), and the
// container's 8 plus 8 for a document, with "/" written as "-" so that
// they fit in paths. The SDK's session container checks the 8-byte
// length of a container rid.

func newDatabaseRID() []byte {
	b := make([]byte, 4)
	rand.Read(b)
	return b
}

func newContainerRID(db []byte) []byte {
	b := make([]byte, 8)
	copy(b, db)
	rand.Read(b[4:])
	b[4] |= 0x80
	return b
}

// documentRID is stable for a (container, partition key, id): it is not
// stored, so it is derived.
func documentRID(coll []byte, pk, id string) []byte {
	h := sha256.New()
	h.Write([]byte(pk))
	h.Write([]byte{0})
	h.Write([]byte(id))
	b := make([]byte, 0, 16)
	b = append(b, coll...)
	return append(b, h.Sum(nil)[:16-len(coll)]...)
}

func encodeRID(b []byte) string {
	return strings.ReplaceAll(base64.StdEncoding.EncodeToString(b), "/", "-")
}

func decodeRID(s string) ([]byte, bool) {
	b, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(s, "-", "/"))
	return b, err == nil
}
