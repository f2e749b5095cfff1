#!/usr/bin/env python3
"""Converts the Hershel+ stack database into portolan's OS database format.

Usage: convert-hershelplus.py HERSHELPLUS_DIR > crates/os/data/hershelplus.osdb

HERSHELPLUS_DIR holds 420OS_db.txt, 420OS_mapping.txt and LICENSE.md from
https://github.com/zk7/hershelplus (BSD-3-Clause; a copy is in the team's
shared/os-reference/hershelplus). The licence notice is copied into the
output, as the licence asks.

Record format (LiveFingerprinter.cpp's fprintf): id, SYN/ACK window, TTL,
DF, option letters, options as an integer, MSS, then the RST sent after
the half-open connection timed out (present, ACK set, window, sequence
moved on, acknowledgment non-zero), then the arrival times in seconds of
the SYN/ACK and its retransmissions after the SYN. Each stack has about 50
records.

What the conversion decides, and says in the output's header:
- stacks labelled only "deviceNNN" (no name in the mapping) are left out:
  a label is what OS detection reports;
- the TTL becomes the initial TTL (rounded up to 32, 64, 128 or 255);
- Hershel+'s E (end of options) becomes the model's L;
- labels become classes (vendor | family | generation | device type |
  CPE) by the rules in CLASS_RULES and DEVICE_RULES below; devices other
  than general-purpose OSes get family "embedded", as nmap names them.
"""

import collections
import re
import sys
from pathlib import Path

# (pattern, vendor, family, device type, CPE prefix); the generation is
# what follows the matched name in the label, if it looks like a version.
CLASS_RULES = [
    (r"Windows", "Microsoft", "Windows", "general purpose", "cpe:/o:microsoft:windows"),
    (r"Embedded Linux", "Linux", "Linux", "specialized", "cpe:/o:linux:linux_kernel"),
    (r"Linux|Ubuntu|Redhat|Red Hat|CentOS|SUSE|Debian|Scientific", "Linux", "Linux",
     "general purpose", "cpe:/o:linux:linux_kernel"),
    (r"FreeBSD", "FreeBSD", "FreeBSD", "general purpose", "cpe:/o:freebsd:freebsd"),
    (r"OpenBSD", "OpenBSD", "OpenBSD", "general purpose", "cpe:/o:openbsd:openbsd"),
    (r"NetBSD", "NetBSD", "NetBSD", "general purpose", "cpe:/o:netbsd:netbsd"),
    (r"Mac OS ?X|OSX|Mac OS", "Apple", "Mac OS X", "general purpose", "cpe:/o:apple:mac_os_x"),
    (r"Solaris", "Oracle", "Solaris", "general purpose", "cpe:/o:oracle:solaris"),
    (r"Cisco IOS", "Cisco", "IOS", "router", "cpe:/o:cisco:ios"),
    (r"VMWare ESXi|VMware ESXi", "VMware", "ESXi", "specialized", "cpe:/o:vmware:esxi"),
    (r"AIX", "IBM", "AIX", "general purpose", "cpe:/o:ibm:aix"),
    (r"HP-UX", "HP", "HP-UX", "general purpose", "cpe:/o:hp:hp-ux"),
    (r"Unix", "Unix", "Unix", "general purpose", ""),
]

# Devices: (pattern, device type), first match wins.
DEVICE_RULES = [
    (r"Print|LaserJet|OfficeJet|Xerox|Ricoh|Konica|Kyocera|Epson|Lexmark|Sharp MX|Brother|"
     r"Canon|Zebra|Aficio|Phaser|WorkCenter|Xante|Samsung M", "printer"),
    (r"Router|SonicWALL|F5 Big|Netscaler|Gateway|Firewall", "firewall"),
    (r"Switch|KVM", "switch"),
    (r"Camera|Netcam|Sarix|Webcam", "webcam"),
    (r"Raid|Storage|Synology|My Book|Superloader|DiskStation|Thecus|NAS|JetStor|Quantum", "storage-misc"),
    (r"APC|Power|UPS|TrippLite", "power-device"),
    (r"Polycom|Codian|Video|VBrick|Vbrick|Telephone", "VoIP phone"),
    (r"iLO|Dominion|Lantronix|Remote", "remote management"),
]

GEN = re.compile(r"^\s*((?:\d[\w.]*|XP|Vista|NT|Server|R2|SP\d|\s)+)")


def initial_ttl(t):
    for v in (32, 64, 128, 255):
        if t <= v:
            return v
    return 255


