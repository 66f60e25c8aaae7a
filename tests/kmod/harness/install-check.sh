#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# install-check.sh KBUILD OUTDIR KDIR: stage a module install and compare it with what was built.
set -euo pipefail
kbuild=$1 out=$2 kdir=$3
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
DESTDIR=$dest "$kbuild" --install "$out" "$kdir" >/dev/null
built=$(cd "$out" && find . -name '*.ko' | sed 's|^\./||' | sort)
# Kernels built with CONFIG_MODULE_COMPRESS_* (Debian 13: xz) install NAME.ko.xz.
installed=$(cd "$dest"/lib/modules/*/updates/vgpu && find . -name '*.ko' -o -name '*.ko.[gxz]z' -o -name '*.ko.zst' |
	sed 's|^\./||; s/\.ko\.[a-z]*$/.ko/' | sort)
echo "built:     " $built
echo "installed: " $installed
[ -n "$built" ] && [ "$built" = "$installed" ]
