package keys

import (
	"bytes"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/cjson"
)

// TestKeyIDDocumentIsCanonical holds the keyid document to go-securesystemslib's canonical JSON of the
// same object, the oracle, for ordinary and odd strings.
func TestKeyIDDocumentIsCanonical(t *testing.T) {
	t.Parallel()
	pem := "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n"
	for _, c := range []struct {
		algs                    []string
		keyType, public, scheme string
	}{
		{DefaultKeyIDHashAlgorithms, KeyTypeED25519, "8f93f549eb4cca8dc2142fb655ba2d0955d1824f79474f354e38d6a359e9d440", SchemeED25519},
		{[]string{"sha256"}, KeyTypeRSA, pem, SchemeRSAPSSSHA256},
		{nil, "", "", ""},
		{[]string{}, `q"u\o<t>e&`, "tab\tnul\x00é\u2028", "bad\xff\xfeutf8"},
	} {
		obj := map[string]any{
			"keyid_hash_algorithms": c.algs,
			"keytype":               c.keyType,
			"scheme":                c.scheme,
			"keyval":                map[string]string{"public": c.public},
		}
		if c.algs == nil {
			obj["keyid_hash_algorithms"] = []string{}
		}
		want, err := cjson.EncodeCanonical(obj)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendKeyIDDocument(nil, c.algs, c.keyType, c.public, c.scheme); !bytes.Equal(got, want) {
			t.Errorf("got\n%s\nwant\n%s", got, want)
		}
	}
}
