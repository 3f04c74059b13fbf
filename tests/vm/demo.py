#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""memhpd's demo in a real kernel (run by scripts/demo; python3 standard library only).

Boots the vm suite's guest (Debian 6.12, TCG unless KVM really works here), starts the freshly
built memhpd with the shipped conf/memhpd.conf plus one drop-in that hands NVDIMM dax devices
to kmem as system RAM with their memmap on the NVDIMM, then hot-adds a 1 GiB DIMM, a 1 GiB
NVDIMM (made a devdax namespace with ndctl in the guest) and grows a virtio-mem device by
1 GiB. After each step it shows `memhpctl list`, `memhpctl explain <device>` and memhpd's new
log lines from the guest, and says in two lines what memhpd decided and why (from memhpd's own
record, `memhpctl --json status`). Then the guest powers off.

Usage: tests/vm/demo.py [--reason-file FILE]

Exit status: 0 done; 77 the guest could not be started here (QEMU cannot run, the assets cannot
be had), with the reason in one line on stdout and in FILE; 1 something failed after the guest
booted (the error and the end of the guest's memhpd log are printed).
"""

import argparse
import json
import os
import re
import sys
import textwrap
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import SKIP, SRCROOT, Guest, Skip, VMError, log  # noqa: E402
from vmcheck import MEMHPD_LOG, start_memhpd  # noqa: E402

DROPIN = "/etc/memhpd/memhpd.conf.d/50-demo.conf"
DROPIN_TEXT = """\
# scripts/demo: an NVDIMM namespace in devdax mode becomes system RAM (kmem),
# with its memmap (struct pages) on the NVDIMM itself instead of in DRAM.
[rule demo-pmem-as-ram]
type = dax
dax_mode = system-ram
memmap = on-memory
"""
BOLD, PLAIN = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")


def say(msg):
    print(f"\n{BOLD}==> {msg}{PLAIN}", flush=True)


def tell(text):
    """Narration: wrapped to 100 columns, marked so it stands out from command output."""
    for i, line in enumerate(textwrap.wrap(text, 96, break_on_hyphens=False)):
        print(("  * " if i == 0 else "    ") + line)
    sys.stdout.flush()


def show(g, cmd):
    """Run cmd in the guest and print it the way a terminal would."""
    r = g.run(cmd, check=False)
    print(f"guest# {cmd}")
    for s in (r.out, r.err):
        if s.strip():
            print(s.rstrip())
    if r.rc != 0:
        print(f"(exit status {r.rc})")
    sys.stdout.flush()
    return r


def qemu_error(console_log):
    """QEMU's first error message in the console log, if QEMU said why it stopped."""
    try:
        with open(console_log or "", errors="replace") as f:
            for line in f:
                if line.startswith("qemu-system") and ": info: " not in line:
                    return line.split(": ", 1)[-1].strip()
    except OSError:
        pass
    return None


class Demo:
    def __init__(self, g):
        self.g = g
        self.log_seen = 0

    def devices(self):
        r = self.g.run("memhpctl --json list", check=False)
        if r.rc not in (0, 64):
            raise VMError(f"memhpctl --json list exited {r.rc}: {r.err.strip()}")
        return {d["id"]: d for d in json.loads(r.out)["devices"]}

    def record(self, dev):
        """memhpd's record of what it decided for dev (memhpctl status), or None."""
        r = self.g.run("memhpctl --json status", check=False)
        if r.rc != 0:
            return None
        for d in json.loads(r.out)["status"]["devices"]["devices"]:
            if d["id"] == dev:
                return d
        return None

    def new_device(self, before, dtype, timeout):
        """Wait until memhpd has recorded applying its decision to every block of a device of
        dtype not in before (failures included: the narration reports them); returns (list
        entry, status record)."""
        def done():
            for did, d in self.devices().items():
                if did in before or d["type"] != dtype or d["blocks"] == 0:
                    continue
                rec = self.record(did)
                if rec and rec.get("applied_at") and \
                        rec["onlined"] + rec["by_other"] + rec["failed"] >= d["blocks"]:
                    return self.devices()[did], rec
            return None
        return self.g.wait_until(done, timeout, f"memhpd to online the new {dtype} device")

    def new_log(self):
        lines = self.g.out(f"cat {MEMHPD_LOG}").splitlines()
        new, self.log_seen = lines[self.log_seen:], len(lines)
        return new

    def report(self, d, rec, seconds):
        """list, explain, memhpd's log lines, then two lines of narration."""
        g = self.g
        show(g, "memhpctl list")
        show(g, f"memhpctl explain {d['id']}")
        print(f"guest# cat {MEMHPD_LOG}   # the new lines")
        for line in self.new_log():
            print(line)
        print()
        tell(decision_line(d, rec, seconds))
        tell(why_line(rec))


def human(n):
    m = n >> 20
    return f"{m >> 10} GiB" if m and m % 1024 == 0 else f"{m} MiB"


def decision_line(d, rec, seconds):
    """What memhpd did with the device, in one sentence."""
    where = "on the device itself" if rec["memmap"] == "on-memory" else "in RAM"
    mm = d["memmap_on_device_bytes"] or d["memmap_in_ram_bytes"]
    did = f"switched {d['id']} from devdax to system RAM (kmem) and " if d["type"] == "dax" else ""
    failed = f", {rec['failed']} FAILED" if rec["failed"] else ""
    return (f"memhpd {did}onlined {rec['onlined']} of {d['blocks']} blocks of {d['id']} "
            f"({d['type']}, {human(d['size'])}) into the {rec['zone']} zone ({d['zone']}){failed}, "
            f"memmap {where} ({human(mm)}), {seconds:.1f} s after the hot-add.")


def why_line(rec):
    """memhpd's recorded reasons, shortened: the rule, the zone, the memmap, the ratio guard."""
    why = []
    for r in rec["reasons"]:
        m = re.match(r"rule '([^']+)' \((?:.*/)?([^/)]+)\) matches", r)
        if m:
            why.append(f"rule '{m.group(1)}' ({m.group(2)}) matches")
        elif r.startswith("zone ") or r.startswith("memmap "):
            why.append(r)
        else:
            m = re.search(r"= (\d+%) <= (\d+%) limit", r)
            if m:
                why.append(f"ratio guard: movable:kernel {m.group(1)} <= {m.group(2)}")
    return "Why: " + "; ".join(why or rec["reasons"]) + "."


def dimm(demo):
    g = demo.g
    say("Step 1/3: the hypervisor hot-adds a 1 GiB DIMM "
        "(QMP object-add memory-backend-ram + device_add pc-dimm).")
    before = demo.devices()
    t = time.monotonic()
    g.add_dimm("dimm0", "1G")
    d, rec = demo.new_device(before, "acpi-dimm", 90)
    demo.report(d, rec, time.monotonic() - t)


def nvdimm(demo):
    g = demo.g
    say("Step 2/3: a 1 GiB NVDIMM is hot-added (QMP object-add memory-backend-file + "
        "device_add nvdimm); the admin makes it a devdax namespace.")
    before = demo.devices()
    t = time.monotonic()
    g.add_nvdimm("nv0", "1G")
    ns = g.wait_until(lambda: g.out(
        "for n in /sys/bus/nd/devices/namespace*; do [ -e $n/size ] && "
        "[ $(cat $n/size) != 0 ] && [ ! -e $n/dax ] && echo ${n##*/}; done; true").split(), 60,
        "the NVDIMM's namespace")[0]
    cmd = f"ndctl create-namespace -f -e {ns} -m devdax"
    r = g.run(cmd, check=False)
    print(f"guest# {cmd}")
    try:
        j = json.loads(r.out)
        dax = [x["chardev"] for x in j.get("daxregion", {}).get("devices", [])]
        print(f"(ndctl: {j['dev']} mode {j['mode']}, {j['size'] >> 20} MiB, "
              f"dax device {', '.join(dax) or '?'})")
    except (ValueError, KeyError):
        print(r.out.rstrip())
    if r.rc != 0:
        raise VMError(f"{cmd} failed ({r.rc}): {r.err.strip()}")
    d, rec = demo.new_device(before, "dax", 90)
    demo.report(d, rec, time.monotonic() - t)


def virtio_mem(demo):
    g = demo.g
    say("Step 3/3: the hypervisor grows virtio-mem device vm0 from 0 to 1 GiB "
        "(QMP qom-set vm0 requested-size).")
    before = demo.devices()
    t = time.monotonic()
    g.virtio_mem_resize("vm0", "1G")
    d, rec = demo.new_device(before, "virtio-mem", 90)
    demo.report(d, rec, time.monotonic() - t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reason-file", help="write why the guest cannot run here to this file")
    a = ap.parse_args()
    t0 = time.monotonic()
    g = Guest(name="demo", mem="2G", virtio_mem=[("vm0", "2G", 0)])
    say("Booting a Debian 6.12 guest in QEMU (2 GiB RAM, room for 32 GiB of hot-plug, a "
        "virtio-mem device of size 0); memory hot-plug happens in the guest only.")
    try:
        g.start()
    except (Skip, VMError, OSError) as e:
        g.stop()
        why = (str(e).strip().splitlines() or [type(e).__name__])[0]
        qerr = qemu_error(g.console_log)
        if qerr:
            why = f"QEMU stopped: {qerr}"
        print(f"demo: the guest did not start: {why}", flush=True)
        if a.reason_file:
            with open(a.reason_file, "w") as f:
                f.write(why + "\n")
        return SKIP
    try:
        print(f"(kernel {g.kernel_release}, {g.accel.upper()}, ready in {g.boot_seconds:.1f} s;"
              f" console log: {g.console_log})")
        say("Starting memhpd in the guest with the shipped conf/memhpd.conf and one drop-in:")
        g.write_file(DROPIN, DROPIN_TEXT)
        print(f"guest# cat {DROPIN}")
        print(DROPIN_TEXT.rstrip())
        with open(os.path.join(SRCROOT, "conf", "memhpd.conf")) as f:
            start_memhpd(g, f.read())
        show(g, "memhpctl check-config")
        show(g, "memhpctl list")
        demo = Demo(g)
        for line in demo.new_log():
            print(line)
        tell("Only boot memory so far; the kernel was booted with memhp_default_state=offline "
             "and memory_hotplug.memmap_on_memory=1, so hot-added blocks wait for memhpd.")
        dimm(demo)
        nvdimm(demo)
        virtio_mem(demo)
        say("Powering the guest off.")
    except (VMError, AssertionError, ValueError, KeyError) as e:
        print(f"\ndemo: FAILED in the guest: {type(e).__name__}: {e}", flush=True)
        try:
            tail = g.run(f"tail -n 30 {MEMHPD_LOG}", timeout=15, check=False).out
        except (VMError, OSError) as e2:
            tail = f"(cannot read it: {e2})\n"
        print(f"--- {MEMHPD_LOG} (last lines)\n{tail}", flush=True)
        return 1
    finally:
        g.stop()
    print(f"(guest powered off; the VM part took {time.monotonic() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
