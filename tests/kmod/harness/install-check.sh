#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# install-check.sh KBUILD OUTDIR KDIR: stage a module install and compare it with what was built.
set -euo pipefail
kbuild=$1 out=$2 kdir=$3
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
DESTDIR=$dest "$kbuild" --install "$out" "$kdir" >/dev/null
built=$(cd "$out" && find . -name '*.ko' | sed 's|^\./||' | sort)
installed=$(cd "$dest"/lib/modules/*/updates/vgpu && find . -name '*.ko' | sed 's|^\./||' | sort)
echo "built:     " $built
echo "installed: " $installed
[ -n "$built" ] && [ "$built" = "$installed" ]
