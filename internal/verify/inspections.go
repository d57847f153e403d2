package verify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/artifact"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/runner"
)

// ErrInspection is the sentinel of a refusal because an inspection command failed or timed out.
var ErrInspection = errors.New("inspection failed")

// inspectionKillGrace is how long an inspection may take to exit after its timeout sent SIGTERM.
const inspectionKillGrace = 2 * time.Second

// runInspections runs every inspection of the layout in the work directory (stage 9,
// run_all_inspections): materials are recorded before the command and products after it, from ".",
// with in-toto-python's default excludes (*.link*, .git, *.pyc, *~). A non-zero exit or a timeout is
// a refusal; a command that cannot be started is an error. The inspections' links join the reduced
// links (an inspection named like a step replaces it, as in the reference) for stage 10.
func (v *verification) runInspections(ctx context.Context) (*Failure, error) {
	links := map[string]*Evidence{}
	for _, in := range v.layout.Inspections {
		l, f, err := v.runInspection(ctx, in)
		if err != nil || f != nil {
			return f, err
		}
		links[in.Name] = newEvidence(l)
	}
	for name, l := range links {
		v.reduced[name] = l
	}
	return nil, nil
}

func (v *verification) runInspection(ctx context.Context, in *intoto.Inspection) (*intoto.Link, *Failure, error) {
	sr := v.res.step(KindInspection, in.Name)
	v.log.Info("running inspection", "inspection", in.Name, "command", in.Run)
	if len(in.Run) == 0 {
		return nil, nil, fmt.Errorf("inspection %q: empty run command", in.Name)
	}
	record := artifact.Options{BasePath: v.opts.WorkDir, DefaultExcludes: true, Logger: v.log}
	if v.opts.Progress != nil {
		stage := "hashing materials of inspection " + in.Name
		record.Progress = func(files int, bytes int64) {
			v.opts.progress(Progress{Stage: stage, Files: files, Bytes: bytes})
		}
	}
	materials, err := artifact.Record(ctx, []string{"."}, record)
	if err != nil {
		return nil, nil, fmt.Errorf("inspection %q: record materials: %w", in.Name, err)
	}
	runCtx, cancel := context.WithTimeout(ctx, v.opts.InspectionTimeout)
	run, err := runner.Run(runCtx, runner.Options{
		Argv:      in.Run,
		Dir:       v.opts.WorkDir,
		Stdin:     nil,
		KillGrace: inspectionKillGrace,
		OwnGroup:  true,
	})
	timedOut := errors.Is(runCtx.Err(), context.DeadlineExceeded)
	cancel()
	if err != nil {
		return nil, nil, fmt.Errorf("inspection %q: %w", in.Name, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	info := &InspectionRun{Command: in.Run, ExitCode: run.ExitCode, TimedOut: timedOut}
	if sr != nil {
		sr.Inspection = info
	}
	switch {
	case timedOut:
		f := newFailure(ErrInspection, StageInspection, in.Name,
			fmt.Sprintf("inspection %q timed out after %s", in.Name, v.opts.InspectionTimeout))
		return nil, f, nil
	case run.ExitCode != 0:
		f := newFailure(ErrInspection, StageInspection, in.Name,
			fmt.Sprintf("inspection %q: command %q exited with %d", in.Name, in.Run, run.ExitCode))
		return nil, f, nil
	}
	if v.opts.Progress != nil {
		stage := "hashing products of inspection " + in.Name
		record.Progress = func(files int, bytes int64) {
			v.opts.progress(Progress{Stage: stage, Files: files, Bytes: bytes})
		}
	}
	products, err := artifact.Record(ctx, []string{"."}, record)
	if err != nil {
		return nil, nil, fmt.Errorf("inspection %q: record products: %w", in.Name, err)
	}
	return &intoto.Link{
		Type:      intoto.TypeLink,
		Name:      in.Name,
		Command:   in.Run,
		Materials: materials,
		Products:  products,
		ByProducts: map[string]any{
			"return-value": run.ExitCode,
			"stdout":       string(run.Stdout),
			"stderr":       string(run.Stderr),
		},
		Environment: map[string]any{},
	}, nil, nil
}
