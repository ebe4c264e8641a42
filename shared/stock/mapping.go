package stock

import (
	"fmt"
	"slices"
	"strings"

	"orderhub/shared/fault"
	"orderhub/shared/order"
)

// Component is one SKU a listing stands for: Quantity units of SKU per unit sold.
type Component struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// Rule maps one listing code to the seller's SKUs: one component for a plain listing, several for
// a bundle (套装), e.g. a gift box = 2 × TEA-001 + 1 × CUP-01.
type Rule struct {
	Channel order.Channel `json:"channel,omitempty"` // empty: the rule applies on every channel
	// Code is the channel SKU the rule maps, or a seller's code that a connector put in Line.SKU
	// (so a bundle sold under its own outer code is expanded too).
	Code       string      `json:"code"`
	Components []Component `json:"components"`
}

// Mapping resolves channel SKUs to SKUs. It is data (built from the seller's configuration) and
// is not kept by the stock store; it is immutable and safe for concurrent use.
type Mapping struct {
	rules map[ruleKey][]Component
}

type ruleKey struct {
	channel order.Channel
	code    string
}

// NewMapping checks rules and builds a mapping. Two rules for the same channel and code, a
// component without a SKU or with a quantity below 1, or a rule without components is refused.
func NewMapping(rules ...Rule) (*Mapping, error) {
	m := &Mapping{rules: make(map[ruleKey][]Component, len(rules))}
	for i, r := range rules {
		bad := func(format string, args ...any) error {
			return fault.With(ErrInvalid, "mapping rule %d (%s): %s", i, r.Code, fmt.Sprintf(format, args...))
		}
		if r.Channel != "" && !r.Channel.Valid() {
			return nil, bad("unknown channel %q", string(r.Channel))
		}
		if strings.TrimSpace(r.Code) == "" || len(r.Code) > MaxNameLen {
			return nil, bad("code must be 1 to %d bytes", MaxNameLen)
		}
		if len(r.Components) == 0 || len(r.Components) > MaxNeeds {
			return nil, bad("a rule needs 1 to %d components", MaxNeeds)
		}
		for _, c := range r.Components {
			if err := CheckName("sku", c.SKU); err != nil {
				return nil, bad("%v", err)
			}
			if c.Quantity < 1 || c.Quantity > MaxQuantity {
				return nil, bad("component %s: quantity must be between 1 and %d", c.SKU, MaxQuantity)
			}
		}
		k := ruleKey{r.Channel, r.Code}
		if _, dup := m.rules[k]; dup {
			return nil, bad("a rule for this channel and code already exists")
		}
		m.rules[k] = append([]Component(nil), r.Components...)
	}
	return m, nil
}

// Resolver finds the SKUs an order line stands for.
type Resolver interface {
	// Resolve returns the components of l, or false when nothing maps it.
	Resolve(l order.Line) ([]Component, bool)
}

// For returns the resolver of one channel's lines. A line resolves, in this order, through:
// a rule of this channel for its ChannelSKU; a rule of every channel for its ChannelSKU; the same
// two for its SKU; and finally its SKU itself, when a connector already filled it in.
// A nil mapping resolves lines by their SKU alone.
func (m *Mapping) For(ch order.Channel) Resolver { return channelMapping{m: m, ch: ch} }

type channelMapping struct {
	m  *Mapping
	ch order.Channel
}

func (c channelMapping) Resolve(l order.Line) ([]Component, bool) {
	if c.m != nil {
		for _, code := range []string{l.ChannelSKU, l.SKU} {
			if code == "" {
				continue
			}
			if comps, ok := c.m.rules[ruleKey{c.ch, code}]; ok {
				return comps, true
			}
			if comps, ok := c.m.rules[ruleKey{"", code}]; ok {
				return comps, true
			}
		}
	}
	if l.SKU != "" {
		return []Component{{SKU: l.SKU, Quantity: 1}}, true
	}
	return nil, false
}

// UnmappedError is returned by Expand when lines could not be resolved. It matches ErrUnmapped
// with errors.Is, so the pipeline can hold the order as unmapped.
type UnmappedError struct {
	ChannelSKUs []string // the channel SKUs no rule maps, in line order, each once
}

func (e *UnmappedError) Error() string {
	return ErrUnmapped.Message + ": " + strings.Join(e.ChannelSKUs, ", ")
}

// Unwrap makes the error match ErrUnmapped (and fault.KindOf report Unprocessable).
func (e *UnmappedError) Unwrap() error { return ErrUnmapped }

// Expand turns order lines into the stock they need: every line resolved through r, bundles
// expanded into their components (line quantity × component quantity), quantities summed per
// SKU, sorted by SKU. Gift lines (zero price) need stock like any other line and are included.
// Lines that resolve to nothing make an *UnmappedError naming their channel SKUs; too many
// distinct SKUs or quantities beyond MaxQuantity are ErrInvalid.
func Expand(lines []order.Line, r Resolver) ([]Need, error) {
	if r == nil {
		r = (*Mapping)(nil).For("")
	}
	var (
		needs    []Need
		unmapped []string
	)
	for i, l := range lines {
		if l.Quantity <= 0 || l.Quantity > MaxQuantity {
			return nil, fault.With(ErrInvalid, "line %d (%s): quantity must be between 1 and %d", i, l.ChannelSKU, MaxQuantity)
		}
		comps, ok := r.Resolve(l)
		if !ok {
			name := l.ChannelSKU
			if name == "" {
				name = fmt.Sprintf("line %d", i)
			}
			if !slices.Contains(unmapped, name) {
				unmapped = append(unmapped, name)
			}
			continue
		}
		for _, c := range comps {
			if c.Quantity > MaxQuantity/int64(l.Quantity) {
				return nil, fault.With(ErrInvalid, "line %d (%s): quantity of %s beyond %d", i, l.ChannelSKU, c.SKU, MaxQuantity)
			}
			needs = append(needs, Need{SKU: c.SKU, Quantity: int64(l.Quantity) * c.Quantity})
		}
	}
	if len(unmapped) > 0 {
		return nil, &UnmappedError{ChannelSKUs: unmapped}
	}
	return Merge(needs)
}
