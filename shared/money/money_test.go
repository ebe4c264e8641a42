package money

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, cur string
		want    int64
		wantErr bool
	}{
		{"12.30", "CNY", 1230, false},
		{"12.3", "CNY", 1230, false},
		{"12", "cny", 1200, false},
		{"0.01", "CNY", 1, false},
		{".5", "USD", 50, false},
		{"-3.07", "USD", -307, false},
		{"+3.07", "USD", 307, false},
		{"1,299.00", "CNY", 129900, false},
		{"19.990", "SGD", 1999, false}, // trailing zeros beyond the exponent are exact
		{"1500", "JPY", 1500, false},   // no minor unit
		{"1.250", "KWD", 1250, false},  // three minor digits
		{"0", "CNY", 0, false},
		{"000.00", "CNY", 0, false},
		{"12.345", "CNY", 0, true}, // would lose a fen
		{"12.5", "JPY", 0, true},   // yen has no fraction
		{"", "CNY", 0, true},
		{"12.", "CNY", 0, true},
		{".", "CNY", 0, true},
		{"-", "CNY", 0, true},
		{"1e3", "CNY", 0, true},
		{"12.30元", "CNY", 0, true},
		{"NaN", "CNY", 0, true},
		{"99999999999999999999", "CNY", 0, true},
		{"1.00", "RMB1", 0, true},
	}
	for _, tc := range tests {
		got, err := Parse(tc.in, tc.cur)
		if tc.wantErr {
			if err == nil || !errors.Is(err, ErrInvalidAmount) {
				t.Errorf("Parse(%q, %q) = %v, %v; want ErrInvalidAmount", tc.in, tc.cur, got, err)
			}
			continue
		}
		if err != nil || got.Amount != tc.want {
			t.Errorf("Parse(%q, %q) = %v, %v; want %d", tc.in, tc.cur, got, err, tc.want)
		}
	}
}

func TestFromFloatIsExact(t *testing.T) {
	t.Parallel()
	a, b := 0.1, 0.2 // variables: constant arithmetic would be exact
	tests := []struct {
		f    float64
		cur  string
		want int64
	}{
		{a + b, "SGD", 0}, // 0.30000000000000004 has too many places: refused below
		{19.99, "SGD", 1999},
		{1.15, "MYR", 115}, // 1.15*100 = 114.99999999999999 in float arithmetic
		{4.35, "THB", 435},
		{299, "PHP", 29900},
		{15000, "IDR", 15000},
	}
	for i, tc := range tests {
		got, err := FromFloat(tc.f, tc.cur)
		if i == 0 {
			if err == nil {
				t.Errorf("FromFloat(0.1+0.2) = %v, want an error: the float is not a two-place amount", got)
			}
			continue
		}
		if err != nil || got.Amount != tc.want {
			t.Errorf("FromFloat(%v, %s) = %v, %v; want %d", tc.f, tc.cur, got, err, tc.want)
		}
	}
}

func TestStringRoundTrips(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0.00", "0.01", "0.10", "12.30", "-0.05", "-123456.78", "9223372036854775.80"} {
		m := MustParse(s, "CNY")
		if m.String() != s {
			t.Errorf("MustParse(%q).String() = %q", s, m.String())
		}
	}
	if got := New(1500, "JPY").String(); got != "1500" {
		t.Errorf("JPY String = %q", got)
	}
	if got := New(-1, "KWD").String(); got != "-0.001" {
		t.Errorf("KWD String = %q", got)
	}
}

func TestArithmetic(t *testing.T) {
	t.Parallel()
	a, b := New(1230, "CNY"), New(70, "CNY")
	if s, err := a.Add(b); err != nil || s.Amount != 1300 {
		t.Fatalf("Add = %v, %v", s, err)
	}
	if s, err := a.Sub(b); err != nil || s.Amount != 1160 {
		t.Fatalf("Sub = %v, %v", s, err)
	}
	if s, err := (Money{}).Add(b); err != nil || s.Currency != "CNY" {
		t.Fatalf("zero Add = %v, %v", s, err)
	}
	if _, err := a.Add(New(1, "USD")); !errors.Is(err, ErrCurrencyMismatch) {
		t.Fatalf("Add across currencies err = %v", err)
	}
	if p, err := a.Mul(3); err != nil || p.Amount != 3690 {
		t.Fatalf("Mul = %v, %v", p, err)
	}
	if _, err := New(1<<62, "CNY").Mul(4); err == nil {
		t.Fatal("Mul overflow not refused")
	}
	if _, err := New(1<<62, "CNY").Add(New(1<<62, "CNY")); err == nil {
		t.Fatal("Add overflow not refused")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"12.30", "-0.5", "1,299.00", "abc", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := Parse(s, "CNY")
		if err != nil {
			return
		}
		back, err := Parse(m.String(), "CNY")
		if err != nil || back != m {
			t.Fatalf("%q → %v → %q → %v, %v", s, m, m.String(), back, err)
		}
	})
}
