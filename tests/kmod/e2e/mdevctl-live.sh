#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# In the lab (--libvirt, with our build installed by --install so mdevctl finds our call-out):
# the world's own mdevctl and libvirt changing a running vGPU's vendor attributes.
#   mdevctl >= 1.3 (Debian 13: 1.4) asks the call-out for its capabilities; `mdevctl modify
#   --live` then has it write the new attributes to the running vGPU, bad ones are refused
#   before anything is written, and once the vGPU has been opened (as QEMU does) the refusal
#   is one line saying what to do. `virsh nodedev-update --live` (libvirt >= 10.1, Debian 13:
#   11.3) goes the same way (libvirt runs mdevctl modify --live --jsonfile), and --config
#   changes the stored definition, as the refusal says to.
#   Debian 12's mdevctl 1.2 and libvirt 9.0 have neither: those checks are TAP skips there,
#   and mdevctl 1.2 still runs the call-out as a plain one (start with attributes, a bad
#   attribute refused).
#
#   mdevctl-live.sh BUILDDIR        (TAP)
set -u
builddir=$(readlink -f "$1")
work=$builddir/tests/kmod/e2e/work-mdevctl-live
gpu=${LAB_GPU:?run me inside the lab}
types=/sys/class/mdev_bus/$gpu/mdev_supported_types
devs=/sys/bus/mdev/devices
. "$(dirname "$0")/lib.sh"

echo "1..10"
rm -rf "$work" && mkdir -p "$work"
bind_gpu "$gpu"
[ -d "$types/vgpu_sim-32m" ] || bail "vgpu_sim did not take $gpu"
[ -x /etc/mdevctl.d/scripts.d/callouts/vgpu ] || bail "the call-out is not installed (run with tools/lab's --install)"
mver=$(mdevctl --version 2>/dev/null)
echo "# $mver"

virsh version --daemon 2>/dev/null | grep -i 'running' | sed 's/^/# /'

live_mdevctl=0 live_virsh=0
mdevctl modify --help 2>/dev/null | grep -q -- --live && live_mdevctl=1
virsh help nodedev-update >/dev/null 2>&1 && live_virsh=1
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
res() { cat "$devs/$1/vendor/max_resolution" 2>/dev/null; }
attrs_json() { printf '{"mdev_type": "vgpu_sim-32m", "start": "manual", "attrs": [{"%s": "%s"}]}\n' "$1" "$2"; }

# Any world: mdevctl runs the call-out at start (attributes checked, then written by mdevctl).
u1=$(cat /proc/sys/kernel/random/uuid)
attrs_json vendor/max_resolution 800x600 >"$work/start.json"
mdevctl start -u "$u1" -p "$gpu" --jsonfile "$work/start.json" >"$work/start.out" 2>&1 &&
	[ "$(res "$u1")" = 800x600 ]
ok $? "mdevctl start with vendor/max_resolution=800x600 through the call-out: vGPU $u1"
show "$work/start.out"
u9=$(cat /proc/sys/kernel/random/uuid)
attrs_json ../../remove 1 >"$work/bad-start.json"
mdevctl start -u "$u9" -p "$gpu" --jsonfile "$work/bad-start.json" >"$work/bad-start.out" 2>&1
rc=$?
[ "$rc" != 0 ] && [ ! -e "$devs/$u9" ] && [ -e "$devs/$u1" ] && grep -q 'vgpu: ' "$work/bad-start.out"
ok $? "a start with attribute ../../remove is refused by the call-out (exit $rc), nothing created"
show "$work/bad-start.out"

if [ $live_mdevctl = 1 ]; then
	# mdevctl asks every call-out for its capabilities first; ours answers for our types.
	MDEVCTL_LOG=debug mdevctl list --dumpjson -u "$u1" >"$work/list.out" 2>"$work/list.err"
	grep -q 'Script supports versioning' "$work/list.err" &&
		grep -q '"vendor/max_resolution": "800x600"' "$work/list.out"
	ok $? "mdevctl finds our call-out by its capability answer and lists the vGPU's attributes"
	grep -i 'versioning\|capabilit' "$work/list.err" | head -3 | sed 's/^/# /'

	attrs_json vendor/max_resolution 1024x768 >"$work/live.json"
	mdevctl modify -u "$u1" --live --jsonfile "$work/live.json" >"$work/live.out" 2>&1 &&
		[ "$(res "$u1")" = 1024x768 ]
	ok $? "mdevctl modify --live sets vendor/max_resolution=1024x768 on the running vGPU"
	show "$work/live.out"

	attrs_json vendor/no_such_attr 1 >"$work/live-bad.json"
	mdevctl modify -u "$u1" --live --jsonfile "$work/live-bad.json" >"$work/live-bad.out" 2>&1
	rc=$?
	[ "$rc" != 0 ] && grep -q 'vgpu: ' "$work/live-bad.out" && [ "$(res "$u1")" = 1024x768 ]
	ok $? "mdevctl modify --live with an attribute the type lacks fails (exit $rc) in the call-out's words"
	show "$work/live-bad.out"
