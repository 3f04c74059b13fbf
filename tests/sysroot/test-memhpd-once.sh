#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-memhpd-once.sh
#
# memhpd --once (one coldplug pass) on generated fixtures under the fake
# kernel (tests/fakekernel).  For every case it asserts exactly what was
# written to the kernel (the fake kernel's log: file, value, order, result),
# the exit code, the state file and what memhpctl list --json sees afterwards,
# including the memmap evidence and that /proc/zoneinfo stays consistent with
# it.  Error paths: EBUSY on one block (64) and on all (1), kernel_auto_online,
# a block without its node link, a dax device kmem refuses (rolled back to
# devdax), a broken configuration; and a second --once on the finished tree
# writes nothing.
#
# Environment (set by meson): MEMHPD, MEMHPCTL, FAKEKERNEL, MKFIXTURE.
# Must run inside tests/protect (MEMHP_PROTECTED=1).
set -euo pipefail
# shellcheck source=tests/sysroot/lib.sh
. "$(dirname "$0")/lib.sh"
memhp_require_protected test-memhpd-once
memhp_setup memhpd-once
for v in MEMHPD FAKEKERNEL; do
	if [ -z "${!v:-}" ] || [ ! -f "${!v}" ]; then
		echo "test-memhpd-once: $v not found ('${!v:-}'); build it first" >&2
		exit 1
	fi
done
MEMHPD=$(realpath "$MEMHPD")
FAKEKERNEL=$(realpath "$FAKEKERNEL")

MEM=sys/devices/system/memory
failures=0
case_failures=0
case_name=

fail() {
	echo "FAIL [$case_name]: $*" >&2
	failures=$((failures + 1))
	case_failures=$((case_failures + 1))
}

# ---- python checks: state file, memhpctl list --json, zoneinfo ----
cat >"$tmp/check.py" <<'EOF'
import json, sys


