// Package stock is the hub's stock domain: items per SKU and warehouse, the mapping of channel
// SKUs (bundles, gifts) to SKUs, reservations that are all-or-nothing per order, the presale
// pool, audited stock changes, and the arithmetic of sharded ("hot") items. It does no I/O; the
// port is Store, its adapters live in store/sqlite (one row per item) and store/dynamo (sharded
// items), and package stocktest is the conformance suite both pass.
//
// # Items and the invariant
//
// An Item holds on hand, reserved and safety stock. Available-to-promise (ATP) is on hand −
// reserved − safety, never reported below 0. Every adapter keeps, whatever the interleaving:
//
//   - reserved ≥ 0, and reserved = the sum of the needs of the item's records in state Reserved;
//   - reserved ≤ on hand − safety, except during a Shortfall (below).
//
// Reserve is the only operation that raises reserved, and it never raises it above on hand −
// safety: that is why overselling is impossible by construction, on one item or across the
// lines of an order. A stock count (SetOnHand) or an adjustment (Adjust) is a physical fact and
// is always applied, even when it lands below what is already reserved: the item then has a
// Shortfall, the audit record is Flagged, ATP is 0 and every Reserve of it is short until a
// restock or released orders end the shortfall. Refusing the count instead would keep a number
// the warehouse has just contradicted. The safety stock is policy, not fact: raising it into
// units already reserved is refused (ErrOvercommit); setting it while nothing is reserved, even
// above on hand, is fine. A shipment after a wrong count may take on hand below 0; a recount fixes it.
//
// # Reservations
//
// Each order has at most one record (by order id): Reserved, Presale, Released or Consumed.
// Reserve is atomic across all needs (Expand's output, merged per SKU): every need is reserved
// or none, and a short reservation writes nothing (Result.Short names every short SKU; the
// pipeline holds the order as out_of_stock). It is idempotent by order id; the request's Key
// tells a redelivery of a released attempt (same Key: answered from the record) from a new
// attempt after a hold (new Key: reserves again). Release (cancel, refund before shipment,
// hold) and Consume (shipment: on hand and reserved both fall) are idempotent too. See Store for
// the exact contracts.
//
// Presale orders are not reserved against current stock: Presale records the order in the
// presale pool (state Presale, holding no units), listed per SKU oldest first by Waitlist. When
// the presale stock arrives, the pipeline calls Reserve for the waiting orders in that order,
// which promotes each (or leaves it waiting when short); Release takes an order out of the pool.
// The pool is deliberately just a waitlist: it never blocks or holds units.
//
// # SKU mapping
//
// A Mapping is data (from the seller's configuration), passed to Expand; the store does not keep
// it. A Rule maps a code (the channel SKU, or a seller code a connector put in Line.SKU) on one
// channel or on all to components: one for a plain listing, several for a bundle. A zero-price
// gift line needs stock like any other line. A line no rule names is taken as its own SKU when
// the connector filled in Line.SKU; otherwise Expand fails with an *UnmappedError (ErrUnmapped,
// fault.Unprocessable) naming the channel SKUs, and the pipeline holds the order as unmapped.
//
// # Hot SKUs: shards
//
// Why. DynamoDB serves about 1,000 write units per second per partition key; a transactional
// write of a small item costs 2 units, so one item takes about 500 reservations per second at
// best. A flash sale of one SKU at thousands of orders per second needs that SKU's counter on
// several items. SetShards(k) splits an item into k shards, each its own partition key, each
// pre-allocated a slice of the available units (Spread: as even as possible). A reservation then
// writes one shard, not the item.
//
// Layout. A sharded item is a header (on hand, safety stock, the pool of unallocated units, the
// shard count) and k shards (free units, reserved units). The identity
// on hand − safety = pool + Σ free + Σ reserved holds after every transaction, because every
// transaction moves units between its terms or changes both sides alike: a reservation moves
// free → reserved on a shard; a release moves reserved → pool; a shipment lowers reserved and on
// hand; a restock raises on hand and the pool; a count or write-off lowers on hand and takes from
// the pool, then from the fullest shards (PlanReclaim).
//
// Reserving. A reservation picks a random live shard and asks it for the whole need, in one
// transaction with the order's record, conditioned on free ≥ quantity (with the shard count
// cached, that is the whole reservation: one write). If the shard is dry, the item is read from
// a serialisable snapshot and the need planned from the same start: the start shard, then the
// other live shards in turn, then retired ones, then the pool (PlanTake), in one transaction
// over every shard it touches plus the record. Releases put units into the pool rather than back
// into a shard, so that no unit ever appears in a shard of an item that is in a shortfall.
//
// Rebalancing. A shard that a reservation found dry is refilled right after that reservation:
// it is brought up to the fair share (available units / live shards) from the pool first, then
// from the shards holding the most, each down to no less than the fair share (PlanRefill), in one
// transaction conditioned on every donor still having its units. Nothing moves once the fair
// share is below one unit: the last units stay where they are and probing finds them. A lost race
// during a refill is harmless (the next dry shard triggers another). A need whose units are
// spread over too many shards for one transaction (at most 100 items) is gathered into one shard
// first (PlanGather).
//
// Sold out. No shard decides that a SKU is sold out. A need is short only when a snapshot of the
// header and every shard, read in one TransactGetItems (serialisable with every write, so a unit
// moving between shards is never missed), shows fewer free units plus pool than the need.
// Item.Pool reports the pool and each shard, so operators see why a sharded SKU is short.
//
// Costs. A reservation in a sale is one TransactWriteItems of two items (shard and record, about
// 4 write units). One that finds its shard dry adds a snapshot (2 read units per item read:
// header and every shard) and a second write, sometimes a refill transaction. A refused order
// costs the failed write, the snapshot and a read of the order's record, so a crowd hitting a
// sold-out SKU costs reads on every shard: choose k for the sale's peak (about peak orders/s ÷
// 400, at most MaxShards) rather than as large as possible. Counts, adjustments and SetShards
// write the header and every shard whose units move; they are conditioned on the header's change
// counter and retried on conflict, and are rare. Releases and shipments write the header of each
// SKU they touch; reservations write it only when they draw on the pool, so in a sale the header
// sees refills, cancellations and shipments, far below its write limit.
//
// SQLite. The embedded runtime serialises all writes on one connection, so a per-item write
// limit does not exist and shards would only add work: it keeps one row per item, records the
// shard count (so an item keeps its configuration when moved to DynamoDB) and reports no Pool.
// Both adapters pass the same suite; stocktest.Features.Shards says which one splits items.
package stock
