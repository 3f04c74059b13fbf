# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared helpers for the memhpd benchmarks (python3 standard library only).

Benchmarks are not tests: they measure and print, they assert nothing about time.  Every
number is a median of at least --runs runs with min-max shown, and comparisons are ratios
against a reference measured in the same run (same tree, same load), interleaved run by run.
"""

import hashlib
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCROOT = os.path.dirname(HERE)
SKIP = 77
T0 = time.monotonic()


def build_dir():
    return os.environ.get("MEMHP_BUILD") or os.path.join(SRCROOT, "build")


def binary(name):
    """Path of a built binary (memhpd, memhpctl, the fake kernel shim); env MEMHPD etc. wins."""
    env = {"memhpd": "MEMHPD", "memhpctl": "MEMHPCTL",
           "fakekernel": "MEMHP_FAKEKERNEL"}.get(name)
    if env and os.environ.get(env):
        return os.environ[env]
    rel = {"memhpd": "src/memhpd/memhpd", "memhpctl": "src/memhpctl/memhpctl",
           "fakekernel": "tests/fakekernel/libmemhp-fakekernel.so",
           "umockdev-shim": "tests/umockdev/libmemhp-umockdev.so"}[name]
    path = os.path.join(build_dir(), rel)
    if not os.path.exists(path):
        raise SystemExit(f"{path} not found: build first (ninja -C {build_dir()})")
    return path


def log(msg):
    print(f"[{time.monotonic() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def be_nice():
    """Heavy parts run at nice 10 (children inherit it): the machine is shared."""
    try:
        if os.nice(0) < 10:
            os.nice(10 - os.nice(0))
    except OSError:
        pass


def stats(xs):
    xs = sorted(xs)
    n = len(xs)
    if not n:
        return {"n": 0, "median": float("nan"), "min": float("nan"), "max": float("nan")}
    med = xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
    return {"n": n, "median": med, "min": xs[0], "max": xs[-1]}


def fmt_time(s):
    if s != s:  # nan
        return "n/a"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} us"


def fmt_stat(st, fmt=fmt_time):
    return f"{fmt(st['median'])} ({fmt(st['min'])}-{fmt(st['max'])}, n={st['n']})"


def fmt_kib(k):
    return f"{k / 1024:.1f} MiB" if k >= 1024 else f"{k:.0f} KiB"


def ratio(a, b):
    return a / b if b else float("nan")


class Timed:
    """One child process: wall time, user/sys CPU and peak RSS (getrusage via wait4)."""

    def __init__(self, wall, rc, ru, out=b"", err=b""):
        self.wall, self.rc, self.out, self.err = wall, rc, out, err
        self.user, self.sys = ru.ru_utime, ru.ru_stime
        self.cpu = ru.ru_utime + ru.ru_stime
        self.maxrss_kib = ru.ru_maxrss


def run_timed(cmd, env=None, stdout=subprocess.DEVNULL, capture_err=True):
    """Run cmd, return Timed.  stdout goes to /dev/null unless given (formatting the output
    is part of the cost: it is produced, only not kept).

    Peak RSS comes from GNU time (-f %M), not from our own wait4(): a child forked or
    vforked from this Python process inherits its RSS high-water mark across exec, so
    ru_maxrss would never read below ~20 MiB.  GNU time adds ~1 ms to the wall time, the
    same for every command compared."""
    fd, rssfile = tempfile.mkstemp(prefix="memhp-bench-rss-")
    os.close(fd)
    full = (["/usr/bin/time", "-f", "%M", "-o", rssfile] + list(cmd)
            if os.path.exists("/usr/bin/time") else list(cmd))
    t = time.monotonic()
    p = subprocess.Popen(full, env=env, stdin=subprocess.DEVNULL, stdout=stdout,
                         stderr=subprocess.PIPE if capture_err else subprocess.DEVNULL)
    err = b""
    if capture_err:
        err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.stderr:
        p.stderr.close()
    r = Timed(wall, p.returncode, ru, err=err)
    try:
        with open(rssfile) as f:
            lines = f.read().split()
        # "Command exited with non-zero status N" comes first when it failed
        r.maxrss_kib = int(lines[-1])
    except (OSError, ValueError, IndexError):
        r.maxrss_kib = float("nan")
    os.unlink(rssfile)
    return r


def src_hash(*paths):
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def tree_root():
    return os.environ.get("MEMHP_BENCH_DIR") or "/dev/shm/memhp-bench"


def ensure_tree(nblocks, nodes=4):
    """A pristine synthetic tree of nblocks 128 MiB blocks on `nodes` nodes in /dev/shm,
    generated once and kept while mkfixture.py/machines.py are unchanged.  Never written to:
    callers copy or restore."""
    fx = os.path.join(SRCROOT, "tests", "fixtures")
    key = src_hash(os.path.join(fx, "mkfixture.py"), os.path.join(fx, "machines.py"))
    path = os.path.join(tree_root(), f"t{nblocks}-{nodes}")
    stamp = os.path.join(path, ".bench-key")
    try:
        with open(stamp) as f:
            if f.read().strip() == key:
                return path
    except OSError:
        pass
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(tree_root(), exist_ok=True)
    t = time.monotonic()
    r = subprocess.run([sys.executable, os.path.join(fx, "mkfixture.py"), "--synthetic",
                        "--blocks", str(nblocks), "--nodes", str(nodes), "--block-size", "128M",
                        path], stderr=subprocess.PIPE, text=True)
    if r.returncode:
        raise SystemExit(f"mkfixture.py --synthetic --blocks {nblocks} failed: {r.stderr}")
    with open(stamp, "w") as f:
        f.write(key + "\n")
    log(f"generated {nblocks}-block tree in {path} ({time.monotonic() - t:.1f}s)")
    return path


def copy_tree(src, dst):
    shutil.rmtree(dst, ignore_errors=True)
    subprocess.run(["cp", "-a", src, dst], check=True)
    try:
        os.unlink(os.path.join(dst, ".bench-key"))
    except FileNotFoundError:
        pass
    return dst


class Snapshot:
    """Remember the content of a set of files, put it back later (much faster than copying a
    65,536-block tree again), and remove what a run created (state files, logs)."""

    def __init__(self, root, rels, created=("run", "var", "etc", ".fake-kernel.log")):
        self.root = root
        self.files = {}
        for rel in rels:
            p = os.path.join(root, rel)
            if os.path.isfile(p):
                with open(p, "rb") as f:
                    self.files[rel] = f.read()
        self.created = [c for c in created if not os.path.lexists(os.path.join(root, c))]

    def restore(self):
        for rel, data in self.files.items():
            with open(os.path.join(self.root, rel), "wb") as f:
                f.write(data)
        for c in self.created:
            p = os.path.join(self.root, c)
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            elif os.path.lexists(p):
                os.unlink(p)


def fixture_blocks(root):
    with open(os.path.join(root, "fixture.json")) as f:
        return json.load(f)["blocks"]


class Notify:
    """A NOTIFY_SOCKET for a daemon under test: collects sd_notify datagrams."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.msgs = []

    def wait(self, word, timeout, alive=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in self.msgs:
                if word in m:
                    return m
            if alive is not None and not alive():
                raise RuntimeError(f"daemon exited while waiting for {word}")
            try:
                self.msgs.append(self.sock.recv(65536).decode(errors="replace"))
            except socket.timeout:
                pass
        raise RuntimeError(f"no {word} from the daemon after {timeout}s")

    def close(self):
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


def proc_status(pid):
    res = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem", "VmData"):
                res[k] = int(v.split()[0])
    # Pss: shared library pages divided among the processes mapping them (the daemon's
    # fair share of the machine's memory); VmRSS counts every touched library page whole.
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k == "Pss":
                    res["Pss"] = int(v.split()[0])
    except OSError:
        pass
    return res


def proc_cpu(pid):
    """CPU time of a running (single-threaded) process in seconds: /proc/PID/schedstat's
    run time in ns where the kernel has it, else utime+stime from /proc/PID/stat (10 ms
    ticks, too coarse for one event)."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        pass
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_line():
    la = os.getloadavg()
    try:
        with open("/proc/cpuinfo") as f:
            model = next((x.split(":", 1)[1].strip() for x in f if x.startswith("model name")),
                         "?")
    except OSError:
        model = "?"
    return (f"{os.cpu_count()} CPUs ({model}), load average {la[0]:.2f} {la[1]:.2f} "
            f"{la[2]:.2f}, kernel {os.uname().release}")


class Results:
    """Rows for scripts/bench's summary table, appended as JSON lines to --json FILE."""

    def __init__(self, path):
        self.path = path

    def add(self, bench, metric, value, unit, ref=None, target=None, note="", data=None):
        """data: the row's facts as numbers and words, for checks (tests/bench) rather than
        for reading; the table shows metric, value, ref, target and note."""
        row = {"bench": bench, "metric": metric, "value": value, "unit": unit, "ref": ref,
               "target": target, "note": note, "data": data or {}}
        if self.path:
            with open(self.path, "a") as f:
                f.write(json.dumps(row) + "\n")
        return row


def rusage_self_children():
    return resource.getrusage(resource.RUSAGE_CHILDREN)
