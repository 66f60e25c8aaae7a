/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sysfs layer against a fake root (VGPU_ROOT): listing, create with
 * attributes, waits, IOMMU groups, remove, and every rejected name. A "fake
 * kernel" thread reads the UUID written to a FIFO 'create' and builds the
 * device directory, as the mdev core would. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "fake-sysfs.h"
#include "libvgpu.h"
#include "vgpu-autoptr.h"

#define GPU_A "0000:00:05.0"
#define GPU_B "0000:00:06.0"
#define UUID1 "0b1a7c52-5d2e-4b6c-9a43-2f4b3a1c8e10"
#define UUID2 "1c2b8d63-6e3f-4c7d-8b54-3a5c4b2d9f21"

typedef struct {
    char *root;
} Fixture;

static char *
P (Fixture *f, const char *rel)
{
    return g_build_filename (f->root, rel, NULL);
}

static void
mkdirs (Fixture *f, const char *rel)
{
    g_autofree char *p = P (f, rel);
    g_assert_cmpint (g_mkdir_with_parents (p, 0755), ==, 0);
}

static void
put (Fixture *f, const char *rel, const char *content)
{
    fake_put (f->root, rel, content);
}

static char *
get (Fixture *f, const char *rel)
{
    g_autofree char *p = P (f, rel);
    char *s = NULL;
    if (!g_file_get_contents (p, &s, NULL, NULL))
        return NULL;
    return s;
}

static void
link_to (Fixture *f, const char *rel, const char *target)
{
    g_autofree char *p = P (f, rel);
    g_autofree char *dir = g_path_get_dirname (p);
    g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
    g_assert_cmpint (symlink (target, p), ==, 0);
}

static void
add_type (Fixture *f, const char *gpu, const char *type, const char *avail)
{
    fake_add_type (f->root, gpu, type, "framebuffer=32M, heads=1, max_resolution=1920x1080\n",
                   avail);
}

static void
fixture_setup (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr (GError) err = NULL;
    f->root = g_dir_make_tmp ("vgpu-unit-XXXXXX", &err);
    g_assert_no_error (err);
    g_setenv ("VGPU_ROOT", f->root, TRUE);
    add_type (f, GPU_A, "vgpu_sim-32m", "2");
    add_type (f, GPU_A, "vgpu_sim-16m", "4");
    add_type (f, GPU_B, "vgpu_sim-32m", "0");
    /* A non-PCI parent (e.g. vfio-ap) is not listed as a GPU. */
    add_type (f, "matrix", "vfio_ap-passthrough", "1");
    mkdirs (f, "sys/bus/mdev/devices");
    mkdirs (f, "dev/vfio");
}

static void
fixture_teardown (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    fake_rm_rf (f->root);
    g_free (f->root);
    g_unsetenv ("VGPU_ROOT");
}

/* ------------------------------------------------------- fake kernel */

typedef struct {
    Fixture *f;
    char *create_rel;       /* the FIFO */
    char *parent;
    char *type;
    gboolean bind;          /* add a driver link */
    char *written;          /* what was read from create */
} FakeKernel;

/* Builds the device directory under a temporary name, then renames it into
 * place, so the library never sees a half-built device. */
static void
fake_make_device (FakeKernel *k, const char *uuid)
{
    Fixture *f = k->f;
    g_autofree char *tmp_rel = g_strdup_printf ("sys/bus/mdev/.tmp-%s", uuid);
    g_autofree char *rm = g_build_filename (tmp_rel, "remove", NULL);
    put (f, rm, "");
    g_autofree char *fps = g_build_filename (tmp_rel, "vendor", "max_fps", NULL);
    put (f, fps, "60\n");
    g_autofree char *mode = g_build_filename (tmp_rel, "vendor", "mode", NULL);
    put (f, mode, "default\n");
    g_autofree char *tl = g_build_filename (tmp_rel, "mdev_type", NULL);
    g_autofree char *tt = g_strdup_printf ("../../../../class/mdev_bus/%s/mdev_supported_types/%s",
                                           k->parent, k->type);
    link_to (f, tl, tt);
    g_autofree char *gl = g_build_filename (tmp_rel, "iommu_group", NULL);
    link_to (f, gl, "../../../../kernel/iommu_groups/12");
    if (k->bind) {
        g_autofree char *dl = g_build_filename (tmp_rel, "driver", NULL);
        link_to (f, dl, "../../../../bus/mdev/drivers/vgpu_vfio");
    }
    g_autofree char *from = P (f, tmp_rel);
    g_autofree char *to_rel = g_strdup_printf ("sys/bus/mdev/devices/%s", uuid);
    g_autofree char *to = P (f, to_rel);
    g_assert_cmpint (rename (from, to), ==, 0);
}

