package keys

import (
	"fmt"
	"os"
)

// LoadSigning loads the private key in the file path to sign with (password for an encrypted one, ""
// for none); a public key is refused, naming the file.
func LoadSigning(path, password string) (*Key, error) {
	k, err := LoadWithPassword(path, passwordBytes(password))
	if err != nil {
		return nil, err
	}
	if !k.HasPrivate() {
		return nil, fmt.Errorf("key %s: a private key is needed to sign, this is a public key", path)
	}
	return k, nil
}

// ParseSigning parses a private key to sign with from data held outside a file, e.g. a CI secret in
// an environment variable; source names it in errors ("key in $VAR"), which never quote data.
func ParseSigning(data []byte, source, password string) (*Key, error) {
	k, err := Parse(data, passwordBytes(password))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if !k.HasPrivate() {
		return nil, fmt.Errorf("%s: a private key is needed to sign, this is a public key", source)
	}
	return k, nil
}

func passwordBytes(password string) []byte {
	if password == "" {
		return nil
	}
	return []byte(password)
}

// ExistsError is a key file WritePair would overwrite without force.
type ExistsError struct{ Path string }

func (e *ExistsError) Error() string { return e.Path + " exists" }

// WritePair writes the key pair: the private key (PEM, PKCS#8) to prefix, mode 0600, and the public key
// to prefix.pub, each through write (an atomic writer). Without force an existing file of either
// name is an *ExistsError and nothing is written.
func (k *Key) WritePair(prefix string, force bool, write func(path string, data []byte) error) error {
	priv, err := k.PrivatePEM()
	if err != nil {
		return err
	}
	pub, err := k.PublicPEM()
	if err != nil {
		return err
	}
	if !force {
		for _, p := range []string{prefix, prefix + ".pub"} {
			if _, err := os.Stat(p); err == nil {
				return &ExistsError{p}
			}
		}
	}
	if err := write(prefix+".pub", pub); err != nil {
		return err
	}
	if err := write(prefix, priv); err != nil {
		return err
	}
	if err := os.Chmod(prefix, 0o600); err != nil {
		return fmt.Errorf("protect %s: %w", prefix, err)
	}
	return nil
}
