#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Competing onliners. Booted with auto-online on (memhp_default_state=online, like Debian's
6.12 default): memhpd's default kernel_auto_online = set-offline takes over and onlines a DIMM
per its policy. With kernel_auto_online = warn the kernel onlines the next DIMM itself and
memhpd reports it without fighting. A distro-style udev rule that onlines blocks races memhpd:
every block ends online, and memhpd accounts for the ones someone else onlined."""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from qemu import Guest, VMError, log, main_scenario  # noqa: E402
from vmcheck import (MEMHPD_LOG, check, check_eq, check_list_matches_kernel,  # noqa: E402
                     device_of, memhpd_state, new_blocks, rx, start_memhpd, stop_memhpd,
                     wait_online)

AOB = "/sys/devices/system/memory/auto_online_blocks"
UDEV_RULE = ('SUBSYSTEM=="memory", ACTION=="add", ATTR{state}=="offline", '
             'ATTR{state}="online"\n')


def add(g, did):
    before = g.blocks()
    g.add_dimm(did, "1G")
    nums = new_blocks(g, before, 8)
    return nums, wait_online(g, nums)


def state_dev(g, did):
    for d in memhpd_state(g)["devices"]:
        if d["id"] == did:
            return d
    return None


def log_has(g, pattern, timeout=20):
    """memhpd's log once it matches pattern: the control socket can be up before the line is
    written (seen under load), so wait for it with a deadline; the log as it is after that."""
    def found():
        t = g.out(f"cat {MEMHPD_LOG}")
        return t if re.search(pattern, t, re.I) else None
    try:
        return g.wait_until(found, timeout, f"/{pattern}/ in {MEMHPD_LOG}")
    except VMError:
        return g.out(f"cat {MEMHPD_LOG}")


def scenario():
    with Guest(name="competing-onliner", mem="2G", auto_online=True) as g:
        check_eq(g.out(f"cat {AOB}").strip(), "online", "auto_online_blocks at boot")
        start_memhpd(g, "[policy]\nmovable_ratio = none\n")
        g.wait_until(lambda: g.out(f"cat {AOB}").strip() == "offline", 20,
                     "memhpd to set auto_online_blocks offline")
        rx(r"auto.?online", log_has(g, r"auto.?online"), "memhpd log about auto-online")
        nums, bl = add(g, "dimm0")
        for n in nums:
            check_eq(bl[n]["zones"], ["Movable"], f"memory{n} zone (memhpd's choice)")
        d0 = device_of(check_list_matches_kernel(g), nums)

        # warn: the kernel onlines by itself, memhpd reports and leaves it alone
        stop_memhpd(g)
        g.run(f"echo online > {AOB}")
        start_memhpd(g, "[daemon]\nkernel_auto_online = warn\n[policy]\nmovable_ratio = none\n")
        check_eq(g.out(f"cat {AOB}").strip(), "online", "auto_online_blocks with warn")
        rx(r"auto.?online", log_has(g, r"auto.?online"), "memhpd warning about auto-online")
        nums, bl = add(g, "dimm1")
        kzones = {bl[n]["zones"][0] for n in nums}
        log(f"kernel auto-onlined dimm1 into {sorted(kzones)}")
        d1 = device_of(check_list_matches_kernel(g), nums)
        sd = g.wait_until(lambda: state_dev(g, d1["id"]), 30, f"{d1['id']} in state.json")
        log(f"memhpd on {d1['id']}: decision {sd['decision']}, by_other {sd['by_other']}, "
            f"onlined {sd['onlined']}; reasons {sd['reasons']}")
        check_eq(sd["onlined"], 0, f"blocks memhpd onlined on {d1['id']}")
        bl = g.blocks()
        check_eq({bl[n]["zones"][0] for n in nums}, kzones, "zones after memhpd saw dimm1")

        # a udev rule races memhpd
        stop_memhpd(g)
        g.run(f"echo offline > {AOB}")
        g.write_file("/etc/udev/rules.d/40-memory-online.rules", UDEV_RULE)
        g.run("udevadm control --reload")
        start_memhpd(g, "[policy]\nmovable_ratio = none\n")
        nums, bl = add(g, "dimm2")
        d2 = device_of(check_list_matches_kernel(g), nums)
        sd = g.wait_until(lambda: state_dev(g, d2["id"]), 30, f"{d2['id']} in state.json")
        log(f"memhpd on {d2['id']} with a udev onliner: decision {sd['decision']}, "
            f"by_other {sd['by_other']}, onlined {sd['onlined']}; zones "
            f"{sorted({bl[n]['zones'][0] for n in nums})}")
        check_eq(sd["onlined"] + sd["by_other"], 8, f"{d2['id']} onlined + by_other")
        st = memhpd_state(g)
        check(st["counters"]["blocks_offlined"] == 0, "memhpd offlined blocks to fight back")
        check(d0["id"] != d1["id"] != d2["id"], "three devices")


main_scenario(scenario, "competing-onliner")
