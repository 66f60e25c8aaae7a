#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# libvgpu exports exactly the functions its public header declares: nothing
# internal leaks into the ABI, and nothing declared is missing.
#   check-abi.sh LIBVGPU.so libvgpu.h
set -eu
lib=$1 header=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u >"$tmp/exported"
# Declarations: "type name (" at the start of a line, or a name at the start
# of a line after its return type on the line before.
grep -oE '^[A-Za-z_][A-Za-z0-9_ *]*\bvgpu_[a-z0-9_]+ \(' "$header" |
	grep -oE 'vgpu_[a-z0-9_]+ \($' | sed 's/ ($//' | sort -u >"$tmp/declared"
if ! cmp -s "$tmp/exported" "$tmp/declared"; then
	echo "libvgpu's exports differ from libvgpu.h (< exported only, > declared only):"
	diff "$tmp/exported" "$tmp/declared" | grep '^[<>]'
	exit 1
fi
echo "libvgpu exports the $(wc -l <"$tmp/declared") functions of libvgpu.h and nothing else"
