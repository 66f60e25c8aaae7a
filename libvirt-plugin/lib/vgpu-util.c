/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvgpu: errors, name validation, the system root, small file helpers. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "vgpu-private.h"

G_DEFINE_QUARK (vgpu-error-quark, vgpu_error)

VGPU_ENUM_IMPL (vgpu_name_kind, VGPU_NAME_LAST,
                "type id",
                "parent address",
                "node device name",
                "UUID",
                "attribute name")

const char *
vgpu_name_kind_to_string (VgpuNameKind kind)
{
    const char *s = vgpu_name_kind_to_str (kind);
    return s ? s : "name";
}

/* Longest type id or attribute component we accept (sysfs names are short). */
#define VGPU_NAME_COMPONENT_MAX 64

static gboolean
is_hex_lower (char c)
{
    return g_ascii_isdigit (c) || (c >= 'a' && c <= 'f');
}

/* One component of a type id or an attribute name: starts with an
 * alphanumeric or '_', then [A-Za-z0-9_.+:-]. So never "", "." or "..". */
static gboolean
component_ok (const char *s, gsize len)
{
    if (len == 0 || len > VGPU_NAME_COMPONENT_MAX)
        return FALSE;
    if (!g_ascii_isalnum (s[0]) && s[0] != '_')
        return FALSE;
    for (gsize i = 1; i < len; i++) {
        char c = s[i];
        if (!g_ascii_isalnum (c) && !strchr ("_.+:-", c))
            return FALSE;
    }
    return TRUE;
}

/* Matches @s against @pattern where 'x' is a lower-case hex digit, 'o' an
 * octal-range function digit 0-7 and any other character itself. */
static gboolean
match_hex_pattern (const char *s, const char *pattern)
{
    gsize i;
    for (i = 0; pattern[i]; i++) {
        char p = pattern[i], c = s[i];
        if (c == '\0')
            return FALSE;
        if (p == 'x') {
            if (!is_hex_lower (c))
                return FALSE;
        } else if (p == 'o') {
            if (c < '0' || c > '7')
                return FALSE;
        } else if (p != c) {
            return FALSE;
        }
    }
    return s[i] == '\0';
}

