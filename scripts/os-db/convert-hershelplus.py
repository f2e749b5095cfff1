#!/usr/bin/env python3
"""Convert the Hershel+ stack database into portolan's OS database format.

Usage: convert-hershelplus.py [SRC_DIR] > crates/os/data/hershelplus.osdb

SRC_DIR (default /work/shared/os-reference/hershelplus) holds the files of
the Hershel+ repository (BSD-3-Clause): 420OS_db.txt (one CSV row per
observation: id, window, initial TTL, DF, option layout, layout code, MSS,
RST present, RST has ACK, RST window, RST ack non-zero, RTT (0), then the
arrival times in seconds of the SYN/ACK retransmissions and RST after the
first SYN/ACK), 420OS_mapping.txt (id -> label) and LICENSE.md.

Each (stack id, header signature) becomes one `entry`; each observation
keeps its retransmission times as one `rto` line. Labels are split on
" / " into classes (vendor, family, generation, device type, CPE) by the
tables below; unlabelled stacks ("device123") become entries without a
class. Python 3 standard library only; deterministic output.
"""

import collections
import csv
import os
import re
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/os-reference/hershelplus"

GP = "general purpose"

# Windows generations: label token -> (generation, CPE).
WINDOWS = {
    "XP": ("XP", "cpe:/o:microsoft:windows_xp"),
    "2000": ("2000", "cpe:/o:microsoft:windows_2000"),
    "2003": ("2003", "cpe:/o:microsoft:windows_server_2003"),
    "Vista": ("Vista", "cpe:/o:microsoft:windows_vista"),
    "7": ("7", "cpe:/o:microsoft:windows_7"),
    "8": ("8", "cpe:/o:microsoft:windows_8"),
    "2008": ("2008", "cpe:/o:microsoft:windows_server_2008"),
    "2008 R2": ("2008 R2", "cpe:/o:microsoft:windows_server_2008:r2"),
    "2012": ("2012", "cpe:/o:microsoft:windows_server_2012"),
    "Server 2012": ("2012", "cpe:/o:microsoft:windows_server_2012"),
}

# Linux distributions: token -> distribution CPE (the kernel CPE is added).
LINUX = {
    "Linux": None,
    "Embedded Linux": None,
    "Ubuntu": "cpe:/o:canonical:ubuntu_linux",
    "Debian": "cpe:/o:debian:debian_linux",
    "Redhat": "cpe:/o:redhat:enterprise_linux",
    "CentOS": "cpe:/o:centos:centos",
    "SUSE Linux": "cpe:/o:suse:linux_enterprise_server",
    "Scientific Linux": "cpe:/o:fermilab:scientific_linux",
}

# Parts whose OS is known: part -> (vendor, family, generation, type, CPE).
KNOWN = {
    "FreeBSD": ("FreeBSD", "FreeBSD", "", GP, "cpe:/o:freebsd:freebsd"),
    "Mac OSX Server": ("Apple", "Mac OS X", "", GP, "cpe:/o:apple:mac_os_x_server"),
    "Solaris 9": ("Oracle", "Solaris", "9", GP, "cpe:/o:sun:sunos:5.9"),
    "Solaris 10": ("Oracle", "Solaris", "10", GP, "cpe:/o:sun:sunos:5.10"),
    "Unix": ("unknown", "Unix", "", GP, ""),
    "Embedded Unix": ("unknown", "Unix", "", "specialized", ""),
    "Windows": ("Microsoft", "Windows", "", GP, "cpe:/o:microsoft:windows"),
    "Cisco IOS": ("Cisco", "IOS", "", "router", "cpe:/o:cisco:ios"),
    "Cisco MDS 9000": ("Cisco", "NX-OS", "", "storage-misc", "cpe:/o:cisco:nx-os"),
    "Cisco Meraki MX80": ("Cisco", "embedded", "", "firewall", "cpe:/h:cisco:meraki_mx80"),
    "Juniper MX240 Router": ("Juniper", "JUNOS", "", "router", "cpe:/o:juniper:junos"),
    "F5 Big IP": ("F5 Networks", "TMOS", "", "load balancer", "cpe:/o:f5:tmos"),
    "Citrix Netscaler": ("Citrix", "NetScaler", "", "load balancer", "cpe:/o:citrix:netscaler"),
    "NetAPP Data ONTAP 7.3": ("NetApp", "Data ONTAP", "7.X", "storage-misc", "cpe:/o:netapp:data_ontap:7.3"),
    "8.2": ("NetApp", "Data ONTAP", "8.X", "storage-misc", "cpe:/o:netapp:data_ontap:8.2"),
    "VMWare ESXi": ("VMware", "ESXi", "", "specialized", "cpe:/o:vmware:esxi"),
    "Novell Netware": ("Novell", "NetWare", "", GP, "cpe:/o:novell:netware"),
    "OpenVMS": ("HP", "OpenVMS", "", GP, "cpe:/o:hp:openvms"),
    "FreeRTOS 7.4.2": ("Real Time Engineers", "FreeRTOS", "7.X", "specialized", "cpe:/o:freertos:freertos:7.4.2"),
    "SonicWALL": ("SonicWALL", "SonicOS", "", "firewall", "cpe:/o:sonicwall:sonicos"),
    "AirOS": ("Ubiquiti", "AirOS", "", "WAP", "cpe:/o:ubnt:airos"),
    "HP Proliant iLO Server": ("HP", "iLO", "", "remote management", "cpe:/o:hp:integrated_lights-out"),
    "HP Proliant ILO Server": ("HP", "iLO", "", "remote management", "cpe:/o:hp:integrated_lights-out"),
    "ThecusOS": ("Thecus", "ThecusOS", "", "storage-misc", "cpe:/o:thecus:thecusos"),
    "Synology DiskStation": ("Synology", "DiskStation Manager", "", "storage-misc", "cpe:/o:synology:diskstation_manager"),
}

