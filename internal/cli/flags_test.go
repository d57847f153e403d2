package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// everyFlagSet lists every command line that has flags of its own (subcommands too).
var everyFlagSet = [][]string{
	{"run"}, {"record", "start"}, {"record", "stop"}, {"verify"}, {"attach"}, {"verify-vsa"}, {"sign"},
	{"layout", "build"}, {"layout", "sign"}, {"layout", "init"}, {"layout", "lint"},
	{"key", "generate"}, {"key", "id"}, {"trusted-root", "fetch"}, {"trusted-root", "create"},
	{"match-products"}, {"demo"},
}

var flagLine = regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)

// flagsOf returns the flags a command line's -h lists.
func flagsOf(t *testing.T, cmd []string) map[string]bool {
	t.Helper()
	r := invoke(t, nil, append(append([]string(nil), cmd...), "-h")...)
	if r.code != ExitOK {
		t.Fatalf("%s -h: exit %d\n%s", strings.Join(cmd, " "), r.code, r.err)
	}
	got := map[string]bool{}
	for _, m := range flagLine.FindAllStringSubmatch(r.err, -1) {
		got[m[1]] = true
	}
	return got
}

// TestOutputFlagSpellings: every command that writes a file takes --output and its short spelling -o,
// and nothing else is called -o.
func TestOutputFlagSpellings(t *testing.T) {
	t.Parallel()
	writers := 0
	for _, cmd := range everyFlagSet {
		flags := flagsOf(t, cmd)
		if len(flags) == 0 {
			t.Errorf("%s -h lists no flags: the check would prove nothing", strings.Join(cmd, " "))
		}
		if flags["o"] != flags["output"] {
			t.Errorf("%s: -o %v but --output %v: want both or neither", strings.Join(cmd, " "), flags["o"], flags["output"])
		}
		if flags["output"] {
			writers++
		}
	}
	if writers != 7 {
		t.Errorf("%d commands take --output, want 7 (sign, layout build/sign/init, key generate, trusted-root fetch/create)", writers)
	}
}

// The two spellings are one flag: key generate writes the same files with either.
func TestOutputSpellingsAreOneFlag(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, spelling := range []string{"-o", "--output"} {
		prefix := filepath.Join(dir, "k"+strings.TrimLeft(spelling, "-"))
		if r := invoke(t, nil, "key", "generate", spelling, prefix); r.code != ExitOK {
			t.Fatalf("key generate %s: exit %d: %s", spelling, r.code, r.err)
		}
		for _, f := range []string{prefix, prefix + ".pub"} {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("key generate %s: %v", spelling, err)
			}
		}
	}
}

// TestSubcommandHelp: every command with subcommands prints its usage and exits 0 on -h, --help and
// help, and refuses a missing or unknown subcommand with exit 2 naming the ones it has. Each of its
// subcommands has its own flags, listed in everyFlagSet.
func TestSubcommandHelp(t *testing.T) {
	t.Parallel()
	var withSubs []string
	for _, c := range commands() {
		if len(c.subs) == 0 {
			continue
		}
		withSubs = append(withSubs, c.name)
		for _, h := range []string{"-h", "--help", "help"} {
			r := invoke(t, nil, c.name, h)
			if r.code != ExitOK || !strings.Contains(r.err, "Usage: intoto-ci "+c.name+" ") || !strings.Contains(r.err, c.summary) {
				t.Errorf("%s %s: exit %d, want 0 and the usage\n%s", c.name, h, r.code, r.err)
			}
		}
		if r := invoke(t, nil, c.name); r.code != ExitUsage || !strings.Contains(r.err, c.name+" needs a subcommand: ") {
			t.Errorf("%s without a subcommand: exit %d, want 2\n%s", c.name, r.code, r.err)
		}
		if r := invoke(t, nil, c.name, "bogus"); r.code != ExitUsage || !strings.Contains(r.err, `unknown `+c.name+` subcommand "bogus"`) {
			t.Errorf("%s bogus: exit %d, want 2\n%s", c.name, r.code, r.err)
		}
		for _, s := range c.subs {
			listed := false
			for _, cmd := range everyFlagSet {
				listed = listed || (len(cmd) == 2 && cmd[0] == c.name && cmd[1] == s.name)
			}
			if !listed {
				t.Errorf("%s %s is missing from everyFlagSet", c.name, s.name)
			}
		}
	}
	if got := strings.Join(withSubs, " "); got != "record layout key trusted-root" {
		t.Errorf("commands with subcommands: %q, want record layout key trusted-root", got)
	}
}
