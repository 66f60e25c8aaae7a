/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvgpu: hardened XML parsing, formatting, kind detection and RelaxNG
 * validation. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/xmlsave.h>

#include "vgpu-private.h"

/* libxml2 2.12 hands structured error callbacks a const error. */
#if LIBXML_VERSION >= 21200
typedef const xmlError *VgpuXmlError;
#else
typedef xmlError *VgpuXmlError;
#endif

VGPU_ENUM_IMPL (vgpu_doc_kind, VGPU_DOC_LAST,
                "unknown",
                "domain",
                "hostdev",
                "hostdev-native",
                "metadata",
                "nodedev")

const char *
vgpu_doc_kind_to_string (VgpuDocKind kind)
{
    const char *s = vgpu_doc_kind_to_str (kind);
    return s ? s : "unknown";
}

VgpuDocKind
vgpu_doc_kind_from_string (const char *str)
{
    int v = vgpu_doc_kind_from_str (str);
    return v < 0 ? VGPU_DOC_UNKNOWN : (VgpuDocKind) v;
}

/* ----------------------------------------------------------------- parse */

/* libxml2 must be initialised once before threads use it concurrently. */
static void
xml_init_once (void)
{
    static gsize done = 0;
    if (g_once_init_enter (&done)) {
        LIBXML_TEST_VERSION
        xmlInitParser ();
        g_once_init_leave (&done, 1);
    }
}

/* State of one parse, reached from the parser context's _private. */
typedef struct {
    gboolean saw_doctype;
    char *first_error;     /* "line N: message" of the first error */
} ParseState;

static void
on_doctype (void *ctx, const xmlChar *name G_GNUC_UNUSED,
            const xmlChar *external_id G_GNUC_UNUSED,
            const xmlChar *system_id G_GNUC_UNUSED)
{
    xmlParserCtxtPtr ctxt = ctx;
    ParseState *st = ctxt->_private;
    /* No DTD at all: this rules out external entities, entity expansion
     * ("billion laughs") and DTD loading in one place. */
    st->saw_doctype = TRUE;
    xmlStopParser (ctxt);
}

static void
on_parse_error (void *ctx, VgpuXmlError err)
{
    xmlParserCtxtPtr ctxt = ctx;
    ParseState *st = ctxt ? ctxt->_private : NULL;
    if (st == NULL || err == NULL || err->level < XML_ERR_ERROR || st->first_error)
        return;
    g_autofree char *msg = g_strdup (err->message ? err->message : "unknown error");
    g_strchomp (msg);
    /* libxml2 may quote bytes of invalid input; keep the message printable. */
    if (!g_utf8_validate (msg, -1, NULL)) {
        char *fixed = g_utf8_make_valid (msg, -1);
        g_free (msg);
        msg = fixed;
    }
    st->first_error = g_strdup_printf ("line %d: %s", err->line, msg);
}

xmlDoc *
vgpu_xml_parse (const char *data, gsize len, const char *source_name, GError **error)
{
    if (source_name == NULL)
        source_name = "XML document";
    if (len > VGPU_XML_MAX_SIZE) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_UNSAFE,
                     _("%1$s is too large (%2$lu bytes, the limit is %3$d); "
                       "only domain, hostdev and node device documents are accepted."),
                     source_name, (unsigned long) len, VGPU_XML_MAX_SIZE);
        return NULL;
    }
    if (len > G_MAXINT)   /* unreachable with the limit above; libxml2 takes int */
        return NULL;

    xml_init_once ();
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt ();
    if (ctxt == NULL) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_FAILED,
                     _("Out of memory while parsing %1$s."), source_name);
        return NULL;
    }
    ParseState st = { 0 };
    ctxt->_private = &st;
    ctxt->sax->internalSubset = on_doctype;
    ctxt->sax->serror = on_parse_error;

    /* NONET: no network; no NOENT/DTDLOAD/DTDATTR/HUGE: no entity
     * substitution, no DTD loading, libxml2's default size and depth limits. */
    int opts = XML_PARSE_NONET | XML_PARSE_NOBLANKS;
    /* The URL only names the document in messages: nothing is resolved
     * against it (no DTD, no XInclude processing). */
    xmlDocPtr doc = xmlCtxtReadMemory (ctxt, data, (int) len, source_name, NULL, opts);
    gboolean well_formed = ctxt->wellFormed && !st.saw_doctype;
    xmlFreeParserCtxt (ctxt);
    g_autofree char *first_error = st.first_error;

    if (st.saw_doctype || (doc && (doc->intSubset || doc->extSubset))) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_UNSAFE,
                     _("%1$s contains a DOCTYPE declaration; DTDs and entities are not "
                       "accepted for security reasons, remove the DOCTYPE."),
                     source_name);
        xmlFreeDoc (doc);
        return NULL;
    }
    if (doc == NULL || !well_formed || xmlDocGetRootElement (doc) == NULL) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_PARSE,
                     _("%1$s is not well-formed XML (%2$s); fix the document and retry."),
                     source_name, first_error ? first_error : _("no root element"));
        xmlFreeDoc (doc);
        return NULL;
    }
    return doc;
}

