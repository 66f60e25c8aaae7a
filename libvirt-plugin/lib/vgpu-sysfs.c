/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvgpu: the mdev sysfs ABI (list, create, attributes, wait, remove,
 * IOMMU groups). Every path is built under vgpu_root(), and only from names
 * that passed vgpu_name_is_valid(). */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vgpu-private.h"

#define MDEV_BUS_DIR     "/sys/class/mdev_bus"
#define MDEV_DEVICES_DIR "/sys/bus/mdev/devices"
#define IOMMU_GROUPS_DIR "/sys/kernel/iommu_groups"
#define VFIO_DEV_DIR     "/dev/vfio"

/* Poll interval of the bounded waits. */
#define VGPU_POLL_US (10 * 1000)

/* vgpu_remove()'s bound when the caller gives none. */
#define VGPU_REMOVE_DEFAULT_MS 10000

/* -------------------------------------------------------------- freeing */

void
vgpu_field_free (VgpuField *f)
{
    if (!f)
        return;
    g_free (f->key);
    g_free (f->value);
    g_free (f);
}

void
vgpu_type_free (VgpuType *t)
{
    if (!t)
        return;
    g_free (t->id);
    g_free (t->parent);
    g_free (t->name);
    g_free (t->description);
    g_clear_pointer (&t->fields, g_ptr_array_unref);
    g_free (t->device_api);
    g_clear_pointer (&t->devices, g_ptr_array_unref);
    g_free (t);
}

void
vgpu_gpu_free (VgpuGpu *g)
{
    if (!g)
        return;
    g_free (g->name);
    g_free (g->nodedev);
    g_clear_pointer (&g->types, g_ptr_array_unref);
    g_free (g);
}

void
vgpu_mdev_free (VgpuMdev *m)
{
    if (!m)
        return;
    g_free (m->uuid);
    g_free (m->type);
    g_free (m->parent);
    g_free (m->driver);
    g_free (m);
}

VgpuAttr *
vgpu_attr_new (const char *name, const char *value)
{
    VgpuAttr *a = g_new0 (VgpuAttr, 1);
    a->name = g_strdup (name);
    a->value = g_strdup (value);
    return a;
}

void
vgpu_attr_free (VgpuAttr *a)
{
    if (!a)
        return;
    g_free (a->name);
    g_free (a->value);
    g_free (a);
}

/* ---------------------------------------------------------- description */

/* "key" of a "key=value" part: an identifier before the '='. */
static gboolean
description_key_ok (const char *s, gsize len)
{
    if (len == 0 || !(g_ascii_isalpha (s[0]) || s[0] == '_'))
        return FALSE;
    for (gsize i = 1; i < len; i++)
        if (!(g_ascii_isalnum (s[i]) || s[i] == '_' || s[i] == '-'))
            return FALSE;
    return TRUE;
}

GPtrArray *
vgpu_description_parse (const char *description)
{
    GPtrArray *fields = g_ptr_array_new_with_free_func ((GDestroyNotify) vgpu_field_free);
    if (description == NULL)
        return fields;

    g_auto (GStrv) parts = g_strsplit_set (description, ",\n", -1);
    VgpuField *prev = NULL;
    for (gsize i = 0; parts[i]; i++) {
        char *part = g_strstrip (parts[i]);
        if (part[0] == '\0')
            continue;
        char *eq = strchr (part, '=');
        g_autofree char *key = eq ? g_strstrip (g_strndup (part, eq - part)) : NULL;
        if (key && description_key_ok (key, strlen (key))) {
            prev = g_new0 (VgpuField, 1);
            prev->key = g_steal_pointer (&key);
            prev->value = g_strdup (g_strstrip (eq + 1));
            g_ptr_array_add (fields, prev);
        } else if (prev) {
            /* Free text with a comma, e.g. "description=32 MiB, one head". */
            char *joined = g_strconcat (prev->value, ", ", part, NULL);
            g_free (prev->value);
            prev->value = joined;
        } else {
            prev = g_new0 (VgpuField, 1);
            prev->key = g_strdup (part);
            prev->value = g_strdup ("");
            g_ptr_array_add (fields, prev);
        }
    }
    return fields;
}

/* ----------------------------------------------------------- helpers */

/* Names in @dir, sorted; NULL with an error if @dir cannot be read. */
static GPtrArray *
list_dir (const char *dir, GError **error)
{
    g_autoptr (GError) local = NULL;
    g_autoptr (GDir) d = g_dir_open (dir, 0, &local);
    if (d == NULL) {
        g_set_error (error, VGPU_ERROR,
                     g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                         ? VGPU_ERROR_NOT_FOUND : VGPU_ERROR_IO,
                     _("Cannot list %1$s: %2$s. Check that the vGPU kernel modules "
                       "are loaded."),
                     dir, local->message);
        return NULL;
    }
    GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
    const char *n;
    while ((n = g_dir_read_name (d)) != NULL)
        g_ptr_array_add (names, g_strdup (n));
    g_ptr_array_sort (names, vgpu_cmp_strings);
    return names;
}

/* basename of a symlink's target, or NULL if @path is no symlink. */
static char *
link_basename (const char *path)
{
    g_autofree char *target = g_file_read_link (path, NULL);
    if (target == NULL)
        return NULL;
    return g_path_get_basename (target);
}

