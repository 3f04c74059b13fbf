#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""scripts/bench, run small: every benchmark still runs and says what docs/performance.md
says it measures.

    test-bench-smoke.py            (env MEMHP_BUILD: the build directory;
                                    MEMHP_BENCH_SMOKE_KEEP=DIR keeps the output)
    test-bench-smoke.py --check DIR   the checks alone, on a kept output

Runs `scripts/bench --no-build --runs 1 --sizes 256 --vm-sizes 1G` with its trees and
results in a temporary directory and checks the result rows (results.jsonl and the
summary table), never a time: benchmarks are not tests, and this machine is shared.
What it checks is what the benchmarks must keep showing:

  - every row of the scale benchmark is there, with a reference measured in the same
    run (lsmem for list, the library floor for RSS, the 256-block cost for per-event);
  - the coldplug onlined blocks, and the idle daemon answered on its control socket;
  - the umockdev storm lost nothing (the issue's "none is lost");
  - in a guest: 32 GiB hot-added into 2 GiB costs the kernel zones about 512 MiB with
    the memmap in RAM and next to nothing with memmap_on_memory, memhpd's list and
    state file say which, and the hot-add latency rows name all three onliners.

A part whose prerequisite is missing (umockdev, QEMU) must be reported as skipped by
scripts/bench, saying why; the test then checks the rest.  Exit 77 only when nothing
could run (no lsmem, or no python3 for the benchmarks).
"""

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

SRC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SKIP = 77
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}", flush=True)
    return cond


def rows_of(rows, bench, prefix):
    return [r for r in rows if r["bench"] == bench and r["metric"].startswith(prefix)]


def one(rows, bench, prefix):
    found = rows_of(rows, bench, prefix)
    check(len(found) == 1, f"{bench}: one row starting {prefix!r}, found {len(found)}")
    return found[0] if found else None


def finite(v):
    return isinstance(v, (int, float)) and math.isfinite(v)


def check_scale(rows):
    r = one(rows, "scale", "list --json, 256 blocks")
    if r:
        check(finite(r["value"]) and r["value"] > 0, f"list: time {r['value']!r}")
        check((r["ref"] or "").startswith("lsmem "), f"list: no lsmem reference ({r['ref']!r})")
        check(finite(r["data"].get("ratio")) and r["data"]["ratio"] > 0,
              f"list: ratio to lsmem {r['data'].get('ratio')!r}")
    r = one(rows, "scale", "--once coldplug, 256 blocks")
    if r:
        d = r["data"]
        check(d.get("offline_before", 0) > 0, f"coldplug: the tree had no offline block ({d})")
        check(0 < d.get("onlined", 0) <= d.get("offline_before", 0),
              f"coldplug: onlined {d.get('onlined')} of {d.get('offline_before')} offline")
    r = one(rows, "scale", "--once coldplug without the emulated stores, 256 blocks")
    if r:
        check(finite(r["data"].get("emulated")) and r["data"]["emulated"] > 0,
              "coldplug: no time measured in the fake kernel's stores")
        check((r["ref"] or "").startswith("naive-online "), "coldplug: no naive-online reference")
    r = one(rows, "scale", "--once peak RSS, 256 blocks")
    if r:
        check(finite(r["value"]) and r["value"] > 0, f"peak RSS {r['value']!r}")
    floor = one(rows, "scale", "idle VmRSS floor")
    r = one(rows, "scale", "daemon idle VmRSS, 256 blocks")
    if r and floor:
        check(r["data"].get("control_socket") is True, "idle daemon: no control socket")
        check(r["data"].get("above_floor_kib") == r["value"] - floor["value"],
              "idle daemon: above-floor figure does not match the two rows")
    return floor is not None


def check_per_event(rows, out):
    ev = rows_of(rows, "scale", "per-event daemon CPU")
    if not ev:
        check("per-event: SKIPPED" in out, "no per-event row, and scale did not say it skipped")
        return False
    r = one(rows, "scale", "per-event daemon CPU, 256 blocks")
    if r:
        check(finite(r["value"]) and r["value"] > 0, f"per-event CPU {r['value']!r}")
        check(r["data"].get("trickle_growth") == 1.0, "per-event: the reference size is not 1.0x")
        check(r["data"].get("lost") == 0, f"per-event run lost {r['data'].get('lost')!r}")
    return True


def check_storm(rows, out):
    st = rows_of(rows, "storm", "burst ")
    if not st:
        check("skipped: storm" in out, "no storm row, and scripts/bench did not say it skipped")
        return False
    r = one(rows, "storm", "burst ")
    if r:
        check(r["data"].get("lost") == 0, f"storm lost {r['data'].get('lost')!r} events/blocks")
        check(finite(r["value"]) and r["value"] > 0, f"storm rate {r['value']!r}")
    return True


def check_vm(rows, out):
    mm = rows_of(rows, "vm-memmap", "")
    hot = rows_of(rows, "vm-hotadd", "")
    if not mm and not hot:
        check("skipped: vm-hotadd" in out,
              "no guest rows, and scripts/bench did not say the VM part was skipped")
        return False
    by_param = {r["data"].get("param"): r for r in mm}
    check(sorted(by_param) == [0, 1], f"memmap rows for params {sorted(by_param)}, want [0, 1]")
    ram, dev = by_param.get(0), by_param.get(1)
    if ram:
        d = ram["data"]
        # 32 GiB of 4 KiB pages at 64 bytes per struct page is 512 MiB of memmap
        check(d.get("kernel_free_mib", 0) <= -384,
              f"memmap in RAM: kernel zones lost only {d.get('kernel_free_mib')} MiB")
        check(d.get("memmap_list") == "ram" and d.get("memmap_state") == "ram",
              f"memmap_on_memory=0: list says {d.get('memmap_list')!r}, state file "
              f"{d.get('memmap_state')!r}, want ram")
        check(d.get("decision") == "online", f"memmap_on_memory=0: decision {d.get('decision')!r}")
    if dev:
        d = dev["data"]
        check(abs(d.get("kernel_free_mib", 1e9)) < 128,
              f"memmap on the memory: kernel zones changed by {d.get('kernel_free_mib')} MiB")
        check(d.get("memmap_list") == "on-memory" and d.get("memmap_state") == "on-memory",
              f"memmap_on_memory=1: list says {d.get('memmap_list')!r}, state file "
              f"{d.get('memmap_state')!r}, want on-memory")
        check(d.get("decision") == "online", f"memmap_on_memory=1: decision {d.get('decision')!r}")
    methods = sorted(r["data"].get("method") for r in hot)
    check(methods == ["auto", "loop", "memhpd", "udev"], f"hot-add rows for {methods}")
    for r in hot:
        check(finite(r["data"].get("ratio")) and r["data"]["ratio"] > 0,
              f"hot-add {r['data'].get('method')}: ratio {r['data'].get('ratio')!r}")
        check((r["ref"] or "").startswith("auto "), "hot-add: no auto-online reference")
    return True


def check_out(outdir, out):
    """The checks, on a finished run's directory and its output."""
    res = os.path.join(outdir, "results.jsonl")
    rows = []
    if check(os.path.exists(res), "no results.jsonl"):
        with open(res) as f:
            for n, line in enumerate(f, 1):
                try:
                    rows.append(json.loads(line))
                except ValueError as e:
                    check(False, f"results.jsonl:{n}: not JSON ({e})")
    for r in rows:
        check(isinstance(r.get("data"), dict), f"row {r.get('metric')!r} has no data")
    summary = os.path.join(outdir, "summary.txt")
    if check(os.path.exists(summary), "no summary.txt"):
        with open(summary) as f:
            text = f.read()
        for r in rows:
            check(r["metric"] in text, f"summary.txt lacks the row {r['metric']!r}")
    ran = ["scale"] if check_scale(rows) else []
    if check_per_event(rows, out):
        ran.append("per-event")
    if check_storm(rows, out):
        ran.append("storm")
    if check_vm(rows, out):
        ran.append("vm")
    print(f"parts that ran: {', '.join(ran) or 'none'}; {len(rows)} result rows")


def main(argv):
    if len(argv) == 3 and argv[1] == "--check":
        # the checks alone, on the output of an earlier run (to try them on edited rows)
        with open(os.path.join(argv[2], "bench.log")) as f:
            check_out(argv[2], f.read())
        return 1 if failures else 0
    for tool in ("lsmem", "gcc"):
        if not shutil.which(tool):
            print(f"SKIP: {tool} is not installed (scripts/test installs it as root)")
            return SKIP
    build = os.environ.get("MEMHP_BUILD")
    if not build or not os.path.isdir(build):
        print("SKIP: MEMHP_BUILD does not name a build directory")
        return SKIP
    keep = os.environ.get("MEMHP_BENCH_SMOKE_KEEP")  # a directory to copy the output to
    with tempfile.TemporaryDirectory(prefix="memhp-bench-smoke-") as tmp:
        env = dict(os.environ, BUILD_DIR=build, MEMHP_BENCH_DIR=os.path.join(tmp, "trees"),
                   TMPDIR=tmp)
        outdir = os.path.join(tmp, "out")
        cmd = [os.path.join(SRC, "scripts", "bench"), "--no-build", "--runs", "1",
               "--sizes", "256", "--vm-sizes", "1G", "--out", outdir]
        print("running: " + " ".join(cmd), flush=True)
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=1500)
        sys.stdout.write(p.stdout)
        check(p.returncode == 0, f"scripts/bench exited {p.returncode}")
        os.makedirs(outdir, exist_ok=True)
        with open(os.path.join(outdir, "bench.log"), "w") as f:
            f.write(p.stdout)
        check_out(outdir, p.stdout)
        if keep:
            shutil.copytree(outdir, keep, dirs_exist_ok=True)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
