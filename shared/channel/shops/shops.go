// Package shops reads the seller's shop list and keeps the running shops: each shop's connector,
// its poll state and its push receiver. Credentials are named by reference (env:NAME), never written
// in the file, and never logged or echoed in an error.
package shops

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"orderhub/shared/channel"
	"orderhub/shared/channel/platforms"
	"orderhub/shared/fault"
	"orderhub/shared/order"
)

// Config is one shop as the seller writes it in shops.yaml.
type Config struct {
	Channel order.Channel `yaml:"channel"`
	ID      string        `yaml:"id"`
	BaseURL string        `yaml:"base_url"` // empty: the platform's production endpoint
	// Credentials map the platform's credential names to references: env:NAME reads an environment
	// variable; secret:NAME (or secret:NAME#key, one key of a JSON secret) reads a secret where a
	// secret store is wired (Secrets Manager on AWS, read once at cold start).
	Credentials   map[string]string `yaml:"credentials"`
	PollInterval  time.Duration     `yaml:"poll_interval"`   // default 2m
	ShipByDefault time.Duration     `yaml:"ship_by_default"` // default 48h after payment
	Currency      string            `yaml:"currency"`        // for platforms whose amounts carry none
}

// File is shops.yaml.
type File struct {
	Shops []Config `yaml:"shops"`
}

// ErrConfig is returned for a shop list that cannot be used.
var ErrConfig = fault.New(fault.Invalid, "shop_config", "invalid shop configuration")

// Load reads and checks a shop list. Unknown fields, unknown channels, duplicate shops and
// credentials that are not references are refused with the shop and field named.
func Load(path string) ([]Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read shops: %w", err)
	}
	return Parse(raw)
}

// Parse checks a shop list given as YAML.
func Parse(raw []byte) ([]Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fault.With(ErrConfig, "%s", yamlProblem(err))
	}
	seen := map[string]bool{}
	for i := range f.Shops {
		c := &f.Shops[i]
		where := fmt.Sprintf("shops[%d]", i)
		if _, err := platforms.Lookup(c.Channel); err != nil {
			return nil, fault.With(ErrConfig, "%s: channel %q has no connector", where, string(c.Channel))
		}
		if c.ID == "" || strings.ContainsAny(c.ID, "/ ?#") || len(c.ID) > 64 {
			return nil, fault.With(ErrConfig, "%s: id must be 1 to 64 characters without '/', spaces, '?' or '#'", where)
		}
		key := string(c.Channel) + "/" + c.ID
		if seen[key] {
			return nil, fault.With(ErrConfig, "%s: shop %s is listed twice", where, key)
		}
		seen[key] = true
		for name, ref := range c.Credentials {
			if !validRef(ref) {
				return nil, fault.With(ErrConfig, "%s (%s): credential %s must be a reference such as env:TAOBAO_APP_SECRET or secret:NAME#key, not a value", where, key, name)
			}
		}
		if c.PollInterval == 0 {
			c.PollInterval = 2 * time.Minute
		}
		if c.PollInterval < 10*time.Second {
			return nil, fault.With(ErrConfig, "%s (%s): poll_interval must be at least 10s", where, key)
		}
		if c.ShipByDefault == 0 {
			c.ShipByDefault = 48 * time.Hour
		}
	}
	return f.Shops, nil
}

// Resolve turns a configured shop into the connector's shop, reading its env:NAME references with
// getenv (secret references need ResolveWith and a secret store). A missing variable is named; its
// value never appears anywhere.
func (c Config) Resolve(getenv func(string) string) (channel.Shop, error) {
	return c.ResolveWith(Resolver(getenv, nil))
}

func yamlProblem(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return strings.Join(te.Errors, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}
