#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Event storm: synthetic uevents through the real memhpd daemon (umockdev).

    bench/storm.py [--tree 1024] [--events 512] [--trickle 16] [--runs 5] [--summary FILE]

Reuses the umockdev suite's machinery (tests/umockdev/test_memhpd.py: the testbed, the Python
kernel answering memhpd's sysfs stores through libmemhp-umockdev.so, the paced uevent sender).
Per run, a fresh testbed holds a synthetic tree of --tree blocks (4 nodes) that memhpd --once
coldplugs under the fake kernel first (so the daemon starts on a settled machine; trees of
--one-daemon blocks or more live in /var/tmp, not /dev/shm, but memhpd's run directory with
its state file stays in /dev/shm like /run), and a fresh daemon runs
with the shipped defaults (batch 200 ms):

  trickle  --trickle single-block ACPI DIMMs, one at a time, each waited for until online and
           the daemon idle again: every add and every online uevent is a batch of its own, so
           daemon CPU per uevent here is what one batch costs at this tree size.
  burst    --events blocks in 64-block DIMMs emitted back to back: events/s from the first
           add to the last block online, daemon CPU per uevent, and none lost (every block
           online, memhpd logged every uevent the kernel sent, no scan errors).

Daemon CPU is the run time in /proc/PID/schedstat (ns); idle drift is shown, not subtracted.  The
emulated kernel is Python and the uevent path is a unix datagram socket with a 10-datagram
queue (umockdev), so events/s is a floor for the real thing: the daemon's own cost is the CPU
column.  Exit 77 when umockdev is missing.
"""

import argparse
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "umockdev"))
import benchlib as B  # noqa: E402



def coldplug_in_place(root):
    """memhpd --once under the fake kernel on the testbed's tree, before the daemon under test
    starts on it: the daemon then starts on a settled machine (everything the policy wants
    online is).  Not under umockdev: a clean environment with only the fake kernel."""
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "UMOCKDEV_DIR")}
    env.update(LD_PRELOAD=B.binary("fakekernel"), MEMHP_FAKE_ROOT=root)
    r = B.run_timed([B.binary("memhpd"), "--once", "--sysroot", root, "--log-level", "err"],
                    env=env)
    if r.rc != 0:
        raise SystemExit(f"coldplug of {root} failed ({r.rc}): {r.err.decode()[-500:]}")
    for x in ("run", ".fake-kernel.log"):
        p = os.path.join(root, x)
        if os.path.isdir(p):
            import shutil
            shutil.rmtree(p)
        elif os.path.exists(p):
            os.unlink(p)


BIG = False
KEEP = []  # umockdev Testbeds never finalized (their directories are already gone)


def reexec_under_umockdev():
    """Testbed.uevent() builds events with libudev in this process: it must run under
    umockdev-wrapper (as the umockdev suite does)."""
    with open("/proc/self/maps") as f:
        if "libumockdev-preload" in f.read():
            return
    if os.environ.get("MEMHP_STORM_REEXEC"):
        raise SystemExit("umockdev-wrapper did not preload libumockdev-preload.so.0")
    os.environ["MEMHP_STORM_REEXEC"] = "1"
    # the testbed (a copy of the tree) belongs in RAM like the tree itself, except a big one:
    # /dev/shm's inodes are shared with everyone (65,536 blocks are 810k files)
    os.environ.setdefault("TMPDIR", "/dev/shm" if not BIG else "/var/tmp")
    # the daemon's run directory stays in RAM, like /run: the state file is written and
    # fsync'ed after every batch, on ext4 a cost the small trees (in /dev/shm) would not pay
    os.environ.setdefault("MEMHP_RUNDIR_PARENT", "/dev/shm")
    sys.stdout.flush()
    py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    os.execvp("umockdev-wrapper", ["umockdev-wrapper", py] + sys.argv)


def quiet_harness(tm, verbose):
    """No per-line printing (it would be most of the cost), faster flow-control polling."""
    if not verbose:
        tm.say = lambda msg: None
        tm.print = lambda *a, **k: None  # Daemon._read echoes every daemon line
    orig = tm.wait_until

    def wait_until(pred, timeout, what, daemon=None):
        if what.startswith("memhpd to take uevents"):
            # the suite's 15 s is for a quiet machine; a busy shared one can stall the
            # daemon's batch (whose writes the Python kernel answers) longer than that
            timeout = max(timeout, 120)
        deadline = time.monotonic() + timeout
        while True:
            v = pred()
            if v:
                return v
            if daemon is not None and daemon.p.poll() is not None:
                raise tm.Fail("memhpd exited with status %s while waiting for %s" %
                              (daemon.p.returncode, what))
            if time.monotonic() > deadline:
                raise tm.Fail("timed out after %.1f s waiting for %s" % (timeout, what))
            time.sleep(0.002)
    tm.wait_until = wait_until
    return orig


class Run:
    def __init__(self, tm, UMockdev, tree, nblocks):
        self.tm = tm
        self.h = tm.Harness(UMockdev, "synthetic-%d" % nblocks, fixture_dir=tree)
        coldplug_in_place(self.h.root)
        self.next_index = nblocks + 64 - nblocks % 64
        self.next_uid = 0x1000
        self.d = None

    def start(self):
        self.d = self.h.start(timeout=600)
        self.pid = self.d.p.pid
        self.idle()

    def close(self):
        """Stop the daemon and the kernel; remove the testbed with rm -rf.  Freeing the
        Testbed would make umockdev delete it file by file (minutes for 810k files), so a
        reference is kept and the process leaves with os._exit (see main)."""
        if self.h:
            KEEP.append(self.h.tb)
            root = self.h.root
            self.h.close()
            import subprocess
            subprocess.run(["rm", "-rf", root])
        self.h = None

    def cpu(self):
        return B.proc_cpu(self.pid)

    def idle(self, quiet=0.5):
        """Until the kernel sent everything, memhpd logged every uevent, its batch timer
        (200 ms) has surely fired and its CPU time has not moved for `quiet` seconds."""
        h = self.h
        h.kernel.settle(60)
        self.tm.wait_until(lambda: h.nreceived >= h.kernel.emitted, 60,
                           "memhpd to log every uevent", self.d)
        last, since = self.cpu(), time.monotonic()
        deadline = since + 300
        while time.monotonic() < deadline:
            time.sleep(0.05)
            if not self.d.alive():
                raise self.tm.Fail("memhpd exited (%s)" % self.d.p.returncode)
            c = self.cpu()
            logq = time.monotonic() - (h.log[-1][0] if h.log else 0)
            if c != last:
                last, since = c, time.monotonic()
            elif time.monotonic() - since >= quiet and logq >= 0.3 and \
                    not h.kernel.events.unfinished_tasks:
                return
        raise self.tm.Fail("memhpd never went idle")

    def add(self, nblocks, emit=True):
        fw = "PNP0C80:%x" % self.next_uid
        self.next_uid += 1
        first = self.next_index
        self.next_index += max(nblocks, 64) if nblocks > 1 else 1
        self.h.kernel.add_dimm(fw, first, nblocks, node=0, emit=emit)
        return list(range(first, first + nblocks))

    def all_online(self, blocks):
        return all(self.h.block(i)[0] == "online" for i in blocks)

    def drift(self, seconds=1.0):
        c0, t0 = self.cpu(), time.monotonic()
        time.sleep(seconds)
        return (self.cpu() - c0) / (time.monotonic() - t0)

    def trickle(self, count, perf, perf_freq):
        h = self.h
        drift = self.drift()
        prof = start_perf(self.pid, perf, perf_freq) if perf else None
        c0, r0, t0 = self.cpu(), h.nreceived, time.monotonic()
        for _ in range(count):
            blocks = self.add(1)
            self.tm.wait_until(lambda: self.all_online(blocks), 60,
                               "memory%d online" % blocks[0], self.d)
            self.idle()
        if prof:
            stop_perf(prof, perf)
        # idle drift is reported, not subtracted: an idle memhpd should use no CPU at all
        cpu = self.cpu() - c0
        n = h.nreceived - r0
        return {"cpu": cpu, "uevents": n, "blocks": count, "drift": drift,
                "seconds": time.monotonic() - t0}

    def burst(self, count):
        h = self.h
        c0, r0 = self.cpu(), h.nreceived
        emitted0 = h.kernel.emitted
        blocks = []
        t0 = time.monotonic()
        left = count
        while left > 0:
            k = min(64, left)
            blocks += self.add(k)
            left -= k
        t_sent = time.monotonic()
        self.tm.wait_until(lambda: self.all_online(blocks), 600,
                           "%d blocks online" % len(blocks), self.d)
        t_done = time.monotonic()
        self.idle()
        cpu = self.cpu() - c0
        offline = [i for i in blocks if h.block(i)[0] != "online"]
        return {"cpu": cpu, "uevents": h.nreceived - r0, "blocks": count,
                "emitted": h.kernel.emitted - emitted0, "seconds": t_done - t0,
                "send_seconds": t_sent - t0, "offline": len(offline)}


def clean_env():
    """The environment without umockdev's preload, for tools we start (perf)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("UMOCKDEV_DIR", None)
    return env


