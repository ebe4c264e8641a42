package shopee

import (
	"errors"
	"testing"

	"orderhub/shared/channel"
	"orderhub/shared/pii"
)

func FuzzParsePush(f *testing.F) {
	f.Add([]byte(samplePush))
	f.Add([]byte(`{"shop_id":"14701711","code":"3","timestamp":1,"data":{"ordersn":"A","update_time":"2"}}`))
	f.Add([]byte(`{"code":1,"data":null}`))
	f.Add([]byte(`{"shop_id":1e30,"code":3}`))
	f.Add([]byte(`[]`))
	c, err := New(channel.Shop{ID: "sp1", Credentials: map[string]string{
		CredPartnerID: "1", CredPartnerKey: "k", CredShopID: "14701711", CredAccessToken: "t",
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
		if p.Ping != (len(p.Fetch) == 0) || p.DeliveryID == "" {
			t.Fatalf("inconsistent push %+v", p)
		}
	})
}

func FuzzMapOrder(f *testing.F) {
	f.Add([]byte(sampleOrder))
	f.Add([]byte(`{"order_sn":"A","currency":"IDR","order_status":"SHIPPED","create_time":1,"update_time":2,"total_amount":1e21,"item_list":[{"model_quantity_purchased":1,"model_original_price":9.5e18}]}`))
	f.Add([]byte(`{"order_sn":"A","currency":"VND","order_status":"TO_RETURN","create_time":"1","update_time":"2","total_amount":"-0","item_list":[{"model_quantity_purchased":"1000000","model_original_price":92233720368547758.07}]}`))
	f.Add([]byte(`null`))
	h := pii.NewHasher([]byte("k"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		o, err := decodeOrder(raw)
		if err != nil {
			return
		}
		got, err := mapOrder(channel.Shop{ID: "sp1", Currency: "SGD"}, h, o)
		if err != nil {
			return
		}
		if err := got.Validate(); err != nil {
			t.Fatalf("mapped order does not validate: %v", err)
		}
	})
}
