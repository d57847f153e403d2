package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// Key types and signature schemes, spelled as securesystemslib and the peers spell them.
const (
	KeyTypeRSA     = "rsa"
	KeyTypeECDSA   = "ecdsa"
	KeyTypeED25519 = "ed25519"

	SchemeRSAPSSSHA256 = "rsassa-pss-sha256"
	SchemeED25519      = "ed25519"
	SchemeECDSAP224    = "ecdsa-sha2-nistp224"
	SchemeECDSAP256    = "ecdsa-sha2-nistp256"
	SchemeECDSAP384    = "ecdsa-sha2-nistp384"
	SchemeECDSAP521    = "ecdsa-sha2-nistp521"
)

// DefaultKeyIDHashAlgorithms is the keyid_hash_algorithms value both peers put in every key; it is part of
// the hashed key object, so it changes the keyid.
var DefaultKeyIDHashAlgorithms = []string{"sha256", "sha512"}

// Key errors callers may branch on.
var (
	// ErrEncryptedKey is returned when a key file is encrypted and no password was given.
	ErrEncryptedKey = errors.New("key is encrypted: a password is needed")
	// ErrNoPrivateKey is returned by Sign on a key that has only a public part.
	ErrNoPrivateKey = errors.New("key has no private part")
	// ErrUnsupportedKey is returned for key types, curves and schemes this tool does not handle.
	ErrUnsupportedKey = errors.New("unsupported key")
	// ErrBadSignature is returned by Verify when a signature does not verify.
	ErrBadSignature = errors.New("signature does not verify")
)

// Load reads a key file: PEM (PKCS#8, PKIX, PKCS#1, SEC1, X.509 certificate) or a securesystemslib
// JSON key. Encrypted keys are refused with ErrEncryptedKey; use LoadWithPassword.
func Load(path string) (*Key, error) {
	return LoadWithPassword(path, nil)
}

// LoadWithPassword reads a key file that may be encrypted with password.
func LoadWithPassword(path string, password []byte) (*Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load key: %w", err)
	}
	k, err := Parse(data, password)
	if err != nil {
		return nil, fmt.Errorf("load key %q: %w", path, err)
	}
	return k, nil
}

// Parse parses a PEM or securesystemslib JSON key. password is used only for encrypted PEM
// (PKCS#8 PBES2 or legacy PBES1 with MD5/SHA-1 and DES, or OpenSSL "Proc-Type: 4,ENCRYPTED").
func Parse(data []byte, password []byte) (*Key, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return parseJSONKey(trimmed)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block or JSON key found")
	}
	der := block.Bytes
	typ := block.Type
	//nolint:staticcheck // legacy OpenSSL-encrypted PEMs are still written by old tools.
	if x509.IsEncryptedPEMBlock(block) {
		if len(password) == 0 {
			return nil, ErrEncryptedKey
		}
		d, err := x509.DecryptPEMBlock(block, password) //nolint:staticcheck
		if err != nil {
			return nil, fmt.Errorf("decrypt key: %w", err)
		}
		der = d
	}
	if typ == "ENCRYPTED PRIVATE KEY" {
		if len(password) == 0 {
			return nil, ErrEncryptedKey
		}
		d, err := decryptPKCS8(der, password)
		if err != nil {
			return nil, err
		}
		der, typ = d, "PRIVATE KEY"
	}
	var (
		parsed any
		err    error
	)
	switch typ {
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(der)
	case "RSA PRIVATE KEY":
		parsed, err = x509.ParsePKCS1PrivateKey(der)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(der)
	case "PUBLIC KEY":
		parsed, err = x509.ParsePKIXPublicKey(der)
	case "RSA PUBLIC KEY":
		parsed, err = x509.ParsePKCS1PublicKey(der)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(der); err == nil {
			parsed = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("%w: PEM block type %q", ErrUnsupportedKey, typ)
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", strings.ToLower(typ), err)
	}
	return keyFromCrypto(parsed)
}

// FromCrypto wraps a Go crypto key (public, or private with its public half) as a Key with the default
// scheme for its type and its keyid set.
func FromCrypto(k any) (*Key, error) {
	return keyFromCrypto(k)
}

