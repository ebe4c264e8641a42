package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migration is one step of the schema.
type migration struct {
	name string
	sql  string
}

// migrations are the schema's steps in order; the file's PRAGMA user_version counts the steps
// applied, and Open applies the rest, each in its own transaction. Other tables of the embedded
// runtime (queues, API keys, ...) are added as new steps at the end. Never edit or reorder a step
// that has shipped: add one that alters what it made.
var migrations = []migration{
	{name: "orders", sql: `
CREATE TABLE orders (
	id               TEXT    NOT NULL PRIMARY KEY, -- ULID: sorts by the order's created_at
	channel          TEXT    NOT NULL,
	shop             TEXT    NOT NULL,
	channel_order_id TEXT    NOT NULL,
	status           TEXT    NOT NULL,
	version_ns       INTEGER NOT NULL, -- the platform's modified time, UTC nanoseconds
	created_ns       INTEGER NOT NULL,
	warehouse        TEXT    NOT NULL DEFAULT '',
	supplier         TEXT    NOT NULL DEFAULT '',
	rev              INTEGER NOT NULL,
	updated_ns       INTEGER NOT NULL,
	doc              TEXT    NOT NULL, -- the order as JSON, without its timeline
	UNIQUE (channel, shop, channel_order_id)
);
-- Listings filter on one of these and walk id downwards.
CREATE INDEX orders_shop_id      ON orders (shop, id);
CREATE INDEX orders_status_id    ON orders (status, id);
CREATE INDEX orders_channel_id   ON orders (channel, id);
CREATE INDEX orders_warehouse_id ON orders (warehouse, id);
CREATE INDEX orders_supplier_id  ON orders (supplier, id);
CREATE INDEX orders_created      ON orders (created_ns);
CREATE INDEX orders_channel_order_id ON orders (channel_order_id);

-- Tracking numbers of an order's shipments, rewritten with the order, for search.
CREATE TABLE order_tracking (
	tracking_no TEXT NOT NULL,
	order_id    TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
	PRIMARY KEY (tracking_no, order_id)
) WITHOUT ROWID;
CREATE INDEX order_tracking_order ON order_tracking (order_id);

-- The timeline: append-only, seq counts from 1 per order.
CREATE TABLE order_events (
	order_id TEXT    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
	seq      INTEGER NOT NULL,
	doc      TEXT    NOT NULL, -- the event as JSON
	PRIMARY KEY (order_id, seq)
) WITHOUT ROWID;
`},
	{name: "api_keys", sql: `
-- API keys: only the SHA-256 of a secret is stored; the key's other fields are JSON.
CREATE TABLE api_keys (
	id         TEXT    NOT NULL PRIMARY KEY,
	hash       TEXT    NOT NULL UNIQUE,
	created_ns INTEGER NOT NULL,
	revoked_ns INTEGER NOT NULL DEFAULT 0, -- 0: active
	doc        TEXT    NOT NULL
);
`},
	{name: "channel_state", sql: `
-- Where each shop's incremental pull stands, and its last error (its status for staff).
CREATE TABLE poll_state (
	shop TEXT NOT NULL PRIMARY KEY, -- channel/shop id
	doc  TEXT NOT NULL
);
-- Processed push delivery ids, so that a redelivered push is acknowledged and not redone.
CREATE TABLE push_deliveries (
	key        TEXT    NOT NULL PRIMARY KEY,
	expires_ns INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX push_deliveries_expiry ON push_deliveries (expires_ns);
`},
}

// migrate applies the steps the database has not seen yet.
func migrate(ctx context.Context, db *sql.DB) error {
	for {
		done, err := migrateOne(ctx, db)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next step, if any, in a write transaction: two processes opening one
// file at once apply each step once.
func migrateOne(ctx context.Context, db *sql.DB) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlite: migrate: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return false, fmt.Errorf("sqlite: migrate: read schema version: %w", err)
	}
	switch {
	case version > len(migrations):
		return false, fmt.Errorf("sqlite: migrate: the database's schema version %d is newer than this program's %d", version, len(migrations))
	case version == len(migrations):
		return true, nil
	}
	m := migrations[version]
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("sqlite: migrate: step %d (%s): %w", version+1, m.name, err)
	}
	// PRAGMA takes no bound parameters; version is an int we computed.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version+1)); err != nil {
		return false, fmt.Errorf("sqlite: migrate: step %d (%s): set schema version: %w", version+1, m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlite: migrate: step %d (%s): commit: %w", version+1, m.name, err)
	}
	return false, nil
}
