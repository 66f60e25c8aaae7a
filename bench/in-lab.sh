#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs inside the lab (tools/bench starts it): loads the kernel's mdev samples next to our
# modules, hands every lab GPU to vgpu_sim, writes the versions and the machine, then runs the
# benchmark client, whose JSON lines go to stdout.
#
#   in-lab.sh REFDIR VGPU_BENCH [VGPU_BENCH ARGS...]
set -euo pipefail
refdir=$1
shift

die() { echo "in-lab.sh: $*" >&2; exit 1; }

# mbochs exports dma-bufs; mtty and mdpy need nothing beyond vfio and mdev, loaded by the lab.
for m in mtty mbochs mdpy; do
	[ -d "/sys/module/$m" ] && continue
	for d in $(modinfo -F depends "$refdir/$m.ko" | tr ',' ' '); do
		modprobe "$d" || die "modprobe $d (needed by $m) failed"
	done
	insmod "$refdir/$m.ko" || die "insmod $refdir/$m.ko failed"
done
[ -d /sys/module/vgpu_sim ] || die "vgpu_sim is not loaded: build the project first (meson compile)"
for gpu in $LAB_GPUS; do
	echo vgpu_sim >"/sys/bus/pci/devices/$gpu/driver_override"
	echo "$gpu" >/sys/bus/pci/drivers_probe 2>/dev/null || true
	[ -d "/sys/class/mdev_bus/$gpu" ] || die "vgpu_sim did not take the GPU $gpu"
done

# What ran where, for the report.
printf '{"meta":{"kernel":"%s","cpu":"%s","cpus":%s,"memory_kb":%s,"gpus":"%s","qemu_guest":"%s"}}\n' \
	"$(uname -r)" "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
	"$(nproc)" "$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)" "$LAB_GPUS" \
	"$(cat /sys/class/dmi/id/sys_vendor 2>/dev/null || echo unknown)"
exec "$@" $LAB_GPUS
