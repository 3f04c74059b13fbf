#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The real memhpd under a umockdev testbed that plays the kernel.

    test_memhpd.py SCENARIO      (storm, dax-memmap, node-link, enobufs, sighup, restart)

Environment (set by tests/umockdev/meson.build): MEMHPD, MEMHPCTL, the
daemon and CLI binaries; MEMHP_UMOCKDEV_SHIM, libmemhp-umockdev.so;
MEMHP_MKFIXTURE, tests/fixtures/mkfixture.py.

How the pieces fit:
  * A UMockdev.Testbed provides the root directory.  The base machine is a
    mkfixture.py fixture copied into it (sys/ and proc/ as a kernel prints
    them).  memhpd runs with --sysroot <root>, LD_PRELOAD=libmemhp-umockdev.so
    plus libumockdev-preload.so.0, UMOCKDEV_DIR=<root>: its libudev monitor
    gets the uevents this script emits with Testbed.uevent(), and any /sys
    access libudev makes is redirected into the testbed, never the host.
  * This script runs itself under umockdev-wrapper, so that Testbed.uevent()
    (which builds each event with libudev in this process) reads the
    testbed's /sys, not the host's.
  * The test is the kernel.  Hot-add = create memoryN in the testbed's sysfs
    (attributes, subsystem link, bus and node links; plain files, because
    Testbed.add_from_string() under the preload sends "add" at once and the
    test must choose when, or whether, memhpd hears of it), then emit "add"
    with Testbed.uevent().  Uevents are paced (Kernel.emit) because umockdev
    aborts on a full socket queue.  Every write() memhpd makes inside
    the root is forwarded by libmemhp-umockdev.so (kernelrpc.c) to the Kernel
    class below and answered before write() returns, as a sysfs store is:
    state := online_movable sets state/valid_zones like the kernel, refuses a
    zone valid_zones does not offer with EINVAL (recorded as a violation; the
    test fails on any), and queues the "online" uevent a kernel sends; dax
    driver unbind/new_id/bind move driver links, and binding kmem adds the
    device's memory blocks and /proc/iomem lines.
  * memhpd's NOTIFY_SOCKET is a datagram socket read here; state file and
    control socket live in a private runtime directory.

