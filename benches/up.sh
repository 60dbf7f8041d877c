#!/usr/bin/env bash
# Benchmark: wall time of `up -d` (returns once every container is started)
# and of `down -t 0` and `down` (the file's grace period) for 1, 10 and 50
# independent busybox services and for a chain of 10 services each waiting
# for the previous one with `depends_on: condition: service_healthy`, for
# stack and, in the same run, docker-compose 1.29 and podman-compose 1.6
# where their engines answer. Prints medians and ratios (peer / stack).
#
#   benches/up.sh [RUNS] [CASES]
#
# RUNS (default 3) repetitions of up -d + down -t 0 per case, plus one up -d
# + down with the grace period; CASES (default "1 10 50 chain") picks the
# cases. Every service runs `sleep` as PID 1, which ignores SIGTERM, so
# `down` without -t always waits the whole `stop_grace_period: 1s` and then
# kills: that measures whether stopping happens in parallel. The chain's
# health check runs `true` every 200 ms.
#
# Needs scripts/bench-peers setup for the peers. stack runs on its own state
# root (a tempdir); its daemon is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
runs=${1:-3}
read -r -a cases <<<"${2:-1 10 50 chain}"

bench_init
project_of() { echo "benchup$1"; }

# Writes $work/$case/compose.yaml.
write_case() {
    local case=$1 dir=$work/$1 i
    mkdir -p "$dir"
    {
        echo "services:"
        if [[ $case == chain ]]; then
            for i in $(seq 0 9); do
                printf '  s%d:\n    image: busybox\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n' "$i"
                printf '    healthcheck:\n      test: ["CMD", "true"]\n      interval: 200ms\n      timeout: 2s\n      retries: 50\n'
                ((i)) && printf '    depends_on:\n      s%d:\n        condition: service_healthy\n' $((i - 1))
            done
        else
            for i in $(seq 1 "$case"); do
                printf '  s%d:\n    image: busybox\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n' "$i"
            done
        fi
    } >"$dir/compose.yaml"
}

services_of() { [[ $1 == chain ]] && echo 10 || echo "$1"; }

# The compose command of an engine, run in the case's directory.
compose() {
    local engine=$1 case=$2
    shift 2
    case $engine in
    stack) (cd "$work/$case" && "$stack" -p "$(project_of "$case")" "$@") ;;
    docker-compose) (cd "$work/$case" && docker-compose -p "$(project_of "$case")" "$@") ;;
    podman-compose) (cd "$work/$case" && podman-compose -p "$(project_of "$case")" "$@") ;;
    esac
}

# Running containers of a case's project, as the engine reports them.
running() {
    local engine=$1 project
    project=$(project_of "$2")
    case $engine in
    stack) stack_docker ps -q --filter "label=com.docker.compose.project=$project" | wc -l ;;
    docker-compose) "$docker" ps -q --filter "label=com.docker.compose.project=$project" | wc -l ;;
    podman-compose) podman ps -q --filter "label=com.docker.compose.project=$project" | wc -l ;;
    esac
}

engines=()
if "$stack" up --help >/dev/null 2>&1 && "$stack" down --help >/dev/null 2>&1; then
    scripts/busybox-image --stack "$stack" >/dev/null
    engines+=(stack)
else
    stack_unsupported "up/down: the orchestrator has no up command in this build"
fi
if ! command -v docker-compose >/dev/null; then
    skip_peer docker-compose "not installed; scripts/bench-peers setup installs it"
elif ! docker_ready; then
    skip_peer docker-compose "no Docker engine with a busybox image answers; scripts/bench-peers setup starts one"
else
    engines+=(docker-compose)
fi
if ! command -v podman-compose >/dev/null; then
    skip_peer podman-compose "not installed; scripts/bench-peers setup installs it"
elif ! podman_ready; then
    skip_peer podman-compose "podman has no busybox image; scripts/bench-peers setup imports it"
else
    engines+=(podman-compose)
