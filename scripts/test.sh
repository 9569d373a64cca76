#!/usr/bin/env bash
# test.sh - the whole test suite, as CI runs it: installs what is missing
# (scripts/install-test-deps.sh), then
#   cargo fmt --check
#   cargo clippy --workspace --all-targets -- -D warnings
#   cargo nextest run --workspace
# Extra arguments go to `cargo nextest run` (e.g. a filter: scripts/test.sh differential).
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
