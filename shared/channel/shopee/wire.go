package shopee

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// The platform's JSON shapes, shared by the client and the sandbox. Only the fields the hub uses are
// declared. Amounts are JSON decimals in the order's currency, kept as json.Number so that no float ever
// touches them; times are unix seconds.

// envelope wraps every v2 answer; a non-empty error means failure.
type envelope struct {
	Error     string          `json:"error"`
	Message   string          `json:"message"`
	RequestID string          `json:"request_id"`
	Response  json.RawMessage `json:"response,omitempty"`
}

type orderListResponse struct {
	More       bool            `json:"more"`
	NextCursor string          `json:"next_cursor"`
	OrderList  []orderListItem `json:"order_list"`
}

type orderListItem struct {
	OrderSN     string `json:"order_sn"`
	OrderStatus string `json:"order_status,omitempty"`
}

type orderDetailResponse struct {
	OrderList []orderDetail `json:"order_list"`
}

// orderDetail is one order as get_order_detail returns it with the optional fields the hub asks for.
type orderDetail struct {
	OrderSN          string            `json:"order_sn"`
	Region           string            `json:"region"`
	Currency         string            `json:"currency"`
	COD              bool              `json:"cod"`
	TotalAmount      json.Number       `json:"total_amount"`
	OrderStatus      string            `json:"order_status"`
	ShippingCarrier  string            `json:"shipping_carrier,omitempty"`
	CreateTime       flexInt           `json:"create_time"`
	UpdateTime       flexInt           `json:"update_time"`
	PayTime          flexInt           `json:"pay_time"`
	DaysToShip       flexInt           `json:"days_to_ship"`
	ShipByDate       flexInt           `json:"ship_by_date"`
	BuyerUserID      flexInt           `json:"buyer_user_id"`
	BuyerUsername    string            `json:"buyer_username"`
	RecipientAddress *recipientAddress `json:"recipient_address,omitempty"`
	ItemList         []orderItem       `json:"item_list"`
	EstimatedShip    json.Number       `json:"estimated_shipping_fee,omitempty"`
	CancelBy         string            `json:"cancel_by,omitempty"`
	CancelReason     string            `json:"cancel_reason,omitempty"`
}

// recipientAddress is masked by the platform (name, phone and street partly hidden).
type recipientAddress struct {
	Name        string `json:"name"`
	Phone       string `json:"phone"`
	Town        string `json:"town"`
	District    string `json:"district"`
	City        string `json:"city"`
	State       string `json:"state"`
	Region      string `json:"region"`
	Zipcode     string `json:"zipcode"`
	FullAddress string `json:"full_address"`
}

type orderItem struct {
	ItemID          flexInt     `json:"item_id"`
	ItemName        string      `json:"item_name"`
	ItemSKU         string      `json:"item_sku"`
	ModelID         flexInt     `json:"model_id"`
	ModelName       string      `json:"model_name,omitempty"`
	ModelSKU        string      `json:"model_sku"`
	Quantity        flexInt     `json:"model_quantity_purchased"`
	OriginalPrice   json.Number `json:"model_original_price"`
	DiscountedPrice json.Number `json:"model_discounted_price"`
	PromotionType   string      `json:"promotion_type,omitempty"`
	AddOnDeal       bool        `json:"add_on_deal,omitempty"`
	MainItem        bool        `json:"main_item,omitempty"`
}

type trackingResponse struct {
	TrackingNumber string `json:"tracking_number"`
}

// flexInt decodes an integer the platform sends as a JSON number or a string of digits.
type flexInt int64

// UnmarshalJSON accepts 12, "12", "" and null.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	if len(b) == 0 || string(b) == "null" {
		*f = 0
		return nil
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return errors.New("not an integer")
	}
	*f = flexInt(v)
	return nil
}
