#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs inside the lab: loads vgpu_sim if the lab did not (it builds in
# kernel/sim/), then the VFIO client, whose TAP goes to stdout.
#
#   run-sim-tests.sh BUILDDIR SIM_TEST [CASE...]
set -u
builddir=$1
shift
export SIM_KO=$builddir/kernel/sim/vgpu_sim.ko
export IMPORT_KO=$builddir/tests/kmod/harness/importer/dmabuf_import.ko
if [ ! -d /sys/module/vgpu_sim ]; then
	insmod "$SIM_KO" || { echo "Bail out! insmod vgpu_sim.ko failed"; exit 1; }
fi
exec "$@"
