/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vgpuctl verbs that go through the libvirt C API: define, attach-device,
 * detach-device. The XML translation is libvgpu's; what happens here is the
 * order of the steps and undoing them when a later step fails, so that no
 * vGPU is left created without a domain that knows about it.
 */
#include <stdio.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "vgpuctl.h"

/* How long a verb waits for another vgpuctl working on the same domain. */
#define VGPUCTL_LOCK_TIMEOUT_MS 60000

G_DEFINE_AUTOPTR_CLEANUP_FUNC (virConnect, virConnectClose)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virDomain, virDomainFree)

static void
silent_libvirt_error (void *opaque G_GNUC_UNUSED, virErrorPtr err G_GNUC_UNUSED)
{
    /* Errors are reported once, by vgpuctl, with what to do next. */
}

static const char *
libvirt_message (void)
{
    const char *msg = virGetLastErrorMessage ();
    return msg ? msg : _("unknown libvirt error");
}

static virConnect *
open_connection (const char *uri)
{
    virSetErrorFunc (NULL, silent_libvirt_error);
    virConnect *conn = virConnectOpen (uri);
    if (conn == NULL)
        vgpuctl_error (_("Cannot connect to libvirt at %1$s: %2$s; check that libvirtd runs "
                         "and that you may use it, or choose another URI with --connect."),
                       uri ? uri : _("the default URI"), libvirt_message ());
    return conn;
}

static virDomain *
lookup_domain (virConnect *conn, const char *name)
{
    virDomain *dom = virDomainLookupByName (conn, name);
    if (dom == NULL)
        dom = virDomainLookupByUUIDString (conn, name);
    guint64 id;
    if (dom == NULL && g_ascii_string_to_unsigned (name, 10, 0, G_MAXINT, &id, NULL))
        dom = virDomainLookupByID (conn, (int) id);
    if (dom == NULL)
        vgpuctl_error (_("There is no domain '%1$s' (by name, UUID or id); run 'virsh list "
                         "--all' to see the domains."), name);
    return dom;
}

/* ------------------------------------------------------------- metadata */

/* The vGPUs in @dom's metadata for @flag (LIVE or CONFIG); empty when the
 * domain has no vGPU metadata. */
static GPtrArray *
get_metadata (virDomain *dom, unsigned int flag, GError **error)
{
    char *xml = virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, VGPU_METADATA_NS, flag);
    if (xml == NULL) {
        virErrorPtr e = virGetLastError ();
        if (e && e->code == VIR_ERR_NO_DOMAIN_METADATA)
            return g_ptr_array_new_with_free_func ((GDestroyNotify) vgpu_device_free);
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_FAILED,
                     _("Cannot read the vGPU metadata of domain %1$s: %2$s; check the "
                       "domain with 'virsh dumpxml'."),
                     virDomainGetName (dom), libvirt_message ());
        return NULL;
    }
    GPtrArray *devs = vgpu_metadata_parse (xml, error);
    free (xml);
    return devs;
}

/* Replaces the vGPU metadata of @dom (for @flag) by @devs (removed when
 * empty). */
static gboolean
set_metadata (virDomain *dom, GPtrArray *devs, unsigned int flag, GError **error)
{
    /* libvirt takes the element without namespace; it adds KEY and NS. */
    g_autofree char *xml = devs->len ? vgpu_metadata_format_plain (devs) : NULL;
    if (virDomainSetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, xml, VGPU_METADATA_KEY,
                              VGPU_METADATA_NS, flag) < 0) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_FAILED,
                     _("Cannot record the vGPUs in the metadata of domain %1$s: %2$s"),
                     virDomainGetName (dom), libvirt_message ());
        return FALSE;
    }
    return TRUE;
}

static gboolean
same_place (const VgpuDevice *a, const VgpuDevice *b)
{
    return g_strcmp0 (a->type, b->type) == 0 && a->parent_kind == b->parent_kind &&
           g_strcmp0 (a->parent, b->parent) == 0;
}

static const VgpuDevice *
find_uuid (GPtrArray *devs, const char *uuid)
{
    for (guint i = 0; devs && i < devs->len; i++) {
        const VgpuDevice *d = devs->pdata[i];
        if (g_ascii_strcasecmp (d->uuid, uuid) == 0)
            return d;
    }
    return NULL;
}

