#!/bin/sh
# Records smoltcp's SYN/ACK and closed-port RST traits (its TCP stack on a
# tap device, scripts/os-db/smoltcp-server) as an OS database entry
# (stdout).
#
# Usage (root): scripts/os-db/capture-smoltcp.sh > crates/os/data/smoltcp.osdb
#
# Builds the server (crates.io smoltcp, pinned by its Cargo.lock), then in
# a throwaway namespace runs it behind tap0 as 198.18.254.10 listening on
# port 80 (port 81 closed); the kernel's side is 198.18.254.9/30 and
# synack.py there records smoltcp's answers. No route leaves the
# namespace; it is deleted on exit.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tag="ossmol$$"
ns="portolan-$tag"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
cargo build -q --release --locked --manifest-path "$here/smoltcp-server/Cargo.toml" >&2
bin="$here/smoltcp-server/target/release/smoltcp-server"
version=$(grep -A1 '^name = "smoltcp"$' "$here/smoltcp-server/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p')
ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" sysctl -qw net.ipv4.tcp_ecn=1
ip -n "$ns" tuntap add dev tap0 mode tap
ip -n "$ns" addr add 198.18.254.9/30 dev tap0
ip -n "$ns" link set tap0 up
ip netns exec "$ns" "$bin" tap0 198.18.254.10 80 20 >/dev/null &
server=$!
sleep 0.5
cat <<HDR
# portolan OS database: smoltcp's TCP/IP stack, captured here.
#
# Where the facts come from: scripts/os-db/capture-smoltcp.sh, run as root:
# smoltcp $version (crates.io, socket buffers of 65535 bytes, see
# scripts/os-db/smoltcp-server) behind a tap device in a network
# namespace, answering the Linux client's SYN (MSS 1460, SACK permitted,
# timestamps, NOP, window scale 7, ECE+CWR). Regenerate with the script;
# do not edit.

HDR
ip netns exec "$ns" python3 "$here/synack.py" tap0 198.18.254.10 80 81 \
  "smoltcp $version" \
  "smoltcp | smoltcp | ${version%.*}.X | specialized | cpe:/a:smoltcp-rs:smoltcp:$version" \
  "capture: scripts/os-db/capture-smoltcp.sh (smoltcp $version, 65535-byte buffers, tap device)"
