package rules_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"orderhub/shared/fault"
	"orderhub/shared/rules"
)

func TestParseJSONAndYAMLAgree(t *testing.T) {
	t.Parallel()
	y := `
lists: {vip_nicks: [茶友老王]}
rules:
  - id: tag-vip
    kind: tag
    when: buyer_nick in lists.vip_nicks
    tags: [vip]
  - id: route-east
    kind: route
    order: 5
    enabled: false
    when: province_short == "浙江"
    route: {warehouse: WH-HZ, fallback: [WH-GZ], split_allowed: true}
`
	j := `{"lists":{"vip_nicks":["茶友老王"]},"rules":[
  {"id":"tag-vip","kind":"tag","when":"buyer_nick in lists.vip_nicks","tags":["vip"]},
  {"id":"route-east","kind":"route","order":5,"enabled":false,"when":"province_short == \"浙江\"",
   "route":{"warehouse":"WH-HZ","fallback":["WH-GZ"],"split_allowed":true}}]}`
	fromYAML, err := rules.Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := rules.Parse([]byte(j))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromYAML, fromJSON) {
		t.Fatalf("YAML and JSON differ:\n%+v\n%+v", fromYAML, fromJSON)
	}
	if !fromJSON.Rules[0].Enabled || fromJSON.Rules[1].Enabled {
		t.Errorf("enabled = %v, %v; want true when left out and false when given", fromJSON.Rules[0].Enabled, fromJSON.Rules[1].Enabled)
	}
	// Both encodings round-trip.
	out, err := fromYAML.YAML()
	if err != nil {
		t.Fatal(err)
	}
	again, err := rules.ParseYAML(out)
	if err != nil || !reflect.DeepEqual(again, fromYAML) {
		t.Fatalf("YAML round trip: %v\n%s", err, out)
	}
	b, _ := json.Marshal(fromJSON)
	again, err = rules.ParseJSON(b)
	if err != nil || !reflect.DeepEqual(again, fromJSON) {
		t.Fatalf("JSON round trip: %v\n%s", err, b)
	}
}

func TestParseRefusesMalformedDocuments(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"misspelt action":      "rules:\n  - {id: a, kind: route, when: 'true', rout: {warehouse: WH-HZ}}\n",
		"misspelt route field": "rules:\n  - {id: a, kind: route, when: 'true', route: {warehous: WH-HZ}}\n",
		"unknown top field":    "rulez: []\n",
		"wrong type":           "rules:\n  - {id: a, kind: tag, when: 'true', tags: [x], order: first}\n",
		"bad yaml":             "rules: [\n",
		"empty":                "",
		"json trailing data":   `{"rules":[]} {}`,
		"json syntax":          `{"rules":[}`,
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := rules.Parse([]byte(doc))
			if !errors.Is(err, rules.ErrInvalidDocument) || fault.KindOf(err) != fault.Invalid {
				t.Fatalf("Parse = %v, want ErrInvalidDocument", err)
			}
		})
	}
}

func TestPrepareVersionsAndChecksums(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 6, 18, 0, 0, 0, 0, time.UTC)
	def, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	v2, c2, err := rules.Prepare(def, def, "key:alice", at)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Version != 2 || c2.Version() != 2 || v2.UpdatedBy != "key:alice" || !v2.UpdatedAt.Equal(at) {
		t.Fatalf("prepared %+v", v2)
	}
	if v2.Checksum != def.Checksum || c2.Checksum() != v2.Checksum {
		t.Errorf("same content, different checksum: %s vs %s", v2.Checksum, def.Checksum)
	}

	// Saving again increments the version even without a change; a change changes the checksum.
	edited := v2
	edited.Rules = append(edited.Rules[:0:0], v2.Rules...)
	edited.Rules[0].When = `currency == "CNY" && paid >= 1500`
	v3, _, err := rules.Prepare(edited, v2, "key:bob", at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if v3.Version != 3 || v3.Checksum == v2.Checksum {
		t.Errorf("v3: version %d checksum %s (v2 %s)", v3.Version, v3.Checksum, v2.Checksum)
	}

	// An edit of version 2 saved after version 3 is a conflict, not a silent overwrite.
	if _, _, err := rules.Prepare(edited, v3, "key:carol", at); !errors.Is(err, rules.ErrVersionConflict) || fault.KindOf(err) != fault.Conflict {
		t.Errorf("stale edit: %v, want ErrVersionConflict", err)
	}
	// A version-less document replaces whatever is current.
	edited.Version = 0
	if v4, _, err := rules.Prepare(edited, v3, "key:carol", at); err != nil || v4.Version != 4 {
		t.Errorf("version-less save: %+v, %v", v4.Version, err)
	}

	// An invalid candidate is refused with its position and nothing is stamped.
	bad := v3
	bad.Rules = append(bad.Rules[:0:0], v3.Rules...)
	bad.Rules[2].When = `country = "CN"`
	_, c, err := rules.Prepare(bad, v3, "key:bob", at)
	var ce *rules.CompileError
	if c != nil || !errors.As(err, &ce) || ce.Errors[0].RuleID != bad.Rules[2].ID || ce.Errors[0].Line != 1 {
		t.Fatalf("invalid candidate: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, `rule "`+bad.Rules[2].ID+`" when 1:`) {
		t.Errorf("message %q does not name the rule and position", msg)
	}
}

func TestParseYAMLReadsTextFieldsAsText(t *testing.T) {
	t.Parallel()
	set := mustParseYAML(t, `
lists:
  vip_nicks: [8888, 茶友老王, true]
rules:
  - id: 2025
    kind: route
    when: true
    route: {warehouse: 100, fallback: [200]}
`)
	if got := set.Lists["vip_nicks"]; !reflect.DeepEqual(got, []string{"8888", "茶友老王", "true"}) {
		t.Errorf("list = %q", got)
	}
	r := set.Rules[0]
	if r.ID != "2025" || r.When != "true" || r.Route.Warehouse != "100" || r.Route.Fallback[0] != "200" {
		t.Errorf("rule = %+v %+v", r, r.Route)
	}
	c := mustCompile(t, set)
	d, err := c.Evaluate(teaOrder(), facts(1))
	if err != nil || d.Route == nil || d.Route.Warehouse != "100" {
		t.Fatalf("route = %+v, %v", d.Route, err)
	}
}
