// Package auth authenticates ops API callers by API key and says which roles may do what.
// Only a key's SHA-256 hash is stored: keys are 32 random bytes, so a plain hash cannot be reversed
// and lookups by hash leak no timing information about the secret.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"orderhub/shared/fault"
)

// Role is what a key's holder does in the shop.
type Role string

// Roles. A supplier key sees only the orders assigned to its supplier.
const (
	CS         Role = "cs"         // customer service
	Warehouse  Role = "warehouse"  // picks, packs and ships
	Finance    Role = "finance"    // reports and reconciliation
	Supervisor Role = "supervisor" // operations lead: rules, re-runs, releases
	Admin      Role = "admin"      // everything, including keys
	Supplier   Role = "supplier"   // a dropship supplier
)

// Roles lists every role.
func Roles() []Role { return []Role{CS, Warehouse, Finance, Supervisor, Admin, Supplier} }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// Key is a stored API key: its hash, never its secret.
type Key struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Supplier  string    `json:"supplier,omitempty"` // required for the supplier role
	Hash      string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Principal is an authenticated caller.
type Principal struct {
	KeyID    string `json:"key_id"`
	Name     string `json:"name"`
	Role     Role   `json:"role"`
	Supplier string `json:"supplier,omitempty"`
}

// Actor names the principal on an order's timeline.
func (p Principal) Actor() string { return "key:" + p.Name }

// Keys stores API keys.
type Keys interface {
	// PutKey stores a new key; a key with the same id or hash is ErrKeyExists and nothing is written.
	PutKey(ctx context.Context, k Key) error
	// KeyByHash returns the key whose hash is hash, revoked or not, or ErrUnknownKey.
	KeyByHash(ctx context.Context, hash string) (Key, error)
	// ListKeys returns every key, oldest first.
	ListKeys(ctx context.Context) ([]Key, error)
	// RevokeKey marks the key revoked at t (revoking again keeps the first time); an unknown id is ErrKeyNotFound.
	RevokeKey(ctx context.Context, id string, at time.Time) error
}

// Errors.
var (
	ErrNoKey       = fault.New(fault.Unauthorized, "unauthorized", "an API key is required (Authorization: Bearer <key>)")
	ErrUnknownKey  = fault.New(fault.Unauthorized, "unauthorized", "unknown or revoked API key")
	ErrForbidden   = fault.New(fault.Forbidden, "forbidden", "your role does not allow this action")
	ErrKeyNotFound = fault.New(fault.NotFound, "not_found", "key not found")
	ErrInvalidKey  = fault.New(fault.Invalid, "invalid_key", "invalid key request")
	ErrKeyExists   = fault.New(fault.Conflict, "key_exists", "a key with this id or secret already exists")
)

// MinSecretLen is the shortest key accepted, including keys an operator sets by hand.
const MinSecretLen = 20

// secretPrefix marks orderhub keys so that secret scanners and people recognise them.
const secretPrefix = "ohk_"

// NewSecret returns a new random key secret and its hash.
func NewSecret() (secret, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error()) // never happens on supported platforms
	}
	secret = secretPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, Hash(secret)
}

// Hash returns the stored form of a key secret.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NewKey validates a key request and returns the key to store and its secret, shown once.
func NewKey(name string, role Role, supplier, createdBy string, now time.Time) (Key, string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "" || len(name) > 64:
		return Key{}, "", fault.With(ErrInvalidKey, "name must be 1 to 64 characters")
	case !role.Valid():
		return Key{}, "", fault.With(ErrInvalidKey, "unknown role %q", string(role))
	case role == Supplier && strings.TrimSpace(supplier) == "":
		return Key{}, "", fault.With(ErrInvalidKey, "a supplier key needs the supplier it belongs to")
	case role != Supplier && supplier != "":
		return Key{}, "", fault.With(ErrInvalidKey, "only supplier keys belong to a supplier")
	}
	secret, hash := NewSecret()
	id := "key_" + hash[:12]
	return Key{ID: id, Name: name, Role: role, Supplier: strings.TrimSpace(supplier), Hash: hash, CreatedAt: now, CreatedBy: createdBy}, secret, nil
}

// Authenticator turns a presented secret into a principal.
type Authenticator struct{ Keys Keys }

// Authenticate returns the principal of secret, or ErrNoKey / ErrUnknownKey.
func (a Authenticator) Authenticate(ctx context.Context, secret string) (Principal, error) {
	if secret == "" {
		return Principal{}, ErrNoKey
	}
	if len(secret) < MinSecretLen || len(secret) > 256 {
		return Principal{}, ErrUnknownKey
	}
	k, err := a.Keys.KeyByHash(ctx, Hash(secret))
	if err != nil {
		return Principal{}, err
	}
	if !k.RevokedAt.IsZero() {
		return Principal{}, ErrUnknownKey
	}
	return Principal{KeyID: k.ID, Name: k.Name, Role: k.Role, Supplier: k.Supplier}, nil
}

// Allow returns ErrForbidden unless p's role is one of roles. Admin is allowed everywhere.
func Allow(p Principal, roles ...Role) error {
	if p.Role == Admin || slices.Contains(roles, p.Role) {
		return nil
	}
	return ErrForbidden
}

// ErrCannotRevokeSelf stops an admin from locking themselves out with the key they are using.
var ErrCannotRevokeSelf = fault.New(fault.Conflict, "cannot_revoke_self", "a key cannot revoke itself")

// EnsureKey makes sure a key with the given secret exists, so that an operator-provided secret
// (an environment variable locally, a Secrets Manager secret on AWS) can sign in. An existing key
// is left as it is, revoked or not: revocation outlives restarts.
func EnsureKey(ctx context.Context, keys Keys, secret, name string, role Role, now time.Time) error {
	if len(secret) < MinSecretLen {
		return fault.With(ErrInvalidKey, "a key secret must be at least %d characters", MinSecretLen)
	}
	hash := Hash(secret)
	if _, err := keys.KeyByHash(ctx, hash); err == nil || !errors.Is(err, ErrUnknownKey) {
		return err
	}
	k, _, err := NewKey(name, role, "", "system:bootstrap", now)
	if err != nil {
		return err
	}
	k.Hash, k.ID = hash, "key_"+hash[:12]
	if err := keys.PutKey(ctx, k); err != nil && !errors.Is(err, ErrKeyExists) {
		return err // ErrKeyExists: another cold start put it first, which is what we wanted
	}
	return nil
}
