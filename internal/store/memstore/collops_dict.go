package memstore

import (
	"context"
	"strconv"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// DictionarySet writes fields; a later duplicate in items wins.
func (s *Store) DictionarySet(_ context.Context, name string, key []byte, items []store.FieldValue, ttl store.CollectionTTL) error {
	var n int64
	for _, fv := range items {
		if err := store.CheckElement(fv.Field, "dictionary field"); err != nil {
			return err
		}
		if err := store.CheckElement(fv.Value, "dictionary value"); err != nil {
			return err
		}
		n += int64(len(fv.Field) + len(fv.Value))
	}
	_, err := s.collWrite(name, key, store.KindDictionary, collNeed(key, n, len(items), dictEntryOverhead), true, ttl,
		func(c collection, _ int64) (bool, error) {
			d := c.(*dict)
			for _, fv := range items {
				d.put(string(fv.Field), clone(fv.Value))
			}
			return true, nil
		})
	return err
}

func clone(b []byte) []byte {
	out := make([]byte, len(b))
	copy(out, b)
	return out
}

// DictionaryGet returns the values of fields, in request order.
func (s *Store) DictionaryGet(_ context.Context, name string, key []byte, fields [][]byte) (values [][]byte, present []bool, found bool, err error) {
	found, err = s.collRead(name, key, store.KindDictionary, func(c collection) {
		d := c.(*dict)
		values, present = make([][]byte, len(fields)), make([]bool, len(fields))
		for i, f := range fields {
			values[i], present[i] = d.m[string(f)]
		}
	})
	return values, present, found, err
}

// DictionaryFetch returns every entry.
func (s *Store) DictionaryFetch(_ context.Context, name string, key []byte) (items []store.FieldValue, found bool, err error) {
	found, err = s.collRead(name, key, store.KindDictionary, func(c collection) {
		d := c.(*dict)
		items = make([]store.FieldValue, 0, len(d.m))
		for f, v := range d.m {
			items = append(items, store.FieldValue{Field: []byte(f), Value: v})
		}
	})
	return items, found, err
}

// DictionaryIncrement adds amount to a base-10 int64 field.
func (s *Store) DictionaryIncrement(_ context.Context, name string, key, field []byte, amount int64, ttl store.CollectionTTL) (result int64, err error) {
	if err := store.CheckElement(field, "dictionary field"); err != nil {
		return 0, err
	}
	const maxDigits = len("-9223372036854775808")
	_, err = s.collWrite(name, key, store.KindDictionary, collNeed(key, int64(len(field)+maxDigits), 1, dictEntryOverhead), true, ttl,
		func(c collection, _ int64) (bool, error) {
			d := c.(*dict)
			result = amount
			if v, ok := d.m[string(field)]; ok {
				cur, ok := store.ParseInt64(v)
				if !ok {
					return false, errs.ErrNotInteger.Withf("increment field %q", truncate(v))
				}
				result = cur + amount
				if amount > 0 && result < cur || amount < 0 && result > cur {
					return false, errs.ErrOverflow.Withf("increment %d by %d", cur, amount)
				}
			}
			d.put(string(field), strconv.AppendInt(nil, result, 10))
			return true, nil
		})
	if err != nil {
		return 0, err
	}
	return result, nil
}

// DictionaryDelete removes fields.
func (s *Store) DictionaryDelete(_ context.Context, name string, key []byte, fields [][]byte) error {
	_, err := s.collWrite(name, key, store.KindDictionary, 0, false, store.CollectionTTL{},
		func(c collection, _ int64) (changed bool, _ error) {
			d := c.(*dict)
			for _, f := range fields {
				if d.del(string(f)) {
					changed = true
				}
			}
			return changed, nil
		})
	return err
}

// DictionaryLength returns the number of fields.
func (s *Store) DictionaryLength(_ context.Context, name string, key []byte) (n int, found bool, err error) {
	found, err = s.collRead(name, key, store.KindDictionary, func(c collection) { n = c.length() })
	return n, found, err
}
