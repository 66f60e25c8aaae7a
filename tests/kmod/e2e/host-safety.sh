#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# In the lab as a stock Debian host (--libvirt with Debian's AppArmor profiles enforced,
# --gpus 2 --gpu-vram 128, our build installed by --install): libvirt drives the hook the way it
# really does, and the hook touches no vGPU that is not its domain's.
#
#   - two domains with no <parent> start at the same moment on two GPUs with one free
#     instance each: both start
#   - a copy of a running domain (dumpxml, new name and UUID, define) is refused with the owner
#     named; libvirt's release after that refusal leaves the original's vGPU alone
#   - a managed vGPU that exists without being the domain's (of another type too) is refused
#     and survives the failed start; an unmanaged one of the wrong type is refused
#   - attribute names that escape the vendor/ group are refused and write nothing
#   - a hostdev removed with virsh detach-device --config leaves an orphan entry: the domain
#     starts and nothing is created for it
#   - libvirtd restarts under a running domain: the domain and its vGPU survive
#   - no AppArmor denial on the way
#
#   host-safety.sh BUILDDIR        (TAP)
set -u
builddir=$(readlink -f "$1")
work=$builddir/tests/kmod/e2e/safety
read -r -a gpus <<<"${LAB_GPUS:?run me inside the lab}"
. "$(dirname "$0")/lib.sh"
parent_of() { basename "$(dirname "$(dirname "$(readlink -f "/sys/bus/mdev/devices/$1/mdev_type")")")"; }

