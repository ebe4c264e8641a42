package dynamo_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"orderhub/shared/rules"
)

func TestRuleSets(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.CurrentRules(ctx); !errors.Is(err, rules.ErrNoRuleSet) {
		t.Fatalf("empty store: %v, want ErrNoRuleSet", err)
	}
	def, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	v2, _, err := rules.Prepare(def, def, "user:ops", at)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveRules(ctx, v2); err != nil {
		t.Fatal(err)
	}
	// Two editors saving the next version at once: exactly one wins.
	v3, _, err := rules.Prepare(v2, v2, "user:a", at.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = s.SaveRules(ctx, v3) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, rules.ErrVersionConflict):
			t.Fatalf("concurrent save: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d concurrent saves of one version won, want 1", won)
	}
	// Versions sort numerically (v10 after v9), so the newest is read back.
	got, err := s.CurrentRules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != v3.Version || got.Checksum != v3.Checksum || len(got.Rules) != len(v3.Rules) {
		t.Fatalf("current = version %d %s (%d rules), want version %d %s", got.Version, got.Checksum, len(got.Rules), v3.Version, v3.Checksum)
	}
	if _, err := rules.Compile(got); err != nil {
		t.Fatalf("read-back set does not compile: %v", err)
	}
}