/* ----------------------------------------------------------------- define */

int
vgpuctl_cmd_define (const VgpuctlVerb *verb, int argc, char **argv)
{
    g_autofree char *uri = NULL;
    const GOptionEntry entries[] = {
        { "connect", 'c', 0, G_OPTION_ARG_STRING, &uri,
          N_("libvirt connection URI (default: libvirt's default)"), N_("URI") },
        { NULL }
    };
    if (!vgpuctl_parse (verb, _("FILE is a <domain> document that may contain <hostdev "
                                "type='vgpu'> elements ('-' reads standard input). They are "
                                "translated to native mdev hostdevs plus vGPU metadata, and the "
                                "domain is defined. Managed vGPUs are created when it starts "
                                "(by the libvirt hook), not now."),
                        entries, &argc, &argv, 1, 1))
        return VGPUCTL_EXIT_USAGE;

    int rc;
    g_autoptr (xmlDoc) doc = vgpuctl_read_doc (argv[1], &rc);
    if (doc == NULL)
        return rc;
    VgpuDocKind kind = vgpu_xml_detect_kind (doc);
    if (kind != VGPU_DOC_DOMAIN) {
        vgpuctl_error (_("%1$s is a %2$s document, not a <domain>; 'vgpuctl define' needs a "
                         "domain."), argv[1], vgpu_doc_kind_to_string (kind));
        return VGPUCTL_EXIT_INVALID;
    }
    g_autoptr (GError) error = NULL;
    if (!vgpu_xml_validate (doc, kind, &error)) {
        g_prefix_error (&error, "%s: ", argv[1]);
        return vgpuctl_report (error);
    }
    int n = vgpu_domain_to_native (doc, NULL, &error);
    if (n < 0)
        return vgpuctl_report (error);
    g_autofree char *xml = vgpu_xml_format (doc);

    g_autoptr (virConnect) conn = open_connection (uri);
    if (conn == NULL)
        return VGPUCTL_EXIT_FAILED;
    g_autoptr (virDomain) dom = virDomainDefineXMLFlags (conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);
    if (dom == NULL) {
        vgpuctl_error (_("libvirt refused the domain of %1$s: %2$s; fix the document and run "
                         "'vgpuctl validate' on it."), argv[1], libvirt_message ());
        return VGPUCTL_EXIT_FAILED;
    }
    printf (g_dngettext (GETTEXT_PACKAGE, "Domain %1$s defined from %2$s with %3$d vGPU.\n",
                         "Domain %1$s defined from %2$s with %3$d vGPUs.\n", n),
            virDomainGetName (dom), argv[1], n);
    return VGPUCTL_EXIT_OK;
}

/* ------------------------------------------------------- attach / detach */

typedef struct {
    gboolean live;
    gboolean config;
    unsigned int flags;       /* VIR_DOMAIN_AFFECT_* for attach/detach */
} Targets;

/* Resolves --live/--config like virsh: neither means the domain's current
 * state (live if running, else its definition). */
static gboolean
resolve_targets (virDomain *dom, gboolean live, gboolean config, Targets *t)
{
    int active = virDomainIsActive (dom);
    if (active < 0) {
        vgpuctl_error (_("Cannot get the state of domain %1$s: %2$s"), virDomainGetName (dom),
                       libvirt_message ());
        return FALSE;
    }
    if (!live && !config) {
        live = active;
        config = !active;
    }
    if (live && !active) {
        vgpuctl_error (_("Domain %1$s is not running; use --config to change its definition."),
                       virDomainGetName (dom));
        return FALSE;
    }
    t->live = live;
    t->config = config;
    t->flags = (live ? VIR_DOMAIN_AFFECT_LIVE : 0) | (config ? VIR_DOMAIN_AFFECT_CONFIG : 0);
    return TRUE;
}

