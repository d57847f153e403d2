package keys

import "fmt"

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
