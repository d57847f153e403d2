package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
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
	annotationContent       = "dev.sigstore.bundle.content"
)

const (
	emptyMediaType = "application/vnd.oci.empty.v1+json"
	dsseMediaType  = "application/vnd.dsse.envelope.v1+json"
	// MaxFileSize bounds one fetched referrer blob (the verify pipeline's default file limit).
	MaxFileSize = 64 << 20
	// MaxReferrers bounds the referrers read for one image.
	MaxReferrers = 10000
)

var emptyJSON = []byte("{}")

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
	// Name is the file's base name (the title annotation; sanitised on fetch).
	Name string
	Kind Kind
	Data []byte
	// Bundle is true for a Sigstore bundle, false for a key-signed envelope.
	Bundle bool
	// PredicateType is the in-toto predicate type a bundle carries (annotation only).
	PredicateType string
}

// Options configure registry access.
type Options struct {
	// Keychain resolves credentials; nil means anonymous.
	Keychain authn.Keychain
	// Transport is the HTTP transport (nil: ggcr's default).
	Transport http.RoundTripper
	// UserAgent is sent with every request.
	UserAgent string
}

func (o Options) remote(ctx context.Context) []remote.Option {
	kc := o.Keychain
	if kc == nil {
		kc = authn.NewMultiKeychain()
	}
	ro := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc)}
	if o.Transport != nil {
		ro = append(ro, remote.WithTransport(o.Transport))
	}
	if o.UserAgent != "" {
		ro = append(ro, remote.WithUserAgent(o.UserAgent))
	}
	return ro
}

// RegistryError is a failure to talk to a registry (exit 3 in the CLI); it names the registry.
type RegistryError struct {
	Registry string
	Err      error
}

func (e *RegistryError) Error() string { return fmt.Sprintf("registry %s: %v", e.Registry, e.Err) }
func (e *RegistryError) Unwrap() error { return e.Err }

func registryErr(reg string, err error) error {
	if err == nil {
		return nil
	}
	return &RegistryError{Registry: reg, Err: err}
}

// ErrReference marks an image reference that does not parse.
var ErrReference = errors.New("invalid image reference")

// Image is a resolved image: its digest reference and its manifest descriptor.
type Image struct {
	Ref name.Digest
	// Desc is the subject descriptor referrers point at.
	Desc v1.Descriptor
	// FromTag is the tag the user named, when the reference was not by digest.
	FromTag string
}

// Resolve parses ref and asks the registry for its manifest descriptor. A tag is resolved to the
// digest it names now (the caller warns that tags move); a digest must exist in the registry.
func Resolve(ctx context.Context, ref string, o Options) (*Image, error) {
	r, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrReference, ref, err)
	}
	desc, err := remote.Head(r, o.remote(ctx)...)
	if err != nil {
		return nil, registryErr(r.Context().RegistryStr(), fmt.Errorf("resolve %s: %w", ref, err))
	}
	img := &Image{Ref: r.Context().Digest(desc.Digest.String()), Desc: v1.Descriptor{
		MediaType: desc.MediaType, Size: desc.Size, Digest: desc.Digest}}
	if d, ok := r.(name.Digest); ok {
		if d.DigestStr() != desc.Digest.String() {
			return nil, registryErr(r.Context().RegistryStr(),
				fmt.Errorf("resolve %s: registry answered digest %s", ref, desc.Digest))
		}
	} else {
		img.FromTag = r.Identifier()
	}
	return img, nil
}

// Pushed is one attached referrer.
type Pushed struct {
	File   string
	Digest string
}

// Attach pushes each file as a referrer of img. Files are pushed in order; the first failure stops.
func Attach(ctx context.Context, img *Image, files []File, o Options) ([]Pushed, error) {
	var out []Pushed
	for _, f := range files {
		a, err := newArtifact(img.Desc, f)
		if err != nil {
			return out, err
		}
		d, err := a.digest()
		if err != nil {
			return out, err
		}
		pi, err := partial.CompressedToImage(a)
		if err != nil {
			return out, err
		}
		ref := img.Ref.Context().Digest(d.String())
		if err := remote.Write(ref, pi, o.remote(ctx)...); err != nil {
			return out, registryErr(img.Ref.Context().RegistryStr(), fmt.Errorf("push %s: %w", f.Name, err))
		}
		out = append(out, Pushed{File: f.Name, Digest: d.String()})
	}
	return out, nil
}

// artifact is an OCI 1.1 artifact manifest: an empty config, one blob (the file), a subject.
type artifact struct {
	manifest []byte
	layer    v1.Layer
	layerDig v1.Hash
}

func newArtifact(subject v1.Descriptor, f File) (*artifact, error) {
	at, mt := artifactTypes(f)
	layer := static.NewLayer(f.Data, types.MediaType(mt))
	ld, err := layer.Digest()
	if err != nil {
		return nil, err
	}
	cd, cs, err := v1.SHA256(bytes.NewReader(emptyJSON))
	if err != nil {
		return nil, err
	}
	ann := map[string]string{AnnotationKind: string(f.Kind), AnnotationTitle: f.Name}
	if f.Bundle {
		ann[annotationContent] = "dsse-envelope"
		if f.PredicateType != "" {
			ann[AnnotationPredicateType] = f.PredicateType
		}
	}
	sub := subject
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  at,
		Config:        v1.Descriptor{MediaType: emptyMediaType, Size: cs, Digest: cd, Data: emptyJSON},
		Layers: []v1.Descriptor{{MediaType: types.MediaType(mt), Size: int64(len(f.Data)), Digest: ld,
			Annotations: map[string]string{AnnotationTitle: f.Name}}},
		Annotations: ann,
		Subject:     &sub,
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return &artifact{manifest: raw, layer: layer, layerDig: ld}, nil
}

func artifactTypes(f File) (artifactType, mediaType string) {
	if f.Bundle {
		return ArtifactTypeBundle, ArtifactTypeBundle
	}
	mt := "application/json"
	if isDSSE(f.Data) {
		mt = dsseMediaType
	}
	switch f.Kind {
	case KindLayout:
		return ArtifactTypeLayout, mt
	case KindVSA:
		return ArtifactTypeVSA, mt
	}
	return ArtifactTypeLink, mt
}

func isDSSE(data []byte) bool {
	var probe struct {
		PayloadType *string `json:"payloadType"`
	}
	return json.Unmarshal(data, &probe) == nil && probe.PayloadType != nil
}

func (a *artifact) digest() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(a.manifest))
	return h, err
}

func (a *artifact) RawConfigFile() ([]byte, error)      { return emptyJSON, nil }
func (a *artifact) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (a *artifact) RawManifest() ([]byte, error)        { return a.manifest, nil }

func (a *artifact) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == a.layerDig {
		return a.layer, nil
	}
	if cd, _, err := v1.SHA256(bytes.NewReader(emptyJSON)); err == nil && h == cd {
		return static.NewLayer(emptyJSON, emptyMediaType), nil
	}
	return nil, fmt.Errorf("artifact has no blob %s", h)
}
