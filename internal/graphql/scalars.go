package graphql

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
)

// AWS scalar formats, as AppSync documents them (extended ISO 8601 for the
// date/time types, where AWSDateTime needs an offset and the others take one
// optionally).
var (
	reOffset   = `(Z|[+-]\d{2}:\d{2}(:\d{2})?)`
	reDate     = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])` + reOffset + `?$`)
	reTime     = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?` + reOffset + `?$`)
	reDateTime = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?` + reOffset + `$`)
	reEmail    = regexp.MustCompile(`^[^\s@<>()\[\],;:"]+@[^\s@<>()\[\],;:"]+\.[^\s@<>()\[\],;:".]+$`)
	rePhone    = regexp.MustCompile(`^\+?[0-9 ()\-.]{4,30}$`)
)

// validateScalar checks v (a decoded JSON or literal value) against a named
// scalar type and returns it normalised: Int as int64, Float as float64, AWSJSON
// as the JSON text. err is a short reason fit for a GraphQL message.
func validateScalar(name string, v any) (any, error) {
	switch name {
	case "Int":
		// GraphQL's Int is 32-bit; AWSTimestamp (seconds) is not.
		n, err := toInt(v)
		if err != nil || n.(int64) < math.MinInt32 || n.(int64) > math.MaxInt32 {
			return nil, fmt.Errorf("not a valid 'Int'")
		}
		return n, nil
	case "AWSTimestamp":
		n, err := toInt(v)
		if err != nil {
			return nil, fmt.Errorf("not a valid 'AWSTimestamp'")
		}
		return n, nil
	case "Float":
		switch n := v.(type) {
		case float64:
			return n, nil
		case int64:
			return float64(n), nil
		case int:
			return float64(n), nil
		}
		return nil, fmt.Errorf("not a valid 'Float'")
	case "String":
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, fmt.Errorf("not a valid 'String'")
	case "Boolean":
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, fmt.Errorf("not a valid 'Boolean'")
	case "ID":
		switch n := v.(type) {
		case string:
			return n, nil
		case int64, int:
			return fmt.Sprint(n), nil
		case float64:
			if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
				return fmt.Sprint(int64(n)), nil
			}
		}
		return nil, fmt.Errorf("not a valid 'ID'")
	case "AWSJSON":
		switch s := v.(type) {
		case string:
			if !json.Valid([]byte(s)) {
				return nil, fmt.Errorf("not a valid 'AWSJSON'")
			}
			return s, nil
		default:
			// A resolver may hand back structured data; AppSync sends it as text.
			b, err := json.Marshal(s)
			if err != nil {
				return nil, fmt.Errorf("not a valid 'AWSJSON'")
			}
			return string(b), nil
		}
	}
	s, ok := v.(string)
	if !ok {
		if isAWSScalar(name) {
			return nil, fmt.Errorf("not a valid '%s'", name)
		}
		return v, nil // a user-declared custom scalar: passed through
	}
	var valid bool
	switch name {
	case "AWSDate":
		valid = reDate.MatchString(s)
	case "AWSTime":
		valid = reTime.MatchString(s)
	case "AWSDateTime":
		valid = reDateTime.MatchString(s)
	case "AWSEmail":
		valid = len(s) <= 320 && reEmail.MatchString(s)
	case "AWSURL":
		u, err := url.Parse(s)
		valid = err == nil && u.Scheme != "" && (u.Host != "" || u.Opaque != "")
	case "AWSPhone":
		valid = rePhone.MatchString(s) && strings.IndexFunc(s, func(r rune) bool { return r >= '0' && r <= '9' }) >= 0
	case "AWSIPAddress":
		if strings.Contains(s, "/") {
			_, err := netip.ParsePrefix(s)
			valid = err == nil
		} else {
			_, err := netip.ParseAddr(s)
			valid = err == nil
		}
	default:
		return s, nil
	}
	if !valid {
		return nil, fmt.Errorf("not a valid '%s'", name)
	}
	return s, nil
}

func isAWSScalar(name string) bool {
	switch name {
	case "AWSDate", "AWSTime", "AWSDateTime", "AWSTimestamp", "AWSEmail", "AWSJSON", "AWSURL", "AWSPhone", "AWSIPAddress":
		return true
	}
	return false
}

func toInt(v any) (any, error) {
	switch n := v.(type) {
	case int64:
		return n, nil
	case int:
		return int64(n), nil
	case float64:
		if n == math.Trunc(n) && n >= math.MinInt64 && n <= math.MaxInt64 {
			return int64(n), nil
		}
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, nil
		}
	}
	return nil, fmt.Errorf("not a valid 'Int'")
}
