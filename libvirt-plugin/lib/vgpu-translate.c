/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvgpu: translation between the vGPU hostdev dialect and libvirt's native
 * mdev hostdev plus the <vgpu:devices> metadata (contract in libvgpu.h). */

#include <string.h>
#include <uuid/uuid.h>

#include <libxml/parser.h>

#include "vgpu-private.h"

VGPU_ENUM_IMPL (vgpu_tristate, VGPU_TRISTATE_LAST, "", "yes", "no")
VGPU_ENUM_IMPL (vgpu_parent_attr, VGPU_PARENT_LAST, "", "address", "name")

#define NATIVE_MODEL "vfio-pci"

/* --------------------------------------------------------------- device */

VgpuDevice *
vgpu_device_new (void)
{
    VgpuDevice *d = g_new0 (VgpuDevice, 1);
    d->attrs = g_ptr_array_new_with_free_func ((GDestroyNotify) vgpu_attr_free);
    return d;
}

void
vgpu_device_free (VgpuDevice *d)
{
    if (!d)
        return;
    g_free (d->uuid);
    g_free (d->type);
    g_free (d->parent);
    g_clear_pointer (&d->attrs, g_ptr_array_unref);
    g_free (d);
}

gboolean
vgpu_device_is_managed (const VgpuDevice *d)
{
    return d->managed == VGPU_TRISTATE_YES;
}

char *
vgpu_device_sysfs_parent (const VgpuDevice *d, GError **error)
{
    if (d->parent_kind == VGPU_PARENT_NONE || d->parent == NULL)
        return NULL;
    return vgpu_parent_to_sysfs (d->parent, error);
}

/* ----------------------------------------------------------------- UUIDs */

/* Canonical lower-case form of a UUID given with or without dashes. */
static char *
normalize_uuid (const char *in)
{
    g_autoptr (GString) hex = g_string_new (NULL);
    for (const char *p = in; *p; p++) {
        if (*p == '-')
            continue;
        if (!g_ascii_isxdigit (*p))
            return NULL;
        g_string_append_c (hex, g_ascii_tolower (*p));
    }
    if (hex->len != 32)
        return NULL;
    return g_strdup_printf ("%.8s-%.4s-%.4s-%.4s-%.12s", hex->str, hex->str + 8,
                            hex->str + 12, hex->str + 16, hex->str + 20);
}

char *
vgpu_derive_uuid (const char *domain_uuid, const char *type, const char *parent,
                  guint ordinal, GError **error)
{
    g_autofree char *dom = domain_uuid ? normalize_uuid (domain_uuid) : NULL;
    uuid_t ns, out;
    if (domain_uuid == NULL || domain_uuid[0] == '\0') {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                     _("Cannot derive a vGPU UUID: the domain has no <uuid>; give the domain "
                       "a <uuid> or each vGPU its own <uuid>."));
        return NULL;
    }
    if (dom == NULL || uuid_parse (dom, ns) != 0) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                     _("Cannot derive a vGPU UUID: the domain UUID '%1$s' is invalid; fix "
                       "the domain's <uuid> or give each vGPU its own <uuid>."),
                     domain_uuid);
        return NULL;
    }
    if (!vgpu_name_is_valid (VGPU_NAME_TYPE, type, error))
        return NULL;
    g_autofree char *name = g_strdup_printf ("vgpu:%s:%s:%u", type, parent ? parent : "",
                                             ordinal);
    uuid_generate_sha1 (out, ns, name, strlen (name));
    char str[UUID_STR_LEN];
    uuid_unparse_lower (out, str);
    return g_strdup (str);
}

/* ---------------------------------------------------------- XML helpers */

static gboolean
is_elem (xmlNodePtr n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns == NULL &&
           strcmp ((const char *) n->name, name) == 0;
}

static gboolean
is_vgpu_elem (xmlNodePtr n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp ((const char *) n->ns->href, VGPU_METADATA_NS) == 0 &&
           strcmp ((const char *) n->name, name) == 0;
}

/* A metadata element: in our namespace, or in none when @plain (the form
 * virDomainGetMetadata returns and virDomainSetMetadata takes). */
static gboolean
is_meta_elem (xmlNodePtr n, const char *name, gboolean plain)
{
    if (plain)
        return n && n->type == XML_ELEMENT_NODE && n->ns == NULL &&
               strcmp ((const char *) n->name, name) == 0;
    return is_vgpu_elem (n, name);
}

static char *
get_attr (xmlNodePtr n, const char *name)
{
    xmlChar *v = xmlGetNoNsProp (n, BAD_CAST name);
    char *r = g_strdup ((const char *) v);
    xmlFree (v);
    return r;
}

static xmlNodePtr
first_child (xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
        if (is_elem (c, name))
            return c;
    return NULL;
}

/* "line N" prefix for messages. */
static long
line_of (xmlNodePtr n)
{
    return xmlGetLineNo (n);
}

