package rules

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"orderhub/shared/fault"
)

// Kind is what a rule does when its condition holds.
type Kind string

// Rule kinds.
const (
	KindTag      Kind = "tag"      // adds tags to the order
	KindHold     Kind = "hold"     // holds the order with a code and a note
	KindRoute    Kind = "route"    // sends the order to a warehouse or a dropship supplier; the first match wins
	KindPriority Kind = "priority" // puts the order in a priority queue; the highest level wins
)

// Kinds lists every rule kind.
func Kinds() []Kind { return []Kind{KindTag, KindHold, KindRoute, KindPriority} }

// Priority is the queue an order is worked from.
type Priority string

// Priority levels, lowest first. Orders no priority rule matches are PriorityNormal.
const (
	PriorityLow    Priority = "low"
	PriorityNormal Priority = "normal"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// rank orders priorities; 0 means unknown.
func (p Priority) rank() int {
	switch p {
	case PriorityLow:
		return 1
	case PriorityNormal:
		return 2
	case PriorityHigh:
		return 3
	case PriorityUrgent:
		return 4
	}
	return 0
}

// RuleSet is the seller's rules as data. Version and Checksum are set by Prepare when the set is
// saved; a client that edits a set sends back the version it read, so that a concurrent edit is
// refused instead of silently overwritten.
type RuleSet struct {
	Version   int64     `json:"version" yaml:"version"`
	Checksum  string    `json:"checksum,omitempty" yaml:"checksum,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero" yaml:"updated_at,omitempty"`
	UpdatedBy string    `json:"updated_by,omitempty" yaml:"updated_by,omitempty"`
	// Lists are named string lists that conditions use as lists.<name>, e.g. VIP buyer nicks.
	// A condition that names a list the set does not define is refused at compile time.
	Lists map[string][]string `json:"lists,omitempty" yaml:"lists,omitempty"`
	Rules []Rule              `json:"rules" yaml:"rules"`
}

// Rule is one condition and what happens when it holds. Exactly the action field of its kind is set.
type Rule struct {
	ID      string `json:"id" yaml:"id"` // stable: timeline events and holds name it
	Name    string `json:"name,omitempty" yaml:"name,omitempty"`
	Kind    Kind   `json:"kind" yaml:"kind"`
	Enabled bool   `json:"enabled" yaml:"enabled"` // true when the document leaves it out
	Order   int    `json:"order" yaml:"order"`     // rules run by ascending order, then by position
	When    string `json:"when" yaml:"when"`       // expr-lang condition that must be a bool

	Tags     []string     `json:"tags,omitempty" yaml:"tags,omitempty"`         // kind tag
	Hold     *HoldAction  `json:"hold,omitempty" yaml:"hold,omitempty"`         // kind hold
	Route    *RouteAction `json:"route,omitempty" yaml:"route,omitempty"`       // kind route
	Priority Priority     `json:"priority,omitempty" yaml:"priority,omitempty"` // kind priority
}

// HoldAction holds the order.
type HoldAction struct {
	Code string `json:"code" yaml:"code"` // stable reason code, e.g. risk_phone
	Note string `json:"note,omitempty" yaml:"note,omitempty"`
}

// RouteAction names where the order goes: exactly one of Warehouse, Supplier, WarehouseExpr or
// SupplierExpr. The *Expr forms are expressions over the same environment that give a string, such
// as `suppliers[0]`; when one gives "" the rule counts as not matched and the next route rule runs.
type RouteAction struct {
	Warehouse     string `json:"warehouse,omitempty" yaml:"warehouse,omitempty"`
	Supplier      string `json:"supplier,omitempty" yaml:"supplier,omitempty"`
	WarehouseExpr string `json:"warehouse_expr,omitempty" yaml:"warehouse_expr,omitempty"`
	SupplierExpr  string `json:"supplier_expr,omitempty" yaml:"supplier_expr,omitempty"`
	// Fallback lists warehouses to try, in order, when the target cannot serve the order.
	Fallback []string `json:"fallback,omitempty" yaml:"fallback,omitempty"`
	// SplitAllowed lets the order be split across warehouses when no single one can serve it.
	SplitAllowed bool `json:"split_allowed,omitempty" yaml:"split_allowed,omitempty"`
}

// UnmarshalJSON decodes a rule strictly (unknown fields are refused, so that a misspelt action is
// not silently ignored) and treats a missing enabled as true.
func (r *Rule) UnmarshalJSON(b []byte) error {
	type plain Rule
	p := plain{Enabled: true}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*r = Rule(p)
	return nil
}

// ErrInvalidDocument is returned when a rule set document cannot be decoded.
var ErrInvalidDocument = fault.New(fault.Invalid, "invalid_rule_document", "rule set document cannot be read")

// ErrVersionConflict is returned by Prepare when the candidate was edited from an older version.
var ErrVersionConflict = fault.New(fault.Conflict, "rule_set_version_conflict", "the rule set was changed by someone else; reload it and try again")

// ParseJSON decodes a rule set from JSON, refusing unknown fields and trailing data.
func ParseJSON(b []byte) (RuleSet, error) {
	var s RuleSet
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return RuleSet{}, fault.With(ErrInvalidDocument, "%s", jsonProblem(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return RuleSet{}, fault.With(ErrInvalidDocument, "trailing data after the rule set")
	}
	return s, nil
}

// ParseYAML decodes a rule set from YAML with the same field names and checks as ParseJSON. Fields
// that hold text are read as text whatever they look like, so `when: true`, `code: 404` and a VIP
// nick list of numbers mean what they say.
func ParseYAML(b []byte) (RuleSet, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return RuleSet{}, fault.With(ErrInvalidDocument, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if root.Kind == 0 || (root.Kind == yaml.DocumentNode && len(root.Content) == 0) {
		return RuleSet{}, fault.With(ErrInvalidDocument, "empty document")
	}
	doc, err := yamlValue(&root, yamlPlain, 0)
	if err != nil {
		return RuleSet{}, fault.With(ErrInvalidDocument, "%s", err.Error())
	}
	// Going through JSON gives YAML the strict field checks and the enabled default of ParseJSON.
	j, err := json.Marshal(doc)
	if err != nil {
		return RuleSet{}, fault.With(ErrInvalidDocument, "cannot decode")
	}
	return ParseJSON(j)
}

type yamlMode int

const (
	yamlPlain   yamlMode = iota
	yamlString           // a scalar read as text
	yamlStrings          // a sequence of scalars read as text
	yamlLists            // a mapping of name → sequence of text
)

// yamlText are the fields whose values are text; yamlTexts those whose values are lists of text.
var (
	yamlText = map[string]bool{"id": true, "name": true, "kind": true, "when": true, "code": true, "note": true,
		"warehouse": true, "supplier": true, "warehouse_expr": true, "supplier_expr": true, "priority": true,
		"checksum": true, "updated_by": true}
	yamlTexts = map[string]bool{"tags": true, "fallback": true}
)

// yamlValue converts a YAML node into the value JSON would give, reading text fields as text.
func yamlValue(n *yaml.Node, mode yamlMode, depth int) (any, error) {
	if depth > 32 {
		return nil, errors.New("document nested too deeply")
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return yamlValue(n.Content[0], mode, depth+1)
	case yaml.AliasNode:
		return yamlValue(n.Alias, mode, depth+1)
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, nil
		}
		if mode == yamlString {
			return n.Value, nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %s", n.Line, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		return v, nil
	case yaml.SequenceNode:
		item := yamlPlain
		if mode == yamlStrings {
			item = yamlString
		}
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := yamlValue(c, item, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: only text keys are allowed", k.Line)
			}
			child := yamlPlain
			switch {
			case mode == yamlLists:
				child = yamlStrings
			case yamlText[k.Value]:
				child = yamlString
			case yamlTexts[k.Value]:
				child = yamlStrings
			case k.Value == "lists":
				child = yamlLists
			}
			val, err := yamlValue(v, child, depth+1)
			if err != nil {
				return nil, err
			}
			out[k.Value] = val
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

// Parse decodes a JSON document (one that starts with '{') or else a YAML document.
func Parse(b []byte) (RuleSet, error) {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		return ParseJSON(b)
	}
	return ParseYAML(b)
}

// YAML renders the set as YAML, for GET /v1/rules in the form sellers edit.
func (s RuleSet) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return "syntax error at byte " + strconv.FormatInt(syntax.Offset, 10)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return "field " + typ.Field + " must be " + typ.Type.String()
		}
		return "a value must be " + typ.Type.String()
	case errors.Is(err, io.EOF):
		return "empty document"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "cannot decode"
}

// ComputeChecksum returns "sha256:<hex>" over the set's content (lists and rules): two sets with the
// same content have the same checksum whatever their version.
func (s RuleSet) ComputeChecksum() string {
	content := struct {
		Lists map[string][]string `json:"lists"`
		Rules []Rule              `json:"rules"`
	}{s.Lists, s.Rules}
	b, err := json.Marshal(content) // map keys are sorted: the encoding is deterministic
	if err != nil {
		return "" // only unsupported types fail, and a RuleSet has none
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Prepare compiles candidate and stamps it as the successor of current (the set in force, or the
// zero RuleSet when none was saved yet): version current.Version+1, checksum, who and when. A
// candidate that carries a version must carry current's version (it was edited from it), otherwise
// ErrVersionConflict; a candidate without a version (0) replaces whatever is current. An invalid
// candidate returns the *CompileError of Compile. Nothing is saved: the caller stores the result.
func Prepare(candidate, current RuleSet, by string, at time.Time) (RuleSet, *Compiled, error) {
	if candidate.Version != 0 && candidate.Version != current.Version {
		return RuleSet{}, nil, fault.With(ErrVersionConflict, "edited from version %d, current is %d", candidate.Version, current.Version)
	}
	next := candidate
	next.Version = current.Version + 1
	next.UpdatedAt = at.UTC()
	next.UpdatedBy = by
	next.Checksum = next.ComputeChecksum()
	c, err := Compile(next)
	if err != nil {
		return RuleSet{}, nil, err
	}
	return next, c, nil
}

//go:embed testdata/default.yaml
var defaultYAML []byte

// Default returns the rule set the hub starts with (testdata/default.yaml), stamped as version 1.
// The tests prove that it parses and compiles, so an error here means a broken build.
func Default() (RuleSet, error) {
	s, err := ParseYAML(defaultYAML)
	if err != nil {
		return RuleSet{}, err
	}
	if s.Version == 0 {
		s.Version = 1
	}
	s.Checksum = s.ComputeChecksum()
	return s, nil
}