/* Reads at most VGPU_XML_MAX_SIZE + 1 bytes so oversize is detected without
 * reading everything. */
static char *
read_bounded (int fd, const char *name, gsize *len_out, GError **error)
{
    gsize cap = 64 * 1024, len = 0;
    g_autofree char *buf = g_malloc (cap + 1);
    for (;;) {
        if (len == cap) {
            if (cap > VGPU_XML_MAX_SIZE) {
                g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_UNSAFE,
                             _("%1$s is larger than %2$d bytes; only domain, hostdev and "
                               "node device documents are accepted."),
                             name, VGPU_XML_MAX_SIZE);
                return NULL;
            }
            cap = MIN (cap * 2, (gsize) VGPU_XML_MAX_SIZE + 1);
            buf = g_realloc (buf, cap + 1);
        }
        ssize_t n = read (fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_IO,
                         _("Cannot read %1$s: %2$s."), name, g_strerror (e));
            return NULL;
        }
        if (n == 0)
            break;
        len += n;
    }
    if (len > VGPU_XML_MAX_SIZE) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_UNSAFE,
                     _("%1$s is larger than %2$d bytes; only domain, hostdev and "
                       "node device documents are accepted."),
                     name, VGPU_XML_MAX_SIZE);
        return NULL;
    }
    buf[len] = '\0';
    *len_out = len;
    return g_steal_pointer (&buf);
}

xmlDoc *
vgpu_xml_read_file (const char *path, GError **error)
{
    gsize len = 0;
    g_autofree char *data = NULL;

    if (strcmp (path, "-") == 0) {
        data = read_bounded (STDIN_FILENO, _("standard input"), &len, error);
    } else {
        int fd = open (path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            g_set_error (error, VGPU_ERROR,
                         e == ENOENT ? VGPU_ERROR_NOT_FOUND : VGPU_ERROR_IO,
                         _("Cannot open %1$s: %2$s."), path, g_strerror (e));
            return NULL;
        }
        struct stat sb;
        if (fstat (fd, &sb) == 0 && S_ISREG (sb.st_mode) && sb.st_size > VGPU_XML_MAX_SIZE) {
            close (fd);
            g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_UNSAFE,
                         _("%1$s is larger than %2$d bytes; only domain, hostdev and "
                           "node device documents are accepted."),
                         path, VGPU_XML_MAX_SIZE);
            return NULL;
        }
        data = read_bounded (fd, path, &len, error);
        close (fd);
    }
    if (data == NULL)
        return NULL;
    return vgpu_xml_parse (data, len, strcmp (path, "-") == 0 ? _("standard input") : path,
                           error);
}

char *
vgpu_xml_format (xmlDoc *doc)
{
    xmlBufferPtr buf = xmlBufferCreate ();
    xmlSaveCtxtPtr save = xmlSaveToBuffer (buf, "UTF-8", XML_SAVE_FORMAT | XML_SAVE_NO_DECL);
    xmlSaveDoc (save, doc);
    xmlSaveClose (save);
    GString *out = g_string_new_len ((const char *) xmlBufferContent (buf),
                                     xmlBufferLength (buf));
    xmlBufferFree (buf);
    if (out->len == 0 || out->str[out->len - 1] != '\n')
        g_string_append_c (out, '\n');
    return g_string_free (out, FALSE);
}

/* ----------------------------------------------------------- kind/schema */

VgpuDocKind
vgpu_xml_detect_kind (xmlDoc *doc)
{
    xmlNodePtr root = doc ? xmlDocGetRootElement (doc) : NULL;
    if (root == NULL)
        return VGPU_DOC_UNKNOWN;
    const char *ns = root->ns ? (const char *) root->ns->href : NULL;
    const char *name = (const char *) root->name;

    if (ns && strcmp (ns, VGPU_METADATA_NS) == 0)
        return strcmp (name, "devices") == 0 ? VGPU_DOC_METADATA : VGPU_DOC_UNKNOWN;
    if (ns)
        return VGPU_DOC_UNKNOWN;
    if (strcmp (name, "domain") == 0)
        return VGPU_DOC_DOMAIN;
    if (strcmp (name, "device") == 0)
        return VGPU_DOC_NODEDEV;
    if (strcmp (name, "hostdev") == 0) {
        g_autofree xmlChar *type = xmlGetNoNsProp (root, BAD_CAST "type");
        if (type && strcmp ((const char *) type, "vgpu") == 0)
            return VGPU_DOC_HOSTDEV;
        return VGPU_DOC_HOSTDEV_NATIVE;
    }
    return VGPU_DOC_UNKNOWN;
}

