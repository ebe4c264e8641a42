// Package money holds amounts as integers of minor units (fen, cents) with a currency code and converts
// the platforms' formats ("12.30" strings, floats, integer fen) exactly. No float arithmetic ever
// touches an amount.
package money

import (
	"math"
	"strconv"
	"strings"

	"orderhub/shared/fault"
)

// Money is an amount in the currency's minor unit (1 = one fen for CNY, one cent for USD).
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// ErrInvalidAmount is returned for amounts that cannot be represented exactly.
var ErrInvalidAmount = fault.New(fault.Invalid, "invalid_amount", "invalid amount")

// ErrCurrencyMismatch is returned when amounts of different currencies are combined.
var ErrCurrencyMismatch = fault.New(fault.Invalid, "currency_mismatch", "currency mismatch")

// minorDigits is ISO 4217's exponent for currencies whose exponent is not 2.
var minorDigits = map[string]int{
	"JPY": 0, "KRW": 0, "VND": 0, "IDR": 0, "CLP": 0, "ISK": 0, "HUF": 2, "TWD": 2,
	"KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}

// Digits returns the number of minor-unit digits of a currency (2 unless ISO 4217 says otherwise).
func Digits(currency string) int {
	if d, ok := minorDigits[strings.ToUpper(currency)]; ok {
		return d
	}
	return 2
}

// New returns an amount of minor units in the currency.
func New(minor int64, currency string) Money {
	return Money{Amount: minor, Currency: strings.ToUpper(currency)}
}

// Parse converts a decimal string such as "12.30", "-0.5" or "1,299.00" into minor units exactly.
// More fractional digits than the currency has are refused unless they are zeros.
func Parse(s, currency string) (Money, error) {
	currency = strings.ToUpper(strings.TrimSpace(currency))
	if len(currency) != 3 {
		return Money{}, fault.With(ErrInvalidAmount, "currency %q is not an ISO 4217 code", currency)
	}
	minor, err := parseMinor(strings.ReplaceAll(strings.TrimSpace(s), ",", ""), Digits(currency))
	if err != nil {
		return Money{}, err
	}
	return Money{Amount: minor, Currency: currency}, nil
}

// MustParse is Parse for constants in tests and sample data; it panics on a bad literal.
func MustParse(s, currency string) Money {
	m, err := Parse(s, currency)
	if err != nil {
		panic(err)
	}
	return m
}

// FromFloat converts a platform float (Shopee sends amounts as JSON numbers) exactly: the float is
// formatted with the shortest representation that round-trips, then parsed as a decimal, so 0.1+0.2
// style binary noise never reaches an amount.
func FromFloat(f float64, currency string) (Money, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Money{}, fault.With(ErrInvalidAmount, "not a finite number")
	}
	return Parse(strconv.FormatFloat(f, 'f', -1, 64), currency)
}

func parseMinor(s string, digits int) (int64, error) {
	if s == "" {
		return 0, fault.With(ErrInvalidAmount, "empty")
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && (!hasDot || frac == "") {
		return 0, fault.With(ErrInvalidAmount, "no digits")
	}
	if hasDot && frac == "" {
		return 0, fault.With(ErrInvalidAmount, "no digits after the point")
	}
	if !allDigits(whole) || !allDigits(frac) {
		return 0, fault.With(ErrInvalidAmount, "not a decimal number")
	}
	if len(frac) > digits {
		if strings.Trim(frac[digits:], "0") != "" {
			return 0, fault.With(ErrInvalidAmount, "more than %d decimal places", digits)
		}
		frac = frac[:digits]
	}
	frac += strings.Repeat("0", digits-len(frac))
	digitsOnly := strings.TrimLeft(whole+frac, "0")
	if digitsOnly == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(digitsOnly, 10, 64)
	if err != nil {
		return 0, fault.With(ErrInvalidAmount, "out of range")
	}
	if neg {
		v = -v
	}
	return v, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String formats the amount as a decimal with the currency's digits, e.g. "12.30".
func (m Money) String() string {
	digits := Digits(m.Currency)
	v := m.Amount
	sign := ""
	if v < 0 {
		sign = "-"
	}
	u := uint64(v)
	if v < 0 {
		u = uint64(-v)
	}
	s := strconv.FormatUint(u, 10)
	if digits == 0 {
		return sign + s
	}
	if len(s) <= digits {
		s = strings.Repeat("0", digits-len(s)+1) + s
	}
	return sign + s[:len(s)-digits] + "." + s[len(s)-digits:]
}

// Add returns m+o; both must have the same currency (a zero Money adopts the other's currency).
func (m Money) Add(o Money) (Money, error) {
	cur, err := common(m, o)
	if err != nil {
		return Money{}, err
	}
	sum := m.Amount + o.Amount
	if (o.Amount > 0 && sum < m.Amount) || (o.Amount < 0 && sum > m.Amount) {
		return Money{}, fault.With(ErrInvalidAmount, "overflow")
	}
	return Money{Amount: sum, Currency: cur}, nil
}

// Sub returns m-o; both must have the same currency.
func (m Money) Sub(o Money) (Money, error) {
	return m.Add(Money{Amount: -o.Amount, Currency: o.Currency})
}

// Mul returns m*n, refusing overflow.
func (m Money) Mul(n int64) (Money, error) {
	if n != 0 && m.Amount != 0 {
		p := m.Amount * n
		if p/n != m.Amount {
			return Money{}, fault.With(ErrInvalidAmount, "overflow")
		}
		return Money{Amount: p, Currency: m.Currency}, nil
	}
	return Money{Amount: 0, Currency: m.Currency}, nil
}

// IsZero reports whether the amount is zero, whatever its currency.
func (m Money) IsZero() bool { return m.Amount == 0 }

func common(a, b Money) (string, error) {
	switch {
	case a.Currency == b.Currency:
		return a.Currency, nil
	case a.Currency == "" && a.Amount == 0:
		return b.Currency, nil
	case b.Currency == "" && b.Amount == 0:
		return a.Currency, nil
	}
	return "", fault.With(ErrCurrencyMismatch, "%s and %s", a.Currency, b.Currency)
}
