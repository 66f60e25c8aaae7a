/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vgpuctl — the verb table, option parsing, messages and exit codes shared by
 * every verb. The verbs themselves live in vgpuctl-sysfs.c (vGPUs on this
 * host), vgpuctl-xml.c (documents) and vgpuctl-virt.c (libvirt domains).
 *
 * vgpuctl-sysfs.c and vgpuctl-virt.c are modules (vgpuctl-sysfs.so,
 * vgpuctl-virt.so) loaded only by their own verbs: libvirt with its ~50
 * libraries, and json-glib with GIO and its 7, made the start-up of every verb
 * several times slower (docs/benchmarks.md, figure 10).
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>

#include "vgpuctl.h"
#include "vgpu-program.h"

/* A verb of a module: loads it (found through vgpuctl's RUNPATH, which names
 * its install directory, or the build directory uninstalled) and runs the
 * function the verb names. */
static int
run_module_verb (const VgpuctlVerb *verb, int argc, char **argv)
{
    void *module = dlopen (verb->module, RTLD_NOW | RTLD_LOCAL);
    if (module == NULL) {
        vgpuctl_error (_("'vgpuctl %1$s' needs %2$s, which cannot be loaded (%3$s); "
                         "reinstall vgpu."), verb->name, verb->module, dlerror ());
        return VGPUCTL_EXIT_FAILED;
    }
    int (*run) (const VgpuctlVerb *, int, char **);
    *(void **) &run = dlsym (module, verb->symbol);
    if (run == NULL) {
        vgpuctl_error (_("%1$s has no %2$s; reinstall vgpu."), verb->module, verb->symbol);
        return VGPUCTL_EXIT_FAILED;
    }
    /* Never unloaded: libvirt keeps its threads and handlers until exit. */
    return run (verb, argc, argv);
}

#define SYSFS_VERB(fn) run_module_verb, VGPUCTL_SYSFS_MODULE, #fn
#define VIRT_VERB(fn) run_module_verb, VGPUCTL_VIRT_MODULE, #fn

static const VgpuctlVerb verbs[] = {
    { "list", "", N_("List the vGPUs that exist on this host"),
      SYSFS_VERB (vgpuctl_cmd_list) },
    { "types", "[GPU]", N_("List the GPUs and the vGPU types they offer"),
      SYSFS_VERB (vgpuctl_cmd_types) },
    { "create", "", N_("Create a vGPU"),
      SYSFS_VERB (vgpuctl_cmd_create) },
    { "remove", "UUID", N_("Remove a vGPU"),
      SYSFS_VERB (vgpuctl_cmd_remove) },
    { "domxml-to-native", "FILE|-",
      N_("Translate vGPU hostdevs of a domain or hostdev document to libvirt's native XML"),
      vgpuctl_cmd_to_native, NULL, NULL },
    { "domxml-from-native", "FILE|-",
      N_("Translate a native domain document back to the vGPU hostdev dialect"),
      vgpuctl_cmd_from_native, NULL, NULL },
    { "validate", "FILE…", N_("Check documents against their schema (the kind is detected)"),
      vgpuctl_cmd_validate, NULL, NULL },
    { "define", "FILE", N_("Define a libvirt domain whose XML uses vGPU hostdevs"),
      VIRT_VERB (vgpuctl_cmd_define) },
    { "attach-device", "DOMAIN FILE",
      N_("Attach a vGPU hostdev to a domain (creating the vGPU when managed)"),
      VIRT_VERB (vgpuctl_cmd_attach) },
    { "detach-device", "DOMAIN FILE",
      N_("Detach a vGPU hostdev from a domain (removing the vGPU when managed)"),
      VIRT_VERB (vgpuctl_cmd_detach) },
    { "orphans", "DOMAIN",
      N_("List (or prune) vGPU metadata entries whose hostdev the domain no longer has"),
      VIRT_VERB (vgpuctl_cmd_orphans) },
    { "qemu-args", "UUID", N_("Print the QEMU options that give a vGPU to a guest"),
      SYSFS_VERB (vgpuctl_cmd_qemu_args) },
    { "handoff", "UUID", N_("Give a vGPU's VFIO group to a user for an unprivileged QEMU"),
      SYSFS_VERB (vgpuctl_cmd_handoff) },
};

void
vgpuctl_error (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    g_autofree char *msg = g_strdup_vprintf (fmt, ap);
    va_end (ap);

    /* One line: a message spanning lines (e.g. a schema report) is joined. */
    g_strstrip (msg);
    g_auto (GStrv) lines = g_strsplit (msg, "\n", -1);
    for (char **l = lines; *l; l++)
        g_strstrip (*l);
    g_autofree char *joined = g_strjoinv ("; ", lines);
    g_printerr ("vgpuctl: %s\n", joined);
}

int
vgpuctl_report (const GError *error)
{
    vgpuctl_error ("%s", error->message);
    if (error->domain == VGPU_ERROR &&
        (error->code == VGPU_ERROR_XML_PARSE || error->code == VGPU_ERROR_XML_UNSAFE ||
         error->code == VGPU_ERROR_XML_INVALID || error->code == VGPU_ERROR_XML_TRANSLATE ||
         error->code == VGPU_ERROR_INVALID_NAME))
        return VGPUCTL_EXIT_INVALID;
    return VGPUCTL_EXIT_FAILED;
}

