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
 *   get capabilities          (mdevctl >= 1.3 asks every call-out this first;
 *                             its "callout versioning") reads mdevctl's
 *                             {"provides": {"version", "actions", "events"}}
 *                             and answers {"supports": {...}} with what this
 *                             call-out handles and mdevctl offers. A call-out
 *                             that answers gets every event of our types and
 *                             must list each one it accepts: an event left
 *                             out makes mdevctl fail the command.
 *   live modify               (mdevctl modify --live, which libvirt's
 *                             nodedev-update --live runs) writes the new
 *                             "attrs" to the running vGPU, in order, after
 *                             the same checks as pre; the vGPU core takes
 *                             them only before the vGPU's first open, so on
 *                             a vGPU a VM has opened it refuses in one line.
 *   anything else             nothing, exit 0.
 *
 * Exit status: 0 done, 1 refused or failed (one line on standard error),
 * 2 not a vGPU type. mdevctl 1.2 asks no capabilities and never sends live:
 * it runs the call-out as a plain one.
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
    vgpu_program_error ("vgpu", fmt, ap);
    va_end (ap);
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

/* Prints what @b built as one line of JSON on standard output. */
static void
print_json (JsonBuilder *b)
{
    g_autoptr (JsonNode) root = json_builder_get_root (b);
    g_autoptr (JsonGenerator) gen = json_generator_new ();
    json_generator_set_root (gen, root);
    g_autofree char *out = json_generator_to_data (gen, NULL);
    printf ("%s\n", out);
}

/* mdevctl's "attrs": [ {"NAME": "VALUE"}, ... ], in order; checked, and
 * collected into @out (VgpuAttr*, may be NULL) when all are fine. */
static int
check_config (const char *json, const char *uuid, GPtrArray *out)
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
    if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
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
            if (out != NULL)
                g_ptr_array_add (out, vgpu_attr_new (name, json_node_get_string (v)));
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

    print_json (b);
    return CALLOUT_OK;
}

/* What this call-out handles (mdevctl's names): "notify" is left out, it
 * goes to notifier scripts, never to a call-out. */
static const char *const supported_actions[] = {
    "start", "stop", "define", "undefine", "modify", "attributes", "capabilities", NULL
};
static const char *const supported_events[] = { "pre", "post", "get", "live", NULL };
/* mdevctl's callout version with "live" and "capabilities" (mdevctl 1.3). */
#define CALLOUT_VERSION 2

static gboolean
json_array_has_string (JsonArray *arr, const char *s)
{
    for (guint i = 0; i < json_array_get_length (arr); i++) {
        JsonNode *n = json_array_get_element (arr, i);
        if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING &&
            g_strcmp0 (json_node_get_string (n), s) == 0)
            return TRUE;
    }
    return FALSE;
}

/* The names of @ours that mdevctl's "provides" list @offered also has. */
static void
add_supported (JsonBuilder *b, const char *member, const char *const *ours,
               JsonArray *offered)
{
    json_builder_set_member_name (b, member);
    json_builder_begin_array (b);
    for (guint i = 0; ours[i]; i++)
        if (json_array_has_string (offered, ours[i]))
            json_builder_add_string_value (b, ours[i]);
    json_builder_end_array (b);
}

static JsonArray *
provided_list (JsonObject *provides, const char *member)
{
    JsonNode *n = json_object_get_member (provides, member);
    return n != NULL && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static int
get_capabilities (const char *json)
{
    const char *fix = _("mdevctl must send {\"provides\": {\"version\": N, \"actions\": "
                        "[...], \"events\": [...]}}; is it mdevctl 1.3 or later?");
    g_autoptr (JsonParser) parser = json_parser_new ();
    JsonObject *provides = NULL;
    if (json != NULL && json_parser_load_from_data (parser, json, -1, NULL)) {
        JsonNode *root = json_parser_get_root (parser);
        JsonNode *p = root != NULL && JSON_NODE_HOLDS_OBJECT (root)
            ? json_object_get_member (json_node_get_object (root), "provides") : NULL;
        if (p != NULL && JSON_NODE_HOLDS_OBJECT (p))
            provides = json_node_get_object (p);
    }
    JsonArray *actions = provides ? provided_list (provides, "actions") : NULL;
    JsonArray *events = provides ? provided_list (provides, "events") : NULL;
    JsonNode *vnode = provides ? json_object_get_member (provides, "version") : NULL;
    if (actions == NULL || events == NULL || vnode == NULL || !JSON_NODE_HOLDS_VALUE (vnode) ||
        json_node_get_value_type (vnode) != G_TYPE_INT64 || json_node_get_int (vnode) < 1) {
        callout_error (_("The capability query on standard input is not understood. %1$s"),
                       fix);
        return CALLOUT_FAILED;
    }

    g_autoptr (JsonBuilder) b = json_builder_new ();
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "supports");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "version");
    json_builder_add_int_value (b, MIN (json_node_get_int (vnode), CALLOUT_VERSION));
    add_supported (b, "actions", supported_actions, actions);
    add_supported (b, "events", supported_events, events);
    json_builder_end_object (b);
    json_builder_end_object (b);

    print_json (b);
    return CALLOUT_OK;
}

/* mdevctl modify --live: the running vGPU takes the new attributes. */
static int
live_modify (const char *json, const char *uuid)
{
    g_autoptr (GPtrArray) attrs = g_ptr_array_new_with_free_func ((GDestroyNotify) vgpu_attr_free);
    int rc = check_config (json, uuid, attrs);
    if (rc != CALLOUT_OK)
        return rc;
    g_autoptr (GError) error = NULL;
    if (!vgpu_set_attrs (uuid, attrs, &error)) {
        callout_error ("%s", error->message);
        return CALLOUT_FAILED;
    }
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
        { "event", 'e', 0, G_OPTION_ARG_STRING, &event, N_("pre, post, get, live or notify"),
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
     * still drained so mdevctl's write of the configuration never fails;
     * only "get attributes" comes without one. */
    gboolean get = g_strcmp0 (event, "get") == 0;
    gboolean get_attrs = get && g_strcmp0 (action, "attributes") == 0;
    g_autofree char *config = get_attrs ? NULL : read_all_stdin ();
    if (!is_vgpu_type (parent, type))
        return CALLOUT_NOT_MINE;
    if (uuid == NULL) {
        callout_error (_("mdevctl gave no device UUID (-u); this call-out needs one."));
        return CALLOUT_FAILED;
    }

    if (g_strcmp0 (event, "pre") == 0 &&
        (g_strcmp0 (action, "define") == 0 || g_strcmp0 (action, "start") == 0 ||
         g_strcmp0 (action, "modify") == 0))
        return check_config (config, uuid, NULL);
    if (get_attrs)
        return get_attributes (uuid);
    if (get && g_strcmp0 (action, "capabilities") == 0)
        return get_capabilities (config);
    if (g_strcmp0 (event, "live") == 0) {
        if (g_strcmp0 (action, "modify") == 0)
            return live_modify (config, uuid);
        callout_error (_("mdevctl asked for a live %1$s of vGPU %2$s; only a live modify is "
                         "supported."), action ? action : "(none)", uuid);
        return CALLOUT_FAILED;
    }
    return CALLOUT_OK;
}
