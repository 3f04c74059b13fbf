#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hot-add latency and memmap cost in a real guest kernel (QEMU; KVM if it boots, else TCG).

    bench/vm-hotadd.py [--sizes 8G,64G] [--runs 5] [--no-latency] [--no-memmap] [--json FILE]

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
from vmcheck import start_memhpd, stop_memhpd  # noqa: E402

TARGET = 1.1
UDEV_RULE = ('SUBSYSTEM=="memory", ACTION=="add", ATTR{state}=="offline", '
             'ATTR{state}="online_movable"\n')
RULE_PATH = "/etc/udev/rules.d/80-bench-online-movable.rules"
CONF_MOVABLE = "[policy]\nmovable_ratio = none\n"
KERNEL_ZONES = ("DMA", "DMA32", "Normal")
PAGE = 4096


def build_hpwait():
    out = os.path.join(B.build_dir(), "bench", "hpwait")
    src = os.path.join(HERE, "hpwait.c")
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(src):
        return out
    os.makedirs(os.path.dirname(out), exist_ok=True)
    r = subprocess.run(["cc", "-static", "-O2", "-Wall", "-Wextra", "-std=gnu11", "-o", out, src],
                       stderr=subprocess.PIPE, text=True)
    if r.returncode:
        raise SystemExit(f"cannot build hpwait (static, for the guest): {r.stderr}")
    return out


def install_hpwait(g, path):
    dst = os.path.join(g.share, "bin", "hpwait")
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
        m = re.search(r"added (\d+) online (\d+) first_add_ns (\d+) last_online_ns (\d+) "
                      r"timeout (\d)", out)
        if not m:
            raise VMError(f"hpwait said {out!r}")
        added, online, a_ns, o_ns, to = (int(x) for x in m.groups())
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


def prepare(g, method):
    """Leave exactly one onliner in charge."""
    if method == "auto":
        set_udev_rule(g, False)
        set_auto_online(g, "online_movable")
    elif method == "udev":
        set_auto_online(g, "offline")
        set_udev_rule(g, True)
    else:
        set_udev_rule(g, False)
        set_auto_online(g, "offline")
        g.run("rm -f /run/memhpd/state.json /var/lib/memhpd/state.json")
        start_memhpd(g, CONF_MOVABLE)


def finish(g, method):
    if method == "memhpd":
        stop_memhpd(g)


def bench_latency(res, sizes, runs, hpwait):
    methods = ("auto", "udev", "memhpd")
    big = max(parse_size(s) for s in sizes)
    maxmem = f"{(parse_size('2G') + big + parse_size('8G')) >> 30}G"
    print(f"\n== hot-add latency: QMP device_add -> every new block online "
          f"(sizes {', '.join(sizes)}, {runs} rounds, methods interleaved) ==", flush=True)
    results = {}
    with Guest(name="bench-hotadd", mem="2G", maxmem=maxmem, slots=4,
               append="memhp_default_state=online_movable", boot_timeout=300) as g:
        install_hpwait(g, hpwait)
        boot_state = g.out("cat /sys/devices/system/memory/auto_online_blocks").strip()
        print(f"guest: {g.kernel_release}, accel {g.accel}, booted in {g.boot_seconds:.1f}s, "
              f"auto_online_blocks at boot: {boot_state}", flush=True)
        ad = Adder(g)
        for size in sizes:
            nb = parse_size(size) // ad.bs
            timeout = 120 + nb * 2
            samples = {m: [] for m in methods}
            guest_s = {m: [] for m in methods}
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
                    ad.remove(did, blocks)
                    line.append(f"{m} {host:.2f}s (guest {gs:.2f}s)")
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
            for m in methods:
                res.add("vm-hotadd", f"{size} DIMM ({nb} blocks), {m}", st[m]["median"], "s",
                        ref=f"auto {st['auto']['median']:.2f} s",
                        target=f"<= {TARGET}x auto" if m == "memhpd" else None,
                        note=f"{ratios[m]['median']:.2f}x auto (per-round "
                             f"{ratios[m]['min']:.2f}-{ratios[m]['max']:.2f}); min-max "
                             f"{st[m]['min']:.2f}-{st[m]['max']:.2f} s; guest-side "
                             f"{gst[m]['median']:.2f} s; {g.accel}")
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


