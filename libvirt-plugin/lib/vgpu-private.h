/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal helpers shared by the libvgpu source files. */
#pragma once

#include <glib.h>
#include <glib/gi18n-lib.h>

#include "libvgpu.h"
#include "vgpu-autoptr.h"

/* One enum <-> string table with a compile-time count check
 * (in the manner of libvirt's VIR_ENUM_IMPL). */
#define VGPU_ENUM_IMPL(name, lastval, ...) \
    static const char *const name##_table[] = { __VA_ARGS__ }; \
    G_STATIC_ASSERT (G_N_ELEMENTS (name##_table) == (lastval)); \
    static G_GNUC_UNUSED const char *name##_to_str (int v) \
    { \
        return (v >= 0 && v < (int) (lastval)) ? name##_table[v] : NULL; \
    } \
    static G_GNUC_UNUSED int name##_from_str (const char *s) \
    { \
        if (s == NULL) \
            return -1; \
        for (int i = 0; i < (int) (lastval); i++) \
            if (g_strcmp0 (name##_table[i], s) == 0) \
                return i; \
        return -1; \
    }

/* Reads a small sysfs attribute; trailing newline stripped. */
char *vgpu_read_attr (const char *path, GError **error);
/* Writes @value to an existing attribute file (no O_CREAT, O_NOFOLLOW). */
gboolean vgpu_write_attr (const char *path, const char *value, GError **error);
/* Writes @value to @fd and closes it (@path for messages). */
gboolean vgpu_write_fd (int fd, const char *path, const char *value, GError **error);

/* GCompareFunc for a GPtrArray of strings. */
int vgpu_cmp_strings (gconstpointer a, gconstpointer b);

/* ROOT/sys/bus/mdev/devices/UUID (UUID lower-cased). */
char *vgpu_mdev_dir (const char *uuid);

/* How long library functions wait for the host lock on their own. */
#define VGPU_LOCK_DEFAULT_MS 60000

/* Drops the ownership record of @uuid, if any (under the host lock). */
gboolean vgpu_owner_drop (const char *uuid, GError **error);
