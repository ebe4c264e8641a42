package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"orderhub/shared/fault"
	"orderhub/shared/stock"
)

// The stock store keeps one row per item (SKU, warehouse) in stock_items. SQLite serialises every
// write on the store's single writer connection, so a reservation simply reads the rows of its
// needs and updates them in one BEGIN IMMEDIATE transaction: no shard can make that faster, and
// there is no per-row write limit to spread. SetShards is recorded (Item.Shards) and audited, so
// that an item configured on the embedded runtime carries its configuration to DynamoDB, but
// changes nothing else here; Item.Pool is nil. Reservation records and their lines, the presale
// pool and the audit log are tables of the same file (the "stock" migration).

var _ stock.Store = (*Stock)(nil)

// Stock is the stock store in the store's SQLite file. Its methods share the store's single
// writer with orders and queues, so a reservation never races an order update for the file.
type Stock struct {
	s *Store

	mu   sync.Mutex            // serialises preparing
	w, r atomic.Pointer[stmts] // prepared on the writer and on the readers, once
}

// Stock returns the stock store kept in s's file (stock.Store has its own Get and List, so it is a
// view of the Store rather than the Store itself). Use one value per store: it holds the prepared
// statements.
func (s *Store) Stock() *Stock { return &Stock{s: s} }

// Reserve reserves every need of req or none, idempotently by order id (see stock.Store).
func (st *Stock) Reserve(ctx context.Context, req stock.Reservation) (stock.Result, error) {
	req, err := req.Normalize()
	if err != nil {
		return stock.Result{}, err
	}
	var out stock.Result
	st.ready(ctx)
	err = st.s.write(ctx, func(tx *sql.Tx) error {
		x := st.wtx(tx)
		rec, found, err := loadStockRecord(ctx, x, req.OrderID)
		if err != nil {
			return err
		}
		if found && (rec.State == stock.Reserved || rec.State == stock.Consumed || rec.State == stock.Released && rec.Key == req.Key) {
			out = stock.Result{Record: rec, Replayed: true}
			return nil
		}
		var short []stock.Shortage
		for _, n := range req.Needs {
			it, ok, err := loadStockItem(ctx, x, n.SKU, req.Warehouse)
			if err != nil {
				return err
			}
			if avail := it.OnHand - it.Safety - it.Reserved; !ok || avail < n.Quantity {
				short = append(short, stock.Shortage{SKU: n.SKU, Requested: n.Quantity, Available: max(0, avail)})
			}
		}
		if len(short) > 0 {
			out = stock.Result{Record: rec, Short: short} // nothing written
			return nil
		}
		now := nanos(st.s.clock())
		for _, n := range req.Needs {
			// The guard repeats the check above in SQL, so that no code path can reserve into the
			// safety stock or beyond on hand.
			res, err := x.ExecContext(ctx, qStockReserve, n.Quantity, now, n.SKU, req.Warehouse, n.Quantity)
			if err := oneRow(res, err, "reserve"); err != nil {
				return err
			}
		}
		next := stock.Record{OrderID: req.OrderID, Warehouse: req.Warehouse, Key: req.Key, State: stock.Reserved,
			Needs: req.Needs, CreatedAt: stockTime(now), UpdatedAt: stockTime(now)}
		if err := putStockRecord(ctx, x, next, found); err != nil {
			return err
		}
		out = stock.Result{Record: next}
		return nil
	})
	if err != nil {
		return stock.Result{}, err
	}
	return out, nil
}

// Presale puts the order into the presale pool without touching stock (see stock.Store).
func (st *Stock) Presale(ctx context.Context, req stock.Reservation) (stock.Result, error) {
	req, err := req.Normalize()
	if err != nil {
		return stock.Result{}, err
	}
	var out stock.Result
	st.ready(ctx)
	err = st.s.write(ctx, func(tx *sql.Tx) error {
		x := st.wtx(tx)
		rec, found, err := loadStockRecord(ctx, x, req.OrderID)
		if err != nil {
			return err
		}
		if found && (rec.State != stock.Released || rec.Key == req.Key) {
			out = stock.Result{Record: rec, Replayed: true}
			return nil
		}
		now := st.s.clock()
		next := stock.Record{OrderID: req.OrderID, Warehouse: req.Warehouse, Key: req.Key, State: stock.Presale,
			Needs: req.Needs, CreatedAt: now, UpdatedAt: now}
		if err := putStockRecord(ctx, x, next, found); err != nil {
			return err
		}
		out = stock.Result{Record: next}
		return nil
	})
	if err != nil {
		return stock.Result{}, err
	}
	return out, nil
}