char *
vgpu_mdev_dir (const char *uuid)
{
    g_autofree char *lower = g_ascii_strdown (uuid, -1);
    g_autofree char *rel = g_build_filename (MDEV_DEVICES_DIR, lower, NULL);
    return vgpu_root_path (rel);
}

static char *
type_dir (const char *sysfs_parent, const char *type)
{
    g_autofree char *rel = g_build_filename (MDEV_BUS_DIR, sysfs_parent,
                                             "mdev_supported_types", type, NULL);
    return vgpu_root_path (rel);
}

static char *
nodedev_name (const char *sysfs_parent)
{
    /* 0000:00:05.0 -> pci_0000_00_05_0 */
    g_autofree char *s = g_strdup (sysfs_parent);
    g_strdelimit (s, ":.", '_');
    return g_strconcat ("pci_", s, NULL);
}

/* Optional attribute: NULL when absent, error only for other failures. */
static gboolean
read_optional (const char *dir, const char *attr, char **out, GError **error)
{
    g_autofree char *path = g_build_filename (dir, attr, NULL);
    g_autoptr (GError) local = NULL;
    *out = vgpu_read_attr (path, &local);
    if (*out == NULL && !g_error_matches (local, VGPU_ERROR, VGPU_ERROR_NOT_FOUND)) {
        g_propagate_error (error, g_steal_pointer (&local));
        return FALSE;
    }
    return TRUE;
}

/* available_instances of the type in @dir: -1 when the file is absent. */
static gboolean
read_available (const char *dir, gint64 *out, GError **error)
{
    g_autofree char *avail = NULL;
    *out = -1;
    if (!read_optional (dir, "available_instances", &avail, error))
        return FALSE;
    if (avail) {
        guint64 v;
        if (!g_ascii_string_to_unsigned (avail, 10, 0, G_MAXINT64, &v, NULL)) {
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_IO,
                         _("%1$s/available_instances holds '%2$s', not a number; the "
                           "vGPU driver is misbehaving, check its kernel log."),
                         dir, avail);
            return FALSE;
        }
        *out = (gint64) v;
    }
    return TRUE;
}

static char *
existing_type_dir (const char *sysfs_parent, const char *type, GError **error)
{
    g_autofree char *dir = type_dir (sysfs_parent, type);
    if (!g_file_test (dir, G_FILE_TEST_IS_DIR)) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_NOT_FOUND,
                     _("GPU %1$s has no vGPU type '%2$s'; run 'vgpuctl types %1$s' to "
                       "see the types it supports."),
                     sysfs_parent, type);
        return NULL;
    }
    return g_steal_pointer (&dir);
}

/* Only the free instances of @type on @sysfs_parent: what choosing a GPU
 * needs, without the name, description and devices load_type() reads (the
 * hook does this for every GPU at every domain start, figure 12). */
static gboolean
type_available (const char *sysfs_parent, const char *type, gint64 *out, GError **error)
{
    g_autofree char *dir = existing_type_dir (sysfs_parent, type, error);
    return dir != NULL && read_available (dir, out, error);
}

static VgpuType *
load_type (const char *sysfs_parent, const char *type, GError **error)
{
    g_autofree char *dir = existing_type_dir (sysfs_parent, type, error);
    if (dir == NULL)
        return NULL;

    g_autoptr (VgpuType) t = g_new0 (VgpuType, 1);
    t->id = g_strdup (type);
    t->parent = g_strdup (sysfs_parent);
    if (!read_optional (dir, "name", &t->name, error) ||
        !read_optional (dir, "description", &t->description, error) ||
        !read_optional (dir, "device_api", &t->device_api, error))
        return NULL;
    t->fields = vgpu_description_parse (t->description);

    if (!read_available (dir, &t->available, error))
        return NULL;

    g_autofree char *devdir = g_build_filename (dir, "devices", NULL);
    if (g_file_test (devdir, G_FILE_TEST_IS_DIR)) {
        t->devices = list_dir (devdir, error);
        if (t->devices == NULL)
            return NULL;
    } else {
        t->devices = g_ptr_array_new_with_free_func (g_free);
    }
    return g_steal_pointer (&t);
}

static VgpuGpu *
load_gpu (const char *sysfs_parent, GError **error)
{
    g_autofree char *rel = g_build_filename (MDEV_BUS_DIR, sysfs_parent,
                                             "mdev_supported_types", NULL);
    g_autofree char *dir = vgpu_root_path (rel);
    if (!g_file_test (dir, G_FILE_TEST_IS_DIR)) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_NOT_FOUND,
                     _("%1$s is not a vGPU-capable GPU (no %2$s); run 'vgpuctl types' "
                       "to see the GPUs."),
                     sysfs_parent, dir);
        return NULL;
    }
    g_autoptr (GPtrArray) names = list_dir (dir, error);
    if (names == NULL)
        return NULL;

    g_autoptr (VgpuGpu) gpu = g_new0 (VgpuGpu, 1);
    gpu->name = g_strdup (sysfs_parent);
    gpu->nodedev = nodedev_name (sysfs_parent);
    gpu->types = g_ptr_array_new_with_free_func ((GDestroyNotify) vgpu_type_free);
    for (guint i = 0; i < names->len; i++) {
        const char *n = names->pdata[i];
        if (!vgpu_name_is_valid (VGPU_NAME_TYPE, n, NULL)) {
            g_warning ("Ignoring oddly named type directory %s/%s", dir, n);
            continue;
        }
        VgpuType *t = load_type (sysfs_parent, n, error);
        if (t == NULL)
            return NULL;
        g_ptr_array_add (gpu->types, t);
    }
    return g_steal_pointer (&gpu);
}

