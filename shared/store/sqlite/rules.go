package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"orderhub/shared/rules"
)

var _ rules.Store = (*Store)(nil)

// CurrentRules returns the newest saved rule set.
func (s *Store) CurrentRules(ctx context.Context) (rules.RuleSet, error) {
	var set rules.RuleSet
	err := s.read(ctx, func(tx *sql.Tx) error {
		var doc string
		err := tx.QueryRowContext(ctx, `SELECT doc FROM rule_sets ORDER BY version DESC LIMIT 1`).Scan(&doc)
		if errors.Is(err, sql.ErrNoRows) {
			return rules.ErrNoRuleSet
		}
		if err != nil {
			return fmt.Errorf("sqlite: read rule set: %w", err)
		}
		return json.Unmarshal([]byte(doc), &set)
	})
	return set, err
}

// SaveRules stores a new version of the rule set.
func (s *Store) SaveRules(ctx context.Context, set rules.RuleSet) error {
	doc, err := json.Marshal(set)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO rule_sets (version, saved_ns, doc) VALUES (?, ?, ?)`, set.Version, nanos(s.clock()), string(doc))
		if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
			return rules.ErrVersionConflict
		}
		if err != nil {
			return fmt.Errorf("sqlite: save rule set: %w", err)
		}
		return nil
	})
}
