package rules

import (
	"math"
	"slices"
	"strings"
	"time"

	"orderhub/shared/money"
	"orderhub/shared/order"
)

// Env is the typed environment every condition is compiled against and run in. The expr tags are
// the names conditions use; the package documentation lists them all. Amounts come twice: exact
// integers of minor units (*_minor) and decimal numbers in major units for readable thresholds.
type Env struct {
	Channel        string `expr:"channel"`
	Shop           string `expr:"shop"`
	ChannelOrderID string `expr:"channel_order_id"`
	Status         string `expr:"status"`
	ChannelStatus  string `expr:"channel_status"`

	Currency        string              `expr:"currency"`
	Paid            float64             `expr:"paid"`
	PaidMinor       int                 `expr:"paid_minor"`
	Goods           float64             `expr:"goods"`
	GoodsMinor      int                 `expr:"goods_minor"`
	Shipping        float64             `expr:"shipping"`
	ShippingMinor   int                 `expr:"shipping_minor"`
	Discount        float64             `expr:"discount"`
	DiscountMinor   int                 `expr:"discount_minor"`
	LinesTotal      float64             `expr:"lines_total"`
	LinesTotalMinor int                 `expr:"lines_total_minor"`
	Lines           []LineEnv           `expr:"lines"`
	LineCount       int                 `expr:"line_count"`
	TotalQuantity   int                 `expr:"total_quantity"`
	SKUs            []string            `expr:"skus"`
	Suppliers       []string            `expr:"suppliers"`
	Country         string              `expr:"country"`
	Province        string              `expr:"province"`
	ProvinceShort   string              `expr:"province_short"`
	City            string              `expr:"city"`
	District        string              `expr:"district"`
	BuyerNick       string              `expr:"buyer_nick"`
	Tags            []string            `expr:"tags"`
	CreatedAt       time.Time           `expr:"created_at"`
	PaidAt          time.Time           `expr:"paid_at"`
	ShipBy          time.Time           `expr:"ship_by"`
	HasShipBy       bool                `expr:"has_ship_by"`
	HoursToShipBy   float64             `expr:"hours_to_ship_by"`
	PhoneOrders24h  int                 `expr:"phone_orders_24h"`
	SKUAttrs        Catalogue           `expr:"sku_attrs"`
	Lists           map[string][]string `expr:"lists"`
	Now             time.Time           `expr:"now"`
	Hour            int                 `expr:"hour"`
	Weekday         int                 `expr:"weekday"`
}

// LineEnv is one order line as conditions see it (the elements of lines).
type LineEnv struct {
	SKU           string   `expr:"sku"` // the seller's SKU, or the channel SKU while unmapped
	ChannelSKU    string   `expr:"channel_sku"`
	Title         string   `expr:"title"`
	Quantity      int      `expr:"quantity"`
	Price         float64  `expr:"price"` // unit price, major units
	PriceMinor    int      `expr:"price_minor"`
	Discount      float64  `expr:"discount"` // for the whole line
	DiscountMinor int      `expr:"discount_minor"`
	Amount        float64  `expr:"amount"` // quantity × price − discount
	AmountMinor   int      `expr:"amount_minor"`
	Gift          bool     `expr:"gift"`
	Attrs         SKUAttrs `expr:"attrs"` // the catalogue's attributes of the line's SKU
}

// SKUAttrs are a SKU's catalogue attributes that rules decide on. The zero value is what an
// unknown SKU has.
type SKUAttrs struct {
	Bulky    bool   `json:"bulky,omitempty" expr:"bulky"`       // needs the special-logistics warehouse
	Presale  bool   `json:"presale,omitempty" expr:"presale"`   // sold before stock arrives
	Fragile  bool   `json:"fragile,omitempty" expr:"fragile"`   // ceramics, glass
	Supplier string `json:"supplier,omitempty" expr:"supplier"` // dropship supplier that owns the SKU, if any
	Category string `json:"category,omitempty" expr:"category"`
	WeightG  int    `json:"weight_g,omitempty" expr:"weight_g"`
}

// Catalogue maps a SKU (or a channel SKU not yet mapped) to its attributes.
type Catalogue map[string]SKUAttrs

// Facts are what the pipeline knows beyond the order itself. The zero Facts is valid: no other
// orders on the phone, an empty catalogue, and the time of the call.
type Facts struct {
	// PhoneOrders24h counts the orders (this one included) with the same receiver phone hash
	// placed in the 24 hours before Now.
	PhoneOrders24h int
	// SKUAttrs holds the catalogue attributes of (at least) the order's SKUs.
	SKUAttrs Catalogue
	// Now is the evaluation time; zero means time.Now().
	Now time.Time
	// Location is the seller's time zone for hour and weekday; nil means China Standard Time.
	Location *time.Location
}

// chinaTime is UTC+8 without a tz database; mainland China has no daylight saving time.
var chinaTime = time.FixedZone("CST", 8*60*60)

