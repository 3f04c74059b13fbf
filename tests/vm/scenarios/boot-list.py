#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boot a two-node guest: memhpctl list agrees with sysfs, lsmem and /proc/zoneinfo."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from qemu import Guest, log, main_scenario  # noqa: E402
from vmcheck import check, check_eq, check_list_matches_kernel, explain, rx  # noqa: E402


def scenario():
    with Guest(name="boot-list", mem="2G", nodes=["1G", "1G"]) as g:
        lj = check_list_matches_kernel(g)
        nodes = sorted(n["node"] for n in lj["nodes"])
        check_eq(nodes, [0, 1], "NUMA nodes")
        boot = [d for d in lj["devices"] if d["type"] == "boot"]
        check_eq(sorted(d["node"] for d in boot), [0, 1], "boot devices per node")
        for d in boot:
            check_eq(d["online_blocks"], d["blocks"], f"{d['id']} online blocks")
            check_eq(d["memmap"], "ram", f"{d['id']} memmap")
        check_eq(lj["totals"]["memmap_on_device_bytes"], 0, "memmap on devices at boot")
        text = g.out("memhpctl list")
        rx(r"^boot-node0\s+boot\s+0", text, "memhpctl list")
        rx(r"^boot-node1\s+boot\s+1", text, "memhpctl list")
        out = explain(g, boot[0]["id"])
        log(f"explain {boot[0]['id']}:\n{out}")
        check(g.run("memhpctl explain no-such-device", check=False).rc != 0,
              "explain of an unknown device must fail")


main_scenario(scenario, "boot-list")
