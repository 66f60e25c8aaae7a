#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Figure 11, inside the lab (--libvirt --nested, our build installed by --setup so libvirtd
# found the hook): `virsh start --paused` of a domain whose vGPU is managed (the hook creates
# it at prepare) against the same domain with the vGPU created beforehand (managed='no', the
# hook only checks it). The two alternate; destroy is not timed. One JSON line a run.
#
#   virsh-start.sh RUNS WORKDIR
set -euo pipefail
runs=$1
work=$2
gpu=${LAB_GPU:?run me inside the lab}
types=/sys/class/mdev_bus/$gpu/mdev_supported_types
virsh() { command virsh -q -c qemu:///system "$@"; }
die() { echo "virsh-start.sh: $*" >&2; exit 1; }
now() { date +%s%N; }

mkdir -p "$work"
echo vgpu_sim >"/sys/bus/pci/devices/$gpu/driver_override"
echo "$gpu" >/sys/bus/pci/drivers_probe
[ -d "$types/vgpu_sim-32m" ] || die "vgpu_sim did not take $gpu"
[ -x /etc/libvirt/hooks/qemu.d/vgpu ] || die "the hook is not installed (tools/lab's --install)"

domain() { # name uuid managed [vgpu-uuid]
	cat <<XML
<domain type='kvm'>
  <name>$1</name>
  <uuid>$2</uuid>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$LAB_CACHE/vmlinux-$LAB_ABI</kernel>
  </os>
  <devices>
    <hostdev mode='subsystem' type='vgpu' managed='$3'>
      <source>
        <parent address='$gpu'/>
        <type id='vgpu_sim-32m'/>
        ${4:+<uuid>$4</uuid>}
      </source>
    </hostdev>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}

pre=$(cat /proc/sys/kernel/random/uuid)
echo "$pre" >"$types/vgpu_sim-32m/create"
domain bench-managed 5b0c8f3e-1d2a-4e6b-9c7d-0e1f2a3b4c5d yes >"$work/managed.xml"
domain bench-pre 7d2e9a4b-3c5f-4a8e-b1d6-2f3a4b5c6d7e no "$pre" >"$work/pre.xml"
vgpuctl define "$work/managed.xml" >/dev/null || die "vgpuctl define of the managed domain failed"
vgpuctl define "$work/pre.xml" >/dev/null || die "vgpuctl define of the pre-created domain failed"

start() { # domain -> ns
	local t0 t1
	t0=$(now)
	virsh start --paused "$1" >"$work/start.out" 2>&1 || { cat "$work/start.out" >&2; die "virsh start $1 failed"; }
	t1=$(now)
	virsh destroy "$1" >/dev/null || die "virsh destroy $1 failed"
	echo $((t1 - t0))
}

# once each unmeasured: QEMU's first start pays for loading its binary and modules
start bench-managed >/dev/null
start bench-pre >/dev/null
for r in $(seq 0 $((runs - 1))); do
	ours=$(start bench-managed)
	ref=$(start bench-pre)
	printf '{"fig":"11","run":%d,"unit":"ns","ours":%d,"ref":%d}\n' "$r" "$ours" "$ref"
done
virsh undefine bench-managed >/dev/null
virsh undefine bench-pre >/dev/null
echo 1 >"/sys/bus/mdev/devices/$pre/remove"
