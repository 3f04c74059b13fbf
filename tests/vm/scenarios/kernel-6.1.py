#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Debian's 6.1 kernel: memhpctl list agrees with the kernel, and the narrower memmap semantics
are reported correctly: an ACPI DIMM uses memmap_on_memory only when it is a single block, so a
1 GiB DIMM gets its memmap in RAM and a 128 MiB DIMM on the memory."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from qemu import Guest, log, main_scenario  # noqa: E402
from vmcheck import (check_eq, check_list_matches_kernel, device_of, memmap_self_hosted,  # noqa: E402
                     movable_pages, new_blocks, start_memhpd, wait_online)

CONF = """[policy]
movable_ratio = none
"""


def add(g, did, mib, want_memmap):
    bs = g.block_size()
    before = g.blocks()
    zi0 = g.zoneinfo()
    g.add_dimm(did, f"{mib}M")
    nblocks = (mib << 20) // bs
    nums = new_blocks(g, before, nblocks)
    bl = wait_online(g, nums)
    for n in nums:
        check_eq(bl[n]["zones"], ["Movable"], f"memory{n} zone")
    p0, m0 = movable_pages(zi0, 0)
    p1, m1 = movable_pages(g.zoneinfo(), 0)
    per_block = bs // 4096 * 64 // 4096
    hidden = nblocks * per_block if want_memmap == "on-memory" else 0
    check_eq((p1 - m1) - (p0 - m0), hidden, f"{did}: Movable present-managed added")
    check_eq(memmap_self_hosted(g, nums[0]), want_memmap == "on-memory",
             f"memory{nums[0]} kpageflags bit 37 (self-hosted memmap)")
    d = device_of(check_list_matches_kernel(g), nums)
    log(f"{did}: {mib} MiB -> {d['id']} memmap {d['memmap']} ({d['memmap_evidence']})")
    check_eq(d["memmap"], want_memmap, f"{d['id']} ({mib} MiB) memmap")
    check_eq(d["memmap_on_device_bytes"], hidden * 4096, f"{d['id']} memmap bytes on device")
    check_eq(d["memmap_in_ram_bytes"], nblocks * per_block * 4096 - hidden * 4096,
             f"{d['id']} memmap bytes in RAM")


def scenario():
    with Guest(name="kernel-6.1", kernel="6.1", mem="2G") as g:
        check_eq(g.kernel_release.startswith("6.1."), True, f"kernel {g.kernel_release}")
        check_list_matches_kernel(g)
        start_memhpd(g, CONF)
        add(g, "dimm1g", 1024, "ram")
        add(g, "dimm128m", 128, "on-memory")


main_scenario(scenario, "kernel-6.1")
