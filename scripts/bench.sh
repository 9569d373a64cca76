#!/usr/bin/env bash
# bench.sh - ferry side by side with skopeo on two local registries (issue 6).
# Not part of `cargo test`: it needs docker-registry, skopeo, GNU time, curl, python3.
#
# Usage: scripts/bench.sh [options] [WORKDIR]
#   WORKDIR        scratch space (default: ${TMPDIR:-/tmp}/ferry-bench); needs ~6 GiB free
#                  (~50 MiB with --smoke). Images, registry A's storage and the oci-archive
#                  fixture are cached there: reruns skip building and pushing.
#   --runs N       runs per operation and tool (default 3; 1 with --smoke); inspect and
#                  list-tags (milliseconds each) get 5x as many
#   --only REGEX   run only the operations whose name matches REGEX (extended regex)
#   --smoke        tiny images, 1 run: a quick check of the script and of both tools (CI)
#   --ferry PATH   the ferry binary (default: target/release/ferry)
#   --no-build     do not run `cargo build --release` (ferry, make-test-image, bench-images)
#   --clean        repeat noisy runs (see below) until N clean runs per tool, at most 3N
#                  attempts; medians then use the clean runs only
#   --list         print the operations and exit
#
# Image set (built with the project's harness, cached in WORKDIR/images):
#   big       bench-images big --size 1G --layers 8: make-test-image's big image (mostly
#             incompressible) at gzip level 6 (stored blocks, like real layers), pushed as v2s2
#   debian    bench-images rootfs: ~120 MiB of real host files in 3 gzip layers (v2s2),
#             pushed under 3 tags (12, bookworm, latest)
#   many      bench-images many: 50 small layers
#   multiarch make-test-image fixture multiarch (OCI index, 2 platforms)
# Registry A (source) and B (destination): /usr/bin/docker-registry on free 127.0.0.1 ports,
# plain HTTP, storage in WORKDIR/reg-a|reg-b, deletes enabled. B is wiped and restarted
# before every run that writes to it; same-registry copies go to a fresh repository.
#
# Each run: destination and WORKDIR/tmp emptied, `sync`, then the tool runs under
# /usr/bin/time with TMPDIR=WORKDIR/tmp while a sampler adds up the sizes of the destination
# dir + WORKDIR/tmp + /var/tmp every 50 ms. "tmp disk" = peak - final of that sum (disk used
# beyond the result). ferry runs as `ferry --insecure-policy`, skopeo as
# `skopeo --insecure-policy --tmpdir WORKDIR/tmp`, with an empty blob-info cache of its own
# (the script runs in a private mount namespace with WORKDIR/blob-info-cache bind-mounted
# over /var/lib/containers/cache: the machine's cache is untouched).
# Tools alternate (ferry first on odd runs, skopeo first on even ones). A tool that fails is
# not run again for that operation: "n/a (not implemented)" if its stderr says so, else
# FAILED, with its stderr tail below the table. Copies are checked (destination size,
# every blob present in the registry) so that a tool that exits 0 early gets no figure.
# Noise: the machine is shared. Every run records the load average before/after and the
# "foreign CPU" (system busy time - tool - registries - sampler); a run is "noisy" if that
# is > 10% of wall x CPUs.
# Output: the markdown table on stdout and in WORKDIR/summary.md; one row per run in
# WORKDIR/results.tsv; logs in WORKDIR/logs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HELPERS="$ROOT/scripts/bench"
RUNS=""; ONLY=""; SMOKE=0; FERRY=""; BUILD=1; LIST=0; CLEAN=0
SLACK_MIB=8                          # tolerated "0 tmp" (buffers, small index files)
TIMEOUT="${BENCH_TIMEOUT:-900}"      # seconds per run
usage() { sed -n '2,44p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
ARGV=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        --smoke) SMOKE=1; shift ;;
        --ferry) FERRY="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --list) LIST=1; shift ;;
        --clean) CLEAN=1; shift ;;
        -h|--help) usage ;;
        -*) echo "bench.sh: unknown option $1" >&2; usage ;;
        *) break ;;
    esac
done
[ $# -le 1 ] || usage
[ -n "$RUNS" ] || { [ "$SMOKE" = 1 ] && RUNS=1 || RUNS=3; }
case "$RUNS" in '' | *[!0-9]* | 0) echo "bench.sh: bad --runs $RUNS" >&2; exit 2 ;; esac
if [ "$CLEAN" = 1 ]; then MAX_ATTEMPTS=$((RUNS * 3)); else MAX_ATTEMPTS="$RUNS"; fi

