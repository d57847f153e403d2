package tekton

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/testutil/buildtest"
)

// hostPath is the PATH every step gets (the tools a minimal image has); the intoto-ci image adds the
// directory holding the binary.
const hostPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// TestMain removes the binary built for the tests (shared by them, so no single test's TempDir).
func TestMain(m *testing.M) { os.Exit(buildtest.Main(m)) }

// binaryDir builds the static intoto-ci binary once and returns its directory: the "step image".
func binaryDir(tb testing.TB) string {
	tb.Helper()
	return filepath.Dir(buildtest.IntotoCI(tb))
}

// stepRun is the outcome of one step.
type stepRun struct {
	code           int
	stdout, stderr string
}

// host is what the Kubernetes node would provide: directories standing in for volumes and the image
// holding the intoto-ci binary.
type host struct {
	imageBin   string            // directory with the intoto-ci binary (the intoto-ci step image)
	volumes    map[string]string // Task volume name -> host directory
	workspaces map[string]string // Task workspaces other than source that are bound -> host directory
}

// runStepAction executes a StepAction's script as Tekton would: params resolved, env and args
// substituted, volume mount paths mapped onto host directories.
func runStepAction(tb testing.TB, h host, sa *stepAction, given values) stepRun {
	tb.Helper()
	params, err := withDefaults(sa.Spec.Params, given)
	if err != nil {
		tb.Fatalf("StepAction %s: %v", sa.Metadata.Name, err)
	}
	sc := scope{params: params}
	mounts := map[string]string{} // mountPath -> host dir
	for _, vm := range sa.Spec.VolumeMounts {
		name, err := sc.str(vm.Name)
		if err != nil {
			tb.Fatalf("StepAction %s: volume mount: %v", sa.Metadata.Name, err)
		}
		dir, ok := h.volumes[name]
		if !ok {
			tb.Fatalf("StepAction %s mounts volume %q, which the Task does not declare", sa.Metadata.Name, name)
		}
		mounts[vm.MountPath] = dir
	}
	path := hostPath
	if sa.Spec.Image == "$(params.intoto-ci-image)" {
		path = h.imageBin + ":" + path
	}
	env := []string{"PATH=" + path, "HOME=" + tb.TempDir(), "LANG=C"}
	for _, e := range sa.Spec.Env {
		v, err := sc.str(e.Value)
		if err != nil {
			tb.Fatalf("StepAction %s env %s: %v", sa.Metadata.Name, e.Name, err)
		}
		for mp, dir := range mounts {
			if v == mp || strings.HasPrefix(v, mp+"/") {
				v = dir + strings.TrimPrefix(v, mp)
			}
		}
		env = append(env, e.Name+"="+v)
	}
	args, err := sc.list(sa.Spec.Args)
	if err != nil {
		tb.Fatalf("StepAction %s args: %v", sa.Metadata.Name, err)
	}
	script := filepath.Join(tb.TempDir(), "script")
	if err := os.WriteFile(script, []byte(sa.Spec.Script), 0o644); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Run the script through its #! interpreter rather than exec'ing the file just written: a parallel
	// test forking meanwhile may still hold it open for writing (ETXTBSY).
	interp, _, _ := strings.Cut(strings.TrimPrefix(sa.Spec.Script, "#!"), "\n")
	if !strings.HasPrefix(sa.Spec.Script, "#!") || strings.TrimSpace(interp) == "" {
		tb.Fatalf("StepAction %s: script has no #! line", sa.Metadata.Name)
	}
	cmd := exec.CommandContext(ctx, strings.TrimSpace(interp), append([]string{script}, args...)...)
	cmd.Dir = tb.TempDir() // Tekton's default working directory is not the workspace
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	res := stepRun{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		res.code = ee.ExitCode()
	default:
		tb.Fatalf("StepAction %s: %v\n%s", sa.Metadata.Name, err, res.stderr)
	}
	tb.Logf("StepAction %s exited %d\n%s%s", sa.Metadata.Name, res.code, res.stdout, res.stderr)
	return res
}

// runTask runs a Task's steps in order with the given params and source workspace, like one TaskRun:
// every Task volume is a fresh directory unless h.volumes already provides it (the projected token).
// It stops at the first failing step and returns that step's outcome.
func runTask(tb testing.TB, r *resources, h host, name string, given values, source string) stepRun {
	tb.Helper()
	t, ok := r.tasks[name]
	if !ok {
		tb.Fatalf("no Task %q", name)
	}
	params, err := withDefaults(t.Spec.Params, given)
	if err != nil {
		tb.Fatalf("Task %s: %v", name, err)
	}
	vols := map[string]string{}
	for _, v := range t.Spec.Volumes {
		if dir, ok := h.volumes[v.Name]; ok {
			vols[v.Name] = dir
		} else {
			vols[v.Name] = tb.TempDir() // emptyDir
		}
	}
	sc := scope{params: params, workspaces: map[string]string{"source": source}}
	for _, w := range t.Spec.Workspaces {
		if w.Name != "source" {
			sc.workspaces[w.Name] = h.workspaces[w.Name] // an unbound optional workspace's path is ""
		}
	}
	var last stepRun
	for _, st := range t.Spec.Steps {
		if st.Ref == nil {
			tb.Fatalf("Task %s step %s: inline steps are not run here", name, st.Name)
		}
		sa, ok := r.stepActions[st.Ref.Name]
		if !ok {
			tb.Fatalf("Task %s step %s: no StepAction %q", name, st.Name, st.Ref.Name)
		}
		saGiven, err := sc.given(st.Params)
		if err != nil {
			tb.Fatalf("Task %s step %s: %v", name, st.Name, err)
		}
		last = runStepAction(tb, host{imageBin: h.imageBin, volumes: vols}, sa, saGiven)
		if last.code != 0 {
			return last
		}
	}
	return last
}
