# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the end-to-end scripts that run inside the lab: TAP bookkeeping, virsh on the
# system connection, and handing an emulated GPU to vgpu_sim.
n=${n:-0}
failed=0
virsh() { command virsh -q -c qemu:///system "$@"; }
ok() { # status description   ($tap_prefix, if set, starts every description)
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - ${tap_prefix:-}$2"
	else
		echo "not ok $n - ${tap_prefix:-}$2"
		failed=$((failed + 1))
	fi
}
bail() { echo "Bail out! $*"; exit 1; }
show() { sed 's/^/# /' "$@"; }
bind_gpu() { # PCI address of an emulated GPU
	echo vgpu_sim >"/sys/bus/pci/devices/$1/driver_override"
	echo "$1" >/sys/bus/pci/drivers_probe
}
guest_os() { # initramfs: a domain's <os>, booting the world's stock kernel with that initramfs
	# (LAB_INNER_*: on the debug kernel too, which is slower and has no uio_pci_generic)
	cat <<XML
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${LAB_INNER_CACHE:-$LAB_CACHE}/vmlinux-${LAB_INNER_ABI:-$LAB_ABI}</kernel>
    <initrd>$1</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet</cmdline>
  </os>
XML
}
mdevs() { ls /sys/bus/mdev/devices | sort | tr '\n' ' '; }
finish() { # the plan's closing line; exit status 0 when nothing failed
	echo "# $failed of $n failed"
	[ "$failed" = 0 ]
}

# One TAP SKIP line and the exit, unless the lab's QEMU drives VFIO migration v2 with KVM.
mig_require() {
	local v
	v=$(qemu-system-x86_64 --version | sed -n '1s/.*version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
	if [ "${v% *}" -lt 8 ]; then
		echo "1..0 # SKIP QEMU ${v/ /.} cannot drive VFIO migration v2 (QEMU >= 8.0 does: the Debian 13 world)"
		exit 0
	fi
	[ -e /dev/kvm ] || { echo "1..0 # SKIP no /dev/kvm (run the lab with --nested)"; exit 0; }
}
# The migration guest (sim/guest/mig.c), which prints its checks on a serial console written
# to the file $console: its ticks, its failures, and waiting for a tick.
ticks() { sed -n 's/^MIG-TICK \([0-9]*\) .*/\1/p' "$console" 2>/dev/null | tr -d '\r'; }
last_tick() { ticks | tail -1; }
fails() { grep -a "MIG-FAIL" "$console" 2>/dev/null; }
wait_tick() { # N SECONDS: the guest printed a tick >= N, or failed
	for _ in $(seq $(($2 * 2))); do
		[ "$(last_tick)" -ge "$1" ] 2>/dev/null && return 0
		[ -n "$(fails)" ] && return 1
		sleep 0.5
	done
	return 1
}
mig_setup() { # $work made afresh, vgpu_sim on $gpu, the hook there, $work/guest.cpio built
	rm -rf "$work" && mkdir -p "$work"
	bind_gpu "$gpu"
	udevadm settle
	[ -d "$types/$vtype" ] || bail "vgpu_sim did not take $gpu"
	[ -x /etc/libvirt/hooks/qemu.d/vgpu ] || bail "the hook is not installed (run with tools/lab's --install)"
	mig_guest_image "$work/guest.cpio" "$init" "$mig" || bail "no guest image"
}
mig_nothing_lost() { # the check that the guest reported no failure, and its first and last tick
	[ -z "$(fails)" ]
	ok $? "the guest found nothing lost"
	fails | sed 's/^/# /'
	# The guest polls for completions; INTx after migration is a known bug (kernel/README.md).
	grep -a "MIG-TICK" "$console" | sed -n '1p;$p' | sed 's/^/# /'
}
fill_type() { # every free instance of $vtype taken, by unmanaged vGPUs listed in $fill
	fill=()
	local u
	while [ "$(cat "$types/$vtype/available_instances")" -gt 0 ]; do
		u=$(cat /proc/sys/kernel/random/uuid)
		echo "$u" >"$types/$vtype/create" || break
		fill+=("$u")
	done
}
unfill_type() {
	local u
	for u in "${fill[@]}"; do echo 1 >"/sys/bus/mdev/devices/$u/remove"; done
}
mig_guest_image() { # CPIO INIT MIG: its initramfs
	python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import innerguest
innerguest.build_initramfs(sys.argv[2], sys.argv[3], programs=[(sys.argv[4], "mig")],
                           modules=[("uio", "uio_pci_generic")])' \
		"$(dirname "${BASH_SOURCE[0]}")/../harness" "$@"
}
# mig_domain NAME UUID TYPE CPIO [OVERRIDE]: a dialect domain running it on a managed vGPU of
# TYPE; with OVERRIDE, enable-migration=on on its vfio-pci device (a <qemu:override>: libvirt
# 11.3 has no element for it)
mig_domain() {
	cat <<XML
<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$1</name>
  <uuid>$2</uuid>
  <memory unit='MiB'>192</memory>
  <vcpu>1</vcpu>
$(guest_os "$4")
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <serial type='file'><source path='$console' append='on'/></serial>
    <hostdev mode='subsystem' type='vgpu' managed='yes'>
      <source><type id='$3'/></source>
      <alias name='ua-vgpu0'/>
    </hostdev>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
XML
	[ $# = 5 ] && cat <<XML
  <qemu:override>
    <qemu:device alias='ua-vgpu0'>
      <qemu:frontend>
        <qemu:property name='enable-migration' type='string' value='on'/>
      </qemu:frontend>
    </qemu:device>
  </qemu:override>
XML
	echo "</domain>"
}
# bounded_job DOMAIN OUT COMMAND...: a migration-like COMMAND on DOMAIN in the background,
# output to OUT, its job polled and aborted after 5 min; OUT and the time taken said; the status
bounded_job() {
	local dom=$1 out=$2 t0 pid rc
	shift 2
	t0=$(date +%s)
	"$@" >"$out" 2>&1 &
	pid=$!
	while kill -0 $pid 2>/dev/null; do
		if [ $(($(date +%s) - t0)) -ge 300 ]; then
			echo "# not done in 300 s; the domain's job:"
			virsh domjobinfo "$dom" | sed 's/^/#   /'
			virsh domjobabort "$dom" >/dev/null 2>&1
		fi
		sleep 2
	done
	wait $pid
	rc=$?
	show "$out"
	echo "# done in $(($(date +%s) - t0)) s"
	return $rc
}
