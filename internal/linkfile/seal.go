package linkfile

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
// conventional name. With sets, the v0.9 link or the Statement (--format statement) is encoded
// straight from them (link's own artifacts are ignored).
//
// Memory, for a link of a million artifacts (issue 8: no more than twice the file's size): the payload
// is encoded once, into a buffer of exactly its size that leaves room in front for the DSSE PAE
// header, so the message signed is that buffer and not a copy; the envelope's base64 (4/3 the
// payload) is streamed into the file rather than built; and the artifact sets are dropped once
// encoded.
func (s *Signer) writeKeyLink(dir string, link *intoto.Link, sets *[2]intoto.ArtifactSet) (string, error) {
	sealed, err := s.sealKeyLink(link, sets)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, intoto.LinkFileName(link.Name, s.keys[0].ID()))
	return path, WriteFileFrom(path, sealed)
}

func (s *Signer) sealKeyLink(link *intoto.Link, sets *[2]intoto.ArtifactSet) (*envelope.Sealed, error) {
	legacy, statement := s.flags.envelope == "legacy", s.flags.format == "statement"
	if sets == nil || (legacy && statement) {
		// A link of maps (record stop), or a Statement in a legacy envelope (which the flags refuse):
		// one payload, sealed by the generic sealers.
		var payload []byte
		var err error
		switch {
		case sets != nil:
			payload, err = intoto.AppendStatementSets(nil, link, sets[0], sets[1])
		case statement:
			payload, err = intoto.LinkToStatement(link)
		default:
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

	// A v0.9 link or a Statement encoded from the sets.
	release := releaser(sets)
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
	encode := intoto.AppendLinkSetsJSON
	if statement {
		encode = intoto.AppendStatementSets
	}
	buf, err := encode(make([]byte, room), link, sets[0], sets[1])
	if err != nil {
		return nil, fmt.Errorf("encode link: %w", err)
	}
	sealed, err := envelope.SealDSSEInPlace(intoto.PayloadType, buf, room, s.keys...)
	if err != nil {
		return nil, fmt.Errorf("sign link %s: %w", link.Name, err)
	}
	return sealed, nil
}

// releaser returns what hands the recording's garbage back to the system before a link of sets is
// encoded; it does nothing for a small link. What recording left behind (listings, per-worker lists)
// is garbage by then, but the runtime keeps its pages until later cycles and the link cannot reuse
// most of them: one buffer the size of the link needs fresh pages. Without this the peak is that
// garbage plus the link.
func releaser(sets *[2]intoto.ArtifactSet) func() {
	if sets[0].Len()+sets[1].Len() < bigLinkArtifacts {
		return func() {}
	}
	return func() { debug.FreeOSMemory() }
}

// keylessPayload is the Statement a keyless link signs: link's, or, with sets, one encoded straight
// from them (link's own artifacts are ignored) into a buffer of exactly its size, which is handed to
// the signer as it is.
//
// Memory: the payload stays while it is signed (a failed signature keeps it unsigned), and the bundle
// comes back a third larger than it. The sets are garbage once encoded (neither write nor its callers
// use them again), and their pages are handed back before the bundle arrives: otherwise the peak is
// the sets, the payload and the bundle.
func keylessPayload(link *intoto.Link, sets *[2]intoto.ArtifactSet) ([]byte, error) {
	var payload []byte
	var err error
	if sets == nil {
		payload, err = intoto.LinkToStatement(link)
	} else {
		release := releaser(sets)
		release()
		payload, err = intoto.AppendStatementSets(nil, link, sets[0], sets[1])
		release()
	}
	if err != nil {
		return nil, fmt.Errorf("encode link: %w", err)
	}
	return payload, nil
}
