#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""QEMU guest harness for the memhpd `vm` test suite (python3 standard library only).

A Guest boots a Debian kernel with the busybox initramfs built by assets.sh, talks QMP to hot-add
and hot-remove memory the way a hypervisor would, and runs shell commands inside the guest over a
virtio-serial port (see guest/init for the protocol). Everything memory-related happens inside the
guest; the host only provides (sparse) backing memory.

    with Guest(kernel="6.12") as g:
        print(g.run("memhpctl list").out)
        g.add_dimm("dimm0", "1G")
        g.wait_until(lambda: len(g.blocks()) > 16, 30, "new memory blocks")

Command line: see `qemu.py --help` (interactive shell, boot timing, one-off commands).
"""

import argparse
import base64
import hashlib
import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCROOT = os.path.dirname(os.path.dirname(HERE))
SKIP = 77
T0 = time.monotonic()


class Skip(Exception):
    """The test cannot run here (no QEMU, no assets); exit status 77 with the reason."""


class VMError(Exception):
    """Something in the guest or the harness failed."""


class QMPError(VMError):
    pass


def log(msg):
    print(f"[{time.monotonic() - T0:7.2f}s] {msg}", file=sys.stderr, flush=True)


def build_dir():
    return os.environ.get("MEMHPVM_BUILD") or os.path.join(SRCROOT, "build")


def parse_size(s):
    """'1G', '128M', '512K', 4096 -> bytes (binary units)."""
    if isinstance(s, int):
        return s
    m = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)i?B?\s*", str(s), re.I)
    if not m:
        raise ValueError(f"bad size {s!r} (want e.g. 512M, 1G)")
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[m.group(2).upper()]


def wait_until(cond, timeout, what, alive=None):
    """Poll cond() until it returns something true; VMError after timeout seconds.

    alive(), when given, is checked too so a dead guest fails at once instead of at the deadline.
    """
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        v = cond()
        if v:
            return v
        if alive is not None:
            alive()
        if time.monotonic() >= deadline:
            raise VMError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


_assets_cache = {}


def get_assets(kernel="6.12"):
    """Directory holding vmlinuz, initrd.img, info, files for the kernel series (builds once)."""
    if kernel in _assets_cache:
        return _assets_cache[kernel]
    if kernel == "patched":  # the companion kernel series, see kernelvm.py
        sys.modules.setdefault("qemu", sys.modules[__name__])  # one module also as a script
        import kernelvm
        _assets_cache[kernel] = kernelvm.patched_assets()
        return _assets_cache[kernel]
    out = os.path.join(build_dir(), "vm-assets")
    t = time.monotonic()
    p = subprocess.run([os.path.join(HERE, "assets.sh"), "--kernel", kernel, "--out", out],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode == SKIP:
        raise Skip((p.stderr.strip().splitlines() or ["assets unavailable"])[-1])
    if p.returncode != 0:
        raise VMError(f"assets.sh failed ({p.returncode}):\n{p.stderr}")
    d = p.stdout.strip().splitlines()[-1]
    info = {}
    with open(os.path.join(d, "info")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            info[k] = v
    with open(os.path.join(d, "files")) as f:
        files = set(x.strip() for x in f)
    _assets_cache[kernel] = (d, info, files)
    if time.monotonic() - t > 2:
        log(f"assets for {kernel}: {d} ({time.monotonic() - t:.1f}s)")
    return _assets_cache[kernel]


def qemu_binary():
    q = shutil.which("qemu-system-x86_64")
    if not q:
        raise Skip("qemu-system-x86_64 not found (apt-get install qemu-system-x86)")
    return q


def _qemu_version(q):
    p = subprocess.run([q, "--version"], stdout=subprocess.PIPE, text=True)
    return p.stdout.splitlines()[0] if p.stdout else "?"


def pick_accel(assets_dir):
    """'kvm' if KVM really boots our kernel here, else 'tcg'. Probed once, then cached.

    MEMHPVM_ACCEL=tcg|kvm overrides. /dev/kvm existing proves nothing: nested setups without
    vmx/svm fail with "KVM internal error ... emulation failure", so we boot to find out.
    """
    forced = os.environ.get("MEMHPVM_ACCEL")
    if forced:
        return forced
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    q = qemu_binary()
    try:
        with open(os.path.join(assets_dir, "info")) as f:
            kernel = f.read()
    except OSError:
        kernel = assets_dir
    key = hashlib.sha256(f"{os.uname().release}|{_qemu_version(q)}|{kernel}".encode())
    cache = os.path.join(build_dir(), "vm-assets", f"accel-{key.hexdigest()[:12]}")
    try:
        with open(cache) as f:
            return f.read().strip()
    except FileNotFoundError:
        pass
    log("probing whether KVM boots a guest here (once; cached in " + cache + ")")
    cmd = [q, "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
           "-accel", "kvm", "-cpu", "host", "-m", "512M", "-serial", "stdio",
           "-kernel", os.path.join(assets_dir, "vmlinuz"),
           "-initrd", os.path.join(assets_dir, "initrd.img"),
           "-append", "console=ttyS0 panic=-1 quiet memhpvm.probe=1"]
    ok = False
    out = b""
    try:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    except OSError:
        return "tcg"
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        r, _, _ = select.select([p.stdout], [], [], 0.5)
        if r:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            out += chunk
            if b"MEMHPVM-READY" in out:
                ok = True
                break
            if b"KVM internal error" in out or b"emulation failure" in out:
                break
    p.kill()
    p.wait()
    accel = "kvm" if ok else "tcg"
    log(f"KVM probe: {'boots' if ok else 'does not boot'}; using {accel}")
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    with open(cache, "w") as f:
        f.write(accel + "\n")
    return accel


class Result:
    def __init__(self, cmd, rc, out, err):
        self.cmd, self.rc, self.out, self.err = cmd, rc, out, err

    def __repr__(self):
        return f"Result(rc={self.rc}, out={self.out[:200]!r}, err={self.err[:200]!r})"


class _LineSocket:
    """A connected unix socket read line by line in a thread; on_line(bytes) per line."""

    def __init__(self, path, on_line, on_eof, timeout, alive):
        self.sock = wait_until(lambda: self._connect(path), timeout, f"socket {path}", alive)
        self.on_line, self.on_eof = on_line, on_eof
        self.thread = threading.Thread(target=self._reader, daemon=True)
        self.thread.start()

    @staticmethod
    def _connect(path):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            return None

    def _reader(self):
        buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                if buf:
                    self.on_line(buf)
                self.on_eof()
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                self.on_line(line)

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class Guest:
    """One QEMU guest. Use as a context manager; start() boots and waits for the ready marker.

    kernel      '6.12' or '6.1' (Debian images, see assets.sh)
    mem/maxmem/slots  boot memory and the hot-plug space (-m mem,slots=,maxmem=)
    nodes       list of boot memory sizes per NUMA node (sum must equal mem); None = 1 node
    virtio_mem  list of (id, size, node): virtio-mem devices created at boot, requested-size 0
    nvdimms     list of (id, size, node): NVDIMMs present at boot
    auto_online boot with memhp_default_state=online instead of offline
    memmap_on_memory  memory_hotplug.memmap_on_memory=1 on the kernel command line
    """

    def __init__(self, kernel="6.12", mem="2G", maxmem="32G", slots=8, smp=2, nodes=None,
                 virtio_mem=(), nvdimms=(), auto_online=False, memmap_on_memory=True, append="",
                 udev=True, shell=False, name=None, boot_timeout=120):
        self.kernel = kernel
        self.mem, self.maxmem, self.slots, self.smp = mem, maxmem, slots, smp
        self.nodes = nodes
        self.virtio_mem = list(virtio_mem)
        self.nvdimms = list(nvdimms)
        self.auto_online = auto_online
        self.memmap_on_memory = memmap_on_memory
        self.append = append
        self.udev = udev
        self.shell = shell
        self.name = name or "guest"
        self.boot_timeout = boot_timeout
        self.proc = None
        self.workdir = None
        self.console_lines = []
        self.console_log = None
        self.cond = threading.Condition()
        self.results = {}
        self.events = []
        self.qmp_replies = {}
        self._next_id = 1
        self._ctl_partial = None
        self.boot_seconds = None
        self.kernel_release = None
        self.info = {}
        self.failure_dumps = []  # shell commands whose output helps when a scenario fails

    # ---- life cycle -------------------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, et, ev, tb):
        if et is not None and self.console_lines and not self.shell:
            tail = "\n".join(self.console_lines[-40:])
            log(f"{self.name}: last console lines:\n{tail}")
            for c in self.failure_dumps:
                try:
                    r = self.run(c, timeout=15, check=False)
                    log(f"{self.name}: {c}\n{r.out}{r.err}")
                except (VMError, OSError):
                    break
        self.stop()
        return False

    def alive(self):
        """Raise VMError if QEMU has exited."""
        if self.proc is not None and self.proc.poll() is not None:
            raise VMError(f"QEMU exited with status {self.proc.returncode}"
                          f" (console log: {self.console_log})")

    def _prepare_share(self, files):
        share = os.path.join(self.workdir, "share")
        for d in ("bin", "lib", "conf", "out"):
            os.makedirs(os.path.join(share, d))
        bd = build_dir()
        bins = []
        for prog in ("memhpd", "memhpctl"):
            src = os.environ.get(prog.upper()) or os.path.join(bd, "src", prog, prog)
            if os.path.exists(src):
                shutil.copy2(src, os.path.join(share, "bin", prog))
                bins.append(src)
        conf = os.path.join(SRCROOT, "conf")
        if os.path.isdir(conf):
            shutil.copytree(conf, os.path.join(share, "conf"), dirs_exist_ok=True)
        # Libraries the fresh binaries need that the initramfs lacks go to /host/lib.
        for b in bins:
            p = subprocess.run(["ldd", b], stdout=subprocess.PIPE, text=True)
            for m in re.finditer(r"=> (/\S+)", p.stdout):
                lib = m.group(1)
                if lib not in files and os.path.realpath(lib) not in files and \
                        "/usr" + lib not in files:
                    shutil.copy2(lib, os.path.join(share, "lib", os.path.basename(lib)))
        return share

    def qemu_command(self, accel):
        d = self.assets_dir
        q = qemu_binary()
        cmd = [q, "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
               "-machine", "pc,nvdimm=on", "-smp", str(self.smp),
               "-m", f"{self.mem},slots={self.slots},maxmem={self.maxmem}"]
        if accel == "kvm":
            cmd += ["-accel", "kvm", "-cpu", "host"]
        else:
            cmd += ["-accel", "tcg,thread=multi", "-cpu", "max"]
        if self.nodes:
            if sum(parse_size(s) for s in self.nodes) != parse_size(self.mem):
                raise ValueError(f"nodes {self.nodes} do not add up to mem {self.mem}")
            for i, s in enumerate(self.nodes):
                cmd += ["-object", f"memory-backend-ram,id=node{i}mem,size={parse_size(s)}",
                        "-numa", f"node,nodeid={i},memdev=node{i}mem"]
        kargs = ["console=ttyS0", "panic=-1", "quiet", "loglevel=4",
                 "memhp_default_state=" + ("online" if self.auto_online else "offline")]
        if self.memmap_on_memory:
            kargs.append("memory_hotplug.memmap_on_memory=1")
        if self.shell:
            kargs.append("memhpvm.shell=1")
        if not self.udev:
            kargs.append("memhpvm.noudev=1")
        if self.append:
            kargs.append(self.append)
        kernel = os.path.join(d, "vmlinux")  # PVH ELF, when assets.sh could extract it
        if not os.path.exists(kernel) or os.environ.get("MEMHPVM_BZIMAGE"):
            kernel = os.path.join(d, "vmlinuz")
        cmd += ["-kernel", kernel, "-initrd", os.path.join(d, "initrd.img"),
                "-append", " ".join(kargs)]
        w = self.workdir
        if self.shell:
            cmd += ["-serial", "mon:stdio"]
        else:
            cmd += ["-chardev", f"socket,id=con,path={w}/console.sock,server=on,wait=on",
                    "-serial", "chardev:con"]
        cmd += ["-qmp", f"unix:{w}/qmp.sock,server=on,wait=off",
                "-device", "virtio-serial-pci,id=vser0",
                "-chardev", f"socket,id=ctl,path={w}/ctl.sock,server=on,wait=off",
                "-device", "virtserialport,bus=vser0.0,chardev=ctl,name=memhpvm.ctl",
                "-virtfs", f"local,path={w}/share,mount_tag=host,security_model=none,id=host"]
        for vid, size, node in self.virtio_mem:
            cmd += ["-object", f"memory-backend-ram,id={vid}-mem,size={parse_size(size)},reserve=off",
                    "-device", f"virtio-mem-pci,id={vid},memdev={vid}-mem,node={node},"
                    "requested-size=0"]
        for nid, size, node in self.nvdimms:
            path = self._nvdimm_file(nid, size)
            cmd += ["-object", f"memory-backend-file,id={nid}-mem,mem-path={path},"
                    f"size={os.path.getsize(path)},share=on",
                    "-device", f"nvdimm,id={nid},memdev={nid}-mem,node={node},label-size=128K"]
        return cmd

    # A guest kernel that dies before init under TCG is booted again, this many times. The
    # stock Debian 6.12 kernel now and then takes an "Oops: int3" in early boot under
    # multi-threaded TCG (a live-patched instruction seen half-patched by the other vCPU: it
    # hits the int3 after the patching ended); nothing of ours has run by then.
    TCG_EARLY_PANIC_RETRIES = 2

    def _died_before_init(self):
        with self.cond:
            lines = list(self.console_lines)
        return (not any(x.startswith("MEMHPVM-") for x in lines)
                and any("Kernel panic" in x or "Oops:" in x for x in lines))

    def start(self):
        t0 = time.monotonic()
        self.assets_dir, self.info, files = get_assets(self.kernel)
        self.accel = pick_accel(self.assets_dir)
        for attempt in range(self.TCG_EARLY_PANIC_RETRIES + 1):
            try:
                return self._boot(t0, files)
            except VMError:
                if (self.accel != "tcg" or self.shell or attempt == self.TCG_EARLY_PANIC_RETRIES
                        or not self._died_before_init()):
                    raise
                self.stop()
                kept = self.console_log.replace(".console.log", f".boot{attempt + 1}.console.log")
                os.replace(self.console_log, kept)
                log(f"{self.name}: guest kernel died before init under TCG (console log: "
                    f"{kept}); booting it again")
                self.console_lines = []
                self.results, self.events, self.qmp_replies = {}, [], {}
                self._next_id, self._ctl_partial = 1, None
        raise AssertionError("not reached")

    def _boot(self, t0, files):
        accel = self.accel
        self.workdir = tempfile.mkdtemp(prefix="memhpvm-")
        self.share = self._prepare_share(files)
        logdir = os.path.join(build_dir(), "vm-logs")
        os.makedirs(logdir, exist_ok=True)
        self.console_log = os.path.join(logdir, f"{self.name}.console.log")
        cmd = self.qemu_command(accel)
        with open(os.path.join(self.workdir, "cmdline"), "w") as f:
            f.write(" ".join(cmd) + "\n")
        if self.shell:
            # The console is the terminal; the QMP socket stays free for `--qmp` (QEMU serves
            # one client at a time).
            self.proc = subprocess.Popen(cmd)
            return self
        self._con_file = open(self.console_log, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._con_file,
                                     stderr=subprocess.STDOUT)
        self.console = _LineSocket(f"{self.workdir}/console.sock", self._on_console,
                                   lambda: None, 30, self.alive)
        self._connect_qmp_ctl()
        m = self.wait_console(r"MEMHPVM-READY (\S+)", self.boot_timeout)
        self.kernel_release = m.group(1)
        self.boot_seconds = time.monotonic() - t0
        warns = [x for x in self.console_lines if x.startswith("MEMHPVM-WARN")]
        log(f"{self.name}: {self.kernel_release} ready in {self.boot_seconds:.1f}s ({accel})"
            + ("; " + "; ".join(warns) if warns else ""))
        return self

    def _connect_qmp_ctl(self):
        self.qmp_sock = _LineSocket(f"{self.workdir}/qmp.sock", self._on_qmp, self._on_eof, 30,
                                    self.alive)
        wait_until(lambda: "greeting" in self.qmp_replies, 30, "QMP greeting", self.alive)
        self.qmp("qmp_capabilities")
        self.ctl = _LineSocket(f"{self.workdir}/ctl.sock", self._on_ctl, self._on_eof, 30,
                               self.alive)

    def stop(self, timeout=30):
        """Power the guest off (cleanly if it still listens), then reap QEMU and clean up."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                self._send_cmd("sync; poweroff -f")
                self.proc.wait(timeout)
            except (OSError, subprocess.TimeoutExpired, VMError):
                try:
                    self.qmp("quit", timeout=5)
                except VMError:
                    pass
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        for s in ("console", "qmp_sock", "ctl"):
            if hasattr(self, s):
                getattr(self, s).close()
        if getattr(self, "_con_file", None):
            self._con_file.close()
        if self.workdir and not os.environ.get("MEMHPVM_KEEP"):
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir = None

    # ---- console ----------------------------------------------------------------------------

    def _on_console(self, line):
        text = line.decode("utf-8", "replace").rstrip("\r")
        self._con_file.write(text + "\n")
        self._con_file.flush()
        with self.cond:
            self.console_lines.append(text)
            self.cond.notify_all()

    def _on_eof(self):
        with self.cond:
            self.cond.notify_all()

    def wait_console(self, regex, timeout, start=0):
        """Wait for a console line matching regex (from line index start); returns the match."""
        rx = re.compile(regex)

        def find():
            for line in self.console_lines[start:]:
                m = rx.search(line)
                if m:
                    return m
            return None
        return self._wait(find, timeout, f"console line /{regex}/")

    def _wait(self, cond, timeout, what):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                v = cond()
                if v:
                    return v
                self.alive()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise VMError(f"timed out after {timeout:g}s waiting for {what}")
                self.cond.wait(min(left, 0.5))

    # ---- QMP --------------------------------------------------------------------------------

    def _on_qmp(self, line):
        try:
            msg = json.loads(line)
        except ValueError:
            return
        with self.cond:
            if "QMP" in msg:
                self.qmp_replies["greeting"] = msg
            elif "event" in msg:
                self.events.append(msg)
            elif "id" in msg:
                self.qmp_replies[msg["id"]] = msg
            self.cond.notify_all()

    def qmp(self, command, timeout=30, **args):
        """Execute a QMP command; returns its 'return' value, raises QMPError on 'error'."""
        with self.cond:
            qid = self._next_id
            self._next_id += 1
        msg = {"execute": command, "id": qid}
        if args:
            msg["arguments"] = args
        self.qmp_sock.send(json.dumps(msg).encode() + b"\n")
        reply = self._wait(lambda: self.qmp_replies.pop(qid, None), timeout, f"QMP {command}")
        if "error" in reply:
            raise QMPError(f"QMP {command} {args}: {reply['error'].get('desc', reply['error'])}")
        return reply.get("return")

    def wait_event(self, name, timeout, match=None):
        """Wait for (and consume) a QMP event named name whose data contains match's items."""
        def find():
            for i, ev in enumerate(self.events):
                if ev.get("event") != name:
                    continue
                data = ev.get("data", {})
                if match and any(data.get(k) != v for k, v in match.items()):
                    continue
                return self.events.pop(i)
            return None
        return self._wait(find, timeout, f"QMP event {name} {match or ''}")

    # ---- commands in the guest --------------------------------------------------------------

    def _on_ctl(self, line):
        text = line.decode("ascii", "replace").rstrip("\r")
        with self.cond:
            p = self._ctl_partial
            if text.startswith("MEMHPVM-RESULT "):
                _, cid, rc = text.split()
                self._ctl_partial = {"id": int(cid), "rc": int(rc), "out": [], "err": [],
                                     "cur": "out"}
            elif p is None:
                return
            elif text == f"MEMHPVM-STDERR {p['id']}":
                p["cur"] = "err"
            elif text == f"MEMHPVM-END {p['id']}":
                self.results[p["id"]] = p
                self._ctl_partial = None
                self.cond.notify_all()
            else:
                p[p["cur"]].append(text)

    def _send_cmd(self, script):
        with self.cond:
            cid = self._next_id
            self._next_id += 1
        self.ctl.send(f"{cid} {base64.b64encode(script.encode()).decode()}\n".encode())
        return cid

    def run(self, script, timeout=120, check=True):
        """Run a shell script in the guest (busybox sh, cwd /root); returns a Result.

        With check (default) a non-zero exit status raises VMError naming the command.
        """
        cid = self._send_cmd(script)
        p = self._wait(lambda: self.results.pop(cid, None), timeout,
                       f"guest command {script[:80]!r}")

        def dec(lines):
            return base64.b64decode("".join(lines)).decode("utf-8", "replace")
        r = Result(script, p["rc"], dec(p["out"]), dec(p["err"]))
        if check and r.rc != 0:
            raise VMError(f"guest command failed with status {r.rc}: {script}\n"
                          f"stdout: {r.out}\nstderr: {r.err}")
        return r

    def out(self, script, timeout=120):
        """stdout of a command that must succeed."""
        return self.run(script, timeout).out

    def write_file(self, path, content, mode=0o644):
        b = base64.b64encode(content.encode()).decode()
        self.run(f"mkdir -p \"$(dirname '{path}')\" && echo {b} | base64 -d > '{path}' && "
                 f"chmod {mode:o} '{path}'")

    def wait_until(self, cond, timeout, what):
        return wait_until(cond, timeout, what, self.alive)

    # ---- hot-plug through QMP ---------------------------------------------------------------

    def add_dimm(self, did, size, node=0):
        """Hot-add a pc-dimm (ACPI memory device) backed by unreserved RAM."""
        self.qmp("object-add", **{"qom-type": "memory-backend-ram", "id": f"{did}-mem",
                                  "size": parse_size(size), "reserve": False})
        self.qmp("device_add", driver="pc-dimm", id=did, memdev=f"{did}-mem", node=node)

    def _nvdimm_file(self, nid, size):
        path = os.path.join(self.workdir, f"{nid}.img")
        # label area (128K) on top so the namespace region keeps the requested size
        with open(path, "wb") as f:
            f.truncate(parse_size(size) + (128 << 10))
        return path

    def add_nvdimm(self, nid, size, node=0):
        """Hot-add an NVDIMM (label-size 128K) backed by a sparse file in the work dir."""
        path = self._nvdimm_file(nid, size)
        self.qmp("object-add", **{"qom-type": "memory-backend-file", "id": f"{nid}-mem",
                                  "mem-path": path, "size": os.path.getsize(path),
                                  "share": True})
        self.qmp("device_add", driver="nvdimm", id=nid, memdev=f"{nid}-mem", node=node,
                 **{"label-size": 128 << 10})

    def virtio_mem_resize(self, vid, size, timeout=120):
        """Set a virtio-mem device's requested-size and wait until the guest plugged it."""
        want = parse_size(size)
        self.qmp("qom-set", path=vid, property="requested-size", value=want)
        self.wait_until(lambda: self.qmp("qom-get", path=vid, property="size") == want, timeout,
                        f"{vid} size {want}")

    def device_del(self, did, timeout=60):
        """Request unplug; True once DEVICE_DELETED arrived, False after timeout seconds."""
        self.qmp("device_del", id=did)
        return self.device_del_wait(did, timeout)

    def device_del_wait(self, did, timeout=60):
        """Wait for DEVICE_DELETED of did after a device_del; False after timeout seconds."""
        try:
            self.wait_event("DEVICE_DELETED", timeout, {"device": did})
        except VMError as e:
            if "timed out" not in str(e):
                raise
            return False
        try:
            self.qmp("object-del", id=f"{did}-mem")
        except QMPError:
            pass
        return True

    # ---- the kernel's view ------------------------------------------------------------------

    def block_size(self):
        return int(self.out("cat /sys/devices/system/memory/block_size_bytes").strip(), 16)

    def blocks(self):
        """{block number: {'state', 'zones' (valid_zones list), 'node'}} from sysfs.

        A few processes in all: a per-block shell loop costs seconds under TCG.  valid_zones
        is read only for blocks that already have their node link: a block being hot-added is
        visible before the kernel links it to its node, and reading its valid_zones in that
        window oopses Linux 6.12 (zone_for_pfn_range() with NUMA_NO_NODE).
        """
        script = ("cd /sys/devices/system/memory && l=$(ls -d memory*/node* 2>/dev/null); "
                  "echo \"$l\"; grep -H . memory*/state $(echo \"$l\" | "
                  "sed -n 's,/node[0-9]*$,/valid_zones,p') 2>/dev/null; true")
        res = {}
        nodes = {}
        for line in self.out(script).splitlines():
            m = re.match(r"memory(\d+)/(state|valid_zones):(.*)$", line)
            if m:
                b = res.setdefault(int(m.group(1)), {"state": "?", "node": -1, "zones": []})
                if m.group(2) == "state":
                    b["state"] = m.group(3).strip()
                else:
                    b["zones"] = m.group(3).split()
                continue
            m = re.match(r"memory(\d+)/node(\d+)$", line)
            if m:
                nodes[int(m.group(1))] = int(m.group(2))
        for n, b in res.items():
            b["node"] = nodes.get(n, -1)
        return res

    def zoneinfo(self):
        """{(node, zone): {'present': pages, 'managed': pages, 'spanned': pages, ...}}."""
        res = {}
        cur = None
        for line in self.out("cat /proc/zoneinfo").splitlines():
            m = re.match(r"Node (\d+), zone\s+(\S+)", line)
            if m:
                cur = res.setdefault((int(m.group(1)), m.group(2)), {})
                continue
            m = re.match(r"\s+(present|managed|spanned)\s+(\d+)$", line)
            if m and cur is not None:
                cur[m.group(1)] = int(m.group(2))
        return res

    def meminfo(self):
        res = {}
        for line in self.out("cat /proc/meminfo").splitlines():
            k, _, v = line.partition(":")
            res[k] = int(v.split()[0])
        return res


