#!/usr/bin/env python3
"""Records one stack's SYN/ACK and closed-port RST+ACK as an OS database entry.

Usage: synack.py IFNAME SERVER OPEN_PORT CLOSED_PORT NAME CLASS SOURCE

Run inside the client's network namespace. Connects to SERVER:OPEN_PORT
with the kernel's own SYN (Linux offers MSS, SACK permitted, timestamps,
NOP, window scale; ECN setup when net.ipv4.tcp_ecn=1) and to
SERVER:CLOSED_PORT, reading both answers from a packet socket on IFNAME
(outgoing frames too, for the SYN's sequence number). Prints the entry in
portolan's OS database format (docs/os-detection.md). Standard library.
"""

import socket
import struct
import sys
import time

ifname, server, open_port, closed_port, name, klass, source = sys.argv[1:8]
open_port, closed_port = int(open_port), int(closed_port)
p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))  # ETH_P_ALL
p.bind((ifname, 0))
p.settimeout(0.2)


def wait(src, sport=None, dport=None, want=0):
    """The next IPv4 TCP frame from src with the ports and flags asked for."""
    end = time.time() + 5
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
        t = ip[(ip[0] & 15) * 4:]
        if len(t) < 20:
            continue
        sp, dp = struct.unpack("!HH", t[0:4])
        if (sport and sp != sport) or (dport and dp != dport) or t[13] & want != want:
            continue
        return ip, t
    sys.exit(f"{name}: no reply (src {src} sport {sport} dport {dport})")


def layout(t):
    off = (t[12] >> 4) * 4
    o, i, s, v = t[20:off], 0, "", {}
    while i < len(o):
        k = o[i]
        s += {0: "L", 1: "N", 2: "M", 3: "W", 4: "S", 8: "T"}.get(k, f"[{k}]")
        if k == 0:
            break  # end of option list: the rest is padding (as portolan's parser reads it)
        if k == 1:
            i += 1
            continue
        n = o[i + 1] if i + 1 < len(o) else 2
        if k == 2 and i + 4 <= len(o):
            v["mss"] = struct.unpack("!H", o[i + 2:i + 4])[0]
        if k == 3 and i + 3 <= len(o):
            v["wscale"] = o[i + 2]
        i += max(n, 2)
    return s, v



c = socket.socket()
c.setblocking(False)
c.connect_ex((server, open_port))
ip, t = wait(server, sport=open_port, want=0x12)
opts, vals = layout(t)
ttl, df = ip[8], bool(ip[6] & 0x40)
win, ece = struct.unpack("!H", t[14:16])[0], bool(t[13] & 0x40)
time.sleep(0.1)
c.close()

r = socket.socket()
r.setblocking(False)
r.connect_ex((server, closed_port))
me = r.getsockname()[0]
_, syn = wait(me, dport=closed_port, want=0x02)
rip, rt = wait(server, sport=closed_port, want=0x14)
sent, got = struct.unpack("!I", syn[4:8])[0], struct.unpack("!I", rt[8:12])[0]
ack = "zero" if got == 0 else "same" if got == sent else "plus1" if got == (sent + 1) % 2**32 else "other"
rwin = struct.unpack("!H", rt[14:16])[0]

print(f"entry {name}")
print(f"class {klass}")
print(f"source {source}")
print(f"ttl {ttl}")
print(f"df {'yes' if df else 'no'}")
print(f"window {win}")
if "mss" in vals:
    print(f"mss {vals['mss']}")
print(f"options {opts or '-'}")
if "wscale" in vals:
    print(f"wscale {vals['wscale']}")
print(f"ecn {'yes' if ece else 'no'}")
print(f"closed window={rwin} ack={ack} df={'yes' if rip[6] & 0x40 else 'no'}")
print()