/* Which schema validates which kind: one row each, checked against the enum. */
typedef struct {
    gboolean libvirt;       /* from vgpu_libvirt_schema_dir() */
    const char *file;
} SchemaRow;

static const SchemaRow schema_table[] = {
    [VGPU_DOC_UNKNOWN]        = { FALSE, NULL },
    [VGPU_DOC_DOMAIN]         = { FALSE, "vgpu-domain.rng" },
    [VGPU_DOC_HOSTDEV]        = { FALSE, "vgpu-hostdev.rng" },
    [VGPU_DOC_HOSTDEV_NATIVE] = { FALSE, "vgpu-hostdev.rng" },
    [VGPU_DOC_METADATA]       = { FALSE, "vgpu-metadata.rng" },
    [VGPU_DOC_NODEDEV]        = { TRUE,  "nodedev.rng" },
};
G_STATIC_ASSERT (G_N_ELEMENTS (schema_table) == VGPU_DOC_LAST);

/* Collects the first few validation messages. */
typedef struct {
    GString *text;
    guint count;
} ErrorList;

#define MAX_REPORTED_ERRORS 5

static void
collect_error (void *data, VgpuXmlError err)
{
    ErrorList *el = data;
    if (err == NULL || err->level < XML_ERR_ERROR)
        return;
    el->count++;
    if (el->count > MAX_REPORTED_ERRORS)
        return;
    g_autofree char *msg = g_strdup (err->message ? err->message : "?");
    g_strchomp (msg);
    if (el->text->len)
        g_string_append (el->text, "; ");
    if (err->line > 0)
        g_string_append_printf (el->text, "line %d: %s", err->line, msg);
    else
        g_string_append (el->text, msg);
}

/* Compiled schemas, kept while the process runs: compiling a grammar (for a
 * domain, libvirt's whole domain schema) costs most of a validation, and
 * freeing it again at exit a few more per cent (docs/benchmarks.md, figure
 * 10); "vgpuctl validate A B" compiles it once. An entry is the schema file's
 * path and identity, so a file replaced at that path is compiled again; the
 * files it includes are taken as unchanged while the process runs. One lock:
 * libxml2 does not promise that validations may share a schema concurrently. */
typedef struct {
    char *path;
    dev_t dev;
    ino_t ino;
    gint64 mtime_ns;
    goffset size;
    xmlRelaxNGPtr schema;
} CachedSchema;

static GMutex schema_lock;
static GPtrArray *schema_cache;     /* CachedSchema *, never freed */

static gboolean
cached_schema_is (const CachedSchema *c, const char *path, const struct stat *sb)
{
    return strcmp (c->path, path) == 0 && c->dev == sb->st_dev && c->ino == sb->st_ino &&
           c->mtime_ns == (gint64) sb->st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) +
                          sb->st_mtim.tv_nsec &&
           c->size == (goffset) sb->st_size;
}

/* The compiled schema of @schema_path; called with schema_lock held. */
static xmlRelaxNGPtr
schema_get (const char *schema_path, const struct stat *sb, GError **error)
{
    if (schema_cache == NULL)
        schema_cache = g_ptr_array_new ();
    CachedSchema *slot = NULL;
    for (guint i = 0; i < schema_cache->len; i++) {
        CachedSchema *c = schema_cache->pdata[i];
        if (cached_schema_is (c, schema_path, sb))
            return c->schema;
        if (strcmp (c->path, schema_path) == 0)
            slot = c;       /* the file changed: compile it again */
    }

    ErrorList el = { g_string_new (NULL), 0 };
    xmlRelaxNGParserCtxtPtr pctxt = xmlRelaxNGNewParserCtxt (schema_path);
    xmlRelaxNGSetParserStructuredErrors (pctxt, collect_error, &el);
    xmlRelaxNGPtr schema = xmlRelaxNGParse (pctxt);
    xmlRelaxNGFreeParserCtxt (pctxt);
    if (schema == NULL) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_SCHEMA,
                     _("Schema %1$s cannot be loaded (%2$s); reinstall vgpu and libvirt's "
                       "schemas."),
                     schema_path, el.text->str);
        g_string_free (el.text, TRUE);
        return NULL;
    }
    g_string_free (el.text, TRUE);

    if (slot == NULL) {
        slot = g_new0 (CachedSchema, 1);
        slot->path = g_strdup (schema_path);
        g_ptr_array_add (schema_cache, slot);
    } else {
        xmlRelaxNGFree (slot->schema);
    }
    slot->dev = sb->st_dev;
    slot->ino = sb->st_ino;
    slot->mtime_ns = (gint64) sb->st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) +
                     sb->st_mtim.tv_nsec;
    slot->size = (goffset) sb->st_size;
    slot->schema = schema;
    return schema;
}

