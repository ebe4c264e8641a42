package pii

import (
	"strings"
	"testing"
)

func TestMaskPhone(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"13812345678":       "138****5678",
		"+86 138-1234-5678": "138****5678",
		"008613812345678":   "138****5678",
		"+6591234567":       "+65****4567",
		"12345":             "***45",
		"1":                 "*",
		"":                  "",
		"abc":               "",
	}
	for in, want := range tests {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskAddressHidesDigitsAndMost(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"建国路88号SOHO现代城2号楼1801": "建国路****",
		"88 Market Street":     "****",
		"中关村大街甲59号文化大厦":        "中关村大街甲****",
		"abc":                  "a****",
		"":                     "",
	}
	for in, want := range tests {
		got := MaskAddress(in)
		if got != want {
			t.Errorf("MaskAddress(%q) = %q, want %q", in, got, want)
		}
		if strings.ContainsAny(got, "0123456789") {
			t.Errorf("MaskAddress(%q) leaks a digit: %q", in, got)
		}
	}
}

func TestMaskName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"张三丰": "张**", "Jane": "J***", "王": "*", " ": ""} {
		if got := MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHasherMatchesEquivalentPhonesAndDependsOnKey(t *testing.T) {
	t.Parallel()
	h := NewHasher([]byte("k1"))
	a, b := h.Phone("+86 138 1234 5678"), h.Phone("13812345678")
	if a == "" || a != b {
		t.Fatalf("equivalent phones hash differently: %q %q", a, b)
	}
	if h.Phone("13812345679") == a {
		t.Fatal("different phones hash equally")
	}
	if NewHasher([]byte("k2")).Phone("13812345678") == a {
		t.Fatal("hash does not depend on the key")
	}
	if strings.Contains(a, "5678") {
		t.Fatal("hash reveals digits")
	}
	if h.Phone("") != "" || h.Text("  ") != "" {
		t.Fatal("empty values must hash to empty")
	}
	if h.Text("北京市  朝阳区") != h.Text("北京市 朝阳区") {
		t.Fatal("Text does not collapse whitespace")
	}
}
