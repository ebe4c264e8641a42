package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"orderhub/shared/channel/shopify"
	"orderhub/shared/channel/woocommerce"
	"orderhub/shared/order"
)

// push is one signed platform push, built before the clock starts so that the generator spends
// the measured time sending, not marshalling.
type push struct {
	key string // channel + ":" + channel order id, as the hub stores it
	req *http.Request
}

// line is what a generated order buys.
type line struct {
	sku   string
	qty   int
	cents int64 // unit price in SGD cents
}

// buyer returns a unique, valid Singapore receiver for order n: Shopify and WooCommerce do not send
// a district, which a mainland address needs, and a unique phone keeps the risk rule (more than 5
// orders to one phone in 24 h) out of the way.
func buyer(n int) (name, phone string) {
	return fmt.Sprintf("Bench Buyer %d", n), fmt.Sprintf("+65 9%07d", n%10_000_000)
}

// shopifyPush builds an orders/create webhook in Shopify's shape (shared/channel/shopify/wire.go),
// signed with shopify.Sign as Shopify signs it.
func (r *rig) shopifyPush(tb testing.TB, n int, l line) push {
	tb.Helper()
	id := int64(5_900_000_000_000 + n)
	now := time.Now().UTC().Truncate(time.Second)
	name, phone := buyer(n)
	addr := &shopify.Address{FirstName: name, Name: name, Address1: "Blk 201 Tampines St 21 #08-112", City: "Singapore",
		Province: "Singapore", Country: "Singapore", CountryCode: "SG", Zip: "521201", Phone: phone}
	variant, product := int64(4_100_000_000+n), int64(3_800_000_000+n)
	total := decimal(l.cents * int64(l.qty))
	o := shopify.Order{
		ID: id, Name: "#" + strconv.Itoa(1000+n), Email: fmt.Sprintf("buyer%d@bench.invalid", n), Phone: phone,
		CreatedAt: now, UpdatedAt: now, ProcessedAt: &now, Currency: "SGD", FinancialStatus: "paid",
		TotalPrice: shopify.Decimal(total), SubtotalPrice: shopify.Decimal(total), TotalLineItemsPrice: shopify.Decimal(total),
		TotalDiscounts: "0.00", TotalTax: "0.00",
		Customer:        &shopify.Customer{ID: 7_200_000_000 + int64(n), Phone: phone, FirstName: name},
		ShippingAddress: addr, BillingAddress: addr,
		LineItems: []shopify.LineItem{{ID: 1_600_000_000 + int64(n), VariantID: &variant, ProductID: &product, SKU: l.sku,
			Title: "Bench item " + l.sku, Quantity: l.qty, Price: shopify.Decimal(decimal(l.cents)), TotalDiscount: "0.00",
			RequiresShipping: true, FulfillableQuantity: l.qty}},
	}
	body, err := json.Marshal(o)
	if err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, r.url+"/webhooks/shopify/"+shopID, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set(shopify.HeaderTopic, "orders/create")
	h.Set(shopify.HeaderHmac, shopify.Sign(r.shopify.Shop(shopID, "").Credentials[shopify.CredWebhookSecret], body))
	h.Set(shopify.HeaderShop, "orderhub-sandbox.myshopify.com")
	h.Set(shopify.HeaderVersion, shopify.DefaultAPIVersion)
	h.Set(shopify.HeaderWebhookID, fmt.Sprintf("bench-shopify-%d", n))
	h.Set(shopify.HeaderEventID, fmt.Sprintf("bench-shopify-event-%d", n))
	return push{key: string(order.Shopify) + ":" + strconv.FormatInt(id, 10), req: req}
}

// wooPush builds an order.created webhook in WooCommerce's shape (shared/channel/woocommerce/wire.go),
// signed with woocommerce.Sign.
func (r *rig) wooPush(tb testing.TB, n int, l line) push {
	tb.Helper()
	id := int64(800_000 + n)
	now := woocommerce.GMTTime{Time: time.Now().UTC().Truncate(time.Second)}
	name, phone := buyer(n)
	addr := woocommerce.Address{FirstName: name, Address1: "Blk 201 Tampines St 21 #08-112", City: "Singapore",
		State: "Singapore", Postcode: "521201", Country: "SG", Phone: phone}
	billing := addr
	billing.Email = fmt.Sprintf("buyer%d@bench.invalid", n)
	total := decimal(l.cents * int64(l.qty))
	o := woocommerce.Order{
		ID: id, Number: strconv.FormatInt(id, 10), CreatedVia: "checkout", Status: "processing", Currency: "SGD",
		DateCreatedGMT: now, DateModifiedGMT: now, DatePaidGMT: now,
		DiscountTotal: "0.00", ShippingTotal: "0.00", CartTax: "0.00", Total: woocommerce.Decimal(total), TotalTax: "0.00",
		CustomerID: 5000 + int64(n), Billing: billing, Shipping: addr, PaymentMethod: "stripe", MetaData: []woocommerce.Meta{},
		LineItems: []woocommerce.LineItem{{ID: 900_000 + int64(n), Name: "Bench item " + l.sku, ProductID: 100 + int64(n%1000),
			Quantity: l.qty, Subtotal: woocommerce.Decimal(total), Total: woocommerce.Decimal(total), SKU: l.sku}},
		ShippingLines: []woocommerce.ShippingLine{},
	}
	body, err := json.Marshal(o)
	if err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, r.url+"/webhooks/woocommerce/"+shopID, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set(woocommerce.HeaderSignature, woocommerce.Sign(r.woo.Shop(shopID, "").Credentials[woocommerce.CredWebhookSecret], body))
	h.Set(woocommerce.HeaderTopic, "order.created")
	h.Set(woocommerce.HeaderResource, "order")
	h.Set(woocommerce.HeaderEvent, "created")
	h.Set(woocommerce.HeaderWebhookID, "1")
	h.Set(woocommerce.HeaderDeliveryID, fmt.Sprintf("bench-woo-%d", n))
	h.Set(woocommerce.HeaderSource, "https://shop.bench.invalid/")
	return push{key: string(order.WooCommerce) + ":" + strconv.FormatInt(id, 10), req: req}
}

// douyinPush places a paid order in the Douyin sandbox (its buyers and products) and builds the
// sandbox's signed push naming it; the hub then fetches the order from the sandbox.
func (r *rig) douyinPush(tb testing.TB) push {
	tb.Helper()
	id := r.douyin.CreateOrder(true)
	req, err := r.douyin.PushRequest(r.url+"/webhooks/douyin/"+shopID, id)
	if err != nil {
		tb.Fatal(err)
	}
	return push{key: string(order.Douyin) + ":" + id, req: req}
}

// decimal renders an amount in cents as the platforms' decimal text ("12.90").
func decimal(cents int64) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }
