# The intoto-ci step image: the static intoto-ci binary and its keyless helper intoto-ci-sigstore (which
# intoto-ci runs, from beside itself, for keyless signing and bundle verification), compiled on the host, on a small base that has a
# shell (GitLab runs `script:` through one; the Tekton StepActions use `script:`), run as a non-root user.
#
# Build (offline: the binary comes from the build context, nothing is downloaded):
#   CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags "-s -w -buildid= \
#     -X github.com/intoto-ci/intoto-ci/internal/cli.version=v0.1.0" -o dist/linux_amd64/ ./cmd/intoto-ci ./cmd/intoto-ci-sigstore
#   docker build --build-arg VERSION=v0.1.0 --build-arg REVISION=$(git rev-parse HEAD) -t intoto-ci .
# Multi-arch: build the two binaries per dist/<os>_<arch>/ and `docker buildx build --platform linux/amd64,linux/arm64`;
# BuildKit fills TARGETOS/TARGETARCH, the classic builder uses the defaults below.
# Reproducible: pin BASE_IMAGE by digest for releases, build with -trimpath -buildid=, and set
# SOURCE_DATE_EPOCH (BuildKit) so the image's timestamps come from the commit.
# Dockerfile.multistage beside this one compiles the binary inside the build instead.
ARG BASE_IMAGE=docker.io/library/busybox:1.37.0-musl
FROM ${BASE_IMAGE}

ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=devel
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z

LABEL org.opencontainers.image.title="intoto-ci" \
      org.opencontainers.image.description="in-toto for CI: record, sign and verify supply-chain steps" \
      org.opencontainers.image.source="https://github.com/intoto-ci/intoto-ci" \
      org.opencontainers.image.url="https://github.com/intoto-ci/intoto-ci" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"

# The binary must be executable in the build context (go build makes it so); the classic builder has no
# COPY --chmod.
COPY dist/${TARGETOS}_${TARGETARCH}/intoto-ci dist/${TARGETOS}_${TARGETARCH}/intoto-ci-sigstore /usr/local/bin/

# 65532 is the conventional "nonroot" uid/gid of distroless images; no passwd entry is needed.
USER 65532:65532
ENV HOME=/tmp
WORKDIR /tmp
ENTRYPOINT ["/usr/local/bin/intoto-ci"]
CMD ["--help"]
