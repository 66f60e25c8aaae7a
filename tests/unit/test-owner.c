/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Ownership records and locks against a fake root (VGPU_ROOT): nested host
 * locks, a lock held by another process, records that only apply to the
 * device they were written for, and the domain-level decisions of
 * vgpu_device_check / vgpu_device_release_owned. The programs that use them
 * are tested in tests/cli. */

#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "fake-sysfs.h"
#include "libvgpu.h"

#define GPU_A "0000:00:05.0"
#define UUID1 "0b1a7c52-5d2e-4b6c-9a43-2f4b3a1c8e10"
#define DOM_A "6f1d4f0c-3a7e-4f0e-8d8e-2b3c4d5e6f70"
#define DOM_B "7a2e5f1d-4b8f-4a1f-9e9f-3c4d5e6f7081"

typedef struct {
    char *root;
} Fixture;

/* Ends a forked child with @ok as its status, through exec: under valgrind
 * a child's own exit would be checked for leaks of the parent's memory. */
static void G_GNUC_NORETURN
child_exit (gboolean ok)
{
    execl (ok ? "/bin/true" : "/bin/false", "child", (char *) NULL);
    _exit (ok ? 0 : 1);
}

static void
fixture_setup (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr (GError) err = NULL;
    f->root = g_dir_make_tmp ("vgpu-owner-XXXXXX", &err);
    g_assert_no_error (err);
    g_setenv ("VGPU_ROOT", f->root, TRUE);
    fake_add_type (f->root, GPU_A, "vgpu_sim-32m", "framebuffer=32M\n", "1");
}

static void
fixture_teardown (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    fake_rm_rf (f->root);
    g_free (f->root);
    g_unsetenv ("VGPU_ROOT");
}

/* A vGPU as the kernel shows it (no kernel here: the tests only read it). */
static void
make_device (Fixture *f, const char *uuid, const char *type)
{
    g_autofree char *rm = g_strdup_printf ("sys/bus/mdev/devices/%s/remove", uuid);
    fake_put (f->root, rm, "");
    g_autofree char *link = g_strdup_printf ("%s/sys/bus/mdev/devices/%s/mdev_type", f->root,
                                             uuid);
    g_autofree char *target = g_strdup_printf ("../../../../class/mdev_bus/" GPU_A
                                               "/mdev_supported_types/%s", type);
    g_assert_cmpint (symlink (target, link), ==, 0);
}

static void
write_record (Fixture *f, const char *uuid, const char *domain, const char *device)
{
    g_autofree char *rel = g_strdup_printf ("run/vgpu/owners/%s", uuid);
    g_autofree char *content = g_strdup_printf ("[owner]\ndomain-uuid=%s\ndomain-name=a\n"
                                                "device=%s\n", domain, device);
    fake_put (f->root, rel, content);
}

static char *
identity (Fixture *f, const char *uuid)
{
    g_autofree char *dir = g_strdup_printf ("%s/sys/bus/mdev/devices/%s", f->root, uuid);
    GStatBuf st;
    g_assert_cmpint (g_stat (dir, &st), ==, 0);
    return g_strdup_printf ("%lu:%lu", (unsigned long) st.st_dev, (unsigned long) st.st_ino);
}

static void
test_nested_host_lock (Fixture *f G_GNUC_UNUSED, gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr (GError) err = NULL;
    VgpuLock *outer = vgpu_lock_host (100, &err);
    g_assert_no_error (err);
    VgpuLock *inner = vgpu_lock_host (100, &err);
    g_assert_no_error (err);
    vgpu_lock_release (inner);

    /* Still held after the inner release: another process cannot take it. */
    g_autofree char *path = g_build_filename (f->root, "run/vgpu/lock", NULL);
    pid_t pid = fork ();
    if (pid == 0) {
        int fd = open (path, O_RDWR);
        child_exit (fd >= 0 && flock (fd, LOCK_EX | LOCK_NB) < 0);
    }
    int status;
    g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
    g_assert_cmpint (WEXITSTATUS (status), ==, 0);

    vgpu_lock_release (outer);
    pid = fork ();
    if (pid == 0) {
        int fd = open (path, O_RDWR);
        child_exit (fd >= 0 && flock (fd, LOCK_EX | LOCK_NB) == 0);
    }
    g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
    g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

static void
test_lock_held_elsewhere (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr (GError) err = NULL;
    g_autoptr (VgpuLock) mine = vgpu_lock_domain (DOM_A, 100, &err);
    g_assert_no_error (err);

    /* Another process waits, then gives up with VGPU_ERROR_BUSY. */
    pid_t pid = fork ();
    if (pid == 0) {
        g_autoptr (GError) e = NULL;
        VgpuLock *l = vgpu_lock_domain (DOM_A, 200, &e);
        child_exit (l == NULL && g_error_matches (e, VGPU_ERROR, VGPU_ERROR_BUSY));
    }
    int status;
    g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
    g_assert_cmpint (WEXITSTATUS (status), ==, 0);

    /* Other domains' locks are independent. */
    g_autoptr (VgpuLock) other = vgpu_lock_domain (DOM_B, 100, &err);
    g_assert_no_error (err);
    g_autoptr (VgpuLock) bad = vgpu_lock_domain ("../../etc/passwd", 100, &err);
    g_assert_null (bad);
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_INVALID_NAME);
    g_autofree char *escaped = g_build_filename (f->root, "etc", NULL);
    g_assert_false (g_file_test (escaped, G_FILE_TEST_EXISTS));
}