/* ---------------------------------------------------------------- listing */

GPtrArray *
vgpu_list_gpus (GError **error)
{
    g_autofree char *dir = vgpu_root_path (MDEV_BUS_DIR);
    g_autoptr (GPtrArray) gpus =
        g_ptr_array_new_with_free_func ((GDestroyNotify) vgpu_gpu_free);
    if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
        return g_steal_pointer (&gpus);   /* mdev not loaded: no GPUs */

    g_autoptr (GPtrArray) names = list_dir (dir, error);
    if (names == NULL)
        return NULL;
    for (guint i = 0; i < names->len; i++) {
        const char *n = names->pdata[i];
        if (!vgpu_name_is_valid (VGPU_NAME_PARENT, n, NULL)) {
            /* Not a PCI parent (e.g. a CSS or AP device): not ours to list. */
            continue;
        }
        VgpuGpu *g = load_gpu (n, error);
        if (g == NULL)
            return NULL;
        g_ptr_array_add (gpus, g);
    }
    return g_steal_pointer (&gpus);
}

VgpuGpu *
vgpu_get_gpu (const char *parent, GError **error)
{
    g_autofree char *p = vgpu_parent_to_sysfs (parent, error);
    if (p == NULL)
        return NULL;
    return load_gpu (p, error);
}

VgpuType *
vgpu_get_type (const char *parent, const char *type, GError **error)
{
    g_autofree char *p = vgpu_parent_to_sysfs (parent, error);
    if (p == NULL || !vgpu_name_is_valid (VGPU_NAME_TYPE, type, error))
        return NULL;
    return load_type (p, type, error);
}

static VgpuMdev *
load_mdev (const char *uuid, GError **error)
{
    g_autofree char *dir = vgpu_mdev_dir (uuid);
    if (!g_file_test (dir, G_FILE_TEST_IS_DIR)) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_NOT_FOUND,
                     _("There is no vGPU %1$s; run 'vgpuctl list' to see the existing ones."),
                     uuid);
        return NULL;
    }
    g_autoptr (VgpuMdev) m = g_new0 (VgpuMdev, 1);
    m->uuid = g_ascii_strdown (uuid, -1);
    g_autofree char *type_link = g_build_filename (dir, "mdev_type", NULL);
    m->type = link_basename (type_link);
    /* .../PARENT/mdev_supported_types/TYPE: the parent is two up. The
     * kernel's link is relative to the device's own directory
     * ("../mdev_supported_types/TYPE"), so resolve it fully first. */
    char *target = realpath (type_link, NULL);
    if (target) {
        g_autofree char *up1 = g_path_get_dirname (target);
        g_autofree char *up2 = g_path_get_dirname (up1);
        m->parent = g_path_get_basename (up2);
        free (target);
    }
    g_autofree char *drv = g_build_filename (dir, "driver", NULL);
    m->driver = link_basename (drv);
    g_autofree char *grp_link = g_build_filename (dir, "iommu_group", NULL);
    g_autofree char *grp = link_basename (grp_link);
    guint64 n;
    m->iommu_group = (grp && g_ascii_string_to_unsigned (grp, 10, 0, G_MAXINT, &n, NULL))
                         ? (int) n : -1;
    return g_steal_pointer (&m);
}

GPtrArray *
vgpu_list_mdevs (GError **error)
{
    g_autofree char *dir = vgpu_root_path (MDEV_DEVICES_DIR);
    g_autoptr (GPtrArray) out =
        g_ptr_array_new_with_free_func ((GDestroyNotify) vgpu_mdev_free);
    if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
        return g_steal_pointer (&out);
    g_autoptr (GPtrArray) names = list_dir (dir, error);
    if (names == NULL)
        return NULL;
    for (guint i = 0; i < names->len; i++) {
        const char *n = names->pdata[i];
        if (!vgpu_name_is_valid (VGPU_NAME_UUID, n, NULL))
            continue;
        VgpuMdev *m = load_mdev (n, error);
        if (m == NULL)
            return NULL;
        g_ptr_array_add (out, m);
    }
    return g_steal_pointer (&out);
}

VgpuMdev *
vgpu_get_mdev (const char *uuid, GError **error)
{
    if (!vgpu_name_is_valid (VGPU_NAME_UUID, uuid, error))
        return NULL;
    return load_mdev (uuid, error);
}

/* --------------------------------------------------------------- create */

static void
set_all_full (const char *type, GError **error)
{
    g_set_error (error, VGPU_ERROR, VGPU_ERROR_NO_INSTANCES,
                 _("Every GPU offering vGPU type '%1$s' is full; remove a vGPU or "
                   "choose another type."),
                 type);
}

/* The GPUs offering @type with a free instance now, in name order. Reads
 * only @type's directory on each GPU, not every type of every GPU: the hook
 * runs this at every domain start (benchmark figure 12). */
