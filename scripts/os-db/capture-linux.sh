#!/usr/bin/env bash
# Captures this machine's Linux kernel as OS database entries.
#
# Usage (as root): scripts/os-db/capture-linux.sh [PORTOLAN] > crates/os/data/linux.osdb
#
# For each variant below, a throwaway pair of network namespaces joined by
# a veth link (198.18.200.1 scanner, 198.18.200.2 target; no route
# anywhere else) gets the variant's sysctls in the target namespace and a
# listener on port 22; portolan -O -v scans ports 22 and 23 of it and its
# "OS fingerprint:" line (the database's own fp notation: the SYN/ACK and
# the closed port's RST+ACK) becomes an entry. The same is done over the
# loopback interface inside one namespace (MSS 65495). Identical
# fingerprints are written once, with every variant that gave them in
# their source line.
#
# Variants that change what a stack is (ip_default_ttl) are not captured:
# a Linux host set to TTL 128 should come out unsure, not match an entry.
set -euo pipefail
bin=${1:-target/release/portolan}
[ -x "$bin" ] || { echo "capture-linux: build portolan first ($bin)" >&2; exit 1; }
kernel=$(uname -r)
mm=$(echo "$kernel" | cut -d. -f1,2)
major=${mm%%.*}
sc=ptbcap-s-$$
tg=ptbcap-t-$$
lo=ptbcap-l-$$
cleanup() {
    for ns in $sc $tg $lo; do ip netns del "$ns" 2>/dev/null || true; done
    [ -n "${lpid:-}" ] && kill "$lpid" 2>/dev/null || true
}
trap cleanup EXIT

listen() { # ns addr: a listener on port 22 in ns
    ip netns exec "$1" python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 22)); s.listen(64); time.sleep(120)' "$2" &
    lpid=$!
    sleep 0.3
}

capture() { # name sysctls...: prints "fingerprint<TAB>variant"
    local name=$1; shift
    cleanup; lpid=
    ip netns add $sc; ip netns add $tg
    ip -n $sc link add veth0 type veth peer name veth1 netns $tg
    ip -n $sc addr add 198.18.200.1/24 dev veth0; ip -n $sc link set veth0 up
    ip -n $tg addr add 198.18.200.2/24 dev veth1; ip -n $tg link set veth1 up
    ip -n $sc link set lo up; ip -n $tg link set lo up
    for kv in "$@"; do ip netns exec $tg sysctl -qw "$kv"; done
    listen $tg 198.18.200.2
    local fp
    fp=$(ip netns exec $sc "$bin" --no-history -O -v -n -Pn -p22,23 198.18.200.2 |
        sed -n 's/^OS fingerprint: //p')
    [ -n "$fp" ] || { echo "capture-linux: no fingerprint for $name" >&2; exit 1; }
    printf '%s\t%s (veth)\n' "$fp" "$name"
    # The same over loopback, inside one namespace.
    ip netns add $lo; ip -n $lo link set lo up
    for kv in "$@"; do ip netns exec $lo sysctl -qw "$kv"; done
    kill "$lpid" 2>/dev/null || true
    listen $lo 127.0.0.1
    fp=$(ip netns exec $lo "$bin" --no-history -O -v -n -Pn -p22,23 127.0.0.1 |
        sed -n 's/^OS fingerprint: //p')
    [ -n "$fp" ] || { echo "capture-linux: no loopback fingerprint for $name" >&2; exit 1; }
    printf '%s\t%s (loopback)\n' "$fp" "$name"
}

{
    capture "defaults"
    capture "tcp_timestamps=0" net.ipv4.tcp_timestamps=0
    capture "tcp_sack=0" net.ipv4.tcp_sack=0
    capture "tcp_window_scaling=0" net.ipv4.tcp_window_scaling=0
    capture "tcp_ecn=1" net.ipv4.tcp_ecn=1
    capture "tcp_rmem=4096 65536 1048576" "net.ipv4.tcp_rmem=4096 65536 1048576"
    capture "tcp_rmem=4096 262144 16777216" "net.ipv4.tcp_rmem=4096 262144 16777216"
    capture "tcp_timestamps=0 tcp_sack=0" net.ipv4.tcp_timestamps=0 net.ipv4.tcp_sack=0
} > /tmp/capture-linux.$$

cat <<HEADER
# portolan OS database: Linux, captured from a real kernel.
#
# Made by scripts/os-db/capture-linux.sh on Linux $kernel: the SYN/ACK
# (to portolan's client-like SYN: MSS, SACK, timestamps, window scale)
# and the closed port's RST+ACK of the kernel in a network namespace, with
# the sysctl variants named in each source line, over a veth link (MSS
# 1460) and over loopback (MSS 65495). The windows of one layout are
# merged into one entry. Run the script again on another kernel to add
# its entries.
HEADER
# One entry per option layout and TTL; windows and MSS values merged.
python3 - "$mm" "$major" /tmp/capture-linux.$$ <<'PY'
import sys, collections
mm, major, path = sys.argv[1], sys.argv[2], sys.argv[3]
groups = collections.OrderedDict()
for line in open(path):
    fp, variant = line.rstrip("\n").split("\t")
    kv = dict(x.split("=", 1) for x in fp.split())
    key = tuple((k, v) for k, v in kv.items() if k not in ("win", "mss"))
    g = groups.setdefault(key, {"win": [], "mss": [], "variants": []})
    for k in ("win", "mss"):
        if k in kv and kv[k] not in g[k]:
            g[k].append(kv[k])
    g["variants"].append(variant)
for key, g in groups.items():
    kv = dict(key)
    print()
    print(f"match Linux {mm}")
    print(f"class Linux | Linux | {major}.X | general purpose | cpe:/o:linux:linux_kernel:{mm}")
    print(f"source captured by scripts/os-db/capture-linux.sh on Linux {mm}: " + "; ".join(g["variants"]))
    parts = [f"ttl={kv['ttl']}", f"df={kv['df']}"]
    if g["win"]:
        parts.append("win=" + ",".join(sorted(g["win"], key=int)))
    parts.append(f"opts={kv['opts']}")
    if g["mss"]:
        parts.append("mss=" + ",".join(sorted(g["mss"], key=int)))
    for k in ("ws", "closed-ttl", "closed-df", "closed-win"):
        if k in kv:
            parts.append(f"{k}={kv[k]}")
    print("fp " + " ".join(parts))
PY
rm -f /tmp/capture-linux.$$
