/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The libvirt qemu hook for vGPUs, installed as /etc/libvirt/hooks/qemu.d/vgpu.
 *
 * libvirt runs it as "vgpu DOMAIN OPERATION SUB-OPERATION EXTRA" with the
 * domain XML on standard input (ARCHITECTURE.md §3.2, LAB.md "Hooks"):
 *
 *   prepare begin  every managed vGPU named in the domain's <vgpu:devices>
 *                  metadata is created (and waited for until bound), after
 *                  checking that every unmanaged one exists with its type and
 *                  parent. If one step fails, the vGPUs created by this run
 *                  are removed again and the hook exits 1 with one line on
 *                  standard error, which libvirt shows when it aborts the
 *                  start. A managed vGPU that already exists with the right
 *                  type (e.g. left over when libvirtd died) is used as it is.
 *   release end    the managed vGPUs that exist are removed. Failures are
 *                  reported (exit 1) but do not stop the others.
 *   anything else  nothing (exit 0).
 *
 * It never calls back into libvirtd (that deadlocks: libvirt holds the domain
 * while the hook runs) and does not link libvirt at all. System paths derive
 * from $VGPU_ROOT like every libvgpu path; the wait for the kernel is
 * $VGPU_TIMEOUT_MS milliseconds (default 10 s).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gi18n.h>

#include "libvgpu.h"
#include "vgpu-program.h"

#define HOOK_DEFAULT_TIMEOUT_MS 10000

static const char *domain_name = "?";

static void G_GNUC_PRINTF (1, 2)
hook_error (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    g_autofree char *msg = g_strdup_vprintf (fmt, ap);
    va_end (ap);
    g_strdelimit (msg, "\n", ' ');
    g_printerr ("vgpu hook: %s\n", msg);
}

static guint
timeout_ms (void)
{
    const char *env = g_getenv ("VGPU_TIMEOUT_MS");
    guint64 ms;
    if (env && g_ascii_string_to_unsigned (env, 10, 0, 3600 * 1000, &ms, NULL))
        return (guint) ms;
    return HOOK_DEFAULT_TIMEOUT_MS;
}

/* The domain XML from standard input, read completely (libvirt writes all of
 * it before it waits for us) and at most VGPU_XML_MAX_SIZE bytes. */
static GBytes *
read_stdin (void)
{
    g_autoptr (GByteArray) buf = g_byte_array_new ();
    guint8 chunk[65536];
    for (;;) {
        ssize_t n = read (STDIN_FILENO, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            hook_error (_("Cannot read the XML of domain %1$s from standard input: %2$s"),
                        domain_name, g_strerror (e));
            return NULL;
        }
        if (n == 0)
            break;
        if (buf->len + (gsize) n > VGPU_XML_MAX_SIZE) {
            hook_error (_("The XML of domain %1$s is larger than %2$d bytes; the hook "
                          "refuses it."), domain_name, VGPU_XML_MAX_SIZE);
            return NULL;
        }
        g_byte_array_append (buf, chunk, (guint) n);
    }
    return g_byte_array_free_to_bytes (g_steal_pointer (&buf));
}

static GPtrArray *
domain_devices (GBytes *xml)
{
    gsize len;
    const char *data = g_bytes_get_data (xml, &len);
    g_autoptr (GError) error = NULL;
    g_autoptr (xmlDoc) doc = vgpu_xml_parse (data, len, domain_name, &error);
    GPtrArray *devs = doc ? vgpu_domain_get_devices (doc, &error) : NULL;
    if (devs == NULL)
        hook_error (_("Cannot read the vGPUs of domain %1$s: %2$s"), domain_name,
                    error->message);
    return devs;
}

/* Does existing vGPU @m match @d (type, and parent when @d names one)? */
static gboolean
matches (const VgpuDevice *d, const VgpuMdev *m, GError **error)
{
    if (g_strcmp0 (m->type, d->type) != 0) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_FAILED,
                     _("vGPU %1$s exists with type %2$s, but domain %3$s wants type %4$s; "
                       "remove it or correct the domain"),
                     d->uuid, m->type ? m->type : "?", domain_name, d->type);
        return FALSE;
    }
    g_autofree char *want_parent = vgpu_device_sysfs_parent (d, error);
    if (want_parent == NULL)
        return error == NULL || *error == NULL;
    if (g_strcmp0 (m->parent, want_parent) != 0) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_FAILED,
                     _("vGPU %1$s exists on GPU %2$s, but domain %3$s wants it on %4$s; "
                       "remove it or correct the domain"),
                     d->uuid, m->parent ? m->parent : "?", domain_name, want_parent);
        return FALSE;
    }
    return TRUE;
}

