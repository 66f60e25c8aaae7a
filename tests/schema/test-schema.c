/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every XML file in the source tree is checked against the schema of its
 * kind, and every *-invalid.xml must fail (in the manner of libvirt's
 * tests/virschematest.c). The tree is walked when the test runs, so a new
 * file is checked without touching meson; hidden directories and build
 * directories (those with a meson-private/) are skipped.
 *
 *   root element                      schema
 *   <hostdev> (any type)              schemas/vgpu-hostdev.rng
 *   <vgpu:devices>                    schemas/vgpu-metadata.rng
 *   <domain>                          schemas/vgpu-domain.rng, then each
 *                                     <vgpu:devices> in its <metadata>
 *                                     against vgpu-metadata.rng; a domain
 *                                     without vGPU hostdevs (native) must
 *                                     also pass libvirt's virt-xml-validate
 *   <device> (node device)            virt-xml-validate (libvirt's nodedev.rng)
 *   <node> (libvirt test driver)      each <domain> in it, as above
 *   anything else                     a failure: add its schema here
 *
 * The schemas are used directly through libxml2, not through libvgpu, so
 * this checks the schemas themselves. Environment: VGPU_SRCDIR (the tree),
 * VGPU_SCHEMA_DIR (our schemas), VGPU_LIBVIRT_VERSION (the libvirt whose
 * schemas are installed) and VGPU_SCHEMA_NEEDS ("NAME=VERSION ...": the
 * xml2xml cases NAME.* that a newer libvirt emitted; they skip when its
 * schemas are older, as their xml2xml tests do).
 */
#include <string.h>

#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>

#define VGPU_NS "https://gitlab.com/vgpu/xmlns/vgpu/1.0"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlRelaxNG, xmlRelaxNGFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlRelaxNGParserCtxt, xmlRelaxNGFreeParserCtxt)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlRelaxNGValidCtxt, xmlRelaxNGFreeValidCtxt)

typedef struct {
    char *path;     /* absolute */
    char *rel;      /* relative to the source tree, for names and messages */
} Case;

static GHashTable *schemas;     /* file name -> xmlRelaxNG* */

static void
collect_errors (void *ctx, const char *fmt, ...)
{
    GString *s = ctx;
    va_list ap;
    va_start (ap, fmt);
    g_string_append_vprintf (s, fmt, ap);
    va_end (ap);
}

static xmlRelaxNG *
schema (const char *name)
{
    xmlRelaxNG *rng = g_hash_table_lookup (schemas, name);
    if (rng)
        return rng;
    g_autofree char *path = g_build_filename (g_getenv ("VGPU_SCHEMA_DIR"), name, NULL);
    g_autoptr (xmlRelaxNGParserCtxt) pctx = xmlRelaxNGNewParserCtxt (path);
    g_autoptr (GString) errs = g_string_new (NULL);
    xmlRelaxNGSetParserErrors (pctx, collect_errors, collect_errors, errs);
    rng = xmlRelaxNGParse (pctx);
    if (rng == NULL)
        g_error ("schema %s does not compile: %s", path, errs->str);
    g_hash_table_insert (schemas, g_strdup (name), rng);
    return rng;
}

/* NULL if @doc is valid for schema @name, else the validator's messages. */
static char *
rng_check (xmlDoc *doc, const char *name)
{
    g_autoptr (xmlRelaxNGValidCtxt) vctx = xmlRelaxNGNewValidCtxt (schema (name));
    g_autoptr (GString) errs = g_string_new (NULL);
    xmlRelaxNGSetValidErrors (vctx, collect_errors, collect_errors, errs);
    if (xmlRelaxNGValidateDoc (vctx, doc) == 0)
        return NULL;
    g_string_prepend (errs, ": ");
    g_string_prepend (errs, name);
    return g_string_free (g_steal_pointer (&errs), FALSE);
}

/* libvirt's own check: its installed virt-xml-validate script. */
static char *
libvirt_check (const char *path, const char *type)
{
    const char *argv[] = { "virt-xml-validate", path, type, NULL };
    g_autofree char *out = NULL, *err = NULL;
    int status;
    g_autoptr (GError) error = NULL;
    if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                       &err, &status, &error))
        g_error ("cannot run virt-xml-validate (package libvirt-clients): %s", error->message);
    if (g_spawn_check_wait_status (status, NULL))
        return NULL;
    return g_strdup_printf ("virt-xml-validate %s: %s%s", type, out, err);
}

