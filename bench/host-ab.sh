#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The host figures (10, 12) of two builds, interleaved: each round runs one run of the old
# build, then one of the new, so that a burst of load from other programs hits both.
#   bench/host-ab.sh OLD-BUILDDIR NEW-BUILDDIR ROUNDS >raw.jsonl
#   bench/host-ab-summary.py raw.jsonl
# Each line is host-bench.py's, with "build" (old/new) and "round" added. Both builds run
# this tree's host-bench.py and schemas.
set -euo pipefail
if [ $# -ne 3 ] || ! [[ $3 =~ ^[1-9][0-9]*$ ]]; then
	echo "usage: $0 OLD-BUILDDIR NEW-BUILDDIR ROUNDS" >&2
	exit 2
fi
top=$(cd "$(dirname "$0")/.." && pwd)
for b in "$1" "$2"; do
	[ -x "$b/libvirt-plugin/vgpuctl/vgpuctl" ] || { echo "$0: no vgpuctl in $b" >&2; exit 1; }
done
for r in $(seq "$3"); do
	for which in old new; do
		[ $which = old ] && b=$1 || b=$2
		/usr/bin/python3 "$top/bench/host-bench.py" --vgpuctl "$b/libvirt-plugin/vgpuctl/vgpuctl" \
			--schemas "$top/schemas" --runs 1 --only 10,12 \
			--hook "$b/libvirt-plugin/hook/vgpu" --fakekernel "$b/tests/cli/fakekernel.so" \
			"$top/xml-examples/domain-managed-vgpu.xml" \
			"$top/xml-examples/domain-unmanaged-vgpu.xml" |
			sed "s/^{/{\"build\": \"$which\", \"round\": $r, /"
	done
done
