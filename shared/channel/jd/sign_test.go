package jd

import (
	"testing"

	"orderhub/shared/channel/chanhttp"
)

func TestSignVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, secret string
		params       chanhttp.Params
		want         string
	}{
		{
			// Published: the worked example of JD's developer guide for routerjson calls
			// (https://open.jd.com/v2/#/doc/dev-guide?listId=2643, "API调用说明" → 签名算法; app_key
			// yourappkey, appSecret yourappSecret, access_token yourtoken). The same sign value appears
			// in the guide's sample request URL. It shows that 360buy_param_json is signed as sent and
			// sorts first ('3' < 'a'), and that JD's own example timestamp carries milliseconds and zone.
			name: "JD developer guide example", secret: "yourappSecret",
			params: chanhttp.Params{
				"360buy_param_json": `{"end_date":null,"optional_fields":null,"order_state":"WAIT_SELLER_STOCK_OUT","page":"1","page_size":"200","start_date":null}`,
				"access_token":      "yourtoken", "app_key": "yourappkey", "method": "jingdong.pop.order.search",
				"timestamp": "2021-05-07 09:20:39.683+0800", "v": "2.0",
			},
			want: "D70825340F4084360B9362B60DFD7930",
		},
		{
			// Independently computed, NOT published: the request shape this connector sends
			// (timestamp "yyyy-MM-dd HH:mm:ss"), computed with Python:
			//   hashlib.md5((secret + concat + secret).encode()).hexdigest().upper()
			name: "order.get as the connector sends it (independently computed)", secret: "yourappSecret",
			params: chanhttp.Params{
				"360buy_param_json": `{"order_id":"301234567890"}`, "access_token": "yourtoken", "app_key": "yourappkey",
				"method": "jingdong.pop.order.get", "timestamp": "2024-03-01 08:00:00", "v": "2.0",
			},
			want: "D05A16A99FF65B1B6CC4D710CEB5B3F9",
		},
		{
			// Independently computed, NOT published: UTF-8 text inside 360buy_param_json (same Python).
			name: "Chinese in the business JSON (independently computed)", secret: "sec",
			params: chanhttp.Params{
				"360buy_param_json": `{"logi_coprId":"467","logi_no":"SF1234567890","order_id":"290000000037","remark":"顺丰次日达"}`,
				"access_token":      "tok", "app_key": "key", "method": "jingdong.pop.order.shipment",
				"timestamp": "2024-03-01 08:00:00", "v": "2.0",
			},
			want: "8C6C17F27D6D0D6BBBB16FD8B9573D17",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Sign(tt.params, tt.secret); got != tt.want {
				t.Fatalf("Sign = %s, want %s", got, tt.want)
			}
		})
	}
}