// Release gives back a reservation or leaves the presale pool (see stock.Store).
func (st *Stock) Release(ctx context.Context, orderID, reason string) (stock.Result, error) {
	return st.settle(ctx, orderID, func(x stx, rec stock.Record, now int64) (stock.Record, bool, error) {
		switch rec.State {
		case stock.Released:
			return rec, true, nil
		case stock.Consumed:
			return rec, false, fault.With(stock.ErrState, "order %s has shipped", orderID)
		case stock.Reserved:
			for _, n := range rec.Needs {
				res, err := x.ExecContext(ctx, qStockRelease, n.Quantity, now, n.SKU, rec.Warehouse, n.Quantity)
				if err := oneRow(res, err, "release"); err != nil {
					return rec, false, err
				}
			}
		}
		rec.State, rec.Reason = stock.Released, reason
		return rec, false, nil
	})
}

// Consume books the order's shipment (see stock.Store).
func (st *Stock) Consume(ctx context.Context, orderID string) (stock.Result, error) {
	return st.settle(ctx, orderID, func(x stx, rec stock.Record, now int64) (stock.Record, bool, error) {
		switch rec.State {
		case stock.Consumed:
			return rec, true, nil
		case stock.Reserved:
		default:
			return rec, false, fault.With(stock.ErrState, "order %s is %s, not reserved", orderID, rec.State)
		}
		for _, n := range rec.Needs {
			res, err := x.ExecContext(ctx, qStockConsume, n.Quantity, n.Quantity, now, n.SKU, rec.Warehouse, n.Quantity)
			if err := oneRow(res, err, "consume"); err != nil {
				return rec, false, err
			}
		}
		rec.State = stock.Consumed
		return rec, false, nil
	})
}

// settle loads the order's record and lets fn move it on in one write transaction. fn reports
// replayed when the record is already where the call leads; then nothing is written.
func (st *Stock) settle(ctx context.Context, orderID string, fn func(x stx, rec stock.Record, now int64) (stock.Record, bool, error)) (stock.Result, error) {
	if err := stock.CheckName("order id", orderID); err != nil {
		return stock.Result{}, err
	}
	var out stock.Result
	st.ready(ctx)
	err := st.s.write(ctx, func(tx *sql.Tx) error {
		x := st.wtx(tx)
		rec, found, err := loadStockRecord(ctx, x, orderID)
		if err != nil {
			return err
		}
		if !found {
			return stock.ErrNoReservation
		}
		now := nanos(st.s.clock())
		next, replayed, err := fn(x, rec, now)
		if err != nil {
			return err
		}
		if replayed {
			out = stock.Result{Record: rec, Replayed: true}
			return nil
		}
		if rec.State == stock.Presale {
			if _, err := x.ExecContext(ctx, qStockLeaveWait, orderID); err != nil {
				return fmt.Errorf("sqlite: leave presale pool: %w", err)
			}
		}
		next.UpdatedAt = stockTime(now)
		if _, err := x.ExecContext(ctx, qStockSetState,
			string(next.State), next.Reason, now, orderID); err != nil {
			return fmt.Errorf("sqlite: update reservation: %w", err)
		}
		out = stock.Result{Record: next}
		return nil
	})
	if err != nil {
		return stock.Result{}, err
	}
	return out, nil
}

