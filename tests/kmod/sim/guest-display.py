#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The real guest (TAP), run inside the lab with --nested.

Creates a vgpu_sim vGPU, boots Debian's kernel in an inner KVM guest whose only
display is that vGPU (QEMU vfio-pci, display=on), lets the guest's bochs-drm
drive it and draw a known pattern, then takes QEMU screendumps through the
vGPU's display plane and checks the pattern. The pictures stay in OUTDIR.

  guest-display.py BUILDDIR DRAW CE INIT OUTDIR [--reference]

--reference gives the inner guest QEMU's own bochs-display instead of the
vGPU: a check of this harness itself, not of vgpu_sim.
"""
import json
import os
import socket
import subprocess
import sys
import time
import traceback
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "harness"))
import innerguest  # noqa: E402
import pixels  # noqa: E402
import tap as taplib  # noqa: E402
from tap import bail, keep_log, tap, write  # noqa: E402

builddir, draw, ce, init, outdir = sys.argv[1:6]
reference = sys.argv[6:] == ["--reference"]
gpu = os.environ.get("LAB_GPU", "")


if not gpu:
    print("1..0 # SKIP no physical GPU in this lab")
    sys.exit(0)
if not os.path.exists("/dev/kvm"):
    print("1..0 # SKIP no /dev/kvm (run the lab with --nested)")
    sys.exit(0)
print("1..8", flush=True)

# -- the vGPU on the host side ------------------------------------------
if not reference and not os.path.isdir("/sys/module/vgpu_sim"):
    subprocess.run(["insmod", os.path.join(builddir, "kernel/sim/vgpu_sim.ko")], check=True)
dev = f"/sys/bus/pci/devices/{gpu}"
if not reference and not os.path.exists(f"{dev}/driver"):
    write(f"{dev}/driver_override", "vgpu_sim")
    write("/sys/bus/pci/drivers_probe", gpu)
vgpu = str(uuid.uuid4())
try:
    if not reference:
        write(f"/sys/class/mdev_bus/{gpu}/mdev_supported_types/vgpu_sim-16m/create", vgpu)
    created = True
except OSError as e:
    created = False
    err = e
if not tap(created, "reference run: QEMU's bochs-display, no vGPU" if reference else
           f"vGPU {vgpu} of type vgpu_sim-16m created",
           () if created else [str(err)]):
    bail("no vGPU")

# -- the inner guest's initramfs -----------------------------------------
# /uio: uio_pci_generic, to take the vGPU's INTx in user space; /mods: bochs-drm
os.makedirs(outdir, exist_ok=True)
cpio = os.path.join(outdir, "initramfs.cpio")
programs = [(draw, "draw")] + ([] if reference else [(ce, "ce")])
innerguest.build_initramfs(cpio, init, programs=programs,
                           modules=[("uio", "uio_pci_generic"), ("mods", "bochs")])
vmlinux, _, _ = innerguest.lab_kernel()

# -- boot it ---------------------------------------------------------------
# On the lab's /run, not in the 9p-shared outdir (see keep_log).
console = os.path.join("/run", f"simtest-console-{os.getpid()}.log")
qmp_path = os.path.join("/run", f"simtest-qmp-{os.getpid()}.sock")
for stale in (console, qmp_path):
    if os.path.exists(stale):
        os.unlink(stale)
keep_log(console, os.path.join(outdir, "inner-console.log"))
qemu = subprocess.Popen([
    "qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", "512", "-smp", "1",
    "-nodefaults", "-no-reboot", "-display", "none", "-vga", "none",
    "-kernel", vmlinux, "-initrd", cpio,
    "-append", "console=ttyS0 panic=-1 rdinit=/init loglevel=6",
    "-serial", f"file:{console}",
    "-device", "bochs-display" if reference else
    f"vfio-pci,sysfsdev=/sys/bus/mdev/devices/{vgpu},display=on",
    "-qmp", f"unix:{qmp_path},server=on,wait=off",
], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def console_text():
    try:
        return open(console, errors="replace").read()
    except OSError:
        return ""


deadline = time.monotonic() + 240
while time.monotonic() < deadline and qemu.poll() is None:
    text = console_text()
    if "SIMTEST-DRAWN" in text or "SIMTEST-FAIL" in text:
        break
    time.sleep(0.5)
text = console_text()
if qemu.poll() is not None:
    out = qemu.stdout.read().decode(errors="replace").splitlines()
    tap(False, "inner guest booted", out[-20:] + text.splitlines()[-20:])
    bail("QEMU exited")

lines = [l.strip() for l in text.splitlines()]
pci = [l for l in lines if l.startswith("SIMTEST-PCI")]
fb = [l for l in lines if l.startswith("SIMTEST-FB")]
drm = [l for l in lines if l.startswith("SIMTEST-DMESG")]
want_sub = "0x1af4:0x1100" if reference else "0x1234:0x5600"
tap(len(pci) == 1 and pci[0].endswith("driver bochs-drm") and want_sub in pci[0],
    f"inner guest: bochs-drm bound to the {'display' if reference else 'vGPU'} "
    f"(1234:1111, subsystem {want_sub})",
    pci + drm[-8:] + ([] if pci else lines[-30:]))
ce_lines = [l for l in lines if l.startswith("SIMTEST-CE")]
if reference:
    tap(True, "reference run: no copy engine")
else:
    tap(len(ce_lines) == 4 and all(" ok " in l for l in ce_lines),
        "inner guest: copy engine both ways with guest-physical IOVAs, each completion "
        "taken as INTx (uio_pci_generic), unmapped IOVA refused",
        ce_lines)
modes = [l for l in lines if l.startswith("SIMTEST-MODES")]
if reference:
    tap(len(modes) == 1, "reference run: QEMU's own EDID, no type maximum to check", modes)
else:
    tap(len(modes) == 1 and modes[0].endswith("largest 1920x1080"),
        "inner guest: the monitor's modes stop at 1920x1080 (the type's maximum, from EDID)",
        modes)
mode_ok = tap(bool(fb) and "SIMTEST-DRAWN" in text and "32bpp" in fb[0],
              "inner guest: KMS mode set on a dumb buffer holding the pattern",
              fb + [l for l in lines if "SIMTEST-FAIL" in l])
mode = fb[0].split()[2] if fb else "?"


# -- screendump through the display plane -----------------------------------
def qmp_session():
    s = socket.socket(socket.AF_UNIX)
    s.connect(qmp_path)
    f = s.makefile("rw")

    def cmd(name, **args):
        f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        f.flush()
        while True:
            r = json.loads(f.readline())
            if "return" in r or "error" in r:
                return r
    json.loads(f.readline())     # greeting
    cmd("qmp_capabilities")
    return s, cmd


shot_ok = False
ppm = os.path.join(outdir, "screen.ppm")
png = os.path.join(outdir, "screen.png")
for p in (ppm, png):
    if os.path.exists(p):
        os.unlink(p)
try:
    s, cmd = qmp_session()
    # the first frames may predate the drawing: retry for a while
    for attempt in range(20):
        r = cmd("screendump", filename=ppm)
        if "error" in r:
            raise RuntimeError(r["error"])
        w, h, px = pixels.read_image(ppm)
        bad = pixels.check_pattern(w, h, px) if f"{w}x{h}" == mode else [f"size {w}x{h} != mode {mode}"]
        if not bad:
            break
        time.sleep(0.5)
    shot_ok = tap("error" not in r and f"{w}x{h}" == mode,
                  f"screendump through the region plane: {w}x{h} (guest mode {mode})")
    tap(not bad, "the guest's pattern is on the screen (red, green, blue, white quadrants)", bad)
    r = cmd("screendump", filename=png, format="png")
    tap("error" not in r and open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n",
        f"PNG kept for people: {png}", [json.dumps(r)])
    cmd("quit")
    s.close()
except Exception as e:  # one report, whatever broke
    while taplib.count < 8:
        tap(False, "screendump", traceback.format_exc().splitlines()[-3:] +
            [f"qemu status {qemu.poll()}, /run: {os.listdir('/run')}"])
try:
    qemu.wait(timeout=30)
except subprocess.TimeoutExpired:
    qemu.kill()
    qemu.wait()
out = qemu.stdout.read().decode(errors="replace").splitlines()
with open(os.path.join(outdir, "qemu-output.log"), "w") as f:
    f.write("\n".join(out) + "\n")
if taplib.failed:
    for line in [l for l in out if "INTX" not in l][-20:]:
        print(f"# qemu: {line}")
if not reference:
    write(f"/sys/bus/mdev/devices/{vgpu}/remove", "1")
sys.exit(1 if taplib.failed else 0)
