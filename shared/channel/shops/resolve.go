package shops

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"orderhub/shared/channel"
	"orderhub/shared/fault"
)

// Prefixes of the credential references shops.yaml may use.
const (
	// RefEnv names an environment variable: env:TAOBAO_APP_SECRET.
	RefEnv = "env:"
	// RefSecret names a secret of a secret store (on AWS, Secrets Manager): secret:NAME holds the
	// value as a plain string, secret:NAME#key reads key from a secret holding a JSON object, so that
	// one secret can carry all of a shop's credentials.
	RefSecret = "secret:"
)

// ErrCredential is returned by resolvers for a reference that cannot be read. Its message names
// the reference and the reason, never a value.
var ErrCredential = fault.New(fault.Invalid, "shop_credential", "credential not readable")

// validRef reports whether ref is a well-formed reference (Parse refuses anything else, so that a
// value pasted into the file is never taken for a reference).
func validRef(ref string) bool {
	if strings.ContainsAny(ref, " \t\r\n") {
		return false
	}
	if name, ok := strings.CutPrefix(ref, RefEnv); ok {
		return name != ""
	}
	_, _, ok := SecretRef(ref)
	return ok
}

// SecretRef splits a secret:NAME[#key] reference; ok is false for anything else.
func SecretRef(ref string) (name, key string, ok bool) {
	rest, found := strings.CutPrefix(ref, RefSecret)
	if !found {
		return "", "", false
	}
	name, key, hasKey := strings.Cut(rest, "#")
	if name == "" || (hasKey && key == "") || strings.Contains(key, "#") {
		return "", "", false
	}
	return name, key, true
}

// Resolver returns the resolve function of ResolveWith: env:NAME is read with getenv (empty means
// not set), secret:NAME with readSecret, and secret:NAME#key picks key out of the JSON object the
// secret holds (a string, or a number written as it stands). Each secret is read once however many
// credentials name it. With readSecret nil, secret references are refused with a message saying
// where they work. readSecret's errors should be ErrCredential values: any other error is reported
// without its text, which might carry what was read.
func Resolver(getenv func(string) string, readSecret func(name string) (string, error)) func(ref string) (string, error) {
	type read struct {
		value string
		err   error
	}
	var mu sync.Mutex
	cache := map[string]read{}
	secret := func(name string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if r, ok := cache[name]; ok {
			return r.value, r.err
		}
		v, err := readSecret(name)
		cache[name] = read{v, err}
		return v, err
	}
	return func(ref string) (string, error) {
		if name, ok := strings.CutPrefix(ref, RefEnv); ok && name != "" {
			return getenv(name), nil
		}
		name, key, ok := SecretRef(ref)
		if !ok {
			return "", fault.With(ErrCredential, "%q is not a reference (env:NAME, secret:NAME or secret:NAME#key)", ref)
		}
		if readSecret == nil {
			return "", fault.With(ErrCredential, "secret references are resolved only where a secret store is configured (on AWS); use env:NAME here")
		}
		raw, err := secret(name)
		if err != nil || key == "" {
			return raw, err
		}
		return jsonKey(name, key, raw)
	}
}

// jsonKey reads key from the JSON object raw. Errors never quote raw: a decoder's message may
// repeat a piece of it.
func jsonKey(name, key, raw string) (string, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &obj); err != nil || obj == nil {
		return "", fault.With(ErrCredential, "secret %s does not hold a JSON object, so its key %q cannot be read", name, key)
	}
	v, ok := obj[key]
	if !ok {
		return "", fault.With(ErrCredential, "secret %s has no key %q", name, key)
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err == nil {
		return n.String(), nil
	}
	return "", fault.With(ErrCredential, "key %q of secret %s is neither a string nor a number", key, name)
}

// ResolveWith turns a configured shop into the connector's shop, resolving each credential
// reference with resolve (see Resolver). Unset and unreadable credentials are all named with their
// references and the resolver's client-safe reason; no value appears anywhere.
func (c Config) ResolveWith(resolve func(ref string) (string, error)) (channel.Shop, error) {
	names := make([]string, 0, len(c.Credentials))
	for name := range c.Credentials {
		names = append(names, name)
	}
	slices.Sort(names)
	creds := map[string]string{}
	var missing, unreadable []string
	for _, name := range names {
		ref := c.Credentials[name]
		v, err := resolve(ref)
		switch {
		case err != nil:
			reason := "could not be read"
			if e, ok := fault.As(err); ok && e.Kind != fault.Internal {
				reason = e.Message
			}
			unreadable = append(unreadable, name+" ("+ref+"): "+reason)
		case v == "":
			missing = append(missing, name+" ("+ref+")")
		default:
			creds[name] = v
		}
	}
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, "credentials not set: "+strings.Join(missing, ", "))
	}
	if len(unreadable) > 0 {
		problems = append(problems, "credentials not readable: "+strings.Join(unreadable, "; "))
	}
	if len(problems) > 0 {
		return channel.Shop{}, fault.With(ErrConfig, "shop %s/%s: %s", c.Channel, c.ID, strings.Join(problems, "; "))
	}
	return channel.Shop{Channel: c.Channel, ID: c.ID, BaseURL: c.BaseURL, Credentials: creds, ShipByDefault: c.ShipByDefault, Currency: c.Currency}, nil
}

// FromConfigWith is FromConfig with a resolver for every kind of reference (see Resolver): on AWS,
// secret references are read from Secrets Manager once, at cold start.
func FromConfigWith(configs []Config, resolve func(ref string) (string, error)) []*Shop {
	out := make([]*Shop, 0, len(configs))
	for _, c := range configs {
		s := &Shop{Shop: channel.Shop{Channel: c.Channel, ID: c.ID}, PollInterval: c.PollInterval}
		shop, err := c.ResolveWith(resolve)
		if err != nil {
			s.Err = describe(err)
		} else {
			s.Shop = shop
		}
		out = append(out, s)
	}
	return out
}