static gpointer
fake_kernel_thread (gpointer data)
{
    FakeKernel *k = data;
    g_autofree char *fifo = P (k->f, k->create_rel);
    int fd = open (fifo, O_RDONLY);
    g_assert_cmpint (fd, >=, 0);
    char buf[128];
    ssize_t n, total = 0;
    while ((n = read (fd, buf + total, sizeof (buf) - 1 - total)) > 0)
        total += n;
    close (fd);
    buf[total] = '\0';
    k->written = g_strdup (buf);
    if (vgpu_name_is_valid (VGPU_NAME_UUID, g_strstrip (buf), NULL))
        fake_make_device (k, buf);
    return NULL;
}

static GThread *
fake_kernel_start (FakeKernel *k, Fixture *f, const char *parent, const char *type,
                   gboolean bind)
{
    k->f = f;
    k->parent = g_strdup (parent);
    k->type = g_strdup (type);
    k->bind = bind;
    k->create_rel = g_strdup_printf ("sys/class/mdev_bus/%s/mdev_supported_types/%s/create",
                                     parent, type);
    g_autofree char *fifo = P (f, k->create_rel);
    g_unlink (fifo);
    g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
    return g_thread_new ("fake-kernel", fake_kernel_thread, k);
}

static void
fake_kernel_clear (FakeKernel *k)
{
    g_free (k->create_rel);
    g_free (k->parent);
    g_free (k->type);
    g_free (k->written);
}

/* ---------------------------------------------------------------- tests */

static void
test_list (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr (GError) err = NULL;
    put (f, "sys/class/mdev_bus/" GPU_A "/mdev_supported_types/vgpu_sim-32m/devices/" UUID2, "");
    g_autoptr (GPtrArray) gpus = vgpu_list_gpus (&err);
    g_assert_no_error (err);
    g_assert_cmpuint (gpus->len, ==, 2);
    VgpuGpu *a = gpus->pdata[0], *b = gpus->pdata[1];
    g_assert_cmpstr (a->name, ==, GPU_A);
    g_assert_cmpstr (a->nodedev, ==, "pci_0000_00_05_0");
    g_assert_cmpstr (b->name, ==, GPU_B);
    g_assert_cmpuint (a->types->len, ==, 2);
    VgpuType *t16 = a->types->pdata[0], *t32 = a->types->pdata[1];
    g_assert_cmpstr (t16->id, ==, "vgpu_sim-16m");
    g_assert_cmpstr (t32->id, ==, "vgpu_sim-32m");
    g_assert_cmpstr (t32->parent, ==, GPU_A);
    g_assert_cmpstr (t32->name, ==, "vgpu_sim-32m");
    g_assert_cmpstr (t32->device_api, ==, "vfio-pci");
    g_assert_cmpint (t32->available, ==, 2);
    g_assert_cmpint (t16->available, ==, 4);
    g_assert_cmpuint (t32->fields->len, ==, 3);
    VgpuField *fb = t32->fields->pdata[0];
    g_assert_cmpstr (fb->key, ==, "framebuffer");
    g_assert_cmpstr (fb->value, ==, "32M");
    g_assert_cmpuint (t32->devices->len, ==, 1);
    g_assert_cmpstr (t32->devices->pdata[0], ==, UUID2);
    g_assert_cmpint (((VgpuType *) b->types->pdata[0])->available, ==, 0);
}

/* The kernel's own layout: the GPU and its vGPUs live under /sys/devices,
 * /sys/class/mdev_bus and /sys/bus/mdev/devices only link there, and a
 * vGPU's mdev_type link is relative to its own directory. */
