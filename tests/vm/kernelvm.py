# SPDX-License-Identifier: GPL-2.0-or-later
"""The companion kernel series (kernel/) in the vm harness: Guest(kernel="patched").

The patched kernel comes from `kernel/build` (bzImage in build/kernel-cache/out/<key>/). Its
config has every driver the guest needs built in (virtio, 9p, nfit/libnvdimm/pmem, dax/kmem,
virtio-mem, 8250 serial), so the guest reuses the Debian 6.12 initramfs of assets.sh with one
more cpio archive appended: an empty /etc/memhpvm-modules (nothing to modprobe) and a
modules.builtin for libkmod.

Build policy (from scratch the kernel takes 13 minutes on 2 idle cores, over an hour on a busy
machine at nice 19; see kernel/README):
  - a cached build for the current series+config key exists: use it, and say so;
  - none, and MEMHP_BUILD_KERNEL=1: run `kernel/build` now (nice 19, -j2), and say so;
  - none otherwise: Skip (exit 77) with the reason and the way to build it. Never a silent pass.
"""

import hashlib
import os
import shutil
import subprocess
import time

from qemu import SRCROOT, Skip, VMError, build_dir, get_assets, log

KERNEL_BUILD = os.path.join(SRCROOT, "kernel", "build")


MACHINE_CACHE = "/var/cache/memhpd/kernel-cache"


def _kernel_env(cache):
    env = dict(os.environ)
    env["MEMHPD_KERNEL_CACHE"] = cache
    return env


def _caches():
    """Kernel build caches to look in: MEMHPD_KERNEL_CACHE if set, else the meson build dir's
    kernel-cache, then the source tree's build/kernel-cache (kernel/build's default, so another
    build dir such as build-asan still finds a kernel built the usual way)."""
    if os.environ.get("MEMHPD_KERNEL_CACHE"):
        return [os.environ["MEMHPD_KERNEL_CACHE"]]
    res = [os.path.join(build_dir(), "kernel-cache")]
    default = os.path.join(SRCROOT, "build", "kernel-cache")
    if os.path.realpath(default) != os.path.realpath(res[0]):
        res.append(default)
    # machine-wide: a build's out/<key>/ copied here lets fresh clones on this machine
    # (CI) boot-test without a rebuild; the key still has to match the series and config
    if os.path.isdir(MACHINE_CACHE):
        res.append(MACHINE_CACHE)
    return res


def _read_info(path):
    info = {}
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                info[k] = v
    except OSError:
        pass
    return info


