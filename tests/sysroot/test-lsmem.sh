#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-lsmem.sh FIXTURE
#
# 1. lsmem (util-linux) reads the generated fixture and must see exactly the
#    blocks, ranges, states, nodes and zones the fixture describes: proof that
#    the fixture is laid out the way the kernel lays out sysfs.
# 2. memhpctl list --json must agree with lsmem on every block's state, zone
#    and node, with the fixture on memmap placement and device type, and flag
#    the blocks the fixture broke.
set -euo pipefail
# shellcheck source=tests/sysroot/lib.sh
. "$(dirname "$0")/lib.sh"
memhp_require_protected test-lsmem
fixture=${1:?usage: test-lsmem.sh FIXTURE}
memhp_setup lsmem

root=$tmp/root
memhp_fixture "$fixture" "$root"

cols=RANGE,SIZE,STATE,BLOCK,NODE,ZONES
lsmem --json --bytes --sysroot "$root" -o "$cols" >"$tmp/lsmem-summary.json"
lsmem --all --json --bytes --sysroot "$root" -o "$cols" >"$tmp/lsmem-all.json"
python3 "$here/check-fixture.py" lsmem "$root" "$tmp/lsmem-all.json" "$tmp/lsmem-summary.json"
echo "lsmem agrees with fixture $fixture ($(jq '.memory | length' "$tmp/lsmem-all.json") blocks)"

rc=0
"$MEMHPCTL" --sysroot "$root" list --json >"$tmp/memhpctl.json" || rc=$?
if [ "$rc" -ne 0 ]; then
	echo "memhpctl list --json failed with exit code $rc" >&2
	exit 1
fi
python3 "$here/check-fixture.py" memhpctl "$root" "$tmp/memhpctl.json" "$tmp/lsmem-all.json"
echo "memhpctl agrees with lsmem on fixture $fixture"
