# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers for vm scenarios: run memhpd in the guest, and compare memhpctl with the kernel."""

import json
import re

from qemu import VMError

PAGE = 4096
MEMHPD_LOG = "/tmp/memhpd.log"


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def check_eq(got, want, what):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def start_memhpd(g, conf="", args="", timeout=60):
    """Write /etc/memhpd/memhpd.conf (conf text), start memhpd in the background and wait for
    its control socket. The log goes to MEMHPD_LOG and is printed if the scenario fails.

    The process is followed by its pid, not by name: right after the start the child may not
    have exec'd memhpd yet (pidof misses it under load), and a control socket left behind by a
    killed memhpd is told apart from the new one by its inode."""
    g.write_file("/etc/memhpd/memhpd.conf", conf)
    g.run("memhpd --version >/dev/null || { echo 'memhpd not in /host/bin (not built?)'; exit 1; }")
    sock = "/run/memhpd/control"
    ino = f"$(stat -c %i {sock} 2>/dev/null || echo none)"
    old = g.out(f"echo {ino}").strip()
    pid = g.out(f"mkdir -p /run/memhpd; (memhpd --stderr {args} >{MEMHPD_LOG} 2>&1 & echo $!)")
    pid = pid.strip()
    dump = f"echo '--- {MEMHPD_LOG}'; tail -n 60 {MEMHPD_LOG}"
    if dump not in g.failure_dumps:
        g.failure_dumps.append(dump)
    # running: /proc/PID exists and is not a zombie (PID 1 of the guest reaps nothing)
    alive = f"[ -d /proc/{pid} ] && ! grep -q '^[0-9]* ([^)]*) Z' /proc/{pid}/stat"
    g.wait_until(lambda: g.run(f"[ -S {sock} ] && [ {ino} != '{old}' ] && exit 0; "
                               f"{alive} && exit 1; exit 2",
                               check=False).rc in (0, 2), timeout, "memhpd's control socket")
    if g.run(alive, check=False).rc != 0:
        raise VMError("memhpd exited at start:\n" + g.out(f"cat {MEMHPD_LOG}"))


def stop_memhpd(g):
    g.run("kill $(pidof memhpd) 2>/dev/null; i=0; while pidof memhpd >/dev/null; do "
          "i=$((i+1)); [ $i -gt 200 ] && exit 1; usleep 50000; done")


def memhpd_state(g):
    return json.loads(g.out("cat /run/memhpd/state.json"))


def list_json(g):
    r = g.run("memhpctl --json list", check=False)
    if r.rc not in (0, 64):
        raise VMError(f"memhpctl --json list exited {r.rc}: {r.err}")
    try:
        return json.loads(r.out)
    except ValueError as e:
        raise AssertionError(f"memhpctl --json list is not JSON ({e}): {r.out[:500]}")


def lsmem_totals(g):
    """(online bytes, offline bytes, block size) as util-linux's lsmem reports them."""
    out = g.out("lsmem -b --summary=only")
    vals = {}
    for line in out.splitlines():
        k, _, v = line.partition(":")
        if v.strip():
            vals[k.strip()] = int(v.strip())
    return (vals.get("Total online memory", 0), vals.get("Total offline memory", 0),
            vals["Memory block size"])


def movable_pages(zi, node):
    z = zi.get((node, "Movable"), {})
    return z.get("present", 0), z.get("managed", 0)


def check_list_matches_kernel(g, lj=None):
    """memhpctl list --json against sysfs, lsmem and /proc/zoneinfo; returns the list JSON."""
    lj = lj or list_json(g)
    blocks = g.blocks()
    check_eq(lj["block_size"], g.block_size(), "block_size")
    names = {b["name"]: b for b in lj["blocks"]}
    check_eq(sorted(names), sorted(f"memory{n}" for n in blocks), "memory blocks listed")
    for n, kb in blocks.items():
        b = names[f"memory{n}"]
        check_eq(b["state"], kb["state"], f"memory{n} state")
        check_eq(b["node"], kb["node"], f"memory{n} node")
        if kb["state"] == "online" and len(kb["zones"]) == 1 and kb["zones"][0] != "none":
            check_eq(b["zone"], kb["zones"][0], f"memory{n} zone (valid_zones)")
    on, off, bs = lsmem_totals(g)
    check_eq(lj["totals"]["online_bytes"], on, "online bytes vs lsmem")
    check_eq(lj["totals"]["offline_bytes"], off, "offline bytes vs lsmem")
    check_eq(lj["block_size"], bs, "block size vs lsmem")
    zi = g.zoneinfo()
    for nd in lj["nodes"]:
        present, _ = movable_pages(zi, nd["node"])
        check_eq(nd["movable_bytes"], present * PAGE,
                 f"node{nd['node']} movable bytes vs /proc/zoneinfo Movable present")
    k = lj["kernel"]
    mom = g.out("cat /sys/module/memory_hotplug/parameters/memmap_on_memory").strip()
    check_eq(k["memmap_on_memory"], mom, "kernel memmap_on_memory parameter")
    aob = g.out("cat /sys/devices/system/memory/auto_online_blocks").strip()
    check_eq(k["auto_online_blocks"], aob, "auto_online_blocks")
    return lj


def new_blocks(g, before, count, timeout=60):
    """Wait until count memory blocks that were not in before exist; returns their numbers."""
    def found():
        nb = sorted(n for n in g.blocks() if n not in before)
        return nb if len(nb) >= count else None
    nb = g.wait_until(found, timeout, f"{count} new memory blocks")
    check_eq(len(nb), count, "number of new memory blocks")
    return nb


def wait_online(g, nums, timeout=60):
    """Wait until every block in nums is online; returns the blocks() view."""
    def done():
        bl = g.blocks()
        return bl if all(bl[n]["state"] == "online" for n in nums if n in bl) else None
    return g.wait_until(done, timeout, f"blocks {nums[0]}..{nums[-1]} online")


def device_of(lj, nums):
    """The memhpctl device holding exactly the blocks nums."""
    want = {f"memory{n}" for n in nums}
    devs = {}
    for b in lj["blocks"]:
        if b["name"] in want:
            devs.setdefault(b["device"], set()).add(b["name"])
    check(len(devs) == 1, f"blocks {sorted(want)} belong to devices {sorted(devs, key=str)}")
    did = next(iter(devs))
    for d in lj["devices"]:
        if d["id"] == did:
            return d
    raise AssertionError(f"device {did} of the new blocks is not in the device list")


def kpageflags(g, pfn):
    out = g.out(f"dd if=/proc/kpageflags bs=8 skip={pfn} count=1 2>/dev/null | od -An -tx8")
    return int(out.split()[0], 16)


KPF_OWNER_PRIVATE = 37  # PG_owner_priv_1 = PageVmemmapSelfHosted on a self-hosted memmap


def block_first_pfn(g, n):
    return n * g.block_size() // PAGE


def memmap_self_hosted(g, n):
    """Kernel evidence: the block's first page holds its own memmap (kpageflags bit 37)."""
    return bool(kpageflags(g, block_first_pfn(g, n)) >> KPF_OWNER_PRIVATE & 1)


def explain(g, name):
    r = g.run(f"memhpctl explain {name}", check=False)
    check(r.rc == 0 and r.out.strip(), f"memhpctl explain {name}: rc {r.rc}, {r.out}{r.err}")
    return r.out


def rx(pattern, text, what):
    check(re.search(pattern, text, re.I | re.M), f"{what}: /{pattern}/ not in:\n{text}")
