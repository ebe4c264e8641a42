package chanhttp

import (
	"strings"
	"time"

	"orderhub/shared/channel"
	"orderhub/shared/fault"
)

// ErrMissingCredential is returned when a shop lacks a credential or setting its connector needs.
// The message names the missing key, never a value.
var ErrMissingCredential = fault.New(fault.Invalid, "missing_credential", "the shop lacks a credential")

// Credentials returns the credential for each spec, a name followed by aliases the hub also
// accepts, or ErrMissingCredential naming every spec that has no value.
func Credentials(platform string, shop channel.Shop, specs ...[]string) ([]string, error) {
	out := make([]string, len(specs))
	var missing []string
	for i, names := range specs {
		for _, n := range names {
			if v := strings.TrimSpace(shop.Credentials[n]); v != "" {
				out[i] = v
				break
			}
		}
		if out[i] == "" && len(names) > 0 {
			missing = append(missing, names[0])
		}
	}
	if len(missing) > 0 {
		return nil, fault.With(ErrMissingCredential, "%s shop %q: %s", platform, shop.ID, strings.Join(missing, ", "))
	}
	return out, nil
}

// Setup checks what every connector needs besides credentials (an endpoint, a hasher for receiver
// data) and returns deps with defaults filled in.
func Setup(platform string, shop channel.Shop, deps channel.Deps) (channel.Deps, error) {
	if strings.TrimSpace(shop.BaseURL) == "" {
		return deps, fault.With(ErrMissingCredential, "%s shop %q: base_url", platform, shop.ID)
	}
	if deps.Hasher == nil {
		return deps, fault.With(ErrMissingCredential, "%s shop %q: a pii hasher (receiver data is stored hashed)", platform, shop.ID)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	deps.HTTP = Client(deps.HTTP)
	return deps, nil
}

// FirstNonEmpty returns the first value that is not blank, trimmed.
func FirstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
