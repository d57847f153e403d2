package verify

import (
	"fmt"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// StageArtifactNames is the stage that refuses links holding artifact names that are not clean
// relative slash paths (intoto.CheckArtifactName). It runs after the links of each step agree
// (stage 7) and before the rules (stage 8).
const StageArtifactNames Stage = "names"

// ErrArtifactName is the sentinel of a refusal by StageArtifactNames.
var ErrArtifactName = intoto.ErrArtifactName

// checkArtifactNames refuses, at its step, the first reduced link (in layout order) whose materials
// or products hold a name intoto.CheckArtifactName refuses. Such a name is never written by an
// honest recorder and could stand for another file to anything that reads names as paths
// ("src/../dist/app" passes "ALLOW src/*"). Every link of a step agrees with the reduced one, so
// checking it checks them all.
func checkArtifactNames(steps []*intoto.Step, reduced map[string]*Evidence) *Failure {
	for _, s := range steps {
		ev := reduced[s.Name]
		if ev == nil {
			continue
		}
		for _, set := range []struct {
			kind string
			set  intoto.ArtifactSet
		}{{"material", ev.Materials}, {"product", ev.Products}} {
			for _, name := range set.set.Names() {
				if err := intoto.CheckArtifactName(name); err != nil {
					f := newFailure(ErrArtifactName, StageArtifactNames, s.Name,
						fmt.Sprintf("%s %v", set.kind, err), err)
					f.Artifacts = []string{name}
					return f
				}
			}
		}
	}
	return nil
}
