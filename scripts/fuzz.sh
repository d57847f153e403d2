#!/bin/sh
# Run every native fuzz target of the module briefly (FUZZTIME each, default 10s), one at a time.
# A crash makes go test write the failing input to <package>/testdata/fuzz/<Target>/…: commit that file,
# it becomes a regression case that the normal `go test` run replays. Targets are found with
# `go test -list`, so new ones are picked up without editing this script.
#
# Usage: scripts/fuzz.sh [package-pattern…]   (default ./...)   Env: FUZZTIME=10s, FUZZ_LIST=1 lists only.
# Targets (each parser): intoto FuzzDecodeLayout FuzzDecodeLink FuzzStatementToLink; keys FuzzParseKey;
# intoto FuzzCanonicalJSON; envelope FuzzParse (DSSE, legacy, bundle); sigstore FuzzVerifyBundle; rules FuzzParse
# FuzzGlob; verify FuzzDecodeCandidate FuzzCheckJSONDepth; trust FuzzSignerIdentity; layout FuzzDecode
# (YAML layouts) FuzzSplitWords.
set -eu
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10s}
[ $# -gt 0 ] || set -- ./...
failed=0
for pkg in $(go list "$@"); do
	targets=$(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true)
	for target in $targets; do
		if [ "${FUZZ_LIST:-}" = 1 ]; then
			echo "$pkg $target"
			continue
		fi
		echo "== $pkg $target ($FUZZTIME)"
		if ! go test "$pkg" -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME"; then
			echo "FAILED: $pkg $target (see $pkg testdata/fuzz/$target)" >&2
			failed=1
		fi
	done
done
exit $failed
