#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# In the lab (--libvirt --nested, our build installed by --install): a running domain gains and
# loses vGPUs live, and its guest sees them come and go (PCI hotplug on the 'pc' machine's
# root bus, which QEMU handles with ACPI):
#   - a native mdev hostdev with virsh attach-device/detach-device --live (an unmanaged vGPU
#     made with virsh nodedev-create, which stays)
#   - a dialect hostdev with vgpuctl attach-device/detach-device --live: the managed vGPU is
#     created for the domain first and removed after the guest let go
#   - a live attach that libvirt refuses leaves neither a vGPU nor a metadata entry
#   - bad input gets one line: --live on a domain that is not running, a type the GPU lacks
#
#   hotplug.sh BUILDDIR        (TAP)
set -u
builddir=$(readlink -f "$1")
work=$builddir/tests/kmod/e2e/hotplug
gpu=${LAB_GPU:?run me inside the lab}
uuid=0a3c4a8e-5f3e-4d68-9c1b-2f6a8f5d7e11          # the one in xml-examples/vgpu.xml
nodedev=mdev_${uuid//-/_}_${gpu//[:.]/_}
. "$(dirname "$0")/lib.sh"
# On the lab's own /run, copied into $work at the end: QEMU writes the log a byte at a time,
# and in the 9p-shared build directory it read back with holes of NUL bytes under load.
console=/run/vgpu-hotplug-console.log
rm -f "$console"
trap 'cp "$console" "$work/console.log" 2>/dev/null' EXIT
# wait_console PATTERN: the guest printed PATTERN (at most 60 s). A guest that stopped as a
# whole meanwhile ends the test with 124, a lab hang's, which its meson test retries once.
wait_console() {
	local rc=0
	tools/lab-guest-image --wait hotplug: "$console" "$1" 60 hp || rc=$?
	[ "$rc" != 124 ] || exit 124
	return "$rc"
}
count_console() { grep -ac -- "$1" "$console" 2>/dev/null; }

echo "1..14"
rm -rf "$work" && mkdir -p "$work"
bind_gpu "$gpu"
udevadm settle
tools/lab-guest-image --watch "$work/guest.cpio" || bail "no guest image"

cat >"$work/hp.xml" <<XML
<domain type='kvm'>
  <name>hp</name>
  <uuid>66666666-0000-4000-8000-0000000000aa</uuid>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
$(guest_os "$work/guest.cpio")
  <!-- ACPI: the 'pc' machine's root bus hotplugs through it (without it QEMU answers "Bus
       'pci.0' does not support hotplugging"). -->
  <features><acpi/><apic/></features>
  <devices>
    <serial type='file'><source path='$console'/></serial>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
XML
cat >"$work/managed.xml" <<XML
<hostdev mode='subsystem' type='vgpu' managed='yes'>
  <source><type id='vgpu_sim-16m'/><attr name='vendor/max_resolution' value='1024x768'/></source>
</hostdev>
XML

# Bad input first, on a domain that is defined but not running.
vgpuctl define "$work/hp.xml" >/dev/null
out=$(vgpuctl attach-device --live hp "$work/managed.xml" 2>&1)
rc=$?
sed 's/^/# /' <<<"$out"
[ $rc = 1 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q "^vgpuctl: Domain hp is not running" <<<"$out"
ok $? "vgpuctl attach-device --live on a stopped domain: one line, nothing done"
sed "s/vgpu_sim-16m/vgpu_sim-1g/" "$work/managed.xml" >"$work/badtype.xml"
virsh start hp >/dev/null || bail "domain hp does not start"
wait_console "guest: watching" || bail "the guest did not come up: $(tail -5 "$console")"
before=$(mdevs)
out=$(vgpuctl attach-device --live hp "$work/badtype.xml" 2>&1)
rc=$?
sed 's/^/# /' <<<"$out"
[ $rc = 1 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q "vgpu_sim-1g" <<<"$out" && [ "$(mdevs)" = "$before" ]
ok $? "a type no GPU offers: one line naming it, no vGPU made"

# 1. The native path: virsh and an unmanaged vGPU.
virsh nodedev-create xml-examples/vgpu.xml >/dev/null && [ -e "/sys/bus/mdev/devices/$uuid/driver" ]
ok $? "vGPU $uuid made with virsh nodedev-create"
cat >"$work/native.xml" <<XML
<hostdev mode='subsystem' type='mdev' model='vfio-pci'>
  <source><address uuid='$uuid'/></source>
</hostdev>
XML
virsh attach-device hp "$work/native.xml" --live >"$work/attach.out" 2>&1 &&
	wait_console "guest: added .* 0x1234:0x1111"
ok $? "virsh attach-device --live: the guest sees a 1234:1111 device appear"
grep -a "guest: added" "$console" | sed 's/^/# /'
virsh detach-device hp "$work/native.xml" --live >"$work/detach.out" 2>&1 &&
	wait_console "guest: removed"
ok $? "virsh detach-device --live: the guest sees it go"
for _ in $(seq 100); do virsh dumpxml hp | grep -q "$uuid" || break; sleep 0.2; done
! virsh dumpxml hp | grep -q "$uuid" && [ -e "/sys/bus/mdev/devices/$uuid/driver" ]
ok $? "the unmanaged vGPU stays after the detach"
virsh nodedev-destroy "$nodedev" >/dev/null

# 2. Our dialect through vgpuctl: a managed vGPU, created for the domain.
before=$(mdevs)
vgpuctl attach-device --live hp "$work/managed.xml" >"$work/vattach.out" 2>&1
ok $? "vgpuctl attach-device --live of a managed dialect hostdev"
show "$work/vattach.out"
muuid=$(sed -n 's/^vGPU \([0-9a-f-]*\) (type .*/\1/p' "$work/vattach.out")
[ -n "$muuid" ] && [ "$(cat "/sys/bus/mdev/devices/$muuid/vendor/max_resolution" 2>/dev/null)" = 1024x768 ] &&
	vgpuctl list | grep -q "^$muuid .* hp  *managed$" &&
	virsh metadata hp https://gitlab.com/vgpu/xmlns/vgpu/1.0 --live | grep -q "$muuid"
ok $? "vGPU $muuid exists with its attribute, owned by hp, in the live metadata"
for _ in $(seq 300); do [ "$(count_console "guest: added")" = 2 ] && break; sleep 0.2; done
[ "$(count_console "guest: added")" = 2 ]
ok $? "the guest sees the new vGPU appear"
vgpuctl detach-device --live hp "$work/managed.xml" >"$work/vdetach.out" 2>&1
rc=$?
show "$work/vdetach.out"
[ $rc = 0 ] && [ "$(count_console "guest: removed")" = 2 ]
ok $? "vgpuctl detach-device --live: the guest lets it go"
[ ! -e "/sys/bus/mdev/devices/$muuid" ] && [ "$(mdevs)" = "$before" ] &&
	! virsh metadata hp https://gitlab.com/vgpu/xmlns/vgpu/1.0 --live 2>/dev/null | grep -q "$muuid"
ok $? "the managed vGPU is removed and its metadata entry gone"

# 3. libvirt refuses the device midway (a guest address that is taken): nothing stays behind.
sed "s|</source>|</source><address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>|" \
	"$work/managed.xml" >"$work/taken.xml"
before=$(mdevs)
out=$(vgpuctl attach-device --live hp "$work/taken.xml" 2>&1)
rc=$?
sed 's/^/# /' <<<"$out"
[ $rc = 1 ] && grep -q "was removed again" <<<"$out"
ok $? "a live attach libvirt refuses fails with one line, undoing the vGPU"
[ "$(mdevs)" = "$before" ] &&
	! virsh metadata hp https://gitlab.com/vgpu/xmlns/vgpu/1.0 --live 2>/dev/null | grep -q uuid
ok $? "neither a vGPU nor a metadata entry is left behind"

virsh destroy hp >/dev/null
[ "$(mdevs)" = "" ]
ok $? "after the domain stops no vGPU is left"
virsh undefine hp >/dev/null
finish
