#!/bin/sh
# -O's cost on a top-1000-ports SYN scan of one host (issue 13's figure):
# the median wall time of RUNS scans with and without -O, alternated.
#
# Usage (root): scripts/bench-os-top1000.sh [RUNS] [PORTOLAN] [PORTS]
#   RUNS defaults to 5, PORTOLAN to target/release/portolan, PORTS (the
#   port selection) to "--top-ports 1000" ("-p-" for every port).
#
# Two throwaway namespaces joined by a veth pair in 198.18.250.0/30 with
# no route onward; the target (Linux, as it comes) listens on 8 ports of
# the top 1000. Both are deleted on exit. (syn-veth in portolan-bench
# scans all 65,535 ports; this is the top-1000 scan the issue names.)
set -eu
runs=${1:-5}
bin=$(realpath "${2:-target/release/portolan}")
ports=${3:---top-ports 1000}
tag="osb$$"; s="portolan-$tag-s"; t="portolan-$tag-t"; lst=""
cleanup() {
  [ -n "$lst" ] && kill "$lst" 2>/dev/null || true
  ip netns del "$s" 2>/dev/null || true; ip netns del "$t" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
ip netns add "$s"; ip netns add "$t"
ip link add "$tag-s" netns "$s" type veth peer name "$tag-t" netns "$t"
ip -n "$s" addr add 198.18.250.1/30 dev "$tag-s"
ip -n "$t" addr add 198.18.250.2/30 dev "$tag-t"
for n in "$s" "$t"; do ip -n "$n" link set lo up; done
ip -n "$s" link set "$tag-s" up; ip -n "$t" link set "$tag-t" up
ip netns exec "$t" python3 -c '
import socket, time
ls = []
for p in (21, 22, 25, 53, 80, 443, 3306, 8080):
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("198.18.250.2", p)); l.listen(64); ls.append(l)
time.sleep(3600)
' &
lst=$!
sleep 0.5
export XDG_DATA_HOME="${TMPDIR:-/tmp}/$tag-history"
one() {  # prints the wall time of one scan with extra args "$@"
  a=$(date +%s.%N)
  ip netns exec "$s" "$bin" -sS $ports -n -Pn "$@" -oG /dev/null 198.18.250.2 >/dev/null
  b=$(date +%s.%N)
  echo "$b - $a" | bc
}
plain=""; with=""
i=0
while [ "$i" -lt "$runs" ]; do
  plain="$plain $(one)"; with="$with $(one -O)"
  i=$((i + 1))
done
median() { printf '%s\n' $1 | sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
mp=$(median "$plain"); mw=$(median "$with")
echo "without -O:$plain  median $mp s"
echo "with -O:   $with  median $mw s"
echo "ratio $(echo "scale=3; $mw / $mp" | bc)"
rm -rf "$XDG_DATA_HOME"
