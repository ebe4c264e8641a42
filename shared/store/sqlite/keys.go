package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"orderhub/shared/auth"
)

var _ auth.Keys = (*Store)(nil)

// PutKey stores a new API key (its hash, never its secret).
func (s *Store) PutKey(ctx context.Context, k auth.Key) error {
	doc, err := json.Marshal(k)
	if err != nil {
		return fmt.Errorf("sqlite: encode key: %w", err)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, hash, created_ns, revoked_ns, doc) VALUES (?, ?, ?, 0, ?)`,
			k.ID, k.Hash, nanos(k.CreatedAt), string(doc))
		if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
			return auth.ErrKeyExists
		}
		if err != nil {
			return fmt.Errorf("sqlite: put key: %w", err)
		}
		return nil
	})
}

// KeyByHash returns the key with hash, revoked or not.
func (s *Store) KeyByHash(ctx context.Context, hash string) (auth.Key, error) {
	var k auth.Key
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		k, err = scanKey(tx.QueryRowContext(ctx, `SELECT hash, revoked_ns, doc FROM api_keys WHERE hash = ?`, hash))
		return err
	})
	return k, err
}

// ListKeys returns every key, oldest first.
func (s *Store) ListKeys(ctx context.Context) ([]auth.Key, error) {
	var keys []auth.Key
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT hash, revoked_ns, doc FROM api_keys ORDER BY created_ns, id`)
		if err != nil {
			return fmt.Errorf("sqlite: list keys: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			k, err := scanKey(rows)
			if err != nil {
				return err
			}
			keys = append(keys, k)
		}
		return rows.Err()
	})
	return keys, err
}

// RevokeKey marks a key revoked; revoking twice keeps the first time.
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_ns = ? WHERE id = ? AND revoked_ns = 0`, nanos(at), id)
		if err != nil {
			return fmt.Errorf("sqlite: revoke key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var exists int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_keys WHERE id = ?`, id).Scan(&exists); err != nil {
			return fmt.Errorf("sqlite: revoke key: %w", err)
		}
		if exists == 0 {
			return auth.ErrKeyNotFound
		}
		return nil
	})
}

func scanKey(row interface{ Scan(...any) error }) (auth.Key, error) {
	var (
		hash    string
		revoked int64
		doc     string
		k       auth.Key
	)
	if err := row.Scan(&hash, &revoked, &doc); errors.Is(err, sql.ErrNoRows) {
		return auth.Key{}, auth.ErrUnknownKey
	} else if err != nil {
		return auth.Key{}, fmt.Errorf("sqlite: read key: %w", err)
	}
	if err := json.Unmarshal([]byte(doc), &k); err != nil {
		return auth.Key{}, fmt.Errorf("sqlite: decode key: %w", err)
	}
	k.Hash = hash // json:"-": kept in its own column
	if revoked != 0 {
		k.RevokedAt = time.Unix(0, revoked).UTC()
	}
	return k, nil
}
