#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The sysroot suite must run inside tests/protect: the host's memory sysfs read-only.
set -euo pipefail

fail() {
	echo "test-protect: $*" >&2
	echo "test-protect: tests must run via tests/protect or scripts/test" >&2
	exit 1
}

[[ ${MEMHP_PROTECTED:-} == 1 ]] || fail "MEMHP_PROTECTED is not set"
for d in /sys/devices/system/memory /sys/bus/dax /sys/firmware /sys/module/memory_hotplug; do
	if [[ $d != /sys/devices/system/memory && ! -e $d ]]; then
		continue
	fi
	opts=$(findmnt -no OPTIONS -T "$d") || fail "findmnt cannot tell how $d is mounted"
	[[ ,$opts, == *,ro,* ]] || fail "$d is mounted read-write ($opts)"
	echo "ok: $d is read-only ($opts)"
done
