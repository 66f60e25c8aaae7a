/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel's log since a test binary began, for its own scan for
 * reports: the boot's messages (a debug kernel's known reports among
 * them, tools/lab's to judge) stay out of it.
 */
#ifndef VGPU_TEST_KMSG_H
#define VGPU_TEST_KMSG_H

/* /dev/kmsg, positioned at the log's end; -1 when it cannot be opened. */
int kmsg_open_at_end(void);

/*
 * Reads what was logged since and counts the report lines (WARNING, BUG,
 * Oops, ...), each printed as a TAP comment. Lockdep's cycle reports are
 * skipped to their stack's end: the lab judges them. -1 on a read error.
 */
int kmsg_reports(int fd);

#endif
