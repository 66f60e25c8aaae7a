/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvgpu: who a vGPU belongs to (ownership records under ROOT/run/vgpu),
 * the host-wide and per-domain locks, and what a domain's start and stop do
 * with its vGPUs (libvgpu.h, "ownership, locks"). */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vgpu-private.h"

#define RUN_DIR          "/run/vgpu"
#define OWNERS_DIR       RUN_DIR "/owners"
#define DOMAIN_LOCK_DIR  RUN_DIR "/domains"
#define HOST_LOCK        RUN_DIR "/lock"

#define OWNER_GROUP "owner"

/* Poll interval while a lock is taken by another process. */
#define LOCK_POLL_US (20 * 1000)

/* ---------------------------------------------------------------- locks */

struct VgpuLock {
    int fd;                 /* -1 for a nested hold of the host lock */
    gboolean host;
};

/* This process's hold of the host lock, so that library functions that
 * take it themselves (vgpu_create, vgpu_remove) work under a caller that
 * holds it already: flock() would block on a second open of the file. */
static GMutex host_mutex;
static int host_fd = -1;
static guint host_depth;

/* ROOT/run/vgpu and its subdirectory @sub, for root only (a lock file
 * others could open could be held by them forever). */
static char *
run_dir (const char *sub, GError **error)
{
    g_autofree char *dir = vgpu_root_path (sub);
    if (g_mkdir_with_parents (dir, 0700) < 0) {
        int e = errno;
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_IO,
                     _("Cannot create %1$s: %2$s; vGPUs are managed as root."), dir,
                     g_strerror (e));
        return NULL;
    }
    return g_steal_pointer (&dir);
}

/* Opens and flocks ROOT@abs, waiting at most @timeout_ms. */
static int
lock_file (const char *dir_abs, const char *name, guint timeout_ms, GError **error)
{
    g_autofree char *dir = run_dir (dir_abs, error);
    if (dir == NULL)
        return -1;
    g_autofree char *path = g_build_filename (dir, name, NULL);
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int e = errno;
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_IO, _("Cannot open the lock %1$s: %2$s; "
                     "vGPUs are managed as root."), path, g_strerror (e));
        return -1;
    }
    gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
    while (flock (fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        if (e != EWOULDBLOCK && e != EINTR) {
            close (fd);
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_IO, _("Cannot lock %1$s: %2$s."),
                         path, g_strerror (e));
            return -1;
        }
        if (g_get_monotonic_time () >= deadline) {
            close (fd);
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_BUSY,
                         _("Another vGPU operation (the libvirt hook or vgpuctl) has held "
                           "the lock %1$s for more than %2$u ms; try again, or look for a "
                           "hung process with 'fuser -v %1$s'."),
                         path, timeout_ms);
            return -1;
        }
        g_usleep (LOCK_POLL_US);
    }
    return fd;
}

VgpuLock *
vgpu_lock_host (guint timeout_ms, GError **error)
{
    g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&host_mutex);
    if (host_depth == 0) {
        const char *slash = strrchr (HOST_LOCK, '/');
        g_autofree char *dir = g_strndup (HOST_LOCK, slash - HOST_LOCK);
        host_fd = lock_file (dir, slash + 1, timeout_ms, error);
        if (host_fd < 0)
            return NULL;
    }
    host_depth++;
    VgpuLock *lock = g_new0 (VgpuLock, 1);
    lock->fd = -1;
    lock->host = TRUE;
    return lock;
}

VgpuLock *
vgpu_lock_domain (const char *domain_uuid, guint timeout_ms, GError **error)
{
    if (!vgpu_name_is_valid (VGPU_NAME_UUID, domain_uuid, error))
        return NULL;
    g_autofree char *lower = g_ascii_strdown (domain_uuid, -1);
    g_autofree char *name = g_strconcat (lower, ".lock", NULL);
    int fd = lock_file (DOMAIN_LOCK_DIR, name, timeout_ms, error);
    if (fd < 0)
        return NULL;
    VgpuLock *lock = g_new0 (VgpuLock, 1);
    lock->fd = fd;
    return lock;
}

void
vgpu_lock_release (VgpuLock *lock)
{
    if (lock == NULL)
        return;
    if (lock->host) {
        g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&host_mutex);
        g_assert (host_depth > 0);
        if (--host_depth == 0) {
            close (host_fd);        /* releases the flock */
            host_fd = -1;
        }
    } else {
        close (lock->fd);
    }
    g_free (lock);
}

