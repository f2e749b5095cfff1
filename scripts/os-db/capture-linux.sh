#!/bin/sh
# Records the Linux kernel's SYN/ACK and closed-port RST traits, with
# sysctl variants, into portolan's OS database format (stdout).
#
# Usage (root): scripts/os-db/capture-linux.sh > crates/os/data/linux.osdb
#
# Two throwaway network namespaces joined by a veth pair, numbered in
# 198.18.0.0/15 with no route onward; nothing leaves them, and they are
# deleted on exit. The server namespace gets each sysctl variant, listens
# on port 80 (port 81 closed); the client namespace connects with the
# kernel's own SYN (MSS, SACK permitted, timestamps, NOP, window scale,
# ECN setup), and a packet socket there records the server's SYN/ACK and
# the RST+ACK of port 81. The TTL variant (ip_default_ttl=128) is measured
# but not written: a Linux entry with TTL 128 would make every Windows-TTL
# host look like Linux; the classifier's TTL volatility covers it.
set -eu
tag="oscap$$"
c="portolan-$tag-c"; s="portolan-$tag-s"
cleanup() { ip netns del "$c" 2>/dev/null || true; ip netns del "$s" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
ip netns add "$c"; ip netns add "$s"
ip link add "$tag-c" netns "$c" type veth peer name "$tag-s" netns "$s"
ip -n "$c" addr add 198.18.254.1/30 dev "$tag-c"
ip -n "$s" addr add 198.18.254.2/30 dev "$tag-s"
ip -n "$c" link set "$tag-c" up; ip -n "$s" link set "$tag-s" up
ip -n "$c" link set lo up; ip -n "$s" link set lo up
ip netns exec "$c" sysctl -qw net.ipv4.tcp_ecn=1
kernel=$(uname -r | sed 's/[-+].*//')
major_minor=$(echo "$kernel" | cut -d. -f1,2)
major=$(echo "$kernel" | cut -d. -f1)

cat <<HDR
# portolan OS database: Linux kernel stacks captured here.
#
# Where the facts come from: scripts/os-db/capture-linux.sh, run as root on
# Linux $kernel ($(uname -m)): a listening socket in a network namespace,
# answering the client kernel's SYN (MSS 1460, SACK permitted, timestamps,
# NOP, window scale 7, ECE+CWR) over a veth pair (MTU 1500); one entry
# per server sysctl variant. Regenerate with the script; do not edit.

HDR

capture() {  # $1 = variant label, rest = sysctl settings for the server
  label=$1; shift
  for kv in "$@"; do ip netns exec "$s" sysctl -qw "$kv"; done
  ip netns exec "$s" python3 -c '
import socket, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("198.18.254.2", 80)); l.listen(8); l.settimeout(5)
try:
    a, _ = l.accept(); time.sleep(0.2); a.close()
except OSError:
    pass
' &
  server=$!
  sleep 0.3
  ip netns exec "$c" python3 - "$tag-c" "$label" "$major_minor" "$major" <<'PY'
import socket, struct, sys, time
ifname, label, mm, major = sys.argv[1:5]
p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))  # ETH_P_ALL: outgoing too
p.bind((ifname, 0)); p.settimeout(0.2)

def wait(sport, want, src="198.18.254.2", dport=None):
    end = time.time() + 3
    while time.time() < end:
        try:
            f = p.recv(65535)
        except socket.timeout:
            continue
        if f[12:14] != b"\x08\x00":
            continue
        ip = f[14:]
        if len(ip) < 20 or ip[9] != 6 or ip[12:16] != socket.inet_aton(src):
            continue
        ihl = (ip[0] & 15) * 4
        t = ip[ihl:]
        port = struct.unpack("!H", t[2:4] if dport else t[0:2])[0]
        if port != (dport or sport) or t[13] & want != want:
            continue
        return ip, t
    sys.exit(f"no reply from port {sport}")

def layout(t):
    off = (t[12] >> 4) * 4
    o, i, s, v = t[20:off], 0, "", {}
    while i < len(o):
        k = o[i]
        s += {0: "L", 1: "N", 2: "M", 3: "W", 4: "S", 8: "T"}.get(k, f"[{k}]")
        if k in (0, 1):
            i += 1
            continue
        n = o[i + 1] if i + 1 < len(o) else 2
        if k == 2: v["mss"] = struct.unpack("!H", o[i + 2:i + 4])[0]
        if k == 3: v["wscale"] = o[i + 2]
        i += max(n, 2)
    return s, v

c = socket.socket(); c.setblocking(False)
c.connect_ex(("198.18.254.2", 80))
ip, t = wait(80, 0x12)
seq_sent = None
opts, vals = layout(t)
ttl, df, win, ece = ip[8], bool(ip[6] & 0x40), struct.unpack("!H", t[14:16])[0], bool(t[13] & 0x40)
time.sleep(0.1); c.close()
r = socket.socket(); r.setblocking(False)
r.connect_ex(("198.18.254.2", 81))
_, syn = wait(0, 0x02, src="198.18.254.1", dport=81)
rip, rt = wait(81, 0x14)
sent, got = struct.unpack("!I", syn[4:8])[0], struct.unpack("!I", rt[8:12])[0]
ack = "zero" if got == 0 else "same" if got == sent else "plus1" if got == (sent + 1) % 2**32 else "other"
rwin = struct.unpack("!H", rt[14:16])[0]
name = f"Linux {mm}" + (f" ({label})" if label != "default" else "")
print(f"entry {name}")
print(f"class Linux | Linux | {major}.X | general purpose | cpe:/o:linux:linux_kernel:{mm}")
print(f"source capture: scripts/os-db/capture-linux.sh, server sysctl {label}")
print(f"ttl {ttl}")
print(f"df {'yes' if df else 'no'}")
print(f"window {win}")
if "mss" in vals: print(f"mss {vals['mss']}")
print(f"options {opts or '-'}")
if "wscale" in vals: print(f"wscale {vals['wscale']}")
print(f"ecn {'yes' if ece else 'no'}")
print(f"closed window={rwin} ack={ack} df={'yes' if rip[6] & 0x40 else 'no'}")
print()
PY
  wait "$server" 2>/dev/null || true
  # Back to the defaults for the next variant.
  ip netns exec "$s" sysctl -qw net.ipv4.tcp_timestamps=1 net.ipv4.tcp_sack=1 \
    net.ipv4.tcp_window_scaling=1 net.ipv4.tcp_ecn=2 net.ipv4.ip_default_ttl=64 \
    net.ipv4.tcp_rmem="4096 131072 6291456"
}

ip netns exec "$s" sysctl -qw net.ipv4.tcp_rmem="4096 131072 6291456"
capture default
capture "tcp_timestamps=0" net.ipv4.tcp_timestamps=0
capture "tcp_sack=0" net.ipv4.tcp_sack=0
capture "tcp_window_scaling=0" net.ipv4.tcp_window_scaling=0
capture "tcp_ecn=0" net.ipv4.tcp_ecn=0
capture "tcp_timestamps=0 tcp_sack=0" net.ipv4.tcp_timestamps=0 net.ipv4.tcp_sack=0
capture "tcp_rmem=4096 16384 65536" net.ipv4.tcp_rmem="4096 16384 65536"
capture "tcp_rmem=4096 1048576 16777216" net.ipv4.tcp_rmem="4096 1048576 16777216"
