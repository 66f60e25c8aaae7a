/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Golden-file tests of the vGPU dialect <-> libvirt native translation.
 *
 *   xml2xml-test DATADIR NAME MODE [MIN_LIBVIRT]
 *
 * With MIN_LIBVIRT (e.g. 11.3.0) the case is skipped (exit 77, one line)
 * under an older libvirt: its golden files are what that libvirt emits, and
 * older libvirt's schemas do not know all of it.
 *
 * MODE            input              expected
 * to-native       NAME.xml           NAME.native.xml (+ NAME.meta.xml for a hostdev)
 * from-native     NAME.native.xml    NAME.xml        (+ NAME.meta.xml for a hostdev)
 * invalid-to      NAME.xml           translation fails with the message in NAME.err,
 *                                    and the vGPU schemas reject NAME.xml too
 * invalid-from    NAME.xml (native)  the same for native -> dialect
 * error-to/-from  NAME.xml           translation fails with NAME.err, but the
 *                                    schemas accept the file (a semantic error)
 *
 * Every input is first checked to be in canonical format (so the golden files
 * stay reviewable) and validated with the project's schemas. Every native
 * document (output of to-native, input of from-native) is validated with
 * libvirt's own schemas through virt-xml-validate, defined on libvirt's test
 * driver (test:///default) through the C API, read back, and translated back
 * to the dialect: the vGPUs recovered from libvirt's own XML must be the ones
 * that went in. A standalone <hostdev> is wrapped into a minimal domain (UUID
 * HOSTDEV_DOMAIN_UUID, ordinal 0 for derived UUIDs) for those checks.
 *
 * VGPU_TEST_REGENERATE_OUTPUT=1 rewrites the expected files (and NAME.err)
 * instead of comparing; review the diff before committing.
 */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/tree.h>

#include "libvgpu.h"
#include "vgpu-autoptr.h"

#define HOSTDEV_DOMAIN_UUID "6f1e2a44-7c3b-4d8e-9a0b-1c2d3e4f5a6b"

static const char *datadir;
static const char *name;
static gboolean regenerate;

#define FAIL(...) \
    do { \
        g_printerr ("%s: ", name); \
        g_printerr (__VA_ARGS__); \
        g_printerr ("\n"); \
        exit (1); \
    } while (0)

static char *
data_path (const char *suffix)
{
    g_autofree char *file = g_strconcat (name, suffix, NULL);
    return g_build_filename (datadir, file, NULL);
}

static char *
read_text (const char *path)
{
    char *s = NULL;
    g_autoptr (GError) err = NULL;
    if (!g_file_get_contents (path, &s, NULL, &err))
        FAIL ("cannot read %s: %s", path, err->message);
    return s;
}

static xmlDoc *
load (const char *path)
{
    g_autoptr (GError) err = NULL;
    xmlDoc *doc = vgpu_xml_read_file (path, &err);
    if (doc == NULL)
        FAIL ("%s", err->message);
    /* The golden inputs are kept in the library's canonical format. */
    g_autofree char *text = read_text (path);
    g_autofree char *canon = vgpu_xml_format (doc);
    if (strcmp (text, canon) != 0 && !regenerate)
        FAIL ("%s is not in canonical format; expected:\n%s", path, canon);
    return doc;
}

/* Compares @actual with the file at @path, or writes it when regenerating. */
static void
check_golden (const char *path, const char *actual)
{
    if (regenerate) {
        g_autoptr (GError) err = NULL;
        if (!g_file_set_contents (path, actual, -1, &err))
            FAIL ("cannot write %s: %s", path, err->message);
        return;
    }
    if (!g_file_test (path, G_FILE_TEST_EXISTS))
        FAIL ("%s is missing; run with VGPU_TEST_REGENERATE_OUTPUT=1 and review it", path);
    g_autofree char *expected = read_text (path);
    if (strcmp (expected, actual) != 0) {
        /* Written to the working directory (the build tree), never next to
         * the golden files. */
        g_autofree char *base = g_path_get_basename (path);
        g_autofree char *cwd = g_get_current_dir ();
        g_autofree char *file = g_strconcat (base, ".actual", NULL);
        g_autofree char *tmp = g_build_filename (cwd, file, NULL);
        g_file_set_contents (tmp, actual, -1, NULL);
        FAIL ("output differs from %s (actual output in %s):\n%s", path, tmp, actual);
    }
}

static void
validate_ours (xmlDoc *doc, const char *what)
{
    g_autoptr (GError) err = NULL;
    if (!vgpu_xml_validate (doc, VGPU_DOC_UNKNOWN, &err))
        FAIL ("%s: %s", what, err->message);
}

/* ------------------------------------------------------------ libvirt */

static void
virt_xml_validate (const char *xml)
{
    const char *prog = g_getenv ("VIRT_XML_VALIDATE");
    if (prog == NULL || prog[0] == '\0')
        FAIL ("VIRT_XML_VALIDATE is not set (meson sets it to virt-xml-validate)");
    g_autoptr (GError) err = NULL;
    g_autofree char *tmp = NULL;
    int fd = g_file_open_tmp ("xml2xml-XXXXXX.xml", &tmp, &err);
    if (fd < 0)
        FAIL ("%s", err->message);
    close (fd);
    if (!g_file_set_contents (tmp, xml, -1, &err))
        FAIL ("%s", err->message);
    const char *argv[] = { prog, tmp, "domain", NULL };
    g_autofree char *out = NULL, *errout = NULL;
    int status = 0;
    gboolean ran = g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                 &out, &errout, &status, &err);
    g_unlink (tmp);
    if (!ran)
        FAIL ("cannot run %s: %s", prog, err->message);
    if (!g_spawn_check_wait_status (status, NULL))
        FAIL ("virt-xml-validate rejects the native domain:\n%s%s\n%s", out, errout, xml);
}

