#!/usr/bin/env python3
"""One-query-at-a-time DNS latency: sends an A query for NAME to SERVER over
UDP, waits for its answer, and repeats, COUNT times. Prints one line:
"<queries/s> <p50 us> <p99 us> <rcode of the last answer>".

    dnslat.py SERVER NAME [COUNT]

Used by benches/network.sh inside a container's network namespace (dnsperf
with one outstanding query stalls for tens of milliseconds on this host, so
it cannot measure this). The Python loop adds the same few microseconds to
every engine's figure.
"""
import socket
import struct
import sys
import time

RCODES = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}


def query(qid: int, name: str) -> bytes:
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.strip(".").split(".")) + b"\0"
    return header + qname + struct.pack("!HH", 1, 1)


def main() -> int:
    server, name = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect((server, 53))
    sock.settimeout(1.0)
    packets = [query(i & 0xFFFF, name) for i in range(count)]
    lat = []
    rcode = None
    start = time.perf_counter()
    for i, packet in enumerate(packets):
        t0 = time.perf_counter_ns()
        sock.send(packet)
        try:
            while True:
                reply = sock.recv(512)
                if len(reply) >= 12 and struct.unpack("!H", reply[:2])[0] == i & 0xFFFF:
                    break
        except socket.timeout:
            print(f"dnslat: no answer from {server}:53 for {name} within 1 s", file=sys.stderr)
            return 1
        lat.append(time.perf_counter_ns() - t0)
        rcode = reply[3] & 0x0F
    elapsed = time.perf_counter() - start
    lat.sort()
    p50 = lat[len(lat) // 2] / 1000
    p99 = lat[min(len(lat) - 1, len(lat) * 99 // 100)] / 1000
    print(f"{count / elapsed:.0f} {p50:.0f} {p99:.0f} {RCODES.get(rcode, rcode)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
