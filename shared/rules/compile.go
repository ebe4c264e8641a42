package rules

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"orderhub/shared/fault"
)

// Limits on a rule set, so that one PUT cannot make every order slow to route.
const (
	MaxRules      = 1000
	MaxExprLen    = 4096
	MaxListLen    = 10000
	maxExprNodes  = 2000
	maxNameLen    = 200
	maxNoteLen    = 500
	maxIdentLen   = 64
	maxErrorsShow = 10
)

var (
	idPattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	codePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// ErrInvalidRuleSet is the kind and code of every compile error; a *CompileError unwraps to it.
var ErrInvalidRuleSet = fault.New(fault.Unprocessable, "invalid_rule_set", "invalid rule set")

// RuleError is one problem with one rule. Line and Column (both from 1) locate the problem within
// the expression named by Field; they are 0 when the problem is not inside an expression.
type RuleError struct {
	Index   int    `json:"index"`   // the rule's position in the set, from 0; -1 for the set itself
	RuleID  string `json:"rule_id"` // may be empty when the id itself is missing
	Field   string `json:"field"`   // e.g. when, route.supplier_expr, kind, hold.code, lists
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

// String renders the error as `rule "id" when 1:7: message`.
func (e RuleError) String() string {
	var b strings.Builder
	switch {
	case e.Index < 0:
		b.WriteString("rule set")
	case e.RuleID != "":
		fmt.Fprintf(&b, "rule %q", e.RuleID)
	default:
		fmt.Fprintf(&b, "rule #%d", e.Index+1)
	}
	if e.Field != "" {
		b.WriteString(" " + e.Field)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, " %d:%d", e.Line, e.Column)
	}
	b.WriteString(": " + e.Message)
	return b.String()
}

// CompileError lists every problem found in a rule set. It unwraps to a *fault.Error of kind
// fault.Unprocessable (code invalid_rule_set) whose client-safe message names each rule and
// position, so the API answers 422; the API can add Errors to the body as structured detail.
type CompileError struct {
	Errors []RuleError
	fault  *fault.Error
}

func (e *CompileError) Error() string { return e.fault.Message }

// Unwrap gives the fault error: errors.Is(err, ErrInvalidRuleSet) and fault.KindOf work.
func (e *CompileError) Unwrap() error { return e.fault }

func newCompileError(errs []RuleError) *CompileError {
	parts := make([]string, 0, min(len(errs), maxErrorsShow)+1)
	for i, e := range errs {
		if i == maxErrorsShow {
			parts = append(parts, fmt.Sprintf("and %d more", len(errs)-maxErrorsShow))
			break
		}
		parts = append(parts, e.String())
	}
	return &CompileError{Errors: errs, fault: fault.With(ErrInvalidRuleSet, "%s", strings.Join(parts, "; "))}
}

// Compiled is a rule set whose conditions are compiled and type-checked. It is immutable and safe
// for concurrent use; a nil *Compiled is an empty rule set.
type Compiled struct {
	set   RuleSet
	rules []compiledRule // enabled rules in evaluation order
}

type compiledRule struct {
	Rule
	cond   *vm.Program
	target *vm.Program // route rules with warehouse_expr or supplier_expr
}

// Set returns the rule set that was compiled.
func (c *Compiled) Set() RuleSet {
	if c == nil {
		return RuleSet{}
	}
	return c.set
}

// Version returns the compiled set's version.
func (c *Compiled) Version() int64 {
	if c == nil {
		return 0
	}
	return c.set.Version
}

// Checksum returns the compiled set's checksum.
func (c *Compiled) Checksum() string {
	if c == nil {
		return ""
	}
	return c.set.Checksum
}

// Compile checks a rule set and compiles every condition against the typed environment Env, so
// that a syntax error, an unknown field, an unknown list or a type error (a string compared with
// a number, a condition that is not a bool) is refused now and not when an order arrives. Disabled
// rules are checked too. An invalid set returns a *CompileError with every problem found.
func Compile(set RuleSet) (*Compiled, error) {
	var errs []RuleError
	setErr := func(field, format string, args ...any) {
		errs = append(errs, RuleError{Index: -1, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if len(set.Rules) > MaxRules {
		setErr("rules", "at most %d rules, got %d", MaxRules, len(set.Rules))
		return nil, newCompileError(errs)
	}
	listNames := make([]string, 0, len(set.Lists))
	for name := range set.Lists {
		listNames = append(listNames, name)
	}
	slices.Sort(listNames)
	for _, name := range listNames {
		switch {
		case !codePattern.MatchString(name) || len(name) > maxIdentLen:
			setErr("lists", "list name %q must be lower case letters, digits and _ (at most %d)", name, maxIdentLen)
		case len(set.Lists[name]) > MaxListLen:
			setErr("lists", "list %q has more than %d entries", name, MaxListLen)
		}
	}

	c := &Compiled{set: set}
	seen := map[string]int{}
	for i, r := range set.Rules {
		bad := func(field, format string, args ...any) {
			errs = append(errs, RuleError{Index: i, RuleID: r.ID, Field: field, Message: fmt.Sprintf(format, args...)})
		}
		switch {
		case strings.TrimSpace(r.ID) == "":
			bad("id", "id is required")
		case !idPattern.MatchString(r.ID) || len(r.ID) > maxIdentLen:
			bad("id", "id must be letters, digits, '_', '-' or '.' (at most %d), starting with a letter or digit", maxIdentLen)
		default:
			if first, dup := seen[r.ID]; dup {
				bad("id", "duplicate id: rule #%d has the same id", first+1)
			} else {
				seen[r.ID] = i
			}
		}
		if utf8.RuneCountInString(r.Name) > maxNameLen {
			bad("name", "name is longer than %d characters", maxNameLen)
		}
		cr := compiledRule{Rule: r}
		kindOK := checkAction(r, bad)
		if strings.TrimSpace(r.When) == "" {
			errs = append(errs, RuleError{Index: i, RuleID: r.ID, Field: "when", Line: 1, Column: 1,
				Message: "condition is required (use true for a rule that always applies)"})
		} else if prog, exprErrs := compileExpr(r.When, set.Lists, expr.AsBool()); exprErrs != nil {
			for _, e := range exprErrs {
				errs = append(errs, RuleError{Index: i, RuleID: r.ID, Field: "when", Line: e.Line, Column: e.Column, Message: e.Message})
			}
		} else {
			cr.cond = prog
		}
		if kindOK && r.Kind == KindRoute {
			field, src := "route.warehouse_expr", r.Route.WarehouseExpr
			if r.Route.SupplierExpr != "" {
				field, src = "route.supplier_expr", r.Route.SupplierExpr
			}
			if src != "" {
				prog, exprErrs := compileExpr(src, set.Lists, expr.AsKind(reflect.String))
				for _, e := range exprErrs {
					errs = append(errs, RuleError{Index: i, RuleID: r.ID, Field: field, Line: e.Line, Column: e.Column, Message: e.Message})
				}
				cr.target = prog
			}
		}
		if r.Enabled {
			c.rules = append(c.rules, cr)
		}
	}
	if len(errs) > 0 {
		return nil, newCompileError(errs)
	}
	slices.SortStableFunc(c.rules, func(a, b compiledRule) int { return a.Order - b.Order })
	return c, nil
}

// checkAction checks the action fields of r's kind and refuses those of other kinds. It reports
// whether the kind is known and its action present, so that the caller may use it.
func checkAction(r Rule, bad func(field, format string, args ...any)) bool {
	ok := true
	if !slices.Contains(Kinds(), r.Kind) {
		if r.Kind == "" {
			bad("kind", "kind is required: one of tag, hold, route, priority")
		} else {
			bad("kind", "unknown kind %q: one of tag, hold, route, priority", string(r.Kind))
		}
		return false
	}
	if r.Kind != KindTag && len(r.Tags) > 0 {
		bad("tags", "tags are only for kind tag")
	}
	if r.Kind != KindHold && r.Hold != nil {
		bad("hold", "hold is only for kind hold")
	}
	if r.Kind != KindRoute && r.Route != nil {
		bad("route", "route is only for kind route")
	}
	if r.Kind != KindPriority && r.Priority != "" {
		bad("priority", "priority is only for kind priority")
	}
	switch r.Kind {
	case KindTag:
		if len(r.Tags) == 0 {
			bad("tags", "a tag rule needs at least one tag")
			ok = false
		}
		for _, t := range r.Tags {
			if strings.TrimSpace(t) != t || t == "" || utf8.RuneCountInString(t) > maxIdentLen {
				bad("tags", "tag %q must be non-empty, at most %d characters, without surrounding spaces", t, maxIdentLen)
				ok = false
			}
		}
	case KindHold:
		switch {
		case r.Hold == nil || r.Hold.Code == "":
			bad("hold.code", "a hold rule needs a code")
			ok = false
		case !codePattern.MatchString(r.Hold.Code) || len(r.Hold.Code) > maxIdentLen:
			bad("hold.code", "code %q must be lower case letters, digits and _ (at most %d), starting with a letter", r.Hold.Code, maxIdentLen)
			ok = false
		}
		if r.Hold != nil && utf8.RuneCountInString(r.Hold.Note) > maxNoteLen {
			bad("hold.note", "note is longer than %d characters", maxNoteLen)
		}
	case KindRoute:
		if r.Route == nil {
			bad("route", "a route rule needs a target: warehouse, supplier, warehouse_expr or supplier_expr")
			return false
		}
		targets := 0
		for _, t := range []string{r.Route.Warehouse, r.Route.Supplier, r.Route.WarehouseExpr, r.Route.SupplierExpr} {
			if strings.TrimSpace(t) != "" {
				targets++
			}
		}
		switch targets {
		case 0:
			bad("route", "a route rule needs a target: warehouse, supplier, warehouse_expr or supplier_expr")
			ok = false
		case 1:
		default:
			bad("route", "a route rule has exactly one target: warehouse, supplier, warehouse_expr or supplier_expr")
			ok = false
		}
		for _, t := range [][2]string{{"route.warehouse", r.Route.Warehouse}, {"route.supplier", r.Route.Supplier}} {
			if t[1] != "" && !validTarget(t[1]) {
				bad(t[0], "%q must be letters, digits, '_', '-' or '.' (at most %d)", t[1], maxIdentLen)
				ok = false
			}
		}
		for i, f := range r.Route.Fallback {
			switch {
			case !validTarget(f):
				bad("route.fallback", "fallback[%d] %q must be a warehouse id", i, f)
				ok = false
			case f == r.Route.Warehouse:
				bad("route.fallback", "fallback[%d] %q is the target itself", i, f)
				ok = false
			case slices.Index(r.Route.Fallback, f) != i:
				bad("route.fallback", "fallback[%d] %q is listed twice", i, f)
				ok = false
			}
		}
	case KindPriority:
		if r.Priority.rank() == 0 {
			bad("priority", "priority %q must be one of low, normal, high, urgent", string(r.Priority))
			ok = false
		}
	}
	return ok
}

func validTarget(s string) bool { return idPattern.MatchString(s) && len(s) <= maxIdentLen }

// exprError is a problem inside one expression, with its position from 1.
type exprError struct {
	Line, Column int
	Message      string
}

// compileExpr compiles src against Env. expr reports the first syntax or type error with its
// position; references to lists the set does not define are collected as well.
func compileExpr(src string, lists map[string][]string, out expr.Option) (prog *vm.Program, errs []exprError) {
	if len(src) > MaxExprLen {
		return nil, []exprError{{Line: 1, Column: 1, Message: fmt.Sprintf("expression is longer than %d bytes", MaxExprLen)}}
	}
	defer func() {
		// expr recovers its own panics; this guards the checker against inputs nobody tried yet.
		if r := recover(); r != nil {
			prog, errs = nil, []exprError{{Line: 1, Column: 1, Message: fmt.Sprintf("cannot compile: %v", r)}}
		}
	}()
	check := &listCheck{lists: lists, source: file.NewSource(src)}
	prog, err := expr.Compile(src,
		expr.Env(Env{}),
		out,
		expr.MaxNodes(maxExprNodes),
		expr.Patch(check),
	)
	if err != nil {
		errs = append(errs, positioned(err))
	}
	errs = append(errs, check.errs...)
	if len(errs) > 0 {
		return nil, errs
	}
	return prog, nil
}

// positioned turns an expr error into a message and a 1-based position. expr's *file.Error has a
// 0-based column; errors without a position (e.g. a result that is not a bool) point at 1:1.
func positioned(err error) exprError {
	var fe *file.Error
	if errors.As(err, &fe) && fe.Line > 0 {
		return exprError{Line: fe.Line, Column: fe.Column + 1, Message: fe.Message}
	}
	return exprError{Line: 1, Column: 1, Message: err.Error()}
}

// listCheck is an expr patcher that only reads the tree: it finds lists.<name> and lists["name"]
// for lists the set does not define, which the type checker cannot see in a map.
type listCheck struct {
	lists  map[string][]string
	source file.Source
	seen   map[int]bool
	errs   []exprError
}

func (v *listCheck) Visit(node *ast.Node) {
	m, ok := (*node).(*ast.MemberNode)
	if !ok {
		return
	}
	id, ok := m.Node.(*ast.IdentifierNode)
	if !ok || id.Value != "lists" {
		return
	}
	name, ok := m.Property.(*ast.StringNode)
	if !ok {
		return
	}
	if _, defined := v.lists[name.Value]; defined {
		return
	}
	loc := m.Property.Location()
	if v.seen[loc.From] {
		return // patchers may walk the tree more than once
	}
	if v.seen == nil {
		v.seen = map[int]bool{}
	}
	v.seen[loc.From] = true
	fe := (&file.Error{Location: loc, Message: "x"}).Bind(v.source)
	v.errs = append(v.errs, exprError{Line: fe.Line, Column: fe.Column + 1, Message: fmt.Sprintf("unknown list %q: define it under lists", name.Value)})
}
