#!/usr/bin/env bash
# Benchmark: container networking on one user-defined bridge network, for
# stack and, in the same run, Docker (embedded DNS, userland proxy) and
# Podman (netavark DNAT, aardvark-dns) where their engines answer:
#
# - DNS for a network alias (`web`) asked from inside a second container's
#   network namespace: dnsperf with 4 clients (queries/s, p50/p99 latency),
#   and one query at a time (benches/dnslat.py: queries/s, p50/p99);
# - HTTP requests/s with wrk to busybox httpd in a container, through its
#   published port on 127.0.0.1 and to the container's address directly,
#   beside the same httpd on the host's loopback, in a session of its own
#   and in wrk's (the direct runs go to a second httpd in the same
#   container, on port 81: see `web_cmd`);
# - TCP throughput container to container with iperf3 (the host's iperf3
#   run in each container's network namespace with nsenter), beside the
#   host's loopback.
#
#   benches/network.sh [SECONDS] [all|http] [ROUNDS]
#
# SECONDS (default 5) is the length of each load run. Every engine's
# containers are started first, then ROUNDS rounds (default 3 for `all`, 5
# for `http`) go through host, stack, docker and podman in turn
# (interleaved, so that the machine's load changes hit every engine alike;
# each round starts one further on),
# and the medians are printed. With `http`, only the HTTP part runs. Ratios are stack's
# figure over the peer's (above 1 is better for stack). Traffic goes only to
# 127.0.0.1 and to the networks this script creates. busybox httpd has no
# keep-alive, so net.ipv4.tcp_tw_reuse is set to 1 during the run and put
# back at exit. Needs dnsperf, wrk, iperf3 (scripts/bench-peers setup).
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
secs=${1:-5}
mode=${2:-all}
case $mode in
all) rounds=${3:-3} ;;
http) rounds=${3:-5} ;;
*) echo "network.sh: unknown mode '$mode' (all or http)" >&2; exit 2 ;;
esac
for tool in dnsperf wrk iperf3 nsenter python3; do
    command -v "$tool" >/dev/null || { echo "network.sh: $tool is missing (scripts/bench-peers setup installs it)" >&2; exit 1; }
done

bench_init
net=stackbench
results=$work/results.tsv
: >"$results"
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$results"; }

tw_reuse=$(sysctl -n net.ipv4.tcp_tw_reuse)
bench_cleanup_hooks+=("sysctl -q -w net.ipv4.tcp_tw_reuse=$tw_reuse")
sysctl -q -w net.ipv4.tcp_tw_reuse=1

# The docker-style CLI of an engine.
eng() {
    local engine=$1
    shift
    case $engine in
    stack) stack_docker "$@" ;;
    docker) "$docker" "$@" ;;
    podman) podman "$@" ;;
    esac
}

port_of() { case $1 in stack) echo 18081 ;; docker) echo 18082 ;; podman) echo 18083 ;; esac; }
# The second published port (to the container's port 82), where the host's
# own httpd answers from inside the container's network namespace: the
# engine's network path without the container's cgroups, seccomp filter
# and root filesystem.
path_port_of() { echo $(($(port_of "$1") + 3)); }

# The web container: httpd on port 80 (published) and a second one on port
# 81 for the direct runs. The two must not share a port: busybox httpd
# closes first, so the container keeps a TIME_WAIT socket per connection
# for 60 s, and the published path's connections (masqueraded to the
# gateway's address, with the loopback client's sequence numbers and
# timestamps) and the host's direct ones from that same address land on
# the same 4-tuples. A SYN that meets a TIME_WAIT socket left by the other
# path is refused about half of the time and retried after 1 s, which cost
# the published figure up to two thirds of its requests when it followed
# direct runs on the same port.
web_cmd='echo ok >/www/index.html && httpd -p 81 -h /www && exec httpd -f -p 80 -h /www'

declare -A path_httpd
remove_all() {
    # The host's httpd in the web container's namespace goes first: it
    # would keep the namespace alive.
    if [[ -n ${path_httpd[$1]:-} ]]; then
        kill "${path_httpd[$1]}" 2>/dev/null || true
        wait "${path_httpd[$1]}" 2>/dev/null || true
        unset "path_httpd[$1]"
    fi
    # One at a time: podman 4.3 removes nothing when one name is missing.
    local name
    for name in stackbench-web stackbench-peer; do
        eng "$1" rm -f "$name" >/dev/null 2>&1 || true
    done
    eng "$1" network rm "$net" >/dev/null 2>&1 || true
}