# A private mount namespace (see PRIVATE_BIC below); the mount vanishes with the script.
if [ "$LIST" = 0 ] && [ "$(id -u)" = 0 ] && [ -z "${FERRY_BENCH_NS:-}" ] && unshare -m true 2>/dev/null; then
    FERRY_BENCH_NS=1 exec unshare -m -- "$0" "${ARGV[@]}"
fi
die() { echo "bench.sh: $*" >&2; exit 1; }
log() { echo "bench.sh: $*" >&2; }

# ------------------------------------------------------------------ operations
# name | label | target ratio ferry/skopeo ("" = informative) | 0 tmp required | prep |
# watch the destination dir? | check | tool arguments (split on spaces, after substitution
# of @A@ @B@ @DEST@ @FIX@ @IMG@ @NEWREPO@). "local:" rows (no registry) are informative.
OPS="$(cat <<'EOF'
pull-oci|registry → oci: (big)|0.4|0|-|dest|dest:big|copy --src-tls-verify=false docker://@A@/bench/big:1.0 oci:@DEST@/big:latest
pull-dir|registry → dir: (big)|0.2|0|-|dest|dest:big|copy --src-tls-verify=false docker://@A@/bench/big:1.0 dir:@DEST@/big
pull-docker-archive|registry → docker-archive: (big)|0.5|1|-|dest|dest:big|copy --src-tls-verify=false docker://@A@/bench/big:1.0 docker-archive:@DEST@/big.tar:bench/big:1.0
pull-oci-archive|registry → oci-archive: (big)|0.25|1|-|dest|dest:big|copy --src-tls-verify=false docker://@A@/bench/big:1.0 oci-archive:@DEST@/big.oci.tar:latest
push-oci-archive|oci-archive: → registry (big)|0.85|1|reset_b|-|reg:@B@:bench/big:1.0|copy --dest-tls-verify=false oci-archive:@FIX@/big.oci.tar:latest docker://@B@/bench/big:1.0
reg-to-reg|registry A → registry B (big)|1.0|0|reset_b|-|reg:@B@:bench/big:1.0|copy --src-tls-verify=false --dest-tls-verify=false docker://@A@/bench/big:1.0 docker://@B@/bench/big:1.0
same-reg-new-repo|registry A → A, new repository (big)|0.05|0|-|-|reg:@A@:@NEWREPO@:1.0|copy --src-tls-verify=false --dest-tls-verify=false docker://@A@/bench/big:1.0 docker://@A@/@NEWREPO@:1.0
many50-reg-to-reg|50-layer image registry → registry|0.4|0|reset_b|-|reg:@B@:bench/many:latest|copy --src-tls-verify=false --dest-tls-verify=false docker://@A@/bench/many:latest docker://@B@/bench/many:latest
debian-reg-to-reg|debian-like registry → registry||0|reset_b|-|reg:@B@:bench/debian:12|copy --src-tls-verify=false --dest-tls-verify=false docker://@A@/bench/debian:12 docker://@B@/bench/debian:12
multiarch-reg-to-reg|multi-arch index, copy --all, registry → registry||0|reset_b|-|reg:@B@:bench/multiarch:latest|copy --all --src-tls-verify=false --dest-tls-verify=false docker://@A@/bench/multiarch:latest docker://@B@/bench/multiarch:latest
inspect|inspect (big)|0.3|0|-|-|json|inspect --tls-verify=false docker://@A@/bench/big:1.0
list-tags|list-tags (debian, 3 tags)|0.3|0|-|-|json|list-tags --tls-verify=false docker://@A@/bench/debian
sync-dir|sync --src docker --dest dir (debian, 3 tags)|0.35|0|-|dest|sync:3|sync --src docker --dest dir --src-tls-verify=false @A@/bench/debian @DEST@
local-oci-to-dir|local: oci: → dir: (big)||0|-|dest|dest:big|copy oci:@IMG@/big:latest dir:@DEST@/big
local-oci-to-docker-archive|local: oci: → docker-archive: (big)||1|-|dest|dest:big|copy oci:@IMG@/big:latest docker-archive:@DEST@/big.tar:bench/big:1.0
local-oci-to-oci-archive|local: oci: → oci-archive: (big)||1|-|dest|dest:big|copy oci:@IMG@/big:latest oci-archive:@DEST@/big.oci.tar:latest
local-oci-archive-to-oci|local: oci-archive: → oci: (big)||1|-|dest|dest:big|copy oci-archive:@FIX@/big.oci.tar:latest oci:@DEST@/big:latest
EOF
)"
if [ "$LIST" = 1 ]; then
    echo "$OPS" | awk -F'|' '{printf "%-22s %-50s target %s\n", $1, $2, ($3 == "" ? "-" : $3)}'
    exit 0
