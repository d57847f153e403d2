//go:build !linux

package runner

// ProtectSelf does nothing outside Linux (see protect_linux.go).
func ProtectSelf() error { return nil }