else
	skip "mdevctl ${mver#mdevctl } asks call-outs no capabilities (needs mdevctl >= 1.3)"
	skip "mdevctl ${mver#mdevctl } has no modify --live (needs mdevctl >= 1.3)"
	skip "mdevctl ${mver#mdevctl } has no modify --live (needs mdevctl >= 1.3)"
fi

if [ $live_virsh = 1 ]; then
	name=mdev_$(echo "$u1" | tr - _)_$(echo "$gpu" | tr :. __)
	for _ in $(seq 100); do
		virsh nodedev-dumpxml "$name" >"$work/nodedev.xml" 2>/dev/null && break
		sleep 0.2
	done
	show "$work/nodedev.xml"
	# The same device with max_resolution 640x480 instead of what it has.
	sed -e "/<attr name='vendor\/max_resolution'/d" \
		-e "s#</capability>#  <attr name='vendor/max_resolution' value='640x480'/>\n    </capability>#" \
		"$work/nodedev.xml" >"$work/nodedev-new.xml"
	virsh nodedev-update "$name" "$work/nodedev-new.xml" --live >"$work/update.out" 2>&1 &&
		[ "$(res "$u1")" = 640x480 ]
	ok $? "virsh nodedev-update --live sets vendor/max_resolution=640x480 on the running vGPU"
	show "$work/update.out"
else
	skip "libvirt $(virsh -v) has no virsh nodedev-update (needs libvirt >= 10.1)"
fi

# Open the vGPU as QEMU does (VFIO container, group, device); the core then keeps its
# attributes as they were at the first open.
group=$(basename "$(readlink "$devs/$u1/iommu_group")")
timeout 120 python3 - "$u1" "$group" >"$work/open.out" 2>&1 <<'PY'
import fcntl, os, struct, sys
uuid, group = sys.argv[1], sys.argv[2]
c = os.open("/dev/vfio/vfio", os.O_RDWR)
g = os.open("/dev/vfio/" + group, os.O_RDWR)
fcntl.ioctl(g, 0x3B68, struct.pack("i", c))      # VFIO_GROUP_SET_CONTAINER
fcntl.ioctl(c, 0x3B66, 3)                        # VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU
d = fcntl.ioctl(g, 0x3B6A, bytearray(uuid.encode() + b"\0"))  # VFIO_GROUP_GET_DEVICE_FD
os.close(d)
PY
rc=$?
ok $rc "the vGPU was opened and closed through VFIO (exit $rc)"
show "$work/open.out"
[ $rc = 0 ] || dmesg | tail -20 | show

if [ $live_mdevctl = 1 ]; then
	attrs_json vendor/max_resolution 800x600 >"$work/live2.json"
	mdevctl modify -u "$u1" --live --jsonfile "$work/live2.json" >"$work/live2.out" 2>&1
	rc=$?
	[ "$rc" != 0 ] && [ "$(grep -c 'vgpu: .*has been opened' "$work/live2.out")" = 1 ] &&
		[ "$(res "$u1")" != 800x600 ]
	ok $? "after an open, mdevctl modify --live is refused (exit $rc) with one line saying what to do"
	show "$work/live2.out"
else
	skip "mdevctl ${mver#mdevctl } has no modify --live (needs mdevctl >= 1.3)"
fi
if [ $live_virsh = 1 ]; then
	sed -e "s#value='640x480'#value='800x600'#" "$work/nodedev-new.xml" >"$work/nodedev-new2.xml"
	virsh nodedev-update "$name" "$work/nodedev-new2.xml" --live >"$work/update2.out" 2>&1
	rc=$?
	[ "$rc" != 0 ] && grep -q 'nodedev-update --config' "$work/update2.out" &&
		[ "$(res "$u1")" = 640x480 ]
	ok $? "after an open, virsh nodedev-update --live is refused (exit $rc), saying what to do"
	show "$work/update2.out"

	# What that line says to do: change the stored definition (the call-out checks it).
	mdevctl define -u "$u1" >"$work/define.out" 2>&1
	for _ in $(seq 50); do
		virsh nodedev-info "$name" 2>/dev/null | grep -q '^Persistent: *yes' && break
		sleep 0.2
	done
	virsh nodedev-update "$name" "$work/nodedev-new2.xml" --config >"$work/update3.out" 2>&1 &&
		mdevctl list --defined --dumpjson -u "$u1" | grep -q '"vendor/max_resolution": "800x600"' &&
		[ "$(res "$u1")" = 640x480 ]
	ok $? "virsh nodedev-update --config stores 800x600 in the vGPU's definition, the running one keeps 640x480"
	show "$work/define.out" "$work/update3.out"
	mdevctl undefine -u "$u1" >/dev/null 2>&1
else
	skip "libvirt $(virsh -v) has no virsh nodedev-update (needs libvirt >= 10.1)"
	skip "libvirt $(virsh -v) has no virsh nodedev-update (needs libvirt >= 10.1)"
fi

mdevctl stop -u "$u1" >/dev/null 2>&1 || echo 1 >"$devs/$u1/remove"
finish