static void
ignore_virt_error (void *data G_GNUC_UNUSED, virErrorPtr e G_GNUC_UNUSED)
{
}

static gboolean
same_device (const VgpuDevice *a, const VgpuDevice *b)
{
    if (g_strcmp0 (a->uuid, b->uuid) || g_strcmp0 (a->type, b->type) ||
        a->uuid_derived != b->uuid_derived || a->parent_kind != b->parent_kind ||
        g_strcmp0 (a->parent, b->parent) || a->managed != b->managed ||
        a->attrs->len != b->attrs->len)
        return FALSE;
    for (guint i = 0; i < a->attrs->len; i++) {
        const VgpuAttr *x = a->attrs->pdata[i], *y = b->attrs->pdata[i];
        if (strcmp (x->name, y->name) || strcmp (x->value, y->value))
            return FALSE;
    }
    return TRUE;
}

static guint
count_vgpu_hostdevs (xmlDoc *doc)
{
    guint n = 0;
    xmlNodePtr root = xmlDocGetRootElement (doc);
    for (xmlNodePtr d = root->children; d; d = d->next) {
        if (d->type != XML_ELEMENT_NODE || strcmp ((const char *) d->name, "devices"))
            continue;
        for (xmlNodePtr h = d->children; h; h = h->next) {
            if (h->type != XML_ELEMENT_NODE || strcmp ((const char *) h->name, "hostdev"))
                continue;
            xmlChar *t = xmlGetNoNsProp (h, BAD_CAST "type");
            n += t && strcmp ((const char *) t, "vgpu") == 0;
            xmlFree (t);
        }
    }
    return n;
}

/* Defines the native domain on the test driver, reads libvirt's XML back and
 * checks that the vGPUs survive libvirt's parser and formatter. */
