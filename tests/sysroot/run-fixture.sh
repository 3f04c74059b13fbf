#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run-fixture.sh FIXTURE
#
# Generate FIXTURE, run memhpctl list --json on it and compare the sorted JSON
# with tests/fixtures/expected/FIXTURE.json.  UPDATE_EXPECTED=1 rewrites the
# expected file instead; review such a rewrite against what the kernel would
# report before committing it (see tests/fixtures/README.md).
set -euo pipefail
# shellcheck source=tests/sysroot/lib.sh
. "$(dirname "$0")/lib.sh"
memhp_require_protected run-fixture
fixture=${1:?usage: run-fixture.sh FIXTURE}
memhp_setup fixture

root=$tmp/root
memhp_fixture "$fixture" "$root"
expected=$here/../fixtures/expected/$fixture.json

rc=0
"$MEMHPCTL" --sysroot "$root" list --json >"$tmp/raw.json" || rc=$?
if [ "$rc" -ne 0 ]; then
	echo "memhpctl list --json failed with exit code $rc on fixture $fixture" >&2
	exit 1
fi
# The scratch path differs per run: name it @SYSROOT@ wherever it shows up.
jq -S --arg root "$root" 'walk(if type == "string" then gsub($root; "@SYSROOT@") else . end)' \
	"$tmp/raw.json" >"$tmp/actual.json"

if [ "${UPDATE_EXPECTED:-}" = 1 ]; then
	mkdir -p "$(dirname "$expected")"
	cp "$tmp/actual.json" "$expected"
	echo "updated $expected: review it before committing"
	exit 0
fi
if [ ! -f "$expected" ]; then
	echo "no expected output $expected; create it with UPDATE_EXPECTED=1 and review it" >&2
	exit 1
fi
if ! diff -u "$expected" "$tmp/actual.json"; then
	echo "memhpctl list --json differs from $expected (- expected, + actual)" >&2
	exit 1
fi
echo "memhpctl list --json matches $expected"