func keyFromCrypto(parsed any) (*Key, error) {
	var (
		pub  crypto.PublicKey
		priv crypto.Signer
	)
	switch k := parsed.(type) {
	case *rsa.PrivateKey:
		pub, priv = &k.PublicKey, k
	case *ecdsa.PrivateKey:
		pub, priv = &k.PublicKey, k
	case ed25519.PrivateKey:
		pub, priv = k.Public(), k
	case *ed25519.PrivateKey:
		pub, priv = k.Public(), *k
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		pub = k
	case *ed25519.PublicKey:
		pub = *k
	default:
		return nil, fmt.Errorf("%w: key type %T", ErrUnsupportedKey, parsed)
	}
	key := &Key{Key: intoto.Key{KeyIDHashAlgorithms: append([]string(nil), DefaultKeyIDHashAlgorithms...)}}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p.N.BitLen() < 2048 {
			return nil, fmt.Errorf("%w: rsa key of %d bits (minimum 2048)", ErrUnsupportedKey, p.N.BitLen())
		}
		key.KeyType, key.Scheme = KeyTypeRSA, SchemeRSAPSSSHA256
	case *ecdsa.PublicKey:
		if err := checkCurve(p.Curve); err != nil {
			return nil, err
		}
		// Both peers label every ECDSA PEM key ecdsa-sha2-nistp256 whatever its curve (in-toto-golang's
		// `key layout` and LoadKeyDefaults, securesystemslib's import_ecdsakey_from_pem); the label is part
		// of the hashed key object, so the same label gives the same keyid as a layout the peers made.
		key.KeyType, key.Scheme = KeyTypeECDSA, SchemeECDSAP256
	case ed25519.PublicKey:
		key.KeyType, key.Scheme = KeyTypeED25519, SchemeED25519
		key.KeyVal.Public = hex.EncodeToString(p)
	}
	if key.KeyType != KeyTypeED25519 {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return nil, fmt.Errorf("encode public key: %w", err)
		}
		key.KeyVal.Public = pemString("PUBLIC KEY", der)
	}
	if priv != nil {
		if ek, ok := priv.(ed25519.PrivateKey); ok {
			key.KeyVal.Private = hex.EncodeToString(ek)
		} else {
			der, err := x509.MarshalPKCS8PrivateKey(priv)
			if err != nil {
				return nil, fmt.Errorf("encode private key: %w", err)
			}
			key.KeyVal.Private = pemString("PRIVATE KEY", der)
		}
	}
	id, err := computeID(&key.Key)
	if err != nil {
		return nil, err
	}
	key.KeyID = id
	return key, nil
}

func checkCurve(c elliptic.Curve) error {
	switch c {
	case elliptic.P224(), elliptic.P256(), elliptic.P384(), elliptic.P521():
		return nil
	}
	return fmt.Errorf("%w: ecdsa curve %s", ErrUnsupportedKey, c.Params().Name)
}

// WithScheme returns a copy of the key labelled with another signature scheme of its type (and the
// keyid that label gives): `key id --scheme` uses it to print the keyid a layout made with an explicit
// label (in-toto-golang's library LoadKey(path, "ecdsa-sha2-nistp384", …)) expects.
func (k *Key) WithScheme(scheme string) (*Key, error) {
	c := *k
	c.KeyIDHashAlgorithms = append([]string(nil), k.KeyIDHashAlgorithms...)
	c.Scheme = scheme
	switch {
	case k.KeyType == KeyTypeECDSA && isECDSAScheme(scheme):
	case k.KeyType == KeyTypeED25519 && scheme == SchemeED25519:
	case k.KeyType == KeyTypeRSA && scheme == SchemeRSAPSSSHA256:
	default:
		return nil, fmt.Errorf("%w: scheme %q for a %s key", ErrUnsupportedKey, scheme, k.KeyType)
	}
	id, err := computeID(&c.Key)
	if err != nil {
		return nil, err
	}
	c.KeyID = id
	return &c, nil
}

