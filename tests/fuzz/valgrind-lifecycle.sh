#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# valgrind memcheck over a whole memhpd lifecycle and memhpctl runs: 0 errors,
# nothing definitely or indirectly lost.
#
#   valgrind-lifecycle.sh MEMHPD MEMHPCTL FAKEKERNEL_SO MKFIXTURE_PY [UMOCKDEV_SHIM]
#
# Part 1, fake kernel (always): memhpd on the x86-dimm-128m fixture under
# libmemhp-fakekernel.so: start and coldplug (8 blocks onlined), control
# requests (status, list, explain, offline/online through the engine, bad
# requests), a block an admin offlines then a SIGHUP reload and rescan, a
# reload of a broken configuration (refused) and of the good one, SIGTERM.
# memhpctl list, list --json, explain and status, check-config, each under
# valgrind too.
# Part 2, uevents (if umockdev and python3-gi are there): the umockdev
# suite's 'sighup' and 'restart' scenarios (hot-add uevents, reload, restart
# with a state file) with memhpd run under valgrind.
#
# Exits 77 when valgrind is not installed.  Run inside tests/protect (meson
# test under scripts/test does).  VALGRIND_KEEP=1 keeps the logs.
set -eu

if [ $# -lt 4 ]; then
	echo "usage: $0 MEMHPD MEMHPCTL FAKEKERNEL_SO MKFIXTURE_PY [UMOCKDEV_SHIM]" >&2
	exit 2
fi
MEMHPD=$(realpath "$1")
MEMHPCTL=$(realpath "$2")
FAKEKERNEL=$(realpath "$3")
MKFIXTURE=$(realpath "$4")
UMOCKDEV_SHIM=${5:+$(realpath "$5")}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if ! command -v valgrind >/dev/null; then
	echo "SKIP: valgrind not installed (apt-get install valgrind)"
	exit 77
fi
if [ "${MEMHP_PROTECTED:-}" != 1 ]; then
	echo "refusing to run outside tests/protect (MEMHP_PROTECTED=1 not set)" >&2
	exit 1
fi
# An ASan build cannot run under valgrind.
if ldd "$MEMHPD" 2>/dev/null | grep -q libasan; then
	echo "SKIP: $MEMHPD is built with AddressSanitizer; valgrind needs a plain build"
	exit 77
fi

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/memhp-valgrind-XXXXXX")
daemon_pid=
failures=0
cleanup() {
	if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
		kill -KILL "$daemon_pid" 2>/dev/null || true
		wait "$daemon_pid" 2>/dev/null || true
	fi
	if [ "${VALGRIND_KEEP:-}" = 1 ]; then
		echo "logs kept in $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# shellcheck disable=SC2054 # commas inside options
VG=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
	--track-origins=yes --num-callers=30 --child-silent-after-fork=yes)

# vg NAME CMD...: run CMD under memcheck, log in $tmp/vg-NAME.log; returns CMD's status
# (99: valgrind found errors)
vg() {
	local name=$1
	shift
	"${VG[@]}" --log-file="$tmp/vg-$name.log" "$@"
}

# check_log NAME: the memcheck verdict of one log, printed as a summary line
check_log() {
	local log=$tmp/vg-$1.log errors def ind
	if [ ! -s "$log" ]; then
		fail "$1: no valgrind log"
		return
	fi
	errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$log" | tail -n 1 | tr -d ,)
	def=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -n 1 | tr -d ,)
	ind=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -n 1 | tr -d ,)
	# no leak lines at all: "All heap blocks were freed"
	if grep -q "All heap blocks were freed" "$log"; then
		def=${def:-0}
		ind=${ind:-0}
	fi
	printf 'valgrind %-28s errors %s, definitely lost %s bytes, indirectly lost %s bytes\n' \
		"$1:" "${errors:-?}" "${def:-?}" "${ind:-?}"
	if [ "${errors:-x}" != 0 ] || [ "${def:-x}" != 0 ] || [ "${ind:-x}" != 0 ]; then
		fail "$1: memcheck found problems:"
		grep -E '^==[0-9]+== ' "$log" | head -n 60 >&2
	fi
}

expect_contains() {
	case "$2" in
	*"$3"*) echo "ok: $1" ;;
	*) fail "$1: expected \"$3\" in: $(printf '%s' "$2" | head -c 400)" ;;
	esac
}

# ---------------------------------------------------------------- part 1 --
root=$tmp/root
sock=$tmp/run/control
conf=$tmp/memhpd.conf
mkdir -p "$tmp/run"
"$PY" "$MKFIXTURE" x86-dimm-128m "$root" >/dev/null
cat >"$conf" <<EOF
[daemon]
log_level = debug
control_socket = $sock
state_file = $tmp/run/state.json
metrics_file = $tmp/run/metrics.prom
node_wait = 200ms
batch = 50ms

[rule dimm]
type = acpi-dimm
zone = movable
EOF
cp "$conf" "$conf.good"

