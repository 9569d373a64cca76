#!/usr/bin/env bash
# footprint.sh - show what copying a big image to/from archives costs: peak memory (RSS)
# and peak disk beyond the destination itself, for ferry (and optionally skopeo).
#
# Usage: scripts/footprint.sh [options] [WORKDIR]
#   WORKDIR            scratch space, needs ~4x --size free (default: ${TMPDIR:-/tmp}/ferry-footprint)
#   --size SIZE        image size (default 1G; K/M/G suffixes)
#   --layers N         number of layers (default 8)
#   --tool PATH        the ferry binary to measure (default: target/release/ferry, built here)
#   --skopeo           also measure /usr/bin/skopeo, for comparison (not judged)
#   --no-build         do not run cargo build (use --tool and an existing make-test-image)
#   --max-rss-mib N    RSS limit for PASS (default 64)
#   --slack-mib N      tolerated extra disk for PASS (default 8: buffers, index files)
#
# Operations (each with TMPDIR=WORKDIR/tmp, empty):
#   oci -> docker-archive, oci -> oci-archive, docker-archive -> oci, oci-archive -> oci
# For each it prints wall time, peak RSS (/usr/bin/time -v), the destination's final size,
# and the peak "extra disk": the most that the destination's directory + TMPDIR + /var/tmp held
# above their final size (sampled every 50 ms). PASS = exit 0, a result of at least 90% of
# the image's size, extra disk <= slack and RSS < limit.
# The filesystem's used-bytes delta is printed too (informative: other processes on the
# machine disturb it). Exit status: 0 if every ferry row passes, 1 otherwise.
# Small --size runs are quick checks only: copies that take less than the sampling interval
# can hide their peaks.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE=1G; LAYERS=8; TOOL=""; SKOPEO=0; BUILD=1; MAX_RSS_MIB=64; SLACK_MIB=8
usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --size) SIZE="$2"; shift 2 ;;
        --layers) LAYERS="$2"; shift 2 ;;
        --tool) TOOL="$2"; shift 2 ;;
        --skopeo) SKOPEO=1; shift ;;
        --no-build) BUILD=0; shift ;;
        --max-rss-mib) MAX_RSS_MIB="$2"; shift 2 ;;
        --slack-mib) SLACK_MIB="$2"; shift 2 ;;
        -h|--help) usage ;;
        -*) echo "footprint.sh: unknown option $1" >&2; usage ;;
        *) break ;;
    esac
