#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The fixture generator itself: every machine builds, the synthetic machine
# has the block count asked for, bad input gets a clear error (never a
# traceback), and the sysroot tests refuse to run outside tests/protect.
set -euo pipefail
# shellcheck source=tests/sysroot/lib.sh
. "$(dirname "$0")/lib.sh"
memhp_require_protected test-mkfixture
memhp_setup mkfixture

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect_error "what" "message substring" cmd...: must exit 1 (usage errors:
# $want_rc=2), print the message, no traceback
expect_error() {
	local what=$1 msg=$2 out rc=0
	shift 2
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" -eq "${want_rc:-1}" ] || fail "$what: exit code $rc, expected ${want_rc:-1} (output: $out)"
	case "$out" in *Traceback*) fail "$what: Python traceback instead of an error: $out" ;; esac
	case "$out" in *"$msg"*) ;; *) fail "$what: expected '$msg' in: $out" ;; esac
	echo "ok: $what -> $(printf '%s' "$out" | head -n1)"
}

names=$(python3 "$MKFIXTURE" --list | awk '{print $1}')
[ "$(echo "$names" | wc -l)" -ge 11 ] || fail "--list shows too few machines: $names"
for n in $names; do
	python3 "$MKFIXTURE" "$n" "$tmp/$n" || fail "fixture $n does not build"
	for f in sys/devices/system/memory/block_size_bytes proc/iomem proc/zoneinfo \
		sys/devices/system/node/online sys/module/memory_hotplug/parameters/memmap_on_memory \
		fixture.json; do
		[ -s "$tmp/$n/$f" ] || fail "fixture $n lacks $f"
	done
	# every node link of every block resolves (except the ones a fixture breaks on purpose)
	want=$(jq '[.blocks[] | select(.error == null or (.error | startswith("node link") | not))] | length' "$tmp/$n/fixture.json")
	got=0
	for b in "$tmp/$n"/sys/devices/system/memory/memory*/node*; do
		[ -d "$b" ] && got=$((got + 1))
	done
	[ "$got" -eq "$want" ] || fail "fixture $n: $got resolving node links, expected $want"
	echo "ok: fixture $n ($want blocks)"
done

python3 "$MKFIXTURE" --synthetic --blocks 4096 --nodes 2 --block-size 128M "$tmp/syn"
count=$(lsmem --all --json --sysroot "$tmp/syn" -o BLOCK | jq '.memory | length')
[ "$count" -eq 4096 ] || fail "synthetic: lsmem sees $count blocks, asked for 4096"
[ "$(cat "$tmp/syn/sys/devices/system/node/online")" = 0-1 ] || fail "synthetic: wrong node list"
for s in online offline; do
	grep -qx $s "$tmp"/syn/sys/devices/system/memory/memory*/state ||
		fail "synthetic: no $s block (states must be mixed)"
done
echo "ok: synthetic 4096 blocks on 2 nodes"

expect_error "unknown machine" "unknown machine 'no-such'" python3 "$MKFIXTURE" no-such "$tmp/x"
expect_error "non-empty outdir" "is not empty" python3 "$MKFIXTURE" x86-dimm-128m "$tmp/syn"
expect_error "bad block size" "bad size" python3 "$MKFIXTURE" --synthetic --block-size 12Q "$tmp/y"
expect_error "block size not a power of two" "power of two" \
	python3 "$MKFIXTURE" --synthetic --blocks 128 --block-size 129M "$tmp/y"
expect_error "too few blocks" "need >= 64 blocks" python3 "$MKFIXTURE" --synthetic --blocks 3 "$tmp/y"
expect_error "outdir is a file" "Not a directory" python3 "$MKFIXTURE" x86-dimm-128m "$tmp/syn/fixture.json"
want_rc=2 expect_error "missing OUTDIR" "usage: mkfixture.py NAME OUTDIR" python3 "$MKFIXTURE" x86-dimm-128m
[ ! -e "$tmp/x" ] || fail "unknown machine still created $tmp/x"

for t in test-lsmem.sh run-fixture.sh test-mkfixture.sh; do
	expect_error "$t outside tests/protect" "MEMHP_PROTECTED=1 is not set" \
		env -u MEMHP_PROTECTED "$here/$t" x86-dimm-128m
done
