#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Companion kernel series, patch 1/8: a hot-added memory block is visible in sysfs before the
kernel links it to its node, and reading its valid_zones in that window oopsed 6.12
(zone_for_pfn_range() with NUMA_NO_NODE dereferences NODE_DATA(-1); CI caught it once while the
harness polled sysfs). Here two loops (one per vCPU) read every memoryN/valid_zones while ACPI
DIMMs are added and virtio-mem plugs block by block (one add_memory() per block, so one window
per block), several rounds; the kernel log must stay clean.

The window is narrow, so on an unpatched kernel this fails only sometimes; it is the regression
test for the fix, not a proof. Skips (77) with the reason when no patched kernel build is cached
(see kernelvm.py)."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from qemu import Guest, log, main_scenario  # noqa: E402
from vmcheck import check, new_blocks  # noqa: E402
from kernelvm import check_dmesg_clean, check_patched  # noqa: E402

ROUNDS = 6


def reader(g, k):
    """Start loop k: read every block's valid_zones over and over, counting rounds; returns its
    pid. (A fixed list of future block names instead of the glob caught the oops less often.)"""
    return g.out(f"(i=0; while :; do cat /sys/devices/system/memory/memory*/valid_zones; "
                 f"i=$((i+1)); echo $i > /run/vz-reads.{k}; done >/dev/null 2>&1 </dev/null "
                 "& echo $!)").strip()


def scenario():
    with Guest(name="kernel-node-race", kernel="patched", mem="2G", slots=ROUNDS + 2,
               virtio_mem=[("vm0", "2G", 0)]) as g:
        check_patched(g)
        g.failure_dumps.append("dmesg | tail -n 60")
        pids = [reader(g, k) for k in range(2)]
        t = time.monotonic()
        for r in range(ROUNDS):
            before = g.blocks()
            g.add_dimm(f"dimm{r}", "4G")
            new_blocks(g, before, 32)
            g.virtio_mem_resize("vm0", "1G" if r % 2 == 0 else "0")
        reads = [int(x) for x in g.out("kill " + " ".join(pids) + "; cat /run/vz-reads.*")
                 .split()]
        check_dmesg_clean(g, f"after {sum(reads)} rounds of valid_zones reads during "
                          f"{ROUNDS} DIMM adds and virtio-mem resizes")
        check(len(reads) == 2 and min(reads) > 0, f"a valid_zones reader never finished a "
              f"round: {reads}")
        log(f"{ROUNDS} DIMM adds and virtio-mem resizes in {time.monotonic() - t:.1f}s while "
            f"valid_zones was read {sum(reads)} rounds: no oops")


main_scenario(scenario, "kernel-node-race")
