#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Companion kernel series, ACPI DIMMs without memhpd: the runtime-writable
memory_hotplug.memmap_on_memory decides each DIMM's placement, memoryN/memmap_on_memory reports
it (512 pages per 128 MiB block, or 0), a udev rule reading the attribute and the node link at
"add" sees the final values, /proc/vmstat nr_memmap_altmap_pages follows, and device_del of both
DIMMs with the parameter set the other way leaves no kernel warning.

Skips (77) with the reason when no patched kernel build is cached (see kernelvm.py)."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from qemu import Guest, log, main_scenario  # noqa: E402
from vmcheck import check, check_eq, memmap_self_hosted, new_blocks  # noqa: E402
from kernelvm import (check_dmesg_clean, check_patched, memmap_attrs, param,  # noqa: E402
                      set_param, vmstat)

SEEN_LOG = "/run/memmap-seen.log"
RULE = """# memhpd vm test: record what a rule sees of a memory block at "add"
ACTION=="add", SUBSYSTEM=="memory", RUN+="/etc/udev/memmap-seen.sh %k $attr{memmap_on_memory}"
"""
SCRIPT = f"""#!/bin/sh
# $1 memoryN, $2 memmap_on_memory as the rule read it; read it again and the node link now
d=/sys/devices/system/memory/$1
v=$(cat "$d/memmap_on_memory" 2>/dev/null || echo missing)
n=$(cd "$d" && ls -d node* 2>/dev/null | tr '\\n' ' ')
echo "$1 rule=${{2:-missing}} run=$v node=${{n:-none}}" >> {SEEN_LOG}
"""


def add(g, did, on):
    """Set the parameter, hot-add a 1 GiB DIMM, return its 8 new blocks."""
    set_param(g, on)
    before = g.blocks()
    t = time.monotonic()
    g.add_dimm(did, "1G")
    nums = new_blocks(g, before, 8)
    log(f"{did}: memmap_on_memory={'Y' if on else 'N'}: memory{nums[0]}..memory{nums[-1]} in "
        f"{time.monotonic() - t:.1f}s")
    return nums


def check_attrs(g, did, nums, want):
    attrs = memmap_attrs(g)
    got = {n: attrs[n] for n in nums}
    check_eq(got, {n: want for n in nums}, f"{did}: memoryN/memmap_on_memory")


def remove(g, did, nums, param_now):
    """Offline the DIMM's blocks and device_del it while the parameter is param_now (the
    opposite of how the DIMM was added: removal must use each block's recorded altmap)."""
    set_param(g, param_now)
    g.run("cd /sys/devices/system/memory && for n in "
          + " ".join(f"memory{n}" for n in nums) + "; do echo offline > $n/state || exit 1; done")
    t = time.monotonic()
    check(g.device_del(did, 60), f"device_del {did} did not complete in 60 s")
    g.wait_until(lambda: not any(n in g.blocks() for n in nums), 30, f"{did}'s blocks gone")
    log(f"{did}: removed with memmap_on_memory={param(g)} in {time.monotonic() - t:.1f}s")


def scenario():
    with Guest(name="kernel-dimm", kernel="patched", mem="2G") as g:
        check_patched(g)
        g.write_file("/etc/udev/memmap-seen.sh", SCRIPT, 0o755)
        g.write_file("/etc/udev/rules.d/50-memmap-seen.rules", RULE)
        g.run("udevadm control --reload")
        g.failure_dumps.append(f"cat {SEEN_LOG}; dmesg | tail -n 40")
        per_block = g.block_size() // 4096 * 64 // 4096
        v0 = vmstat(g)
        check("nr_memmap_altmap_pages" in v0, "/proc/vmstat has no nr_memmap_altmap_pages")

        a = add(g, "dimm-on", True)
        check_attrs(g, "dimm-on", a, per_block)
        v1 = vmstat(g)
        check_eq(v1["nr_memmap_altmap_pages"] - v0["nr_memmap_altmap_pages"], 8 * per_block,
                 "nr_memmap_altmap_pages added by the on-memory DIMM")
        check_eq(v1["nr_memmap_pages"] - v0["nr_memmap_pages"], 0,
                 "nr_memmap_pages added by the on-memory DIMM")

        b = add(g, "dimm-off", False)
        check_attrs(g, "dimm-off", b, 0)
        check_attrs(g, "dimm-on (after the parameter changed)", a, per_block)
        v2 = vmstat(g)
        check_eq(v2["nr_memmap_altmap_pages"], v1["nr_memmap_altmap_pages"],
                 "nr_memmap_altmap_pages after the RAM-memmap DIMM")
        check_eq(v2["nr_memmap_pages"] - v1["nr_memmap_pages"], 8 * per_block,
                 "nr_memmap_pages added by the RAM-memmap DIMM")

        # Online both: the self-hosted memmap is also visible in kpageflags (bit 37) and keeps
        # 512 pages per block out of the page allocator.
        g.run("cd /sys/devices/system/memory && for n in "
              + " ".join(f"memory{n}" for n in a + b)
              + "; do echo online_movable > $n/state || exit 1; done")
        check_eq(memmap_self_hosted(g, a[0]), True, f"memory{a[0]} kpageflags self-hosted")
        check_eq(memmap_self_hosted(g, b[0]), False, f"memory{b[0]} kpageflags self-hosted")
        check_attrs(g, "dimm-on (online)", a, per_block)
        check_attrs(g, "dimm-off (online)", b, 0)

        # What the udev rule saw at "add" is the final value, with the node link in place.
        g.run("udevadm settle --timeout=30")
        seen = {}
        for line in g.out(f"cat {SEEN_LOG}").splitlines():
            k, _, rest = line.partition(" ")
            seen.setdefault(int(k[len("memory"):]), []).append(rest)
        want = {n: [f"rule={per_block} run={per_block} node=node0 "] for n in a}
        want.update({n: ["rule=0 run=0 node=node0 "] for n in b})
        check_eq(seen, want, f"what the udev rule saw at add ({SEEN_LOG})")
        log(f"udev rule at add: {len(seen)} blocks, each saw its final memmap_on_memory and node")

        remove(g, "dimm-off", b, True)
        remove(g, "dimm-on", a, False)
        v3 = vmstat(g)
        check_eq(v3["nr_memmap_altmap_pages"], v0["nr_memmap_altmap_pages"],
                 "nr_memmap_altmap_pages after removing both DIMMs")
        check_eq(v3["nr_memmap_pages"], v0["nr_memmap_pages"],
                 "nr_memmap_pages after removing both DIMMs")
        check_dmesg_clean(g, "after adding and removing both DIMMs")


main_scenario(scenario, "kernel-dimm")
