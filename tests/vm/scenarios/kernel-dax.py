#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Companion kernel series, dax/kmem: a 400 MiB NVDIMM as devdax (range not memory-block
aligned) is turned into system RAM by memhpd with its memmap on the device while the global
memory_hotplug.memmap_on_memory stays off (a stock kernel refuses that with EOPNOTSUPP). The
kernel logs the trimming and reports the hot-added part in mappingN/hotplugged_start/_end,
exactly the blocks that appeared, 512 memmap pages each, and memhpd accounts the same; after
kmem is unbound the range reads all-ones and the kernel log has no warning.

Skips (77) with the reason when no patched kernel build is cached (see kernelvm.py)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from qemu import Guest, log, main_scenario  # noqa: E402
from vmcheck import (check, check_eq, check_list_matches_kernel, device_of,  # noqa: E402
                     start_memhpd, stop_memhpd)
from kernelvm import (check_dmesg_clean, check_memhpd_accounting, check_patched,  # noqa: E402
                      memmap_attrs, param, vmstat)

CONF = """[policy]
movable_ratio = none
memmap = ram

[rule pmem]
type = dax
dax_mode = system-ram
zone = movable
memmap = on-memory
"""
ALL_ONES = 0xffffffffffffffff


def hex_attr(g, path):
    return int(g.out(f"cat {path}").strip(), 16)


def scenario():
    with Guest(name="kernel-dax", kernel="patched", mem="2G", memmap_on_memory=False) as g:
        check_patched(g)
        bs = g.block_size()
        per_block = bs // 4096 * 64 // 4096
        start_memhpd(g, CONF)
        check_eq(param(g), "N", "memmap_on_memory with [policy] memmap = ram")
        before = g.blocks()
        v0 = vmstat(g)
        g.add_nvdimm("nv0", "400M")
        ns = g.wait_until(lambda: g.out(
            "for n in /sys/bus/nd/devices/namespace*; do [ -e $n/size ] && "
            "[ $(cat $n/size) != 0 ] && [ ! -e $n/dax ] && echo ${n##*/}; done; true").split(),
            60, "raw namespace of nv0")[0]
        g.run(f"ndctl create-namespace -f -e {ns} -m devdax >/dev/null")
        dax = g.wait_until(lambda: g.out("ls /sys/bus/dax/devices/; true").split(), 30,
                           "a dax device")[0]
        d = f"/sys/bus/dax/devices/{dax}"
        g.wait_until(lambda: g.run(f"[ \"$(basename $(readlink {d}/driver))\" = kmem ]",
                                   check=False).rc == 0, 60, f"memhpd to bind {dax} to kmem")
        m = f"{d}/mapping0"
        start, end = hex_attr(g, f"{m}/start"), hex_attr(g, f"{m}/end")
        hs, he = hex_attr(g, f"{m}/hotplugged_start"), hex_attr(g, f"{m}/hotplugged_end")
        log(f"{dax}: mapping0 {start:#x}-{end:#x}, hot-added {hs:#x}-{he:#x}")
        want_s = (start + bs - 1) // bs * bs
        want_e = (end + 1) // bs * bs - 1
        check(start % bs or (end + 1) % bs, f"{dax} range {start:#x}-{end:#x} is block aligned; "
              "the test needs an unaligned one")
        check_eq((hs, he), (want_s, want_e), f"{dax} mapping0 hotplugged_start/_end")
        check_eq(g.out(f"stat -c %a {m}/hotplugged_start {m}/hotplugged_end").split(),
                 ["400", "400"], "hotplugged_start/_end modes")
        unused = (end - start + 1) - (he - hs + 1)
        dmesg = g.out("dmesg")
        line = (f"mapping0: {start:#x}-{end:#x} trimmed to {hs:#x}-{he:#x} for memory block "
                f"alignment, {unused} bytes unused")
        check(line in dmesg, f"kernel log lacks '{line}':\n{dmesg[-2000:]}")

        nums = sorted(n for n in g.blocks() if n not in before)
        check_eq(nums, list(range(hs // bs, (he + 1) // bs)), "blocks added by kmem")
        g.wait_until(lambda: all(g.blocks()[n]["state"] == "online" for n in nums), 30,
                     "kmem blocks online")
        check_eq(g.out(f"cat {d}/memmap_on_memory").strip(), "1", f"{dax}/memmap_on_memory")
        check_eq(param(g), "N", "global memmap_on_memory while kmem added the dax memory")
        attrs = memmap_attrs(g)
        check_eq({n: attrs[n] for n in nums}, {n: per_block for n in nums},
                 "dax blocks: memoryN/memmap_on_memory (per-device, global default off)")
        v1 = vmstat(g)
        check_eq(v1["nr_memmap_altmap_pages"] - v0["nr_memmap_altmap_pages"],
                 len(nums) * per_block, "nr_memmap_altmap_pages added by kmem")
        lj = check_list_matches_kernel(g)
        dev = device_of(lj, nums)
        check_eq((dev["type"], dev["memmap"], dev["memmap_evidence"]),
                 ("dax", "on-memory", "kernel-attr"), f"{dev['id']}: memhpctl type/memmap")
        check_memhpd_accounting(g, lj)

        # Unbound from kmem, nothing of the mapping is hot-added any more.
        stop_memhpd(g)
        g.run("cd /sys/devices/system/memory && for n in "
              + " ".join(f"memory{n}" for n in nums)
              + "; do echo offline > $n/state || exit 1; done")
        g.run(f"echo {dax} > /sys/bus/dax/drivers/kmem/unbind")
        check_eq((hex_attr(g, f"{m}/hotplugged_start"), hex_attr(g, f"{m}/hotplugged_end")),
                 (ALL_ONES, ALL_ONES), f"{dax} hotplugged range after kmem unbind")
        check(not any(n in g.blocks() for n in nums), "kmem blocks gone after unbind")
        check_eq(vmstat(g)["nr_memmap_altmap_pages"], v0["nr_memmap_altmap_pages"],
                 "nr_memmap_altmap_pages after kmem unbind")
        check_dmesg_clean(g, "after kmem probe and unbind")


main_scenario(scenario, "kernel-dax")