// newEnv builds the environment for o. It copies what it keeps from o, so evaluation never writes
// into the order's slices.
func newEnv(o *order.Order, f Facts, lists map[string][]string) Env {
	now := f.Now
	if now.IsZero() {
		now = time.Now()
	}
	loc := f.Location
	if loc == nil {
		loc = chinaTime
	}
	local := now.In(loc)
	cur := o.Amounts.Paid.Currency
	country := strings.ToUpper(strings.TrimSpace(o.Receiver.Country))
	if country == "" {
		country = "CN"
	}
	e := Env{
		Channel:        string(o.Channel),
		Shop:           o.Shop,
		ChannelOrderID: o.ChannelOrderID,
		Status:         string(o.Status),
		ChannelStatus:  o.ChannelStatus,
		Currency:       cur,
		Paid:           major(o.Amounts.Paid),
		PaidMinor:      int(o.Amounts.Paid.Amount),
		Goods:          major(o.Amounts.Goods),
		GoodsMinor:     int(o.Amounts.Goods.Amount),
		Shipping:       major(o.Amounts.Shipping),
		ShippingMinor:  int(o.Amounts.Shipping.Amount),
		Discount:       major(o.Amounts.Discount),
		DiscountMinor:  int(o.Amounts.Discount.Amount),
		LineCount:      len(o.Lines),
		Country:        country,
		Province:       o.Receiver.Province,
		ProvinceShort:  ProvinceShort(o.Receiver.Province),
		City:           o.Receiver.City,
		District:       o.Receiver.District,
		BuyerNick:      o.Buyer.Nick,
		Tags:           slices.Clone(o.Tags),
		CreatedAt:      o.CreatedAt,
		PaidAt:         o.PaidAt,
		ShipBy:         o.ShipBy,
		HasShipBy:      !o.ShipBy.IsZero(),
		PhoneOrders24h: f.PhoneOrders24h,
		SKUAttrs:       f.SKUAttrs,
		Lists:          lists,
		Now:            now,
		Hour:           local.Hour(),
		Weekday:        int(local.Weekday()),
		Lines:          make([]LineEnv, len(o.Lines)),
	}
	if e.Tags == nil {
		e.Tags = []string{}
	}
	if e.HasShipBy {
		e.HoursToShipBy = o.ShipBy.Sub(now).Hours()
	}
	var linesTotal int64
	for i, l := range o.Lines {
		sku := l.SKU
		if sku == "" {
			sku = l.ChannelSKU
		}
		attrs, ok := f.SKUAttrs[sku]
		if !ok && l.ChannelSKU != sku {
			attrs = f.SKUAttrs[l.ChannelSKU]
		}
		amount := l.UnitPrice.Amount*int64(l.Quantity) - l.Discount.Amount
		linesTotal += amount
		e.Lines[i] = LineEnv{
			SKU:           sku,
			ChannelSKU:    l.ChannelSKU,
			Title:         l.Title,
			Quantity:      l.Quantity,
			Price:         major(l.UnitPrice),
			PriceMinor:    int(l.UnitPrice.Amount),
			Discount:      major(l.Discount),
			DiscountMinor: int(l.Discount.Amount),
			Amount:        majorOf(amount, cur),
			AmountMinor:   int(amount),
			Gift:          l.Gift,
			Attrs:         attrs,
		}
		e.TotalQuantity += l.Quantity
		if !slices.Contains(e.SKUs, sku) {
			e.SKUs = append(e.SKUs, sku)
		}
		if attrs.Supplier != "" && !slices.Contains(e.Suppliers, attrs.Supplier) {
			e.Suppliers = append(e.Suppliers, attrs.Supplier)
		}
	}
	if e.SKUs == nil {
		e.SKUs = []string{}
	}
	if e.Suppliers == nil {
		e.Suppliers = []string{}
	}
	e.LinesTotalMinor = int(linesTotal)
	e.LinesTotal = majorOf(linesTotal, cur)
	return e
}

// major renders an amount in major units for conditions. Conditions only compare it; anything
// that must be exact uses the *_minor integer instead.
func major(m money.Money) float64 {
	cur := m.Currency
	return majorOf(m.Amount, cur)
}

func majorOf(minor int64, currency string) float64 {
	return float64(minor) / math.Pow10(money.Digits(currency))
}

// provinceSuffixes are stripped, longest first, to get a province's short name.
var provinceSuffixes = []string{"维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市"}

// provincePinyin maps the romanised names that overseas storefronts send to the short Chinese name.
var provincePinyin = map[string]string{
	"beijing": "北京", "tianjin": "天津", "hebei": "河北", "shanxi": "山西", "innermongolia": "内蒙古",
	"neimongol": "内蒙古", "neimenggu": "内蒙古", "liaoning": "辽宁", "jilin": "吉林", "heilongjiang": "黑龙江",
	"shanghai": "上海", "jiangsu": "江苏", "zhejiang": "浙江", "anhui": "安徽", "fujian": "福建",
	"jiangxi": "江西", "shandong": "山东", "henan": "河南", "hubei": "湖北", "hunan": "湖南",
	"guangdong": "广东", "guangxi": "广西", "hainan": "海南", "chongqing": "重庆", "sichuan": "四川",
	"guizhou": "贵州", "yunnan": "云南", "tibet": "西藏", "xizang": "西藏", "shaanxi": "陕西",
	"gansu": "甘肃", "qinghai": "青海", "ningxia": "宁夏", "xinjiang": "新疆", "taiwan": "台湾",
	"hongkong": "香港", "macau": "澳门", "macao": "澳门",
}

// ProvinceShort returns a Chinese province's short name, the form route rules compare:
// "浙江省", "浙江" and "Zhejiang Province" all give "浙江"; "广西壮族自治区" gives "广西".
// Names it does not know are returned trimmed.
func ProvinceShort(p string) string {
	p = strings.TrimSpace(p)
	for _, s := range provinceSuffixes {
		if short, ok := strings.CutSuffix(p, s); ok && short != "" {
			return short
		}
	}
	key := strings.ToLower(p)
	for _, s := range []string{" province", " sheng", " shi", " municipality", " sar", " autonomous region",
		" zhuang", " hui", " uyghur", " uygur"} {
		key = strings.TrimSuffix(key, s)
	}
	key = strings.NewReplacer(" ", "", "-", "", "'", "").Replace(key)
	if zh, ok := provincePinyin[key]; ok {
		return zh
	}
	return p
}
