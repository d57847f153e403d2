# The intoto-ci step image: the static intoto-ci binary and its keyless helper intoto-ci-sigstore (which
# intoto-ci runs, from beside itself, for keyless signing and bundle verification), on a small base that has a
# shell (GitLab runs `script:` through one; the Tekton StepActions use `script:`), run as a non-root user.
#
# The release builds it (.goreleaser.yaml, dockers_v2: linux/amd64 and linux/arm64, pushed by the release
# workflow as ghcr.io/intoto-ci/intoto-ci:<version>) from the release's own binaries, in a context laid out
# as goreleaser lays it out: <os>/<arch>/intoto-ci and <os>/<arch>/intoto-ci-sigstore. Nothing is compiled or
# downloaded here, so it also builds offline:
#   mkdir -p ctx/linux/amd64 && tar -xzf dist/intoto-ci_<version>_linux_amd64.tar.gz -C ctx/linux/amd64 \
#     && tar -xzf dist/intoto-ci-sigstore_<version>_linux_amd64.tar.gz -C ctx/linux/amd64
#   docker build -f Dockerfile --build-arg VERSION=<version> -t intoto-ci ctx
# BuildKit fills TARGETOS/TARGETARCH per platform; the classic builder uses the defaults below.
# Dockerfile.dockerignore keeps anything else out of the context (checked by test/image against
# github.com/moby/patternmatcher, the matcher BuildKit uses). Dockerfile.multistage beside this one compiles
# the binaries inside the build instead.
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

# The binaries must be executable in the build context (the release archives keep them 0755); the classic
# builder has no COPY --chmod.
COPY ${TARGETOS}/${TARGETARCH}/intoto-ci ${TARGETOS}/${TARGETARCH}/intoto-ci-sigstore /usr/local/bin/

# 65532 is the conventional "nonroot" uid/gid of distroless images; no passwd entry is needed.
USER 65532:65532
# INTOTO_CI_IMAGE tells the GitLab templates (install: image) that the job really runs in this image.
ENV HOME=/tmp INTOTO_CI_IMAGE=${VERSION}
WORKDIR /tmp
ENTRYPOINT ["/usr/local/bin/intoto-ci"]
CMD ["--help"]
