#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hot-add latency and memmap cost in a real guest kernel (QEMU; KVM if it boots, else TCG).

    bench/vm-hotadd.py [--sizes 8G,64G] [--runs 5] [--no-latency] [--no-memmap] [--json FILE]
                       [--memhpd-log FILE]

Uses the vm suite's harness (tests/vm/qemu.py, vmcheck.py) through its public functions; one
guest at a time.

latency   One guest (Debian 6.12, 2 GiB, 2 vCPUs, memory_hotplug.memmap_on_memory=1), booted
          with memhp_default_state=online_movable.  Each round hot-adds one DIMM (pc-dimm on a
          memory-backend-ram with reserve=off) per onliner, interleaved so the three see the
          same load:
            auto    the kernel onlines it itself (auto_online_blocks = online_movable: the
                    boot parameter's value, set back at runtime after the other rounds)
            udev    auto_online_blocks = offline and a distro-style rule in
                    /etc/udev/rules.d: SUBSYSTEM=="memory", ACTION=="add",
                    ATTR{state}=="offline", ATTR{state}="online_movable"
            memhpd  auto_online_blocks = offline, no rule, memhpd running (movable_ratio =
                    none, defaults otherwise: batch 200 ms)
            loop    auto_online_blocks = offline, no rule, bench/uonline.c running: the
                    least a userspace onliner can do (each block's state written as its
                    "add" uevent arrives from the kernel; no policy, no reading back).
                    memhpd against loop is what memhpd's decisions and checks cost;
                    loop against auto is what onlining from userspace costs at all
          Time: from the QMP device_add on the host to every new block online, as the host
          sees it (a static helper, hpwait, listens to the kernel's uevents in the guest,
          counts "add" and then "online" of every new block, and answers the host's blocked
          `cat FIFO` then; nothing polls).  The guest's own first-add to last-online time is
          shown too.  Then the blocks are offlined and the DIMM removed (device_del), so every
          round adds at the same address.
memmap    A 2 GiB guest hot-adds 32 GiB with memhpd (auto memmap policy) running, booted with
          memory_hotplug.memmap_on_memory=0 and then =1: MemFree and kernel-zone free pages
          (DMA, DMA32, Normal) before the add and after every block is online, and what
          `memhpctl explain` says about the memmap.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SRCROOT, "tests", "vm"))
import benchlib as B  # noqa: E402
from qemu import Guest, Skip, VMError, parse_size, SKIP  # noqa: E402
from vmcheck import MEMHPD_LOG, stop_memhpd  # noqa: E402

TARGET = 1.1
UDEV_RULE = ('SUBSYSTEM=="memory", ACTION=="add", ATTR{state}=="offline", '
             'ATTR{state}="online_movable"\n')
RULE_PATH = "/etc/udev/rules.d/80-bench-online-movable.rules"
CONF_MOVABLE = "[policy]\nmovable_ratio = none\n"
KERNEL_ZONES = ("DMA", "DMA32", "Normal")
PAGE = 4096


def build_hpwait():
    return build_static("hpwait")


def build_static(name):
    """bench/NAME.c, built static for the guest (its initramfs has no libraries for it)."""
    out = os.path.join(B.build_dir(), "bench", name)
    src = os.path.join(HERE, f"{name}.c")
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(src):
        return out
    os.makedirs(os.path.dirname(out), exist_ok=True)
    r = subprocess.run(["cc", "-static", "-O2", "-Wall", "-Wextra", "-std=gnu11", "-o", out, src],
                       stderr=subprocess.PIPE, text=True)
    if r.returncode:
        raise SystemExit(f"cannot build {name} (static, for the guest): {r.stderr}")
    return out


def build_uonline():
    return build_static("uonline")


def install_hpwait(g, path, name="hpwait"):
    dst = os.path.join(g.share, "bin", name)
    subprocess.run(["cp", path, dst], check=True)
    os.chmod(dst, 0o755)


