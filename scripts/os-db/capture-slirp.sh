#!/bin/sh
# Records libslirp's SYN/ACK and closed-port RST traits (the user-mode
# TCP/IP stack of slirp4netns, derived from 4.4BSD) as an OS database
# entry (stdout).
#
# Usage (root): scripts/os-db/capture-slirp.sh > crates/os/data/slirp.osdb
#
# A throwaway namespace gets a tap device served by slirp4netns (no
# outside route is used: the only peer is 10.0.2.2, slirp's alias for the
# host's loopback). A listener on 127.0.0.1 makes a port open; another
# loopback port stays closed. The client's SYN to 10.0.2.2 is answered by
# slirp's own stack, which synack.py records on the tap device.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tag="osslirp$$"
ns="portolan-$tag"
slirp=""; server=""
cleanup() {
  [ -n "$slirp" ] && kill "$slirp" 2>/dev/null || true
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
ip netns add "$ns"
ip netns exec "$ns" sysctl -qw net.ipv4.tcp_ecn=1
slirp4netns --configure --mtu=1500 --netns-type=path "/var/run/netns/$ns" tap0 >/dev/null 2>&1 &
slirp=$!
i=0
until ip -n "$ns" addr show tap0 2>/dev/null | grep -q 10.0.2.100; do
  i=$((i + 1)); [ "$i" -lt 50 ] || { echo "slirp4netns did not configure tap0" >&2; exit 1; }
  sleep 0.1
done
# Two free loopback ports: one listened on, one closed.
ports=$(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
open=${ports% *}; closed=${ports#* }
python3 -c '
import socket, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(8); l.settimeout(10)
try:
    while True:  # the first connection, then the timed burst ones
        a, _ = l.accept(); a.close()
except OSError:
    pass
' "$open" &
server=$!
sleep 0.3
version=$(dpkg-query -W -f '${Version}' libslirp0 2>/dev/null | sed 's/-.*//')
wrapper=$(slirp4netns --version 2>/dev/null | head -1 | awk '{print $3}')
cat <<HDR
# portolan OS database: libslirp's TCP/IP stack, captured here.
#
# Where the facts come from: scripts/os-db/capture-slirp.sh, run as root:
# libslirp $version (Debian libslirp0) through slirp4netns $wrapper,
# answering on a tap device in a network namespace the Linux client's SYN
# (MSS 1460, SACK permitted, timestamps, NOP, window scale 7, ECE+CWR).
# Regenerate with the script; do not edit.

HDR
ip netns exec "$ns" python3 "$here/synack.py" tap0 10.0.2.2 "$open" "$closed" \
  "libslirp $version (slirp4netns)" \
  "QEMU | Slirp | ${version%%.*}.X | specialized | cpe:/a:libslirp_project:libslirp:$version" \
  "capture: scripts/os-db/capture-slirp.sh (libslirp $version, a 4.4BSD-derived user-mode stack)"
