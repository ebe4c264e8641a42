package shopify

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"
)

// Order is a Shopify Admin REST order as the API and the orders/* webhooks send it (the fields
// the hub reads). The sandbox serves the same type, so both sides agree on one shape.
type Order struct {
	ID                    int64          `json:"id"`
	Name                  string         `json:"name"` // "#1001": the number the merchant sees
	Email                 string         `json:"email,omitempty"`
	Phone                 string         `json:"phone,omitempty"`
	CreatedAt             time.Time      `json:"created_at"`
	UpdatedAt             time.Time      `json:"updated_at"`
	ProcessedAt           *time.Time     `json:"processed_at"`
	CancelledAt           *time.Time     `json:"cancelled_at"`
	CancelReason          *string        `json:"cancel_reason"`
	ClosedAt              *time.Time     `json:"closed_at"`
	Currency              string         `json:"currency"`
	FinancialStatus       string         `json:"financial_status"`
	FulfillmentStatus     *string        `json:"fulfillment_status"` // null until something ships
	TotalPrice            Decimal        `json:"total_price"`
	SubtotalPrice         Decimal        `json:"subtotal_price"`
	TotalLineItemsPrice   Decimal        `json:"total_line_items_price"`
	TotalDiscounts        Decimal        `json:"total_discounts"`
	TotalTax              Decimal        `json:"total_tax"`
	TotalShippingPriceSet *PriceSet      `json:"total_shipping_price_set,omitempty"`
	Test                  bool           `json:"test"`
	Customer              *Customer      `json:"customer"`
	ShippingAddress       *Address       `json:"shipping_address"`
	BillingAddress        *Address       `json:"billing_address"`
	LineItems             []LineItem     `json:"line_items"`
	ShippingLines         []ShippingLine `json:"shipping_lines"`
	Fulfillments          []Fulfillment  `json:"fulfillments"`
}

// Customer is the buyer's customer record embedded in an order.
type Customer struct {
	ID        int64  `json:"id"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
}

// Address is a shipping or billing address; Shopify sends it in clear text.
type Address struct {
	FirstName    string `json:"first_name,omitempty"`
	LastName     string `json:"last_name,omitempty"`
	Name         string `json:"name,omitempty"`
	Company      string `json:"company,omitempty"`
	Address1     string `json:"address1,omitempty"`
	Address2     string `json:"address2,omitempty"`
	City         string `json:"city,omitempty"`
	Province     string `json:"province,omitempty"`
	ProvinceCode string `json:"province_code,omitempty"`
	Country      string `json:"country,omitempty"`
	CountryCode  string `json:"country_code,omitempty"`
	Zip          string `json:"zip,omitempty"`
	Phone        string `json:"phone,omitempty"`
}

// LineItem is one line of an order.
type LineItem struct {
	ID                  int64                `json:"id"`
	VariantID           *int64               `json:"variant_id"`
	ProductID           *int64               `json:"product_id"`
	SKU                 string               `json:"sku"`
	Title               string               `json:"title"`
	VariantTitle        string               `json:"variant_title,omitempty"`
	Quantity            int                  `json:"quantity"`
	Price               Decimal              `json:"price"` // per unit, before discounts
	TotalDiscount       Decimal              `json:"total_discount"`
	DiscountAllocations []DiscountAllocation `json:"discount_allocations"`
	GiftCard            bool                 `json:"gift_card"`
	RequiresShipping    bool                 `json:"requires_shipping"`
	FulfillableQuantity int                  `json:"fulfillable_quantity"`
}

// DiscountAllocation is the part of one discount that falls on a line.
type DiscountAllocation struct {
	Amount                   Decimal `json:"amount"`
	DiscountApplicationIndex int     `json:"discount_application_index"`
}

// ShippingLine is one shipping method charged on the order.
type ShippingLine struct {
	Title           string  `json:"title"`
	Price           Decimal `json:"price"`
	DiscountedPrice Decimal `json:"discounted_price"`
}

// PriceSet carries an amount in the shop's and in the buyer's (presentment) currency.
type PriceSet struct {
	ShopMoney        MoneyV2 `json:"shop_money"`
	PresentmentMoney MoneyV2 `json:"presentment_money"`
}

// MoneyV2 is an amount with its currency code.
type MoneyV2 struct {
	Amount       Decimal `json:"amount"`
	CurrencyCode string  `json:"currency_code"`
}

// Fulfillment is a shipment recorded on the order.
type Fulfillment struct {
	ID              int64     `json:"id"`
	OrderID         int64     `json:"order_id"`
	Status          string    `json:"status"` // pending, open, success, cancelled, error, failure
	TrackingCompany string    `json:"tracking_company"`
	TrackingNumber  string    `json:"tracking_number"`
	TrackingNumbers []string  `json:"tracking_numbers"`
	CreatedAt       time.Time `json:"created_at"`
}

// FulfillmentOrder is the unit Shopify fulfils: a group of line items from one location.
type FulfillmentOrder struct {
	ID               int64                  `json:"id"`
	OrderID          int64                  `json:"order_id"`
	Status           string                 `json:"status"` // open, in_progress, scheduled, on_hold, incomplete, closed, cancelled
	SupportedActions []string               `json:"supported_actions"`
	LineItems        []FulfillmentOrderLine `json:"line_items"`
}

// FulfillmentOrderLine is one line of a fulfillment order.
type FulfillmentOrderLine struct {
	ID                  int64 `json:"id"`
	LineItemID          int64 `json:"line_item_id"`
	Quantity            int   `json:"quantity"`
	FulfillableQuantity int   `json:"fulfillable_quantity"`
}

// Decimal is a platform amount kept as its literal decimal text. Shopify sends strings ("19.99");
// a JSON number is accepted too and kept as written, so no amount ever passes through a float.
type Decimal string

// UnmarshalJSON accepts a string, a number or null.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*d = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*d = Decimal(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return errors.New("amount is neither a string nor a number")
		}
		*d = Decimal(n)
	}
	return nil
}

// fulfillmentInput is the body of POST fulfillments.json.
type fulfillmentInput struct {
	Fulfillment struct {
		LineItemsByFulfillmentOrder []fulfillmentOrderRef `json:"line_items_by_fulfillment_order"`
		TrackingInfo                trackingInfo          `json:"tracking_info"`
		NotifyCustomer              bool                  `json:"notify_customer"`
	} `json:"fulfillment"`
}

type fulfillmentOrderRef struct {
	FulfillmentOrderID int64 `json:"fulfillment_order_id"`
}

type trackingInfo struct {
	Number  string `json:"number"`
	Company string `json:"company,omitempty"`
	URL     string `json:"url,omitempty"`
}
