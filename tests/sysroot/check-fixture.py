#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Cross-checks for the sysroot suite.

    check-fixture.py lsmem FIXTURE LSMEM_ALL_JSON LSMEM_SUMMARY_JSON
        lsmem (util-linux) read the fixture the way the kernel means it:
        one row per block, same ranges, states, nodes and zones as the
        fixture's ground truth (FIXTURE/fixture.json).

    check-fixture.py memhpctl FIXTURE MEMHPCTL_JSON LSMEM_ALL_JSON
        memhpctl list --json agrees with lsmem on every block's state, zone
        and node, with the fixture on each block's memmap placement and the
        type of device that added it, and reports the blocks the fixture broke.

Prints one line per mismatch and exits 1 if there was any.
"""

import json
import sys

problems = []


def bad(msg):
    problems.append(msg)
    print("MISMATCH: " + msg)


def load(path, what):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print("cannot read %s (%s): %s" % (what, path, e))
        sys.exit(1)


def lsmem_zones(valid):
    # lsmem prints the valid_zones words joined by '/', "none" as "None"
    return "/".join("None" if z == "none" else z for z in valid)


def lsmem_rows(doc):
    rows = {}
    for r in doc.get("memory", []):
        rows[int(r["block"])] = r
    return rows


def check_lsmem(fixture, all_path, sum_path):
    man = load(fixture + "/fixture.json", "fixture manifest")
    rows = lsmem_rows(load(all_path, "lsmem -a output"))
    blocks = man["blocks"]
    if len(rows) != len(blocks):
        bad("lsmem lists %d blocks, the fixture has %d" % (len(rows), len(blocks)))
    faults = {b["index"]: b["error"] for b in blocks if b["error"]}
    online = 0
    for b in blocks:
        r = rows.get(b["index"])
        if r is None:
            bad("%s: missing from lsmem" % b["name"])
            continue
        start = int(b["start"], 16)
        want_range = "0x%016x-0x%016x" % (start, start + b["size"] - 1)
        if r["range"] != want_range:
            bad("%s: lsmem range %s, fixture %s" % (b["name"], r["range"], want_range))
        if int(r["size"]) != b["size"]:
            bad("%s: lsmem size %s, fixture %d" % (b["name"], r["size"], b["size"]))
        err = faults.get(b["index"])
        if err is None:
            if r["state"] != b["state"]:
                bad("%s: lsmem state %s, fixture %s" % (b["name"], r["state"], b["state"]))
            if r["node"] != b["node"]:
                bad("%s: lsmem node %s, fixture %s" % (b["name"], r["node"], b["node"]))
            if r["zones"] != lsmem_zones(b["valid_zones"]):
                bad("%s: lsmem zones %s, fixture %s" % (b["name"], r["zones"],
                                                        lsmem_zones(b["valid_zones"])))
        elif err.startswith("state file missing") or err.startswith("garbage"):
            if r["state"] != "?":
                bad("%s (%s): lsmem state %s, expected '?'" % (b["name"], err, r["state"]))
        elif err.startswith("node link"):
            if r["node"] == b["node"]:
                bad("%s (%s): lsmem still sees node %s" % (b["name"], err, r["node"]))
        state_readable = err is None or err.startswith("node link")
        if b["state"] == "online" and state_readable:
            online += b["size"]
    # the summary: lsmem merges neighbours into ranges; the online total must match
    summ = load(sum_path, "lsmem summary output")
    total = sum(int(r["size"]) for r in summ.get("memory", []) if r.get("state") == "online")
    if total != online:
        bad("lsmem summary: %d bytes online, fixture %d" % (total, online))


def check_memhpctl(fixture, ctl_path, all_path):
    man = load(fixture + "/fixture.json", "fixture manifest")
    ctl = load(ctl_path, "memhpctl output")
    rows = lsmem_rows(load(all_path, "lsmem -a output"))
    if ctl.get("block_size") != man["block_size"]:
        bad("block_size %s, fixture %s" % (ctl.get("block_size"), man["block_size"]))
    cblocks = {b.get("index"): b for b in ctl.get("blocks", [])}
    if len(cblocks) != len(man["blocks"]):
        bad("memhpctl lists %d blocks, the fixture has %d" % (len(cblocks), len(man["blocks"])))
    dev_types = {d.get("id"): d.get("type") for d in ctl.get("devices", [])}
    errpaths = " ".join(str(e.get("path", "")) for e in ctl.get("errors", []))
    for b in man["blocks"]:
        name = b["name"]
        c = cblocks.get(b["index"])
        r = rows.get(b["index"])
        if c is None:
            bad("%s: missing from memhpctl" % name)
            continue
        if c.get("name") != name:
            bad("%s: memhpctl calls it %s" % (name, c.get("name")))
        if c.get("start") != b["start"] or c.get("size") != b["size"]:
            bad("%s: memhpctl range %s+%s, fixture %s+%s" %
                (name, c.get("start"), c.get("size"), b["start"], b["size"]))
        if b["error"]:
            if not c.get("error"):
                bad("%s (%s): memhpctl reports no error for it" % (name, b["error"]))
            if name not in errpaths:
                bad("%s (%s): not named in memhpctl's errors[]" % (name, b["error"]))
            continue
        if c.get("error"):
            bad("%s: memhpctl reports an error on a sound block: %s" % (name, c["error"]))
        # where the memmap lives and what added the block: the fixture knows
        if c.get("memmap") != b["memmap"]:
            bad("%s: memmap memhpctl %s, fixture %s (%s)" %
                (name, c.get("memmap"), b["memmap"], b["memmap_evidence"]))
        if c.get("memmap_bytes") != b["memmap_bytes"]:
            bad("%s: memmap_bytes memhpctl %s, fixture %s" %
                (name, c.get("memmap_bytes"), b["memmap_bytes"]))
        dtype = dev_types.get(c.get("device"))
        if dtype != b["device_type"]:
            bad("%s: belongs to a %s device per memhpctl (%s), fixture: %s (%s)" %
                (name, dtype, c.get("device"), b["device_type"], b["device"]))
        if r is None:
            continue
        if c.get("state") != r["state"]:
            bad("%s: state memhpctl %s, lsmem %s" % (name, c.get("state"), r["state"]))
        if c.get("node") != r["node"]:
            bad("%s: node memhpctl %s, lsmem %s" % (name, c.get("node"), r["node"]))
        if r["state"] == "online":
            want = None if r["zones"] == "None" else r["zones"]
            if c.get("zone") != want:
                bad("%s: zone memhpctl %s, lsmem %s" % (name, c.get("zone"), r["zones"]))
        else:
            if c.get("zone") is not None:
                bad("%s: offline but memhpctl gives zone %s" % (name, c.get("zone")))
            vz = c.get("valid_zones") or []
            if "/".join(vz) != r["zones"]:
                bad("%s: valid_zones memhpctl %s, lsmem %s" % (name, vz, r["zones"]))
    # device and node sums must add up from the blocks (fixture ground truth)
    mby = {b["index"]: b for b in man["blocks"]}
    for d in ctl.get("devices", []):
        mine = [mby[i] for i, c in cblocks.items() if c.get("device") == d.get("id") and i in mby]
        on = sum(b["memmap_bytes"] for b in mine if b["memmap"] == "on-memory")
        ram = sum(b["memmap_bytes"] for b in mine if b["memmap"] == "ram")
        if (d.get("memmap_on_device_bytes"), d.get("memmap_in_ram_bytes")) != (on, ram):
            bad("device %s: memmap on device/in RAM %s/%s, its blocks say %d/%d" %
                (d.get("id"), d.get("memmap_on_device_bytes"), d.get("memmap_in_ram_bytes"),
                 on, ram))
        if d.get("blocks") != len(mine):
            bad("device %s: %s blocks, %d blocks name it" % (d.get("id"), d.get("blocks"),
                                                             len(mine)))
    for n in ctl.get("nodes", []):
        # blocks whose node link is broken belong to no node; blocks whose state
        # cannot be read count neither as online nor as offline
        mine = [b for b in man["blocks"] if b["node"] == n.get("node") and
                not (b["error"] or "").startswith("node link")]
        on = sum(b["memmap_bytes"] for b in mine if b["memmap"] == "on-memory")
        ram = sum(b["memmap_bytes"] for b in mine if b["memmap"] == "ram")
        if (n.get("memmap_on_device_bytes"), n.get("memmap_in_ram_bytes")) != (on, ram):
            bad("node %s: memmap on device/in RAM %s/%s, fixture %d/%d" %
                (n.get("node"), n.get("memmap_on_device_bytes"), n.get("memmap_in_ram_bytes"),
                 on, ram))
        known = [b for b in mine if not b["error"] or b["error"].startswith("node link")]
        mov = sum(b["size"] for b in known if b["state"] == "online" and b["zone"] == "Movable")
        off = sum(b["size"] for b in known if b["state"] == "offline")
        if (n.get("movable_bytes"), n.get("offline_bytes")) != (mov, off):
            bad("node %s: movable/offline bytes %s/%s, fixture %d/%d" %
                (n.get("node"), n.get("movable_bytes"), n.get("offline_bytes"), mov, off))
    for cidx in cblocks:
        if cidx not in {b["index"] for b in man["blocks"]}:
            bad("memhpctl lists block %s the fixture does not have" % cidx)


def main(argv):
    if len(argv) == 5 and argv[1] == "lsmem":
        check_lsmem(argv[2], argv[3], argv[4])
    elif len(argv) == 5 and argv[1] == "memhpctl":
        check_memhpctl(argv[2], argv[3], argv[4])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    if problems:
        print("%d mismatch(es)" % len(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
