#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Scale on a sysroot: memhpctl list vs lsmem, memhpd --once coldplug, daemon RSS, and the
per-event cost as the tree grows (1k, 8k, 65k blocks of 128 MiB, 4 nodes, mixed states).

    bench/scale.py [--sizes 1024,8192,65536] [--runs 5] [--json FILE] [--no-events]

Trees are generated once into /dev/shm/memhp-bench (MEMHP_BENCH_DIR) and reused while the
fixture generator is unchanged.  The pristine trees are never written: coldplug runs work on a
copy whose touched files are restored between runs.  Everything runs at nice 10.

What is measured (medians of --runs runs, min-max, interleaved with the reference):
  list      memhpctl --sysroot T list --json  vs  lsmem --json --sysroot T (merged ranges, the
            default) and lsmem -a --json --sysroot T (one entry per block, like memhpctl's
            block list: the fair reference).  Output goes to /dev/null but is produced.
  coldplug  memhpd --once --sysroot T under the fake kernel (LD_PRELOAD
            libmemhp-fakekernel.so) onlining every offline block the policy wants online;
            baseline: the same command once everything is done (scan + decide, no writes),
            and that baseline without the fake kernel (its cost on reads).  The shim also
            reports the time it spent playing the kernel's stores (MEMHP_FAKE_TIMING); wall
            minus that is memhpd's own share, the time a real kernel would add its onlining to.  Reference:
            bench/naive-online.c under the same fake kernel, on the same pristine tree
            (every offline block written online_movable, nothing read back: what a udev
            rule does, the floor of onlining through the emulated kernel); the ratio is
            per block onlined, since memhpd's policy leaves some blocks offline.
  rss       peak RSS of the coldplug (getrusage ru_maxrss) and idle VmRSS of a running daemon
            (control socket and state file on, after READY=1 and the coldplug).  Reference:
            bench/rss-floor.c, a daemon that links the libraries memhpd must use (libsystemd,
            libudev, json-c, inih), starts them and idles: what memhpd adds is the difference.
  events    per-event daemon CPU through the umockdev harness (bench/storm.py), trickle (one
            event per batch: what one event costs) and burst (512 adds, batched).
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402

LIST_TARGET = 0.3       # memhpctl list <= 0.3x lsmem
COLDPLUG_TARGET = 1.0   # seconds at 65k
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
IDLE_RSS_TARGET = 3 * 1024  # KiB


def fake_env(root):
    env = dict(os.environ)
    env["LD_PRELOAD"] = B.binary("fakekernel")
    env["MEMHP_FAKE_ROOT"] = root
    return env


def bench_list(res, sizes, runs):
    memhpctl = B.binary("memhpctl")
    print("\n== memhpctl list --json vs lsmem --json (same tree, interleaved) ==")
    print(f"{'blocks':>7}  {'memhpctl list --json':<34} {'lsmem --json':<34} "
          f"{'lsmem -a --json':<34} {'ratio':>6} {'ratio -a':>8}")
    out = {}
    for n in sizes:
        t = B.ensure_tree(n)
        cmds = {"memhpctl": [memhpctl, "--sysroot", t, "list", "--json"],
                "lsmem": ["lsmem", "--json", "--sysroot", t],
                "lsmem-a": ["lsmem", "-a", "--json", "--sysroot", t]}
        samples = {k: [] for k in cmds}
        rss = {}
        for k, c in cmds.items():  # warm the dentry cache once
            r = B.run_timed(c)
            if r.rc not in (0, 64):
                raise SystemExit(f"{' '.join(c)} exited {r.rc}: {r.err.decode()[-500:]}")
        for _ in range(runs):
            for k, c in cmds.items():
                r = B.run_timed(c)
                samples[k].append(r.wall)
                rss[k] = max(rss.get(k, 0), r.maxrss_kib)
        st = {k: B.stats(v) for k, v in samples.items()}
        ratios = [a / b for a, b in zip(samples["memhpctl"], samples["lsmem"])]
        ratios_a = [a / b for a, b in zip(samples["memhpctl"], samples["lsmem-a"])]
        r1, r2 = B.stats(ratios), B.stats(ratios_a)
        print(f"{n:>7}  {B.fmt_stat(st['memhpctl']):<34} {B.fmt_stat(st['lsmem']):<34} "
              f"{B.fmt_stat(st['lsmem-a']):<34} {r1['median']:>5.2f}x {r2['median']:>7.2f}x")
        print(f"{'':>7}  peak RSS: memhpctl {B.fmt_kib(rss['memhpctl'])}, lsmem "
              f"{B.fmt_kib(rss['lsmem'])}, lsmem -a {B.fmt_kib(rss['lsmem-a'])}; "
              f"per-run ratio ranges {r1['min']:.2f}-{r1['max']:.2f}x, "
              f"{r2['min']:.2f}-{r2['max']:.2f}x")
        res.add("scale", f"list --json, {n} blocks", st["memhpctl"]["median"], "s",
                ref=f"lsmem {st['lsmem']['median']:.3f} s, lsmem -a "
                    f"{st['lsmem-a']['median']:.3f} s",
                target=f"<= {LIST_TARGET}x lsmem",
                note=f"{r1['median']:.2f}x lsmem ({r1['min']:.2f}-{r1['max']:.2f}), "
                     f"{r2['median']:.2f}x lsmem -a; RSS {B.fmt_kib(rss['memhpctl'])}",
                data={"blocks": n, "ratio": r1["median"], "ratio_lsmem_a": r2["median"]})
        out[n] = {"stats": st, "ratio": r1, "ratio_a": r2, "rss": rss}
    return out