static void
test_records (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr (GError) err = NULL;
    g_assert_null (vgpu_owner_get (UUID1, &err));
    g_assert_no_error (err);

    /* A record without its device, or for another device: stale. */
    write_record (f, UUID1, DOM_A, "1:2");
    g_assert_null (vgpu_owner_get (UUID1, &err));
    g_assert_no_error (err);
    make_device (f, UUID1, "vgpu_sim-32m");
    g_assert_null (vgpu_owner_get (UUID1, &err));
    g_assert_no_error (err);
    g_autoptr (GPtrArray) none = vgpu_owner_list (&err);
    g_assert_no_error (err);
    g_assert_cmpuint (none->len, ==, 0);

    g_autofree char *id = identity (f, UUID1);
    write_record (f, UUID1, DOM_A, id);
    g_autoptr (VgpuOwner) o = vgpu_owner_get (UUID1, &err);
    g_assert_no_error (err);
    g_assert_nonnull (o);
    g_assert_cmpstr (o->domain_uuid, ==, DOM_A);
    g_autoptr (GPtrArray) owned = vgpu_owned_by (DOM_A, &err);
    g_assert_no_error (err);
    g_assert_cmpuint (owned->len, ==, 1);
    g_assert_cmpstr (owned->pdata[0], ==, UUID1);
    g_autoptr (GPtrArray) not_b = vgpu_owned_by (DOM_B, &err);
    g_assert_cmpuint (not_b->len, ==, 0);

    /* A corrupt record is an error, not "nobody's". */
    fake_put (f->root, "run/vgpu/owners/" UUID1, "[owner]\ndomain-uuid=../x\ndevice=1:1\n");
    g_autofree char *id2 = identity (f, UUID1);
    g_autofree char *bad = g_strdup_printf ("[owner]\ndomain-uuid=not-a-uuid\ndevice=%s\n", id2);
    fake_put (f->root, "run/vgpu/owners/" UUID1, bad);
    g_assert_null (vgpu_owner_get (UUID1, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_IO);
}

static VgpuDevice *
device_new (const char *uuid, const char *type, gboolean managed)
{
    VgpuDevice *d = vgpu_device_new ();
    d->uuid = g_strdup (uuid);
    d->type = g_strdup (type);
    d->managed = managed ? VGPU_TRISTATE_YES : VGPU_TRISTATE_ABSENT;
    return d;
}

static void
test_check_and_release (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr (GError) err = NULL;
    g_autoptr (VgpuDevice) managed = device_new (UUID1, "vgpu_sim-32m", TRUE);
    g_autoptr (VgpuDevice) unmanaged = device_new (UUID1, "vgpu_sim-32m", FALSE);
    gboolean missing;

    /* Absent: a managed one is to be created, an unmanaged one is missing. */
    g_assert_true (vgpu_device_check (managed, DOM_A, "a", &missing, &err));
    g_assert_true (missing);
    g_assert_false (vgpu_device_check (unmanaged, DOM_A, "a", &missing, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_NOT_FOUND);
    g_clear_error (&err);

    /* Present, nobody's: unmanaged use is fine, managed use is not. */
    make_device (f, UUID1, "vgpu_sim-32m");
    g_assert_true (vgpu_device_check (unmanaged, DOM_A, "a", &missing, &err));
    g_assert_false (missing);
    g_assert_false (vgpu_device_check (managed, DOM_A, "a", &missing, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_NOT_OWNER);
    g_clear_error (&err);
    gboolean removed = TRUE;
    g_assert_true (vgpu_device_release_owned (UUID1, DOM_A, 100, &removed, &err));
    g_assert_false (removed);

    /* Domain A's: A may use it either way; B may not, and cannot remove it. */
    g_autofree char *id = identity (f, UUID1);
    write_record (f, UUID1, DOM_A, id);
    g_assert_true (vgpu_device_check (managed, DOM_A, "a", &missing, &err));
    g_assert_true (vgpu_device_check (unmanaged, DOM_A, "a", &missing, &err));
    g_assert_false (vgpu_device_check (managed, DOM_B, "b", &missing, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_NOT_OWNER);
    g_assert_nonnull (strstr (err->message, DOM_A));
    g_clear_error (&err);
    g_assert_false (vgpu_device_check (unmanaged, DOM_B, "b", &missing, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_NOT_OWNER);
    g_clear_error (&err);
    g_assert_true (vgpu_device_release_owned (UUID1, DOM_B, 100, &removed, &err));
    g_assert_false (removed);
    g_autofree char *rm = g_build_filename (f->root, "sys/bus/mdev/devices/" UUID1 "/remove",
                                            NULL);
    g_autofree char *written = NULL;
    g_assert_true (g_file_get_contents (rm, &written, NULL, NULL));
    g_assert_cmpstr (written, ==, "");

    /* Of another type: refused even for its owner. */
    g_autoptr (VgpuDevice) other_type = device_new (UUID1, "vgpu_sim-16m", TRUE);
    g_assert_false (vgpu_device_check (other_type, DOM_A, "a", &missing, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_FAILED);
    g_clear_error (&err);

    /* A's release writes remove; once the kernel took the write, the
     * record goes (the fake has no kernel, so the wait for the directory to
     * go then times out). */
    g_assert_false (vgpu_device_release_owned (UUID1, DOM_A, 2000, &removed, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_TIMEOUT);
    g_clear_pointer (&written, g_free);
    g_assert_true (g_file_get_contents (rm, &written, NULL, NULL));
    g_assert_cmpstr (written, ==, "1");
    g_autofree char *record = g_build_filename (f->root, "run/vgpu/owners/" UUID1, NULL);
    g_assert_false (g_file_test (record, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
    g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD ("/owner/nested-host-lock", test_nested_host_lock);
    ADD ("/owner/lock-held-elsewhere", test_lock_held_elsewhere);
    ADD ("/owner/records", test_records);
    ADD ("/owner/check-and-release", test_check_and_release);
    return g_test_run ();
}
