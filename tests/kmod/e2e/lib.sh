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
guest_os() { # initramfs: a domain's <os>, booting the lab's own kernel with that initramfs
	cat <<XML
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$LAB_CACHE/vmlinux-$LAB_ABI</kernel>
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
