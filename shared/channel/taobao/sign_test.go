package taobao

import (
	"strings"
	"testing"

	"orderhub/shared/channel/chanhttp"
)

// docExample is the request of the worked example in TOP's "API调用方法详解" (signature section).
func docExample(signMethod string) chanhttp.Params {
	return chanhttp.Params{
		"method": "taobao.item.seller.get", "app_key": "12345678", "session": "test",
		"timestamp": "2016-01-01 12:00:00", "format": "json", "v": "2.0", "sign_method": signMethod,
		"fields": "num_iid,title,nick,price,num", "num_iid": "11223344",
	}
}

func TestSignVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, secret string
		params               chanhttp.Params
		want                 string
	}{
		{
			// Published: open.taobao.com/doc.htm?docId=101617&docType=1 ("API调用方法详解", 签名算法
			// example, secret helloworld). Also reproduced in developer.alibaba.com articleId=101617.
			name: "md5, TOP docId 101617 worked example", method: SignMD5, secret: "helloworld",
			params: docExample(SignMD5), want: "66987CB115214E59E6EC978214934FB8",
		},
		{
			// Published: the earlier TOP "API调用" guide's worked example (secret test), as quoted in
			// https://segmentfault.com/q/1010000002569107 with its intermediate concatenated string.
			name: "md5, earlier TOP guide example", method: SignMD5, secret: "test",
			params: chanhttp.Params{
				"method": "taobao.user.seller.get", "timestamp": "2013-05-06 13:52:03", "format": "xml",
				"app_key": "test", "v": "2.0", "fields": "nick", "sign_method": "md5", "session": "test",
			},
			want: "72CB4D809B375A54502C09360D879C64",
		},
		{
			// Published vector of the HMAC-MD5 primitive, not of TOP: RFC 2202 §2 test case 1
			// (key 0x0b×16, data "Hi There"). The parameters concatenate to exactly "Hi There", so
			// this checks that sign_method=hmac is HMAC-MD5 keyed with the secret over k+v, unwrapped.
			name: "hmac, RFC 2202 case 1 through the concatenation", method: SignHMAC, secret: strings.Repeat("\x0b", 16),
			params: chanhttp.Params{"Hi": " There"}, want: "9294727A3638BB1C13F48EF8158BFC9D",
		},
		{
			// Published: RFC 2202 §2 test case 2 (key "Jefe").
			name: "hmac, RFC 2202 case 2 through the concatenation", method: SignHMAC, secret: "Jefe",
			params: chanhttp.Params{"what do ya": " want for nothing?"}, want: "750C783E6AB0B503EAA86E310A5DB738",
		},
		{
			// Published vector of the HMAC-SHA256 primitive: RFC 4231 §4.2 test case 1.
			name: "hmac-sha256, RFC 4231 case 1 through the concatenation", method: SignHMACSHA256, secret: strings.Repeat("\x0b", 20),
			params: chanhttp.Params{"Hi": " There"}, want: "B0344C61D8DB38535CA8AFCEAF0BF12B881DC200C9833DA726E9376C2E32CFF7",
		},
		{
			// Published: RFC 4231 §4.3 test case 2 (key "Jefe").
			name: "hmac-sha256, RFC 4231 case 2 through the concatenation", method: SignHMACSHA256, secret: "Jefe",
			params: chanhttp.Params{"what do ya": " want for nothing?"}, want: "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843",
		},
		{
			// Independently computed, NOT published: TOP documents no worked example for hmac. The
			// docId 101617 request with sign_method=hmac, computed with Python:
			//   hmac.new(b"helloworld", concat.encode(), hashlib.md5).hexdigest().upper()
			name: "hmac, doc request (independently computed)", method: SignHMAC, secret: "helloworld",
			params: docExample(SignHMAC), want: "D56D7858309C31B6251083A874D48273",
		},
		{
			// Independently computed, NOT published: no TOP worked example for hmac-sha256 was found.
			//   hmac.new(b"helloworld", concat.encode(), hashlib.sha256).hexdigest().upper()
			name: "hmac-sha256, doc request (independently computed)", method: SignHMACSHA256, secret: "helloworld",
			params: docExample(SignHMACSHA256), want: "04DB15AD0774D5CFCE2C837DE43E3FCEA9011ED74F3038FB6AB5F3C4CEA119E8",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Sign(tt.params, tt.secret, tt.method)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("Sign = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSignIgnoresSignAndEmptyValues(t *testing.T) {
	t.Parallel()
	p := docExample(SignMD5)
	base, _ := Sign(p, "helloworld", SignMD5)
	p["sign"] = "whatever"
	p["empty"] = ""
	if got, _ := Sign(p, "helloworld", SignMD5); got != base {
		t.Fatalf("sign or empty parameters changed the signature: %s != %s", got, base)
	}
	if _, err := Sign(p, "x", "sha1"); err == nil {
		t.Fatal("unknown sign_method accepted")
	}
}
