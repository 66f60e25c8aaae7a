#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# retry-hang.sh LAB-COMMAND...: run an in-lab test whose guest runs an inner KVM guest (nested
# virtualisation under TCG), once more if the whole lab hung (tools/lab's status 124; the demo
# and e2e-hotplug exit with it too when their inner guest stopped, tools/lab-guest-image
# --wait). Such a hang was seen about once in ten runs of sim-guest. Its cause, found on
# 2026-12-04, is a race of multi-threaded TCG with the kernel rewriting its own text when a
# static key flips (docs/lab.md, "When it fails"); the lab now holds a KVM VM so that inner VMs
# no longer flip KVM's keys, and this retry stays for the flips that remain (tracing, cgroup
# BPF). tools/lab's stderr then says whether the guest stopped as a whole (its heartbeat
# silent, and where the vCPUs were), locked up (a CPU stuck in the kernel: every CPU's stack),
# was reset (a triple fault) or stayed alive while the command hung (and where its tasks
# waited).
# The first attempt's output and that verdict are kept as TAP comments, so the retry is
# visible.
# Any other failure, and a second hang, fail as they are.
first=$(mktemp)
trap 'rm -f "$first" "$first.err"' EXIT
"$@" >"$first" 2>"$first.err"
rc=$?
if [ "$rc" != 124 ]; then
	cat "$first"
	cat "$first.err" >&2
	exit "$rc"
fi
echo "# the lab hung (status 124); its output and tools/lab's verdict, then a second attempt:"
sed 's/^/#   /' "$first" "$first.err"
exec "$@"
