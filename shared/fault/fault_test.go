package fault

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindOfAndIs(t *testing.T) {
	t.Parallel()
	sentinel := New(Conflict, "illegal_transition", "illegal transition")
	detailed := With(sentinel, "paid → shipped")
	wrapped := fmt.Errorf("hold order: %w", detailed)

	if got := KindOf(wrapped); got != Conflict {
		t.Fatalf("KindOf = %v, want Conflict", got)
	}
	if !errors.Is(wrapped, sentinel) {
		t.Fatal("errors.Is(wrapped, sentinel) = false")
	}
	if errors.Is(wrapped, New(Conflict, "other", "illegal transition")) {
		t.Fatal("a sentinel with another code must not match")
	}
	if got := KindOf(errors.New("plain")); got != Internal {
		t.Fatalf("KindOf(plain) = %v, want Internal", got)
	}
	if got := detailed.Error(); got != "illegal transition: paid → shipped" {
		t.Fatalf("With repeats its sentinel: %q", got)
	}
	e, ok := As(wrapped)
	if !ok || e.Message != "illegal transition: paid → shipped" || e.Code != "illegal_transition" {
		t.Fatalf("As = %+v, %v", e, ok)
	}
}

func TestWrapKeepsCause(t *testing.T) {
	t.Parallel()
	cause := errors.New("disk full")
	err := Wrap(New(Internal, "", "store unavailable"), cause)
	if !errors.Is(err, cause) {
		t.Fatal("Wrap lost its cause")
	}
	if err.Code != "internal" {
		t.Fatalf("default code = %q", err.Code)
	}
}