static gboolean
has_vgpu_hostdev (xmlNode *domain)
{
    for (xmlNode *d = domain->children; d; d = d->next) {
        if (d->type != XML_ELEMENT_NODE || !xmlStrEqual (d->name, BAD_CAST "devices"))
            continue;
        for (xmlNode *h = d->children; h; h = h->next) {
            if (h->type != XML_ELEMENT_NODE || !xmlStrEqual (h->name, BAD_CAST "hostdev"))
                continue;
            g_autofree xmlChar *type = xmlGetProp (h, BAD_CAST "type");
            if (type && xmlStrEqual (type, BAD_CAST "vgpu"))
                return TRUE;
        }
    }
    return FALSE;
}

/* Each <vgpu:devices> of the domain's <metadata>, as its own document,
 * against vgpu-metadata.rng. */
static char *
metadata_check (xmlNode *domain)
{
    for (xmlNode *m = domain->children; m; m = m->next) {
        if (m->type != XML_ELEMENT_NODE || !xmlStrEqual (m->name, BAD_CAST "metadata"))
            continue;
        for (xmlNode *e = m->children; e; e = e->next) {
            if (e->type != XML_ELEMENT_NODE || e->ns == NULL ||
                !xmlStrEqual (e->ns->href, BAD_CAST VGPU_NS))
                continue;
            g_autoptr (xmlDoc) sub = xmlNewDoc (BAD_CAST "1.0");
            xmlDocSetRootElement (sub, xmlDocCopyNode (e, sub, 1));
            xmlReconciliateNs (sub, xmlDocGetRootElement (sub));
            char *err = rng_check (sub, "vgpu-metadata.rng");
            if (err)
                return err;
        }
    }
    return NULL;
}

static char *check_doc (xmlDoc *doc, const char *path);

/* A libvirt test driver <node>: each <domain> in it, through a file of its
 * own for virt-xml-validate. */
static char *
check_node (xmlNode *node)
{
    for (xmlNode *d = node->children; d; d = d->next) {
        if (d->type != XML_ELEMENT_NODE || !xmlStrEqual (d->name, BAD_CAST "domain"))
            continue;
        g_autoptr (xmlDoc) sub = xmlNewDoc (BAD_CAST "1.0");
        xmlDocSetRootElement (sub, xmlDocCopyNode (d, sub, 1));
        xmlReconciliateNs (sub, xmlDocGetRootElement (sub));
        g_autoptr (GError) error = NULL;
        g_autofree char *tmp = NULL;
        int fd = g_file_open_tmp ("vgpu-schema-XXXXXX.xml", &tmp, &error);
        g_assert_no_error (error);
        close (fd);
        g_assert_cmpint (xmlSaveFile (tmp, sub), >, 0);
        char *err = check_doc (sub, tmp);
        g_unlink (tmp);
        if (err)
            return err;
    }
    return NULL;
}

/* NULL if the document is valid, else why not. */
static char *
check (const char *path)
{
    g_autoptr (xmlDoc) doc = xmlReadFile (path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                                      XML_PARSE_NOWARNING);
    if (doc == NULL)
        return g_strdup ("not well-formed XML");
    return check_doc (doc, path);
}

/* @path: the document's file, for libvirt's own validator. */
static char *
check_doc (xmlDoc *doc, const char *path)
{
    xmlNode *root = xmlDocGetRootElement (doc);
    const char *name = (const char *) root->name;
    gboolean ours = root->ns && xmlStrEqual (root->ns->href, BAD_CAST VGPU_NS);

    if (ours && g_str_equal (name, "devices"))
        return rng_check (doc, "vgpu-metadata.rng");
    if (root->ns == NULL && g_str_equal (name, "hostdev"))
        return rng_check (doc, "vgpu-hostdev.rng");
    if (root->ns == NULL && g_str_equal (name, "domain")) {
        char *err = rng_check (doc, "vgpu-domain.rng");
        if (err == NULL)
            err = metadata_check (root);
        if (err == NULL && !has_vgpu_hostdev (root))
            err = libvirt_check (path, "domain");
        return err;
    }
    if (root->ns == NULL && g_str_equal (name, "device"))
        return libvirt_check (path, "nodedev");
    if (root->ns == NULL && g_str_equal (name, "node"))
        return check_node (root);
    g_error ("%s: no schema for root element <%s>; add its kind to tests/schema/test-schema.c",
             path, name);
}

