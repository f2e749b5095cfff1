#!/usr/bin/env bash
# Builds portolan and the benchmark harness in release mode, then runs the
# benchmark scenarios in network-namespace testbeds (needs root, nft, ip).
#
#   scripts/bench.sh [--runs N] [--portolan PATH] [--extra-args "..."] [--timeout SECS] [scenario...]
#   scripts/bench.sh --list
#
# With --portolan PATH the portolan build is skipped and PATH is measured.
# The harness runs in release mode too: the delay relay lives in its process.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "bench.sh: needs root (network namespaces); try: sudo $0 $*" >&2
    exit 2
fi
for tool in ip nft; do
    command -v "$tool" >/dev/null || { echo "bench.sh: '$tool' not found (install iproute2, nftables)" >&2; exit 2; }
done

build_portolan=1
for arg in "$@"; do
    if [ "$arg" = "--portolan" ]; then build_portolan=0; fi
done

if [ "$build_portolan" -eq 1 ]; then
    cargo build --release -p portolan --bin portolan
fi
cargo build --release -p portolan-testbed --bin portolan-bench
exec target/release/portolan-bench "$@"
