package stock

import (
	"cmp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"orderhub/shared/fault"
)

// Limits every adapter applies.
const (
	// MaxNeeds bounds the distinct SKUs of one reservation, so that it stays one DynamoDB
	// transaction (at most 100 items: a shard per SKU, sometimes a header, the record, waitlist entries).
	MaxNeeds = 25
	// MaxShards bounds the shards of one item: an administrative change writes the header, the
	// audit record and every shard in one transaction.
	MaxShards = 64
	// MaxQuantity bounds every quantity and stock level, far from int64 overflow when summed.
	MaxQuantity = 1_000_000_000
	// MaxNameLen bounds a SKU, a warehouse, an order id and a key, in bytes.
	MaxNameLen = 128
	// DefaultLimit and MaxLimit bound a page of List, Audit and Waitlist.
	DefaultLimit = 50
	MaxLimit     = 200
)

// Errors every adapter returns. Each has a fault kind, so the edge maps it without parsing text.
var (
	ErrInvalid       = fault.New(fault.Invalid, "invalid_stock_request", "invalid stock request")
	ErrNotFound      = fault.New(fault.NotFound, "stock_not_found", "no stock is recorded for this SKU")
	ErrNoReservation = fault.New(fault.NotFound, "no_reservation", "the order has no stock reservation")
	// ErrState is returned when the order's reservation is in a state the call cannot start from,
	// e.g. Consume of a released reservation or Release of a consumed one.
	ErrState = fault.New(fault.Conflict, "reservation_state", "the order's stock reservation is in another state")
	// ErrOvercommit is returned by SetSafety when raising the safety stock would put units that are
	// already reserved inside it.
	ErrOvercommit = fault.New(fault.Conflict, "overcommit", "the change would leave reserved units above on hand minus safety stock")
	// ErrUnmapped is returned by Expand for lines whose channel SKU no mapping names.
	ErrUnmapped      = fault.New(fault.Unprocessable, "unmapped_sku", "channel SKU is not mapped to a SKU")
	ErrInvalidCursor = fault.New(fault.Invalid, "invalid_cursor", "invalid cursor")
	// ErrContention is returned when optimistic writes kept losing races for every retry.
	ErrContention = fault.New(fault.Conflict, "stock_contention", "the stock item is being changed by others; try again")
)

