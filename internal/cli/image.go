package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/intoto-ci/intoto-ci/internal/keyless"
	"github.com/intoto-ci/intoto-ci/internal/oci"
	"github.com/intoto-ci/intoto-ci/internal/verify"
	"github.com/intoto-ci/intoto-ci/internal/vsa"
)

// imageFlags are the flags of verify --image and attach.
type imageFlags struct {
	ref  string
	step string
	// img is the resolved image, set before verifying.
	img *oci.Image
}

func (f *imageFlags) declare(fs *flag.FlagSet, attach bool) {
	what := "verify the chain attached to this image `ref`erence (REPO@sha256:…; a tag is resolved, with a warning) " +
		"from its OCI referrers; the layout is --layout, else the one attached, pinned by --layout-key/--layout-identity"
	if attach {
		what = "image `ref`erence (REPO@sha256:…; a tag is resolved, with a warning) the verified chain is attached to"
	}
	fs.StringVar(&f.ref, "image", "", what)
	fs.StringVar(&f.step, "image-step", "", "`step` whose products must include a file whose sha256 is the image digest "+
		"(e.g. the manifest the build wrote; default: the layout's last step)")
}

// flagGiven tells whether name was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(fl *flag.Flag) { given = given || fl.Name == name })
	return given
}

// runInHelper runs this command line in intoto-ci-sigstore, beside this executable, which links the
// registry client intoto-ci leaves out (as it does for keyless work). The helper's exit code is ours.
func runInHelper(ctx context.Context, e *env, args []string) error {
	code, err := keyless.RunCommand(ctx, args, e.stdio.In, e.stdio.Out, e.stdio.Err, e.environ())
	if err != nil {
		return fmt.Errorf("registry access runs in %s: %w", keyless.HelperName, err)
	}
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// resolveImage resolves f.image.ref, printing the digest used and warning when it came from a tag.
func resolveImage(ctx context.Context, e *env, f *imageFlags) error {
	img, err := e.registry.Resolve(ctx, f.ref)
	if errors.Is(err, oci.ErrReference) {
		return usagef("--image: %w", err)
	}
	if err != nil {
		return err
	}
	if img.FromTag != "" {
		fmt.Fprintf(e.stdio.Err, "warning: --image %s names a tag, and tags move: using %s (pin that digest)\n", f.ref, img.Ref)
	} else {
		fmt.Fprintf(e.stdio.Err, "image %s\n", img.Ref)
	}
	f.img = img
	return nil
}

// fetchImageChain resolves the image, downloads its referrers into a new directory and points the
// verification at it: the links always, the layout only when --layout was not given. The returned
// cleanup removes the directory; call it even on error.
func fetchImageChain(ctx context.Context, e *env, f *verifyFlags) (func(), error) {
	cleanup := func() {}
	if err := resolveImage(ctx, e, &f.image); err != nil {
		return cleanup, err
	}
	chain, err := oci.FetchChain(ctx, e.registry, f.image.img, e.stdio.Err)
	if chain != nil {
		cleanup = func() { os.RemoveAll(chain.Dir) }
	}
	if err != nil {
		return cleanup, err
	}
	f.linksDir = chain.Links
	if f.layout == "" {
		if f.layout, err = oci.AttachedLayout(chain.Layouts, f.image.img.Ref); err != nil {
			return cleanup, refused(err.Error()) // none or several: a refusal
		}
	}
	return cleanup, nil
}

// checkImageProduct turns a pass into a refusal when no product of the image step (--image-step, else
// the layout's last step) has the image's digest.
func checkImageProduct(e *env, f *verifyFlags, res *verify.Result) error {
	if !res.Verified {
		return nil
	}
	step, err := res.ProducerStep(f.image.step)
	if err != nil && f.image.step != "" {
		return usagef("--image-step %w", err)
	} else if err != nil {
		return usagef("--image: %w", err)
	}
	if name := res.RequireProduct(step, f.image.img.Digest); name != "" {
		fmt.Fprintf(e.stdio.Err, "image %s is product %s of step %s\n", f.image.img.Digest, name, step)
	}
	return nil
}

func attachCommand() *command {
	c := &command{
		name:    "attach",
		summary: "verify a chain, then attach its links, layout and VSA to an image in an OCI registry",
		usage:   "--image REPO@sha256:… --layout FILE (--layout-key FILE… | --layout-identity …) [--links-dir DIR] [--vsa FILE …] [flags]",
	}
	c.run = func(ctx context.Context, e *env, args []string) error {
		fs := newFlagSet(e, c)
		var f verifyFlags
		f.declare(fs)
		f.image.declare(fs, true)
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usagef("unexpected argument %q", fs.Arg(0))
		}
		if f.image.ref == "" {
			return usagef("--image is required")
		}
		if f.layout == "" {
			return usagef("--layout is required")
		}
		if e.registry == nil {
			return runInHelper(ctx, e, append([]string{c.name}, args...))
		}
		return runAttach(ctx, e, &f)
	}
	return c
}

// runAttach verifies exactly as verify --image would after the push, and pushes only a pass.
func runAttach(ctx context.Context, e *env, f *verifyFlags) error {
	if err := resolveImage(ctx, e, &f.image); err != nil {
		return err
	}
	res, err := runVerify(ctx, e, f)
	if err != nil {
		return err
	}
	files, err := chainFiles(f, res)
	if err != nil {
		return err
	}
	pushed, err := e.registry.Attach(ctx, f.image.img, files)
	for _, p := range pushed {
		fmt.Fprintf(e.stdio.Err, "attached %s as %s\n", p.File, p.Digest)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdio.Err, "attached %d files to %s\n", len(pushed), f.image.img.Ref)
	return nil
}

// chainFiles reads what a pass rests on: the layout, every link the verification accepted, and the
// VSA just written.
func chainFiles(f *verifyFlags, res *verify.Result) ([]oci.File, error) {
	links, err := res.LinkFiles()
	if err != nil {
		return nil, usagef("%w: attaching sublayout links is not supported", err)
	}
	c := oci.Chain{Layout: f.layout, VSA: f.vsa.path, VSAPredicateType: vsa.PredicateType}
	for _, l := range links {
		c.Links = append(c.Links, filepath.Join(f.linksDir, l))
	}
	out, err := oci.ReadChain(c)
	if err != nil {
		return nil, inputErr(err)
	}
	return out, nil
}