func isECDSAScheme(s string) bool {
	switch s {
	case SchemeECDSAP224, SchemeECDSAP256, SchemeECDSAP384, SchemeECDSAP521:
		return true
	}
	return false
}

// pemString is a PEM block without its trailing newline, as golang and python store keyval.public.
func pemString(typ string, der []byte) string {
	return strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})))
}

// parseJSONKey reads a securesystemslib JSON key (like in-toto-python's demo_files/danny).
func parseJSONKey(data []byte) (*Key, error) {
	var k Key
	if err := json.Unmarshal(data, &k.Key); err != nil {
		return nil, fmt.Errorf("parse json key: %w", err)
	}
	if k.KeyVal.Public == "" {
		return nil, errors.New("json key has no keyval.public")
	}
	if len(k.KeyIDHashAlgorithms) == 0 {
		k.KeyIDHashAlgorithms = append([]string(nil), DefaultKeyIDHashAlgorithms...)
	}
	if _, err := publicKey(&k.Key); err != nil {
		return nil, err
	}
	if k.KeyVal.Private != "" {
		if _, err := privateKey(&k.Key); err != nil {
			return nil, err
		}
	}
	id, err := computeID(&k.Key)
	if err != nil {
		return nil, err
	}
	if k.KeyID != "" && k.KeyID != id {
		return nil, fmt.Errorf("json key keyid %s does not match its content (%s)", k.KeyID, id)
	}
	k.KeyID = id
	// A securesystemslib JSON private key is in-toto-python's format, and python hashes ECDSA
	// signatures by the scheme label, not by the curve: sign the way that key's owner signs.
	k.hashByScheme = k.KeyVal.Private != ""
	return &k, nil
}

// ID returns the keyid: the hex sha256 of the canonical JSON of the public key object
// {keyid_hash_algorithms, keytype, keyval: {public}, scheme}. The private part never counts.
func (k *Key) ID() string { return ID(&k.Key) }

// ID returns the keyid of a layout's key record, "" when it cannot be computed.
func ID(r *intoto.Key) string {
	id, err := computeID(r)
	if err != nil {
		return ""
	}
	return id
}

func computeID(k *intoto.Key) (string, error) {
	algs := k.KeyIDHashAlgorithms
	if len(algs) == 0 {
		algs = DefaultKeyIDHashAlgorithms
	}
	sum := sha256.Sum256(appendKeyIDDocument(make([]byte, 0, 256+len(k.KeyVal.Public)), algs, k.KeyType, k.KeyVal.Public, k.Scheme))
	return hex.EncodeToString(sum[:]), nil
}

// Public returns a copy of the key without its private part.
func (k *Key) Public() *Key {
	p := *k
	p.KeyVal.Private = ""
	p.KeyIDHashAlgorithms = append([]string(nil), k.KeyIDHashAlgorithms...)
	if p.KeyID == "" {
		p.KeyID = k.ID()
	}
	return &p
}

// Record returns the key as a layout lists it: the public part only, its keyid set, and the default
// keyid_hash_algorithms when the key had none (intoto.Layout.AddKey takes it).
func (k *Key) Record() *intoto.Key {
	r := k.Public().Key
	r.KeyID = ID(&r)
	if len(r.KeyIDHashAlgorithms) == 0 {
		r.KeyIDHashAlgorithms = append([]string(nil), DefaultKeyIDHashAlgorithms...)
	}
	return &r
}

// FromRecord is the key a layout's record describes (a public key; it cannot sign).
func FromRecord(r *intoto.Key) *Key {
	c := *r
	c.KeyIDHashAlgorithms = append([]string(nil), r.KeyIDHashAlgorithms...)
	return &Key{Key: c}
}

// HasPrivate reports whether the key can sign.
func (k *Key) HasPrivate() bool { return k.KeyVal.Private != "" }

// CryptoPublicKey returns the Go public key (*rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey).
func (k *Key) CryptoPublicKey() (crypto.PublicKey, error) { return publicKey(&k.Key) }

