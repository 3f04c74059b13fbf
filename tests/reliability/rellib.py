# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers shared by the reliability tests (test-faults.py, test-crash.py)."""
import os


def scratch_base(need):
    """/dev/shm (much faster for sysroot trees) if it has room, else the default."""
    try:
        st = os.statvfs("/dev/shm")
        if os.access("/dev/shm", os.W_OK) and st.f_bavail * st.f_frsize >= need:
            return "/dev/shm"
    except OSError:
        pass
    return None


def diff(a, b, path="", names=("reference", "other")):
    """First difference between two JSON values, as text; names label the two sides."""
    if type(a) is not type(b):
        return "%s: %r vs %r" % (path or "/", a, b)
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return diff(a.get(k), b.get(k), path + "/" + k, names)
    elif isinstance(a, list):
        if len(a) != len(b):
            return "%s: %d vs %d entries" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return diff(x, y, "%s[%d]" % (path, i), names)
    return "%s: %r (%s) vs %r (%s)" % (path or "/", a, names[0], b, names[1])
