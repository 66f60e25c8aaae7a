# SPDX-License-Identifier: GPL-2.0-or-later
"""TAP output for the in-lab Python tests: numbered results, diagnostics as
comments, and a count of failures for the exit status."""
import sys

count = 0
failed = 0


def tap(ok, what, diag=()):
    """Reports one result; returns @ok so callers can chain on it."""
    global count, failed
    count += 1
    print(f"{'ok' if ok else 'not ok'} {count} - {what}", flush=True)
    note(*diag)
    if not ok:
        failed += 1
    return ok


def note(*lines):
    """Diagnostics: every line of every item as a TAP comment (a message of
    several lines must not leave bare lines in the TAP stream)."""
    for item in lines:
        for line in str(item).splitlines():
            print(f"# {line}", flush=True)


def bail(msg):
    print(f"Bail out! {' / '.join(str(msg).splitlines())}", flush=True)
    sys.exit(1)


def write(path, val):
    """Writes @val to a sysfs (or any) file in one write."""
    with open(path, "w") as f:
        f.write(val)