wait_http() {
    local i
    for i in $(seq 100); do
        (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# Requests/s of wrk against URL (errors reported on stderr).
wrk_rps() {
    local out
    out=$(wrk -t 2 -c 8 -d "${secs}s" "$1")
    if grep -qE 'Socket errors|Non-2xx' <<<"$out"; then
        echo "wrk $1: $(grep -E 'Socket errors|Non-2xx' <<<"$out")" >&2
    fi
    awk '/^Requests\/sec:/ {printf "%.0f\n", $2}' <<<"$out"
}

# dnsperf with 4 clients: "<q/s> <p50 us> <p99 us>". Queries/s come from a
# run without -v (printing every answer slows dnsperf down), the latencies
# from a second run with it.
dnsperf_load() {
    local pid=$1 server=$2 qps
    echo "web A" >"$work/queries"
    qps=$(nsenter -t "$pid" -n dnsperf -s "$server" -d "$work/queries" -c 4 -l "$secs" 2>/dev/null |
        awk '/Queries per second:/ {printf "%.0f", $4}')
    echo -n "$qps "
    nsenter -t "$pid" -n dnsperf -s "$server" -d "$work/queries" -c 4 -l "$secs" -v 2>/dev/null | python3 -c '
import sys
lat = sorted(float(line.split()[-1]) for line in sys.stdin if line.startswith("> "))
if not lat:
    sys.exit("dnsperf: no answers")
print(f"{lat[len(lat) // 2] * 1e6:.0f} {lat[len(lat) * 99 // 100] * 1e6:.0f}")'
}

# Gbit/s received, from iperf3's JSON report on stdin.
gbits() { python3 -c "import json, sys; print('%.2f' % (json.load(sys.stdin)['end']['sum_received']['bits_per_second'] / 1e9))"; }

iperf_gbits() {
    local server_pid=$1 client_pid=$2 addr=$3
    nsenter -t "$server_pid" -n iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
    local spid=$!
    sleep 0.3
    nsenter -t "$client_pid" -n iperf3 -c "$addr" -p 5201 -t "$secs" -J | gbits
    wait "$spid" || true
}

# Creates the benchmark's network, or says why not. When stack's daemon
# refuses the docker client's request (a field it does not take yet), says
# so and asks the API directly with only the name.
create_network() {
    local err
    err=$(eng "$1" network create "$net" 2>&1 >/dev/null) && return 0
    if [[ $1 != stack ]]; then
        echo "$1: network create failed: $err"
        return 1
    fi
    echo "stack: note: the docker client's network create is refused (${err##*$'\n'}); created through the API with only a name"
    err=$(curl -sS --fail-with-body --unix-socket "$STACK_RUN_DIR/stack.sock" -H 'Content-Type: application/json' \
        -d "{\"Name\": \"$net\"}" http://stack/v1.41/networks/create 2>&1) && return 0
    stack_unsupported "user-defined networks: $err"
    return 1
}

declare -A web_ip published
# Starts one engine's network and web container; prints why and fails when
# it cannot. Sets web_ip[ENGINE] and published[ENGINE] (0 when stack cannot
# publish ports yet: then only the direct figure is measured).
start_engine() {
    local engine=$1 port err
    port=$(port_of "$engine")
    remove_all "$engine"
    bench_cleanup_hooks+=("remove_all $engine")
    create_network "$engine" || return 1
    published[$engine]=1
    if ! err=$(eng "$engine" run -d --name stackbench-web --network "$net" --network-alias web \
        -p "127.0.0.1:$port:80" -p "127.0.0.1:$(path_port_of "$engine"):82" busybox sh -c "$web_cmd" 2>&1 >/dev/null); then
        if [[ $engine != stack ]]; then
            echo "$engine: cannot start the web container: $err"
            return 1
        fi
        stack_unsupported "published ports: ${err##*$'\n'}"
        published[$engine]=0
        eng stack rm -f stackbench-web >/dev/null 2>&1 || true
        err=$(eng stack run -d --name stackbench-web --network "$net" --network-alias web \
            busybox sh -c "$web_cmd" 2>&1 >/dev/null) ||
            { stack_unsupported "containers on a network: ${err##*$'\n'}"; return 1; }
    fi
    web_ip[$engine]=$(eng "$engine" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' stackbench-web)
    if ((published[$engine])); then
        setsid nsenter -t "$(eng "$engine" inspect -f '{{.State.Pid}}' stackbench-web)" -n \
            busybox httpd -f -p 82 -h "$work/www" &
        path_httpd[$engine]=$!
    fi
    if [[ -z ${web_ip[$engine]} ]]; then
        [[ $engine == stack ]] && stack_unsupported "container addresses on a network" || echo "$engine: the web container has no address"
        return 1
    fi
}

# One wrk run through the published port and one to the container's address.
http_round() {
    local engine=$1 port ip=${web_ip[$1]}
    port=$(port_of "$engine")
    if ((published[$engine])); then
        if wait_http 127.0.0.1 "$port"; then
            record "$engine" http_published "$(wrk_rps "http://127.0.0.1:$port/")"
            record "$engine" http_path "$(wrk_rps "http://127.0.0.1:$(path_port_of "$engine")/")"
        else
            [[ $engine == stack ]] && stack_unsupported "a published port answering on 127.0.0.1:$port" ||
                echo "$engine: 127.0.0.1:$port does not answer"
        fi
    fi
    if wait_http "$ip" 81; then
        record "$engine" http_direct "$(wrk_rps "http://$ip:81/")"
    else
        echo "$engine: $ip:81 does not answer from the host"
    fi
}

# The second container, the client of the DNS and iperf3 runs.
start_peer() { eng "$1" run -d --name stackbench-peer --network "$net" busybox sleep 3600 >/dev/null; }

# DNS from the second container's namespace, then iperf3 from it to the web
# container.
measure_dns_iperf() {
    local engine=$1 web_pid peer_pid peer_ip server line
    web_pid=$(eng "$engine" inspect -f '{{.State.Pid}}' stackbench-web)
    peer_pid=$(eng "$engine" inspect -f '{{.State.Pid}}' stackbench-peer)
    server=$(awk '$1 == "nameserver" {print $2; exit}' "/proc/$peer_pid/root/etc/resolv.conf")
    if [[ -n $server ]] && line=$(nsenter -t "$peer_pid" -n python3 benches/dnslat.py "$server" web 1 2>&1) &&
        [[ $line == *NOERROR ]]; then
        line=$(dnsperf_load "$peer_pid" "$server")
        record "$engine" dns4_qps "${line%% *}"
        line=${line#* }
        record "$engine" dns4_p50 "${line%% *}"
        record "$engine" dns4_p99 "${line#* }"
        line=$(nsenter -t "$peer_pid" -n python3 benches/dnslat.py "$server" web 20000)
        read -r qps p50 p99 _ <<<"$line"
        record "$engine" dns1_qps "$qps"
        record "$engine" dns1_p50 "$p50"
        record "$engine" dns1_p99 "$p99"
    else
        [[ $engine == stack ]] && stack_unsupported "DNS for names on a network (nameserver '${server:-none}': ${line:-no answer})" ||
            echo "$engine: its DNS does not answer for web ($line)"
    fi
    peer_ip=$(eng "$engine" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' stackbench-peer)
    if [[ -n $peer_ip ]]; then
        record "$engine" iperf "$(iperf_gbits "$web_pid" "$peer_pid" "${web_ip[$engine]}")"
    fi
}

# The same httpd on the host's loopback, in a session of its own, as a
# server started from another terminal or as a service runs, and as every
# container's server runs: where kernel.sched_autogroup_enabled is 1 (as on
# the machines of benches/README.md) each session of the root cgroup is one
# scheduling group, and a container's cgroup is one too, so either server
# then competes with wrk's session as one group. The same httpd started in
# wrk's own session is measured beside it: it shares wrk's group, gets a
# larger part of the CPU when both are busy, and no container's server can
# be run that way.
mkdir -p "$work/www"
echo ok >"$work/www/index.html"
setsid busybox httpd -f -p 127.0.0.1:18080 -h "$work/www" &
bench_cleanup_hooks+=("kill $!")
busybox httpd -f -p 127.0.0.1:18079 -h "$work/www" &
bench_cleanup_hooks+=("kill $!")
wait_http 127.0.0.1 18080
wait_http 127.0.0.1 18079
# The host's round: both httpds, and in `all` mode iperf3 over loopback.
host_round() {
    record host http_published "$(wrk_rps http://127.0.0.1:18080/)"
    record host http_same_session "$(wrk_rps http://127.0.0.1:18079/)"
    [[ $mode == all ]] || return 0
    iperf3 -s -1 -B 127.0.0.1 -p 15201 >/dev/null 2>&1 &
    local iperf_pid=$!
    sleep 0.3
    record host iperf "$(iperf3 -c 127.0.0.1 -p 15201 -t "$secs" -J | gbits)"
    wait "$iperf_pid" || true
}

scripts/busybox-image --stack "$stack" >/dev/null
candidates=()
if stack_docker network ls >/dev/null 2>&1; then
    candidates+=(stack)
else
    stack_unsupported "networks: the engine's API has no /networks in this build"
fi
if docker_ready; then
    candidates+=(docker)
else
    skip_peer docker "no Docker engine with a busybox image answers; scripts/bench-peers setup starts one"
fi
if podman_ready; then
    candidates+=(podman)
else
    skip_peer podman "podman has no busybox image; scripts/bench-peers setup imports it"
fi

engines=(host)
for engine in "${candidates[@]}"; do
    if start_engine "$engine" && { [[ $mode == http ]] || start_peer "$engine"; }; then
        engines+=("$engine")
    fi
done
# One round's measurements of one engine (or of the host).
measure() {
    case $1 in
    host) host_round ;;
    *)
        [[ $mode == all ]] && measure_dns_iperf "$1"
        http_round "$1"
        ;;
    esac
}
# Each round starts one engine further on, so that no engine always runs
# right after the same one: the runs before leave sockets in TIME_WAIT and
# entries in the connection tracking table behind, which the next run's
# connections pay for.
for round in $(seq 0 $((rounds - 1))); do
    for i in "${!engines[@]}"; do
        measure "${engines[(round + i) % ${#engines[@]}]}"
    done
done
for engine in "${engines[@]:1}"; do
    remove_all "$engine"
done

python3 - "$results" "$secs" "$mode" "$rounds" "${engines[@]}" <<'PY'
import collections, statistics, sys
path, secs, mode, rounds, engines = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
runs = collections.defaultdict(lambda: collections.defaultdict(list))
for line in open(path):
    engine, what, v = line.rstrip("\n").split("\t")
    if v:
        runs[what][engine].append(float(v))
val = {what: {e: statistics.median(vs) for e, vs in by.items()} for what, by in runs.items()}
val = collections.defaultdict(dict, val)
rows = [
    ("dns4_qps", "DNS, dnsperf 4 clients", "q/s", True),
    ("dns4_p50", "  latency p50", "us", False),
    ("dns4_p99", "  latency p99", "us", False),
    ("dns1_qps", "DNS, one query at a time", "q/s", True),
    ("dns1_p50", "  latency p50", "us", False),
    ("dns1_p99", "  latency p99", "us", False),
    ("http_published", "HTTP via 127.0.0.1 port", "req/s", True),
    ("http_same_session", "  in wrk's session", "req/s", True),
    ("http_path", "  same port, host's httpd", "req/s", True),
    ("http_direct", "HTTP to container address", "req/s", True),
    ("iperf", "TCP container->container", "Gbit/s", True),
]
what = "HTTP only, " if mode == "http" else ""
print(f"container networking, {what}median of {rounds} interleaved rounds of {secs} s; "
      "in brackets stack / that engine (above 1: stack better)")
print(f"  {'':30}{'':8}" + "".join(f"{e:>20}" for e in engines))
for key, label, unit, higher_better in rows:
    if not val[key]:
        continue
    row = f"  {label:30}{unit:8}"
    mine = val[key].get("stack")
    for e in engines:
        v = val[key].get(e)
        if v is None:
            row += f"{'-':>20}"
            continue
        cell = f"{v:.2f}" if unit == "Gbit/s" else f"{v:.0f}"
        if e != "stack" and mine:
            ratio = mine / v if higher_better else v / mine
            cell += f" ({ratio:.2f}x)"
        row += f"{cell:>20}"
    print(row)
print("  host: busybox httpd (in a session of its own, as a server runs) and iperf3 on the host's loopback")
if val["http_same_session"]:
    print("  in wrk's session: the host's httpd sharing the load generator's scheduling group")
if val["http_path"]:
    print("  same port, host's httpd: the host's busybox httpd in the web container's network namespace,")
    print("    reached through the same kind of published port: the network path without the container")
    print("    (compare with host)")
PY