def val(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def expand(names):
    """memory40-47 -> memory40..memory47; a,b -> a, b"""
    out = []
    for part in names.split(","):
        if part.startswith("memory") and "-" in part:
            lo, hi = part[6:].split("-")
            out += ["memory%d" % i for i in range(int(lo), int(hi) + 1)]
        else:
            out.append(part)
    return out


def expect(what, obj, pairs):
    bad = 0
    for kv in pairs:
        k, v = kv.split("=", 1)
        if k.startswith("~"):  # substring
            k = k[1:]
            if v not in val(obj.get(k)):
                print("%s: %s = %r does not contain %r" % (what, k, obj.get(k), v))
                bad += 1
        elif val(obj.get(k, "<absent>")) != v:
            print("%s: %s = %r, expected %s" % (what, k, obj.get(k, "<absent>"), v))
            bad += 1
    return bad


def zoneinfo(path):
    """{(node, zone): {key: pages}}"""
    z, cur = {}, None
    for line in open(path):
        if line.startswith("Node "):
            a, b = line.split(", zone")
            cur = z.setdefault((int(a[5:]), b.strip()), {})
            continue
        w = line.split()
        if cur is None or len(w) < 2:
            continue
        if w[0] == "pages" and w[1] == "free":
            cur["free"] = int(w[2])
        elif w[0] in ("present", "managed", "spanned") and w[1].isdigit():
            cur[w[0]] = int(w[1])
    return z


def main(argv):
    cmd = argv[0]
    bad = 0
    if cmd == "state":
        st = json.load(open(argv[1]))
        who = argv[2]
        if who == "counters":
            obj = st["counters"]
        else:
            recs = [d for d in st["devices"] if d["id"] == who]
            if len(recs) != 1:
                print("state: %d records for %s (ids: %s)" %
                      (len(recs), who, [d["id"] for d in st["devices"]]))
                return 1
            obj = dict(recs[0])
            obj["reasons"] = " | ".join(obj["reasons"])
        bad += expect("state %s" % who, obj, argv[3:])
    elif cmd in ("block", "device", "dax", "node"):
        lst = json.load(open(argv[1]))
        key = {"block": ("blocks", "name"), "device": ("devices", "id"),
               "dax": ("dax", "name"), "node": ("nodes", "node")}[cmd]
        items = {val(x[key[1]]): x for x in lst[key[0]]}
        for name in expand(argv[2]):
            if name not in items:
                print("list: no %s %s" % (cmd, name))
                bad += 1
                continue
            bad += expect("list %s %s" % (cmd, name), items[name], argv[3:])
    elif cmd == "zoneinfo":
        # ZONE_MOVABLE present-managed pages must be exactly the vmemmap pages
        # of the node's online movable blocks whose memmap is on the memory
        lst = json.load(open(argv[1]))
        zi = zoneinfo(argv[2])
        want = {}
        for b in lst["blocks"]:
            if b["state"] == "online" and b["zone"] == "Movable" and b["memmap"] == "on-memory":
                want[b["node"]] = want.get(b["node"], 0) + b["memmap_bytes"] // 4096
        for (node, zone), z in sorted(zi.items()):
            if zone != "Movable":
                continue
            got = z.get("present", 0) - z.get("managed", 0)
            if got != want.get(node, 0):
                print("zoneinfo node %d Movable: present-managed %d pages, but the online "
                      "on-memory movable blocks hold %d vmemmap pages" %
                      (node, got, want.get(node, 0)))
                bad += 1
        for node in want:
            if (node, "Movable") not in zi:
                print("zoneinfo: no Movable zone for node %d" % node)
                bad += 1
    elif cmd == "sidecars":
        # The fixture's ground truth says where the memmap of each hot-added
        # block lives; tell the fake kernel, so that onlining or offlining
        # it keeps /proc/zoneinfo right (unless the generator already did).
        import os
        fx = json.load(open(argv[1]))
        pages = fx["block_size"] // 4096 * 64 // 4096
        for b in fx["blocks"]:
            p = os.path.join(argv[2], "sys/devices/system/memory", b["name"])
            f = os.path.join(p, ".fake_vmemmap_pages")
            if b["device_type"] != "boot" and os.path.isdir(p) and not os.path.exists(f):
                with open(f, "w") as fh:
                    fh.write("%d\n" % (pages if b["memmap"] == "on-memory" else 0))
    else:
        print("check.py: unknown command " + cmd)
        return 2
    return 1 if bad else 0


sys.exit(main(sys.argv[1:]))
EOF

check() {
	local out
	if ! out=$(python3 "$tmp/check.py" "$@" 2>&1); then
		fail "${out:-check.py $* failed}"
	fi
}

# ---- one case: a fixture, a configuration, memhpd --once ----

# new_case NAME FIXTURE: fresh tree and a base configuration in $c
new_case() {
	case_name=$1
	case_failures=0
	c=$tmp/$1
	root=$c/root
	mkdir -p "$c/run"
	memhp_fixture "$2" "$root" >/dev/null
	python3 "$tmp/check.py" sidecars "$root/fixture.json" "$root"
	cat >"$c/memhpd.conf" <<-EOF
		[daemon]
		state_file = $c/run/state.json
		control_socket = $c/run/control
		node_wait = 200ms
		online_retries = 2
		retry_backoff = 10ms
	EOF
}

conf() {
	printf '%s\n' "$@" >>"$c/memhpd.conf"
}

# run_once: memhpd --once under the fake kernel; sets $rc, $elapsed_ms, $c/stderr
run_once() {
	local t0 t1
	t0=$(date +%s%N)
	rc=0
	MEMHP_FAKE_ROOT=$root LD_PRELOAD=$FAKEKERNEL timeout 60 "$MEMHPD" --once \
		--sysroot "$root" --config "$c/memhpd.conf" >"$c/stdout" 2>"$c/stderr" || rc=$?
	t1=$(date +%s%N)
	elapsed_ms=$(((t1 - t0) / 1000000))
}

expect_rc() {
	if [ "$rc" != "$1" ]; then
		fail "exit code $rc, expected $1; memhpd said:"
		sed 's/^/    /' "$c/stderr" >&2
	fi
}

# expect_log: the fake kernel's log must be exactly stdin
expect_log() {
	local log=$root/.fake-kernel.log
	cat >"$c/log.expected"
	if [ -e "$log" ]; then cp "$log" "$c/log.actual"; else : >"$c/log.actual"; fi
	if ! diff -u "$c/log.expected" "$c/log.actual" >"$c/log.diff"; then
		fail "kernel writes differ (- expected, + actual):"
		sed 's/^/    /' "$c/log.diff" | head -40 >&2
	fi
}

# lines PATTERN FROM TO: one line per N in FROM..TO with %d replaced by N
lines() {
	local i
	for ((i = $2; i <= $3; i++)); do
		printf '%s\n' "${1//%d/$i}"
	done
}

online_lines() { # online_lines VALUE FROM TO
	lines "$MEM/memory%d/state $1 OK" "$2" "$3"
}

expect_stderr() {
	if ! grep -qF -- "$1" "$c/stderr"; then
		fail "stderr lacks \"$1\":"
		sed 's/^/    /' "$c/stderr" >&2
	fi
}

# memhpctl list --json on the tree, then the zoneinfo consistency check
list() {
	if ! "$MEMHPCTL" --sysroot "$root" list --json >"$c/list.json" 2>"$c/list.err"; then
		fail "memhpctl list --json failed: $(cat "$c/list.err")"
		echo '{"blocks":[],"devices":[],"dax":[],"nodes":[]}' >"$c/list.json"
	fi
	check zoneinfo "$c/list.json" "$root/proc/zoneinfo"
}

# a second --once on the finished tree: exit 0, nothing written
expect_idempotent() {
	local before=$c/log.before
	if [ -e "$root/.fake-kernel.log" ]; then cp "$root/.fake-kernel.log" "$before"; else : >"$before"; fi
	run_once
	expect_rc 0
	expect_log <"$before"
}

done_case() {
	if [ "$case_failures" = 0 ]; then
		echo "ok: $case_name"
	else
		echo "FAILED: $case_name ($case_failures)"
	fi
}

# ==== plain hot-added memory ====

# One 1 GiB DIMM, 8 offline blocks, memmap_on_memory=Y: all onlined movable,
# ascending; zoneinfo then shows their 8 x 512 vmemmap pages, which is the
# evidence memhpctl reports.
new_case dimm-128m x86-dimm-128m
run_once
expect_rc 0
expect_log < <(online_lines online_movable 40 47)
check state "$c/run/state.json" PNP0C80:00 type=acpi-dimm decision=online zone=movable \
	memmap=on-memory memmap_chosen=false onlined=8 by_other=0 failed=0 last_error= \
	memmap_on_device_bytes=16777216 memmap_in_ram_bytes=0
check state "$c/run/state.json" counters blocks_onlined=8 decisions_online=1 conflicts=0 \
	failures_ebusy=0 failures_node_timeout=0 dax_reconfigured=0
list
check block "$c/list.json" memory40-47 state=online zone=Movable node=0 device=PNP0C80:00 \
	memmap=on-memory memmap_evidence=zoneinfo
check device "$c/list.json" PNP0C80:00 online_blocks=8 zone=Movable memmap=on-memory \
	memmap_on_device_bytes=16777216 memmap_in_ram_bytes=0
expect_idempotent
done_case

# 2 GiB blocks on node 1, three offline between online movable ones; memmap in RAM
new_case dimm-2g x86-dimm-2g
run_once
expect_rc 0
expect_log < <(
	online_lines online_movable 36 36
	online_lines online_movable 39 40
)
check state "$c/run/state.json" PNP0C80:00 decision=online zone=movable memmap=ram onlined=3 \
	failed=0 memmap_on_device_bytes=0 memmap_in_ram_bytes=268435456
list
check block "$c/list.json" memory33-40 state=online zone=Movable node=1 memmap=ram
check device "$c/list.json" PNP0C80:00 online_blocks=8 memmap_in_ram_bytes=268435456
expect_idempotent
done_case

# virtio-mem: kernel zone by default; its driver never puts the memmap on the memory
new_case virtio virtio-mem
run_once
expect_rc 0
expect_log < <(online_lines online_kernel 74 79)
check state "$c/run/state.json" virtio0 type=virtio-mem decision=online zone=kernel memmap=ram \
	onlined=6 failed=0
list
check block "$c/list.json" memory64-79 state=online zone=Normal memmap=ram memmap_evidence=driver
expect_idempotent
done_case

# node-holes: kmem-bound hmem on a memory-only node (Linux 6.6: no dax memmap
# attribute); its 4 offline blocks go to the kernel zone (movable_ratio guard)
new_case node-holes node-holes
run_once
expect_rc 0
expect_log < <(online_lines online_kernel 316 319)
check state "$c/run/state.json" dax0.0 type=dax decision=online onlined=4 failed=0
list
check block "$c/list.json" memory316-319 state=online zone=Normal node=2 memmap=ram \
	memmap_evidence=driver
check block "$c/list.json" memory256-315 state=online zone=Movable node=2
expect_idempotent
done_case

# vanished-block: everything online already, three broken blocks; nothing to write
new_case vanished vanished-block
run_once
expect_rc 0
expect_log </dev/null
expect_stderr "memory43"
expect_idempotent
done_case

# ==== kernel auto-onlining ====

new_case auto-set-offline auto-online
run_once
expect_rc 0
expect_log <<<"$MEM/auto_online_blocks offline OK"
expect_stderr 'auto_online_blocks was "online"'
[ "$(cat "$root/$MEM/auto_online_blocks")" = offline ] ||
	fail "auto_online_blocks is $(cat "$root/$MEM/auto_online_blocks")"
list
check block "$c/list.json" memory40-55 state=online zone=Movable memmap=on-memory
expect_idempotent
done_case

new_case auto-warn auto-online
conf "kernel_auto_online = warn"
run_once
expect_rc 0
expect_log </dev/null
expect_stderr "kernel_auto_online = warn"
[ "$(cat "$root/$MEM/auto_online_blocks")" = online ] ||
	fail "auto_online_blocks changed to $(cat "$root/$MEM/auto_online_blocks")"
done_case

# ==== dax: devdax -> system-ram with the memmap placement of the rule ====
# dax0.0 (pmem, bound to device_dax, node 0) and dax1.0 (hmem, unbound, node 1,
# which has no memory yet): unbind where bound, memmap_on_memory, kmem new_id
# (which binds), then the new blocks online movable.
for mm in on-memory ram; do
	new_case "dax-$mm" dax-devdax
	conf "" "[rule dax]" "type = dax" "dax_mode = system-ram" "zone = movable" "memmap = $mm"
	run_once
	expect_rc 0
	v=$([ "$mm" = on-memory ] && echo 1 || echo 0)
	expect_log < <(
		echo "sys/bus/dax/drivers/device_dax/unbind dax0.0 OK"
		echo "sys/bus/dax/devices/dax0.0/memmap_on_memory $v OK"
		echo "sys/bus/dax/drivers/kmem/new_id dax0.0 OK"
		echo "sys/bus/dax/devices/dax1.0/memmap_on_memory $v OK"
		echo "sys/bus/dax/drivers/kmem/new_id dax1.0 OK"
		online_lines online_movable 41 71
		online_lines online_movable 128 191
	)
	on=$((v * 2097152))
	off=$(((1 - v) * 2097152))
	check state "$c/run/state.json" dax0.0 type=dax onlined=31 failed=0 last_error= \
		memmap=$mm memmap_on_device_bytes=$((31 * on)) memmap_in_ram_bytes=$((31 * off))
	check state "$c/run/state.json" dax1.0 type=dax onlined=64 failed=0 last_error= \
		memmap=$mm memmap_on_device_bytes=$((64 * on)) memmap_in_ram_bytes=$((64 * off))
	check state "$c/run/state.json" counters dax_reconfigured=2 blocks_onlined=95
	list
	mom=false
	[ "$v" = 1 ] && mom=true
	check dax "$c/list.json" dax0.0,dax1.0 mode=system-ram memmap_on_memory=$mom
	check device "$c/list.json" dax0.0 type=dax node=0 blocks=31 online_blocks=31 zone=Movable \
		memmap=$mm memmap_evidence=dax-attr memmap_on_device_bytes=$((31 * on))
	check device "$c/list.json" dax1.0 type=dax node=1 blocks=64 online_blocks=64 zone=Movable \
		memmap=$mm memmap_evidence=dax-attr memmap_on_device_bytes=$((64 * on))
	check block "$c/list.json" memory41-71 node=0 device=dax0.0 memmap=$mm \
		memmap_evidence=dax-attr
	check block "$c/list.json" memory128-191 node=1 device=dax1.0 memmap=$mm
	check node "$c/list.json" 1 movable_bytes=8589934592 memmap_on_device_bytes=$((64 * on))
	# lsmem reads the hot-added blocks like the boot ones
	n=$(lsmem --sysroot "$root" --all --json -o BLOCK,STATE,NODE | jq '[.memory[] |
		select(.node == 1 and .state == "online")] | length') || n=error
	[ "$n" = 64 ] || fail "lsmem sees $n online blocks on node 1, expected 64"
	expect_idempotent
	done_case
done

# kmem's probe fails (ENOMEM): the device goes back to device_dax; nothing else
# was to be done, so exit 1
new_case dax-rollback dax-devdax
echo ENOMEM >"$root/sys/bus/dax/devices/dax0.0/.fake_kmem_error"
conf "" "[rule dax0]" "name = dax0.0" "dax_mode = system-ram" "memmap = on-memory"
run_once
expect_rc 1
expect_log <<EOF
sys/bus/dax/drivers/device_dax/unbind dax0.0 OK
sys/bus/dax/devices/dax0.0/memmap_on_memory 1 OK
sys/bus/dax/drivers/kmem/new_id dax0.0 OK
sys/bus/dax/drivers/kmem/bind dax0.0 ENOMEM
sys/bus/dax/drivers/kmem/remove_id dax0.0 OK
sys/bus/dax/drivers/device_dax/new_id dax0.0 OK
EOF
check state "$c/run/state.json" dax0.0 failed=1 onlined=0 \
	"~last_error=cannot bind to kmem: Cannot allocate memory; device back in devdax mode"
check state "$c/run/state.json" counters dax_reconfigured=0 failures_other=1
grep -q "^    144200000-23fffffff : dax0.0$" "$root/proc/iomem" ||
	fail "dax0.0's device_dax resource is not back in /proc/iomem"
expect_stderr "dax0.0"
[ "$(basename "$(readlink "$root/sys/bus/dax/devices/dax0.0/driver")")" = device_dax ] ||
	fail "dax0.0 is not bound to device_dax again"
list
check dax "$c/list.json" dax0.0 mode=devdax
done_case

# ==== failures ====

# one block always EBUSY: the others are onlined, exit 64, the block is named
new_case busy-one x86-dimm-128m
echo "online:always" >"$root/$MEM/memory42/.fake_busy"
run_once
expect_rc 64
expect_log < <(
	online_lines online_movable 40 41
	lines "$MEM/memory42/state online_movable EBUSY" 1 3
	online_lines online_movable 43 47
)
check state "$c/run/state.json" PNP0C80:00 onlined=7 failed=1 \
	"last_error=memory42: online_movable: Device or resource busy after 3 attempts"
check state "$c/run/state.json" counters blocks_onlined=7 failures_ebusy=1
expect_stderr "memory42: cannot online: online_movable: Device or resource busy"
list
check block "$c/list.json" memory42 state=offline
check block "$c/list.json" memory40-41,memory43-47 state=online zone=Movable
done_case

# every block EBUSY: nothing could be done, exit 1
new_case busy-all x86-dimm-128m
for i in $(seq 40 47); do echo "online:always" >"$root/$MEM/memory$i/.fake_busy"; done
run_once
expect_rc 1
expect_log < <(for i in $(seq 40 47); do lines "$MEM/memory$i/state online_movable EBUSY" 1 3; done)
check state "$c/run/state.json" PNP0C80:00 onlined=0 failed=8 "~last_error=Device or resource busy"
check state "$c/run/state.json" counters blocks_onlined=0 failures_ebusy=8
done_case

# a block whose node link never appears: waited for node_wait, then the device
# is left alone (memhpd never guesses a node); logged and counted
new_case no-node x86-dimm-128m
rm "$root/$MEM/memory44/node0" "$root/sys/devices/system/node/node0/memory44"
# Linux 6.12 oopses (NODE_DATA(-1)) when valid_zones of a block not yet linked
# to its node is read: memhpd must not read it.  Garbage makes a read visible.
echo "BUG: NULL pointer dereference" >"$root/$MEM/memory44/valid_zones"
run_once
if grep -q valid_zones "$c/stderr"; then
	fail "memhpd read memory44/valid_zones before its node link existed:"
	sed 's/^/    /' "$c/stderr" >&2
fi
# nothing else to do and that block failed: exit 1 ("failures only", memhpd(8))
expect_rc 1
expect_log </dev/null
expect_stderr "memory44: still no node link after 200 ms; leaving it offline"
[ "$elapsed_ms" -ge 200 ] || fail "gave up after $elapsed_ms ms, before node_wait (200 ms)"
check state "$c/run/state.json" PNP0C80:00 decision=leave onlined=0 "~reasons=memory44"
check state "$c/run/state.json" counters failures_node_timeout=1 blocks_onlined=0
list
check block "$c/list.json" memory40-47 state=offline
done_case

# a broken configuration: exit 1 naming file:line, nothing touched
new_case bad-config x86-dimm-128m
conf "[policy]" "movable_ratio = lots"
run_once
expect_rc 1
expect_log </dev/null
expect_stderr "$c/memhpd.conf:8:"
[ ! -e "$c/run/state.json" ] || fail "state file written with a broken configuration"
done_case

if [ "$failures" -ne 0 ]; then
	echo "test-memhpd-once: $failures failure(s)" >&2
	exit 1
fi
echo "test-memhpd-once: all cases passed"
