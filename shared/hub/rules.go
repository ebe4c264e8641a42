package hub

import (
	"context"
	"errors"
	"sync"

	"orderhub/shared/order"
	"orderhub/shared/rules"
	"orderhub/shared/store"
)

// RuleBook holds the compiled rule set in force. The router reads it for every order; saving a
// rule set swaps it.
type RuleBook struct {
	mu  sync.RWMutex
	set *rules.Compiled
}

// NewRuleBook loads the saved rule set, or the default one when none was saved.
func NewRuleBook(ctx context.Context, rs rules.Store) (*RuleBook, error) {
	set, err := rs.CurrentRules(ctx)
	if errors.Is(err, rules.ErrNoRuleSet) {
		set, err = rules.Default()
	}
	if err != nil {
		return nil, err
	}
	c, err := rules.Compile(set)
	if err != nil {
		return nil, err
	}
	return &RuleBook{set: c}, nil
}

// Current returns the compiled rule set in force.
func (b *RuleBook) Current() *rules.Compiled {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.set
}

func (b *RuleBook) swap(c *rules.Compiled) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.set = c
}

// Rules returns the rule set in force.
func (h *Hub) Rules() rules.RuleSet { return h.Book.Current().Set() }

// SaveRules compiles and type-checks a candidate edited from the set in force, stores it as the
// next version and puts it in force. An invalid candidate changes nothing (422 with every error);
// a candidate edited from an older version is a conflict (409).
func (h *Hub) SaveRules(ctx context.Context, candidate rules.RuleSet, by string) (rules.RuleSet, error) {
	current := h.Book.Current().Set()
	set, compiled, err := rules.Prepare(candidate, current, by, h.Time())
	if err != nil {
		return rules.RuleSet{}, err
	}
	if err := h.RuleStore.SaveRules(ctx, set); err != nil {
		return rules.RuleSet{}, err
	}
	h.Book.swap(compiled)
	return set, nil
}

// DryRunLimit is the most stored orders one dry run evaluates.
const DryRunLimit = 500

// DryRun evaluates a candidate rule set against the set in force over stored orders matching f
// (at most DryRunLimit, newest first) and reports what would change. It changes nothing.
func (h *Hub) DryRun(ctx context.Context, candidate rules.RuleSet, f store.Filter) ([]rules.Diff, int, error) {
	compiled, err := rules.Compile(candidate)
	if err != nil {
		return nil, 0, err
	}
	var orders []order.Order
	f.Cursor = ""
	for len(orders) < DryRunLimit {
		f.Limit = min(store.MaxLimit, DryRunLimit-len(orders))
		page, err := h.Orders.List(ctx, f)
		if err != nil {
			return nil, 0, err
		}
		orders = append(orders, page.Orders...)
		if page.Next == "" {
			break
		}
		f.Cursor = page.Next
	}
	facts := func(order.Order) rules.Facts { return rules.Facts{SKUAttrs: h.Catalogue, Now: h.Time()} }
	diffs := rules.DryRun(compiled, h.Book.Current(), orders, facts)
	if diffs == nil {
		diffs = []rules.Diff{}
	}
	return diffs, len(orders), nil
}
