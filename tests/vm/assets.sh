#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build (or reuse) the guest assets for the `vm` test suite: a Debian kernel and a busybox
# initramfs holding the modules, udevd, ndctl, daxctl and lsmem the scenarios need.
#
# Usage: tests/vm/assets.sh [--kernel 6.12|6.1] [--out DIR] [--no-install]
#
# Everything comes from Debian packages. The result lives in DIR/<key>/ where <key> hashes the
# package versions and the files of this harness that end up in the image, so a new kernel upload
# or an edited guest init builds a new asset dir and everything else is reused. On success the
# asset dir is printed on stdout (and nothing else); progress goes to stderr.
#
# Exit status: 0 success, 77 when the assets cannot be had here (no apt, no network, missing
# tools), 1 on a real error.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
series=6.12
out=
install=1

skip() {
	echo "assets: SKIP: $*" >&2
	exit 77
}
die() {
	echo "assets: ERROR: $*" >&2
	exit 1
}
log() { echo "assets: $*" >&2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) series=${2:?--kernel needs a value}; shift 2 ;;
	--out) out=${2:?--out needs a value}; shift 2 ;;
	--no-install) install=0; shift ;;
	-h | --help) sed -n '3,15p' "$0"; exit 0 ;;
	*) die "unknown argument '$1'" ;;
	esac
done
[ -n "$out" ] || out=$(cd "$here/../.." && pwd)/build/vm-assets

case "$series" in
6.12) pkg_re='^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' ;;
6.1) pkg_re='^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' ;;
*) die "unsupported kernel series '$series' (use 6.12 or 6.1)" ;;
esac

# Guest programs copied from the host with their libraries, and the packages providing them.
guest_bins=(/bin/udevadm /usr/bin/ndctl /usr/bin/daxctl /usr/bin/lsmem)
host_pkgs=(busybox-static udev ndctl daxctl util-linux kmod cpio xz-utils)
# Libraries memhpd/memhpctl are likely to need; the runner adds whatever else ldd names.
extra_libs=(libsystemd.so.0 libudev.so.1 libjson-c.so.5 libinih.so.1 libdaxctl.so.1 libndctl.so.6)
# Kernel modules the scenarios need (built-in ones are skipped automatically).
modules=(virtio_pci virtio_console virtio_mem 9p 9pnet_virtio nfit nd_pmem nd_btt dax_pmem
	device_dax kmem)

have() { command -v "$1" >/dev/null 2>&1; }

apt_updated=0
apt_update() {
	[ $apt_updated = 1 ] && return 0
	apt_updated=1
	log "apt-get update"
	apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 || skip "apt-get update failed (no network?)"
}