fi

# ------------------------------------------------------------------ environment
for t in /usr/bin/docker-registry /usr/bin/time curl skopeo; do
    command -v "$t" >/dev/null || die "$t is missing (apt-get install docker-registry time curl skopeo)"
done
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
WORK="${1:-${TMPDIR:-/tmp}/ferry-bench}"
mkdir -p "$WORK"; WORK="$(cd "$WORK" && pwd)"
case "$WORK" in *[[:space:]]*) die "WORKDIR must not contain spaces: $WORK" ;; esac
if [ "$SMOKE" = 1 ]; then SET=smoke; else SET=full; fi
IMG="$WORK/images-$SET"; FIX="$WORK/fixtures-$SET"
RA="$WORK/reg-a-$SET"; RB="$WORK/reg-b"
TMPD="$WORK/tmp"; DEST="$WORK/dest"; LOGS="$WORK/logs"; BICD="$WORK/blob-info-cache"
mkdir -p "$IMG" "$FIX" "$LOGS" "$TMPD"
rm -f "$LOGS"/*.out "$LOGS"/*.err

if [ "$BUILD" = 1 ]; then
    log "building ferry, make-test-image and bench-images (release)"
    (cd "$ROOT" && cargo build --release --quiet -p ferry -p ferry-test \
        --bin ferry --bin make-test-image --bin bench-images) || die "cargo build failed"
fi
[ -n "$FERRY" ] || FERRY="$ROOT/target/release/ferry"
[ -x "$FERRY" ] || die "no ferry binary at $FERRY (build it, or pass --ferry)"
FERRY="$(cd "$(dirname "$FERRY")" && pwd)/$(basename "$FERRY")"
bin_of() { # NAME -> release binary, else debug
    local b
    for b in "$ROOT/target/release/$1" "$ROOT/target/debug/$1"; do
        [ -x "$b" ] && { echo "$b"; return 0; }
    done
    die "no $1 binary (cargo build --release -p ferry-test --bin $1)"
}
MTI="$(bin_of make-test-image)"; BIMG="$(bin_of bench-images)"

# skopeo: a private, empty blob-info cache per run (root's cache is a fixed path). The
# whole script runs in a private mount namespace (re-executed under `unshare -m` at the
# top), where WORKDIR/blob-info-cache is bind-mounted over it: no per-run wrapper process
# adds to skopeo's times, and the machine's cache is untouched.
BIC_DIR=/var/lib/containers/cache
PRIVATE_BIC=0
if [ "${FERRY_BENCH_NS:-}" = 1 ] && mkdir -p "$BIC_DIR" "$BICD" && mount --bind "$BICD" "$BIC_DIR"; then
    PRIVATE_BIC=1
else
    log "warning: cannot give skopeo a private blob-info cache (needs root + unshare -m);" \
        "same-registry copies may use the machine's cache"
fi
SKOPEO=(skopeo --insecure-policy)

# ------------------------------------------------------------------ registries
PIDS_TO_STOP=()
free_ports() { "$PY" -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))'; }
read -r PA PB <<< "${BENCH_PORTS:-$(free_ports)}"
A="127.0.0.1:$PA"; B="127.0.0.1:$PB"

reg_start() { # DIR PORT
    local dir="$1" port="$2" i
    mkdir -p "$dir/data"
    cat > "$dir/config.yml" <<EOF
# written by scripts/bench.sh
version: 0.1
log:
  level: warn
  formatter: text
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: ferry-bench-not-a-secret
EOF
    REGISTRY_STORAGE_DELETE_ENABLED=true /usr/bin/docker-registry serve "$dir/config.yml" \
        </dev/null >>"$dir/registry.log" 2>&1 &
    echo $! > "$dir/pid"
    for i in $(seq 300); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" || true)" = 200 ] && return 0
        kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
        sleep 0.05
    done
    tail -n 20 "$dir/registry.log" >&2
    die "registry on port $port did not start"
}
reg_stop() { # DIR
    local pid i
    pid="$(cat "$1/pid" 2>/dev/null || true)"
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || true
    for i in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$1/pid"
}
reset_b() { reg_stop "$RB"; rm -rf "$RB/data"; reg_start "$RB" "$PB"; }

SPID=""; LAST_NOISY=0
cleanup() {
    [ -n "$SPID" ] && { touch "$WORK/stop"; wait "$SPID" 2>/dev/null || true; }
    reg_stop "$RA"; reg_stop "$RB"
    rm -rf "$DEST" "$TMPD" "$RB/data"
}
trap cleanup EXIT

# ------------------------------------------------------------------ images (cached)
build_image() { # NAME CMD...   (the command writes an OCI layout at $IMG/NAME)
    local name="$1"; shift
    local how="${*/#$ROOT\//}"   # the command, minus the checkout path, names the cache entry
    [ "$(cat "$IMG/$name.complete" 2>/dev/null || true)" = "$how" ] && return 0
    rm -rf "${IMG:?}/$name" "$IMG/$name.complete"
    log "building image $name: $*"
    "$@" >"$LOGS/image-$name.log" 2>&1 || { cat "$LOGS/image-$name.log" >&2; die "building $name failed"; }
    echo "$how" > "$IMG/$name.complete"
}
if [ "$SMOKE" = 1 ]; then
    build_image big "$MTI" fixture oci "$IMG/big"
    build_image debian "$BIMG" rootfs "$IMG/debian" --size 2M
    build_image many "$BIMG" many "$IMG/many" --layers 5