static gboolean
parse_tristate (xmlNodePtr n, const char *attr, VgpuTristate *out, GError **error)
{
    g_autofree char *v = get_attr (n, attr);
    if (v == NULL) {
        *out = VGPU_TRISTATE_ABSENT;
        return TRUE;
    }
    int t = vgpu_tristate_from_str (v);
    if (t <= VGPU_TRISTATE_ABSENT) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                     _("Line %1$ld: %2$s='%3$s' on <%4$s> must be 'yes' or 'no'."),
                     line_of (n), attr, v, (const char *) n->name);
        return FALSE;
    }
    *out = t;
    return TRUE;
}

static gboolean
check_attr_value (xmlNodePtr n, const char *name, const char *value, GError **error)
{
    gsize len = strlen (value);
    gboolean ok = len < 4096;
    for (gsize i = 0; ok && i < len; i++)
        if (g_ascii_iscntrl (value[i]))
            ok = FALSE;
    if (!ok)
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_INVALID_NAME,
                     _("Line %1$ld: the value of attribute '%2$s' must be at most 4095 "
                       "bytes without control characters."),
                     line_of (n), name);
    return ok;
}

/* Parses an <attr>/<vgpu:attr> element into @d->attrs. */
static gboolean
parse_attr_elem (xmlNodePtr n, VgpuDevice *d, GError **error)
{
    g_autofree char *name = get_attr (n, "name");
    g_autofree char *value = get_attr (n, "value");
    if (name == NULL || value == NULL) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                     _("Line %1$ld: <attr> needs both name='...' and value='...'."),
                     line_of (n));
        return FALSE;
    }
    if (!vgpu_name_is_valid (VGPU_NAME_ATTR, name, error)) {
        g_prefix_error (error, _("Line %1$ld: "), line_of (n));
        return FALSE;
    }
    if (!check_attr_value (n, name, value, error))
        return FALSE;
    g_ptr_array_add (d->attrs, vgpu_attr_new (name, value));
    return TRUE;
}

/* Parses a <parent>/<vgpu:parent> element. */
static gboolean
parse_parent_elem (xmlNodePtr n, VgpuDevice *d, GError **error)
{
    g_autofree char *addr = get_attr (n, "address");
    g_autofree char *name = get_attr (n, "name");
    if ((addr == NULL) == (name == NULL)) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                     _("Line %1$ld: <parent> needs exactly one of address='0000:00:05.0' "
                       "or name='pci_0000_00_05_0'."),
                     line_of (n));
        return FALSE;
    }
    VgpuNameKind kind = addr ? VGPU_NAME_PARENT : VGPU_NAME_NODEDEV;
    const char *v = addr ? addr : name;
    if (!vgpu_name_is_valid (kind, v, error)) {
        g_prefix_error (error, _("Line %1$ld: "), line_of (n));
        return FALSE;
    }
    d->parent_kind = addr ? VGPU_PARENT_ADDRESS : VGPU_PARENT_NODEDEV;
    d->parent = g_strdup (v);
    return TRUE;
}

static gboolean
check_on_off (xmlNodePtr n, const char *attr, GError **error)
{
    g_autofree char *v = get_attr (n, attr);
    if (v && strcmp (v, "on") != 0 && strcmp (v, "off") != 0) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                     _("Line %1$ld: %2$s='%3$s' on <hostdev> must be 'on' or 'off'."),
                     line_of (n), attr, v);
        return FALSE;
    }
    return TRUE;
}

static gboolean
is_dialect_hostdev (xmlNodePtr n)
{
    if (!is_elem (n, "hostdev"))
        return FALSE;
    g_autofree char *type = get_attr (n, "type");
    return g_strcmp0 (type, "vgpu") == 0;
}

