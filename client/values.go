package client

// Key is a cache key. Build one with [String] or [Bytes]; keys are compared
// byte for byte, so String("k") and Bytes([]byte("k")) are the same key.
type Key interface {
	keyBytes() []byte
}

// Value is a cache value, a value to compare against, or an element. Build one
// with [String] or [Bytes].
type Value interface {
	valueBytes() []byte
}

// String is a UTF-8 key or value.
type String string

// Bytes is a binary key or value.
type Bytes []byte

func (s String) keyBytes() []byte   { return []byte(s) }
func (s String) valueBytes() []byte { return []byte(s) }
func (b Bytes) keyBytes() []byte    { return b }
func (b Bytes) valueBytes() []byte  { return b }

var (
	_ Key   = String("")
	_ Value = String("")
	_ Key   = Bytes(nil)
	_ Value = Bytes(nil)
)

// prepareKey validates k as the SDKs do: it must be set and non-empty.
func prepareKey(k Key) ([]byte, error) {
	if k == nil {
		return nil, invalidArgument("key cannot be nil")
	}
	b := k.keyBytes()
	if len(b) == 0 {
		return nil, invalidArgument("key cannot be empty")
	}
	return b, nil
}

func prepareKeys(keys []Key) ([][]byte, error) {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		b, err := prepareKey(k)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// prepareValue validates v: it must be set; an empty value is allowed.
func prepareValue(v Value, label string) ([]byte, error) {
	if v == nil {
		return nil, invalidArgument("%s cannot be nil", label)
	}
	b := v.valueBytes()
	if b == nil {
		b = []byte{}
	}
	return b, nil
}