// Reservation returns the order's record.
func (st *Stock) Reservation(ctx context.Context, orderID string) (stock.Record, error) {
	var (
		rec   stock.Record
		found bool
	)
	st.ready(ctx)
	err := st.s.read(ctx, func(tx *sql.Tx) error {
		var err error
		rec, found, err = loadStockRecord(ctx, st.rtx(tx), orderID)
		return err
	})
	if err != nil {
		return stock.Record{}, err
	}
	if !found {
		return stock.Record{}, stock.ErrNoReservation
	}
	return rec, nil
}

// Waitlist returns the SKU's presale orders, oldest first.
func (st *Stock) Waitlist(ctx context.Context, sku string, p stock.Paging) (stock.WaitPage, error) {
	after, err := stock.DecodeCursor(p.Cursor)
	if err != nil {
		return stock.WaitPage{}, err
	}
	afterNS, afterID := int64(-1), ""
	if after != "" {
		ns, id, ok := strings.Cut(after, " ")
		n, perr := strconv.ParseInt(ns, 10, 64)
		if !ok || perr != nil || id == "" {
			return stock.WaitPage{}, stock.ErrInvalidCursor
		}
		afterNS, afterID = n, id
	}
	limit := stock.PageSize(p.Limit)
	rows, err := st.s.r.QueryContext(ctx, `SELECT order_id, warehouse, quantity, since_ns FROM stock_waitlist
		WHERE sku = ? AND (since_ns, order_id) > (?, ?) ORDER BY since_ns, order_id LIMIT ?`, sku, afterNS, afterID, limit+1)
	if err != nil {
		return stock.WaitPage{}, fmt.Errorf("sqlite: waitlist: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var (
		out   stock.WaitPage
		since []int64
	)
	for rows.Next() {
		var (
			w  stock.Waiting
			ns int64
		)
		if err := rows.Scan(&w.OrderID, &w.Warehouse, &w.Quantity, &ns); err != nil {
			return stock.WaitPage{}, fmt.Errorf("sqlite: waitlist: %w", err)
		}
		w.Since = stockTime(ns)
		out.Orders = append(out.Orders, w)
		since = append(since, ns)
	}
	if err := rows.Err(); err != nil {
		return stock.WaitPage{}, fmt.Errorf("sqlite: waitlist: %w", err)
	}
	if len(out.Orders) > limit {
		out.Orders = out.Orders[:limit]
		out.Next = stock.EncodeCursor(strconv.FormatInt(since[limit-1], 10) + " " + out.Orders[limit-1].OrderID)
	}
	return out, nil
}

// SetOnHand records a count (see stock.Store).
func (st *Stock) SetOnHand(ctx context.Context, sku, warehouse string, qty int64, actor, reason string) (stock.Item, error) {
	if err := stock.CheckLevel("on hand", qty); err != nil {
		return stock.Item{}, err
	}
	return st.change(ctx, sku, warehouse, stock.OpSetOnHand, actor, reason, func(it *stock.Item) error {
		it.OnHand = qty
		return nil
	})
}

// Adjust changes on hand by delta (see stock.Store).
func (st *Stock) Adjust(ctx context.Context, sku, warehouse string, delta int64, actor, reason string) (stock.Item, error) {
	return st.change(ctx, sku, warehouse, stock.OpAdjust, actor, reason, func(it *stock.Item) error {
		if err := stock.CheckDelta(it.OnHand, delta); err != nil {
			return err
		}
		it.OnHand += delta
		return nil
	})
}

// SetSafety sets the safety stock (see stock.Store).
func (st *Stock) SetSafety(ctx context.Context, sku, warehouse string, qty int64, actor, reason string) (stock.Item, error) {
	if err := stock.CheckLevel("safety stock", qty); err != nil {
		return stock.Item{}, err
	}
	return st.change(ctx, sku, warehouse, stock.OpSetSafety, actor, reason, func(it *stock.Item) error {
		if err := stock.CheckSafetyRaise(*it, qty); err != nil {
			return err
		}
		it.Safety = qty
		return nil
	})
}

// SetShards records the item's shard count; on SQLite it changes nothing else (see the top of
// this file).
func (st *Stock) SetShards(ctx context.Context, sku, warehouse string, k int, actor, reason string) (stock.Item, error) {
	if err := stock.CheckShards(k); err != nil {
		return stock.Item{}, err
	}
	return st.change(ctx, sku, warehouse, stock.OpSetShards, actor, reason, func(it *stock.Item) error {
		it.Shards = k
		return nil
	})
}

// change applies fn to the item (a new one when missing) and writes it with its audit record in
// one write transaction. fn's error writes nothing.
func (st *Stock) change(ctx context.Context, sku, warehouse string, op stock.Op, actor, reason string, fn func(it *stock.Item) error) (stock.Item, error) {
	if err := stock.CheckChange(sku, warehouse, actor, reason); err != nil {
		return stock.Item{}, err
	}
	var out stock.Item
	st.ready(ctx)
	err := st.s.write(ctx, func(tx *sql.Tx) error {
		x := st.wtx(tx)
		it, found, err := loadStockItem(ctx, x, sku, warehouse)
		if err != nil {
			return err
		}
		before := stock.LevelsOf(it)
		if !found {
			it = stock.Item{SKU: sku, Warehouse: warehouse, Shards: 1}
		}
		if err := fn(&it); err != nil {
			return err
		}
		now := st.s.clock()
		it.UpdatedAt = now
		if _, err := x.ExecContext(ctx, qStockPutItem,
			sku, warehouse, it.OnHand, it.Reserved, it.Safety, it.Shards, nanos(now)); err != nil {
			return fmt.Errorf("sqlite: write stock item: %w", err)
		}
		after := stock.LevelsOf(it)
		rec := stock.AuditRecord{SKU: sku, Warehouse: warehouse, At: now, Actor: actor, Reason: reason, Op: op, Delta: stock.DeltaOf(op, before, after),
			Before: before, After: after, Flagged: after.Shortfall() > 0}
		doc, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("sqlite: encode audit record: %w", err)
		}
		if _, err := x.ExecContext(ctx, qStockInsAudit,
			sku, warehouse, nanos(now), string(doc)); err != nil {
			return fmt.Errorf("sqlite: write audit record: %w", err)
		}
		out = it
		return nil
	})
	if err != nil {
		return stock.Item{}, err
	}
	return out, nil
}