VgpuDevice *
vgpu_device_from_hostdev (xmlNodePtr hostdev, GError **error)
{
    if (!is_dialect_hostdev (hostdev)) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                     _("Expected a <hostdev type='vgpu'> element; got <%1$s>."),
                     hostdev ? (const char *) hostdev->name : "");
        return NULL;
    }
    g_autofree char *mode = get_attr (hostdev, "mode");
    if (mode && strcmp (mode, "subsystem") != 0) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                     _("Line %1$ld: a vGPU hostdev must have mode='subsystem', not '%2$s'."),
                     line_of (hostdev), mode);
        return NULL;
    }
    /* Known attributes only: anything else (model=, a second type) would
     * silently change the native element. */
    static const char *const known[] = { "mode", "type", "managed", "display", "ramfb" };
    for (xmlAttrPtr a = hostdev->properties; a; a = a->next) {
        gboolean ok = FALSE;
        for (gsize i = 0; i < G_N_ELEMENTS (known) && a->ns == NULL; i++)
            ok |= strcmp ((const char *) a->name, known[i]) == 0;
        if (!ok) {
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                         _("Line %1$ld: unexpected attribute '%2$s' on a vGPU <hostdev>; it "
                           "may have mode, type, managed, display and ramfb."),
                         line_of (hostdev), (const char *) a->name);
            return NULL;
        }
    }
    g_autoptr (VgpuDevice) d = vgpu_device_new ();
    if (!parse_tristate (hostdev, "managed", &d->managed, error) ||
        !check_on_off (hostdev, "display", error) || !check_on_off (hostdev, "ramfb", error))
        return NULL;

    xmlNodePtr source = NULL;
    for (xmlNodePtr c = hostdev->children; c; c = c->next) {
        if (!is_elem (c, "source"))
            continue;
        if (source) {
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                         _("Line %1$ld: a vGPU hostdev has more than one <source>; keep one."),
                         line_of (c));
            return NULL;
        }
        source = c;
    }
    if (source == NULL) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                     _("Line %1$ld: a vGPU hostdev needs a <source> with a <type id='...'/>."),
                     line_of (hostdev));
        return NULL;
    }

    gboolean have_parent = FALSE, have_uuid = FALSE;
    for (xmlNodePtr c = source->children; c; c = c->next) {
        if (c->type == XML_COMMENT_NODE)
            continue;
        if (c->type == XML_TEXT_NODE) {
            g_autofree xmlChar *t = xmlNodeGetContent (c);
            g_autofree char *s = g_strstrip (g_strdup ((const char *) t));
            if (s[0] == '\0')
                continue;
        }
        if (is_elem (c, "parent") && !have_parent) {
            have_parent = TRUE;
            if (!parse_parent_elem (c, d, error))
                return NULL;
        } else if (is_elem (c, "type") && d->type == NULL) {
            d->type = get_attr (c, "id");
            if (!vgpu_name_is_valid (VGPU_NAME_TYPE, d->type, error)) {
                g_prefix_error (error, _("Line %1$ld: "), line_of (c));
                return NULL;
            }
        } else if (is_elem (c, "uuid") && !have_uuid) {
            have_uuid = TRUE;
            g_autofree xmlChar *t = xmlNodeGetContent (c);
            g_autofree char *s = g_strstrip (g_strdup ((const char *) t));
            if (!vgpu_name_is_valid (VGPU_NAME_UUID, s, error)) {
                g_prefix_error (error, _("Line %1$ld: "), line_of (c));
                return NULL;
            }
            d->uuid = g_ascii_strdown (s, -1);
        } else if (is_elem (c, "attr")) {
            if (!parse_attr_elem (c, d, error))
                return NULL;
        } else {
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                         _("Line %1$ld: unexpected <%2$s> in a vGPU <source>; it may hold one "
                           "<parent>, one <type>, one <uuid> and <attr> elements."),
                         line_of (c), c->name ? (const char *) c->name : "text");
            return NULL;
        }
    }
    if (d->type == NULL) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                     _("Line %1$ld: the vGPU <source> has no <type id='...'/>; name the vGPU "
                       "type (see 'vgpuctl types')."),
                     line_of (source));
        return NULL;
    }
    return g_steal_pointer (&d);
}

/* ------------------------------------------------------ node builders */

/* Replaces @old by @new_node in the tree and frees @old. */
static void
replace_node (xmlNodePtr old, xmlNodePtr new_node)
{
    xmlReplaceNode (old, new_node);
    xmlFreeNode (old);
}

typedef struct {
    char *name;
    char *value;
} AttrPair;

static void
attr_pair_free (AttrPair *p)
{
    g_free (p->name);
    g_free (p->value);
    g_free (p);
}

/* The attributes of @n in order (no-namespace ones only; others kept aside). */
static GPtrArray *
take_attrs (xmlNodePtr n)
{
    GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) attr_pair_free);
    xmlAttrPtr a = n->properties;
    while (a) {
        xmlAttrPtr next = a->next;
        if (a->ns == NULL) {
            AttrPair *p = g_new0 (AttrPair, 1);
            p->name = g_strdup ((const char *) a->name);
            xmlChar *v = xmlNodeListGetString (n->doc, a->children, 1);
            p->value = g_strdup (v ? (const char *) v : "");
            xmlFree (v);
            g_ptr_array_add (out, p);
            xmlRemoveProp (a);
        }
        a = next;
    }
    return out;
}

static void
set_attr (xmlNodePtr n, const char *name, const char *value)
{
    xmlSetProp (n, BAD_CAST name, BAD_CAST value);
}

/* Dialect -> native on one hostdev element. */
static void
hostdev_make_native (xmlNodePtr hostdev, const VgpuDevice *d)
{
    g_autoptr (GPtrArray) attrs = take_attrs (hostdev);
    for (guint i = 0; i < attrs->len; i++) {
        AttrPair *p = attrs->pdata[i];
        if (strcmp (p->name, "managed") == 0)
            continue;   /* lives in the metadata entry */
        if (strcmp (p->name, "type") == 0) {
            set_attr (hostdev, "type", "mdev");
            set_attr (hostdev, "model", NATIVE_MODEL);
            continue;
        }
        set_attr (hostdev, p->name, p->value);
    }
    xmlNodePtr src = xmlNewDocNode (hostdev->doc, NULL, BAD_CAST "source", NULL);
    xmlNodePtr addr = xmlNewChild (src, NULL, BAD_CAST "address", NULL);
    set_attr (addr, "uuid", d->uuid);
    replace_node (first_child (hostdev, "source"), src);
}