static void
libvirt_roundtrip (const char *xml)
{
    g_autoptr (GError) err = NULL;
    g_autoptr (xmlDoc) sent = vgpu_xml_parse (xml, strlen (xml), "native", &err);
    g_autoptr (GPtrArray) expect_orphans = NULL;
    g_autoptr (GPtrArray) expect = vgpu_domain_get_devices (sent, &expect_orphans, &err);
    if (expect == NULL)
        FAIL ("%s", err->message);
    /* Every metadata entry, attached ones first. */
    g_autoptr (GPtrArray) entries = g_ptr_array_new ();
    g_ptr_array_extend (entries, expect, NULL, NULL);
    g_ptr_array_extend (entries, expect_orphans, NULL, NULL);

    virSetErrorFunc (NULL, ignore_virt_error);
    virConnectPtr conn = virConnectOpen ("test:///default");
    if (conn == NULL)
        FAIL ("cannot open test:///default: %s", virGetLastErrorMessage ());
    virDomainPtr dom = virDomainDefineXML (conn, xml);
    if (dom == NULL)
        FAIL ("libvirt's test driver refuses the native domain: %s\n%s",
              virGetLastErrorMessage (), xml);
    char *back = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE);
    if (back == NULL)
        FAIL ("virDomainGetXMLDesc: %s", virGetLastErrorMessage ());
    /* Our metadata is reachable through libvirt's metadata API as well. */
    char *meta = virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, VGPU_METADATA_NS,
                                       VIR_DOMAIN_AFFECT_CONFIG);
    if (entries->len > 0 && meta == NULL)
        FAIL ("libvirt lost the vGPU metadata: %s", virGetLastErrorMessage ());
    if (meta) {
        g_autoptr (GPtrArray) m = vgpu_metadata_parse (meta, &err);
        if (m == NULL || m->len != entries->len)
            FAIL ("metadata from virDomainGetMetadata differs: %s", meta);
    }
    free (meta);
    /* And it can be written back the way vgpuctl attach-device does it. */
    if (entries->len > 0) {
        g_autofree char *plain = vgpu_metadata_format_plain (entries);
        if (virDomainSetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, plain, VGPU_METADATA_KEY,
                                  VGPU_METADATA_NS, VIR_DOMAIN_AFFECT_CONFIG) < 0)
            FAIL ("virDomainSetMetadata refuses the plain metadata: %s\n%s",
                  virGetLastErrorMessage (), plain);
    }
    virDomainUndefine (dom);
    virDomainFree (dom);
    virConnectClose (conn);

    g_autoptr (xmlDoc) doc = vgpu_xml_parse (back, strlen (back), "libvirt output", &err);
    free (back);
    if (doc == NULL)
        FAIL ("%s", err->message);
    g_autoptr (GPtrArray) got_orphans = NULL;
    g_autoptr (GPtrArray) got = vgpu_domain_get_devices (doc, &got_orphans, &err);
    if (got == NULL)
        FAIL ("libvirt's XML: %s", err->message);
    if (got->len != expect->len || got_orphans->len != expect_orphans->len)
        FAIL ("libvirt kept %u+%u of %u+%u vGPU metadata entries", got->len, got_orphans->len,
              expect->len, expect_orphans->len);
    for (guint i = 0; i < got->len; i++)
        if (!same_device (got->pdata[i], expect->pdata[i]))
            FAIL ("vGPU %u changed in libvirt's XML", i);
    for (guint i = 0; i < got_orphans->len; i++)
        if (!same_device (got_orphans->pdata[i], expect_orphans->pdata[i]))
            FAIL ("orphan entry %u changed in libvirt's XML", i);
    /* As many hostdevs come back from libvirt's XML as from ours. */
    g_autoptr (xmlDoc) ours = xmlCopyDoc (sent, 1);
    int n_ours = vgpu_domain_from_native (ours, &err);
    if (n_ours < 0)
        FAIL ("%s", err->message);
    int n = vgpu_domain_from_native (doc, &err);
    if (n < 0)
        FAIL ("libvirt's XML does not translate back: %s", err->message);
    if (n != n_ours || count_vgpu_hostdevs (doc) != (guint) n_ours)
        FAIL ("translating libvirt's XML back gave %d vGPU hostdevs, expected %d", n, n_ours);
    validate_ours (doc, "libvirt's XML translated back");
}

