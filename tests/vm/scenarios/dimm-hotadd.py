#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""DIMM hot-add (1 GiB, then 8 GiB) with memhpd running: every block online movable, the memmap
on the memory (memory_hotplug.memmap_on_memory=1), and memhpctl agreeing with the kernel."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from qemu import Guest, log, main_scenario  # noqa: E402
from vmcheck import (check, check_eq, check_list_matches_kernel, device_of, explain,  # noqa: E402
                     memhpd_state, memmap_self_hosted, movable_pages, new_blocks, rx,
                     start_memhpd, wait_online)

CONF = """[policy]
movable_ratio = none
"""


def hot_add(g, did, size_gib):
    bs = g.block_size()
    nblocks = (size_gib << 30) // bs
    before = g.blocks()
    zi0 = g.zoneinfo()
    t = time.monotonic()
    g.add_dimm(did, f"{size_gib}G")
    nums = new_blocks(g, before, nblocks)
    bl = wait_online(g, nums, 60 + nblocks)
    log(f"{did}: {nblocks} blocks memory{nums[0]}..memory{nums[-1]} online in "
        f"{time.monotonic() - t:.1f}s")
    for n in nums:
        check_eq(bl[n]["zones"], ["Movable"], f"memory{n} zone")
    # The kernel's evidence: 512 struct-page pages per 128 MiB block are neither free nor
    # managed (present - managed), and the block's first page is its own memmap.
    p0, m0 = movable_pages(zi0, 0)
    p1, m1 = movable_pages(g.zoneinfo(), 0)
    per_block = bs // 4096 * 64 // 4096
    check_eq(p1 - p0, nblocks * bs // 4096, "Movable present pages added")
    check_eq((p1 - m1) - (p0 - m0), nblocks * per_block, "Movable present-managed added")
    check(memmap_self_hosted(g, nums[0]), f"memory{nums[0]}: kpageflags bit 37 not set")
    check(memmap_self_hosted(g, nums[-1]), f"memory{nums[-1]}: kpageflags bit 37 not set")
    lj = check_list_matches_kernel(g)
    d = device_of(lj, nums)
    check_eq(d["type"], "acpi-dimm", f"{d['id']} type")
    check_eq(d["blocks"], nblocks, f"{d['id']} blocks")
    check_eq(d["online_blocks"], nblocks, f"{d['id']} online blocks")
    check_eq(d["zone"], "Movable", f"{d['id']} zone")
    check_eq(d["memmap"], "on-memory", f"{d['id']} memmap")
    check(d["memmap_evidence"] not in (None, "", "unknown"),
          f"{d['id']} memmap evidence: {d['memmap_evidence']!r}")
    check_eq(d["memmap_on_device_bytes"], nblocks * per_block * 4096,
             f"{d['id']} memmap bytes on the device")
    check_eq(d["memmap_in_ram_bytes"], 0, f"{d['id']} memmap bytes in RAM")
    out = explain(g, d["id"])
    rx(r"movable", out, f"memhpctl explain {d['id']}")
    return d


def scenario():
    with Guest(name="dimm-hotadd", mem="2G", maxmem="32G") as g:
        start_memhpd(g, CONF)
        d1 = hot_add(g, "dimm1", 1)
        d8 = hot_add(g, "dimm8", 8)
        st = memhpd_state(g)
        ids = {d["id"]: d for d in st["devices"]}
        for d in (d1, d8):
            check(d["id"] in ids, f"memhpd state.json lacks {d['id']}")
        check_eq(st["counters"]["blocks_onlined"], 72, "memhpd blocks_onlined")
        check_eq(st["counters"]["conflicts"], 0, "memhpd conflicts")


main_scenario(scenario, "dimm-hotadd")
