// Package verify is the in-toto verification pipeline. It follows the order of the reference
// implementation (in-toto-python verifylib.in_toto_verify):
//
//  1. layout signatures: every pinned layout key and layout identity must have a valid signature over
//     the layout bytes as received;
//  2. layout expiry;
//  3. parameter substitution;
//  4. load the links of every step from the links directory, found by content (step name inside the
//     payload, signer) rather than by file name; keep only links signed by an authorized functionary and
//     refuse when fewer distinct functionaries than the step's threshold remain;
//  5. sublayouts, verified recursively and replaced by a summary link (materials of the sublayout's first
//     step, products of its last);
//  6. command alignment (a mismatch only warns);
//  7. all kept links of a step agree on materials and products;
//  8. step artifact rules (materials, then products);
//  9. inspections, run in the work directory with a timeout and recorded like a step;
//  10. inspection artifact rules.
//
// After those, intoto-ci's own extra: run binding (all keyless links come from one CI run / commit).
//
// Verify returns a *Result for every verdict: a refusal is a result (Result.Verified false, with a
// Failure that names the stage), while an error means the verification could not be carried out (an
// unreadable layout, a missing parameter, a cancelled context, an inspection that could not start).
//
// Deliberate differences from the reference, each stricter or additive:
//   - links are found by content, also in *.link.sigstore.json and *.json Sigstore bundles;
//   - keyless functionaries (layout "identities") count like keys; a functionary is counted once per step;
//   - the consistency check (7) compares all kept links of a step, also when the threshold is 1
//     (the reference skips it and picks one link);
//   - an inspection that times out is a refusal.
package verify
