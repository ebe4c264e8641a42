package pdd

import "orderhub/shared/channel/chanhttp"

// Sign returns the Pinduoduo open platform signature of p, as its "API调用指南" documents: every
// request parameter (system and business) except sign and empty values, sorted by name in ASCII
// order, concatenated as name+value without separators, wrapped in client_secret on both ends,
// md5, hex in upper case.
func Sign(p chanhttp.Params, clientSecret string) string {
	return chanhttp.MD5Wrapped(clientSecret, p.Concat())
}
