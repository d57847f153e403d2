package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	vsapkg "github.com/intoto-ci/intoto-ci/internal/vsa"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
)

// TestKeylessVSA: after the keyless chain verifies, the release job signs the VSA keyless; intoto-ci
// verify-vsa accepts it, and plain sigstore-go (no intoto-ci code) verifies the bundle with the
// certificate identity and the subject digest, as any Sigstore tool would.
func TestKeylessVSA(t *testing.T) {
	k := newKeylessChain(t)
	k.writeKeylessLayout(t, k.ghIdentity(), k.glIdentity(), "")
	if r := k.build(t, oidc.GitHubOptions{}); r.code != 0 {
		t.Fatalf("keyless build: exit %d\n%s", r.code, r.err)
	}
	if r := k.pack(t, oidc.GitLabOptions{}); r.code != 0 {
		t.Fatalf("keyless package: exit %d\n%s", r.code, r.err)
	}
	vsa := filepath.Join(k.dir, "vsa.sigstore.json")
	claims := oidc.GitLabClaims(oidc.GitLabOptions{})
	environ := map[string]string{"GITLAB_CI": "true", "SIGSTORE_ID_TOKEN": k.stack.GitLab.Mint(claims),
		"CI_PIPELINE_ID": "1001", "CI_JOB_ID": "3003"}
	args := []string{"verify", "--layout", k.layout, "--layout-key", filepath.Join(k.keys, "alice.pub"),
		"--links-dir", k.links, "--work-dir", k.work, "--trusted-root", k.stack.TrustedRootPath,
		"--vsa", vsa, "--vsa-resource-uri", "pkg:generic/app@1.0",
		"--signing", "keyless", "--fulcio-url", k.stack.FulcioURL, "--rekor-url", k.stack.RekorURL,
		"--rekor-version", "2", "--tsa-url", k.stack.TSAURL}
	if r := invoke(t, environ, args...); r.code != ExitOK {
		t.Fatalf("verify --vsa keyless: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	san := "https://gitlab.com/grp/app//.gitlab-ci.yml@refs/heads/main"
	if r := invoke(t, nil, "verify-vsa", "--vsa", vsa, "--identity", san, "--issuer", k.stack.GitLab.URL,
		"--trusted-root", k.stack.TrustedRootPath, "--base-path", k.work, "--subject", filepath.Join(k.work, "app.tgz"),
		"--resource-uri", "pkg:generic/app@1.0"); r.code != ExitOK {
		t.Fatalf("verify-vsa: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	if r := invoke(t, nil, "verify-vsa", "--vsa", vsa, "--identity", "https://gitlab.com/other/app//.gitlab-ci.yml@refs/heads/main",
		"--issuer", k.stack.GitLab.URL, "--trusted-root", k.stack.TrustedRootPath); r.code != ExitRefused {
		t.Errorf("verify-vsa with another identity: exit %d, want 1", r.code)
	}

	// Plain sigstore-go.
	data, err := os.ReadFile(vsa)
	if err != nil {
		t.Fatal(err)
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		t.Fatalf("not a sigstore bundle: %v", err)
	}
	tr, err := root.NewTrustedRootFromPath(k.stack.TrustedRootPath)
	if err != nil {
		t.Fatal(err)
	}
	opts := []sgverify.VerifierOption{sgverify.WithObserverTimestamps(1)}
	if entries, err := b.TlogEntries(); err == nil && len(entries) > 0 {
		opts = append(opts, sgverify.WithTransparencyLog(1))
	}
	v, err := sgverify.NewVerifier(tr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	certID, err := sgverify.NewShortCertificateIdentity(k.stack.GitLab.URL, "", san, "")
	if err != nil {
		t.Fatal(err)
	}
	artifact, err := os.ReadFile(filepath.Join(k.work, "app.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(artifact)
	res, err := v.Verify(&b, sgverify.NewPolicy(sgverify.WithArtifactDigest("sha256", sum[:]), sgverify.WithCertificateIdentity(certID)))
	if err != nil {
		t.Fatalf("sigstore-go refuses the VSA bundle: %v", err)
	}
	if res.Statement == nil || res.Statement.GetPredicateType() != vsaPredicateType {
		t.Fatalf("sigstore-go statement = %v, want predicate %s", res.Statement, vsaPredicateType)
	}
	pred, err := json.Marshal(res.Statement.GetPredicate())
	if err != nil {
		t.Fatal(err)
	}
	var p vsapkg.Predicate
	if err := json.Unmarshal(pred, &p); err != nil || p.VerificationResult != "PASSED" || p.ResourceURI != "pkg:generic/app@1.0" {
		t.Errorf("predicate %s (%v)", pred, err)
	}
	other := sha256.Sum256([]byte("another artifact"))
	if _, err := v.Verify(&b, sgverify.NewPolicy(sgverify.WithArtifactDigest("sha256", other[:]), sgverify.WithCertificateIdentity(certID))); err == nil {
		t.Errorf("sigstore-go accepted the VSA for an artifact it does not cover (%s)", hex.EncodeToString(other[:]))
	}
}

// vsaPredicateType is vsa.PredicateType under a name the test's local variable vsa does not hide.
const vsaPredicateType = vsapkg.PredicateType
