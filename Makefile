# The two commands a fresh machine needs: `make demo` and `make test`.
GO ?= go

.PHONY: demo test setup build bench fuzz release

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/ ./cmd/intoto-ci ./cmd/intoto-ci-sigstore

demo: build
	./bin/intoto-ci demo

setup:
	bash .ci/setup

# Installs every peer and server the tests start, then runs the whole suite in a private network
# namespace (loopback only) and prints a summary. Under CI=true a skipped test fails the run.
test: setup
	bash scripts/test.sh

fuzz:
	FUZZTIME=$${FUZZTIME:-30s} bash scripts/fuzz.sh

bench: setup
	bash scripts/bench.sh

# The release, as a snapshot (no network, nothing published): every archive and checksums.txt under dist/,
# from .goreleaser.yaml with the goreleaser pinned in tools/release/go.mod. VERSION defaults to the release
# checksums.txt names; to prepare a new one: make release VERSION=v1.2.3 (then see RELEASING.md).
# The step image is defined there too but built only by the release workflow (it needs docker buildx).
GORELEASER ?= $(GO) tool -modfile=tools/release/go.mod goreleaser
VERSION ?= $(shell sed -n 's/^[0-9a-f]\{64\}  intoto-ci_\(v[^_]*\)_linux_amd64\.tar\.gz$$/\1/p' checksums.txt)
release:
	@test -n "$(VERSION)" || { echo "make release: checksums.txt names no release; set VERSION=vX.Y.Z" >&2; exit 2; }
	VERSION=$(VERSION) $(GORELEASER) release --snapshot --clean --skip=docker,publish,validate >&2
	@echo "$(CURDIR)/dist"
