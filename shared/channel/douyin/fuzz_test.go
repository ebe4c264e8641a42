package douyin

import (
	"errors"
	"testing"

	"orderhub/shared/channel"
	"orderhub/shared/pii"
)

func FuzzParsePush(f *testing.F) {
	f.Add([]byte(pushBody))
	f.Add([]byte(`[{"tag":106,"msg_id":"1","data":{"p_id":"2","shop_id":3}}]`))
	f.Add([]byte(`[{"tag":"206","msg_id":1e99,"data":"{\"p_id\":null}"}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"tag":"101"}`))
	c, err := New(channel.Shop{ID: "dy1", Credentials: map[string]string{
		CredAppKey: "k", CredAppSecret: "s", CredAccessToken: "t", CredShopID: "12345",
	}}, channel.Deps{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := c.ParsePush(nil, body)
		if err != nil {
			if !errors.Is(err, channel.ErrMalformedPush) {
				t.Fatalf("ParsePush error is not ErrMalformedPush: %v", err)
			}
			return
		}
		if p.Ping != (len(p.Fetch) == 0) {
			t.Fatalf("inconsistent push %+v", p)
		}
	})
}

func FuzzMapOrder(f *testing.F) {
	f.Add([]byte(sampleOrder))
	f.Add([]byte(`{"order_id":"1","order_status":"5","create_time":1,"update_time":2,"sku_order_list":[{"item_num":1,"sku_id":"9"}]}`))
	f.Add([]byte(`{"order_id":1,"order_status":3,"create_time":-9223372036854775808,"update_time":9223372036854775807,"sku_order_list":[{"item_num":3,"origin_amount":9223372036854775807,"after_sale_info":{"after_sale_status":11}}]}`))
	f.Add([]byte(`null`))
	h := pii.NewHasher([]byte("k"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		o, err := decodeOrder(raw)
		if err != nil {
			return
		}
		got, err := mapOrder(channel.Shop{ID: "dy1"}, h, o)
		if err != nil {
			return
		}
		if err := got.Validate(); err != nil {
			t.Fatalf("mapped order does not validate: %v", err)
		}
	})
}
