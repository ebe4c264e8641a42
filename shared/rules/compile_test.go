package rules_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"orderhub/shared/fault"
	"orderhub/shared/rules"
)

func tagRule(id, when string) rules.Rule {
	return rules.Rule{ID: id, Kind: rules.KindTag, Enabled: true, When: when, Tags: []string{"x"}}
}

func TestCompileRefusesInvalidRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rule rules.Rule
		want rules.RuleError // Index is always 0 here; Message is matched as a substring
	}{
		{
			name: "syntax error",
			rule: tagRule("r-syntax", `paid >= `),
			want: rules.RuleError{RuleID: "r-syntax", Field: "when", Line: 1, Column: 8, Message: "unexpected token EOF"},
		},
		{
			name: "syntax error on the second line",
			rule: tagRule("r-multiline", "currency == \"CNY\"\n  && paid >= 2000 &&& true"),
			want: rules.RuleError{RuleID: "r-multiline", Field: "when", Line: 2, Column: 21, Message: "unexpected token"},
		},
		{
			name: "string compared with a number",
			rule: tagRule("r-type", `buyer_nick > 2000`),
			want: rules.RuleError{RuleID: "r-type", Field: "when", Line: 1, Column: 12, Message: "mismatched types string and int"},
		},
		{
			name: "number compared with a string on line 2",
			rule: tagRule("r-type2", "country == \"CN\" &&\npaid == \"2000\""),
			want: rules.RuleError{RuleID: "r-type2", Field: "when", Line: 2, Column: 6, Message: "mismatched types float64 and string"},
		},
		{
			name: "unknown variable",
			rule: tagRule("r-unknown", `remark contains "test"`),
			want: rules.RuleError{RuleID: "r-unknown", Field: "when", Line: 1, Column: 1, Message: "unknown name remark"},
		},
		{
			name: "unknown field of a line",
			rule: tagRule("r-field", `any(lines, .colour == "red")`),
			want: rules.RuleError{RuleID: "r-field", Field: "when", Line: 1, Column: 13, Message: "colour"},
		},
		{
			name: "unknown catalogue attribute",
			rule: tagRule("r-attr", `sku_attrs["TEA-LJ-250"].heavy`),
			want: rules.RuleError{RuleID: "r-attr", Field: "when", Message: "heavy"},
		},
		{
			name: "unknown list",
			rule: tagRule("r-list", `buyer_nick in lists.vips`),
			want: rules.RuleError{RuleID: "r-list", Field: "when", Line: 1, Column: 21, Message: `unknown list "vips"`},
		},
		{
			name: "not a bool",
			rule: tagRule("r-nonbool", `paid * 2`),
			want: rules.RuleError{RuleID: "r-nonbool", Field: "when", Line: 1, Column: 1, Message: "expected bool"},
		},
		{
			name: "empty condition",
			rule: tagRule("r-empty", "  "),
			want: rules.RuleError{RuleID: "r-empty", Field: "when", Message: "condition is required"},
		},
		{
			name: "unknown kind",
			rule: rules.Rule{ID: "r-kind", Kind: "discount", Enabled: true, When: "true"},
			want: rules.RuleError{RuleID: "r-kind", Field: "kind", Message: `unknown kind "discount"`},
		},
		{
			name: "route without a target",
			rule: rules.Rule{ID: "r-route", Kind: rules.KindRoute, Enabled: true, When: "true", Route: &rules.RouteAction{Fallback: []string{"WH-GZ"}}},
			want: rules.RuleError{RuleID: "r-route", Field: "route", Message: "needs a target"},
		},
		{
			name: "route without a route block",
			rule: rules.Rule{ID: "r-route2", Kind: rules.KindRoute, Enabled: true, When: "true"},
			want: rules.RuleError{RuleID: "r-route2", Field: "route", Message: "needs a target"},
		},
		{
			name: "route with two targets",
			rule: rules.Rule{ID: "r-route3", Kind: rules.KindRoute, Enabled: true, When: "true", Route: &rules.RouteAction{Warehouse: "WH-HZ", Supplier: "SUP-IRON"}},
			want: rules.RuleError{RuleID: "r-route3", Field: "route", Message: "exactly one target"},
		},
		{
			name: "route target expression of the wrong type",
			rule: rules.Rule{ID: "r-route4", Kind: rules.KindRoute, Enabled: true, When: "true", Route: &rules.RouteAction{SupplierExpr: "len(suppliers)"}},
			want: rules.RuleError{RuleID: "r-route4", Field: "route.supplier_expr", Line: 1, Column: 1, Message: "expected string"},
		},
		{
			name: "fallback repeats the target",
			rule: rules.Rule{ID: "r-route5", Kind: rules.KindRoute, Enabled: true, When: "true", Route: &rules.RouteAction{Warehouse: "WH-HZ", Fallback: []string{"WH-GZ", "WH-HZ"}}},
			want: rules.RuleError{RuleID: "r-route5", Field: "route.fallback", Message: "is the target itself"},
		},
		{
			name: "hold without a code",
			rule: rules.Rule{ID: "r-hold", Kind: rules.KindHold, Enabled: true, When: "true", Hold: &rules.HoldAction{Note: "check"}},
			want: rules.RuleError{RuleID: "r-hold", Field: "hold.code", Message: "needs a code"},
		},
		{
			name: "hold with a malformed code",
			rule: rules.Rule{ID: "r-hold2", Kind: rules.KindHold, Enabled: true, When: "true", Hold: &rules.HoldAction{Code: "Risk Phone"}},
			want: rules.RuleError{RuleID: "r-hold2", Field: "hold.code", Message: "lower case"},
		},
		{
			name: "tag rule without tags",
			rule: rules.Rule{ID: "r-tag", Kind: rules.KindTag, Enabled: true, When: "true"},
			want: rules.RuleError{RuleID: "r-tag", Field: "tags", Message: "at least one tag"},
		},
		{
			name: "action of another kind",
			rule: rules.Rule{ID: "r-mixed", Kind: rules.KindTag, Enabled: true, When: "true", Tags: []string{"x"}, Hold: &rules.HoldAction{Code: "x"}},
			want: rules.RuleError{RuleID: "r-mixed", Field: "hold", Message: "only for kind hold"},
		},
		{
			name: "unknown priority",
			rule: rules.Rule{ID: "r-prio", Kind: rules.KindPriority, Enabled: true, When: "true", Priority: "asap"},
			want: rules.RuleError{RuleID: "r-prio", Field: "priority", Message: "one of low, normal, high, urgent"},
		},
		{
			name: "missing id",
			rule: rules.Rule{Kind: rules.KindTag, Enabled: true, When: "true", Tags: []string{"x"}},
			want: rules.RuleError{Field: "id", Message: "id is required"},
		},
		{
			name: "disabled rules are checked too",
			rule: rules.Rule{ID: "r-disabled", Kind: rules.KindTag, Enabled: false, When: "paid >", Tags: []string{"x"}},
			want: rules.RuleError{RuleID: "r-disabled", Field: "when", Line: 1, Column: 6, Message: "unexpected token EOF"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set := rules.RuleSet{Lists: map[string][]string{"vip_nicks": {"a"}}, Rules: []rules.Rule{tt.rule}}
			c, err := rules.Compile(set)
			if err == nil || c != nil {
				t.Fatalf("Compile = %v, %v; want an error", c, err)
			}
			if got := fault.KindOf(err); got != fault.Unprocessable {
				t.Errorf("KindOf = %v, want Unprocessable", got)
			}
			if !errors.Is(err, rules.ErrInvalidRuleSet) {
				t.Errorf("errors.Is(err, ErrInvalidRuleSet) = false")
			}
			var ce *rules.CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *CompileError", err)
			}
			found := false
			for _, e := range ce.Errors {
				if e.RuleID == tt.want.RuleID && e.Field == tt.want.Field && strings.Contains(e.Message, tt.want.Message) &&
					(tt.want.Line == 0 || e.Line == tt.want.Line && e.Column == tt.want.Column) {
					found = true
				}
			}
			if !found {
				t.Fatalf("errors = %+v\nwant one like %+v", ce.Errors, tt.want)
			}
			// The client-safe message (what the API answers with 422) names the rule and the position.
			fe, _ := fault.As(err)
			if tt.want.RuleID != "" && !strings.Contains(fe.Message, `rule "`+tt.want.RuleID+`" `+tt.want.Field) {
				t.Errorf("message %q does not name rule %q and field %s", fe.Message, tt.want.RuleID, tt.want.Field)
			}
			if tt.want.Line > 0 {
				pos := " " + strconv.Itoa(tt.want.Line) + ":" + strconv.Itoa(tt.want.Column) + ": "
				if !strings.Contains(fe.Message, pos) {
					t.Errorf("message %q does not give the position %q", fe.Message, pos)
				}
			}
		})
	}
}