static void
test_kernel_layout (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    const char *gpu = "sys/devices/pci0000:00/0000:00:07.0";
    g_autofree char *avail = g_strdup_printf ("%s/mdev_supported_types/vgpu_sim-64m/"
                                              "available_instances", gpu);
    put (f, avail, "1\n");
    link_to (f, "sys/class/mdev_bus/0000:00:07.0", "../../devices/pci0000:00/0000:00:07.0");
    g_autofree char *rm = g_strdup_printf ("%s/%s/remove", gpu, UUID1);
    g_autofree char *type_link = g_strdup_printf ("%s/%s/mdev_type", gpu, UUID1);
    g_autofree char *group_link = g_strdup_printf ("%s/%s/iommu_group", gpu, UUID1);
    put (f, rm, "");
    link_to (f, type_link, "../mdev_supported_types/vgpu_sim-64m");
    link_to (f, group_link, "../../../../kernel/iommu_groups/7");
    link_to (f, "sys/bus/mdev/devices/" UUID1, "../../../devices/pci0000:00/0000:00:07.0/" UUID1);

    g_autoptr (GError) err = NULL;
    g_autoptr (VgpuMdev) m = vgpu_get_mdev (UUID1, &err);
    g_assert_no_error (err);
    g_assert_cmpstr (m->type, ==, "vgpu_sim-64m");
    g_assert_cmpstr (m->parent, ==, "0000:00:07.0");
    g_assert_cmpint (m->iommu_group, ==, 7);
    g_autoptr (VgpuType) t = vgpu_get_type ("0000:00:07.0", "vgpu_sim-64m", &err);
    g_assert_no_error (err);
    g_assert_cmpint (t->available, ==, 1);
}

static void
test_list_empty_root (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *bus = P (f, "sys/class/mdev_bus");
    fake_rm_rf (bus);
    g_autoptr (GError) err = NULL;
    g_autoptr (GPtrArray) gpus = vgpu_list_gpus (&err);
    g_assert_no_error (err);
    g_assert_cmpuint (gpus->len, ==, 0);
    g_autoptr (GPtrArray) mdevs = vgpu_list_mdevs (&err);
    g_assert_no_error (err);
    g_assert_cmpuint (mdevs->len, ==, 0);
}

