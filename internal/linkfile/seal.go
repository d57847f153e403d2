package linkfile

import (
	"fmt"
	"path/filepath"
	"runtime/debug"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// bigLinkArtifacts is how many artifacts make a link big enough (some 6 MB of JSON) that its writing
// hands the garbage of the recording back to the system before allocating the link's encoding.
const bigLinkArtifacts = 1 << 16

// writeKeyLink signs link with the signer's keys into an envelope and streams it into dir under its
// conventional name. The v0.9 link or the Statement (--format statement) is encoded straight from its
// artifact sets.
//
// Memory, for a link of a million artifacts (issue 8: no more than twice the file's size): the payload
// is encoded once, into a buffer of exactly its size that leaves room in front for the DSSE PAE
// header, so the message signed is that buffer and not a copy; the envelope's base64 (4/3 the
// payload) is streamed into the file rather than built; and nothing refers to the link (nor its
// artifact sets) once it is encoded, so they are garbage from then on.
func (s *Signer) writeKeyLink(dir string, link *intoto.Link) (string, error) {
	path := filepath.Join(dir, intoto.LinkFileName(link.Name, s.keys[0].ID()))
	sealed, err := s.sealKeyLink(link)
	if err != nil {
		return "", err
	}
	return path, WriteFileFrom(path, sealed)
}

func (s *Signer) sealKeyLink(link *intoto.Link) (*envelope.Sealed, error) {
	legacy, statement := s.flags.envelope == "legacy", s.flags.format == "statement"
	name := link.Name
	release := releaser(link)
	release()
	if legacy && statement {
		// A Statement in a legacy envelope (which the flags refuse): sealed by the generic sealer.
		payload, err := wire.MarshalStatement(link)
		if err != nil {
			return nil, fmt.Errorf("encode link: %w", err)
		}
		sealed, err := envelope.SealLegacy(payload, s.keys...)
		if err != nil {
			return nil, fmt.Errorf("sign link %s: %w", name, err)
		}
		return sealed, nil
	}
	if legacy {
		// The signatures cover the canonical JSON and the file holds the JSON: each is as large as the
		// link, so the first is signed and let go before the second is made.
		canon, err := wire.AppendLinkCanonical(nil, link)
		if err != nil {
			return nil, fmt.Errorf("encode link: %w", err)
		}
		sigs, err := envelope.SignCanonical(canon, s.keys...)
		if err != nil {
			return nil, fmt.Errorf("sign link %s: %w", name, err)
		}
		release() // canon's pages
		payload, err := wire.AppendLinkJSON(nil, link)
		if err != nil {
			return nil, fmt.Errorf("encode link: %w", err)
		}
		return sigs.Seal(payload), nil
	}
	// Room in front of the payload for the PAE header: the message signed is the buffer itself.
	room := envelope.PAERoom(intoto.PayloadType)
	encode := wire.AppendLinkJSON
	if statement {
		encode = wire.AppendStatement
	}
	buf, err := encode(make([]byte, room), link)
	if err != nil {
		return nil, fmt.Errorf("encode link: %w", err)
	}
	sealed, err := envelope.SealDSSEInPlace(intoto.PayloadType, buf, room, s.keys...)
	if err != nil {
		return nil, fmt.Errorf("sign link %s: %w", name, err)
	}
	return sealed, nil
}

// releaser returns what hands the recording's garbage back to the system before a link of sets is
// encoded; it does nothing for a small link. What recording left behind (listings, per-worker lists)
// is garbage by then, but the runtime keeps its pages until later cycles and the link cannot reuse
// most of them: one buffer the size of the link needs fresh pages. Without this the peak is that
// garbage plus the link.
func releaser(link *intoto.Link) func() {
	if link.Materials.Len()+link.Products.Len() < bigLinkArtifacts {
		return func() {}
	}
	return func() { debug.FreeOSMemory() }
}

// keylessPayload is the Statement a keyless link signs, encoded straight from the link's artifact
// sets into a buffer of exactly its size, which is handed to the signer as it is.
//
// Memory: the payload stays while it is signed (a failed signature keeps it unsigned), and the bundle
// comes back a third larger than it. The sets are garbage once encoded (neither write nor its callers
// use the link again), and their pages are handed back before the bundle arrives: otherwise the peak
// is the sets, the payload and the bundle.
func keylessPayload(link *intoto.Link) ([]byte, error) {
	release := releaser(link)
	release()
	payload, err := wire.AppendStatement(nil, link)
	release()
	if err != nil {
		return nil, fmt.Errorf("encode link: %w", err)
	}
	return payload, nil
}