/* Minimal domain holding a standalone native hostdev and its metadata. */
static char *
wrap_hostdev (xmlDoc *hostdev, const char *meta_xml)
{
    static const char tmpl[] =
        "<domain type='kvm'><name>xml2xml-hostdev</name>"
        "<uuid>" HOSTDEV_DOMAIN_UUID "</uuid>"
        "<memory unit='KiB'>1048576</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
        "<devices><graphics type='vnc'/></devices></domain>";
    g_autoptr (GError) err = NULL;
    g_autoptr (xmlDoc) dom = vgpu_xml_parse (tmpl, strlen (tmpl), "template", &err);
    g_autoptr (xmlDoc) meta = vgpu_xml_parse (meta_xml, strlen (meta_xml), "meta", &err);
    if (dom == NULL || meta == NULL)
        FAIL ("%s", err->message);
    xmlNodePtr root = xmlDocGetRootElement (dom);
    xmlNodePtr devices = root->last;
    xmlAddChild (devices, xmlDocCopyNode (xmlDocGetRootElement (hostdev), dom, 1));
    xmlNodePtr md = xmlNewDocNode (dom, NULL, BAD_CAST "metadata", NULL);
    xmlAddChild (md, xmlDocCopyNode (xmlDocGetRootElement (meta), dom, 1));
    xmlAddNextSibling (root->children->next, md);
    return vgpu_xml_format (dom);
}

static void
check_native (xmlDoc *native, const char *meta_xml)
{
    g_autofree char *domain_xml = NULL;
    if (vgpu_xml_detect_kind (native) == VGPU_DOC_DOMAIN)
        domain_xml = vgpu_xml_format (native);
    else
        domain_xml = wrap_hostdev (native, meta_xml);
    virt_xml_validate (domain_xml);
    g_autoptr (GError) err = NULL;
    g_autoptr (xmlDoc) d = vgpu_xml_parse (domain_xml, strlen (domain_xml), "native", &err);
    validate_ours (d, "native domain (vgpu-domain.rng)");
    libvirt_roundtrip (domain_xml);
}

/* ---------------------------------------------------------------- modes */

static void
to_native (void)
{
    g_autofree char *in = data_path (".xml");
    g_autofree char *out = data_path (".native.xml");
    g_autofree char *meta = data_path (".meta.xml");
    g_autoptr (xmlDoc) doc = load (in);
    validate_ours (doc, "input");
    g_autoptr (GError) err = NULL;
    g_autofree char *meta_xml = NULL;

    if (vgpu_xml_detect_kind (doc) == VGPU_DOC_HOSTDEV) {
        g_autoptr (VgpuDevice) d = vgpu_hostdev_to_native (doc, HOSTDEV_DOMAIN_UUID, 0, &err);
        if (d == NULL)
            FAIL ("%s", err->message);
        g_autoptr (GPtrArray) list = g_ptr_array_new ();
        g_ptr_array_add (list, d);
        meta_xml = vgpu_metadata_format (list);
        check_golden (meta, meta_xml);
    } else {
        if (vgpu_domain_to_native (doc, NULL, &err) < 0)
            FAIL ("%s", err->message);
    }
    g_autofree char *result = vgpu_xml_format (doc);
    check_golden (out, result);
    check_native (doc, meta_xml);
}

static void
from_native (void)
{
    g_autofree char *in = data_path (".native.xml");
    g_autofree char *out = data_path (".xml");
    g_autoptr (xmlDoc) doc = load (in);
    g_autoptr (GError) err = NULL;
    g_autofree char *meta_xml = NULL;

    if (vgpu_xml_detect_kind (doc) == VGPU_DOC_HOSTDEV_NATIVE) {
        g_autofree char *meta = data_path (".meta.xml");
        meta_xml = read_text (meta);
        g_autoptr (GPtrArray) devs = vgpu_metadata_parse (meta_xml, &err);
        if (devs == NULL)
            FAIL ("%s", err->message);
        if (devs->len != 1)
            FAIL ("%s must hold exactly one entry", meta);
        check_native (doc, meta_xml);
        if (!vgpu_hostdev_from_native (doc, devs->pdata[0], &err))
            FAIL ("%s", err->message);
    } else {
        check_native (doc, NULL);
        if (vgpu_domain_from_native (doc, &err) < 0)
            FAIL ("%s", err->message);
    }
    g_autofree char *result = vgpu_xml_format (doc);
    check_golden (out, result);
    validate_ours (doc, "output");
}