def patched_kernel():
    """Directory of the patched kernel build (bzImage, config, info); builds or skips per the
    policy above. Every outcome is logged."""
    if not os.access(KERNEL_BUILD, os.X_OK):
        raise Skip(f"{KERNEL_BUILD} is missing")
    caches = _caches()
    for cache in caches:
        p = subprocess.run([KERNEL_BUILD, "--print"], env=_kernel_env(cache),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode == 0 and p.stdout.strip():
            d = p.stdout.strip().splitlines()[-1]
            info = _read_info(os.path.join(d, "info"))
            log(f"kernel: boot test uses the CACHED patched kernel {d} (release "
                f"{info.get('release', '?')}, built {info.get('built', '?')} in "
                f"{info.get('seconds', '?')} s)")
            return d
    why = (p.stderr.strip().splitlines() or ["no cached build"])[-1]
    env = _kernel_env(caches[0])
    if os.environ.get("MEMHP_BUILD_KERNEL") != "1":
        raise Skip(f"no cached build of the patched kernel ({why}); building it takes 13 "
                   "minutes (2 idle cores) to over an hour (busy machine), so it is not built "
                   "here unless MEMHP_BUILD_KERNEL=1 (or run `nice -n 19 kernel/build` once)")
    log(f"kernel: {why}; MEMHP_BUILD_KERNEL=1: BUILDING the patched kernel now with "
        "kernel/build (13 minutes on 2 idle cores, longer on a busy machine)")
    t = time.monotonic()
    p = subprocess.run([KERNEL_BUILD], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode == 77:
        raise Skip("kernel/build cannot build here: "
                   + (p.stderr.strip().splitlines() or ["?"])[-1])
    if p.returncode != 0:
        raise VMError(f"kernel/build failed ({p.returncode}):\n{p.stderr[-4000:]}")
    d = p.stdout.strip().splitlines()[-1]
    log(f"kernel: built {d} in {time.monotonic() - t:.0f} s")
    return d


# Built-in drivers the guest tools may ask libkmod for (daxctl inserts kmem/device_dax, "which
# just works if builtin" only when modules.builtin says so), by the option that builds them in.
BUILTIN = {
    "DAX": "drivers/dax/dax", "DEV_DAX": "drivers/dax/device_dax",
    "DEV_DAX_KMEM": "drivers/dax/kmem", "DEV_DAX_PMEM": "drivers/dax/dax_pmem",
    "LIBNVDIMM": "drivers/nvdimm/libnvdimm", "BLK_DEV_PMEM": "drivers/nvdimm/nd_pmem",
    "BTT": "drivers/nvdimm/nd_btt", "ACPI_NFIT": "drivers/acpi/nfit/nfit",
    "VIRTIO_PCI": "drivers/virtio/virtio_pci", "VIRTIO_MEM": "drivers/virtio/virtio_mem",
    "VIRTIO_CONSOLE": "drivers/char/virtio_console", "9P_FS": "fs/9p/9p",
    "NET_9P": "net/9p/9pnet", "NET_9P_VIRTIO": "net/9p/9pnet_virtio",
}


def _modules_builtin(kdir):
    """modules.builtin for the patched kernel: the build tree's own if it still belongs to this
    build (same .config), else the list above for the options the config has =y."""
    cache = os.path.dirname(os.path.dirname(kdir))
    try:
        with open(os.path.join(cache, "obj", ".config"), "rb") as a, \
                open(os.path.join(kdir, "config"), "rb") as b:
            same = a.read() == b.read()
        if same:
            with open(os.path.join(cache, "obj", "modules.builtin")) as f:
                return f.read()
    except OSError:
        pass
    with open(os.path.join(kdir, "config")) as f:
        cfg = set(line.strip() for line in f)
    return "".join(f"kernel/{path}.ko\n" for opt, path in BUILTIN.items()
                   if f"CONFIG_{opt}=y" in cfg)


def _overlay_cpio(path, kdir, release):
    """A gzip'd newc cpio appended to the Debian initramfs (the kernel unpacks concatenated
    archives in order, later files win): an empty /etc/memhpvm-modules (nothing to modprobe)
    and /usr/lib/modules/<release>/ with modules.builtin and depmod's indexes, so libkmod users
    (daxctl, ndctl) know the drivers are built in."""
    root, dep = path + ".root", path + ".depmod"
    for d in (root, dep):
        shutil.rmtree(d, ignore_errors=True)
    moddir = os.path.join(dep, "lib", "modules", release)  # depmod -b wants BASE/lib/modules
    os.makedirs(moddir)
    with open(os.path.join(moddir, "modules.builtin"), "w") as f:
        f.write(_modules_builtin(kdir))
    open(os.path.join(moddir, "modules.order"), "w").close()
    p = subprocess.run(["depmod", "-b", dep, release], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise VMError(f"depmod for the patched kernel's modules.builtin failed: {p.stdout}")
    # the initramfs has a merged /usr: /lib is a symlink to usr/lib, so the files go there
    os.makedirs(os.path.join(root, "usr", "lib", "modules"))
    os.rename(moddir, os.path.join(root, "usr", "lib", "modules", release))
    shutil.rmtree(dep, ignore_errors=True)
    os.makedirs(os.path.join(root, "etc"))
    open(os.path.join(root, "etc", "memhpvm-modules"), "w").close()
    p = subprocess.run(f"cd '{root}' && find . -mindepth 1 | LC_ALL=C sort | "
                       "cpio -o -H newc --quiet -R 0:0 | gzip -1", shell=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0 or not p.stdout:
        raise VMError(f"packing the overlay initramfs failed: {p.stderr.decode()}")
    with open(path, "wb") as f:
        f.write(p.stdout)
    shutil.rmtree(root, ignore_errors=True)


def _make_assets(tmp, kdir, kinfo, base, key):
    shutil.copy2(os.path.join(kdir, "bzImage"), os.path.join(tmp, "vmlinuz"))
    shutil.copy2(os.path.join(kdir, "config"), os.path.join(tmp, "config"))
    overlay = os.path.join(tmp, "overlay.cpio.gz")
    _overlay_cpio(overlay, kdir, kinfo.get("release", "unknown"))
    with open(os.path.join(tmp, "initrd.img"), "wb") as w:
        for part in (os.path.join(base, "initrd.img"), overlay):
            with open(part, "rb") as r:
                shutil.copyfileobj(r, w)
    shutil.copy2(os.path.join(base, "files"), os.path.join(tmp, "files"))
    with open(os.path.join(tmp, "info"), "w") as f:
        f.write(f"series=patched\nkernelrelease={kinfo.get('release', 'unknown')}\n"
                f"kernel_build={kdir}\nkernel_key={kinfo.get('key', '?')}\n"
                f"base_assets={base}\nkey={key}\n")
    with open(os.path.join(tmp, "done"), "w"):
        pass


def patched_assets():
    """(asset dir, info, files) like qemu.get_assets(), for the patched kernel: its bzImage and
    the Debian 6.12 initramfs + overlay, in build/vm-assets/patched-<key>/ (key: the kernel
    build, the base assets and this file)."""
    kdir = patched_kernel()
    base, _base_info, files = get_assets("6.12")
    kinfo = _read_info(os.path.join(kdir, "info"))
    st = os.stat(os.path.join(kdir, "bzImage"))
    with open(os.path.abspath(__file__), "rb") as f:
        me = hashlib.sha256(f.read()).hexdigest()
    key = hashlib.sha256(f"{kdir}|{st.st_size}|{st.st_mtime_ns}|{base}|{me}".encode())
    key = key.hexdigest()[:12]
    out = os.path.join(build_dir(), "vm-assets")
    dest = os.path.join(out, f"patched-{key}")
    if not os.path.exists(os.path.join(dest, "done")):
        tmp = f"{dest}.tmp.{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        try:
            _make_assets(tmp, kdir, kinfo, base, key)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        shutil.rmtree(dest, ignore_errors=True)
        os.rename(tmp, dest)
        # older patched asset dirs are not needed again
        for d in os.listdir(out):
            if d.startswith("patched-") and os.path.join(out, d) != dest and ".tmp." not in d:
                shutil.rmtree(os.path.join(out, d), ignore_errors=True)
    info = _read_info(os.path.join(dest, "info"))
    return dest, info, files


# ---- checks against the patched kernel's new ABI (guest side) ----------------------------------

PARAM = "/sys/module/memory_hotplug/parameters/memmap_on_memory"
PAGE = 4096


def _check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def memmap_attrs(g):
    """{block number: memoryN/memmap_on_memory pages} for every block (the new attribute)."""
    res = {}
    out = g.out("cd /sys/devices/system/memory && grep -H . memory*/memmap_on_memory; true")
    for line in out.splitlines():
        name, _, v = line.partition("/memmap_on_memory:")
        res[int(name[len("memory"):])] = int(v)
    return res


def vmstat(g):
    res = {}
    for line in g.out("cat /proc/vmstat").splitlines():
        k, _, v = line.partition(" ")
        res[k] = int(v)
    return res


def param(g):
    return g.out(f"cat {PARAM}").strip()


def set_param(g, on):
    g.run(f"echo {'Y' if on else 'N'} > {PARAM}")
    _check(param(g) == ("Y" if on else "N"), f"{PARAM} reads {param(g)!r} after writing it")


def check_patched(g):
    """The guest runs the companion series: the new files exist with the documented modes."""
    _check(g.run("test -e /sys/devices/system/memory/memory0/memmap_on_memory",
                 check=False).rc == 0,
           f"kernel {g.kernel_release} has no memoryN/memmap_on_memory: not the patched kernel")
    mode = g.out(f"stat -c %a {PARAM}").strip()
    _check(mode == "644", f"{PARAM} mode {mode}, want 644 (runtime-writable)")
    boot = memmap_attrs(g)
    _check(boot and set(boot.values()) == {0},
           f"boot memory blocks must report 0 memmap_on_memory pages: {boot}")


DMESG_BAD = ("WARNING:", "BUG:", "Oops", "Call Trace", "general protection", "Kernel panic")


def check_dmesg_clean(g, what):
    out = g.out("dmesg")
    bad = [i for i, line in enumerate(out.splitlines()) if any(b in line for b in DMESG_BAD)]
    if bad:
        lines = out.splitlines()
        ctx = "\n".join(lines[max(0, bad[0] - 5):bad[0] + 30])
        raise AssertionError(f"{what}: the kernel log has a warning:\n{ctx}")


def check_memhpd_accounting(g, lj):
    """memhpctl list --json against the kernel: per block memmap_pages = memoryN/memmap_on_memory
    with evidence kernel-attr, per device memmap bytes = sum of its blocks' pages * page size,
    and the total on-device bytes = nr_memmap_altmap_pages (of hot-added memory; present)."""
    attrs = memmap_attrs(g)
    per_block = lj["block_size"] // PAGE * 64 // PAGE  # struct page is 64 bytes on x86-64
    _check(lj["kernel"]["kernel_memmap_attr"] is True, "memhpctl: kernel_memmap_attr not true")
    _check(lj["kernel"]["memmap_param_writable"] is True,
           "memhpctl: memmap_param_writable not true on the patched kernel")
    for b in lj["blocks"]:
        n = int(b["name"][len("memory"):])
        _check(b.get("memmap_pages") == attrs[n],
               f"{b['name']}: memhpctl memmap_pages {b.get('memmap_pages')}, kernel {attrs[n]}")
        _check(b["memmap_evidence"] == "kernel-attr",
               f"{b['name']}: memmap evidence {b['memmap_evidence']!r}, want kernel-attr")
        _check(b["memmap"] == ("on-memory" if attrs[n] else "ram"),
               f"{b['name']}: memhpctl memmap {b['memmap']!r}, kernel {attrs[n]} pages")
    total = 0
    for d in lj["devices"]:
        names = [b["name"] for b in lj["blocks"] if b["device"] == d["id"]]
        _check(len(names) == d["blocks"], f"{d['id']}: {d['blocks']} blocks, listed {names}")
        pages = sum(attrs[int(x[len("memory"):])] for x in names)
        _check(d["memmap_on_device_bytes"] == pages * PAGE,
               f"{d['id']}: memhpctl memmap_on_device_bytes {d['memmap_on_device_bytes']}, "
               f"kernel {pages} pages * {PAGE}")
        _check(d["memmap_in_ram_bytes"] == d["blocks"] * per_block * PAGE - pages * PAGE,
               f"{d['id']}: memhpctl memmap_in_ram_bytes {d['memmap_in_ram_bytes']}, want "
               f"{d['blocks']} blocks * {per_block} pages * {PAGE} - {pages * PAGE}")
        if d["blocks"]:
            _check(d["memmap_evidence"] == "kernel-attr",
                   f"{d['id']}: memmap evidence {d['memmap_evidence']!r}, want kernel-attr")
        total += pages
    _check(total == sum(attrs.values()),
           f"memhpctl devices hold {total} memmap pages on memory, kernel blocks "
           f"{sum(attrs.values())}")
    vs = vmstat(g)
    if "nr_memmap_altmap_pages" in vs:
        _check(vs["nr_memmap_altmap_pages"] == total,
               f"/proc/vmstat nr_memmap_altmap_pages {vs['nr_memmap_altmap_pages']}, blocks "
               f"report {total} pages")
    return total