static GPtrArray *
candidate_parents (const char *type, GError **error)
{
    g_autofree char *bus = vgpu_root_path (MDEV_BUS_DIR);
    g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
    gboolean seen = FALSE;
    if (g_file_test (bus, G_FILE_TEST_IS_DIR)) {
        g_autoptr (GPtrArray) names = list_dir (bus, error);
        if (names == NULL)
            return NULL;
        for (guint i = 0; i < names->len; i++) {
            const char *n = names->pdata[i];
            /* Not a PCI parent (e.g. a CSS or AP device): not ours. */
            if (!vgpu_name_is_valid (VGPU_NAME_PARENT, n, NULL))
                continue;
            g_autofree char *dir = type_dir (n, type);
            if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
                continue;
            gint64 available;
            if (!read_available (dir, &available, error))
                return NULL;
            seen = TRUE;
            if (available > 0)
                g_ptr_array_add (out, g_strdup (n));
        }
    }
    if (out->len > 0)
        return g_steal_pointer (&out);
    if (seen)
        set_all_full (type, error);
    else
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_NOT_FOUND,
                     _("No GPU offers vGPU type '%1$s'; run 'vgpuctl types' to see the "
                       "available types."),
                     type);
    return NULL;
}

char *
vgpu_pick_parent (const char *parent, const char *type, GError **error)
{
    if (!vgpu_name_is_valid (VGPU_NAME_TYPE, type, error))
        return NULL;

    if (parent != NULL) {
        g_autofree char *p = vgpu_parent_to_sysfs (parent, error);
        if (p == NULL)
            return NULL;
        g_autofree char *gpudir_rel = g_build_filename (MDEV_BUS_DIR, p, NULL);
        g_autofree char *gpudir = vgpu_root_path (gpudir_rel);
        if (!g_file_test (gpudir, G_FILE_TEST_IS_DIR)) {
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_NOT_FOUND,
                         _("GPU %1$s does not exist or is not vGPU-capable; run "
                           "'vgpuctl types' to see the GPUs."),
                         parent);
            return NULL;
        }
        gint64 available;
        if (!type_available (p, type, &available, error))
            return NULL;
        return g_steal_pointer (&p);
    }

    g_autoptr (GPtrArray) candidates = candidate_parents (type, error);
    return candidates ? g_strdup (candidates->pdata[0]) : NULL;
}

static gboolean
attr_value_ok (const VgpuAttr *a, GError **error)
{
    const char *end;
    gsize len = a->value ? strlen (a->value) : 0;
    gboolean ok = a->value != NULL && len < 4096 && g_utf8_validate (a->value, -1, &end);
    for (gsize i = 0; ok && i < len; i++)
        if (g_ascii_iscntrl (a->value[i]))
            ok = FALSE;
    if (!ok)
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_INVALID_NAME,
                     _("Invalid value for attribute '%1$s': use at most 4095 bytes of "
                       "UTF-8 text without control characters."),
                     a->name);
    return ok;
}

/* How long vgpu_create() waits for the device directory at least. */
#define VGPU_APPEAR_MS 2000

static gboolean
wait_exists (const char *path, guint timeout_ms)
{
    gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
    while (!g_file_test (path, G_FILE_TEST_IS_DIR)) {
        if (g_get_monotonic_time () >= deadline)
            return FALSE;
        g_usleep (VGPU_POLL_US);
    }
    return TRUE;
}

/* Writes vendor attribute @a ("vendor/NAME", validated) of the device in
 * @dev: the group and the file are opened relative to the device directory
 * and never through a symbolic link, so no name reaches outside vendor/. */
static gboolean
write_vendor_attr (const char *dev, const VgpuAttr *a, GError **error)
{
    const char *slash = strchr (a->name, '/');
    g_autofree char *group = g_strndup (a->name, slash - a->name);
    g_autofree char *path = g_build_filename (dev, a->name, NULL);
    int fd = -1, e = 0;
    int dfd = open (dev, O_PATH | O_DIRECTORY | O_CLOEXEC);
    int gfd = dfd < 0 ? -1 : openat (dfd, group, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (gfd >= 0)
        fd = openat (gfd, slash + 1, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        e = errno;
    struct stat st;
    if (fd >= 0 && (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode)))
        e = EINVAL;
    if (gfd >= 0)
        close (gfd);
    if (dfd >= 0)
        close (dfd);
    if (e != 0) {
        if (fd >= 0)
            close (fd);
        g_set_error (error, VGPU_ERROR, e == ENOENT ? VGPU_ERROR_NOT_FOUND : VGPU_ERROR_IO,
                     _("Cannot open vendor attribute %1$s for writing: %2$s. Check the "
                       "attribute names the vGPU type offers (ls %3$s/vendor)."),
                     path, g_strerror (e), dev);
        return FALSE;
    }
    return vgpu_write_fd (fd, path, a->value, error);
}

/* Creates @uuid on GPU @p: the create write, the wait for the device, the
 * vendor attributes, the wait for the driver. Whatever fails after the
 * create write removes the device again. */
static gboolean
create_on (const char *p, const char *type, const char *lower, GPtrArray *attrs,
           guint timeout_ms, GError **error)
{
    g_autofree char *dev = vgpu_mdev_dir (lower);
    g_autofree char *tdir = type_dir (p, type);
    g_autofree char *create = g_build_filename (tdir, "create", NULL);
    if (!vgpu_write_attr (create, lower, error))
        return FALSE;

    /* The kernel registers the device before the write returns; the wait
     * only matters for slow or emulated sysfs implementations. */
    if (!wait_exists (dev, MAX (timeout_ms, VGPU_APPEAR_MS))) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_TIMEOUT,
                     _("The kernel accepted vGPU %1$s but its device %2$s did not appear; "
                       "check the vGPU driver's kernel log (dmesg)."),
                     lower, dev);
        return FALSE;
    }

    for (guint i = 0; attrs && i < attrs->len; i++) {
        const VgpuAttr *a = attrs->pdata[i];
        if (!write_vendor_attr (dev, a, error)) {
            g_prefix_error (error, _("Could not apply vendor attribute '%1$s' to new vGPU "
                                     "%2$s, so it was removed again: "),
                            a->name, lower);
            vgpu_remove (lower, timeout_ms, NULL);
            return FALSE;
        }
    }

    if (timeout_ms > 0) {
        g_autofree char *drv = vgpu_wait_bound (lower, timeout_ms, error);
        if (drv == NULL) {
            vgpu_remove (lower, timeout_ms, NULL);
            return FALSE;
        }
    }
    return TRUE;
}

