package sigstore

import (
	"bytes"
	"math/rand/v2"
	"testing"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// TestDSSEContentMatchesSigstore holds dsseContent to sign.DSSEData: the same message signed, the same
// envelope in the bundle, and the payload in it not copied.
func TestDSSEContentMatchesSigstore(t *testing.T) {
	t.Parallel()
	for _, payload := range [][]byte{nil, []byte("{}"), []byte("é \x00 DSSEv1 1 x 2 "), bytes.Repeat([]byte("ab"), 1<<17)} {
		theirs := &sign.DSSEData{Data: payload, PayloadType: intoto.PayloadType}
		ours := &dsseContent{payload: payload, payloadType: intoto.PayloadType}
		pae := ours.PreAuthEncoding()
		if !bytes.Equal(pae, theirs.PreAuthEncoding()) {
			t.Errorf("%d bytes: PAE %q, want %q", len(payload), pae[:min(len(pae), 64)], theirs.PreAuthEncoding()[:min(len(pae), 64)])
		}
		if cap(pae) != len(pae) {
			t.Errorf("%d bytes: PAE buffer of capacity %d for %d bytes", len(payload), cap(pae), len(pae))
		}
		want, got := &protobundle.Bundle{}, &protobundle.Bundle{}
		theirs.Bundle(want, []byte("sig"), []byte("digest"), protocommon.HashAlgorithm_SHA2_256)
		ours.Bundle(got, []byte("sig"), []byte("digest"), protocommon.HashAlgorithm_SHA2_256)
		if !proto.Equal(got, want) {
			t.Errorf("%d bytes: bundle %v, want %v", len(payload), got, want)
		}
		if len(payload) > 0 && &got.GetDsseEnvelope().Payload[0] != &payload[0] {
			t.Errorf("%d bytes: the envelope holds a copy of the payload", len(payload))
		}
	}
}

// TestMarshalBundleMatchesProtojson checks that the bundle JSON with the payload spliced in is what
// protojson writes (its output is stable within one binary), for payloads of every length modulo 3
// (base64 padding) on both sides of the threshold, of any bytes, with the bundle left as it was.
func TestMarshalBundleMatchesProtojson(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 10, 1<<16 - 1, 1 << 16, 1<<16 + 1, 1<<16 + 2, 1<<20 + 7} {
		payload := make([]byte, n)
		for i := range payload {
			payload[i] = byte(r.Uint32())
		}
		b := &protobundle.Bundle{MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
			VerificationMaterial: &protobundle.VerificationMaterial{
				Content: &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: []byte("cert")}},
				TimestampVerificationData: &protobundle.TimestampVerificationData{
					Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: []byte("ts")}}},
			}}
		(&dsseContent{payload: payload, payloadType: intoto.PayloadType}).Bundle(b, []byte("sig"), nil, 0)
		want, err := protojson.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := marshalBundle(b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%d bytes: the bundle JSON differs from protojson's (%d and %d bytes)", n, len(got), len(want))
		}
		if n >= 1<<16 && cap(got) != len(got) {
			t.Errorf("%d bytes: capacity %d for %d bytes", n, cap(got), len(got))
		}
		if env := b.GetDsseEnvelope(); len(payload) > 0 && &env.Payload[0] != &payload[0] {
			t.Errorf("%d bytes: the bundle no longer holds the payload", n)
		}
	}
}
