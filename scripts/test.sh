#!/usr/bin/env bash
# Runs every test of the main module and of the tools module inside a network namespace of its own
# (only loopback is up, so no test server is reachable from outside), then summarises go test -json.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

export PATH="$(go env GOPATH)/bin:${INTOTO_CI_TOOLS:-$HOME/.cache/intoto-ci-tools}/node_modules/.bin:$PATH"
# Everything is compiled before entering the namespace: the module proxy is unreachable inside it.
go build ./... >/dev/null
go test -count=1 -run '^$' ./... >/dev/null
if [ -f tools/go.mod ]; then (cd tools && go test -count=1 -run '^$' ./... >/dev/null); fi

inner='
set -uo pipefail
ip link set lo up
export GOFLAGS=-mod=mod GOPROXY=off
rc=0
go test -json -count=1 -timeout 40m ${GOTESTFLAGS:-} ./... >"$OUT/main.json" || rc=$?
if [ -f tools/go.mod ]; then (cd tools && go test -json -count=1 -timeout 20m ./... >"$OUT/tools.json") || rc=$?; fi
exit $rc
'
rc=0
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
  OUT=$out unshare -n bash -c "$inner" || rc=$?
else
  echo "[test] cannot create a network namespace here: running on the host network" >&2
  OUT=$out bash -c "${inner/ip link set lo up/true}" || rc=$?
fi

summary=0
cat "$out"/*.json | go run ./scripts/testsummary || summary=$?

# Every fuzz target briefly, so a parser that panics on its own seeds or on a quick mutation fails CI
# (FUZZTIME=0 skips this; `make fuzz` runs them longer). A count, not a duration: a wall-clock
# -fuzztime can end inside the fuzzing engine's own work and fail with "context deadline exceeded".
fuzz=0
if [ "${FUZZTIME:-5000x}" != 0 ]; then
  echo "[test] fuzzing every target for ${FUZZTIME:-5000x}" >&2
  FUZZTIME=${FUZZTIME:-5000x} sh scripts/fuzz.sh ./internal/... >"$out/fuzz.log" 2>&1 || fuzz=$?
  grep -E '^(==|FAILED|--- FAIL)' "$out/fuzz.log" || true
  if [ $fuzz -ne 0 ]; then
    tail -50 "$out/fuzz.log"
    echo "fuzzing failed" >&2
  else
    echo "fuzz: $(grep -c '^==' "$out/fuzz.log") targets ran clean"
  fi
fi
[ $summary -ne 0 ] && exit $summary
[ $rc -ne 0 ] && exit $rc
exit $fuzz
