package cli

import (
	"fmt"
	"path/filepath"
	"runtime/debug"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// bigLinkArtifacts is how many artifacts make a link big enough (some 6 MB of JSON) that its writing
// hands the garbage of the recording back to the system before allocating the link's encoding.
const bigLinkArtifacts = 1 << 16

// writeKeyLink signs link with the signer's keys into an envelope and streams it into dir under its
// conventional name. With sets, the v0.9 link is encoded straight from them (link's own artifacts are
// ignored).
//
// Memory, for a link of a million artifacts (issue 8: no more than twice the file's size): the payload
// is encoded once, into a buffer of exactly its size that leaves room in front for the DSSE PAE
// header, so the message signed is that buffer and not a copy; the envelope's base64 (4/3 the
// payload) is streamed into the file rather than built; and the artifact sets are dropped once
// encoded.
func (s *linkSigner) writeKeyLink(dir string, link *intoto.Link, sets *[2]intoto.ArtifactSet) (string, error) {
	sealed, err := s.sealKeyLink(link, sets)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, intoto.LinkFileName(link.Name, s.keys[0].ID()))
	return path, writeFileAtomicFrom(path, sealed)
}

func (s *linkSigner) sealKeyLink(link *intoto.Link, sets *[2]intoto.ArtifactSet) (*envelope.Sealed, error) {
	legacy := s.flags.envelope == "legacy"
	if sets == nil {
		var payload []byte
		var err error
		if s.flags.format == "statement" {
			payload, err = intoto.LinkToStatement(link)
		} else {
			payload, err = intoto.MarshalLink(link)
		}
		if err != nil {
			return nil, fmt.Errorf("encode link: %w", err)
		}
		var sealed *envelope.Sealed
		if legacy {
			sealed, err = envelope.SealLegacy(payload, s.keys...)
		} else {
			sealed, err = envelope.SealDSSE(intoto.PayloadType, payload, s.keys...)
		}
		if err != nil {
			return nil, fmt.Errorf("sign link %s: %w", link.Name, err)
		}
		return sealed, nil
	}

	// A v0.9 link encoded from the sets (write turns them into maps for a Statement).
	big := sets[0].Len()+sets[1].Len() >= bigLinkArtifacts
	release := func() {
		if big {
			debug.FreeOSMemory()
		}
	}
	// What recording left behind (listings, per-worker lists) is garbage by now, but the runtime keeps
	// its pages until later cycles and the link cannot reuse most of them: one buffer the size of the
	// link needs fresh pages. Without this the peak is that garbage plus the link.
	release()
	if legacy {
		// The signatures cover the canonical JSON and the file holds the JSON: each is as large as the
		// link, so the first is signed and let go before the second is made.
		canon, err := intoto.AppendLinkSetsCanonical(nil, link, sets[0], sets[1])
		if err != nil {
			return nil, fmt.Errorf("encode link: %w", err)
		}
		sigs, err := envelope.SignCanonical(canon, s.keys...)
		if err != nil {
			return nil, fmt.Errorf("sign link %s: %w", link.Name, err)
		}
		release() // canon's pages
		payload, err := intoto.AppendLinkSetsJSON(nil, link, sets[0], sets[1])
		if err != nil {
			return nil, fmt.Errorf("encode link: %w", err)
		}
		return sigs.Seal(payload), nil
	}
	// Room in front of the payload for the PAE header: the message signed is the buffer itself. Nothing
	// refers to the sets once they are encoded (nor do write's callers): they are garbage from then on.
	room := envelope.PAERoom(intoto.PayloadType)
	buf, err := intoto.AppendLinkSetsJSON(make([]byte, room), link, sets[0], sets[1])
	if err != nil {
		return nil, fmt.Errorf("encode link: %w", err)
	}
	sealed, err := envelope.SealDSSEInPlace(intoto.PayloadType, buf, room, s.keys...)
	if err != nil {
		return nil, fmt.Errorf("sign link %s: %w", link.Name, err)
	}
	return sealed, nil
}
