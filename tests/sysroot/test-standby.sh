#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-standby.sh
#
# memhpctl standby list / configure / deconfigure and memhpd's [standby]
# policy on the s390 fixtures, under the fake kernel, which enforces the
# kernel's rules (tests/fakekernel/fakekernel-s390.c): memmap_on_memory only
# while deconfigured, deconfigure only when offline, config=1 adds the block.
#   s390-619      Linux 6.19 firmware interface, 1 GiB increments 0-11:
#                 0-3 boot, 4-5 online Movable, 6 online Normal, 7 offline,
#                 8-11 deconfigured (memmap_on_memory 1 1 0 0)
#   s390-standby  before 6.19: 256 MiB blocks 16-23 offline standby
# Every case asserts the exit code, the exact kernel writes in order (the fake
# kernel's log) and what memhpctl standby list --json sees afterwards.
#
# Environment (set by meson): MEMHPD, MEMHPCTL, FAKEKERNEL, MKFIXTURE.
# Must run inside tests/protect (MEMHP_PROTECTED=1).
set -euo pipefail
# shellcheck source=tests/sysroot/lib.sh
. "$(dirname "$0")/lib.sh"
memhp_require_protected test-standby
memhp_setup standby
for v in MEMHPD FAKEKERNEL; do
	if [ -z "${!v:-}" ] || [ ! -f "${!v}" ]; then
		echo "test-standby: $v not found ('${!v:-}'); build it first" >&2
		exit 1
	fi
done
FAKEKERNEL=$(realpath "$FAKEKERNEL")

failures=0
case_name=
fail() {
	echo "FAIL [$case_name]: $*" >&2
	failures=$((failures + 1))
}

# fresh copies of the generated fixtures for every case
python3 "$MKFIXTURE" s390-619 "$tmp/gen-619" >/dev/null
python3 "$MKFIXTURE" s390-standby "$tmp/gen-pre" >/dev/null
printf '' >"$tmp/empty.conf"

root=
fresh() { # NAME FIXTURE
	case_name=$1
	root=$tmp/$1
	cp -a "$tmp/gen-$2" "$root"
}

