package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"fmt"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// rsaSignSaltLength is the PSS salt length used when signing: the digest length, as securesystemslib does.
const rsaSignSaltLength = 32

// Sign signs data with the key's scheme: ed25519 over the data, ecdsa over SHA-256/384/512 of the data
// (ASN.1 DER signature; the hash follows the curve size as in-toto-golang does, or the scheme label as
// in-toto-python does for a key read from its JSON format), rsassa-pss-sha256 with MGF1-SHA256 and a
// 32-byte salt.
func (k *Key) Sign(data []byte) ([]byte, error) {
	s, err := privateKey(&k.Key)
	if err != nil {
		return nil, err
	}
	switch p := s.(type) {
	case ed25519.PrivateKey:
		if k.Scheme != SchemeED25519 {
			return nil, fmt.Errorf("%w: scheme %q for an ed25519 key", ErrUnsupportedKey, k.Scheme)
		}
		return ed25519.Sign(p, data), nil
	case *ecdsa.PrivateKey:
		digests, err := ecdsaDigests(k.Scheme, p.Curve.Params().BitSize, data)
		if err != nil {
			return nil, err
		}
		digest := digests.byCurve
		if k.hashByScheme {
			digest = digests.byScheme
		}
		sig, err := ecdsa.SignASN1(rand.Reader, p, digest)
		if err != nil {
			return nil, fmt.Errorf("ecdsa sign: %w", err)
		}
		return sig, nil
	case *rsa.PrivateKey:
		if k.Scheme != SchemeRSAPSSSHA256 {
			return nil, fmt.Errorf("%w: rsa scheme %q", ErrUnsupportedKey, k.Scheme)
		}
		sum := sha256.Sum256(data)
		sig, err := rsa.SignPSS(rand.Reader, p, crypto.SHA256, sum[:], &rsa.PSSOptions{SaltLength: rsaSignSaltLength})
		if err != nil {
			return nil, fmt.Errorf("rsa sign: %w", err)
		}
		return sig, nil
	}
	return nil, fmt.Errorf("%w: private key %T", ErrUnsupportedKey, s)
}

// Verify checks sig over data with the key's public part. It returns ErrBadSignature (wrapped) when
// the signature does not match, and another error when the key itself is unusable.
func (k *Key) Verify(data, sig []byte) error { return Verify(&k.Key, data, sig) }

// Verify is Key.Verify for a layout's key record.
func Verify(r *intoto.Key, data, sig []byte) error {
	pub, err := publicKey(r)
	if err != nil {
		return err
	}
	return verifyWith(r.Scheme, pub, data, sig, func() string { return ID(r) })
}

// PreparedKey is a public key made ready for many verifications: its keyid computed and its key
// material decoded once, where Verify does both for every signature (and ID for every call).
// Its methods answer as the record's did when it was prepared; changing the record afterwards is not seen.
type PreparedKey struct {
	key *intoto.Key
	id  string
	pub crypto.PublicKey
	err error // why the public key is unusable
	der string
}

// Prepare computes the keyid of a layout's key record and decodes its public key once.
func Prepare(r *intoto.Key) *PreparedKey {
	p := PrepareID(r)
	if p.err == nil {
		if der, err := x509.MarshalPKIXPublicKey(p.pub); err == nil {
			p.der = string(der)
		}
	}
	return p
}

// PrepareID is Prepare without Material, for a key used once.
func PrepareID(r *intoto.Key) *PreparedKey {
	p := &PreparedKey{key: r, id: ID(r)}
	p.pub, p.err = publicKey(r)
	return p
}

// Prepare is Prepare of the key's record.
func (k *Key) Prepare() *PreparedKey { return Prepare(&k.Key) }

// PrepareID is PrepareID of the key's record.
func (k *Key) PrepareID() *PreparedKey { return PrepareID(&k.Key) }

// Key returns the record that was prepared.
func (p *PreparedKey) Key() *intoto.Key { return p.key }

// ID is the record's keyid, computed once.
func (p *PreparedKey) ID() string { return p.id }

// Material is the public key's PKIX DER encoding, "" when the key is unusable (or prepared by
// PrepareID): two keys hold the same
// public key exactly when their Materials are equal and not empty, whatever their keyids.
func (p *PreparedKey) Material() string { return p.der }

// Verify is Verify of the prepared record.
func (p *PreparedKey) Verify(data, sig []byte) error {
	if p.err != nil {
		return p.err
	}
	return verifyWith(p.key.Scheme, p.pub, data, sig, p.ID)
}