// Get returns the SKU's items by warehouse, read from one snapshot.
func (st *Stock) Get(ctx context.Context, sku string) (stock.Stock, error) {
	rows, err := st.s.r.QueryContext(ctx, qStockGet, sku)
	if err != nil {
		return stock.Stock{}, fmt.Errorf("sqlite: get stock: %w", err)
	}
	items, err := scanStockItems(rows)
	if err != nil {
		return stock.Stock{}, err
	}
	if len(items) == 0 {
		return stock.Stock{}, stock.ErrNotFound
	}
	return stock.Stock{SKU: sku, Items: items}, nil
}

// List returns one page of items by SKU then warehouse.
func (st *Stock) List(ctx context.Context, f stock.Filter) (stock.Page, error) {
	after, err := stock.DecodeCursor(f.Cursor)
	if err != nil {
		return stock.Page{}, err
	}
	var afterSKU, afterWH string
	if after != "" {
		var ok bool
		if afterSKU, afterWH, ok = strings.Cut(after, " "); !ok {
			return stock.Page{}, stock.ErrInvalidCursor
		}
	}
	var (
		where []string
		args  []any
	)
	if f.Warehouse != "" {
		where, args = append(where, "warehouse = ?"), append(args, f.Warehouse)
	}
	if f.SKUPrefix != "" {
		// Every string that starts with the prefix sorts below prefix + U+10FFFF.
		where, args = append(where, "sku >= ? AND sku < ? || char(1114111)"), append(args, f.SKUPrefix, f.SKUPrefix)
	}
	if after != "" {
		where, args = append(where, "(sku, warehouse) > (?, ?)"), append(args, afterSKU, afterWH)
	}
	q := `SELECT ` + stockItemColumns + ` FROM stock_items`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := stock.PageSize(f.Limit)
	rows, err := st.s.r.QueryContext(ctx, q+" ORDER BY sku, warehouse LIMIT ?", append(args, limit+1)...)
	if err != nil {
		return stock.Page{}, fmt.Errorf("sqlite: list stock: %w", err)
	}
	items, err := scanStockItems(rows)
	if err != nil {
		return stock.Page{}, err
	}
	out := stock.Page{Items: items}
	if len(items) > limit {
		out.Items = items[:limit]
		last := out.Items[limit-1]
		out.Next = stock.EncodeCursor(last.SKU + " " + last.Warehouse)
	}
	return out, nil
}

