#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Movable ratio guard: a 2 GiB guest and an 8 GiB DIMM with movable_ratio = 100. The blocks
beyond the ratio go to the kernel zone, lowest first, in exactly the number memhpd.conf(5)'s
formula gives: movable <= ratio% x (kernel - memmap of movable memory kept in RAM), counting
usable memory (block size minus the memmap stored on the block)."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from qemu import Guest, log, main_scenario  # noqa: E402
from vmcheck import (check_eq, check_list_matches_kernel, device_of, new_blocks,  # noqa: E402
                     start_memhpd, wait_online)

RATIO = 100
CONF = f"""[policy]
movable_ratio = {RATIO}
"""
KERNEL_ZONES = ("DMA", "DMA32", "Normal")


def expected_kernel_blocks(kernel_bytes, nblocks, usable):
    """Smallest k with usable*(n-k) <= RATIO% * (kernel + usable*k) (memmap on the blocks)."""
    for k in range(nblocks + 1):
        if usable * (nblocks - k) * 100 <= RATIO * (kernel_bytes + usable * k):
            return k
    return nblocks


def scenario():
    with Guest(name="ratio-guard", mem="2G", maxmem="16G") as g:
        start_memhpd(g, CONF)
        bs = g.block_size()
        before = g.blocks()
        # every boot block is online in a kernel zone with its memmap in RAM
        kernel = sum(bs for b in before.values() if b["state"] == "online")
        zi0 = g.zoneinfo()
        nblocks = (8 << 30) // bs
        memmap = bs // 4096 * 64
        usable = bs - memmap
        k = expected_kernel_blocks(kernel, nblocks, usable)
        t = time.monotonic()
        g.add_dimm("dimm0", "8G")
        nums = new_blocks(g, before, nblocks)
        bl = wait_online(g, nums, 120)
        log(f"8 GiB DIMM online in {time.monotonic() - t:.1f}s; expecting {k} kernel and "
            f"{nblocks - k} movable blocks")
        zones = [bl[n]["zones"] for n in nums]
        check_eq(zones, [["Normal"]] * k + [["Movable"]] * (nblocks - k),
                 "zones of the DIMM's blocks, lowest first")
        zi = g.zoneinfo()
        for zone, cnt in (("Normal", k), ("Movable", nblocks - k)):
            z0 = zi0.get((0, zone), {})
            z1 = zi.get((0, zone), {})
            check_eq(z1.get("present", 0) - z0.get("present", 0), cnt * bs // 4096,
                     f"{zone} present pages added")
            hidden0 = z0.get("present", 0) - z0.get("managed", 0)
            hidden1 = z1.get("present", 0) - z1.get("managed", 0)
            check_eq(hidden1 - hidden0, cnt * memmap // 4096, f"{zone} present-managed added")
        lj = check_list_matches_kernel(g)
        d = device_of(lj, nums)
        check_eq(d["online_blocks"], nblocks, f"{d['id']} online blocks")
        nd = [x for x in lj["nodes"] if x["node"] == 0][0]
        check_eq(nd["movable_bytes"], (nblocks - k) * bs, "node0 movable bytes")
        check_eq(nd["kernel_bytes"], kernel + k * bs, "node0 kernel bytes")


main_scenario(scenario, "ratio-guard")