fi
((${#engines[@]})) || exit 0

# Whatever a failed run leaves up is taken down at exit.
for case in "${cases[@]}"; do
    write_case "$case"
    for engine in "${engines[@]}"; do
        bench_cleanup_hooks+=("compose $engine $case down -t 0 >/dev/null 2>&1")
    done
done

results=$work/results.tsv
: >"$results"
# One engine's runs of one case; on a failure says why and returns 1.
run_case() {
    local engine=$1 case=$2 n r t got
    n=$(services_of "$case")
    for r in $(seq 1 "$runs") grace; do
        t=$(timed compose "$engine" "$case" up -d 2>/dev/null) || { case_failed "$engine" "$case" "up -d"; return 1; }
        got=$(running "$engine" "$case")
        if ((got != n)); then
            case_failed "$engine" "$case" "up -d: $got of $n containers running"
            return 1
        fi
        printf '%s\t%s\tup\t%s\n' "$case" "$engine" "$t" >>"$results"
        if [[ $r == grace ]]; then
            t=$(timed compose "$engine" "$case" down 2>/dev/null) || { case_failed "$engine" "$case" down; return 1; }
            printf '%s\t%s\tdown\t%s\n' "$case" "$engine" "$t" >>"$results"
        else
            t=$(timed compose "$engine" "$case" down -t 0 2>/dev/null) || { case_failed "$engine" "$case" "down -t 0"; return 1; }
            printf '%s\t%s\tdown0\t%s\n' "$case" "$engine" "$t" >>"$results"
        fi
    done
}

# Says why a case has no figure for an engine (the command's first error
# line), and takes down what it left.
case_failed() {
    local engine=$1 case=$2 what=$3 reason
    reason=$(grep -m1 -iE 'error|not supported' "$work/last.log" || tail -1 "$work/last.log")
    reason=$(sed -E "s/^ +//; s/ [0-9.]+s$//" <<<"$reason")
    if [[ $engine == stack ]]; then
        stack_unsupported "case $case, $what: $reason"
    else
        echo "$engine: case $case, $what failed: $reason"
    fi
    compose "$engine" "$case" down -t 0 >/dev/null 2>&1 || true
}

for case in "${cases[@]}"; do
    for engine in "${engines[@]}"; do
        compose "$engine" "$case" down -t 0 >/dev/null 2>&1 || true
        run_case "$engine" "$case" || true
    done
done

podman_note=""
if [[ " ${engines[*]} " == *" podman-compose "* ]] && [[ " ${cases[*]} " == *" chain "* ]] &&
    podman-compose version 2>/dev/null | grep -q 'podman version 4\.[0-3]\.'; then
    podman_note="podman-compose ignores service_healthy with podman < 4.4 (no health wait): its chain figure is a plain start"
fi

python3 - "$results" "$runs" "$podman_note" "${engines[@]}" <<'PY'
import collections, statistics, sys
path, runs, note, engines = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
data = collections.defaultdict(list)
cases = []
for line in open(path):
    case, engine, what, t = line.split("\t")
    data[case, engine, what].append(float(t))
    if case not in cases:
        cases.append(case)
label = {"1": "1 service", "10": "10 services", "50": "50 services", "chain": "chain of 10 (healthy)"}
what_label = {"up": "up -d", "down0": "down -t 0", "down": "down (grace 1s)"}
print(f"compose up/down, busybox, wall time in seconds, median of {runs} runs "
      f"(up -d: {int(runs) + 1}; down with grace: 1); ratio = peer / stack")
header = f"  {'case':24}{'':17}" + "".join(f"{e:>22}" for e in engines)
print(header)
for case in cases:
    for what in ("up", "down0", "down"):
        row = f"  {label.get(case, case):24}{what_label[what]:17}"
        base = data.get((case, "stack", what))
        for e in engines:
            v = data.get((case, e, what))
            if not v:
                row += f"{'-':>22}"
                continue
            m = statistics.median(v)
            cell = f"{m:.3f}"
            if e != "stack" and base:
                cell += f" ({m / statistics.median(base):.1f}x)"
            row += f"{cell:>22}"
        print(row)
if note:
    print(f"  note: {note}")
PY