gboolean
vgpuctl_parse (const VgpuctlVerb *verb, const char *description,
               const GOptionEntry *entries, int *argc, char ***argv,
               int min_args, int max_args)
{
    g_autofree char *prgname = g_strdup_printf ("vgpuctl %s", verb->name);
    g_set_prgname (prgname);

    g_autoptr (GOptionContext) ctx = g_option_context_new (verb->params);
    g_option_context_set_translation_domain (ctx, GETTEXT_PACKAGE);
    g_option_context_set_summary (ctx, _(verb->summary));
    if (description)
        g_option_context_set_description (ctx, description);
    if (entries)
        g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);

    g_autoptr (GError) error = NULL;
    if (!g_option_context_parse (ctx, argc, argv, &error)) {
        vgpuctl_error (_("%1$s; run 'vgpuctl %2$s --help' for the options."),
                       error->message, verb->name);
        return FALSE;
    }
    int n = *argc - 1;
    if (n < min_args || (max_args >= 0 && n > max_args)) {
        vgpuctl_error (_("'vgpuctl %1$s' takes the arguments '%2$s'; run 'vgpuctl %1$s "
                         "--help' for details."),
                       verb->name, verb->params);
        return FALSE;
    }
    return TRUE;
}

guint
vgpuctl_timeout_ms (int seconds)
{
    if (seconds >= 0)
        return (guint) MIN (seconds, 3600) * 1000;
    const char *env = g_getenv ("VGPU_TIMEOUT_MS");
    guint64 ms;
    if (env && g_ascii_string_to_unsigned (env, 10, 0, 3600 * 1000, &ms, NULL))
        return (guint) ms;
    return VGPUCTL_DEFAULT_TIMEOUT_S * 1000;
}

xmlDoc *
vgpuctl_read_doc (const char *path, int *rc)
{
    g_autoptr (GError) error = NULL;
    xmlDoc *doc = vgpu_xml_read_file (path, &error);
    if (doc == NULL)
        *rc = vgpuctl_report (error);
    return doc;
}

int
vgpuctl_validate_doc (const char *path, xmlDoc *doc, VgpuDocKind kind)
{
    g_autoptr (GError) error = NULL;
    if (!vgpu_xml_validate (doc, kind, &error)) {
        g_prefix_error (&error, "%s: ", path);
        return vgpuctl_report (error);
    }
    return VGPUCTL_EXIT_OK;
}

void
vgpuctl_print_doc (xmlDoc *doc)
{
    g_autofree char *out = vgpu_xml_format (doc);
    fputs (out, stdout);
}

static void
print_general_help (FILE *f)
{
    fprintf (f, _("Usage: %1$s VERB [OPTION…] [ARGUMENT…]\n"), "vgpuctl");
    fprintf (f, "\n%s\n\n", _("Manage virtual GPUs (mediated devices) and their libvirt XML."));
    fprintf (f, "%s\n", _("Verbs:"));
    for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
        fprintf (f, "  %-20s %s\n", verbs[i].name, _(verbs[i].summary));
    fprintf (f, "\n%s\n", _("Run 'vgpuctl VERB --help' for the options of a verb."));
    fprintf (f, "\n%s\n", _("Exit status:"));
    fprintf (f, "  0  %s\n", _("success"));
    fprintf (f, "  1  %s\n", _("the command failed; nothing was changed"));
    fprintf (f, "  2  %s\n", _("wrong verb, option or arguments"));
    fprintf (f, "  3  %s\n", _("an XML document is malformed or invalid"));
    fprintf (f, "  4  %s\n", _("detach requested, but the guest still holds the vGPU"));
    fprintf (f, "\n%s\n", _("Environment: VGPU_ROOT (system root, for tests), "
                            "VGPU_SCHEMA_DIR, VGPU_TIMEOUT_MS, LIBVIRT_DEFAULT_URI."));
}

int
main (int argc, char **argv)
{
    vgpu_program_init_i18n ();

    if (argc < 2) {
        print_general_help (stderr);
        return VGPUCTL_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (g_str_equal (name, "--help") || g_str_equal (name, "-h") ||
        (g_str_equal (name, "help") && argc == 2)) {
        print_general_help (stdout);
        return VGPUCTL_EXIT_OK;
    }
    if (g_str_equal (name, "--version")) {
        printf ("vgpuctl %s\n", PACKAGE_VERSION);
        return VGPUCTL_EXIT_OK;
    }

    /* "vgpuctl help VERB" is "vgpuctl VERB --help". */
    char *help_argv[] = { NULL, (char *) "--help", NULL };
    if (g_str_equal (name, "help")) {
        name = argv[2];
        help_argv[0] = argv[2];
        argv = help_argv;
        argc = 2;
    } else {
        argv++;
        argc--;
    }

    for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++) {
        if (g_str_equal (verbs[i].name, name))
            return verbs[i].run (&verbs[i], argc, argv);
    }
    vgpuctl_error (_("Unknown verb '%1$s'; run 'vgpuctl --help' for the list of verbs."), name);
    return VGPUCTL_EXIT_USAGE;
}