/* ------------------------------------------------------------- records */

void
vgpu_owner_free (VgpuOwner *o)
{
    if (!o)
        return;
    g_free (o->uuid);
    g_free (o->domain_uuid);
    g_free (o->domain_name);
    g_free (o->type);
    g_free (o->parent);
    g_free (o->created_by);
    g_free (o);
}

static char *
record_path (const char *lower_uuid)
{
    g_autofree char *rel = g_build_filename (OWNERS_DIR, lower_uuid, NULL);
    return vgpu_root_path (rel);
}

/* What identifies the device now present as vGPU @uuid: a vGPU removed and
 * created again with the same UUID is a new sysfs directory. NULL if absent. */
static char *
device_identity (const char *lower_uuid)
{
    g_autofree char *dev = vgpu_mdev_dir (lower_uuid);
    struct stat st;
    if (stat (dev, &st) < 0 || !S_ISDIR (st.st_mode))
        return NULL;
    return g_strdup_printf ("%lu:%lu", (unsigned long) st.st_dev, (unsigned long) st.st_ino);
}

/* Reads the record of @lower_uuid: NULL without error when there is none or
 * it is stale (no such device, or another device than it was written for). */
static VgpuOwner *
owner_read (const char *lower_uuid, GError **error)
{
    g_autofree char *path = record_path (lower_uuid);
    g_autoptr (GKeyFile) kf = g_key_file_new ();
    g_autoptr (GError) local = NULL;
    if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local)) {
        if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return NULL;
        if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_ACCES)) {
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_PERMISSION,
                         _("Only root may read who owns vGPU %1$s (%2$s)."), lower_uuid,
                         local->message);
            return NULL;
        }
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_IO,
                     _("The ownership record %1$s is unreadable (%2$s); if no domain uses "
                       "vGPU %3$s, delete the file."),
                     path, local->message, lower_uuid);
        return NULL;
    }
    g_autofree char *id = g_key_file_get_string (kf, OWNER_GROUP, "device", NULL);
    g_autofree char *now = device_identity (lower_uuid);
    if (id == NULL || now == NULL || strcmp (id, now) != 0)
        return NULL;

    g_autoptr (VgpuOwner) o = g_new0 (VgpuOwner, 1);
    o->uuid = g_strdup (lower_uuid);
    o->domain_uuid = g_key_file_get_string (kf, OWNER_GROUP, "domain-uuid", NULL);
    o->domain_name = g_key_file_get_string (kf, OWNER_GROUP, "domain-name", NULL);
    o->type = g_key_file_get_string (kf, OWNER_GROUP, "type", NULL);
    o->parent = g_key_file_get_string (kf, OWNER_GROUP, "parent", NULL);
    o->created_by = g_key_file_get_string (kf, OWNER_GROUP, "created-by", NULL);
    o->created = g_key_file_get_int64 (kf, OWNER_GROUP, "created", NULL);
    if (o->domain_uuid == NULL || !vgpu_name_is_valid (VGPU_NAME_UUID, o->domain_uuid, NULL)) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_IO,
                     _("The ownership record %1$s names no valid domain UUID; if no domain "
                       "uses vGPU %2$s, delete the file."),
                     path, lower_uuid);
        return NULL;
    }
    return g_steal_pointer (&o);
}

VgpuOwner *
vgpu_owner_get (const char *uuid, GError **error)
{
    if (!vgpu_name_is_valid (VGPU_NAME_UUID, uuid, error))
        return NULL;
    g_autofree char *lower = g_ascii_strdown (uuid, -1);
    return owner_read (lower, error);
}

GPtrArray *
vgpu_owner_list (GError **error)
{
    g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) vgpu_owner_free);
    g_autofree char *dir = vgpu_root_path (OWNERS_DIR);
    g_autoptr (GError) local = NULL;
    g_autoptr (GDir) d = g_dir_open (dir, 0, &local);
    if (d == NULL) {
        if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return g_steal_pointer (&out);
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_IO, _("Cannot list %1$s: %2$s."), dir,
                     local->message);
        return NULL;
    }
    g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
    const char *n;
    while ((n = g_dir_read_name (d)) != NULL)
        if (vgpu_name_is_valid (VGPU_NAME_UUID, n, NULL))
            g_ptr_array_add (names, g_ascii_strdown (n, -1));
    g_ptr_array_sort (names, vgpu_cmp_strings);
    for (guint i = 0; i < names->len; i++) {
        VgpuOwner *o = owner_read (names->pdata[i], &local);
        if (local) {
            g_propagate_error (error, g_steal_pointer (&local));
            return NULL;
        }
        if (o)
            g_ptr_array_add (out, o);
    }
    return g_steal_pointer (&out);
}

