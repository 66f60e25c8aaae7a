/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Name validation, parent conversion, description parsing, UUID derivation. */

#include <string.h>

#include "libvgpu.h"

typedef struct {
    VgpuNameKind kind;
    const char *name;
    gboolean valid;
} NameCase;

static const NameCase name_cases[] = {
    { VGPU_NAME_TYPE, "vgpu_sim-32m", TRUE },
    { VGPU_NAME_TYPE, "nvidia-35", TRUE },
    { VGPU_NAME_TYPE, "i915-GVTg_V5_4", TRUE },
    { VGPU_NAME_TYPE, "a", TRUE },
    { VGPU_NAME_TYPE, "_x.y+z:w", TRUE },
    { VGPU_NAME_TYPE, "", FALSE },
    { VGPU_NAME_TYPE, ".", FALSE },
    { VGPU_NAME_TYPE, "..", FALSE },
    { VGPU_NAME_TYPE, "../vgpu_sim-32m", FALSE },
    { VGPU_NAME_TYPE, "vgpu/32m", FALSE },
    { VGPU_NAME_TYPE, "/etc", FALSE },
    { VGPU_NAME_TYPE, ".hidden", FALSE },
    { VGPU_NAME_TYPE, "-opt", FALSE },
    { VGPU_NAME_TYPE, "sp ace", FALSE },
    { VGPU_NAME_TYPE, "new\nline", FALSE },
    { VGPU_NAME_TYPE, "\xc3\xa9t\xc3\xa9", FALSE },
    { VGPU_NAME_TYPE, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", TRUE },
    { VGPU_NAME_TYPE, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", FALSE },
    { VGPU_NAME_PARENT, "0000:00:05.0", TRUE },
    { VGPU_NAME_PARENT, "ffff:ff:1f.7", TRUE },
    { VGPU_NAME_PARENT, "0000:00:05.8", FALSE },
    { VGPU_NAME_PARENT, "0000:00:05", FALSE },
    { VGPU_NAME_PARENT, "0000:00:05.0/..", FALSE },
    { VGPU_NAME_PARENT, "0000:0A:05.0", FALSE },
    { VGPU_NAME_PARENT, "00:05.0", FALSE },
    { VGPU_NAME_PARENT, "..", FALSE },
    { VGPU_NAME_PARENT, "", FALSE },
    { VGPU_NAME_NODEDEV, "pci_0000_00_05_0", TRUE },
    { VGPU_NAME_NODEDEV, "pci_0000_00_05_9", FALSE },
    { VGPU_NAME_NODEDEV, "pci_0000_00_05", FALSE },
    { VGPU_NAME_NODEDEV, "css_0_0_0023", FALSE },
    { VGPU_NAME_NODEDEV, "pci_0000_00_05_0/x", FALSE },
    { VGPU_NAME_UUID, "0b1a7c52-5d2e-4b6c-9a43-2f4b3a1c8e10", TRUE },
    { VGPU_NAME_UUID, "0B1A7C52-5D2E-4B6C-9A43-2F4B3A1C8E10", TRUE },
    { VGPU_NAME_UUID, "0b1a7c525d2e4b6c9a432f4b3a1c8e10", FALSE },
    { VGPU_NAME_UUID, "0b1a7c52-5d2e-4b6c-9a43-2f4b3a1c8e1", FALSE },
    { VGPU_NAME_UUID, "0b1a7c52-5d2e-4b6c-9a43-2f4b3a1c8e10x", FALSE },
    { VGPU_NAME_UUID, "0b1a7c52-5d2e-4b6c-9a43/2f4b3a1c8e10", FALSE },
    { VGPU_NAME_UUID, "../../../../../etc/passwd", FALSE },
    { VGPU_NAME_UUID, "g b1a7c52-5d2e-4b6c-9a43-2f4b3a1c8e1", FALSE },
    { VGPU_NAME_ATTR, "vendor/max_fps", TRUE },
    { VGPU_NAME_ATTR, "vendor/max_resolution", TRUE },
    /* Only the vendor/ group: the device directory's own entries and the
     * kernel's links out of it are never reachable. */
    { VGPU_NAME_ATTR, "max_fps", FALSE },
    { VGPU_NAME_ATTR, "remove", FALSE },
    { VGPU_NAME_ATTR, "uevent", FALSE },
    { VGPU_NAME_ATTR, "mdev_type/create", FALSE },
    { VGPU_NAME_ATTR, "driver/unbind", FALSE },
    { VGPU_NAME_ATTR, "subsystem/drivers_autoprobe", FALSE },
    { VGPU_NAME_ATTR, "power/control", FALSE },
    { VGPU_NAME_ATTR, "iommu_group/type", FALSE },
    { VGPU_NAME_ATTR, "vfio-dev/vfio0", FALSE },
    { VGPU_NAME_ATTR, "vendorx/max_fps", FALSE },
    { VGPU_NAME_ATTR, "Vendor/max_fps", FALSE },
    { VGPU_NAME_ATTR, "vendor/.hidden", FALSE },
    { VGPU_NAME_ATTR, "vendor/a/b", FALSE },
    { VGPU_NAME_ATTR, "vendor/../remove", FALSE },
    { VGPU_NAME_ATTR, "../remove", FALSE },
    { VGPU_NAME_ATTR, "a/b/c", FALSE },
    { VGPU_NAME_ATTR, "/abs", FALSE },
    { VGPU_NAME_ATTR, "vendor/", FALSE },
    { VGPU_NAME_ATTR, "", FALSE },
    { VGPU_NAME_ATTR, "..", FALSE },
};

static void
test_name_table (gconstpointer data)
{
    const NameCase *c = data;
    g_autoptr (GError) err = NULL;
    gboolean ok = vgpu_name_is_valid (c->kind, c->name, &err);
    if (ok != c->valid)
        g_error ("%s '%s': expected %s, got %s", vgpu_name_kind_to_string (c->kind), c->name,
                 c->valid ? "valid" : "invalid", ok ? "valid" : "invalid");
    if (c->valid) {
        g_assert_no_error (err);
    } else {
        g_assert_error (err, VGPU_ERROR, VGPU_ERROR_INVALID_NAME);
        g_assert_nonnull (strstr (err->message, vgpu_name_kind_to_string (c->kind)));
        g_assert_nonnull (strstr (err->message, "expected"));
    }
}

static void
test_name_null (void)
{
    g_autoptr (GError) err = NULL;
    g_assert_false (vgpu_name_is_valid (VGPU_NAME_TYPE, NULL, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_INVALID_NAME);
}

static void
test_parent_to_sysfs (void)
{
    g_autoptr (GError) err = NULL;
    g_autofree char *a = vgpu_parent_to_sysfs ("pci_0000_3b_1f_7", &err);
    g_assert_no_error (err);
    g_assert_cmpstr (a, ==, "0000:3b:1f.7");
    g_autofree char *b = vgpu_parent_to_sysfs ("0000:00:05.0", &err);
    g_assert_no_error (err);
    g_assert_cmpstr (b, ==, "0000:00:05.0");
    g_assert_null (vgpu_parent_to_sysfs ("pci_0000_00_05_0_", &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_INVALID_NAME);
    g_clear_error (&err);
    g_assert_null (vgpu_parent_to_sysfs ("0000:00:05.0/../..", &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_INVALID_NAME);
}

static void
check_fields (const char *desc, const char *const expect[][2], guint n)
{
    g_autoptr (GPtrArray) f = vgpu_description_parse (desc);
    g_assert_cmpuint (f->len, ==, n);
    for (guint i = 0; i < f->len; i++) {
        VgpuField *x = f->pdata[i];
        g_assert_cmpstr (x->key, ==, expect[i][0]);
        g_assert_cmpstr (x->value, ==, expect[i][1]);
    }
}

static void
test_description (void)
{
    /* As the vGPU core formats it (kernel/core/sysfs.c). */
    static const char *const core[][2] = {
        { "fb_size", "33554432" }, { "heads", "1" }, { "max_resolution", "1920x1080" },
        { "max_instances", "4" }, { "description", "32 MiB slice, one head" },
    };
    check_fields ("fb_size=33554432, heads=1, max_resolution=1920x1080, max_instances=4, "
                  "description=32 MiB slice, one head\n", core, G_N_ELEMENTS (core));
    static const char *const loose[][2] = {
        { "flag", "" }, { "framebuffer", "32M" }, { "max_resolution", "1920x1080" },
        { "empty", "" },
    };
    check_fields ("flag,framebuffer=32M\n max_resolution = 1920x1080,\nempty=", loose,
                  G_N_ELEMENTS (loose));
    g_autoptr (GPtrArray) none = vgpu_description_parse (NULL);
    g_assert_cmpuint (none->len, ==, 0);
    g_autoptr (GPtrArray) blank = vgpu_description_parse (" , \n");
    g_assert_cmpuint (blank->len, ==, 0);
}

static void
test_derive_uuid (void)
{
    const char *dom = "6f1e2a44-7c3b-4d8e-9a0b-1c2d3e4f5a6b";
    g_autoptr (GError) err = NULL;
    g_autofree char *a = vgpu_derive_uuid (dom, "vgpu_sim-32m", NULL, 0, &err);
    g_assert_no_error (err);
    g_autofree char *a2 = vgpu_derive_uuid (dom, "vgpu_sim-32m", NULL, 0, &err);
    g_autofree char *a_nodash = vgpu_derive_uuid ("6F1E2A447C3B4D8E9A0B1C2D3E4F5A6B",
                                                  "vgpu_sim-32m", NULL, 0, &err);
    g_autofree char *b = vgpu_derive_uuid (dom, "vgpu_sim-32m", NULL, 1, &err);
    g_autofree char *c = vgpu_derive_uuid (dom, "vgpu_sim-16m", NULL, 0, &err);
    g_autofree char *d = vgpu_derive_uuid (dom, "vgpu_sim-32m", "0000:00:05.0", 0, &err);
    g_autofree char *e = vgpu_derive_uuid ("6f1e2a44-7c3b-4d8e-9a0b-1c2d3e4f5a6c",
                                           "vgpu_sim-32m", NULL, 0, &err);
    g_assert_no_error (err);
    g_assert_true (vgpu_name_is_valid (VGPU_NAME_UUID, a, NULL));
    g_assert_cmpstr (a, ==, a2);
    g_assert_cmpstr (a, ==, a_nodash);
    g_assert_cmpstr (a, !=, b);
    g_assert_cmpstr (a, !=, c);
    g_assert_cmpstr (a, !=, d);
    g_assert_cmpstr (a, !=, e);
    /* Known answers, computed independently with Python's
     * uuid.uuid5(UUID(dom), "vgpu:TYPE:PARENT:N") (RFC 4122 name-based SHA-1). */
    g_assert_cmpstr (a, ==, "a9a476d2-f723-5b9d-86a8-b30c50f35c22");
    g_autofree char *kv = vgpu_derive_uuid (dom, "vgpu_sim-32m", "0000:00:05.0", 1, &err);
    g_assert_cmpstr (kv, ==, "103e29de-1ea5-5800-8e65-a12104e1b02c");
    /* Version 5 (SHA-1, RFC 4122 variant). */
    g_assert_cmpint (a[14], ==, '5');
    g_assert_true (strchr ("89ab", a[19]) != NULL);

    g_assert_null (vgpu_derive_uuid ("not-a-uuid", "vgpu_sim-32m", NULL, 0, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE);
    g_clear_error (&err);
    g_assert_null (vgpu_derive_uuid (NULL, "vgpu_sim-32m", NULL, 0, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE);
    g_clear_error (&err);
    g_assert_null (vgpu_derive_uuid (dom, "../x", NULL, 0, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_INVALID_NAME);
}

static void
test_doc_kind_strings (void)
{
    for (int k = 0; k < VGPU_DOC_LAST; k++)
        g_assert_cmpint (vgpu_doc_kind_from_string (vgpu_doc_kind_to_string (k)), ==, k);
    g_assert_cmpint (vgpu_doc_kind_from_string ("bogus"), ==, VGPU_DOC_UNKNOWN);
    g_assert_cmpint (vgpu_doc_kind_from_string (NULL), ==, VGPU_DOC_UNKNOWN);
}

static void
test_root_env (void)
{
    g_setenv ("VGPU_ROOT", "/tmp/fake-root", TRUE);
    g_autofree char *p = vgpu_root_path ("/sys/class/mdev_bus");
    g_assert_cmpstr (p, ==, "/tmp/fake-root/sys/class/mdev_bus");
    g_unsetenv ("VGPU_ROOT");
    g_assert_cmpstr (vgpu_root (), ==, "/");
    g_autofree char *q = vgpu_root_path ("/dev/vfio/3");
    g_assert_cmpstr (q, ==, "/dev/vfio/3");
}

int
main (int argc, char **argv)
{
    g_test_init (&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS (name_cases); i++) {
        g_autofree char *path = g_strdup_printf ("/names/%s/%zu",
                                                 vgpu_name_kind_to_string (name_cases[i].kind),
                                                 i);
        g_strdelimit (path, " ", '-');
        g_test_add_data_func (path, &name_cases[i], test_name_table);
    }
    g_test_add_func ("/names/null", test_name_null);
    g_test_add_func ("/names/parent-to-sysfs", test_parent_to_sysfs);
    g_test_add_func ("/description/parse", test_description);
    g_test_add_func ("/uuid/derive", test_derive_uuid);
    g_test_add_func ("/doc-kind/strings", test_doc_kind_strings);
    g_test_add_func ("/root/env", test_root_env);
    return g_test_run ();
}
