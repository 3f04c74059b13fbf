# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Build and test dependencies of memhpd on Debian 12.  Sourced by scripts/test
# and scripts/demo:
#
#     . scripts/deps.sh
#     memhp_install_deps NAME    # NAME prefixes the messages
#
# As root, missing packages are installed with apt-get (after apt-get update);
# as another user they are only listed.  Returns non-zero if an install failed.

MEMHP_PACKAGES=(meson ninja-build pkg-config gcc libudev-dev libsystemd-dev libndctl-dev
	libdaxctl-dev libjson-c-dev libinih-dev umockdev libumockdev-dev util-linux mount
	jq python3 groff-base
	# umockdev suite: the test driver is Python with GObject introspection
	gir1.2-umockdev-1.0 python3-gi
	# valgrind suite (memcheck of a daemon lifecycle)
	valgrind
	# kernel suite: kernel/build --check compiles the series' objects (it skips without these)
	make patch flex bison bc libelf-dev libssl-dev ccache xz-utils)

memhp_missing_deps() {
	local p
	for p in "${MEMHP_PACKAGES[@]}"; do
		if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
			echo "$p"
		fi
	done
}

memhp_install_deps() {
	local who=${1:-memhp} missing
	if ! command -v dpkg-query >/dev/null; then
		echo "$who: no dpkg-query; not checking build dependencies" >&2
		return 0
	fi
	missing=$(memhp_missing_deps | tr '\n' ' ')
	missing=${missing% }
	[ -n "$missing" ] || return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "$who: missing packages (run as root to install): $missing" >&2
		return 0
	fi
	echo "$who: installing $missing" >&2
	# shellcheck disable=SC2086 # one word per package
	DEBIAN_FRONTEND=noninteractive apt-get update &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
}
