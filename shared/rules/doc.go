// Package rules keeps the seller's order rules as data — YAML or JSON documents whose conditions
// are expr-lang/expr expressions — and evaluates them for the router. It does no I/O.
//
// A RuleSet is decoded with Parse, ParseJSON or ParseYAML, checked and stamped with Prepare (which
// calls Compile) when it is saved, and evaluated with (*Compiled).Evaluate for every order; DryRun
// compares a candidate set with the current one over stored orders without changing them.
//
// Compile type-checks every condition against Env, so an unknown name, an unknown field, an
// unknown list or a type error (a string compared with a number, a condition that is not a bool)
// is refused at save time with the rule id and the line:column of the problem (*CompileError,
// kind fault.Unprocessable). Evaluation errors (division by zero, an index out of range) are
// returned as *EvalError, never as panics.
//
// # Rules
//
// Every rule has a stable id, a name, a kind, an enabled flag (true when left out), an order
// (ascending, ties in document order) and a condition `when`. The kinds and their actions:
//
//	kind      action field                       effect
//	tag       tags: [high_value, ...]            tags accumulate; later rules see them in tags
//	hold      hold: {code, note}                 holds accumulate, one per code
//	route     route: {warehouse | supplier |     the first matching route rule wins; an *_expr that
//	          warehouse_expr | supplier_expr,    gives "" counts as not matched; fallback lists the
//	          fallback: [...], split_allowed}    warehouses to try next; split_allowed permits a split
//	priority  priority: low|normal|high|urgent   the highest level wins; no match means normal
//
// A set may define named string lists (lists: {vip_nicks: [...]}) that conditions use as
// lists.vip_nicks; naming a list the set does not define is a compile error.
//
// # Environment
//
// Conditions see these names. Amounts come as decimal numbers in major units (yuan, dollars) for
// readable thresholds and as exact integers of minor units (fen, cents) in the *_minor names; use
// the latter for exact arithmetic. The order has no remark field, so neither does the environment.
//
//	name               type                  meaning
//	channel            string                taobao, jd, pdd, douyin, shopee, shopify, woocommerce, miniprogram, manual
//	shop               string                the shop id within the channel
//	channel_order_id   string                the platform's order id
//	status             string                canonical status, e.g. paid
//	channel_status     string                the platform's raw status, e.g. WAIT_SELLER_SEND_GOODS
//	currency           string                ISO 4217 code of the order, e.g. CNY
//	paid, paid_minor           float, int    what the buyer paid: goods + shipping − discount
//	goods, goods_minor         float, int    goods total as the platform reports it
//	shipping, shipping_minor   float, int    shipping fee
//	discount, discount_minor   float, int    order-level discount
//	lines_total, lines_total_minor float, int  sum over lines of quantity × price − line discount
//	lines              []line                the order lines, see below
//	line_count         int                   number of lines
//	total_quantity     int                   sum of line quantities
//	skus               []string              distinct SKUs of the lines, in line order
//	suppliers          []string              distinct dropship suppliers of the lines' SKUs (catalogue), in line order
//	country            string                receiver country, ISO 3166-1 alpha-2, upper case; "CN" when the order has none
//	province           string                receiver province as given, e.g. 浙江省
//	province_short     string                short Chinese province name: 浙江省, 浙江 and Zhejiang all give 浙江
//	city, district     string                receiver city and district as given
//	buyer_nick         string                the buyer's platform nick name
//	tags               []string              the order's tags plus those added by earlier rules
//	created_at, paid_at, ship_by  time       placed, paid and ship-by times (zero time when unknown)
//	has_ship_by        bool                  whether the platform gave a ship-by deadline
//	hours_to_ship_by   float                 hours from now to ship_by (negative when late; 0 without a deadline)
//	phone_orders_24h   int                   fact: orders with the same receiver phone hash in the last 24 h, this one included
//	sku_attrs          map[string]attrs      fact: catalogue attributes by SKU; an unknown SKU gives the zero attrs
//	lists              map[string][]string   the set's named lists
//	now                time                  fact: evaluation time
//	hour               int                   fact: hour of now in the seller's time zone (China Standard Time by default), 0–23
//	weekday            int                   fact: day of the week of now in that zone, 0 = Sunday
//
// Each element of lines:
//
//	sku                string    the seller's SKU, or the channel SKU while the line is not mapped
//	channel_sku        string    the platform's SKU
//	title              string    the listing title
//	quantity           int       units
//	price, price_minor       float, int  unit price
//	discount, discount_minor float, int  discount on the whole line
//	amount, amount_minor     float, int  quantity × price − discount
//	gift               bool      a gift line (满赠, zero price)
//	attrs              attrs     catalogue attributes of the line's SKU
//
// attrs (the values of sku_attrs and lines[].attrs): bulky bool, presale bool, fragile bool,
// supplier string (the dropship supplier that owns the SKU, "" for own stock), category string,
// weight_g int.
//
// expr's built-ins do the rest: any(lines, .sku startsWith "TEA"), all(lines, .gift ||
// .attrs.supplier != ""), filter, map, count, sum(lines, .quantity), len, in, matches, now - paid_at
// > duration("2h"). Examples from testdata/default.yaml:
//
//	currency == "CNY" && paid >= 2000                            high value
//	buyer_nick in lists.vip_nicks                                VIP
//	phone_orders_24h > 5                                         risk hold
//	country == "CN" && province_short in ["浙江", "上海", "江苏"]   route to Hangzhou
//	len(suppliers) == 1 && all(lines, .gift || .attrs.supplier != "")  dropship, with supplier_expr: suppliers[0]
package rules
