package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"orderhub/shared/api"
	"orderhub/shared/auth"
	"orderhub/shared/hub"
	"orderhub/shared/pii"
	"orderhub/shared/store/sqlite"
)

// app is the embedded runtime's application: the hub over its local adapters.
type app struct {
	hub     *hub.Hub
	handler http.Handler
	close   func() error
}

// wire is the embedded runtime's one wiring function: every local adapter is built here.
func wire(cfg config, log *slog.Logger) (*app, error) {
	db, err := sqlite.Open(filepath.Join(cfg.DataDir, "orderhub.db"))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	h := &hub.Hub{Orders: db, Keys: db, Hasher: pii.NewHasher(cfg.PIIKey), Now: time.Now, Log: log}
	return &app{hub: h, handler: api.New(h, log), close: db.Close}, nil
}

// bootstrapAdmin makes sure someone can sign in: it accepts ORDERHUB_ADMIN_KEY when set, and
// otherwise creates an admin key on first start and returns its secret, to be printed once.
func bootstrapAdmin(ctx context.Context, keys auth.Keys, fromEnv string, now time.Time) (printOnce string, err error) {
	if fromEnv != "" {
		return "", auth.EnsureKey(ctx, keys, fromEnv, "admin (ORDERHUB_ADMIN_KEY)", auth.Admin, now)
	}
	all, err := keys.ListKeys(ctx)
	if err != nil {
		return "", err
	}
	for _, k := range all {
		if k.Role == auth.Admin && k.RevokedAt.IsZero() {
			return "", nil
		}
	}
	k, secret, err := auth.NewKey("admin", auth.Admin, "", "system:bootstrap", now)
	if err != nil {
		return "", err
	}
	return secret, keys.PutKey(ctx, k)
}
