#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# In the lab (--libvirt --nested, with our build installed by --install so libvirtd found our
# hook): a domain with a managed vGPU, defined by vgpuctl from the hostdev dialect, started
# and destroyed with virsh. The hook creates the vGPU at start and removes it at stop; with no
# free instance the start is refused with the hook's one line and nothing is left behind.
#
#   managed-vgpu.sh BUILDDIR        (TAP)
set -u
builddir=$(readlink -f "$1")
work=$builddir/tests/kmod/e2e/work
gpu=${LAB_GPU:?run me inside the lab}
types=/sys/class/mdev_bus/$gpu/mdev_supported_types
. "$(dirname "$0")/lib.sh"

echo "1..9"
rm -rf "$work" && mkdir -p "$work"
bind_gpu "$gpu"
[ -d "$types/vgpu_sim-32m" ] || bail "vgpu_sim did not take $gpu"
[ -x /etc/libvirt/hooks/qemu.d/vgpu ] || bail "the hook is not installed (run with tools/lab's --install)"
tools/lab-guest-image "$work/guest.cpio" || bail "no guest image"

domain() { # name uuid type
	cat <<XML
<domain type='kvm'>
  <name>$1</name>
  <uuid>$2</uuid>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
$(guest_os "$work/guest.cpio")
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <serial type='file'><source path='$work/$1.log'/></serial>
    <hostdev mode='subsystem' type='vgpu' managed='yes'>
      <source>
        <parent address='$gpu'/>
        <type id='$3'/>
      </source>
    </hostdev>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}

free_before=$(cat "$types/vgpu_sim-32m/available_instances")
domain e2e-managed 6f1d4f0c-3a7e-4f0e-8d8e-2b3c4d5e6f70 vgpu_sim-32m >"$work/managed.xml"
vgpuctl define "$work/managed.xml" >"$work/define.out" 2>&1
ok $? "vgpuctl define of a domain with a managed vGPU"
uuid=$(virsh dumpxml e2e-managed | sed -n "s/.*<address uuid='\([0-9a-f-]*\)'.*/\1/p" | head -1)
[ -n "$uuid" ] && [ ! -e "/sys/bus/mdev/devices/$uuid" ]
ok $? "the native definition names vGPU '$uuid', which does not exist before the start"

virsh start e2e-managed >"$work/start.out" 2>&1
ok $? "virsh start (the hook creates the vGPU)"
[ "$(basename "$(readlink "/sys/bus/mdev/devices/$uuid/mdev_type" 2>/dev/null)")" = vgpu_sim-32m ] &&
	[ -e "/sys/bus/mdev/devices/$uuid/driver" ]
ok $? "vGPU $uuid exists, of type vgpu_sim-32m, bound to its driver"
for _ in $(seq 120); do
	grep -q 'guest: done' "$work/e2e-managed.log" 2>/dev/null && break
	sleep 1
done
grep -q 'guest: vGPU at .*0x1234:0x1111' "$work/e2e-managed.log" 2>/dev/null
ok $? "the VM sees its vGPU"
sed -n 's/^/# /p' "$work/e2e-managed.log" 2>/dev/null | grep guest: || true

virsh domstate e2e-managed | grep -q 'shut off' || virsh destroy e2e-managed >/dev/null
for _ in $(seq 50); do
	[ -e "/sys/bus/mdev/devices/$uuid" ] || break
	sleep 0.2
done
[ ! -e "/sys/bus/mdev/devices/$uuid" ] && [ "$(cat "$types/vgpu_sim-32m/available_instances")" = "$free_before" ]
ok $? "after the stop the hook removed the vGPU; $free_before instances free again"

# No free instance: take both 128m slots, then a start asking for one more is refused.
a=$(cat /proc/sys/kernel/random/uuid) b=$(cat /proc/sys/kernel/random/uuid)
echo "$a" >"$types/vgpu_sim-128m/create" && echo "$b" >"$types/vgpu_sim-128m/create"
domain e2e-full 0b7d2c4e-9a1f-4c3d-8e5f-6a7b8c9d0e1f vgpu_sim-128m >"$work/full.xml"
vgpuctl define "$work/full.xml" >/dev/null 2>&1
before=$(ls /sys/bus/mdev/devices | sort | tr '\n' ' ')
virsh start e2e-full >"$work/full.out" 2>&1
rc=$?
sed 's/^/# /' "$work/full.out"
[ "$rc" != 0 ] && grep -q 'vgpu hook:' "$work/full.out"
ok $? "with no free instance, virsh start is refused with the hook's message"
[ "$(ls /sys/bus/mdev/devices | sort | tr '\n' ' ')" = "$before" ] && virsh domstate e2e-full | grep -q 'shut off'
ok $? "the refused start left no vGPU behind and the domain shut off"
echo 1 >"/sys/bus/mdev/devices/$a/remove"
echo 1 >"/sys/bus/mdev/devices/$b/remove"
virsh start e2e-full >/dev/null 2>&1 && virsh destroy e2e-full >/dev/null 2>&1
ok $? "once instances are free again, the same domain starts"

virsh undefine e2e-managed >/dev/null 2>&1
virsh undefine e2e-full >/dev/null 2>&1
finish
