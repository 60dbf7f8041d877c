#!/usr/bin/env bash
# Benchmark: `run --rm busybox true` end to end through the CLI and the
# daemon's API, for stack and, in the same run, for Docker and Podman when
# their engines answer here. Prints medians and ratios.
#
#   benches/run.sh [RUNS]
#
# stack runs on its own state root (a tempdir) and its daemon is stopped at
# the end. Needs hyperfine (`apt-get install hyperfine`).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}

cargo build --release -q -p stack
stack=$PWD/target/release/stack
work=$(mktemp -d)
export STACK_ROOT=$work/root STACK_RUN_DIR=$work/run
unset STACK_HOST DOCKER_HOST
cleanup() {
    if [[ -f $STACK_ROOT/daemon.lock ]]; then
        pid=$(cat "$STACK_ROOT/daemon.lock")
        if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$STACK_ROOT"; then
            kill "$pid"
            while [[ -d /proc/$pid ]]; do sleep 0.05; done
        fi
    fi
    rm -rf "$work"
}
trap cleanup EXIT
scripts/busybox-image --stack "$stack" >/dev/null

cmds=("$stack container run --rm busybox true")
names=("stack")
if command -v docker >/dev/null && docker image inspect busybox >/dev/null 2>&1; then
    cmds+=("docker run --rm busybox true")
    names+=("docker")
fi
if command -v podman >/dev/null && podman image exists busybox 2>/dev/null; then
    cmds+=("podman run --rm busybox true")
    names+=("podman")
fi
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/result.json" "${cmds[@]}" >/dev/null
python3 - "$work/result.json" "${names[@]}" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
names = sys.argv[2:]
med = {n: r["median"] for n, r in zip(names, res)}
print(f"run --rm busybox true, median of {len(res[0]['times'])} runs:")
for n in names:
    ratio = "" if n == "stack" else f"   ({med[n] / med['stack']:.1f}x stack)"
    print(f"  {n:8} {med[n] * 1000:8.1f} ms{ratio}")
PY
