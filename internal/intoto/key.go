package intoto

// Key is a layout's record of a public key, in the securesystemslib format the peers use (a key file in
// that format also carries keyval.private). Reading, identifying and using keys is internal/keys' work.
type Key struct {
	KeyID               string   `json:"keyid,omitempty"`
	KeyType             string   `json:"keytype"`
	Scheme              string   `json:"scheme"`
	KeyIDHashAlgorithms []string `json:"keyid_hash_algorithms,omitempty"`
	KeyVal              KeyVal   `json:"keyval"`
}

// KeyVal holds the encoded key material: hex for ed25519, PEM for RSA and ECDSA.
type KeyVal struct {
	Public  string `json:"public"`
	Private string `json:"private,omitempty"`
}
