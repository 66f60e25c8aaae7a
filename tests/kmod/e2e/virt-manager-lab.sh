#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Boots the lab for virt-manager.sh once virt-manager and its GUI stack are in the world: the
# Debian 13 root leaves them out (134 packages, 378 MB that only this test uses, and CI does
# not run it there), so `tools/lab packages` installs them into that root the first time and
# finds them there after. An archive that cannot be reached skips the test with one line.
#
#   virt-manager-lab.sh LAB BUILDDIR        (TAP)
set -u
lab=$1
builddir=$2
# the same as tools/deps's line for tools/virt-manager-shot
gui=(virt-manager xvfb xdotool x11-utils imagemagick python3-pyatspi gir1.2-atspi-2.0 at-spi2-core)
err=$("$lab" packages "${gui[@]}" 2>&1 >/dev/null)
case $? in
0) ;;
77) echo "1..0 # SKIP ${err##*$'\n'}"; exit 0 ;;
*) echo "Bail out! ${err##*$'\n'}"; exit 1 ;;
esac
exec "$lab" run --builddir "$builddir" --libvirt --timeout 1500 \
	-- "$(dirname "$(readlink -f "$0")")/virt-manager.sh" "$builddir"
