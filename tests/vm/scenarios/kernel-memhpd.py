#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Companion kernel series with memhpd: memhpd sets the runtime-writable
memory_hotplug.memmap_on_memory from [policy] memmap before the next ACPI DIMM (on-memory at
start, ram after a reload), each DIMM gets that placement, virtio-mem blocks report 0, and
memhpctl list --json accounts exactly what the kernel reports (memoryN/memmap_on_memory pages
with evidence kernel-attr, /proc/vmstat nr_memmap_altmap_pages).

Skips (77) with the reason when no patched kernel build is cached (see kernelvm.py)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from qemu import Guest, log, main_scenario  # noqa: E402
from vmcheck import (MEMHPD_LOG, check_eq, check_list_matches_kernel, device_of,  # noqa: E402
                     new_blocks, start_memhpd, wait_online)
from kernelvm import (check_dmesg_clean, check_memhpd_accounting, check_patched,  # noqa: E402
                      memmap_attrs, param)

CONF = """[policy]
movable_ratio = none
memmap = {memmap}

[rule virtio]
type = virtio-mem
zone = movable
"""


def dimm(g, did, want):
    before = g.blocks()
    g.add_dimm(did, "1G")
    nums = new_blocks(g, before, 8)
    wait_online(g, nums)
    per_block = g.block_size() // 4096 * 64 // 4096
    attrs = memmap_attrs(g)
    pages = per_block if want == "on-memory" else 0
    check_eq({n: attrs[n] for n in nums}, {n: pages for n in nums},
             f"{did}: memoryN/memmap_on_memory")
    lj = check_list_matches_kernel(g)
    d = device_of(lj, nums)
    check_eq((d["type"], d["memmap"], d["memmap_evidence"]), ("acpi-dimm", want, "kernel-attr"),
             f"{did}: memhpctl type, memmap, evidence")
    check_eq(d["memmap_on_device_bytes"], 8 * pages * 4096, f"{did}: memmap bytes on device")
    total = check_memhpd_accounting(g, lj)
    log(f"{did}: {d['id']} {want} ({d['memmap_evidence']}); {total} memmap pages on memory "
        "in all, memhpd == kernel")


def scenario():
    with Guest(name="kernel-memhpd", kernel="patched", mem="2G", memmap_on_memory=False,
               virtio_mem=[("vm0", "2G", 0)]) as g:
        check_patched(g)
        check_eq(param(g), "N", "memmap_on_memory at boot")
        start_memhpd(g, CONF.format(memmap="on-memory"))
        g.wait_until(lambda: param(g) == "Y", 20, "memhpd to set memmap_on_memory=Y")
        g.run(f"grep -q 'memmap_on_memory set to Y' {MEMHPD_LOG}")
        dimm(g, "dimm-on", "on-memory")

        g.write_file("/etc/memhpd/memhpd.conf", CONF.format(memmap="ram"))
        g.run("kill -HUP $(pidof memhpd)")
        g.wait_until(lambda: param(g) == "N", 20, "memhpd to set memmap_on_memory=N on reload")
        dimm(g, "dimm-ram", "ram")

        before = g.blocks()
        g.virtio_mem_resize("vm0", "1G")
        nums = new_blocks(g, before, 8)
        wait_online(g, nums)
        attrs = memmap_attrs(g)
        check_eq({n: attrs[n] for n in nums}, {n: 0 for n in nums},
                 "virtio-mem blocks: memoryN/memmap_on_memory")
        lj = check_list_matches_kernel(g)
        d = device_of(lj, nums)
        check_eq((d["type"], d["memmap"], d["memmap_evidence"], d["memmap_on_device_bytes"]),
                 ("virtio-mem", "ram", "kernel-attr", 0), "virtio-mem: memhpctl memmap")
        total = check_memhpd_accounting(g, lj)
        log(f"virtio-mem: 8 blocks report 0; memhpd accounts {total} pages on memory in all")
        check_eq(param(g), "N", "memmap_on_memory after the virtio-mem resize")
        check_dmesg_clean(g, "after two DIMMs and virtio-mem")


main_scenario(scenario, "kernel-memhpd")
