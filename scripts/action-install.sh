#!/usr/bin/env bash
# Installs intoto-ci for action.yml: `action-install.sh NAME...` (intoto-ci, intoto-ci-sigstore) puts each
# named binary of the release that checksums.txt at the action's ref lists into one directory per job and
# writes that directory to GITHUB_OUTPUT as dir=. Each archive is downloaded once per job, checked against checksums.txt before
# anything is unpacked from it, and reused by later steps of the job. With version `source` both binaries
# are built from the action's own source with the runner's Go instead.
#
# Environment: GITHUB_ACTION_PATH, RUNNER_TEMP, GITHUB_SERVER_URL (set by the runner); VERSION and
# DOWNLOAD_URL (the action's inputs); ACTION_REPOSITORY (github.action_repository).
# Exit codes: 1 refused (checksum mismatch, no release for this ref, platform or version), 3 download failed.
set -euo pipefail

fail() { # code message
  echo "::error title=intoto-ci::$2"
  echo "intoto-ci install: stopped (exit $1)" # never end on the annotation (see action.yml)
  exit "$1"
}

sums="$GITHUB_ACTION_PATH/checksums.txt"
[ -f "$sums" ] || fail 1 "$sums is missing: the action cannot check a release without it"

# The naming scheme is .goreleaser.yaml's: <binary>_<version>_<os>_<arch>.tar.gz (.zip on windows).
# The release's version and platforms are read from checksums.txt itself, so there is no second list.
line='^[0-9a-f]{64}  intoto-ci_(v[^_]+)_([a-z0-9]+)_([a-z0-9]+)\.(tar\.gz|zip)$'
release=$(sed -En "s/$line/\\1/p" "$sums" | sort -u)
platforms=$(sed -En "s/$line/\\2\\/\\3/p" "$sums" | sort -u | tr '\n' ' ')

if [ "${VERSION:-}" = source ]; then
  command -v go >/dev/null || fail 1 "version: source builds intoto-ci with the runner's Go, and there is none: set up Go first (actions/setup-go) or leave version empty to install the release ${release:-(none listed)}"
  dir="$RUNNER_TEMP/intoto-ci-source-$(printf '%s' "$GITHUB_ACTION_PATH" | cksum | cut -d' ' -f1)"
  if [ ! -x "$dir/intoto-ci" ] || [ ! -x "$dir/intoto-ci-sigstore" ]; then
    echo "::notice title=intoto-ci::version: source: building intoto-ci and intoto-ci-sigstore from $GITHUB_ACTION_PATH with $(go version) (about 90 s with an empty Go build cache; the release installs in about a second)" >&2
    mkdir -p "$dir"
    (cd "$GITHUB_ACTION_PATH" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$dir/" ./cmd/intoto-ci ./cmd/intoto-ci-sigstore) >&2
  fi
  echo "dir=$dir" >>"$GITHUB_OUTPUT"
  exit 0
fi

[ -n "$release" ] || fail 1 "checksums.txt at the action's ref lists no release: pin the action at a release's commit, or set input version: source to build from the action's source with the runner's Go"
case "$release" in *$'\n'*) fail 1 "checksums.txt at the action's ref lists several releases ($(echo $release)): it must list exactly one" ;; esac
if [ -n "${VERSION:-}" ] && [ "$VERSION" != "$release" ]; then
  fail 1 "input version is $VERSION but checksums.txt at the action's ref lists release $release: pin the action at the commit of release $VERSION, or leave version empty"
fi

case "$(uname -s)" in
  Linux) os=linux ;; Darwin) os=darwin ;; MINGW* | MSYS* | CYGWIN* | Windows_NT) os=windows ;; *) os=$(uname -s) ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;; aarch64 | arm64) arch=arm64 ;; *) arch=$(uname -m) ;;
esac
ext=tar.gz exe=
[ "$os" != windows ] || { ext=zip exe=.exe; }
case " $platforms" in
  *" $os/$arch "*) ;;
  *) fail 1 "intoto-ci $release has no build for this runner ($os/$arch); supported: ${platforms% }. Use a supported runner, or version: source to build with Go" ;;
esac

if command -v sha256sum >/dev/null; then sha256_of() { sha256sum "$1" | cut -d' ' -f1; }; else sha256_of() { shasum -a 256 "$1" | cut -d' ' -f1; }; fi
base=${DOWNLOAD_URL:-$GITHUB_SERVER_URL/${ACTION_REPOSITORY:-intoto-ci/intoto-ci}/releases/download}
base=${base%/}
# One directory per release and checksums file: later steps of the job reuse what an earlier one checked.
dir="$RUNNER_TEMP/intoto-ci-$release-$(sha256_of "$sums" | cut -c1-12)"
mkdir -p "$dir"
for name in "$@"; do
  [ ! -x "$dir/$name$exe" ] || continue
  asset="${name}_${release}_${os}_${arch}.$ext"
  want=$(awk -v a="$asset" '$2 == a { print $1 }' "$sums")
  [ -n "$want" ] || fail 1 "checksums.txt at the action's ref lists no $asset: refusing to install an unchecked $name"
  url="$base/$release/$asset"
  tmp=$(mktemp -d "$dir/.download.XXXXXX")
  if ! out=$(curl -fsSL --retry 3 --connect-timeout 15 -o "$tmp/$asset" "$url" 2>&1); then
    rm -rf "$tmp"
    fail 3 "could not download $url: ${out:-curl failed}. To use a mirror holding the release's assets (<url>/$release/$asset), set input download-url to its base URL"
  fi
  got=$(sha256_of "$tmp/$asset")
  if [ "$got" != "$want" ]; then
    rm -rf "$tmp"
    fail 1 "release asset $asset has sha256 $got, but checksums.txt at the action's ref says $want: refusing to run it"
  fi
  if [ "$ext" = zip ]; then
    unzip -q -o "$tmp/$asset" "$name$exe" -d "$tmp"
  else
    tar -xzf "$tmp/$asset" -C "$tmp" "$name"
  fi
  chmod 0755 "$tmp/$name$exe"
  mv -f "$tmp/$name$exe" "$dir/$name$exe"
  rm -rf "$tmp"
  echo "installed $name $release ($os/$arch) from $url, sha256 $got as checksums.txt says" >&2
done
echo "dir=$dir" >>"$GITHUB_OUTPUT"
