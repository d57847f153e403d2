package intoto

// Key is a public (and optionally private) key in the securesystemslib format the peers use.
type Key struct {
	KeyID               string   `json:"keyid,omitempty"`
	KeyType             string   `json:"keytype"`
	Scheme              string   `json:"scheme"`
	KeyIDHashAlgorithms []string `json:"keyid_hash_algorithms,omitempty"`
	KeyVal              KeyVal   `json:"keyval"`

	// hashByScheme makes Sign hash an ECDSA signature by the scheme label (in-toto-python's way)
	// rather than by the curve size (in-toto-golang's); set for securesystemslib JSON private keys.
	hashByScheme bool
}

// KeyVal holds the encoded key material: hex for ed25519, PEM for RSA and ECDSA.
type KeyVal struct {
	Public  string `json:"public"`
	Private string `json:"private,omitempty"`
}
