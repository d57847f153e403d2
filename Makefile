# The two commands a fresh machine needs: `make demo` and `make test`.
GO ?= go

.PHONY: demo test setup build bench fuzz

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