// Need is a quantity of one SKU that an order takes from its warehouse.
type Need struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// Item is the stock of one SKU in one warehouse.
type Item struct {
	SKU       string `json:"sku"`
	Warehouse string `json:"warehouse"`
	OnHand    int64  `json:"on_hand"`      // physically in the warehouse (negative only after a wrong count, see doc.go)
	Reserved  int64  `json:"reserved"`     // promised to orders that have not shipped
	Safety    int64  `json:"safety_stock"` // kept back from every promise
	Shards    int    `json:"shards"`       // 1: not sharded; see doc.go
	// Pool shows how a sharded item's available units are spread over its shards, on backends
	// that keep shards apart (stocktest.Features.Shards); nil on the others.
	Pool *Pool `json:"pool,omitempty"`
	// UpdatedAt is when the item last changed; on sharded backends, when its header last did
	// (a reservation from a shard's own units does not touch the header).
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Pool is where a sharded item's available units sit.
type Pool struct {
	// Unallocated units belong to no shard yet: released units and restocks land here and a
	// shard that runs dry is refilled from here first. Negative while the item is over-committed
	// or its safety stock exceeds what is on hand.
	Unallocated int64   `json:"unallocated"`
	Free        []int64 `json:"free"`     // per shard: units it can still reserve
	Reserved    []int64 `json:"reserved"` // per shard: units reserved from it
}

// Available is the item's available-to-promise: on hand − reserved − safety stock, never negative.
func (it Item) Available() int64 { return max(0, it.OnHand-it.Reserved-it.Safety) }

// Shortfall is how many reserved units exceed what may be promised (on hand − safety, at least
// 0). It is 0 except after a count or adjustment lowered on hand below what was already reserved:
// such a change is applied and flagged in the audit, and no reservation succeeds until it is 0.
func (it Item) Shortfall() int64 { return max(0, it.Reserved-max(0, it.OnHand-it.Safety)) }

// Stock is one SKU across its warehouses.
type Stock struct {
	SKU   string `json:"sku"`
	Items []Item `json:"warehouses"` // by warehouse
}

// Available is the SKU's available-to-promise summed over its warehouses.
func (s Stock) Available() int64 {
	var n int64
	for _, it := range s.Items {
		n += it.Available()
	}
	return n
}

// Item returns the SKU's item in warehouse, if there is one.
func (s Stock) Item(warehouse string) (Item, bool) {
	for _, it := range s.Items {
		if it.Warehouse == warehouse {
			return it, true
		}
	}
	return Item{}, false
}

// Reservation asks for every need of one order from one warehouse.
type Reservation struct {
	OrderID   string `json:"order_id"`
	Warehouse string `json:"warehouse"`
	Needs     []Need `json:"needs"`
	// Key names this attempt. A reservation is idempotent by OrderID: while the order's record is
	// reserved or consumed, every Reserve returns it. After a Release, a Reserve with the record's
	// Key is still a redelivery (it returns the released record), while a new Key reserves again
	// (an order released by a hold and routed anew). Use e.g. "<order id>:<routing attempt>".
	Key string `json:"key"`
}

// Normalize checks r and returns it with its needs merged per SKU and sorted by SKU.
func (r Reservation) Normalize() (Reservation, error) {
	if err := CheckName("order id", r.OrderID); err != nil {
		return r, err
	}
	if err := CheckName("warehouse", r.Warehouse); err != nil {
		return r, err
	}
	if err := CheckName("key", r.Key); err != nil {
		return r, err
	}
	needs, err := Merge(r.Needs)
	if err != nil {
		return r, err
	}
	r.Needs = needs
	return r, nil
}

// Merge checks needs and returns them summed per SKU, sorted by SKU.
func Merge(needs []Need) ([]Need, error) {
	if len(needs) == 0 {
		return nil, fault.With(ErrInvalid, "a reservation needs at least one SKU")
	}
	sum := map[string]int64{}
	for _, n := range needs {
		if err := CheckName("sku", n.SKU); err != nil {
			return nil, err
		}
		if n.Quantity <= 0 || n.Quantity > MaxQuantity {
			return nil, fault.With(ErrInvalid, "quantity of %s must be between 1 and %d", n.SKU, MaxQuantity)
		}
		sum[n.SKU] += n.Quantity
		if sum[n.SKU] > MaxQuantity {
			return nil, fault.With(ErrInvalid, "quantity of %s must be at most %d", n.SKU, MaxQuantity)
		}
	}
	if len(sum) > MaxNeeds {
		return nil, fault.With(ErrInvalid, "a reservation takes at most %d distinct SKUs, this one %d", MaxNeeds, len(sum))
	}
	out := make([]Need, 0, len(sum))
	for sku, q := range sum {
		out = append(out, Need{SKU: sku, Quantity: q})
	}
	slices.SortFunc(out, func(a, b Need) int { return cmp.Compare(a.SKU, b.SKU) })
	return out, nil
}

// CheckName checks a SKU, warehouse, order id, key or actor: 1 to MaxNameLen bytes of valid
// UTF-8 without spaces, control characters, '#' or '|' (adapters build keys from them, and a
// space sorts below every allowed character, so "sku warehouse" sorts like (sku, warehouse)).
func CheckName(what, s string) error {
	if s == "" || len(s) > MaxNameLen || !utf8.ValidString(s) {
		return fault.With(ErrInvalid, "%s must be 1 to %d bytes of UTF-8", what, MaxNameLen)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == '#' || r == '|' }) {
		return fault.With(ErrInvalid, "%s must not contain spaces, control characters, '#' or '|'", what)
	}
	return nil
}

