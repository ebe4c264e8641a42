package pdd

import (
	"fmt"
	"strings"

	"orderhub/shared/channel"
	"orderhub/shared/channel/chanhttp"
	"orderhub/shared/fault"
	"orderhub/shared/money"
	"orderhub/shared/order"
	"orderhub/shared/pii"
)

// OrderInfo is a Pinduoduo order as pdd.order.number.list.increment.get (order_sn_list) and
// pdd.order.information.get (order_info) return it. Amounts are yuan as JSON numbers, read from
// their exact text; times are Beijing wall time. Receiver name, phone and address arrive encrypted
// (平台加密), with masked copies next to them.
type OrderInfo struct {
	OrderSN       string          `json:"order_sn"`
	ConfirmStatus chanhttp.Number `json:"confirm_status"`
	OrderStatus   chanhttp.Number `json:"order_status"`
	RefundStatus  chanhttp.Number `json:"refund_status"`
	CreatedTime   string          `json:"created_time"`
	ConfirmTime   string          `json:"confirm_time,omitempty"`
	PayTime       string          `json:"pay_time,omitempty"`
	ShippingTime  string          `json:"shipping_time,omitempty"`
	ReceiveTime   string          `json:"receive_time,omitempty"`
	LastShipTime  string          `json:"last_ship_time,omitempty"` // the platform's ship-by deadline
	UpdatedAt     string          `json:"updated_at"`

	GoodsAmount    chanhttp.Number `json:"goods_amount"`    // Σ price × count
	Postage        chanhttp.Number `json:"postage"`         // shipping
	DiscountAmount chanhttp.Number `json:"discount_amount"` // shop + platform discounts
	PayAmount      chanhttp.Number `json:"pay_amount"`      // what the buyer pays

	ReceiverName        string `json:"receiver_name,omitempty"`    // ciphertext
	ReceiverPhone       string `json:"receiver_phone,omitempty"`   // ciphertext
	ReceiverAddress     string `json:"receiver_address,omitempty"` // ciphertext, below the town
	ReceiverNameMask    string `json:"receiver_name_mask,omitempty"`
	ReceiverPhoneMask   string `json:"receiver_phone_mask,omitempty"`
	ReceiverAddressMask string `json:"receiver_address_mask,omitempty"`
	Country             string `json:"country,omitempty"`
	Province            string `json:"province,omitempty"`
	City                string `json:"city,omitempty"`
	Town                string `json:"town,omitempty"` // the district (区/县)
	OpenAddressID       string `json:"open_address_id,omitempty"`

	TrackingNumber string          `json:"tracking_number,omitempty"`
	LogisticsID    chanhttp.Number `json:"logistics_id"`
	ItemList       []Item          `json:"item_list"`
	GiftList       []Gift          `json:"gift_list,omitempty"`
}

// Item is one line of a Pinduoduo order.
type Item struct {
	GoodsID      chanhttp.Number `json:"goods_id"`
	SkuID        chanhttp.Number `json:"sku_id"`
	OuterID      string          `json:"outer_id,omitempty"`       // the seller's SKU code
	OuterGoodsID string          `json:"outer_goods_id,omitempty"` // the seller's item code
	GoodsName    string          `json:"goods_name,omitempty"`
	GoodsSpec    string          `json:"goods_spec,omitempty"`
	GoodsPrice   chanhttp.Number `json:"goods_price"`
	GoodsCount   chanhttp.Number `json:"goods_count"`
}

// Gift is a gift (赠品) sent with a Pinduoduo order, listed apart from the paid items.
type Gift struct {
	GoodsID    chanhttp.Number `json:"goods_id"`
	SkuID      chanhttp.Number `json:"sku_id"`
	OuterID    string          `json:"outer_id,omitempty"`
	GoodsName  string          `json:"goods_name,omitempty"`
	GoodsCount chanhttp.Number `json:"goods_count"`
}

type mapper struct {
	shop   channel.Shop
	hasher *pii.Hasher
}

func bad(format string, args ...any) error { return fault.With(chanhttp.ErrBadData, format, args...) }