class Adder:
    """Hot-add / hot-remove DIMMs in one guest, timing device_add -> all blocks online."""

    def __init__(self, g):
        self.g = g
        self.bs = g.block_size()
        self.n = 0

    def add(self, size, timeout):
        g = self.g
        nblocks = parse_size(size) // self.bs
        self.n += 1
        did = f"bench{self.n}"
        before = g.blocks()
        g.run(f"rm -f /tmp/hpw.fifo; mkfifo /tmp/hpw.fifo && "
              f"hpwait {nblocks} {int(timeout)} /tmp/hpw.fifo")
        g.qmp("object-add", **{"qom-type": "memory-backend-ram", "id": f"{did}-mem",
                               "size": parse_size(size), "reserve": False})
        t0 = time.monotonic()
        g.qmp("device_add", driver="pc-dimm", id=did, memdev=f"{did}-mem", node=0)
        out = g.out("cat /tmp/hpw.fifo", timeout=timeout + 30)
        host = time.monotonic() - t0
        m = re.search(r"added (\d+) online (\d+) first_add_ns (\d+) last_add_ns (\d+) "
                      r"last_online_ns (\d+) timeout (\d)", out)
        if not m:
            raise VMError(f"hpwait said {out!r}")
        added, online, a_ns, la_ns, o_ns, to = (int(x) for x in m.groups())
        self.tail = (o_ns - la_ns) / 1e9  # last add uevent -> last block online
        if to or online != nblocks:
            raise VMError(f"{did}: {online} of {nblocks} blocks online after {timeout}s "
                          f"({added} added)")
        after = g.blocks()
        new = sorted(b for b in after if b not in before)
        bad = [b for b in new if after[b]["state"] != "online" or after[b]["zones"] != ["Movable"]]
        if len(new) != nblocks or bad:
            raise VMError(f"{did}: {len(new)} new blocks, not online Movable: {bad[:5]}")
        return did, new, host, (o_ns - a_ns) / 1e9

    def remove(self, did, blocks, timeout=600):
        g = self.g
        t = time.monotonic()
        g.run("cd /sys/devices/system/memory && for b in %s; do "
              "[ \"$(cat memory$b/state)\" = offline ] || echo offline > memory$b/state || "
              "exit 1; done" % " ".join(map(str, blocks)), timeout=timeout)
        if not g.device_del(did, timeout):
            raise VMError(f"device_del {did} did not complete in {timeout}s")
        g.wait_until(lambda: not any(b in g.blocks() for b in blocks[:1]), 60,
                     f"{did}'s blocks to go")
        return time.monotonic() - t


def start_memhpd(g, conf, timeout=120):
    """Like vmcheck.start_memhpd, but a control socket left by the previous round cannot be
    mistaken for the new daemon's: remove it first, then wait for socket and process."""
    g.write_file("/etc/memhpd/memhpd.conf", conf)
    g.run(f"rm -f /run/memhpd/control; mkdir -p /run/memhpd; "
          f"(memhpd --stderr >{MEMHPD_LOG} 2>&1 &)")
    g.wait_until(lambda: g.run("test -S /run/memhpd/control && pidof memhpd >/dev/null",
                               check=False).rc == 0 or
                 g.run(f"grep -q . {MEMHPD_LOG} && ! pidof memhpd", check=False).rc == 0,
                 timeout, "memhpd's control socket")
    if g.run("pidof memhpd", check=False).rc != 0:
        raise VMError("memhpd exited at start:\n" + g.out(f"cat {MEMHPD_LOG}"))


def set_auto_online(g, value):
    g.run(f"echo {value} > /sys/devices/system/memory/auto_online_blocks")
    got = g.out("cat /sys/devices/system/memory/auto_online_blocks").strip()
    if got != value:
        raise VMError(f"auto_online_blocks is {got!r}, wanted {value!r}")


def set_udev_rule(g, on):
    if on:
        g.write_file(RULE_PATH, UDEV_RULE)
    else:
        g.run(f"rm -f {RULE_PATH}")
    g.run("udevadm control --reload")


# --memhpd-log FILE: memhpd runs with log_level = debug and each round's log is appended to
# FILE (a diagnostic: the debug lines cost time in the guest, so not for the table)
MEMHPD_LOG_COPY = None


def prepare(g, method):
    """Leave exactly one onliner in charge."""
    if method == "auto":
        set_udev_rule(g, False)
        set_auto_online(g, "online_movable")
    elif method == "udev":
        set_auto_online(g, "offline")
        set_udev_rule(g, True)
    elif method == "loop":
        set_udev_rule(g, False)
        set_auto_online(g, "offline")
        g.run("rm -f /tmp/uonline.pid; uonline /tmp/uonline.pid")
        g.wait_until(lambda: g.run("test -s /tmp/uonline.pid", check=False).rc == 0, 10,
                     "uonline to start")
    else:
        set_udev_rule(g, False)
        set_auto_online(g, "offline")
        g.run("rm -f /run/memhpd/state.json /var/lib/memhpd/state.json")
        start_memhpd(g, CONF_MOVABLE + ("[daemon]\nlog_level = debug\n"
                                        if MEMHPD_LOG_COPY else ""))


