package chanhttp

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"orderhub/shared/fault"
	"orderhub/shared/money"
)

// ErrBadData is returned when a platform answer cannot be turned into an order (a missing id, an
// unreadable amount or time). The poller repeats the window; the message names the field only.
var ErrBadData = fault.New(fault.Internal, "bad_platform_data", "the platform sent data that cannot be read")

// ErrOrderNotFound is returned when the platform has no order with the id asked for.
var ErrOrderNotFound = fault.New(fault.NotFound, "channel_order_not_found", "the platform has no such order")

// ErrUnknownStatus is returned for a platform status the mapper does not know: the order is refused
// rather than guessed into a canonical status.
var ErrUnknownStatus = fault.New(fault.Invalid, "unknown_platform_status", "unknown platform order status")

// Scalar is a JSON string, number or boolean kept as its exact text. Amounts ("12.30" or 12.3) and ids
// (19-digit Taobao tids that do not survive a float64) arrive either way, sometimes in the same API,
// and the exact digits are what matter: no float ever touches them.
type Scalar string

// UnmarshalJSON accepts a string, a number, a boolean or null.
func (s *Scalar) UnmarshalJSON(b []byte) error { return unmarshalScalar(b, s) }

// MarshalJSON writes the scalar as a JSON string.
func (s Scalar) MarshalJSON() ([]byte, error) { return json.Marshal(string(s)) }

// Number is a Scalar the platform writes unquoted (ids, counts, Pinduoduo's yuan amounts). It reads
// like a Scalar and is written back as a JSON number, so that sandboxes answer in the platform's shape.
type Number struct{ Scalar }

// N returns a Number holding text.
func N(text string) Number { return Number{Scalar(text)} }

// MarshalJSON writes the number unquoted when it is a valid JSON number, else as a string.
func (n Number) MarshalJSON() ([]byte, error) {
	if n.Scalar == "" {
		return []byte("null"), nil
	}
	if json.Valid([]byte(n.Scalar)) && (n.Scalar[0] == '-' || (n.Scalar[0] >= '0' && n.Scalar[0] <= '9')) {
		return []byte(n.Scalar), nil
	}
	return json.Marshal(string(n.Scalar))
}

func unmarshalScalar(b []byte, s *Scalar) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		*s = ""
		return nil
	case b[0] == '"':
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		*s = Scalar(strings.TrimSpace(str))
		return nil
	case bytes.Equal(b, []byte("true")) || bytes.Equal(b, []byte("false")):
		*s = Scalar(b)
		return nil
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*s = Scalar(n)
		return nil
	}
	return fault.With(ErrBadData, "expected a string, a number or a boolean")
}

// Bool reports whether the scalar is true, "true" or 1, as platforms write flags in all three ways.
func (s Scalar) Bool() bool {
	switch strings.ToLower(strings.TrimSpace(string(s))) {
	case "true", "1":
		return true
	}
	return false
}

// String returns the text.
func (s Scalar) String() string { return string(s) }

// Money converts a yuan amount exactly; an empty amount is zero. A number written with an exponent
// (which no platform documents, but a JSON encoder may produce) goes through money.FromFloat, which
// formats the shortest round-trip decimal first.
func (s Scalar) Money(currency string) (money.Money, error) {
	t := strings.TrimSpace(string(s))
	if t == "" {
		return money.New(0, currency), nil
	}
	if strings.ContainsAny(t, "eE") {
		f, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return money.Money{}, fault.With(money.ErrInvalidAmount, "not a number")
		}
		return money.FromFloat(f, currency)
	}
	return money.Parse(t, currency)
}

// Int returns the scalar as an integer; an empty scalar is 0.
func (s Scalar) Int() (int64, error) {
	t := strings.TrimSpace(string(s))
	if t == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, fault.With(ErrBadData, "not an integer")
	}
	return n, nil
}

// Beijing is China Standard Time. The three platforms write their times in it without a zone. A
// fixed +08:00 is exact (China has had no daylight saving time since 1991) and, unlike
// time.LoadLocation("Asia/Shanghai"), needs no zone database on a slim Lambda image.
var Beijing = time.FixedZone("Asia/Shanghai", 8*60*60)

// TimeLayout is the "yyyy-MM-dd HH:mm:ss" layout the platforms use for times.
const TimeLayout = "2006-01-02 15:04:05"

// FormatTime writes t as Beijing wall time.
func FormatTime(t time.Time) string { return t.In(Beijing).Format(TimeLayout) }

// ParseTime reads a Beijing wall time; an empty or all-zero time ("0000-00-00 00:00:00",
// "1970-01-01 08:00:00" as some APIs write "never") is the zero time.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "0000-") || strings.HasPrefix(s, "0001-01-01") {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(TimeLayout, s, Beijing)
	if err != nil {
		return time.Time{}, fault.With(ErrBadData, "time %q is not yyyy-MM-dd HH:mm:ss", Clip(s, 32))
	}
	if t.Unix() <= 0 {
		return time.Time{}, nil
	}
	return t, nil
}

// Clip shortens s to n runes, for platform values quoted in error messages.
func Clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