/* Every VgpuAttr of @attrs (may be NULL) has a valid name and value. */
static gboolean
attrs_valid (GPtrArray *attrs, GError **error)
{
    for (guint i = 0; attrs && i < attrs->len; i++) {
        const VgpuAttr *a = attrs->pdata[i];
        if (!vgpu_name_is_valid (VGPU_NAME_ATTR, a->name, error) || !attr_value_ok (a, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
vgpu_set_attrs (const char *uuid, GPtrArray *attrs, GError **error)
{
    if (!vgpu_name_is_valid (VGPU_NAME_UUID, uuid, error) || !attrs_valid (attrs, error))
        return FALSE;
    g_autofree char *lower = g_ascii_strdown (uuid, -1);
    g_autofree char *dev = vgpu_mdev_dir (lower);
    if (!g_file_test (dev, G_FILE_TEST_IS_DIR)) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_NOT_FOUND,
                     _("vGPU %1$s does not exist; start it first."), lower);
        return FALSE;
    }
    for (guint i = 0; attrs && i < attrs->len; i++) {
        const VgpuAttr *a = attrs->pdata[i];
        g_autoptr (GError) e = NULL;
        if (write_vendor_attr (dev, a, &e))
            continue;
        if (g_error_matches (e, VGPU_ERROR, VGPU_ERROR_BUSY)) {
            /* The vGPU core takes attributes only before the first open. */
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_BUSY,
                         _("vGPU %1$s has been opened by a VM, so its vendor attribute "
                           "'%2$s' can no longer change; change its stored definition "
                           "(mdevctl modify --defined, virsh nodedev-update --config) and "
                           "restart the vGPU while no VM uses it."),
                         lower, a->name);
        } else {
            g_propagate_error (error, g_steal_pointer (&e));
        }
        return FALSE;
    }
    return TRUE;
}

/* After a failed create write: did another program take the last free
 * instance of @type on @p (so the next GPU may do)? */
static gboolean
lost_race (const char *p, const char *type)
{
    gint64 available;
    return type_available (p, type, &available, NULL) && available == 0;
}

gboolean
vgpu_create (const char *parent, const char *type, const char *uuid,
             GPtrArray *attrs, guint timeout_ms, char **parent_out, GError **error)
{
    /* Validate everything before touching sysfs. */
    if (!vgpu_name_is_valid (VGPU_NAME_UUID, uuid, error) ||
        !vgpu_name_is_valid (VGPU_NAME_TYPE, type, error) || !attrs_valid (attrs, error))
        return FALSE;
    g_autofree char *lower = g_ascii_strdown (uuid, -1);

    /* Choosing a GPU and creating on it is one step for every program that
     * goes through libvgpu. */
    g_autoptr (VgpuLock) lock = vgpu_lock_host (VGPU_LOCK_DEFAULT_MS, error);
    if (lock == NULL)
        return FALSE;

    g_autoptr (GPtrArray) parents = NULL;
    if (parent != NULL) {
        g_autofree char *p = vgpu_pick_parent (parent, type, error);
        if (p == NULL)
            return FALSE;
        parents = g_ptr_array_new_with_free_func (g_free);
        g_ptr_array_add (parents, g_steal_pointer (&p));
    } else {
        parents = candidate_parents (type, error);
        if (parents == NULL)
            return FALSE;
    }

    g_autofree char *dev = vgpu_mdev_dir (lower);
    if (g_file_test (dev, G_FILE_TEST_EXISTS)) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_EXISTS,
                     _("A vGPU with UUID %1$s already exists; remove it first or use "
                       "another UUID."),
                     lower);
        return FALSE;
    }
    /* A record left by an earlier vGPU with this UUID must not make the new
     * one look owned. */
    if (!vgpu_owner_drop (lower, error))
        return FALSE;

    for (guint i = 0; i < parents->len; i++) {
        const char *p = parents->pdata[i];
        gint64 available;
        if (!type_available (p, type, &available, error))
            return FALSE;
        if (available == 0 && parent == NULL)
            continue;           /* taken since the list was made */
        if (available == 0) {
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_NO_INSTANCES,
                         _("GPU %1$s has no free instance of vGPU type '%2$s'; remove a "
                           "vGPU or choose another parent or type."),
                         p, type);
            return FALSE;
        }
        g_autoptr (GError) local = NULL;
        if (create_on (p, type, lower, attrs, timeout_ms, &local)) {
            if (parent_out)
                *parent_out = g_strdup (p);
            return TRUE;
        }
        /* Another program (mdevctl, a script) took the last instance
         * between our check and our write: try the next GPU. */
        if (parent == NULL && i + 1 < parents->len && lost_race (p, type))
            continue;
        g_propagate_error (error, g_steal_pointer (&local));
        return FALSE;
    }
    set_all_full (type, error);
    return FALSE;
}

