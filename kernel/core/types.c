// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgpu core: what the sysfs ABI shows of a type table (validated names, the
 * machine-readable description). Pure logic, also built as userspace unit
 * tests (tests/kernel-unit).
 */
#include <linux/ctype.h>
#include <linux/errno.h>
#include <linux/limits.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "types.h"

/* Type names become directory names; keep them to a safe alphabet. */
static bool vgpu_name_ok(const char *name)
{
	const char *p;

	if (!name || !*name || strlen(name) > 32)
		return false;
	for (p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.:-", *p))
			return false;
	return true;
}

int vgpu_check_types(const struct vgpu_type *types, unsigned int nr_types)
{
	unsigned int i, j;

	if (!types || !nr_types)
		return -EINVAL;
	for (i = 0; i < nr_types; i++) {
		const struct vgpu_type *t = &types[i];

		if (!vgpu_name_ok(t->name) || !t->max_instances ||
		    t->max_instances > INT_MAX)
			return -EINVAL;
		if (t->description && strchr(t->description, '\n'))
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (!strcmp(types[j].name, t->name))
				return -EINVAL;
	}
	return 0;
}

ssize_t vgpu_format_description(const struct vgpu_type *t, char *buf)
{
	int n;

	n = sysfs_emit(buf,
		       "fb_size=%llu, heads=%u, max_resolution=%ux%u, max_instances=%u",
		       t->fb_size, t->heads, t->max_width, t->max_height,
		       t->max_instances);
	if (t->description)
		n += sysfs_emit_at(buf, n, ", description=%s", t->description);
	n += sysfs_emit_at(buf, n, "\n");
	return n;
}