def finish(g, method):
    if method == "loop":
        g.run("kill $(cat /tmp/uonline.pid)", check=False)
    if method == "memhpd":
        if MEMHPD_LOG_COPY:
            with open(MEMHPD_LOG_COPY, "a") as f:
                f.write(f"---- round at {time.strftime('%H:%M:%S')} ----\n")
                f.write(g.out(f"cat {MEMHPD_LOG}"))
        stop_memhpd(g)


def bench_latency(res, sizes, runs, hpwait, methods=("auto", "udev", "memhpd", "loop")):
    big = max(parse_size(s) for s in sizes)
    maxmem = f"{(parse_size('2G') + big + parse_size('8G')) >> 30}G"
    print(f"\n== hot-add latency: QMP device_add -> every new block online "
          f"(sizes {', '.join(sizes)}, {runs} rounds, methods interleaved) ==", flush=True)
    results = {}
    with Guest(name="bench-hotadd", mem="2G", maxmem=maxmem, slots=4,
               append="memhp_default_state=online_movable", boot_timeout=300) as g:
        install_hpwait(g, hpwait)
        if "loop" in methods:
            install_hpwait(g, build_uonline(), "uonline")
        boot_state = g.out("cat /sys/devices/system/memory/auto_online_blocks").strip()
        print(f"guest: {g.kernel_release}, accel {g.accel}, booted in {g.boot_seconds:.1f}s, "
              f"auto_online_blocks at boot: {boot_state}", flush=True)
        ad = Adder(g)
        for size in sizes:
            nb = parse_size(size) // ad.bs
            timeout = 120 + nb * 2
            samples = {m: [] for m in methods}
            guest_s = {m: [] for m in methods}
            tails = {m: [] for m in methods}
            for r in range(runs):
                line = []
                for m in methods:
                    prepare(g, m)
                    try:
                        did, blocks, host, gs = ad.add(size, timeout)
                    finally:
                        finish(g, m)
                    samples[m].append(host)
                    guest_s[m].append(gs)
                    tails[m].append(ad.tail)
                    ad.remove(did, blocks)
                    line.append(f"{m} {host:.2f}s (guest {gs:.2f}s, after the last add "
                                f"{ad.tail:.2f}s)")
                B.log(f"{size} round {r + 1}: " + ", ".join(line))
            st = {m: B.stats(samples[m]) for m in methods}
            gst = {m: B.stats(guest_s[m]) for m in methods}
            ratios = {m: B.stats([x / y for x, y in zip(samples[m], samples["auto"])])
                      for m in methods}
            print(f"\n{size} DIMM ({nb} blocks of {ad.bs >> 20} MiB):")
            print(f"  {'onliner':<8} {'host: device_add -> all online':<38} "
                  f"{'guest: first add -> last online':<38} {'vs auto':>8}")
            for m in methods:
                print(f"  {m:<8} {B.fmt_stat(st[m]):<38} {B.fmt_stat(gst[m]):<38} "
                      f"{ratios[m]['median']:>7.2f}x  ({ratios[m]['min']:.2f}-"
                      f"{ratios[m]['max']:.2f})")
            print("  guest: last add uevent -> last block online (what the onliner adds after "
                  "the kernel created the last block):")
            for m in methods:
                print(f"  {m:<8} {B.fmt_stat(B.stats(tails[m]))}")
            vs_loop = None
            if "loop" in methods and "memhpd" in methods:
                vs_loop = B.stats([x / y for x, y in zip(samples["memhpd"], samples["loop"])])
                print(f"  memhpd against the bare userspace loop (per round): "
                      f"{vs_loop['median']:.2f}x ({vs_loop['min']:.2f}-{vs_loop['max']:.2f}); "
                      f"the loop against auto: {ratios['loop']['median']:.2f}x")
            for m in methods:
                res.add("vm-hotadd", f"{size} DIMM ({nb} blocks), {m}", st[m]["median"], "s",
                        ref=f"auto {st['auto']['median']:.2f} s",
                        target=f"<= {TARGET}x auto" if m == "memhpd" else None,
                        note=f"{ratios[m]['median']:.2f}x auto (per-round "
                             f"{ratios[m]['min']:.2f}-{ratios[m]['max']:.2f}); min-max "
                             f"{st[m]['min']:.2f}-{st[m]['max']:.2f} s; guest-side "
                             f"{gst[m]['median']:.2f} s, after the last add "
                             f"{B.stats(tails[m])['median']:.2f} s; {g.accel}"
                             + (f"; {vs_loop['median']:.2f}x the bare userspace loop"
                                if m == "memhpd" and vs_loop else ""),
                        data={"size": size, "blocks": nb, "method": m,
                              "ratio": ratios[m]["median"], "accel": g.accel})
            results[size] = (st, gst, ratios)
    return results