/* Native -> dialect on one hostdev element. */
static void
hostdev_make_dialect (xmlNodePtr hostdev, const VgpuDevice *d, gboolean omit_uuid)
{
    g_autoptr (GPtrArray) attrs = take_attrs (hostdev);
    for (guint i = 0; i < attrs->len; i++) {
        AttrPair *p = attrs->pdata[i];
        if (strcmp (p->name, "model") == 0 || strcmp (p->name, "managed") == 0)
            continue;   /* managed comes from the metadata entry */
        if (strcmp (p->name, "type") == 0) {
            set_attr (hostdev, "type", "vgpu");
            if (d->managed != VGPU_TRISTATE_ABSENT)
                set_attr (hostdev, "managed", vgpu_tristate_to_str (d->managed));
            continue;
        }
        set_attr (hostdev, p->name, p->value);
    }
    xmlNodePtr src = xmlNewDocNode (hostdev->doc, NULL, BAD_CAST "source", NULL);
    if (d->parent_kind != VGPU_PARENT_NONE) {
        xmlNodePtr p = xmlNewChild (src, NULL, BAD_CAST "parent", NULL);
        set_attr (p, vgpu_parent_attr_to_str (d->parent_kind), d->parent);
    }
    xmlNodePtr t = xmlNewChild (src, NULL, BAD_CAST "type", NULL);
    set_attr (t, "id", d->type);
    if (!omit_uuid)
        xmlNewTextChild (src, NULL, BAD_CAST "uuid", BAD_CAST d->uuid);
    for (guint i = 0; i < d->attrs->len; i++) {
        const VgpuAttr *a = d->attrs->pdata[i];
        xmlNodePtr an = xmlNewChild (src, NULL, BAD_CAST "attr", NULL);
        set_attr (an, "name", a->name);
        set_attr (an, "value", a->value);
    }
    replace_node (first_child (hostdev, "source"), src);
}

/* <vgpu:device> entry for @d, in namespace @ns. */
static xmlNodePtr
metadata_entry_new (xmlDocPtr doc, xmlNsPtr ns, const VgpuDevice *d)
{
    xmlNodePtr e = xmlNewDocNode (doc, ns, BAD_CAST "device", NULL);
    set_attr (e, "uuid", d->uuid);
    set_attr (e, "type", d->type);
    if (d->managed != VGPU_TRISTATE_ABSENT)
        set_attr (e, "managed", vgpu_tristate_to_str (d->managed));
    if (d->uuid_derived)
        set_attr (e, "derived", "yes");
    if (d->parent_kind != VGPU_PARENT_NONE) {
        xmlNodePtr p = xmlNewChild (e, ns, BAD_CAST "parent", NULL);
        set_attr (p, vgpu_parent_attr_to_str (d->parent_kind), d->parent);
    }
    for (guint i = 0; i < d->attrs->len; i++) {
        const VgpuAttr *a = d->attrs->pdata[i];
        xmlNodePtr an = xmlNewChild (e, ns, BAD_CAST "attr", NULL);
        set_attr (an, "name", a->name);
        set_attr (an, "value", a->value);
    }
    return e;
}

static xmlNodePtr
metadata_devices_new (xmlDocPtr doc, gboolean plain)
{
    xmlNodePtr devs = xmlNewDocNode (doc, NULL, BAD_CAST "devices", NULL);
    if (!plain) {
        xmlNsPtr ns = xmlNewNs (devs, BAD_CAST VGPU_METADATA_NS,
                                BAD_CAST VGPU_METADATA_PREFIX);
        xmlSetNs (devs, ns);
    }
    return devs;
}

/* ------------------------------------------------------- metadata parse */

static VgpuDevice *
parse_metadata_entry (xmlNodePtr e, gboolean plain, GError **error)
{
    g_autoptr (VgpuDevice) d = vgpu_device_new ();
    g_autofree char *uuid = get_attr (e, "uuid");
    d->type = get_attr (e, "type");
    if (!vgpu_name_is_valid (VGPU_NAME_UUID, uuid, error) ||
        !vgpu_name_is_valid (VGPU_NAME_TYPE, d->type, error)) {
        g_prefix_error (error, _("Line %1$ld: vGPU metadata entry: "), line_of (e));
        return NULL;
    }
    d->uuid = g_ascii_strdown (uuid, -1);
    VgpuTristate derived;
    if (!parse_tristate (e, "managed", &d->managed, error) ||
        !parse_tristate (e, "derived", &derived, error))
        return NULL;
    d->uuid_derived = derived == VGPU_TRISTATE_YES;

    gboolean have_parent = FALSE;
    for (xmlNodePtr c = e->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (is_meta_elem (c, "parent", plain) && !have_parent) {
            have_parent = TRUE;
            if (!parse_parent_elem (c, d, error))
                return NULL;
        } else if (is_meta_elem (c, "attr", plain)) {
            if (!parse_attr_elem (c, d, error))
                return NULL;
        } else {
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                         _("Line %1$ld: unexpected <%2$s> in a <vgpu:device> metadata entry; "
                           "it may hold one <vgpu:parent> and <vgpu:attr> elements."),
                         line_of (c), (const char *) c->name);
            return NULL;
        }
    }
    return g_steal_pointer (&d);
}