# ---- scenario driver --------------------------------------------------------------------------


def main_scenario(fn, name=None):
    """Run fn() as a test program: exit 0 pass, 1 fail, 77 skip (reason printed)."""
    name = name or os.path.basename(sys.argv[0])
    t = time.monotonic()
    try:
        fn()
    except Skip as e:
        print(f"SKIP {name}: {e}", flush=True)
        sys.exit(SKIP)
    except (VMError, AssertionError) as e:
        print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
        sys.exit(1)
    print(f"PASS {name} ({time.monotonic() - t:.1f}s)", flush=True)
    sys.exit(0)


def qmp_once(path, argv):
    """Execute one QMP command on a guest's socket and print the reply (for --shell users)."""
    if not argv:
        print("usage: qemu.py --qmp SOCKET COMMAND [JSON-ARGUMENTS]", file=sys.stderr)
        return 2
    msg = {"execute": argv[0]}
    if len(argv) > 1:
        try:
            msg["arguments"] = json.loads(argv[1])
        except ValueError as e:
            print(f"bad JSON arguments {argv[1]!r}: {e}", file=sys.stderr)
            return 2
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    try:
        s.connect(path)
        f = s.makefile("rwb")
        f.readline()  # greeting
        for m in ({"execute": "qmp_capabilities"}, msg):
            f.write(json.dumps(m).encode() + b"\n")
            f.flush()
            while True:
                reply = json.loads(f.readline())
                if "event" not in reply:
                    break
    except (OSError, ValueError) as e:
        print(f"QMP {path}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(reply))
    return 1 if "error" in reply else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kernel", default="6.12",
                    help="kernel series: 6.12 (default), 6.1, or patched (kernel/build)")
    ap.add_argument("--mem", default="2G")
    ap.add_argument("--maxmem", default="32G")
    ap.add_argument("--smp", type=int, default=2)
    ap.add_argument("--virtio-mem", metavar="SIZE", help="add virtio-mem device vm0 of SIZE")
    ap.add_argument("--auto-online", action="store_true",
                    help="boot with memhp_default_state=online")
    ap.add_argument("--shell", action="store_true",
                    help="interactive shell on the console (Ctrl-A x quits QEMU)")
    ap.add_argument("--assets", action="store_true", help="build/print the asset dir and exit")
    ap.add_argument("--probe-accel", action="store_true", help="print kvm or tcg and exit")
    ap.add_argument("-c", "--command", action="append", default=[],
                    help="run a command in the guest and print its output (repeatable)")
    ap.add_argument("--qmp", metavar="SOCKET",
                    help="send one QMP command to a running guest's socket (see --shell)")
    ap.add_argument("qmp_command", nargs="*", metavar="CMD [JSON-ARGS]",
                    help="with --qmp: e.g. device_add '{\"driver\":\"pc-dimm\",...}'")
    a = ap.parse_args()
    if a.qmp:
        return qmp_once(a.qmp, a.qmp_command)
    try:
        if a.assets:
            print(get_assets(a.kernel)[0])
            return 0
        if a.probe_accel:
            print(pick_accel(get_assets(a.kernel)[0]))
            return 0
        vm = [("vm0", a.virtio_mem, 0)] if a.virtio_mem else []
        g = Guest(kernel=a.kernel, mem=a.mem, maxmem=a.maxmem, smp=a.smp, virtio_mem=vm,
                  auto_online=a.auto_online, shell=a.shell, name="cli")
        if a.shell:
            g.start()
            print(f"QMP socket: {g.workdir}/qmp.sock  (from another terminal: "
                  f"{sys.argv[0]} --qmp {g.workdir}/qmp.sock query-memory-devices)",
                  file=sys.stderr)
            g.proc.wait()
            g.stop()
            return 0
        rc = 0
        with g:
            for c in a.command or ["uname -a; memhpctl list 2>&1 || true"]:
                t = time.monotonic()
                r = g.run(c, check=False)
                sys.stdout.write(r.out)
                sys.stderr.write(r.err)
                log(f"'{c}' exited {r.rc} in {time.monotonic() - t:.2f}s")
                rc = rc or r.rc
        log(f"boot {g.boot_seconds:.1f}s, total {time.monotonic() - T0:.1f}s")
        return rc
    except Skip as e:
        print(f"SKIP: {e}", file=sys.stderr)
        return SKIP
    except VMError as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
