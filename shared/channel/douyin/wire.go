package douyin

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// The platform's JSON shapes, shared by the client and the sandbox. Only the fields the hub uses are
// declared; amounts are integer fen and times unix seconds throughout.

// envelope wraps every API answer; code 10000 means success.
type envelope struct {
	Code    flexInt         `json:"code"`
	Msg     string          `json:"msg"`
	SubCode string          `json:"sub_code"`
	SubMsg  string          `json:"sub_msg"`
	LogID   string          `json:"log_id,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

const codeOK = 10000

type searchListData struct {
	ShopOrderList []shopOrder `json:"shop_order_list"`
	Page          flexInt     `json:"page"`
	Size          flexInt     `json:"size"`
	Total         flexInt     `json:"total"`
}

type orderDetailData struct {
	ShopOrderDetail shopOrder `json:"shop_order_detail"`
}

// shopOrder is one shop order (店铺单) with its SKU orders, as order.searchList and order.orderDetail return it.
type shopOrder struct {
	OrderID         flexID  `json:"order_id"`
	ShopID          flexID  `json:"shop_id"`
	OrderStatus     flexInt `json:"order_status"`
	OrderStatusDesc string  `json:"order_status_desc,omitempty"`
	MainStatus      flexInt `json:"main_status"`
	MainStatusDesc  string  `json:"main_status_desc,omitempty"`
	CreateTime      flexInt `json:"create_time"`
	UpdateTime      flexInt `json:"update_time"`
	PayTime         flexInt `json:"pay_time"`
	FinishTime      flexInt `json:"finish_time"`
	ExpShipTime     flexInt `json:"exp_ship_time"`
	ShipTime        flexInt `json:"ship_time"`
	CancelReason    string  `json:"cancel_reason,omitempty"`

	OrderAmount     flexInt `json:"order_amount"`
	PayAmount       flexInt `json:"pay_amount"`
	PostAmount      flexInt `json:"post_amount"`
	PromotionAmount flexInt `json:"promotion_amount"`

	// Receiver data: the plain fields are empty for orders placed since the platform encrypted them; the
	// encrypted ones are tokens the platform decrypts for waybills; the mask_ ones are for display.
	PostReceiver        string    `json:"post_receiver,omitempty"`
	PostTel             string    `json:"post_tel,omitempty"`
	EncryptPostReceiver string    `json:"encrypt_post_receiver,omitempty"`
	EncryptPostTel      string    `json:"encrypt_post_tel,omitempty"`
	MaskPostReceiver    string    `json:"mask_post_receiver,omitempty"`
	MaskPostTel         string    `json:"mask_post_tel,omitempty"`
	PostAddr            *postAddr `json:"post_addr,omitempty"`
	MaskPostAddr        *postAddr `json:"mask_post_addr,omitempty"`

	SkuOrderList  []skuOrder      `json:"sku_order_list"`
	LogisticsInfo []logisticsInfo `json:"logistics_info,omitempty"`
}

type postAddr struct {
	Province      region `json:"province"`
	City          region `json:"city"`
	Town          region `json:"town"`
	Street        region `json:"street"`
	Detail        string `json:"detail"`
	EncryptDetail string `json:"encrypt_detail,omitempty"`
}

type region struct {
	Name string `json:"name"`
	ID   flexID `json:"id"`
}

// skuOrder is one line (商品单) of a shop order.
type skuOrder struct {
	OrderID          flexID         `json:"order_id"`
	ParentOrderID    flexID         `json:"parent_order_id"`
	OrderStatus      flexInt        `json:"order_status"`
	ProductID        flexID         `json:"product_id"`
	SkuID            flexID         `json:"sku_id"`
	Code             string         `json:"code,omitempty"` // the seller's own SKU code (商家编码)
	OutSkuID         flexID         `json:"out_sku_id,omitempty"`
	ProductName      string         `json:"product_name"`
	ItemNum          flexInt        `json:"item_num"`
	OriginAmount     flexInt        `json:"origin_amount"` // unit price
	SumAmount        flexInt        `json:"sum_amount"`    // unit price × quantity
	PayAmount        flexInt        `json:"pay_amount"`
	PromotionAmount  flexInt        `json:"promotion_amount"` // discount on the whole line
	GivenProductType string         `json:"given_product_type,omitempty"`
	AfterSaleInfo    *afterSaleInfo `json:"after_sale_info,omitempty"`
}

type afterSaleInfo struct {
	AfterSaleStatus flexInt `json:"after_sale_status"`
	AfterSaleType   flexInt `json:"after_sale_type"`
	RefundStatus    flexInt `json:"refund_status"`
}

type logisticsInfo struct {
	TrackingNo  string  `json:"tracking_no"`
	Company     string  `json:"company"`
	CompanyName string  `json:"company_name,omitempty"`
	ShipTime    flexInt `json:"ship_time"`
}

// flexInt decodes an integer the platform sends either as a JSON number or as a string of digits.
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

// flexID keeps an identifier's digits as text whether it arrives as a number or a string, so 19-digit ids
// never pass through float64.
type flexID string

// UnmarshalJSON accepts "123", 123 and null.
func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New("not an id")
	}
	*f = flexID(n.String())
	return nil
}

// MarshalJSON writes the id as a string, the platform's current shape for ids.
func (f flexID) MarshalJSON() ([]byte, error) { return json.Marshal(string(f)) }
