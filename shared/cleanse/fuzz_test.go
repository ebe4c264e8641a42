package cleanse_test

import (
	"errors"
	"testing"

	"orderhub/shared/cleanse"
)

// FuzzValidatePhone feeds arbitrary text to the phone checks: connectors call them on whatever a
// platform sends, so no input may panic and every refusal is a typed error.
func FuzzValidatePhone(f *testing.F) {
	for _, s := range []string{"13812345678", "+86 10 1234 5678", "13812345678转1234", "138****5678", "+65 9123 4567", "", "++--", "0086", "86 13812345678"} {
		f.Add(s, "CN")
	}
	f.Add("(415) 555-0100", "US")
	f.Fuzz(func(t *testing.T, raw, region string) {
		p, err := cleanse.ParsePhone(raw, region)
		if err != nil {
			if !errors.Is(err, cleanse.ErrInvalidPhone) && !errors.Is(err, cleanse.ErrPhoneMasked) {
				t.Fatalf("ParsePhone(%q, %q) = %v, want a typed error", raw, region, err)
			}
		} else if p.E164 == "" || p.E164[0] != '+' {
			t.Fatalf("ParsePhone(%q, %q) = %+v without an E.164 number", raw, region, p)
		}
		_ = cleanse.MaskedPhoneProblem(raw, region)
	})
}
