package oci

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
)

// Artifact types of the referrers intoto-ci attaches. Sigstore bundles carry the type cosign and other
// Sigstore clients list and read; key-signed files carry intoto-ci's own types.
const (
	ArtifactTypeBundle = "application/vnd.dev.sigstore.bundle.v0.3+json"
	ArtifactTypeLink   = "application/vnd.intoto-ci.link.v1+json"
	ArtifactTypeLayout = "application/vnd.intoto-ci.layout.v1+json"
	ArtifactTypeVSA    = "application/vnd.intoto-ci.vsa.v1+json"
)

// Annotations on each attached artifact manifest. They route files on the way back; they are not
// trusted (the verify pipeline checks every signature).
const (
	AnnotationKind          = "dev.intoto-ci.kind"
	AnnotationTitle         = "org.opencontainers.image.title"
	AnnotationPredicateType = "dev.sigstore.bundle.predicateType"
	AnnotationContent       = "dev.sigstore.bundle.content"
)

// LinkPredicateType is the predicate type of an in-toto link statement.
const LinkPredicateType = "https://in-toto.io/attestation/link/v0.3"

// Limits of what a Client reads for one image.
const (
	// MaxFileSize bounds one fetched file (the verify pipeline's default file limit).
	MaxFileSize = 64 << 20
	// MaxTotalSize bounds all files fetched for one image.
	MaxTotalSize = 1 << 30
	// MaxReferrers bounds the referrers listed for one image.
	MaxReferrers = 10000
)

// Kind says what an attached file is.
type Kind string

// The kinds of files in a chain.
const (
	KindLink   Kind = "link"
	KindLayout Kind = "layout"
	KindVSA    Kind = "vsa"
)

// File is one file of a chain as attached or fetched.
type File struct {
	// Name is the file's base name (the title annotation; made safe on fetch).
	Name string
	Kind Kind
	Data []byte
	// Bundle is true for a Sigstore bundle, false for a key-signed envelope.
	Bundle bool
	// PredicateType is the in-toto predicate type a bundle carries.
	PredicateType string
}

// Image is a resolved image.
type Image struct {
	// Ref is REPOSITORY@DIGEST.
	Ref string
	// Registry is the registry's host[:port].
	Registry string
	// Digest (algorithm:hex), MediaType and Size describe the image manifest: the subject of referrers.
	Digest    string
	MediaType string
	Size      int64
	// FromTag is the tag the user named, when the reference was not by digest.
	FromTag string
}

// Pushed is one attached file.
type Pushed struct {
	File string
	// Digest is the artifact manifest's digest.
	Digest string
}

// Fetched is what an image's referrers hold of a chain. Everything in it is untrusted.
type Fetched struct {
	Files []File
	// Skipped notes each referrer that is not part of an in-toto chain, and why.
	Skipped []string
}

// Client talks to registries.
type Client interface {
	// Resolve parses ref and looks its manifest up. A tag is resolved to the digest it names now.
	Resolve(ctx context.Context, ref string) (*Image, error)
	// Attach pushes each file as a referrer of img, in order; the first failure stops.
	Attach(ctx context.Context, img *Image, files []File) ([]Pushed, error)
	// Fetch lists img's referrers and downloads the ones that belong to a chain.
	Fetch(ctx context.Context, img *Image) (*Fetched, error)
}

// ErrReference marks an image reference that does not parse.
var ErrReference = errors.New("invalid image reference")

// RegistryError is a failure to talk to a registry (exit 3 in the CLI); it names the registry.
type RegistryError struct {
	Registry string
	Err      error
}

func (e *RegistryError) Error() string { return fmt.Sprintf("registry %s: %v", e.Registry, e.Err) }
func (e *RegistryError) Unwrap() error { return e.Err }

// ReadFile reads a chain file to attach, named after its base name. A Sigstore bundle is marked as one
// and carries predicateType (what clients that list bundles read); a key-signed envelope carries
// intoto-ci's own artifact type.
func ReadFile(path string, kind Kind, predicateType string) (File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return File{}, err
	}
	file := File{Name: filepath.Base(path), Kind: kind, Data: data}
	if s, err := envelope.Parse(data); err == nil && s.Kind == envelope.Bundle {
		file.Bundle = true
		file.PredicateType = predicateType
	}
	return file, nil
}

// WriteChain writes the fetched links and layouts under dir, in two directories of their own so that
// no fetched name can clash with the other's, and returns the links directory, the layout files and
// how many links it wrote. Other files (a VSA attached before) are not inputs of a verification and
// are left out.
func (f *Fetched) WriteChain(dir string) (links string, layouts []string, nlinks int, err error) {
	links, layoutDir := filepath.Join(dir, "links"), filepath.Join(dir, "layouts")
	for _, d := range []string{links, layoutDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return "", nil, 0, err
		}
	}
	for _, file := range f.Files {
		var target string
		switch file.Kind {
		case KindLink:
			target = filepath.Join(links, file.Name)
			nlinks++
		case KindLayout:
			target = filepath.Join(layoutDir, file.Name)
			layouts = append(layouts, target)
		default:
			continue
		}
		if err := os.WriteFile(target, file.Data, 0o600); err != nil {
			return "", nil, 0, err
		}
	}
	return links, layouts, nlinks, nil
}
