package ggcr

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/intoto-ci/intoto-ci/internal/oci"
)

const (
	emptyMediaType = "application/vnd.oci.empty.v1+json"
	dsseMediaType  = "application/vnd.dsse.envelope.v1+json"
)

var emptyJSON = []byte("{}")

// Options configure registry access.
type Options struct {
	// Keychain resolves credentials; nil means anonymous.
	Keychain authn.Keychain
	// Transport is the HTTP transport (nil: ggcr's default).
	Transport http.RoundTripper
	// UserAgent is sent with every request.
	UserAgent string
}

// Client implements oci.Client with go-containerregistry.
type Client struct{ opts Options }

// New returns a Client.
func New(o Options) *Client { return &Client{opts: o} }

var _ oci.Client = (*Client)(nil)

func (c *Client) remote(ctx context.Context) []remote.Option {
	kc := c.opts.Keychain
	if kc == nil {
		kc = authn.NewMultiKeychain()
	}
	ro := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc)}
	if c.opts.Transport != nil {
		ro = append(ro, remote.WithTransport(c.opts.Transport))
	}
	if c.opts.UserAgent != "" {
		ro = append(ro, remote.WithUserAgent(c.opts.UserAgent))
	}
	return ro
}

func registryErr(reg string, err error) error {
	if err == nil {
		return nil
	}
	return &oci.RegistryError{Registry: reg, Err: err}
}

// Resolve parses ref and asks the registry for its manifest descriptor. A tag is resolved to the
// digest it names now (the caller warns that tags move); a digest must exist in the registry.
func (c *Client) Resolve(ctx context.Context, ref string) (*oci.Image, error) {
	r, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", oci.ErrReference, ref, err)
	}
	reg := r.Context().RegistryStr()
	desc, err := remote.Head(r, c.remote(ctx)...)
	if err != nil {
		return nil, registryErr(reg, fmt.Errorf("resolve %s: %w", ref, err))
	}
	img := &oci.Image{Ref: r.Context().Digest(desc.Digest.String()).String(), Registry: reg,
		Digest: desc.Digest.String(), MediaType: string(desc.MediaType), Size: desc.Size}
	if d, ok := r.(name.Digest); ok {
		if d.DigestStr() != desc.Digest.String() {
			return nil, registryErr(reg, fmt.Errorf("resolve %s: registry answered digest %s", ref, desc.Digest))
		}
	} else {
		img.FromTag = r.Identifier()
	}
	return img, nil
}

// subject returns img's digest reference and its descriptor.
func subject(img *oci.Image) (name.Digest, v1.Descriptor, error) {
	d, err := name.NewDigest(img.Ref, name.StrictValidation)
	if err != nil {
		return name.Digest{}, v1.Descriptor{}, fmt.Errorf("%w %q: %w", oci.ErrReference, img.Ref, err)
	}
	h, err := v1.NewHash(img.Digest)
	if err != nil {
		return name.Digest{}, v1.Descriptor{}, fmt.Errorf("%w %q: %w", oci.ErrReference, img.Ref, err)
	}
	return d, v1.Descriptor{MediaType: types.MediaType(img.MediaType), Size: img.Size, Digest: h}, nil
}

// Attach pushes each file as a referrer of img. Files are pushed in order; the first failure stops.
func (c *Client) Attach(ctx context.Context, img *oci.Image, files []oci.File) ([]oci.Pushed, error) {
	sub, desc, err := subject(img)
	if err != nil {
		return nil, err
	}
	// One pusher for all files: one authentication and one connection pool per attach.
	p, err := remote.NewPusher(c.remote(ctx)...)
	if err != nil {
		return nil, err
	}
	ro := append(c.remote(ctx), remote.Reuse(p))
	var out []oci.Pushed
	for _, f := range files {
		a, err := newArtifact(desc, f)
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
		ref := sub.Context().Digest(d.String())
		if err := remote.Write(ref, pi, ro...); err != nil {
			return out, registryErr(img.Registry, fmt.Errorf("push %s: %w", f.Name, err))
		}
		out = append(out, oci.Pushed{File: f.Name, Digest: d.String()})
	}
	return out, nil
}

// artifact is an OCI 1.1 artifact manifest: an empty config, one blob (the file), a subject.
type artifact struct {
	manifest []byte
	layer    v1.Layer
	layerDig v1.Hash
}

func newArtifact(subject v1.Descriptor, f oci.File) (*artifact, error) {
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
	ann := map[string]string{oci.AnnotationKind: string(f.Kind), oci.AnnotationTitle: f.Name}
	if f.Bundle {
		ann[oci.AnnotationContent] = "dsse-envelope"
		if f.PredicateType != "" {
			ann[oci.AnnotationPredicateType] = f.PredicateType
		}
	}
	sub := subject
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  at,
		Config:        v1.Descriptor{MediaType: emptyMediaType, Size: cs, Digest: cd, Data: emptyJSON},
		Layers: []v1.Descriptor{{MediaType: types.MediaType(mt), Size: int64(len(f.Data)), Digest: ld,
			Annotations: map[string]string{oci.AnnotationTitle: f.Name}}},
		Annotations: ann,
		Subject:     &sub,
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return &artifact{manifest: raw, layer: layer, layerDig: ld}, nil
}

func artifactTypes(f oci.File) (artifactType, mediaType string) {
	if f.Bundle {
		return oci.ArtifactTypeBundle, oci.ArtifactTypeBundle
	}
	mt := "application/json"
	if isDSSE(f.Data) {
		mt = dsseMediaType
	}
	switch f.Kind {
	case oci.KindLayout:
		return oci.ArtifactTypeLayout, mt
	case oci.KindVSA:
		return oci.ArtifactTypeVSA, mt
	}
	return oci.ArtifactTypeLink, mt
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