/* Reads and checks a <hostdev type='vgpu'> document. */
static xmlDoc *
read_vgpu_hostdev (const char *path, int *rc)
{
    g_autoptr (xmlDoc) doc = vgpuctl_read_doc (path, rc);
    if (doc == NULL)
        return NULL;
    *rc = VGPUCTL_EXIT_INVALID;
    VgpuDocKind kind = vgpu_xml_detect_kind (doc);
    if (kind != VGPU_DOC_HOSTDEV) {
        vgpuctl_error (_("%1$s is a %2$s document, not a <hostdev type='vgpu'>; use 'virsh "
                         "attach-device' or 'virsh detach-device' for other devices."),
                       path, vgpu_doc_kind_to_string (kind));
        return NULL;
    }
    *rc = vgpuctl_validate_doc (path, doc, kind);
    if (*rc != VGPUCTL_EXIT_OK)
        return NULL;
    return g_steal_pointer (&doc);
}

/* What attach-device and detach-device both start from: the checked hostdev
 * document, the domain, the definitions to change and the vGPUs their
 * metadata records, read under the domain's lock, which is held until the
 * verb ends so that no other vgpuctl changes the metadata in between. */
typedef struct {
    xmlDoc *doc;
    virConnect *conn;
    virDomain *dom;
    const char *dom_name;
    Targets t;
    char dom_uuid[VIR_UUID_STRING_BUFLEN];
    VgpuLock *lock;
    GPtrArray *meta_live;       /* NULL unless t.live */
    GPtrArray *meta_config;     /* NULL unless t.config */
} DeviceVerb;

static void
device_verb_clear (DeviceVerb *v)
{
    g_clear_pointer (&v->lock, vgpu_lock_release);
    g_clear_pointer (&v->meta_live, g_ptr_array_unref);
    g_clear_pointer (&v->meta_config, g_ptr_array_unref);
    g_clear_pointer (&v->dom, virDomainFree);
    g_clear_pointer (&v->conn, virConnectClose);
    g_clear_pointer (&v->doc, xmlFreeDoc);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DeviceVerb, device_verb_clear)

/* Opens @domain at @uri and takes its metadata lock. */
static int
domain_open (DeviceVerb *v, const char *domain, const char *uri)
{
    v->conn = open_connection (uri);
    if (v->conn == NULL)
        return VGPUCTL_EXIT_FAILED;
    v->dom = lookup_domain (v->conn, domain);
    if (v->dom == NULL)
        return VGPUCTL_EXIT_FAILED;
    v->dom_name = virDomainGetName (v->dom);
    if (virDomainGetUUIDString (v->dom, v->dom_uuid) < 0) {
        vgpuctl_error (_("Cannot get the UUID of domain %1$s: %2$s"), v->dom_name,
                       libvirt_message ());
        return VGPUCTL_EXIT_FAILED;
    }
    g_autoptr (GError) error = NULL;
    v->lock = vgpu_lock_domain (v->dom_uuid, VGPUCTL_LOCK_TIMEOUT_MS, &error);
    if (v->lock == NULL)
        return vgpuctl_report (error);
    return VGPUCTL_EXIT_OK;
}

/* Returns VGPUCTL_EXIT_OK, or the exit status the verb ends with (the error
 * is reported). */
static int
device_verb_open (DeviceVerb *v, const char *domain, const char *path, const char *uri,
                  gboolean live, gboolean config)
{
    int rc;
    v->doc = read_vgpu_hostdev (path, &rc);
    if (v->doc == NULL)
        return rc;
    rc = domain_open (v, domain, uri);
    if (rc != VGPUCTL_EXIT_OK)
        return rc;
    if (!resolve_targets (v->dom, live, config, &v->t))
        return VGPUCTL_EXIT_FAILED;
    g_autoptr (GError) error = NULL;
    if ((v->t.live && !(v->meta_live = get_metadata (v->dom, VIR_DOMAIN_AFFECT_LIVE, &error))) ||
        (v->t.config &&
         !(v->meta_config = get_metadata (v->dom, VIR_DOMAIN_AFFECT_CONFIG, &error))))
        return vgpuctl_report (error);
    return VGPUCTL_EXIT_OK;
}

/* Removes a vGPU this command created for domain @dom_uuid; returns NULL or
 * why it failed. */
