#!/usr/bin/env bash
# Benchmark of `portolan local` (the portolan-local example) against ss at
# 100,000 TCP sockets: LISTEN and ESTABLISHED, both ends of each
# connection, held by several processes in a throwaway namespace.
#
#   sudo scripts/bench-local.sh [SOCKETS] [PROCS] [RUNS]
#
# Prints, median of RUNS (default 5): the example with owners (-a -t) vs
# `ss -tanp`, without owners (-a -t -n) vs `ss -tan`, and the example's
# peak RSS (/usr/bin/time -v). Needs root, ip, ss, python3; builds the
# example in release mode. Everything is on loopback inside the namespace,
# which is deleted on exit.
set -euo pipefail

SOCKETS=${1:-100000}
PROCS=${2:-6}
RUNS=${3:-5}
NS="portolan-bench-local-$$"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
PY=$(command -v /usr/bin/python3 || command -v python3)

[ "$(id -u)" = 0 ] || { echo "bench-local: needs root" >&2; exit 1; }

cargo build --release -j2 -p portolan-local --example local >&2
EXE=$CARGO_TARGET_DIR/release/examples/local

PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" sysctl -qw net.ipv4.ip_local_port_range="1024 65000"

# Each process listens on its own port and connects to itself CONNS
# times: 2 sockets per connection, plus the listener.
CONNS=$(( SOCKETS / PROCS / 2 ))
HOLDER='
import resource, socket, sys
n, port = int(sys.argv[1]), int(sys.argv[2])
want = 2 * n + 64
resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", port)); l.listen(4096)
keep = []
for i in range(n):
    c = socket.socket(); c.connect(("127.0.0.1", port))
    a, _ = l.accept()
    keep += [c, a]
print("ready", flush=True)
sys.stdin.read()
'
FIFO_DIR=$(mktemp -d)
for i in $(seq 1 "$PROCS"); do
    mkfifo "$FIFO_DIR/in$i"
    # The fifo stays open for writing (fd 10+i) until the script exits.
    ip netns exec "$NS" "$PY" -c "$HOLDER" "$CONNS" $(( 20000 + i )) \
        < "$FIFO_DIR/in$i" > "$FIFO_DIR/out$i" &
    PIDS+=($!)
    eval "exec $(( 10 + i ))>$FIFO_DIR/in$i"
done
for i in $(seq 1 "$PROCS"); do
    until grep -q ready "$FIFO_DIR/out$i" 2>/dev/null; do sleep 0.2; done
done
TOTAL=$(ip netns exec "$NS" ss -tanH | wc -l)
echo "sockets in namespace: $TOTAL (TCP, $PROCS processes)"

# Medians of RUNS runs of a command (output discarded): "WALL_ms CPU_ms",
# CPU being user + system time. On a shared, loaded machine the CPU time
# is the steadier figure; the wall time is what a user waits.
median() {
    local walls=() cpus=() tf
    tf=$(mktemp)
    for _ in $(seq 1 "$RUNS"); do
        local s e
        s=$(date +%s%N)
        ip netns exec "$NS" /usr/bin/time -f "%U %S" -o "$tf" "$@" > /dev/null
        e=$(date +%s%N)
        walls+=("$(( (e - s) / 1000000 ))")
        cpus+=("$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$tf")")
    done
    rm -f "$tf"
    local mid=$(( (RUNS + 1) / 2 ))
    echo "$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "${mid}p") $(printf '%s\n' "${cpus[@]}" | sort -n | sed -n "${mid}p")"
}
rss() {
    ip netns exec "$NS" /usr/bin/time -v "$@" 2>&1 >/dev/null |
        awk -F: '/Maximum resident/ { gsub(/ /, "", $2); print $2 }'
}

ROWS=$(ip netns exec "$NS" "$EXE" -a -t --plain | wc -l)
echo "rows listed by portolan local -a -t: $ROWS"
read -r OWN OWNC <<< "$(median "$EXE" -a -t)"
read -r SSP SSPC <<< "$(median ss -tanp)"
read -r NOOWN NOOWNC <<< "$(median "$EXE" -a -t -n)"
read -r SS SSC <<< "$(median ss -tan)"
echo "median of $RUNS, wall ms (cpu ms); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "with owners:    portolan local -a -t    ${OWN} (${OWNC})   ss -tanp ${SSP} (${SSPC})"
echo "without owners: portolan local -a -t -n ${NOOWN} (${NOOWNC})   ss -tan  ${SS} (${SSC})"
echo "peak RSS: with owners $(rss "$EXE" -a -t) KiB, without $(rss "$EXE" -a -t -n) KiB," \
     "json $(rss "$EXE" -a -t --json) KiB"
