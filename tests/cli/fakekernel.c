/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fake mdev kernel for the command-line tests, preloaded (LD_PRELOAD) into
 * vgpuctl, the libvirt hook and the mdevctl call-out while they run against
 * a fake root ($VGPU_ROOT).
 *
 * It wraps close(): when a file under the fake root that was open for
 * writing is closed, it does what the kernel does for that sysfs write,
 * synchronously, as the real write(2) would:
 *
 *   .../mdev_supported_types/TYPE/create  (a UUID)
 *        builds /sys/bus/mdev/devices/UUID (mdev_type, iommu_group and
 *        driver links, remove, vendor/label read-write, vendor/status
 *        read-only), the group's devices/ entry and
 *        /dev/vfio/N, lists it in the type's devices/ and lowers
 *        available_instances; refuses (EINVAL) without a free instance or
 *        when the UUID exists, like the mdev core.
 *   /sys/bus/mdev/devices/UUID/remove     ("1") undoes all of that.
 *
 * Every write is appended to $FAKEKERNEL_LOG as one line ("create GPU TYPE
 * UUID", "remove UUID", "write UUID NAME VALUE"), so tests check what was
 * written and in which order.
 *
 * Fault injection: $FAKEKERNEL_FAIL_CREATE=TYPE makes creating that type
 * fail with EIO; $FAKEKERNEL_NOBIND=1 leaves new devices without a driver;
 * $FAKEKERNEL_STEAL=GPU makes a create on GPU fail as if another program
 * had just taken its last free instance (available_instances drops to 0,
 * EUSERS, as the vGPU core answers); $FAKEKERNEL_REMOVE_HANG_MS=N makes a
 * remove write block N ms first, as the kernel's does while an unseen user
 * still holds the device (vfio waits for it, uninterruptibly);
 * $FAKEKERNEL_ATTR_BUSY=1 makes writes to a device's vendor/ attributes fail
 * with EBUSY, as the vGPU core's do after the vGPU's first open.
 * Hostile trees: $FAKEKERNEL_VENDOR_LINK=1 makes vendor/ a symbolic link to
 * the type directory (so vendor/create would create a device) and
 * $FAKEKERNEL_ATTR_LINK=1 makes vendor/label a link to the device's remove.
 *
 * Plain libc only, no GLib: this runs inside every close() of the program.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int (*real_close) (int);

/* snprintf for paths: the fake root lives in a short temporary directory, so
 * truncation is a bug of the test setup and aborts loudly. */
static void
pathf (char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (buf, size, fmt, ap);
    va_end (ap);
    if (n < 0 || (size_t) n >= size)
        abort ();
}
#define PATHF(buf, ...) pathf (buf, sizeof buf, __VA_ARGS__)

static int
raw_close (int fd)
{
    if (real_close == NULL)
        real_close = (int (*) (int)) dlsym (RTLD_NEXT, "close");
    return real_close (fd);
}

static void
fk_log (const char *fmt, ...)
{
    const char *log = getenv ("FAKEKERNEL_LOG");
    if (log == NULL)
        return;
    char line[PATH_MAX + 512];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (line, sizeof line - 1, fmt, ap);
    va_end (ap);
    if (n < 0)
        return;
    if (n > (int) sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    int fd = open (log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (write (fd, line, n) < 0) {
        /* the log is best effort */
    }
    raw_close (fd);
}

static int
read_file (const char *path, char *buf, size_t size)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read (fd, buf, size - 1);
    raw_close (fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return 0;
}

static int
write_file (const char *path, const char *content, mode_t mode)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    ssize_t n = write (fd, content, strlen (content));
    raw_close (fd);
    return n == (ssize_t) strlen (content) ? 0 : -1;
}

static void
rm_tree (const char *path)
{
    struct stat st;
    if (lstat (path, &st) < 0)
        return;
    if (S_ISDIR (st.st_mode)) {
        DIR *d = opendir (path);
        struct dirent *e;
        while (d && (e = readdir (d))) {
            if (!strcmp (e->d_name, ".") || !strcmp (e->d_name, ".."))
                continue;
            char child[PATH_MAX];
            PATHF (child, "%s/%s", path, e->d_name);
            rm_tree (child);
        }
        if (d)
            closedir (d);
        rmdir (path);
    } else {
        unlink (path);
    }
}

static void
adjust_available (const char *typedir, int delta)
{
    char path[PATH_MAX], buf[32];
    PATHF (path, "%s/available_instances", typedir);
    if (read_file (path, buf, sizeof buf) < 0)
        return;
    char num[32];
    PATHF (num, "%ld\n", strtol (buf, NULL, 10) + delta);
    write_file (path, num, 0644);
}

/* A new IOMMU group number: one more than the highest in use. */
static int
next_group (const char *root)
{
    char path[PATH_MAX];
    PATHF (path, "%s/sys/kernel/iommu_groups", root);
    DIR *d = opendir (path);
    int max = 9;
    struct dirent *e;
    while (d && (e = readdir (d))) {
        int n = atoi (e->d_name);
        if (n > max)
            max = n;
    }
    if (d)
        closedir (d);
    return max + 1;
}

static int
do_create (const char *root, const char *gpu, const char *type, const char *typedir,
           const char *uuid)
{
    fk_log ("create %s %s %s", gpu, type, uuid);
    const char *fail = getenv ("FAKEKERNEL_FAIL_CREATE");
    if (fail && strcmp (fail, type) == 0)
        return EIO;
    const char *steal = getenv ("FAKEKERNEL_STEAL");
    if (steal && strcmp (steal, gpu) == 0) {
        char av[PATH_MAX];
        PATHF (av, "%s/available_instances", typedir);
        write_file (av, "0\n", 0644);
        return EUSERS;
    }

    char path[PATH_MAX], buf[64];
    PATHF (path, "%s/available_instances", typedir);
    if (read_file (path, buf, sizeof buf) < 0 || strtol (buf, NULL, 10) <= 0)
        return EINVAL;
    char dev[PATH_MAX], tmp[PATH_MAX];
    PATHF (dev, "%s/sys/bus/mdev/devices/%s", root, uuid);
    if (access (dev, F_OK) == 0)
        return EEXIST;

    /* Built aside and renamed into place: never seen half-made. */
    int group = next_group (root);
    PATHF (tmp, "%s/sys/bus/mdev/.new-%s", root, uuid);
    char p[PATH_MAX];
    if (mkdir (tmp, 0755) < 0)
        return errno;
    PATHF (p, "%s/remove", tmp);
    /* sysfs has 0200; readable here so the fake kernel can read it back
     * when the tests do not run as root. */
    write_file (p, "", 0600);
    PATHF (p, "%s/vendor", tmp);
    if (getenv ("FAKEKERNEL_VENDOR_LINK")) {
        char t[PATH_MAX];
        PATHF (t, "../../../../class/mdev_bus/%s/mdev_supported_types/%s", gpu, type);
        symlink (t, p);
    } else {
        mkdir (p, 0755);
        PATHF (p, "%s/vendor/label", tmp);
        if (getenv ("FAKEKERNEL_ATTR_LINK"))
            symlink ("../remove", p);
        else
            write_file (p, "\n", 0644);
        /* A read-only status attribute, like vgpu_sim's vendor/display. */
        PATHF (p, "%s/vendor/status", tmp);
        write_file (p, "enabled=0\n", 0444);
    }
    PATHF (p, "%s/mdev_type", tmp);
    char target[PATH_MAX];
    PATHF (target, "../../../../class/mdev_bus/%s/mdev_supported_types/%s",
              gpu, type);
    symlink (target, p);
    PATHF (p, "%s/iommu_group", tmp);
    PATHF (target, "../../../../kernel/iommu_groups/%d", group);
    symlink (target, p);
    if (getenv ("FAKEKERNEL_NOBIND") == NULL) {
        PATHF (p, "%s/driver", tmp);
        symlink ("../../../../bus/mdev/drivers/vgpu", p);
    }
    if (rename (tmp, dev) < 0)
        return errno;

    PATHF (p, "%s/sys/kernel/iommu_groups/%d/devices", root, group);
    char q[PATH_MAX];
    PATHF (q, "%s/sys/kernel/iommu_groups/%d", root, group);
    mkdir (q, 0755);
    mkdir (p, 0755);
    PATHF (q, "%s/%s", p, uuid);
    PATHF (target, "../../../../bus/mdev/devices/%s", uuid);
    symlink (target, q);
    PATHF (p, "%s/dev/vfio/%d", root, group);
    write_file (p, "", 0600);
    PATHF (p, "%s/devices/%s", typedir, uuid);
    PATHF (target, "../../../../../../bus/mdev/devices/%s", uuid);
    symlink (target, p);
    adjust_available (typedir, -1);
    return 0;
}

static int
do_remove (const char *root, const char *uuid)
{
    fk_log ("remove %s", uuid);
    const char *hang = getenv ("FAKEKERNEL_REMOVE_HANG_MS");
    if (hang)
        usleep ((useconds_t) strtoul (hang, NULL, 10) * 1000);
    char dev[PATH_MAX], p[PATH_MAX], link[PATH_MAX];
    PATHF (dev, "%s/sys/bus/mdev/devices/%s", root, uuid);

    /* The type directory, through the mdev_type link. */
    char typedir[PATH_MAX];
    PATHF (p, "%s/mdev_type", dev);
    ssize_t n = readlink (p, link, sizeof link - 1);
    typedir[0] = '\0';
    if (n > 0) {
        link[n] = '\0';
        PATHF (typedir, "%s/%s", dev, link);
    }
    PATHF (p, "%s/iommu_group", dev);
    n = readlink (p, link, sizeof link - 1);
    if (n > 0) {
        link[n] = '\0';
        const char *g = strrchr (link, '/');
        if (g) {
            PATHF (p, "%s/sys/kernel/iommu_groups/%s", root, g + 1);
            rm_tree (p);
            PATHF (p, "%s/dev/vfio/%s", root, g + 1);
            unlink (p);
        }
    }
    if (typedir[0]) {
        char real[PATH_MAX];
        if (realpath (typedir, real)) {
            PATHF (p, "%s/devices/%s", real, uuid);
            unlink (p);
            adjust_available (real, +1);
        }
    }
    /* Kept aside rather than deleted: sysfs never hands a new device the
     * inode number of a removed one, and neither may a file system that
     * reuses freed inodes. */
    char grave[PATH_MAX];
    PATHF (grave, "%s/.removed", root);
    mkdir (grave, 0755);
    PATHF (grave, "%s/.removed/%s-%ld", root, uuid, (long) getpid ());
    rm_tree (grave);
    if (rename (dev, grave) < 0)
        rm_tree (dev);
    return 0;
}

/* Acts on a closed write to @path (resolved, under @root); returns 0 or an
 * errno for close() to fail with. */
static int
sysfs_write (const char *root, const char *path)
{
    size_t rl = strlen (root);
    const char *rel = path + rl;
    char content[4200];

    /* sys/class/mdev_bus/GPU/mdev_supported_types/TYPE/create */
    const char *cls = "/sys/class/mdev_bus/";
    if (strncmp (rel, cls, strlen (cls)) == 0) {
        char gpu[256], type[256], leaf[64];
        if (sscanf (rel + strlen (cls), "%255[^/]/mdev_supported_types/%255[^/]/%63s", gpu,
                    type, leaf) == 3 && strcmp (leaf, "create") == 0) {
            if (read_file (path, content, sizeof content) < 0)
                return EIO;
            char typedir[PATH_MAX];
            PATHF (typedir, "%.*s", (int) (strrchr (path, '/') - path), path);
            return do_create (root, gpu, type, typedir, content);
        }
        return 0;
    }
    /* sys/bus/mdev/devices/UUID/... */
    const char *bus = "/sys/bus/mdev/devices/";
    if (strncmp (rel, bus, strlen (bus)) == 0) {
        char uuid[64];
        const char *rest = rel + strlen (bus);
        const char *slash = strchr (rest, '/');
        if (slash == NULL || slash - rest >= (long) sizeof uuid)
            return 0;
        PATHF (uuid, "%.*s", (int) (slash - rest), rest);
        if (read_file (path, content, sizeof content) < 0)
            content[0] = '\0';
        if (strcmp (slash + 1, "remove") == 0)
            return strcmp (content, "1") == 0 ? do_remove (root, uuid) : EINVAL;
        if (getenv ("FAKEKERNEL_ATTR_BUSY") && strncmp (slash + 1, "vendor/", 7) == 0)
            return EBUSY;
        fk_log ("write %s %s %s", uuid, slash + 1, content);
    }
    return 0;
}

int
close (int fd)
{
    /* Only writes reach the fake kernel: a read-only close (most of them,
     * and what benchmark figure 12 times) costs one fcntl() more. */
    static char root[PATH_MAX];
    static const char *root_for;
    const char *root_env = getenv ("VGPU_ROOT");
    char path[PATH_MAX], proc[64];
    int act = 0;
    int fl = fd >= 0 && root_env ? fcntl (fd, F_GETFL) : -1;

    if (fl >= 0 && (fl & O_ACCMODE) != O_RDONLY) {
        /* the root resolved once per value of $VGPU_ROOT */
        if (root_for != root_env && realpath (root_env, root))
            root_for = root_env;
        PATHF (proc, "/proc/self/fd/%d", fd);
        ssize_t n = readlink (proc, path, sizeof path - 1);
        if (root_for == root_env && n > 0) {
            path[n] = '\0';
            size_t rl = strlen (root);
            act = strncmp (path, root, rl) == 0 && path[rl] == '/';
        }
    }
    int ret = raw_close (fd);
    if (ret < 0 || !act)
        return ret;
    int err = sysfs_write (root, path);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}