/* Removes what this run created, newest first; returns the failures or NULL. */
static char *
undo (GPtrArray *created)
{
    g_autoptr (GString) failed = NULL;
    for (guint i = created->len; i-- > 0;) {
        const char *uuid = created->pdata[i];
        g_autoptr (GError) error = NULL;
        if (vgpu_remove (uuid, &error) && vgpu_wait_removed (uuid, timeout_ms (), &error))
            continue;
        if (failed == NULL)
            failed = g_string_new (NULL);
        else
            g_string_append (failed, ", ");
        g_string_append (failed, error->message);
    }
    return failed ? g_string_free (g_steal_pointer (&failed), FALSE) : NULL;
}

static int
prepare (GPtrArray *devs)
{
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) to_create = g_ptr_array_new ();

    /* 1. Check without changing anything. */
    for (guint i = 0; i < devs->len; i++) {
        const VgpuDevice *d = devs->pdata[i];
        g_autoptr (VgpuMdev) m = vgpu_get_mdev (d->uuid, NULL);
        if (m && !matches (d, m, &error)) {
            hook_error ("%s.", error->message);
            return 1;
        }
        if (m == NULL && !vgpu_device_is_managed (d)) {
            hook_error (_("The unmanaged vGPU %1$s (type %2$s) of domain %3$s does not exist; "
                          "create it (vgpuctl create --type %2$s --uuid %1$s) or make the "
                          "hostdev managed='yes'."), d->uuid, d->type, domain_name);
            return 1;
        }
        if (m == NULL)
            g_ptr_array_add (to_create, (gpointer) d);
    }

    /* 2. Create the missing managed vGPUs; on failure undo this run. */
    g_autoptr (GPtrArray) created = g_ptr_array_new ();
    for (guint i = 0; i < to_create->len; i++) {
        const VgpuDevice *d = to_create->pdata[i];
        g_autofree char *parent = vgpu_device_sysfs_parent (d, &error);
        if ((parent != NULL || error == NULL) &&
            vgpu_create (parent, d->type, d->uuid, d->attrs, timeout_ms (), NULL, &error)) {
            g_ptr_array_add (created, d->uuid);
            continue;
        }
        g_autofree char *undo_failed = undo (created);
        if (undo_failed)
            hook_error (_("Cannot create vGPU %1$s of domain %2$s: %3$s Removing the vGPUs "
                          "created before it failed too (%4$s); remove them with 'vgpuctl "
                          "remove'."), d->uuid, domain_name, error->message, undo_failed);
        else
            hook_error (_("Cannot create vGPU %1$s of domain %2$s: %3$s"), d->uuid,
                        domain_name, error->message);
        return 1;
    }
    return 0;
}

static int
release (GPtrArray *devs)
{
    int status = 0;
    for (guint i = 0; i < devs->len; i++) {
        const VgpuDevice *d = devs->pdata[i];
        if (!vgpu_device_is_managed (d))
            continue;
        g_autoptr (VgpuMdev) m = vgpu_get_mdev (d->uuid, NULL);
        if (m == NULL)
            continue;       /* already gone */
        g_autoptr (GError) error = NULL;
        if (!vgpu_remove (d->uuid, &error) ||
            !vgpu_wait_removed (d->uuid, timeout_ms (), &error)) {
            hook_error (_("Cannot remove vGPU %1$s of stopped domain %2$s: %3$s"), d->uuid,
                        domain_name, error->message);
            status = 1;
        }
    }
    return status;
}

int
main (int argc, char **argv)
{
    vgpu_program_init_i18n ();

    if (argc < 4) {
        hook_error (_("Usage: %1$s DOMAIN OPERATION SUB-OPERATION [EXTRA] < DOMAIN-XML; "
                      "libvirt runs this hook itself."), argv[0]);
        return 2;
    }
    domain_name = argv[1];
    gboolean is_prepare = g_str_equal (argv[2], "prepare") && g_str_equal (argv[3], "begin");
    gboolean is_release = g_str_equal (argv[2], "release") && g_str_equal (argv[3], "end");

    /* Read all of standard input even when there is nothing to do, so
     * libvirt never writes into a closed pipe. */
    g_autoptr (GBytes) xml = read_stdin ();
    if (xml == NULL)
        return 1;
    if (!is_prepare && !is_release)
        return 0;

    g_autoptr (GPtrArray) devs = domain_devices (xml);
    if (devs == NULL)
        return 1;
    return is_prepare ? prepare (devs) : release (devs);
}