else
    build_image big "$BIMG" big "$IMG/big" --size 1G --layers 8 --level 6
    build_image debian "$BIMG" rootfs "$IMG/debian" --size 110M
    build_image many "$BIMG" many "$IMG/many" --layers 50
fi
build_image multiarch "$MTI" fixture multiarch "$IMG/multiarch"
files_size() { find "$1" -type f -printf '%s\n' | awk '{t += $1} END {printf "%.0f\n", t}'; }
BIG_BYTES="$(files_size "$IMG/big/blobs")"

# Registry A: pushed once; the marker names what was pushed.
MARK="$(cat "$IMG"/*/index.json | sha256sum | cut -c1-16)"
rm -rf "$RA/data/docker/registry/v2/repositories/bench/copy-"*   # earlier same-registry copies
reg_start "$RA" "$PA"
rm -rf "$RB/data"; reg_start "$RB" "$PB"
if [ "$(cat "$RA/pushed" 2>/dev/null || true)" != "$MARK" ]; then
    log "pushing the image set to registry A ($A)"
    reg_stop "$RA"; rm -rf "$RA/data"; reg_start "$RA" "$PA"
    push() { "${SKOPEO[@]}" --tmpdir "$TMPD" copy -q --dest-tls-verify=false "$@" >>"$LOGS/push.log" 2>&1 \
        || { tail -n 20 "$LOGS/push.log" >&2; die "push failed: $*"; }; }
    push --format v2s2 "oci:$IMG/big:latest" "docker://$A/bench/big:1.0"
    push --format v2s2 "oci:$IMG/debian:latest" "docker://$A/bench/debian:12"
    for t in bookworm latest; do
        push --src-tls-verify=false "docker://$A/bench/debian:12" "docker://$A/bench/debian:$t"
    done
    push "oci:$IMG/many:latest" "docker://$A/bench/many:latest"
    push --all "oci:$IMG/multiarch:latest" "docker://$A/bench/multiarch:latest"
    echo "$MARK" > "$RA/pushed"
fi
if [ "$(cat "$FIX/big.oci.tar.complete" 2>/dev/null || true)" != "$MARK" ]; then
    log "writing the oci-archive fixture (skopeo)"
    rm -f "$FIX/big.oci.tar"
    "${SKOPEO[@]}" --tmpdir "$TMPD" copy -q "oci:$IMG/big:latest" "oci-archive:$FIX/big.oci.tar:latest" >/dev/null
    echo "$MARK" > "$FIX/big.oci.tar.complete"
fi