static char *
undo_create (const char *uuid, const char *dom_uuid, guint timeout_ms)
{
    g_autoptr (GError) error = NULL;
    if (!vgpu_device_release_owned (uuid, dom_uuid, timeout_ms, NULL, &error))
        return g_strdup (error->message);
    return NULL;
}

static void
report_undone (const char *what, const char *uuid, const char *undo_error)
{
    if (undo_error)
        vgpuctl_error (_("%1$s; removing the new vGPU %2$s failed as well (%3$s): run "
                         "'vgpuctl remove %2$s'."), what, uuid, undo_error);
    else
        vgpuctl_error (_("%1$s; the new vGPU %2$s was removed again."), what, uuid);
}

int
vgpuctl_cmd_attach (const VgpuctlVerb *verb, int argc, char **argv)
{
    g_autofree char *uri = NULL;
    gboolean live = FALSE, config = FALSE;
    int timeout = -1;
    const GOptionEntry entries[] = {
        { "live", 'l', 0, G_OPTION_ARG_NONE, &live, N_("Attach to the running domain"), NULL },
        { "config", 'f', 0, G_OPTION_ARG_NONE, &config,
          N_("Attach to the domain's persistent definition"), NULL },
        { "connect", 'c', 0, G_OPTION_ARG_STRING, &uri,
          N_("libvirt connection URI (default: libvirt's default)"), N_("URI") },
        { "timeout", 'w', 0, G_OPTION_ARG_INT, &timeout,
          N_("Seconds to wait for a new vGPU to be bound to its driver (default 10)"),
          N_("SECONDS") },
        { NULL }
    };
    if (!vgpuctl_parse (verb, _("FILE is a <hostdev type='vgpu'> document ('-' reads standard "
                                "input). Without --live or --config the domain's current state "
                                "is changed. A managed vGPU is created first when attaching "
                                "live; if libvirt then refuses the device, it is removed again. "
                                "The vGPU is recorded in the domain's metadata, so the libvirt "
                                "hook creates and removes it at later starts and stops."),
                        entries, &argc, &argv, 2, 2))
        return VGPUCTL_EXIT_USAGE;

    g_auto (DeviceVerb) v = { 0 };
    int rc = device_verb_open (&v, argv[1], argv[2], uri, live, config);
    if (rc != VGPUCTL_EXIT_OK)
        return rc;
    g_autoptr (GError) error = NULL;

    /* A derived UUID takes the first ordinal (libvgpu.h, contract 4) whose
     * UUID the domain does not use yet: after a detach, the survivors keep
     * theirs, so a count could give an ordinal that is taken. */
    g_autoptr (VgpuDevice) wanted = vgpu_device_from_hostdev (xmlDocGetRootElement (v.doc),
                                                              &error);
    if (wanted == NULL)
        return vgpuctl_report (error);
    guint ordinal = 0;
    while (wanted->uuid == NULL) {
        g_autofree char *u = vgpu_derive_uuid (v.dom_uuid, wanted->type, wanted->parent,
                                               ordinal, &error);
        if (u == NULL)
            return vgpuctl_report (error);
        if (!find_uuid (v.meta_live, u) && !find_uuid (v.meta_config, u))
            break;
        ordinal++;
    }
    g_autoptr (VgpuDevice) dev = vgpu_hostdev_to_native (v.doc, v.dom_uuid, ordinal, &error);
    if (dev == NULL)
        return vgpuctl_report (error);
    if (find_uuid (v.meta_live, dev->uuid) || find_uuid (v.meta_config, dev->uuid)) {
        vgpuctl_error (_("vGPU %1$s is already attached to domain %2$s; detach it first or "
                         "give the new one another <uuid>."), dev->uuid, v.dom_name);
        return VGPUCTL_EXIT_FAILED;
    }
    g_autofree char *native = vgpu_xml_format (v.doc);

    /* 1. Create the vGPU (managed, live only: otherwise the hook does it at
     *    the next start). */
    guint timeout_ms = vgpuctl_timeout_ms (timeout);
    gboolean created = FALSE;
    if (vgpu_device_is_managed (dev) && v.t.live) {
        if (!vgpu_device_create_owned (dev, v.dom_uuid, v.dom_name, "vgpuctl", timeout_ms,
                                       &error))
            return vgpuctl_report (error);
        created = TRUE;
    } else if (v.t.live) {
        /* An unmanaged vGPU must exist and be nobody else's. */
        gboolean missing;
        if (!vgpu_device_check (dev, v.dom_uuid, v.dom_name, &missing, &error))
            return vgpuctl_report (error);
    }

    /* 2. Give libvirt the native hostdev. */
    if (virDomainAttachDeviceFlags (v.dom, native, v.t.flags) < 0) {
        g_autofree char *what = g_strdup_printf (_("libvirt could not attach vGPU %1$s to "
                                                   "domain %2$s: %3$s"),
                                                 dev->uuid, v.dom_name, libvirt_message ());
        if (!created) {
            vgpuctl_error ("%s", what);
            return VGPUCTL_EXIT_FAILED;
        }
        g_autofree char *undo = undo_create (dev->uuid, v.dom_uuid, timeout_ms);
        report_undone (what, dev->uuid, undo);
        return VGPUCTL_EXIT_FAILED;
    }

    /* 3. Record it in the metadata of every target. */
    const struct {
        gboolean on;
        unsigned int flag;
        GPtrArray *old;
    } steps[] = {
        { v.t.live, VIR_DOMAIN_AFFECT_LIVE, v.meta_live },
        { v.t.config, VIR_DOMAIN_AFFECT_CONFIG, v.meta_config },
    };
    for (gsize i = 0; i < G_N_ELEMENTS (steps); i++) {
        if (!steps[i].on)
            continue;
        g_autoptr (GPtrArray) now = g_ptr_array_new ();
        for (guint j = 0; j < steps[i].old->len; j++)
            g_ptr_array_add (now, steps[i].old->pdata[j]);
        g_ptr_array_add (now, dev);
        if (set_metadata (v.dom, now, steps[i].flag, &error))
            continue;

        /* Undo: metadata already written, the device, the vGPU. */
        for (gsize k = 0; k < i; k++)
            if (steps[k].on)
                set_metadata (v.dom, steps[k].old, steps[k].flag, NULL);
        virDomainDetachDeviceFlags (v.dom, native, v.t.flags);
        g_autofree char *what = g_strdup_printf (_("%1$s, so the device was detached again"),
                                                 error->message);
        if (!created) {
            vgpuctl_error ("%s", what);
            return VGPUCTL_EXIT_FAILED;
        }
        g_autofree char *undo = undo_create (dev->uuid, v.dom_uuid, timeout_ms);
        report_undone (what, dev->uuid, undo);
        return VGPUCTL_EXIT_FAILED;
    }

    printf (_("vGPU %1$s (type %2$s) attached to domain %3$s.\n"), dev->uuid, dev->type,
            v.dom_name);
    return VGPUCTL_EXIT_OK;
}

