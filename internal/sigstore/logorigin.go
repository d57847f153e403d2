package sigstore

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
)

// explainOrigin turns the failure sigstore-go reports when a Rekor v2 checkpoint is not signed under
// the name it expects into a statement of the misconfiguration. sigstore-go names the log by the host
// of its baseUrl in the trusted root, while rekor-tiles signs its checkpoints under its --hostname (the
// checkpoint's first line, its origin): when the two differ no signature matches, and the error reads
// like tampering ("note has no verifiable signatures"). rekor-tiles formats that error with %v, so the
// chain is lost and the text is all there is to recognise. Empty when the failure is something else or
// the names agree (then the signature really does not verify).
func explainOrigin(err error, entries []*tlog.Entry, trusted root.TrustedMaterial) string {
	msg := err.Error()
	if !strings.Contains(msg, "note has no verifiable signatures") && !strings.Contains(msg, "unverified checkpoint signature") {
		return ""
	}
	logs := trusted.RekorLogs()
	for _, e := range entries {
		if !e.IsRekorV2() {
			continue
		}
		cp := e.TransparencyLogEntry().GetInclusionProof().GetCheckpoint().GetEnvelope()
		origin, _, _ := strings.Cut(cp, "\n")
		tl, ok := logs[hex.EncodeToString([]byte(e.LogKeyID()))]
		if !ok || origin == "" {
			continue
		}
		u, perr := url.Parse(tl.BaseURL)
		if perr != nil || u.Hostname() == origin {
			continue
		}
		return fmt.Sprintf("misconfigured trusted root: the rekor v2 log signs its checkpoints as %q (its --hostname), "+
			"but the trusted root's baseUrl %q makes verifiers expect %q; make the trusted root's baseUrl host and the "+
			"log's hostname the same (intoto-ci trusted-root create --rekor url=…,origin=… writes both)", origin, tl.BaseURL, u.Hostname())
	}
	return ""
}
