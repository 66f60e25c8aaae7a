// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the vgpu core's type-table logic (kernel/core/types.c,
 * compiled unchanged): type names become sysfs directory names, so anything
 * outside a safe alphabet, duplicates, empty tables and impossible capacities
 * are refused at registration; the description is machine-readable.
 */
#include <glib.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "types.h"

#define T(n) { .name = (n), .fb_size = 1 << 20, .heads = 1, .max_width = 800, \
	       .max_height = 600, .max_instances = 2 }

static void test_good(void)
{
	static const struct vgpu_type t[] = { T("16m"), T("a_b.c:d-e"), T("x") };

	g_assert_cmpint(vgpu_check_types(t, 3), ==, 0);
}

static void test_bad(void)
{
	static const char *const names[] = {
		"", "a/b", "..x/", "a b", "a\nb", "\xc3\xa9", "%s", "abcdefghijklmnopqrstuvwxyz0123456",
	};
	struct vgpu_type t[2] = { T("ok"), T("ok2") };

	g_assert_cmpint(vgpu_check_types(NULL, 1), ==, -EINVAL);
	g_assert_cmpint(vgpu_check_types(t, 0), ==, -EINVAL);
	for (unsigned int i = 0; i < G_N_ELEMENTS(names); i++) {
		t[1].name = names[i];
		if (vgpu_check_types(t, 2) != -EINVAL)
			g_error("name '%s' accepted", names[i]);
	}
	t[1].name = NULL;
	g_assert_cmpint(vgpu_check_types(t, 2), ==, -EINVAL);
	t[1].name = "ok";	/* duplicate */
	g_assert_cmpint(vgpu_check_types(t, 2), ==, -EINVAL);
	t[1].name = "ok2";
	t[1].max_instances = 0;
	g_assert_cmpint(vgpu_check_types(t, 2), ==, -EINVAL);
	t[1].max_instances = (unsigned int)INT_MAX + 1;
	g_assert_cmpint(vgpu_check_types(t, 2), ==, -EINVAL);
	t[1].max_instances = 1;
	t[1].description = "two\nlines";
	g_assert_cmpint(vgpu_check_types(t, 2), ==, -EINVAL);
	t[1].description = "one line";
	g_assert_cmpint(vgpu_check_types(t, 2), ==, 0);
	/* 32 characters is the longest name */
	t[1].name = "abcdefghijklmnopqrstuvwxyz012345";
	g_assert_cmpint(vgpu_check_types(t, 2), ==, 0);
}

static void test_description(void)
{
	struct vgpu_type t = T("32m");
	char buf[4096];

	t.fb_size = 32 << 20;
	t.max_instances = 8;
	g_assert_cmpint(vgpu_format_description(&t, buf), ==, (int)strlen(buf));
	g_assert_cmpstr(buf, ==, "fb_size=33554432, heads=1, max_resolution=800x600, max_instances=8\n");
	t.description = "Bochs DISPI, MSI-X";
	vgpu_format_description(&t, buf);
	g_assert_cmpstr(buf, ==, "fb_size=33554432, heads=1, max_resolution=800x600, "
			"max_instances=8, description=Bochs DISPI, MSI-X\n");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/types/good", test_good);
	g_test_add_func("/types/bad", test_bad);
	g_test_add_func("/types/description", test_description);
	return g_test_run();
}
