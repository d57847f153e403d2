package layout

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// IsYAML tells a YAML layout (to compile) by its file name.
func IsYAML(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

// ReadYAML decodes and compiles a YAML layout file; key paths in it are relative to the file. Errors
// name the file.
func ReadYAML(path string) (*Document, *intoto.Layout, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	doc, err := Decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	l, err := Compile(doc, CompileOptions{BaseDir: filepath.Dir(path)})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc, l, nil
}

// ReadDocument reads a layout as a Document for Lint: a YAML one as written, a compiled one as ReadAny
// does.
func ReadDocument(path string) (*Document, error) {
	if !IsYAML(path) {
		l, err := ReadAny(path)
		if err != nil {
			return nil, err
		}
		return FromLayout(l), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc, nil
}

// ReadAny reads a compiled layout, bare or signed (legacy, DSSE, bundle), without checking signatures.
func ReadAny(path string) (*intoto.Layout, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	payload := data
	if s, err := envelope.Parse(data); err == nil {
		payload = s.Payload
	}
	l, err := intoto.DecodeLayout(payload)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// Encode is the unsigned layout file that layout build writes and layout sign signs.
func Encode(l *intoto.Layout) ([]byte, error) {
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode layout: %w", err)
	}
	return append(data, '\n'), nil
}

// SignerFunc reads the certificate identity of a Sigstore bundle without verifying it.
type SignerFunc func(bundle []byte) (*intoto.SignerIdentity, error)

// ReadEvidence reads every link in dir (not below it): its content, the keyids of its signatures, and
// for a Sigstore bundle the certificate identity (read by signer). Nothing is verified: this is for a
// proposal. Files that are not links are passed over; links that cannot be used (unsigned, an
// unreadable bundle) are listed in skipped with the reason.
func ReadEvidence(dir string, signer SignerFunc) (ev []*Evidence, skipped []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, ent := range entries {
		name := ent.Name()
		if !ent.Type().IsRegular() || !(strings.HasSuffix(name, ".link") || strings.HasSuffix(name, ".json")) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, nil, err
		}
		signed, err := envelope.Parse(data)
		if err != nil {
			continue // not in-toto metadata
		}
		l, err := wire.DecodeLinkPayload(signed.Payload)
		if err != nil {
			continue // a layout (sublayout) or another document
		}
		e := &Evidence{File: name, Link: l}
		if signed.Kind == envelope.Bundle {
			if e.Signer, err = signer(data); err != nil {
				skipped = append(skipped, fmt.Sprintf("%s: %v", name, err))
				continue
			}
		} else {
			for _, s := range signed.Signatures {
				if s.KeyID != "" {
					e.KeyIDs = append(e.KeyIDs, s.KeyID)
				}
			}
			if len(e.KeyIDs) == 0 {
				skipped = append(skipped, name+": unsigned")
				continue
			}
		}
		ev = append(ev, e)
	}
	return ev, skipped, nil
}

// KeyFile is a functionary's public key and the file it was read from.
type KeyFile struct {
	Path string
	Key  *keys.Key
}

// KeyRefs names functionary keys for a proposal written to out ("-" for stdout), keyed by key ID: each
// after its file (alice.pub is alice), its path relative to out's directory when both paths are
// relative or both absolute, else absolute; with stdout, as given.
func KeyRefs(keys []KeyFile, out string) map[string]KeyRef {
	refs := map[string]KeyRef{}
	for _, k := range keys {
		rel := k.Path
		if out != "-" {
			if r, err := filepath.Rel(filepath.Dir(out), k.Path); err == nil && !filepath.IsAbs(k.Path) == !filepath.IsAbs(out) {
				rel = r
			} else if abs, err := filepath.Abs(k.Path); err == nil {
				rel = abs
			}
		}
		name := strings.TrimSuffix(filepath.Base(k.Path), filepath.Ext(k.Path))
		refs[k.Key.ID()] = KeyRef{Name: name, Path: filepath.ToSlash(rel)}
	}
	return refs
}

// UnfilledKeys lists, by functionary name, the placeholder key paths (keys/…) of a proposal that no
// given key filled in.
func UnfilledKeys(doc *Document, refs map[string]KeyRef) map[string]string {
	out := map[string]string{}
	for name, f := range doc.Functionaries {
		if f.Key == "" || !strings.HasPrefix(f.Key, "keys/") {
			continue
		}
		given := false
		for _, r := range refs {
			given = given || r.Path == f.Key
		}
		if !given {
			out[name] = f.Key
		}
	}
	return out
}