// Audit returns the SKU's audit records, newest first.
func (st *Stock) Audit(ctx context.Context, sku string, p stock.Paging) (stock.AuditPage, error) {
	after, err := stock.DecodeCursor(p.Cursor)
	if err != nil {
		return stock.AuditPage{}, err
	}
	before := int64(1<<63 - 1)
	if after != "" {
		if before, err = strconv.ParseInt(after, 10, 64); err != nil {
			return stock.AuditPage{}, stock.ErrInvalidCursor
		}
	}
	limit := stock.PageSize(p.Limit)
	rows, err := st.s.r.QueryContext(ctx, `SELECT id, doc FROM stock_audit WHERE sku = ? AND id < ? ORDER BY id DESC LIMIT ?`, sku, before, limit+1)
	if err != nil {
		return stock.AuditPage{}, fmt.Errorf("sqlite: audit: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out stock.AuditPage
	for rows.Next() {
		var (
			id  int64
			doc string
			rec stock.AuditRecord
		)
		if err := rows.Scan(&id, &doc); err != nil {
			return stock.AuditPage{}, fmt.Errorf("sqlite: audit: %w", err)
		}
		if err := json.Unmarshal([]byte(doc), &rec); err != nil {
			return stock.AuditPage{}, fmt.Errorf("sqlite: decode audit record %d: %w", id, err)
		}
		rec.ID = strconv.FormatInt(id, 10)
		out.Records = append(out.Records, rec)
	}
	if err := rows.Err(); err != nil {
		return stock.AuditPage{}, fmt.Errorf("sqlite: audit: %w", err)
	}
	if len(out.Records) > limit {
		out.Records = out.Records[:limit]
		out.Next = stock.EncodeCursor(out.Records[limit-1].ID)
	}
	return out, nil
}

const stockItemColumns = `sku, warehouse, on_hand, reserved, safety, shards, updated_ns`

// The stock store's statements. The ones in stockWriteQueries and stockReadQueries are prepared
// once per Stock value (parsing dominated the cost of a reservation).
const (
	qStockItem    = `SELECT ` + stockItemColumns + ` FROM stock_items WHERE sku = ? AND warehouse = ?`
	qStockRecord  = `SELECT order_id, warehouse, key, state, reason, created_ns, updated_ns FROM stock_reservations WHERE order_id = ?`
	qStockLines   = `SELECT sku, quantity FROM stock_reservation_lines WHERE order_id = ? ORDER BY sku`
	qStockReserve = `UPDATE stock_items SET reserved = reserved + ?, updated_ns = ?
		WHERE sku = ? AND warehouse = ? AND on_hand - safety - reserved >= ?`
	qStockRelease = `UPDATE stock_items SET reserved = reserved - ?, updated_ns = ?
		WHERE sku = ? AND warehouse = ? AND reserved >= ?`
	qStockConsume = `UPDATE stock_items SET reserved = reserved - ?, on_hand = on_hand - ?, updated_ns = ?
		WHERE sku = ? AND warehouse = ? AND reserved >= ?`
	qStockSetState  = `UPDATE stock_reservations SET state = ?, reason = ?, updated_ns = ? WHERE order_id = ?`
	qStockLeaveWait = `DELETE FROM stock_waitlist WHERE order_id = ?`
	qStockDelLines  = `DELETE FROM stock_reservation_lines WHERE order_id = ?`
	qStockDelRecord = `DELETE FROM stock_reservations WHERE order_id = ?`
	qStockInsRecord = `INSERT INTO stock_reservations (order_id, warehouse, key, state, reason, created_ns, updated_ns)
		VALUES (?, ?, ?, ?, ?, ?, ?)`
	qStockInsLine  = `INSERT INTO stock_reservation_lines (order_id, sku, quantity) VALUES (?, ?, ?)`
	qStockJoinWait = `INSERT INTO stock_waitlist (sku, since_ns, order_id, warehouse, quantity) VALUES (?, ?, ?, ?, ?)`
	qStockPutItem  = `INSERT INTO stock_items (sku, warehouse, on_hand, reserved, safety, shards, updated_ns)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sku, warehouse) DO UPDATE SET on_hand = excluded.on_hand, safety = excluded.safety,
			shards = excluded.shards, updated_ns = excluded.updated_ns`
	qStockInsAudit = `INSERT INTO stock_audit (sku, warehouse, at_ns, doc) VALUES (?, ?, ?, ?)`
	qStockGet      = `SELECT ` + stockItemColumns + ` FROM stock_items WHERE sku = ? ORDER BY warehouse`
)

var (
	stockWriteQueries = []string{qStockItem, qStockRecord, qStockLines, qStockReserve, qStockRelease, qStockConsume,
		qStockSetState, qStockLeaveWait, qStockDelLines, qStockDelRecord, qStockInsRecord, qStockInsLine, qStockJoinWait,
		qStockPutItem, qStockInsAudit}
	stockReadQueries = []string{qStockRecord, qStockLines, qStockGet}
)

// stmts holds prepared statements by query text.
type stmts map[string]*sql.Stmt

// ready prepares the store's statements once, outside any transaction (the writer has one
// connection: preparing inside a write would wait for itself). When preparing fails, queries
// simply run unprepared and the next call tries again.
func (st *Stock) ready(ctx context.Context) {
	if st.w.Load() != nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.w.Load() != nil {
		return
	}
	prepare := func(db *sql.DB, queries []string) (stmts, error) {
		out := stmts{}
		for _, q := range queries {
			p, err := db.PrepareContext(ctx, q)
			if err != nil {
				for _, p := range out {
					_ = p.Close()
				}
				return nil, err
			}
			out[q] = p
		}
		return out, nil
	}
	w, err := prepare(st.s.w, stockWriteQueries)
	if err != nil {
		return
	}
	r, err := prepare(st.s.r, stockReadQueries)
	if err != nil {
		for _, p := range w {
			_ = p.Close()
		}
		return
	}
	st.r.Store(&r)
	st.w.Store(&w)
}

// stx runs statements in one transaction, prepared ones where there are.
type stx struct {
	tx    *sql.Tx
	stmts *stmts
}

func (st *Stock) wtx(tx *sql.Tx) stx { return stx{tx: tx, stmts: st.w.Load()} }
func (st *Stock) rtx(tx *sql.Tx) stx { return stx{tx: tx, stmts: st.r.Load()} }

func (x stx) prepared(ctx context.Context, q string) *sql.Stmt {
	if x.stmts == nil {
		return nil
	}
	if p, ok := (*x.stmts)[q]; ok {
		return x.tx.StmtContext(ctx, p)
	}
	return nil
}

func (x stx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if p := x.prepared(ctx, q); p != nil {
		return p.ExecContext(ctx, args...)
	}
	return x.tx.ExecContext(ctx, q, args...)
}

func (x stx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if p := x.prepared(ctx, q); p != nil {
		return p.QueryContext(ctx, args...)
	}
	return x.tx.QueryContext(ctx, q, args...)
}

func (x stx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if p := x.prepared(ctx, q); p != nil {
		return p.QueryRowContext(ctx, args...)
	}
	return x.tx.QueryRowContext(ctx, q, args...)
}

func scanStockItem(sc interface{ Scan(...any) error }) (stock.Item, error) {
	var (
		it stock.Item
		ns int64
	)
	if err := sc.Scan(&it.SKU, &it.Warehouse, &it.OnHand, &it.Reserved, &it.Safety, &it.Shards, &ns); err != nil {
		return it, err
	}
	it.UpdatedAt = stockTime(ns)
	return it, nil
}

func scanStockItems(rows *sql.Rows) ([]stock.Item, error) {
	defer func() { _ = rows.Close() }()
	var out []stock.Item
	for rows.Next() {
		it, err := scanStockItem(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read stock item: %w", err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read stock items: %w", err)
	}
	return out, nil
}

// loadStockItem returns the item, or a zero item (with its SKU and warehouse) and false.
func loadStockItem(ctx context.Context, q querier, sku, warehouse string) (stock.Item, bool, error) {
	it, err := scanStockItem(q.QueryRowContext(ctx, qStockItem, sku, warehouse))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return stock.Item{SKU: sku, Warehouse: warehouse}, false, nil
	case err != nil:
		return stock.Item{}, false, fmt.Errorf("sqlite: read stock item: %w", err)
	}
	return it, true, nil
}

// loadStockRecord returns the order's reservation record with its needs, sorted by SKU.
func loadStockRecord(ctx context.Context, q querier, orderID string) (stock.Record, bool, error) {
	var (
		rec              stock.Record
		state            string
		created, updated int64
	)
	err := q.QueryRowContext(ctx, qStockRecord, orderID).
		Scan(&rec.OrderID, &rec.Warehouse, &rec.Key, &state, &rec.Reason, &created, &updated)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return stock.Record{}, false, nil
	case err != nil:
		return stock.Record{}, false, fmt.Errorf("sqlite: read reservation: %w", err)
	}
	rec.State, rec.CreatedAt, rec.UpdatedAt = stock.State(state), stockTime(created), stockTime(updated)
	rows, err := q.QueryContext(ctx, qStockLines, orderID)
	if err != nil {
		return stock.Record{}, false, fmt.Errorf("sqlite: read reservation lines: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var n stock.Need
		if err := rows.Scan(&n.SKU, &n.Quantity); err != nil {
			return stock.Record{}, false, fmt.Errorf("sqlite: read reservation lines: %w", err)
		}
		rec.Needs = append(rec.Needs, n)
	}
	if err := rows.Err(); err != nil {
		return stock.Record{}, false, fmt.Errorf("sqlite: read reservation lines: %w", err)
	}
	return rec, true, nil
}

// putStockRecord writes rec and its lines, replacing the order's previous record (a released
// attempt or a presale) when replace is set, and keeps the presale pool in step.
func putStockRecord(ctx context.Context, x stx, rec stock.Record, replace bool) error {
	if replace {
		for _, q := range []string{qStockLeaveWait, qStockDelLines, qStockDelRecord} {
			if _, err := x.ExecContext(ctx, q, rec.OrderID); err != nil {
				return fmt.Errorf("sqlite: replace reservation: %w", err)
			}
		}
	}
	created, updated := nanos(rec.CreatedAt), nanos(rec.UpdatedAt)
	if _, err := x.ExecContext(ctx, qStockInsRecord, rec.OrderID, rec.Warehouse, rec.Key, string(rec.State), rec.Reason, created, updated); err != nil {
		return fmt.Errorf("sqlite: write reservation: %w", err)
	}
	for _, n := range rec.Needs {
		if _, err := x.ExecContext(ctx, qStockInsLine, rec.OrderID, n.SKU, n.Quantity); err != nil {
			return fmt.Errorf("sqlite: write reservation line: %w", err)
		}
		if rec.State == stock.Presale {
			if _, err := x.ExecContext(ctx, qStockJoinWait,
				n.SKU, created, rec.OrderID, rec.Warehouse, n.Quantity); err != nil {
				return fmt.Errorf("sqlite: join presale pool: %w", err)
			}
		}
	}
	return nil
}

// oneRow checks that a guarded stock update changed exactly one row. Anything else means the
// stored rows contradict the record being applied: the transaction is rolled back.
func oneRow(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if n != 1 {
		return fmt.Errorf("sqlite: %s: a stock row refused the change (%d rows): the reservation and the item disagree", what, n)
	}
	return nil
}

// stockTime reads a time stored as UTC nanoseconds.
func stockTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }
