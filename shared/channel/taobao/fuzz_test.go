package taobao

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzMapTrade feeds raw list and detail answers through decoding and the mapper: whatever TOP (or
// an attacker in the middle) sends, the connector returns an error or an order, never panics.
func FuzzMapTrade(f *testing.F) {
	sb := NewSandbox(SandboxConfig{Seed: 11})
	sb.Advance(3 * time.Hour)
	trades := sb.Orders()
	list, _ := json.Marshal(map[string]any{"trades_sold_increment_get_response": map[string]any{
		"total_results": len(trades), "trades": map[string]any{"trade": trades[:1]}}})
	detail, _ := json.Marshal(map[string]any{"trade_fullinfo_get_response": map[string]any{"trade": trades[0]}})
	f.Add(list)
	f.Add(detail)
	f.Add([]byte(`{"trade_fullinfo_get_response":{"trade":` + sampleTrade + `}}`))
	f.Add([]byte(`{"error_response":{"code":7,"msg":"App Call Limited","sub_msg":"This ban will last for 99999999999 more seconds"}}`))
	f.Add([]byte(`{"trades_sold_increment_get_response":{"trades":{"trade":[{"tid":"1e400","orders":{"order":[{"num":-1,"price":"1e309"}]}}]}}}`))
	m := testMapper()
	f.Fuzz(func(t *testing.T, body []byte) {
		var l listResponse
		if decode(body, &l) == nil {
			for _, tr := range l.R.Trades.Trade {
				if o, err := m.Map(tr); err == nil {
					if verr := o.Validate(); verr != nil {
						t.Fatalf("mapper returned an invalid order without error: %v", verr)
					}
				}
			}
		}
		var d detailResponse
		if decode(body, &d) == nil && d.R.Trade != nil {
			if o, err := m.Map(*d.R.Trade); err == nil && o.Validate() != nil {
				t.Fatalf("mapper returned an invalid order without error: %v", o.Validate())
			}
		}
	})
}
