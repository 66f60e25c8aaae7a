#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# kernel/Kconfig as the kernel's own Kconfig parser (scripts/kconfig/conf of the
# lab's headers) sees it, placed at drivers/vgpu/ under a stub tree that declares
# the symbols it depends on as Linux 6.1+ does (VFIO_MDEV hidden, selected by its
# users inside "if VFIO"): VGPU needs VFIO and selects VFIO_MDEV; VGPU_VFIO needs
# VFIO, PCI and 64BIT (REVIEW.md 1) and is never built in when VFIO is a module.
# TAP output.
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
	bool "64-bit kernel"
	default y
config PCI
	bool "PCI"
config VFIO
	tristate "VFIO"
config VFIO_MDEV
	tristate
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

check "everything available: all three modules, mdev selected" \
	"PCI=y VFIO=m VGPU=m VGPU_VFIO=m VGPU_SIM=m" \
	"VFIO_MDEV=m VGPU=m VGPU_VFIO=m VGPU_SIM=m"
check "built in when VFIO is, mdev with them" \
	"PCI=y VFIO=y VGPU=y VGPU_VFIO=y" "VFIO_MDEV=y VGPU=y VGPU_VFIO=y"
check "VFIO a module: nothing built in" \
	"PCI=y VFIO=m VGPU=y VGPU_VFIO=y" "VFIO_MDEV=m VGPU=m VGPU_VFIO=m"
check "no VFIO: nothing, mdev not selected" \
	"PCI=y VFIO=n VGPU=m VGPU_VFIO=m" "VFIO_MDEV=n VGPU=n VGPU_VFIO=n VGPU_SIM=n"
check "nobody asks for mdev: it stays off" \
	"PCI=y VFIO=m VGPU=n" "VFIO_MDEV=n VGPU_VFIO=n"
check "no PCI: the core only (the VFIO driver is PCI-specific)" \
	"PCI=n VFIO=m VGPU=m VGPU_VFIO=m" "VFIO_MDEV=m VGPU=m VGPU_VFIO=n VGPU_SIM=n"
check "32-bit: the core only (the offset cookie needs 64-bit offsets)" \
	"64BIT=n PCI=y VFIO=m VGPU=m VGPU_VFIO=m VGPU_SIM=m" \
	"VGPU=m VGPU_VFIO=n VGPU_SIM=n"
check "VGPU off: VGPU_VFIO off" \
	"PCI=y VFIO=m VGPU=n VGPU_VFIO=m" "VGPU_VFIO=n"
echo "1..$n"
exit $failed