# Vendor spellings at the start of device labels: prefix -> (vendor, CPE vendor).
VENDORS = [
    ("3Com", "3Com", "3com"), ("AKCP", "AKCP", "akcp"), ("AMX", "AMX", "amx"),
    ("APC", "APC", "apc"), ("AVTech", "AVTech", "avtech"), ("AdTran", "Adtran", "adtran"),
    ("Aruba", "Aruba", "arubanetworks"), ("Aptilo", "Aptilo", "aptilo"), ("Asus", "Asus", "asus"),
    ("AudioCodes", "AudioCodes", "audiocodes"), ("Axis", "Axis", "axis"), ("Barix", "Barix", "barix"),
    ("BestLink", "BestLink", "bestlink"), ("Brother", "Brother", "brother"), ("Buffalo", "Buffalo", "buffalo"),
    ("Burk", "Burk", "burk"), ("Campbell Scientific", "Campbell Scientific", "campbell_scientific"),
    ("Canon", "Canon", "canon"), ("Cisco", "Cisco", "cisco"), ("Codian", "Codian", "codian"),
    ("Coolcentric", "Coolcentric", "coolcentric"), ("Crestron", "Crestron", "crestron"),
    ("D-Link", "D-Link", "d-link"), ("Datamax", "Datamax", "datamax"), ("Dell", "Dell", "dell"),
    ("Digi", "Digi", "digi"), ("Digimerge", "Digimerge", "digimerge"), ("Dymo", "Dymo", "dymo"),
    ("EMC", "EMC", "emc"), ("ERF", "ERF", "erf"), ("Enterasys", "Enterasys", "enterasys"),
    ("Entrasys", "Enterasys", "enterasys"), ("Epson", "Epson", "epson"), ("Ericsson", "Ericsson", "ericsson"),
    ("Foscam", "Foscam", "foscam"), ("GbE2c", "HP", "hp"), ("Geist", "Geist", "geist"),
    ("HP", "HP", "hp"), ("HWg", "HW group", "hw_group"), ("Hickman", "Hickman", "hickman"),
    ("IBM", "IBM", "ibm"), ("IT Temperature", "unknown", ""), ("ITWatchDogs", "IT Watchdogs", "itwatchdogs"),
    ("IrTrans", "IRTrans", "irtrans"), ("JetStor", "JetStor", "jetstor"), ("Konica Minolta", "Konica Minolta", "konicaminolta"),
    ("Kyocera", "Kyocera", "kyocera"), ("Lantronix", "Lantronix", "lantronix"), ("Lexmark", "Lexmark", "lexmark"),
    ("Liebert", "Liebert", "liebert"), ("Lightware", "Lightware", "lightware"), ("Loytech", "Loytec", "loytec"),
    ("MOXA", "Moxa", "moxa"), ("NEC", "NEC", "nec"), ("Netbotz", "APC", "apc"), ("NexSAN", "Nexsan", "nexsan"),
    ("Odyssey", "LI-COR", "li-cor"), ("Panasonic", "Panasonic", "panasonic"), ("Path1", "Path 1", "path1"),
    ("Planar", "Planar", "planar"), ("Polycom", "Polycom", "polycom"), ("PowerDSine", "PowerDsine", "powerdsine"),
    ("PowerLogic", "Schneider Electric", "schneider-electric"), ("Quantum", "Quantum", "quantum"),
    ("RS2", "RS2 Technologies", "rs2"), ("Raid Controller", "unknown", ""), ("Rariton", "Raritan", "raritan"),
    ("Ricoh", "Ricoh", "ricoh"), ("Rockwell", "Rockwell Automation", "rockwellautomation"),
    ("Samsung", "Samsung", "samsung"), ("Schneider", "Schneider Electric", "schneider-electric"),
    ("Sharp", "Sharp", "sharp"), ("Spacesaver", "Spacesaver", "spacesaver"), ("StarDot", "StarDot", "stardot"),
    ("Tektronix", "Tektronix", "tektronix"), ("TemperatureGuard", "unknown", ""), ("Traf-Sys", "Traf-Sys", "traf-sys"),
    ("Trend", "Trend Control Systems", "trend"), ("Trendnet", "TRENDnet", "trendnet"), ("TrippLite", "Tripp Lite", "tripplite"),
    ("VBrick", "VBrick", "vbrick"), ("Vbrick", "VBrick", "vbrick"), ("WD", "Western Digital", "wdc"),
    ("WEB-TEMP", "unknown", ""), ("WxGoos", "IT Watchdogs", "itwatchdogs"), ("Xante", "Xante", "xante"),
    ("Xerox", "Xerox", "xerox"), ("ZOT", "Zero One Technology", "zot"), ("Zebra", "Zebra", "zebra"),
]