def work_tree(n):
    """A writable copy of the n-block tree plus a Snapshot of everything coldplug changes."""
    src = B.ensure_tree(n)
    dst = os.path.join(B.tree_root(), f"work{n}")
    B.copy_tree(src, dst)
    rels = ["proc/zoneinfo", "proc/meminfo"]
    for nd in range(16):
        rels.append(f"sys/devices/system/node/node{nd}/meminfo")
    offline = [b for b in B.fixture_blocks(dst) if b["state"] == "offline"]
    for b in offline:
        d = f"sys/devices/system/memory/{b['name']}"
        rels += [f"{d}/state", f"{d}/valid_zones", f"{d}/online"]
    return dst, B.Snapshot(dst, rels), len(offline)


def count_states(root):
    mem = os.path.join(root, "sys/devices/system/memory")
    on = off = 0
    for name in os.listdir(mem):
        if not name.startswith("memory"):
            continue
        with open(os.path.join(mem, name, "state")) as f:
            if f.read().strip() == "online":
                on += 1
            else:
                off += 1
    return on, off


def build_c(name, pkgs=()):
    """Compile bench/NAME.c (linked with the pkg-config packages pkgs) into the build tree,
    again only when the source changed."""
    out = os.path.join(B.build_dir(), "bench", name)
    src = os.path.join(B.HERE, name + ".c")
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(src):
        return out
    os.makedirs(os.path.dirname(out), exist_ok=True)
    flags = []
    if pkgs:
        pc = subprocess.run(["pkg-config", "--cflags", "--libs"] + list(pkgs),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if pc.returncode:
            raise SystemExit(f"cannot build {name}: pkg-config: {pc.stderr}")
        flags = pc.stdout.split()
    r = subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-std=gnu11", "-o", out, src] + flags,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode:
        raise SystemExit(f"cannot build {name}: {r.stderr}")
    return out


def build_naive():
    """bench/naive-online.c, the reference onliner of the coldplug row."""
    return build_c("naive-online")


def build_floor():
    """bench/rss-floor.c, the reference of the idle RSS row: the required libraries, idle."""
    return build_c("rss-floor", ("libsystemd", "libudev", "json-c", "inih"))


def idle_status(cmd, env, ready_timeout, before_sample=None):
    """Start a daemon, wait for READY=1, let it idle a second, return (status, seconds to
    ready); the daemon is stopped with SIGTERM afterwards."""
    tmp = tempfile.mkdtemp(prefix="memhp-bench-")
    notify = B.Notify(os.path.join(tmp, "notify"))
    env = dict(env, NOTIFY_SOCKET=notify.path)
    t = time.monotonic()
    p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        notify.wait("READY=1", ready_timeout, alive=lambda: p.poll() is None)
        ready = time.monotonic() - t
        if before_sample:
            before_sample()
        time.sleep(1.0)
        st = B.proc_status(p.pid)
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        notify.close()
        os.rmdir(tmp)
    return st, ready


def timed_emulated(cmd, root):
    """Run cmd under the fake kernel; Timed with .emulated: seconds the shim spent playing
    the kernel's stores (MEMHP_FAKE_TIMING), which a real kernel spends on its own work."""
    fd, tfile = tempfile.mkstemp(prefix="memhp-bench-fk-")
    os.close(fd)
    try:
        env = dict(fake_env(root), MEMHP_FAKE_TIMING=tfile)
        r = B.run_timed(cmd, env=env, stdout=subprocess.PIPE)
        with open(tfile) as f:
            words = f.read().split()
    finally:
        os.unlink(tfile)
    # "stores N emulated_ns T", one line per process that stored something
    r.stores = sum(int(words[i + 1]) for i in range(0, len(words), 4))
    r.emulated = sum(int(words[i + 3]) for i in range(0, len(words), 4)) / 1e9
    return r


def naive(root):
    """The reference: every offline block written online_movable, under the fake kernel."""
    return timed_emulated([build_naive(), root], root)


def once(root, shim=True):
    cmd = [B.binary("memhpd"), "--once", "--sysroot", root, "--stderr", "--log-level", "notice"]
    return timed_emulated(cmd, root) if shim else B.run_timed(cmd)


def bench_coldplug(res, sizes, runs):
    print("\n== memhpd --once coldplug under the fake kernel ==")
    print(f"{'blocks':>7} {'onlined':>7}  {'coldplug (wall)':<34} {'per block':>9}  "
          f"{'nothing to do':<34} {'same, no fake kernel':<34} {'peak RSS':>9}")
    out = {}
    for n in sizes:
        root, snap, noff = work_tree(n)
        cold, base, base_noshim, cpu, base_cpu, ref = [], [], [], [], [], []
        own, ref_own, emul = [], [], []
        peak = 0
        onlined = None
        snap.restore()
        on0, _ = count_states(root)
        for i in range(runs):
            # the reference first, on the same pristine tree (interleaved)
            snap.restore()
            r = naive(root)
            if r.rc != 0:
                raise SystemExit(f"naive-online on {root} exited {r.rc}: {r.err.decode()[-400:]}")
            ref.append(r.wall)
            ref_own.append(r.wall - r.emulated)
            on_ref, _ = count_states(root)
            snap.restore()
            r = once(root)
            if r.rc != 0:
                raise SystemExit(f"memhpd --once on {root} exited {r.rc}: "
                                 f"{r.err.decode()[-800:]}")
            cold.append(r.wall)
            own.append(r.wall - r.emulated)
            emul.append(r.emulated)
            cpu.append(r.cpu)
            peak = max(peak, r.maxrss_kib)
            if onlined is None:
                on, off = count_states(root)
                onlined = noff - off
                if off:
                    B.log(f"{n}: {off} block(s) still offline after coldplug (policy)")
            # the same tree again: all decided, nothing to write
            r = once(root)
            base.append(r.wall)
            base_cpu.append(r.cpu)
            r2 = once(root, shim=False)
            base_noshim.append(r2.wall)
        shutil.rmtree(root)  # /dev/shm's inodes are shared: 65k blocks are 810k files
        sc, sb, sn = B.stats(cold), B.stats(base), B.stats(base_noshim)
        per = [(c - b) / max(onlined, 1) for c, b in zip(cold, base)]
        sp = B.stats(per)
        # naive-online onlines every offline block, memhpd what its policy wants: per block
        ref_onlined = max(on_ref - on0, 1)
        sr = B.stats(ref)
        ratio = B.stats([(c / max(onlined, 1)) / (f / ref_onlined) for c, f in zip(cold, ref)])
        print(f"{n:>7} {onlined:>7}  {B.fmt_stat(sc):<34} {B.fmt_time(sc['median'] / max(onlined, 1)):>9}  "
              f"{B.fmt_stat(sb):<34} {B.fmt_stat(sn):<34} {B.fmt_kib(peak):>9}")
        print(f"{'':>7} {'':>7}  reference naive-online (every offline block online_movable, "
              f"no reads back): {B.fmt_stat(sr)} for {ref_onlined} blocks, "
              f"{B.fmt_time(sr['median'] / ref_onlined)}/block; memhpd per block "
              f"{ratio['median']:.2f}x ({ratio['min']:.2f}-{ratio['max']:.2f})")
        so, sro, se = B.stats(own), B.stats(ref_own), B.stats(emul)
        print(f"{'':>7} {'':>7}  without the emulated kernel's stores (wall - time in the "
              f"fake kernel, {B.fmt_stat(se)}): memhpd {B.fmt_stat(so)}, naive-online "
              f"{B.fmt_stat(sro)}")
        print(f"{'':>7} {'':>7}  CPU: coldplug {B.fmt_stat(B.stats(cpu))}, nothing to do "
              f"{B.fmt_stat(B.stats(base_cpu))}; onlining alone (coldplug - nothing to do) "
              f"{B.fmt_time(sp['median'])}/block wall")
        res.add("scale", f"--once coldplug, {n} blocks ({onlined} onlined)", sc["median"], "s",
                ref=f"nothing to do {sb['median']:.3f} s (no fake kernel {sn['median']:.3f} s)",
                target="< 1 s at 65,536" if n == 65536 else None,
                note=f"per block {ratio['median']:.2f}x naive-online ({sr['median']:.2f} s for "
                     f"{ref_onlined} blocks); "
                     f"CPU {B.stats(cpu)['median']:.2f} s (nothing to do "
                     f"{B.stats(base_cpu)['median']:.2f} s); "
                     f"{sc['median'] / max(onlined, 1) * 1e6:.0f} us/block overall, "
                     f"{sp['median'] * 1e6:.0f} us/block beyond the scan; "
                     f"min-max {sc['min']:.2f}-{sc['max']:.2f} s",
                data={"blocks": n, "onlined": onlined, "offline_before": noff})
        res.add("scale", f"--once coldplug without the emulated stores, {n} blocks",
                so["median"], "s", ref=f"naive-online {sro['median']:.3f} s",
                target="< 1 s at 65,536" if n == 65536 else None,
                note=f"wall minus the fake kernel's time ({se['median']:.2f} s for "
                     f"{onlined} stores); min-max {so['min']:.2f}-{so['max']:.2f} s",
                data={"blocks": n, "emulated": se["median"]})
        res.add("scale", f"--once peak RSS, {n} blocks", peak, "KiB", data={"blocks": n})
        out[n] = {"cpu": B.stats(cpu), "base_cpu": B.stats(base_cpu), "coldplug": sc, "base": sb,
                  "base_noshim": sn, "per_block": sp, "naive": sr, "naive_onlined": ref_onlined,
                  "per_block_vs_naive": ratio, "own": so, "naive_own": sro, "emulated": se,
                  "onlined": onlined, "peak_kib": peak}
    return out


def bench_idle_rss(res, sizes):
    print("\n== memhpd daemon RSS (after READY=1, coldplug done, control socket on) ==")
    # The floor: the libraries memhpd must link (libsystemd, libudev, json-c, inih),
    # started and idle, in the same environment (the fake kernel shim is preloaded in both).
    floor_env = fake_env(B.ensure_tree(min(sizes)))
    floor, _ = idle_status([build_floor()], floor_env, 60)
    print(f"{'floor':>7}  {B.fmt_kib(floor['VmRSS']):>10} {B.fmt_kib(floor.get('Pss', 0)):>9} "
          f"{B.fmt_kib(floor['RssAnon']):>9} {B.fmt_kib(floor['RssFile']):>9} "
          f"{B.fmt_kib(floor['VmHWM']):>9}  (bench/rss-floor.c: the required libraries, idle)")
    res.add("scale", "idle VmRSS floor of the required libraries (bench/rss-floor.c)",
            floor["VmRSS"], "KiB",
            note=f"Pss {floor.get('Pss', 0)} KiB, RssAnon {floor['RssAnon']} KiB, "
                 f"RssFile {floor['RssFile']} KiB",
            data={"blocks": 0})
    print(f"{'blocks':>7}  {'idle VmRSS':>10} {'Pss':>9} {'RssAnon':>9} {'RssFile':>9} "
          f"{'VmHWM':>9}  {'ready after':>11}  {'above floor':>11}")
    out = {"floor": floor}
    for n in sizes:
        root, snap, _ = work_tree(n)
        snap.restore()
        ctl = os.path.join(root, "run/memhpd/control")
        cmd = [B.binary("memhpd"), "--sysroot", root, "--stderr", "--log-level", "warning"]
        seen = {}

        def exercise():
            seen["socket"] = os.path.exists(ctl)
            B.run_timed([B.binary("memhpctl"), "--socket", ctl, "status"])

        try:
            st, ready = idle_status(cmd, fake_env(root), 300, before_sample=exercise)
            sock_ok = seen.get("socket", False)
        finally:
            shutil.rmtree(root)
        above = st["VmRSS"] - floor["VmRSS"]
        print(f"{n:>7}  {B.fmt_kib(st['VmRSS']):>10} {B.fmt_kib(st.get('Pss', 0)):>9} "
              f"{B.fmt_kib(st['RssAnon']):>9} "
              f"{B.fmt_kib(st['RssFile']):>9} {B.fmt_kib(st['VmHWM']):>9}  {ready:>9.2f} s"
              f"  {B.fmt_kib(above):>11}"
              + ("" if sock_ok else "  (no control socket!)"))
        res.add("scale", f"daemon idle VmRSS, {n} blocks", st["VmRSS"], "KiB",
                ref=f"floor {floor['VmRSS']} KiB", target="< 3 MiB" if n == 65536 else None,
                note=f"{above} KiB above the floor; Pss {st.get('Pss', 0)} KiB, "
                     f"RssAnon {st['RssAnon']} KiB, RssFile {st['RssFile']} KiB, "
                     f"VmHWM {st['VmHWM']} KiB",
                data={"blocks": n, "above_floor_kib": above, "control_socket": sock_ok})
        out[n] = st
    return out


def bench_events(res, sizes, runs, jsonpath, perf=True):
    """Per-event cost through the daemon (umockdev), one tree size at a time."""
    print("\n== per-event daemon cost vs tree size (umockdev; bench/storm.py) ==")
    storm = os.path.join(B.HERE, "storm.py")
    rows = []
    for n in sizes:
        with tempfile.NamedTemporaryFile("r", suffix=".json") as tf:
            cmd = [PY, storm, "--tree", str(n), "--runs", str(runs),
                   "--trickle", "16", "--events", "512", "--summary", tf.name]
            if n == max(sizes) and perf:
                cmd += ["--perf", os.path.join(B.tree_root(), f"perf-trickle-{n}.data")]
            r = subprocess.run(cmd)
            if r.returncode == B.SKIP:
                print("per-event: SKIPPED (umockdev not available, see above)")
                return None
            if r.returncode:
                print(f"per-event at {n} blocks: storm.py failed ({r.returncode})")
                continue
            rows.append((n, json.load(tf)))
    if not rows:
        return None
    print(f"\n{'blocks':>7}  {'trickle: daemon CPU/event':<34} {'burst: daemon CPU/event':<34} "
          f"{'burst events/s':>14}")
    base = rows[0][1]
    for n, s in rows:
        print(f"{n:>7}  {B.fmt_stat(s['trickle_cpu_per_event']):<34} "
              f"{B.fmt_stat(s['burst_cpu_per_event']):<34} {s['burst_eps']['median']:>14.0f}")
    for n, s in rows:
        g1 = s["trickle_cpu_per_event"]["median"] / base["trickle_cpu_per_event"]["median"]
        g2 = s["burst_cpu_per_event"]["median"] / base["burst_cpu_per_event"]["median"]
        res.add("scale", f"per-event daemon CPU, {n} blocks",
                s["trickle_cpu_per_event"]["median"], "s",
                ref=f"{rows[0][0]} blocks: {base['trickle_cpu_per_event']['median'] * 1e3:.2f} ms",
                target="flat",
                note=f"trickle {g1:.1f}x the {rows[0][0]}-block cost; burst "
                     f"{s['burst_cpu_per_event']['median'] * 1e6:.0f} us/event ({g2:.1f}x)",
                data={"blocks": n, "trickle_growth": g1, "burst_growth": g2,
                      "burst_cpu_per_event": s["burst_cpu_per_event"]["median"],
                      "lost": s.get("lost", 0)})
        print(f"{n:>7}  growth vs {rows[0][0]} blocks: trickle {g1:.1f}x, burst {g2:.1f}x")
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1024,8192,65536")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", help="append result rows (JSON lines) to this file")
    ap.add_argument("--only", help="comma list of list,coldplug,rss,events")
    ap.add_argument("--no-events", action="store_true", help="skip the umockdev per-event part")
    a = ap.parse_args()
    if a.runs < 5:
        print("note: fewer than 5 runs: medians are indicative only", file=sys.stderr)
    sizes = [int(x) for x in a.sizes.split(",")]
    parts = set((a.only or "list,coldplug,rss,events").split(","))
    if a.no_events:
        parts.discard("events")
    B.be_nice()
    res = B.Results(a.json)
    print(f"scale benchmark: {B.machine_line()}")
    for n in sizes:
        B.ensure_tree(n)
    if "list" in parts:
        bench_list(res, sizes, a.runs)
    if "coldplug" in parts:
        bench_coldplug(res, sizes, a.runs)
    if "rss" in parts:
        bench_idle_rss(res, sizes)
    if "events" in parts:
        bench_events(res, sizes, a.runs, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
