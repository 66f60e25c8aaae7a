# SPDX-License-Identifier: GPL-2.0-or-later
"""TAP output for the in-lab Python tests: numbered results, diagnostics as
comments, and a count of failures for the exit status."""
import atexit
import os
import shutil
import sys

count = 0
failed = 0


def tap(ok, what, diag=(), todo=None):
    """Reports one result; returns @ok so callers can chain on it. @todo: a
    known bug, TAP's TODO directive (meson: expected fail, or unexpected
    pass once fixed); it does not count as a failure."""
    global count, failed
    count += 1
    directive = f" # TODO {todo}" if todo else ""
    print(f"{'ok' if ok else 'not ok'} {count} - {what}{directive}", flush=True)
    note(*diag)
    if not ok and not todo:
        failed += 1
    return ok


def skip(what, why):
    """One result that does not apply in this run (TAP's SKIP directive)."""
    global count
    count += 1
    print(f"ok {count} - {what} # SKIP {why}", flush=True)


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


def keep_log(path, dest):
    """A log kept on the lab's /run (QEMU writes serial logs a byte at a time,
    and in the 9p-shared build directory they read back with holes of NUL
    bytes under load): copied to @dest when the test exits."""
    atexit.register(lambda: os.path.exists(path) and shutil.copy(path, dest))
