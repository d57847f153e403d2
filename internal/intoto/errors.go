package intoto

import "errors"

var errClaimMatch = errors.New(`claim constraint must be a string or {"regexp": "..."}`)
