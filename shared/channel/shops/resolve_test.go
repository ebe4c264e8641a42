package shops

import (
	"errors"
	"strings"
	"testing"

	"orderhub/shared/fault"
)

func TestParseAcceptsOnlyWellFormedReferences(t *testing.T) {
	t.Parallel()
	ok := []string{"env:A", "secret:orderhub/prod/shops/tmall", "secret:orderhub/prod/shops/tmall#app_secret",
		"secret:arn:aws:secretsmanager:us-east-1:123456789012:secret:orderhub/prod/x-AbCdEf#k"}
	for _, ref := range ok {
		if _, err := Parse([]byte("shops:\n  - {channel: taobao, id: a, credentials: {app_secret: \"" + ref + "\"}}")); err != nil {
			t.Errorf("%s refused: %v", ref, err)
		}
	}
	bad := []string{"env:", "secret:", "secret:#k", "secret:name#", "secret:a#b#c", "secret:has space", "s3cr3t", "ENV:A"}
	for _, ref := range bad {
		_, err := Parse([]byte("shops:\n  - {channel: taobao, id: a, credentials: {app_secret: \"" + ref + "\"}}"))
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%q accepted: %v", ref, err)
		}
	}
}

func TestResolverReadsEnvAndSecrets(t *testing.T) {
	t.Parallel()
	const plain, inJSON, notJSON = "plain-secret-value-1", "json-secret-value-2", "not-json-secret-value-3"
	secrets := map[string]string{
		"shops/plain": plain,
		"shops/json":  `{"app_secret":"` + inJSON + `","partner_id":123456,"flag":true,"nested":{"a":1}}`,
		"shops/text":  notJSON,
	}
	reads := map[string]int{}
	read := func(name string) (string, error) {
		reads[name]++
		switch name {
		case "shops/denied":
			return "", fault.With(ErrCredential, "secret %s: AccessDeniedException", name)
		case "shops/raw-error":
			return "", errors.New("GetSecretValue: " + plain) // a careless resolver: its text must not surface
		}
		v, ok := secrets[name]
		if !ok {
			return "", fault.With(ErrCredential, "secret %s: ResourceNotFoundException", name)
		}
		return v, nil
	}
	resolve := Resolver(func(k string) string { return map[string]string{"APP_KEY": "key-from-env"}[k] }, read)

	c := Config{Channel: "taobao", ID: "tmall", Credentials: map[string]string{
		"app_key": "env:APP_KEY", "app_secret": "secret:shops/json#app_secret", "partner_id": "secret:shops/json#partner_id",
		"session": "secret:shops/plain",
	}}
	shop, err := c.ResolveWith(resolve)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"app_key": "key-from-env", "app_secret": inJSON, "partner_id": "123456", "session": plain}
	for k, v := range want {
		if shop.Credentials[k] != v {
			t.Errorf("%s = %q, want %q", k, shop.Credentials[k], v)
		}
	}
	if reads["shops/json"] != 1 {
		t.Errorf("a secret named twice was read %d times", reads["shops/json"])
	}

	broken := Config{Channel: "taobao", ID: "broken", Credentials: map[string]string{
		"a": "env:UNSET", "b": "secret:shops/missing", "c": "secret:shops/json#nope", "d": "secret:shops/text#k",
		"e": "secret:shops/json#flag", "f": "secret:shops/json#nested", "g": "secret:shops/denied", "h": "secret:shops/raw-error",
	}}
	_, err = broken.ResolveWith(resolve)
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("broken shop: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"a (env:UNSET)", "b (secret:shops/missing): ", "ResourceNotFoundException", `no key "nope"`,
		"does not hold a JSON object", `key "flag" of secret shops/json is neither`, "AccessDeniedException", "h (secret:shops/raw-error): could not be read"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q: %s", want, msg)
		}
	}
	for _, v := range []string{plain, inJSON, notJSON, "123456"} {
		if strings.Contains(msg, v) {
			t.Errorf("error repeats a secret value %q: %s", v, msg)
		}
	}
	// A shop that cannot resolve keeps its error in the registry for staff, without values.
	got := FromConfigWith([]Config{broken, c}, resolve)
	if got[0].Err == "" || strings.Contains(got[0].Err, plain) || got[1].Err != "" || got[1].Shop.Credentials["session"] != plain {
		t.Fatalf("FromConfigWith: %q / %q", got[0].Err, got[1].Err)
	}
}

func TestSecretReferencesNeedASecretStore(t *testing.T) {
	t.Parallel()
	c := Config{Channel: "taobao", ID: "tmall", Credentials: map[string]string{"app_secret": "secret:shops/x#app_secret"}}
	_, err := c.Resolve(func(string) string { return "ignored" })
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "secret store") {
		t.Fatalf("secret reference without a store: %v", err)
	}
}
