package rules

import (
	"context"
	"errors"
)

// Store keeps the saved rule sets, every version (the port; adapters in shared/store).
type Store interface {
	// CurrentRules returns the newest saved rule set, or ErrNoRuleSet when none was saved.
	CurrentRules(ctx context.Context) (RuleSet, error)
	// SaveRules stores set as the new current version; a version that exists already is
	// ErrVersionConflict and nothing is written.
	SaveRules(ctx context.Context, set RuleSet) error
}

// ErrNoRuleSet says no rule set was saved yet: the default set is in force.
var ErrNoRuleSet = errors.New("no rule set saved")
