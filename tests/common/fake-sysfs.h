/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fake system tree under a temporary root (VGPU_ROOT), shared by the tests
 * of libvgpu and of its programs.
 */
#pragma once

#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>

/* Writes CONTENT to ROOT/REL, creating the directories on the way. */
static inline void
fake_put (const char *root, const char *rel, const char *content)
{
    g_autofree char *p = g_build_filename (root, rel, NULL);
    g_autofree char *dir = g_path_get_dirname (p);
    g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
    g_autoptr (GError) err = NULL;
    g_file_set_contents (p, content, -1, &err);
    g_assert_no_error (err);
}

/* One mdev type of GPU as the kernel's mdev core shows it; DESC is written
 * as given, AVAIL with a newline. */
static inline void
fake_add_type (const char *root, const char *gpu, const char *type, const char *desc,
               const char *avail)
{
    g_autofree char *base = g_strdup_printf ("sys/class/mdev_bus/%s/mdev_supported_types/%s",
                                             gpu, type);
    g_autofree char *name = g_build_filename (base, "name", NULL);
    g_autofree char *description = g_build_filename (base, "description", NULL);
    g_autofree char *api = g_build_filename (base, "device_api", NULL);
    g_autofree char *av = g_build_filename (base, "available_instances", NULL);
    g_autofree char *create = g_build_filename (base, "create", NULL);
    g_autofree char *devices = g_build_filename (root, base, "devices", NULL);
    g_autofree char *name_line = g_strdup_printf ("%s\n", type);
    g_autofree char *avail_line = g_strdup_printf ("%s\n", avail);
    fake_put (root, name, name_line);
    fake_put (root, description, desc);
    fake_put (root, api, "vfio-pci\n");
    fake_put (root, av, avail_line);
    fake_put (root, create, "");
    g_assert_cmpint (g_mkdir_with_parents (devices, 0755), ==, 0);
}

/* rm -rf PATH, without following symbolic links. */
static inline void
fake_rm_rf (const char *path)
{
    GStatBuf sb;
    if (g_lstat (path, &sb) != 0)
        return;
    if (S_ISDIR (sb.st_mode)) {
        g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
        const char *n;
        while (d && (n = g_dir_read_name (d))) {
            g_autofree char *c = g_build_filename (path, n, NULL);
            fake_rm_rf (c);
        }
        g_rmdir (path);
    } else {
        g_unlink (path);
    }
}
