#!/usr/bin/env bash
# Benchmarks intoto-ci against in-toto-python 1.3.1 and in-toto-golang v0.11.0 (installed by
# .ci/setup, as for the tests) on the same generated inputs, and prints a table of medians and ratios
# plus one JSON line. Nothing is asserted: timings depend on the machine.
#
# Environment:
#   BENCH_SCALE  size relative to the issue's inputs (default 1: 100k files / 1000 MB to record,
#                100k artifacts per step to verify); e.g. 0.1 for a quick run
#   BENCH_RUNS   timed runs per measurement, after one warm-up run (default 3)
#   BENCH_DIR    where inputs are generated and kept between runs (default $TMPDIR/intoto-ci-bench)
#   BENCH_PEERS  python,golang (default), golang, python or none
#   BENCH_ONLY   comma-separated subset of record,verify-big,verify-small,wrap,many,shapes (shapes: verify
#                as links per step, steps and rules grow, with the growth exponent of each)
#   BENCH_MANY   1 to also record 1M tiny files (scaled) and compare peak RSS with the link size
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$(go env GOPATH)/bin:$PATH"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
CGO_ENABLED=0 go build -trimpath -o "$out/" ./cmd/intoto-ci ./cmd/intoto-ci-sigstore
go build -o "$out/bench" ./scripts/bench
args=(-intoto-ci "$out/intoto-ci" -scale "${BENCH_SCALE:-1}" -runs "${BENCH_RUNS:-3}"
  -dir "${BENCH_DIR:-${TMPDIR:-/tmp}/intoto-ci-bench}" -peers "${BENCH_PEERS:-python,golang}")
[ -n "${BENCH_ONLY:-}" ] && args+=(-only "$BENCH_ONLY")
[ "${BENCH_MANY:-0}" = 1 ] && args+=(-many)
"$out/bench" "${args[@]}"

# Keyless signing on the loopback Sigstore stack (Fulcio, TSA, Rekor v2), in a network namespace of its
# own. The test TestKeylessRoundTrips proves one request per service; this prints what they cost. Then
# 1000 bundles verified through one intoto-ci-sigstore, from one caller and from GOMAXPROCS callers
# (in-toto-golang has no keyless verification to compare with).
if [ "${BENCH_KEYLESS:-1}" = 1 ] && [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
  echo
  echo "keyless signing on the loopback stack (mean of ${BENCH_RUNS:-3} signatures each):"
  unshare -n bash -c 'ip link set lo up; GOFLAGS=-mod=mod GOPROXY=off go test -run "^$" -bench KeylessSign \
    -benchtime "${BENCH_RUNS:-3}x" -count 1 ./internal/sigstore' | grep -E '^Benchmark' || true
  echo
  echo "keyless verification of 1000 bundles through the helper (ns per 1000, mean of ${BENCH_RUNS:-3}):"
  unshare -n bash -c 'ip link set lo up; GOFLAGS=-mod=mod GOPROXY=off go test -run "^$" -bench ExecVerifyBundles \
    -benchtime "${BENCH_RUNS:-3}x" -count 1 ./internal/keyless' | grep -E '^Benchmark' || true
fi
