package pdd

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
			// Published: Pinduoduo open platform "API调用指南", 签名算法 → 调用示例
			// (https://open.pinduoduo.com/application/document/browse?idStr=8EC06C399636041E),
			// client_secret testSecret, with the intermediate concatenated string in the guide.
			name: "API调用指南 worked example", secret: "testSecret",
			params: chanhttp.Params{
				"access_token": "asd78172s8ds9a921j9qqwda12312w1w21211", "client_id": "1", "data_type": "XML",
				"type": "pdd.order.number.list.get", "timestamp": "1480411125", "order_status": "1", "page": "1", "page_size": "10",
			},
			want: "E4DE3ED21002510DED352819E7AE6775",
		},
		{
			// Independently computed, NOT published: the detail request this connector sends, computed
			// with Python: hashlib.md5((secret + concat + secret).encode()).hexdigest().upper()
			name: "order.information.get as the connector sends it (independently computed)", secret: "s3cr3t",
			params: chanhttp.Params{
				"client_id": "c1", "access_token": "tok", "data_type": "JSON", "type": "pdd.order.information.get",
				"timestamp": "1700000000", "order_sn": "231215-123456789012345",
			},
			want: "DB4BAC953949F2FA4C6FA5DEF2A4F063",
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