/* Entries of a <vgpu:devices> element; checks UUIDs are unique. */
static GPtrArray *
parse_metadata_devices (xmlNodePtr devs, GError **error)
{
    gboolean plain = devs->ns == NULL;
    g_autoptr (GPtrArray) out =
        g_ptr_array_new_with_free_func ((GDestroyNotify) vgpu_device_free);
    g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
    for (xmlNodePtr c = devs->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!is_meta_elem (c, "device", plain)) {
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                         _("Line %1$ld: unexpected <%2$s> in <vgpu:devices>; only "
                           "<vgpu:device> entries belong there."),
                         line_of (c), (const char *) c->name);
            return NULL;
        }
        VgpuDevice *d = parse_metadata_entry (c, plain, error);
        if (d == NULL)
            return NULL;
        g_ptr_array_add (out, d);
        if (!g_hash_table_add (seen, d->uuid)) {
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                         _("Line %1$ld: vGPU %2$s is listed twice in the metadata; remove "
                           "one entry."),
                         line_of (c), d->uuid);
            return NULL;
        }
    }
    return g_steal_pointer (&out);
}

/* ------------------------------------------------------- domain helpers */

static gboolean
check_domain_root (xmlDocPtr doc, xmlNodePtr *root, GError **error)
{
    *root = doc ? xmlDocGetRootElement (doc) : NULL;
    if (!is_elem (*root, "domain")) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                     _("The document is not a libvirt <domain> (root element <%1$s>); give "
                       "a domain XML, or use the hostdev commands for a single <hostdev>."),
                     *root ? (const char *) (*root)->name : "");
        return FALSE;
    }
    return TRUE;
}

/* <vgpu:devices> inside <metadata> (NULL if none; sets *metadata to
 * <metadata>). More than one is an error: which one would count? */
static gboolean
find_metadata_devices (xmlNodePtr root, xmlNodePtr *metadata, xmlNodePtr *devices,
                       GError **error)
{
    *metadata = first_child (root, "metadata");
    *devices = NULL;
    for (xmlNodePtr c = *metadata ? (*metadata)->children : NULL; c; c = c->next) {
        if (!is_vgpu_elem (c, "devices"))
            continue;
        if (*devices) {
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                         _("Line %1$ld: the domain's <metadata> holds a second <devices> "
                           "element in namespace %2$s; merge the entries into one."),
                         line_of (c), VGPU_METADATA_NS);
            return FALSE;
        }
        *devices = c;
    }
    return TRUE;
}

char *
vgpu_native_hostdev_uuid (xmlNodePtr hostdev)
{
    if (!is_elem (hostdev, "hostdev"))
        return NULL;
    g_autofree char *type = get_attr (hostdev, "type");
    if (g_strcmp0 (type, "mdev") != 0)
        return NULL;
    xmlNodePtr src = first_child (hostdev, "source");
    xmlNodePtr addr = first_child (src, "address");
    g_autofree char *uuid = addr ? get_attr (addr, "uuid") : NULL;
    if (uuid == NULL || !vgpu_name_is_valid (VGPU_NAME_UUID, uuid, NULL))
        return NULL;
    return g_ascii_strdown (uuid, -1);
}

/* Key of the ordinal counters of contract 4: type and parent as written. */
static char *
ordinal_key (const VgpuDevice *d)
{
    return g_strdup_printf ("%s:%s", d->type, d->parent ? d->parent : "");
}

/* The ordinal @d would get now (count of earlier ones with its key). */
static guint
peek_ordinal (GHashTable *ordinals, const VgpuDevice *d)
{
    g_autofree char *key = ordinal_key (d);
    return GPOINTER_TO_UINT (g_hash_table_lookup (ordinals, key));
}

/* Returns the ordinal of @d and counts @d. */
static guint
next_ordinal (GHashTable *ordinals, const VgpuDevice *d)
{
    guint n = peek_ordinal (ordinals, d);
    g_hash_table_replace (ordinals, ordinal_key (d), GUINT_TO_POINTER (n + 1));
    return n;
}

/* Derives the UUIDs of devices that have none, in document order. */
static gboolean
derive_missing (GPtrArray *devs, const char *domain_uuid, GError **error)
{
    g_autoptr (GHashTable) counts = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                           g_free, NULL);
    for (guint i = 0; i < devs->len; i++) {
        VgpuDevice *d = devs->pdata[i];
        if (d->uuid)
            continue;
        guint n = next_ordinal (counts, d);
        d->uuid = vgpu_derive_uuid (domain_uuid, d->type, d->parent, n, error);
        if (d->uuid == NULL)
            return FALSE;
        d->uuid_derived = TRUE;
    }
    return TRUE;
}

