package pdd

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzMapOrder feeds raw increment and detail answers through decoding and the mapper: whatever
// Pinduoduo sends, the connector returns an error or a valid order, never panics.
func FuzzMapOrder(f *testing.F) {
	sb := NewSandbox(SandboxConfig{Seed: 11})
	sb.Advance(2 * time.Hour)
	orders := sb.Orders()
	list, _ := json.Marshal(map[string]any{"order_sn_increment_get_response": map[string]any{
		"total_count": len(orders), "has_next": false, "order_sn_list": orders[:1]}})
	info, _ := json.Marshal(map[string]any{"order_info_get_response": map[string]any{"order_info": orders[0]}})
	f.Add(list)
	f.Add(info)
	f.Add([]byte(`{"order_info_get_response":{"order_info":` + sampleOrder + `}}`))
	f.Add([]byte(`{"error_response":{"error_code":70031,"error_msg":"调用过于频繁"}}`))
	f.Add([]byte(`{"order_sn_increment_get_response":{"order_sn_list":[{"order_sn":"x","confirm_status":1e3,"goods_amount":-0.0,"item_list":[{"goods_count":1e9}]}]}}`))
	m := testMapper()
	check := func(t *testing.T, o OrderInfo) {
		if got, err := m.Map(o); err == nil {
			if verr := got.Validate(); verr != nil {
				t.Fatalf("mapper returned an invalid order without error: %v", verr)
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var l incrementResponse
		if decode(body, &l) == nil {
			for _, o := range l.R.Orders {
				check(t, o)
			}
		}
		var d infoResponse
		if decode(body, &d) == nil && d.R.Order != nil {
			check(t, *d.R.Order)
		}
	})
}
