#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Crash safety: SIGKILL memhpd during a 1024-block coldplug, restart, converge.

    test-crash.py [--runs N] [--seed S] [--blocks-per-dimm B]

The machine: x86-64, 64 GiB boot RAM on node 0 and four ACPI DIMMs of
B (default 256) offline 128 MiB blocks each (1024 blocks), under the fake
kernel (tests/fakekernel).  A fault-free memhpd --once gives the reference:
its exit code, its fake-kernel log (one line per sysfs write) and memhpctl
list --json.

Then, N times (default 50), on a fresh copy of the machine, memhpd --once is
killed with SIGKILL at a random point, and restarted once without a kill.
The kill comes from the fault shim (faultinject.c) inside the process, by
raise(SIGKILL): alternately at a random call number (every open, read,
write, readdir, close ... it interposes, inside or outside the sysroot, so
also while writing the state file) and after a random delay.  A kill from
outside could land while the fake kernel, which runs inside memhpd, is half
way through emulating one sysfs store; a real store is never half done, and
the shim never kills inside one.  The RNG is seeded; the seed is printed and
--seed repeats a run exactly (call-number kills) or closely (delays).

After each kill:
  * the process died of SIGKILL (or finished first, which is counted);
  * the state file is absent (no pass finished) or parses as JSON with a
    devices list; no temporary file is taken for it;
and after the restart:
  * memhpd exits 0 and its state file parses;
  * memhpctl list --json equals the reference (every block online, in the
    reference zone, same memmap accounting): nothing missed;
  * in the fake kernel's log of both runs together every block was onlined
    (OK) exactly once, and writes refused because the block was online
    already (EINVAL) number at most one per kill: nothing done twice.

Environment (set by meson): MEMHPD, MEMHPCTL, FAKEKERNEL, FAULTINJECT,
MKFIXTURE.  Must run inside tests/protect (MEMHP_PROTECTED=1).
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rellib import diff as _diff, scratch_base  # noqa: E402


def diff(a, b):
    return _diff(a, b, names=("reference", "after the crash"))

MEM = "sys/devices/system/memory"
GiB = 1 << 30
BS = 128 << 20
BOOT_TOP = 16 * GiB  # boot RAM 1 MiB - 3 GiB and 4 - 16 GiB


FIRST = 64  # blocks of the DIMM that an earlier pass onlined (state file present)


def build_machine(mkfixture, outdir, per_dimm):
    """Boot RAM up to BOOT_TOP, a FIRST-block DIMM, then four DIMMs of per_dimm blocks."""
    sys.path.insert(0, os.path.dirname(mkfixture))
    import machines as M   # noqa: E402 (the fixture generator's own modules)
    import mkfixture as F  # noqa: E402
    m = M.Machine("crash", "16 GiB boot RAM, five offline ACPI DIMMs", memmap_param="Y")
    m.lean = True
    m.node(0, range(4))
    M._x86_boot_4g(m, top=BOOT_TOP)
    m.acpi_dimm("PNP0C80:00", 0, BOOT_TOP, FIRST * BS, "o" * FIRST)
    for i in range(4):
        m.acpi_dimm("PNP0C80:%02x" % (i + 1), 0, BOOT_TOP + (FIRST + i * per_dimm) * BS,
                    per_dimm * BS, "o" * per_dimm)
    F.generate(m, outdir)
    first = BOOT_TOP // BS
    return first, first + FIRST, first + FIRST + 4 * per_dimm  # block numbers


