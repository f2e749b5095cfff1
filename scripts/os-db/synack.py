#!/usr/bin/env python3
"""Records one stack's SYN/ACK, closed-port RST+ACK and timed burst as an OS database entry.

Usage: synack.py IFNAME SERVER OPEN_PORT CLOSED_PORT NAME CLASS SOURCE

Run inside the client's network namespace. Connects to SERVER:OPEN_PORT
with the kernel's own SYN (Linux offers MSS, SACK permitted, timestamps,
NOP, window scale; ECN setup when net.ipv4.tcp_ecn=1) and to
SERVER:CLOSED_PORT, reading both answers from a packet socket on IFNAME
(outgoing frames too, for the SYN's sequence number). Then sends what
portolan's timed burst sends (crates/session/src/os_probe.rs): six raw
SYNs with portolan's client options (MSS 1460, SACK permitted,
timestamps, NOP, window scale 7), 100 ms apart, each from its own source
port, to the open port, plus an ICMP echo and an empty UDP datagram to
port 33434; it classifies the SYN/ACKs' ISNs, IP IDs and timestamps as
portolan_os::Sequence does (same thresholds) and reads the echo reply's
and port unreachable's TTL, DF and quote. Prints the entry in portolan's
OS database format (docs/os-detection.md). Standard library.
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


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    n = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while n >> 16:
        n = (n & 0xFFFF) + (n >> 16)
    return ~n & 0xFFFF


def classify(values, modulus, step):
    """portolan_os::sequence::classify, the same classes and steps."""
    if len(values) < 3:
        return None
    if all(v == 0 for v in values):
        return "zero"
    if all(a == b for a, b in zip(values, values[1:])):
        return "constant"
    small = all(0 < ((b % modulus) - (a % modulus)) % modulus <= step for a, b in zip(values, values[1:]))
    return "incremental" if small else "random"


def clock(stamps):
    """portolan_os::timestamp_clock's rate: 0.4 s of samples, within 10 %."""
    if len(stamps) < 2:
        return None
    (ts0, t0), (ts1, t1) = min(stamps, key=lambda s: s[1]), max(stamps, key=lambda s: s[1])
    if t1 - t0 < 0.4 or ts1 <= ts0:
        return None
    m = (ts1 - ts0) / (t1 - t0)
    return next((r for r in (2, 10, 100, 200, 250, 1000) if abs(m - r) <= 0.1 * r), None)


