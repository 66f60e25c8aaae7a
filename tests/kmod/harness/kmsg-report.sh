#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Writes a synthetic KCSAN report to the kernel log (/dev/kmsg, level 3 so that it reaches the
# lab's console) and exits 0: the debug-kernel test's "reports" batch checks that tools/lab
# fails a run on a report with a frame of ours and leaves out one of the kernel's own.
#
#   kmsg-report.sh ours|kernel
case ${1:-} in
ours) a="vgpu_raise_irq+0x4e/0x120 [vgpu]" b="vgpu_vfio_set_irqs+0x2a1/0x5f0 [vgpu_vfio]" ;;
kernel) a="tick_sched_do_timer+0x3c/0x130" b="tick_nohz_next_event+0x1d/0x2b0" ;;
*) echo "usage: kmsg-report.sh ours|kernel" >&2; exit 2 ;;
esac
rule================================================================
for line in "$rule" "BUG: KCSAN: data-race in ${a%%+*} / ${b%%+*}" "" \
	"write to 0xffff888004a1c0a8 of 4 bytes by task 1 on cpu 0:" " $a" "" \
	"read to 0xffff888004a1c0a8 of 4 bytes by interrupt on cpu 1:" " $b" "" \
	"Reported by Kernel Concurrency Sanitizer on:" "(synthetic: tests/kmod/harness/kmsg-report.sh)" "$rule"; do
	printf '<3>%s\n' "$line" >/dev/kmsg || exit 1
done
