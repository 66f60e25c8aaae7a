#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# In the lab with libvirtd: Debian's own virt-xml and virt-install give a domain our vGPU from
# its node device once contrib/virt-manager's change is on PYTHONPATH, and refuse it without.
#
#   virtinst.sh BUILDDIR        (TAP)
set -u
builddir=$(readlink -f "$1")
src=$(pwd)
work=$builddir/tests/kmod/e2e/virtinst
gpu=${LAB_GPU:?run me inside the lab}
uuid=0a3c4a8e-5f3e-4d68-9c1b-2f6a8f5d7e11          # the one in xml-examples/vgpu.xml
nodedev=mdev_${uuid//-/_}_${gpu//[:.]/_}
. "$(dirname "$0")/lib.sh"

echo "1..8"
rm -rf "$work" && mkdir -p "$work"
[ -d /usr/share/virt-manager/virtinst ] || bail "Debian's virtinst is not installed"
bind_gpu "$gpu"
udevadm settle

# Debian's virtinst, and a copy of it with our change applied.
cp -a /usr/share/virt-manager/virtinst "$work/virtinst"
patch -d "$work" -p1 --quiet <"$src"/contrib/virt-manager/0001-*.patch
ok $? "contrib/virt-manager's change applies to Debian's virtinst $(dpkg-query -W -f='${Version}' virtinst)"
# virt-xml and virt-install put /usr/share/virt-manager first on sys.path; run their entry
# points with the patched copy first on PYTHONPATH instead, with Debian's Python (its gi and
# libvirt modules; a python3 earlier on PATH may lack them).
patched() { # tool args...
	local tool=$1
	shift
	PYTHONPATH=$work /usr/bin/python3 -c "import sys; sys.argv[0] = '$tool'
from virtinst import ${tool//-/}; ${tool//-/}.runcli()" "$@"
}

virsh nodedev-create xml-examples/vgpu.xml >/dev/null && [ -e "/sys/bus/mdev/devices/$uuid/driver" ] &&
	virsh nodedev-dumpxml "$nodedev" >/dev/null
ok $? "virsh nodedev-create made vGPU $uuid, node device $nodedev"

cat >"$work/vx.xml" <<XML
<domain type='qemu'>
  <name>vx</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><video><model type='none'/></video><memballoon model='none'/></devices>
</domain>
XML
virsh define "$work/vx.xml" >/dev/null

virt-xml vx --add-device --hostdev "$nodedev" >"$work/stock.out" 2>&1
rc=$?
show "$work/stock.out"
[ $rc != 0 ] && grep -q "Don't know how to generate nodedev for mdev type id 'vgpu_sim-32m'" "$work/stock.out"
ok $? "Debian's virt-xml, unchanged, refuses the vGPU"

patched virt-xml vx --add-device --hostdev "$nodedev" >"$work/patched.out" 2>&1
ok $? "virt-xml with the change adds it"
show "$work/patched.out"
virsh dumpxml --inactive vx >"$work/vx-after.xml"
grep -q "<hostdev mode='subsystem' type='mdev'.*model='vfio-pci'" "$work/vx-after.xml" &&
	grep -q "<address uuid='$uuid'/>" "$work/vx-after.xml"
ok $? "the domain has an mdev hostdev, model vfio-pci, with the vGPU's UUID"
sed -n '/<hostdev/,/<\/hostdev>/p' "$work/vx-after.xml" | sed 's/^/# /'

# The result is what our own tools read: vgpuctl sees a native hostdev it has no metadata for
# and leaves it alone; libvirt accepts the domain.
virsh dumpxml --inactive vx | vgpuctl domxml-from-native - >"$work/from-native.out" 2>&1 &&
	grep -q "type=\"mdev\"" "$work/from-native.out"
ok $? "vgpuctl domxml-from-native keeps it as a plain mdev hostdev (an unmanaged vGPU)"

patched virt-install --name vi --memory 64 --osinfo generic --import --disk none \
	--network none --graphics none --hostdev "$nodedev" --print-xml >"$work/vi.xml" 2>"$work/vi.err"
rc=$?
show "$work/vi.err"
[ $rc = 0 ] && grep -q "<hostdev mode=\"subsystem\" type=\"mdev\".*model=\"vfio-pci\"" "$work/vi.xml" &&
	grep -q "<address uuid=\"$uuid\"/>" "$work/vi.xml"
ok $? "virt-install --hostdev with the change puts it into a new domain"

virt-install --name vi --memory 64 --osinfo generic --import --disk none --network none \
	--graphics none --hostdev "$nodedev" --print-xml >/dev/null 2>"$work/vi-stock.err"
rc=$?
[ $rc != 0 ] && grep -q "Don't know how to generate nodedev" "$work/vi-stock.err"
ok $? "Debian's virt-install, unchanged, refuses it"

virsh undefine vx >/dev/null
virsh nodedev-destroy "$nodedev" >/dev/null
finish
