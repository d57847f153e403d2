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
// Functionaries. A step's functionaries are its pubkeys (keyids) and its identities (names of the
// layout's keyless "identities"). A key-signed link (legacy or DSSE envelope; a v0.9 link or a Statement
// v1 with the link v0.3 predicate) counts for every authorized key whose signature verifies; a Sigstore
// bundle is checked by Options.Keyless and counts for the first identity its certificate matches.
// Each functionary counts once per step, and one keyless certificate subject counts once however many
// identities it matches; further links are listed as rejected duplicates. Every file that names a step
// but is not accepted appears in StepResult.Rejected with the reason (unauthorized signer, bad
// signature, identity mismatches, keyless verification not configured, duplicate).
//
// Sublayouts. A link whose payload is a layout delegates its step: the file must be named
// <step>.<id>.link (or .link.sigstore.json); it is verified recursively, pinned to the functionary that
// signed it, with links read from <links dir>/<step>.<keyid8>/ (key) or <step>.<id>/ (keyless, <id>
// from the file name), and replaced by its summary link.
//
// Run binding (Options.SameRun or the layout's run_binding): every keyless link of the layout's steps
// must come from one CI run. GitHub: the run invocation URI (Fulcio 1.21) without its /attempts/N
// suffix, and the commit (1.13). GitLab and others: the commit (1.13) and the CI config digest (1.19).
// A certificate without those claims (Kubernetes service accounts) cannot be bound and is refused.
// Key-signed links carry no run claims; a warning says they are not bound.
//
// Report. Result marshals to the documented `verify --json` report. A refusal sets Failure (stage,
// step, rule, artifacts, signer, reason); Result.Err returns it as an error that wraps the stage's
// sentinel (ErrLayoutSignature, ErrLayoutExpired, ErrThreshold, ErrSublayout, ErrInconsistentLinks,
// ErrRules, ErrInspection, ErrRunBinding). Errors returned by Verify wrap ErrNoLayoutTrust,
// ErrLayoutInvalid (unreadable or invalid layout, unknown parameter, invalid rule: exit 2) or
// ErrVerifierUnavailable, or are I/O and context errors (exit 3).
//
// Deliberate differences from the reference, each stricter or additive:
//   - links are found by content, also in *.link.sigstore.json and *.json Sigstore bundles;
//   - keyless functionaries (layout "identities") count like keys; a functionary is counted once per step;
//   - the consistency check (7) compares all kept links of a step, also when the threshold is 1
//     (the reference skips it and picks one link);
//   - an inspection that times out is a refusal.
package verify