# memhpctl on the fixture, no daemon
out=$(vg ctl-list "$MEMHPCTL" --sysroot "$root" -c "$conf" list 2>&1) ||
	fail "memhpctl list: $out"
expect_contains "memhpctl list" "$out" "memory"
out=$(vg ctl-list-json "$MEMHPCTL" --sysroot "$root" -c "$conf" --json list --blocks \
	--devices --nodes --dax 2>&1) || fail "memhpctl list --json: $out"
expect_contains "memhpctl list --json" "$out" '"blocks"'
out=$(vg ctl-explain "$MEMHPCTL" --sysroot "$root" -c "$conf" explain PNP0C80:00 2>&1) ||
	fail "memhpctl explain: $out"
expect_contains "memhpctl explain" "$out" "PNP0C80:00"
out=$(vg ctl-check-config "$MEMHPCTL" check-config "$conf" 2>&1) ||
	fail "memhpctl check-config: $out"
printf '[policy]\nbogus = 1\n' >"$tmp/bad.conf"
out=$(vg ctl-check-config-bad "$MEMHPCTL" check-config "$tmp/bad.conf" 2>&1) &&
	fail "check-config of a bad file succeeded"
expect_contains "check-config names the bad key" "$out" "$tmp/bad.conf:2"

# the daemon
MEMHP_FAKE_ROOT=$root LD_PRELOAD=$FAKEKERNEL \
	"${VG[@]}" --log-file="$tmp/vg-memhpd.log" \
	"$MEMHPD" --sysroot "$root" --config "$conf" --stderr >"$tmp/memhpd.log" 2>&1 &
daemon_pid=$!

ctl() {
	"$MEMHPCTL" --socket "$sock" "$@"
}
# raw REQUEST: one request line, the reply on stdout
raw() {
	"$PY" - "$sock" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(60)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    d = s.recv(1 << 20)
    if not d:
        break
    out += d
sys.stdout.write(out.decode(errors="replace"))
EOF
}
online_count() {
	grep -l '^online' "$root"/sys/devices/system/memory/memory*/state 2>/dev/null | wc -l
}
# wait_for WHAT CMD...: up to 120 s (valgrind is slow)
wait_for() {
	local what=$1
	shift
	for _ in $(seq 600); do
		"$@" >/dev/null 2>&1 && return 0
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.2
	done
	fail "timed out waiting for $what"
	return 1
}

if ! wait_for "memhpd to answer" ctl status; then
	cat "$tmp/memhpd.log" >&2
	exit 1
fi
# coldplug: the DIMM's 8 blocks online movable
wait_for "coldplug" sh -c "[ \$(grep -c 'online_movable OK' '$root/.fake-kernel.log') -ge 8 ]" ||
	true
echo "online blocks after coldplug: $(online_count)"
out=$(ctl status 2>&1) || fail "status: $out"
expect_contains "status" "$out" "PNP0C80:00"
out=$(ctl --json status 2>&1) || fail "status --json: $out"
expect_contains "status --json" "$out" '"counters"'
out=$(raw '{"cmd":"list"}')
expect_contains "list request" "$out" '"ok":true,"machine"'
out=$(raw '{"cmd":"explain","name":"PNP0C80:00"}')
expect_contains "explain request" "$out" '"ok":true,"decision"'
out=$(raw '{"cmd":"explain","name":"memory33"}')
expect_contains "explain of a block" "$out" '"ok":true'
# the engine: offline one block of the DIMM and online it again into the kernel zone
blk=$(sed -n 's|^sys/devices/system/memory/\(memory[0-9]*\)/state online_movable OK$|\1|p' \
	"$root/.fake-kernel.log" 2>/dev/null | tail -n 1)
if [ -n "$blk" ]; then
	out=$(raw "{\"cmd\":\"offline\",\"target\":\"$blk\",\"timeout\":30}")
	expect_contains "offline $blk" "$out" '"ok":true'
	out=$(raw "{\"cmd\":\"online\",\"target\":\"$blk\",\"zone\":\"movable\"}")
	expect_contains "online $blk" "$out" '"ok":true'
else
	fail "coldplug onlined nothing (no online_movable in the fake kernel log)"
fi
# bad requests: error replies (allocation paths of the error side)
out=$(raw '{"cmd":"frobnicate"}')
expect_contains "unknown verb" "$out" '"ok":false'
out=$(raw '{"cmd":"explain","name":"../x"}')
expect_contains "path in a name" "$out" '"ok":false'
out=$(raw "$(head -c 5000 /dev/zero | tr '\0' x)")
expect_contains "oversized request" "$out" "request larger than"
out=$(raw '{"cmd":"explain","name":"nosuchdevice"}')
expect_contains "unknown device" "$out" '"ok":false'
# an admin offlines a block behind memhpd's back; a reload (SIGHUP) rescans and
# must leave it offline
if [ -n "$blk" ]; then
	echo offline >"$root/sys/devices/system/memory/$blk/state"