gboolean
vgpu_xml_validate_with (xmlDoc *doc, const char *schema_path, GError **error)
{
    struct stat sb;
    if (stat (schema_path, &sb) != 0 || !S_ISREG (sb.st_mode)) {
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_SCHEMA,
                     _("Schema %1$s does not exist; reinstall vgpu or point "
                       "VGPU_SCHEMA_DIR at the schemas."),
                     schema_path);
        return FALSE;
    }

    xml_init_once ();
    g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&schema_lock);
    xmlRelaxNGPtr schema = schema_get (schema_path, &sb, error);
    if (schema == NULL)
        return FALSE;

    ErrorList el = { g_string_new (NULL), 0 };
    xmlRelaxNGValidCtxtPtr vctxt = xmlRelaxNGNewValidCtxt (schema);
    xmlRelaxNGSetValidStructuredErrors (vctxt, collect_error, &el);
    int rc = xmlRelaxNGValidateDoc (vctxt, doc);
    xmlRelaxNGFreeValidCtxt (vctxt);

    if (rc != 0) {
        const char *name = doc->URL ? (const char *) doc->URL : _("The document");
        if (el.count > MAX_REPORTED_ERRORS)
            g_string_append_printf (el.text, "; ... (%u more)", el.count - MAX_REPORTED_ERRORS);
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_INVALID,
                     _("%1$s does not match schema %2$s: %3$s. Fix the elements named "
                       "above."),
                     name, schema_path, el.text->len ? el.text->str : _("invalid"));
        g_string_free (el.text, TRUE);
        return FALSE;
    }
    g_string_free (el.text, TRUE);
    return TRUE;
}

/* vgpu-domain.rng accepts any namespaced element in <metadata> (libxml2
 * cannot override libvirt's metadata definition from there), so each of our
 * metadata elements is validated on its own against vgpu-metadata.rng. */
static gboolean
validate_domain_metadata (xmlDoc *doc, GError **error)
{
    xmlNodePtr root = xmlDocGetRootElement (doc);
    for (xmlNodePtr m = root->children; m; m = m->next) {
        if (m->type != XML_ELEMENT_NODE || m->ns || strcmp ((const char *) m->name, "metadata"))
            continue;
        for (xmlNodePtr c = m->children; c; c = c->next) {
            if (c->type != XML_ELEMENT_NODE || c->ns == NULL ||
                strcmp ((const char *) c->ns->href, VGPU_METADATA_NS) != 0)
                continue;
            g_autoptr (xmlDoc) sub = xmlNewDoc (BAD_CAST "1.0");
            xmlDocSetRootElement (sub, xmlDocCopyNode (c, sub, 1));
            if (doc->URL)
                sub->URL = xmlStrdup (doc->URL);
            g_autofree char *path = g_build_filename (vgpu_schema_dir (),
                                                      schema_table[VGPU_DOC_METADATA].file,
                                                      NULL);
            if (!vgpu_xml_validate_with (sub, path, error))
                return FALSE;
        }
    }
    return TRUE;
}

gboolean
vgpu_xml_validate (xmlDoc *doc, VgpuDocKind kind, GError **error)
{
    if (kind == VGPU_DOC_UNKNOWN)
        kind = vgpu_xml_detect_kind (doc);
    if (kind <= VGPU_DOC_UNKNOWN || kind >= VGPU_DOC_LAST || schema_table[kind].file == NULL) {
        xmlNodePtr root = doc ? xmlDocGetRootElement (doc) : NULL;
        g_set_error (error, VGPU_ERROR, VGPU_ERROR_XML_INVALID,
                     _("Unknown kind of document (root element <%1$s>%2$s%3$s); expected "
                       "a libvirt <domain>, a <hostdev>, a node <device> or vGPU metadata "
                       "<vgpu:devices xmlns:vgpu='%4$s'>."),
                     root ? (const char *) root->name : "",
                     root && root->ns ? _(" in namespace ") : "",
                     root && root->ns ? (const char *) root->ns->href : "",
                     VGPU_METADATA_NS);
        return FALSE;
    }
    const SchemaRow *row = &schema_table[kind];
    g_autofree char *path = g_build_filename (row->libvirt ? vgpu_libvirt_schema_dir ()
                                                           : vgpu_schema_dir (),
                                              row->file, NULL);
    if (!vgpu_xml_validate_with (doc, path, error))
        return FALSE;
    if (kind == VGPU_DOC_DOMAIN)
        return validate_domain_metadata (doc, error);
    return TRUE;
}