def range_globs(lo, hi):
    """fnmatch patterns matching exactly the decimal numbers lo..hi (inclusive)."""
    if lo > hi:
        return []
    if len(str(lo)) < len(str(hi)):
        top = 10 ** len(str(lo)) - 1
        return range_globs(lo, top) + range_globs(top + 1, hi)
    if lo == hi:
        return [str(lo)]
    if lo // 10 == hi // 10:
        return ["%s[%d-%d]" % (str(lo // 10) if lo >= 10 else "", lo % 10, hi % 10)]
    out = []
    if lo % 10:
        out += range_globs(lo, lo // 10 * 10 + 9)
        lo = lo // 10 * 10 + 10
    tail = []
    if hi % 10 != 9:
        tail = range_globs(hi // 10 * 10, hi)
        hi = hi // 10 * 10 - 1
    if lo <= hi:
        out += [p + "[0-9]" for p in range_globs(lo // 10, hi // 10)]
    return out + tail


def hide_spec(lo, hi):
    """Fault spec lines making blocks lo..hi-1 vanish (ENOENT on every open)."""
    lines = []
    for g in range_globs(lo, hi - 1):
        lines += ["open %s/memory%s ENOENT" % (MEM, g), "open %s/memory%s/* ENOENT" % (MEM, g)]
    return lines


class Tree:
    """A sysroot copied once; reset() puts back the files a coldplug changes."""

    def __init__(self, template, path):
        self.template = template
        self.path = path
        shutil.copytree(template, path, symlinks=True)
        self.saved = None

    def learn(self):
        """After a reference run: remember which files it changed (and their old content)."""
        self.saved = {}
        self.new = []
        for dp, dns, fns in os.walk(self.path):
            for f in fns:
                p = os.path.join(dp, f)
                if os.path.islink(p):
                    continue
                rel = os.path.relpath(p, self.path)
                t = os.path.join(self.template, rel)
                if not os.path.exists(t):
                    self.new.append(rel)
                    continue
                with open(t, "rb") as a, open(p, "rb") as b:
                    old = a.read()
                    if old != b.read():
                        self.saved[rel] = old
        if not self.saved:
            raise RuntimeError("the reference run changed nothing in the sysroot")

    def capture(self):
        """The current content of every file a coldplug changes."""
        snap = {}
        for rel in list(self.saved) + self.new:
            p = os.path.join(self.path, rel)
            if os.path.exists(p):
                with open(p, "rb") as f:
                    snap[rel] = f.read()
        return snap

    def apply(self, snap):
        for rel, data in snap.items():
            with open(os.path.join(self.path, rel), "wb") as f:
                f.write(data)

    def reset(self):
        for rel, data in self.saved.items():
            with open(os.path.join(self.path, rel), "wb") as f:
                f.write(data)
        for rel in self.new:
            try:
                os.unlink(os.path.join(self.path, rel))
            except FileNotFoundError:
                pass


class Crash:
    def __init__(self, a):
        self.env = {}
        for v in ("MEMHPD", "MEMHPCTL", "FAKEKERNEL", "FAULTINJECT", "MKFIXTURE"):
            p = os.environ.get(v, "")
            if not p or not os.path.isfile(p):
                sys.exit("test-crash: %s not found (%r); build it first" % (v, p))
            self.env[v] = os.path.realpath(p)
        base = scratch_base(2 << 30)
        self.tmp = tempfile.mkdtemp(prefix="memhp-crash.", dir=base)
        self.a = a
        self.run_dir = os.path.join(self.tmp, "run")
        self.conf = os.path.join(self.tmp, "memhpd.conf")
        with open(self.conf, "w") as f:
            f.write("[daemon]\nstate_file = %s/state.json\ncontrol_socket = %s/control\n" %
                    (self.run_dir, self.run_dir))

    def memhpd(self, root, crash=None):
        env = dict(os.environ, MEMHP_FAKE_ROOT=root, MEMHP_FAULT_ROOT=root,
                   LD_PRELOAD=self.env["FAULTINJECT"] + ":" + self.env["FAKEKERNEL"])
        for k in ("MEMHP_FAULTS", "MEMHP_CRASH_AT_CALL", "MEMHP_CRASH_AFTER_US",
                  "MEMHP_CRASH_COUNT"):
            env.pop(k, None)
        env.update(crash or {})
        t0 = time.monotonic()
        p = subprocess.run([self.env["MEMHPD"], "--once", "--sysroot", root, "--config",
                            self.conf], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        return p.returncode, p.stderr.decode(errors="replace"), time.monotonic() - t0

    def listing(self, root):
        p = subprocess.run([self.env["MEMHPCTL"], "--sysroot", root, "list", "--json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise RuntimeError("memhpctl list --json: " + p.stderr.decode(errors="replace"))
        return json.loads(p.stdout)

    def state(self):
        """None if absent, else the parsed state file; raises ValueError if it does not parse."""
        f = os.path.join(self.run_dir, "state.json")
        if not os.path.exists(f):
            return None
        with open(f) as fh:
            st = json.load(fh)
        if not isinstance(st, dict) or not isinstance(st.get("devices"), list):
            raise ValueError("no devices list")
        return st

    def clean_run_dir(self):
        shutil.rmtree(self.run_dir, ignore_errors=True)
        os.makedirs(self.run_dir)

    def main(self):
        a = self.a
        tpl = os.path.join(self.tmp, "template")
        lo, mid, hi = build_machine(self.env["MKFIXTURE"], tpl, a.blocks_per_dimm)
        nblocks = hi - lo
        tree = Tree(tpl, os.path.join(self.tmp, "root"))
        root = tree.path
        log = os.path.join(root, ".fake-kernel.log")

        # reference: no kill; also learn how many calls a whole pass makes
        self.clean_run_dir()
        count = os.path.join(self.tmp, "calls")
        rc, err, ref_secs = self.memhpd(root, {"MEMHP_CRASH_COUNT": count})
        if rc != 0:
            raise RuntimeError("reference memhpd --once exited %s:\n%s" % (rc, err[-2000:]))
        ref_calls, ref_us, first_call, first_us = (int(x) for x in open(count).read().split())
        if not 0 < first_call < ref_calls or not 0 < first_us < ref_us:
            raise RuntimeError("reference: bad call count %s" % open(count).read())
        ref = self.listing(root)
        lines = open(log).read().splitlines()
        if len(lines) != nblocks or not all(ln.endswith(" OK") for ln in lines):
            raise RuntimeError("reference: %d kernel writes, expected %d OK" %
                               (len(lines), nblocks))
        online = [b for b in ref["blocks"] if b["state"] == "online"]
        print("reference: %d blocks onlined in %.2f s; %d interposed calls in %.3f s, the "
              "first sysfs store at call %d, %.3f s; %d of %d blocks online" %
              (nblocks, ref_secs, ref_calls, ref_us / 1e6, first_call, first_us / 1e6,
               len(online), len(ref["blocks"])))
        tree.learn()

        # an earlier pass: only the first DIMM was there (the others hidden by
        # the fault shim); it onlined that and wrote the state file
        tree.reset()
        self.clean_run_dir()
        spec = os.path.join(self.tmp, "hide")
        with open(spec, "w") as f:
            f.write("\n".join(hide_spec(mid, hi)) + "\n")
        rc, err, _ = self.memhpd(root, {"MEMHP_FAULTS": spec})
        first_state = open(os.path.join(self.run_dir, "state.json")).read() if rc == 0 else ""
        stage1 = tree.capture()
        n1 = sum(1 for ln in stage1.get(".fake-kernel.log", b"").decode().splitlines()
                 if ln.endswith(" OK"))
        if rc != 0 or n1 != mid - lo or not json.loads(first_state)["devices"]:
            raise RuntimeError("earlier pass: exit %s, %d blocks onlined, expected %d:\n%s" %
                               (rc, n1, mid - lo, err[-2000:]))
        # the rest after the earlier pass, uninterrupted: must end like the reference
        rc, err, _ = self.memhpd(root, {"MEMHP_CRASH_COUNT": count})
        if rc != 0 or self.listing(root) != ref:
            raise RuntimeError("the pass after the earlier one (exit %s) does not end like the "
                               "reference:\n%s" % (rc, err[-2000:]))
        prof = {False: [ref_calls, ref_us, first_call, first_us],
                True: [int(x) for x in open(count).read().split()]}
        print("earlier pass: PNP0C80:00 (%d blocks) onlined, state file written; runs 3-4 of "
              "every 4 start from there (%d blocks to go, %d calls), the others from nothing" %
              (n1, hi - mid, prof[True][0]))

        rng = random.Random(a.seed)
        print("seed %d (repeat with --seed %d)" % (a.seed, a.seed))
        failures = 0
        stats = {"killed": 0, "finished_first": 0, "state_absent": 0, "state_parsed": 0,
                 "refused_writes": 0, "by_other": 0, "onlined_before_kill": 0, "leftovers": 0}
        t_start = time.monotonic()
        for i in range(a.runs):
            tree.reset()
            self.clean_run_dir()
            later = i % 4 >= 2  # runs 3, 4, 7, 8, ...: after the earlier pass
            if later:
                tree.apply(stage1)
                with open(os.path.join(self.run_dir, "state.json"), "w") as f:
                    f.write(first_state)
            # Where to die: anywhere (mostly the scans: they make most calls),
            # while blocks are being onlined, or at the very end (state file).
            # (two draws per run whatever they are used for, so that a seed
            # gives the same call numbers however long the delays were)
            where = ("anywhere", "onlining", "onlining", "end")[int(rng.random() * 4)]
            u = rng.random()
            calls, us_all, calls1, us1 = prof[later]
            if i % 2 == 0:
                low = max({"anywhere": 1, "onlining": calls1, "end": calls - 40}[where], 1)
                point = low + int(u * (calls - low))
                crash = {"MEMHP_CRASH_AT_CALL": str(point)}
                what = "call %d/%d (%s)" % (point, calls, where)
            else:
                # delays scale with the machine's load: shortest whole pass seen so far
                low = {"anywhere": 0, "onlining": us1, "end": us_all * 0.95}[where]
                us = int(low + u * (us_all - low))
                crash = {"MEMHP_CRASH_AFTER_US": str(us)}
                what = "%.3f s (%s)" % (us / 1e6, where)
            crash["MEMHP_CRASH_COUNT"] = count
            if os.path.exists(count):
                os.unlink(count)
            bad = []
            rc, err1, _ = self.memhpd(root, crash)
            if rc == 0 and os.path.exists(count):
                c = [int(x) for x in open(count).read().split()]
                prof[later][1] = min(prof[later][1], c[1])
                prof[later][3] = min(prof[later][3], c[3])
            if rc == -9:
                stats["killed"] += 1
            elif rc == 0:
                stats["finished_first"] += 1
            else:
                bad.append("killed run ended with %s, not SIGKILL or 0" % rc)
            try:
                st = self.state()
                stats["state_absent" if st is None else "state_parsed"] += 1
                if later and st is None:
                    bad.append("the earlier pass's state file is gone after the kill")
            except ValueError as e:
                bad.append("state file after the kill does not parse: %s" % e)
            leftovers = [f for f in os.listdir(self.run_dir) if f not in ("state.json",)]
            before = open(log).read().splitlines() if os.path.exists(log) else []
            ok_before = sum(1 for ln in before if ln.endswith(" OK"))
            stats["onlined_before_kill"] += ok_before

            rc2, err2, _ = self.memhpd(root)
            left = [f for f in os.listdir(self.run_dir)
                    if f not in ("state.json", "control") and f not in leftovers]
            stats["leftovers"] += len(leftovers)
            if left:
                bad.append("files the restart left in the state directory: %s" % left)
            if rc2 != 0:
                bad.append("restarted memhpd --once exited %s: %s" % (rc2, err2[-1500:]))
            try:
                st = self.state()
                if st is None:
                    bad.append("no state file after the restart")
                else:
                    stats["by_other"] += sum(d.get("by_other", 0) for d in st["devices"])
            except ValueError as e:
                bad.append("state file after the restart does not parse: %s" % e)
            lines = open(log).read().splitlines() if os.path.exists(log) else []
            per_block = {}
            refused = 0
            for ln in lines:
                path, value, result = ln.rsplit(" ", 2)
                if not (path.startswith(MEM + "/memory") and path.endswith("/state")):
                    bad.append("unexpected kernel write: %s" % ln)
                    continue
                if result == "OK":
                    per_block[path] = per_block.get(path, 0) + 1
                elif result == "EINVAL" and value.startswith("online"):
                    refused += 1
                else:
                    bad.append("kernel write failed: %s" % ln)
            stats["refused_writes"] += refused
            twice = [p for p, n in per_block.items() if n > 1]
            if twice:
                bad.append("onlined twice: %s" % ", ".join(sorted(twice)[:5]))
            if len(per_block) != nblocks:
                bad.append("%d blocks onlined in total, expected %d" %
                           (len(per_block), nblocks))
            if refused > 1:
                bad.append("%d online writes refused (block online already), at most 1 "
                           "allowed per kill" % refused)
            got = self.listing(root)
            if got != ref:
                bad.append("memhpctl list --json differs from the reference: %s; %s" %
                           (diff(ref, got), block_diff(ref, got)))
            status = "FAIL" if bad else "ok  "
            print("%s run %2d: %s, kill at %s: %s, %d blocks onlined before it, restart exit %s" %
                  (status, i + 1, "after the earlier pass" if later else "from nothing", what,
                   "SIGKILL" if rc == -9 else "finished (%s)" % rc, ok_before, rc2))
            for b in bad:
                print("      " + b)
            if bad:
                failures += 1
        secs = time.monotonic() - t_start
        print("test-crash: %d/%d runs converged (seed %d): %d killed by SIGKILL, %d finished "
              "before the kill point; state file absent %d, parsed %d; %d blocks onlined "
              "before the kills, %d refused online writes; %d blocks reported as by_other "
              "after restarts; %d temporary files left by kills; %.1f s" %
              (a.runs - failures, a.runs, a.seed, stats["killed"], stats["finished_first"],
               stats["state_absent"], stats["state_parsed"], stats["onlined_before_kill"],
               stats["refused_writes"], stats["by_other"], stats["leftovers"], secs))
        return 1 if failures else 0


def block_diff(a, b):
    """Which block fields differ, how often, with an example."""
    count, example = {}, {}
    for x, y in zip(a.get("blocks", []), b.get("blocks", [])):
        for k in sorted(set(x) | set(y)):
            if x.get(k) != y.get(k):
                count[k] = count.get(k, 0) + 1
                example.setdefault(k, "%s: %r vs %r" % (x.get("name"), x.get(k), y.get(k)))
    return "; ".join("%s differs in %d blocks (%s)" % (k, n, example[k])
                     for k, n in count.items()) or "no block differs"


def main(argv):
    if os.environ.get("MEMHP_PROTECTED") != "1":
        sys.exit("test-crash: refusing to run outside tests/protect (MEMHP_PROTECTED=1)")
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--blocks-per-dimm", type=int, default=256)
    a = p.parse_args(argv)
    if a.seed is None:
        a.seed = int(os.environ.get("MEMHP_CRASH_SEED", "0")) or random.SystemRandom().randrange(
            1, 1 << 31)
    c = Crash(a)
    try:
        return c.main()
    finally:
        if os.environ.get("MEMHP_KEEP"):
            print("kept " + c.tmp)
        else:
            shutil.rmtree(c.tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
