package stock

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/quick"

	"orderhub/shared/fault"
	"orderhub/shared/money"
	"orderhub/shared/order"
)

func TestExpand(t *testing.T) {
	t.Parallel()
	m, err := NewMapping(
		Rule{Channel: order.Taobao, Code: "5012345", Components: []Component{{SKU: "TEA-001", Quantity: 1}}},
		Rule{Channel: order.JD, Code: "5012345", Components: []Component{{SKU: "CUP-01", Quantity: 1}}}, // same code, other channel
		Rule{Code: "GIFTBOX", Components: []Component{{SKU: "TEA-001", Quantity: 2}, {SKU: "CUP-01", Quantity: 1}}},
		Rule{Code: "SET-OUTER", Components: []Component{{SKU: "TEA-001", Quantity: 3}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	cny := func(n int64) money.Money { return money.New(n, "CNY") }
	lines := []order.Line{
		{ChannelSKU: "5012345", Quantity: 2, UnitPrice: cny(6800)},
		{ChannelSKU: "GIFTBOX", Quantity: 1, UnitPrice: cny(19900)},
		{ChannelSKU: "gift-1", SKU: "CUP-01", Quantity: 1, UnitPrice: cny(0), Gift: true}, // zero-price gift: still needs stock
		{ChannelSKU: "987", SKU: "SET-OUTER", Quantity: 1, UnitPrice: cny(100)},           // a bundle under the seller's own code
	}
	got, err := Expand(lines, m.For(order.Taobao))
	if err != nil {
		t.Fatal(err)
	}
	if want := []Need{{SKU: "CUP-01", Quantity: 2}, {SKU: "TEA-001", Quantity: 2 + 2 + 3}}; !slices.Equal(got, want) {
		t.Fatalf("Expand(taobao) = %v, want %v", got, want)
	}
	got, err = Expand(lines[:1], m.For(order.JD))
	if err != nil || !slices.Equal(got, []Need{{SKU: "CUP-01", Quantity: 2}}) {
		t.Fatalf("Expand(jd) = %v, %v; the JD rule for the same code applies on JD", got, err)
	}
	// A line that no rule names and that carries no SKU is unmapped; every such line is named once.
	_, err = Expand([]order.Line{{ChannelSKU: "x-1", Quantity: 1}, lines[0], {ChannelSKU: "x-2", Quantity: 1}, {ChannelSKU: "x-1", Quantity: 3}}, m.For(order.Taobao))
	var ue *UnmappedError
	if !errors.Is(err, ErrUnmapped) || !errors.As(err, &ue) || !slices.Equal(ue.ChannelSKUs, []string{"x-1", "x-2"}) {
		t.Fatalf("Expand(unmapped) = %v", err)
	}
	if fault.KindOf(err) != fault.Unprocessable || !strings.Contains(err.Error(), "x-1, x-2") {
		t.Fatalf("unmapped error kind %v, text %q", fault.KindOf(err), err.Error())
	}
	// A nil mapping or resolver takes lines by their SKU.
	if got, err := Expand([]order.Line{{SKU: "A", Quantity: 2}, {SKU: "A", Quantity: 1}}, nil); err != nil || !slices.Equal(got, []Need{{SKU: "A", Quantity: 3}}) {
		t.Fatalf("Expand(nil) = %v, %v", got, err)
	}
	if got, err := Expand([]order.Line{{ChannelSKU: "z", SKU: "B", Quantity: 1}}, (*Mapping)(nil).For(order.JD)); err != nil || !slices.Equal(got, []Need{{SKU: "B", Quantity: 1}}) {
		t.Fatalf("Expand(nil mapping) = %v, %v", got, err)
	}
	for name, ls := range map[string][]order.Line{
		"zero quantity": {{SKU: "A", Quantity: 0}},
		"overflow":      {{ChannelSKU: "GIFTBOX", Quantity: MaxQuantity}},
		"no lines":      nil,
	} {
		if _, err := Expand(ls, m.For(order.Taobao)); !errors.Is(err, ErrInvalid) {
			t.Errorf("Expand(%s) = %v, want ErrInvalid", name, err)
		}
	}
}

func TestNewMappingRefusesBadRules(t *testing.T) {
	t.Parallel()
	one := []Component{{SKU: "A", Quantity: 1}}
	for name, rules := range map[string][]Rule{
		"duplicate":       {{Code: "x", Components: one}, {Code: "x", Components: one}},
		"no code":         {{Components: one}},
		"no components":   {{Code: "x"}},
		"zero quantity":   {{Code: "x", Components: []Component{{SKU: "A"}}}},
		"bad sku":         {{Code: "x", Components: []Component{{SKU: "A B", Quantity: 1}}}},
		"unknown channel": {{Channel: "ebay", Code: "x", Components: one}},
	} {
		if _, err := NewMapping(rules...); !errors.Is(err, ErrInvalid) {
			t.Errorf("NewMapping(%s) = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := NewMapping(Rule{Code: "x", Components: one}, Rule{Channel: order.JD, Code: "x", Components: one}); err != nil {
		t.Fatalf("a channel rule beside an all-channel rule = %v", err)
	}
}

func TestItemNumbers(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		it               Item
		avail, shortfall int64
	}{
		{Item{OnHand: 10, Reserved: 3, Safety: 2}, 5, 0},
		{Item{OnHand: 10, Reserved: 8, Safety: 2}, 0, 0},
		{Item{OnHand: 5, Reserved: 8}, 0, 3},             // a count below reserved
		{Item{OnHand: 0, Safety: 5}, 0, 0},               // safety above on hand, nothing promised
		{Item{OnHand: 3, Reserved: 2, Safety: 5}, 0, 2},  // everything reserved is beyond what may be promised
		{Item{OnHand: -1, Reserved: 0, Safety: 0}, 0, 0}, // a wrong count, then a shipment
	} {
		if c.it.Available() != c.avail || c.it.Shortfall() != c.shortfall || LevelsOf(c.it).Shortfall() != c.shortfall {
			t.Errorf("%+v: available %d shortfall %d, want %d %d", c.it, c.it.Available(), c.it.Shortfall(), c.avail, c.shortfall)
		}
	}
	if err := CheckSafetyRaise(Item{OnHand: 10, Reserved: 5, Safety: 1}, 6); !errors.Is(err, ErrOvercommit) {
		t.Fatalf("raising safety into reserved units = %v", err)
	}
	if err := CheckSafetyRaise(Item{OnHand: 10, Reserved: 5, Safety: 1}, 5); err != nil {
		t.Fatalf("raising safety up to the free units = %v", err)
	}
	if err := CheckSafetyRaise(Item{OnHand: 4, Reserved: 5, Safety: 3}, 1); err != nil {
		t.Fatalf("lowering safety during a shortfall = %v", err)
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	r, err := Reservation{OrderID: "o", Warehouse: "w", Key: "k", Needs: []Need{{"B", 1}, {"A", 2}, {"B", 3}}}.Normalize()
	if err != nil || !slices.Equal(r.Needs, []Need{{"A", 2}, {"B", 4}}) {
		t.Fatalf("Normalize = %+v, %v", r, err)
	}
	for _, name := range []string{"", "a b", "a#b", "a|b", "a\tb", strings.Repeat("x", MaxNameLen+1), "\xff"} {
		if err := CheckName("sku", name); !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckName(%q) = %v", name, err)
		}
	}
	for _, name := range []string{"TEA-001", "龙井-250g", "a/b.c_d:e", strings.Repeat("x", MaxNameLen)} {
		if err := CheckName("sku", name); err != nil {
			t.Errorf("CheckName(%q) = %v", name, err)
		}
	}
}

func TestCursor(t *testing.T) {
	t.Parallel()
	for _, pos := range []string{"a", "SKU-1 WH-2", "00000000000000000042#o-1"} {
		if got, err := DecodeCursor(EncodeCursor(pos)); err != nil || got != pos {
			t.Errorf("round trip of %q = %q, %v", pos, got, err)
		}
	}
	if got, err := DecodeCursor(""); got != "" || err != nil {
		t.Fatalf("DecodeCursor(\"\") = %q, %v", got, err)
	}
	for _, c := range []string{"%%%", "e30", "eyJhZnRlciI6IiJ9", "eyJ4IjoxfQ", strings.Repeat("A", 2000)} {
		if _, err := DecodeCursor(c); !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("DecodeCursor(%.10q) = %v", c, err)
		}
	}
}

func TestPlanTake(t *testing.T) {
	t.Parallel()
	free := []int64{0, 2, 0, 5, 1} // shard 4 retired (k = 4)
	takes, ok := PlanTake(free, 0, 4, 0, 1)
	if !ok || !slices.Equal(takes, []Take{{Shard: 1, Quantity: 1}}) {
		t.Fatalf("one unit from dry shard 0 = %v, %v; want the next shard with units", takes, ok)
	}
	takes, ok = PlanTake(free, 0, 4, 3, 7)
	if !ok || !slices.Equal(takes, []Take{{Shard: 3, Quantity: 5}, {Shard: 1, Quantity: 2}}) {
		t.Fatalf("seven from shard 3 = %v, %v", takes, ok)
	}
	takes, ok = PlanTake(free, 0, 4, 2, 8)
	if !ok || !slices.Equal(takes, []Take{{Shard: 3, Quantity: 5}, {Shard: 1, Quantity: 2}, {Shard: 4, Quantity: 1}}) {
		t.Fatalf("eight = %v, %v; retired shards come last", takes, ok)
	}
	takes, ok = PlanTake(free, 3, 4, 2, 10)
	if !ok || !slices.Equal(takes, []Take{{Shard: 3, Quantity: 5}, {Shard: 1, Quantity: 2}, {Shard: 4, Quantity: 1}, {Shard: 2, Quantity: 2, FromPool: 2}}) {
		t.Fatalf("ten with 3 in the pool = %v, %v; the pool's units are booked on the start shard", takes, ok)
	}
	if takes, ok := PlanTake(free, 3, 4, 2, 12); ok || takes != nil {
		t.Fatalf("twelve of eleven = %v, %v", takes, ok)
	}
	if _, ok := PlanTake([]int64{0, 0}, -4, 2, 0, 1); ok {
		t.Fatal("a negative pool gave units")
	}
	takes, ok = PlanTake([]int64{1, 0}, 5, 2, 0, 3)
	if !ok || !slices.Equal(takes, []Take{{Shard: 0, Quantity: 3, FromPool: 2}}) {
		t.Fatalf("start shard and pool = %v", takes)
	}
}

// Property: a plan takes exactly q, never more than a shard or the pool holds, or refuses only
// when the item cannot give q.
func TestPlanTakeProperty(t *testing.T) {
	t.Parallel()
	f := func(raw []uint8, pool int8, startSeed, q uint8) bool {
		if len(raw) == 0 {
			return true
		}
		free := make([]int64, len(raw))
		for i, r := range raw {
			free[i] = int64(r % 7)
		}
		k := 1 + int(startSeed)%len(free)
		start := int(q) % k
		need := 1 + int64(q%40)
		takes, ok := PlanTake(free, int64(pool), k, start, need)
		if !ok {
			return Available(free, int64(pool)) < need && takes == nil
		}
		var total, fromPool int64
		seen := map[int]bool{}
		for _, tk := range takes {
			if seen[tk.Shard] || tk.Quantity-tk.FromPool > free[tk.Shard] || tk.Quantity <= 0 || tk.FromPool > 0 && tk.Shard != start {
				return false
			}
			seen[tk.Shard] = true
			total += tk.Quantity
			fromPool += tk.FromPool
		}
		return total == need && fromPool <= max(0, int64(pool))
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 2000, Rand: nil}); err != nil {
		t.Fatal(err)
	}
}

func TestPlanRefill(t *testing.T) {
	t.Parallel()
	fromPool, donors := PlanRefill([]int64{0, 9, 3, 0}, 4, 4, 0, 8)
	// 16 units over 4 shards: a fair share of 4; the pool gives its 4 first.
	if fromPool != 4 || donors != nil {
		t.Fatalf("refill = %d from the pool, %v", fromPool, donors)
	}
	fromPool, donors = PlanRefill([]int64{0, 9, 3, 4}, 0, 4, 0, 8)
	if fromPool != 0 || !slices.Equal(donors, []Take{{Shard: 1, Quantity: 4}}) {
		t.Fatalf("refill = %d, %v; shard 1 gives down to the fair share 4", fromPool, donors)
	}
	fromPool, donors = PlanRefill([]int64{0, 9, 3, 4, 6}, 0, 4, 0, 8) // shard 4 retired
	if !slices.Equal(donors, []Take{{Shard: 4, Quantity: 5}}) || fromPool != 0 {
		t.Fatalf("refill = %v; retired shards give first", donors)
	}
	if fromPool, donors := PlanRefill([]int64{0, 1, 1, 1}, 0, 4, 0, 8); fromPool != 0 || donors != nil {
		t.Fatalf("endgame refill moved %d, %v; below one unit per shard nothing moves", fromPool, donors)
	}
	if fromPool, donors := PlanRefill([]int64{5, 1, 1, 1}, 0, 4, 0, 8); fromPool != 0 || donors != nil {
		t.Fatal("a shard above the fair share was refilled")
	}
	fromPool, donors = PlanGather([]int64{1, 1, 1, 1, 1}, 2, 5, 0, 4, 8)
	if fromPool != 2 || len(donors) != 2 || donors[0].Quantity+donors[1].Quantity != 2 {
		t.Fatalf("gather = %d, %v", fromPool, donors)
	}
}

func TestPlanReclaimAndSpread(t *testing.T) {
	t.Parallel()
	fromPool, shards, rest := PlanReclaim([]int64{2, 5, 0}, 3, 7)
	if fromPool != 3 || !slices.Equal(shards, []Take{{Shard: 1, Quantity: 4}}) || rest != 0 {
		t.Fatalf("reclaim 7 = %d, %v, %d", fromPool, shards, rest)
	}
	fromPool, shards, rest = PlanReclaim([]int64{2, 5, 0}, -1, 10)
	if fromPool != 0 || !slices.Equal(shards, []Take{{Shard: 1, Quantity: 5}, {Shard: 0, Quantity: 2}}) || rest != 3 {
		t.Fatalf("reclaim 10 = %d, %v, %d; every free unit, then the rest", fromPool, shards, rest)
	}
	if got := Spread(10, 4); !slices.Equal(got, []int64{3, 3, 2, 2}) {
		t.Fatalf("Spread(10, 4) = %v", got)
	}
	if got := Spread(-3, 2); !slices.Equal(got, []int64{0, 0}) {
		t.Fatalf("Spread(-3, 2) = %v", got)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		n, k := rng.Int64N(1000), 1+rng.IntN(64)
		s := Spread(n, k)
		var total int64
		for _, v := range s {
			total += v
		}
		if total != n || slices.Max(s)-slices.Min(s) > 1 {
			t.Fatalf("Spread(%d, %d) = %v", n, k, s)
		}
	}
}
