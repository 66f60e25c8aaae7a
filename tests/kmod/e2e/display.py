#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The guest's screen through libvirt (TAP), in the lab with --libvirt --nested.

A domain written in our dialect with a managed vGPU, display='on', and VNC
graphics: its guest (bochs-drm on the vGPU) draws the test pattern, and the
pattern is read back through `virsh screenshot` and through a VNC client, both
compared pixel by pixel; then the same with ramfb='on'. The pictures stay in
OUTDIR as PNG.

  display.py BUILDDIR DRAW INIT OUTDIR
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "harness"))
import innerguest  # noqa: E402
import pixels  # noqa: E402
import tap as taplib  # noqa: E402
from tap import bail, keep_log, tap, write  # noqa: E402

builddir, draw, init, outdir = sys.argv[1:5]
gpu = os.environ.get("LAB_GPU", "")


def run(*cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def virsh(*args):
    return run("virsh", "-q", "-c", "qemu:///system", *args)


print("1..12", flush=True)
if not gpu or not os.path.exists("/dev/kvm"):
    bail("run me in the lab with an emulated GPU, --libvirt and --nested")
dev = f"/sys/bus/pci/devices/{gpu}"
if not os.path.exists(f"{dev}/driver"):
    write(f"{dev}/driver_override", "vgpu_sim")
    write("/sys/bus/pci/drivers_probe", gpu)
os.makedirs(outdir, exist_ok=True)
cpio = os.path.join(outdir, "guest.cpio")
innerguest.build_initramfs(cpio, init, programs=[(draw, "draw")], modules=[("mods", "bochs")])
vmlinux, _, _ = innerguest.lab_kernel()


def domain_xml(name, uuid, console, ramfb):
    return f"""<domain type='kvm'>
  <name>{name}</name>
  <uuid>{uuid}</uuid>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{vmlinux}</kernel>
    <initrd>{cpio}</initrd>
    <cmdline>console=ttyS0 panic=-1 rdinit=/init loglevel=3</cmdline>
  </os>
  <devices>
    <serial type='file'><source path='{console}'/></serial>
    <hostdev mode='subsystem' type='vgpu' managed='yes' display='on' ramfb='{ramfb}'>
      <source><type id='vgpu_sim-16m'/></source>
    </hostdev>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
"""


def wait_drawn(console):
    """The guest's mode line ("SIMTEST-FB ..."), once it has drawn; None on failure."""
    deadline = time.monotonic() + 240
    text = ""
    while time.monotonic() < deadline:
        try:
            text = open(console, errors="replace").read()
        except OSError:
            text = ""
        if "SIMTEST-DRAWN" in text or "SIMTEST-FAIL" in text:
            break
        time.sleep(0.5)
    fb = [line for line in text.splitlines() if line.startswith("SIMTEST-FB")]
    return (fb[0] if fb and "SIMTEST-DRAWN" in text else None), text


def first_pattern(fetch, tag, attempts):
    """Calls fetch() -> (width, height, pixels) until the pattern shows (the
    first frames may predate the drawing); keeps it as OUTDIR/tag.png.
    Returns (problems, size)."""
    bad = ["nothing fetched"]
    for _ in range(attempts):
        try:
            w, h, px = fetch()
        except (OSError, ValueError, RuntimeError) as e:
            bad = [str(e)]
        else:
            bad = pixels.check_pattern(w, h, px)
            if not bad:
                pixels.write_png(os.path.join(outdir, f"{tag}.png"), w, h, px)
                return [], (w, h)
        time.sleep(0.5)
    return bad, None


def screenshot(name, tag):
    """Through `virsh screenshot` (libvirt writes what QEMU's screendump
    gives: PNG where it can, else PPM)."""
    shot = os.path.join(outdir, f"{tag}.screenshot")

    def fetch():
        r = virsh("screenshot", name, shot)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.strip())
        return pixels.read_image(shot)
    return first_pattern(fetch, tag, 20)