/* Puts a new <metadata> where libvirt itself formats it: after the
 * identifying elements at the top of <domain>. */
static void
insert_metadata (xmlNodePtr root, xmlNodePtr metadata)
{
    static const char *const before[] = { "name", "uuid", "genid", "title", "description" };
    xmlNodePtr last = NULL;
    for (xmlNodePtr c = root->children; c; c = c->next)
        for (gsize i = 0; i < G_N_ELEMENTS (before); i++)
            if (is_elem (c, before[i]))
                last = c;
    if (last)
        xmlAddNextSibling (last, metadata);
    else if (root->children)
        xmlAddPrevSibling (root->children, metadata);
    else
        xmlAddChild (root, metadata);
}

int
vgpu_domain_to_native (xmlDocPtr doc, GPtrArray **devices_out, GError **error)
{
    xmlNodePtr root;
    if (!check_domain_root (doc, &root, error))
        return -1;

    /* Pass 1: read and check everything; the document is not touched. */
    xmlNodePtr devices = first_child (root, "devices");
    g_autoptr (GPtrArray) hostdevs = g_ptr_array_new ();
    g_autoptr (GPtrArray) devs =
        g_ptr_array_new_with_free_func ((GDestroyNotify) vgpu_device_free);
    g_autoptr (GHashTable) used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    gboolean need_domain_uuid = FALSE;

    for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
        char *native = vgpu_native_hostdev_uuid (c);
        if (native) {
            g_hash_table_add (used, native);
            continue;
        }
        if (!is_dialect_hostdev (c))
            continue;
        VgpuDevice *d = vgpu_device_from_hostdev (c, error);
        if (d == NULL)
            return -1;
        need_domain_uuid |= d->uuid == NULL;
        g_ptr_array_add (devs, d);
        g_ptr_array_add (hostdevs, c);
    }
    /* Entries already in the metadata (a document mixing both forms). */
    xmlNodePtr metadata = NULL, mdevs = NULL;
    if (!find_metadata_devices (root, &metadata, &mdevs, error))
        return -1;
    if (mdevs) {
        g_autoptr (GPtrArray) existing = parse_metadata_devices (mdevs, error);
        if (existing == NULL)
            return -1;
        for (guint i = 0; i < existing->len; i++)
            g_hash_table_add (used, g_strdup (((VgpuDevice *) existing->pdata[i])->uuid));
    }
    if (devs->len == 0) {
        if (devices_out)
            *devices_out = g_steal_pointer (&devs);
        return 0;
    }
    if (need_domain_uuid) {
        xmlNodePtr un = first_child (root, "uuid");
        g_autofree xmlChar *u = un ? xmlNodeGetContent (un) : NULL;
        g_autofree char *s = u ? g_strstrip (g_strdup ((const char *) u)) : NULL;
        if (!derive_missing (devs, s, error))
            return -1;
    }
    for (guint i = 0; i < devs->len; i++) {
        VgpuDevice *d = devs->pdata[i];
        if (!g_hash_table_add (used, g_strdup (d->uuid))) {
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                         _("Line %1$ld: vGPU UUID %2$s is used by more than one device of "
                           "this domain; give each vGPU its own <uuid>."),
                         line_of (hostdevs->pdata[i]), d->uuid);
            return -1;
        }
    }

    /* Pass 2: rewrite (cannot fail). */
    if (metadata == NULL) {
        metadata = xmlNewDocNode (doc, NULL, BAD_CAST "metadata", NULL);
        insert_metadata (root, metadata);
    }
    if (mdevs == NULL) {
        mdevs = metadata_devices_new (doc, FALSE);
        xmlAddChild (metadata, mdevs);
    }
    for (guint i = 0; i < devs->len; i++) {
        const VgpuDevice *d = devs->pdata[i];
        hostdev_make_native (hostdevs->pdata[i], d);
        xmlAddChild (mdevs, metadata_entry_new (doc, mdevs->ns, d));
    }
    int n = devs->len;
    if (devices_out)
        *devices_out = g_steal_pointer (&devs);
    return n;
}