def bench_memmap(res, hpwait):
    print("\n== memmap cost: 2 GiB guest hot-adds 32 GiB, memhpd onlining (memmap = auto) ==",
          flush=True)
    rows = {}
    for param in (0, 1):
        with Guest(name=f"bench-memmap{param}", mem="2G", maxmem="40G", slots=4,
                   memmap_on_memory=False,
                   append=f"memory_hotplug.memmap_on_memory={param}", boot_timeout=300) as g:
            install_hpwait(g, hpwait)
            start_memhpd(g, CONF_MOVABLE)
            g.run("sync; echo 3 > /proc/sys/vm/drop_caches")
            mi0, zi0 = g.meminfo(), zoneinfo_free(g)
            ad = Adder(g)
            did, blocks, host, gs = ad.add("32G", 600)
            g.run("sync; echo 3 > /proc/sys/vm/drop_caches")
            mi1, zi1 = g.meminfo(), zoneinfo_free(g)
            explain = g.run(f"memhpctl explain {did} 2>&1 || memhpctl explain "
                            f"memory{blocks[0]} 2>&1", check=False).out
            lj = g.run("memhpctl --json list", check=False).out
            dev_memmap = re.search(r'"memmap"\s*:\s*"([^"]+)"[^{}]*"memmap_on_device_bytes"\s*:'
                                   r'\s*(\d+)[^{}]*"memmap_in_ram_bytes"\s*:\s*(\d+)', lj)
            pm = g.out("cat /sys/module/memory_hotplug/parameters/memmap_on_memory").strip()
            k0, k1 = kernel_free_pages(zi0), kernel_free_pages(zi1)
            mov = [(v.get("present", 0), v.get("managed", 0)) for (n, z), v in zi1.items()
                   if z == "Movable"]
            rows[param] = {"memfree0": mi0["MemFree"], "memfree1": mi1["MemFree"],
                           "kfree0": k0 * 4, "kfree1": k1 * 4, "param": pm,
                           "online_s": host, "explain": explain,
                           "movable": mov, "dev": dev_memmap.groups() if dev_memmap else None}
            print(f"\nmemory_hotplug.memmap_on_memory={param} (reads {pm}); 32 GiB online in "
                  f"{host:.1f}s (one run: memory accounting, not timing)")
            print(f"  MemFree            {mi0['MemFree'] / 1024:8.0f} MiB -> "
                  f"{mi1['MemFree'] / 1024:8.0f} MiB  ({(mi1['MemFree'] - mi0['MemFree']) / 1024:+.0f} MiB)")
            print(f"  kernel zones free  {k0 * 4 / 1024:8.0f} MiB -> {k1 * 4 / 1024:8.0f} MiB  "
                  f"({(k1 - k0) * 4 / 1024:+.0f} MiB)")
            for p, m in mov:
                print(f"  Movable present-managed {(p - m) * 4 / 1024:.0f} MiB "
                      "(memmap pages inside the hot-added memory)")
            if dev_memmap:
                print(f"  memhpctl list: memmap {dev_memmap.group(1)}, on the device "
                      f"{int(dev_memmap.group(2)) >> 20} MiB, in RAM {int(dev_memmap.group(3)) >> 20} MiB")
            print("  memhpctl explain:\n    " + "\n    ".join(explain.strip().splitlines()[:14]))
            res.add("vm-memmap", f"32 GiB on 2 GiB guest, memmap_on_memory={param}: kernel-zone "
                    "free change", (k1 - k0) * 4 / 1024, "MiB",
                    note=f"MemFree {(mi1['MemFree'] - mi0['MemFree']) / 1024:+.0f} MiB; memhpd "
                         f"memmap {dev_memmap.group(1) if dev_memmap else '?'}")
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="8G,64G")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-latency", action="store_true")
    ap.add_argument("--no-memmap", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()
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