/* Writes the record of @o for the device now present (host lock held). */
static gboolean
owner_write (const VgpuOwner *o, GError **error)
{
    g_autofree char *id = device_identity (o->uuid);
    if (id == NULL) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_NOT_FOUND,
                     _("There is no vGPU %1$s to record an owner for."), o->uuid);
        return FALSE;
    }
    g_autofree char *dir = run_dir (OWNERS_DIR, error);
    if (dir == NULL)
        return FALSE;
    g_autoptr (GKeyFile) kf = g_key_file_new ();
    g_key_file_set_string (kf, OWNER_GROUP, "domain-uuid", o->domain_uuid);
    g_key_file_set_string (kf, OWNER_GROUP, "domain-name", o->domain_name ? o->domain_name : "");
    g_key_file_set_string (kf, OWNER_GROUP, "type", o->type ? o->type : "");
    g_key_file_set_string (kf, OWNER_GROUP, "parent", o->parent ? o->parent : "");
    g_key_file_set_string (kf, OWNER_GROUP, "created-by", o->created_by ? o->created_by : "");
    g_key_file_set_int64 (kf, OWNER_GROUP, "created", o->created);
    g_key_file_set_string (kf, OWNER_GROUP, "device", id);
    g_autofree char *path = record_path (o->uuid);
    g_autoptr (GError) local = NULL;
    /* Written aside and renamed into place: never seen half-written. */
    if (!g_key_file_save_to_file (kf, path, &local)) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_IO,
                     _("Cannot record the owner of vGPU %1$s in %2$s: %3$s."), o->uuid, path,
                     local->message);
        return FALSE;
    }
    return TRUE;
}

gboolean
vgpu_owner_drop (const char *uuid, GError **error)
{
    g_autofree char *lower = g_ascii_strdown (uuid, -1);
    g_autofree char *path = record_path (lower);
    if (unlink (path) < 0 && errno != ENOENT) {
        int e = errno;
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_IO,
                     _("Cannot delete the ownership record %1$s: %2$s."), path, g_strerror (e));
        return FALSE;
    }
    return TRUE;
}

/* ------------------------------------------------------ a domain's vGPUs */

/* Does the existing vGPU @m fit @d (type, and parent when @d names one)? */
static gboolean
device_fits (const VgpuDevice *d, const VgpuMdev *m, const char *domain_name, GError **error)
{
    if (g_strcmp0 (m->type, d->type) != 0) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_FAILED,
                     _("vGPU %1$s exists with type %2$s, but domain %3$s wants type %4$s; "
                       "remove it or correct the domain"),
                     d->uuid, m->type ? m->type : "?", domain_name, d->type);
        return FALSE;
    }
    g_autoptr (GError) local = NULL;
    g_autofree char *want_parent = vgpu_device_sysfs_parent (d, &local);
    if (local) {
        g_propagate_error (error, g_steal_pointer (&local));
        return FALSE;
    }
    if (want_parent && g_strcmp0 (m->parent, want_parent) != 0) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_FAILED,
                     _("vGPU %1$s exists on GPU %2$s, but domain %3$s wants it on %4$s; "
                       "remove it or correct the domain"),
                     d->uuid, m->parent ? m->parent : "?", domain_name, want_parent);
        return FALSE;
    }
    return TRUE;
}

static void
set_owned_by_other (const VgpuOwner *o, const char *domain_name, GError **error)
{
    g_set_error (error, VGPU_ERROR, VGPU_ERROR_NOT_OWNER,
                 _("vGPU %1$s belongs to domain %2$s (%3$s), which created it; domain %4$s "
                   "cannot use it: give it its own vGPU (another <uuid>, or none to derive "
                   "one)"),
                 o->uuid, o->domain_name && *o->domain_name ? o->domain_name : "?",
                 o->domain_uuid, domain_name);
}