// verifyWith checks sig over data with pub under scheme; id names the key in a bad signature's error.
func verifyWith(scheme string, pub crypto.PublicKey, data, sig []byte, id func() string) error {
	switch p := pub.(type) {
	case ed25519.PublicKey:
		if scheme != SchemeED25519 {
			return fmt.Errorf("%w: scheme %q for an ed25519 key", ErrUnsupportedKey, scheme)
		}
		if !ed25519.Verify(p, data, sig) {
			return fmt.Errorf("%w: key %s", ErrBadSignature, short(id()))
		}
		return nil
	case *ecdsa.PublicKey:
		// The peers disagree when the label and the curve differ (a P-384 key labelled nistp256):
		// in-toto-golang hashes with SHA-384, in-toto-python with SHA-256. Both digests are of the same
		// data under the same key, so either signature is the key holder's.
		d, err := ecdsaDigests(scheme, p.Curve.Params().BitSize, data)
		if err != nil {
			return err
		}
		if !ecdsa.VerifyASN1(p, d.byCurve, sig) && !ecdsa.VerifyASN1(p, d.byScheme, sig) {
			return fmt.Errorf("%w: key %s", ErrBadSignature, short(id()))
		}
		return nil
	case *rsa.PublicKey:
		if scheme != SchemeRSAPSSSHA256 {
			return fmt.Errorf("%w: rsa scheme %q", ErrUnsupportedKey, scheme)
		}
		sum := sha256.Sum256(data)
		if err := rsa.VerifyPSS(p, crypto.SHA256, sum[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}); err != nil {
			return fmt.Errorf("%w: key %s", ErrBadSignature, short(id()))
		}
		return nil
	}
	return fmt.Errorf("%w: public key %T", ErrUnsupportedKey, pub)
}

// ecdsaHashes are the two digests an ECDSA signature of data may be over.
type ecdsaHashes struct {
	byCurve  []byte // by curve size: in-toto-golang (go-securesystemslib)
	byScheme []byte // by scheme label: in-toto-python (securesystemslib 0.26)
}

// ecdsaDigests hashes data for an ecdsa key both ways. Any ecdsa scheme label is accepted on any
// curve, since both peers label every ECDSA PEM key ecdsa-sha2-nistp256.
func ecdsaDigests(scheme string, bits int, data []byte) (ecdsaHashes, error) {
	var byScheme int
	switch scheme {
	case SchemeECDSAP224, SchemeECDSAP256:
		byScheme = 256 // python has no nistp224 hasher; its schema does not allow that label
	case SchemeECDSAP384:
		byScheme = 384
	case SchemeECDSAP521:
		byScheme = 521
	default:
		return ecdsaHashes{}, fmt.Errorf("%w: scheme %q for a %d-bit ecdsa key", ErrUnsupportedKey, scheme, bits)
	}
	return ecdsaHashes{byCurve: hashForBits(bits, data), byScheme: hashForBits(byScheme, data)}, nil
}

func hashForBits(bits int, data []byte) []byte {
	switch {
	case bits <= 256:
		s := sha256.Sum256(data)
		return s[:]
	case bits <= 384:
		s := sha512.Sum384(data)
		return s[:]
	default:
		s := sha512.Sum512(data)
		return s[:]
	}
}

// short is the first 8 hex digits of a keyid, as link file names use.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// ShortID is the first 8 hex digits of the keyid, as used in link file names.
func (k *Key) ShortID() string { return short(k.ID()) }

// CheckLayout checks what intoto.Layout.Validate leaves to this package: every key of the layout is a
// usable public key and is listed under its own keyid. Errors wrap intoto.ErrInvalid.
func CheckLayout(l *intoto.Layout) error {
	for id, k := range l.Keys {
		if k == nil {
			return fmt.Errorf("%w: layout key %s is null", intoto.ErrInvalid, id)
		}
		if _, err := publicKey(k); err != nil {
			return fmt.Errorf("%w: layout key %s: %w", intoto.ErrInvalid, short(id), err)
		}
		if got := ID(k); got != id {
			return fmt.Errorf("%w: layout key listed as %s has keyid %s", intoto.ErrInvalid, id, got)
		}
		if k.KeyID != "" && k.KeyID != id {
			return fmt.Errorf("%w: layout key %s carries keyid %s", intoto.ErrInvalid, id, k.KeyID)
		}
	}
	return nil
}

// ValidateLayout is l.Validate and CheckLayout: a layout's structure and its keys.
func ValidateLayout(l *intoto.Layout) error {
	if err := l.Validate(); err != nil {
		return err
	}
	return CheckLayout(l)
}
