package linkfile

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// TestUnfinishedKeyed: record start's unfinished link is finished only when record stop's key signed
// it, it is of the step named and of this job; each refusal has a control that finishes, and a tampered
// file is re-signed with the same (trusted) key so the refusal comes from the check named.
func TestUnfinishedKeyed(t *testing.T) {
	t.Parallel()
	carol, danny := interopKey(t, "in-toto-golang/carol"), interopKey(t, "in-toto-python/demo_files/danny")
	ctx := context.Background()
	signer := func(t *testing.T, k *keys.Key, runKey string) *Signer {
		t.Helper()
		s, err := New(Options{Keys: []*keys.Key{k}, RunKey: runKey})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	start := func(t *testing.T, dir string) {
		t.Helper()
		link := &intoto.Link{Type: intoto.TypeLink, Name: "build", Command: []string{}, ByProducts: map[string]any{}, Environment: map[string]any{},
			Materials: manyArtifacts(3)}
		if _, err := signer(t, carol, "job-1").Start(ctx, dir, link); err != nil {
			t.Fatal(err)
		}
	}
	// resign replaces the unfinished link's payload by edit's and signs it with carol again.
	resign := func(t *testing.T, dir string, edit func(w map[string]any)) {
		t.Helper()
		s, err := envelope.Parse(mustRead(t, UnfinishedPath(dir, "build")))
		if err != nil {
			t.Fatal(err)
		}
		var w map[string]any
		if err := json.Unmarshal(s.Payload, &w); err != nil {
			t.Fatal(err)
		}
		edit(w)
		payload, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		data, err := envelope.SignDSSE(intoto.PayloadType, payload, carol)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(UnfinishedPath(dir, "build"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var refused *Refused
	var job *JobError
	for _, tc := range []struct {
		name   string
		stop   *keys.Key
		runKey string
		step   string
		tamper func(w map[string]any)
		ok     func(error) bool
		want   string
	}{
		{name: "control", stop: carol, runKey: "job-1", step: "build", ok: func(err error) bool { return err == nil }},
		{name: "another key", stop: danny, runKey: "job-1", step: "build", ok: func(err error) bool { return errors.As(err, &refused) }, want: "not signed by key"},
		{name: "another step", stop: carol, runKey: "job-1", step: "test", ok: func(err error) bool { return errors.As(err, &refused) }, want: `not "test"`},
		{name: "another job", stop: carol, runKey: "job-2", step: "build", ok: func(err error) bool { return errors.As(err, &job) }, want: "another job"},
		{name: "run key rewritten", stop: carol, runKey: "job-1", step: "build",
			tamper: func(w map[string]any) { w["run_key"] = "job-9" }, ok: func(err error) bool { return errors.As(err, &job) }, want: "job-9"},
		{name: "not an unfinished link", stop: carol, runKey: "job-1", step: "build",
			tamper: func(w map[string]any) { w["_type"] = "link" }, ok: func(err error) bool { return errors.As(err, &refused) }, want: "not an unfinished link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			start(t, dir)
			if tc.tamper != nil {
				resign(t, dir, tc.tamper)
			}
			u, err := ReadUnfinished(dir, tc.step)
			if tc.step != "build" {
				// record stop of another step finds no file of its own: copy build's under its name.
				if err := os.Rename(UnfinishedPath(dir, "build"), UnfinishedPath(dir, tc.step)); err != nil {
					t.Fatal(err)
				}
				u, err = ReadUnfinished(dir, tc.step)
			}
			if err != nil {
				t.Fatal(err)
			}
			s := signer(t, tc.stop, tc.runKey)
			err = s.Check(ctx, u, tc.step, "")
			if !tc.ok(err) || (tc.want != "" && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Check: got %v, want %q", err, tc.want)
			}
			if err != nil {
				return
			}
			out, err := s.Finish(ctx, dir, u, manyArtifacts(2))
			if err != nil {
				t.Fatal(err)
			}
			env, err := envelope.Parse(mustRead(t, out))
			if err != nil {
				t.Fatal(err)
			}
			if err := env.VerifyKey(carol.Public()); err != nil {
				t.Error(err)
			}
			l, err := wire.DecodeLink(env.Payload)
			if err != nil || l.Materials.Len() != manyArtifacts(3).Len() || l.Products.Len() != manyArtifacts(2).Len() {
				t.Errorf("finished link: %v, %d materials, %d products", err, l.Materials.Len(), l.Products.Len())
			}
			if _, err := os.Stat(UnfinishedPath(dir, "build")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the unfinished link was left behind: %v", err)
			}
		})
	}
	var input *InputError
	if _, err := ReadUnfinished(t.TempDir(), "build"); !errors.As(err, &input) || !strings.Contains(err.Error(), "record start --step build") {
		t.Errorf("no unfinished link: got %v, want an InputError saying to run record start", err)
	}
}