# Make sure the host has the tools and the guest programs.
missing=()
# The guest needs the static busybox (busybox-static), not the dynamic one.
if ! [ -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
	missing+=(busybox-static)
fi
have dpkg-deb || skip "dpkg-deb missing (not a Debian host)"
have apt-get || skip "apt-get missing (not a Debian host)"
for t in qemu-system-x86_64:qemu-system-x86 depmod:kmod cpio:cpio xz:xz-utils /bin/udevadm:udev /usr/bin/ndctl:ndctl \
	/usr/bin/daxctl:daxctl /usr/bin/lsmem:util-linux; do
	have "${t%%:*}" || missing+=("${t##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
	mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
	[ $install = 1 ] || skip "missing host packages: ${missing[*]} (--no-install given)"
	[ "$(id -u)" = 0 ] || skip "missing host packages: ${missing[*]} (need root to install)"
	log "installing ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
		--no-install-recommends "${missing[@]}" >&2; then
		apt_update
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
			--no-install-recommends "${missing[@]}" >&2 ||
			skip "cannot install ${missing[*]}"
	fi
fi

# Newest kernel package of the series that apt knows about. apt-cache takes seconds on a busy
# machine, so the answer is remembered until apt's package lists change.
find_kernel() { apt-cache pkgnames linux-image- 2>/dev/null | grep -E "$pkg_re" | sort -V | tail -n1 || true; }
lists_stamp() { { stat -c '%n %Y %s' /var/lib/apt/lists/*Packages* 2>/dev/null || true; } | sha256sum | cut -c1-16; }
mkdir -p "$out"
resolved="$out/resolved-$series"
kpkg=
kver=
if [ -f "$resolved" ] && [ "$(sed -n 1p "$resolved")" = "$(lists_stamp)" ]; then
	kpkg=$(sed -n 2p "$resolved")
	kver=$(sed -n 3p "$resolved")
fi
if [ -z "$kpkg" ] || [ -z "$kver" ]; then
	kpkg=$(find_kernel)
	if [ -z "$kpkg" ]; then
		apt_update
		kpkg=$(find_kernel)
	fi
	[ -n "$kpkg" ] || skip "no package matching $pkg_re in apt's lists"
	kver=$(apt-cache show --no-all-versions "$kpkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n1 || true)
	[ -n "$kver" ] || skip "apt-cache show $kpkg gives no version"
	printf '%s\n' "$(lists_stamp)" "$kpkg" "$kver" >"$resolved.tmp.$$" && mv "$resolved.tmp.$$" "$resolved"
fi

pkgver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo none; }
key_input=$(
	echo "kernel $kpkg $kver"
	for p in "${host_pkgs[@]}" libc6 libsystemd0; do echo "$p $(pkgver "$p")"; done
	sha256sum "$here/assets.sh" "$here/guest/init"
)
key=$(printf '%s\n' "$key_input" | sha256sum | cut -c1-12)
name="$series-$key"
dest="$out/$name"
if [ -f "$dest/done" ]; then
	echo "$dest"
	exit 0
fi

mkdir -p "$out/debs"
deb=$(ls "$out/debs/${kpkg}_"*.deb 2>/dev/null | grep -F "_${kver#*:}_" | head -n1 || true)
if [ -z "$deb" ]; then
	log "downloading $kpkg $kver"
	(cd "$out/debs" && apt-get -o APT::Sandbox::User=root -qq download "$kpkg=$kver" >&2) ||
		{ apt_update; (cd "$out/debs" && apt-get -o APT::Sandbox::User=root -qq download \
			"$kpkg=$kver" >&2); } || skip "cannot download $kpkg=$kver (no network?)"
	deb=$(ls "$out/debs/${kpkg}_"*.deb | head -n1)
fi

tmp="$out/.$name.tmp.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/pkg" "$tmp/root"
log "unpacking $(basename "$deb")"
dpkg-deb -x "$deb" "$tmp/pkg"
kv=$(ls "$tmp/pkg/lib/modules")
[ -f "$tmp/pkg/boot/vmlinuz-$kv" ] || die "no vmlinuz-$kv in $deb"
depmod -b "$tmp/pkg" "$kv"

root="$tmp/root"
# Merged-/usr layout like the host, so ldd's paths work as they are.
mkdir -p "$root"/usr/{bin,sbin,lib/x86_64-linux-gnu,lib64} "$root"/{proc,sys,dev,run,tmp,host,etc,root,mnt,var}
ln -s usr/bin "$root/bin"
ln -s usr/sbin "$root/sbin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
ln -s ../run "$root/var/run"

# busybox and its applets (real programs copied later win over applet links).
cp /bin/busybox "$root/usr/bin/busybox"
for a in $("$root/usr/bin/busybox" --list-full); do
	case "$a" in
	*/busybox) continue ;;
	esac
	a=${a#/}
	[ -e "$root/$a" ] || [ -L "$root/$a" ] || ln -s /usr/bin/busybox "$root/$a"
done

copy_file() { # copy_file HOSTPATH -> same path in root, dereferencing symlinks
	local p=$1
	rm -f "$root$p"
	mkdir -p "$(dirname "$root$p")"
	cp -L "$p" "$root$p"
}
copy_with_libs() {
	local b=$1 lib
	local deps
	copy_file "$b"
	deps=$(ldd "$b" 2>/dev/null) || return 0 # static
	for lib in $(echo "$deps" | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
		[ -e "$root$lib" ] || copy_file "$lib"
	done
}
for b in "${guest_bins[@]}"; do
	copy_with_libs "$b"
done
ln -sf /usr/bin/udevadm "$root/usr/lib/systemd/systemd-udevd" 2>/dev/null ||
	{ mkdir -p "$root/usr/lib/systemd"; ln -sf /usr/bin/udevadm "$root/usr/lib/systemd/systemd-udevd"; }
for l in "${extra_libs[@]}"; do
	p=$(ldconfig -p | awk -v l="$l" '$1 == l && /x86-64/ && !p { print $NF; p = 1 }')
	[ -n "$p" ] && copy_with_libs "$p"
done
# ldd does not list what glibc dlopen()s for name lookups; udevd wants users and groups.
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\ntty:x:5:\ndisk:x:6:\nkmem:x:15:\ninput:x:101:\n' >"$root/etc/group"

# Kernel modules: the closure of what we need, decompressed for busybox modprobe.
moddir="$root/lib/modules/$kv"
mkdir -p "$moddir"
: >"$root/etc/memhpvm-modules"
for m in "${modules[@]}"; do
	deps=$(modprobe -C /dev/null -d "$tmp/pkg" -S "$kv" --show-depends "$m" 2>&1) ||
		die "module $m: $deps"
	if ! grep -q '^insmod' <<<"$deps"; then
		continue # built in
	fi
	echo "$m" >>"$root/etc/memhpvm-modules"
	for f in $(sed -n 's/^insmod \([^ ]*\).*/\1/p' <<<"$deps"); do
		rel=${f#"$tmp/pkg/lib/modules/$kv/"}
		mkdir -p "$moddir/$(dirname "$rel")"
		case "$f" in
		*.xz) xz -dc "$f" >"$moddir/${rel%.xz}" ;;
		*.zst) zstd -qdc "$f" >"$moddir/${rel%.zst}" ;;
		*) cp "$f" "$moddir/$rel" ;;
		esac
	done
done
cp "$tmp/pkg/lib/modules/$kv"/modules.{builtin,builtin.modinfo,order} "$moddir/" 2>/dev/null || true
depmod -b "$root" "$kv"

install -m 0755 "$here/guest/init" "$root/init"
printf '%s\n' "$key_input" >"$root/etc/memhpvm-assets"

log "packing initramfs"
(cd "$root" && find . -mindepth 1 | sed 's/^\.//' | LC_ALL=C sort) >"$tmp/files"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
	gzip -1 >"$tmp/initrd.img"
cp "$tmp/pkg/boot/vmlinuz-$kv" "$tmp/vmlinuz"
# The uncompressed ELF boots through PVH and skips decompressing under TCG (≈ 1 s per boot).
if grep -q '^CONFIG_PVH=y' "$tmp/pkg/boot/config-$kv"; then
	/usr/bin/python3 - "$tmp/vmlinuz" "$tmp/vmlinux.packed" <<'PY' || true
import sys
d = open(sys.argv[1], "rb").read()
for magic in (b"\x28\xb5\x2f\xfd", b"\xfd7zXZ\x00"):
    i = d.find(magic)
    if i >= 0:
        open(sys.argv[2], "wb").write(d[i:])
        break
PY
	if [ -s "$tmp/vmlinux.packed" ]; then
		{ zstd -qdc "$tmp/vmlinux.packed" 2>/dev/null || xz -qdc "$tmp/vmlinux.packed" 2>/dev/null; } \
			>"$tmp/vmlinux" || true
	fi
	rm -f "$tmp/vmlinux.packed"
	# keep it only if it is a complete ELF
	notes=$(readelf -n "$tmp/vmlinux" 2>/dev/null || true)
	[[ $notes == *Xen* ]] || rm -f "$tmp/vmlinux"
fi
cp "$tmp/pkg/boot/config-$kv" "$tmp/config"
{
	echo "series=$series"
	echo "package=$kpkg"
	echo "version=$kver"
	echo "kernelrelease=$kv"
	echo "key=$key"
} >"$tmp/info"
printf '%s\n' "$key_input" >"$tmp/key-input"
rm -rf "$tmp/pkg" "$tmp/root"
touch "$tmp/done"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
# Older builds of this series (other package versions or harness files) are not needed again.
for d in "$out/$series"-*; do
	[ "$d" = "$dest" ] || rm -rf "$d"
done
for f in "$out"/debs/*.deb; do
	p=$(basename "$f")
	p=${p%%_*}
	if [[ $p =~ $pkg_re ]] && [ "$f" != "$deb" ]; then rm -f "$f"; fi
done
log "assets ready: $dest ($(du -h "$dest/initrd.img" | cut -f1) initramfs)"
echo "$dest"
