package jd

import "orderhub/shared/channel/chanhttp"

// Sign returns the JOS router signature of p, as the JD open platform's developer guide documents
// for routerjson calls: every system parameter and 360buy_param_json (the business parameters as
// one JSON string, signed exactly as sent), except sign and empty values, sorted by name in ASCII
// order, concatenated as name+value, wrapped in the app secret on both ends, md5, hex in upper case.
func Sign(p chanhttp.Params, secret string) string {
	return chanhttp.MD5Wrapped(secret, p.Concat())
}
