#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# kernel/Kconfig as the kernel's own Kconfig parser (scripts/kconfig/conf of the
# lab's headers) sees it, placed at drivers/vgpu/ under a stub tree that declares
# the symbols it depends on: VGPU needs VFIO_MDEV; VGPU_VFIO needs VFIO, VFIO_MDEV
# and PCI (REVIEW.md 1) and is never built in when VFIO is a module. TAP output.
#
#   kconfig-test.sh KERNEL_SRCDIR KDIR
# Exit: 0 all passed, 1 a case failed, 77 no conf binary (skip).
set -euo pipefail

src=$(readlink -f "$1")
conf=$(readlink -f "$2")/scripts/kconfig/conf
[ -x "$conf" ] || { echo "1..0 # SKIP no $conf"; exit 77; }

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/drivers"
ln -s "$src" "$tree/drivers/vgpu"
cat >"$tree/Kconfig" <<'EOF'
mainmenu "vgpu Kconfig test"
config MODULES
	bool
	default y
	modules
config 64BIT
	bool
	default y
config PCI
	bool "PCI"
config VFIO
	tristate "VFIO"
config VFIO_MDEV
	tristate "mdev"
	depends on VFIO
source "drivers/vgpu/Kconfig"
EOF

n=0
failed=0
# case NAME "INPUT SYMBOLS" "EXPECTED SYMBOLS": every symbol is NAME=y|m or NAME=n.
check() {
	local name=$1 in=$2 want=$3 cfg=$tree/.config s got ok=1
	n=$((n + 1))
	: >"$cfg"
	for s in $in; do
		case $s in
		*=n) echo "# CONFIG_${s%=n} is not set" >>"$cfg" ;;
		*) echo "CONFIG_$s" >>"$cfg" ;;
		esac
	done
	if ! (cd "$tree" && srctree=$tree KCONFIG_CONFIG=$cfg "$conf" --olddefconfig Kconfig \
		>"$tree/log" 2>&1); then
		sed 's/^/# /' "$tree/log"
		ok=0
	fi
	for s in $want; do
		got=$(sed -n "s/^CONFIG_${s%%=*}=\(.*\)/\1/p" "$cfg")
		if [ "${got:-n}" != "${s#*=}" ]; then
			echo "# $name: ${s%%=*} is ${got:-n}, expected ${s#*=}"
			ok=0
		fi
	done
	if [ $ok = 1 ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		failed=1
	fi
}

check "everything available: both modules" \
	"PCI=y VFIO=m VFIO_MDEV=m VGPU=m VGPU_VFIO=m VGPU_SIM=m" \
	"VGPU=m VGPU_VFIO=m VGPU_SIM=m"
check "built in when VFIO is" \
	"PCI=y VFIO=y VFIO_MDEV=y VGPU=y VGPU_VFIO=y" "VGPU=y VGPU_VFIO=y"
check "VFIO a module: VGPU_VFIO cannot be built in" \
	"PCI=y VFIO=m VFIO_MDEV=m VGPU=y VGPU_VFIO=y" "VGPU=m VGPU_VFIO=m"
check "no VFIO: neither" \
	"PCI=y VFIO=n VGPU=m VGPU_VFIO=m" "VGPU=n VGPU_VFIO=n VGPU_SIM=n"
check "no mdev: neither" \
	"PCI=y VFIO=m VFIO_MDEV=n VGPU=m VGPU_VFIO=m" "VGPU=n VGPU_VFIO=n"
check "no PCI: the core only (the VFIO driver is PCI-specific)" \
	"PCI=n VFIO=m VFIO_MDEV=m VGPU=m VGPU_VFIO=m" "VGPU=m VGPU_VFIO=n VGPU_SIM=n"
check "VGPU off: VGPU_VFIO off" \
	"PCI=y VFIO=m VFIO_MDEV=m VGPU=n VGPU_VFIO=m" "VGPU_VFIO=n"
echo "1..$n"
exit $failed
