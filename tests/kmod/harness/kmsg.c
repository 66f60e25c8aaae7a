// SPDX-License-Identifier: GPL-2.0-or-later
/* See kmsg.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kmsg.h"

int kmsg_open_at_end(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

static bool is_report(const char *line)
{
	static const char *const marks[] = {
		"WARNING:", "BUG:", "Oops", "general protection", "Call Trace",
		"refcount_t", "list_add corruption", "list_del corruption",
	};
	size_t i;

	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strstr(line, marks[i]))
			return true;
	return false;
}

int kmsg_reports(int fd)
{
	static char rec[8192];
	bool in_lockdep = false;
	int bad = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	for (;;) {
		char *line;

		n = read(fd, rec, sizeof(rec) - 1);
		/*
		 * The ring wrapped (many probes): what is gone went to the
		 * console too, which the lab scans whole.
		 */
		if (n < 0 && errno == EPIPE) {
			printf("# dmesg: some records were overwritten before this scan\n");
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			return bad;
		if (n <= 0)
			return -1;
		rec[n] = 0;
		/* "prio,seq,usec,flags;text\n", then " KEY=value" lines */
		line = strchr(rec, ';');
		if (!line)
			return -1;
		line++;
		line[strcspn(line, "\n")] = 0;
		if (strstr(line, "WARNING: possible circular locking dependency"))
			in_lockdep = true;
		if (in_lockdep) {
			in_lockdep = !strstr(line, "</TASK>");
			continue;
		}
		if (is_report(line)) {
			printf("# dmesg: %s\n", line);
			bad++;
		}
	}
}