/* TRUE if the live XML of @dom still has a hostdev for vGPU @uuid. */
static gboolean
live_still_has (virDomain *dom, const char *uuid, gboolean *has)
{
    char *xml = virDomainGetXMLDesc (dom, 0);
    if (xml == NULL) {
        vgpuctl_error (_("Cannot read the live XML of domain %1$s: %2$s"),
                       virDomainGetName (dom), libvirt_message ());
        return FALSE;
    }
    g_autoptr (GError) error = NULL;
    g_autoptr (xmlDoc) doc = vgpu_xml_parse (xml, strlen (xml), "libvirt", &error);
    free (xml);
    if (doc == NULL) {
        vgpuctl_report (error);
        return FALSE;
    }
    *has = FALSE;
    for (xmlNode *n = xmlDocGetRootElement (doc)->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || !xmlStrEqual (n->name, BAD_CAST "devices"))
            continue;
        for (xmlNode *h = n->children; h; h = h->next) {
            if (h->type != XML_ELEMENT_NODE || !xmlStrEqual (h->name, BAD_CAST "hostdev"))
                continue;
            g_autofree char *u = vgpu_native_hostdev_uuid (h);
            if (u && g_ascii_strcasecmp (u, uuid) == 0)
                *has = TRUE;
        }
    }
    return TRUE;
}

