#!/usr/bin/env bash
# Benchmark: memory of the per-container monitor process with N (default
# 50) busybox containers running, for stack's monitor and, in the same run,
# Docker's containerd-shim and Podman's conmon where their engines answer.
# The monitor of a container is the parent of its init process (as
# inspect's State.Pid reports it); its resident (RSS), proportional (PSS,
# shared pages divided among the processes sharing them) and private (USS:
# pages no other process maps, what one more container costs) sizes come
# from /proc/PID/smaps_rollup. Prints medians over the N monitors and ratios.
#
#   benches/monitor-rss.sh [N]
#
# stack runs on its own state root (a tempdir) with the release build; its
# containers and daemon are removed at the end, and so are the peers'.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
n=${1:-50}

bench_init
results=$work/results.tsv
: >"$results"

# The docker-style CLI of an engine (stack's inspect has no --format: the
# docker client asks stack's daemon instead).
eng() {
    local engine=$1
    shift
    case $engine in
    stack) if [[ $1 == inspect ]]; then stack_docker "$@"; else "$stack" container "$@"; fi ;;
    docker) "$docker" "$@" ;;
    podman) podman "$@" ;;
    esac
}

remove_all() {
    local engine=$1 i names=()
    for i in $(seq 1 "$n"); do names+=("stackbench-mon-$i"); done
    eng "$engine" rm -f "${names[@]}" >/dev/null 2>&1 || true
}

kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/smaps_rollup"; }

measure() {
    local engine=$1 i pid ppid err
    remove_all "$engine"
    bench_cleanup_hooks+=("remove_all $engine")
    for i in $(seq 1 "$n"); do
        if ! err=$(eng "$engine" run -d --name "stackbench-mon-$i" busybox sleep 3600 2>&1 >/dev/null); then
            echo "$engine: starting container $i of $n failed: $err" >&2
            remove_all "$engine"
            return 0
        fi
    done
    sleep 1
    for i in $(seq 1 "$n"); do
        pid=$(eng "$engine" inspect -f '{{.State.Pid}}' "stackbench-mon-$i")
        ppid=$(awk '$1 == "PPid:" {print $2}' "/proc/$pid/status")
        printf '%s\t%s\t%s\t%s\t%s\n' "$engine" "$(cat "/proc/$ppid/comm")" "$(kb "$ppid" Rss)" "$(kb "$ppid" Pss)" \
            "$(($(kb "$ppid" Private_Clean) + $(kb "$ppid" Private_Dirty)))" >>"$results"
    done
    remove_all "$engine"
}

scripts/busybox-image --stack "$stack" >/dev/null
engines=(stack)
measure stack
if docker_ready; then
    engines+=(docker)
    measure docker
else
    skip_peer docker "no Docker engine with a busybox image answers; scripts/bench-peers setup starts one"
fi
if podman_ready; then
    engines+=(podman)
    measure podman
else
    skip_peer podman "podman has no busybox image; scripts/bench-peers setup imports it"
fi

python3 - "$results" "$n" <<'PY'
import collections, statistics, sys
path, n = sys.argv[1], sys.argv[2]
rows = collections.defaultdict(list)
comm = {}
for line in open(path):
    engine, name, rss, pss, uss = line.rstrip("\n").split("\t")
    rows[engine].append((int(rss), int(pss), int(uss)))
    comm[engine] = name
print(f"per-container monitor with {n} containers running (busybox sleep), median over the monitors, MB")
print(f"  {'engine':8}{'monitor':24}{'count':>6}{'RSS':>8}{'PSS':>8}{'USS':>8}{'PSS total':>11}")
med = {}
for engine, vals in rows.items():
    rss = statistics.median(v[0] for v in vals) / 1024
    pss = statistics.median(v[1] for v in vals) / 1024
    uss = statistics.median(v[2] for v in vals) / 1024
    med[engine] = (rss, pss)
    total = sum(v[1] for v in vals) / 1024
    print(f"  {engine:8}{comm[engine]:24}{len(vals):>6}{rss:>8.2f}{pss:>8.2f}{uss:>8.2f}{total:>11.1f}")
if "stack" in med:
    for engine, (rss, pss) in med.items():
        if engine != "stack":
            print(f"  {engine} / stack: RSS {rss / med['stack'][0]:.2f}x, PSS {pss / med['stack'][1]:.2f}x")
PY
