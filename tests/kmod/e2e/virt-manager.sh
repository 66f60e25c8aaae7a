#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# In the lab with libvirtd: Debian's virt-manager on a virtual X screen, its Add Hardware ->
# MDEV Host Device page driven through AT-SPI (tools/virt-manager-shot), without and with
# contrib/virt-manager's change. The page lists our vGPU's node device; the screenshot is the
# dialog; Finish adds the hostdev with the change and fails with virtinst's error without it.
#
#   virt-manager.sh BUILDDIR        (TAP)
set -u
builddir=$(readlink -f "$1")
out=$builddir/virt-manager-shot
gpu=${LAB_GPU:?run me inside the lab}
uuid=0a3c4a8e-5f3e-4d68-9c1b-2f6a8f5d7e11          # the one in xml-examples/vgpu.xml
nodedev=mdev_${uuid//-/_}_${gpu//[:.]/_}
. "$(dirname "$0")/lib.sh"
field() { sed -n "s/^$2: //p" "$1/report"; }
# image_ok PNG GEOMETRY: a PNG of the window's size (WxH+X+Y) that is not one flat colour
image_ok() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import sys
from PIL import Image
img = Image.open(sys.argv[1])
w, h = (int(v) for v in sys.argv[2].split("+")[0].split("x"))
colours = img.convert("RGB").getcolors(1 << 20) or []
print(f"# {sys.argv[1]}: {img.format} {img.size[0]}x{img.size[1]}, {len(colours)} colours")
sys.exit(0 if img.format == "PNG" and img.size == (w, h) and len(colours) > 16 else 1)
PY
}

echo "1..9"
[ -x /usr/bin/virt-manager ] || bail "Debian's virt-manager is not installed (tools/deps)"
for t in Xvfb xdotool xwininfo import; do
	command -v $t >/dev/null || bail "$t is not installed (tools/deps)"
done

# Without the change: the page lists the vGPU, Finish fails in virtinst.
tools/virt-manager-shot --in-lab --stock "$builddir" >"$out.stock.out" 2>&1
rc=$?
show "$out.stock.out"
ok $rc "Debian's own virt-manager: the page lists $nodedev and Finish refuses it (virtinst's error)"
grep -q "Error building device XML: Don't know how to generate nodedev for mdev type id 'vgpu_sim-32m'" \
	"$out-stock/virt-manager.log"
ok $? "virt-manager's debug log has the error dialog's text"

# With the change.
tools/virt-manager-shot --in-lab "$builddir" >"$out.out" 2>&1
rc=$?
show "$out.out"
ok $rc "virt-manager with contrib/virt-manager's change: Finish adds the vGPU"
win=$(field "$out" add-hardware-window)
[ -n "$win" ] && [ "${win%% *}" != "?" ] && [ "${win#* }" != "?" ]
ok $? "the Add New Virtual Hardware window existed (X11 window ${win:-none})"
rows=$(field "$out" row)
[ "$(field "$out" selected)" = "$nodedev" ] && grep -qx "$nodedev" <<<"$rows"
ok $? "its MDEV Host Device list had the vGPU's node device, selected"
show <<<"$rows"
image_ok "$out/add-hardware.png" "${win#* }"
ok $? "add-hardware.png is the dialog: a PNG of the window's size, not a blank picture"
! grep -q "Don't know how to generate nodedev" "$out/virt-manager.log"
ok $? "no \"Don't know how to generate nodedev\" in virt-manager's debug log"
grep -q "<hostdev mode='subsystem' type='mdev'.*model='vfio-pci'" "$out/domain.xml" &&
	grep -q "<address uuid='$uuid'/>" "$out/domain.xml"
ok $? "the domain has the mdev hostdev, model vfio-pci, with the vGPU's UUID"
sed -n '/<hostdev/,/<\/hostdev>/p' "$out/domain.xml" | show
[ -z "$(mdevs)" ]
ok $? "no vGPU left behind"
finish
