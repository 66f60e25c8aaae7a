/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sysfs_emit()/sysfs_emit_at() on a PAGE_SIZE buffer, as in the kernel. */
#ifndef _KUNIT_SHIM_SYSFS_H
#define _KUNIT_SHIM_SYSFS_H
#include <stdarg.h>
#include <stdio.h>

#define SHIM_PAGE_SIZE 4096

static inline int sysfs_emit_at(char *buf, int at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (at < 0 || at >= SHIM_PAGE_SIZE)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(buf + at, SHIM_PAGE_SIZE - at, fmt, ap);
	va_end(ap);
	return n < SHIM_PAGE_SIZE - at ? n : SHIM_PAGE_SIZE - at - 1;
}

#define sysfs_emit(buf, ...) sysfs_emit_at(buf, 0, __VA_ARGS__)
#endif
