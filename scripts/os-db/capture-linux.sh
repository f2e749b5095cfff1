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
# ECN setup), and a packet socket there (synack.py) records the server's SYN/ACK and
# the RST+ACK of port 81, then the timed burst (six raw SYNs, an ICMP
# echo, UDP to a closed port). The TTL variant (ip_default_ttl=128) is measured
# but not written: a Linux entry with TTL 128 would make every Windows-TTL
# host look like Linux; the classifier's TTL volatility covers it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
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

capture_once() {  # $1 = variant label, $2 = tcp_rmem, rest = sysctl settings for the server
  label=$1; rmem=$2; shift 2
  ip netns exec "$s" sysctl -qw net.ipv4.tcp_rmem="$rmem"
  for kv in "$@"; do ip netns exec "$s" sysctl -qw "$kv"; done
  ip netns exec "$s" python3 -c '
import socket, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("198.18.254.2", 80)); l.listen(8); l.settimeout(5)
try:
    a, _ = l.accept(); time.sleep(0.2); a.close()
    time.sleep(3)  # still listening for the timed burst
except OSError:
    pass
' &
  server=$!
  sleep 0.3
  name="Linux $major_minor"; [ "$label" = default ] || name="$name ($label)"
  ip netns exec "$c" python3 "$here/synack.py" "$tag-c" 198.18.254.2 80 81 "$name" \
    "Linux | Linux | $major.X | general purpose | cpe:/o:linux:linux_kernel:$major_minor" \
    "capture: scripts/os-db/capture-linux.sh, server sysctl $label"
  wait "$server" 2>/dev/null || true
  # Back to the defaults for the next variant.
  ip netns exec "$s" sysctl -qw net.ipv4.tcp_timestamps=1 net.ipv4.tcp_sack=1 \
    net.ipv4.tcp_window_scaling=1 net.ipv4.tcp_ecn=2 net.ipv4.ip_default_ttl=64 \
    net.ipv4.tcp_rmem="4096 131072 6291456"
}

# Linux derives its window scale from the largest receive buffer
# (tcp_rmem's third value), which the kernel sizes by the machine's memory
# and which distributions and images raise (6, 16 and 32 MB are common).
# Unless a variant sets tcp_rmem itself, each is measured with all three
# and the entry lists every window scale seen: the scale says how the
# machine is tuned, not which kernel it runs.
capture() {  # $1 = variant label, rest = sysctl settings for the server
  label=$1; shift
  entry=$(capture_once "$label" "4096 131072 6291456" "$@")
  case "$label" in
    tcp_rmem*|*tcp_window_scaling=0) ;;
    *)
      scales=$(echo "$entry" | sed -n 's/^wscale //p')
      for max in 16777216 33554432; do
        more=$(capture_once "$label" "4096 131072 $max" "$@" | sed -n 's/^wscale //p')
        scales="$scales,$more"
      done
      scales=$(echo "$scales" | tr , '\n' | sed '/^$/d' | sort -nu | paste -sd, - | sed 's/,/, /g')
      entry=$(echo "$entry" | sed "s/^wscale .*/wscale $scales/")
      ;;
  esac
  printf '%s\n\n' "$entry"
}

ip netns exec "$s" sysctl -qw net.ipv4.tcp_rmem="4096 131072 6291456"
capture default
capture "tcp_timestamps=0" net.ipv4.tcp_timestamps=0
capture "tcp_sack=0" net.ipv4.tcp_sack=0
capture "tcp_window_scaling=0" net.ipv4.tcp_window_scaling=0
capture "tcp_ecn=0" net.ipv4.tcp_ecn=0
capture "tcp_timestamps=0 tcp_sack=0" net.ipv4.tcp_timestamps=0 net.ipv4.tcp_sack=0
capture "tcp_timestamps=0 tcp_sack=0 tcp_window_scaling=0" net.ipv4.tcp_timestamps=0 \
  net.ipv4.tcp_sack=0 net.ipv4.tcp_window_scaling=0
capture "tcp_timestamps=2" net.ipv4.tcp_timestamps=2
capture "tcp_rmem=4096 16384 65536" net.ipv4.tcp_rmem="4096 16384 65536"
capture "tcp_rmem=4096 65536 1048576" net.ipv4.tcp_rmem="4096 65536 1048576"
capture "tcp_rmem=4096 1048576 16777216" net.ipv4.tcp_rmem="4096 1048576 16777216"