# run memhpctl under the fake kernel; stdout in $out, stderr in $err, status in $rc
ctl() {
	set +e
	MEMHP_FAKE_ROOT=$root LD_PRELOAD=$FAKEKERNEL "$MEMHPCTL" -r "$root" -c "$tmp/empty.conf" \
		"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	set -e
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

expect_rc() {
	[ "$rc" = "$1" ] || fail "exit $rc, expected $1 (stdout: $out; stderr: $err)"
}

expect_err() {
	grep -qF -- "$1" "$tmp/err" || fail "stderr lacks \"$1\": $err"
}

expect_out() {
	grep -qF -- "$1" "$tmp/out" || fail "stdout lacks \"$1\": $out"
}

# the kernel writes, "path value result" per line, exactly
expect_log() {
	local want got
	want=$(printf '%s\n' "$@")
	got=$(sed 's/\\n / /' "$root/.fake-kernel.log" 2>/dev/null || true)
	[ "$got" = "$want" ] || fail "kernel writes differ:
--- expected
$want
--- got
$got"
	rm -f "$root/.fake-kernel.log"
}

# standby list --json must say: BLOCK=configured/state/zone/memmap ... and totals
expect_list() {
	local json
	set +e
	json=$(MEMHP_FAKE_ROOT=$root LD_PRELOAD=$FAKEKERNEL "$MEMHPCTL" -r "$root" standby list \
		--json 2>&1)
	set -e
	python3 - "$json" "$@" <<'EOF' || fail "standby list --json differs (see above)"
import json, sys
j = json.loads(sys.argv[1])
inc = {i["block"]: i for i in j["increments"]}
bad = 0
for spec in sys.argv[2:]:
    k, v = spec.split("=", 1)
    if k in ("configured", "deconfigured", "online", "offline", "memmap_on_memory"):
        got = str(j["totals"][k] >> 20) + "M"
    elif k == "interface":
        got = j["interface"]
    elif k == "count":
        got = str(len(j["increments"]))
    else:
        i = inc.get(k)
        got = "absent" if i is None else "%s/%s/%s/%s" % (
            "c" if i["configured"] else "d", i["state"], i["zone"] or "-", i["memmap"])
    if got != v:
        print("  %s: %s, expected %s" % (k, got, v), file=sys.stderr)
        bad += 1
sys.exit(1 if bad else 0)
EOF
}

MEM=sys/devices/system/memory
FW=sys/firmware/memory

# ---- 6.19: list ----
fresh list-619 619
expect_list interface=firmware count=12 configured=8192M deconfigured=4096M online=7168M \
	offline=5120M memmap_on_memory=3072M \
	memory0=c/online/DMA/ram memory4=c/online/Movable/on-memory \
	memory6=c/online/Normal/ram memory7=c/offline/-/on-memory \
	memory8=d/offline/-/on-memory memory10=d/offline/-/ram
ctl standby list
expect_rc 0
expect_out "0x0000000200000000-0x000000027fffffff 2G   offline 8-9   no         -       yes"
expect_out "Total deconfigured:     4G"
expect_out "firmware (sys/firmware/memory, Linux 6.19+)"

# ---- 6.19: configure 2048 (MiB): first the configured but offline memory7 is
# onlined, then memory8: the policy (auto, small) puts its memmap in RAM, so
# memmap_on_memory=0 while deconfigured, then config=1, then online movable ----
fresh configure-size 619
ctl standby configure 2048
expect_rc 0
expect_out "memory8 configured (offline)"
expect_out "configure: 2 of 2 increment(s) done (2G), 0 failed"
expect_log "$MEM/memory7/state online_movable OK" "$FW/memory8/memmap_on_memory 0 OK" \
	"$FW/memory8/config 1 OK" "$MEM/memory8/state online_movable OK"
expect_list memory7=c/online/Movable/on-memory memory8=c/online/Movable/ram \
	memory9=d/offline/-/on-memory configured=9216M online=9216M
grep -q "00000000-.* : System RAM" "$root/proc/iomem" || fail "no System RAM in proc/iomem"
grep -q "^200000000-23fffffff : System RAM" "$root/proc/iomem" ||
	fail "memory8 has no proc/iomem resource"

# ---- 6.19: --memmap on-memory --no-online on a block range; memmap already 1 ----
fresh configure-blocks 619
ctl standby configure --blocks 8-9 --memmap on-memory --no-online
expect_rc 0
expect_log "$FW/memory8/config 1 OK" "$FW/memory9/config 1 OK"
expect_list memory8=c/offline/-/on-memory memory9=c/offline/-/on-memory
[ "$(cat "$root/$MEM/memory8/state")" = offline ] || fail "memory8 not offline"
# changing the memmap of a configured increment is refused before any write
ctl standby configure --blocks 9 --memmap ram
expect_rc 1
expect_err "memory9 is configured with its memmap on the memory; deconfigure it before"
expect_log
# a configured but offline increment in a range: configure onlines it
ctl standby configure --blocks 9 --zone kernel
expect_rc 0
expect_log "$MEM/memory9/state online_kernel OK"
expect_list memory9=c/online/Normal/on-memory

# ---- 6.19: an address range with a hole beyond the last increment: partial, 64 ----
fresh configure-range 619
ctl standby configure 0x2c0000000-0x33fffffff --memmap ram
expect_rc 64
expect_err "memory12 is not a standby memory increment"
expect_out "configure: 1 of 2 increment(s) done (1G), 1 failed"
expect_log "$FW/memory11/config 1 OK" "$MEM/memory11/state online_movable OK"

# ---- 6.19: more than is left: partial, 64, chmem's message ----
fresh configure-too-much 619
ctl standby configure 8G
expect_rc 64
expect_out "could only configure 5G of 8G"
expect_list deconfigured=0M online=12288M

# ---- 6.19: EOPNOTSUPP when the kernel cannot put the memmap on the memory ----
fresh configure-eopnotsupp 619
echo N >"$root/sys/module/memory_hotplug/parameters/memmap_on_memory"
ctl standby configure --blocks 10 --memmap on-memory
expect_rc 1
expect_err "memory10: the kernel cannot place the memmap on this memory"
expect_log "$FW/memory10/memmap_on_memory 1 EOPNOTSUPP"
expect_list memory10=d/offline/-/ram

# ---- 6.19: the firmware refuses ----
fresh configure-sclp-error 619
touch "$root/$FW/memory11/.fake_sclp_error"
ctl standby configure --blocks 10-11 --memmap ram
expect_rc 64
expect_err "memory11: writing config=1: Input/output error"
expect_log "$FW/memory10/config 1 OK" "$MEM/memory10/state online_movable OK" \
	"$FW/memory11/config 1 EIO"

# ---- 6.19: deconfigure 2G: highest configured first, offline before config=0 ----
fresh deconfigure-size 619
ctl standby deconfigure 2G
expect_rc 0
expect_log "$FW/memory7/config 0 OK" "$MEM/memory5/state offline OK" "$FW/memory5/config 0 OK"
expect_list memory7=d/offline/-/on-memory memory5=d/offline/-/on-memory \
	memory6=c/online/Normal/ram configured=6144M
[ ! -e "$root/$MEM/memory5" ] || fail "memory5 still exists after config=0"
[ ! -e "$root/sys/devices/system/node/node0/memory5" ] || fail "node0/memory5 link remains"

# ---- 6.19: a block that cannot be offlined: bounded, partial result ----
fresh deconfigure-busy 619
touch "$root/$MEM/memory6/.fake_unmovable"
ctl standby deconfigure --blocks 5-6 --timeout 1
expect_rc 64
expect_err "memory6 offline: failed"
expect_out "deconfigure: 1 of 2 increment(s) done (1G), 1 failed"
grep -q "$FW/memory6/config" "$root/.fake-kernel.log" && fail "config=0 written for a busy block"
grep -q "^$FW/memory5/config 0 OK" "$root/.fake-kernel.log" || fail "memory5 not deconfigured"
rm -f "$root/.fake-kernel.log"
# nothing in a kernel zone is taken by a SIZE: only memory4 qualifies
ctl standby deconfigure 3G --timeout 1
expect_rc 64
expect_out "could only deconfigure 2G of 3G"
expect_log "$FW/memory7/config 0 OK" "$MEM/memory4/state offline OK" "$FW/memory4/config 0 OK"

# ---- fake kernel rules, written directly ----
# (python3 does the single write(2); a cross-built fake kernel cannot be
# preloaded into the host's python, so a cross run skips this case)
if python3 -c 'import ctypes, sys; ctypes.CDLL(sys.argv[1])' "$FAKEKERNEL" 2>/dev/null; then
fresh kernel-rules 619
write() { # PATH VALUE -> prints the error, nothing on success (one write(2), as sysfs wants)
	MEMHP_FAKE_ROOT=$root LD_PRELOAD=$FAKEKERNEL python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
try:
    os.write(fd, sys.argv[2].encode())
except OSError as e:
    print(e.strerror)
' "$root/$1" "$2"
}
[ "$(write $FW/memory4/memmap_on_memory 0)" = "Device or resource busy" ] ||
	fail "memmap_on_memory of a configured block must be EBUSY"
[ "$(write $FW/memory4/config 0)" = "Device or resource busy" ] ||
	fail "config=0 of an online block must be EBUSY"
[ "$(write $FW/memory8/config maybe)" = "Invalid argument" ] || fail "config=maybe must be EINVAL"
[ -z "$(write $FW/memory4/config 1)" ] || fail "config=1 on a configured block is a no-op"
echo online >"$root/$MEM/auto_online_blocks"
[ -z "$(write $FW/memory8/config 1)" ] || fail "config=1 failed"
[ "$(cat "$root/$MEM/memory8/state")" = online ] || fail "auto_online_blocks=online ignored"
[ "$(cat "$root/$FW/memory8/config")" = 1 ] || fail "config not stored"
else
	echo "test-standby: kernel-rules skipped: $FAKEKERNEL cannot be loaded into python3"
fi

# ---- before 6.19: onlining assigns, offlining gives back ----
fresh legacy 'pre'
expect_list interface=legacy count=8 configured=0M deconfigured=2048M \
	memory16=d/offline/-/on-memory
ctl standby configure 512
expect_rc 0
expect_log "$MEM/memory16/state online_movable OK" "$MEM/memory17/state online_movable OK"
expect_list memory16=c/online/Movable/on-memory memory17=c/online/Movable/on-memory \
	configured=512M
ctl standby configure 256M --memmap ram
expect_rc 1
expect_err "before Linux 6.19 the memmap placement of standby memory is fixed at boot"
ctl standby configure 256M --no-online
expect_rc 1
expect_err "configuring without onlining needs the Linux 6.19 firmware interface"
expect_log
ctl standby deconfigure 1G
expect_rc 64
expect_out "could only deconfigure 512M of 1G"
expect_log "$MEM/memory17/state offline OK" "$MEM/memory16/state offline OK"
expect_list configured=0M

# ---- usage errors (chmem's rules) ----
fresh usage 619
for a in "standby configure 100" "standby configure 0x100-0x200" "standby configure 1G-2G" \
	"standby configure --blocks 5-3" "standby configure 1-2-3" "standby deconfigure 1G --zone kernel"; do
	# shellcheck disable=SC2086
	ctl $a
	expect_rc 1
done
expect_log

# ---- memhpd [standby]: floor enforced at start (--once) ----
fresh memhpd-floor 619
cat >"$tmp/floor.conf" <<EOF
[daemon]
state_file = $root/state.json
control_socket = $root/control
[standby]
enabled = yes
floor = 9G
memmap = on-memory
EOF
set +e
MEMHP_FAKE_ROOT=$root LD_PRELOAD=$FAKEKERNEL "$MEMHPD" -r "$root" -c "$tmp/floor.conf" --once \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
out=$(cat "$tmp/out")
err=$(cat "$tmp/err")
expect_rc 0
expect_err "standby: grow by 2G (start): online memory 7G is below the floor 9G: configure 2G"
expect_err ": s390 standby memory is managed by [standby] (enabled = yes)"
expect_log "$MEM/memory7/state online_movable OK" "$FW/memory8/config 1 OK" \
	"$MEM/memory8/state online_movable OK"
expect_list memory7=c/online/Movable/on-memory memory8=c/online/Movable/on-memory \
	memory9=d/offline/-/on-memory

# ---- memhpd [standby]: ceiling: only online movable memory is given back ----
fresh memhpd-ceiling 619
sed 's/^floor = 9G/ceiling = 5G/' "$tmp/floor.conf" | sed "s|$tmp/memhpd-floor|$root|" \
	>"$tmp/ceiling.conf"
set +e
MEMHP_FAKE_ROOT=$root LD_PRELOAD=$FAKEKERNEL "$MEMHPD" -r "$root" -c "$tmp/ceiling.conf" --once \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
out=$(cat "$tmp/out")
err=$(cat "$tmp/err")
expect_rc 0
expect_err "online memory 7G is above the ceiling 5G: deconfigure 2G"
expect_log "$MEM/memory5/state offline OK" "$FW/memory5/config 0 OK" \
	"$MEM/memory4/state offline OK" "$FW/memory4/config 0 OK"
expect_list memory6=c/online/Normal/ram memory7=c/offline/-/on-memory online=5120M

# ---- memhpd [standby] as a daemon: pressure from a sampled PSI file (no trigger
# outside procfs), grow after grow_window, rate limit, SIGUSR1, idle shrink ----
fresh memhpd-psi 619
mkdir -p "$root/proc/pressure"
printf 'some avg10=42.00 avg60=10.00 avg300=1.00 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n' \
	>"$root/proc/pressure/memory"
cat >"$tmp/psi.conf" <<EOF
[daemon]
state_file = $root/state.json
control_socket = $root/control
[standby]
enabled = yes
memmap = ram
scan_interval = 1s
grow_window = 1s
shrink_idle = 2s
min_interval = 2s
pressure_threshold = 10
EOF
MEMHP_FAKE_ROOT=$root LD_PRELOAD=$FAKEKERNEL "$MEMHPD" -r "$root" -c "$tmp/psi.conf" --stderr \
	-l debug >"$tmp/psi.log" 2>&1 &
pid=$!
grown=
for _ in $(seq 1 80); do
	sleep 0.1
	if grep -q "grow by 1G (scan): memory pressure 42.00% has been above 10.00%" "$tmp/psi.log"; then
		grown=1
		break
	fi
done
[ -n "$grown" ] || fail "no pressure-driven grow: $(cat "$tmp/psi.log")"
grep -q "standby: .* is not procfs; sampling avg10 every 1000 ms" "$tmp/psi.log" ||
	fail "the PSI trigger must not be written to a sysroot file"
grep -q "^some avg10=42.00" "$root/proc/pressure/memory" || fail "proc/pressure/memory was modified"
# idle now: after shrink_idle (2s) one step goes back; SIGUSR1 looks at once
printf 'some avg10=0.00 avg60=0.00 avg300=0.00 total=1\n' >"$root/proc/pressure/memory"
kill -USR1 "$pid"
shrunk=
for _ in $(seq 1 80); do
	sleep 0.1
	if grep -q "shrink by 1G (.*): memory pressure 0.00% has been below 5.00%" "$tmp/psi.log"; then
		shrunk=1
		break
	fi
done
[ -n "$shrunk" ] || fail "no idle shrink: $(tail -5 "$tmp/psi.log")"
grep -q "hold (SIGUSR1)" "$tmp/psi.log" || fail "SIGUSR1 did not make it look"
kill "$pid"
wait "$pid" || fail "memhpd exited with $?"
# grew memory7 (configured, offline) and shrank the highest movable one again
grep -q "^$MEM/memory7/state online_movable OK" "$root/.fake-kernel.log" ||
	fail "grow did not online memory7: $(cat "$root/.fake-kernel.log")"
grep -q "^$FW/memory7/config 0 OK" "$root/.fake-kernel.log" ||
	fail "shrink did not deconfigure memory7: $(cat "$root/.fake-kernel.log")"

if [ "$failures" -gt 0 ]; then
	echo "test-standby: $failures failure(s)" >&2
	exit 1
fi
echo "test-standby: all cases passed"