// State is where an order's reservation record stands.
type State string

// States of a reservation record. Only Reserved counts towards an item's reserved units.
const (
	Reserved State = "reserved" // every need holds stock
	Presale  State = "presale"  // waits in the presale pool; holds no stock (see Store.Presale)
	Released State = "released" // given back (cancel, refund before shipment, hold); holds nothing
	Consumed State = "consumed" // shipped: on hand and reserved both went down by the needs
)

// Record is an order's reservation, one per order id.
type Record struct {
	OrderID   string    `json:"order_id"`
	Warehouse string    `json:"warehouse"`
	Key       string    `json:"key"`
	State     State     `json:"state"`
	Needs     []Need    `json:"needs"`
	Reason    string    `json:"reason,omitempty"` // why it was released
	CreatedAt time.Time `json:"created_at"`       // when this attempt (Key) was recorded
	UpdatedAt time.Time `json:"updated_at"`
}

// Shortage is a SKU an order could not get enough of.
type Shortage struct {
	SKU       string `json:"sku"`
	Requested int64  `json:"requested"`
	Available int64  `json:"available"` // what could have been promised at that moment
}

// Result is what a reservation call did.
type Result struct {
	// Record is the order's record after the call. Its State is empty when Reserve was short and
	// the order had no record: a short reservation writes nothing.
	Record Record `json:"record"`
	// Short lists the SKUs that lacked stock when nothing was reserved; empty otherwise.
	Short []Shortage `json:"short,omitempty"`
	// Replayed is true when the call found its outcome already stored (a redelivery) and changed nothing.
	Replayed bool `json:"replayed,omitempty"`
}

// OK reports whether the order holds (or, once shipped, held) stock for every need.
func (r Result) OK() bool { return r.Record.State == Reserved || r.Record.State == Consumed }

// Op names an audited change of a stock item.
type Op string

// Audited operations.
const (
	OpSetOnHand Op = "set_on_hand"
	OpAdjust    Op = "adjust"
	OpSetSafety Op = "set_safety"
	OpSetShards Op = "set_shards"
)

// Levels are an item's numbers before or after an audited change.
type Levels struct {
	OnHand   int64 `json:"on_hand"`
	Reserved int64 `json:"reserved"`
	Safety   int64 `json:"safety_stock"`
	Shards   int   `json:"shards"`
}

// Shortfall is Item.Shortfall of these levels.
func (l Levels) Shortfall() int64 { return max(0, l.Reserved-max(0, l.OnHand-l.Safety)) }

// LevelsOf returns the levels of it.
func LevelsOf(it Item) Levels {
	return Levels{OnHand: it.OnHand, Reserved: it.Reserved, Safety: it.Safety, Shards: it.Shards}
}

// DeltaOf returns the audited delta of op, a change from before to after (see AuditRecord.Delta).
// A new item's before levels are all zero, shards included.
func DeltaOf(op Op, before, after Levels) int64 {
	switch op {
	case OpSetSafety:
		return after.Safety - before.Safety
	case OpSetShards:
		return int64(after.Shards - before.Shards)
	}
	return after.OnHand - before.OnHand
}

