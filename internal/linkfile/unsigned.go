package linkfile

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// Unsigned is a link whose keyless signature failed, kept in the job's workspace. RunKey binds it to
// the job that witnessed the step: SignUnsigned refuses it in any other job or run.
type Unsigned struct {
	Type        string `json:"_type"`
	Step        string `json:"step"`
	RunKey      string `json:"run_key"`
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`

	path    string // the file it was read from
	payload []byte // Payload decoded
}

const unsignedType = "intoto-ci/unsigned-link/v1"

// UnsignedPath is where the unsigned link of step is kept in dir.
func UnsignedPath(dir, step string) string {
	return filepath.Join(dir, "."+step+".link-unsigned.json")
}

func keepUnsigned(dir, step, runKey string, payload []byte) (string, error) {
	data, err := json.MarshalIndent(Unsigned{
		Type:        unsignedType,
		Step:        step,
		RunKey:      runKey,
		PayloadType: intoto.PayloadType,
		Payload:     base64.StdEncoding.EncodeToString(payload),
	}, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode unsigned link: %w", err)
	}
	path := UnsignedPath(dir, step)
	return path, WriteFile(path, data)
}

// ReadUnsigned reads a kept unsigned link; an error means path is not one.
func ReadUnsigned(path string) (*Unsigned, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read unsigned link: %w", err)
	}
	var u Unsigned
	if err := json.Unmarshal(data, &u); err != nil || u.Type != unsignedType {
		return nil, fmt.Errorf("%s: not an unsigned link kept by intoto-ci run", path)
	}
	if u.payload, err = base64.StdEncoding.DecodeString(u.Payload); err != nil {
		return nil, fmt.Errorf("%s: payload: %w", path, err)
	}
	u.path = path
	return &u, nil
}

// Path is the file the unsigned link was read from.
func (u *Unsigned) Path() string { return u.path }

// Bytes is the payload to be signed, decoded.
func (u *Unsigned) Bytes() []byte { return u.payload }

// CheckUnsigned refuses a kept unsigned link outside the job that kept it (JobError; runKey is this
// job's), or one run could not have written (Refused): a step name that is no plain file name (it
// names the signed file), a payload of another step, or an artifact name verify would refuse. What it
// cannot catch is a well-formed edit by something that ran later in the same job: see README
// "Security stance".
func CheckUnsigned(u *Unsigned, runKey string) error {
	if runKey != u.RunKey {
		return &JobError{msg: fmt.Sprintf("%s was recorded by another job (%s, this is %s): only the job that saw a step may sign it",
			u.path, u.RunKey, runKey)}
	}
	if err := checkUnsignedPayload(u); err != nil {
		return &Refused{Reason: fmt.Sprintf("%s: %v; not signed", u.path, err)}
	}
	return nil
}

func checkUnsignedPayload(u *Unsigned) error {
	if err := intoto.CheckStepName(u.Step); err != nil {
		return fmt.Errorf("step %w", err)
	}
	l, err := wire.DecodeLinkPayload(u.payload)
	if err != nil {
		return err
	}
	if l.Name != u.Step {
		return fmt.Errorf("the payload is a link of step %q, not %q", l.Name, u.Step)
	}
	for _, arts := range []intoto.ArtifactSet{l.Materials, l.Products} {
		for _, name := range arts.Names() {
			if err := intoto.CheckArtifactName(name); err != nil {
				return err
			}
		}
	}
	return nil
}

// SignUnsigned signs a kept unsigned link keylessly (CheckUnsigned it first), writes the bundle beside
// it and removes it; it returns the bundle's path. A signing failure leaves it for another try.
func (s *Signer) SignUnsigned(ctx context.Context, u *Unsigned) (string, error) {
	if s.Keyed() {
		return "", errors.New("an unsigned link is signed keylessly")
	}
	data, err := s.keyless.Sign(ctx, intoto.PayloadType, u.payload)
	if err != nil {
		return "", fmt.Errorf("sign %s: %w (the unsigned link stays for another try)", u.path, err)
	}
	signer, err := s.backend.BundleSigner(ctx, data)
	if err != nil {
		return "", fmt.Errorf("read signed bundle: %w", err)
	}
	path := filepath.Join(filepath.Dir(u.path), keylessName(u.Step, signer, u.payload))
	if err := WriteFile(path, data); err != nil {
		return "", err
	}
	if err := os.Remove(u.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("remove %s: %w", u.path, err)
	}
	return path, nil
}