fi
kill -HUP "$daemon_pid"
wait_for "the SIGHUP reload" grep -q "configuration reloaded" "$tmp/memhpd.log"
# a broken configuration: refused, the old one stays
printf '[policy]\nno_such_key = 1\n' >>"$conf"
out=$(ctl reload 2>&1) && fail "reload of a broken configuration succeeded"
expect_contains "broken reload refused" "$out" "$conf:"
cp "$conf.good" "$conf"
out=$(ctl reload 2>&1) || fail "reload: $out"
expect_contains "reload" "$out" "reloaded"
out=$(ctl status 2>&1) || fail "status after reloads: $out"
if [ -n "$blk" ]; then
	state=$(cat "$root/sys/devices/system/memory/$blk/state")
	if [ "$state" = offline ]; then
		echo "ok: $blk stays offline after the rescan"
	else
		fail "$blk was onlined again after an admin offlined it ($state)"
	fi
fi

kill -TERM "$daemon_pid"
rc=0
wait "$daemon_pid" || rc=$?
daemon_pid=
[ "$rc" = 0 ] || fail "memhpd under valgrind exited with $rc (99: memcheck errors)"
[ -e "$sock" ] && fail "socket left behind"
[ -s "$tmp/run/state.json" ] || fail "no state file written"

# memhpctl status against nothing: the error path
out=$(vg ctl-status-nodaemon "$MEMHPCTL" --socket "$sock" status 2>&1) &&
	fail "status without a daemon succeeded"
expect_contains "status without a daemon" "$out" "not running"

for l in ctl-list ctl-list-json ctl-explain ctl-check-config ctl-check-config-bad memhpd \
	ctl-status-nodaemon; do
	check_log "$l"
done

# ---------------------------------------------------------------- part 2 --
if [ -z "$UMOCKDEV_SHIM" ] || ! "$PY" -c 'import gi; gi.require_version("UMockdev", "1.0")' \
	2>/dev/null || ! command -v umockdev-wrapper >/dev/null; then
	echo "note: umockdev or python3-gi missing; uevent scenarios not run under valgrind"
else
	# The harness signals and waits for this wrapper, which forwards HUP, TERM
	# and INT to memhpd under valgrind.  A daemon the harness leaves running
	# is SIGKILLed with the wrapper when a scenario ends; valgrind survives
	# that (it is not the harness's child) and gets a SIGTERM from us below,
	# so every daemon ends with a full leak check.
	cat >"$tmp/memhpd-vg" <<EOF
#!/bin/bash
valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \\
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \\
	--num-callers=30 --log-file=$tmp/vgu-%p.log "$MEMHPD" "\$@" &
pid=\$!
echo \$pid >>"$tmp/vgu-pids"
trap 'kill -HUP \$pid' HUP
trap 'kill -TERM \$pid' TERM
trap 'kill -INT \$pid' INT
rc=0
while kill -0 \$pid 2>/dev/null; do
	wait \$pid
	rc=\$?
done
exit \$rc
EOF
	chmod +x "$tmp/memhpd-vg"
	for scenario in sighup restart; do
		rm -f "$tmp"/vgu-*.log "$tmp/vgu-pids"
		if MEMHPD=$tmp/memhpd-vg MEMHPCTL=$MEMHPCTL MEMHP_UMOCKDEV_SHIM=$UMOCKDEV_SHIM \
			MEMHP_MKFIXTURE=$MKFIXTURE timeout 600 "$PY" "$here/../umockdev/test_memhpd.py" \
			"$scenario" >"$tmp/umockdev-$scenario.out" 2>&1; then
			echo "ok: umockdev scenario $scenario under valgrind"
		else
			fail "umockdev scenario $scenario under valgrind failed:"
			tail -n 30 "$tmp/umockdev-$scenario.out" >&2
		fi
		# daemons the scenario left running: stop them as systemd would
		for pid in $(cat "$tmp/vgu-pids" 2>/dev/null); do
			kill -TERM "$pid" 2>/dev/null || continue
			for _ in $(seq 300); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.2
			done
			if kill -0 "$pid" 2>/dev/null; then
				fail "umockdev scenario $scenario: memhpd $pid ignored SIGTERM"
				kill -KILL "$pid" 2>/dev/null || true
			fi
		done
		n=0
		for l in "$tmp"/vgu-*.log; do
			[ -e "$l" ] || continue
			n=$((n + 1))
			mv "$l" "$tmp/vg-umockdev-$scenario-$n.log"
			check_log "umockdev-$scenario-$n"
		done
		[ "$n" -gt 0 ] || fail "umockdev scenario $scenario: memhpd never ran under valgrind"
	done
fi

if [ "$failures" -gt 0 ]; then
	echo "--- memhpd log (part 1) ---" >&2
	tail -n 40 "$tmp/memhpd.log" >&2
	echo "$failures failure(s)" >&2
	exit 1
fi
echo "valgrind: all runs clean"
