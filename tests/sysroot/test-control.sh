#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# memhpd's control socket end to end: a daemon on a fixture under the fake
# kernel, memhpctl status/reload as root and as nobody, and raw clients that
# misbehave (oversized, malformed, unknown verbs, path tricks, pipelining,
# too many connections, a reader that stalls on a large reply, clients that
# hang up mid-reply).  After every abuse the daemon must still answer.
#
#   test-control.sh MEMHPD MEMHPCTL FAKEKERNEL_SO MKFIXTURE_PY
#
# Needs root (setpriv to nobody); run inside tests/protect like the rest of
# the sysroot suite.
set -eu

MEMHPD=$(realpath "$1")
MEMHPCTL=$(realpath "$2")
FAKEKERNEL=$(realpath "$3")
MKFIXTURE=$(realpath "$4")

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (setpriv to nobody)"
	exit 77
fi

# nobody cannot run a python3 from root's home (pyenv shims): prefer the system one
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/memhp-test-control-XXXXXX")
chmod 755 "$tmp"
daemon_pid=
failures=0

cleanup() {
	if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
		kill "$daemon_pid" 2>/dev/null || true
		wait "$daemon_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# expect_contains WHAT HAYSTACK NEEDLE
expect_contains() {
	case "$2" in
	*"$3"*) echo "ok: $1" ;;
	*) fail "$1: expected \"$3\" in: $2" ;;
	esac
}

sock=$tmp/run/memhpd/control
conf=$tmp/memhpd.conf
root=$tmp/root

"$PY" "$MKFIXTURE" --synthetic --blocks 1024 --nodes 2 "$root" >/dev/null
cat >"$conf" <<EOF
[daemon]
log_level = debug
control_socket = $sock
state_file = $tmp/run/memhpd/state.json
EOF
chmod 644 "$conf"

# raw.py: the misbehaving clients
cat >"$tmp/raw.py" <<'EOF'
import json, socket, sys, time

path, mode = sys.argv[1], sys.argv[2]


def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s


def read_all(s):
    out = b""
    while True:
        d = s.recv(1 << 20)
        if not d:
            return out
        out += d


if mode == "send":
    # send the bytes (a Python literal), half-close, print every reply line
    s = conn()
    s.sendall(eval(sys.argv[3]))
    try:
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    sys.stdout.write(read_all(s).decode("utf-8", "replace"))
elif mode == "pipeline":
    s = conn()
    s.sendall(b'{"cmd":"status"}\n{"cmd":"bogus"}\n{"cmd":"explain","name":"a/b"}\n')
    s.shutdown(socket.SHUT_WR)
    lines = read_all(s).decode().splitlines()
    print(len(lines), " | ".join(l[:60] for l in lines))
elif mode == "many":
    n = int(sys.argv[3])
    socks = [conn() for _ in range(n)]
    time.sleep(0.5)
    rejected = 0
    for s in socks:
        s.setblocking(False)
        try:
            d = s.recv(4096)
            if b"too many clients" in d:
                rejected += 1
        except BlockingIOError:
            pass
    # the admitted ones still work while the others wait
    socks[0].setblocking(True)
    socks[0].sendall(b'{"cmd":"status"}\n')
    ok = b'"ok":true' in socks[0].recv(1 << 20)
    print("rejected", rejected, "first-ok", ok)
    for s in socks:
        s.close()
elif mode == "stall":
    # ask for a large reply and do not read it; another client must be served meanwhile
    a = conn()
    a.sendall(b'{"cmd":"list"}\n')
    time.sleep(1)
    b = conn()
    b.sendall(b'{"cmd":"status"}\n')
    other = b'"ok":true' in b.recv(1 << 20)
    b.close()
    a.shutdown(socket.SHUT_WR)
    reply = json.loads(read_all(a))
    print("other-served", other, "blocks", len(reply["machine"]["blocks"]))
elif mode == "hangup":
    for _ in range(20):
        s = conn()
        s.sendall(b'{"cmd":"list"}\n')
        s.recv(100)
        s.close()
    print("done")