// AuditRecord is one administrative change of a stock item: who, when, why, before and after.
type AuditRecord struct {
	ID        string    `json:"id"` // unique per SKU; opaque
	SKU       string    `json:"sku"`
	Warehouse string    `json:"warehouse"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	Reason    string    `json:"reason"`
	Op        Op        `json:"op"`
	// Delta is the requested change: of on hand for set_on_hand and adjust, of the safety stock
	// for set_safety, of the shard count for set_shards.
	Delta  int64  `json:"delta"`
	Before Levels `json:"before"`
	After  Levels `json:"after"`
	// Flagged is set when the change left reserved units above what may be promised (After has a
	// shortfall): the change was applied, and the orders concerned need a person.
	Flagged bool `json:"flagged,omitempty"`
}

// Filter selects items for List. Zero fields match everything.
type Filter struct {
	Warehouse string
	SKUPrefix string
	Cursor    string // from a previous Page.Next
	Limit     int    // default DefaultLimit, at most MaxLimit
}

// Page is one page of items, by SKU then warehouse. Next is empty on the last page.
type Page struct {
	Items []Item `json:"items"`
	Next  string `json:"next,omitempty"`
}

// Paging asks for one page of Audit or Waitlist.
type Paging struct {
	Cursor string
	Limit  int
}

// PageSize returns the effective page size for limit.
func PageSize(limit int) int {
	switch {
	case limit <= 0:
		return DefaultLimit
	case limit > MaxLimit:
		return MaxLimit
	}
	return limit
}

// AuditPage is one page of audit records, newest first.
type AuditPage struct {
	Records []AuditRecord `json:"records"`
	Next    string        `json:"next,omitempty"`
}

// Waiting is one presale order's need of a SKU.
type Waiting struct {
	OrderID   string    `json:"order_id"`
	Warehouse string    `json:"warehouse"`
	Quantity  int64     `json:"quantity"`
	Since     time.Time `json:"since"`
}

// WaitPage is one page of a SKU's presale pool, oldest first (the order to promote them in).
type WaitPage struct {
	Orders []Waiting `json:"orders"`
	Next   string    `json:"next,omitempty"`
}

// CheckChange checks the common arguments of an administrative change.
func CheckChange(sku, warehouse, actor, reason string) error {
	if err := CheckName("sku", sku); err != nil {
		return err
	}
	if err := CheckName("warehouse", warehouse); err != nil {
		return err
	}
	if strings.TrimSpace(actor) == "" || len(actor) > MaxNameLen || !utf8.ValidString(actor) {
		return fault.With(ErrInvalid, "actor is required (at most %d bytes)", MaxNameLen)
	}
	if strings.TrimSpace(reason) == "" || len(reason) > 1024 || !utf8.ValidString(reason) {
		return fault.With(ErrInvalid, "reason is required (at most 1024 bytes)")
	}
	return nil
}

// CheckLevel checks a quantity given to SetOnHand or SetSafety.
func CheckLevel(what string, qty int64) error {
	if qty < 0 || qty > MaxQuantity {
		return fault.With(ErrInvalid, "%s must be between 0 and %d", what, MaxQuantity)
	}
	return nil
}

// CheckDelta checks an adjustment of on hand from onHand by delta.
func CheckDelta(onHand, delta int64) error {
	switch {
	case delta == 0 || delta < -MaxQuantity || delta > MaxQuantity:
		return fault.With(ErrInvalid, "an adjustment must be non-zero and at most %d either way", MaxQuantity)
	case onHand+delta > MaxQuantity:
		return fault.With(ErrInvalid, "on hand must stay at most %d", MaxQuantity)
	case delta < 0 && onHand+delta < 0:
		return fault.With(ErrInvalid, "the adjustment would make on hand negative (%d%+d)", onHand, delta)
	}
	return nil
}

// CheckShards checks a shard count given to SetShards.
func CheckShards(k int) error {
	if k < 1 || k > MaxShards {
		return fault.With(ErrInvalid, "shards must be between 1 and %d", MaxShards)
	}
	return nil
}

// CheckSafetyRaise returns ErrOvercommit when setting the safety stock of item it to safety
// would put reserved units inside it. Lowering it, or any value while nothing is reserved, is fine.
func CheckSafetyRaise(it Item, safety int64) error {
	after := it
	after.Safety = safety
	if safety > it.Safety && after.Shortfall() > 0 {
		return fault.With(ErrOvercommit, "%d reserved, %d on hand: safety stock may be at most %d", it.Reserved, it.OnHand, max(0, it.OnHand-it.Reserved))
	}
	return nil
}
