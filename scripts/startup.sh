#!/usr/bin/env bash
# Start-up of two intoto-ci binaries, side by side: 200 runs of `version` and 200 key-signed `run`s
# of `true` (one material) per round, the two binaries taking turns, ROUNDS rounds (default 5). Prints,
# per round and binary, milliseconds per run: wall clock and CPU (user+sys). Nothing is asserted: on a
# shared machine compare the CPU columns and the minima.
#
#   scripts/startup.sh OLD-BINARY NEW-BINARY
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 OLD-BINARY NEW-BINARY" >&2; exit 2; }
old=$(realpath "$1") new=$(realpath "$2")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
"$old" key generate -o k >/dev/null
mkdir w && echo hi >w/a
TIMEFORMAT='%R %U %S'
loop() { # BIN CMD…: 200 runs, prints "wall-ms cpu-ms" per run
  local t
  t=$( { time (for _ in $(seq 200); do "$@" >/dev/null 2>&1; done); } 2>&1 )
  awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%.1f %.1f", a[1] * 5, (a[2] + a[3]) * 5 }'
}
printf '%-5s %-4s %22s %22s\n' round bin "version wall/cpu ms" "run wall/cpu ms"
for r in $(seq "${ROUNDS:-5}"); do
  for b in old new; do
    bin=$old
    [ $b = new ] && bin=$new
    v=$(loop "$bin" version)
    k=$(loop "$bin" run --step s --key k --links-dir w --base-path w --materials a -- true)
    printf '%-5s %-4s %22s %22s\n' "$r" "$b" "$v" "$k"
  done
done
