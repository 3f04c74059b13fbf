#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hot-remove. A movable DIMM: `memhpctl offline` then device_del completes and its blocks go.
A DIMM onlined into the kernel zone (the only ZONE_NORMAL of this guest, so kernel allocations
land on it): offlining fails within its timeout with a clear message and device_del does not
complete, which the harness reports instead of hanging."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from qemu import Guest, log, main_scenario  # noqa: E402
from vmcheck import (check, check_eq, check_list_matches_kernel, device_of,  # noqa: E402
                     list_json, new_blocks, start_memhpd, wait_online)

CONF = """[policy]
movable_ratio = none

[rule pinned]
type = acpi-dimm
size = 512M
zone = kernel
"""


def add(g, did, size):
    before = g.blocks()
    g.add_dimm(did, size)
    nums = new_blocks(g, before, (int(size[:-1]) << 20) // g.block_size())
    wait_online(g, nums)
    return nums, device_of(list_json(g), nums)


def scenario():
    with Guest(name="hot-remove", mem="2G") as g:
        start_memhpd(g, CONF)
        nums, d = add(g, "dimm0", "1024M")
        check_eq(d["zone"], "Movable", f"{d['id']} zone")
        t = time.monotonic()
        r = g.run(f"memhpctl offline {d['id']} --timeout 60", check=False)
        check_eq(r.rc, 0, f"memhpctl offline {d['id']} ({r.out}{r.err})")
        bl = g.blocks()
        check(all(bl[n]["state"] == "offline" for n in nums),
              f"blocks of {d['id']} offline: {[bl[n]['state'] for n in nums]}")
        check(g.device_del("dimm0", timeout=60), "device_del dimm0: no DEVICE_DELETED in 60s")
        g.wait_until(lambda: not any(n in g.blocks() for n in nums), 30, "dimm0's blocks gone")
        log(f"dimm0: offline + device_del in {time.monotonic() - t:.1f}s")
        check_list_matches_kernel(g)

        nums, d = add(g, "dimm1", "512M")
        check_eq(d["zone"], "Normal", f"{d['id']} zone")
        # Kernel allocations now come from this DIMM: slab for dentries and inodes.
        g.run("mkdir /tmp/pin && cd /tmp/pin && seq 1 5000 | sed 's/^/d/' | xargs mkdir",
              timeout=120)
        t = time.monotonic()
        r = g.run(f"memhpctl offline {d['id']} --timeout 5", check=False, timeout=60)
        log(f"memhpctl offline {d['id']} -> {r.rc} in {time.monotonic() - t:.1f}s: "
            f"{(r.out + r.err).strip()}")
        check(r.rc != 0, f"offlining the pinned kernel-zone DIMM {d['id']} succeeded")
        check((r.out + r.err).strip() != "", "memhpctl offline failed without a message")
        check(time.monotonic() - t < 40, "memhpctl offline --timeout 5 took too long")
        g.run(f"memhpctl online {d['id']} --zone kernel >/dev/null 2>&1; true")
        t = time.monotonic()
        # The guest answers the eject request with an ACPI _OST failure (source 3 = eject);
        # wait for that rather than for a timeout, then make sure no DEVICE_DELETED follows.
        g.qmp("device_del", id="dimm1")
        ost = g._wait(lambda: next((e for e in g.events if e.get("event") == "ACPI_DEVICE_OST"
                                    and e["data"]["info"].get("device") == "dimm1"
                                    and e["data"]["info"].get("source") == 3
                                    and e["data"]["info"].get("status") != 0), None),
                      60, "ACPI _OST eject failure for dimm1")
        deleted = g.device_del_wait("dimm1", timeout=3)
        check(not deleted, "device_del of a DIMM pinned in the kernel zone completed")
        log(f"dimm1: eject refused by the guest after {time.monotonic() - t:.1f}s (as expected):"
            f" _OST status {ost['data']['info']['status']:#x}")
        bl = g.blocks()
        check(any(bl[n]["state"] == "online" for n in nums if n in bl),
              "the pinned DIMM has no online block left")


main_scenario(scenario, "hot-remove")