EOF

raw() {
	timeout 30 "$PY" "$tmp/raw.py" "$sock" "$@" 2>&1 || true
}

as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

ctl() {
	"$MEMHPCTL" --socket "$sock" "$@"
}

# still serving after an abuse?
alive() {
	if out=$(ctl status 2>&1); then
		echo "ok: still serving after $1"
	else
		fail "daemon stopped answering after $1: $out"
	fi
}

# ---- no daemon yet ----
out=$(ctl status 2>&1) && fail "status without a daemon succeeded"
expect_contains "status without daemon" "$out" "memhpd is not running (no socket at $sock)"

MEMHP_FAKE_ROOT=$root LD_PRELOAD=$FAKEKERNEL \
	"$MEMHPD" --sysroot "$root" --config "$conf" --stderr >"$tmp/memhpd.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do
	[ -S "$sock" ] && ctl status >/dev/null 2>&1 && break
	kill -0 "$daemon_pid" 2>/dev/null || break
	sleep 0.1
done
if ! ctl status >/dev/null 2>&1; then
	cat "$tmp/memhpd.log" >&2
	echo "FAIL: memhpd did not come up" >&2
	exit 1
fi

mode=$(stat -c %a "$sock")
[ "$mode" = 666 ] && echo "ok: socket mode 0666" || fail "socket mode $mode, expected 666"

# ---- memhpctl as root ----
out=$(ctl status 2>&1) || fail "status as root: $out"
expect_contains "status as root" "$out" "counters:"
out=$(ctl --json status 2>&1) || fail "status --json: $out"
expect_contains "status --json" "$out" '"config_files"'
expect_contains "status --json lists the config" "$out" "$conf"
out=$("$MEMHPCTL" -c "$conf" status 2>&1) || fail "status via config's control_socket: $out"
expect_contains "socket path from the configuration" "$out" "counters:"
out=$(ctl reload 2>&1) || fail "reload as root: $out"
expect_contains "reload as root" "$out" "reloaded"

# a broken configuration: reload fails with the file:line, the daemon keeps the old one
cp "$conf" "$conf.good"
printf 'no_such_key = 1\n' >>"$conf"
out=$(ctl reload 2>&1) && fail "reload of a broken config succeeded"
expect_contains "reload error names the file" "$out" "$conf:"
cp "$conf.good" "$conf"
alive "a failed reload"

# ---- as nobody: read yes, change no ----
# coldplug ran before the socket answered: from here the fake kernel log only grows if
# something is written
touch "$root/.fake-kernel.log"
cp "$root/.fake-kernel.log" "$tmp/fk.before"
out=$(as_nobody "$MEMHPCTL" --socket "$sock" status 2>&1) || fail "status as nobody: $out"
expect_contains "status as nobody" "$out" "counters:"
out=$(as_nobody "$MEMHPCTL" --socket "$sock" reload 2>&1) && fail "reload as nobody succeeded"
expect_contains "reload as nobody" "$out" "permission denied: reload needs root"
out=$(as_nobody "$PY" "$tmp/raw.py" "$sock" send \
	"b'{\"cmd\":\"online\",\"target\":\"memory40\"}\n'" 2>&1 || true)
expect_contains "online as nobody" "$out" '"error":"permission denied: online needs root"'
out=$(as_nobody "$PY" "$tmp/raw.py" "$sock" send \
	"b'{\"cmd\":\"offline\",\"target\":\"memory1\",\"timeout\":5}\n'" 2>&1 || true)
expect_contains "offline as nobody" "$out" '"error":"permission denied: offline needs root"'
out=$(as_nobody "$PY" "$tmp/raw.py" "$sock" send "b'{\"cmd\":\"list\"}\n'" 2>&1 || true)
expect_contains "list as nobody" "$out" '"ok":true,"machine"'
out=$(as_nobody "$PY" "$tmp/raw.py" "$sock" send \
	"b'{\"cmd\":\"explain\",\"name\":\"memory1\"}\n'" 2>&1 || true)
