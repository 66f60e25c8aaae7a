#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs inside the lab, under bench/in-lab.sh: profiles one benchmark with perf (cpu-clock,
# the only event TCG offers, system-wide so the kernel's workers are seen too), then reports
# inside the guest, where /proc/kallsyms names our modules' functions.
#
#   perf-in-lab.sh OUTFILE VGPU_BENCH [ARGS...]
set -euo pipefail
out=$1
shift
command -v perf >/dev/null || { echo "perf-in-lab.sh: perf not found (Debian: linux-perf)" >&2; exit 1; }
data=$(mktemp /tmp/perf.XXXXXX)
echo 0 >/proc/sys/kernel/kptr_restrict
perf record -q -e cpu-clock -F 2000 -a -g -o "$data" -- "$@" >/dev/null
{
	echo "# perf report: flat, by symbol"
	perf report -i "$data" --stdio --no-children --comms vgpu-bench --sort dso,sym \
		--percent-limit 0.25 -g none 2>/dev/null |
		grep "%" | head -80
	echo "# perf report: flat, every task (kernel workers: the copy engine), idle left out"
	perf report -i "$data" --stdio --no-children --sort comm,sym --percent-limit 0.25 -g none \
		2>/dev/null | grep "%" | grep -v native_safe_halt | head -60
	echo "# perf report: call graphs of the top entries"
	perf report -i "$data" --stdio --no-children --sort sym --percent-limit 4 -G 2>/dev/null |
		grep -v '^$' | head -200
} >"$out"
