#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Print the rows the benchmarks appended to a JSON-lines file as one table.

    bench/summary.py RESULTS.jsonl [--markdown]
"""

import json
import sys


def fmt_value(v, unit):
    if unit == "s":
        return f"{v:.2f} s" if v >= 1 else f"{v * 1e3:.1f} ms"
    if unit == "s CPU/uevent":
        return f"{v * 1e3:.2f} ms CPU/uevent"
    if unit == "KiB":
        return f"{v / 1024:.1f} MiB"
    if unit == "MiB":
        return f"{v:+.0f} MiB"
    if unit == "adds/s":
        return f"{v:.0f} adds/s"
    return f"{v:g} {unit}"


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    md = "--markdown" in argv
    rows = []
    with open(argv[1]) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except ValueError as e:
                print(f"{argv[1]}:{n}: not JSON ({e})", file=sys.stderr)
                return 1
    head = ("bench", "measurement", "median", "reference (same run)", "target", "notes")
    table = [(r["bench"], r["metric"], fmt_value(r["value"], r["unit"]), r.get("ref") or "",
              r.get("target") or "", r.get("note") or "") for r in rows]
    if md:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" for _ in head) + "|")
        for t in table:
            print("| " + " | ".join(x.replace("|", "\\|") for x in t) + " |")
        return 0
    w = [max(len(str(x)) for x in col) for col in zip(head, *table)]
    w[-1] = 0
    for t in (head,) + tuple(table):
        print("  ".join(str(x).ljust(w[i]) if w[i] else str(x) for i, x in enumerate(t)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