# ------------------------------------------------------------------ measuring
HZ="$(getconf CLK_TCK)"; NCPU="$(nproc)"
sys_busy() { awk '/^cpu / {print $2+$3+$4+$7+$8+$9}' /proc/stat; }
pid_ticks() { # PID -> utime+stime ticks (0 if gone)
    [ -n "$1" ] && [ -r "/proc/$1/stat" ] && awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0
}
reg_ticks() {
    echo $(( $(pid_ticks "$(cat "$RA/pid" 2>/dev/null)") + $(pid_ticks "$(cat "$RB/pid" 2>/dev/null)") ))
}
load1() { cut -d' ' -f1 /proc/loadavg; }

RES="$WORK/results.tsv"
printf 'op\ttool\trun\trc\tstatus\twall_s\tuser_s\tsys_s\tmaxrss_kb\ttmp_disk_b\tpeak_tmpdir_b\tpeak_vartmp_b\tdest_final_b\treg_cpu_s\tforeign_cpu_s\tnoisy\tload1_before\tload1_after\tcheck\tlog\n' > "$RES"
OPS_TSV="$WORK/ops.tsv"; : > "$OPS_TSV"

# check KIND NEWREPO -> prints a problem, or nothing if the result looks complete
check_result() {
    local kind="$1" nr="$2" what n
    case "$kind" in
        dest:big)
            n="$(files_size "$DEST")"
            [ "$n" -ge $(( BIG_BYTES * 9 / 10 )) ] || echo "check: destination holds $n bytes, the image has $BIG_BYTES" ;;
        reg:*)
            what="${kind#reg:}"; what="${what//@A@/$A}"; what="${what//@B@/$B}"; what="${what//@NEWREPO@/$nr}"
            local host repo tag
            host="${what%%:*}:$(echo "$what" | cut -d: -f2)"; repo="$(echo "$what" | cut -d: -f3)"; tag="$(echo "$what" | cut -d: -f4)"
            "$PY" "$HELPERS/check_registry.py" "$host" "$repo" "$tag" >/dev/null 2>&1 \
                || echo "check: $("$PY" "$HELPERS/check_registry.py" "$host" "$repo" "$tag" 2>&1 | tail -n1)" ;;
        sync:*)
            n="$(find "$DEST" -name manifest.json | wc -l)"
            [ "$n" = "${kind#sync:}" ] || echo "check: $n manifest.json files in the destination, want ${kind#sync:}" ;;
        json)
            "$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$3" 2>/dev/null || echo "check: stdout is not JSON" ;;
    esac
}

