#!/usr/bin/env bash
# Benchmark: load and validate a generated 1,000-service project (two files,
# interpolation, anchors and merge keys, depends_on chains) with
# `stack config -q`, side by side with `docker-compose config -q` on the same
# files in the same run. Prints medians and the ratio.
#
#   benches/config.sh [SERVICES] [RUNS]
#
# Needs hyperfine and (for the comparison) docker-compose: scripts/setup does
# not install them; `apt-get install hyperfine docker-compose` does.
set -euo pipefail
cd "$(dirname "$0")/.."
services=${1:-1000}
runs=${2:-15}

if [[ -n ${STACK_BIN:-} ]]; then
    stack=$STACK_BIN
else
    cargo build --release -q -p stack
    stack=${CARGO_TARGET_DIR:-$PWD/target}/release/stack
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work" "$services" <<'PY'
import sys
work, n = sys.argv[1], int(sys.argv[2])
with open(f"{work}/compose.yaml", "w") as f:
    f.write("version: '3.8'\n")
    f.write("x-common: &common\n  restart: unless-stopped\n  labels:\n    tier: bench\n")
    f.write("  environment:\n    LOG_LEVEL: ${LOG_LEVEL:-info}\n")
    f.write("services:\n")
    for i in range(n):
        f.write(f"  svc{i}:\n    <<: *common\n")
        f.write(f"    image: registry.local/app{i % 7}:${{TAG:-latest}}\n")
        f.write(f"    command: [\"sh\", \"-c\", \"echo svc{i}\"]\n")
        f.write(f"    ports:\n      - \"127.0.0.1:{20000 + i}:80\"\n")
        f.write(f"    volumes:\n      - data{i % 10}:/data\n      - ./conf:/conf:ro\n")
        f.write("    healthcheck:\n      test: [\"CMD\", \"true\"]\n      interval: 5s\n")
        if i % 10:
            f.write(f"    depends_on:\n      - svc{i - 1}\n")
        f.write(f"    networks:\n      - net{i % 5}\n")
    f.write("networks:\n")
    for k in range(5):
        f.write(f"  net{k}:\n")
    f.write("volumes:\n")
    for k in range(10):
        f.write(f"  data{k}:\n")
with open(f"{work}/compose.override.yaml", "w") as f:
    f.write("version: '3.8'\nservices:\n")
    for i in range(0, n, 10):
        f.write(f"  svc{i}:\n    environment:\n      EXTRA: \"${{EXTRA:-x}}\"\n    mem_limit: 256m\n")
with open(f"{work}/.env", "w") as f:
    f.write("TAG=1.0\nLOG_LEVEL=debug\n")
PY
mkdir -p "$work/conf"

cmds=("$stack config -q")
names=("stack")
if command -v docker-compose >/dev/null; then
    cmds+=("docker-compose config -q")
    names+=("docker-compose")
fi
cd "$work"
hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/result.json" "${cmds[@]}" >/dev/null
python3 - "$work/result.json" "$services" "${names[@]}" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
n = sys.argv[2]
names = sys.argv[3:]
med = {name: r["median"] for name, r in zip(names, res)}
print(f"config -q of {n} services (compose.yaml + override + .env), median of {len(res[0]['times'])} runs:")
for name in names:
    print(f"  {name:16} {med[name] * 1000:9.1f} ms")
if "docker-compose" in med:
    print(f"  ratio docker-compose / stack: {med['docker-compose'] / med['stack']:.1f}x")
PY