/* Gives a dialect hostdev without <uuid> the UUID of the attached vGPU it
 * names, before any <attr> (the dialect's order). */
static void
add_uuid (xmlDoc *doc, const char *uuid)
{
    xmlNode *root = xmlDocGetRootElement (doc);
    for (xmlNode *s = root->children; s; s = s->next) {
        if (s->type != XML_ELEMENT_NODE || !xmlStrEqual (s->name, BAD_CAST "source"))
            continue;
        xmlNode *u = xmlNewDocNode (doc, NULL, BAD_CAST "uuid", BAD_CAST uuid);
        xmlNode *attr = NULL;
        for (xmlNode *c = s->children; c && !attr; c = c->next)
            if (c->type == XML_ELEMENT_NODE && xmlStrEqual (c->name, BAD_CAST "attr"))
                attr = c;
        if (attr)
            xmlAddPrevSibling (attr, u);
        else
            xmlAddChild (s, u);
        return;
    }
}

int
vgpuctl_cmd_detach (const VgpuctlVerb *verb, int argc, char **argv)
{
    g_autofree char *uri = NULL;
    gboolean live = FALSE, config = FALSE;
    int timeout = -1;
    const GOptionEntry entries[] = {
        { "live", 'l', 0, G_OPTION_ARG_NONE, &live, N_("Detach from the running domain"), NULL },
        { "config", 'f', 0, G_OPTION_ARG_NONE, &config,
          N_("Detach from the domain's persistent definition"), NULL },
        { "connect", 'c', 0, G_OPTION_ARG_STRING, &uri,
          N_("libvirt connection URI (default: libvirt's default)"), N_("URI") },
        { "timeout", 'w', 0, G_OPTION_ARG_INT, &timeout,
          N_("Seconds to wait for the guest to release the vGPU and for a managed one to "
             "disappear (default 10)"), N_("SECONDS") },
        { NULL }
    };
    if (!vgpuctl_parse (verb, _("FILE is the <hostdev type='vgpu'> document that was attached "
                                "('-' reads standard input); without <uuid> it names the one "
                                "vGPU of its type and parent. A managed vGPU is removed once "
                                "the guest released it; exit status 4 means the guest has not "
                                "released it yet and it will be removed when the domain stops."),
                        entries, &argc, &argv, 2, 2))
        return VGPUCTL_EXIT_USAGE;

    g_auto (DeviceVerb) v = { 0 };
    int rc = device_verb_open (&v, argv[1], argv[2], uri, live, config);
    if (rc != VGPUCTL_EXIT_OK)
        return rc;
    g_autoptr (GError) error = NULL;
    GPtrArray *primary = v.t.live ? v.meta_live : v.meta_config;

    g_autoptr (VgpuDevice) wanted = vgpu_device_from_hostdev (xmlDocGetRootElement (v.doc),
                                                              &error);
    if (wanted == NULL)
        return vgpuctl_report (error);

    /* Which attached vGPU does FILE name? */
    const VgpuDevice *entry = NULL;
    if (wanted->uuid) {
        entry = find_uuid (primary, wanted->uuid);
        if (entry == NULL) {
            vgpuctl_error (_("vGPU %1$s is not attached to domain %2$s (it is not in the "
                             "domain's vGPU metadata); check the UUID with 'virsh dumpxml %2$s'."),
                           wanted->uuid, v.dom_name);
            return VGPUCTL_EXIT_FAILED;
        }
    } else {
        g_autoptr (GPtrArray) uuids = g_ptr_array_new ();
        for (guint i = 0; i < primary->len; i++) {
            const VgpuDevice *d = primary->pdata[i];
            if (same_place (d, wanted)) {
                entry = d;
                g_ptr_array_add (uuids, d->uuid);
            }
        }
        if (uuids->len == 0) {
            vgpuctl_error (_("Domain %1$s has no vGPU of type %2$s with this parent; check "
                             "FILE against 'vgpuctl domxml-from-native'."), v.dom_name,
                           wanted->type);
            return VGPUCTL_EXIT_FAILED;
        }
        if (uuids->len > 1) {
            g_ptr_array_add (uuids, NULL);
            g_autofree char *list = g_strjoinv (", ", (char **) uuids->pdata);
            vgpuctl_error (_("Domain %1$s has several vGPUs of type %2$s (%3$s); add the <uuid> "
                             "of the one to detach to FILE."), v.dom_name, wanted->type, list);
            return VGPUCTL_EXIT_FAILED;
        }
        add_uuid (v.doc, entry->uuid);
    }
    g_autofree char *uuid = g_strdup (entry->uuid);
    gboolean managed = vgpu_device_is_managed (entry);

    g_autoptr (VgpuDevice) dev = vgpu_hostdev_to_native (v.doc, v.dom_uuid, 0, &error);
    if (dev == NULL)
        return vgpuctl_report (error);
    g_autofree char *native = vgpu_xml_format (v.doc);

    if (virDomainDetachDeviceFlags (v.dom, native, v.t.flags) < 0) {
        vgpuctl_error (_("libvirt could not detach vGPU %1$s from domain %2$s: %3$s"), uuid,
                       v.dom_name, libvirt_message ());
        return VGPUCTL_EXIT_FAILED;
    }

    /* A live detach completes when the guest lets go of the device (libvirt
     * itself waits a few seconds only): wait for that up to the timeout. */
    gboolean held = FALSE;
    gint64 deadline = g_get_monotonic_time () + (gint64) vgpuctl_timeout_ms (timeout) * 1000;
    while (v.t.live) {
        if (!live_still_has (v.dom, uuid, &held))
            return VGPUCTL_EXIT_FAILED;
        if (!held || g_get_monotonic_time () >= deadline)
            break;
        g_usleep (200 * 1000);
    }

    const struct {
        gboolean on;
        unsigned int flag;
        GPtrArray *devs;
    } steps[] = {
        /* While the guest holds it, the live entry stays so that the hook
         * removes the vGPU when the domain stops. */
        { v.t.live && !held, VIR_DOMAIN_AFFECT_LIVE, v.meta_live },
        { v.t.config, VIR_DOMAIN_AFFECT_CONFIG, v.meta_config },
    };
    for (gsize i = 0; i < G_N_ELEMENTS (steps); i++) {
        if (!steps[i].on)
            continue;
        g_autoptr (GPtrArray) rest = g_ptr_array_new ();
        for (guint j = 0; j < steps[i].devs->len; j++) {
            VgpuDevice *d = steps[i].devs->pdata[j];
            if (g_ascii_strcasecmp (d->uuid, uuid) != 0)
                g_ptr_array_add (rest, d);
        }
        if (!set_metadata (v.dom, rest, steps[i].flag, &error)) {
            vgpuctl_error (_("vGPU %1$s was detached from domain %2$s, but %3$s; edit the "
                             "vGPU metadata with 'virsh metadata %2$s %4$s --edit'."),
                           uuid, v.dom_name, error->message, VGPU_METADATA_NS);
            return VGPUCTL_EXIT_FAILED;
        }
    }

    if (held) {
        vgpuctl_error (_("The guest of domain %1$s has not released vGPU %2$s yet; it will be "
                         "removed when the domain stops."), v.dom_name, uuid);
        return VGPUCTL_EXIT_PENDING;
    }
    if (managed && v.t.live) {
        /* Only a vGPU created for this domain is removed. */
        if (!vgpu_device_release_owned (uuid, v.dom_uuid, vgpuctl_timeout_ms (timeout), NULL,
                                        &error)) {
            vgpuctl_error (_("vGPU %1$s was detached from domain %2$s, but removing it failed: "
                             "%3$s"), uuid, v.dom_name, error->message);
            return VGPUCTL_EXIT_FAILED;
        }
    }
    printf (_("vGPU %1$s detached from domain %2$s.\n"), uuid, v.dom_name);
    return VGPUCTL_EXIT_OK;
}

