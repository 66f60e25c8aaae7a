#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Persistent vGPUs that come back by themselves (TAP), across two boots of the lab that share
# their persistent state (mdevctl's definitions, libvirt's domain configuration) through a
# directory of the build tree:
#   boot 1  virsh nodedev-define + nodedev-start + nodedev-autostart, and mdevctl define --auto
#           with a vendor attribute; both vGPUs go with their GPU's unbind and come back with
#           its bind, attributes included; a domain that uses one gets <autostart>
#   boot 2  the GPU's driver binds before udev and libvirtd start, as at a host's boot: both
#           vGPUs are back with their attributes and libvirtd has started the domain
# What makes it work on Debian 12 is our udev rule (libvirt-plugin/mdevctl/60-mdevctl.rules,
# installed by meson install): the packaged one runs a path that does not exist there.
#
#   persistent.sh LAB BUILDDIR            (on the host)
#   persistent.sh --setup STATE BOOT      (inside, as --setup: persistent state and the GPU)
#   persistent.sh --check STATE BOOT      (inside, the checks of that boot)
set -u
gpu=${LAB_GPU:-}
u1=0a3c4a8e-5f3e-4d68-9c1b-2f6a8f5d7e11          # the one in xml-examples/vgpu.xml
u2=88888888-0000-4000-8000-000000000002

if [ "${1:-}" = --setup ]; then
	state=$2 boot=$3
	set -e
	mkdir -p "$state/mdevctl" "$state/qemu" "/etc/mdevctl.d/$gpu"
	[ "$boot" = 1 ] && cp -a /etc/libvirt/qemu/. "$state/qemu/"
	mount --bind "$state/mdevctl" "/etc/mdevctl.d/$gpu"
	mount --bind "$state/qemu" /etc/libvirt/qemu
	# The GPU's driver, as a host's boot binds it: before udev and libvirtd run.
	. "$(dirname "$0")/lib.sh"
	bind_gpu "$gpu"
	exit 0
fi

if [ "${1:-}" = --check ]; then
	state=$2 boot=$3
	n=$([ "$boot" = 1 ] && echo 0 || echo 10)
	tap_prefix="boot $boot: "
	. "$(dirname "$0")/lib.sh"
	attr() { cat "/sys/bus/mdev/devices/$1/vendor/max_resolution" 2>/dev/null; }
	both_back() { # what the attributes must be
		for _ in $(seq 150); do
			[ "$(attr $u1)" = 1280x1024 ] && [ "$(attr $u2)" = 800x600 ] && return 0
			sleep 0.2
		done
		return 1
	}
	work=$state/work
	mkdir -p "$work"
	if [ "$boot" = 1 ]; then
		sed "s|    <!-- Vendor attributes would follow here|    <attr name='vendor/max_resolution' value='1280x1024'/>\n&|" \
			xml-examples/vgpu.xml >"$work/u1.xml"
		nd=mdev_${u1//-/_}_${gpu//[:.]/_}
		virsh nodedev-define "$work/u1.xml" >/dev/null && virsh nodedev-start "$nd" >/dev/null &&
			virsh nodedev-autostart "$nd" >/dev/null && [ "$(attr $u1)" = 1280x1024 ]
		ok $? "virsh nodedev-define, nodedev-start, nodedev-autostart: vGPU $u1 with vendor/max_resolution"
		echo '{"mdev_type": "vgpu_sim-16m", "start": "auto", "attrs": [{"vendor/max_resolution": "800x600"}]}' \
			>"$work/u2.json"
		mdevctl define --uuid "$u2" --parent "$gpu" --jsonfile "$work/u2.json" &&
			mdevctl start --uuid "$u2" && [ "$(attr $u2)" = 800x600 ]
		ok $? "mdevctl define --auto with a vendor attribute, then start: vGPU $u2"
		[ "$(mdevctl list --defined | grep -c auto)" = 2 ]
		ok $? "mdevctl lists both as defined, auto"
		mdevctl list --defined | sed 's/^/# /'
		echo "$gpu" >/sys/bus/pci/drivers/vgpu_sim/unbind
		[ ! -e "/sys/bus/mdev/devices/$u1" ] && [ ! -e "/sys/bus/mdev/devices/$u2" ]
		ok $? "the GPU's driver unbound: both vGPUs are gone"
		echo "$gpu" >/sys/bus/pci/drivers_probe
		both_back
		ok $? "bound again: both are back (udev, our rule, mdevctl), attributes included"
		cat >"$work/keeper.xml" <<XML
<domain type='kvm'>
  <name>keeper</name>
  <uuid>88888888-0000-4000-8000-0000000000aa</uuid>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <hostdev mode='subsystem' type='vgpu'><source><type id='vgpu_sim-32m'/><uuid>$u1</uuid></source></hostdev>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
XML
		vgpuctl define "$work/keeper.xml" >/dev/null && virsh autostart keeper >/dev/null &&
			[ -e /etc/libvirt/qemu/autostart/keeper.xml ]
		ok $? "domain keeper, with the persistent vGPU unmanaged, is defined with <autostart>"
		virsh start --paused keeper >/dev/null && virsh destroy keeper >/dev/null &&
			[ -e "/sys/bus/mdev/devices/$u1" ]
		ok $? "it starts and stops; the unmanaged vGPU stays"
		[ -f "$state/mdevctl/$u1" ] && [ -f "$state/mdevctl/$u2" ] && [ -f "$state/qemu/keeper.xml" ]
		ok $? "the definitions are in the shared persistent state for the next boot"
		# What the host has, not this kernel's page cache: once, on Debian 13's 6.12, a
		# definition reached the host empty (tools/check). Written back, dropped, read again.
		sync && echo 3 >/proc/sys/vm/drop_caches
		[ -s "$state/mdevctl/$u1" ] && [ -s "$state/mdevctl/$u2" ] && [ -s "$state/qemu/keeper.xml" ]
		ok $? "written back and read again from the share, none of them is empty"
		ls -l "$state/mdevctl" "$state/qemu/keeper.xml" | sed 's/^/# /'
		dmesg | grep -a -A3 "open fid" | sed 's/^/# /'
		[ -f /etc/udev/rules.d/60-mdevctl.rules ] && [ ! -e /usr/sbin/mdevctl ]
		ok $? "our udev rule is installed; /usr/sbin/mdevctl, which Debian's rule runs, does not exist"
	else
		both_back
		ok $? "after the reboot both vGPUs are back with their attributes"
		for _ in $(seq 150); do virsh domstate keeper 2>/dev/null | grep -q running && break; sleep 0.2; done
		virsh domstate keeper | grep -q running &&
			virsh dumpxml keeper | grep -q "<address uuid='$u1'/>"
		ok $? "libvirtd started domain keeper by itself, on vGPU $u1"
		virsh destroy keeper >/dev/null && [ -e "/sys/bus/mdev/devices/$u1" ]
		ok $? "stopping it leaves the persistent vGPU"
	fi
	[ "$failed" = 0 ]
	exit
fi

# On the host: two boots over one persistent state.
lab=$1 builddir=$(readlink -f "$2")
state=$builddir/tests/kmod/e2e/persistent-state
rm -rf "$state" && mkdir -p "$state"
me=$(readlink -f "$0")
echo "1..13"
status=0
for boot in 1 2; do
	"$lab" run --builddir "$builddir" --libvirt --nested --memory 3072 --timeout 600 --rw "$state" \
		--install --setup "'$me' --setup '$state' $boot" \
		-- "$me" --check "$state" "$boot" || status=1
done
exit $status