func TestCompileCollectsEveryErrorAndRefusesDuplicateIDs(t *testing.T) {
	t.Parallel()
	set := rules.RuleSet{Rules: []rules.Rule{
		tagRule("a", "true"),
		tagRule("b", `paid > "x"`),
		tagRule("a", "true"),
		{ID: "c", Kind: "nope", Enabled: true, When: "true"},
		{ID: "d", Kind: rules.KindHold, Enabled: true, When: "phone_orders_24h > 5"},
	}}
	_, err := rules.Compile(set)
	var ce *rules.CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("Compile = %v, want a *CompileError", err)
	}
	want := map[string]string{"b": "when", "a": "id", "c": "kind", "d": "hold.code"}
	for id, field := range want {
		if !containsErr(ce.Errors, id, field) {
			t.Errorf("no error for rule %q field %s in %+v", id, field, ce.Errors)
		}
	}
	for _, e := range ce.Errors {
		if e.RuleID == "a" && e.Field == "id" && (e.Index != 2 || !strings.Contains(e.Message, "rule #1")) {
			t.Errorf("duplicate id error = %+v, want index 2 pointing at rule #1", e)
		}
	}
}

func containsErr(errs []rules.RuleError, id, field string) bool {
	for _, e := range errs {
		if e.RuleID == id && e.Field == field {
			return true
		}
	}
	return false
}

