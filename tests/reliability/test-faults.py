#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Fault-injection matrix: memhpd and memhpctl against failing sysfs.

    test-faults.py [-v] [-k SUBSTRING]

Every case runs one path on a fresh copy of a fixture, under the fake kernel
(tests/fakekernel) with the fault shim (faultinject.c) in front of it:

    LD_PRELOAD=libmemhp-faultinject.so:libmemhp-fakekernel.so

The paths: memhpd --once coldplug, memhpctl online, memhpctl offline and the
dax reconfigure path (memhpd --once, dax-devdax, rule dax_mode = system-ram).
The faults: EBUSY, EINVAL, EIO, EAGAIN, ENOMEM and ENOENT on the writes and
reads that path makes, a block that vanishes, short reads, a failing
directory listing.  For every case:

  * the process exits, not by a signal, with exactly the expected code
    (0, 1 or 64);
  * the fault fired (the shim's log has it), so no case passes vacuously;
  * stderr names the block or path and the error text (strerror);
  * memhpd's state file parses and its device record names the block and the
    error in last_error (memhpd paths);
  * a retry of the same command WITHOUT faults exits 0 and converges:
    memhpctl list --json is identical to a fault-free run's.

Environment (set by meson): MEMHPD, MEMHPCTL, FAKEKERNEL, FAULTINJECT,
MKFIXTURE.  Must run inside tests/protect (MEMHP_PROTECTED=1).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rellib import diff as _diff, scratch_base  # noqa: E402


def diff(a, b):
    return _diff(a, b, names=("fault-free", "retried"))

MEM = "sys/devices/system/memory"
NODE = "sys/devices/system/node"
DAX = "sys/bus/dax"
STRERR = {
    "EBUSY": "Device or resource busy",
    "EINVAL": "Invalid argument",
    "EIO": "Input/output error",
    "EAGAIN": "Resource temporarily unavailable",
    "ENOMEM": "Cannot allocate memory",
    "ENOENT": "No such file or directory",
}

BASE_CONF = """[daemon]
state_file = {d}/run/state.json
control_socket = {d}/run/control
node_wait = 100ms
online_retries = 2
retry_backoff = 5ms
"""
DAX_RULE = """
[rule dax]
type = dax
dax_mode = system-ram
zone = movable
memmap = on-memory
"""


class Case:
    """One path under one fault spec and what must come of it."""

    def __init__(self, path, name, spec, rc, stderr=(), state=(), fired=None, retry_rc=0):
        self.path = path          # coldplug, online, offline, dax
        self.name = name
        self.spec = spec          # fault spec lines
        self.rc = rc              # expected exit code
        self.stderr = stderr      # substrings stderr must contain
        self.state = state        # (device id, [substrings of last_error])
        self.fired = fired        # substring the shim's log must contain (default: any fault)
        self.retry_rc = retry_rc

    @property
    def id(self):
        return "%s/%s" % (self.path, self.name)


def blk(n, attr="state"):
    return "%s/memory%d/%s" % (MEM, n, attr)


def matrix():
    cases = []
    dimm = "PNP0C80:00"

    # ---- memhpd --once coldplug: x86-dimm-128m, memory40-47 offline, one DIMM ----
    for err in ("EBUSY", "EAGAIN", "EINVAL", "EIO", "ENOMEM", "ENOENT"):
        # one block's state write fails every time: the others are onlined
        retried = err in ("EBUSY", "EAGAIN")
        msg = "memory42: online_movable: " + STRERR[err] + (" after 3 attempts" if retried else "")
        cases.append(Case("coldplug", "write-one-" + err, ["write %s %s" % (blk(42), err)], 64,
                          stderr=["memory42: cannot online: online_movable: " + STRERR[err]],
                          state=(dimm, [msg])))
        # every block's write fails: nothing could be done
        cases.append(Case("coldplug", "write-all-" + err, ["write %s/memory4[0-7]/state %s" %
                                                           (MEM, err)], 1,
                          stderr=["memory47: cannot online: online_movable: " + STRERR[err]],
                          state=(dimm, ["memory47: online_movable: " + STRERR[err]])))
    # transient EBUSY/EAGAIN within online_retries: retried, everything onlined
    for err in ("EBUSY", "EAGAIN"):
        cases.append(Case("coldplug", "write-transient-" + err,
                          ["write %s %s 2" % (blk(42), err)], 0))
    # the write is taken only in part (the kernel consumed half the bytes)
    cases.append(Case("coldplug", "write-short", ["write %s short" % blk(42)], 64,
                      stderr=["memory42: cannot online: online_movable: Input/output error"],
                      state=(dimm, ["memory42: online_movable: Input/output error"])))
    # reads of one block's attributes fail during the scan
    for err in ("EIO", "ENOMEM", "EINVAL", "EBUSY", "EAGAIN"):
        cases.append(Case("coldplug", "read-state-" + err, ["read %s %s" % (blk(42), err)], 64,
                          stderr=["memory42", STRERR[err]], state=(dimm, ["memory42", STRERR[err]])))
        cases.append(Case("coldplug", "read-zones-" + err,
                          ["read %s %s" % (blk(44, "valid_zones"), err)], 64,
                          stderr=["memory44", "valid_zones", STRERR[err]],
                          state=(dimm, ["memory44", STRERR[err]])))
    # short reads (the rest follows in the next read): read in full, nothing lost
    cases.append(Case("coldplug", "read-state-short", ["read %s short" % blk(42)], 0))
    cases.append(Case("coldplug", "read-zones-short",
                      ["read %s short" % blk(44, "valid_zones")], 0))
    cases.append(Case("coldplug", "read-all-short", ["read %s/* short" % MEM], 0))
    # a truncated attribute ("offl" for "offline") is garbage: named, not guessed
    cases.append(Case("coldplug", "read-state-truncate", ["read %s truncate" % blk(42)], 64,
                      stderr=["memory42", '"offl"'], state=(dimm, ["memory42", '"offl"'])))
    # the verification read after a successful write fails (the 2nd read of the
    # file: the one start-up scan coldplug shares; a block the scan saw offline is
    # written without another read): the block is online, but memhpd cannot confirm it
    cases.append(Case("coldplug", "verify-EIO", ["read %s EIO 1 skip=1" % blk(45)], 64,
                      stderr=["memory45", STRERR["EIO"]],
                      state=(dimm, ["memory45", STRERR["EIO"]])))
    # a block vanishes (hot-remove racing the scan): listed, but then gone; it
    # is dropped from the model, which is not a failure
    cases.append(Case("coldplug", "vanish-ENOENT", ["open %s/memory43* ENOENT" % MEM], 0,
                      stderr=["memory43", STRERR["ENOENT"]]))
    # a block vanishes between the scan and the write (2nd open of its state:
    # the scan, the write)
    cases.append(Case("coldplug", "vanish-at-write", ["open %s ENOENT 1 skip=1" % blk(43)], 64,
                      stderr=["memory43", STRERR["ENOENT"]], state=(dimm, ["memory43"])))
    # the memory directory cannot be listed (opendir, or getdents half way):
    # nothing can be done
    for err in ("EIO", "ENOMEM"):
        cases.append(Case("coldplug", "opendir-memory-" + err,
                          ["opendir %s %s" % (MEM, err)], 1,
                          stderr=[MEM + ": cannot list memory blocks: " + STRERR[err]]))
        cases.append(Case("coldplug", "readdir-memory-" + err,
                          ["readdir %s %s" % (MEM, err)], 1,
                          stderr=[MEM + ": cannot list memory blocks: " + STRERR[err]]))
    # a block's node link cannot be followed: its node is unknown, memhpd waits
    # node_wait, then leaves the device alone (it never guesses a node).  A
    # block's own links are only read when the node directories do not list
    # it, hence the failing node listing in front.
    no_node_dirs = "readdir %s/node* EIO" % NODE
    cases.append(Case("coldplug", "node-link-EIO",
                      [no_node_dirs, "open %s/memory46/node0 EIO" % MEM], 1,
                      stderr=["cannot follow the node link of memory46: " + STRERR["EIO"],
                              "memory46: still no node link"]))
    # openat2(RESOLVE_IN_ROOT) says EAGAIN when a rename anywhere raced a ".."
    # of the path (node links are ../../node/nodeN): retried, not an error
    cases.append(Case("coldplug", "open-node-link-EAGAIN",
                      [no_node_dirs, "open %s/memory46/node0 EAGAIN 3" % MEM], 0,
                      fired="memory46/node0"))
    # the first block of a scan is read in full: its directory is opened from
    # the root (its attributes then from it)
    cases.append(Case("coldplug", "open-blockdir-EAGAIN", ["open %s/memory0 EAGAIN 3" % MEM], 0,
                      fired="memory0"))
    # the others' attributes are opened from the memory directory in one
    # lookup ("memory42/state"); when that fails for any reason but ENOENT the
    # block directory is opened and the attribute from it: nothing is lost
    cases.append(Case("coldplug", "open-lazy-EAGAIN", ["open %s EAGAIN 1" % blk(42)], 0,
                      fired="memory42/state"))
    # the block's directory cannot be listed: neither its node nor its
    # firmware_node is known, so it is a device of its own that waits for its
    # node and is left alone; the DIMM's other blocks are onlined
    # a scan takes the nodes of blocks from the node directories and lists a
    # block's own directory only when no node lists it: when a node directory
    # cannot be listed, its blocks are asked themselves (and nothing is lost)
    cases.append(Case("coldplug", "readdir-node-EIO", ["readdir %s/node* EIO" % NODE], 0))
    # ... and when that listing fails too, the block is left alone, reported
    cases.append(Case("coldplug", "readdir-block-EIO",
                      ["readdir %s/node* EIO" % NODE, "readdir %s/memory46 EIO" % MEM], 64,
                      stderr=["cannot list memory46: " + STRERR["EIO"],
                              "memory46: still no node link"]))

    # ---- memhpctl online PNP0C80:00 (x86-dimm-128m) ----
    for err in ("EBUSY", "EAGAIN", "EINVAL", "EIO", "ENOMEM", "ENOENT"):
        cases.append(Case("online", "write-one-" + err, ["write %s %s" % (blk(44), err)], 64,
                          stderr=["online memory44: online_movable: " + STRERR[err]]))
        cases.append(Case("online", "write-all-" + err,
                          ["write %s/memory4[0-7]/state %s" % (MEM, err)], 1,
                          stderr=["online memory40: online_movable: " + STRERR[err]]))
        cases.append(Case("online", "read-state-" + err, ["read %s %s" % (blk(44), err)], 64,
                          stderr=["memory44", STRERR[err]]))
    cases.append(Case("online", "write-transient-EBUSY", ["write %s EBUSY 2" % blk(44)], 0))
    cases.append(Case("online", "read-all-short", ["read %s/* short" % MEM], 0))
    cases.append(Case("online", "read-state-truncate", ["read %s truncate" % blk(44)], 64,
                      stderr=["memory44", '"offl"']))
    cases.append(Case("online", "verify-EIO", ["read %s EIO 1 skip=1" % blk(45)], 64,
                      stderr=["memory45", STRERR["EIO"]]))
    cases.append(Case("online", "vanish-ENOENT", ["open %s/memory43* ENOENT" % MEM], 0,
                      stderr=["online: 7 block(s) done, 0 failed",
                              "1 problem(s) while scanning"]))
    cases.append(Case("online", "opendir-memory-EIO", ["opendir %s EIO" % MEM], 1,
                      stderr=["cannot list memory blocks: " + STRERR["EIO"]]))
    cases.append(Case("online", "readdir-memory-EIO", ["readdir %s EIO" % MEM], 1,
                      stderr=["cannot list memory blocks: " + STRERR["EIO"]]))

    # ---- memhpctl offline PNP0C80:00 (x86-dimm-128m after a clean online) ----
    for err in ("EBUSY", "EAGAIN", "EINVAL", "EIO", "ENOMEM", "ENOENT"):
        cases.append(Case("offline", "write-one-" + err, ["write %s %s" % (blk(44), err)], 64,
                          stderr=["offline memory44: offline: " + STRERR[err]]))
        cases.append(Case("offline", "write-all-" + err,
                          ["write %s/memory4[0-7]/state %s" % (MEM, err)], 1,
                          stderr=["offline memory47: offline: " + STRERR[err]]))
        cases.append(Case("offline", "read-state-" + err, ["read %s %s" % (blk(44), err)], 64,
                          stderr=["memory44", STRERR[err]]))
    cases.append(Case("offline", "write-transient-EBUSY", ["write %s EBUSY 3" % blk(44)], 0))
    cases.append(Case("offline", "read-all-short", ["read %s/* short" % MEM], 0))
    cases.append(Case("offline", "read-state-truncate", ["read %s truncate" % blk(44)], 64,
                      stderr=["memory44", '"onl"']))
    cases.append(Case("offline", "vanish-ENOENT", ["open %s/memory43* ENOENT" % MEM], 0,
                      stderr=["offline: 7 block(s) done, 0 failed",
                              "1 problem(s) while scanning"]))

    # ---- dax reconfigure: dax-devdax; dax0.0 bound to device_dax, dax1.0 unbound ----
    unbind = DAX + "/drivers/device_dax/unbind"
    newid = DAX + "/drivers/kmem/new_id"
    mom0 = DAX + "/devices/dax0.0/memmap_on_memory"
    for err in ("EBUSY", "EINVAL", "EIO", "EAGAIN", "ENOMEM", "ENOENT"):
        # leaving devdax fails: dax0.0 stays devdax, dax1.0 is converted
        cases.append(Case("dax", "unbind-" + err, ["write %s %s" % (unbind, err)], 64,
                          stderr=["dax0.0", STRERR[err]], state=("dax0.0", [STRERR[err]])))
        # the memmap placement cannot be set: back to devdax (EBUSY from this
        # attribute means "bound to kmem" in the kernel, and is reported so)
        why = {"EBUSY": "device already bound to kmem",
               "ENOENT": "memmap_on_memory does not exist (Linux < 6.8)"}.get(err, STRERR[err])
        cases.append(Case("dax", "memmap-" + err, ["write %s %s" % (mom0, err)], 64,
                          stderr=["dax0.0", mom0, why],
                          state=("dax0.0", [why, "device back in devdax mode"])))
        # kmem refuses both devices: both back in their old mode, nothing done
        cases.append(Case("dax", "new_id-" + err, ["write %s %s" % (newid, err)], 1,
                          stderr=["dax0.0", "dax1.0", STRERR[err]],
                          state=("dax1.0", [STRERR[err]])))
        # a block of dax1.0's new memory cannot be onlined
        cases.append(Case("dax", "block-write-" + err, ["write %s %s" % (blk(150), err)], 64,
                          stderr=["memory150", STRERR[err]],
                          state=("dax1.0", ["memory150", STRERR[err]])))
    # what dax1.0 is cannot be read: it is left as it is, as a failure
    for err in ("EIO", "ENOMEM"):
        cases.append(Case("dax", "read-target_node-" + err,
                          ["read %s/devices/dax1.0/target_node %s" % (DAX, err)], 64,
                          stderr=["dax1.0: cannot decide: cannot read target_node of dax1.0: " +
                                  STRERR[err]],
                          state=("dax1.0", ["target_node", STRERR[err]])))
    cases.append(Case("dax", "read-all-short", ["read %s/* short" % DAX], 0))
    return cases


class Runner:
    def __init__(self, verbose):
        self.verbose = verbose
        self.env = {}
        for v in ("MEMHPD", "MEMHPCTL", "FAKEKERNEL", "FAULTINJECT", "MKFIXTURE"):
            p = os.environ.get(v, "")
            if not p or not os.path.isfile(p):
                sys.exit("test-faults: %s not found (%r); build it first" % (v, p))
            self.env[v] = os.path.realpath(p)
        base = scratch_base(1 << 30)
        self.tmp = tempfile.mkdtemp(prefix="memhp-faults.", dir=base)
        self.templates = {}
        self.refs = {}
        self.failures = []

    def template(self, fixture):
        if fixture not in self.templates:
            d = os.path.join(self.tmp, "tpl-" + fixture)
            subprocess.run([sys.executable, self.env["MKFIXTURE"], fixture, d], check=True,
                           stdout=subprocess.DEVNULL)
            self.templates[fixture] = d
        return self.templates[fixture]

    def newdir(self, name, fixture, dax=False):
        d = os.path.join(self.tmp, name.replace("/", "-"))
        shutil.copytree(self.template(fixture), os.path.join(d, "root"), symlinks=True)
        os.makedirs(os.path.join(d, "run"))
        with open(os.path.join(d, "memhpd.conf"), "w") as f:
            f.write(BASE_CONF.format(d=d) + (DAX_RULE if dax else ""))
        return d

    def run(self, d, argv, spec=None):
        """argv under the fake kernel (and the fault shim if spec); (rc, stderr)."""
        root = os.path.join(d, "root")
        env = dict(os.environ, MEMHP_FAKE_ROOT=root, LD_PRELOAD=self.env["FAKEKERNEL"])
        for k in ("MEMHP_FAULTS", "MEMHP_FAULT_ROOT", "MEMHP_FAULT_LOG"):
            env.pop(k, None)
        if spec is not None:
            with open(os.path.join(d, "faults"), "w") as f:
                f.write("\n".join(spec) + "\n")
            env.update(MEMHP_FAULTS=os.path.join(d, "faults"), MEMHP_FAULT_ROOT=root,
                       MEMHP_FAULT_LOG=os.path.join(d, "faults.log"),
                       LD_PRELOAD=self.env["FAULTINJECT"] + ":" + self.env["FAKEKERNEL"])
        try:
            p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=60)
        except subprocess.TimeoutExpired:
            return "timeout", ""
        return p.returncode, p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")

    def command(self, path, d):
        root = os.path.join(d, "root")
        if path in ("coldplug", "dax"):
            return [self.env["MEMHPD"], "--once", "--sysroot", root, "--config",
                    os.path.join(d, "memhpd.conf")]
        cmd = [self.env["MEMHPCTL"], "--sysroot", root, "--config",
               os.path.join(d, "memhpd.conf"), path, "PNP0C80:00"]
        if path == "offline":
            cmd += ["--timeout", "1"]
        return cmd

    def listing(self, d):
        p = subprocess.run([self.env["MEMHPCTL"], "--sysroot", os.path.join(d, "root"), "list",
                            "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            return "memhpctl list --json failed: " + p.stderr.decode(errors="replace")
        return json.loads(p.stdout)

    def prepare(self, path, d):
        if path == "offline":
            rc, out = self.run(d, self.command("online", d))
            if rc != 0:
                raise RuntimeError("offline: preparing online failed (%s): %s" % (rc, out))

    def setup_path(self, path):
        fixture = "dax-devdax" if path == "dax" else "x86-dimm-128m"
        return fixture, path == "dax"

    def reference(self, path):
        if path not in self.refs:
            fixture, dax = self.setup_path(path)
            d = self.newdir("ref-" + path, fixture, dax)
            self.prepare(path, d)
            rc, out = self.run(d, self.command(path, d))
            if rc != 0:
                raise RuntimeError("fault-free %s run exited %s: %s" % (path, rc, out))
            self.refs[path] = self.listing(d)
        return self.refs[path]

    def case(self, c):
        bad = []
        fixture, dax = self.setup_path(c.path)
        ref = self.reference(c.path)
        d = self.newdir(c.id, fixture, dax)
        self.prepare(c.path, d)
        cmd = self.command(c.path, d)
        rc, out = self.run(d, cmd, c.spec)
        if rc == "timeout":
            bad.append("did not finish within 60 s")
        elif rc < 0:
            bad.append("killed by signal %d" % -rc)
        elif rc not in (0, 1, 64):
            bad.append("exit code %d is not 0, 1 or 64" % rc)
        elif rc != c.rc:
            bad.append("exit code %d, expected %d" % (rc, c.rc))
        flog = os.path.join(d, "faults.log")
        fired = open(flog).read() if os.path.exists(flog) else ""
        if not fired or (c.fired and c.fired not in fired):
            bad.append("the fault never fired (%s)" % (c.fired or "no shim log"))
        for s in c.stderr:
            if s not in out:
                bad.append("output lacks %r" % s)
        if c.path in ("coldplug", "dax"):
            sf = os.path.join(d, "run", "state.json")
            st = None
            if os.path.exists(sf):
                try:
                    st = json.load(open(sf))
                except ValueError as e:
                    bad.append("state file does not parse: %s" % e)
            elif c.state:
                bad.append("no state file")
            if st is not None and c.state:
                dev, want = c.state
                recs = [x for x in st.get("devices", []) if x.get("id") == dev]
                if len(recs) != 1:
                    bad.append("state: %d records for %s" % (len(recs), dev))
                else:
                    le = recs[0].get("last_error") or ""
                    for s in want:
                        if s not in le:
                            bad.append("state %s last_error %r lacks %r" % (dev, le, s))
        # retry without faults: converges to the fault-free end state
        rrc, rout = self.run(d, cmd)
        if rrc != c.retry_rc:
            bad.append("retry without faults exited %s, expected %d: %s" %
                       (rrc, c.retry_rc, rout.strip()[-400:]))
        got = self.listing(d)
        if got != ref:
            bad.append("after the retry memhpctl list --json differs from a fault-free run: %s" %
                       diff(ref, got))
        if bad:
            self.failures.append(c.id)
            print("FAIL %s (rc %s)" % (c.id, rc))
            for b in bad:
                print("    " + b)
            print("    output:\n" + "".join("      | " + ln + "\n"
                                           for ln in out.strip().splitlines()[-12:]))
        else:
            print("ok   %s (rc %s)" % (c.id, rc))
            if self.verbose:
                print("".join("      | " + ln + "\n" for ln in out.strip().splitlines()))
        if not os.environ.get("MEMHP_KEEP"):
            shutil.rmtree(d, ignore_errors=True)


def main(argv):
    if os.environ.get("MEMHP_PROTECTED") != "1":
        sys.exit("test-faults: refusing to run outside tests/protect (MEMHP_PROTECTED=1)")
    verbose = "-v" in argv
    only = argv[argv.index("-k") + 1] if "-k" in argv else None
    r = Runner(verbose)
    t0 = time.time()
    try:
        cases = [c for c in matrix() if not only or only in c.id]
        for c in cases:
            r.case(c)
    finally:
        if os.environ.get("MEMHP_KEEP"):
            print("kept " + r.tmp)
        else:
            shutil.rmtree(r.tmp, ignore_errors=True)
    print("test-faults: %d cases, %d failed, %.1f s" % (len(cases), len(r.failures),
                                                       time.time() - t0))
    if r.failures:
        print("failed: " + " ".join(r.failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