static void
test_get_type (Fixture *f G_GNUC_UNUSED, gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr (GError) err = NULL;
    g_autoptr (VgpuType) t = vgpu_get_type ("pci_0000_00_05_0", "vgpu_sim-16m", &err);
    g_assert_no_error (err);
    g_assert_cmpint (t->available, ==, 4);
    g_assert_null (vgpu_get_type (GPU_A, "vgpu_sim-64m", &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_NOT_FOUND);
    g_assert_nonnull (strstr (err->message, "vgpuctl types"));
    g_clear_error (&err);
    g_assert_null (vgpu_get_gpu ("0000:00:09.0", &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_NOT_FOUND);
    g_clear_error (&err);
    put (f, "sys/class/mdev_bus/" GPU_A "/mdev_supported_types/vgpu_sim-16m/available_instances",
         "lots\n");
    g_assert_null (vgpu_get_type (GPU_A, "vgpu_sim-16m", &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_IO);
}

static void
test_pick_parent (Fixture *f G_GNUC_UNUSED, gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr (GError) err = NULL;
    g_autofree char *p = vgpu_pick_parent (NULL, "vgpu_sim-32m", &err);
    g_assert_no_error (err);
    g_assert_cmpstr (p, ==, GPU_A);
    g_autofree char *q = vgpu_pick_parent ("pci_0000_00_06_0", "vgpu_sim-32m", &err);
    g_assert_no_error (err);
    g_assert_cmpstr (q, ==, GPU_B);
    g_assert_null (vgpu_pick_parent (NULL, "vgpu_sim-64m", &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_NOT_FOUND);
    g_clear_error (&err);
    g_assert_null (vgpu_pick_parent (GPU_B, "vgpu_sim-16m", &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_NOT_FOUND);
    g_clear_error (&err);
    put (f, "sys/class/mdev_bus/" GPU_A "/mdev_supported_types/vgpu_sim-32m/available_instances",
         "0\n");
    g_assert_null (vgpu_pick_parent (NULL, "vgpu_sim-32m", &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_NO_INSTANCES);
}

static GPtrArray *
attrs_new (const char *first, ...)
{
    GPtrArray *a = g_ptr_array_new_with_free_func ((GDestroyNotify) vgpu_attr_free);
    va_list ap;
    va_start (ap, first);
    for (const char *n = first; n; n = va_arg (ap, const char *)) {
        const char *v = va_arg (ap, const char *);
        g_ptr_array_add (a, vgpu_attr_new (n, v));
    }
    va_end (ap);
    return a;
}

static void
test_create_with_attrs (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    FakeKernel k = { 0 };
    GThread *th = fake_kernel_start (&k, f, GPU_A, "vgpu_sim-32m", TRUE);
    g_autoptr (GPtrArray) attrs = attrs_new ("vendor/max_fps", "30", "vendor/mode", "compat",
                                             NULL);
    g_autoptr (GError) err = NULL;
    g_autofree char *used = NULL;
    /* Upper-case UUID: written lower-case. */
    gboolean ok = vgpu_create ("pci_0000_00_05_0", "vgpu_sim-32m",
                               "0B1A7C52-5D2E-4B6C-9A43-2F4B3A1C8E10", attrs, 2000, &used, &err);
    g_thread_join (th);
    g_assert_no_error (err);
    g_assert_true (ok);
    g_assert_cmpstr (used, ==, GPU_A);
    g_assert_cmpstr (k.written, ==, UUID1);
    g_autofree char *fps = get (f, "sys/bus/mdev/devices/" UUID1 "/vendor/max_fps");
    g_autofree char *mode = get (f, "sys/bus/mdev/devices/" UUID1 "/vendor/mode");
    g_assert_cmpstr (fps, ==, "30");
    g_assert_cmpstr (mode, ==, "compat");
    g_autofree char *rm = get (f, "sys/bus/mdev/devices/" UUID1 "/remove");
    g_assert_cmpstr (rm, ==, "");

    /* It is now listed, with its type, parent, driver and group. */
    g_autoptr (VgpuMdev) m = vgpu_get_mdev (UUID1, &err);
    g_assert_no_error (err);
    g_assert_cmpstr (m->type, ==, "vgpu_sim-32m");
    g_assert_cmpstr (m->parent, ==, GPU_A);
    g_assert_cmpstr (m->driver, ==, "vgpu_vfio");
    g_assert_cmpint (m->iommu_group, ==, 12);
    g_autoptr (GPtrArray) all = vgpu_list_mdevs (&err);
    g_assert_no_error (err);
    g_assert_cmpuint (all->len, ==, 1);

    /* A second create with the same UUID is refused before writing. */
    g_autofree char *cr_rel = g_strdup (k.create_rel);
    fake_kernel_clear (&k);
    g_autofree char *fifo = P (f, cr_rel);
    g_unlink (fifo);
    put (f, cr_rel, "untouched");
    g_assert_false (vgpu_create (GPU_A, "vgpu_sim-32m", UUID1, NULL, 0, NULL, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_EXISTS);
    g_autofree char *cr = get (f, cr_rel);
    g_assert_cmpstr (cr, ==, "untouched");
}

static void
test_create_any_parent (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    FakeKernel k = { 0 };
    GThread *th = fake_kernel_start (&k, f, GPU_A, "vgpu_sim-16m", FALSE);
    g_autoptr (GError) err = NULL;
    g_autofree char *used = NULL;
    gboolean ok = vgpu_create (NULL, "vgpu_sim-16m", UUID2, NULL, 0, &used, &err);
    g_thread_join (th);
    g_assert_no_error (err);
    g_assert_true (ok);
    g_assert_cmpstr (used, ==, GPU_A);
    g_assert_cmpstr (k.written, ==, UUID2);
    fake_kernel_clear (&k);
}

/* A failing attribute stops the sequence: the earlier ones were written in
 * order, the later ones not, and the device was removed again. */
static void
test_create_attr_failure_removes (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    FakeKernel k = { 0 };
    GThread *th = fake_kernel_start (&k, f, GPU_A, "vgpu_sim-32m", TRUE);
    g_autoptr (GPtrArray) attrs = attrs_new ("vendor/max_fps", "24", "vendor/missing", "1",
                                             "vendor/mode", "never", NULL);
    g_autoptr (GError) err = NULL;
    gboolean ok = vgpu_create (GPU_A, "vgpu_sim-32m", UUID1, attrs, 0, NULL, &err);
    g_thread_join (th);
    g_assert_false (ok);
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_NOT_FOUND);
    g_assert_nonnull (strstr (err->message, "vendor/missing"));
    g_assert_nonnull (strstr (err->message, "removed again"));
    g_autofree char *fps = get (f, "sys/bus/mdev/devices/" UUID1 "/vendor/max_fps");
    g_autofree char *mode = get (f, "sys/bus/mdev/devices/" UUID1 "/vendor/mode");
    g_autofree char *rm = get (f, "sys/bus/mdev/devices/" UUID1 "/remove");
    g_assert_cmpstr (fps, ==, "24");
    g_assert_cmpstr (mode, ==, "default\n");
    g_assert_cmpstr (rm, ==, "1");
    fake_kernel_clear (&k);
}

/* Never bound within the timeout: error, device removed again. */
static void
test_create_bind_timeout (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    FakeKernel k = { 0 };
    GThread *th = fake_kernel_start (&k, f, GPU_A, "vgpu_sim-32m", FALSE);
    g_autoptr (GError) err = NULL;
    gint64 t0 = g_get_monotonic_time ();
    gboolean ok = vgpu_create (GPU_A, "vgpu_sim-32m", UUID1, NULL, 150, NULL, &err);
    gint64 ms = (g_get_monotonic_time () - t0) / 1000;
    g_thread_join (th);
    g_assert_false (ok);
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_TIMEOUT);
    g_assert_nonnull (strstr (err->message, "not bound"));
    g_assert_cmpint (ms, >=, 150);
    g_assert_cmpint (ms, <, 5000);
    g_autofree char *rm = get (f, "sys/bus/mdev/devices/" UUID1 "/remove");
    g_assert_cmpstr (rm, ==, "1");
    fake_kernel_clear (&k);
}

static void
test_create_no_instances (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr (GError) err = NULL;
    g_assert_false (vgpu_create (GPU_B, "vgpu_sim-32m", UUID1, NULL, 0, NULL, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_NO_INSTANCES);
    g_autofree char *cr = get (f, "sys/class/mdev_bus/" GPU_B
                                  "/mdev_supported_types/vgpu_sim-32m/create");
    g_assert_cmpstr (cr, ==, "");
}

/* The kernel refuses the UUID: the write error is reported. */
static void
test_create_kernel_refuses (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *cr = P (f, "sys/class/mdev_bus/" GPU_A
                                "/mdev_supported_types/vgpu_sim-32m/create");
    g_unlink (cr);
    g_assert_cmpint (g_mkdir (cr, 0755), ==, 0);   /* open(O_WRONLY) fails: EISDIR */
    g_autoptr (GError) err = NULL;
    g_assert_false (vgpu_create (GPU_A, "vgpu_sim-32m", UUID1, NULL, 0, NULL, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_IO);
    g_assert_nonnull (strstr (err->message, "create"));
}

typedef struct {
    const char *parent, *type, *uuid, *attr_name, *attr_value;
} BadCreate;

static const BadCreate bad_creates[] = {
    { GPU_A, "../vgpu_sim-32m", UUID1, NULL, NULL },
    { GPU_A, "vgpu_sim-32m/../../x", UUID1, NULL, NULL },
    { GPU_A, "..", UUID1, NULL, NULL },
    { GPU_A, "", UUID1, NULL, NULL },
    { "0000:00:05.0/..", "vgpu_sim-32m", UUID1, NULL, NULL },
    { "../0000:00:05.0", "vgpu_sim-32m", UUID1, NULL, NULL },
    { "pci_0000_00_05_0/..", "vgpu_sim-32m", UUID1, NULL, NULL },
    { GPU_A, "vgpu_sim-32m", "../" UUID1, NULL, NULL },
    { GPU_A, "vgpu_sim-32m", "0b1a7c52/5d2e-4b6c-9a43-2f4b3a1c8e10", NULL, NULL },
    { GPU_A, "vgpu_sim-32m", "", NULL, NULL },
    { GPU_A, "vgpu_sim-32m", UUID1, "../remove", "1" },
    { GPU_A, "vgpu_sim-32m", UUID1, "vendor/../../x", "1" },
    { GPU_A, "vgpu_sim-32m", UUID1, "/etc/passwd", "1" },
    { GPU_A, "vgpu_sim-32m", UUID1, "vendor/max_fps", "60\n; rm" },
};

static void
test_create_rejects (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    for (gsize i = 0; i < G_N_ELEMENTS (bad_creates); i++) {
        const BadCreate *b = &bad_creates[i];
        g_autoptr (GPtrArray) attrs = b->attr_name
            ? attrs_new (b->attr_name, b->attr_value, NULL) : NULL;
        g_autoptr (GError) err = NULL;
        if (vgpu_create (b->parent, b->type, b->uuid, attrs, 0, NULL, &err))
            g_error ("case %zu was accepted", i);
        g_assert_error (err, VGPU_ERROR, VGPU_ERROR_INVALID_NAME);
        /* Nothing was written anywhere. */
        g_autofree char *cr = get (f, "sys/class/mdev_bus/" GPU_A
                                      "/mdev_supported_types/vgpu_sim-32m/create");
        g_assert_cmpstr (cr, ==, "");
        g_autofree char *dev = P (f, "sys/bus/mdev/devices");
        g_autoptr (GDir) d = g_dir_open (dev, 0, NULL);
        g_assert_null (g_dir_read_name (d));
    }
    g_autoptr (GError) err = NULL;
    g_assert_false (vgpu_remove ("../../..", 0, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_INVALID_NAME);
    g_clear_error (&err);
    g_assert_null (vgpu_wait_bound ("x/y", 10, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_INVALID_NAME);
    g_clear_error (&err);
    g_assert_cmpint (vgpu_iommu_group ("..", &err), ==, -1);
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_INVALID_NAME);
    g_clear_error (&err);
    g_assert_null (vgpu_get_mdev ("/", &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_INVALID_NAME);
}

static void
make_existing (Fixture *f, const char *uuid, gboolean bound)
{
    FakeKernel k = { .f = f, .parent = (char *) GPU_A, .type = (char *) "vgpu_sim-32m",
                     .bind = bound };
    fake_make_device (&k, uuid);
}

static void
test_remove (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    make_existing (f, UUID2, TRUE);
    g_autoptr (GError) err = NULL;
    /* The fake kernel does not remove: the bounded wait fails. */
    g_assert_false (vgpu_remove (UUID2, 2000, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_TIMEOUT);
    g_clear_error (&err);
    g_autofree char *rm = get (f, "sys/bus/mdev/devices/" UUID2 "/remove");
    g_assert_cmpstr (rm, ==, "1");
    g_assert_false (vgpu_wait_removed (UUID2, 50, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_TIMEOUT);
    g_clear_error (&err);
    g_autofree char *dir = P (f, "sys/bus/mdev/devices/" UUID2);
    fake_rm_rf (dir);
    g_assert_true (vgpu_wait_removed (UUID2, 50, &err));
    g_assert_no_error (err);
    g_assert_false (vgpu_remove (UUID2, 0, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_NOT_FOUND);
}

typedef struct {
    Fixture *f;
    const char *uuid;
} BindLater;

static gpointer
bind_later (gpointer data)
{
    BindLater *b = data;
    g_usleep (60 * 1000);
    g_autofree char *rel = g_strdup_printf ("sys/bus/mdev/devices/%s/driver", b->uuid);
    link_to (b->f, rel, "../../../../bus/mdev/drivers/vgpu_vfio");
    return NULL;
}

static void
test_wait_bound (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    make_existing (f, UUID1, FALSE);
    g_autoptr (GError) err = NULL;
    gint64 t0 = g_get_monotonic_time ();
    g_assert_null (vgpu_wait_bound (UUID1, 80, &err));
    g_assert_cmpint ((g_get_monotonic_time () - t0) / 1000, >=, 80);
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_TIMEOUT);
    g_clear_error (&err);

    BindLater b = { f, UUID1 };
    GThread *th = g_thread_new ("bind", bind_later, &b);
    g_autofree char *drv = vgpu_wait_bound (UUID1, 3000, &err);
    g_thread_join (th);
    g_assert_no_error (err);
    g_assert_cmpstr (drv, ==, "vgpu_vfio");

    g_assert_null (vgpu_wait_bound (UUID2, 30, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_TIMEOUT);
    g_assert_nonnull (strstr (err->message, "did not appear"));
}

static void
test_iommu_group (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    make_existing (f, UUID1, TRUE);
    link_to (f, "sys/kernel/iommu_groups/12/devices/" UUID1,
             "../../../../bus/mdev/devices/" UUID1);
    g_autoptr (GError) err = NULL;
    g_assert_cmpint (vgpu_iommu_group (UUID1, &err), ==, 12);
    g_assert_no_error (err);

    /* /dev/vfio/12 missing */
    g_assert_null (vgpu_vfio_group_path (UUID1, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_NOT_FOUND);
    g_clear_error (&err);
    g_assert_false (vgpu_iommu_group_viable (12, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_NOT_VIABLE);
    g_clear_error (&err);

    put (f, "dev/vfio/12", "");
    g_autofree char *path = vgpu_vfio_group_path (UUID1, &err);
    g_assert_no_error (err);
    g_autofree char *expect = P (f, "dev/vfio/12");
    g_assert_cmpstr (path, ==, expect);
    g_assert_true (vgpu_iommu_group_viable (12, &err));
    g_assert_no_error (err);

    /* A device bound to a host driver in the same group breaks viability. */
    link_to (f, "sys/kernel/iommu_groups/12/devices/0000:00:07.0",
             "../../../../devices/pci0000:00/0000:00:07.0");
    link_to (f, "sys/devices/pci0000:00/0000:00:07.0/driver",
             "../../../bus/pci/drivers/snd_hda_intel");
    g_assert_false (vgpu_iommu_group_viable (12, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_NOT_VIABLE);
    g_assert_nonnull (strstr (err->message, "0000:00:07.0"));
    g_assert_nonnull (strstr (err->message, "snd_hda_intel"));
    g_clear_error (&err);

    /* Rebinding it to vfio-pci makes the group viable again. */
    g_autofree char *drv = P (f, "sys/devices/pci0000:00/0000:00:07.0/driver");
    g_unlink (drv);
    g_assert_cmpint (symlink ("../../../bus/pci/drivers/vfio-pci", drv), ==, 0);
    g_assert_true (vgpu_iommu_group_viable (12, &err));
    g_assert_no_error (err);

    /* The vGPU core's own mdev driver ("vgpu") is a VFIO-capable binding. */
    g_autofree char *mdrv = P (f, "sys/bus/mdev/devices/" UUID1 "/driver");
    g_unlink (mdrv);
    g_assert_cmpint (symlink ("../../../../bus/mdev/drivers/vgpu", mdrv), ==, 0);
    g_assert_true (vgpu_iommu_group_viable (12, &err));
    g_assert_no_error (err);

    g_assert_false (vgpu_iommu_group_viable (99, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_NOT_FOUND);
    g_clear_error (&err);

    /* A device without a group. */
    make_existing (f, UUID2, TRUE);
    g_autofree char *gl = P (f, "sys/bus/mdev/devices/" UUID2 "/iommu_group");
    g_unlink (gl);
    g_assert_cmpint (vgpu_iommu_group (UUID2, &err), ==, -1);
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_NOT_FOUND);
}

int
main (int argc, char **argv)
{
    g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) \
    g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD ("/sysfs/list", test_list);
    ADD ("/sysfs/kernel-layout", test_kernel_layout);
    ADD ("/sysfs/list-empty-root", test_list_empty_root);
    ADD ("/sysfs/get-type", test_get_type);
    ADD ("/sysfs/pick-parent", test_pick_parent);
    ADD ("/sysfs/create/with-attrs", test_create_with_attrs);
    ADD ("/sysfs/create/any-parent", test_create_any_parent);
    ADD ("/sysfs/create/attr-failure-removes", test_create_attr_failure_removes);
    ADD ("/sysfs/create/bind-timeout", test_create_bind_timeout);
    ADD ("/sysfs/create/no-instances", test_create_no_instances);
    ADD ("/sysfs/create/kernel-refuses", test_create_kernel_refuses);
    ADD ("/sysfs/create/rejected-names", test_create_rejects);
    ADD ("/sysfs/remove", test_remove);
    ADD ("/sysfs/wait-bound", test_wait_bound);
    ADD ("/sysfs/iommu-group", test_iommu_group);
    return g_test_run ();
}
