package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/testutil/shapes"
)

// The shape works (issue 17): verify time as one dimension of the input grows, the others small.
// Sizes are the at scale 1, scaled down (to at least 2) for a quick run.
type shapeCase struct {
	dim  string // matrix, chain or rules
	size int
}

func (s shapeCase) name() string { return fmt.Sprintf("%s-%d", s.dim, s.size) }

func (s shapeCase) desc() string {
	switch s.dim {
	case "matrix":
		return fmt.Sprintf("matrix: 1 step, M=%d DSSE links (threshold M)", s.size)
	case "chain":
		return fmt.Sprintf("chain: N=%d steps, each MATCHing the last", s.size)
	}
	return fmt.Sprintf("rules: 1 step, %d rules", s.size)
}

// shapeCases lists the cases at scale.
func shapeCases(scale float64) []shapeCase {
	n := func(full int) int { return max(2, int(float64(full)*scale)) }
	var out []shapeCase
	for _, m := range []int{10, 100, 1000, 2000} {
		out = append(out, shapeCase{"matrix", n(m)})
	}
	for _, c := range []int{10, 100, 1000, 5000} {
		out = append(out, shapeCase{"chain", n(c)})
	}
	for _, r := range []int{1000, 10_000} {
		out = append(out, shapeCase{"rules", n(r)})
	}
	return out
}

// shapeArtifacts is the number of artifacts of every link of the shape works.
const shapeArtifacts = 10

// generateShapes writes every case under dir/shapes/<name> unless its marker says it is there.
func generateShapes(dir string, scale float64, log func(string, ...any)) error {
	for _, c := range shapeCases(scale) {
		d := filepath.Join(dir, "shapes", c.name())
		marker := filepath.Join(d, "done")
		if _, err := os.Stat(marker); err == nil {
			continue
		}
		if err := os.RemoveAll(d); err != nil {
			return err
		}
		log("generating %s", c.desc())
		var err error
		switch c.dim {
		case "matrix":
			_, err = shapes.Matrix(d, c.size, shapeArtifacts)
		case "chain":
			_, err = shapes.Chain(d, c.size, shapeArtifacts)
		default:
			_, err = shapes.Rules(d, c.size, shapeArtifacts)
		}
		if err != nil {
			return fmt.Errorf("generate %s: %w", c.name(), err)
		}
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// shapeCmd verifies one case with tool (intoto-ci or golang; python has no DSSE links).
func (b *bench) shapeCmd(tool string, c shapeCase) *command {
	d := filepath.Join(b.c.dir, "shapes", c.name())
	switch tool {
	case "intoto-ci":
		return &command{d, []string{b.tools[tool], "verify", "--layout", "root.layout", "--layout-key", "owner.pub.pem",
			"--links-dir", "links"}, nil}
	case "golang":
		return &command{d, []string{b.tools[tool], "verify", "-l", "root.layout", "-k", "owner.pub.pem", "-d", "links"}, nil}
	}
	return nil
}

// measureShapes measures every case with intoto-ci and in-toto-golang.
func (b *bench) measureShapes(ctx context.Context) ([]*row, error) {
	var rows []*row
	for _, c := range shapeCases(b.c.scale) {
		r := &row{Work: "shape " + c.name(), Desc: c.desc(), Tools: map[string]*stat{}, shape: c}
		for _, tool := range append([]string{"intoto-ci"}, b.c.peers...) {
			cmd := b.shapeCmd(tool, c)
			if cmd == nil {
				continue
			}
			runs := 0
			if c.size <= 100 {
				runs = smallRuns // a few milliseconds each: three samples say little on a shared machine
			}
			s, err := b.measure(ctx, cmd, runs)
			if err != nil {
				return nil, fmt.Errorf("%s with %s: %w", c.name(), tool, err)
			}
			r.Tools[tool] = s
			b.log("%-14s %-10s wall %.3fs cpu %.3fs rss %.0f MB", c.name(), tool, s.Wall, s.CPU, s.RSSMB)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// printExponents prints, per dimension and tool, how wall and CPU time grow with the size between the
// two largest sizes: t ∝ size^k. Process start and the layout weigh on the small sizes, so those are
// left out; k = 1 is linear. CPU time is the steadier of the two on a shared machine.
func printExponents(w io.Writer, rows []*row) map[string]map[string][2]float64 {
	out := map[string]map[string][2]float64{}
	last := map[string][2]*row{}
	for _, r := range rows {
		if r.shape.dim == "" {
			continue
		}
		p := last[r.shape.dim]
		last[r.shape.dim] = [2]*row{p[1], r}
	}
	for _, dim := range []string{"matrix", "chain", "rules"} {
		p := last[dim]
		if p[0] == nil || p[0].shape.size == p[1].shape.size {
			continue
		}
		growth := math.Log(float64(p[1].shape.size) / float64(p[0].shape.size))
		var parts []string
		for _, tool := range []string{"intoto-ci", "golang"} {
			a, b := p[0].Tools[tool], p[1].Tools[tool]
			if a == nil || b == nil || a.Wall <= 0 || b.Wall <= 0 || a.CPU <= 0 || b.CPU <= 0 {
				continue
			}
			k := [2]float64{math.Log(b.Wall/a.Wall) / growth, math.Log(b.CPU/a.CPU) / growth}
			if out[dim] == nil {
				out[dim] = map[string][2]float64{}
			}
			out[dim][tool] = k
			parts = append(parts, fmt.Sprintf("%s %.2f (cpu %.2f)", tool, k[0], k[1]))
		}
		fmt.Fprintf(w, "growth exponent of %s (%d → %d): %s\n", dim, p[0].shape.size, p[1].shape.size, strings.Join(parts, ", "))
	}
	return out
}

// exponentsJSON is printExponents' result as one JSON object, for the JSON line.
func exponentsJSON(e map[string]map[string][2]float64) json.RawMessage {
	b, err := json.Marshal(e)
	if err != nil {
		return nil
	}
	return b
}
