#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Companion kernel series: memhpd sets memory_hotplug.memmap_on_memory ahead
# of the next ACPI DIMM from its policy, and leaves a stock kernel's
# read-only parameter alone.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
memhp_require_protected memmap-param
memhp_setup memmap-param

fail() {
	echo "memmap-param: FAIL: $*" >&2
	exit 1
}

# run FIXTURE CONFIG-TEXT: memhpd --once under the fake kernel; prints the parameter after
run() {
	local root=$tmp/$1.$RANDOM
	memhp_fixture "$1" "$root" >/dev/null
	printf '%b' "$2" >"$root.conf"
	LD_PRELOAD=$FAKEKERNEL MEMHP_FAKE_ROOT=$root "$MEMHPD" --once --sysroot "$root" \
		--config "$root.conf" 2>"$root.err" || fail "$1: memhpd exit $?: $(cat "$root.err")"
	param=$(cat "$root/sys/module/memory_hotplug/parameters/memmap_on_memory")
	err=$root.err
	log=$root/.fake-kernel.log
}

# kernel-attr: the companion series; the parameter is N and writable
run kernel-attr '[policy]\nmemmap = on-memory\n'
[ "$param" = Y ] || fail "[policy] memmap = on-memory left the parameter at $param"
grep -q 'memmap_on_memory set to Y for the next ACPI DIMM (\[policy\] memmap)' "$err" ||
	fail "no log line: $(cat "$err")"
grep -qx 'sys/module/memory_hotplug/parameters/memmap_on_memory Y OK' "$log" ||
	fail "kernel log: $(cat "$log")"

# a type-only acpi-dimm rule wins over [policy]
run kernel-attr '[policy]\nmemmap = on-memory\n[rule dimms]\ntype = acpi-dimm\nmemmap = ram\n'
[ "$param" = N ] || fail "rule dimms (ram) set the parameter to $param"
! grep -q memmap_on_memory "$log" 2>/dev/null || fail "wrote although already N: $(cat "$log")"

# auto: memmap_auto_default decides (the DIMM's size is not known yet)
run kernel-attr '[policy]\nmemmap = auto\nmemmap_auto_default = on-memory\n'
[ "$param" = Y ] || fail "auto with default on-memory left $param"

# stock kernel (read-only parameter): never written
run x86-dimm-128m '[policy]\nmemmap = ram\n'
[ "$param" = Y ] || fail "stock kernel's parameter changed to $param"
! grep -q memmap_on_memory "$log" || fail "wrote a stock kernel's parameter: $(cat "$log")"
echo "memmap-param: ok"
