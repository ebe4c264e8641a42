package rules_test

import (
	"errors"
	"testing"

	"orderhub/shared/order"
	"orderhub/shared/rules"
)

// FuzzCompile feeds arbitrary expressions to the compiler, as a condition and as a route target,
// and runs whatever compiles: no input may panic, and every failure is a typed error naming the rule.
func FuzzCompile(f *testing.F) {
	set, err := rules.Default()
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range set.Rules {
		f.Add(r.When)
	}
	for _, s := range []string{
		"", "paid >", `buyer_nick > 2000`, "lines[9].sku", `"x" matches buyer_nick`, "1 % (line_count - 1) == 0",
		"suppliers[0]", `lists.nope`, `lists["vip_nicks"][0] == buyer_nick`, "now - paid_at > duration(\"1h\")",
		"map(lines, #.quantity * 1000000000000)[0] > 0", "((((((((((true))))))))))", "let x = 1; x == 1",
		`all(lines, {.attrs.supplier != "" || .gift})`, "hour in 9..18", "sum(lines, .amount_minor) == lines_total_minor",
		"upper(province) == \"浙江\"", "sku_attrs[skus[0]].bulky", "1/0 > 0", "repeat(\"x\", 1000000000) != \"\"",
	} {
		f.Add(s)
	}
	o := teaOrder(withLines(line("DS-IRONPOT", 1, "899.00"), gift("GIFT-SAMPLE")), func(o *order.Order) { o.Buyer.Nick = "[" })
	f.Fuzz(func(t *testing.T, src string) {
		lists := map[string][]string{"vip_nicks": {"茶友老王"}}
		for _, r := range []rules.Rule{
			{ID: "fz", Kind: rules.KindTag, Enabled: true, When: src, Tags: []string{"x"}},
			{ID: "fz", Kind: rules.KindRoute, Enabled: true, When: "true", Route: &rules.RouteAction{SupplierExpr: src}},
		} {
			c, err := rules.Compile(rules.RuleSet{Lists: lists, Rules: []rules.Rule{r}})
			if err != nil {
				var ce *rules.CompileError
				if !errors.As(err, &ce) || len(ce.Errors) == 0 || ce.Errors[0].RuleID != "fz" {
					t.Fatalf("Compile(%q) = %v, want a *CompileError naming rule fz", src, err)
				}
				for _, e := range ce.Errors {
					if (e.Field == "when" || e.Field == "route.supplier_expr") && (e.Line < 1 || e.Column < 1) {
						t.Fatalf("Compile(%q): expression error without a position: %+v", src, e)
					}
				}
				continue
			}
			if _, err := c.Evaluate(o, facts(3)); err != nil {
				var ee *rules.EvalError
				if !errors.As(err, &ee) || ee.RuleID != "fz" {
					t.Fatalf("Evaluate(%q) = %v, want an *EvalError naming rule fz", src, err)
				}
			}
		}
	})
}