static guint64
version_number (const char *v)
{
    /* "MAJOR.MINOR.MICRO" as one number; missing parts count as 0 */
    g_auto (GStrv) f = g_strsplit (v, ".", 3);
    guint64 n = 0;
    for (guint i = 0, len = g_strv_length (f); i < 3; i++)
        n = n * 1000 + (i < len ? g_ascii_strtoull (f[i], NULL, 10) : 0);
    return n;
}

/* The libvirt version an xml2xml case's file needs, or NULL. */
static char *
needed_libvirt (const Case *c)
{
    g_autofree char *base = g_path_get_basename (c->path);
    char *dot = strchr (base, '.');
    if (dot)
        *dot = '\0';
    g_auto (GStrv) needs = g_strsplit (g_getenv ("VGPU_SCHEMA_NEEDS") ?: "", " ", -1);
    for (guint i = 0; needs[i]; i++) {
        const char *eq = strchr (needs[i], '=');
        if (eq && strlen (base) == (gsize) (eq - needs[i]) &&
            strncmp (needs[i], base, eq - needs[i]) == 0 &&
            strstr (c->rel, "xml2xml/data/"))
            return g_strdup (eq + 1);
    }
    return NULL;
}

static void
test_file (gconstpointer data)
{
    const Case *c = data;
    g_autofree char *need = needed_libvirt (c);
    const char *have = g_getenv ("VGPU_LIBVIRT_VERSION");
    if (need && have && version_number (have) < version_number (need)) {
        g_test_skip_printf ("%s needs libvirt >= %s's schemas (these are %s's)", c->rel, need,
                            have);
        return;
    }
    g_autofree char *err = check (c->path);
    gboolean want_invalid = g_str_has_suffix (c->path, "-invalid.xml");
    /* g_test_fail_printf: report every bad file, not only the first. */
    if (want_invalid && err == NULL)
        g_test_fail_printf ("%s is named *-invalid.xml but is valid", c->rel);
    else if (!want_invalid && err != NULL)
        g_test_fail_printf ("%s is invalid: %s", c->rel, err);
    if (err && g_test_verbose ())
        g_test_message ("%s fails as it should: %s", c->rel, err);
}

static void
walk (const char *top, const char *dir, GPtrArray *out)
{
    g_autoptr (GError) error = NULL;
    g_autoptr (GDir) d = g_dir_open (dir, 0, &error);
    g_assert_no_error (error);
    g_autofree char *private = g_build_filename (dir, "meson-private", NULL);
    if (g_file_test (private, G_FILE_TEST_IS_DIR))
        return;     /* a build directory */
    for (const char *n; (n = g_dir_read_name (d));) {
        if (n[0] == '.')
            continue;
        g_autofree char *p = g_build_filename (dir, n, NULL);
        if (g_file_test (p, G_FILE_TEST_IS_SYMLINK))
            continue;
        if (g_file_test (p, G_FILE_TEST_IS_DIR)) {
            walk (top, p, out);
        } else if (g_str_has_suffix (n, ".xml")) {
            Case *c = g_new0 (Case, 1);
            c->path = g_steal_pointer (&p);
            c->rel = g_strdup (c->path + strlen (top) + 1);
            g_ptr_array_add (out, c);
        }
    }
}

static int
by_rel (gconstpointer a, gconstpointer b)
{
    return strcmp ((*(const Case *const *) a)->rel, (*(const Case *const *) b)->rel);
}

static void
case_free (Case *c)
{
    g_free (c->path);
    g_free (c->rel);
    g_free (c);
}

int
main (int argc, char **argv)
{
    g_test_init (&argc, &argv, NULL);
    const char *top = g_getenv ("VGPU_SRCDIR");
    if (top == NULL || g_getenv ("VGPU_SCHEMA_DIR") == NULL)
        g_error ("VGPU_SRCDIR and VGPU_SCHEMA_DIR must be set; run this test through meson");
    schemas = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify) xmlRelaxNGFree);

    g_autoptr (GPtrArray) cases = g_ptr_array_new_with_free_func ((GDestroyNotify) case_free);
    walk (top, top, cases);
    g_ptr_array_sort (cases, by_rel);
    /* The tree has these at least: a walk that found nothing is a bug. */
    g_assert_cmpuint (cases->len, >=, 30);
    for (guint i = 0; i < cases->len; i++) {
        const Case *c = cases->pdata[i];
        g_autofree char *name = g_strdup_printf ("/schema/%s", c->rel);
        g_test_add_data_func (name, c, test_file);
    }
    int rc = g_test_run ();
    g_hash_table_destroy (schemas);
    xmlCleanupParser ();
    return rc;
}
