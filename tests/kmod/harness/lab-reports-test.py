#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""tools/lab-reports on synthetic consoles of the debug kernel (TAP): each known report of the
kernel's own is left out with its line, and every report with a frame of ours stays, so that
tools/lab fails the run on it.

    lab-reports-test.py TOOLS/LAB-REPORTS
"""
import os
import subprocess
import sys
import tempfile

filt = sys.argv[1]
n = failed = 0


def tap(ok, what, detail=()):
    global n, failed
    n += 1
    if not ok:
        failed += 1
    print(f"{'ok' if ok else 'not ok'} {n} - {what}")
    if not ok:
        for line in detail:
            print(f"# {line}")


def run(console):
    with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
        f.write(console)
    try:
        p = subprocess.run([sys.executable, filt, f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    return p.returncode, p.stdout, p.stderr


def stamped(text, t=12.0):
    """Console lines as the kernel prints them, with time stamps and a \\r now and then."""
    out = []
    for i, line in enumerate(text.strip("\n").split("\n")):
        out.append(f"[{t + i * 0.001:12.6f}] {line}" + ("\r" if i % 3 == 0 else ""))
    return "\n".join(out) + "\n"


RULE = "=" * 66


def kcsan(first, second):
    return stamped(f"""{RULE}
BUG: KCSAN: data-race in {first[0].split('+')[0]} / {second[0].split('+')[0]}

write to 0xffff888004a1c0a8 of 4 bytes by task 812 on cpu 0:
 {chr(10).join(' ' + f for f in first).strip()}
 kthread+0x1a3/0x1f0

read to 0xffff888004a1c0a8 of 4 bytes by interrupt on cpu 1:
 {chr(10).join(' ' + f for f in second).strip()}
 __handle_irq_event_percpu+0x7e/0x2a0

value changed: 0x00000000 -> 0x00000001

Reported by Kernel Concurrency Sanitizer on:
CPU: 1 UID: 0 PID: 0 Comm: swapper/1 Not tainted 6.12.118-vgpu-kcsan #1
{RULE}""")


def lockdep(classes, frames):
    a, b = classes
    return stamped(f"""
======================================================
WARNING: possible circular locking dependency detected
6.12.118-vgpu #1 Not tainted
------------------------------------------------------
vgpu-core-test/301 is trying to acquire lock:
ffff8880071e3d30 ({a}){{+.+.}}-{{3:3}}, at: vfio_iommu_type1_unpin_pages+0x6e/0x1d0 [vfio_iommu_type1]

but task is already holding lock:
ffff8880071e3d80 ({b}){{+.+.}}-{{3:3}}, at: vfio_iommu_type1_dma_rw+0x5c/0x2a0 [vfio_iommu_type1]

which lock already depends on the new lock.

stack backtrace:
CPU: 0 UID: 0 PID: 301 Comm: vgpu-core-test Not tainted 6.12.118-vgpu #1
Call Trace:
 <TASK>
{chr(10).join(' ' + f for f in frames)}
 </TASK>""", t=22.5)


def kasan(frames):
    return stamped(f"""{RULE}
BUG: KASAN: wild-memory-access in do_raw_spin_lock+0x11a/0x260
Read of size 4 at addr 1fffffff8320c3a4 by task swapper/0/0

