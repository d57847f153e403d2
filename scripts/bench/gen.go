package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// genParams are the inputs of the generated trees; a directory generated with other params is rebuilt.
type genParams struct {
	Version    int   `json:"version"`
	Files      int   `json:"files"`       // record tree: number of files
	AvgSize    int   `json:"avg_size"`    // record tree: mean file size in bytes
	Artifacts  int   `json:"artifacts"`   // big verify chain: artifacts per step
	Small      int   `json:"small"`       // small verify chain: artifacts per step
	ManyFiles  int   `json:"many_files"`  // memory check: tiny files to record (0 = skipped)
	TotalBytes int64 `json:"total_bytes"` // filled in by generate
}

const genVersion = 2

func paramsFor(scale float64, many bool) genParams {
	n := func(full int) int { return max(1, int(float64(full)*scale)) }
	p := genParams{Version: genVersion, Files: n(100_000), AvgSize: 10_000, Artifacts: n(100_000), Small: 10}
	if many {
		p.ManyFiles = n(1_000_000)
	}
	return p
}

// keys are the deterministic ed25519 keys of the benchmark: the layout owner and the functionary.
type benchKeys struct {
	owner, fn *keys.Key
}

func keyFromSeed(name string) (*keys.Key, ed25519.PrivateKey, error) {
	seed := sha256.Sum256([]byte("intoto-ci bench key " + name))
	priv := ed25519.NewKeyFromSeed(seed[:])
	k, err := keys.FromCrypto(priv)
	return k, priv, err
}

// writeKey writes NAME.pem (PKCS#8, for intoto-ci and in-toto-golang), NAME.pub.pem, NAME.json (the
// securesystemslib private key file in-toto-python reads) and NAME.pub.json.
func writeKey(dir, name string) (*keys.Key, error) {
	k, priv, err := keyFromSeed(name)
	if err != nil {
		return nil, err
	}
	privPEM, err := k.PrivatePEM()
	if err != nil {
		return nil, err
	}
	pubPEM, err := k.PublicPEM()
	if err != nil {
		return nil, err
	}
	obj := func(private bool) ([]byte, error) {
		kv := map[string]string{"public": k.KeyVal.Public}
		m := map[string]any{"keytype": "ed25519", "scheme": "ed25519", "keyid_hash_algorithms": []string{"sha256", "sha512"}}
		if private {
			kv["private"] = hex.EncodeToString(priv.Seed())
			m["keyid"] = k.ID()
		}
		m["keyval"] = kv
		return json.Marshal(m)
	}
	privJSON, err := obj(true)
	if err != nil {
		return nil, err
	}
	pubJSON, err := obj(false)
	if err != nil {
		return nil, err
	}
	for file, data := range map[string][]byte{
		name + ".pem": privPEM, name + ".pub.pem": pubPEM, name + ".json": privJSON, name + ".pub.json": pubJSON,
	} {
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o600); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// generate builds every input under dir unless dir/params.json already records the same params.
func generate(dir string, p genParams, log func(string, ...any)) (genParams, error) {
	marker := filepath.Join(dir, "params.json")
	if b, err := os.ReadFile(marker); err == nil {
		var got genParams
		if json.Unmarshal(b, &got) == nil {
			want := got
			want.TotalBytes = 0
			if want == p {
				return got, nil
			}
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return p, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o755); err != nil {
		return p, err
	}
	var ks benchKeys
	var err error
	if ks.owner, err = writeKey(filepath.Join(dir, "keys"), "owner"); err != nil {
		return p, err
	}
	if ks.fn, err = writeKey(filepath.Join(dir, "keys"), "func"); err != nil {
		return p, err
	}
	log("generating record tree: %d files of ~%d bytes", p.Files, p.AvgSize)
	if p.TotalBytes, err = writeTree(filepath.Join(dir, "record", "tree"), p.Files, p.AvgSize); err != nil {
		return p, err
	}
	if p.ManyFiles > 0 {
		log("generating memory tree: %d tiny files", p.ManyFiles)
		if _, err := writeTree(filepath.Join(dir, "many", "tree"), p.ManyFiles, 0); err != nil {
			return p, err
		}
	}
	log("generating verify chains: %d and %d artifacts per step", p.Artifacts, p.Small)
	if err := writeChain(filepath.Join(dir, "verify-big"), p.Artifacts, ks); err != nil {
		return p, err
	}
	if err := writeChain(filepath.Join(dir, "verify-small"), p.Small, ks); err != nil {
		return p, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "wrap"), 0o755); err != nil {
		return p, err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return p, err
	}
	return p, os.WriteFile(marker, b, 0o644)
}

// treePath names file i of a tree: 100 files per directory.
func treePath(i int) string { return fmt.Sprintf("d%04d/f%06d.bin", i/100, i) }

// writeTree writes n files of pseudo-random content (seeded by index), sizes uniform around avg
// (avg 0: 1..16 bytes), with two goroutines. It returns the total size.
func writeTree(root string, n, avg int) (int64, error) {
	var total int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	const workers = 2
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			buf := make([]byte, 0, 2*avg+16)
			var sum int64
			for i := w; i < n; i += workers {
				r := rand.New(rand.NewChaCha8(seedOf(i)))
				size := 1 + r.IntN(16)
				if avg > 0 {
					size = avg/5 + r.IntN(avg*8/5+1)
				}
				buf = buf[:size]
				for j := 0; j+8 <= size; j += 8 {
					v := r.Uint64()
					for k := 0; k < 8; k++ {
						buf[j+k] = byte(v >> (8 * k))
					}
				}
				for j := size &^ 7; j < size; j++ {
					buf[j] = byte(r.Uint32())
				}
				p := filepath.Join(root, treePath(i))
				if i%100 == 0 || i < workers {
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						mu.Lock()
						firstErr = errors.Join(firstErr, err)
						mu.Unlock()
						return
					}
				}
				if err := writeFile(p, buf); err != nil {
					mu.Lock()
					firstErr = errors.Join(firstErr, err)
					mu.Unlock()
					return
				}
				sum += int64(size)
			}
			mu.Lock()
			total += sum
			mu.Unlock()
		})
	}
	wg.Wait()
	return total, firstErr
}