def kernel_free_pages(zi):
    return sum(v.get("free", 0) for (node, zone), v in zi.items() if zone in KERNEL_ZONES)


def zoneinfo_free(g):
    """{(node, zone): {'free', 'present', 'managed'}} from /proc/zoneinfo."""
    res = {}
    cur = None
    for line in g.out("cat /proc/zoneinfo").splitlines():
        m = re.match(r"Node (\d+), zone\s+(\S+)", line)
        if m:
            cur = res.setdefault((int(m.group(1)), m.group(2)), {})
            continue
        m = re.match(r"\s+(pages free|present|managed)\s+(\d+)$", line)
        if m and cur is not None:
            cur[m.group(1).split()[-1]] = int(m.group(2))
    return res


def device_of_blocks(g, blocks):
    lj = json.loads(g.run("memhpctl --json list", check=False).out or "{}")
    names = {f"memory{b}" for b in blocks}
    ids = {b.get("device") for b in lj.get("blocks", []) if b.get("name") in names}
    for d in lj.get("devices", []):
        if d.get("id") in ids:
            return d
    return {}


def kfree_mib(zi):
    return kernel_free_pages(zi) * PAGE / 2**20


def bench_memmap(res, hpwait):
    """Before the add, after the add (blocks offline: a memmap in RAM is allocated by now),
    after memhpd onlined everything.  memhpctl explain runs on the offline device, i.e. what
    memhpd's policy decides for it, and the state file shows what memhpd then recorded."""
    print("\n== memmap cost: 2 GiB guest hot-adds 32 GiB, memhpd onlining (memmap = auto) ==",
          flush=True)
    rows = {}
    for param in (0, 1):
        with Guest(name=f"bench-memmap{param}", mem="2G", maxmem="40G", slots=4,
                   memmap_on_memory=False,
                   append=f"memory_hotplug.memmap_on_memory={param}", boot_timeout=300) as g:
            install_hpwait(g, hpwait)
            set_auto_online(g, "offline")
            pm = g.out("cat /sys/module/memory_hotplug/parameters/memmap_on_memory").strip()
            bs = g.block_size()
            nb = (32 << 30) // bs
            before = g.blocks()
            g.run("sync; echo 3 > /proc/sys/vm/drop_caches")
            pts = [("before the add", g.meminfo(), zoneinfo_free(g))]
            g.run(f"rm -f /tmp/hpw.fifo; mkfifo /tmp/hpw.fifo && hpwait {nb} 900 /tmp/hpw.fifo")
            g.qmp("object-add", **{"qom-type": "memory-backend-ram", "id": "mm-mem",
                                   "size": 32 << 30, "reserve": False})
            g.qmp("device_add", driver="pc-dimm", id="mm", memdev="mm-mem", node=0)
            g.wait_until(lambda: len([b for b in g.blocks() if b not in before]) >= nb, 600,
                         f"{nb} new blocks")
            new = sorted(b for b in g.blocks() if b not in before)
            g.run("sync; echo 3 > /proc/sys/vm/drop_caches")
            pts.append(("added, offline", g.meminfo(), zoneinfo_free(g)))
            dev = device_of_blocks(g, new)
            did = dev.get("id", f"memory{new[0]}")
            g.write_file("/etc/memhpd/memhpd.conf", CONF_MOVABLE)  # what memhpd will run with
            explain = g.run(f"memhpctl explain {did} 2>&1", check=False).out
            t = time.monotonic()
            start_memhpd(g, CONF_MOVABLE)
            g.out("cat /tmp/hpw.fifo", timeout=900)
            online_s = time.monotonic() - t
            g.run("sync; echo 3 > /proc/sys/vm/drop_caches")
            pts.append(("online (memhpd)", g.meminfo(), zoneinfo_free(g)))
            dev = device_of_blocks(g, new)
            st = json.loads(g.out("cat /run/memhpd/state.json"))
            rec = next((d for d in st.get("devices", []) if d.get("id") == did), {})
            print(f"\nmemory_hotplug.memmap_on_memory={param} (reads {pm}); {did}: {nb} blocks; "
                  f"memhpd onlined them in {online_s:.1f}s (one run: memory accounting, "
                  "not timing)")
            print(f"  {'':<16} {'MemFree':>9} {'kernel-zone free':>17} {'Movable present-managed':>24}")
            for name, mi, zi in pts:
                mov = sum(v.get("present", 0) - v.get("managed", 0)
                          for (n, z), v in zi.items() if z == "Movable") * PAGE / 2**20
                print(f"  {name:<16} {mi['MemFree'] / 1024:>5.0f} MiB {kfree_mib(zi):>13.0f} MiB "
                      f"{mov:>20.0f} MiB")
            dk_add = kfree_mib(pts[1][2]) - kfree_mib(pts[0][2])
            dk_all = kfree_mib(pts[2][2]) - kfree_mib(pts[0][2])
            dmf = (pts[2][1]["MemFree"] - pts[0][1]["MemFree"]) / 1024
            print(f"  kernel-zone free: {dk_add:+.0f} MiB at the add, {dk_all:+.0f} MiB in all; "
                  f"MemFree {dmf:+.0f} MiB in all")
            print(f"  memhpctl list: memmap {dev.get('memmap')}, on the device "
                  f"{(dev.get('memmap_on_device_bytes') or 0) >> 20} MiB, in RAM "
                  f"{(dev.get('memmap_in_ram_bytes') or 0) >> 20} MiB")
            print(f"  memhpd state file: decision {rec.get('decision')} {rec.get('zone')}, memmap "
                  f"{rec.get('memmap')}, reasons: {'; '.join(rec.get('reasons', []))}")
            print(f"  memhpctl explain {did} (offline, before memhpd ran):\n    " +
                  "\n    ".join(explain.strip().splitlines()[:16]))
            rows[param] = {"dk_add": dk_add, "dk_all": dk_all, "dmemfree": dmf,
                           "memmap": dev.get("memmap"), "explain": explain}
            res.add("vm-memmap", f"32 GiB DIMM on a 2 GiB guest, memmap_on_memory={param}: "
                    "kernel-zone free", dk_all, "MiB",
                    note=f"MemFree {dmf:+.0f} MiB; memmap {dev.get('memmap')} "
                         f"(memhpctl list), explain: "
                         + ("; ".join(x.strip() for x in explain.splitlines()
                                      if "memmap" in x.lower())[:200]),
                    data={"param": param, "blocks": nb, "memmap_list": dev.get("memmap"),
                          "memmap_state": rec.get("memmap"), "decision": rec.get("decision"),
                          "zone": rec.get("zone"), "kernel_free_at_add_mib": dk_add,
                          "kernel_free_mib": dk_all, "memfree_mib": dmf})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="8G,64G")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-latency", action="store_true")
    ap.add_argument("--no-memmap", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--memhpd-log", metavar="FILE",
                    help="run memhpd at log_level debug and append its log of each round to "
                         "FILE (diagnostic; the debug output slows memhpd in the guest)")
    a = ap.parse_args()
    global MEMHPD_LOG_COPY
    MEMHPD_LOG_COPY = os.path.abspath(a.memhpd_log) if a.memhpd_log else None
    B.be_nice()
    res = B.Results(a.json)
    print(f"vm-hotadd benchmark: {B.machine_line()}", flush=True)
    try:
        hpwait = build_hpwait()
        if not a.no_memmap:
            bench_memmap(res, hpwait)
        if not a.no_latency:
            bench_latency(res, a.sizes.split(","), a.runs, hpwait)
    except Skip as e:
        print(f"SKIP vm-hotadd: {e}", flush=True)
        return SKIP
    except VMError as e:
        print(f"FAIL vm-hotadd: {e}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
