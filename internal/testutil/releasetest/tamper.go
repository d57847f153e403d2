package releasetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"testing"
)

// TamperedArchive is a well-formed intoto-ci release archive that is not the release's: its intoto-ci is
// a script that leaves marker behind and prints TAMPERED-BINARY-RAN, so a test can tell it never ran.
func TamperedArchive(t testing.TB, marker string) []byte {
	t.Helper()
	script := []byte("#!/bin/sh\ntouch " + marker + "\necho TAMPERED-BINARY-RAN\n")
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: "intoto-ci", Mode: 0o755, Size: int64(len(script)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(script); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