func writeFile(p string, b []byte) error {
	err := os.WriteFile(p, b, 0o644)
	if errors.Is(err, os.ErrNotExist) { // the other worker has not made the directory yet
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		err = os.WriteFile(p, b, 0o644)
	}
	return err
}

func seedOf(i int) [32]byte {
	var s [32]byte
	for k := 0; k < 8; k++ {
		s[k] = byte(uint64(i) >> (8 * k))
	}
	s[31] = 0x5a
	return s
}

// The chain: fetch creates src/*; build takes them (MATCH), keeps half, creates obj/*; package takes
// build's products (MATCH), creates dist/*, keeps src/* and obj/*. Every step has n materials or products.
var (
	chainSteps = []string{"fetch", "build", "package"}
	chainRules = map[string][2][]intoto.Rule{
		"fetch": {
			{{"DISALLOW", "*"}},
			{{"CREATE", "src/*"}, {"DISALLOW", "*"}},
		},
		"build": {
			{{"MATCH", "src/*", "WITH", "PRODUCTS", "FROM", "fetch"}, {"DISALLOW", "*"}},
			{{"MATCH", "src/*", "WITH", "PRODUCTS", "FROM", "fetch"}, {"CREATE", "obj/*"}, {"DISALLOW", "*"}},
		},
		"package": {
			{{"MATCH", "*", "WITH", "PRODUCTS", "FROM", "build"}, {"DISALLOW", "*"}},
			{{"MATCH", "obj/*", "WITH", "PRODUCTS", "FROM", "build"}, {"CREATE", "dist/*"}, {"ALLOW", "src/*"}, {"DISALLOW", "*"}},
		},
	}
)

func digestOf(name string) intoto.Digests {
	s := sha256.Sum256([]byte(name))
	return intoto.Digests{"sha256": hex.EncodeToString(s[:])}
}

func artifactsOf(prefix string, from, to int) map[string]intoto.Digests {
	a := make(map[string]intoto.Digests, to-from)
	for i := from; i < to; i++ {
		name := fmt.Sprintf("%s/m%03d/file%07d.c", prefix, i%997, i)
		a[name] = digestOf(name)
	}
	return a
}

func merge(as ...map[string]intoto.Digests) intoto.ArtifactSet {
	out := map[string]intoto.Digests{}
	for _, a := range as {
		for k, v := range a {
			out[k] = v
		}
	}
	return intoto.NewArtifactSet(out)
}

// writeChain writes DIR/root.layout (legacy envelope, signed by the owner) and DIR/links/*.link
// (legacy envelope, signed by the functionary): in-toto-python 1.3.1 reads only legacy envelopes.
func writeChain(dir string, n int, ks benchKeys) error {
	if err := os.MkdirAll(filepath.Join(dir, "links"), 0o755); err != nil {
		return err
	}
	half := max(1, n/2)
	src := merge(artifactsOf("src", 0, n))
	build := merge(artifactsOf("src", 0, half), artifactsOf("obj", 0, n-half))
	pkg := merge(artifactsOf("src", 0, half), artifactsOf("obj", 0, n-half-n/10), artifactsOf("dist", 0, n/10))
	links := map[string][2]intoto.ArtifactSet{
		"fetch":   {{}, src},
		"build":   {src, build},
		"package": {build, pkg},
	}
	for _, step := range chainSteps {
		l := &intoto.Link{Type: intoto.TypeLink, Name: step, Command: []string{"make", step},
			Materials: links[step][0], Products: links[step][1],
			ByProducts: map[string]any{"return-value": 0, "stdout": "", "stderr": ""}, Environment: map[string]any{}}
		payload, err := wire.MarshalLink(l)
		if err != nil {
			return err
		}
		env, err := envelope.SignLegacy(payload, ks.fn)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "links", intoto.LinkFileName(step, ks.fn.ID())), env, 0o644); err != nil {
			return err
		}
	}
	layout := &intoto.Layout{Type: intoto.TypeLayout, Expires: "2099-01-01T00:00:00Z", Readme: "intoto-ci benchmark",
		Keys: map[string]*intoto.Key{ks.fn.ID(): ks.fn.Record()}}
	for _, step := range chainSteps {
		layout.Steps = append(layout.Steps, &intoto.Step{Type: intoto.TypeStep, Name: step,
			ExpectedMaterials: chainRules[step][0], ExpectedProducts: chainRules[step][1],
			PubKeys: []string{ks.fn.ID()}, ExpectedCommand: []string{"make", step}, Threshold: 1})
	}
	payload, err := json.Marshal(layout)
	if err != nil {
		return err
	}
	env, err := envelope.SignLegacy(payload, ks.owner)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "root.layout"), env, 0o644)
}

// listTree returns the regular files under root, sorted.
func listTree(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	slices.Sort(files)
	return files, err
}

func readParams(dir string) (genParams, error) {
	var p genParams
	b, err := os.ReadFile(filepath.Join(dir, "params.json"))
	if err != nil {
		return p, err
	}
	return p, json.Unmarshal(b, &p)
}