static void
must_fail (gboolean to, gboolean schema_rejects)
{
    g_autofree char *in = data_path (".xml");
    g_autofree char *errfile = data_path (".err");
    g_autoptr (xmlDoc) doc = load (in);
    g_autofree char *before = vgpu_xml_format (doc);
    g_autoptr (GError) err = NULL;
    gboolean failed;

    if (to && vgpu_xml_detect_kind (doc) == VGPU_DOC_HOSTDEV) {
        g_autoptr (VgpuDevice) d = vgpu_hostdev_to_native (doc, HOSTDEV_DOMAIN_UUID, 0, &err);
        failed = d == NULL;
    } else if (to) {
        failed = vgpu_domain_to_native (doc, NULL, &err) < 0;
    } else {
        failed = vgpu_domain_from_native (doc, &err) < 0;
    }
    if (!failed)
        FAIL ("translation of %s succeeded but must fail", in);
    g_autofree char *msg = g_strconcat (err->message, "\n", NULL);
    check_golden (errfile, msg);
    g_autofree char *after = vgpu_xml_format (doc);
    if (strcmp (before, after) != 0)
        FAIL ("the failed translation modified the document");

    g_clear_error (&err);
    gboolean valid = vgpu_xml_validate (doc, VGPU_DOC_UNKNOWN, &err);
    if (schema_rejects && valid)
        FAIL ("%s passes the vGPU schemas but must not (rename it *-error.xml if only the "
              "translation can detect the problem)", in);
    if (!schema_rejects && !valid)
        FAIL ("%s is rejected by the schemas (%s); name it *-invalid.xml", in, err->message);
}

/* Maintainer helper: rewrites NAME.xml / NAME.native.xml / NAME.meta.xml in
 * canonical format (not a test). */
static void
format_files (void)
{
    const char *suffixes[] = { ".xml", ".native.xml", ".meta.xml" };
    for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++) {
        g_autofree char *path = data_path (suffixes[i]);
        if (!g_file_test (path, G_FILE_TEST_EXISTS))
            continue;
        g_autoptr (GError) err = NULL;
        g_autoptr (xmlDoc) doc = vgpu_xml_read_file (path, &err);
        if (doc == NULL)
            FAIL ("%s", err->message);
        g_autofree char *text = vgpu_xml_format (doc);
        if (!g_file_set_contents (path, text, -1, &err))
            FAIL ("%s", err->message);
    }
}

int
main (int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        g_printerr ("usage: %s DATADIR NAME MODE [MIN_LIBVIRT]\n", argv[0]);
        return 2;
    }
    datadir = argv[1];
    name = argv[2];
    const char *mode = argv[3];
    if (argc == 5) {
        unsigned long have = 0;
        unsigned int maj = 0, min = 0, mic = 0;
        if (sscanf (argv[4], "%u.%u.%u", &maj, &min, &mic) != 3 ||
            virGetVersion (&have, NULL, NULL) < 0) {
            g_printerr ("%s: bad MIN_LIBVIRT '%s' (want X.Y.Z)\n", name, argv[4]);
            return 2;
        }
        if (have < maj * 1000000UL + min * 1000UL + mic) {
            g_print ("%s: needs libvirt >= %s (this is %lu.%lu.%lu): its files are what that "
                     "libvirt emits; it runs in the Debian 13 world\n", name, argv[4],
                     have / 1000000, have / 1000 % 1000, have % 1000);
            return 77;
        }
    }
    regenerate = g_strcmp0 (g_getenv ("VGPU_TEST_REGENERATE_OUTPUT"), "1") == 0;

    if (strcmp (mode, "to-native") == 0)
        to_native ();
    else if (strcmp (mode, "from-native") == 0)
        from_native ();
    else if (strcmp (mode, "invalid-to") == 0)
        must_fail (TRUE, TRUE);
    else if (strcmp (mode, "invalid-from") == 0)
        must_fail (FALSE, TRUE);
    else if (strcmp (mode, "error-to") == 0)
        must_fail (TRUE, FALSE);
    else if (strcmp (mode, "error-from") == 0)
        must_fail (FALSE, FALSE);
    else if (strcmp (mode, "format") == 0)
        format_files ();
    else {
        g_printerr ("unknown mode %s\n", mode);
        return 2;
    }
    return 0;
}
