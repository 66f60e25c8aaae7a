/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mdevctl call-out for vGPU types, installed as
 * /etc/mdevctl.d/scripts.d/callouts/vgpu (mdevctl 1.2 reads that directory).
 *
 * mdevctl runs every call-out as
 *   vgpu -t TYPE -e EVENT -a ACTION -s STATE -u UUID -p PARENT
 * with the device's JSON configuration on standard input (except for the
 * "get" event) and tries the scripts in order until one does not exit 2
 * ("not my type"). See mdevctl(8), "CALL-OUT EVENT SCRIPTS".
 *
 * A type is ours when its parent GPU is served by the vgpu core: the type's
 * description is the core's machine-readable "fb_size=..., heads=..., ..."
 * (kernel/core/sysfs.c). For our types:
 *
 *   pre define|start|modify   checks the "attrs" of the configuration before
 *                             mdevctl applies them (it writes them, in order,
 *                             to the new device right after creating it):
 *                             names must be vGPU vendor attribute names
 *                             ("vendor/NAME", as libvgpu validates them: mdevctl
 *                             writes each to the device directory + name, as
 *                             root, so nothing else may be named), values
 *                             strings without control characters of at most
 *                             4095 bytes. A bad one exits 1, which makes
 *                             mdevctl stop before it creates anything.
 *   get attributes            prints the vGPU's current vendor attributes
 *                             (the readable and writable files of its
 *                             "vendor" group; read-only status files would
 *                             not survive mdevctl's next start) as
 *                             mdevctl's JSON array [{"vendor/NAME": "VALUE"}],
 *                             so "mdevctl list --dumpjson" and "define" of a
 *                             running vGPU see them.
 *   anything else             nothing, exit 0.
 *
 * Exit status: 0 done, 1 refused or failed (one line on standard error),
 * 2 not a vGPU type.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "libvgpu.h"
#include "vgpu-program.h"

enum {
    CALLOUT_OK = 0,
    CALLOUT_FAILED = 1,
    CALLOUT_NOT_MINE = 2,
};

#define ATTR_VALUE_MAX 4095

static void G_GNUC_PRINTF (1, 2)
callout_error (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    g_autofree char *msg = g_strdup_vprintf (fmt, ap);
    va_end (ap);
    g_strdelimit (msg, "\n", ' ');
    g_printerr ("vgpu: %s\n", msg);
}

/* Is TYPE on PARENT a type of the vgpu core? */
static gboolean
is_vgpu_type (const char *parent, const char *type)
{
    if (parent == NULL || type == NULL)
        return FALSE;
    g_autoptr (VgpuType) t = vgpu_get_type (parent, type, NULL);
    if (t == NULL || t->fields == NULL)
        return FALSE;
    gboolean fb = FALSE, heads = FALSE;
    for (guint i = 0; i < t->fields->len; i++) {
        const VgpuField *f = t->fields->pdata[i];
        fb |= g_str_equal (f->key, "fb_size");
        heads |= g_str_equal (f->key, "heads");
    }
    return fb && heads;
}

static char *
read_all_stdin (void)
{
    g_autoptr (GString) s = g_string_new (NULL);
    char chunk[16384];
    for (;;) {
        ssize_t n = read (STDIN_FILENO, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (s->len + (gsize) n > VGPU_XML_MAX_SIZE)
            return NULL;
        g_string_append_len (s, chunk, n);
    }
    return g_string_free (g_steal_pointer (&s), FALSE);
}

static gboolean
value_ok (const char *name, const char *value)
{
    gsize len = strlen (value);
    if (len > ATTR_VALUE_MAX || !g_utf8_validate (value, len, NULL)) {
        callout_error (_("The value of vGPU attribute %1$s is not UTF-8 text of at most %2$d "
                         "bytes; shorten or fix it in the device's configuration."),
                       name, ATTR_VALUE_MAX);
        return FALSE;
    }
    for (const char *p = value; *p; p = g_utf8_next_char (p)) {
        if (g_unichar_iscntrl (g_utf8_get_char (p))) {
            callout_error (_("The value of vGPU attribute %1$s contains a control character; "
                             "remove it from the device's configuration."), name);
            return FALSE;
        }
    }
    return TRUE;
}

/* mdevctl's "attrs": [ {"NAME": "VALUE"}, ... ], in order. */
static int
check_config (const char *json, const char *uuid)
{
    if (json == NULL) {
        callout_error (_("The configuration of vGPU %1$s on standard input is too large."),
                       uuid);
        return CALLOUT_FAILED;
    }
    if (*json == '\0')
        return CALLOUT_OK;      /* nothing to check */
    g_autoptr (JsonParser) parser = json_parser_new ();
    g_autoptr (GError) error = NULL;
    if (!json_parser_load_from_data (parser, json, -1, &error)) {
        callout_error (_("The configuration of vGPU %1$s is not valid JSON (%2$s); check it "
                         "with 'mdevctl list --defined --dumpjson'."), uuid, error->message);
        return CALLOUT_FAILED;
    }
    JsonNode *root = json_parser_get_root (parser);
    if (!JSON_NODE_HOLDS_OBJECT (root))
        return CALLOUT_OK;
    JsonObject *obj = json_node_get_object (root);
    JsonNode *attrs = json_object_get_member (obj, "attrs");
    if (attrs == NULL || JSON_NODE_HOLDS_NULL (attrs))
        return CALLOUT_OK;
    if (!JSON_NODE_HOLDS_ARRAY (attrs)) {
        callout_error (_("The \"attrs\" of vGPU %1$s must be a list of {\"NAME\": \"VALUE\"} "
                         "objects."), uuid);
        return CALLOUT_FAILED;
    }
    JsonArray *arr = json_node_get_array (attrs);
    for (guint i = 0; i < json_array_get_length (arr); i++) {
        JsonNode *item = json_array_get_element (arr, i);
        if (!JSON_NODE_HOLDS_OBJECT (item)) {
            callout_error (_("The \"attrs\" of vGPU %1$s must be a list of {\"NAME\": "
                             "\"VALUE\"} objects."), uuid);
            return CALLOUT_FAILED;
        }
        JsonObject *a = json_node_get_object (item);
        g_autoptr (GList) names = json_object_get_members (a);
        for (GList *l = names; l; l = l->next) {
            const char *name = l->data;
            g_autoptr (GError) nerr = NULL;
            if (!vgpu_name_is_valid (VGPU_NAME_ATTR, name, &nerr)) {
                callout_error ("%s", nerr->message);
                return CALLOUT_FAILED;
            }
            JsonNode *v = json_object_get_member (a, name);
            if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_STRING) {
                callout_error (_("The value of vGPU attribute %1$s must be a JSON string; "
                                 "quote it."), name);
                return CALLOUT_FAILED;
            }
            if (!value_ok (name, json_node_get_string (v)))
                return CALLOUT_FAILED;
        }
    }
    return CALLOUT_OK;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static int
get_attributes (const char *uuid)
{
    g_autoptr (GError) error = NULL;
    if (!vgpu_name_is_valid (VGPU_NAME_UUID, uuid, &error)) {
        callout_error ("%s", error->message);
        return CALLOUT_FAILED;
    }
    g_autofree char *abs = g_strdup_printf ("/sys/bus/mdev/devices/%s", uuid);
    g_autofree char *devdir = vgpu_root_path (abs);
    if (!g_file_test (devdir, G_FILE_TEST_IS_DIR)) {
        callout_error (_("vGPU %1$s does not exist, so it has no attributes to read; start it "
                         "first."), uuid);
        return CALLOUT_FAILED;
    }
    g_autofree char *vendor = g_build_filename (devdir, "vendor", NULL);
    g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
    /* The kernel's own group, never something a link leads to. */
    GStatBuf vst;
    g_autoptr (GDir) dir = g_lstat (vendor, &vst) == 0 && S_ISDIR (vst.st_mode)
        ? g_dir_open (vendor, 0, NULL) : NULL;
    for (const char *n; dir && (n = g_dir_read_name (dir));)
        g_ptr_array_add (names, g_strdup (n));
    g_ptr_array_sort (names, compare_names);

    g_autoptr (JsonBuilder) b = json_builder_new ();
    json_builder_begin_array (b);
    for (guint i = 0; i < names->len; i++) {
        const char *n = names->pdata[i];
        g_autofree char *path = g_build_filename (vendor, n, NULL);
        g_autofree char *value = NULL;
        /* Only what mdevctl can write back at the next start: read-only
         * attributes (status such as vgpu_sim's vendor/display) would make
         * that start fail, write-only ones cannot be read. */
        GStatBuf st;
        if (g_lstat (path, &st) < 0 || !S_ISREG (st.st_mode) ||
            (st.st_mode & (S_IRUSR | S_IWUSR)) != (S_IRUSR | S_IWUSR) ||
            !g_file_get_contents (path, &value, NULL, NULL))
            continue;
        g_strchomp (value);
        g_autofree char *key = g_strdup_printf ("vendor/%s", n);
        json_builder_begin_object (b);
        json_builder_set_member_name (b, key);
        json_builder_add_string_value (b, value);
        json_builder_end_object (b);
    }
    json_builder_end_array (b);

    g_autoptr (JsonNode) root = json_builder_get_root (b);
    g_autoptr (JsonGenerator) gen = json_generator_new ();
    json_generator_set_root (gen, root);
    g_autofree char *out = json_generator_to_data (gen, NULL);
    printf ("%s\n", out);
    return CALLOUT_OK;
}

int
main (int argc, char **argv)
{
    vgpu_program_init_i18n ();

    g_autofree char *type = NULL, *event = NULL, *action = NULL, *state = NULL;
    g_autofree char *uuid = NULL, *parent = NULL;
    const GOptionEntry entries[] = {
        { "type", 't', 0, G_OPTION_ARG_STRING, &type, N_("mdev type id"), N_("TYPE") },
        { "event", 'e', 0, G_OPTION_ARG_STRING, &event, N_("pre, post, get or notify"),
          N_("EVENT") },
        { "action", 'a', 0, G_OPTION_ARG_STRING, &action, N_("mdevctl command"),
          N_("ACTION") },
        { "state", 's', 0, G_OPTION_ARG_STRING, &state, N_("none, success or failure"),
          N_("STATE") },
        { "uuid", 'u', 0, G_OPTION_ARG_STRING, &uuid, N_("device UUID"), N_("UUID") },
        { "parent", 'p', 0, G_OPTION_ARG_STRING, &parent, N_("parent device"), N_("PARENT") },
        { NULL }
    };
    g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
    g_option_context_set_translation_domain (ctx, GETTEXT_PACKAGE);
    g_option_context_set_summary (ctx, _("mdevctl call-out for vGPU types; mdevctl runs it "
                                         "from /etc/mdevctl.d/scripts.d/callouts."));
    g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
    /* Newer mdevctl versions may pass more options. */
    g_option_context_set_ignore_unknown_options (ctx, TRUE);
    g_autoptr (GError) error = NULL;
    if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
        callout_error ("%s", error->message);
        return CALLOUT_FAILED;
    }

    /* Not ours: tell mdevctl to try the next call-out. Standard input is
     * still drained so mdevctl's write of the configuration never fails. */
    gboolean get = g_strcmp0 (event, "get") == 0;
    g_autofree char *config = get ? NULL : read_all_stdin ();
    if (!is_vgpu_type (parent, type))
        return CALLOUT_NOT_MINE;
    if (uuid == NULL) {
        callout_error (_("mdevctl gave no device UUID (-u); this call-out needs one."));
        return CALLOUT_FAILED;
    }

    if (g_strcmp0 (event, "pre") == 0 &&
        (g_strcmp0 (action, "define") == 0 || g_strcmp0 (action, "start") == 0 ||
         g_strcmp0 (action, "modify") == 0))
        return check_config (config, uuid);
    if (get && g_strcmp0 (action, "attributes") == 0)
        return get_attributes (uuid);
    return CALLOUT_OK;
}
