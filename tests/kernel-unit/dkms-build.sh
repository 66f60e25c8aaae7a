#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `dkms build` of kernel/ (its dkms.conf) against a kernel build tree, in a private
# --dkmstree/--sourcetree under WORKDIR: nothing touches /var/lib/dkms or /lib/modules.
#
#   dkms-build.sh KERNEL_SRCDIR WORKDIR KDIR
# Exit: 0 built (every BUILT_MODULE_NAME present) and other kernel series refused,
# 1 failed, 77 dkms missing (skip).
set -euo pipefail

src=$(readlink -f "$1")
work=$2
kdir=$(readlink -f "$3")
command -v dkms >/dev/null || { echo "dkms not installed"; exit 77; }

name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' "$src/dkms.conf")
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$src/dkms.conf")
# The release the headers are for, e.g. 6.1.0-56-amd64.
kver=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"/\1/p' "$kdir/include/generated/utsrelease.h")
[ -n "$name" ] && [ -n "$ver" ] && [ -n "$kver" ] || { echo "cannot read dkms.conf or $kdir"; exit 1; }

rm -rf "$work"
mkdir -p "$work/source/$name-$ver" "$work/tree"
# Sources only, as a distribution package would ship them.
(cd "$src" && find . -type f \( -name '*.[ch]' -o -name Kbuild -o -name Kconfig \
	-o -name Makefile -o -name dkms.conf \) -print0 |
	cpio -0 -pdm --quiet "$work/source/$name-$ver" 2>/dev/null) ||
	(cd "$src" && find . -type f \( -name '*.[ch]' -o -name Kbuild -o -name Kconfig \
		-o -name Makefile -o -name dkms.conf \) -exec cp --parents {} "$work/source/$name-$ver/" \;)

d=(--sourcetree "$work/source" --dkmstree "$work/tree")
dkms add -m "$name" -v "$ver" "${d[@]}"
if ! dkms build -m "$name" -v "$ver" -k "$kver" -a x86_64 --kernelsourcedir "$kdir" "${d[@]}"; then
	cat "$work/tree/$name/$ver/build/make.log" 2>/dev/null || true
	exit 1
fi
status=0
# BUILD_EXCLUSIVE_KERNEL: the tested series only; others are refused (dkms exit 77).
for other in 6.0.0-1-amd64 6.10.0-1-amd64 6.11.0-1-amd64 6.13.0-1-amd64 6.6.0-1-amd64 7.1.0-1-amd64; do
	rc=0
	dkms build -m "$name" -v "$ver" -k "$other" -a x86_64 --kernelsourcedir "$kdir" "${d[@]}" \
		>"$work/exclusive.log" 2>&1 || rc=$?
	if [ $rc = 77 ] && grep -q BUILD_EXCLUSIVE "$work/exclusive.log"; then
		echo "refused $other"
	else
		echo "not refused: $other (dkms exit $rc)"
		cat "$work/exclusive.log"
		status=1
	fi
done
for m in $(sed -n 's/^BUILT_MODULE_NAME\[[0-9]*\]="\(.*\)"/\1/p' "$src/dkms.conf"); do
	# dkms 3.2 (Debian 13) compresses as the kernel's config says: .ko.xz there.
	built=""
	for f in "$work/tree/$name/$ver/$kver/x86_64/module/$m".ko{,.xz,.zst,.gz}; do
		[ -f "$f" ] && built=$f
	done
	if [ -n "$built" ]; then
		echo "built ${built##*/}"
	else
		echo "missing $m.ko"
		status=1
	fi
done
exit $status
