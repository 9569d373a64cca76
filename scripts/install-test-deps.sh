#!/usr/bin/env bash
# install-test-deps.sh - install what building and testing ferry needs on Debian/Ubuntu:
#   - Debian packages: skopeo (the oracle of the differential tests), docker-registry
#     (the registry the tests start), time (/usr/bin/time, for scripts/footprint.sh),
#     git, curl, ca-certificates, gcc/make/pkg-config (C parts of some crates);
#   - a Rust toolchain >= the workspace's rust-version, with rustfmt and clippy, via
#     rustup (Debian's own cargo is too old for edition 2024) — only if missing;
#   - cargo-nextest (cargo install --locked) — only if missing.
# Only what is missing is installed; apt-get runs as root (directly, or via sudo).
# Set FERRY_SKIP_RUST=1 to skip the Rust part, FERRY_SKIP_NEXTEST=1 to skip nextest.
set -euo pipefail

log() { echo "install-test-deps: $*" >&2; }
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else log "need root for: $*"; exit 1; fi
}

# ---------------------------------------------------------------- Debian packages
# package -> a file it provides (to decide whether it is missing)
declare -A PROVIDES=(
    [skopeo]=/usr/bin/skopeo
    [docker-registry]=/usr/bin/docker-registry
    [time]=/usr/bin/time
    [git]=/usr/bin/git
    [curl]=/usr/bin/curl
    [ca-certificates]=/etc/ssl/certs/ca-certificates.crt
    [gcc]=/usr/bin/gcc
    [make]=/usr/bin/make
    [pkg-config]=/usr/bin/pkg-config
    [docker.io]=/usr/sbin/dockerd
    [podman]=/usr/bin/podman
)
missing=()
for pkg in "${!PROVIDES[@]}"; do
    [ -e "${PROVIDES[$pkg]}" ] || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    command -v apt-get >/dev/null || { log "missing ${missing[*]} and no apt-get: install them by hand"; exit 1; }
    log "installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    # Debian's docker-registry package may start a system registry on :5000; the tests
    # do not need it (they start their own on free ports) and do not mind it either.
else
    log "Debian packages: all present"
fi

# ---------------------------------------------------------------- Rust
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
need="$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n1)"
version_ok() { # have need
    [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}
if [ "${FERRY_SKIP_RUST:-0}" != 1 ]; then
    have="$(cargo --version 2>/dev/null | awk '{print $2}' || true)"
    if [ -z "$have" ] || ! version_ok "$have" "${need:-1.89}"; then
        if command -v rustup >/dev/null; then
            log "updating the Rust toolchain (have ${have:-none}, need ${need})"
            rustup toolchain install stable --profile minimal -c rustfmt -c clippy
            rustup default stable
        else
            log "installing Rust with rustup (have ${have:-none}, need ${need}; Debian's cargo is too old)"
            curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
                | RUSTUP_INIT_SKIP_PATH_CHECK=yes sh -s -- -y --profile minimal -c rustfmt -c clippy
            . "$HOME/.cargo/env"
        fi
    elif command -v rustup >/dev/null; then
        # rustfmt and clippy are needed by scripts/test.sh
        { cargo fmt --version && cargo clippy --version; } >/dev/null 2>&1 \
            || rustup component add rustfmt clippy
    fi
    log "Rust: $(cargo --version)"
fi

# ---------------------------------------------------------------- cargo-nextest
if [ "${FERRY_SKIP_NEXTEST:-0}" != 1 ]; then
    if cargo nextest --version >/dev/null 2>&1; then
        log "cargo-nextest: $(cargo nextest --version | head -n1)"
    else
        log "installing cargo-nextest (cargo install --locked; a few minutes)"
        cargo install cargo-nextest --locked
    fi
fi
