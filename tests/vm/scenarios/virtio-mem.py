#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""virtio-mem grow and shrink with memhpd running. vm0 (node 0) follows the defaults: kernel
zone, memmap in RAM (virtio-mem never self-hosts it). vm1 (node 1) has a rule for the movable
zone, so that shrinking it back to 0 completes. memhpd must never offline virtio-mem blocks."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from qemu import Guest, log, main_scenario  # noqa: E402
from vmcheck import (check, check_eq, check_list_matches_kernel, device_of, explain,  # noqa: E402
                     memhpd_state, memmap_self_hosted, new_blocks, rx, start_memhpd,
                     wait_online)

CONF = """[policy]
movable_ratio = none

[rule vmem-movable]
type = virtio-mem
node = 1
zone = movable
"""


def grow(g, vid, node, size_mib, zone, kzone):
    before = g.blocks()
    zi0 = g.zoneinfo()
    t = time.monotonic()
    g.virtio_mem_resize(vid, f"{size_mib}M")
    nblocks = (size_mib << 20) // g.block_size()
    nums = new_blocks(g, before, nblocks)
    bl = wait_online(g, nums)
    log(f"{vid}: grew by {size_mib} MiB, memory{nums[0]}..memory{nums[-1]} online in "
        f"{time.monotonic() - t:.1f}s")
    for n in nums:
        check_eq(bl[n]["zones"], [kzone], f"memory{n} zone")
        check_eq(bl[n]["node"], node, f"memory{n} node")
    z0 = zi0.get((node, kzone), {})
    z1 = g.zoneinfo()[(node, kzone)]
    added = nblocks * g.block_size() // 4096
    check_eq(z1["present"] - z0.get("present", 0), added, f"node{node} {kzone} present added")
    check_eq((z1["present"] - z1["managed"]) - (z0.get("present", 0) - z0.get("managed", 0)),
             0, f"node{node} {kzone} present-managed (virtio-mem memmap is in RAM)")
    check(not memmap_self_hosted(g, nums[0]), f"memory{nums[0]}: self-hosted memmap")
    lj = check_list_matches_kernel(g)
    d = device_of(lj, nums)
    check_eq(d["type"], "virtio-mem", f"{d['id']} type")
    check_eq(d["zone"], kzone, f"{d['id']} zone")
    check_eq(d["memmap"], "ram", f"{d['id']} memmap")
    check_eq(d["memmap_on_device_bytes"], 0, f"{d['id']} memmap bytes on the device")
    rx(zone, explain(g, d["id"]), f"memhpctl explain {d['id']}")
    return nums


def scenario():
    with Guest(name="virtio-mem", mem="2G", nodes=["1G", "1G"],
               virtio_mem=[("vm0", "4G", 0), ("vm1", "4G", 1)]) as g:
        start_memhpd(g, CONF)
        grow(g, "vm0", 0, 512, "kernel", "Normal")
        nums = grow(g, "vm1", 1, 1024, "movable", "Movable")
        t = time.monotonic()
        g.virtio_mem_resize("vm1", 0, timeout=120)
        g.wait_until(lambda: not any(n in g.blocks() for n in nums), 60,
                     "vm1's memory blocks removed")
        log(f"vm1: shrunk to 0 in {time.monotonic() - t:.1f}s")
        check_list_matches_kernel(g)
        st = memhpd_state(g)
        check_eq(st["counters"]["blocks_offlined"], 0, "memhpd blocks_offlined")
        check_eq(st["counters"]["blocks_onlined"], 12, "memhpd blocks_onlined")


main_scenario(scenario, "virtio-mem")
