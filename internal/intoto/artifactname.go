package intoto

import (
	"errors"
	"fmt"
	"strings"
)

// ErrArtifactName is the sentinel of an artifact name that is not a clean relative slash path.
var ErrArtifactName = errors.New("artifact name is not a clean relative slash path")

// CheckArtifactName accepts exactly the names an honest recorder writes: clean relative slash paths,
// what path.Clean leaves unchanged, that are not empty, not ".", not absolute, hold no ".." segment and
// no NUL, CR, LF or backslash. Any other name could be read as a different file by a consumer that
// treats names as paths (GHSA-vrxp-mg9f-hwf3: in-toto-golang cleans names, in-toto-python keeps
// them), so intoto-ci never writes one and verify refuses a link that holds one.
//
// It runs once per recorded and per verified artifact, so it is one pass over the bytes, without
// allocating unless the name is refused.
func CheckArtifactName(name string) error {
	if why := artifactNameProblem(name); why != "" {
		return fmt.Errorf("%w: %q %s", ErrArtifactName, name, why)
	}
	return nil
}

func artifactNameProblem(name string) string {
	// The common case, decided with a few vectorised searches: no byte to refuse, no "//", no
	// segment that starts with a dot, no slash at either end.
	if name != "" && name[0] != '/' && name[0] != '.' && name[len(name)-1] != '/' &&
		strings.IndexByte(name, '\\') < 0 && strings.IndexByte(name, '\n') < 0 && strings.IndexByte(name, '\r') < 0 &&
		strings.IndexByte(name, 0) < 0 && !strings.Contains(name, "//") && !strings.Contains(name, "/.") {
		return ""
	}
	return artifactNameProblemSlow(name)
}

func artifactNameProblemSlow(name string) string {
	switch {
	case name == "":
		return "is empty"
	case name == ".":
		return `is "."`
	case name[0] == '/':
		return "is absolute"
	}
	// One pass: every byte above '\\' (lower-case letters among them) is fine as it is; the others are
	// looked at, and each segment is checked at its end.
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) {
			c := name[i]
			if c > '\\' {
				continue
			}
			switch c {
			case 0, '\r', '\n', '\\':
				return fmt.Sprintf("holds %q", c)
			case '/':
			default:
				continue
			}
		}
		switch seg := name[start:i]; {
		case seg == "" && i == len(name):
			return "ends with a slash"
		case seg == "":
			return "holds an empty segment (//)"
		case seg == ".":
			return `holds a "." segment`
		case seg == "..":
			return `holds a ".." segment`
		}
		start = i + 1
	}
	return ""
}

// CheckStepName accepts a step or inspection name that can be one file-name segment: what
// CheckArtifactName accepts, without a slash. Link files, sublayout directories and unfinished links
// are named after steps, so a name like "../x" would point outside the links directory.
func CheckStepName(name string) error {
	if artifactNameProblem(name) != "" || strings.Contains(name, "/") {
		return fmt.Errorf("name %q is not a plain name (no slash, backslash, NUL, CR or LF; not . or ..)", name)
	}
	return nil
}