def burst():
    """The timed burst's SYN/ACKs (traits and receive time) and ICMP replies."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    src, dst = socket.inet_aton(me), socket.inet_aton(server)
    ports = [40000 + (i * 7919 + int(time.time() * 1000)) % 20000 for i in range(6)]
    got, icmp = {}, {}
    ic = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    body = struct.pack("!BBHHH", 8, 0, 0, 0x5050, 1) + b"portolan"
    ic.sendto(body[:2] + struct.pack("!H", checksum(body)) + body[4:], (server, 0))
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"", (server, 33434))
    for i, sport in enumerate(ports):
        opts = struct.pack("!BBHBBBBIIBBBB", 2, 4, 1460, 4, 2, 8, 10, 1000 + i * 100, 0, 1, 3, 3, 7)
        hdr = struct.pack("!HHIIBBHHH", sport, open_port, 0x10000 * i + 7, 0, (40 // 4) << 4, 0x02, 64240, 0, 0) + opts
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(hdr))
        hdr = hdr[:16] + struct.pack("!H", checksum(pseudo + hdr)) + hdr[18:]
        raw.sendto(hdr, (server, 0))
        end = time.time() + (0.1 if i < 5 else 1.0)
        while time.time() < end:
            try:
                f = p.recv(65535)
            except socket.timeout:
                continue
            at = time.time()
            if f[12:14] != b"\x08\x00":
                continue
            ip = f[14:]
            if len(ip) < 28 or ip[12:16] != dst:
                continue
            t = ip[(ip[0] & 15) * 4:]
            if ip[9] == 1 and t[0] == 0 and "echo" not in icmp:
                icmp["echo"] = (ip[8], bool(ip[6] & 0x40), None)
            elif ip[9] == 1 and t[0] == 3 and t[1] == 3 and "unreach" not in icmp:
                total = struct.unpack("!H", ip[2:4])[0]
                icmp["unreach"] = (ip[8], bool(ip[6] & 0x40), total - (ip[0] & 15) * 4 - 8)
            elif ip[9] == 6 and len(t) >= 20 and t[13] & 0x12 == 0x12:
                sp, dp = struct.unpack("!HH", t[0:4])
                if sp != open_port or dp not in ports or dp in got:
                    continue
                tsval = None
                off, o, j = (t[12] >> 4) * 4, None, 20
                o = t[20:off]
                j = 0
                while j < len(o) and o[j] != 0:
                    if o[j] == 1:
                        j += 1
                        continue
                    if o[j] == 8 and j + 10 <= len(o):
                        tsval = struct.unpack("!I", o[j + 2:j + 6])[0]
                    j += max(o[j + 1] if j + 1 < len(o) else 2, 2)
                seq = struct.unpack("!I", t[4:8])[0]
                got[dp] = (seq, struct.unpack("!H", ip[4:6])[0], tsval, at)
    r = [got[s] for s in ports if s in got]
    return r, icmp


replies, icmp = burst()


def variants():
    """The SYN/ACKs to portolan's SYN option variants (os_probe.rs,
    make_variant): without timestamps, without window scale, MSS alone;
    40-byte headers, end-of-list and zero padding."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    src, dst = socket.inet_aton(me), socket.inet_aton(server)
    mss = bytes([2, 4, 5, 0xB4])
    opts = [
        mss + bytes([1, 1, 4, 2, 1, 3, 3, 7]) + bytes(8),
        mss + bytes([4, 2, 8, 10]) + struct.pack("!II", 5000, 0) + bytes(4),
        mss + bytes(16),
    ]
    out = []
    for i, o in enumerate(opts):
        sport = 30000 + (i * 7919 + int(time.time() * 1000)) % 9000
        hdr = struct.pack("!HHIIBBHHH", sport, open_port, 0x777 + i, 0, (40 // 4) << 4, 0x02, 64240, 0, 0) + o
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(hdr))
        hdr = hdr[:16] + struct.pack("!H", checksum(pseudo + hdr)) + hdr[18:]
        raw.sendto(hdr, (server, 0))
        try:
            ip, t = wait(server, sport=open_port, dport=sport, want=0x12)
        except SystemExit:
            out.append(None)
            continue
        lay, vals = layout(t)
        out.append((lay or "-", struct.unpack("!H", t[14:16])[0], vals.get("mss")))
        time.sleep(0.1)
    return out


syn_variants = variants()


def initial(ttl):
    return 32 if ttl <= 32 else 64 if ttl <= 64 else 128 if ttl <= 128 else 255


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
isn = classify([r[0] for r in replies], 2**32, 1 << 24)
ipid = classify([r[1] for r in replies], 2**16, 2048)
stamps = [(r[2], r[3]) for r in replies if r[2] is not None]
ts = classify([s[0] for s in stamps], 2**32, 1 << 16)
rate = clock(stamps)
if isn:
    print(f"isn {isn}")
if ipid:
    print(f"ipid {ipid}")
if rate:
    print(f"tsrate {rate}")
elif ts:
    print(f"ts {ts}")
for k, v in zip(("syn-nots", "syn-nows", "syn-mss"), syn_variants):
    if v:
        m = f" mss={v[2]}" if v[2] is not None else ""
        print(f"{k} options={v[0]} window={v[1]}{m}")
for k in ("echo", "unreach"):
    if k in icmp:
        ttl_, df_, q = icmp[k]
        quote = f" quote={q}" if q is not None else ""
        print(f"{k} ttl={initial(ttl_)} df={'yes' if df_ else 'no'}{quote}")
print()
