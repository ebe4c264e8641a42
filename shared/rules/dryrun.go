package rules

import (
	"slices"
	"time"

	"orderhub/shared/order"
)

// Diff is what a candidate rule set would change on one order compared with the current set.
type Diff struct {
	OrderID      string          `json:"order_id"`
	Key          order.Key       `json:"key"`
	TagsAdded    []string        `json:"tags_added,omitempty"`
	TagsRemoved  []string        `json:"tags_removed,omitempty"`
	HoldsAdded   []HoldDecision  `json:"holds_added,omitempty"`   // with the candidate's rule
	HoldsRemoved []HoldDecision  `json:"holds_removed,omitempty"` // with the current set's rule
	Route        *RouteChange    `json:"route,omitempty"`
	Priority     *PriorityChange `json:"priority,omitempty"`
	Error        string          `json:"error,omitempty"`         // the candidate failed on this order
	CurrentError string          `json:"current_error,omitempty"` // the current set failed on this order
}

// RouteChange is a changed destination; From or To is nil when no route rule matched.
type RouteChange struct {
	From *RouteDecision `json:"from"`
	To   *RouteDecision `json:"to"`
}

// PriorityChange is a changed queue.
type PriorityChange struct {
	From Priority `json:"from"`
	To   Priority `json:"to"`
}

// Changed reports whether the diff holds any change or error.
func (d Diff) Changed() bool {
	return len(d.TagsAdded)+len(d.TagsRemoved)+len(d.HoldsAdded)+len(d.HoldsRemoved) > 0 ||
		d.Route != nil || d.Priority != nil || d.Error != "" || d.CurrentError != ""
}

// DryRun evaluates candidate and current (nil: no rules) over orders and returns, for each order
// whose outcome would differ or on which either set fails, what would change, in the orders'
// order. It changes nothing: orders are only read. facts may be nil (zero Facts); both sets see
// the same facts, and a zero Facts.Now is fixed once per order so that both see the same time.
// A route counts as changed when its destination, fallback or split flag differs, not when only
// the deciding rule does.
func DryRun(candidate, current *Compiled, orders []order.Order, facts func(order.Order) Facts) []Diff {
	var out []Diff
	for i := range orders {
		o := orders[i]
		var f Facts
		if facts != nil {
			f = facts(o)
		}
		if f.Now.IsZero() {
			f.Now = time.Now()
		}
		next, nextErr := candidate.Evaluate(o, f)
		prev, prevErr := current.Evaluate(o, f)
		d := Diff{OrderID: o.ID, Key: o.Key()}
		if nextErr != nil {
			d.Error = nextErr.Error()
		}
		if prevErr != nil {
			d.CurrentError = prevErr.Error()
		}
		if nextErr == nil && prevErr == nil {
			d.TagsAdded, d.TagsRemoved = setDiff(prev.TagNames(), next.TagNames())
			for _, h := range next.Holds {
				if !slices.Contains(prev.HoldCodes(), h.Code) {
					d.HoldsAdded = append(d.HoldsAdded, h)
				}
			}
			for _, h := range prev.Holds {
				if !slices.Contains(next.HoldCodes(), h.Code) {
					d.HoldsRemoved = append(d.HoldsRemoved, h)
				}
			}
			if !sameDestination(prev.Route, next.Route) {
				d.Route = &RouteChange{From: prev.Route, To: next.Route}
			}
			if prev.Priority.Level != next.Priority.Level {
				d.Priority = &PriorityChange{From: prev.Priority.Level, To: next.Priority.Level}
			}
		}
		if d.Changed() {
			out = append(out, d)
		}
	}
	return out
}

// setDiff returns the elements of b missing from a, and those of a missing from b.
func setDiff(a, b []string) (added, removed []string) {
	for _, x := range b {
		if !slices.Contains(a, x) {
			added = append(added, x)
		}
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			removed = append(removed, x)
		}
	}
	return added, removed
}

func sameDestination(a, b *RouteDecision) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Warehouse == b.Warehouse && a.Supplier == b.Supplier && a.SplitAllowed == b.SplitAllowed &&
		slices.Equal(a.Fallback, b.Fallback)
}
