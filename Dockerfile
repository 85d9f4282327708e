# syntax=docker/dockerfile:1
# airguard as a container image: a static (musl) binary on a distroless base, run as a non-root
# user, with no shell, package manager or libc in the final image. See docs/install.md.
#
#   docker build --build-arg AIRGUARD_BUILD_COMMIT="$(git rev-parse HEAD)" -t airguard .
#   docker run --rm -v "$PWD:/work" airguard render --check --spec airguard.yaml --out manifests
#
# The build context has no .git (.dockerignore), so `--version` names the commit only when it is
# passed in AIRGUARD_BUILD_COMMIT; without it the version says `commit unknown`.

# ---- build: the release profile, statically linked against musl ----------------------------
FROM rust:1.89.0-slim-bookworm AS build
# The base tag pins the Debian release, and with it the one musl-tools version it ships.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ARG AIRGUARD_BUILD_COMMIT=""
ENV AIRGUARD_BUILD_COMMIT=${AIRGUARD_BUILD_COMMIT}
RUN target="$(uname -m)-unknown-linux-musl" \
 && rustup target add "$target" \
 && cargo build --release --locked --target "$target" --bin airguard \
 && cp "target/$target/release/airguard" /airguard \
 && /airguard --version

# ---- runtime: nothing but the binary --------------------------------------------------------
# The digest pins the image; the tag says what it is. Update both together, deliberately.
FROM gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639
COPY --from=build /airguard /usr/local/bin/airguard
# distroless's `nonroot` user, by number so Kubernetes can verify `runAsNonRoot`.
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/airguard"]
CMD ["--help"]