/* ---------------------------------------------------------------- remove */

void
vgpu_holder_free (VgpuHolder *h)
{
    if (!h)
        return;
    g_free (h->comm);
    g_free (h->node);
    g_free (h);
}

/* ROOT + @rel as /proc shows a file descriptor's target (symbolic links
 * resolved), when it exists. */
static void
add_node (GPtrArray *nodes, const char *rel)
{
    g_autofree char *path = vgpu_root_path (rel);
    char *real = realpath (path, NULL);
    if (real) {
        g_ptr_array_add (nodes, g_strdup (real));
        free (real);
    }
}

/* The device nodes through which a process can hold vGPU @uuid: its VFIO
 * group, and its VFIO device node where the kernel has them (vfio-dev/). */
static GPtrArray *
holder_nodes (const char *uuid)
{
    GPtrArray *nodes = g_ptr_array_new_with_free_func (g_free);
    g_autoptr (GError) local = NULL;
    int group = vgpu_iommu_group (uuid, &local);
    if (group >= 0) {
        g_autofree char *rel = g_strdup_printf (VFIO_DEV_DIR "/%d", group);
        add_node (nodes, rel);
    }
    g_autofree char *dev = vgpu_mdev_dir (uuid);
    g_autofree char *cdevs = g_build_filename (dev, "vfio-dev", NULL);
    g_autoptr (GDir) d = g_dir_open (cdevs, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name (d)) != NULL) {
        if (!g_str_has_prefix (n, "vfio") || !vgpu_name_is_valid (VGPU_NAME_TYPE, n, NULL))
            continue;
        g_autofree char *rel = g_build_filename (VFIO_DEV_DIR, "devices", n, NULL);
        add_node (nodes, rel);
    }
    return nodes;
}

static gboolean
is_one_of (const char *s, GPtrArray *strings)
{
    for (guint i = 0; i < strings->len; i++)
        if (strcmp (s, strings->pdata[i]) == 0)
            return TRUE;
    return FALSE;
}

GPtrArray *
vgpu_holders (const char *uuid, GError **error)
{
    if (!vgpu_name_is_valid (VGPU_NAME_UUID, uuid, error))
        return NULL;
    g_autofree char *lower = g_ascii_strdown (uuid, -1);
    g_autoptr (GPtrArray) nodes = holder_nodes (lower);
    g_autoptr (GPtrArray) holders =
        g_ptr_array_new_with_free_func ((GDestroyNotify) vgpu_holder_free);
    if (nodes->len == 0)
        return g_steal_pointer (&holders);

    /* /proc lists processes, not part of the (relocatable) system tree. */
    g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
    const char *pid_s;
    guint64 self = (guint64) getpid ();
    while (proc && (pid_s = g_dir_read_name (proc)) != NULL) {
        guint64 pid;
        if (!g_ascii_string_to_unsigned (pid_s, 10, 1, G_MAXINT, &pid, NULL) || pid == self)
            continue;
        g_autofree char *fddir = g_strdup_printf ("/proc/%s/fd", pid_s);
        g_autoptr (GDir) fds = g_dir_open (fddir, 0, NULL);   /* others' may be private */
        const char *fd_s;
        while (fds && (fd_s = g_dir_read_name (fds)) != NULL) {
            g_autofree char *link = g_build_filename (fddir, fd_s, NULL);
            g_autofree char *target = g_file_read_link (link, NULL);
            if (target == NULL || !is_one_of (target, nodes))
                continue;
            VgpuHolder *h = g_new0 (VgpuHolder, 1);
            h->pid = (int) pid;
            g_autofree char *comm_path = g_strdup_printf ("/proc/%s/comm", pid_s);
            h->comm = vgpu_read_attr (comm_path, NULL);
            h->node = g_steal_pointer (&target);
            g_ptr_array_add (holders, h);
            break;
        }
    }
    return g_steal_pointer (&holders);
}

/* "process 1234 (qemu-system-x86), process 99 (a.out)" */
static char *
describe_holders (GPtrArray *holders)
{
    GString *s = g_string_new (NULL);
    for (guint i = 0; i < holders->len; i++) {
        const VgpuHolder *h = holders->pdata[i];
        if (i > 0)
            g_string_append (s, ", ");
        g_string_append_printf (s, _("process %1$d (%2$s)"), h->pid, h->comm ? h->comm : "?");
    }
    return g_string_free (s, FALSE);
}

/* Closes every descriptor from @from up (the child of write_bounded must
 * not keep the parent's locks or pipes alive). */
static void
close_from (int from)
{
#ifdef SYS_close_range
    if (syscall (SYS_close_range, (unsigned int) from, ~0U, 0) == 0)
        return;
#endif
    long max = sysconf (_SC_OPEN_MAX);
    for (long fd = from; fd < (max > 0 ? max : 1024); fd++)
        close ((int) fd);
}

