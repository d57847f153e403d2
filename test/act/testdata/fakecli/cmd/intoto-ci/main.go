// Command intoto-ci here is a stand-in with the real flag names, used by the plumbing test to exercise
// action.yml under act (inputs, build from source, upload, download, outputs) without signing anything.
// run: runs the command after --, writes <step>.<random>.link naming the step; verify: lists the links.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fmt.Fprintln(os.Stderr, "fake intoto-ci", strings.Join(args, " "))
	if len(args) == 0 {
		return 2
	}
	flags := map[string]string{}
	var argv []string
	for i := 1; i < len(args); i++ {
		if args[i] == "--" {
			argv = args[i+1:]
			break
		}
		if strings.HasPrefix(args[i], "--") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			flags[args[i]] = args[i+1]
			i++
		}
	}
	switch args[0] {
	case "run":
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return 1
		}
		b := make([]byte, 4)
		if _, err := rand.Read(b); err != nil {
			return 3
		}
		name := filepath.Join(flags["--links-dir"], flags["--step"]+"."+hex.EncodeToString(b)+".link")
		if err := os.WriteFile(name, []byte(`{"step":"`+flags["--step"]+`"}`), 0o644); err != nil {
			return 3
		}
		return 0
	case "verify":
		entries, err := os.ReadDir(flags["--links-dir"])
		if err != nil {
			return 2
		}
		var report strings.Builder
		report.WriteString("## fake verification\n\n")
		for _, e := range entries {
			fmt.Fprintf(&report, "- link %s\n", e.Name())
		}
		fmt.Print(report.String()) // like --report: the report on stdout, and in --report-file
		if err := os.WriteFile(flags["--report-file"], []byte(report.String()), 0o644); err != nil {
			return 3
		}
		return 0
	}
	return 2
}