# run_one OP TOOL RUN PREP WATCH CHECK ARGS...  -> appends a row to results.tsv; returns 1 if it failed
run_one() {
    local op="$1" tool="$2" run="$3" prep="$4" watch="$5" check="$6"; shift 6
    local nr="bench/copy-$tool-$(date +%s%N)" a args=() prefix=()
    for a in "$@"; do
        a="${a//@A@/$A}"; a="${a//@B@/$B}"; a="${a//@DEST@/$DEST}"; a="${a//@FIX@/$FIX}"; a="${a//@IMG@/$IMG}"; a="${a//@NEWREPO@/$nr}"
        args+=("$a")
    done
    if [ "$tool" = ferry ]; then prefix=("$FERRY" --insecure-policy)
    else
        prefix=("${SKOPEO[@]}" --tmpdir "$TMPD")
        [ "$PRIVATE_BIC" = 1 ] && find "$BICD" -mindepth 1 -delete
    fi
    rm -rf "$TMPD" "$DEST"; mkdir -p "$TMPD" "$DEST"
    [ "$prep" = - ] || "$prep"
    sync
    local paths=("$TMPD" /var/tmp); [ "$watch" = dest ] && paths+=("$DEST")
    rm -f "$WORK/stop" "$WORK/ready"
    "$PY" "$HELPERS/peak_disk.py" --stop-file "$WORK/stop" --ready-file "$WORK/ready" --out "$WORK/peak.out" "${paths[@]}" &
    SPID=$!
    while [ ! -e "$WORK/ready" ] && kill -0 "$SPID" 2>/dev/null; do sleep 0.01; done
    local lg="$LOGS/$op.$tool.$run" rc=0 l0 l1 b0 b1 g0 g1 t0 t1 st
    l0="$(load1)"; b0="$(sys_busy)"; g0="$(reg_ticks)"; t0="$(date +%s%N)"
    TMPDIR="$TMPD" /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.out" \
        timeout -k 10 "$TIMEOUT" "${prefix[@]}" "${args[@]}" </dev/null >"$lg.out" 2>"$lg.err" || rc=$?
    t1="$(date +%s%N)"; b1="$(sys_busy)"; g1="$(reg_ticks)"; st="$(pid_ticks "$SPID")"; l1="$(load1)"
    touch "$WORK/stop"; wait "$SPID" || true; SPID=""
    [ "$rc" = 124 ] && echo "bench.sh: timed out after $TIMEOUT s" >>"$lg.err"
    local e us ss rss; read -r e us ss rss < <(tail -n1 "$WORK/time.out")
    local wall regcpu foreign noisy
    wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')"
    regcpu="$(awk -v a="$g0" -v b="$g1" -v hz="$HZ" 'BEGIN {printf "%.2f", (b - a) / hz}')"
    foreign="$(awk -v b0="$b0" -v b1="$b1" -v hz="$HZ" -v u="$us" -v s="$ss" -v r="$regcpu" -v st="$st" \
        'BEGIN {f = (b1 - b0) / hz - u - s - r - st / hz; if (f < 0) f = 0; printf "%.2f", f}')"
    noisy="$(awk -v f="$foreign" -v w="$wall" -v n="$NCPU" 'BEGIN {print (f > 0.10 * w * n + 0.05) ? 1 : 0}')"
    # sampler: total_initial total_peak total_final, then initial/peak/final per path
    local s; read -r -a s < "$WORK/peak.out"
    local tmpdisk=$(( s[1] - s[2] )); [ "$tmpdisk" -lt 0 ] && tmpdisk=0
    local ptmp=$(( s[4] - s[3] )) pvar=$(( s[7] - s[6] )) dfinal=0
    [ "$watch" = dest ] && dfinal=$(( s[11] - s[9] ))
    local status=ok problem=""
    if [ "$rc" != 0 ]; then
        status=failed
        grep -qi 'not implemented' "$lg.err" && status=notimpl
    else
        problem="$(check_result "$check" "$nr" "$lg.out")"
        if [ -n "$problem" ]; then status=failed; echo "bench.sh: $problem" >>"$lg.err"; fi
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$op" "$tool" "$run" "$rc" "$status" "$wall" "$us" "$ss" "$rss" "$tmpdisk" "$ptmp" "$pvar" "$dfinal" \
        "$regcpu" "$foreign" "$noisy" "$l0" "$l1" "$problem" "$lg.err" >> "$RES"
    printf 'bench.sh: %-22s %-6s run %s: %-7s wall %7ss  rss %6s KiB  cpu %s+%s s  tmp %s MiB  reg cpu %s s  foreign %s s  load %s→%s\n' \
        "$op" "$tool" "$run" "$status" "$wall" "$rss" "$us" "$ss" "$((tmpdisk >> 20))" "$regcpu" "$foreign" "$l0" "$l1" >&2
    LAST_NOISY="$noisy"
    [ "$status" = ok ] || { tail -n 3 "$lg.err" | sed 's/^/    /' >&2; return 1; }
}

