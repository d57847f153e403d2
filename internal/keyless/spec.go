package keyless

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// SpecError is a service spec written wrongly (a usage error of whoever wrote it); an unreadable
// file it names is an ordinary error instead.
type SpecError struct{ msg string }

func (e *SpecError) Error() string { return e.msg }

func specErrorf(format string, a ...any) error { return &SpecError{fmt.Sprintf(format, a...)} }

// specFields splits "k=v,k=v" and refuses keys outside allowed, repeated keys and a missing url. label
// names the spec in messages (the flag it came from).
func specFields(label, v string, allowed ...string) (map[string]string, error) {
	m := map[string]string{}
	for _, part := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(part, "=")
		if !ok || val == "" {
			return nil, specErrorf("%s %q: want key=value pairs separated by commas", label, v)
		}
		known := false
		for _, a := range allowed {
			known = known || a == k
		}
		if !known {
			return nil, specErrorf("%s: unknown key %q (want %s)", label, k, strings.Join(allowed, ", "))
		}
		if _, dup := m[k]; dup {
			return nil, specErrorf("%s: %s given twice", label, k)
		}
		m[k] = val
	}
	if m["url"] == "" {
		return nil, specErrorf("%s %q: url= is required", label, v)
	}
	return m, nil
}

// ParseCASpec reads a certificate or timestamp authority written as url=URL,certificate-chain=FILE and
// reads the chain file.
func ParseCASpec(label, v string) (CASpec, error) {
	m, err := specFields(label, v, "url", "certificate-chain")
	if err != nil {
		return CASpec{}, err
	}
	if m["certificate-chain"] == "" {
		return CASpec{}, specErrorf("%s %q: certificate-chain= is required", label, v)
	}
	pem, err := os.ReadFile(m["certificate-chain"])
	if err != nil {
		return CASpec{}, fmt.Errorf("%s certificate-chain: %w", label, err)
	}
	return CASpec{URL: m["url"], ChainPEM: pem}, nil
}

// ParseLogSpec reads a transparency log written as url=URL,public-key=FILE,start-time=RFC3339 (and,
// when rekor, an optional origin=HOST that makes it a Rekor v2 log) and reads the key file.
func ParseLogSpec(label, v string, rekor bool) (LogSpec, error) {
	keys := []string{"url", "public-key", "start-time"}
	if rekor {
		keys = append(keys, "origin")
	}
	m, err := specFields(label, v, keys...)
	if err != nil {
		return LogSpec{}, err
	}
	if m["public-key"] == "" || m["start-time"] == "" {
		return LogSpec{}, specErrorf("%s %q: public-key= and start-time= are required", label, v)
	}
	start, err := time.Parse(time.RFC3339, m["start-time"])
	if err != nil {
		return LogSpec{}, specErrorf("%s start-time %q: want RFC 3339 (2026-01-02T15:04:05Z)", label, m["start-time"])
	}
	pem, err := os.ReadFile(m["public-key"])
	if err != nil {
		return LogSpec{}, fmt.Errorf("%s public-key: %w", label, err)
	}
	return LogSpec{URL: m["url"], PublicKeyPEM: pem, Start: start, Origin: m["origin"]}, nil
}

// ServiceSpecs are the specs of a trusted root to create, as written (see ParseCASpec, ParseLogSpec).
type ServiceSpecs struct {
	Fulcio, TSAs, Rekors, CTLogs []string
}

// ParseTrustedRootSpec parses every spec, labelled by the flags they come from (--fulcio, --tsa,
// --rekor, --ctfe), into the trusted root to create. A root without a Fulcio or a timestamp authority
// could verify nothing: a SpecError.
func ParseTrustedRootSpec(s ServiceSpecs) (*TrustedRootSpec, error) {
	spec := &TrustedRootSpec{}
	for _, c := range []struct {
		label string
		in    []string
		out   *[]CASpec
	}{{"--fulcio", s.Fulcio, &spec.Fulcio}, {"--tsa", s.TSAs, &spec.TSAs}} {
		for _, v := range c.in {
			ca, err := ParseCASpec(c.label, v)
			if err != nil {
				return nil, err
			}
			*c.out = append(*c.out, ca)
		}
	}
	for _, c := range []struct {
		label string
		in    []string
		out   *[]LogSpec
	}{{"--rekor", s.Rekors, &spec.Rekors}, {"--ctfe", s.CTLogs, &spec.CTLogs}} {
		for _, v := range c.in {
			l, err := ParseLogSpec(c.label, v, c.label == "--rekor")
			if err != nil {
				return nil, err
			}
			*c.out = append(*c.out, l)
		}
	}
	if len(spec.Fulcio) == 0 && len(spec.TSAs) == 0 {
		return nil, specErrorf("trusted-root create needs at least one --fulcio or --tsa")
	}
	return spec, nil
}