/* ---------------------------------------------------------------- orphans */

/* The orphan entries of one definition of @dom (@flags: 0 for the live one,
 * VIR_DOMAIN_XML_INACTIVE for the persistent one); NULL after reporting an
 * error. */
static GPtrArray *
orphans_of (virDomain *dom, unsigned int flags)
{
    char *xml = virDomainGetXMLDesc (dom, flags);
    if (xml == NULL) {
        vgpuctl_error (_("Cannot read the XML of domain %1$s: %2$s"), virDomainGetName (dom),
                       libvirt_message ());
        return NULL;
    }
    g_autoptr (GError) error = NULL;
    g_autoptr (xmlDoc) doc = vgpu_xml_parse (xml, strlen (xml), virDomainGetName (dom), &error);
    free (xml);
    GPtrArray *orphans = NULL;
    g_autoptr (GPtrArray) attached = doc ? vgpu_domain_get_devices (doc, &orphans, &error)
                                         : NULL;
    if (attached == NULL) {
        vgpuctl_report (error);
        return NULL;
    }
    return orphans;
}

int
vgpuctl_cmd_orphans (const VgpuctlVerb *verb, int argc, char **argv)
{
    g_autofree char *uri = NULL;
    gboolean prune = FALSE;
    const GOptionEntry entries[] = {
        { "prune", 'p', 0, G_OPTION_ARG_NONE, &prune,
          N_("Remove the orphan entries from the domain's vGPU metadata"), NULL },
        { "connect", 'c', 0, G_OPTION_ARG_STRING, &uri,
          N_("libvirt connection URI (default: libvirt's default)"), N_("URI") },
        { NULL }
    };
    if (!vgpuctl_parse (verb, _("An orphan is an entry of the domain's vGPU metadata whose "
                                "hostdev is gone, e.g. removed with virt-manager or 'virsh "
                                "detach-device'. The libvirt hook ignores orphans. Prints one "
                                "line per orphan: UUID, type, and the definition it is in "
                                "(live or config)."),
                        entries, &argc, &argv, 1, 1))
        return VGPUCTL_EXIT_USAGE;

    g_auto (DeviceVerb) v = { 0 };
    int rc = domain_open (&v, argv[1], uri);
    if (rc != VGPUCTL_EXIT_OK)
        return rc;
    int active = virDomainIsActive (v.dom);
    if (active < 0) {
        vgpuctl_error (_("Cannot get the state of domain %1$s: %2$s"), v.dom_name,
                       libvirt_message ());
        return VGPUCTL_EXIT_FAILED;
    }
    const struct {
        gboolean on;
        unsigned int xml_flags;
        unsigned int meta_flag;
        const char *name;
    } defs[] = {
        { active, 0, VIR_DOMAIN_AFFECT_LIVE, "live" },
        { TRUE, VIR_DOMAIN_XML_INACTIVE, VIR_DOMAIN_AFFECT_CONFIG, "config" },
    };
    for (gsize i = 0; i < G_N_ELEMENTS (defs); i++) {
        if (!defs[i].on)
            continue;
        g_autoptr (GPtrArray) orphans = orphans_of (v.dom, defs[i].xml_flags);
        if (orphans == NULL)
            return VGPUCTL_EXIT_FAILED;
        for (guint j = 0; j < orphans->len; j++) {
            const VgpuDevice *d = orphans->pdata[j];
            printf ("%s  %-20s %s\n", d->uuid, d->type, defs[i].name);
        }
        if (!prune || orphans->len == 0)
            continue;
        g_autoptr (GError) error = NULL;
        g_autoptr (GPtrArray) meta = get_metadata (v.dom, defs[i].meta_flag, &error);
        if (meta == NULL)
            return vgpuctl_report (error);
        g_autoptr (GPtrArray) keep = g_ptr_array_new ();
        for (guint j = 0; j < meta->len; j++) {
            VgpuDevice *d = meta->pdata[j];
            if (!find_uuid (orphans, d->uuid))
                g_ptr_array_add (keep, d);
        }
        if (!set_metadata (v.dom, keep, defs[i].meta_flag, &error))
            return vgpuctl_report (error);
        g_printerr (g_dngettext (GETTEXT_PACKAGE,
                                 "Removed %1$u orphan entry from the %2$s definition of domain "
                                 "%3$s.\n",
                                 "Removed %1$u orphan entries from the %2$s definition of domain "
                                 "%3$s.\n", orphans->len),
                    orphans->len, defs[i].name, v.dom_name);
    }
    return VGPUCTL_EXIT_OK;
}