# The harness's own cost: the same wrapper (date, /usr/bin/time, timeout) around /bin/true,
# median of 11. It is subtracted from both tools' medians for the ratio ("net"), as
# hyperfine subtracts its shell-spawn time: it matters for the millisecond operations.
harness_overhead() {
    local i t0 t1
    for i in $(seq 11); do
        t0="$(date +%s%N)"
        TMPDIR="$TMPD" /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.out" \
            timeout -k 10 "$TIMEOUT" /bin/true </dev/null >/dev/null 2>&1 || true
        t1="$(date +%s%N)"
        echo $(( t1 - t0 ))
    done | sort -n | awk '{a[NR] = $1} END {printf "%.4f\n", a[int((NR + 1) / 2)] / 1e9}'
}
HARNESS="$(harness_overhead)"
log "harness overhead (wrapper around /bin/true): $HARNESS s"
log "ferry: $FERRY ($("$FERRY" --version 2>&1 | head -n1)); skopeo: $(skopeo --version); registries $A (A), $B (B)"
log "work dir $WORK, $RUNS run(s) per operation and tool"
START="$(date -u '+%Y-%m-%d %H:%M UTC')"
mapfile -t OP_LINES <<< "$OPS"
for line in "${OP_LINES[@]}"; do
    IFS='|' read -r name label target zero prep watch check argstr <<< "$line"
    [ -n "$name" ] || continue
    if [ -n "$ONLY" ] && ! [[ "$name" =~ $ONLY ]]; then continue; fi
    printf '%s\t%s\t%s\t%s\n' "$name" "$label" "$target" "$zero" >> "$OPS_TSV"
    read -r -a args <<< "$argstr"
    # Millisecond operations vary by a few ms from run to run: 5x the runs for their medians.
    OP_RUNS="$RUNS"; [[ "$name" =~ ^(inspect|list-tags)$ ]] && OP_RUNS=$((RUNS * 5))
    if [ "$CLEAN" = 1 ]; then OP_ATTEMPTS=$((OP_RUNS * 3)); else OP_ATTEMPTS="$OP_RUNS"; fi
    failed_ferry=0; failed_skopeo=0; runs_ferry=0; runs_skopeo=0; clean_ferry=0; clean_skopeo=0
    for run in $(seq "$OP_ATTEMPTS"); do
        if [ $((run % 2)) = 1 ]; then order=(ferry skopeo); else order=(skopeo ferry); fi
        ran=0
        for tool in "${order[@]}"; do
            v="failed_$tool"; [ "${!v}" = 1 ] && continue
            if [ "$CLEAN" = 1 ]; then c="clean_$tool"; [ "${!c}" -ge "$OP_RUNS" ] && continue
            else c="runs_$tool"; [ "${!c}" -ge "$OP_RUNS" ] && continue; fi
            ran=1
            run_one "$name" "$tool" "$run" "$prep" "$watch" "$check" "${args[@]}" || printf -v "$v" 1
            c="runs_$tool"; printf -v "$c" '%s' $(( ${!c} + 1 ))
            c="clean_$tool"; [ "$LAST_NOISY" = 0 ] && printf -v "$c" '%s' $(( ${!c} + 1 ))
        done
        [ "$ran" = 1 ] || break
    done
done
END="$(date -u '+%H:%M UTC')"

# ------------------------------------------------------------------ summary
img_line() { # NAME
    "$PY" - "$IMG/$1" <<'EOF'
import json, os, sys
root = sys.argv[1]
def blob(d):
    return os.path.join(root, "blobs", *d.split(":"))
top = json.load(open(os.path.join(root, "index.json")))["manifests"][0]
m = json.load(open(blob(top["digest"])))
ms = [json.load(open(blob(x["digest"]))) for x in m["manifests"]] if "manifests" in m else [m]
layers = {l["digest"]: l["size"] for x in ms for l in x["layers"]}
print("%d manifest(s), %d layers, %.1f MiB compressed" % (len(ms), len(layers), sum(layers.values()) / 1048576))
EOF
}
{
    echo "Command: \`scripts/bench.sh ${ARGV[*]}\` — $START to $END, $NCPU CPUs ($(lscpu 2>/dev/null | awk -F': +' '/Model name/ {print $2; exit}'))."
    echo "ferry: $("$FERRY" --version 2>&1 | head -n1); $(skopeo --version); Distribution $(/usr/bin/docker-registry --version 2>/dev/null | awk '{print $3}')."
    echo "Images ($SET set): big $(img_line big); debian $(img_line debian), 3 tags; many $(img_line many); multiarch $(img_line multiarch)."
    echo "Medians of $RUNS run(s) per tool (5x for inspect and list-tags)$([ "$CLEAN" = 1 ] && echo ", clean runs only (noisy runs repeated, at most 3x attempts)"). tmp disk = peak minus final size of (destination dir + TMPDIR + /var/tmp); registry storage is not counted. \"0 tmp\" allows $SLACK_MIB MiB."
    echo
    echo "Harness overhead (the same wrapper around /bin/true, median of 11): $(awk -v h="$HARNESS" 'BEGIN {printf "%.1f ms", h * 1000}'); \"ratio\" is (ferry − overhead) / (skopeo − overhead), targets are checked on it; \"raw\" is the plain ratio of medians."
    echo
    "$PY" "$HELPERS/summary.py" "$RES" "$OPS_TSV" "$SLACK_MIB" "$HARNESS"
} > "$WORK/summary.md"
echo
cat "$WORK/summary.md"
echo
log "raw results: $RES; logs: $LOGS"
# A ferry run that failed (not a missed target) fails the benchmark: CI's smoke run relies on it.
FERRY_FAILED="$(awk -F'\t' 'NR > 1 && $2 == "ferry" && $5 != "ok"' "$RES" | wc -l)"
[ "$FERRY_FAILED" = 0 ] || die "$FERRY_FAILED ferry run(s) failed (see the table)"