# Device type by keyword, first hit wins.
TYPES = [
    (r"print server|labelwriter", "print server"),
    (r"printer|laserjet|officejet|aficio|workcenter|phaser|colorqube|mfc|imagerunner|kyocera|konica|"
     r"canon (mf|mx|d|ipf)|epson|zebra|datamax|xante|lexmark|sharp mx|samsung (ml|m2)|brother|"
     r"xerox color|equitrac", "printer"),
    (r"kvm|dominion|ilo", "remote management"),
    (r"switch|procurve|gbe2c|intellijack", "switch"),
    (r"router|gateway", "router"),
    (r"camera|netcam|dcs-|dvr", "webcam"),
    (r"phone|soundpoint|telephone|mediant", "VoIP phone"),
    (r"nas|diskstation|raid|powervault|superloader|ts7700|navisphere|my book|nexsan|jetstor|griidc", "storage-misc"),
    (r"apc|poweralert|liebert|cdu|power view|ups", "power-device"),
    (r"polycom|codian|vbrick|video|vx8000|exstreamer|hdx|viewstation|vsx|television|rx-8000", "media device"),
    (r"thermometer|temperature|roomalert|watchdog|supergoose|sensor|climate|temp", "specialized"),
]


def slug(text):
    s = re.sub(r"[^a-z0-9.+-]+", "_", text.lower()).strip("_")
    return s


def device_class(part):
    """(vendor, family, generation, type, CPE) for an embedded device label."""
    low = part.lower()
    vendor, cpe_vendor, rest = "unknown", "", part
    for prefix, v, cv in sorted(VENDORS, key=lambda x: -len(x[0])):
        if part.startswith(prefix):
            vendor, cpe_vendor, rest = v, cv, part[len(prefix):].strip(" -:")
            break
    dtype = "specialized"
    for pat, t in TYPES:
        if re.search(pat, low):
            dtype = t
            break
    words = [w for w in rest.split() if w.lower() not in ("series", "printers", "printer", "device")]
    product = slug(" ".join(words))
    cpe = f"cpe:/h:{cpe_vendor}:{product}" if cpe_vendor and product else ""
    return (vendor, "embedded", "", dtype, cpe)


def classes(label):
    """The classes of a Hershel+ label ("Windows 7 / 2008 R2")."""
    label = label.replace("\xa0", " ").strip()
    if re.fullmatch(r"device\d+", label):
        return []
    out = []
    family_ctx = None  # "windows" or "linux": later parts inherit it.
    for raw in label.split(" / "):
        part = raw.strip()
        if part.startswith("Windows "):
            family_ctx, part = "windows", part[len("Windows "):]
        if family_ctx == "windows" and part in WINDOWS:
            gen, cpe = WINDOWS[part]
            out.append(("Microsoft", "Windows", gen, GP, cpe))
            continue
        if part in LINUX:
            family_ctx = "linux"
            cpes = [c for c in ("cpe:/o:linux:linux_kernel", LINUX[part]) if c]
            dtype = "specialized" if part == "Embedded Linux" else GP
            out.append(("Linux", "Linux", "", dtype, " ".join(cpes)))
            continue
        if part in KNOWN:
            out.append(KNOWN[part])
            continue
        if part == "Aruba Networks Controller":
            out.append(("Aruba", "ArubaOS", "", "WAP", "cpe:/o:arubanetworks:arubaos"))
            continue
        out.append(device_class(part))
    # One class per distinct tuple, in label order.
    return list(dict.fromkeys(out))