// CryptoSigner returns the Go private key as a crypto.Signer.
func (k *Key) CryptoSigner() (crypto.Signer, error) { return privateKey(&k.Key) }

func publicKey(k *intoto.Key) (crypto.PublicKey, error) {
	switch k.KeyType {
	case KeyTypeED25519:
		b, err := hex.DecodeString(k.KeyVal.Public)
		if err != nil || len(b) != ed25519.PublicKeySize {
			return nil, errors.New("ed25519 public key must be 64 hex digits")
		}
		return ed25519.PublicKey(b), nil
	case KeyTypeRSA, KeyTypeECDSA, SchemeECDSAP256, SchemeECDSAP384, SchemeECDSAP521:
		block, _ := pem.Decode([]byte(k.KeyVal.Public))
		if block == nil {
			return nil, fmt.Errorf("%s public key is not PEM", k.KeyType)
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse %s public key: %w", k.KeyType, err)
		}
		switch pub.(type) {
		case *rsa.PublicKey:
			if k.KeyType != KeyTypeRSA {
				return nil, fmt.Errorf("keytype %s holds an rsa key", k.KeyType)
			}
		case *ecdsa.PublicKey:
			if k.KeyType == KeyTypeRSA {
				return nil, fmt.Errorf("keytype %s holds an ecdsa key", k.KeyType)
			}
		default:
			return nil, fmt.Errorf("%w: keytype %s holds %T", ErrUnsupportedKey, k.KeyType, pub)
		}
		return pub, nil
	}
	return nil, fmt.Errorf("%w: keytype %q", ErrUnsupportedKey, k.KeyType)
}

func privateKey(k *intoto.Key) (crypto.Signer, error) {
	if k.KeyVal.Private == "" {
		return nil, ErrNoPrivateKey
	}
	if k.KeyType == KeyTypeED25519 {
		b, err := hex.DecodeString(k.KeyVal.Private)
		if err != nil {
			return nil, errors.New("ed25519 private key is not hex")
		}
		var priv ed25519.PrivateKey
		switch len(b) {
		case ed25519.SeedSize:
			priv = ed25519.NewKeyFromSeed(b)
		case ed25519.PrivateKeySize:
			priv = ed25519.PrivateKey(b)
		default:
			return nil, fmt.Errorf("ed25519 private key has %d bytes, want 32 or 64", len(b))
		}
		pub, err := publicKey(k)
		if err != nil {
			return nil, err
		}
		if !priv.Public().(ed25519.PublicKey).Equal(pub) {
			return nil, errors.New("ed25519 private key does not match its public key")
		}
		return priv, nil
	}
	block, _ := pem.Decode([]byte(k.KeyVal.Private))
	if block == nil {
		return nil, fmt.Errorf("%s private key is not PEM", k.KeyType)
	}
	var (
		parsed any
		err    error
	)
	switch block.Type {
	case "RSA PRIVATE KEY":
		parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s private key: %w", k.KeyType, err)
	}
	s, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: private key %T", ErrUnsupportedKey, parsed)
	}
	return s, nil
}

// Generate makes a new private key of type "ed25519", "ecdsa" (P-256) or "rsa" (3072 bits).
func Generate(keyType string) (*Key, error) {
	var (
		priv any
		err  error
	)
	switch keyType {
	case KeyTypeED25519:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case KeyTypeECDSA:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case KeyTypeRSA:
		priv, err = rsa.GenerateKey(rand.Reader, 3072)
	default:
		return nil, fmt.Errorf("%w: key type %q (want ed25519, ecdsa or rsa)", ErrUnsupportedKey, keyType)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", keyType, err)
	}
	return keyFromCrypto(priv)
}

// PrivatePEM returns the private key as an unencrypted PKCS#8 PEM block (with a trailing newline).
func (k *Key) PrivatePEM() ([]byte, error) {
	s, err := privateKey(&k.Key)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(s)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// PublicPEM returns the public key as a PKIX PEM block (with a trailing newline); ed25519 included.
func (k *Key) PublicPEM() ([]byte, error) {
	p, err := publicKey(&k.Key)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(p)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
