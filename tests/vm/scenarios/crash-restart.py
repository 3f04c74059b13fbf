#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Crash and restart: SIGKILL memhpd in the middle of an 8 GiB DIMM add (as soon as the first new
block is online, from inside the guest), start it again, and it converges: every block online
movable, memhpctl agreeing with the kernel, the device recorded in state.json."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from qemu import Guest, log, main_scenario  # noqa: E402
from vmcheck import (MEMHPD_LOG, check, check_eq, check_list_matches_kernel,  # noqa: E402
                     device_of, memhpd_state, new_blocks, start_memhpd, wait_online)

CONF = """[policy]
movable_ratio = none
"""

# Runs in the guest: wait for the first online block above $1, then SIGKILL memhpd at once and
# report how many blocks above $1 were online at that moment.
KILLER = r"""
top=$1
cd /sys/devices/system/memory
i=0
while :; do
  for s in memory*/state; do
    n=${s%/state}; n=${n#memory}
    if [ "$n" -gt "$top" ] && [ "$(cat $s)" = online ]; then
      kill -9 $(pidof memhpd)
      c=0; for t in memory*/state; do m=${t%/state}; m=${m#memory}
        [ "$m" -gt "$top" ] && [ "$(cat $t)" = online ] && c=$((c+1)); done
      echo "killed $c"; exit 0
    fi
  done
  i=$((i+1)); [ $i -gt 3000 ] && { echo timeout; exit 1; }
  usleep 10000
done
"""


def scenario():
    with Guest(name="crash-restart", mem="2G") as g:
        start_memhpd(g, CONF)
        before = g.blocks()
        nblocks = (8 << 30) // g.block_size()
        g.write_file("/tmp/killer.sh", KILLER, 0o755)
        g.run(f"(sh /tmp/killer.sh {max(before)} >/tmp/killer.out 2>&1 &)")
        t = time.monotonic()
        g.add_dimm("dimm0", "8G")
        nums = new_blocks(g, before, nblocks)
        g.wait_until(lambda: g.run("grep -q killed /tmp/killer.out", check=False).rc == 0, 60,
                     "memhpd killed mid-add")
        g.wait_until(lambda: g.run("pidof memhpd", check=False).rc != 0, 10, "memhpd gone")
        killed_at = int(g.out("cat /tmp/killer.out").split()[1])
        state = g.blocks()
        online = sum(1 for n in nums if state[n]["state"] == "online")
        log(f"memhpd killed with {killed_at} of {nblocks} blocks online "
            f"({online} online now, {time.monotonic() - t:.1f}s after device_add)")
        check(online < nblocks, "memhpd had already onlined everything: not a mid-add kill")
        g.run(f"mv {MEMHPD_LOG} {MEMHPD_LOG}.1")
        start_memhpd(g, CONF)
        bl = wait_online(g, nums, 60)
        log(f"converged {time.monotonic() - t:.1f}s after device_add")
        for n in nums:
            check_eq(bl[n]["zones"], ["Movable"], f"memory{n} zone")
        d = device_of(check_list_matches_kernel(g), nums)
        check_eq(d["online_blocks"], nblocks, f"{d['id']} online blocks")
        check_eq(d["memmap"], "on-memory", f"{d['id']} memmap")
        g.wait_until(lambda: any(x["id"] == d["id"] for x in memhpd_state(g)["devices"]), 30,
                     f"{d['id']} in state.json after the restart")
        check(g.run("pidof memhpd", check=False).rc == 0, "memhpd died after the restart")


main_scenario(scenario, "crash-restart")