def layout(code):
    """Hershel+ letters -> portolan's (E = end of list is L; X = none is -)."""
    if code == "X":
        return "-"
    # What follows the end of the list is padding: portolan's parser stops
    # at the first end (so does scripts/os-db/synack.py), so one L ends it.
    code = code.replace("E", "L")
    end = code.find("L")
    return code if end < 0 else code[: end + 1]


def main():
    labels = {}
    with open(os.path.join(SRC, "420OS_mapping.txt"), encoding="latin-1", newline="") as f:
        rows = csv.reader(f)
        next(rows)
        for row in rows:
            labels[int(row[0])] = " ".join(row[1].replace("\xa0", " ").split())
    entries = collections.OrderedDict()
    with open(os.path.join(SRC, "420OS_db.txt"), encoding="ascii") as f:
        for n, line in enumerate(f, 1):
            fields = line.strip().split(",")
            if len(fields) < 12:
                sys.exit(f"420OS_db.txt:{n}: {len(fields)} fields, want at least 12")
            sid = int(fields[0])
            header = tuple(fields[1:5] + fields[6:11])
            rto = [float(x) for x in fields[12:]]
            entries.setdefault((sid, header), []).append(rto)
    with open(os.path.join(SRC, "LICENSE.md"), encoding="utf-8") as f:
        licence = f.read().strip()

    w = sys.stdout.write
    w("# portolan OS database: stacks converted from the Hershel+ database.\n")
    w("#\n")
    w("# Where the facts come from: Hershel+ (https://github.com/zk7/hershelplus),\n")
    w("# files 420OS_db.txt and 420OS_mapping.txt: 420 labelled TCP/IP stacks,\n")
    w("# each measured 50 times by Z. Shamsi and D. Loguinov (Texas A&M, IRL)\n")
    w("# with one SYN (MSS 1460, NOP, window scale 8, SACK permitted, timestamps)\n")
    w("# to an open port, recording the SYN/ACK's window, TTL (as the initial\n")
    w("# TTL), DF, option layout and MSS, the RST a stack sends when it gives up\n")
    w("# waiting for the handshake's ACK, and the arrival times of the SYN/ACK\n")
    w("# retransmissions (SIGMETRICS 2016; IEEE/ACM ToN 25(4), 2017).\n")
    w("# Converted by scripts/os-db/convert-hershelplus.py; vendor, family,\n")
    w("# generation, device type and CPE are portolan's reading of the labels.\n")
    w("# Do not edit by hand: change the script and convert again.\n")
    w("#\n")
    w("# The Hershel+ licence (BSD-3-Clause), kept as it requires:\n")
    w("#\n")
    for line in licence.splitlines():
        w(("# " + line).rstrip() + "\n")
    w("\n")
    for (sid, header), rtos in entries.items():
        win, ttl, df, opts, mss, rst, rst_ack, rst_win, rst_nonzero = header
        label = labels.get(sid, f"device{sid}")
        unnamed = re.fullmatch(r"device\d+", label) is not None
        name = f"Unidentified stack (Hershel+ {label})" if unnamed else label
        w(f"entry {name}\n")
        for c in classes(label):
            vendor, family, gen, dtype, cpe = c
            w(f"class {vendor} | {family} | {gen or '-'} | {dtype} | {cpe}".rstrip() + "\n")
        w(f"source Hershel+ stack {sid}: {len(rtos)} SYN/ACKs to one SYN from the Internet (BSD-3-Clause)\n")
        w(f"ttl {ttl}\n")
        w(f"df {'yes' if df == '1' else 'no'}\n")
        w(f"window {win}\n")
        lay = layout(opts)
        w(f"options {lay}\n")
        if "M" in lay:
            w(f"mss {mss}\n")
        if rst == "1":
            kind = "rst-ack" if rst_ack == "1" else "rst"
            w(f"giveup {kind} window={rst_win} ack-nonzero={'yes' if rst_nonzero == '1' else 'no'}\n")
        else:
            w("giveup none\n")
        for rto in rtos:
            w("rto " + (" ".join(f"{t:.3f}" for t in rto) if rto else "-") + "\n")
        w("\n")


if __name__ == "__main__":
    main()