func TestCompileRefusesBadListNamesAndTooManyRules(t *testing.T) {
	t.Parallel()
	_, err := rules.Compile(rules.RuleSet{Lists: map[string][]string{"VIP Nicks": {"x"}}, Rules: []rules.Rule{tagRule("a", "true")}})
	var ce *rules.CompileError
	if !errors.As(err, &ce) || ce.Errors[0].Index != -1 || ce.Errors[0].Field != "lists" {
		t.Fatalf("bad list name: %v", err)
	}
	many := make([]rules.Rule, rules.MaxRules+1)
	for i := range many {
		many[i] = tagRule("r"+strings.Repeat("x", i%7)+strconv.Itoa(i%100), "true")
	}
	if _, err := rules.Compile(rules.RuleSet{Rules: many}); !errors.Is(err, rules.ErrInvalidRuleSet) {
		t.Fatalf("too many rules: %v", err)
	}
	long := tagRule("long", "true"+strings.Repeat(" && true", rules.MaxExprLen/8))
	if _, err := rules.Compile(rules.RuleSet{Rules: []rules.Rule{long}}); !errors.Is(err, rules.ErrInvalidRuleSet) {
		t.Fatalf("too long an expression: %v", err)
	}
}

func TestDefaultSetCompiles(t *testing.T) {
	t.Parallel()
	set, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	if set.Version != 1 || !strings.HasPrefix(set.Checksum, "sha256:") || len(set.Rules) < 15 {
		t.Fatalf("default set: version %d checksum %q, %d rules", set.Version, set.Checksum, len(set.Rules))
	}
	for _, r := range set.Rules {
		if !r.Enabled {
			t.Errorf("rule %s is disabled; a missing enabled must mean true", r.ID)
		}
	}
	mustCompile(t, set)
}
