package rules

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"orderhub/shared/fault"
	"orderhub/shared/order"
)

// Decision is what a rule set decided for one order, with the rule behind every part of it.
type Decision struct {
	RuleSetVersion int64            `json:"rule_set_version"`
	Checksum       string           `json:"checksum,omitempty"`
	Tags           []TagDecision    `json:"tags,omitempty"`  // each tag once, with the first rule that added it
	Holds          []HoldDecision   `json:"holds,omitempty"` // each code once, with the first rule that raised it
	Route          *RouteDecision   `json:"route,omitempty"` // nil when no route rule matched
	Priority       PriorityDecision `json:"priority"`
	Trail          []Step           `json:"trail"` // every enabled rule, in evaluation order
}

// TagDecision is one tag and the rule that added it.
type TagDecision struct {
	Tag  string `json:"tag"`
	Rule string `json:"rule"`
}

// HoldDecision is one hold and the rule that raised it.
type HoldDecision struct {
	Code string `json:"code"`
	Note string `json:"note,omitempty"`
	Rule string `json:"rule"`
}

// RouteDecision is where the order goes: a warehouse or a dropship supplier.
type RouteDecision struct {
	Warehouse    string   `json:"warehouse,omitempty"`
	Supplier     string   `json:"supplier,omitempty"`
	Fallback     []string `json:"fallback,omitempty"` // warehouses to try next, in order
	SplitAllowed bool     `json:"split_allowed,omitempty"`
	Rule         string   `json:"rule"`
}

// PriorityDecision is the order's queue; Rule is empty when no priority rule matched.
type PriorityDecision struct {
	Level Priority `json:"level"`
	Rule  string   `json:"rule,omitempty"`
}

// Step is one rule in the trail: whether it matched and what it did, or why it did not run.
type Step struct {
	Rule    string `json:"rule"`
	Name    string `json:"name,omitempty"`
	Kind    Kind   `json:"kind"`
	Matched bool   `json:"matched"`
	Effect  string `json:"effect,omitempty"`  // e.g. "tag high_value", "hold risk_phone", "route warehouse WH-HZ"
	Skipped string `json:"skipped,omitempty"` // why the rule was not evaluated
	Error   string `json:"error,omitempty"`
}

// ErrRuleFailed is the kind and code of an *EvalError.
var ErrRuleFailed = fault.New(fault.Unprocessable, "rule_failed", "a rule failed on this order")

// EvalError is a rule that failed at run time (division by zero, an index out of range, a bad
// regular expression built from data). It unwraps to ErrRuleFailed and to the cause.
type EvalError struct {
	RuleID       string
	Field        string // when, route.warehouse_expr or route.supplier_expr
	Line, Column int    // from 1; 0 when unknown
	Message      string
	cause        error
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("rule %q %s %d:%d: %s", e.RuleID, e.Field, e.Line, e.Column, e.Message)
}

// Unwrap gives a client-safe fault error (naming the rule and position, not the data) and the cause.
func (e *EvalError) Unwrap() []error {
	return []error{fault.With(ErrRuleFailed, "rule %q %s %d:%d", e.RuleID, e.Field, e.Line, e.Column), e.cause}
}

func newEvalError(r *compiledRule, field string, err error) *EvalError {
	e := &EvalError{RuleID: r.ID, Field: field, Message: err.Error(), cause: err}
	var fe *file.Error
	if errors.As(err, &fe) {
		e.Line, e.Column, e.Message = fe.Line, fe.Column+1, fe.Message
	}
	return e
}

// Evaluate runs the enabled rules in order over o and the pipeline's facts. Tags and holds
// accumulate (a rule sees the tags earlier rules added, in tags); the first route rule that matches
// wins and later route rules are skipped; the highest priority wins. Nothing is changed: o is read
// only. A rule that fails at run time stops the evaluation with an *EvalError, and the returned
// Decision holds the trail up to and including the failing rule; the pipeline should hold the
// order (e.g. code rule_failed) rather than route it half-decided.
func (c *Compiled) Evaluate(o order.Order, facts Facts) (d Decision, err error) {
	d.Priority = PriorityDecision{Level: PriorityNormal}
	if c == nil {
		d.Trail = []Step{}
		return d, nil
	}
	d.RuleSetVersion, d.Checksum = c.set.Version, c.set.Checksum
	d.Trail = make([]Step, 0, len(c.rules))
	env := newEnv(&o, facts, c.set.Lists)
	var machine vm.VM // reused across the rules of this order; a VM is not safe for concurrent use
	var current *compiledRule
	defer func() {
		if r := recover(); r != nil {
			// Nothing here should panic; if something does, it is this order's error, not the process's.
			id := ""
			if current != nil {
				id = current.ID
			}
			err = &EvalError{RuleID: id, Field: "when", Message: "internal error", cause: fmt.Errorf("panic: %v", r)}
		}
	}()
	for i := range c.rules {
		r := &c.rules[i]
		current = r
		step := Step{Rule: r.ID, Name: r.Name, Kind: r.Kind}
		if r.Kind == KindRoute && d.Route != nil {
			step.Skipped = "route already decided by rule " + d.Route.Rule
			d.Trail = append(d.Trail, step)
			continue
		}
		matched, err := runBool(&machine, r.cond, &env)
		if err != nil {
			ee := newEvalError(r, "when", err)
			step.Error = ee.Error()
			d.Trail = append(d.Trail, step)
			return d, ee
		}
		step.Matched = matched
		if matched {
			if ee := apply(&machine, r, &env, &d, &step); ee != nil {
				step.Error = ee.Error()
				d.Trail = append(d.Trail, step)
				return d, ee
			}
		}
		d.Trail = append(d.Trail, step)
	}
	return d, nil
}

