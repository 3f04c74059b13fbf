#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The harness boots a guest again when its kernel dies before init under TCG (qemu.py,
TCG_EARLY_PANIC_RETRIES), and gives up after that many retries. A missing init makes every
boot die the same way; under KVM there is no retry at all."""

import glob
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from qemu import Guest, VMError, build_dir, log, main_scenario  # noqa: E402
from vmcheck import check, check_eq  # noqa: E402


def scenario():
    # earlier runs' retried boots must not count as this run's
    for old in glob.glob(os.path.join(build_dir(), "vm-logs", "boot-retry.boot*.console.log")):
        os.unlink(old)
    g = Guest(name="boot-retry", append="rdinit=/nonexistent init=/nonexistent",
              boot_timeout=60)
    raised = None
    try:
        g.start()
    except VMError as e:
        raised = e
    finally:
        g.stop()
    check(raised is not None, "a guest without init booted")
    kept = sorted(glob.glob(g.console_log.replace(".console.log", ".boot*.console.log")))
    retries = 2 if g.accel == "tcg" else 0  # qemu.py's TCG_EARLY_PANIC_RETRIES
    log(f"{g.accel}: gave up with {raised}; kept {len(kept)} earlier boot log(s)")
    check_eq(len(kept), retries, "console logs of the boots retried")
    for path in kept + [g.console_log]:
        with open(path) as f:
            check("Kernel panic" in f.read(), f"{path} shows the kernel panic")
        if path != g.console_log:
            os.unlink(path)


main_scenario(scenario, "boot-retry")
