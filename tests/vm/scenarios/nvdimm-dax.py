#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""NVDIMM -> devdax namespace -> memhpd turns it into system RAM per rule: on node 0 with the
memmap on the memory, on node 1 with the memmap in RAM. Checks the dax attribute, the zone and
/proc/zoneinfo's evidence of where the memmap went."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from qemu import Guest, log, main_scenario  # noqa: E402
from vmcheck import (check, check_eq, check_list_matches_kernel, device_of, explain,  # noqa: E402
                     memhpd_state, memmap_self_hosted, movable_pages, rx, start_memhpd)

CONF = """[policy]
movable_ratio = none

[rule pmem-on-memory]
type = dax
node = 0
dax_mode = system-ram
zone = movable
memmap = on-memory

[rule pmem-ram]
type = dax
node = 1
dax_mode = system-ram
zone = movable
memmap = ram
"""


def dax_to_ram(g, nid, node, want_memmap):
    before = g.blocks()
    zi0 = g.zoneinfo()
    t = time.monotonic()
    g.add_nvdimm(nid, "1G", node=node)
    # The label-less NVDIMM shows up as a raw namespace; reconfigure it into devdax.
    ns = g.wait_until(lambda: g.out(
        f"for n in /sys/bus/nd/devices/namespace*; do [ -e $n/numa_node ] && "
        f"[ $(cat $n/numa_node) = {node} ] && [ $(cat $n/size) != 0 ] && "
        f"[ ! -e $n/dax ] && echo ${{n##*/}}; done; true").split(), 60,
        f"raw namespace of {nid}")[0]
    g.run(f"ndctl create-namespace -f -e {ns} -m devdax >/tmp/{nid}.json")
    log(f"{nid}: {ns} devdax ({time.monotonic() - t:.1f}s)")

    def onlined():
        nb = sorted(n for n, b in g.blocks().items() if n not in before)
        bl = g.blocks()
        return nb if nb and all(bl[n]["state"] == "online" for n in nb) else None
    nums = g.wait_until(onlined, 90, f"{nid}'s memory online as system RAM")
    # kmem adds the dax range in whole blocks; give udev/memhpd a moment to finish all of them
    g.wait_until(lambda: all(b["state"] == "online" for n, b in g.blocks().items()
                             if n not in before), 30, "all new blocks online")
    nums = sorted(n for n in g.blocks() if n not in before)
    log(f"{nid}: memory{nums[0]}..memory{nums[-1]} online ({len(nums)} blocks) in "
        f"{time.monotonic() - t:.1f}s")
    bl = g.blocks()
    for n in nums:
        check_eq(bl[n]["zones"], ["Movable"], f"memory{n} zone")
        check_eq(bl[n]["node"], node, f"memory{n} node")
    daxdev = g.out(f"basename $(ls -d /sys/bus/nd/devices/{ns}/../dax*/dax*.* 2>/dev/null || "
                   f"ls -d /sys/bus/dax/devices/dax* | tail -n1)").strip()
    attr = g.out(f"cat /sys/bus/dax/devices/{daxdev}/memmap_on_memory").strip()
    driver = g.out(f"basename $(readlink /sys/bus/dax/devices/{daxdev}/driver)").strip()
    check_eq(driver, "kmem", f"{daxdev} driver")
    # on the host memhpd converts through libdaxctl, which it dlopen()s on first use
    check_eq(g.out("grep -c /libdaxctl /proc/$(pidof memhpd)/maps || true").strip() != "0",
             True, "memhpd has libdaxctl loaded after converting on the host")
    check_eq(attr, "1" if want_memmap == "on-memory" else "0", f"{daxdev}/memmap_on_memory")
    p0, m0 = movable_pages(zi0, node)
    p1, m1 = movable_pages(g.zoneinfo(), node)
    per_block = g.block_size() // 4096 * 64 // 4096
    check_eq(p1 - p0, len(nums) * g.block_size() // 4096, f"node{node} Movable present added")
    want_hidden = len(nums) * per_block if want_memmap == "on-memory" else 0
    check_eq((p1 - m1) - (p0 - m0), want_hidden, f"node{node} Movable present-managed added")
    check_eq(memmap_self_hosted(g, nums[0]), want_memmap == "on-memory",
             f"memory{nums[0]} kpageflags bit 37 (self-hosted memmap)")
    lj = check_list_matches_kernel(g)
    d = device_of(lj, nums)
    check_eq(d["type"], "dax", f"{d['id']} type")
    check_eq(d["memmap"], want_memmap, f"{d['id']} memmap")
    check_eq(d["zone"], "Movable", f"{d['id']} zone")
    on_dev = len(nums) * per_block * 4096 if want_memmap == "on-memory" else 0
    check_eq(d["memmap_on_device_bytes"], on_dev, f"{d['id']} memmap bytes on the device")
    check_eq(d["memmap_in_ram_bytes"], len(nums) * per_block * 4096 - on_dev,
             f"{d['id']} memmap bytes in RAM")
    out = explain(g, daxdev)
    rx(want_memmap, out, f"memhpctl explain {daxdev}")
    return daxdev


def scenario():
    with Guest(name="nvdimm-dax", mem="2G", nodes=["1G", "1G"]) as g:
        start_memhpd(g, CONF)
        a = dax_to_ram(g, "nv0", 0, "on-memory")
        b = dax_to_ram(g, "nv1", 1, "ram")
        st = memhpd_state(g)
        check_eq(st["counters"]["dax_reconfigured"], 2, "memhpd dax_reconfigured")
        check(a != b, "two dax devices")


main_scenario(scenario, "nvdimm-dax")
