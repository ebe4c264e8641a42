package rules_test

import (
	"testing"
	"time"

	"orderhub/shared/money"
	"orderhub/shared/order"
	"orderhub/shared/rules"
)

var t0 = time.Date(2025, 11, 11, 2, 30, 0, 0, time.UTC) // 10:30 in Hangzhou on Singles' Day

// catalogue is a tea & homeware seller's catalogue.
var catalogue = rules.Catalogue{
	"TEA-LJ-250":    {Category: "tea", WeightG: 300},                            // 西湖龙井 250 g
	"TEA-PU-357":    {Category: "tea", Presale: true, WeightG: 400},             // 普洱茶饼, new harvest on presale
	"HOME-TABLE-01": {Category: "furniture", Bulky: true, WeightG: 45000},       // 实木茶桌
	"CUP-CELADON":   {Category: "teaware", Fragile: true, WeightG: 150},         // 龙泉青瓷杯
	"DS-IRONPOT":    {Category: "teaware", Supplier: "SUP-IRON", WeightG: 1800}, // 铁壶, dropshipped
	"DS-IRONPOT-S":  {Category: "teaware", Supplier: "SUP-IRON", WeightG: 1200},
	"DS-MAT":        {Category: "homeware", Supplier: "SUP-BAMBOO", WeightG: 500},
	"GIFT-SAMPLE":   {Category: "tea", WeightG: 20},
}

func cny(s string) money.Money { return money.MustParse(s, "CNY") }

func line(sku string, qty int, price string) order.Line {
	return order.Line{ChannelSKU: "c-" + sku, SKU: sku, Title: sku, Quantity: qty, UnitPrice: cny(price), Discount: cny("0")}
}

func gift(sku string) order.Line {
	return order.Line{ChannelSKU: "c-" + sku, SKU: sku, Title: "满赠 " + sku, Quantity: 1, UnitPrice: cny("0"), Discount: cny("0"), Gift: true}
}

// teaOrder is a paid Taobao order for two boxes of Longjing to Hangzhou; mods adjust it.
func teaOrder(mods ...func(*order.Order)) order.Order {
	o := order.Order{
		ID:             order.NewID(t0),
		Channel:        order.Taobao,
		Shop:           "tea-flagship",
		ChannelOrderID: "3812345678901234567",
		ChannelStatus:  "WAIT_SELLER_SEND_GOODS",
		Status:         order.Paid,
		Version:        t0,
		CreatedAt:      t0.Add(-10 * time.Minute),
		PaidAt:         t0.Add(-9 * time.Minute),
		ShipBy:         t0.Add(48 * time.Hour),
		Buyer:          order.Buyer{Nick: "品茶小白"},
		Receiver: order.Receiver{
			NameMasked: "张**", PhoneMasked: "138****5678", PhoneHash: "h-138",
			Province: "浙江省", City: "杭州市", District: "西湖区", DetailMasked: "龙井路****",
		},
		Lines:   []order.Line{line("TEA-LJ-250", 2, "368.00")},
		Amounts: order.Amounts{Goods: cny("736.00"), Shipping: cny("0"), Discount: cny("0"), Paid: cny("736.00")},
	}
	for _, m := range mods {
		m(&o)
	}
	return o
}

// withLines replaces the lines and sets goods and paid to their total.
func withLines(lines ...order.Line) func(*order.Order) {
	return func(o *order.Order) {
		o.Lines = lines
		total, err := o.LinesTotal()
		if err != nil {
			panic(err)
		}
		o.Amounts.Goods, o.Amounts.Paid = total, total
	}
}

func facts(phoneOrders int) rules.Facts {
	return rules.Facts{PhoneOrders24h: phoneOrders, SKUAttrs: catalogue, Now: t0}
}

func mustDefault(t testing.TB) *rules.Compiled {
	t.Helper()
	set, err := rules.Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	c, err := rules.Compile(set)
	if err != nil {
		t.Fatalf("Compile(default): %v", err)
	}
	return c
}

func mustCompile(t testing.TB, set rules.RuleSet) *rules.Compiled {
	t.Helper()
	c, err := rules.Compile(set)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return c
}

func mustParseYAML(t testing.TB, doc string) rules.RuleSet {
	t.Helper()
	s, err := rules.ParseYAML([]byte(doc))
	if err != nil {
		t.Fatalf("ParseYAML: %v", err)
	}
	return s
}
