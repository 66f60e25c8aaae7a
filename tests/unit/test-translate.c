/* SPDX-License-Identifier: GPL-2.0-or-later */
/* API-level translation tests: standalone hostdevs (attach/detach), the
 * metadata document, the devices the hook reads, and kind detection. The
 * whole-domain golden tests are in tests/xml2xml. */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "libvgpu.h"
#include "vgpu-autoptr.h"

#define DOM_UUID "6f1e2a44-7c3b-4d8e-9a0b-1c2d3e4f5a6b"

static xmlDoc *
parse (const char *s)
{
    g_autoptr (GError) err = NULL;
    xmlDoc *doc = vgpu_xml_parse (s, strlen (s), "test.xml", &err);
    g_assert_no_error (err);
    return doc;
}

static const char hostdev_xml[] =
    "<hostdev mode='subsystem' type='vgpu' managed='yes' display='on'>\n"
    "  <source>\n"
    "    <parent name='pci_0000_00_05_0'/>\n"
    "    <type id='vgpu_sim-32m'/>\n"
    "    <attr name='vendor/max_fps' value='30'/>\n"
    "    <attr name='vendor/mode' value='a &amp; b'/>\n"
    "  </source>\n"
    "  <address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/>\n"
    "</hostdev>\n";

static void
test_hostdev_roundtrip (void)
{
    g_autoptr (GError) err = NULL;
    g_autoptr (xmlDoc) doc = parse (hostdev_xml);
    g_autofree char *orig = vgpu_xml_format (doc);
    g_assert_cmpint (vgpu_xml_detect_kind (doc), ==, VGPU_DOC_HOSTDEV);

    /* Without a domain UUID a missing <uuid> cannot be derived. */
    g_assert_null (vgpu_hostdev_to_native (doc, NULL, 0, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE);
    g_clear_error (&err);
    g_autofree char *unchanged = vgpu_xml_format (doc);
    g_assert_cmpstr (orig, ==, unchanged);

    g_autoptr (VgpuDevice) d = vgpu_hostdev_to_native (doc, DOM_UUID, 2, &err);
    g_assert_no_error (err);
    g_autofree char *expect_uuid = vgpu_derive_uuid (DOM_UUID, "vgpu_sim-32m",
                                                     "pci_0000_00_05_0", 2, &err);
    g_assert_cmpstr (d->uuid, ==, expect_uuid);
    g_assert_true (d->uuid_derived);
    g_assert_true (vgpu_device_is_managed (d));
    g_assert_cmpint (d->parent_kind, ==, VGPU_PARENT_NODEDEV);
    g_autofree char *sp = vgpu_device_sysfs_parent (d, &err);
    g_assert_cmpstr (sp, ==, "0000:00:05.0");
    g_assert_cmpuint (d->attrs->len, ==, 2);
    g_assert_cmpstr (((VgpuAttr *) d->attrs->pdata[1])->value, ==, "a & b");

    g_assert_cmpint (vgpu_xml_detect_kind (doc), ==, VGPU_DOC_HOSTDEV_NATIVE);
    g_autofree char *native_uuid = vgpu_native_hostdev_uuid (xmlDocGetRootElement (doc));
    g_assert_cmpstr (native_uuid, ==, d->uuid);
    g_autofree char *native = vgpu_xml_format (doc);
    g_assert_nonnull (strstr (native, "type=\"mdev\" model=\"vfio-pci\" display=\"on\""));
    g_assert_null (strstr (native, "managed"));
    g_assert_nonnull (strstr (native, "slot=\"0x07\""));

    /* Metadata document round trip. */
    g_autoptr (GPtrArray) list = g_ptr_array_new ();
    g_ptr_array_add (list, d);
    g_autofree char *meta = vgpu_metadata_format (list);
    g_assert_nonnull (strstr (meta, VGPU_METADATA_NS));
    g_autoptr (GPtrArray) back = vgpu_metadata_parse (meta, &err);
    g_assert_no_error (err);
    g_assert_cmpuint (back->len, ==, 1);
    VgpuDevice *b = back->pdata[0];
    g_assert_cmpstr (b->uuid, ==, d->uuid);
    g_assert_true (b->uuid_derived);
    g_assert_cmpint (b->managed, ==, VGPU_TRISTATE_YES);
    g_assert_cmpstr (b->parent, ==, "pci_0000_00_05_0");

    /* The plain form (virDomainSetMetadata/GetMetadata) parses the same. */
    g_autofree char *plain = vgpu_metadata_format_plain (list);
    g_assert_null (strstr (plain, VGPU_METADATA_NS));
    g_assert_nonnull (strstr (plain, "<devices>"));
    g_autoptr (GPtrArray) back2 = vgpu_metadata_parse (plain, &err);
    g_assert_no_error (err);
    g_assert_cmpuint (back2->len, ==, 1);
    g_assert_cmpstr (((VgpuDevice *) back2->pdata[0])->uuid, ==, d->uuid);
    g_assert_cmpuint (((VgpuDevice *) back2->pdata[0])->attrs->len, ==, 2);

    /* A mismatching entry is refused; the right one restores the input. */
    g_autoptr (VgpuDevice) other = vgpu_device_new ();
    other->uuid = g_strdup ("0b1a7c52-5d2e-4b6c-9a43-2f4b3a1c8e10");
    other->type = g_strdup ("x");
    g_assert_false (vgpu_hostdev_from_native (doc, other, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE);
    g_clear_error (&err);
    g_assert_true (vgpu_hostdev_from_native (doc, b, &err));
    g_assert_no_error (err);
    g_autofree char *again = vgpu_xml_format (doc);
    g_assert_cmpstr (again, ==, orig);
}

static void
test_metadata_errors (void)
{
    g_autoptr (GError) err = NULL;
    g_assert_null (vgpu_metadata_parse ("<x:devices xmlns:x='urn:other'/>", &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE);
    g_clear_error (&err);
    /* Plain root with namespaced children: not one consistent form. */
    g_assert_null (vgpu_metadata_parse (
        "<devices><v:device xmlns:v='" VGPU_METADATA_NS "' "
        "uuid='0b1a7c52-5d2e-4b6c-9a43-2f4b3a1c8e10' type='t'/></devices>", &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE);
    g_clear_error (&err);
    g_assert_null (vgpu_metadata_parse (
        "<v:devices xmlns:v='" VGPU_METADATA_NS "'><v:device uuid='x' type='t'/></v:devices>",
        &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_INVALID_NAME);
    g_clear_error (&err);
    g_assert_null (vgpu_metadata_parse (
        "<v:devices xmlns:v='" VGPU_METADATA_NS "'>"
        "<v:device uuid='0b1a7c52-5d2e-4b6c-9a43-2f4b3a1c8e10' type='t'/>"
        "<v:device uuid='0B1A7C52-5D2E-4B6C-9A43-2F4B3A1C8E10' type='t'/></v:devices>",
        &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE);
    g_assert_nonnull (strstr (err->message, "twice"));
    g_clear_error (&err);
    g_assert_null (vgpu_metadata_parse (
        "<v:devices xmlns:v='" VGPU_METADATA_NS "'>"
        "<v:device uuid='0b1a7c52-5d2e-4b6c-9a43-2f4b3a1c8e10' type='t' managed='maybe'/>"
        "</v:devices>",
        &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE);
    g_assert_nonnull (strstr (err->message, "'yes' or 'no'"));
    g_clear_error (&err);
    g_autoptr (GPtrArray) empty = vgpu_metadata_parse (
        "<v:devices xmlns:v='" VGPU_METADATA_NS "'/>", &err);
    g_assert_no_error (err);
    g_assert_cmpuint (empty->len, ==, 0);
}

/* What the hook sees after libvirt stored the translated domain. */
static void
test_domain_devices (void)
{
    g_autoptr (GError) err = NULL;
    g_autoptr (xmlDoc) doc = parse (
        "<domain type='kvm'><name>d</name><uuid>" DOM_UUID "</uuid><devices>"
        "<hostdev mode='subsystem' type='vgpu' managed='yes'><source>"
        "<type id='vgpu_sim-32m'/></source></hostdev>"
        "<hostdev mode='subsystem' type='vgpu' managed='no'><source>"
        "<parent address='0000:00:05.0'/><type id='vgpu_sim-16m'/>"
        "<uuid>0b1a7c52-5d2e-4b6c-9a43-2f4b3a1c8e10</uuid></source></hostdev>"
        "<hostdev mode='subsystem' type='vgpu' managed='yes'><source>"
        "<type id='vgpu_sim-32m'/></source></hostdev>"
        "</devices></domain>");
    g_autoptr (GPtrArray) devs = NULL;
    g_assert_cmpint (vgpu_domain_to_native (doc, &devs, &err), ==, 3);
    g_assert_no_error (err);
    g_autoptr (GPtrArray) seen = vgpu_domain_get_devices (doc, NULL, &err);
    g_assert_no_error (err);
    g_assert_cmpuint (seen->len, ==, 3);
    for (guint i = 0; i < 3; i++) {
        VgpuDevice *a = devs->pdata[i], *b = seen->pdata[i];
        g_assert_cmpstr (a->uuid, ==, b->uuid);
        g_assert_cmpstr (a->type, ==, b->type);
        g_assert_cmpint (a->managed, ==, b->managed);
    }
    VgpuDevice *first = seen->pdata[0], *third = seen->pdata[2];
    g_autofree char *u0 = vgpu_derive_uuid (DOM_UUID, "vgpu_sim-32m", NULL, 0, &err);
    g_autofree char *u1 = vgpu_derive_uuid (DOM_UUID, "vgpu_sim-32m", NULL, 1, &err);
    g_assert_cmpstr (first->uuid, ==, u0);
    g_assert_cmpstr (third->uuid, ==, u1);
    g_assert_false (vgpu_device_is_managed (seen->pdata[1]));

    /* Translating again is a no-op: no dialect left. */
    g_autofree char *before = vgpu_xml_format (doc);
    g_assert_cmpint (vgpu_domain_to_native (doc, NULL, &err), ==, 0);
    g_autofree char *after = vgpu_xml_format (doc);
    g_assert_cmpstr (before, ==, after);

    g_assert_cmpint (vgpu_domain_from_native (doc, &err), ==, 3);
    g_assert_no_error (err);
    g_autoptr (GPtrArray) none = vgpu_domain_get_devices (doc, NULL, &err);
    g_assert_cmpuint (none->len, ==, 0);
}

static void
test_detect_kind (void)
{
    struct { const char *xml; VgpuDocKind kind; } cases[] = {
        { "<domain/>", VGPU_DOC_DOMAIN },
        { "<hostdev type='vgpu'/>", VGPU_DOC_HOSTDEV },
        { "<hostdev type='mdev'/>", VGPU_DOC_HOSTDEV_NATIVE },
        { "<hostdev mode='subsystem' type='pci'/>", VGPU_DOC_HOSTDEV_NATIVE },
        { "<device><name>x</name></device>", VGPU_DOC_NODEDEV },
        { "<v:devices xmlns:v='" VGPU_METADATA_NS "'/>", VGPU_DOC_METADATA },
        { "<v:device xmlns:v='" VGPU_METADATA_NS "'/>", VGPU_DOC_UNKNOWN },
        { "<devices/>", VGPU_DOC_UNKNOWN },
        { "<network/>", VGPU_DOC_UNKNOWN },
    };
    for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
        g_autoptr (xmlDoc) doc = parse (cases[i].xml);
        g_assert_cmpstr (vgpu_doc_kind_to_string (vgpu_xml_detect_kind (doc)), ==,
                         vgpu_doc_kind_to_string (cases[i].kind));
    }
}

/* A missing schema is reported as such, naming the variable to set. */
static void
test_schema_missing (void)
{
    g_autoptr (GError) err = NULL;
    g_autoptr (xmlDoc) doc = parse ("<domain/>");
    g_setenv ("VGPU_SCHEMA_DIR", "/nonexistent/schemas", TRUE);
    g_assert_false (vgpu_xml_validate (doc, VGPU_DOC_DOMAIN, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_SCHEMA);
    g_assert_nonnull (strstr (err->message, "VGPU_SCHEMA_DIR"));
}

/* libvgpu keeps compiled schemas while the process runs; one replaced at the
 * same path must be compiled again, not answered from the kept one. */
static void
validate_with (const char *schema, const char *xml, gboolean valid)
{
    g_autoptr (GError) err = NULL;
    g_autoptr (xmlDoc) doc = parse (xml);
    g_assert_cmpint (vgpu_xml_validate_with (doc, schema, &err), ==, valid);
    if (!valid)
        g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_INVALID);
}

static void
write_schema (const char *dir, const char *path, const char *element)
{
    g_autofree char *text = g_strdup_printf (
        "<element name='%s' xmlns='http://relaxng.org/ns/structure/1.0'><empty/></element>\n",
        element);
    g_autofree char *tmp = g_build_filename (dir, "next.rng", NULL);
    g_assert_true (g_file_set_contents (tmp, text, -1, NULL));
    g_assert_cmpint (rename (tmp, path), ==, 0);
}

static void
test_schema_replaced (void)
{
    g_autofree char *dir = g_dir_make_tmp ("vgpu-schema-XXXXXX", NULL);
    g_assert_nonnull (dir);
    g_autofree char *path = g_build_filename (dir, "s.rng", NULL);
    write_schema (dir, path, "a");
    validate_with (path, "<a/>", TRUE);
    validate_with (path, "<a/>", TRUE);
    validate_with (path, "<b/>", FALSE);
    write_schema (dir, path, "bb");
    validate_with (path, "<a/>", FALSE);
    validate_with (path, "<bb/>", TRUE);
    g_assert_cmpint (unlink (path), ==, 0);
    g_assert_cmpint (rmdir (dir), ==, 0);
}

/* Validation through the project's schemas (VGPU_SCHEMA_DIR = source tree)
 * and libvirt's installed nodedev.rng. */
static void
test_validate (void)
{
    struct { const char *xml; VgpuDocKind kind; gboolean valid; } cases[] = {
        { "<hostdev mode='subsystem' type='vgpu' managed='yes'><source>"
          "<type id='vgpu_sim-32m'/></source></hostdev>", VGPU_DOC_HOSTDEV, TRUE },
        { "<hostdev mode='subsystem' type='vgpu'><source><type id='../x'/></source>"
          "</hostdev>", VGPU_DOC_HOSTDEV, FALSE },
        { "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
          "<address uuid='0b1a7c52-5d2e-4b6c-9a43-2f4b3a1c8e10'/></source></hostdev>",
          VGPU_DOC_HOSTDEV_NATIVE, TRUE },
        { "<device><name>mdev_0b1a7c52_5d2e_4b6c_9a43_2f4b3a1c8e10</name>"
          "<parent>pci_0000_00_05_0</parent><capability type='mdev'>"
          "<type id='vgpu_sim-32m'/><uuid>0b1a7c52-5d2e-4b6c-9a43-2f4b3a1c8e10</uuid>"
          "</capability></device>", VGPU_DOC_NODEDEV, TRUE },
        { "<device><name>x</name><capability type='mdev'><type/></capability></device>",
          VGPU_DOC_NODEDEV, FALSE },
        { "<v:devices xmlns:v='" VGPU_METADATA_NS "'><v:device "
          "uuid='0b1a7c52-5d2e-4b6c-9a43-2f4b3a1c8e10' type='vgpu_sim-32m'/></v:devices>",
          VGPU_DOC_METADATA, TRUE },
        /* Second step: the domain schema lets any namespaced metadata through,
         * the library then checks ours against vgpu-metadata.rng. */
        { "<domain type='kvm'><name>d</name><uuid>" DOM_UUID "</uuid>"
          "<metadata><v:devices xmlns:v='" VGPU_METADATA_NS "'><v:device uuid='nope' "
          "type='vgpu_sim-32m'/></v:devices></metadata><memory>1048576</memory>"
          "<os><type>hvm</type></os></domain>", VGPU_DOC_DOMAIN, FALSE },
        { "<domain type='kvm'><name>d</name><uuid>" DOM_UUID "</uuid>"
          "<metadata><v:devices xmlns:v='" VGPU_METADATA_NS "'><v:device "
          "uuid='0b1a7c52-5d2e-4b6c-9a43-2f4b3a1c8e10' type='vgpu_sim-32m'/></v:devices>"
          "</metadata><memory>1048576</memory><os><type>hvm</type></os></domain>",
          VGPU_DOC_DOMAIN, TRUE },
    };
    for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
        g_autoptr (xmlDoc) doc = parse (cases[i].xml);
        g_assert_cmpint (vgpu_xml_detect_kind (doc), ==, cases[i].kind);
        g_autoptr (GError) err = NULL;
        gboolean ok = vgpu_xml_validate (doc, VGPU_DOC_UNKNOWN, &err);
        if (ok != cases[i].valid)
            g_error ("case %zu: expected %s: %s", i, cases[i].valid ? "valid" : "invalid",
                     err ? err->message : "(accepted)");
        if (!ok) {
            g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_INVALID);
            g_assert_nonnull (strstr (err->message, "test.xml"));
            g_assert_nonnull (strstr (err->message, "line 1"));
        }
    }
}

int
main (int argc, char **argv)
{
    g_test_init (&argc, &argv, NULL);
    g_test_add_func ("/translate/hostdev-roundtrip", test_hostdev_roundtrip);
    g_test_add_func ("/translate/metadata-errors", test_metadata_errors);
    g_test_add_func ("/translate/domain-devices", test_domain_devices);
    g_test_add_func ("/translate/detect-kind", test_detect_kind);
    g_test_add_func ("/translate/validate", test_validate);
    g_test_add_func ("/translate/schema-missing", test_schema_missing);
    g_test_add_func ("/translate/schema-replaced", test_schema_replaced);
    return g_test_run ();
}