/* Writes @value to @path from a child process and waits for it at most
 * until @deadline (monotonic, µs). A sysfs 'remove' blocks in the kernel,
 * uninterruptibly, until every user of the device has let go: the child
 * takes that wait, so the caller never does. It keeps no descriptor of the
 * caller's but the pipe it reports on (stdin/stdout/stderr go to
 * /dev/null), so the caller's pipes close and its locks go when it exits.
 * *@pending is set when the write was still blocked at the deadline. */
static gboolean
write_bounded (const char *path, const char *value, gint64 deadline, gboolean *pending,
               GError **error)
{
    *pending = FALSE;
    gsize len = strlen (value);
    int pfd[2];
    if (pipe2 (pfd, O_CLOEXEC) < 0) {
        int e = errno;
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_IO, _("Cannot start a process to write "
                     "%1$s: %2$s."), path, g_strerror (e));
        return FALSE;
    }
    pid_t pid = fork ();
    if (pid < 0) {
        int e = errno;
        close (pfd[0]);
        close (pfd[1]);
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_IO, _("Cannot start a process to write "
                     "%1$s: %2$s."), path, g_strerror (e));
        return FALSE;
    }
    if (pid == 0) {
        /* Only async-signal-safe calls from here on. */
        int null = open ("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2 (null, 0);
            dup2 (null, 1);
            dup2 (null, 2);
        }
        if (pfd[1] != 3)
            dup2 (pfd[1], 3);
        close_from (4);
        signal (SIGPIPE, SIG_IGN);
        int e = 0;
        int fd = open (path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            e = errno;
        } else {
            ssize_t n = write (fd, value, len);
            e = n < 0 ? errno : ((gsize) n != len ? EIO : 0);
            if (close (fd) < 0 && e == 0)
                e = errno;
        }
        if (write (3, &e, sizeof e) < 0) {
            /* the caller gave up waiting */
        }
        _exit (0);
    }

    close (pfd[1]);
    int e = -1;
    for (;;) {
        gint64 left = deadline - g_get_monotonic_time ();
        struct pollfd p = { .fd = pfd[0], .events = POLLIN };
        int r = poll (&p, 1, left > 0 ? (int) MIN (left / 1000 + 1, G_MAXINT) : 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r > 0) {
            ssize_t n = read (pfd[0], &e, sizeof e);
            if (n != (ssize_t) sizeof e)
                e = EIO;        /* the child died without a word */
        }
        break;
    }
    close (pfd[0]);
    if (e < 0) {
        /* Still blocked in the kernel: it finishes (and is reaped by init
         * once we exit) when the device is released. */
        *pending = TRUE;
        return FALSE;
    }
    waitpid (pid, NULL, 0);     /* it has answered: exits at once */
    if (e != 0) {
        g_set_error (error, VGPU_ERROR, e == ENOENT ? VGPU_ERROR_NOT_FOUND : VGPU_ERROR_IO,
                     _("Writing '%1$s' to %2$s failed: %3$s. The kernel refused the "
                       "value; check its log (dmesg)."),
                     value, path, g_strerror (e));
        return FALSE;
    }
    return TRUE;
}

gboolean
vgpu_remove (const char *uuid, guint timeout_ms, GError **error)
{
    if (!vgpu_name_is_valid (VGPU_NAME_UUID, uuid, error))
        return FALSE;
    g_autofree char *lower = g_ascii_strdown (uuid, -1);
    g_autofree char *dev = vgpu_mdev_dir (lower);
    if (!g_file_test (dev, G_FILE_TEST_IS_DIR)) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_NOT_FOUND,
                     _("There is no vGPU %1$s to remove; run 'vgpuctl list' to see the "
                       "existing ones."),
                     lower);
        return FALSE;
    }
    if (timeout_ms == 0)
        timeout_ms = VGPU_REMOVE_DEFAULT_MS;
    gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

    g_autoptr (GPtrArray) holders = vgpu_holders (lower, error);
    if (holders == NULL)
        return FALSE;
    if (holders->len > 0) {
        g_autofree char *who = describe_holders (holders);
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_BUSY,
                     _("vGPU %1$s is in use by %2$s; stop that program (or the domain it "
                       "runs) before removing the vGPU."),
                     lower, who);
        return FALSE;
    }

    g_autoptr (VgpuLock) lock = vgpu_lock_host (timeout_ms, error);
    if (lock == NULL)
        return FALSE;
    g_autofree char *path = g_build_filename (dev, "remove", NULL);
    gboolean pending;
    if (!write_bounded (path, "1", deadline, &pending, error)) {
        if (pending)
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_BUSY,
                         _("vGPU %1$s is still in use %2$u ms after its removal was "
                           "requested; it disappears once its user lets go of it (see "
                           "'vgpuctl list')."),
                         lower, timeout_ms);
        return FALSE;
    }
    vgpu_owner_drop (lower, NULL);
    gint64 left = deadline - g_get_monotonic_time ();
    return vgpu_wait_removed (lower, left > 0 ? (guint) (left / 1000) : 0, error);
}

/* ----------------------------------------------------------------- waits */