echo "1..24"
rm -rf "$work" && mkdir -p "$work"
[ ${#gpus[@]} -ge 2 ] || bail "run me with --gpus 2"
for g in "${gpus[@]}"; do
	bind_gpu "$g"
	[ -d "/sys/class/mdev_bus/$g/mdev_supported_types/vgpu_sim-128m" ] ||
		bail "vgpu_sim did not take $g (128 MiB of VRAM wanted)"
done
[ -x /etc/libvirt/hooks/qemu.d/vgpu ] && [ ! -L /etc/libvirt/hooks/qemu.d/vgpu ] ||
	bail "the hook program is not installed in /etc/libvirt/hooks/qemu.d (run with tools/lab's --install)"

[ "${LAB_APPARMOR:-0}" = 1 ] && grep -q '(enforce)' "/proc/$(pidof libvirtd)/attr/current"
ok $? "libvirtd runs confined by Debian's AppArmor profile ($(cat "/proc/$(pidof libvirtd)/attr/current"))"

# domain NAME UUID HOSTDEVS...: a paused KVM domain is enough, QEMU opens its vGPUs.
domain() {
	local name=$1 uuid=$2
	shift 2
	cat <<XML
<domain type='kvm'>
  <name>$name</name>
  <uuid>$uuid</uuid>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
$(printf '    %s\n' "$@")
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}
managed() { # type [uuid] [parent]
	echo "<hostdev mode='subsystem' type='vgpu' managed='yes'><source>${3:+<parent address='$3'/>}<type id='$1'/>${2:+<uuid>$2</uuid>}</source></hostdev>"
}
define() { # name uuid hostdev...
	domain "$@" >"$work/$1.xml" && vgpuctl define "$work/$1.xml" >"$work/$1.define" 2>&1 ||
		{ show "$work/$1.define"; return 1; }
}
uuid_of() { virsh dumpxml "$1" | sed -n "s/.*<address uuid='\([0-9a-f-]*\)'.*/\1/p" | head -1; }

# 1. Two starts at the same moment, no <parent>, one free 128m instance on each GPU.
define c1 11111111-0000-4000-8000-000000000001 "$(managed vgpu_sim-128m)" &&
	define c2 11111111-0000-4000-8000-000000000002 "$(managed vgpu_sim-128m)"
ok $? "two domains with a managed vgpu_sim-128m and no parent defined"
virsh start --paused c1 >"$work/c1.out" 2>&1 &
p1=$!
virsh start --paused c2 >"$work/c2.out" 2>&1 &
p2=$!
wait $p1
r1=$?
wait $p2
r2=$?
[ $r1 = 0 ] && [ $r2 = 0 ]
ok $? "both start at the same moment"
[ $r1 = 0 ] && [ $r2 = 0 ] || show "$work/c1.out" "$work/c2.out"
u1=$(uuid_of c1) u2=$(uuid_of c2)
[ -e "/sys/bus/mdev/devices/$u1" ] && [ -e "/sys/bus/mdev/devices/$u2" ] &&
	[ "$(parent_of "$u1")" != "$(parent_of "$u2")" ]
ok $? "their vGPUs are on different GPUs ($(parent_of "$u1") and $(parent_of "$u2"))"
virsh destroy c1 >/dev/null && virsh destroy c2 >/dev/null
[ ! -e "/sys/bus/mdev/devices/$u1" ] && [ ! -e "/sys/bus/mdev/devices/$u2" ]
ok $? "destroying them removes both vGPUs"

# 2. A copy of a running domain keeps its vGPU's UUID.
orig_vgpu=22222222-0000-4000-8000-000000000001
define orig 22222222-0000-4000-8000-0000000000aa "$(managed vgpu_sim-64m $orig_vgpu "${gpus[0]}")" &&
	virsh start --paused orig >"$work/orig.out" 2>&1
ok $? "domain orig starts with its managed vGPU $orig_vgpu"
vgpuctl list >"$work/list.out" 2>&1
grep -q "^$orig_vgpu .* orig  *managed$" "$work/list.out"
ok $? "vgpuctl list shows it owned by orig, managed"
show "$work/list.out"
virsh dumpxml --inactive orig |
	sed -e 's|<name>orig</name>|<name>copy</name>|' \
		-e 's|<uuid>22222222-0000-4000-8000-0000000000aa</uuid>|<uuid>22222222-0000-4000-8000-0000000000bb</uuid>|' \
		>"$work/copy.xml"
virsh define "$work/copy.xml" >/dev/null
before=$(mdevs)
virsh start --paused copy >"$work/copy.out" 2>&1
rc=$?
show "$work/copy.out"
[ $rc != 0 ] && grep -q "vgpu hook: vGPU $orig_vgpu belongs to domain orig" "$work/copy.out"
ok $? "the copy's start is refused, naming the owner"
[ "$(mdevs)" = "$before" ] && [ -e "/sys/bus/mdev/devices/$orig_vgpu/driver" ] &&
	virsh domstate orig | grep -q paused && virsh domstate copy | grep -q 'shut off'
ok $? "after libvirt's release of the copy, orig still runs with its vGPU"

# 3. Managed vGPUs that exist without being the domain's own; an unmanaged one of the wrong type.
stray=33333333-0000-4000-8000-000000000001
vgpuctl create --type vgpu_sim-16m --uuid "$stray" --parent "${gpus[1]}" >/dev/null 2>&1
for t in vgpu_sim-16m vgpu_sim-32m; do
	define "stray-$t" 33333333-0000-4000-8000-0000000000${t:9:2} "$(managed $t $stray)"
	virsh start --paused "stray-$t" >"$work/stray-$t.out" 2>&1
	rc=$?
	show "$work/stray-$t.out"
	[ $rc != 0 ] && grep -q "vgpu hook: vGPU $stray exists but was not created for domain stray-$t" \
		"$work/stray-$t.out" && [ -e "/sys/bus/mdev/devices/$stray/driver" ]
	ok $? "a managed $t hostdev naming an administrator's vGPU is refused; the vGPU survives"
done
define unmanaged-32 33333333-0000-4000-8000-0000000000cc \
	"<hostdev mode='subsystem' type='vgpu'><source><type id='vgpu_sim-32m'/><uuid>$stray</uuid></source></hostdev>"
virsh start --paused unmanaged-32 >"$work/unmanaged.out" 2>&1
rc=$?
[ $rc != 0 ] && grep -q "vgpu hook: vGPU $stray exists with type vgpu_sim-16m" "$work/unmanaged.out" &&
	[ -e "/sys/bus/mdev/devices/$stray" ]
ok $? "an unmanaged hostdev of the wrong type is refused; the vGPU survives"

# 4. Attribute names that reach outside vendor/, straight in the native XML libvirt stores.
escape_vgpu=44444444-0000-4000-8000-000000000001
intruder=44444444-0000-4000-8000-0000000000ff
autoprobe=$(cat /sys/bus/mdev/drivers_autoprobe)
for name in mdev_type/create subsystem/drivers_autoprobe driver/unbind remove uevent power/control; do
	value=$intruder
	[ "$name" = subsystem/drivers_autoprobe ] && value=0
	cat >"$work/escape.xml" <<XML
<domain type='kvm'>
  <name>escape</name>
  <uuid>44444444-0000-4000-8000-0000000000aa</uuid>
  <metadata>
    <vgpu:devices xmlns:vgpu='https://gitlab.com/vgpu/xmlns/vgpu/1.0'>
      <vgpu:device uuid='$escape_vgpu' type='vgpu_sim-16m' managed='yes'>
        <vgpu:attr name='$name' value='$value'/>
      </vgpu:device>
    </vgpu:devices>
  </metadata>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <hostdev mode='subsystem' type='mdev' model='vfio-pci'><source><address uuid='$escape_vgpu'/></source></hostdev>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
XML
	virsh define "$work/escape.xml" >/dev/null && ! virsh start --paused escape >"$work/escape.out" 2>&1 &&
		grep -q "vgpu hook: .*Invalid attribute name '$name'" "$work/escape.out"
	ok $? "attribute '$name' in the metadata: the start is refused by the hook"
done
[ ! -e "/sys/bus/mdev/devices/$intruder" ] && [ ! -e "/sys/bus/mdev/devices/$escape_vgpu" ] &&
	[ "$(cat /sys/bus/mdev/drivers_autoprobe)" = "$autoprobe" ]
ok $? "nothing was written: no vGPU $intruder, none for the domain, mdev drivers_autoprobe still $autoprobe"
virsh undefine escape >/dev/null

# 5. The native hostdev detached with --config: its metadata entry stays, nothing is made for it.
define orphan 55555555-0000-4000-8000-0000000000aa "$(managed vgpu_sim-16m)"
ouuid=$(uuid_of orphan)
virsh dumpxml orphan | sed -n '/<hostdev/,/<\/hostdev>/p' >"$work/orphan-hostdev.xml"
virsh detach-device orphan "$work/orphan-hostdev.xml" --config >/dev/null &&
	vgpuctl orphans orphan | grep -q "^$ouuid .* config$"
ok $? "virsh detach-device --config leaves an orphan entry, which vgpuctl orphans reports"
before=$(mdevs)
virsh start --paused orphan >"$work/orphan.out" 2>&1 && [ "$(mdevs)" = "$before" ]
ok $? "the domain starts and no vGPU is created for the orphan"
show "$work/orphan.out"
virsh destroy orphan >/dev/null 2>&1

# 6. libvirtd restarts while orig runs (libvirt runs "reconnect begin" for it), as
# `systemctl restart libvirtd` does it: SIGTERM to the main process only (KillMode=process),
# the new one started once the old has exited, which may take up to the stop timeout (90 s,
# systemd's default; Debian's unit sets none). Polling pidof for 10 s was not that: on Debian
# 13 the new libvirtd once started while the old one still held its pidfile, and failed.
old_pid=$(pidof libvirtd)
t0=$SECONDS
kill -TERM "$old_pid"
for _ in $(seq 900); do kill -0 "$old_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$old_pid" 2>/dev/null; then
	echo "# libvirtd $old_pid still runs 90 s after SIGTERM"
else
	echo "# libvirtd $old_pid exited after SIGTERM in about $((SECONDS - t0)) s"
fi
libvirtd -d
for _ in $(seq 300); do virsh uri >/dev/null 2>&1 && break; sleep 0.2; done
virsh domstate orig | grep -q paused && [ -e "/sys/bus/mdev/devices/$orig_vgpu/driver" ]
ok $? "after a libvirtd restart orig is still there with its vGPU"

# 7. orig's own stop removes its vGPU and nothing else.
virsh destroy orig >/dev/null
[ ! -e "/sys/bus/mdev/devices/$orig_vgpu" ] && [ -e "/sys/bus/mdev/devices/$stray" ]
ok $? "stopping orig removes its vGPU; the administrator's vGPU stays"

denials=$(dmesg | grep -c 'apparmor="DENIED"')
[ "$denials" = 0 ]
ok $? "no AppArmor denial ($denials)"
dmesg | grep 'apparmor="DENIED"' | head -5 | sed 's/^/# /'

for d in c1 c2 orig copy stray-vgpu_sim-16m stray-vgpu_sim-32m unmanaged-32 orphan; do
	virsh undefine "$d" >/dev/null 2>&1
done
finish
