# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Shared bits of the sysroot shell tests.  Sourced, not run.

memhp_require_protected() {
	if [ "${MEMHP_PROTECTED:-}" != 1 ]; then
		echo "$1: refusing to run: MEMHP_PROTECTED=1 is not set." >&2
		echo "$1: run it through tests/protect (meson test does), which keeps the host's /sys out of reach." >&2
		exit 1
	fi
}

# memhp_setup NAME: sets $here, $MKFIXTURE, $MEMHPCTL and a scratch dir $tmp
# (removed on exit).  memhpctl is required: a missing binary fails the test.
memhp_setup() {
	here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
	MKFIXTURE=${MKFIXTURE:-$here/../fixtures/mkfixture.py}
	if [ ! -f "$MKFIXTURE" ]; then
		echo "$1: fixture generator $MKFIXTURE not found" >&2
		exit 1
	fi
	if [ -z "${MEMHPCTL:-}" ] || [ ! -x "$MEMHPCTL" ]; then
		echo "$1: memhpctl not found (MEMHPCTL='${MEMHPCTL:-}'); build it first" >&2
		exit 1
	fi
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/memhp-$1.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
}

# memhp_fixture NAME DIR: generate fixture NAME into DIR (never a host path).
memhp_fixture() {
	case "$2" in
	/ | /sys | /sys/* | /proc | /proc/*)
		echo "refusing to generate a fixture into $2" >&2
		exit 1
		;;
	esac
	python3 "$MKFIXTURE" "$1" "$2"
}
