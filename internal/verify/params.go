package verify

import "strings"

// ParseParams reads layout parameters written name=value (the value may hold "=" and be empty) into
// Options.Params; the first without a name or "=" is returned as bad.
func ParseParams(list []string) (params map[string]string, bad string) {
	if len(list) == 0 {
		return nil, ""
	}
	params = map[string]string{}
	for _, p := range list {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, p
		}
		params[k] = v
	}
	return params, ""
}