expect_contains "explain as nobody" "$out" '"ok":true,"decision"'
# the uid comes from SO_PEERCRED: a uid in the request is refused as an unknown key
for req in '{"cmd":"reload","uid":0}' '{"cmd":"online","target":"memory40","uid":0,"user":"root"}' \
	'{"cmd":"offline","target":"memory1","timeout":5,"uid":0}'; do
	out=$(as_nobody "$PY" "$tmp/raw.py" "$sock" send "b'$req\n'" 2>&1 || true)
	expect_contains "$req as nobody" "$out" '{"ok":false,"error":"unknown key \"uid\"'
done
# every mutating verb is refused whatever its target, also one a root client could not use
out=$(as_nobody "$PY" "$tmp/raw.py" "$sock" send \
	"b'{\"cmd\":\"offline\",\"target\":\"../memory1\"}\n'" 2>&1 || true)
expect_contains "offline ../memory1 as nobody" "$out" '"ok":false'
# bad requests from nobody: an error reply each, and the daemon keeps serving
out=$(as_nobody "$PY" "$tmp/raw.py" "$sock" send "b'x' * 5000 + b'\n'" 2>&1 || true)
expect_contains "oversized request as nobody" "$out" '"error":"request larger than 4096 bytes"'
out=$(as_nobody "$PY" "$tmp/raw.py" "$sock" send "b'{\"cmd\":\n'" 2>&1 || true)
expect_contains "malformed JSON as nobody" "$out" '"error":"malformed JSON'
out=$(as_nobody "$PY" "$tmp/raw.py" "$sock" send "b'{\"cmd\":\"frobnicate\"}\n'" 2>&1 || true)
expect_contains "unknown verb as nobody" "$out" 'unknown command'
out=$(as_nobody "$PY" "$tmp/raw.py" "$sock" send \
	"b'{\"cmd\":\"explain\",\"name\":\"dax0.0/../../x\"}\n'" 2>&1 || true)
expect_contains "explain with '/' as nobody" "$out" "name contains '/'"
alive "bad requests from nobody"
out=$(as_nobody "$MEMHPCTL" --socket "$sock" status 2>&1) || fail "status as nobody afterwards: $out"
cmp -s "$root/.fake-kernel.log" "$tmp/fk.before" || fail "a refused request wrote to sysfs"

# ---- as root, a change goes through to the engine ----
blk=$(sed -n 's|^sys/devices/system/memory/\(memory[0-9]*\)/state online_movable OK$|\1|p' \
	"$root/.fake-kernel.log" | tail -n 1)
if [ -n "$blk" ]; then
	out=$(raw send "b'{\"cmd\":\"offline\",\"target\":\"$blk\",\"timeout\":5}\n'")
	expect_contains "offline $blk as root" "$out" '{"ok":true'
	grep -q "^sys/devices/system/memory/$blk/state offline OK$" "$root/.fake-kernel.log" ||
		fail "offline $blk as root did not reach the kernel"
else
	fail "coldplug onlined nothing movable; cannot test a root offline"
fi

