#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-update.sh TEST-UPDATE: machine_update() against a fresh scan on every
# fixture that has hot-added memory (tests/sysroot/test-update.c), each on a
# scratch copy the test writes to.
set -euo pipefail
# shellcheck source=tests/sysroot/lib.sh
. "$(dirname "$0")/lib.sh"
memhp_require_protected test-update
bin=${1:?usage: test-update.sh TEST-UPDATE}
memhp_setup update

rc=0
# s390 before 6.19: standby starts at the first block that is not online, so
# any block may regroup the machine: never in place.  s390 6.19: standby
# increments are runs of unnamed blocks, and the boot blocks flipped offline
# become some: no expectation either way.
for f in x86-dimm-128m x86-dimm-2g dax-system-ram virtio-mem node-holes vanished-block \
	kernel-attr auto-online s390-619 s390-standby synthetic; do
	root=$tmp/$f
	case $f in
	synthetic) python3 "$MKFIXTURE" --synthetic --blocks 512 --nodes 4 "$root" >/dev/null ;;
	*) memhp_fixture "$f" "$root" >/dev/null ;;
	esac
	expect=--expect-in-place
	[ "$f" = s390-standby ] && expect=--expect-rebuild
	[ "$f" = s390-619 ] && expect=
	"$bin" "$root" "$expect" || { echo "test-update: fixture $f failed" >&2; rc=1; }
done
exit $rc