// Map returns the canonical order for o.
func (m mapper) Map(o OrderInfo) (order.Order, error) {
	id := strings.TrimSpace(o.OrderSN)
	if id == "" {
		return order.Order{}, bad("pdd order without order_sn")
	}
	wrap := func(err error) (order.Order, error) {
		return order.Order{}, fmt.Errorf("pdd order %s: %w", chanhttp.Clip(id, 40), err)
	}
	confirm, err1 := o.ConfirmStatus.Int()
	status, err2 := o.OrderStatus.Int()
	refund, err3 := o.RefundStatus.Int()
	if err1 != nil || err2 != nil || err3 != nil {
		return wrap(bad("confirm_status, order_status and refund_status must be integers"))
	}
	st, err := canonicalStatus(confirm, status, refund)
	if err != nil {
		return wrap(err)
	}
	out := order.Order{
		Channel: order.Pinduoduo, Shop: m.shop.ID, ChannelOrderID: id,
		ChannelStatus: channelStatus(confirm, status, refund), Status: st,
	}
	if out.Version, err = chanhttp.ParseTime(o.UpdatedAt); err != nil {
		return wrap(err)
	}
	if out.CreatedAt, err = chanhttp.ParseTime(o.CreatedTime); err != nil {
		return wrap(err)
	}
	if out.PaidAt, err = chanhttp.ParseTime(o.PayTime); err != nil {
		return wrap(err)
	}
	if out.Version.IsZero() || out.CreatedAt.IsZero() {
		return wrap(bad("updated_at and created_time are required"))
	}
	deadline, err := chanhttp.ParseTime(o.LastShipTime)
	if err != nil {
		return wrap(err)
	}
	out.ShipBy = chanhttp.ShipBy(deadline, out.PaidAt, m.shop.ShipByDefault)
	if out.Amounts, err = amounts(o); err != nil {
		return wrap(err)
	}
	for i, it := range o.ItemList {
		l, err := mapItem(it)
		if err != nil {
			return wrap(fmt.Errorf("item %d: %w", i, err))
		}
		out.Lines = append(out.Lines, l)
	}
	for i, g := range o.GiftList {
		l, err := mapGift(g)
		if err != nil {
			return wrap(fmt.Errorf("gift %d: %w", i, err))
		}
		out.Lines = append(out.Lines, l)
	}
	if len(out.Lines) == 0 {
		return wrap(bad("no items"))
	}
	// The receiver token: open_address_id identifies the address for Pinduoduo's own waybill
	// services; without it the encrypted address is the only handle the platform can decrypt.
	out.Receiver = chanhttp.Receiver(m.hasher, chanhttp.Contact{
		Name: o.ReceiverName, Phone: o.ReceiverPhone, Detail: o.ReceiverAddress,
		NameMasked: o.ReceiverNameMask, PhoneMasked: o.ReceiverPhoneMask, DetailMasked: o.ReceiverAddressMask,
		Country: countryCode(o.Country), Province: o.Province, City: o.City, District: o.Town,
		Token: chanhttp.FirstNonEmpty(o.OpenAddressID, cipherOnly(o.ReceiverAddress)),
	})
	return out, nil
}

// cipherOnly returns s when it is a platform ciphertext, so that a clear-text address is never
// kept as a token.
func cipherOnly(s string) string {
	if chanhttp.IsCiphertext(strings.TrimSpace(s)) {
		return strings.TrimSpace(s)
	}
	return ""
}

// countryCode turns Pinduoduo's country name into ISO 3166-1 alpha-2 (its orders ship in China).
func countryCode(c string) string {
	switch strings.TrimSpace(c) {
	case "", "中国", "CN":
		return ""
	}
	return strings.TrimSpace(c)
}

// amounts reads the order's totals; the discount is derived as goods + postage − paid so that the
// canonical identity holds whatever mix of shop, platform and group discounts applied.
func amounts(o OrderInfo) (order.Amounts, error) {
	var a order.Amounts
	var err error
	if a.Goods, err = o.GoodsAmount.Money(chanhttp.Currency); err != nil {
		return a, fmt.Errorf("goods_amount: %w", err)
	}
	if a.Shipping, err = o.Postage.Money(chanhttp.Currency); err != nil {
		return a, fmt.Errorf("postage: %w", err)
	}
	if a.Paid, err = o.PayAmount.Money(chanhttp.Currency); err != nil {
		return a, fmt.Errorf("pay_amount: %w", err)
	}
	if a.Goods.Amount < 0 || a.Shipping.Amount < 0 || a.Paid.Amount < 0 {
		return a, bad("negative amount")
	}
	a.Discount = money.New(0, chanhttp.Currency)
	if d := a.Goods.Amount + a.Shipping.Amount - a.Paid.Amount; d > 0 {
		a.Discount.Amount = d
	}
	return a, nil
}

func count(n chanhttp.Number) (int, error) {
	q, err := n.Int()
	if err != nil || q <= 0 || q > 1_000_000 {
		return 0, bad("goods_count must be a positive integer")
	}
	return int(q), nil
}

// mapItem reads one paid line. Pinduoduo gives no per-line discount.
func mapItem(it Item) (order.Line, error) {
	qty, err := count(it.GoodsCount)
	if err != nil {
		return order.Line{}, err
	}
	price, err := it.GoodsPrice.Money(chanhttp.Currency)
	if err != nil {
		return order.Line{}, fmt.Errorf("goods_price: %w", err)
	}
	if price.Amount < 0 {
		return order.Line{}, bad("negative goods_price")
	}
	sku := chanhttp.FirstNonEmpty(it.SkuID.String(), it.GoodsID.String())
	if sku == "" {
		return order.Line{}, bad("item without sku_id")
	}
	return order.Line{
		ChannelSKU: sku, SKU: chanhttp.FirstNonEmpty(it.OuterID, it.OuterGoodsID),
		Title: strings.TrimSpace(it.GoodsName), Quantity: qty, UnitPrice: price, Discount: money.New(0, chanhttp.Currency),
	}, nil
}

// mapGift reads a gift: free of charge and flagged as a gift.
func mapGift(g Gift) (order.Line, error) {
	qty, err := count(g.GoodsCount)
	if err != nil {
		return order.Line{}, err
	}
	sku := chanhttp.FirstNonEmpty(g.SkuID.String(), g.GoodsID.String())
	if sku == "" {
		return order.Line{}, bad("gift without sku_id")
	}
	return order.Line{
		ChannelSKU: sku, SKU: strings.TrimSpace(g.OuterID), Title: strings.TrimSpace(g.GoodsName), Quantity: qty,
		UnitPrice: money.New(0, chanhttp.Currency), Discount: money.New(0, chanhttp.Currency), Gift: true,
	}, nil
}