# ---- bad requests: an error reply each, and the daemon keeps serving ----
out=$(raw send "b'x' * 5000 + b'\n'")
expect_contains "oversized request" "$out" '{"ok":false,"error":"request larger than 4096 bytes"}'
alive "an oversized request"
out=$(raw send "b'{\"cmd\":\"status\"}' + b' ' * 8000")
expect_contains "oversized request without newline" "$out" "request larger than 4096 bytes"
alive "an oversized request without newline"
out=$(raw send "b'{\"cmd\":\n'")
expect_contains "malformed JSON" "$out" '{"ok":false,"error":"malformed JSON'
alive "malformed JSON"
out=$(raw send "b'\x00\xff\xfe garbage\n'")
expect_contains "binary garbage" "$out" '"ok":false'
alive "binary garbage"
out=$(raw send "b'{\"cmd\":\"frobnicate\"}\n'")
expect_contains "unknown verb" "$out" '{"ok":false,"error":"unknown command \"frobnicate\""}'
alive "an unknown verb"
out=$(raw send "b'{\"cmd\":\"explain\",\"name\":\"../../etc/passwd\"}\n'")
expect_contains "name with '/'" "$out" "{\"ok\":false,\"error\":\"name contains '/'\"}"
alive "a name with '/'"
out=$(raw send "b'{\"cmd\":\"explain\",\"name\":\"..\"}\n'")
expect_contains "name '..'" "$out" '{"ok":false,"error":"name contains \"..\""}'
alive "a name '..'"
# a target with '/' or '..' is no block, device or range: refused, nothing written
cp "$root/.fake-kernel.log" "$tmp/fk.before"
for t in '../memory1' 'memory1/../memory40' '..' 'dax0.0/..' '/sys/devices/system/memory/memory1'; do
	out=$(raw send "b'{\"cmd\":\"offline\",\"target\":\"$t\",\"timeout\":1}\n'")
	expect_contains "offline target $t" "$out" '"ok":false'
	out=$(raw send "b'{\"cmd\":\"online\",\"target\":\"$t\"}\n'")
	expect_contains "online target $t" "$out" '"ok":false'
done
cmp -s "$root/.fake-kernel.log" "$tmp/fk.before" || fail "a bad target wrote to sysfs"
alive "targets with '/' and '..'"
out=$(raw send "b'{\"cmd\":\"online\",\"target\":\"memory1\",\"zone\":\"dma\"}\n'")
expect_contains "bad zone" "$out" 'zone must be \"movable\" or \"kernel\"'
out=$(raw send "b'{\"cmd\":\"explain\",\"name\":\"nosuchdevice\"}\n'")
expect_contains "explain of an unknown name" "$out" '"ok":false,"error":'
out=$(raw send "b'{\"cmd\":\"explain\",\"name\":\"memory0\"}\n'")
expect_contains "explain of a block" "$out" '"ok":true,"decision"'
out=$(raw send "b'\n\n'")
expect_contains "empty lines" "$out" '"error":"empty request"'

# ---- connection handling ----
out=$(raw pipeline)
expect_contains "three pipelined requests, three replies" "$out" "3 {\"ok\":true,\"status\""
expect_contains "pipelined replies in order" "$out" 'unknown command \"bogus\"'
out=$(raw many 20)
expect_contains "clients beyond 16 are turned away" "$out" "rejected 4 first-ok True"
alive "too many clients"
out=$(raw stall)
expect_contains "a stalled reader does not block others" "$out" "other-served True blocks 1024"
out=$(raw hangup)
expect_contains "clients hanging up mid-reply" "$out" "done"
alive "clients hanging up mid-reply"

# ---- a second daemon must not steal the socket ----
MEMHP_FAKE_ROOT=$root LD_PRELOAD=$FAKEKERNEL timeout 20 \
	"$MEMHPD" --sysroot "$root" --config "$conf" --stderr >"$tmp/second.log" 2>&1 &&
	fail "a second memhpd started on the same socket"
expect_contains "second daemon refused" "$(cat "$tmp/second.log")" "already listening"
alive "a second daemon's attempt"

kill -0 "$daemon_pid" 2>/dev/null || fail "memhpd died"
kill "$daemon_pid"
wait "$daemon_pid" || fail "memhpd exited with $? on SIGTERM"
daemon_pid=
[ -e "$sock" ] && fail "socket left behind after exit"

# ---- a stale socket from a crashed daemon is replaced ----
"$PY" -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$sock"
MEMHP_FAKE_ROOT=$root LD_PRELOAD=$FAKEKERNEL \
	"$MEMHPD" --sysroot "$root" --config "$conf" --stderr >"$tmp/memhpd2.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do
	ctl status >/dev/null 2>&1 && break
	sleep 0.1
done
alive "starting over a stale socket"

if [ "$failures" -gt 0 ]; then
	echo "--- memhpd log ---" >&2
	cat "$tmp/memhpd.log" >&2
	echo "$failures failure(s)" >&2
	exit 1
fi
echo "all control socket checks passed"
