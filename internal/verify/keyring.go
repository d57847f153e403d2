package verify

import (
	"slices"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
)

// stepKeys are one step's functionary keys, prepared once per verification (keyid computed, key
// material decoded), with what stage 4 needs to stay linear in links and keys: the keys by keyid, so
// a signature is checked only with the keys it names, and the functionaries counted so far, so a
// duplicate is found by lookup rather than by comparing with every kept link.
type stepKeys struct {
	step *intoto.Step
	// keys holds the layout's key of each keyid of step.PubKeys (nil where the layout has none).
	keys []*keys.PreparedKey
	// byID maps a keyid to its positions in step.PubKeys.
	byID map[string][]int
	// all lists the positions of step.PubKeys that have a key, for unlabelled DSSE signatures.
	all []int

	// The functionaries counted for the step (see counted): by functionary name, by public key
	// material of key-signed links, by certificate signer of keyless links.
	names     map[string]bool
	materials map[string]bool
	signers   map[string]bool
}

// prepareSteps prepares the keys of every step of the layout; a key listed by several steps is
// prepared once.
func (v *verification) prepareSteps() map[string]*stepKeys {
	prepared := map[string]*keys.PreparedKey{}
	out := make(map[string]*stepKeys, len(v.layout.Steps))
	for _, s := range v.layout.Steps {
		sk := &stepKeys{step: s, keys: make([]*keys.PreparedKey, len(s.PubKeys)), byID: map[string][]int{},
			names: map[string]bool{}, materials: map[string]bool{}, signers: map[string]bool{}}
		for i, keyid := range s.PubKeys {
			k := v.layout.Keys[keyid]
			if k == nil {
				continue
			}
			p := prepared[keyid]
			if p == nil {
				p = keys.Prepare(k)
				prepared[keyid] = p
			}
			sk.keys[i] = p
			sk.byID[keyid] = append(sk.byID[keyid], i)
			sk.all = append(sk.all, i)
		}
		out[s.Name] = sk
	}
	return out
}

// candidates returns, in ascending order, the positions in step.PubKeys of the keys that c's
// signatures may be by: the keys whose keyid a signature names (the layout checked that each key's
// keyid is that of its content) and, when a DSSE signature names no keyid, every key of the step, as
// such a signature may be anyone's (Signed.VerifyKey). Any other key would find no signature to check.
func (sk *stepKeys) candidates(c *candidate) []int {
	var pos []int
	for _, sig := range c.signed.Signatures {
		if sig.KeyID == "" {
			if c.signed.Kind == envelope.DSSE {
				return sk.all
			}
			continue
		}
		pos = append(pos, sk.byID[sig.KeyID]...)
	}
	slices.Sort(pos)
	return slices.Compact(pos)
}

// counted tells whether k is a functionary the step counted already. Two accepted links of a step
// count as one functionary when they have the same key or identity name, the same public key under two
// keyids (keyid_hash_algorithms, keytype or ecdsa scheme spelled differently), or (keyless) the same
// certificate subject and issuer, even if it matches several identities. One private key is one
// signer, however many keyids the layout lists it under.
func (sk *stepKeys) counted(k *keptLink) bool {
	return sk.names[k.functionary] ||
		k.key != nil && k.material != "" && sk.materials[k.material] ||
		k.keyless != nil && sk.signers[k.signer]
}

// count records k as counted for the step.
func (sk *stepKeys) count(k *keptLink) {
	sk.names[k.functionary] = true
	if k.key != nil && k.material != "" {
		sk.materials[k.material] = true
	}
	if k.keyless != nil {
		sk.signers[k.signer] = true
	}
}
