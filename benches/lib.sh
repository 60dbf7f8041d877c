# Shared by the benchmark scripts (sourced, not run): building stack, a
# private state root for its daemon, and finding the peer engines.
#
# After `bench_init`: $stack is the release binary (or $STACK_BIN when set:
# then nothing is built), $work a scratch dir under /var/lib, removed at
# exit, STACK_ROOT and STACK_RUN_DIR the benchmarks' own state root and run
# directory (never the host's /var/lib/stack or /run/stack), $docker is
# Debian's docker client, and CONTAINERS_CONF is the one scripts/bench-peers
# writes (unless already set).
#
# The state root ($BENCH_STACK_ROOT, default /var/lib/stack-bench/root) and
# run directory ($BENCH_STACK_RUN_DIR, default /run/stack-bench) are kept
# from one benchmark to the next, with the images, as the peers keep their
# stores (`scripts/bench-peers teardown --purge` deletes them all).
# Each benchmark removes its containers, networks and daemon. Deleting the
# root after every run made the next run's container starts slower for
# minutes on a file system without a journal (see "Where the state root
# lives" in benches/README.md), a cost of the benchmark, not of stack.

docker=/usr/bin/docker
[[ -x $docker ]] || docker=docker
export CONTAINERS_CONF=${CONTAINERS_CONF:-${BENCH_PEERS_DIR:-/var/tmp/stack-bench-peers}/containers.conf}
[[ -f $CONTAINERS_CONF ]] || unset CONTAINERS_CONF

bench_cleanup_hooks=()

# Builds stack (release), makes the scratch dir and stack's private root,
# and arranges cleanup (registered hooks first, then stack's daemon).
bench_init() {
    if [[ -n ${STACK_BIN:-} ]]; then
        stack=$STACK_BIN
    else
        cargo build --release -q -p stack
        stack=${CARGO_TARGET_DIR:-$PWD/target}/release/stack
    fi
    # Where stack's own defaults put them (/var/lib/stack, /run/stack), as
    # the peers keep theirs under /var/lib and /run: /tmp is where builds and
    # tests churn files, which costs every inode allocation on a filesystem
    # without a journal (see "A container start, phase by phase").
    work=$(mktemp -d /var/lib/stack-bench.XXXXXX)
    export STACK_ROOT=${BENCH_STACK_ROOT:-/var/lib/stack-bench/root} STACK_RUN_DIR=${BENCH_STACK_RUN_DIR:-/run/stack-bench}
    mkdir -p "$STACK_ROOT" "$STACK_RUN_DIR"
    unset STACK_HOST DOCKER_HOST
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

bench_cleanup() {
    local hook
    for hook in "${bench_cleanup_hooks[@]}"; do
        eval "$hook" || true
    done
    bench_stop_stack_daemon
    bench_check_leaks
    rm -rf "$work"
}

# Warns when stack's daemon left its firewall table or bridges behind (the
# table is named after a hash of the state root).
bench_check_leaks() {
    local tag
    tag=$(printf %s "$STACK_ROOT" | sha256sum | cut -c1-8)
    if nft list table ip "stack_$tag" >/dev/null 2>&1; then
        echo "warning: stack's daemon left its nft table ip stack_$tag behind" >&2
    fi
}

# Stops the daemon of our private root, if the CLI started one.
bench_stop_stack_daemon() {
    [[ -f $STACK_ROOT/daemon.lock ]] || return 0
    local pid
    pid=$(cat "$STACK_ROOT/daemon.lock")
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$STACK_ROOT"; then
        kill "$pid"
        while [[ -d /proc/$pid ]]; do sleep 0.05; done
    fi
}

# The docker client talking to stack's daemon.
stack_docker() { "$docker" -H "unix://$STACK_RUN_DIR/stack.sock" "$@"; }

# True when a Docker engine answers and has the busybox image.
docker_ready() { command -v "$docker" >/dev/null && timeout 10 "$docker" image inspect busybox >/dev/null 2>&1; }

# True when podman works here and has the busybox image.
podman_ready() { command -v podman >/dev/null && timeout 10 podman image exists busybox 2>/dev/null; }

# Says why a peer is left out.
skip_peer() { echo "$1: skipped ($2)"; }

# Prints "stack: not supported yet (WHAT)".
stack_unsupported() { echo "stack: not supported yet ($1)"; }

# Median of the numbers given as arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# Runs a command and prints its wall time in seconds; its output goes to
# $work/last.log, shown with the error when it fails.
timed() {
    local start end
    start=$EPOCHREALTIME
    if ! "$@" >"$work/last.log" 2>&1; then
        echo "failed: $*" >&2
        tail -20 "$work/last.log" >&2
        return 1
    fi
    end=$EPOCHREALTIME
    awk -v a="$start" -v b="$end" 'BEGIN {printf "%.4f\n", b - a}'
}