char *
vgpu_wait_bound (const char *uuid, guint timeout_ms, GError **error)
{
    if (!vgpu_name_is_valid (VGPU_NAME_UUID, uuid, error))
        return NULL;
    g_autofree char *dev = vgpu_mdev_dir (uuid);
    g_autofree char *drv = g_build_filename (dev, "driver", NULL);
    gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
    for (;;) {
        char *name = link_basename (drv);
        if (name)
            return name;
        if (g_get_monotonic_time () >= deadline)
            break;
        g_usleep (VGPU_POLL_US);
    }
    if (!g_file_test (dev, G_FILE_TEST_IS_DIR))
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_TIMEOUT,
                     _("vGPU %1$s did not appear within %2$u ms; check the vGPU "
                       "driver's kernel log (dmesg)."),
                     uuid, timeout_ms);
    else
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_TIMEOUT,
                     _("vGPU %1$s was created but not bound to a driver within %2$u ms; "
                       "check that the vgpu_vfio module is loaded."),
                     uuid, timeout_ms);
    return NULL;
}

gboolean
vgpu_wait_removed (const char *uuid, guint timeout_ms, GError **error)
{
    if (!vgpu_name_is_valid (VGPU_NAME_UUID, uuid, error))
        return FALSE;
    g_autofree char *dev = vgpu_mdev_dir (uuid);
    gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
    for (;;) {
        if (!g_file_test (dev, G_FILE_TEST_EXISTS))
            return TRUE;
        if (g_get_monotonic_time () >= deadline)
            break;
        g_usleep (VGPU_POLL_US);
    }
    g_set_error (error, VGPU_ERROR, VGPU_ERROR_TIMEOUT,
                 _("vGPU %1$s was still present %2$u ms after its removal was requested; "
                   "a program (QEMU?) may still hold it open."),
                 uuid, timeout_ms);
    return FALSE;
}

/* ----------------------------------------------------------------- IOMMU */

int
vgpu_iommu_group (const char *uuid, GError **error)
{
    if (!vgpu_name_is_valid (VGPU_NAME_UUID, uuid, error))
        return -1;
    g_autofree char *dev = vgpu_mdev_dir (uuid);
    if (!g_file_test (dev, G_FILE_TEST_IS_DIR)) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_NOT_FOUND,
                     _("There is no vGPU %1$s; create it first."), uuid);
        return -1;
    }
    g_autofree char *link = g_build_filename (dev, "iommu_group", NULL);
    g_autofree char *grp = link_basename (link);
    guint64 n;
    if (grp == NULL || !g_ascii_string_to_unsigned (grp, 10, 0, G_MAXINT, &n, NULL)) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_NOT_FOUND,
                     _("vGPU %1$s has no IOMMU group; it is probably not bound to "
                       "vgpu_vfio yet (check that the module is loaded)."),
                     uuid);
        return -1;
    }
    return (int) n;
}

char *
vgpu_vfio_group_path (const char *uuid, GError **error)
{
    int group = vgpu_iommu_group (uuid, error);
    if (group < 0)
        return NULL;
    g_autofree char *rel = g_strdup_printf (VFIO_DEV_DIR "/%d", group);
    g_autofree char *path = vgpu_root_path (rel);
    if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_NOT_FOUND,
                     _("The VFIO group device %1$s of vGPU %2$s does not exist; check "
                       "that the vfio module is loaded."),
                     path, uuid);
        return NULL;
    }
    return g_steal_pointer (&path);
}

/* Drivers under which a device does not break a VFIO group's viability
 * (as in the kernel's vfio group checks: VFIO drivers, pci-stub, bridges). */
static const char *const viable_drivers[] = {
    "vgpu",        /* the vGPU core's mdev driver (kernel/core), which hands
                    * the device to vgpu_vfio */
    "vfio-pci", "vfio_mdev", "vgpu_vfio", "pci-stub", "pcieport",
};

static gboolean
driver_is_viable (const char *driver)
{
    if (driver == NULL || g_str_has_prefix (driver, "vfio"))
        return TRUE;
    for (gsize i = 0; i < G_N_ELEMENTS (viable_drivers); i++)
        if (strcmp (driver, viable_drivers[i]) == 0)
            return TRUE;
    return FALSE;
}

gboolean
vgpu_iommu_group_viable (int group, GError **error)
{
    if (group < 0) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_INVALID_NAME,
                     _("Invalid IOMMU group %1$d."), group);
        return FALSE;
    }
    g_autofree char *rel = g_strdup_printf (IOMMU_GROUPS_DIR "/%d/devices", group);
    g_autofree char *dir = vgpu_root_path (rel);
    g_autoptr (GPtrArray) devs = list_dir (dir, error);
    if (devs == NULL)
        return FALSE;
    for (guint i = 0; i < devs->len; i++) {
        g_autofree char *drvlink = g_build_filename (dir, devs->pdata[i], "driver", NULL);
        g_autofree char *drv = link_basename (drvlink);
        if (!driver_is_viable (drv)) {
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_NOT_VIABLE,
                         _("IOMMU group %1$d is not viable: device %2$s is bound to "
                           "%3$s; unbind it or bind it to vfio-pci."),
                         group, (const char *) devs->pdata[i], drv);
            return FALSE;
        }
    }
    g_autofree char *vrel = g_strdup_printf (VFIO_DEV_DIR "/%d", group);
    g_autofree char *vpath = vgpu_root_path (vrel);
    if (!g_file_test (vpath, G_FILE_TEST_EXISTS)) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_NOT_VIABLE,
                     _("IOMMU group %1$d has no VFIO group device %2$s; check that the "
                       "vfio modules are loaded."),
                     group, vpath);
        return FALSE;
    }
    return TRUE;
}