// apply records what a matched rule decides.
func apply(machine *vm.VM, r *compiledRule, env *Env, d *Decision, step *Step) *EvalError {
	switch r.Kind {
	case KindTag:
		var added []string
		for _, t := range r.Tags {
			if !slices.ContainsFunc(d.Tags, func(x TagDecision) bool { return x.Tag == t }) {
				d.Tags = append(d.Tags, TagDecision{Tag: t, Rule: r.ID})
				added = append(added, t)
			}
			if !slices.Contains(env.Tags, t) {
				env.Tags = append(env.Tags, t)
			}
		}
		if len(added) == 0 {
			step.Effect = "tags already added: " + strings.Join(r.Tags, ", ")
		} else {
			step.Effect = "tag " + strings.Join(added, ", ")
		}
	case KindHold:
		if i := slices.IndexFunc(d.Holds, func(h HoldDecision) bool { return h.Code == r.Hold.Code }); i >= 0 {
			step.Effect = "hold " + r.Hold.Code + " already raised by rule " + d.Holds[i].Rule
			break
		}
		d.Holds = append(d.Holds, HoldDecision{Code: r.Hold.Code, Note: r.Hold.Note, Rule: r.ID})
		step.Effect = "hold " + r.Hold.Code
	case KindRoute:
		rd := &RouteDecision{
			Warehouse:    r.Route.Warehouse,
			Supplier:     r.Route.Supplier,
			Fallback:     slices.Clone(r.Route.Fallback),
			SplitAllowed: r.Route.SplitAllowed,
			Rule:         r.ID,
		}
		if r.target != nil {
			field := "route.warehouse_expr"
			if r.Route.SupplierExpr != "" {
				field = "route.supplier_expr"
			}
			target, err := runString(machine, r.target, env)
			if err != nil {
				return newEvalError(r, field, err)
			}
			target = strings.TrimSpace(target)
			if target == "" {
				step.Matched = false
				step.Effect = field + " gave no target; the next route rule decides"
				return nil
			}
			if r.Route.SupplierExpr != "" {
				rd.Supplier = target
			} else {
				rd.Warehouse = target
			}
			rd.Fallback = slices.DeleteFunc(rd.Fallback, func(f string) bool { return f == rd.Warehouse })
		}
		d.Route = rd
		step.Effect = rd.describe()
	case KindPriority:
		if d.Priority.Rule == "" || r.Priority.rank() > d.Priority.Level.rank() {
			d.Priority = PriorityDecision{Level: r.Priority, Rule: r.ID}
			step.Effect = "priority " + string(r.Priority)
		} else {
			step.Effect = "priority " + string(d.Priority.Level) + " from rule " + d.Priority.Rule + " is kept"
		}
	}
	return nil
}

func runBool(machine *vm.VM, p *vm.Program, env *Env) (bool, error) {
	out, err := machine.Run(p, env)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("condition gave %T, not a bool", out)
	}
	return b, nil
}

func runString(machine *vm.VM, p *vm.Program, env *Env) (string, error) {
	out, err := machine.Run(p, env)
	if err != nil {
		return "", err
	}
	switch s := out.(type) {
	case string:
		return s, nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("target gave %T, not a string", out)
}

func (r *RouteDecision) describe() string {
	var b strings.Builder
	if r.Supplier != "" {
		b.WriteString("route supplier " + r.Supplier)
	} else {
		b.WriteString("route warehouse " + r.Warehouse)
	}
	if len(r.Fallback) > 0 {
		b.WriteString(", fallback " + strings.Join(r.Fallback, " → "))
	}
	if r.SplitAllowed {
		b.WriteString(", split allowed")
	}
	return b.String()
}

// TagNames returns the decided tags in the order they were added.
func (d Decision) TagNames() []string {
	out := make([]string, len(d.Tags))
	for i, t := range d.Tags {
		out[i] = t.Tag
	}
	return out
}

// HoldCodes returns the decided hold codes in the order they were raised.
func (d Decision) HoldCodes() []string {
	out := make([]string, len(d.Holds))
	for i, h := range d.Holds {
		out[i] = h.Code
	}
	return out
}

// OrderHolds returns the decided holds as order holds, for (*order.Order).Hold, which writes each
// to the timeline with its rule id.
func (d Decision) OrderHolds(by string, at time.Time) []order.Hold {
	out := make([]order.Hold, len(d.Holds))
	for i, h := range d.Holds {
		out[i] = order.Hold{Code: h.Code, Note: h.Note, By: by, At: at, Rule: h.Rule}
	}
	return out
}

// Events returns the timeline events for the decided tags, route and priority, each naming the
// rule that fired. Holds are not included: (*order.Order).Hold writes their events.
func (d Decision) Events(actor string, at time.Time) []order.Event {
	var out []order.Event
	for _, t := range d.Tags {
		out = append(out, order.Event{At: at, Actor: actor, Kind: "tag", Reason: "tag " + t.Tag, Rule: t.Rule})
	}
	if d.Route != nil {
		out = append(out, order.Event{At: at, Actor: actor, Kind: "route", Reason: d.Route.describe(), Rule: d.Route.Rule})
	}
	if d.Priority.Rule != "" {
		out = append(out, order.Event{At: at, Actor: actor, Kind: "priority", Reason: "priority " + string(d.Priority.Level), Rule: d.Priority.Rule})
	}
	return out
}
