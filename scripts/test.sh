#!/usr/bin/env bash
# test.sh - the whole test suite, as CI runs it: installs what is missing
# (scripts/install-test-deps.sh), then
#   cargo fmt --check
#   cargo clippy --workspace --all-targets -- -D warnings
#   cargo nextest run --workspace
#   scripts/bench.sh --smoke (debug build, tiny images: the benchmark still runs, and
#   ferry succeeds on every row; no timing is checked)
# Extra arguments go to `cargo nextest run` (e.g. a filter: scripts/test.sh differential);
# with arguments the smoke benchmark is skipped.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

"$ROOT/scripts/install-test-deps.sh"
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"

step() { echo "==> $*" >&2; }
step "cargo fmt --check"
cargo fmt --all --check
step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
step "cargo nextest run --workspace"
# In CI: no retries hide flakiness, and every failure is reported (no fail-fast).
cargo nextest run --workspace --no-fail-fast "$@"
if [ $# = 0 ]; then
    step "scripts/bench.sh --smoke (debug build)"
    cargo build --quiet -p ferry -p ferry-test --bin ferry --bin make-test-image --bin bench-images
    BENCH_DIR="$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-smoke.XXXXXX")"
    "$ROOT/scripts/bench.sh" --smoke --no-build --ferry "$ROOT/target/debug/ferry" "$BENCH_DIR" >/dev/null
    rm -rf "$BENCH_DIR"
fi
