package store

import (
	"errors"
	"strings"
	"testing"

	"github.com/setsuna-io/setsuna/internal/errs"
)

func TestParseInt64(t *testing.T) {
	f := func(in string, want int64, ok bool) {
		t.Helper()
		got, gotOK := ParseInt64([]byte(in))
		if got != want || gotOK != ok {
			t.Fatalf("ParseInt64(%q) = %d, %v; want %d, %v", in, got, gotOK, want, ok)
		}
	}
	f("0", 0, true)
	f("-0", 0, true)
	f("007", 7, true)
	f("9223372036854775807", 9223372036854775807, true)
	f("-9223372036854775808", -9223372036854775808, true)
	f("9223372036854775808", 0, false)
	f("-9223372036854775809", 0, false)
	f("", 0, false)
	f("-", 0, false)
	f("+1", 0, false)
	f(" 1", 0, false)
	f("1_000", 0, false)
	f("1.5", 0, false)
	f("99999999999999999999999", 0, false)
}

func TestCheckCacheConfig(t *testing.T) {
	parts, attrs, err := CheckCacheConfig("c", CacheConfig{Attrs: map[string]string{"a": "b"}}, 4)
	if err != nil || parts != 4 || attrs["a"] != "b" {
		t.Fatalf("defaults: %d %v %v", parts, attrs, err)
	}
	f := func(name string, cfg CacheConfig, want error) {
		t.Helper()
		if _, _, err := CheckCacheConfig(name, cfg, 4); !errors.Is(err, want) {
			t.Fatalf("CheckCacheConfig(%q, %+v) = %v, want %v", name, cfg, err, want)
		}
	}
	f("", CacheConfig{}, errs.ErrInvalidName)
	f("has space", CacheConfig{}, errs.ErrInvalidName)
	f("c", CacheConfig{Partitions: -1}, errs.ErrInvalidArgument)
	f("c", CacheConfig{Partitions: 100000}, errs.ErrInvalidArgument)
	f("c", CacheConfig{KeyScheme: 99}, errs.ErrInvalidArgument)
	f("c", CacheConfig{Attrs: map[string]string{"": "x"}}, errs.ErrInvalidArgument)
	f("c", CacheConfig{Attrs: map[string]string{"a": strings.Repeat("x", MaxAttrsSize)}}, errs.ErrInvalidArgument)
}

func TestCheckElement(t *testing.T) {
	if err := CheckElement(make([]byte, MaxElementSize), "field"); err != nil {
		t.Fatalf("an element of MaxElementSize: %v", err)
	}
	big := make([]byte, MaxElementSize+1)
	if err := CheckElement(big, "field"); !errors.Is(err, errs.ErrElementTooLarge) || !strings.Contains(err.Error(), "field") {
		t.Fatalf("an element over MaxElementSize: %v", err)
	}
	if err := CheckElements([][]byte{nil, big}, "value"); !errors.Is(err, errs.ErrElementTooLarge) {
		t.Fatalf("CheckElements with one too large: %v", err)
	}
}
