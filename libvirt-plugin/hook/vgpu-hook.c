/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The libvirt qemu hook for vGPUs, installed as /etc/libvirt/hooks/qemu.d/vgpu
 * (the program itself, not a link: Debian's AppArmor profile for libvirtd
 * lets it execute what lies under /etc/libvirt/hooks/ and nothing in
 * libexec).
 *
 * libvirt runs it as "vgpu DOMAIN OPERATION SUB-OPERATION EXTRA" with the
 * domain XML on standard input (ARCHITECTURE.md §3.2, LAB.md "Hooks") for
 * every QEMU domain of the host, also after a failed start, so it only acts
 * on what it owns (libvgpu.h, "ownership, locks"):
 *
 *   prepare begin  for each vGPU of the domain's <vgpu:devices> metadata
 *                  that has its native hostdev in the domain (entries left
 *                  behind by other tools are ignored), under the host lock:
 *                  first every vGPU is checked (a managed one must be absent
 *                  or this domain's own, an unmanaged one must exist and
 *                  belong to no other domain, types and parents must match),
 *                  then the missing managed ones are created for this
 *                  domain. If one step fails, the vGPUs created by this run
 *                  are removed again and the hook exits 1 with one line on
 *                  standard error, which libvirt shows when it aborts the
 *                  start. libvirt runs it on its common start path, also at
 *                  virsh restore (e2e-save-restore) and for an incoming
 *                  migration (not tested): the saved or migrated XML's
 *                  metadata brings back the same uuids.
 *   release end    the vGPUs this domain owns are removed (never another
 *                  domain's, never an unmanaged one). A vGPU still held by a
 *                  process is reported with that process, never waited for
 *                  without bound. Failures are reported (exit 1) but do not
 *                  stop the others.
 *   anything else  exit 0 at once, before reading standard input: libvirt
 *                  kills a running domain whose "reconnect" hook fails, and
 *                  ignores a hook that does not read its input.
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
#include "vgpu-autoptr.h"
#include "vgpu-program.h"

#define HOOK_DEFAULT_TIMEOUT_MS 10000
/* How long a start waits for other domains' vGPU work (each bounded). */
#define HOOK_LOCK_TIMEOUT_MS 60000

static const char *domain_name = "?";

static void G_GNUC_PRINTF (1, 2)
hook_error (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vgpu_program_error ("vgpu hook", fmt, ap);
    va_end (ap);
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

/* The domain's identity and its vGPUs (those with a native hostdev). */
typedef struct {
    char *uuid;
    char *name;
    GPtrArray *devices;     /* VgpuDevice* */
} Domain;

static void
domain_clear (Domain *d)
{
    g_free (d->uuid);
    g_free (d->name);
    g_clear_pointer (&d->devices, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Domain, domain_clear)

static gboolean
read_domain (GBytes *xml, Domain *dom)
{
    gsize len;
    const char *data = g_bytes_get_data (xml, &len);
    g_autoptr (GError) error = NULL;
    g_autoptr (xmlDoc) doc = vgpu_xml_parse (data, len, domain_name, &error);
    if (doc && (dom->devices = vgpu_domain_get_devices (doc, NULL, &error))) {
        /* libvirt always gives a domain a UUID; without one, nothing can be
         * owned by it, which only matters when it lists vGPUs. */
        if (vgpu_domain_get_identity (doc, &dom->name, &dom->uuid, &error) ||
            dom->devices->len == 0)
            return TRUE;
    }
    hook_error (_("Cannot read the vGPUs of domain %1$s: %2$s"), domain_name, error->message);
    return FALSE;
}

/* Removes what this run created, newest first; returns the failures or NULL. */
static char *
undo (const Domain *dom, GPtrArray *created)
{
    g_autoptr (GString) failed = NULL;
    for (guint i = created->len; i-- > 0;) {
        const char *uuid = created->pdata[i];
        g_autoptr (GError) error = NULL;
        if (vgpu_device_release_owned (uuid, dom->uuid, timeout_ms (), NULL, &error))
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
prepare (const Domain *dom)
{
    g_autoptr (GError) error = NULL;
    if (dom->devices->len == 0)
        return 0;
    /* Checks and creation are one step against every other domain's. */
    g_autoptr (VgpuLock) lock = vgpu_lock_host (HOOK_LOCK_TIMEOUT_MS, &error);
    if (lock == NULL) {
        hook_error (_("Cannot start domain %1$s: %2$s"), domain_name, error->message);
        return 1;
    }

    /* 1. Check without changing anything. */
    g_autoptr (GPtrArray) to_create = g_ptr_array_new ();
    for (guint i = 0; i < dom->devices->len; i++) {
        const VgpuDevice *d = dom->devices->pdata[i];
        gboolean missing;
        if (!vgpu_device_check (d, dom->uuid, domain_name, &missing, &error)) {
            hook_error ("%s.", error->message);
            return 1;
        }
        if (missing)
            g_ptr_array_add (to_create, (gpointer) d);
    }

    /* 2. Create the missing managed vGPUs; on failure undo this run. */
    g_autoptr (GPtrArray) created = g_ptr_array_new ();
    for (guint i = 0; i < to_create->len; i++) {
        const VgpuDevice *d = to_create->pdata[i];
        if (vgpu_device_create_owned (d, dom->uuid, domain_name, "libvirt-hook", timeout_ms (),
                                      &error)) {
            g_ptr_array_add (created, d->uuid);
            continue;
        }
        g_autofree char *undo_failed = undo (dom, created);
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
release (const Domain *dom)
{
    if (dom->uuid == NULL)
        return 0;           /* no vGPU metadata: nothing of ours */
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) owned = vgpu_owned_by (dom->uuid, &error);
    if (owned == NULL) {
        hook_error (_("Cannot find the vGPUs of stopped domain %1$s: %2$s"), domain_name,
                    error->message);
        return 1;
    }
    int status = 0;
    for (guint i = 0; i < owned->len; i++) {
        const char *uuid = owned->pdata[i];
        g_autoptr (GError) e = NULL;
        if (!vgpu_device_release_owned (uuid, dom->uuid, timeout_ms (), NULL, &e)) {
            hook_error (_("Cannot remove vGPU %1$s of stopped domain %2$s: %3$s"), uuid,
                        domain_name, e->message);
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
    if (!is_prepare && !is_release)
        return 0;

    g_autoptr (GBytes) xml = read_stdin ();
    if (xml == NULL)
        return 1;
    g_auto (Domain) dom = { 0 };
    if (!read_domain (xml, &dom))
        return 1;
    return is_prepare ? prepare (&dom) : release (&dom);
}
