package ci

import "strings"

// oneLine folds s onto one line, as annotations need.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