done
[ $# -le 1 ] || usage
WORK="${1:-${TMPDIR:-/tmp}/ferry-footprint}"
mkdir -p "$WORK"; WORK="$(cd "$WORK" && pwd)"

die() { echo "footprint.sh: $*" >&2; exit 1; }
log() { echo "footprint.sh: $*" >&2; }

if [ ! -x /usr/bin/time ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "installing GNU time"
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends time >/dev/null \
            || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends time >/dev/null; }
    else
        die "/usr/bin/time is missing: run scripts/install-test-deps.sh (or apt-get install time)"
    fi
fi

MAKE_IMAGE="$ROOT/target/release/make-test-image"
if [ "$BUILD" = 1 ]; then
    log "building ferry and make-test-image (release)"
    (cd "$ROOT" && cargo build --release --quiet --bin ferry --bin make-test-image)
    [ -n "$TOOL" ] || TOOL="$ROOT/target/release/ferry"
else
    [ -x "$MAKE_IMAGE" ] || MAKE_IMAGE="$ROOT/target/debug/make-test-image"
    [ -n "$TOOL" ] || TOOL="$ROOT/target/release/ferry"
fi
[ -x "$TOOL" ] || die "no ferry binary at $TOOL"
[ -x "$MAKE_IMAGE" ] || die "no make-test-image binary (cargo build --release -p ferry-test)"

# ------------------------------------------------------------------ the big image (cached)
SRC="$WORK/src-$SIZE-$LAYERS"
if [ ! -f "$SRC/.complete" ]; then
    rm -rf "$SRC"
    log "writing a $SIZE, $LAYERS-layer image to $SRC"
    "$MAKE_IMAGE" big "$SRC" --size "$SIZE" --layers "$LAYERS" >&2
    touch "$SRC/.complete"
fi
SRC_BYTES="$(du -sb "$SRC/blobs" | cut -f1)"

# ------------------------------------------------------------------ measuring
size_of() { # PATH... -> total apparent bytes of regular files (0 if missing)
    local total=0 p s
    for p in "$@"; do
        [ -e "$p" ] || continue
        s="$(find "$p" -type f -printf '%s\n' 2>/dev/null | awk '{t+=$1} END {printf "%.0f", t}')"
        total=$((total + ${s:-0}))
    done
    echo "$total"
}
fs_used() { df -B1 --output=used "$WORK" | tail -n1 | tr -d ' '; }

# sampler STOPFILE OUTFILE PATH... : peak total size of PATHs and peak fs-used delta
sampler() {
    local stop="$1" out="$2"; shift 2
    local peak=0 fs0 fspeak=0 cur fs
    fs0="$(fs_used)"
    while :; do
        cur="$(size_of "$@")"; [ "$cur" -gt "$peak" ] && peak="$cur"
        fs="$(fs_used)"; [ $((fs - fs0)) -gt "$fspeak" ] && fspeak=$((fs - fs0))
        [ -e "$stop" ] && break
        sleep 0.05
    done
    echo "$peak $fspeak" > "$out"
}

ROWS=()
FAILED=0
# measure TOOLNAME LABEL DEST_PATH -- CMD...
measure() {
    local tname="$1" label="$2" dest="$3"; shift 4
    local tmp="$WORK/tmp" logf="$WORK/$tname-${label//[^a-z0-9]/_}.log"
    rm -rf "$tmp" "$dest"; mkdir -p "$tmp"
    sync
    # The destination's directory (temp files beside the destination count), TMPDIR and
    # /var/tmp (where skopeo puts big temp files). Files that do not change cancel out.
    local watch=("$(dirname "$dest")" "$tmp" /var/tmp)
    rm -f "$WORK/stop"
    sampler "$WORK/stop" "$WORK/sample" "${watch[@]}" &
    local spid=$! rc=0 t0 t1
    t0="$(date +%s%N)"
    TMPDIR="$tmp" /usr/bin/time -v -o "$WORK/time.out" "$@" >"$logf" 2>&1 || rc=$?
    t1="$(date +%s%N)"
    touch "$WORK/stop"; wait "$spid"
    local peak fsdelta rss_kb final extra wall rss_mib
    read -r peak fsdelta < "$WORK/sample"
    rss_kb="$(awk -F': *' '/Maximum resident set size/ {print $2}' "$WORK/time.out")"
    final="$(size_of "${watch[@]}")"
    local dest_bytes; dest_bytes="$(size_of "$dest")"
    extra=$(( peak - final ))
    [ "$extra" -lt 0 ] && extra=0
    wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) / 1e9}')"
    rss_mib="$(awk -v k="${rss_kb:-0}" 'BEGIN {printf "%.1f", k / 1024}')"
    local verdict
    if [ "$rc" != 0 ]; then
        verdict="FAIL (exit $rc, see $logf)"
    elif [ $(( dest_bytes * 10 )) -lt $(( SRC_BYTES * 9 )) ]; then
        # A result much smaller than the image means something was not written.
        verdict="FAIL (result too small, see $logf)"
    elif [ "$extra" -le $((SLACK_MIB << 20)) ] && [ "${rss_kb:-0}" -lt $((MAX_RSS_MIB * 1024)) ]; then
        verdict="PASS"
    else
        verdict="FAIL"
    fi
    [ "$tname" = skopeo ] && verdict="($verdict)"
    [ "$tname" != skopeo ] && [ "$verdict" != PASS ] && FAILED=1
    ROWS+=("$(printf '| %-7s | %-23s | %7s | %9s | %10s | %10s | %10s | %s |' "$tname" "$label" "$wall" "$rss_mib" \
        "$(( dest_bytes >> 20 ))" "$(awk -v b="$extra" 'BEGIN {printf "%.1f", b / 1048576}')" \
        "$(( fsdelta >> 20 ))" "$verdict")")
    log "$tname $label: exit $rc, wall ${wall}s, RSS ${rss_mib} MiB, extra disk $((extra >> 20)) MiB"
}

run_tool() { # NAME CMD...
    local tname="$1"; shift
    local out="$WORK/out-$tname"
    rm -rf "$out"; mkdir -p "$out"
    measure "$tname" "oci -> docker-archive" "$out/big-docker.tar" -- "$@" copy "oci:$SRC:latest" "docker-archive:$out/big-docker.tar"
    measure "$tname" "oci -> oci-archive" "$out/big-oci.tar" -- "$@" copy "oci:$SRC:latest" "oci-archive:$out/big-oci.tar"
    measure "$tname" "docker-archive -> oci" "$out/from-docker" -- "$@" copy "docker-archive:$out/big-docker.tar" "oci:$out/from-docker:latest"
    rm -rf "$out/from-docker"
    measure "$tname" "oci-archive -> oci" "$out/from-oci" -- "$@" copy "oci-archive:$out/big-oci.tar" "oci:$out/from-oci:latest"
    rm -rf "$out"
}

log "image: $SRC ($((SRC_BYTES >> 20)) MiB of blobs); work dir $WORK"
TOOL_NAME="$(basename "$TOOL")"
[ "$TOOL_NAME" = skopeo ] && TOOL_NAME="skopeo*"   # a skopeo passed as --tool is judged like ferry
run_tool "$TOOL_NAME" "$TOOL" --insecure-policy
if [ "$SKOPEO" = 1 ]; then
    command -v skopeo >/dev/null || die "skopeo not installed"
    run_tool skopeo skopeo --insecure-policy
fi

echo
echo "Copying a $((SRC_BYTES >> 20)) MiB, $LAYERS-layer image (limits: extra disk <= $SLACK_MIB MiB, peak RSS < $MAX_RSS_MIB MiB)"
echo
echo "| tool    | operation               | wall s  | RSS MiB   | dest MiB   | extra MiB  | fs Δ MiB   | result |"
echo "|---------|-------------------------|---------|-----------|------------|------------|------------|--------|"
printf '%s\n' "${ROWS[@]}"
echo
echo "extra = peak - final size of (destination directory + TMPDIR + /var/tmp): disk used beyond the result."
echo "fs Δ = peak growth of the filesystem's used bytes during the run (includes the destination and other processes)."
exit "$FAILED"