def start_perf(pid, out, freq):
    import subprocess
    try:
        p = subprocess.Popen(["perf", "record", "-q", "-F", str(freq), "--call-graph", "dwarf,16384",
                              "-p", str(pid), "-o", out], env=clean_env(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError as e:
        print(f"perf not available: {e}")
        return None
    time.sleep(1.0)  # perf attaches
    return p


def stop_perf(p, out):
    import signal
    import subprocess
    p.send_signal(signal.SIGINT)
    p.wait(60)
    r = subprocess.run(["perf", "report", "-i", out, "--no-children", "--sort", "sym",
                        "--stdio", "-g", "none", "--percent-limit", "1.5"],
                       env=clean_env(), capture_output=True, text=True)
    top = [x for x in r.stdout.splitlines() if x.strip() and not x.startswith("#")][:20]
    r2 = subprocess.run(["perf", "report", "-i", out, "--children", "--sort", "sym",
                         "--stdio", "-g", "none", "--percent-limit", "3"],
                        env=clean_env(), capture_output=True, text=True)
    inc = [x for x in r2.stdout.splitlines() if x.strip() and not x.startswith("#")
           and "[.]" in x][:25]
    print("perf profile of the daemon during the trickle (self time, >= 1.5%):")
    print("\n".join("  " + x for x in top))
    print("inclusive (children), user-space symbols >= 3%:")
    print("\n".join("  " + x for x in inc), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", type=int, default=1024, help="blocks in the synthetic tree")
    ap.add_argument("--events", type=int, default=512, help="burst: blocks (add uevents)")
    ap.add_argument("--trickle", type=int, default=16, help="single-block adds one at a time")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--summary", help="write the summary as JSON to this file")
    ap.add_argument("--json", help="append result rows (JSON lines) to this file")
    ap.add_argument("--verbose", action="store_true", help="print the harness and daemon log")
    ap.add_argument("--perf", metavar="FILE",
                    help="perf record the daemon during the first run's trickle into FILE "
                         "and print the top functions")
    ap.add_argument("--perf-freq", type=int, default=2000, metavar="HZ",
                    help="perf's sampling rate (a 32-event trickle at 2000 Hz is about 90 "
                         "samples; raise it with a longer --trickle to see where a batch goes)")
    ap.add_argument("--one-daemon", type=int, default=16384, metavar="BLOCKS",
                    help="trees of at least BLOCKS blocks use one testbed and daemon for all "
                         "runs (copying and coldplugging 65k blocks per run costs minutes; "
                         "the burst grows the tree by --events blocks per run)")
    ap.add_argument("--raw", help=argparse.SUPPRESS)  # child: write its rows here
    a = ap.parse_args()
    B.be_nice()
    for var, name in (("MEMHPD", "memhpd"), ("MEMHPCTL", "memhpctl"),
                      ("MEMHP_UMOCKDEV_SHIM", "umockdev-shim")):
        os.environ.setdefault(var, B.binary(name))
    os.environ.setdefault("MEMHP_MKFIXTURE", os.path.join(B.SRCROOT, "tests/fixtures/mkfixture.py"))
    shared = a.tree >= a.one_daemon
    if not os.environ.get("MEMHP_STORM_REEXEC"):
        tree = B.ensure_tree(a.tree)  # before the re-exec: no umockdev in the way
        print(f"storm benchmark ({a.tree}-block tree, {a.trickle} trickle + {a.events} burst "
              f"blocks per run, {a.runs} runs): {B.machine_line()}", flush=True)
        if not a.raw and not shared and a.runs > 1:
            # one process per run: umockdev keeps per-process state about its testbed, and a
            # second Testbed in the same process does not get its uevents delivered
            return parent(a)
    global BIG
    BIG = shared
    reexec_under_umockdev()
    tree = B.ensure_tree(a.tree)
    import test_memhpd as tm
    UMockdev = tm.load_umockdev()  # exits 77 with the reason when missing
    quiet_harness(tm, a.verbose)
    rows = []
    if shared and a.runs > 1:
        print(f"one testbed and daemon for all runs: the tree grows from {a.tree} to "
              f"{a.tree + a.runs * (a.events + a.trickle)} blocks", flush=True)
    run = None
    for i in range(a.runs):
        try:
            t = time.monotonic()
            if run is None:
                run = Run(tm, UMockdev, tree, a.tree)
                run.start()
            t_ready = time.monotonic() - t
            tr = (run.trickle(a.trickle, a.perf if i == 0 else None, a.perf_freq)
                  if a.trickle else None)
            bu = run.burst(a.events) if a.events else None
            run.h.final_checks()
            st = run.h.status()
            errs = [line for _, _, line in run.h.log if ": err: " in line or ": crit: " in line]
            unlogged = max(0, run.h.kernel.emitted - run.h.nreceived)
            row = {"ready": t_ready, "trickle": tr, "burst": bu,
                   "lost": (bu["offline"] if bu else 0) + unlogged, "unlogged": unlogged,
                   "events_counter": st.get("counters", {}).get("events"),
                   "batches": st.get("counters", {}).get("batches"), "errors": errs[:5]}
            rows.append(row)
            print_run(i + 1, row, flush=True)
        except tm.Fail as e:
            print(f"run {i + 1}: FAILED: {e}", flush=True)
            if run:
                run.close()
            os._exit(1)
        if a.raw:
            with open(a.raw, "w") as f:
                json.dump(rows, f)
        if run and (not shared or i == a.runs - 1):
            run.close()
            run = None
    rc = 0 if a.raw else report(a, rows)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)  # no Testbed finalizer: its directory was removed with rm -rf


def print_run(n, row, flush=True):
    tr, bu = row["trickle"], row["burst"]
    msg = f"run {n}: daemon ready {row['ready']:.1f}s"
    if tr:
        msg += (f"; trickle {tr['uevents']} uevents, "
                f"{tr['cpu'] / max(tr['uevents'], 1) * 1e3:.2f} ms CPU/uevent")
    if bu:
        msg += (f"; burst {bu['blocks']} blocks online in {bu['seconds']:.2f}s "
                f"({bu['blocks'] / bu['seconds']:.0f} adds/s, {bu['uevents']} uevents, "
                f"{bu['cpu'] / max(bu['uevents'], 1) * 1e6:.0f} us CPU/uevent), "
                f"offline {bu['offline']}, unlogged {row['unlogged']}")
    if row["errors"]:
        msg += f"; {len(row['errors'])} error lines, first: {row['errors'][0]}"
    print(msg, flush=flush)


def parent(a):
    import subprocess
    import tempfile
    rows = []
    py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    for i in range(a.runs):
        with tempfile.NamedTemporaryFile("r", suffix=".json") as tf:
            cmd = [py, os.path.abspath(__file__), "--tree", str(a.tree), "--events",
                   str(a.events), "--trickle", str(a.trickle), "--runs", "1", "--raw", tf.name]
            if a.perf and i == 0:
                cmd += ["--perf", a.perf, "--perf-freq", str(a.perf_freq)]
            if a.verbose:
                cmd.append("--verbose")
            r = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
            out = [x for x in r.stdout.splitlines() if not x.startswith("storm benchmark")]
            if r.returncode == B.SKIP:
                print("\n".join(out))
                return B.SKIP
            try:
                got = json.load(tf)
            except ValueError:
                got = []
            if not got:
                print("\n".join(out))
                print(f"run {i + 1}: FAILED (exit {r.returncode})", flush=True)
                return 1
            # the run's own line says "run 1": renumber
            print("\n".join(re.sub(r"^run 1:", f"run {i + 1}:", x) for x in out), flush=True)
            rows += got
    return report(a, rows)


def report(a, rows):
    lost_total = sum(r["lost"] for r in rows)

    def st(key, f):
        return B.stats([f(r[key]) for r in rows if r[key]])
    s = {"tree": a.tree, "runs": len(rows), "lost": lost_total,
         "ready": B.stats([r["ready"] for r in rows])}
    if a.trickle:
        s["trickle_cpu_per_event"] = st("trickle", lambda t: t["cpu"] / max(t["uevents"], 1))
    if a.events:
        s["burst_cpu_per_event"] = st("burst", lambda b: b["cpu"] / max(b["uevents"], 1))
        s["burst_eps"] = st("burst", lambda b: b["blocks"] / b["seconds"])
        s["burst_uevents_per_s"] = st("burst", lambda b: b["uevents"] / b["seconds"])
        s["burst_seconds"] = st("burst", lambda b: b["seconds"])
    print(f"\n{a.tree}-block tree, medians of {len(rows)} runs (min-max):")
    if a.trickle:
        print(f"  trickle: daemon CPU per uevent (one batch each) "
              f"{B.fmt_stat(s['trickle_cpu_per_event'])}")
    if a.events:
        print(f"  burst of {a.events} blocks: {B.fmt_stat(s['burst_seconds'])} to all online, "
              f"{s['burst_eps']['median']:.0f} adds/s ({s['burst_eps']['min']:.0f}-"
              f"{s['burst_eps']['max']:.0f}); {s['burst_uevents_per_s']['median']:.0f} uevents/s "
              f"incl. the online uevents; daemon CPU per uevent "
              f"{B.fmt_stat(s['burst_cpu_per_event'])}")
    print(f"  lost: {lost_total} (blocks left offline + uevents sent but never logged by memhpd)",
          flush=True)
    if a.summary:
        with open(a.summary, "w") as f:
            json.dump(s, f)
    if a.json:
        res = B.Results(a.json)
        if a.events:
            res.add("storm", f"burst {a.events} block adds, {a.tree}-block tree",
                    s["burst_eps"]["median"], "adds/s",
                    note=f"{s['burst_uevents_per_s']['median']:.0f} uevents/s incl. online; "
                         f"daemon {s['burst_cpu_per_event']['median'] * 1e6:.0f} us CPU/uevent; "
                         f"lost {lost_total}",
                    data={"tree": a.tree, "events": a.events, "runs": len(rows),
                          "lost": lost_total})
        if a.trickle:
            res.add("storm", f"trickle (1 uevent per batch), {a.tree}-block tree",
                    s["trickle_cpu_per_event"]["median"], "s CPU/uevent",
                    data={"tree": a.tree, "trickle": a.trickle, "lost": lost_total})
    return 0 if lost_total == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
