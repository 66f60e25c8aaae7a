#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""QEMU live-migrates a running guest from vGPU A to vGPU B (TAP), in the lab
with --nested.

Two QEMU processes on localhost, as two hosts would run them: the source
with vGPU A boots an inner guest whose /bin/mig (guest/mig.c) keeps drawing
to VRAM and running copy-engine copies; the destination with vGPU B waits
with -incoming; QMP `migrate` on the source moves the running guest over a
unix socket. The guest checks after every frame that nothing it or the
engine wrote was lost and keeps printing ticks; the host compares
screendumps taken on A before and on B after. Before that, a migration to a
vGPU of another type must fail and leave the source running.

  guest-migration.py BUILDDIR MIG INIT OUTDIR

QEMU drives the VFIO migration v2 uAPI from 8.0 on: with an older QEMU
(Debian 12's 7.2) everything is one TAP skip.
"""
import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "harness"))
import innerguest  # noqa: E402
import pixels  # noqa: E402
import tap as taplib  # noqa: E402
from tap import bail, note, skip, tap, write  # noqa: E402

builddir, mig, init, outdir = sys.argv[1:5]
gpu = os.environ.get("LAB_GPU", "")
WIDTH, HEIGHT, TICKER = 640, 480, 16

version = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                         text=True).stdout
m = re.search(r"version (\d+)\.(\d+)", version)
qemu_version = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
if qemu_version < (8, 0):
    print(f"1..0 # SKIP QEMU {qemu_version[0]}.{qemu_version[1]} cannot drive VFIO "
          "migration v2 (QEMU >= 8.0 does: the Debian 13 world)")
    sys.exit(0)
if not gpu:
    print("1..0 # SKIP no physical GPU in this lab")
    sys.exit(0)
if not os.path.exists("/dev/kvm"):
    print("1..0 # SKIP no /dev/kvm (run the lab with --nested)")
    sys.exit(0)
print("1..15", flush=True)
note(version.splitlines()[0])


def kernel_has_iova_bitmap():
    """Our core offers device DMA logging where the kernel can report it: where it
    has iova_bitmap_set() (kernel/compat.h)."""
    try:
        with open("/proc/kallsyms") as f:
            return any(l.split()[2:3] == ["iova_bitmap_set"] for l in f)
    except OSError:
        return False


# With device DMA logging QEMU needs no enable-migration=on: its default, auto, migrates.
DMALOG = kernel_has_iova_bitmap()
MIGRATION = "auto" if DMALOG else "on"
note("device DMA logging: " + ("offered (the kernel has iova_bitmap_set): enable-migration=auto"
                               if DMALOG else "not offered by this kernel: enable-migration=on"))

# -- the vGPUs: A and B of one type, C of another ---------------------------
if not os.path.isdir("/sys/module/vgpu_sim"):
    subprocess.run(["insmod", os.path.join(builddir, "kernel/sim/vgpu_sim.ko")], check=True)
dev = f"/sys/bus/pci/devices/{gpu}"
if not os.path.exists(f"{dev}/driver"):
    write(f"{dev}/driver_override", "vgpu_sim")
    write("/sys/bus/pci/drivers_probe", gpu)
vgpus = {}
try:
    for name, vtype in (("A", "16m"), ("B", "16m"), ("C", "32m")):
        vgpus[name] = str(uuid.uuid4())
        write(f"/sys/class/mdev_bus/{gpu}/mdev_supported_types/vgpu_sim-{vtype}/create",
              vgpus[name])
    created = True
except OSError as e:
    created, err = False, e
if not tap(created, "vGPUs A and B (vgpu_sim-16m) and C (vgpu_sim-32m) created",
           () if created else [str(err)]):
    bail("no vGPUs")

os.makedirs(outdir, exist_ok=True)
cpio = os.path.join(outdir, "initramfs.cpio")
innerguest.build_initramfs(cpio, init, programs=[(mig, "mig")],
                           modules=[("uio", "uio_pci_generic")])
vmlinux, _, _ = innerguest.lab_kernel()
procs = []


class Qemu:
    """One inner QEMU with a vGPU and a QMP socket; @incoming: a destination."""

    def __init__(self, name, vgpu, incoming=False, migration=MIGRATION, start=True, trace=()):
        self.name = name
        self.trace = f"/run/simmig-{os.getpid()}-trace-{name}.log"
        # in the lab's own memory: read back through the 9p share, a file
        # QEMU writes byte by byte shows holes
        self.console = f"/run/simmig-{os.getpid()}-console-{name}.log"
        self.qmp_path = f"/run/simmig-{os.getpid()}-{name}.sock"
        for stale in (self.console, self.qmp_path):
            if os.path.exists(stale):
                os.unlink(stale)
        gpu_dev = f"vfio-pci,sysfsdev=/sys/bus/mdev/devices/{vgpu},display=on,id=gpu0"
        if migration:
            gpu_dev += f",enable-migration={migration}"
        args = ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", "192",
                "-smp", "1", "-nodefaults", "-no-reboot", "-display", "none",
                "-vga", "none", "-kernel", vmlinux, "-initrd", cpio,
                "-append", "console=ttyS0 panic=-1 rdinit=/init loglevel=4",
                "-serial", f"file:{self.console}", "-device", gpu_dev,
                "-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
        if incoming:
            args += ["-incoming", "defer"]
        if not start:
            args += ["-S"]
        for pattern in trace:
            args += ["-trace", f"enable={pattern},file={self.trace}"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        procs.append(self)
        deadline = time.monotonic() + 60
        while not os.path.exists(self.qmp_path):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"QEMU {name} did not start: {self.output()[-5:]}")
            time.sleep(0.2)
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.qmp_path)
        self.f = self.sock.makefile("rw")
        json.loads(self.f.readline())
        self.cmd("qmp_capabilities")

    def closed(self, why):
        # a QEMU that went away: say which, how it ended and what it printed
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        return RuntimeError(f"QEMU {self.name} closed QMP ({why}), exit status "
                            f"{self.proc.poll()}: {self.output()[-8:]}")

    def cmd(self, name, **args):
        try:
            self.f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
            self.f.flush()
        except OSError as e:
            raise self.closed(f"{name}: {e}") from None
        while True:
            line = self.f.readline()
            if not line:
                raise self.closed(name)
            r = json.loads(line)
            if "return" in r or "error" in r:
                return r

    def text(self):
        try:
            return open(self.console, errors="replace").read().replace("\r", "")
        except OSError:
            return ""

    def ticks(self):
        return [int(x) for x in re.findall(r"^MIG-TICK (\d+)", self.text(), re.M)]

    def intx(self):
        """(frame, INTx count) of every tick."""
        return [(int(a), int(b)) for a, b in
                re.findall(r"^MIG-TICK (\d+) ce_done \d+ intx (\d+)$", self.text(), re.M)]

    def failures(self):
        return [l for l in self.text().splitlines() if "MIG-FAIL" in l]

    def output(self):
        if self.proc.poll() is None:
            return []
        return self.proc.stdout.read().decode(errors="replace").splitlines()

    def status(self):
        return self.cmd("query-status")["return"]["status"]

    def screendump(self, path):
        if os.path.exists(path):
            os.unlink(path)
        r = self.cmd("screendump", filename=path)
        if "error" in r:
            raise RuntimeError(r["error"]["desc"])
        return pixels.read_image(path)

    def quit(self):
        if self.proc.poll() is None:
            try:
                self.cmd("quit")
            except (OSError, RuntimeError):
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_for(pred, timeout, step=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def expected_picture():
    """The fixed part of what guest/mig.c shows: quadrants below the ticker."""
    rows = []
    quad = [bytes(c) for c in pixels.PATTERN]
    for y in range(TICKER, HEIGHT):
        top = 0 if y < HEIGHT // 2 else 2
        rows.append(quad[top] * (WIDTH // 2) + quad[top + 1] * (WIDTH // 2))
    return b"".join(rows)


def fixed_part(w, h, px):
    return px[TICKER * w * 3:] if (w, h) == (WIDTH, HEIGHT) else b""


def migrate(src, dst, timeout):
    """QMP migrate from @src to @dst (listening on a unix socket); the final
    query-migrate."""
    uri = f"unix:/run/simmig-{os.getpid()}-{dst.name}.mig"
    for q in (src, dst):
        r = q.cmd("migrate-set-capabilities",
                  capabilities=[{"capability": "return-path", "state": True}])
        if "error" in r:
            raise RuntimeError(f"{q.name}: {r['error']['desc']}")
    r = dst.cmd("migrate-incoming", uri=uri)
    if "error" in r:
        raise RuntimeError(f"migrate-incoming: {r['error']['desc']}")
    # Under TCG (a few MB/s) the stop-and-copy of a 16 MiB vGPU cannot fit
    # QEMU's 300 ms default: 10 s lets RAM go over while the guest runs; if
    # it does not converge within 4 minutes, 60 s. The real downtime is
    # reported.
    src.cmd("migrate-set-parameters", **{"downtime-limit": 10000,
                                         "max-bandwidth": 1 << 30})
    r = src.cmd("migrate", uri=uri)
    if "error" in r:
        return {"status": "refused", "error-desc": r["error"]["desc"]}
    start = time.monotonic()
    raised = False
    while time.monotonic() < start + timeout:
        info = src.cmd("query-migrate")["return"]
        if info.get("status") in ("completed", "failed", "cancelled"):
            info["downtime-limit-raised"] = raised
            return info
        if not raised and time.monotonic() > start + 240:
            src.cmd("migrate-set-parameters", **{"downtime-limit": 60000})
            raised = True
        time.sleep(0.5)
    src.cmd("migrate_cancel")
    return src.cmd("query-migrate")["return"]


# -- what QEMU asks of a VFIO device before it migrates it -------------------
try:
    probe = Qemu("probe", vgpus["C"], migration=None, start=False)
    reasons = probe.cmd("query-migrate").get("return", {}).get("blocked-reasons", [])
    blocked = any("dirty tracking" in r for r in reasons)
    if DMALOG:
        tap(not blocked, "enable-migration=auto (QEMU's default): the vGPU has device DMA "
            "logging, QEMU does not block its migration", reasons)
    else:
        tap(blocked, "enable-migration=auto (QEMU's default): QEMU blocks migrating a vGPU "
            "without device dirty tracking (this kernel cannot report DMA logging)", reasons)
    probe.quit()
except Exception as e:
    tap(False, "enable-migration=auto (QEMU's default)", [repr(e)])

# -- the source guest ----------------------------------------------------------
QTRACE = ("vfio_intx*", "pci_route_irq", "vfio_migration_set_state",
          "vfio_load_device_config_state*", "vfio_pci_write_config", "kvm_irqchip*",
          "vfio_device_dirty_tracking_start", "vfio_get_dirty_bitmap")
src = Qemu("A", vgpus["A"], trace=QTRACE)
wait_for(lambda: len(src.ticks()) >= 2 or src.failures() or src.proc.poll() is not None,
                 300)
if not tap(len(src.ticks()) >= 2 and not src.failures(),
           f"source: the inner guest draws and copies on vGPU A (enable-migration={MIGRATION})",
           src.failures() + src.text().splitlines()[-10:] + src.output()[-10:]):
    for q in procs:
        q.quit()
    bail("the source guest does not run")
note(*[l for l in src.text().splitlines() if l.startswith("MIG-READY")])

want = expected_picture()
png_a = os.path.join(outdir, "screen-A.png")
try:
    w, h, px_a = src.screendump(os.path.join(outdir, "screen-A.ppm"))
    pixels.write_png(png_a, w, h, px_a)
    fixed_a = fixed_part(w, h, px_a)
    tap(fixed_a == want, f"source screendump: {w}x{h}, the guest's picture below its ticker",
        [f"kept in {png_a}"])
except Exception as e:
    fixed_a = b""
    tap(False, "source screendump", [repr(e)])

# -- a destination that must refuse: vGPU C is of another type ----------------
bad = Qemu("C", vgpus["C"], incoming=True)
before = max(src.ticks())
try:
    info = migrate(src, bad, 600)
except RuntimeError as e:
    info = {"status": "error", "error-desc": str(e)}
bad_out = []
if wait_for(lambda: bad.proc.poll() is not None, 30):
    bad_out = bad.output()
tap(info.get("status") in ("failed", "refused"),
    "migration to a vGPU of another type (vgpu_sim-32m) fails",
    [f"status {info.get('status')}: {info.get('error-desc', '')}"] +
    [f"destination: {l}" for l in bad_out[-6:]])
if src.proc.poll() is not None:
    tap(False, "the source QEMU is still there after the failed migration",
        src.output()[-10:] + src.text().splitlines()[-10:])
    for q in procs:
        q.quit()
    bail("the source QEMU exited")
st = src.status()
tap(st == "running", f"the source guest is still running after the failed migration ({st})")
again = wait_for(lambda: max(src.ticks()) >= before + 16 or src.failures(), 300)
tap(max(src.ticks()) >= before + 16 and not src.failures(),
    "the source guest keeps drawing and copying on vGPU A (16 more frames, all checks pass)",
    src.failures() + [f"ticks {before} -> {max(src.ticks())}"])
bad.quit()

# -- the real migration: A -> B while the guest runs --------------------------
# our interrupt and config-access trace events, shown if the guest fails on B
tracing = "/sys/kernel/tracing"
if not os.path.exists(f"{tracing}/trace"):
    subprocess.run(["mount", "-t", "tracefs", "tracefs", tracing])
try:
    write(f"{tracing}/buffer_size_kb", "4096")
    write(f"{tracing}/trace", "")
    write(f"{tracing}/events/vgpu_vfio/vgpu_vfio_irq/enable", "1")
    write(f"{tracing}/events/vgpu_vfio/vgpu_vfio_access/filter", "index == 7")
    write(f"{tracing}/events/vgpu_vfio/vgpu_vfio_access/enable", "1")
    # the vGPU's line in the inner guest (i440FX: IRQ 10/11), not the timer's or the UART's
    for ev, filt in (("kvm_set_irq", "gsi >= 5 || irq_source_id == 1"), ("kvm_ack_irq", "pin >= 5"),
                     ("kvm_ioapic_set_irq", "pin >= 5")):
        if os.path.exists(f"{tracing}/events/kvm/{ev}"):
            write(f"{tracing}/events/kvm/{ev}/filter", filt)
            write(f"{tracing}/events/kvm/{ev}/enable", "1")
except OSError as e:
    note(f"no trace events: {e}")
dst = Qemu("B", vgpus["B"], incoming=True, trace=QTRACE)
before = max(src.ticks())
t0 = time.monotonic()
info = migrate(src, dst, 900)
wall = time.monotonic() - t0
ok = tap(info.get("status") == "completed",
         f"QMP migrate A -> B while the guest runs: {info.get('status')}",
         [info.get("error-desc", "")] + [json.dumps(info)] + dst.output()[-6:])
if ok:
    ram = info.get("ram", {})
    note(f"downtime {info.get('downtime')} ms, total {info.get('total-time')} ms "
         f"(wall {wall:.1f} s), setup {info.get('setup-time')} ms, downtime limit "
         f"{'60 s (10 s did not converge in 4 min)' if info.get('downtime-limit-raised') else '10 s'}",
         f"vfio device bytes {info.get('vfio', {}).get('transferred')}, "
         f"RAM bytes {ram.get('transferred')} ({ram.get('normal')} normal pages, "
         f"{ram.get('dirty-sync-count')} dirty syncs)")
# Which tracking QEMU used for guest RAM the vGPU wrote: our DMA logging, or type1's.
try:
    qt = open(src.trace, errors="replace").read()
except OSError:
    qt = ""
starts = re.findall(r"vfio_device_dirty_tracking_start .*", qt)
dirty = [int(n) for n in re.findall(r"vfio_get_dirty_bitmap .*dirty_pages=(\d+)", qt)]
if DMALOG:
    tap(starts and sum(dirty) > 0,
        "QEMU tracked the guest RAM the vGPU wrote through its DMA logging "
        "(VFIO_DEVICE_FEATURE_DMA_LOGGING), not type1's container",
        starts[:1] + [f"{len(dirty)} reports, {sum(dirty)} dirty pages in all"])
else:
    skip("QEMU tracks the guest RAM the vGPU writes through its DMA logging",
         "this kernel cannot report device DMA logging (no iova_bitmap: Debian 13 has no "
         f"IOMMUFD); type1's container tracking: {len(dirty)} reports, {sum(dirty)} dirty pages")
st_src = src.status()
st_dst = wait_for(lambda: dst.proc.poll() is None and dst.status() == "running", 60)
tap(st_dst and st_src == "postmigrate",
    f"the guest runs on B; the source is stopped ({st_src})")
last_a = max(src.ticks())
tap(last_a >= before, f"the guest was working up to the migration (frame {last_a} on A)")
moved = wait_for(lambda: (dst.ticks() and max(dst.ticks()) >= last_a + 24) or dst.failures()
                 or dst.proc.poll() is not None, 300)
b_ticks = dst.ticks()
tap(bool(b_ticks) and min(b_ticks) > last_a and max(b_ticks) >= last_a + 24
    and not dst.failures(),
    "the guest carries on on B: canvas, engine pages in VRAM and guest RAM, done count "
    "all intact at every frame, new copies complete",
    dst.failures() + [f"A's last frame {last_a}, B's frames "
                      f"{min(b_ticks) if b_ticks else '-'}..{max(b_ticks) if b_ticks else '-'}"]
    + dst.text().splitlines()[-5:])
# INTx: the guest polls for completions, so a lost interrupt shows here only.
# If INTx stops, the guest rewrites the PIIX's PIRQ routing once with its own
# value (guest/mig.c), which makes QEMU route the vGPU's KVM irqfd again.
LOST, REWRITE = "MIG-INTX-LOST", "MIG-PIRQ-REWRITE"


def intx_ticks(q, after=None):
    """(frame, INTx count) of the ticks printed after the line @after."""
    text = q.text()
    if after:
        at = text.find(after)
        text = text[text.index("\n", at):] if at >= 0 and "\n" in text[at:] else ""
    return [(int(a), int(b)) for a, b in
            re.findall(r"^MIG-TICK (\d+) ce_done \d+ intx (\d+)$", text, re.M)]


def intx_kept(ticks):
    """At least half of the 2 * 4 copies a frame raised an INTx the guest took."""
    first, last = min(ticks, default=(0, 0)), max(ticks, default=(0, 0))
    return (last[0] - first[0] >= 8 and last[1] - first[1] >= (last[0] - first[0]) * 4,
            f"frame {first[0]} {first[1]} INTx, frame {last[0]} {last[1]} INTx")


ia = src.intx()
lost = LOST in dst.text()
intx_ok, b_span = intx_kept(dst.intx())
# TODO: QEMU bug, found by this test (kernel/README.md, "INTx after
# migration"): the destination's KVM irqfd stays on GSI 0, the route QEMU
# computed before the PIIX state arrived. Our side delivers (trace:
# vgpu_vfio_irq ret 0, kvm_set_irq gsi 0 source 1). Once QEMU routes it
# again after loading, meson reports an unexpected pass here: drop the TODO.
tap(intx_ok and not lost, "INTx keeps coming on B: at least half the copies after migration "
    "raise one the guest takes, none lost",
    [f"A: {max((n for f, n in ia), default=0)} INTx up to frame "
     f"{max((f for f, n in ia), default=0)}; B: {b_span}"]
    + [l for l in dst.text().splitlines() if l.startswith((LOST, REWRITE))],
    todo="QEMU 10 leaves the vGPU's INTx irqfd on a stale GSI after migration")
# During the loss the inner guest's kernel may take the line for a stuck one
# and switch it off ("irq N: nobody cared", seen once in a CI run): no
# re-route brings INTx back then, and the run shows nothing either way.
SWITCHED_OFF = re.compile(r"irq (\d+): nobody cared")
if lost:
    wait_for(lambda: intx_kept(intx_ticks(dst, REWRITE))[0] or dst.failures()
             or dst.proc.poll() is not None, 300)
    rewrote = [l for l in dst.text().splitlines() if l.startswith(REWRITE)]
    ok_after, span = intx_kept(intx_ticks(dst, REWRITE))
    after_ok = bool(ok_after and rewrote and "failed" not in rewrote[0])
    off = SWITCHED_OFF.search(dst.text())
    tap(after_ok,
        "once the guest rewrites the PIIX's PIRQ routing with its own value (QEMU routes the "
        "irqfd again), INTx comes on B for at least 8 frames: the loss is QEMU's stale route",
        rewrote + [f"B after the rewrite: {span}"] + dst.failures(),
        todo=None if after_ok or not off else
        f"the inner guest switched its IRQ {off.group(1)} off during the loss (nobody cared): "
        "nothing to observe")
else:
    skip("INTx after the guest rewrites the PIIX's PIRQ routing",
         "INTx was not lost on B: nothing to re-route")
if not intx_ok or lost:
    # our raises, KVM's injections (source 1: a resampling irqfd, any GSI)
    try:
        lines = [l for l in open(f"{tracing}/trace").read().splitlines()
                 if not l.startswith("#")]
        kinds = {}
        for l in lines:
            m = re.search(r"(vgpu_vfio_irq: vgpu \d+ .* ret -?\d+"
                          r"|kvm_set_irq: gsi \d+ level \d source \d+"
                          r"|kvm_ack_irq: \S+ \S+|kvm_ioapic_set_irq: pin \d+)", l)
            if m:
                kinds[m.group(1)] = kinds.get(m.group(1), 0) + 1
        note("trace event counts since B started:",
             *[f"  {n:6} {k}" for k, n in sorted(kinds.items())])
    except OSError:
        pass
    # QEMU's INTx set-up: B routes no more after it loads the PIIX state
    for q in (src, dst):
        try:
            qt = open(q.trace, errors="replace").read().splitlines()
        except OSError:
            continue
        counts = {}
        for l in qt:
            m = re.match(r"(?:\d+@[\d.]+:)?(\w+)", l)
            if m:
                counts[m.group(1)] = counts.get(m.group(1), 0) + 1
        note(f"QEMU {q.name} trace events:", *[f"  {n:6} {k}" for k, n in sorted(counts.items())])
    qt = open(dst.trace, errors="replace").read().splitlines() if os.path.exists(dst.trace) else []
    note(*[f"B: {l}" for l in qt
           if not re.search(r"vfio_intx_(interrupt|eoi)|vfio_pci_write_config|pci_route_irq",
                            l)][-40:])
png_b = os.path.join(outdir, "screen-B.png")
try:
    w, h, px_b = dst.screendump(os.path.join(outdir, "screen-B.ppm"))
    pixels.write_png(png_b, w, h, px_b)
    fixed_b = fixed_part(w, h, px_b)
    import hashlib
    tap(fixed_b == want and fixed_b == fixed_a,
        f"destination screendump: {w}x{h}, the same picture as on A below the ticker",
        [f"sha256 of the fixed part: A {hashlib.sha256(fixed_a).hexdigest()[:16]}, "
         f"B {hashlib.sha256(fixed_b).hexdigest()[:16]}", f"kept in {png_b}"])
except Exception as e:
    tap(False, "destination screendump", [repr(e)])

for q in procs:
    q.quit()
    if q.name == "B":
        note(*[f"QEMU B: {l}" for l in q.output()[-10:]])
    if os.path.exists(q.console):
        subprocess.run(["cp", q.console, os.path.join(outdir, f"console-{q.name}.log")])
        if q.failures() or taplib.failed:
            note(*[f"{q.name}: {l}" for l in q.text().splitlines()[-6:]])
for name in ("A", "B", "C"):
    try:
        write(f"/sys/bus/mdev/devices/{vgpus[name]}/remove", "1")
    except OSError as e:
        note(f"removing vGPU {name}: {e}")
sys.exit(1 if taplib.failed else 0)
