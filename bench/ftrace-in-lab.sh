#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs inside the lab, under bench/in-lab.sh: times a path per function with the function_graph
# tracer, from each of FUNCS (comma-separated; e.g. vgpu_vfio_rw,mtty_read,mbochs_read for
# figures 1 and 2) down to DEPTH levels, while VGPU_BENCH runs. The text trace goes to OUTFILE.
# Debian's kernels have no function profiler; the graph tracer's own cost under TCG inflates
# every duration, so compare the two sides and the shares, not the absolute times.
#
#   ftrace-in-lab.sh OUTFILE DEPTH FUNCS VGPU_BENCH [ARGS...]
set -euo pipefail
out=$1
depth=$2
funcs=$3
shift 3
t=/sys/kernel/tracing
[ -d "$t/options" ] || mount -t tracefs nodev "$t"
echo 0 >"$t/tracing_on"
echo nop >"$t/current_tracer"
echo >"$t/set_ftrace_filter"
: >"$t/set_graph_function"
for f in ${funcs//,/ }; do
	echo "$f" >>"$t/set_graph_function" || { echo "ftrace-in-lab.sh: no function $f" >&2; exit 1; }
done
echo "$depth" >"$t/max_graph_depth"
echo 16384 >"$t/buffer_size_kb"
echo function_graph >"$t/current_tracer"
echo funcgraph-abstime >"$t/trace_options" 2>/dev/null || true
echo 1 >"$t/tracing_on"
"$@" >/dev/null
echo 0 >"$t/tracing_on"
cat "$t/trace" >"$out"
echo nop >"$t/current_tracer"
