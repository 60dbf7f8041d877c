#!/usr/bin/env bash
# Benchmark: `run --rm busybox true` end to end through the CLI and the
# daemon's API, for stack and, in the same run, for Docker and Podman when
# their engines answer here, and the bare OCI runtimes (`runc run`, `crun
# run` when installed) on a plain bundle of busybox's `true` with no engine
# around them. Prints medians and ratios.
#
#   benches/run.sh [RUNS] [ROUNDS]
#
# The RUNS (default 30) of each command are split into ROUNDS (default 3)
# rounds that go through every command in turn, so that a change in the
# machine's background work (another engine's clean-up, a build) falls on
# every engine alike rather than on whichever ran first; the medians are
# taken over all runs of a command.
#
# stack runs on its own state root (a tempdir) and its daemon is stopped at
# the end. Needs hyperfine (scripts/bench-peers setup installs it and the
# peers).
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
runs=${1:-30}
rounds=${2:-3}
per_round=$(((runs + rounds - 1) / rounds))

bench_init
scripts/busybox-image --stack "$stack" >/dev/null

cmds=("$stack container run --rm busybox true")
names=("stack")
if docker_ready; then
    cmds+=("$docker run --rm busybox true")
    names+=("docker")
else
    skip_peer docker "no Docker engine with a busybox image answers; scripts/bench-peers setup starts one"
fi
if podman_ready; then
    cmds+=("podman run --rm busybox true")
    names+=("podman")
else
    skip_peer podman "podman has no busybox image; scripts/bench-peers setup imports it"
fi
# A plain bundle: busybox's root with `runc spec`'s defaults, no terminal.
if command -v runc >/dev/null; then
    mkdir -p "$work/bundle/rootfs/bin"
    install -m 0755 /bin/busybox "$work/bundle/rootfs/bin/busybox"
    ln -s busybox "$work/bundle/rootfs/bin/true"
    (cd "$work/bundle" && runc spec)
    python3 - "$work/bundle/config.json" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
spec["process"]["terminal"] = False
spec["process"]["args"] = ["true"]
json.dump(spec, open(sys.argv[1], "w"))
PY
    cmds+=("runc run --bundle $work/bundle stackbench-runc")
    names+=("runc")
    if command -v crun >/dev/null; then
        cmds+=("crun run --bundle $work/bundle stackbench-crun")
        names+=("crun")
    else
        skip_peer crun "not installed"
    fi
else
    skip_peer runc "not installed"
fi
for round in $(seq "$rounds"); do
    hyperfine -N --warmup 3 --runs "$per_round" --export-json "$work/result-$round.json" "${cmds[@]}" >/dev/null
done
python3 - "$work" "$rounds" "${names[@]}" <<'PY'
import json, statistics, sys
work, rounds, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
times = {n: [] for n in names}
for r in range(1, rounds + 1):
    for n, res in zip(names, json.load(open(f"{work}/result-{r}.json"))["results"]):
        times[n] += res["times"]
med = {n: statistics.median(t) for n, t in times.items()}
print(f"run --rm busybox true, median of {len(times['stack'])} runs in {rounds} interleaved rounds:")
for n in names:
    ratio = "" if n == "stack" else f"   ({med[n] / med['stack']:.1f}x stack)"
    print(f"  {n:8} {med[n] * 1000:8.1f} ms{ratio}")
PY
