package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
)

// ErrWrongPassword is returned when an encrypted key does not decrypt with the given password.
var ErrWrongPassword = errors.New("wrong password or corrupt encrypted key")

// maxPBEIterations bounds the work an (untrusted) key file can ask for.
const maxPBEIterations = 2_000_000

var (
	oidPBEWithMD5AndDES  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 3}
	oidPBEWithSHA1AndDES = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 10}
	oidPBES2             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA1          = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA256        = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384        = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512        = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESCBC            = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 7}
	oidDESEDE3CBC        = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

type encryptedPrivateKeyInfo struct {
	Algo          algorithmIdentifier
	EncryptedData []byte
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type pbes1Params struct {
	Salt       []byte
	Iterations int
}

type pbes2Params struct {
	KDF    algorithmIdentifier
	Cipher algorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                 `asn1:"optional"`
	PRF        algorithmIdentifier `asn1:"optional"`
}

// decryptPKCS8 decrypts an "ENCRYPTED PRIVATE KEY" (RFC 8018): PBES2 with PBKDF2 and AES-CBC or
// (3)DES-CBC, or the legacy PBES1 schemes with MD5/SHA-1 and DES-CBC that securesystemslib's old
// key files use. It returns the DER of the PKCS#8 PrivateKeyInfo.
func decryptPKCS8(der, password []byte) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("parse encrypted private key: malformed asn.1")
	}
	var (
		block cipher.Block
		iv    []byte
	)
	switch {
	case info.Algo.Algorithm.Equal(oidPBEWithMD5AndDES), info.Algo.Algorithm.Equal(oidPBEWithSHA1AndDES):
		var p pbes1Params
		if _, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &p); err != nil {
			return nil, fmt.Errorf("parse pbes1 parameters: %w", err)
		}
		if p.Iterations < 1 || p.Iterations > maxPBEIterations || len(p.Salt) != 8 {
			return nil, errors.New("pbes1 parameters out of range")
		}
		h := md5.New
		if info.Algo.Algorithm.Equal(oidPBEWithSHA1AndDES) {
			h = sha1.New
		}
		dk := pbkdf1(h, password, p.Salt, p.Iterations)
		b, err := des.NewCipher(dk[:8])
		if err != nil {
			return nil, fmt.Errorf("des: %w", err)
		}
		block, iv = b, dk[8:16]
	case info.Algo.Algorithm.Equal(oidPBES2):
		b, v, err := pbes2Cipher(info.Algo.Parameters.FullBytes, password)
		if err != nil {
			return nil, err
		}
		block, iv = b, v
	default:
		return nil, fmt.Errorf("%w: key encryption algorithm %s", ErrUnsupportedKey, info.Algo.Algorithm)
	}
	data := info.EncryptedData
	bs := block.BlockSize()
	if len(data) == 0 || len(data)%bs != 0 || len(iv) != bs {
		return nil, ErrWrongPassword
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, data)
	pad := int(out[len(out)-1])
	if pad < 1 || pad > bs {
		return nil, ErrWrongPassword
	}
	for _, c := range out[len(out)-pad:] {
		if int(c) != pad {
			return nil, ErrWrongPassword
		}
	}
	out = out[:len(out)-pad]
	var probe asn1.RawValue
	if _, err := asn1.Unmarshal(out, &probe); err != nil {
		return nil, ErrWrongPassword
	}
	return out, nil
}

// pbkdf1 is RFC 8018 PBKDF1: T = H^c(P || S), returning the full digest (callers take key and IV).
func pbkdf1(h func() hash.Hash, password, salt []byte, iter int) []byte {
	d := h()
	d.Write(password)
	d.Write(salt)
	t := d.Sum(nil)
	for i := 1; i < iter; i++ {
		d.Reset()
		d.Write(t)
		t = d.Sum(t[:0])
	}
	return t
}

func pbes2Cipher(params, password []byte) (cipher.Block, []byte, error) {
	var p pbes2Params
	if _, err := asn1.Unmarshal(params, &p); err != nil {
		return nil, nil, fmt.Errorf("parse pbes2 parameters: %w", err)
	}
	if !p.KDF.Algorithm.Equal(oidPBKDF2) {
		return nil, nil, fmt.Errorf("%w: key derivation %s", ErrUnsupportedKey, p.KDF.Algorithm)
	}
	var kp pbkdf2Params
	if _, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &kp); err != nil {
		return nil, nil, fmt.Errorf("parse pbkdf2 parameters: %w", err)
	}
	if kp.Iterations < 1 || kp.Iterations > maxPBEIterations {
		return nil, nil, errors.New("pbkdf2 iteration count out of range")
	}
	prf := sha1.New
	switch {
	case kp.PRF.Algorithm == nil, kp.PRF.Algorithm.Equal(oidHMACSHA1):
	case kp.PRF.Algorithm.Equal(oidHMACSHA256):
		prf = sha256.New
	case kp.PRF.Algorithm.Equal(oidHMACSHA384):
		prf = sha512.New384
	case kp.PRF.Algorithm.Equal(oidHMACSHA512):
		prf = sha512.New
	default:
		return nil, nil, fmt.Errorf("%w: pbkdf2 prf %s", ErrUnsupportedKey, kp.PRF.Algorithm)
	}
	var keyLen int
	var newCipher func([]byte) (cipher.Block, error)
	switch c := p.Cipher.Algorithm; {
	case c.Equal(oidAES128CBC):
		keyLen, newCipher = 16, aes.NewCipher
	case c.Equal(oidAES192CBC):
		keyLen, newCipher = 24, aes.NewCipher
	case c.Equal(oidAES256CBC):
		keyLen, newCipher = 32, aes.NewCipher
	case c.Equal(oidDESCBC):
		keyLen, newCipher = 8, des.NewCipher
	case c.Equal(oidDESEDE3CBC):
		keyLen, newCipher = 24, des.NewTripleDESCipher
	default:
		return nil, nil, fmt.Errorf("%w: key cipher %s", ErrUnsupportedKey, c)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(p.Cipher.Parameters.FullBytes, &iv); err != nil {
		return nil, nil, fmt.Errorf("parse cipher iv: %w", err)
	}
	dk, err := pbkdf2.Key(prf, string(password), kp.Salt, kp.Iterations, keyLen)
	if err != nil {
		return nil, nil, fmt.Errorf("pbkdf2: %w", err)
	}
	b, err := newCipher(dk)
	if err != nil {
		return nil, nil, fmt.Errorf("key cipher: %w", err)
	}
	return b, iv, nil
}