static gboolean
uuid_ok (const char *s)
{
    static const char pattern[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (strlen (s) != sizeof (pattern) - 1)
        return FALSE;
    for (gsize i = 0; pattern[i]; i++) {
        if (pattern[i] == '-') {
            if (s[i] != '-')
                return FALSE;
        } else if (!g_ascii_isxdigit (s[i])) {
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
vgpu_name_is_valid (VgpuNameKind kind, const char *name, GError **error)
{
    gboolean ok = FALSE;
    const char *expect = "";

    if (name == NULL) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_INVALID_NAME,
                     _("A %1$s is required but none was given; supply one."),
                     vgpu_name_kind_to_string (kind));
        return FALSE;
    }

    switch (kind) {
    case VGPU_NAME_TYPE:
        ok = component_ok (name, strlen (name));
        expect = _("letters, digits and _.+:- (not starting with '.' or '-', "
                   "at most 64 characters), e.g. vgpu_sim-32m");
        break;
    case VGPU_NAME_PARENT:
        ok = match_hex_pattern (name, "xxxx:xx:xx.o");
        expect = _("a PCI address DDDD:BB:SS.F in lower-case hex, e.g. 0000:00:05.0");
        break;
    case VGPU_NAME_NODEDEV:
        ok = match_hex_pattern (name, "pci_xxxx_xx_xx_o");
        expect = _("a libvirt PCI node device name, e.g. pci_0000_00_05_0");
        break;
    case VGPU_NAME_UUID:
        ok = uuid_ok (name);
        expect = _("a UUID like 0b1a7c52-5d2e-4b6c-9a43-2f4b3a1c8e10");
        break;
    case VGPU_NAME_ATTR:
        /* Only the vendor/ group: every other entry of the device directory
         * is the kernel's (remove, uevent, power/, links out of it). */
        ok = g_str_has_prefix (name, VGPU_ATTR_GROUP "/") &&
             component_ok (name + strlen (VGPU_ATTR_GROUP "/"),
                           strlen (name) - strlen (VGPU_ATTR_GROUP "/"));
        expect = _("a vendor attribute of the vGPU, vendor/NAME (e.g. vendor/max_fps), "
                   "NAME made of letters, digits and _.+:-");
        break;
    case VGPU_NAME_LAST:
    default:
        break;
    }

    if (!ok) {
        g_autofree char *shown = g_strescape (name, NULL);
        if (strlen (shown) > 80)
            strcpy (shown + 77, "...");
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_INVALID_NAME,
                     _("Invalid %1$s '%2$s': expected %3$s."),
                     vgpu_name_kind_to_string (kind), shown, expect);
    }
    return ok;
}

char *
vgpu_parent_to_sysfs (const char *parent, GError **error)
{
    if (parent != NULL && g_str_has_prefix (parent, "pci_")) {
        if (!vgpu_name_is_valid (VGPU_NAME_NODEDEV, parent, error))
            return NULL;
        /* pci_DDDD_BB_SS_F -> DDDD:BB:SS.F */
        char *s = g_strdup (parent + 4);
        s[4] = ':';
        s[7] = ':';
        s[10] = '.';
        return s;
    }
    if (!vgpu_name_is_valid (VGPU_NAME_PARENT, parent, error))
        return NULL;
    return g_strdup (parent);
}

/* ---------------------------------------------------------------- roots */

const char *
vgpu_root (void)
{
    const char *root = g_getenv ("VGPU_ROOT");
    if (root == NULL || root[0] == '\0')
        return "/";
    return root;
}

char *
vgpu_root_path (const char *abs_path)
{
    g_return_val_if_fail (abs_path != NULL && abs_path[0] == '/', NULL);
    return g_build_filename (vgpu_root (), abs_path, NULL);
}

const char *
vgpu_schema_dir (void)
{
    const char *d = g_getenv ("VGPU_SCHEMA_DIR");
    return (d && d[0]) ? d : VGPU_SCHEMADIR;
}

const char *
vgpu_libvirt_schema_dir (void)
{
    const char *d = g_getenv ("VGPU_LIBVIRT_SCHEMA_DIR");
    return (d && d[0]) ? d : VGPU_LIBVIRT_SCHEMADIR;
}

int
vgpu_cmp_strings (gconstpointer a, gconstpointer b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* ---------------------------------------------------------- file helpers */

/* sysfs attributes are at most a page. */
#define VGPU_ATTR_MAX 4096

char *
vgpu_read_attr (const char *path, GError **error)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int e = errno;
        g_set_error (error, VGPU_ERROR,
                     e == ENOENT ? VGPU_ERROR_NOT_FOUND : VGPU_ERROR_IO,
                     _("Cannot read %1$s: %2$s. Check that the vGPU driver is loaded "
                       "and that you may read sysfs."),
                     path, g_strerror (e));
        return NULL;
    }
    g_autofree char *buf = g_malloc (VGPU_ATTR_MAX + 1);
    gsize total = 0;
    for (;;) {
        ssize_t n = read (fd, buf + total, VGPU_ATTR_MAX - total);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close (fd);
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_IO,
                         _("Cannot read %1$s: %2$s. Check the vGPU driver's kernel log."),
                         path, g_strerror (e));
            return NULL;
        }
        if (n == 0 || total + n >= VGPU_ATTR_MAX) {
            total += n;
            break;
        }
        total += n;
    }
    close (fd);
    buf[total] = '\0';
    while (total > 0 && (buf[total - 1] == '\n' || buf[total - 1] == ' '))
        buf[--total] = '\0';
    return g_steal_pointer (&buf);
}

gboolean
vgpu_write_fd (int fd, const char *path, const char *value, GError **error)
{
    gsize len = strlen (value), done = 0;
    int e = 0;
    while (done < len) {
        ssize_t n = write (fd, value + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            e = n < 0 ? errno : EIO;
            break;
        }
        done += n;
    }
    /* sysfs may report the store's error only at close. */
    if (close (fd) < 0 && e == 0)
        e = errno;
    if (e != 0) {
        /* EBUSY: the kernel refuses the change in the device's current state. */
        g_set_error (error, VGPU_ERROR, e == EBUSY ? VGPU_ERROR_BUSY : VGPU_ERROR_IO,
                     _("Writing '%1$s' to %2$s failed: %3$s. The kernel refused the "
                       "value; check its log (dmesg)."),
                     value, path, g_strerror (e));
        return FALSE;
    }
    return TRUE;
}

gboolean
vgpu_write_attr (const char *path, const char *value, GError **error)
{
    int fd = open (path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int e = errno;
        g_set_error (error, VGPU_ERROR,
                     e == ENOENT ? VGPU_ERROR_NOT_FOUND : VGPU_ERROR_IO,
                     _("Cannot open %1$s for writing: %2$s. Check that the path exists "
                       "and that you run as root."),
                     path, g_strerror (e));
        return FALSE;
    }
    return vgpu_write_fd (fd, path, value, error);
}