gboolean
vgpu_device_check (const VgpuDevice *d, const char *domain_uuid, const char *domain_name,
                   gboolean *missing, GError **error)
{
    *missing = FALSE;
    g_autoptr (VgpuMdev) m = vgpu_get_mdev (d->uuid, NULL);
    g_autoptr (GError) local = NULL;
    g_autoptr (VgpuOwner) o = vgpu_owner_get (d->uuid, &local);
    if (local) {
        g_propagate_error (error, g_steal_pointer (&local));
        return FALSE;
    }
    gboolean mine = o && g_ascii_strcasecmp (o->domain_uuid, domain_uuid) == 0;

    if (vgpu_device_is_managed (d)) {
        if (m == NULL) {
            *missing = TRUE;
            return TRUE;
        }
        if (o == NULL) {
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_NOT_OWNER,
                         _("vGPU %1$s exists but was not created for domain %2$s (someone "
                           "made it by hand, with mdevctl or for a domain that no longer "
                           "claims it); remove it ('vgpuctl remove %1$s') or make the hostdev "
                           "managed='no' to use it as it is"),
                         d->uuid, domain_name);
            return FALSE;
        }
    } else if (m == NULL) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_NOT_FOUND,
                     _("The unmanaged vGPU %1$s (type %2$s) of domain %3$s does not exist; "
                       "create it (vgpuctl create --type %2$s --uuid %1$s) or make the "
                       "hostdev managed='yes'"),
                     d->uuid, d->type, domain_name);
        return FALSE;
    }
    if (o && !mine) {
        set_owned_by_other (o, domain_name, error);
        return FALSE;
    }
    return device_fits (d, m, domain_name, error);
}

gboolean
vgpu_device_create_owned (const VgpuDevice *d, const char *domain_uuid,
                          const char *domain_name, const char *created_by,
                          guint timeout_ms, GError **error)
{
    if (!vgpu_name_is_valid (VGPU_NAME_UUID, domain_uuid, error))
        return FALSE;
    g_autoptr (GError) local = NULL;
    g_autofree char *parent = vgpu_device_sysfs_parent (d, &local);
    if (local) {
        g_propagate_error (error, g_steal_pointer (&local));
        return FALSE;
    }
    g_autoptr (VgpuLock) lock = vgpu_lock_host (VGPU_LOCK_DEFAULT_MS, error);
    if (lock == NULL)
        return FALSE;
    g_autofree char *used = NULL;
    if (!vgpu_create (parent, d->type, d->uuid, d->attrs, timeout_ms, &used, error))
        return FALSE;

    VgpuOwner o = {
        .uuid = g_ascii_strdown (d->uuid, -1),
        .domain_uuid = g_ascii_strdown (domain_uuid, -1),
        .domain_name = (char *) domain_name,
        .type = d->type,
        .parent = used,
        .created_by = (char *) created_by,
        .created = g_get_real_time () / G_USEC_PER_SEC,
    };
    gboolean ok = owner_write (&o, error);
    if (!ok)
        vgpu_remove (o.uuid, timeout_ms, NULL);
    g_free (o.uuid);
    g_free (o.domain_uuid);
    return ok;
}

gboolean
vgpu_device_release_owned (const char *uuid, const char *domain_uuid, guint timeout_ms,
                           gboolean *removed, GError **error)
{
    if (removed)
        *removed = FALSE;
    if (!vgpu_name_is_valid (VGPU_NAME_UUID, uuid, error) ||
        !vgpu_name_is_valid (VGPU_NAME_UUID, domain_uuid, error))
        return FALSE;
    g_autoptr (VgpuLock) lock = vgpu_lock_host (VGPU_LOCK_DEFAULT_MS, error);
    if (lock == NULL)
        return FALSE;
    g_autoptr (GError) local = NULL;
    g_autoptr (VgpuOwner) o = vgpu_owner_get (uuid, &local);
    if (local) {
        g_propagate_error (error, g_steal_pointer (&local));
        return FALSE;
    }
    if (o == NULL || g_ascii_strcasecmp (o->domain_uuid, domain_uuid) != 0)
        return TRUE;        /* not this domain's: never touched */
    if (!vgpu_remove (uuid, timeout_ms, error))
        return FALSE;
    if (removed)
        *removed = TRUE;
    return TRUE;
}

GPtrArray *
vgpu_owned_by (const char *domain_uuid, GError **error)
{
    if (!vgpu_name_is_valid (VGPU_NAME_UUID, domain_uuid, error))
        return NULL;
    g_autoptr (GPtrArray) all = vgpu_owner_list (error);
    if (all == NULL)
        return NULL;
    GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
    for (guint i = 0; i < all->len; i++) {
        const VgpuOwner *o = all->pdata[i];
        if (g_ascii_strcasecmp (o->domain_uuid, domain_uuid) == 0)
            g_ptr_array_add (out, g_strdup (o->uuid));
    }
    return out;
}
