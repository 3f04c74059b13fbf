#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Regenerate the seed corpora in tests/fuzz/corpus/ (seed-* files only).

    tests/fuzz/mkseeds.py [--host]

Sources: the shipped conf/memhpd.conf and the configuration texts of
tests/unit/test-config.c, the requests of tests/unit/test-control.c, the
sysfs/procfs files of every tests/fixtures machine, and with --host this
machine's /proc/iomem, /proc/zoneinfo and node meminfo (read only).
corpus/state/ holds state files memhpd --once wrote on fixtures (made by hand
once, see docs/reliability.md); it and regression seeds (regress-*) are never
touched.
"""
import ast
import glob
import hashlib
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
CORPUS = os.path.join(HERE, "corpus")


def c_strings(text):
    """Concatenate adjacent C string literals of one expression."""
    out = b""
    for m in re.finditer(r'"((?:[^"\\\n]|\\.)*)"', text):
        out += ast.literal_eval('b"' + m.group(1) + '"')
    return out


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if len(data) > 64 * 1024:
        data = data[: 64 * 1024]
    h = hashlib.sha1(data).hexdigest()[:8]
    with open(os.path.join(d, "seed-%s-%s" % (name, h)), "wb") as f:
        f.write(data)


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def main():
    host = "--host" in sys.argv
    for t in ("config", "sysfs", "procinfo", "iomem", "control", "idxset"):
        for f in glob.glob(os.path.join(CORPUS, t, "seed-*")):
            os.unlink(f)

    # ---- config: 1 split byte + text ----
    conf = read(os.path.join(TOP, "conf", "memhpd.conf"))
    put("config", "memhpd.conf", b"\xff" + conf)
    put("config", "memhpd.conf-split", b"\x80" + conf)
    src = open(os.path.join(TOP, "tests", "unit", "test-config.c")).read()
    n = 0
    for m in re.finditer(r"(?:load_text\(&cfg,|write_file\(\"[^\"]*\",)((?:\s*\"(?:[^\"\\\n]|\\.)*\")+)", src):
        text = c_strings(m.group(1))
        if text:
            put("config", "unit%d" % n, bytes([(n * 37) % 256]) + text)
            n += 1

    # ---- control: the request line as sent ----
    src = open(os.path.join(TOP, "tests", "unit", "test-control.c")).read()
    n = 0
    for m in re.finditer(r"\{\s*((?:\"(?:[^\"\\\n]|\\.)*\"\s*)+),\s*(?:CTL_|-E)", src):
        put("control", "unit%d" % n, c_strings(m.group(1)))
        n += 1

    # ---- idxset ----
    for i, s in enumerate([b"", b"0", b"32-39,41", b"1-3,5,7-100,200",
                           b"0-1023", b"18446744073709551614-18446744073709551615"]):
        put("idxset", "set%d" % i, s)

    # ---- sysfs values: selector byte + value ----
    values = {
        0: [b"online\n", b"offline", b"going-offline"],
        1: [b"Normal", b"Movable", b"DMA32"],
        2: [b"Movable Normal\n", b"none", b"DMA32 Normal Movable", b"Normal"],
        3: [b"8000000\n", b"80000000", b"10000000"],
        4: [b"00000020\n", b"0000ffff"],
        5: [b"memory32", b"memory0"],
        6: [b"node0", b"node12"],
        7: [b"0x100000000\n", b"0x17fffffff"],
        8: [b"offline\n", b"online_movable", b"online_kernel", b"online"],
        9: [b"Y\n", b"N", b"force", b"1"],
        10: [b"1073741824\n", b"0"],
        11: [b"8000000", b"0x100000000"],
        12: [b"0x8000000", b"4096"],
        13: [b"-1\n", b"2"],
    }

    # ---- fixtures: every machine's iomem, zoneinfo, meminfo and block attributes ----
    mk = os.path.join(TOP, "tests", "fixtures", "mkfixture.py")
    names = subprocess.run([sys.executable, mk, "--list"], capture_output=True, text=True,
                           check=True).stdout.split()
    names = [n for n in names if re.match(r"^[a-z0-9-]+$", n) and not n[0].isupper()]
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            root = os.path.join(tmp, name)
            if subprocess.run([sys.executable, mk, name, root],
                              capture_output=True).returncode != 0:
                continue
            d = read(os.path.join(root, "proc", "iomem"))
            if d:
                put("iomem", "fixture-" + name, d)
            d = read(os.path.join(root, "proc", "zoneinfo"))
            if d:
                put("procinfo", "zoneinfo-" + name, b"\x00" + d)
            for mi in sorted(glob.glob(os.path.join(root, "sys/devices/system/node/node*/meminfo")))[:2]:
                node = int(re.search(r"node(\d+)/meminfo", mi).group(1))
                put("procinfo", "meminfo-%s-node%d" % (name, node),
                    bytes([(node << 1) | 1]) + read(mi))
            mem = os.path.join(root, "sys/devices/system/memory")
            bs = read(os.path.join(mem, "block_size_bytes"))
            if bs:
                values[3].append(bs)
            ao = read(os.path.join(mem, "auto_online_blocks"))
            if ao:
                values[8].append(ao)
            for blk in sorted(glob.glob(os.path.join(mem, "memory*")))[-2:]:
                for sel, attr in ((0, "state"), (2, "valid_zones"), (4, "phys_index")):
                    v = read(os.path.join(blk, attr))
                    if v:
                        values[sel].append(v)
            for res in glob.glob(os.path.join(root, "sys/bus/dax/devices/*/resource"))[:1]:
                values[7].append(read(res))

    if host:
        put("iomem", "host", read("/proc/iomem"))
        put("procinfo", "zoneinfo-host", b"\x00" + read("/proc/zoneinfo"))
        d = read("/sys/devices/system/node/node0/meminfo")
        if d:
            put("procinfo", "meminfo-host-node0", b"\x01" + d)

    seen = set()
    for sel, vals in values.items():
        for v in vals:
            if (sel, v) in seen:
                continue
            seen.add((sel, v))
            put("sysfs", "%d" % sel, bytes([sel]) + v)


if __name__ == "__main__":
    main()