Each scenario asserts concrete values, waits with bounded timeouts that fail
with a message, and kills the daemon on every way out.  A missing umockdev
or gi binding is a skip (exit 77) with the reason printed.
"""

import errno
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

SKIP = 77
BS = 128 << 20                      # memory block size of the fixtures used
VMEMMAP = BS // 4096 * 64           # struct pages of one block: 2 MiB
MEM = "sys/devices/system/memory"
NODE = "sys/devices/system/node"
ACPI = "sys/devices/LNXSYSTM:00/LNXSYBUS:00"
DAXBUS = "sys/bus/dax"
KERNEL_ZONES = ("DMA", "DMA32", "Normal")
T0 = time.monotonic()


class Fail(Exception):
    pass


def say(msg):
    print("[%7.3f] %s" % (time.monotonic() - T0, msg), flush=True)


def skip(reason):
    print("SKIP: " + reason, flush=True)
    sys.exit(SKIP)


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def eq(got, want, what):
    if got != want:
        raise Fail("%s: expected %r, got %r" % (what, want, got))


def wait_until(pred, timeout, what, daemon=None):
    """Poll pred() until true; fail naming `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if daemon is not None and daemon.p.poll() is not None:
            raise Fail("memhpd exited with status %s while waiting for %s" %
                       (daemon.p.returncode, what))
        if time.monotonic() > deadline:
            raise Fail("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(0.02)


def load_umockdev():
    if not shutil.which("umockdev-wrapper"):
        skip("umockdev-wrapper not found (Debian package umockdev)")
    try:
        import gi
        gi.require_version("UMockdev", "1.0")
        from gi.repository import UMockdev
    except (ImportError, ValueError) as e:
        skip("gi UMockdev not importable with %s (python3-gi, gir1.2-umockdev-1.0): %s" %
             (sys.executable, e))
    return UMockdev


def read(path):
    with open(path) as f:
        return f.read()


def replace_file(path, text):
    """Replace a file's content atomically, keeping its mode (readers never see half)."""
    mode = os.stat(path).st_mode & 0o7777 if os.path.exists(path) else 0o644
    tmp = path + ".kernel-tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def rel_symlink(root, rel, target_rel):
    """Symlink root/rel -> root/target_rel, relative as the kernel's are."""
    path = os.path.join(root, rel)
    if os.path.lexists(path):
        os.unlink(path)
    os.symlink(os.path.relpath(target_rel, os.path.dirname(rel)), path)


# --------------------------------------------------------------------------
# The kernel
# --------------------------------------------------------------------------

class Kernel:
    """Answers memhpd's sysfs stores (via kernelrpc.c) and makes hot-adds."""

    WINDOW = 6

    def __init__(self, tb, root, rundir):
        self.tb = tb
        self.root = root
        self.tb_lock = threading.RLock()   # UMockdev.Testbed calls
        self.lock = threading.RLock()      # kernel state and files
        self.writes = []                   # (monotonic time, rel path, value, errno)
        self.violations = []               # stores a real kernel would refuse
        self.errors = []                   # exceptions inside the kernel itself
        self.offline_zones = {}            # block index -> valid_zones while offline
        self.memmap_on = {}                # block index -> memmap on the block (altmap)
        self.ids = {"kmem": set(), "device_dax": set()}
        self.events = queue.Queue()        # uevents the kernel sends by itself
        self.emitted = 0
        self.received = lambda: self.emitted  # set by the harness: uevents memhpd logged
        self.stopping = False
        self.sockpath = os.path.join(rundir, "kernel.sock")
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.srv.bind(self.sockpath)
        self.srv.listen(8)
        self.srv.settimeout(0.1)
        self.threads = [threading.Thread(target=self._serve, daemon=True),
                        threading.Thread(target=self._send_events, daemon=True)]
        for t in self.threads:
            t.start()

    def close(self):
        self.stopping = True
        for t in self.threads:
            t.join(2)
        self.srv.close()

    # ---- paths ----

    def p(self, rel):
        path = os.path.normpath(os.path.join(self.root, rel))
        if not path.startswith(self.root + "/"):
            raise RuntimeError("path %r escapes the testbed" % rel)
        return path

    def readattr(self, rel):
        return read(self.p(rel)).rstrip("\n")

    def setattr(self, rel, value):
        replace_file(self.p(rel), value + "\n")

    # ---- uevents ----

    def emit(self, syspath, action):
        """Testbed.uevent() with flow control.  umockdev sends without
        blocking and abort()s the whole test on EAGAIN, which a unix datagram
        socket returns once net.unix.max_dgram_qlen (default 10) datagrams are
        queued, e.g. while memhpd is busy onlining.  So keep at most WINDOW
        uevents that memhpd has not logged ("debug: uevent ...") in flight."""
        wait_until(lambda: self.emitted - self.received() < self.WINDOW, 15,
                   "memhpd to take uevents (%d sent, %d logged)" %
                   (self.emitted, self.received()))
        with self.tb_lock:
            self.tb.uevent(syspath, action)
            self.emitted += 1

    def _send_events(self):
        while not self.stopping:
            try:
                syspath, action = self.events.get(timeout=0.05)
            except queue.Empty:
                continue
            try:
                self.emit(syspath, action)
            except Exception as e:  # noqa: BLE001 - reported by the test
                self.errors.append("uevent %s %s: %s" % (action, syspath, e))
            finally:
                self.events.task_done()

    def settle(self, timeout=5):
        """Wait until every uevent the kernel queued has been sent."""
        wait_until(lambda: self.events.unfinished_tasks == 0, timeout,
                   "the kernel's queued uevents to be sent")

    # ---- the RPC server for kernelrpc.c ----

    def _serve(self):
        while not self.stopping:
            try:
                conn, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn):
        conn.settimeout(0.2)
        with conn:
            while not self.stopping:
                try:
                    pkt = conn.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not pkt:
                    return
                rel, _, raw = pkt.partition(b"\0")
                e = self.store(rel.decode(), raw)
                try:
                    conn.send(b"%d" % e)
                except OSError:
                    return

    def store(self, rel, raw):
        value = raw.decode(errors="replace")
        v = value[:-1] if value.endswith("\n") else value
        with self.lock:
            try:
                e = self._store(rel, v)
            except Exception as ex:  # noqa: BLE001 - the test fails on errors
                self.errors.append("store %s <- %r: %s\n%s" % (rel, v, ex,
                                                               traceback.format_exc()))
                e = errno.EIO
            self.writes.append((time.monotonic(), rel, v, e))
        say("kernel: %s <- %r: %s" % (rel, v, errno.errorcode.get(e, "OK") if e else "OK"))
        return e

    def _store(self, rel, v):
        m = re.fullmatch(MEM + r"/memory(\d+)/state", rel)
        if m:
            return self.block_state(int(m.group(1)), v)
        if rel == MEM + "/auto_online_blocks":
            if v not in ("offline", "online", "online_kernel", "online_movable"):
                return errno.EINVAL
            self.setattr(rel, v)
            return 0
        m = re.fullmatch(DAXBUS + r"/drivers/([^/]+)/(bind|unbind|new_id|remove_id)", rel)
        if m:
            return self.dax_driver(m.group(1), m.group(2), v)
        if rel.endswith("/memmap_on_memory") and self.is_dax_dir(os.path.dirname(rel)):
            return self.dax_memmap(os.path.dirname(rel), v)
        if not os.path.isfile(self.p(rel)):
            return errno.ENOENT
        self.setattr(rel, v)
        return 0

    # ---- memory blocks ----

    def block_dir(self, idx):
        return "%s/memory%d" % (MEM, idx)

    def block_state(self, idx, v):
        d = self.block_dir(idx)
        state = self.readattr(d + "/state")
        zones = self.readattr(d + "/valid_zones").split()
        syspath = "/" + d
        if v in ("online", "online_movable", "online_kernel"):
            if state == "online":
                return errno.EINVAL
            if v == "online_movable":
                zone = "Movable" if "Movable" in zones else None
            elif v == "online_kernel":
                zone = next((z for z in zones if z in KERNEL_ZONES), None)
            else:
                zone = zones[0] if zones else None
            if zone is None:
                self.violations.append("memory%d: %s written but valid_zones is %r" %
                                       (idx, v, " ".join(zones)))
                return errno.EINVAL
            self.offline_zones[idx] = " ".join(zones)
            self.account(idx, zone, +1)
            self.setattr(d + "/valid_zones", zone)
            self.setattr(d + "/online", "1")
            self.setattr(d + "/state", "online")
            self.events.put((syspath, "online"))
            return 0
        if v == "offline":
            if state == "offline":
                return errno.EINVAL
            self.account(idx, self.readattr(d + "/valid_zones"), -1)
            self.set_block_offline(idx)
            self.events.put((syspath, "offline"))
            return 0
        return errno.EINVAL

    def block_node(self, idx):
        for name in os.listdir(self.p(self.block_dir(idx))):
            m = re.fullmatch(r"node(\d+)", name)
            if m:
                return int(m.group(1))
        return None

    def account(self, idx, zone, sign):
        """online_pages()/offline_pages() bookkeeping in /proc/zoneinfo and the
        node's meminfo: all pages of the block become present in the zone,
        all but its vmemmap pages (memmap on the memory) managed and free."""
        pages = BS // 4096
        managed = pages - (VMEMMAP // 4096 if self.memmap_on.get(idx) else 0)
        node = self.block_node(idx)
        lines = read(self.p("proc/zoneinfo")).split("\n")
        head = re.compile(r"Node (\d+), zone\s+(\S+)$")
        cur = None
        for i, line in enumerate(lines):
            m = head.match(line)
            if m:
                cur = (int(m.group(1)), m.group(2))
                continue
            if cur != (node, zone):
                continue
            m = re.match(r"(\s+(?:pages free|spanned|present|managed)\s+)(\d+)$", line)
            if m:
                key = m.group(1).split()[-1]
                delta = managed if key in ("free", "managed") else pages
                lines[i] = m.group(1) + str(int(m.group(2)) + sign * delta)
        replace_file(self.p("proc/zoneinfo"), "\n".join(lines))
        mi = self.p("%s/node%d/meminfo" % (NODE, node))
        text = re.sub(r"^(Node \d+ Mem(?:Total|Free):\s+)(\d+)",
                      lambda m: m.group(1) + str(int(m.group(2)) + sign * managed * 4),
                      read(mi), flags=re.M)
        replace_file(mi, text)

    def set_block_offline(self, idx):
        d = self.block_dir(idx)
        self.setattr(d + "/state", "offline")
        self.setattr(d + "/online", "0")
        self.setattr(d + "/valid_zones", self.offline_zones.get(idx, "Normal Movable"))

    def make_device(self, d, bus, uevent, attrs):
        """A device directory as the driver core makes it: attributes, uevent,
        subsystem link and the bus's devices/ link.  Plain files in the
        testbed, not Testbed.add_from_string(): under umockdev-preload that
        also sends an "add" uevent at once, and the test decides when (and
        whether) memhpd hears of a device."""
        os.makedirs(self.p(d))
        for k, v in attrs:
            os.makedirs(os.path.dirname(self.p(d + "/" + k)), exist_ok=True)
            with open(self.p(d + "/" + k), "w") as f:
                f.write(v + "\n")
        with open(self.p(d + "/uevent"), "w") as f:
            f.write(uevent)
        rel_symlink(self.root, d + "/subsystem", bus)
        rel_symlink(self.root, "%s/devices/%s" % (bus, os.path.basename(d)), d)

    def add_block(self, idx, node=0, fw=None, valid_zones="Normal Movable", memmap_on=None):
        """Create memoryN as add_memory_block() does; node None: no node link yet.
        memmap_on None: as memory_hotplug.memmap_on_memory says."""
        if memmap_on is None:
            memmap_on = self.readattr("sys/module/memory_hotplug/parameters/"
                                      "memmap_on_memory") in ("Y", "y", "1", "force")
        self.memmap_on[idx] = memmap_on
        d = self.block_dir(idx)
        self.make_device(d, "sys/bus/memory", "",
                         (("phys_index", "%08x" % idx), ("state", "offline"), ("online", "0"),
                          ("removable", "1"), ("valid_zones", valid_zones),
                          ("phys_device", "0")))
        if fw:
            rel_symlink(self.root, d + "/firmware_node", "%s/%s" % (ACPI, fw))
        self.offline_zones[idx] = valid_zones
        if node is not None:
            self.link_node(idx, node)

    def link_node(self, idx, node):
        """register_memory_blocks_under_node(): plain sysfs links, no uevent."""
        d = self.block_dir(idx)
        rel_symlink(self.root, "%s/node%d/memory%d" % (NODE, node, idx), d)
        rel_symlink(self.root, "%s/node%d" % (d, node), "%s/node%d" % (NODE, node))

    def remove_block(self, idx):
        d = self.block_dir(idx)
        for name in os.listdir(self.p(d)):
            m = re.fullmatch(r"node(\d+)", name)
            if m:
                os.unlink(self.p("%s/node%s/memory%d" % (NODE, m.group(1), idx)))
        os.unlink(self.p("sys/bus/memory/devices/memory%d" % idx))
        shutil.rmtree(self.p(d))
        self.offline_zones.pop(idx, None)

    def add_dimm(self, fw, first, n, node=0, emit=True, order=None):
        """ACPI memory device fw (PNP0C80:XX) with blocks first..first+n-1."""
        uid = fw.split(":")[1]
        d = "%s/%s" % (ACPI, fw)
        os.makedirs(self.p(d))
        for k, v in (("hid", "PNP0C80"), ("modalias", "acpi:PNP0C80:"), ("status", "15"),
                     ("uid", uid), ("path", "\\_SB_.MHPC.M%03d" % int(uid, 16)),
                     ("uevent", "MODALIAS=acpi:PNP0C80:")):
            with open(self.p(d + "/" + k), "w") as f:
                f.write(v + "\n")
        rel_symlink(self.root, d + "/subsystem", "sys/bus/acpi")
        self.iomem_add_top(first * BS, (first + n) * BS - 1, "System RAM")
        for i in range(n):
            self.add_block(first + i, node=node, fw=fw)
            rel_symlink(self.root, "%s/physical_node%s" % (d, str(i) if i else ""),
                        self.block_dir(first + i))
        if emit:
            for idx in order or range(first, first + n):
                self.emit("/" + self.block_dir(idx), "add")

    def remove_dimm(self, fw, first, n):
        """Hot-remove behind memhpd's back (the daemon is not running)."""
        for i in range(n):
            self.remove_block(first + i)
        shutil.rmtree(self.p("%s/%s" % (ACPI, fw)))
        self.iomem_remove(lambda line: line.startswith("%08x-%08x : " % (
            first * BS, (first + n) * BS - 1)))

    # ---- /proc/iomem ----

    def iomem_lines(self):
        return read(self.p("proc/iomem")).splitlines()

    def iomem_write(self, lines):
        replace_file(self.p("proc/iomem"), "".join(x + "\n" for x in lines))

    def iomem_add_top(self, start, end, name):
        lines = self.iomem_lines()
        pos = len(lines)
        for i, line in enumerate(lines):
            if not line.startswith(" ") and int(line.split("-")[0], 16) > start:
                pos = i
                break
        lines.insert(pos, "%08x-%08x : %s" % (start, end, name))
        self.iomem_write(lines)

    def iomem_add_under(self, parent, children):
        """Insert children (lines with their indentation) right after line `parent`."""
        lines = self.iomem_lines()
        i = lines.index(parent)
        lines[i + 1:i + 1] = children
        self.iomem_write(lines)

    def iomem_remove(self, pred):
        self.iomem_write([x for x in self.iomem_lines() if not pred(x)])

    # ---- dax ----

    def is_dax_dir(self, rel):
        link = self.p(rel + "/subsystem")
        return os.path.islink(link) and os.path.basename(os.readlink(link)) == "dax"

    def dax_dir(self, name):
        """The device directory (sys/devices/...) behind sys/bus/dax/devices/NAME."""
        link = "%s/devices/%s" % (DAXBUS, name)
        return os.path.relpath(os.path.realpath(self.p(link)), self.root)

    def dax_driver_of(self, name):
        link = self.p(self.dax_dir(name) + "/driver")
        return os.path.basename(os.readlink(link)) if os.path.islink(link) else ""

    def dax_range(self, name):
        d = self.dax_dir(name)
        start = int(self.readattr(d + "/resource"), 16)
        return start, start + int(self.readattr(d + "/size")) - 1

    def dax_driver(self, drv, op, name):
        if not re.fullmatch(r"dax\d+\.\d+", name):
            return errno.EINVAL
        if op in ("new_id", "remove_id"):
            ids = self.ids.setdefault(drv, set())
            if op == "remove_id":
                ids.discard(name)
                return 0
            ids.add(name)
            # driver_attach(): probe the device if it is unbound; new_id
            # itself succeeds whatever the probe says
            if os.path.lexists(self.p("%s/devices/%s" % (DAXBUS, name))) and \
                    not self.dax_driver_of(name):
                self.dax_probe(drv, name)
            return 0
        if not os.path.lexists(self.p("%s/devices/%s" % (DAXBUS, name))):
            return errno.ENODEV
        cur = self.dax_driver_of(name)
        if op == "unbind":
            if cur != drv:
                return errno.ENODEV
            if drv == "kmem":
                return errno.EBUSY  # its memory is online: not emulated
            self.dax_release(drv, name)
            return 0
        if cur:
            return errno.EBUSY
        if drv == "kmem" and name not in self.ids["kmem"]:
            return errno.ENODEV  # kmem matches dax devices by id only
        return self.dax_probe(drv, name)

    def dax_bind_links(self, drv, name, emit=True):
        d = self.dax_dir(name)
        rel_symlink(self.root, d + "/driver", "%s/drivers/%s" % (DAXBUS, drv))
        rel_symlink(self.root, "%s/drivers/%s/%s" % (DAXBUS, drv, name), d)
        self.setattr(d + "/uevent", "MODALIAS=dax:t0*\nDRIVER=%s" % drv)
        if emit:
            self.events.put(("/" + d, "bind"))

    def dax_probe(self, drv, name, emit=True):
        start, end = self.dax_range(name)
        d = self.dax_dir(name)
        parent = next(x for x in self.iomem_lines() if not x.startswith(" ") and
                      int(x.split("-")[0], 16) <= start <= end <= int(x.split()[0].split("-")[1], 16))
        if drv == "device_dax":
            self.iomem_add_under(parent, ["  %08x-%08x : %s" % (start, end, name)])
            self.dax_bind_links(drv, name, emit)
            return 0
        if drv != "kmem":
            return errno.ENODEV
        node = int(self.readattr(d + "/target_node"))
        if node < 0:
            return errno.EINVAL
        # dev_dax_kmem_probe(): request "daxX.Y", add_memory_driver_managed()
        # "System RAM (kmem)": one memory block per block_size, offline
        self.iomem_add_under(parent, ["  %08x-%08x : %s" % (start, end, name),
                                      "    %08x-%08x : System RAM (kmem)" % (start, end)])
        first, last = -(-start // BS), (end + 1) // BS
        on = self.readattr(d + "/memmap_on_memory") == "1"
        for idx in range(first, last):
            self.add_block(idx, node=node, memmap_on=on)
            self.events.put(("/" + self.block_dir(idx), "add"))
        self.dax_bind_links(drv, name)
        return 0

    def dax_release(self, drv, name):
        d = self.dax_dir(name)
        os.unlink(self.p(d + "/driver"))
        os.unlink(self.p("%s/drivers/%s/%s" % (DAXBUS, drv, name)))
        self.setattr(d + "/uevent", "MODALIAS=dax:t0*")
        self.iomem_remove(lambda x: x.startswith("  ") and not x.startswith("   ") and
                          x.endswith(" : " + name))
        self.events.put(("/" + d, "unbind"))

    def dax_memmap(self, d, v):
        """drivers/dax/bus.c memmap_on_memory_store()."""
        truth = {"1": True, "y": True, "yes": True, "on": True, "true": True,
                 "0": False, "n": False, "no": False, "off": False, "false": False}
        if v.lower() not in truth:
            return errno.EINVAL
        on = truth[v.lower()]
        param = self.readattr("sys/module/memory_hotplug/parameters/memmap_on_memory")
        if on and param in ("N", "n", "0"):
            return errno.EOPNOTSUPP
        link = self.p(d + "/driver")
        bound = os.path.basename(os.readlink(link)) if os.path.islink(link) else ""
        if bound == "kmem" and (self.readattr(d + "/memmap_on_memory") == "1") != on:
            return errno.EBUSY
        self.setattr(d + "/memmap_on_memory", "1" if on else "0")
        return 0

    def add_dax(self, name, platform, start, size, node):
        """An hmem dax device bound to device_dax, as at boot or hot-plug of
        soft-reserved memory; returns its sysfs path for uevents."""
        pdir = "sys/devices/platform/" + platform
        os.makedirs(self.p(pdir + "/dax_region"))
        for k, v in (("id", name[3:].split(".")[0]), ("size", str(size)),
                     ("align", "2097152"), ("available_size", "0")):
            with open(self.p("%s/dax_region/%s" % (pdir, k)), "w") as f:
                f.write(v + "\n")
        self.iomem_add_top(start, start + size - 1, "Soft Reserved")
        d = "%s/%s" % (pdir, name)
        self.make_device(d, DAXBUS, "MODALIAS=dax:t0*\n",
                         (("size", str(size)), ("resource", "0x%x" % start),
                          ("align", "2097152"), ("target_node", str(node)),
                          ("numa_node", str(node)), ("memmap_on_memory", "0"),
                          ("modalias", "dax:t0*"), ("mapping0/start", "0x%x" % start),
                          ("mapping0/end", "0x%x" % (start + size - 1)),
                          ("mapping0/page_offset", "0x0")))
        with self.lock:
            self.dax_probe("device_dax", name, emit=False)  # the caller sends add, bind
        return "/" + d


# --------------------------------------------------------------------------
# The daemon
# --------------------------------------------------------------------------

class Daemon:
    def __init__(self, h, n):
        self.h = h
        self.n = n
        env = {k: v for k, v in os.environ.items()
               if k not in ("JOURNAL_STREAM", "INVOCATION_ID", "LISTEN_FDS", "LISTEN_PID",
                            "WATCHDOG_USEC", "WATCHDOG_PID", "LD_PRELOAD")}
        env.update(UMOCKDEV_DIR=h.root,
                   LD_PRELOAD=h.shim + ":libumockdev-preload.so.0",
                   MEMHP_TEST_KERNEL_ROOT=h.root,
                   MEMHP_TEST_KERNEL_SOCKET=h.kernel.sockpath,
                   MEMHP_TEST_ENOBUFS_TRIGGER=h.trigger,
                   NOTIFY_SOCKET=h.notify_path)
        cmd = [h.memhpd, "--sysroot", h.root, "--config", h.conf, "--stderr",
               "--log-level", "debug"]
        say("starting memhpd #%d: %s" % (n, " ".join(cmd)))
        self.started = time.monotonic()
        # The daemon dies with the test (PR_SET_PDEATHSIG), set by util-linux setpriv before
        # it execs memhpd (same pid). Not a preexec_fn: Python code between fork and exec can
        # deadlock on a lock another thread held at fork (a reader thread printing), which
        # hung the restart scenario at the second start.
        self.p = subprocess.Popen(["setpriv", "--pdeathsig", "KILL"] + cmd, env=env,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.p.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self.h.log.append((time.monotonic(), self.n, line))
            if ": debug: uevent " in line:
                self.h.nreceived += 1
            print("[%7.3f] memhpd#%d| %s" % (time.monotonic() - T0, self.n, line), flush=True)

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig):
        check(self.alive(), "memhpd #%d is not running (status %s)" % (self.n, self.p.returncode))
        self.p.send_signal(sig)

    def stop(self, timeout=5):
        """SIGTERM and wait; SIGKILL if it does not go.  Returns the exit status."""
        if self.alive():
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                self.reader.join(2)
                raise Fail("memhpd #%d ignored SIGTERM for %d s; killed" % (self.n, timeout))
        self.reader.join(2)
        return self.p.returncode

    def kill(self):
        if self.alive():
            self.p.kill()
            self.p.wait()


# --------------------------------------------------------------------------
# Harness
# --------------------------------------------------------------------------

class Harness:
    def __init__(self, UMockdev, machine, fixture_dir=None):
        """machine: a mkfixture.py machine name; fixture_dir, when given, an already built
        tree copied with cp -a instead (bench/storm.py: big synthetic trees)."""
        self.memhpd = os.environ.get("MEMHPD", "")
        self.memhpctl = os.environ.get("MEMHPCTL", "")
        self.shim = os.environ.get("MEMHP_UMOCKDEV_SHIM", "")
        mkfixture = os.environ.get("MEMHP_MKFIXTURE", "")
        for var, path in (("MEMHPD", self.memhpd), ("MEMHPCTL", self.memhpctl),
                          ("MEMHP_UMOCKDEV_SHIM", self.shim)):
            if not path or not os.access(path, os.R_OK):
                raise Fail("%s=%r: not set or not readable (run through meson test)" % (var, path))
        if not fixture_dir and (not mkfixture or not os.path.isfile(mkfixture)):
            skip("fixture generator MEMHP_MKFIXTURE=%r not found" % mkfixture)

        self.daemons = []
        self.log = []                   # (monotonic, daemon number, line)
        self.notes = []                 # (monotonic, notify datagram)
        self.kernel = None
        self.notify = None
        self.tb = None
        # memhpd's run directory (state file, metrics, sockets): like /run, on tmpfs when
        # the benchmark puts a big testbed on disk (MEMHP_RUNDIR_PARENT)
        self.rundir = tempfile.mkdtemp(prefix="memhp-umockdev-",
                                       dir=os.environ.get("MEMHP_RUNDIR_PARENT"))
        self.conf = os.path.join(self.rundir, "memhpd.conf")
        self.state_path = os.path.join(self.rundir, "state.json")
        self.control = os.path.join(self.rundir, "control")
        self.trigger = os.path.join(self.rundir, "enobufs-trigger")
        self.notify_path = os.path.join(self.rundir, "notify")

        self.tb = UMockdev.Testbed.new()
        self.root = os.path.realpath(self.tb.get_root_dir())
        check(self.root != "/" and os.path.isdir(self.root + "/sys"),
              "testbed root %r is not a fresh umockdev directory" % self.root)
        if fixture_dir:
            r = subprocess.run(["cp", "-a", fixture_dir + "/.", self.root + "/"],
                               capture_output=True, text=True)
            check(r.returncode == 0, "cp -a %s failed: %s" % (fixture_dir, r.stderr.strip()))
        else:
            fx = os.path.join(self.rundir, "fixture")
            r = subprocess.run([sys.executable, mkfixture, machine, fx], capture_output=True,
                               text=True, timeout=30)
            check(r.returncode == 0, "mkfixture.py %s failed: %s" % (machine, r.stderr.strip()))
            shutil.copytree(fx, self.root, symlinks=True, dirs_exist_ok=True)
            shutil.rmtree(fx)
        say("testbed %s holds fixture %s" % (self.root, machine))

        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.notify.settimeout(0.1)
        self.notify_stop = False
        self.notify_thread = threading.Thread(target=self._read_notify, daemon=True)
        self.notify_thread.start()
        self.nreceived = 0
        self.kernel = Kernel(self.tb, self.root, self.rundir)
        self.kernel.received = lambda: self.nreceived
        self.write_config()

    def _read_notify(self):
        while not self.notify_stop:
            try:
                msg = self.notify.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            text = msg.decode(errors="replace")
            self.notes.append((time.monotonic(), text))
            say("notify: " + text.replace("\n", " | "))

    def close(self):
        for d in self.daemons:
            d.kill()
        if self.kernel:
            self.kernel.close()
        if self.notify:
            self.notify_stop = True
            self.notify_thread.join(2)
            self.notify.close()
        shutil.rmtree(self.rundir, ignore_errors=True)
        self.tb = None  # UMockdev.Testbed removes its root directory when freed

    # ---- configuration and daemon ----

    def config_text(self, extra="", daemon_extra=""):
        return ("[daemon]\n"
                "state_file = %s\n"
                "control_socket = %s\n"
                "batch = 200ms\n"
                "node_wait = 2s\n"
                "%s\n%s" % (self.state_path, self.control, daemon_extra, extra))

    def write_config(self, extra="", daemon_extra="", text=None):
        replace_file(self.conf, text if text is not None else
                     self.config_text(extra, daemon_extra))

    def start(self, timeout=10):
        since = time.monotonic()
        d = Daemon(self, len(self.daemons) + 1)
        self.daemons.append(d)
        self.wait_notify(lambda m: "READY=1" in m, since, timeout, "READY=1 from memhpd", d)
        return d

    # ---- observations ----

    def log_since(self, since=0.0):
        return [(t, line) for t, _, line in list(self.log) if t >= since]

    def wait_log(self, regex, since=0.0, timeout=5, daemon=None):
        rx = re.compile(regex)

        def find():
            for t, line in self.log_since(since):
                if rx.search(line):
                    return (t, line)
            return None
        return wait_until(find, timeout, "a memhpd log line matching /%s/" % regex, daemon)

    def count_log(self, regex, since=0.0):
        rx = re.compile(regex)
        return sum(1 for _, line in self.log_since(since) if rx.search(line))

    def notes_since(self, since):
        return [(t, m) for t, m in list(self.notes) if t >= since]

    def wait_notify(self, pred, since, timeout, what, daemon=None):
        return wait_until(lambda: next(((t, m) for t, m in self.notes_since(since) if pred(m)),
                                       None), timeout, what, daemon)

    def status(self):
        r = subprocess.run([self.memhpctl, "--socket", self.control, "status", "--json"],
                           capture_output=True, text=True, timeout=10)
        check(r.returncode == 0, "memhpctl status --json failed (%d): %s" %
              (r.returncode, r.stderr.strip()))
        try:
            doc = json.loads(r.stdout)
        except ValueError as e:
            raise Fail("memhpctl status --json printed no JSON (%s): %r" % (e, r.stdout[:300]))
        check(doc.get("ok") is True and isinstance(doc.get("status"), dict),
              "memhpctl status --json: unexpected reply %r" % r.stdout[:300])
        return doc["status"]

    def state_file(self):
        try:
            with open(self.state_path) as f:
                return json.load(f)
        except (OSError, ValueError) as e:
            raise Fail("cannot read the state file %s: %s" % (self.state_path, e))

    def block(self, idx):
        d = self.root + "/%s/memory%d" % (MEM, idx)
        try:
            return read(d + "/state").strip(), read(d + "/valid_zones").strip()
        except FileNotFoundError:
            return ("absent", "")

    def wait_online(self, blocks, zone, timeout=10, daemon=None):
        blocks = list(blocks)

        def done():
            return all(self.block(i) == ("online", zone) for i in blocks)
        try:
            wait_until(done, timeout, "%d blocks to be online in %s" % (len(blocks), zone),
                       daemon)
        except Fail as e:
            bad = {i: self.block(i) for i in blocks if self.block(i) != ("online", zone)}
            raise Fail("%s; not there: %s" % (e, dict(list(bad.items())[:8])))

    def writes_for(self, regex, since=0.0):
        rx = re.compile(regex)
        return [(rel, v, e) for t, rel, v, e in list(self.kernel.writes)
                if t >= since and rx.search(rel + " " + v)]

    def quiesce(self, daemon, quiet=0.6, timeout=10):
        """Kernel uevents sent and no new memhpd log line for `quiet` seconds."""
        self.kernel.settle()

        def still():
            last = self.log[-1][0] if self.log else 0
            return time.monotonic() - last >= quiet
        wait_until(still, timeout, "memhpd to go quiet", daemon)

    def final_checks(self):
        check(not self.kernel.errors, "the test's kernel failed: %s" % self.kernel.errors)
        check(not self.kernel.violations,
              "memhpd wrote zones valid_zones did not offer: %s" % self.kernel.violations)
        bad = [line for _, _, line in self.log if "kernelrpc:" in line]
        check(not bad, "the write shim reported: %s" % bad)


def device(doc, dev_id):
    """The entry for dev_id in a status or state document's device list."""
    devs = doc.get("devices")
    if isinstance(devs, dict):  # status: the whole state document, as memhpctl accepts
        devs = devs.get("devices")
    check(isinstance(devs, list), "no device list in %s" % sorted(doc))
    for d in devs:
        if d.get("id") == dev_id:
            return d
    raise Fail("device %s not listed (have %s)" % (dev_id, [d.get("id") for d in devs]))


def counters(doc):
    c = doc.get("counters")
    check(isinstance(c, dict), "no counters in %s" % sorted(doc))
    return c


def bpath(idx):
    return "/%s/memory%d" % (MEM, idx)


# --------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------

def coldplug_base(h):
    """x86-dimm-128m: start memhpd; coldplug onlines the fixture's DIMM."""
    d = h.start()
    h.wait_online(range(40, 48), "Movable", daemon=d)
    h.quiesce(d)
    return d


def sc_storm(h):
    """64 blocks of one DIMM in a burst, some out of order: one decision."""
    d = coldplug_base(h)
    batches0 = counters(h.status()).get("batches", 0)
    since = time.monotonic()
    order = list(range(64, 128))
    for i in range(0, 64, 16):
        order[i:i + 8] = reversed(order[i:i + 8])
    order[0], order[-1] = order[-1], order[0]
    h.kernel.add_dimm("PNP0C80:01", 64, 64, emit=False)
    t_burst = time.monotonic()
    for idx in order:
        h.kernel.emit(bpath(idx), "add")
    say("64 add uevents emitted in %.0f ms" % ((time.monotonic() - t_burst) * 1000))
    h.wait_online(range(64, 128), "Movable", timeout=20, daemon=d)
    h.quiesce(d)

    eq(h.count_log(r"PNP0C80:01: decided ", since), 1, "decisions logged for PNP0C80:01")
    eq(h.count_log(r"uevent add memory/memory(6[4-9]|[7-9]\d|1[01]\d|12[0-7])$", since), 64,
       "add uevents memhpd received")
    writes = h.writes_for(r"memory\d+/state ", since)
    eq(len(writes), 64, "state writes")
    eq(sorted({(v, e) for _, v, e in writes}), [("online_movable", 0)], "state writes made")
    eq(sorted(int(re.search(r"memory(\d+)", rel).group(1)) for rel, _, _ in writes),
       list(range(64, 128)), "blocks written")

    st = h.status()
    dev = device(st, "PNP0C80:01")
    eq((dev.get("decision"), dev.get("zone"), dev.get("onlined"), dev.get("by_other"),
        dev.get("failed")), ("online", "movable", 64, 0, 0), "status of PNP0C80:01")
    c = counters(st)
    eq((c.get("blocks_onlined"), c.get("decisions_online"), c.get("conflicts")), (72, 2, 0),
       "status counters blocks_onlined, decisions_online, conflicts")
    # The first batch onlines the whole DIMM (the kernel bound all of it before the first
    # uevent); 63 adds and 64 online uevents of memhpd's own writes follow, at most
    # Kernel.WINDOW of them in flight.  A daemon processing every read of the socket as a
    # batch of its own needs more than 127 / WINDOW = 21 batches for them; one that waits
    # 20 ms after a batch before the next (memhpd.8) needed at most 11 here, 14 under ASan.
    batches = c.get("batches", 0) - batches0
    say("%d batches for 64 add uevents and their online echoes" % batches)
    check(batches <= 18, "%d batches for 64 add uevents and their online echoes: "
          "batching does not work" % batches)
    sf = device(h.state_file(), "PNP0C80:01")
    eq((sf.get("decision"), sf.get("zone"), sf.get("onlined"), sf.get("memmap")),
       ("online", "movable", 64, "on-memory"), "state file record of PNP0C80:01")
    eq(sf.get("memmap_on_device_bytes"), 64 * VMEMMAP, "state file memmap bytes on PNP0C80:01")
    t, note = h.wait_notify(lambda m: "STATUS=" in m and "onlined 72" in m, since, 5,
                            "STATUS= reporting 72 onlined blocks", d)
    check(any("STATUS=processing: " in m for _, m in h.notes_since(since)),
          "no STATUS=processing for a batch of 64 blocks")
    check(d.alive(), "memhpd died")


def sc_dax_memmap(h):
    """devdax -> system-ram with memmap on-memory (dax2.0) and ram (dax3.0)."""
    h.write_config("[rule dax-on-memory]\ntype = dax\nname = dax2.0\ndax_mode = system-ram\n"
                   "memmap = on-memory\n\n"
                   "[rule dax-ram]\ntype = dax\nname = dax3.0\ndax_mode = system-ram\n"
                   "memmap = ram\n")
    d = h.start()
    h.quiesce(d)
    eq(h.writes_for("."), [], "writes at coldplug (dax0.0, dax1.0 stay devdax)")

    cases = (("dax2.0", "hmem.2", 32 << 30, "1", 256), ("dax3.0", "hmem.3", 40 << 30, "0", 320))
    for name, plat, start, memmap, first in cases:
        size = 2 << 30
        since = time.monotonic()
        syspath = h.kernel.add_dax(name, plat, start, size, node=0)
        eq(h.kernel.dax_driver_of(name), "device_dax", "%s driver after hot-add" % name)
        h.kernel.emit(syspath, "add")
        h.kernel.emit(syspath, "bind")
        blocks = range(first, first + size // BS)
        h.wait_online(blocks, "Movable", timeout=10, daemon=d)
        h.quiesce(d)

        ddir = h.kernel.dax_dir(name)
        want = [(DAXBUS + "/drivers/device_dax/unbind", name, 0),
                (ddir + "/memmap_on_memory", memmap, 0),
                (DAXBUS + "/drivers/kmem/new_id", name, 0)]
        eq(h.writes_for(r"dax|memmap_on_memory", since), want,
           "%s: sysfs writes (unbind, memmap_on_memory, new_id)" % name)
        eq(h.kernel.readattr(ddir + "/memmap_on_memory"), memmap, name + " memmap_on_memory")
        eq(h.kernel.dax_driver_of(name), "kmem", name + " driver")
        writes = h.writes_for(r"memory\d+/state ", since)
        eq(sorted(writes), sorted((MEM + "/memory%d/state" % i, "online_movable", 0)
                                  for i in blocks), name + ": block onlining writes")
        h.wait_log(r"%s: now system RAM, memmap %s" %
                   (re.escape(name), "on-memory" if memmap == "1" else "ram"), since, 1, d)
        # each block's time in the kernel (the write) and reading it back, at debug level
        eq(h.count_log(r"memory\d+: online in Movable \(write \d+\.\d\d ms, "
                       r"verify \d+\.\d\d ms\)", since), len(blocks),
           name + ": per-block timings logged")

    sf = h.state_file()
    on, ram = device(sf, "dax2.0"), device(sf, "dax3.0")
    eq((on.get("memmap"), on.get("memmap_on_device_bytes"), on.get("memmap_in_ram_bytes")),
       ("on-memory", 16 * VMEMMAP, 0), "state file: dax2.0 memmap")
    eq((ram.get("memmap"), ram.get("memmap_on_device_bytes"), ram.get("memmap_in_ram_bytes")),
       ("ram", 0, 16 * VMEMMAP), "state file: dax3.0 memmap")
    eq(h.writes_for(r"dax[01]\.0"), [], "writes touching dax0.0/dax1.0")
    eq(counters(h.status()).get("dax_reconfigured"), 2, "status counter dax_reconfigured")
    # libdaxctl (and libkmod, libcrypto behind it) is loaded for a conversion on the host
    # only; a sysroot converts through sysfs, so the daemon must not have it mapped.
    with open("/proc/%d/maps" % d.p.pid) as f:
        libs = sorted({ln.split()[-1].rsplit("/", 1)[-1] for ln in f if ".so" in ln})
    eq([x for x in libs if x.startswith(("libdaxctl", "libkmod", "libcrypto"))], [],
       "libraries mapped after two sysroot conversions")


def add_node1(h):
    """A second, memory-less NUMA node (no kernel-zone memory of its own)."""
    k = h.kernel
    nd = NODE + "/node1"
    os.makedirs(k.p(nd))
    meminfo = read(k.p(NODE + "/node0/meminfo"))
    meminfo = re.sub(r"^Node 0 (\S+)(\s+)\d+", lambda m: "Node 1 %s%s0" % (m.group(1), m.group(2)),
                     meminfo, flags=re.M)
    for name, text in (("meminfo", meminfo), ("cpulist", "\n"), ("distance", "20 10\n"),
                       ("uevent", "")):
        with open(k.p(nd + "/" + name), "w") as f:
            f.write(text)
    rel_symlink(h.root, nd + "/subsystem", "sys/bus/node")
    for name in ("online", "possible"):
        with open(k.p(NODE + "/" + name), "w") as f:
            f.write("0-1\n")


def sc_node_link(h):
    """add before the node link: wait, then the right node; no link: give up."""
    add_node1(h)
    d = coldplug_base(h)
    since = time.monotonic()
    h.kernel.add_dimm("PNP0C80:01", 64, 1, node=None)
    t_add = time.monotonic()
    h.kernel.add_dimm("PNP0C80:02", 72, 1, node=None)
    t_add72 = time.monotonic()
    h.wait_log(r"memory64: no node link yet, waiting up to 2000 ms", since, 3, d)
    time.sleep(max(0, t_add + 0.5 - time.monotonic()))
    eq((h.block(64), h.block(72)), (("offline", "Normal Movable"),) * 2,
       "blocks before their node link (memhpd must not guess)")
    eq(h.writes_for(r"memory(64|72)/"), [], "writes before the node link")
    # the link to node 1, which has no kernel memory: the movable ratio guard
    # makes that a kernel-zone block, where node 0 would have made it movable
    h.kernel.link_node(64, 1)
    t_link = time.monotonic()
    h.wait_online([64], "Normal", timeout=3, daemon=d)
    t_on = time.monotonic()
    eq(h.writes_for(r"memory64/"), [(MEM + "/memory64/state", "online_kernel", 0)],
       "memory64 writes")
    check(all(t >= t_link for t, rel, _, _ in h.kernel.writes if "memory64/" in rel),
          "memory64 written before its node link existed")
    t, line = h.wait_log(r"memory72: still no node link after 2000 ms; leaving it offline",
                         since, 5, d)
    check(t - t_add72 >= 1.9, "memory72 given up after %.2f s, before node_wait (2 s)" %
          (t - t_add72))
    # since memory64 is online, batches of one block: memory64's online uevent, then
    # memory72 alone.  They are over before anyone could read a status for them.
    eq([m for w, m in h.notes_since(t_on) if w <= t and "STATUS=processing" in m], [],
       "STATUS=processing notes for batches of one block")
    h.quiesce(d)
    eq(h.block(72), ("offline", "Normal Movable"), "memory72 without a node link")
    eq(h.writes_for(r"memory72/"), [], "writes to memory72")
    h.wait_log(r"PNP0C80:01: decided online .*: 0 movable, 1 kernel$", since, 1, d)
    st = h.status()
    eq(counters(st).get("failures_node_timeout"), 1, "status counter failures_node_timeout")
    eq((device(st, "PNP0C80:01").get("onlined"), device(st, "PNP0C80:01").get("failed")),
       (1, 0), "PNP0C80:01 onlined/failed in status")
    eq(device(st, "PNP0C80:02").get("onlined"), 0, "PNP0C80:02 onlined in status")


def sc_enobufs(h):
    """Lost uevents (ENOBUFS) make memhpd rescan and find the silent blocks."""
    d = coldplug_base(h)
    since = time.monotonic()
    h.kernel.add_dimm("PNP0C80:01", 64, 4, emit=False)
    # control: an unrelated event alone does not make memhpd look at them
    h.kernel.emit(bpath(0), "change")
    h.wait_log(r"uevent change memory/memory0$", since, 3, d)
    time.sleep(0.6)
    h.quiesce(d)
    eq([h.block(i)[0] for i in range(64, 68)], ["offline"] * 4, "silent blocks before ENOBUFS")
    eq(h.count_log(r"ENOBUFS", since), 0, "ENOBUFS lines before the trigger")

    t_trig = time.monotonic()
    with open(h.trigger, "w"):
        pass
    h.kernel.emit(bpath(0), "change")
    h.wait_log(r"uevent queue overflowed \(ENOBUFS\).*rescanning", t_trig, 3, d)
    check(not os.path.exists(h.trigger), "the ENOBUFS trigger was not consumed")
    h.wait_log(r"uevent change memory/memory0$", t_trig, 3, d)  # the datagram survived
    h.wait_online(range(64, 68), "Movable", timeout=5, daemon=d)
    h.quiesce(d)
    eq(h.count_log(r"ENOBUFS", since), 1, "ENOBUFS lines")
    eq(sorted(h.writes_for(r"memory\d+/state ", since)),
       [(MEM + "/memory%d/state" % i, "online_movable", 0) for i in range(64, 68)],
       "state writes after the rescan")
    c = counters(h.status())
    eq(c.get("enobufs"), 1, "status counter enobufs")
    eq(device(h.status(), "PNP0C80:01").get("onlined"), 4, "PNP0C80:01 onlined")


def sc_sighup(h):
    """A broken config on SIGHUP keeps the old one; a good one applies."""
    d = coldplug_base(h)
    good = h.config_text()
    lines = good.splitlines()
    lines += ["[policy]", "zone.acpi-dimm = kernel", "movable_ratio 50"]
    bad_line = len(lines)
    h.write_config(text="\n".join(lines) + "\n")
    t1 = time.monotonic()
    d.signal(signal.SIGHUP)
    h.wait_log(r"%s:%d: " % (re.escape(h.conf), bad_line), t1, 5, d)
    h.wait_log(r"keeping the previous one", t1, 5, d)
    t_rel, _ = h.wait_notify(lambda m: "RELOADING=1" in m, t1, 5, "RELOADING=1", d)
    h.wait_notify(lambda m: "READY=1" in m, t_rel, 5, "READY=1 after RELOADING=1", d)
    check(d.alive(), "memhpd exited on a broken configuration")

    t2 = time.monotonic()
    h.kernel.add_dimm("PNP0C80:01", 64, 2)
    h.wait_online([64, 65], "Movable", timeout=5, daemon=d)
    h.quiesce(d)
    eq(sorted(h.writes_for(r"memory\d+/state ", t2)),
       [(MEM + "/memory%d/state" % i, "online_movable", 0) for i in (64, 65)],
       "writes under the old policy")

    h.write_config("[policy]\nzone.acpi-dimm = kernel\n")
    t3 = time.monotonic()
    d.signal(signal.SIGHUP)
    h.wait_log(r"configuration reloaded", t3, 5, d)
    t_rel, _ = h.wait_notify(lambda m: "RELOADING=1" in m, t3, 5, "RELOADING=1", d)
    h.wait_notify(lambda m: "READY=1" in m, t_rel, 5, "READY=1 after the second RELOADING=1", d)
    h.quiesce(d)
    eq(h.writes_for(".", t3), [], "writes after the reload (online blocks keep their zone)")

    t4 = time.monotonic()
    h.kernel.add_dimm("PNP0C80:02", 72, 2)
    h.wait_online([72, 73], "Normal", timeout=5, daemon=d)
    h.quiesce(d)
    eq(sorted(h.writes_for(r"memory\d+/state ", t4)),
       [(MEM + "/memory%d/state" % i, "online_kernel", 0) for i in (72, 73)],
       "writes under the new policy")
    eq([h.block(i) for i in (64, 65)], [("online", "Movable")] * 2, "PNP0C80:01 untouched")
    c = counters(h.status())
    eq((c.get("reloads"), c.get("reload_failures")), (1, 1), "status counters reloads")


def sc_restart(h):
    """Stop, change sysfs behind memhpd's back, restart: sysfs wins."""
    d = coldplug_base(h)
    h.kernel.add_dimm("PNP0C80:01", 64, 4)
    h.wait_online(range(64, 68), "Movable", daemon=d)
    h.quiesce(d)
    eq(device(h.state_file(), "PNP0C80:01").get("onlined"), 4, "state file before the stop")
    t_stop = time.monotonic()
    eq(d.stop(), 0, "memhpd exit status on SIGTERM")
    h.wait_notify(lambda m: "STOPPING=1" in m, t_stop, 1, "STOPPING=1")

    # behind its back: an admin offlines two blocks, PNP0C80:00 is unplugged
    with h.kernel.lock:
        for i in (66, 67):
            h.kernel.set_block_offline(i)
        for i in range(40, 48):
            h.kernel.set_block_offline(i)
        h.kernel.remove_dimm("PNP0C80:00", 40, 8)
    before = len(h.kernel.writes)
    t_start = time.monotonic()
    d2 = h.start()
    h.wait_log(r"state: PNP0C80:01: decided online, but 2 of 4 blocks are offline now",
               t_start, 3, d2)
    h.wait_log(r"state: device PNP0C80:00 is gone; forgetting it", t_start, 3, d2)
    t, line = h.wait_log(r"state file and sysfs disagreed in \d+ place", t_start, 3, d2)
    n = int(re.search(r"in (\d+) place", line).group(1))
    check(n >= 2, "discrepancies counted: %d, want at least 2: %s" % (n, line))
    h.quiesce(d2)
    # blocks memhpd had handled and an admin offlined stay offline: no fight
    eq(sorted((rel, v, e) for _, rel, v, e in h.kernel.writes[before:]), [],
       "writes after the restart")
    eq([h.block(i)[0] for i in range(64, 68)], ["online", "online", "offline", "offline"],
       "PNP0C80:01 block states")
    sf = h.state_file()
    ids = sorted(x.get("id") for x in sf.get("devices", []))
    eq(ids, ["PNP0C80:01"], "devices in the state file after the restart")
    rec = device(sf, "PNP0C80:01")
    eq((rec.get("decision"), rec.get("zone"), rec.get("onlined"), rec.get("handled_blocks"),
        rec.get("memmap_on_device_bytes"), rec.get("memmap_in_ram_bytes")),
       ("online", "movable", 4, "64-67", 4 * VMEMMAP, 0), "state file record of PNP0C80:01")
    c = counters(sf)
    eq(c.get("blocks_onlined"), 12, "blocks_onlined carried over the restart (8 + 4)")
    st = h.status()
    eq(counters(st).get("blocks_onlined"), 12, "status counter blocks_onlined")
    # the unplugged DIMM's block numbers were forgotten: plugged in again, it is new memory
    h.kernel.add_dimm("PNP0C80:00", 40, 8)
    h.wait_online(range(40, 48), "Movable", daemon=d2)
    check(d2.alive(), "memhpd #2 died")


def sc_flood(h):
    """Event loss under a flood: 256 blocks hot-added, only the first adds of
    the burst delivered, then the queue overflows (ENOBUFS) and the rest is
    lost; the rescan that ENOBUFS triggers must find and online every block.
    (umockdev's stand-in for the netlink socket is a unix socket whose
    receive buffer cannot overflow, so the overflow is injected by
    enobufs.c, as in sc_enobufs.)"""
    n_dimms, per, delivered = 4, 64, 100
    d = coldplug_base(h)
    c0 = counters(h.status())
    since = time.monotonic()
    blocks = []
    for k in range(n_dimms):
        first = 64 * (k + 1)
        h.kernel.add_dimm("PNP0C80:%02x" % (k + 1), first, per, emit=False)
        blocks += range(first, first + per)
    t0 = time.monotonic()
    for idx in blocks[:delivered]:
        h.kernel.emit(bpath(idx), "add")
    h.quiesce(d)
    # the DIMM whose adds were cut off half way is complete in sysfs: its blocks
    # never announced are found without the rescan (machine_dimms_complete)
    partial = 64 * (blocks[delivered] // 64 + 1)
    rest = [i for i in range(blocks[delivered], partial) if h.block(i)[0] != "online"]
    eq(rest, [], "blocks of the half announced DIMM not online before ENOBUFS")
    # control: DIMMs of which nothing was announced are not found without the rescan
    silent = [i for i in blocks if i >= partial and h.block(i)[0] != "offline"]
    eq(silent, [], "blocks online before ENOBUFS among DIMMs never announced")
    eq(h.count_log(r"ENOBUFS", since), 0, "ENOBUFS lines before the trigger")
    with open(h.trigger, "w"):
        pass
    h.kernel.emit(bpath(blocks[delivered]), "add")  # the overflow: this recv fails
    say("%d add uevents of %d emitted in %.0f ms, then ENOBUFS; %d never sent" %
        (delivered + 1, len(blocks), (time.monotonic() - t0) * 1000,
         len(blocks) - delivered - 1))
    h.wait_log(r"uevent queue overflowed \(ENOBUFS\).*rescanning", t0, 10, d)
    wait_until(lambda: all(h.block(i)[0] == "online" for i in blocks), 30,
               "all %d blocks to be online" % len(blocks), d)
    h.quiesce(d)
    check(not os.path.exists(h.trigger), "the ENOBUFS trigger was not consumed")
    not_online = [i for i in blocks if h.block(i)[0] != "online"]
    eq(not_online, [], "blocks not online after the rescan")
    writes = h.writes_for(r"memory\d+/state ", since)
    per_block = {}
    for rel, v, e in writes:
        check(e == 0 and v in ("online_movable", "online_kernel"),
              "unexpected state write %s %s (errno %d)" % (rel, v, e))
        per_block[rel] = per_block.get(rel, 0) + 1
    eq(sorted(per_block), sorted(MEM + "/memory%d/state" % i for i in blocks),
       "blocks written after the flood")
    eq(sorted(set(per_block.values())), [1], "writes per block")
    st = h.status()
    c = counters(st)
    eq(c.get("enobufs"), c0.get("enobufs", 0) + 1, "status counter enobufs")
    check(c.get("rescans", 0) > c0.get("rescans", 0),
          "no rescan counted (rescans %s -> %s)" % (c0.get("rescans"), c.get("rescans")))
    eq(c.get("blocks_onlined"), c0.get("blocks_onlined", 0) + len(blocks),
       "status counter blocks_onlined")
    for k in range(n_dimms):
        dev = device(st, "PNP0C80:%02x" % (k + 1))
        eq((dev.get("onlined"), dev.get("failed")), (per, 0),
           "PNP0C80:%02x onlined/failed" % (k + 1))
    say("all %d blocks online after 1 ENOBUFS (%d of %d add events lost); counters: "
        "enobufs %d, rescans %d -> %d, events %d -> %d" %
        (len(blocks), len(blocks) - delivered - 1, len(blocks), c.get("enobufs"),
         c0.get("rescans"), c.get("rescans"), c0.get("events"), c.get("events")))


def sc_settle(h):
    """A DIMM whose add is over is decided at once, not after the settle time;
    memory that no DIMM claims yet, or a DIMM not fully heard of, waits it out."""
    settle = 5.0
    h.write_config(text=h.config_text().replace("batch = 200ms", "batch = %gs" % settle))
    d = coldplug_base(h)
    c0 = counters(h.status())

    # every block bound to PNP0C80:01 and its whole System RAM range announced
    since = time.monotonic()
    h.kernel.add_dimm("PNP0C80:01", 64, 8)
    h.wait_online(range(64, 72), "Movable", timeout=settle - 1.5, daemon=d)
    took = time.monotonic() - since
    say("complete DIMM online %.0f ms after its add (settle time %g s)" % (took * 1000, settle))
    eq(h.count_log(r"PNP0C80:01: decided ", since), 1, "decisions for PNP0C80:01")
    h.quiesce(d)
    c = counters(h.status())
    check(c.get("batches_early", 0) > c0.get("batches_early", 0),
          "no batch counted as processed early: %s -> %s" %
          (c0.get("batches_early"), c.get("batches_early")))

    # a complete DIMM whose uevents trickle in (udevd relays them a few ms apart):
    # later uevents do not push the probe back, it goes online before the last
    h.kernel.add_dimm("PNP0C80:04", 112, 64, emit=False)
    online_at = None
    for k, idx in enumerate(range(112, 176)):
        h.kernel.emit(bpath(idx), "add")
        time.sleep(0.015)
        if online_at is None and all(h.block(i)[0] == "online" for i in range(112, 176)):
            online_at = k + 1
    check(online_at is not None and online_at < 64,
          "DIMM of 64 blocks online only after %s of its uevents (the probe waited for the "
          "stream to end)" % online_at)
    say("DIMM online after %s of its 64 uevents, sent 15 ms apart" % online_at)
    h.quiesce(d)

    # a DIMM whose later add uevents udev has not passed on yet: sysfs shows the
    # add is over (every block bound), so the whole DIMM goes online from its
    # first uevent, and the late uevents change nothing
    since = time.monotonic()
    h.kernel.add_dimm("PNP0C80:02", 80, 8, emit=False)
    h.kernel.emit(bpath(80), "add")
    h.wait_online(range(80, 88), "Movable", timeout=settle - 1.5, daemon=d)
    say("DIMM online %.0f ms after its first of 8 add uevents" %
        ((time.monotonic() - since) * 1000))
    h.quiesce(d)
    late = time.monotonic()
    for idx in range(81, 88):
        h.kernel.emit(bpath(idx), "add")
    h.quiesce(d)
    eq(h.writes_for(r"memory\d+/state ", late), [], "state writes after the late uevents")
    eq(h.count_log(r"PNP0C80:02: decided ", since), 1, "decisions for PNP0C80:02")

    # a DIMM whose add is not over (its last block not bound to it yet): the
    # rest waits for it
    h.kernel.add_dimm("PNP0C80:03", 88, 8, emit=False)
    link = h.kernel.p(h.kernel.block_dir(95) + "/firmware_node")
    target = os.readlink(link)
    os.unlink(link)
    for idx in range(88, 95):
        h.kernel.emit(bpath(idx), "add")
    time.sleep(1.5)
    eq([h.block(i)[0] for i in range(88, 96)], ["offline"] * 8,
       "blocks of a DIMM whose last block is not bound yet")
    os.symlink(target, link)
    t_last = time.monotonic()
    h.kernel.emit(bpath(95), "add")
    h.wait_online(range(88, 96), "Movable", timeout=settle - 1.5, daemon=d)
    say("DIMM online %.0f ms after its last block was bound" %
        ((time.monotonic() - t_last) * 1000))
    h.quiesce(d)

    # a block no ACPI device claims (no firmware_node): the settle time, in full
    since = time.monotonic()
    h.kernel.add_block(104, node=0)
    h.kernel.emit(bpath(104), "add")
    t, _ = h.wait_log(r"memory104: decided ", since, settle + 3, d)
    check(t - since >= settle - 0.5, "memory104 decided %.2f s after its add, before the "
          "settle time (%g s) was up" % (t - since, settle))
    check(d.alive(), "memhpd died")


SCENARIOS = {
    "storm": ("x86-dimm-128m", sc_storm),
    "dax-memmap": ("dax-devdax", sc_dax_memmap),
    "node-link": ("x86-dimm-128m", sc_node_link),
    "enobufs": ("x86-dimm-128m", sc_enobufs),
    "sighup": ("x86-dimm-128m", sc_sighup),
    "restart": ("x86-dimm-128m", sc_restart),
    "flood": ("x86-dimm-128m", sc_flood),
    "settle": ("x86-dimm-128m", sc_settle),
}


def main(argv):
    if len(argv) != 2 or argv[1] not in SCENARIOS:
        print("usage: %s {%s}" % (argv[0], ",".join(SCENARIOS)), file=sys.stderr)
        return 2
    name = argv[1]
    machine, fn = SCENARIOS[name]
    UMockdev = load_umockdev()
    if "libumockdev-preload" not in read("/proc/self/maps"):
        # Testbed.uevent() builds each event with libudev in this process: it
        # must see the testbed's /sys, not the host's
        if os.environ.get("MEMHP_UMOCKDEV_REEXEC"):
            raise SystemExit("umockdev-wrapper did not preload libumockdev-preload.so.0")
        os.environ["MEMHP_UMOCKDEV_REEXEC"] = "1"
        sys.stdout.flush()
        os.execvp("umockdev-wrapper", ["umockdev-wrapper", sys.executable] + argv)

    def on_term(sig, frame):
        raise Fail("killed by signal %d (meson timeout?)" % sig)
    signal.signal(signal.SIGTERM, on_term)

    h = None
    try:
        h = Harness(UMockdev, machine)
        fn(h)
        h.final_checks()
        for d in h.daemons:
            check(d.alive() or d.p.returncode == 0,
                  "memhpd #%d exited with status %s" % (d.n, d.p.returncode))
    except Fail as e:
        say("FAIL: %s: %s" % (name, e))
        if h is not None and h.kernel is not None and h.kernel.errors:
            say("kernel errors: %s" % h.kernel.errors)
        return 1
    finally:
        if h is not None:
            h.close()
    say("PASS: %s" % name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