int
vgpu_domain_from_native (xmlDocPtr doc, GError **error)
{
    xmlNodePtr root;
    if (!check_domain_root (doc, &root, error))
        return -1;
    xmlNodePtr metadata = NULL, mdevs = NULL;
    if (!find_metadata_devices (root, &metadata, &mdevs, error))
        return -1;
    if (mdevs == NULL)
        return 0;
    g_autoptr (GPtrArray) entries = parse_metadata_devices (mdevs, error);
    if (entries == NULL)
        return -1;

    /* Pass 1: match native hostdevs with entries. */
    g_autoptr (GHashTable) by_uuid = g_hash_table_new (g_str_hash, g_str_equal);
    for (guint i = 0; i < entries->len; i++) {
        VgpuDevice *d = entries->pdata[i];
        g_hash_table_insert (by_uuid, d->uuid, d);
    }
    g_autoptr (GPtrArray) hostdevs = g_ptr_array_new ();
    g_autoptr (GPtrArray) matched = g_ptr_array_new ();
    g_autoptr (GArray) omit = g_array_new (FALSE, FALSE, sizeof (gboolean));
    g_autoptr (GHashTable) done = g_hash_table_new (g_direct_hash, g_direct_equal);
    /* Ordinals of contract 4, counted as dialect -> native will count them. */
    g_autoptr (GHashTable) ordinals = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                             g_free, NULL);
    g_autofree char *domain_uuid = NULL;
    xmlNodePtr un = first_child (root, "uuid");
    if (un) {
        g_autofree xmlChar *u = xmlNodeGetContent (un);
        domain_uuid = g_strstrip (g_strdup ((const char *) u));
    }
    xmlNodePtr devices = first_child (root, "devices");
    for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
        if (is_dialect_hostdev (c)) {
            /* Already in the dialect (a mixed document): it takes an ordinal
             * when it has no <uuid>. */
            g_autoptr (VgpuDevice) dd = vgpu_device_from_hostdev (c, NULL);
            if (dd && dd->uuid == NULL)
                next_ordinal (ordinals, dd);
            continue;
        }
        g_autofree char *uuid = vgpu_native_hostdev_uuid (c);
        VgpuDevice *d = uuid ? g_hash_table_lookup (by_uuid, uuid) : NULL;
        if (d == NULL)
            continue;
        g_autofree char *model = get_attr (c, "model");
        if (g_strcmp0 (model, NATIVE_MODEL) != 0) {
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                         _("Line %1$ld: mdev hostdev %2$s has model='%3$s' but the vGPU "
                           "metadata lists it; a vGPU needs model='vfio-pci'."),
                         line_of (c), uuid, model ? model : "");
            return -1;
        }
        if (!g_hash_table_add (done, d)) {
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                         _("Line %1$ld: vGPU %2$s is used by more than one hostdev; remove "
                           "the duplicate."),
                         line_of (c), uuid);
            return -1;
        }
        g_ptr_array_add (hostdevs, c);
        g_ptr_array_add (matched, d);
        /* Drop a derived <uuid> only if deriving it again at this position
         * gives the same UUID (it may not, e.g. after an earlier vGPU of the
         * same type was detached); otherwise keep it, explicitly. */
        gboolean drop = FALSE;
        if (d->uuid_derived && domain_uuid) {
            guint n = peek_ordinal (ordinals, d);
            g_autofree char *again = vgpu_derive_uuid (domain_uuid, d->type, d->parent, n,
                                                       NULL);
            drop = g_strcmp0 (again, d->uuid) == 0;
            if (drop)
                next_ordinal (ordinals, d);
        }
        g_array_append_val (omit, drop);
    }

    /* Pass 2: rewrite; entries without a hostdev stay in the metadata. */
    for (guint i = 0; i < hostdevs->len; i++)
        hostdev_make_dialect (hostdevs->pdata[i], matched->pdata[i],
                              g_array_index (omit, gboolean, i));
    xmlNodePtr c = mdevs->children;
    while (c) {
        xmlNodePtr next = c->next;
        if (is_vgpu_elem (c, "device")) {
            g_autofree char *uuid = get_attr (c, "uuid");
            g_autofree char *lower = g_ascii_strdown (uuid, -1);
            if (g_hash_table_contains (done, g_hash_table_lookup (by_uuid, lower))) {
                xmlUnlinkNode (c);
                xmlFreeNode (c);
            }
        }
        c = next;
    }
    gboolean empty = TRUE;
    for (c = mdevs->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            empty = FALSE;
    if (empty) {
        xmlUnlinkNode (mdevs);
        xmlFreeNode (mdevs);
        gboolean meta_empty = TRUE;
        for (c = metadata->children; c; c = c->next)
            if (c->type == XML_ELEMENT_NODE || c->type == XML_COMMENT_NODE)
                meta_empty = FALSE;
        if (meta_empty) {
            xmlUnlinkNode (metadata);
            xmlFreeNode (metadata);
        }
    }
    return hostdevs->len;
}

GPtrArray *
vgpu_domain_get_devices (xmlDocPtr doc, GPtrArray **orphans, GError **error)
{
    xmlNodePtr root;
    if (!check_domain_root (doc, &root, error))
        return NULL;
    xmlNodePtr metadata = NULL, mdevs = NULL;
    if (!find_metadata_devices (root, &metadata, &mdevs, error))
        return NULL;
    g_autoptr (GPtrArray) entries = mdevs ? parse_metadata_devices (mdevs, error)
        : g_ptr_array_new_with_free_func ((GDestroyNotify) vgpu_device_free);
    if (entries == NULL)
        return NULL;

    /* The UUIDs of the native mdev hostdevs the domain really has. */
    g_autoptr (GHashTable) present = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                            g_free, NULL);
    xmlNodePtr devices = first_child (root, "devices");
    for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
        char *uuid = vgpu_native_hostdev_uuid (c);
        if (uuid)
            g_hash_table_add (present, uuid);
    }

    GPtrArray *attached = g_ptr_array_new_with_free_func ((GDestroyNotify) vgpu_device_free);
    if (orphans)
        *orphans = g_ptr_array_new_with_free_func ((GDestroyNotify) vgpu_device_free);
    for (guint i = 0; i < entries->len; i++) {
        VgpuDevice *d = g_steal_pointer (&entries->pdata[i]);
        if (g_hash_table_contains (present, d->uuid))
            g_ptr_array_add (attached, d);
        else if (orphans)
            g_ptr_array_add (*orphans, d);
        else
            vgpu_device_free (d);
    }
    return attached;
}

