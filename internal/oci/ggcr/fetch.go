package ggcr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/intoto-ci/intoto-ci/internal/oci"
)

// Fetch lists img's referrers (the referrers API, or the tag schema where the registry lacks it) and
// downloads the ones intoto-ci attached: links, layouts and VSAs. Others are skipped with a note.
func (c *Client) Fetch(ctx context.Context, img *oci.Image) (*oci.Fetched, error) {
	sub, desc, err := subject(img)
	if err != nil {
		return nil, err
	}
	reg := img.Registry
	// One puller for the listing and every file: one authentication and one connection pool.
	p, err := remote.NewPuller(c.remote(ctx)...)
	if err != nil {
		return nil, err
	}
	ro := append(c.remote(ctx), remote.Reuse(p))
	idx, err := remote.Referrers(sub, ro...)
	if err != nil {
		return nil, registryErr(reg, fmt.Errorf("list referrers of %s: %w", img.Ref, err))
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, registryErr(reg, fmt.Errorf("list referrers of %s: %w", img.Ref, err))
	}
	if len(im.Manifests) > oci.MaxReferrers {
		return nil, registryErr(reg, fmt.Errorf("%s has %d referrers, more than %d", sub, len(im.Manifests), oci.MaxReferrers))
	}
	out := &oci.Fetched{}
	names := map[string]bool{}
	var total int64
	for _, d := range im.Manifests {
		// Some registries list an artifact by its config media type (the empty one here) instead of its
		// artifactType: those are looked at; anything else that is not ours is passed over unread.
		if !ours(d.ArtifactType) && d.ArtifactType != emptyMediaType && d.ArtifactType != "" {
			out.Skipped = append(out.Skipped, fmt.Sprintf("referrer %s: artifact type %q is not part of an in-toto chain", d.Digest, d.ArtifactType))
			continue
		}
		f, note, err := fetchOne(sub, desc.Digest, d, ro)
		if err != nil {
			return nil, registryErr(reg, err)
		}
		if note != "" {
			out.Skipped = append(out.Skipped, fmt.Sprintf("referrer %s: %s", d.Digest, note))
			continue
		}
		f.Name = uniqueName(f.Name, d.Digest, f.Kind, names)
		if total += int64(len(f.Data)); total > oci.MaxTotalSize {
			return nil, registryErr(reg, fmt.Errorf("referrers of %s hold more than %d bytes", sub, int64(oci.MaxTotalSize)))
		}
		out.Files = append(out.Files, *f)
	}
	return out, nil
}

// fetchOne downloads one referrer. A referrer that is not what its listing says is skipped with a
// note; a registry failure is an error.
func fetchOne(sub name.Digest, want v1.Hash, d v1.Descriptor, ro []remote.Option) (*oci.File, string, error) {
	ref := sub.Context().Digest(d.Digest.String())
	desc, err := remote.Get(ref, ro...)
	if notFound(err) {
		// Listed by a tag-schema index but deleted since: verification goes on without it.
		return nil, "listed but not in the registry", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("fetch referrer %s: %w", d.Digest, err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		return nil, "not an OCI manifest", nil
	}
	// The tag schema is an ordinary tag anyone with push access can edit: keep only manifests that
	// really name this image as their subject.
	if m.Subject == nil || m.Subject.Digest != want {
		return nil, "its subject is not " + want.String(), nil
	}
	if !ours(m.ArtifactType) {
		return nil, fmt.Sprintf("artifact type %q is not part of an in-toto chain", m.ArtifactType), nil
	}
	if ours(d.ArtifactType) && m.ArtifactType != d.ArtifactType {
		return nil, fmt.Sprintf("listed as %q but its manifest says %q", d.ArtifactType, m.ArtifactType), nil
	}
	if len(m.Layers) != 1 {
		return nil, "not an artifact manifest with one file", nil
	}
	l := m.Layers[0]
	if l.Size < 0 || l.Size > oci.MaxFileSize {
		return nil, fmt.Sprintf("file of %d bytes exceeds %d", l.Size, oci.MaxFileSize), nil
	}
	layer, err := remote.Layer(sub.Context().Digest(l.Digest.String()), ro...)
	if err != nil {
		return nil, "", fmt.Errorf("fetch referrer %s: %w", d.Digest, err)
	}
	rc, err := layer.Compressed() // ggcr checks the blob against its digest while reading
	if err != nil {
		return nil, "", fmt.Errorf("fetch referrer %s: %w", d.Digest, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, l.Size+1))
	if err != nil {
		return nil, "", fmt.Errorf("fetch referrer %s: %w", d.Digest, err)
	}
	if int64(len(data)) != l.Size {
		return nil, "", fmt.Errorf("fetch referrer %s: blob is %d bytes, manifest says %d", d.Digest, len(data), l.Size)
	}
	f := &oci.File{Name: m.Annotations[oci.AnnotationTitle], Kind: oci.Kind(m.Annotations[oci.AnnotationKind]), Data: data,
		Bundle: m.ArtifactType == oci.ArtifactTypeBundle, PredicateType: m.Annotations[oci.AnnotationPredicateType]}
	switch m.ArtifactType {
	case oci.ArtifactTypeLayout:
		f.Kind = oci.KindLayout
	case oci.ArtifactTypeVSA:
		f.Kind = oci.KindVSA
	case oci.ArtifactTypeLink:
		f.Kind = oci.KindLink
	default: // a bundle: a link unless it says it is a VSA; other attestations are not ours
		switch {
		case f.Kind == oci.KindVSA:
		case f.PredicateType == "" || f.PredicateType == oci.LinkPredicateType:
			f.Kind = oci.KindLink
		default:
			return nil, fmt.Sprintf("Sigstore bundle of predicate type %q is not an in-toto link", f.PredicateType), nil
		}
	}
	return f, "", nil
}

// ours tells whether an artifact type is one intoto-ci attaches.
func ours(artifactType string) bool {
	switch artifactType {
	case oci.ArtifactTypeBundle, oci.ArtifactTypeLink, oci.ArtifactTypeLayout, oci.ArtifactTypeVSA:
		return true
	}
	return false
}

func notFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}

// safeName tells whether n is a plain file name: 1 to 200 of [A-Za-z0-9._-], not starting with a dot
// or dash.
func safeName(n string) bool {
	if n == "" || len(n) > 200 || n[0] == '.' || n[0] == '-' {
		return false
	}
	for _, c := range []byte(n) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// uniqueName returns a safe local file name for a fetched file: its title when that is a plain base
// name not used yet, else one made from the manifest digest. Link names keep a ".link" so the verify
// pipeline reports files it cannot read rather than passing over them.
func uniqueName(title string, d v1.Hash, k oci.Kind, used map[string]bool) string {
	n := title
	if !safeName(n) || used[n] {
		n = fmt.Sprintf("referrer-%s", d.Hex[:16])
		switch {
		case k == oci.KindLink && strings.HasSuffix(title, ".sigstore.json"):
			n += ".link.sigstore.json"
		case k == oci.KindLink:
			n += ".link"
		default:
			n += ".json"
		}
	}
	used[n] = true
	return n
}
