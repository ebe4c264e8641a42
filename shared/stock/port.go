package stock

import "context"

// Store keeps stock items, reservations, the presale pool and the audit of stock changes.
// Adapters: SQLite (one row per item) and DynamoDB (sharded items); conformance: package stocktest.
//
// The invariant every adapter keeps, whatever the interleaving of calls: for every item,
// reserved ≥ 0; reserved equals the sum of the needs of the item's records in state Reserved; and
// reserved ≤ on hand − safety stock, except while the item has a Shortfall, which only SetOnHand
// or Adjust can cause (and which flags their audit record). Reserve never raises reserved above
// on hand − safety stock: that is what makes overselling impossible.
type Store interface {
	// Reserve reserves every need of req in req.Warehouse, or none. Needs are merged per SKU
	// (Normalize). When any SKU lacks available units (an unknown item has none, an item with a
	// shortfall has none) nothing is written and Result.Short names every short SKU: the
	// pipeline holds the order as out_of_stock, and a later Reserve (a redelivery, or after a
	// restock) simply tries again.
	//
	// It is idempotent by order id. When the order's record is Reserved or Consumed, the record
	// is returned with Replayed set, whatever req asks (the first request wins); likewise a
	// Released record whose Key equals req.Key. A Released record with another Key is replaced
	// by a new reservation (an order reserved again after a hold). A Presale record is promoted:
	// reserved against current stock with req's needs and removed from the pool, or left waiting
	// when short. Concurrent calls for one order id make one reservation.
	Reserve(ctx context.Context, req Reservation) (Result, error)

	// Presale puts the order into the presale pool instead of reserving: a record in state
	// Presale holding req's needs and no stock, listed by Waitlist under each of its SKUs. It
	// never touches stock levels. Idempotent like Reserve: an existing Reserved, Consumed or
	// Presale record is returned with Replayed, as is a Released one with the same Key. The order
	// is promoted later by Reserve (when stock for the presale arrives) or left by Release.
	Presale(ctx context.Context, req Reservation) (Result, error)

	// Release gives back the order's reserved units (cancel, refund before shipment, hold) or
	// takes it out of the presale pool, and records reason. A Released record is returned with
	// Replayed and unchanged. A Consumed record is ErrState (the units left with the parcel: a
	// return comes back through Adjust); no record at all is ErrNoReservation.
	Release(ctx context.Context, orderID, reason string) (Result, error)

	// Consume books the order's shipment: for every need, on hand and reserved both go down by its
	// quantity, and the record becomes Consumed. A Consumed record is returned with Replayed.
	// A Released or Presale record is ErrState; no record is ErrNoReservation.
	Consume(ctx context.Context, orderID string) (Result, error)

	// Reservation returns the order's record, or ErrNoReservation.
	Reservation(ctx context.Context, orderID string) (Record, error)

	// Waitlist returns one page of the presale orders waiting for sku (any warehouse), oldest
	// first: the order in which to promote them.
	Waitlist(ctx context.Context, sku string, p Paging) (WaitPage, error)

	// SetOnHand records a stock count: on hand becomes qty (0 to MaxQuantity), creating the item
	// when it does not exist. A count is a fact and is always applied, even below what is
	// reserved: then the item has a Shortfall, the audit record is Flagged, and the item promises
	// nothing until restocked or until reservations are released. Writes an audit record.
	SetOnHand(ctx context.Context, sku, warehouse string, qty int64, actor, reason string) (Item, error)

	// Adjust changes on hand by delta (a receipt, a return, a write-off), creating the item when
	// it does not exist. Like a count it is applied even when it leaves a shortfall (flagged); it
	// is refused (ErrInvalid) when it would make on hand negative. Writes an audit record.
	Adjust(ctx context.Context, sku, warehouse string, delta int64, actor, reason string) (Item, error)

	// SetSafety sets the safety stock (0 to MaxQuantity), creating the item when it does not
	// exist. Raising it into units already reserved is refused with ErrOvercommit: a policy may
	// hold back future promises but never undo made ones. Writes an audit record.
	SetSafety(ctx context.Context, sku, warehouse string, qty int64, actor, reason string) (Item, error)

	// SetShards splits the item into k (1 to MaxShards) pre-allocated shards, spreading its
	// available units evenly (k = 1: not sharded), creating the item when it does not exist.
	// Reservations and levels behave the same for every k; only how writes spread differs, and
	// only on backends that keep shards apart (see doc.go). Writes an audit record.
	SetShards(ctx context.Context, sku, warehouse string, k int, actor, reason string) (Item, error)

	// Get returns the SKU in every warehouse that has an item for it, by warehouse, with exact
	// current levels (each item read from one consistent snapshot), or ErrNotFound.
	Get(ctx context.Context, sku string) (Stock, error)

	// List returns one page of items matching f, by SKU then warehouse. Levels are current when
	// read but a page is not one snapshot (on sharded backends not even one item: a level may be
	// off by a change in flight between two shards); Get is exact.
	List(ctx context.Context, f Filter) (Page, error)

	// Audit returns one page of the SKU's audit records (every warehouse), newest first.
	Audit(ctx context.Context, sku string, p Paging) (AuditPage, error)
}
