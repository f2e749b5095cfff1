#!/bin/sh
# Records lwIP's SYN/ACK and closed-port RST traits (Debian liblwip, its
# unix port's tap driver, through scripts/os-db/lwip-harness.c) as an OS
# database entry (stdout).
#
# Usage (root): scripts/os-db/capture-lwip.sh > crates/os/data/lwip.osdb
#
# A throwaway namespace holds a tap device; the harness runs lwIP behind it
# as 198.18.254.6 listening on port 80 (port 81 closed), the kernel's side
# is 198.18.254.5/30, and synack.py there records lwIP's answers. No route
# leaves the namespace; it is deleted on exit.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tag="oslwip$$"
ns="portolan-$tag"
work=$(mktemp -d)
harness=""
cleanup() {
  [ -n "$harness" ] && kill "$harness" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
cc -o "$work/lwip-harness" "$here/lwip-harness.c" $(pkg-config --cflags --libs lwip)
ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" sysctl -qw net.ipv4.tcp_ecn=1
ip netns exec "$ns" env PRECONFIGURED_TAPIF=tap0 "$work/lwip-harness" 198.18.254.6 80 20 >"$work/out" 2>&1 &
harness=$!
i=0
until ip -n "$ns" link show tap0 >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -lt 50 ] || { cat "$work/out" >&2; echo "no tap0" >&2; exit 1; }
  sleep 0.1
done
ip -n "$ns" addr add 198.18.254.5/30 dev tap0
ip -n "$ns" link set tap0 up
sleep 0.5
version=$(dpkg-query -W -f '${Version}' liblwip0 2>/dev/null | sed 's/+.*//; s/-.*//')
cat <<HDR
# portolan OS database: lwIP's TCP/IP stack, captured here.
#
# Where the facts come from: scripts/os-db/capture-lwip.sh, run as root:
# lwIP $version (Debian liblwip0 with Debian's lwipopts.h: TCP_MSS 1460,
# TCP_WND 0xFFFF, LWIP_WND_SCALE on) behind a tap device in a network
# namespace (scripts/os-db/lwip-harness.c), answering the Linux client's
# SYN (MSS 1460, SACK permitted, timestamps, NOP, window scale 7,
# ECE+CWR). Regenerate with the script; do not edit.

HDR
ip netns exec "$ns" python3 "$here/synack.py" tap0 198.18.254.6 80 81 \
  "lwIP $version" \
  "lwIP | lwIP | ${version%%.*}.X | specialized | cpe:/a:lwip_project:lwip:$version" \
  "capture: scripts/os-db/capture-lwip.sh (lwIP $version, Debian build, tap harness)"