def classes_of(label):
    """The classes of a label: one per alternative separated by ' / '."""
    out = []
    ctx = None  # the last OS rule matched, for alternatives that are only a version
    for alt in [a.strip() for a in label.split("/")]:
        if not alt:
            continue
        for pat, vendor, family, device, cpe in CLASS_RULES:
            m = re.search(pat, alt)
            if m:
                ctx = (vendor, family, device, cpe)
                gen = version_after(alt[m.end():])
                out.append((vendor, family, gen, device, cpe_with(cpe, gen)))
                break
        else:
            if ctx and GEN.match(alt) and GEN.match(alt).group(1).strip() == alt:
                vendor, family, device, cpe = ctx
                out.append((vendor, family, alt, device, cpe_with(cpe, alt)))
                continue
            device = "specialized"
            for pat, dev in DEVICE_RULES:
                if re.search(pat, alt):
                    device = dev
                    break
            vendor = alt.split()[0]
            out.append((vendor, "embedded", "-", device, "cpe:/h:" + vendor.lower()))
    seen, uniq = set(), []
    for c in out:
        if c not in seen:
            seen.add(c)
            uniq.append(c)
    return uniq


def version_after(rest):
    m = GEN.match(rest)
    if not m:
        return "-"
    v = " ".join(m.group(1).split())
    return v if v else "-"


def cpe_with(cpe, gen):
    if not cpe:
        return "-"
    if gen and gen != "-":
        return cpe + ":" + gen.split()[0].lower()
    return cpe


def main():
    src = Path(sys.argv[1])
    labels = {}
    for line in (src / "420OS_mapping.txt").read_text(encoding="latin-1").splitlines()[1:]:
        if "," in line:
            i, label = line.split(",", 1)
            labels[i.strip()] = " ".join(label.split())
    stacks = collections.OrderedDict()
    for line in (src / "420OS_db.txt").read_text(encoding="latin-1").splitlines():
        f = line.strip().split(",")
        if len(f) < 12:
            continue
        stacks.setdefault(f[0], []).append(f)
    licence = (src / "LICENSE.md").read_text(encoding="utf-8").strip().splitlines()
    w = sys.stdout.write
    w("# portolan OS database: stacks converted from the Hershel+ database.\n")
    w("#\n")
    w("# Made by scripts/os-db/convert-hershelplus.py from 420OS_db.txt and\n")
    w("# 420OS_mapping.txt of Hershel+ (https://github.com/zk7/hershelplus): SYN/ACKs,\n")
    w("# timeout RSTs and retransmission times of 420 labelled stacks measured on\n")
    w("# Internet hosts by Z. Shamsi, D. Loguinov et al. (ACM SIGMETRICS 2016). One\n")
    w("# rto line per published record. Stacks labelled only 'deviceNNN' are left\n")
    w("# out; classes come from the labels by the script's rules. Edit the script,\n")
    w("# not this file.\n")
    w("#\n")
    w("# The Hershel+ licence, whose notice is kept here as it asks:\n")
    w("#\n")
    for l in licence:
        w(("# " + l).rstrip() + "\n")
    kept = 0
    for sid, recs in stacks.items():
        label = labels.get(sid, "")
        if not label or re.fullmatch(r"device\d+", label):
            continue
        kept += 1
        first = recs[0]
        wins = sorted({int(r[1]) for r in recs})
        msss = sorted({int(r[6]) for r in recs if int(r[6]) > 0})
        ttl = initial_ttl(int(first[2]))
        opts = first[4].replace("E", "L") or "X"
        w("\n")
        w(f"match {label}\n")
        for c in classes_of(label):
            w("class " + " | ".join(c) + "\n")
        w(f"source Hershel+ 420OS_db.txt stack {sid}, {len(recs)} records\n")
        fp = f"fp ttl={ttl} df={int(first[3])} win={','.join(map(str, wins))} opts={opts}"
        if msss:
            fp += f" mss={','.join(map(str, msss))}"
        w(fp + "\n")
        rp, ra, rw, rs, rn = (int(x) for x in first[7:12])
        w(f"rst present={rp} ack={ra} win={1 if rw else 0} seq={rs} nonzero={rn}\n")
        for r in recs:
            times = [float(x) for x in r[12:] if x.strip()]
            times = [t for t in times if 0.0 <= t <= 3600.0]
            if times and all(b >= a for a, b in zip(times, times[1:])):
                w("rto " + " ".join(f"{t:.3f}" for t in times) + "\n")
    print(f"{kept} stacks written", file=sys.stderr)


if __name__ == "__main__":
    main()
