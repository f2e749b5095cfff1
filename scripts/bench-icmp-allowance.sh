#!/bin/bash
# Times -sF of 8 ports against a namespace target that rejects 111, 135,
# 139 and 2000-2049 with ICMP port unreachables, drops 23 and listens on
# 22 and 80: five runs of main's binary and of this tree's.
# Usage (root): bench-icmp-allowance.sh ICMP_RATELIMIT_MS spend|nospend
# ("spend": a SYN scan of 1-2100 right before each run spends the
# allowance); PORTS=... overrides the scanned ports.
# Scanner ns "iaS" 198.19.77.1 <-> target ns "iaT" 198.19.77.2 over veth.
set -e
ip netns add iaS; ip netns add iaT
ip link add iaS0 netns iaS type veth peer name iaT0 netns iaT
ip -n iaS addr add 198.19.77.1/24 dev iaS0; ip -n iaT addr add 198.19.77.2/24 dev iaT0
ip -n iaS link set iaS0 up; ip -n iaT link set iaT0 up; ip -n iaS link set lo up; ip -n iaT link set lo up
ip netns exec iaT sysctl -qw net.ipv4.icmp_ratelimit=$1
ip netns exec iaT nft -f - <<NFT
table inet t {
  chain input {
    type filter hook input priority 0;
    tcp dport 23 drop
    meta nfproto ipv4 tcp dport { 111, 135, 139, 2000-2049 } reject with icmp type port-unreachable
  }
}
NFT
ip netns exec iaT python3 -c 'import socket,time
ss=[]
for p in (22,80):
  s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("0.0.0.0",p)); s.listen(); ss.append(s)
time.sleep(600)' & LP=$!
sleep 0.5
for bin in /work/main/target/debug/portolan /work/wt/icmpallow/target/debug/portolan; do
  for i in 1 2 3 4 5; do
    [ "$2" = spend ] && ip netns exec iaS $bin --no-history -sS -Pn -n -p1-2100 198.19.77.2 >/dev/null
    s=$(date +%s.%N); ip netns exec iaS $bin --no-history -sF -Pn -n -p${PORTS:-22,23,25,80,111,113,135,139} 198.19.77.2 > /tmp/ia_out.txt; e=$(date +%s.%N)
    echo "$bin $(echo "$e - $s" | bc) $(grep -c filtered /tmp/ia_out.txt) $(grep -E '^(111|135|139)/' /tmp/ia_out.txt | tr '\n' ' ')"
  done
done
kill $LP
ip netns del iaS; ip netns del iaT
