package keyless

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestParseServiceSpecs: the url=…,key=… specs of trusted-root create (moved here from cli). Good
// specs read their files; wrong ones are SpecErrors saying what is wrong; a missing file is not.
func TestParseServiceSpecs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pemFile := filepath.Join(dir, "x.pem")
	if err := os.WriteFile(pemFile, []byte("PEM"), 0o644); err != nil {
		t.Fatal(err)
	}
	ca, err := ParseCASpec("--fulcio", "url=https://f,certificate-chain="+pemFile)
	if err != nil || ca.URL != "https://f" || string(ca.ChainPEM) != "PEM" {
		t.Fatalf("CA: %+v %v", ca, err)
	}
	l, err := ParseLogSpec("--rekor", "url=https://r,public-key="+pemFile+",start-time=2026-01-02T15:04:05Z,origin=r", true)
	want := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	if err != nil || l.URL != "https://r" || string(l.PublicKeyPEM) != "PEM" || !l.Start.Equal(want) || l.Origin != "r" {
		t.Fatalf("log: %+v %v", l, err)
	}
	for _, c := range []struct {
		spec, want string
		log, rekor bool
	}{
		{spec: "url", want: `want key=value pairs`},
		{spec: "url=,certificate-chain=" + pemFile, want: `want key=value pairs`},
		{spec: "url=u,chain=" + pemFile, want: `unknown key "chain" (want url, certificate-chain)`},
		{spec: "url=u,url=v", want: `url given twice`},
		{spec: "certificate-chain=" + pemFile, want: `url= is required`},
		{spec: "url=u", want: `certificate-chain= is required`},
		{spec: "url=u,public-key=" + pemFile, log: true, want: `public-key= and start-time= are required`},
		{spec: "url=u,public-key=" + pemFile + ",start-time=yesterday", log: true, want: `start-time "yesterday": want RFC 3339`},
		{spec: "url=u,public-key=" + pemFile + ",start-time=2026-01-02T15:04:05Z,origin=h", log: true, want: `unknown key "origin"`},
	} {
		var err error
		if c.log {
			_, err = ParseLogSpec("--ctfe", c.spec, c.rekor)
		} else {
			_, err = ParseCASpec("--tsa", c.spec)
		}
		var se *SpecError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err %v, want a SpecError with %q", c.spec, err, c.want)
		}
	}
	_, err = ParseCASpec("--fulcio", "url=u,certificate-chain="+filepath.Join(dir, "missing"))
	var se *SpecError
	if err == nil || errors.As(err, &se) || !strings.Contains(err.Error(), "--fulcio certificate-chain") {
		t.Errorf("missing chain file: err %v, want a read error", err)
	}
}

// TestParseTrustedRootSpec: every spec lands in its place, each labelled by its flag; a root with
// neither Fulcio nor TSA is refused.
func TestParseTrustedRootSpec(t *testing.T) {
	t.Parallel()
	pemFile := filepath.Join(t.TempDir(), "x.pem")
	if err := os.WriteFile(pemFile, []byte("PEM"), 0o644); err != nil {
		t.Fatal(err)
	}
	logSpec := "url=https://l,public-key=" + pemFile + ",start-time=2026-01-02T15:04:05Z"
	spec, err := ParseTrustedRootSpec(ServiceSpecs{
		TSAs:   []string{"url=https://t,certificate-chain=" + pemFile},
		Rekors: []string{logSpec + ",origin=l"}, CTLogs: []string{logSpec},
	})
	if err != nil || len(spec.Fulcio) != 0 || len(spec.TSAs) != 1 || spec.Rekors[0].Origin != "l" || len(spec.CTLogs) != 1 {
		t.Fatalf("spec %+v, %v", spec, err)
	}
	if _, err := ParseTrustedRootSpec(ServiceSpecs{CTLogs: []string{logSpec + ",origin=l"}}); err == nil ||
		!strings.HasPrefix(err.Error(), "--ctfe: unknown key \"origin\"") {
		t.Errorf("origin on a CT log: %v", err)
	}
	var se *SpecError
	if _, err := ParseTrustedRootSpec(ServiceSpecs{Rekors: []string{logSpec}}); !errors.As(err, &se) ||
		err.Error() != "trusted-root create needs at least one --fulcio or --tsa" {
		t.Errorf("no CA: %v", err)
	}
}