def vnc(name, tag):
    """Through the domain's VNC server, as a client sees it."""
    r = virsh("vncdisplay", name)
    m = re.match(r"^([0-9.]+):(\d+)$", r.stdout.strip())
    if not m:
        return [f"virsh vncdisplay: {r.stdout.strip()} {r.stderr.strip()}"], None
    return first_pattern(lambda: pixels.vnc_frame(m.group(1), 5900 + int(m.group(2))), tag, 10)


for ramfb, uuid in (("off", "77777777-0000-4000-8000-0000000000aa"),
                    ("on", "77777777-0000-4000-8000-0000000000bb")):
    name = f"screen-ramfb-{ramfb}"
    # On the lab's /run, not in the 9p-shared outdir (see keep_log).
    console = os.path.join("/run", f"vgpu-{name}.console")
    if os.path.exists(console):
        os.unlink(console)
    keep_log(console, outdir)
    path = os.path.join(outdir, f"{name}.xml")
    write(path, domain_xml(name, uuid, console, ramfb))
    r = run("vgpuctl", "define", path)
    started = r.returncode == 0 and virsh("start", name).returncode == 0
    qemu_args = ""
    log = f"/var/log/libvirt/qemu/{name}.log"
    if os.path.exists(log):
        qemu_args = open(log, errors="replace").read()
    # libvirt's -device for the vGPU, in QEMU's JSON syntax (vfio-pci-nohotplug with ramfb)
    vfio = [line for line in qemu_args.splitlines() if '"driver":"vfio-pci' in line][-1:]
    dev = vfio[0] if vfio else ""
    tap(started and '"display":"on"' in dev and ('"ramfb":true' in dev) == (ramfb == "on"),
        f"ramfb={ramfb}: vgpuctl define + virsh start; QEMU gets the vGPU with display on, "
        f"ramfb {ramfb}", re.findall(r"\{[^{}]*vfio-pci[^{}]*\}", dev) + [r.stderr.strip()])
    if not started:
        bail(f"{name} did not start")
    fb, text = wait_drawn(console)
    tap(fb is not None, f"ramfb={ramfb}: the guest's bochs-drm set a mode and drew the pattern",
        [fb] if fb else text.splitlines()[-20:])
    mode = fb.split()[2] if fb else "?"
    bad, size = screenshot(name, f"{name}-virsh")
    tap(not bad and size and f"{size[0]}x{size[1]}" == mode,
        f"ramfb={ramfb}: virsh screenshot shows the pattern at the guest's mode {mode} "
        f"({os.path.join(outdir, name + '-virsh.png')})", bad + [f"size {size}"])
    bad, size = vnc(name, f"{name}-vnc")
    tap(not bad and size and f"{size[0]}x{size[1]}" == mode,
        f"ramfb={ramfb}: a VNC client sees the same pattern", bad + [f"size {size}"])
    uuids = [u for u in os.listdir("/sys/bus/mdev/devices")]
    virsh("destroy", name)
    gone = not any(os.path.exists(f"/sys/bus/mdev/devices/{u}") for u in uuids)
    tap(gone, f"ramfb={ramfb}: after the stop the hook removed the vGPU", uuids)
    virsh("undefine", name)

# A domain without a display: one clear answer, nothing on the host changes.
path = os.path.join(outdir, "noscreen.xml")
write(path, domain_xml("noscreen", "77777777-0000-4000-8000-0000000000cc",
                       os.path.join(outdir, "noscreen.console"), "off")
      .replace(" display='on' ramfb='off'", "")
      .replace("<graphics type='vnc' autoport='yes' listen='127.0.0.1'/>", ""))
run("vgpuctl", "define", path)
virsh("start", "noscreen")
r = virsh("screenshot", "noscreen", os.path.join(outdir, "noscreen.ppm"))
tap(r.returncode != 0 and len(r.stderr.strip().splitlines()) >= 1,
    "virsh screenshot of a domain without display is refused", [r.stderr.strip()])
virsh("destroy", "noscreen")
virsh("undefine", "noscreen")
r = virsh("list", "--all", "--name")
tap(os.listdir("/sys/bus/mdev/devices") == [] and r.stdout.strip() == "",
    "nothing is left: no vGPU, no domain", [r.stdout])
sys.exit(1 if taplib.failed else 0)