gboolean
vgpu_domain_get_identity (xmlDocPtr doc, char **name, char **uuid, GError **error)
{
    xmlNodePtr root;
    if (!check_domain_root (doc, &root, error))
        return FALSE;
    xmlNodePtr un = first_child (root, "uuid");
    g_autofree xmlChar *u = un ? xmlNodeGetContent (un) : NULL;
    g_autofree char *stripped = u ? g_strstrip (g_strdup ((const char *) u)) : NULL;
    if (stripped == NULL || !vgpu_name_is_valid (VGPU_NAME_UUID, stripped, NULL)) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                     _("The domain has no valid <uuid>; vGPUs can only be managed for a "
                       "domain that has one (libvirt always gives it one)."));
        return FALSE;
    }
    if (uuid)
        *uuid = g_ascii_strdown (stripped, -1);
    if (name) {
        xmlNodePtr nn = first_child (root, "name");
        g_autofree xmlChar *n = nn ? xmlNodeGetContent (nn) : NULL;
        *name = g_strdup (n ? (const char *) n : "");
    }
    return TRUE;
}

/* ------------------------------------------------ standalone documents */

VgpuDevice *
vgpu_hostdev_to_native (xmlDocPtr doc, const char *domain_uuid, guint ordinal,
                        GError **error)
{
    xmlNodePtr root = doc ? xmlDocGetRootElement (doc) : NULL;
    g_autoptr (VgpuDevice) d = vgpu_device_from_hostdev (root, error);
    if (d == NULL)
        return NULL;
    if (d->uuid == NULL) {
        d->uuid = vgpu_derive_uuid (domain_uuid, d->type, d->parent, ordinal, error);
        if (d->uuid == NULL)
            return NULL;
        d->uuid_derived = TRUE;
    }
    hostdev_make_native (root, d);
    return g_steal_pointer (&d);
}

gboolean
vgpu_hostdev_from_native (xmlDocPtr doc, const VgpuDevice *device, GError **error)
{
    xmlNodePtr root = doc ? xmlDocGetRootElement (doc) : NULL;
    g_autofree char *uuid = vgpu_native_hostdev_uuid (root);
    g_autofree char *model = root ? get_attr (root, "model") : NULL;
    if (uuid == NULL || g_strcmp0 (model, NATIVE_MODEL) != 0) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                     _("The document is not a native mdev <hostdev model='vfio-pci'> with "
                       "<source><address uuid='...'/></source>."));
        return FALSE;
    }
    if (device == NULL || g_ascii_strcasecmp (uuid, device->uuid) != 0) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                     _("The hostdev's UUID %1$s does not match the vGPU metadata entry %2$s; "
                       "pass the entry for this device."),
                     uuid, device ? device->uuid : "");
        return FALSE;
    }
    hostdev_make_dialect (root, device, device->uuid_derived);
    return TRUE;
}

static char *
metadata_format (GPtrArray *devices, gboolean plain)
{
    g_autoptr (xmlDoc) doc = xmlNewDoc (BAD_CAST "1.0");
    xmlNodePtr devs = metadata_devices_new (doc, plain);
    xmlDocSetRootElement (doc, devs);
    for (guint i = 0; devices && i < devices->len; i++)
        xmlAddChild (devs, metadata_entry_new (doc, devs->ns, devices->pdata[i]));
    return vgpu_xml_format (doc);
}

char *
vgpu_metadata_format (GPtrArray *devices)
{
    return metadata_format (devices, FALSE);
}

char *
vgpu_metadata_format_plain (GPtrArray *devices)
{
    return metadata_format (devices, TRUE);
}

GPtrArray *
vgpu_metadata_parse (const char *xml, GError **error)
{
    g_autoptr (xmlDoc) doc = vgpu_xml_parse (xml, strlen (xml), _("vGPU metadata"), error);
    if (doc == NULL)
        return NULL;
    xmlNodePtr root = xmlDocGetRootElement (doc);
    if (!is_vgpu_elem (root, "devices") && !is_meta_elem (root, "devices", TRUE)) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE,
                     _("vGPU metadata must be a <devices> element in namespace %1$s (or in "
                       "none, as virDomainGetMetadata returns it); got <%2$s>."),
                     VGPU_METADATA_NS, (const char *) root->name);
        return NULL;
    }
    return parse_metadata_devices (root, error);
}
