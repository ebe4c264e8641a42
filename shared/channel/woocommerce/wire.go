package woocommerce

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Order is a WooCommerce REST API v3 order as the API and the order.* webhooks send it (the fields
// the hub reads). The sandbox serves the same type, so both sides agree on one shape.
type Order struct {
	ID               int64          `json:"id"`
	ParentID         int64          `json:"parent_id"`
	Number           string         `json:"number"`
	OrderKey         string         `json:"order_key,omitempty"`
	CreatedVia       string         `json:"created_via,omitempty"`
	Status           string         `json:"status"`
	Currency         string         `json:"currency"`
	DateCreated      string         `json:"date_created"` // site-local wall time; the hub reads the _gmt twin
	DateCreatedGMT   GMTTime        `json:"date_created_gmt"`
	DateModified     string         `json:"date_modified"`
	DateModifiedGMT  GMTTime        `json:"date_modified_gmt"`
	DatePaidGMT      GMTTime        `json:"date_paid_gmt"`
	DateCompletedGMT GMTTime        `json:"date_completed_gmt"`
	DiscountTotal    Decimal        `json:"discount_total"`
	ShippingTotal    Decimal        `json:"shipping_total"`
	CartTax          Decimal        `json:"cart_tax"`
	Total            Decimal        `json:"total"`
	TotalTax         Decimal        `json:"total_tax"`
	PricesIncludeTax bool           `json:"prices_include_tax"`
	CustomerID       int64          `json:"customer_id"`
	CustomerNote     string         `json:"customer_note"`
	Billing          Address        `json:"billing"`
	Shipping         Address        `json:"shipping"`
	PaymentMethod    string         `json:"payment_method"`
	TransactionID    string         `json:"transaction_id"`
	MetaData         []Meta         `json:"meta_data"`
	LineItems        []LineItem     `json:"line_items"`
	ShippingLines    []ShippingLine `json:"shipping_lines"`
	Refunds          []Refund       `json:"refunds"`
}

// Address is a billing or shipping address; WooCommerce sends it in clear text.
type Address struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Company   string `json:"company"`
	Address1  string `json:"address_1"`
	Address2  string `json:"address_2"`
	City      string `json:"city"`
	State     string `json:"state"`
	Postcode  string `json:"postcode"`
	Country   string `json:"country"`
	Email     string `json:"email,omitempty"` // billing only
	Phone     string `json:"phone"`
}

// Meta is one order meta entry; the value is kept raw because plugins store any JSON there.
type Meta struct {
	ID    int64           `json:"id,omitempty"`
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// LineItem is one line of an order. Subtotal is before and Total after the line's discounts.
type LineItem struct {
	ID          int64           `json:"id"`
	Name        string          `json:"name"`
	ProductID   int64           `json:"product_id"`
	VariationID int64           `json:"variation_id"`
	Quantity    int             `json:"quantity"`
	Subtotal    Decimal         `json:"subtotal"`
	Total       Decimal         `json:"total"`
	SKU         string          `json:"sku"`
	Price       json.RawMessage `json:"price,omitempty"` // a float (subtotal ÷ quantity): never used for money
}

// ShippingLine is one shipping method charged on the order.
type ShippingLine struct {
	ID          int64   `json:"id"`
	MethodTitle string  `json:"method_title"`
	MethodID    string  `json:"method_id"`
	Total       Decimal `json:"total"`
}

// Refund is a refund listed on the order; its total is negative.
type Refund struct {
	ID     int64   `json:"id"`
	Reason string  `json:"reason"`
	Total  Decimal `json:"total"`
}

// Note is an order note.
type Note struct {
	ID             int64   `json:"id,omitempty"`
	Author         string  `json:"author,omitempty"`
	DateCreatedGMT GMTTime `json:"date_created_gmt"`
	Note           string  `json:"note"`
	CustomerNote   bool    `json:"customer_note"`
}

// Decimal is a platform amount kept as its literal decimal text. WooCommerce sends strings
// ("19.99"); a JSON number is accepted too and kept as written, so no amount passes through a float.
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

// gmtLayout is how WooCommerce writes the *_gmt dates: UTC without a zone designator.
const gmtLayout = "2006-01-02T15:04:05"

// GMTTime is one of WooCommerce's *_gmt timestamps; null or "" is the zero time.
type GMTTime struct{ time.Time }

// UnmarshalJSON reads "2017-03-22T19:28:02" as UTC (a trailing Z or offset is tolerated).
func (t *GMTTime) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == nil || strings.TrimSpace(*s) == "" {
		t.Time = time.Time{}
		return nil
	}
	v, err := time.Parse(gmtLayout, *s)
	if err != nil {
		if v, err = time.Parse(time.RFC3339, *s); err != nil {
			return errors.New("date is not yyyy-mm-ddThh:mm:ss")
		}
	}
	t.Time = v.UTC()
	return nil
}

// MarshalJSON writes the WooCommerce form, or null for the zero time.
func (t GMTTime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(gmtLayout))
}

// orderUpdate is the body of PUT orders/{id} the writeback sends.
type orderUpdate struct {
	Status   string `json:"status,omitempty"`
	MetaData []Meta `json:"meta_data,omitempty"`
}

// apiError is WooCommerce's (WordPress's) REST error body.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
