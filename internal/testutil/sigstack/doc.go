// Package sigstack starts a real Sigstore stack on loopback for end-to-end tests: two OIDC issuers
// (in-process; one treated by Fulcio as GitHub Actions, one as GitLab CI), Fulcio with an ephemeral CA, a
// timestamp authority and a Rekor v2 log (rekor-tiles posix), as child processes of the test binary. It
// writes a trusted_root.json built from what the servers publish and a signing_config.json (v0.2) that
// points at them.
//
//	s := sigstack.Shared(t) // once per test binary; Start(t) for a stack of the test's own
//	token := s.GitHub.Mint(oidc.GitHubClaims(oidc.GitHubOptions{Repository: "octo-org/app"}))
//	// sign with s.FulcioURL, s.TSAURL, s.RekorURL (Rekor v2) or s.SigningConfigPath;
//	// verify against s.TrustedRootPath (no CT log: do not require SCTs).
//
// Every port is picked at start-up, so test binaries that run at once each get a stack of their own. The
// timestamp-server hard-wires its metrics listener to :2112 on every interface, so it runs in a network
// namespace of its own behind a unix socket that an in-process proxy exposes on loopback. Fulcio's
// metrics listener still binds every interface: the stack runs only inside a network namespace with
// nothing but loopback (`unshare -n sh -c 'ip link set lo up; go test ./...'`), or anywhere when
// INTOTO_CI_ALLOW_HOST_STACK=1. Otherwise tests skip, or fail when CI=true; a missing server binary
// (fulcio, timestamp-server, posix, installed by .ci/setup) is treated the same way.
//
// Servers run with Pdeathsig=SIGKILL: they die with the test binary, so Shared needs no TestMain.
// FaultProxy and the Stop* methods serve tests of network failures.
//
// Imported only by tests.
package sigstack