CPU: 0 UID: 0 PID: 0 Comm: swapper/0 Not tainted 6.12.118-vgpu #1
Call Trace:
 <TASK>
{chr(10).join(' ' + f for f in frames)}
 </TASK>
{RULE}""", t=1.7)


before, after = stamped("booting\nlab: modules loaded"), stamped("LAB-RESULT rc=0", t=40)


def case(what, report, kept, why=None):
    rc, out, err = run(before + report + after)
    ok = rc == 0 and "booting" in out and "LAB-RESULT rc=0" in out and "\r" not in out
    if kept:
        body = [l for l in report.replace("\r", "").split("\n") if "BUG:" in l or "WARNING:" in l]
        ok = ok and all(l in out for l in body) and not err
    else:
        ok = ok and "BUG:" not in out and "WARNING:" not in out and why in err and \
            len(err.strip().split("\n")) == 1
    tap(ok, what, [f"status {rc}", "stderr: " + err.strip(), *out.split("\n")[:40]])


print("1..11")
case("a KCSAN race between two of our functions stays",
     kcsan(["vgpu_raise_irq+0x4e/0x120 [vgpu]"], ["vgpu_vfio_set_irqs+0x2a1/0x5f0 [vgpu_vfio]"]),
     kept=True)
case("a KCSAN race with our frame only on the second side stays",
     kcsan(["rcu_core+0x3c/0x8e0"], ["vgpu_dma_rw+0x91/0x300 [vgpu]", "vsim_ce_work+0x1b2/0x5d0 [vgpu_sim]"]),
     kept=True)
case("a KCSAN race in the test importer stays",
     kcsan(["dmabuf_import_ioctl+0x40/0x1a0 [dmabuf_import]"], ["dma_buf_vmap+0x1c/0x90"]), kept=True)
case("a KCSAN race of the kernel's own (no frame of ours) is left out with one line",
     kcsan(["tick_sched_do_timer+0x3c/0x130", "tick_nohz_handler+0x2a/0x180"],
           ["tick_nohz_next_event+0x1d/0x2b0"]),
     kept=False, why="KCSAN report without our modules left out: data-race in tick_sched_do_timer")
case("type1's own lock inversion, through our dma_unmap, is left out and says lockdep went off",
     lockdep(("&iommu->lock", "&iommu->device_list_lock"),
             ["vfio_iommu_type1_unpin_pages+0x6e/0x1d0 [vfio_iommu_type1]",
              "vgpu_vfio_dma_unmap+0x88/0x150 [vgpu_vfio]", "vfio_notify_dma_unmap+0x4d/0x80 [vfio]"]),
     kept=False, why="lockdep was off from 22.501000 s")
case("a lock cycle with one of our locks stays",
     lockdep(("&iommu->lock", "&vgpu->open_lock"),
             ["vfio_iommu_type1_unpin_pages+0x6e/0x1d0 [vfio_iommu_type1]",
              "vgpu_vfio_dma_unmap+0x88/0x150 [vgpu_vfio]"]),
     kept=True)
case("type1's two locks, but not through our dma_unmap, stay",
     lockdep(("&iommu->lock", "&iommu->device_list_lock"),
             ["vfio_iommu_type1_unpin_pages+0x6e/0x1d0 [vfio_iommu_type1]",
              "vfio_iommu_type1_ioctl+0x300/0x1200 [vfio_iommu_type1]"]),
     kept=True)
case("a KASAN report in start_kernel() is left out and says lockdep went off",
     kasan(["do_raw_spin_lock+0x11a/0x260", "identify_cpu+0x2f4/0x9a0", "start_kernel+0x4b0/0x6f0"]),
     kept=False, why="lockdep was off from 1.701000 s (a KASAN report turns it off)")
case("a KASAN report in our module stays",
     kasan(["vgpu_dma_rw+0x91/0x300 [vgpu]", "vgpu_vfio_rw+0x1c0/0x3a0 [vgpu_vfio]"]), kept=True)
# A kernel-only race cut short (no closing rule): it may not take the report after it along.
cut = kcsan(["tick_sched_do_timer+0x3c/0x130"], ["tick_nohz_next_event+0x1d/0x2b0"]).split("\n")
ours = kcsan(["vgpu_raise_irq+0x4e/0x120 [vgpu]"], ["vgpu_vfio_set_irqs+0x2a1/0x5f0 [vgpu_vfio]"])
rc, out, err = run(before + "\n".join(cut[:8]) + "\n" + ours + after)
tap(rc == 0 and "BUG: KCSAN: data-race in vgpu_raise_irq" in out and "LAB-RESULT rc=0" in out
    and "tick_sched_do_timer" not in out.split("BUG: KCSAN: data-race in vgpu_raise_irq")[0],
    "a kernel-only race cut short is left out up to the next report, which stays",
    [f"status {rc}", "stderr: " + err.strip(), *out.split("\n")[:40]])
rc, out, err = run(before + "\n".join(cut[:8]) + "\n" + after)
tap(rc == 0 and "LAB-RESULT rc=0" in out and "BUG:" not in out,
    "a kernel-only race cut short does not take the stage-2 lines after it",
    [f"status {rc}", "stderr: " + err.strip(), *out.split("\n")[:40]])
sys.exit(1 if failed else 0)
