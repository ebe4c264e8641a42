package jd

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzMapOrder feeds raw search and detail answers through decoding and the mapper: whatever JD
// sends, the connector returns an error or a valid order, never panics.
func FuzzMapOrder(f *testing.F) {
	sb := NewSandbox(SandboxConfig{Seed: 11})
	sb.Advance(3 * time.Hour)
	orders := sb.Orders()
	search, _ := json.Marshal(map[string]any{responseKey("jingdong.pop.order.search"): map[string]any{"code": "0",
		"searchorderinfo_result": map[string]any{"apiResult": map[string]any{"success": true}, "orderTotal": len(orders), "orderInfoList": orders[:1]}}})
	get, _ := json.Marshal(map[string]any{responseKey("jingdong.pop.order.get"): map[string]any{"code": "0",
		"orderDetailInfo": map[string]any{"apiResult": map[string]any{"success": "true"}, "orderInfo": orders[0]}}})
	f.Add(search)
	f.Add(get)
	f.Add([]byte(`{"jingdong_pop_order_get_responce":{"orderDetailInfo":{"apiResult":{"success":true},"orderInfo":` + sampleOrder + `}}}`))
	f.Add([]byte(`{"error_response":{"code":"19","zh_desc":"token已过期","en_desc":"Invalid access_token"}}`))
	f.Add([]byte(`{"jingdong_pop_order_search_responce":{"searchorderinfo_result":{"orderTotal":"9e99","orderInfoList":[{"orderId":1,"itemInfoList":[{"itemTotal":"-3"}]}]}}}`))
	m := testMapper()
	check := func(t *testing.T, info OrderInfo) {
		if o, err := m.Map(info); err == nil {
			if verr := o.Validate(); verr != nil {
				t.Fatalf("mapper returned an invalid order without error: %v", verr)
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var s searchResponse
		if decode(body, "jingdong.pop.order.search", &s) == nil && s.Result.APIResult.err("search") == nil {
			_, _ = s.Result.OrderTotal.Int()
			for _, info := range s.Result.OrderInfoList {
				check(t, info)
			}
		}
		var g getResponse
		if decode(body, "jingdong.pop.order.get", &g) == nil && g.Result.OrderInfo != nil {
			check(t, *g.Result.OrderInfo)
		}
	})
}
