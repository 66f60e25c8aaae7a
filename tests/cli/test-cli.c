/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of the programs: vgpuctl, the libvirt hook and the mdevctl call-out,
 * each run as a process against a fake root (VGPU_ROOT) with the fake kernel
 * (fakekernel.so, LD_PRELOAD) reacting to the sysfs writes, and vgpuctl's
 * libvirt verbs against libvirt's test driver (test:///default).
 *
 * Environment from meson: VGPUCTL, VGPU_HOOK, VGPU_CALLOUT, FAKEKERNEL,
 * VGPU_SCHEMA_DIR, VGPU_SRCDIR (source tree), VGPU_LOCALEDIR (the build's
 * compiled translations).
 */
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "fake-sysfs.h"

#define GPU_A "0000:00:05.0"
#define GPU_B "0000:00:06.0"
#define GPU_OTHER "0000:00:07.0"
#define UUID1 "2d3c4b5a-6978-4a1b-8c2d-3e4f5a6b7c8d"
#define UUID2 "3e4d5c6b-7a89-4b2c-9d3e-4f5a6b7c8d9e"
#define DOM_UUID "6f1d4f0c-3a7e-4f0e-8d8e-2b3c4d5e6f70"
#define VGPU_NS "https://gitlab.com/vgpu/xmlns/vgpu/1.0"
#define DOM2_UUID "7a2e5f1d-4b8f-4a1f-9e9f-3c4d5e6f7081"
#define VGPU_DESC "fb_size=33554432, heads=1, max_resolution=1920x1080, max_instances=4"

typedef struct {
    char *tmp;      /* holds root/ and the fake kernel's log */
    char *root;
    char *log;
} Fixture;

typedef struct {
    int status;     /* exit status, or -1 if killed */
    char *out;
    char *err;
} Result;

static void
result_clear (Result *r)
{
    g_free (r->out);
    g_free (r->err);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Result, result_clear)

/* ---------------------------------------------------------- fake tree */

static char *
P (Fixture *f, const char *rel)
{
    return g_build_filename (f->root, rel, NULL);
}

static char *
get (Fixture *f, const char *rel)
{
    g_autofree char *p = P (f, rel);
    char *s = NULL;
    if (!g_file_get_contents (p, &s, NULL, NULL))
        return NULL;
    return g_strchomp (s);
}

static gboolean
exists (Fixture *f, const char *rel)
{
    g_autofree char *p = P (f, rel);
    return g_file_test (p, G_FILE_TEST_EXISTS);
}

static void
add_type (Fixture *f, const char *gpu, const char *type, const char *desc, int avail)
{
    g_autofree char *a = g_strdup_printf ("%d", avail);
    fake_add_type (f->root, gpu, type, desc, a);
}

static void
setup (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr (GError) err = NULL;
    f->tmp = g_dir_make_tmp ("vgpu-cli-XXXXXX", &err);
    g_assert_no_error (err);
    f->root = g_build_filename (f->tmp, "root", NULL);
    f->log = g_build_filename (f->tmp, "kernel.log", NULL);
    add_type (f, GPU_A, "vgpu_sim-32m", VGPU_DESC "\n", 2);
    add_type (f, GPU_A, "vgpu_sim-16m", VGPU_DESC ", description=small\n", 4);
    add_type (f, GPU_B, "vgpu_sim-32m", VGPU_DESC "\n", 0);
    /* A GPU of another mdev vendor driver: not a vgpu core type. */
    add_type (f, GPU_OTHER, "mtty-2", "2 serial ports\n", 1);
    g_autofree char *devs = P (f, "sys/bus/mdev/devices");
    g_autofree char *vfio = P (f, "dev/vfio");
    g_autofree char *groups = P (f, "sys/kernel/iommu_groups");
    g_assert_cmpint (g_mkdir_with_parents (devs, 0755), ==, 0);
    g_assert_cmpint (g_mkdir_with_parents (vfio, 0755), ==, 0);
    g_assert_cmpint (g_mkdir_with_parents (groups, 0755), ==, 0);
}

static void
teardown (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    fake_rm_rf (f->tmp);
    g_free (f->tmp);
    g_free (f->root);
    g_free (f->log);
}

static char *
kernel_log (Fixture *f)
{
    char *s = NULL;
    if (!g_file_get_contents (f->log, &s, NULL, NULL))
        return g_strdup ("");
    return s;
}

/* ------------------------------------------------------------ running */

/* Runs @argv with the fake root and kernel; @extra_env: "NAME=VALUE"
 * entries (NULL-terminated, may be NULL) set or, as "NAME", unset. */
/* Our environment with the fake root and kernel. */
static GStrv
fake_environ (Fixture *f)
{
    GStrv env = g_get_environ ();
    env = g_environ_setenv (env, "VGPU_ROOT", f->root, TRUE);
    env = g_environ_setenv (env, "LD_PRELOAD", g_getenv ("FAKEKERNEL"), TRUE);
    env = g_environ_setenv (env, "FAKEKERNEL_LOG", f->log, TRUE);
    return env;
}

/* A launcher for programs that run against the fake root and kernel. */
static GSubprocessLauncher *
fake_launcher (Fixture *f, GSubprocessFlags flags)
{
    g_auto (GStrv) env = fake_environ (f);
    GSubprocessLauncher *l = g_subprocess_launcher_new (flags);
    g_subprocess_launcher_set_environ (l, env);
    return l;
}

static void
run_full (Fixture *f, const char *const *argv, const char *const *extra_env,
          const char *input, Result *r)
{
    g_auto (GStrv) env = fake_environ (f);
    env = g_environ_setenv (env, "VGPU_TIMEOUT_MS", "2000", TRUE);
    env = g_environ_setenv (env, "LC_ALL", "C", TRUE);
    env = g_environ_unsetenv (env, "LIBVIRT_DEFAULT_URI");
    for (const char *const *e = extra_env; e && *e; e++) {
        const char *eq = strchr (*e, '=');
        if (eq) {
            g_autofree char *name = g_strndup (*e, eq - *e);
            env = g_environ_setenv (env, name, eq + 1, TRUE);
        } else {
            env = g_environ_unsetenv (env, *e);
        }
    }

    /* Standard input comes from a file: programs that exit without reading
     * it (the hook, for operations it does not handle) must not race a
     * writer into EPIPE. */
    g_autofree char *in = g_build_filename (f->tmp, "stdin", NULL);
    g_autoptr (GError) err = NULL;
    g_file_set_contents (in, input ? input : "", -1, &err);
    g_assert_no_error (err);
    g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (
        G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_subprocess_launcher_set_environ (l, env);
    g_subprocess_launcher_set_stdin_file_path (l, in);
    g_autoptr (GSubprocess) p = g_subprocess_launcher_spawnv (l, argv, &err);
    g_assert_no_error (err);
    g_subprocess_communicate_utf8 (p, NULL, NULL, &r->out, &r->err, &err);
    g_assert_no_error (err);
    r->status = g_subprocess_get_if_exited (p) ? g_subprocess_get_exit_status (p) : -1;
    if (g_test_verbose ())
        g_test_message ("%s -> %d\nstdout: %s\nstderr: %s", argv[1] ? argv[1] : argv[0],
                        r->status, r->out, r->err);
}

/* vgpuctl ARGS... (NULL-terminated). */
static void
vgpuctl (Fixture *f, Result *r, ...)
{
    g_autoptr (GPtrArray) argv = g_ptr_array_new ();
    g_ptr_array_add (argv, (gpointer) g_getenv ("VGPUCTL"));
    va_list ap;
    va_start (ap, r);
    for (const char *a; (a = va_arg (ap, const char *));)
        g_ptr_array_add (argv, (gpointer) a);
    va_end (ap);
    g_ptr_array_add (argv, NULL);
    run_full (f, (const char *const *) argv->pdata, NULL, NULL, r);
}

/* An error is exactly one line on standard error, prefixed by the program. */
static void
assert_one_line_error (const Result *r, const char *prefix)
{
    if (!g_str_has_prefix (r->err, prefix))
        g_error ("standard error \"%s\" does not start with \"%s\"", r->err, prefix);
    const char *nl = strchr (r->err, '\n');
    if (nl == NULL || nl[1] != '\0')
        g_error ("standard error \"%s\" is not exactly one line", r->err);
}

static char *
src (const char *rel)
{
    return g_build_filename (g_getenv ("VGPU_SRCDIR"), rel, NULL);
}

static char *
write_tmp (Fixture *f, const char *name, const char *content)
{
    char *p = g_build_filename (f->tmp, name, NULL);
    g_autoptr (GError) err = NULL;
    g_file_set_contents (p, content, -1, &err);
    g_assert_no_error (err);
    return p;
}

static char *
dev_rel (const char *uuid, const char *leaf)
{
    return g_strdup_printf ("sys/bus/mdev/devices/%s%s%s", uuid, leaf ? "/" : "",
                            leaf ? leaf : "");
}

/* ---------------------------------------------------------- vgpuctl */

static void
test_help (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    static const char *const verbs[] = {
        "list", "types", "create", "remove", "domxml-to-native", "domxml-from-native",
        "validate", "define", "attach-device", "detach-device", "orphans", "qemu-args",
        "handoff",
    };
    g_auto (Result) r = { 0 };
    vgpuctl (f, &r, "--help", NULL);
    g_assert_cmpint (r.status, ==, 0);
    for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++) {
        g_assert_nonnull (strstr (r.out, verbs[i]));
        g_auto (Result) v = { 0 };
        vgpuctl (f, &v, verbs[i], "--help", NULL);
        g_assert_cmpint (v.status, ==, 0);
        g_autofree char *usage = g_strdup_printf ("vgpuctl %s [OPTION", verbs[i]);
        g_assert_nonnull (strstr (v.out, usage));
    }
    /* The manual page documents every verb and exit status. */
    g_autofree char *man_path = src ("docs/vgpuctl.1");
    g_autofree char *man = NULL;
    g_assert_true (g_file_get_contents (man_path, &man, NULL, NULL));
    for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++) {
        g_autoptr (GString) section = g_string_new (".SS ");
        for (const char *c = verbs[i]; *c; c++) {
            if (*c == '-')
                g_string_append (section, "\\-");
            else
                g_string_append_c (section, *c);
        }
        if (strstr (man, section->str) == NULL)
            g_error ("docs/vgpuctl.1 has no section \"%s\"", section->str);
    }
    for (int code = 0; code <= 4; code++) {
        g_autofree char *tp = g_strdup_printf (".TP\n.B %d\n", code);
        g_assert_nonnull (strstr (man, tp));
    }

    g_auto (Result) h = { 0 };
    vgpuctl (f, &h, "help", "create", NULL);
    g_assert_cmpint (h.status, ==, 0);
    g_assert_nonnull (strstr (h.out, "--attr"));

    g_auto (Result) none = { 0 };
    vgpuctl (f, &none, NULL);
    g_assert_cmpint (none.status, ==, 2);
    g_auto (Result) bad = { 0 };
    vgpuctl (f, &bad, "frobnicate", NULL);
    g_assert_cmpint (bad.status, ==, 2);
    assert_one_line_error (&bad, "vgpuctl: Unknown verb 'frobnicate'");
    g_auto (Result) opt = { 0 };
    vgpuctl (f, &opt, "list", "--bogus", NULL);
    g_assert_cmpint (opt.status, ==, 2);
    assert_one_line_error (&opt, "vgpuctl: ");
    g_auto (Result) args = { 0 };
    vgpuctl (f, &args, "remove", NULL);
    g_assert_cmpint (args.status, ==, 2);
    assert_one_line_error (&args, "vgpuctl: 'vgpuctl remove' takes");
}

static void
test_types (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_auto (Result) r = { 0 };
    vgpuctl (f, &r, "types", NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, GPU_A " (pci_0000_00_05_0)"));
    g_assert_nonnull (strstr (r.out, "vgpu_sim-16m"));
    g_assert_nonnull (strstr (r.out, GPU_B));

    g_auto (Result) one = { 0 };
    vgpuctl (f, &one, "types", "pci_0000_00_06_0", NULL);
    g_assert_cmpint (one.status, ==, 0);
    g_assert_nonnull (strstr (one.out, GPU_B));
    g_assert_null (strstr (one.out, GPU_A));

    g_auto (Result) j = { 0 };
    vgpuctl (f, &j, "types", "--json", GPU_A, NULL);
    g_assert_cmpint (j.status, ==, 0);
    g_autoptr (JsonParser) p = json_parser_new ();
    g_autoptr (GError) err = NULL;
    json_parser_load_from_data (p, j.out, -1, &err);
    g_assert_no_error (err);
    JsonArray *gpus = json_node_get_array (json_parser_get_root (p));
    g_assert_cmpuint (json_array_get_length (gpus), ==, 1);
    JsonObject *g = json_array_get_object_element (gpus, 0);
    g_assert_cmpstr (json_object_get_string_member (g, "gpu"), ==, GPU_A);
    g_assert_cmpstr (json_object_get_string_member (g, "nodedev"), ==, "pci_0000_00_05_0");
    JsonArray *types = json_object_get_array_member (g, "types");
    g_assert_cmpuint (json_array_get_length (types), ==, 2);
    JsonObject *t16 = json_array_get_object_element (types, 0);
    g_assert_cmpstr (json_object_get_string_member (t16, "id"), ==, "vgpu_sim-16m");
    g_assert_cmpint (json_object_get_int_member (t16, "available_instances"), ==, 4);
    g_assert_cmpstr (json_object_get_string_member (t16, "device_api"), ==, "vfio-pci");
    JsonObject *fields = json_object_get_object_member (t16, "fields");
    g_assert_cmpstr (json_object_get_string_member (fields, "heads"), ==, "1");
    g_assert_cmpstr (json_object_get_string_member (fields, "description"), ==, "small");

    g_auto (Result) missing = { 0 };
    vgpuctl (f, &missing, "types", "0000:00:1f.0", NULL);
    g_assert_cmpint (missing.status, ==, 1);
    assert_one_line_error (&missing, "vgpuctl: ");
    g_auto (Result) bad = { 0 };
    vgpuctl (f, &bad, "types", "../../etc", NULL);
    g_assert_cmpint (bad.status, ==, 3);
    assert_one_line_error (&bad, "vgpuctl: ");

    /* No GPU at all: not an error, nothing on standard output. */
    g_autofree char *bus = P (f, "sys/class/mdev_bus");
    fake_rm_rf (bus);
    g_auto (Result) none = { 0 };
    vgpuctl (f, &none, "types", NULL);
    g_assert_cmpint (none.status, ==, 0);
    g_assert_cmpstr (none.out, ==, "");
    g_assert_true (g_str_has_prefix (none.err, "No GPU offers vGPU types"));
    g_auto (Result) nj = { 0 };
    vgpuctl (f, &nj, "types", "--json", NULL);
    g_assert_cmpint (nj.status, ==, 0);
    g_assert_cmpstr (nj.out, ==, "[]\n");
}

static void
test_create_list_remove (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_auto (Result) empty = { 0 };
    vgpuctl (f, &empty, "list", NULL);
    g_assert_cmpint (empty.status, ==, 0);
    g_assert_cmpstr (empty.out, ==, "");

    g_auto (Result) c = { 0 };
    vgpuctl (f, &c, "create", "--type", "vgpu_sim-32m", "--uuid", UUID1,
             "--attr", "vendor/label=web", NULL);
    g_assert_cmpint (c.status, ==, 0);
    g_assert_cmpstr (c.out, ==, UUID1 "\n");
    g_autofree char *log = kernel_log (f);
    g_assert_cmpstr (log, ==, "create " GPU_A " vgpu_sim-32m " UUID1 "\n"
                              "write " UUID1 " vendor/label web\n");
    g_autofree char *label_rel = dev_rel (UUID1, "vendor/label");
    g_autofree char *label = get (f, label_rel);
    g_assert_cmpstr (label, ==, "web");
    g_autofree char *avail = get (f, "sys/class/mdev_bus/" GPU_A
                                     "/mdev_supported_types/vgpu_sim-32m/available_instances");
    g_assert_cmpstr (avail, ==, "1");

    g_auto (Result) l = { 0 };
    vgpuctl (f, &l, "list", NULL);
    g_assert_cmpint (l.status, ==, 0);
    g_assert_true (g_str_has_prefix (l.out, UUID1));
    g_assert_nonnull (strstr (l.out, "vgpu_sim-32m"));

    g_auto (Result) j = { 0 };
    vgpuctl (f, &j, "list", "--json", NULL);
    g_assert_cmpint (j.status, ==, 0);
    g_autoptr (JsonParser) p = json_parser_new ();
    g_autoptr (GError) err = NULL;
    json_parser_load_from_data (p, j.out, -1, &err);
    g_assert_no_error (err);
    JsonArray *arr = json_node_get_array (json_parser_get_root (p));
    g_assert_cmpuint (json_array_get_length (arr), ==, 1);
    JsonObject *o = json_array_get_object_element (arr, 0);
    g_assert_cmpstr (json_object_get_string_member (o, "uuid"), ==, UUID1);
    g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "vgpu_sim-32m");
    g_assert_cmpstr (json_object_get_string_member (o, "parent"), ==, GPU_A);
    g_assert_cmpstr (json_object_get_string_member (o, "driver"), ==, "vgpu");
    g_assert_cmpint (json_object_get_int_member (o, "iommu_group"), >=, 0);

    /* The same UUID again: refused before anything is written. */
    g_unlink (f->log);
    g_auto (Result) again = { 0 };
    vgpuctl (f, &again, "create", "-t", "vgpu_sim-16m", "-u", UUID1, NULL);
    g_assert_cmpint (again.status, ==, 1);
    assert_one_line_error (&again, "vgpuctl: ");
    g_autofree char *log2 = kernel_log (f);
    g_assert_cmpstr (log2, ==, "");

    /* UUIDs are accepted in either case (sysfs spells them lower-case). */
    g_autofree char *upper = g_ascii_strup (UUID1, -1);
    g_auto (Result) rm = { 0 };
    vgpuctl (f, &rm, "remove", upper, NULL);
    g_assert_cmpint (rm.status, ==, 0);
    g_autofree char *dev = dev_rel (UUID1, NULL);
    g_assert_false (exists (f, dev));
    g_autofree char *avail2 = get (f, "sys/class/mdev_bus/" GPU_A
                                      "/mdev_supported_types/vgpu_sim-32m/available_instances");
    g_assert_cmpstr (avail2, ==, "2");

    g_auto (Result) rm2 = { 0 };
    vgpuctl (f, &rm2, "remove", UUID1, NULL);
    g_assert_cmpint (rm2.status, ==, 1);
    assert_one_line_error (&rm2, "vgpuctl: ");

    /* Without --uuid: a random one, printed. */
    g_auto (Result) rnd = { 0 };
    vgpuctl (f, &rnd, "create", "--type", "vgpu_sim-16m", "--parent", "pci_0000_00_05_0",
             NULL);
    g_assert_cmpint (rnd.status, ==, 0);
    g_strchomp (rnd.out);
    g_assert_true (g_uuid_string_is_valid (rnd.out));
    g_autofree char *rnd_dev = dev_rel (rnd.out, NULL);
    g_assert_true (exists (f, rnd_dev));
}

/* Whatever fails after the create write, no vGPU stays behind. */
static void
test_create_failures (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *dev = dev_rel (UUID1, NULL);

    g_auto (Result) attr = { 0 };
    vgpuctl (f, &attr, "create", "-t", "vgpu_sim-32m", "-u", UUID1, "-a", "vendor/label=x",
             "-a", "vendor/nope=1", NULL);
    g_assert_cmpint (attr.status, ==, 1);
    assert_one_line_error (&attr, "vgpuctl: ");
    g_assert_nonnull (strstr (attr.err, "vendor/nope"));
    g_assert_false (exists (f, dev));
    g_autofree char *log = kernel_log (f);
    g_assert_cmpstr (log, ==, "create " GPU_A " vgpu_sim-32m " UUID1 "\n"
                              "write " UUID1 " vendor/label x\n"
                              "remove " UUID1 "\n");
    g_autofree char *avail = get (f, "sys/class/mdev_bus/" GPU_A
                                     "/mdev_supported_types/vgpu_sim-32m/available_instances");
    g_assert_cmpstr (avail, ==, "2");

    /* Never bound to a driver: timeout, removed again. */
    g_unlink (f->log);
    const char *argv[] = { g_getenv ("VGPUCTL"), "create", "-t", "vgpu_sim-32m", "-u", UUID1,
                           "--timeout", "1", NULL };
    const char *nobind[] = { "FAKEKERNEL_NOBIND=1", NULL };
    g_auto (Result) nb = { 0 };
    run_full (f, argv, nobind, NULL, &nb);
    g_assert_cmpint (nb.status, ==, 1);
    assert_one_line_error (&nb, "vgpuctl: ");
    g_assert_false (exists (f, dev));
    g_autofree char *log2 = kernel_log (f);
    g_assert_nonnull (strstr (log2, "remove " UUID1));

    /* Rejected names and missing capacity: nothing written at all. */
    g_unlink (f->log);
    g_auto (Result) badtype = { 0 };
    vgpuctl (f, &badtype, "create", "-t", "../../../x", NULL);
    g_assert_cmpint (badtype.status, ==, 3);
    assert_one_line_error (&badtype, "vgpuctl: ");
    g_auto (Result) badattr = { 0 };
    vgpuctl (f, &badattr, "create", "-t", "vgpu_sim-32m", "-a", "../remove=1", NULL);
    g_assert_cmpint (badattr.status, ==, 3);
    g_auto (Result) noeq = { 0 };
    vgpuctl (f, &noeq, "create", "-t", "vgpu_sim-32m", "-a", "label", NULL);
    g_assert_cmpint (noeq.status, ==, 2);
    g_auto (Result) notype = { 0 };
    vgpuctl (f, &notype, "create", NULL);
    g_assert_cmpint (notype.status, ==, 2);
    assert_one_line_error (&notype, "vgpuctl: The option --type is required");
    g_auto (Result) full = { 0 };
    vgpuctl (f, &full, "create", "-t", "vgpu_sim-32m", "-p", GPU_B, NULL);
    g_assert_cmpint (full.status, ==, 1);
    assert_one_line_error (&full, "vgpuctl: ");
    g_auto (Result) badparent = { 0 };
    vgpuctl (f, &badparent, "create", "-t", "vgpu_sim-32m", "-p", "0000:00:05.0/../..", NULL);
    g_assert_cmpint (badparent.status, ==, 3);
    g_autofree char *log3 = kernel_log (f);
    g_assert_cmpstr (log3, ==, "");
}

static void
test_qemu_args_handoff (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_auto (Result) c = { 0 };
    vgpuctl (f, &c, "create", "-t", "vgpu_sim-32m", "-u", UUID1, NULL);
    g_assert_cmpint (c.status, ==, 0);

    g_auto (Result) q = { 0 };
    vgpuctl (f, &q, "qemu-args", "--display", UUID1, NULL);
    g_assert_cmpint (q.status, ==, 0);
    g_autofree char *want = g_strdup_printf ("-device\nvfio-pci,sysfsdev=%s/sys/bus/mdev/"
                                             "devices/" UUID1 ",display=on\n", f->root);
    g_assert_cmpstr (q.out, ==, want);
    g_auto (Result) q2 = { 0 };
    vgpuctl (f, &q2, "qemu-args", UUID2, NULL);
    g_assert_cmpint (q2.status, ==, 1);
    assert_one_line_error (&q2, "vgpuctl: ");

    /* The group node becomes the user's (we can always give it to ourselves;
     * as root, to "nobody"). */
    struct passwd *pw = getuid () == 0 ? getpwnam ("nobody") : getpwuid (getuid ());
    g_assert_nonnull (pw);
    g_autofree char *user = g_strdup (pw->pw_name);
    uid_t uid = pw->pw_uid;
    g_autofree char *grp_link = dev_rel (UUID1, "iommu_group");
    g_autofree char *grp_path = P (f, grp_link);
    g_autofree char *target = g_file_read_link (grp_path, NULL);
    g_assert_nonnull (target);
    g_autofree char *group = g_path_get_basename (target);
    g_autofree char *node_rel = g_strdup_printf ("dev/vfio/%s", group);
    g_autofree char *node = P (f, node_rel);

    g_autofree char *upper = g_ascii_strup (UUID1, -1);
    g_auto (Result) h = { 0 };
    vgpuctl (f, &h, "handoff", upper, "--user", user, NULL);
    g_assert_cmpint (h.status, ==, 0);
    g_assert_nonnull (strstr (h.out, "viable"));
    GStatBuf st;
    g_assert_cmpint (g_stat (node, &st), ==, 0);
    g_assert_cmpuint (st.st_uid, ==, uid);
    g_assert_cmpuint (st.st_mode & 0777, ==, 0600);

    /* A foreign device in the group: not viable, the node is left alone. */
    g_assert_cmpint (g_chmod (node, 0640), ==, 0);
    g_autofree char *intruder = g_strdup_printf ("sys/kernel/iommu_groups/%s/devices/"
                                                 "0000:00:1f.0/driver", group);
    g_autofree char *ipath = P (f, intruder);
    g_autofree char *idir = g_path_get_dirname (ipath);
    g_assert_cmpint (g_mkdir_with_parents (idir, 0755), ==, 0);
    g_assert_cmpint (symlink ("../../../../bus/pci/drivers/e1000e", ipath), ==, 0);
    g_auto (Result) nv = { 0 };
    vgpuctl (f, &nv, "handoff", UUID1, "--user", user, NULL);
    g_assert_cmpint (nv.status, ==, 1);
    assert_one_line_error (&nv, "vgpuctl: ");
    g_assert_nonnull (strstr (nv.err, "e1000e"));
    g_assert_cmpint (g_stat (node, &st), ==, 0);
    g_assert_cmpuint (st.st_mode & 0777, ==, 0640);

    g_auto (Result) nouser = { 0 };
    vgpuctl (f, &nouser, "handoff", UUID1, "--user", "no-such-user-vgpu", NULL);
    g_assert_cmpint (nouser.status, ==, 1);
    g_auto (Result) missing = { 0 };
    vgpuctl (f, &missing, "handoff", UUID1, NULL);
    g_assert_cmpint (missing.status, ==, 2);
}

static void
test_validate (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *managed = src ("xml-examples/domain-managed-vgpu.xml");
    g_autofree char *unmanaged = src ("xml-examples/domain-unmanaged-vgpu.xml");
    g_autofree char *hostdev = src ("xml-examples/hostdev-vgpu.xml");
    g_autofree char *nodedev = src ("xml-examples/vgpu.xml");
    g_auto (Result) ok = { 0 };
    vgpuctl (f, &ok, "validate", managed, unmanaged, hostdev, nodedev, NULL);
    g_assert_cmpint (ok.status, ==, 0);
    g_assert_nonnull (strstr (ok.out, "valid (domain)"));
    g_assert_nonnull (strstr (ok.out, "valid (hostdev)"));
    g_assert_nonnull (strstr (ok.out, "valid (nodedev)"));

    g_autofree char *bad = write_tmp (f, "bad.xml",
        "<hostdev mode='subsystem' type='vgpu'><source><type id='x/../y'/></source>"
        "</hostdev>\n");
    g_autofree char *unknown = write_tmp (f, "unknown.xml", "<network><name>x</name></network>\n");
    g_autofree char *broken = write_tmp (f, "broken.xml", "<domain type='kvm'>\n");
    g_auto (Result) r = { 0 };
    vgpuctl (f, &r, "validate", "--quiet", managed, bad, NULL);
    g_assert_cmpint (r.status, ==, 3);
    g_assert_cmpstr (r.out, ==, "");
    assert_one_line_error (&r, "vgpuctl: ");
    g_assert_nonnull (strstr (r.err, "bad.xml"));
    g_auto (Result) u = { 0 };
    vgpuctl (f, &u, "validate", unknown, NULL);
    g_assert_cmpint (u.status, ==, 3);
    g_auto (Result) b = { 0 };
    vgpuctl (f, &b, "validate", broken, NULL);
    g_assert_cmpint (b.status, ==, 3);
    assert_one_line_error (&b, "vgpuctl: ");
    g_auto (Result) m = { 0 };
    vgpuctl (f, &m, "validate", "/nonexistent/x.xml", NULL);
    g_assert_cmpint (m.status, ==, 1);
    assert_one_line_error (&m, "vgpuctl: ");
}

static void
test_translate (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *managed = src ("xml-examples/domain-managed-vgpu.xml");
    g_auto (Result) n = { 0 };
    vgpuctl (f, &n, "domxml-to-native", managed, NULL);
    g_assert_cmpint (n.status, ==, 0);
    g_assert_nonnull (strstr (n.out, "type=\"mdev\""));
    g_assert_null (strstr (n.out, "type=\"vgpu\""));
    g_assert_nonnull (strstr (n.out, "https://gitlab.com/vgpu/xmlns/vgpu/1.0"));
    g_autofree char *native = write_tmp (f, "native.xml", n.out);

    /* The native document is valid for libvirt's own schema... */
    const char *vxv[] = { "virt-xml-validate", native, "domain", NULL };
    g_auto (Result) v = { 0 };
    run_full (f, vxv, NULL, NULL, &v);
    g_assert_cmpint (v.status, ==, 0);

    /* ...and goes back, from a file and from standard input, to a document
     * that translates to the same native one. */
    g_auto (Result) back = { 0 };
    vgpuctl (f, &back, "domxml-from-native", native, NULL);
    g_assert_cmpint (back.status, ==, 0);
    g_assert_nonnull (strstr (back.out, "type=\"vgpu\""));
    g_assert_null (strstr (back.out, "vgpu:devices"));
    const char *stdin_argv[] = { g_getenv ("VGPUCTL"), "domxml-to-native", "-", NULL };
    g_auto (Result) again = { 0 };
    run_full (f, stdin_argv, NULL, back.out, &again);
    g_assert_cmpint (again.status, ==, 0);
    g_assert_cmpstr (again.out, ==, n.out);

    /* A lone hostdev needs the domain's UUID when it has none. */
    g_autofree char *hostdev = src ("xml-examples/hostdev-vgpu.xml");
    g_auto (Result) h = { 0 };
    vgpuctl (f, &h, "domxml-to-native", "--domain-uuid", DOM_UUID, hostdev, NULL);
    g_assert_cmpint (h.status, ==, 0);
    g_assert_nonnull (strstr (h.out, "<hostdev mode=\"subsystem\" type=\"mdev\""));
    g_auto (Result) h2 = { 0 };
    vgpuctl (f, &h2, "domxml-to-native", hostdev, NULL);
    g_assert_cmpint (h2.status, ==, 3);
    assert_one_line_error (&h2, "vgpuctl: ");

    g_autofree char *nodedev = src ("xml-examples/vgpu.xml");
    g_auto (Result) nd = { 0 };
    vgpuctl (f, &nd, "domxml-to-native", nodedev, NULL);
    g_assert_cmpint (nd.status, ==, 3);
    assert_one_line_error (&nd, "vgpuctl: ");
    g_autofree char *lone = write_tmp (f, "lone.xml",
        "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
        "<address uuid='" UUID1 "'/></source></hostdev>\n");
    g_auto (Result) ln = { 0 };
    vgpuctl (f, &ln, "domxml-from-native", lone, NULL);
    g_assert_cmpint (ln.status, ==, 3);
    assert_one_line_error (&ln, "vgpuctl: ");
    g_assert_nonnull (strstr (ln.err, "dumpxml"));
}

/* ------------------------------------------------ libvirt test driver */

/* The libvirt verbs live in vgpuctl-virt.so, the sysfs ones in
 * vgpuctl-sysfs.so, both found through vgpuctl's RUNPATH: a vgpuctl that
 * cannot find them still runs the document verbs and says what is missing for
 * the others. */
static void
test_modules_missing (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    const char *built = g_getenv ("VGPUCTL");
    g_autofree char *builddir = g_path_get_dirname (built);
    g_autofree char *libdir = g_build_filename (builddir, "..", "lib", NULL);
    g_autofree char *bin = g_build_filename (f->tmp, "bin", NULL);
    g_autofree char *copy = g_build_filename (bin, "vgpuctl", NULL);
    g_autofree char *text = NULL;
    gsize len;
    g_autoptr (GError) err = NULL;
    g_assert_true (g_file_get_contents (built, &text, &len, &err));
    g_assert_cmpint (g_mkdir_with_parents (bin, 0755), ==, 0);
    g_assert_true (g_file_set_contents (copy, text, len, &err));
    g_assert_cmpint (chmod (copy, 0755), ==, 0);
    g_autofree char *ld = g_strconcat ("LD_LIBRARY_PATH=", libdir, NULL);
    const char *env[] = { ld, NULL };

    g_autofree char *managed = src ("xml-examples/domain-managed-vgpu.xml");
    const char *to_native[] = { copy, "domxml-to-native", managed, NULL };
    g_auto (Result) n = { 0 };
    run_full (f, to_native, env, NULL, &n);
    g_assert_cmpint (n.status, ==, 0);

    const char *define[] = { copy, "define", "-c", "test:///default", managed, NULL };
    g_auto (Result) d = { 0 };
    run_full (f, define, env, NULL, &d);
    g_assert_cmpint (d.status, ==, 1);
    assert_one_line_error (&d, "vgpuctl: ");
    g_assert_nonnull (strstr (d.err, "vgpuctl-virt.so"));

    const char *types[] = { copy, "types", NULL };
    g_auto (Result) t = { 0 };
    run_full (f, types, env, NULL, &t);
    g_assert_cmpint (t.status, ==, 1);
    assert_one_line_error (&t, "vgpuctl: ");
    g_assert_nonnull (strstr (t.err, "vgpuctl-sysfs.so"));
}

static void
test_define (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *managed = src ("xml-examples/domain-managed-vgpu.xml");
    g_auto (Result) d = { 0 };
    vgpuctl (f, &d, "define", "--connect", "test:///default", managed, NULL);
    g_assert_cmpint (d.status, ==, 0);
    g_assert_true (g_str_has_prefix (d.out, "Domain vgpu-managed defined from "));
    g_assert_true (g_str_has_suffix (d.out, " with 1 vGPU.\n"));
}

static void
test_define_checks (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *hostdev = src ("xml-examples/hostdev-vgpu.xml");
    g_auto (Result) h = { 0 };
    vgpuctl (f, &h, "define", "-c", "test:///default", hostdev, NULL);
    g_assert_cmpint (h.status, ==, 3);
    assert_one_line_error (&h, "vgpuctl: ");

    /* No domain <uuid>: the vGPU's UUID cannot be derived. */
    g_autofree char *bad = write_tmp (f, "nouuid.xml",
        "<domain type='kvm'><name>x</name><memory>1024</memory><os><type>hvm</type></os>"
        "<devices><hostdev mode='subsystem' type='vgpu' managed='yes'><source>"
        "<type id='vgpu_sim-32m'/></source></hostdev></devices></domain>\n");
    g_auto (Result) nu = { 0 };
    vgpuctl (f, &nu, "define", "-c", "test:///default", bad, NULL);
    g_assert_cmpint (nu.status, ==, 3);
    assert_one_line_error (&nu, "vgpuctl: ");

    g_autofree char *managed = src ("xml-examples/domain-managed-vgpu.xml");
    g_auto (Result) conn = { 0 };
    vgpuctl (f, &conn, "define", "-c", "bogus:///nothing", managed, NULL);
    g_assert_cmpint (conn.status, ==, 1);
    assert_one_line_error (&conn, "vgpuctl: Cannot connect to libvirt");
}

/* The test driver cannot attach devices: a managed vGPU created for the
 * attach must be removed again. */
static void
test_attach_undo (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *hostdev = write_tmp (f, "attach.xml",
        "<hostdev mode='subsystem' type='vgpu' managed='yes'><source>"
        "<type id='vgpu_sim-16m'/><uuid>" UUID2 "</uuid>"
        "<attr name='vendor/label' value='ci'/></source></hostdev>\n");
    g_auto (Result) a = { 0 };
    vgpuctl (f, &a, "attach-device", "-c", "test:///default", "--live", "test", hostdev, NULL);
    g_assert_cmpint (a.status, ==, 1);
    assert_one_line_error (&a, "vgpuctl: libvirt could not attach vGPU " UUID2);
    g_assert_nonnull (strstr (a.err, "was removed again"));
    g_autofree char *log = kernel_log (f);
    g_assert_cmpstr (log, ==, "create " GPU_A " vgpu_sim-16m " UUID2 "\n"
                              "write " UUID2 " vendor/label ci\n"
                              "remove " UUID2 "\n");
    g_autofree char *dev = dev_rel (UUID2, NULL);
    g_assert_false (exists (f, dev));

    /* --config on a domain: nothing is created now (the hook does it at
     * start), and libvirt's refusal leaves nothing either. */
    g_unlink (f->log);
    g_auto (Result) c = { 0 };
    vgpuctl (f, &c, "attach-device", "-c", "test:///default", "--config", "test", hostdev,
             NULL);
    g_assert_cmpint (c.status, ==, 1);
    g_autofree char *log2 = kernel_log (f);
    g_assert_cmpstr (log2, ==, "");

    g_auto (Result) nodom = { 0 };
    vgpuctl (f, &nodom, "attach-device", "-c", "test:///default", "nosuchdomain", hostdev,
             NULL);
    g_assert_cmpint (nodom.status, ==, 1);
    assert_one_line_error (&nodom, "vgpuctl: There is no domain 'nosuchdomain'");
    g_autofree char *nodedev = src ("xml-examples/vgpu.xml");
    g_auto (Result) kind = { 0 };
    vgpuctl (f, &kind, "attach-device", "-c", "test:///default", "test", nodedev, NULL);
    g_assert_cmpint (kind.status, ==, 3);
}

static void
test_detach_unknown (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *hostdev = src ("xml-examples/hostdev-vgpu.xml");
    g_auto (Result) d = { 0 };
    vgpuctl (f, &d, "detach-device", "-c", "test:///default", "test", hostdev, NULL);
    g_assert_cmpint (d.status, ==, 1);
    assert_one_line_error (&d, "vgpuctl: Domain test has no vGPU of type vgpu_sim-16m");
    g_autofree char *log = kernel_log (f);
    g_assert_cmpstr (log, ==, "");
}

/* A test driver node whose running domain has three vGPUs in its metadata
 * (tests/cli/data/testnode.xml): the verbs find the right one. */
static void
test_metadata_lookup (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *node = src ("tests/cli/data/testnode.xml");
    g_autofree char *uri = g_strdup_printf ("test://%s", node);

    /* Without <uuid>: the one vGPU of that type and parent. */
    g_autofree char *d32 = write_tmp (f, "d32.xml",
        "<hostdev type='vgpu' managed='yes'><source><parent address='" GPU_A "'/>"
        "<type id='vgpu_sim-32m'/></source></hostdev>\n");
    g_auto (Result) one = { 0 };
    vgpuctl (f, &one, "detach-device", "-c", uri, "vgpu-guest", d32, NULL);
    g_assert_cmpint (one.status, ==, 1);
    assert_one_line_error (&one, "vgpuctl: libvirt could not detach vGPU "
                                 "31111111-2222-4333-8444-555555555555 from domain vgpu-guest");

    /* Two of the same type: ambiguous, FILE must say which. */
    g_autofree char *d16 = write_tmp (f, "d16.xml",
        "<hostdev type='vgpu' managed='yes'><source><type id='vgpu_sim-16m'/></source>"
        "</hostdev>\n");
    g_auto (Result) two = { 0 };
    vgpuctl (f, &two, "detach-device", "-c", uri, "vgpu-guest", d16, NULL);
    g_assert_cmpint (two.status, ==, 1);
    assert_one_line_error (&two, "vgpuctl: Domain vgpu-guest has several vGPUs of type "
                                 "vgpu_sim-16m (370bb2ed-f73d-5aed-a913-13f12cee365c, "
                                 "c88e96f9-3050-5983-a180-4f346e19ee54)");

    /* With a <uuid> the domain does not have. */
    g_autofree char *other = write_tmp (f, "other.xml",
        "<hostdev type='vgpu'><source><type id='vgpu_sim-16m'/><uuid>" UUID1 "</uuid>"
        "</source></hostdev>\n");
    g_auto (Result) none = { 0 };
    vgpuctl (f, &none, "detach-device", "-c", uri, "vgpu-guest", other, NULL);
    g_assert_cmpint (none.status, ==, 1);
    assert_one_line_error (&none, "vgpuctl: vGPU " UUID1 " is not attached to domain "
                                  "vgpu-guest");

    /* Attaching a third derived vGPU of that type: it gets ordinal 2, the
     * UUID that the third of three identical hostdevs of a domain document
     * gets. Nothing is created for --config. */
    g_autofree char *three = g_strdup_printf (
        "<domain type='kvm'><name>x</name><uuid>" DOM_UUID "</uuid><memory>1</memory>"
        "<os><type>hvm</type></os><devices>%s%s%s</devices></domain>\n",
        "<hostdev type='vgpu'><source><type id='vgpu_sim-16m'/></source></hostdev>",
        "<hostdev type='vgpu'><source><type id='vgpu_sim-16m'/></source></hostdev>",
        "<hostdev type='vgpu'><source><type id='vgpu_sim-16m'/></source></hostdev>");
    g_autofree char *three_path = write_tmp (f, "three.xml", three);
    g_auto (Result) n = { 0 };
    vgpuctl (f, &n, "domxml-to-native", three_path, NULL);
    g_assert_cmpint (n.status, ==, 0);
    const char *third = NULL;
    const char *p = n.out;
    for (int i = 0; i < 3; i++) {
        p = strstr (p, "<address uuid=\"");
        g_assert_nonnull (p);
        p += strlen ("<address uuid=\"");
        third = p;
    }
    g_autofree char *third_uuid = g_strndup (third, 36);
    g_auto (Result) a = { 0 };
    vgpuctl (f, &a, "attach-device", "-c", uri, "--config", "vgpu-guest", d16, NULL);
    g_assert_cmpint (a.status, ==, 1);
    g_autofree char *want = g_strdup_printf ("vgpuctl: libvirt could not attach vGPU %s to "
                                             "domain vgpu-guest", third_uuid);
    assert_one_line_error (&a, want);
    g_autofree char *log = kernel_log (f);
    g_assert_cmpstr (log, ==, "");

    /* After the first of two derived vGPUs was detached, a new one takes the
     * free ordinal 0, not the survivor's UUID (ordinal 1). */
    g_autofree char *detached = src ("tests/cli/data/testnode-detached.xml");
    g_autofree char *detached_uri = g_strdup_printf ("test://%s", detached);
    g_auto (Result) again = { 0 };
    vgpuctl (f, &again, "attach-device", "-c", detached_uri, "--config", "vgpu-guest", d16,
             NULL);
    g_assert_cmpint (again.status, ==, 1);
    assert_one_line_error (&again, "vgpuctl: libvirt could not attach vGPU "
                                   "370bb2ed-f73d-5aed-a913-13f12cee365c to domain vgpu-guest");

    /* No orphans there; one where a hostdev went without its entry. */
    g_auto (Result) none_o = { 0 };
    vgpuctl (f, &none_o, "orphans", "-c", uri, "vgpu-guest", NULL);
    g_assert_cmpint (none_o.status, ==, 0);
    g_assert_cmpstr (none_o.out, ==, "");
    g_autofree char *orphan = src ("tests/cli/data/testnode-orphan.xml");
    g_autofree char *orphan_uri = g_strdup_printf ("test://%s", orphan);
    g_auto (Result) o = { 0 };
    vgpuctl (f, &o, "orphans", "-c", orphan_uri, "vgpu-guest", NULL);
    g_assert_cmpint (o.status, ==, 0);
    g_assert_cmpstr (o.out, ==, "31111111-2222-4333-8444-555555555555  vgpu_sim-32m         live\n"
                                "31111111-2222-4333-8444-555555555555  vgpu_sim-32m         config\n");
    g_auto (Result) pr = { 0 };
    vgpuctl (f, &pr, "orphans", "--prune", "-c", orphan_uri, "vgpu-guest", NULL);
    g_assert_cmpint (pr.status, ==, 0);
    g_assert_nonnull (strstr (pr.err, "Removed 1 orphan entry from the live definition of "
                                      "domain vgpu-guest."));
    g_assert_nonnull (strstr (pr.err, "Removed 1 orphan entry from the config definition"));

    /* The same UUID twice: refused before anything happens. */
    g_autofree char *dup = write_tmp (f, "dup.xml",
        "<hostdev type='vgpu' managed='yes'><source><type id='vgpu_sim-32m'/>"
        "<uuid>31111111-2222-4333-8444-555555555555</uuid></source></hostdev>\n");
    g_auto (Result) d = { 0 };
    vgpuctl (f, &d, "attach-device", "-c", uri, "vgpu-guest", dup, NULL);
    g_assert_cmpint (d.status, ==, 1);
    assert_one_line_error (&d, "vgpuctl: vGPU 31111111-2222-4333-8444-555555555555 is already "
                               "attached to domain vgpu-guest");
    g_autofree char *log2 = kernel_log (f);
    g_assert_cmpstr (log2, ==, "");
}

/* ---------------------------------------------------------------- hook */

/* A native domain XML, as libvirt hands it to the hook. */
static char *
native_domain_for (Fixture *f, const char *name, const char *uuid, const char *hostdevs)
{
    g_autofree char *dialect = g_strdup_printf (
        "<domain type='kvm'><name>%s</name><uuid>%s</uuid>"
        "<memory>1048576</memory><os><type>hvm</type></os><devices>%s</devices></domain>\n",
        name, uuid, hostdevs);
    g_autofree char *path = write_tmp (f, "dialect.xml", dialect);
    g_auto (Result) n = { 0 };
    vgpuctl (f, &n, "domxml-to-native", path, NULL);
    g_assert_cmpint (n.status, ==, 0);
    return g_steal_pointer (&n.out);
}

static char *
native_domain (Fixture *f, const char *hostdevs)
{
    return native_domain_for (f, "guest", DOM_UUID, hostdevs);
}

static void
hook_for (Fixture *f, const char *domain, const char *op, const char *subop, const char *xml,
          const char *const *env, Result *r)
{
    const char *argv[] = { g_getenv ("VGPU_HOOK"), domain, op, subop, "-", NULL };
    run_full (f, argv, env, xml, r);
}

static void
hook (Fixture *f, const char *op, const char *subop, const char *xml,
      const char *const *env, Result *r)
{
    hook_for (f, "guest", op, subop, xml, env, r);
}

#define MANAGED_32 "<hostdev mode='subsystem' type='vgpu' managed='yes'><source>" \
    "<parent address='" GPU_A "'/><type id='vgpu_sim-32m'/><uuid>" UUID1 "</uuid>"     \
    "<attr name='vendor/label' value='a'/></source></hostdev>"
#define MANAGED_16 "<hostdev mode='subsystem' type='vgpu' managed='yes'><source>" \
    "<type id='vgpu_sim-16m'/></source></hostdev>"
#define UNMANAGED_32 "<hostdev mode='subsystem' type='vgpu'><source>" \
    "<type id='vgpu_sim-32m'/><uuid>" UUID2 "</uuid></source></hostdev>"
/* Managed, any GPU with a free instance. */
#define ANY_32(uuid) "<hostdev mode='subsystem' type='vgpu' managed='yes'><source>" \
    "<type id='vgpu_sim-32m'/><uuid>" uuid "</uuid></source></hostdev>"

static void
test_hook_lifecycle (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *xml = native_domain (f, MANAGED_32 MANAGED_16);
    g_autofree char *dev1 = dev_rel (UUID1, NULL);

    /* Operations other than prepare/release do nothing. */
    g_auto (Result) s = { 0 };
    hook (f, "start", "begin", xml, NULL, &s);
    g_assert_cmpint (s.status, ==, 0);
    g_autofree char *log0 = kernel_log (f);
    g_assert_cmpstr (log0, ==, "");

    g_auto (Result) p = { 0 };
    hook (f, "prepare", "begin", xml, NULL, &p);
    g_assert_cmpint (p.status, ==, 0);
    g_assert_cmpstr (p.err, ==, "");
    g_assert_true (exists (f, dev1));
    g_autofree char *label_rel = dev_rel (UUID1, "vendor/label");
    g_autofree char *label = get (f, label_rel);
    g_assert_cmpstr (label, ==, "a");
    /* The second one got its UUID derived from the domain's, on any GPU. */
    g_autofree char *log = kernel_log (f);
    g_auto (GStrv) lines = g_strsplit (log, "\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, 4);
    g_assert_cmpstr (lines[0], ==, "create " GPU_A " vgpu_sim-32m " UUID1);
    g_assert_true (g_str_has_prefix (lines[2], "create " GPU_A " vgpu_sim-16m "));
    const char *derived = lines[2] + strlen ("create " GPU_A " vgpu_sim-16m ");
    g_assert_true (g_uuid_string_is_valid (derived));
    g_autofree char *dev2 = dev_rel (derived, NULL);
    g_assert_true (exists (f, dev2));

    /* Prepared twice (libvirtd restarted): the vGPUs are used as they are. */
    g_auto (Result) p2 = { 0 };
    hook (f, "prepare", "begin", xml, NULL, &p2);
    g_assert_cmpint (p2.status, ==, 0);

    g_auto (Result) r = { 0 };
    hook (f, "release", "end", xml, NULL, &r);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_false (exists (f, dev1));
    g_assert_false (exists (f, dev2));
    /* Released again: nothing left to do, no error. */
    g_auto (Result) r2 = { 0 };
    hook (f, "release", "end", xml, NULL, &r2);
    g_assert_cmpint (r2.status, ==, 0);
}

static void
test_hook_unmanaged (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *xml = native_domain (f, MANAGED_32 UNMANAGED_32);
    g_autofree char *dev1 = dev_rel (UUID1, NULL);
    g_autofree char *dev2 = dev_rel (UUID2, NULL);

    /* The unmanaged one is missing: refused before anything is created. */
    g_auto (Result) p = { 0 };
    hook (f, "prepare", "begin", xml, NULL, &p);
    g_assert_cmpint (p.status, ==, 1);
    assert_one_line_error (&p, "vgpu hook: The unmanaged vGPU " UUID2);
    g_assert_false (exists (f, dev1));
    g_autofree char *log = kernel_log (f);
    g_assert_cmpstr (log, ==, "");

    /* It exists with another type: refused too. */
    g_auto (Result) c = { 0 };
    vgpuctl (f, &c, "create", "-t", "vgpu_sim-16m", "-u", UUID2, NULL);
    g_assert_cmpint (c.status, ==, 0);
    g_unlink (f->log);
    g_auto (Result) w = { 0 };
    hook (f, "prepare", "begin", xml, NULL, &w);
    g_assert_cmpint (w.status, ==, 1);
    assert_one_line_error (&w, "vgpu hook: vGPU " UUID2 " exists with type vgpu_sim-16m");
    g_autofree char *log2 = kernel_log (f);
    g_assert_cmpstr (log2, ==, "");

    /* With the right type: the managed one is created, at release only the
     * managed one is removed. */
    g_auto (Result) rm = { 0 };
    vgpuctl (f, &rm, "remove", UUID2, NULL);
    g_auto (Result) c2 = { 0 };
    vgpuctl (f, &c2, "create", "-t", "vgpu_sim-32m", "-u", UUID2, NULL);
    g_assert_cmpint (c2.status, ==, 0);
    g_auto (Result) ok = { 0 };
    hook (f, "prepare", "begin", xml, NULL, &ok);
    g_assert_cmpint (ok.status, ==, 0);
    g_assert_true (exists (f, dev1));
    g_auto (Result) rel = { 0 };
    hook (f, "release", "end", xml, NULL, &rel);
    g_assert_cmpint (rel.status, ==, 0);
    g_assert_false (exists (f, dev1));
    g_assert_true (exists (f, dev2));
}

/* The second create fails: the first vGPU is removed again. */
static void
test_hook_undo (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *xml = native_domain (f, MANAGED_32 MANAGED_16);
    const char *env[] = { "FAKEKERNEL_FAIL_CREATE=vgpu_sim-16m", NULL };
    g_auto (Result) p = { 0 };
    hook (f, "prepare", "begin", xml, env, &p);
    g_assert_cmpint (p.status, ==, 1);
    assert_one_line_error (&p, "vgpu hook: Cannot create vGPU ");
    g_autofree char *log = kernel_log (f);
    g_auto (GStrv) lines = g_strsplit (log, "\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, 5);
    g_assert_cmpstr (lines[0], ==, "create " GPU_A " vgpu_sim-32m " UUID1);
    g_assert_true (g_str_has_prefix (lines[2], "create " GPU_A " vgpu_sim-16m "));
    g_assert_cmpstr (lines[3], ==, "remove " UUID1);
    g_autofree char *devs = P (f, "sys/bus/mdev/devices");
    g_autoptr (GDir) dd = g_dir_open (devs, 0, NULL);
    g_assert_null (g_dir_read_name (dd));

    /* Bad input on stdin: one line, exit 1, nothing created. */
    g_unlink (f->log);
    g_auto (Result) bad = { 0 };
    hook (f, "prepare", "begin", "<domain", NULL, &bad);
    g_assert_cmpint (bad.status, ==, 1);
    assert_one_line_error (&bad, "vgpu hook: ");
    g_autofree char *log2 = kernel_log (f);
    g_assert_cmpstr (log2, ==, "");

    /* A domain without vGPUs: nothing to do. */
    g_auto (Result) none = { 0 };
    hook (f, "prepare", "begin",
          "<domain type='kvm'><name>g</name><memory>1</memory><os><type>hvm</type></os>"
          "</domain>", NULL, &none);
    g_assert_cmpint (none.status, ==, 0);
}


/* ------------------------------------------------------------ ownership */

/* The number of lines of the fake kernel's log that start with @prefix. */
static guint
log_count (Fixture *f, const char *prefix)
{
    g_autofree char *log = kernel_log (f);
    g_auto (GStrv) lines = g_strsplit (log, "\n", -1);
    guint n = 0;
    for (char **l = lines; *l; l++)
        if (g_str_has_prefix (*l, prefix))
            n++;
    return n;
}

static void
set_available (Fixture *f, const char *gpu, const char *type, const char *n)
{
    g_autofree char *rel = g_strdup_printf ("sys/class/mdev_bus/%s/mdev_supported_types/%s/"
                                            "available_instances", gpu, type);
    g_autofree char *line = g_strdup_printf ("%s\n", n);
    fake_put (f->root, rel, line);
}

static char *
parent_of (Fixture *f, const char *uuid)
{
    g_autofree char *rel = dev_rel (uuid, "mdev_type");
    g_autofree char *link = P (f, rel);
    g_autofree char *target = g_file_read_link (link, NULL);
    g_assert_nonnull (target);
    g_auto (GStrv) parts = g_strsplit (target, "/", -1);
    guint n = g_strv_length (parts);
    g_assert_cmpuint (n, >=, 3);
    return g_strdup (parts[n - 3]);
}

/* `virsh dumpxml orig`, new name and UUID, `virsh define`: the copy keeps
 * the original's vGPU UUID in its metadata and hostdev. */
static void
test_hook_copied_domain (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *orig = native_domain_for (f, "orig", DOM_UUID, MANAGED_32);
    g_autofree char *copy = native_domain_for (f, "copy", DOM2_UUID, MANAGED_32);
    g_autofree char *dev1 = dev_rel (UUID1, NULL);

    g_auto (Result) p = { 0 };
    hook_for (f, "orig", "prepare", "begin", orig, NULL, &p);
    g_assert_cmpint (p.status, ==, 0);
    g_assert_true (exists (f, dev1));

    /* The copy is refused with its owner named, and nothing is touched. */
    g_unlink (f->log);
    g_auto (Result) c = { 0 };
    hook_for (f, "copy", "prepare", "begin", copy, NULL, &c);
    g_assert_cmpint (c.status, ==, 1);
    assert_one_line_error (&c, "vgpu hook: vGPU " UUID1 " belongs to domain orig (" DOM_UUID
                               ")");
    /* libvirt then runs the copy's stop hooks: the original's vGPU stays. */
    const char *const stops[][2] = { { "stopped", "end" }, { "release", "end" } };
    for (gsize i = 0; i < G_N_ELEMENTS (stops); i++) {
        g_auto (Result) r = { 0 };
        hook_for (f, "copy", stops[i][0], stops[i][1], copy, NULL, &r);
        g_assert_cmpint (r.status, ==, 0);
    }
    g_assert_true (exists (f, dev1));
    g_autofree char *log = kernel_log (f);
    g_assert_cmpstr (log, ==, "");

    /* An unmanaged hostdev naming it is refused as well. */
    g_autofree char *other = native_domain_for (f, "other", DOM2_UUID,
        "<hostdev mode='subsystem' type='vgpu'><source><type id='vgpu_sim-32m'/>"
        "<uuid>" UUID1 "</uuid></source></hostdev>");
    g_auto (Result) u = { 0 };
    hook_for (f, "other", "prepare", "begin", other, NULL, &u);
    g_assert_cmpint (u.status, ==, 1);
    assert_one_line_error (&u, "vgpu hook: vGPU " UUID1 " belongs to domain orig");

    /* The original's own stop removes it. */
    g_auto (Result) r = { 0 };
    hook_for (f, "orig", "release", "end", orig, NULL, &r);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_false (exists (f, dev1));
}

/* A managed vGPU that exists but was not created for the domain (made by
 * hand, by mdevctl, or of another type): refused, and never removed. */
static void
test_hook_not_owned (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *xml = native_domain (f, MANAGED_32);
    g_autofree char *dev1 = dev_rel (UUID1, NULL);
    const char *const types[] = { "vgpu_sim-32m", "vgpu_sim-16m" };
    for (gsize i = 0; i < G_N_ELEMENTS (types); i++) {
        g_auto (Result) c = { 0 };
        vgpuctl (f, &c, "create", "-t", types[i], "-u", UUID1, NULL);
        g_assert_cmpint (c.status, ==, 0);
        g_unlink (f->log);
        g_auto (Result) p = { 0 };
        hook (f, "prepare", "begin", xml, NULL, &p);
        g_assert_cmpint (p.status, ==, 1);
        assert_one_line_error (&p, "vgpu hook: vGPU " UUID1 " exists but was not created "
                                   "for domain guest");
        g_auto (Result) r = { 0 };
        hook (f, "release", "end", xml, NULL, &r);
        g_assert_cmpint (r.status, ==, 0);
        g_assert_true (exists (f, dev1));
        g_autofree char *log = kernel_log (f);
        g_assert_cmpstr (log, ==, "");
        g_auto (Result) rm = { 0 };
        vgpuctl (f, &rm, "remove", UUID1, NULL);
        g_assert_cmpint (rm.status, ==, 0);
    }
}

/* The domain's vGPU was removed behind our back and created again by other
 * means: the old ownership record no longer applies to it. */
static void
test_hook_stale_record (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *xml = native_domain (f, MANAGED_32);
    g_auto (Result) p = { 0 };
    hook (f, "prepare", "begin", xml, NULL, &p);
    g_assert_cmpint (p.status, ==, 0);
    g_autofree char *record = P (f, "run/vgpu/owners/" UUID1);
    g_assert_true (g_file_test (record, G_FILE_TEST_EXISTS));

    /* echo 1 > remove; echo UUID > create, straight to the (fake) kernel. */
    g_autofree char *rm = P (f, "sys/bus/mdev/devices/" UUID1 "/remove");
    g_autofree char *create = P (f, "sys/class/mdev_bus/" GPU_A
                                    "/mdev_supported_types/vgpu_sim-32m/create");
    /* dd closes its output after writing, as the fake kernel needs (a
     * shell's redirection closes its descriptor before echo writes). */
    g_autofree char *script = g_strdup_printf ("echo 1 | dd of=%s status=none && "
                                               "echo %s | dd of=%s status=none", rm, UUID1,
                                               create);
    const char *sh[] = { "/bin/sh", "-c", script, NULL };
    g_auto (Result) s = { 0 };
    run_full (f, sh, NULL, NULL, &s);
    g_assert_cmpint (s.status, ==, 0);
    g_autofree char *dev1 = dev_rel (UUID1, NULL);
    g_assert_true (exists (f, dev1));

    g_auto (Result) l = { 0 };
    vgpuctl (f, &l, "list", NULL);
    g_assert_cmpint (l.status, ==, 0);
    g_assert_nonnull (strstr (l.out, " unmanaged\n"));
    g_auto (Result) again = { 0 };
    hook (f, "prepare", "begin", xml, NULL, &again);
    g_assert_cmpint (again.status, ==, 1);
    assert_one_line_error (&again, "vgpu hook: vGPU " UUID1 " exists but was not created");
    g_auto (Result) r = { 0 };
    hook (f, "release", "end", xml, NULL, &r);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_true (exists (f, dev1));
}

/* Metadata entries whose hostdev is gone (virt-manager's Remove Hardware,
 * virsh detach-device --config) create nothing. */
static void
test_hook_orphans (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *xml = native_domain (f, MANAGED_32 MANAGED_16);
    /* Cut the native hostdev of UUID1 out of the document. */
    const char *addr = strstr (xml, "<address uuid=\"" UUID1 "\"/>");
    g_assert_nonnull (addr);
    const char *start = g_strrstr_len (xml, addr - xml, "<hostdev");
    const char *end = strstr (addr, "</hostdev>");
    g_assert_nonnull (start);
    g_assert_nonnull (end);
    end += strlen ("</hostdev>");
    g_autofree char *head = g_strndup (xml, start - xml);
    g_autofree char *orphaned = g_strconcat (head, end, NULL);

    g_auto (Result) p = { 0 };
    hook (f, "prepare", "begin", orphaned, NULL, &p);
    g_assert_cmpint (p.status, ==, 0);
    g_autofree char *dev1 = dev_rel (UUID1, NULL);
    g_assert_false (exists (f, dev1));
    g_assert_cmpuint (log_count (f, "create "), ==, 1);     /* the 16m one only */
    g_assert_cmpuint (log_count (f, "create " GPU_A " vgpu_sim-16m "), ==, 1);
    g_auto (Result) r = { 0 };
    hook (f, "release", "end", orphaned, NULL, &r);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_cmpuint (log_count (f, "remove "), ==, 1);
}

/* Attribute names that reach outside vendor/: refused before anything is
 * written, also when they come from the metadata, which the hook trusts no
 * more than the dialect. */
static void
test_attr_escapes (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    static const char *const names[] = {
        "mdev_type/create", "driver/unbind", "subsystem/drivers_autoprobe", "remove", "uevent",
        "power/control", "iommu_group/type", "vendor/../remove", "../remove",
    };
    for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
        g_autofree char *arg = g_strdup_printf ("%s=%s", names[i], UUID2);
        g_auto (Result) c = { 0 };
        vgpuctl (f, &c, "create", "-t", "vgpu_sim-32m", "-u", UUID1, "-a", arg, NULL);
        g_assert_cmpint (c.status, ==, 3);
        assert_one_line_error (&c, "vgpuctl: Invalid attribute name");

        g_autofree char *xml = g_strdup_printf (
            "<domain type='kvm'><name>guest</name><uuid>" DOM_UUID "</uuid>"
            "<metadata><vgpu:devices xmlns:vgpu='" VGPU_NS "'>"
            "<vgpu:device uuid='" UUID1 "' type='vgpu_sim-32m' managed='yes'>"
            "<vgpu:attr name='%s' value='" UUID2 "'/></vgpu:device></vgpu:devices></metadata>"
            "<memory>1048576</memory><os><type>hvm</type></os><devices>"
            "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
            "<address uuid='" UUID1 "'/></source></hostdev></devices></domain>\n", names[i]);
        g_auto (Result) p = { 0 };
        hook (f, "prepare", "begin", xml, NULL, &p);
        g_assert_cmpint (p.status, ==, 1);
        assert_one_line_error (&p, "vgpu hook: ");

        g_autofree char *cb = g_strdup_printf ("{\"mdev_type\":\"vgpu_sim-32m\","
                                               "\"attrs\":[{\"%s\":\"1\"}]}", names[i]);
        g_auto (Result) co = { 0 };
        const char *argv[] = { g_getenv ("VGPU_CALLOUT"), "-t", "vgpu_sim-32m", "-e", "pre",
                               "-a", "define", "-s", "none", "-u", UUID1, "-p", GPU_A, NULL };
        run_full (f, argv, NULL, cb, &co);
        g_assert_cmpint (co.status, ==, 1);
    }
    g_autofree char *log = kernel_log (f);
    g_assert_cmpstr (log, ==, "");

    /* A hostile tree: vendor/ itself, or an attribute in it, is a symbolic
     * link (to the type's create, to the device's remove). Nothing is
     * written through it and the new vGPU is removed again. */
    const char *const trees[] = { "FAKEKERNEL_VENDOR_LINK=1", "FAKEKERNEL_ATTR_LINK=1" };
    const char *const attrs[] = { "vendor/create=" UUID2, "vendor/label=1" };
    for (gsize i = 0; i < G_N_ELEMENTS (trees); i++) {
        g_unlink (f->log);
        const char *env[] = { trees[i], NULL };
        const char *argv[] = { g_getenv ("VGPUCTL"), "create", "-t", "vgpu_sim-32m", "-u",
                               UUID1, "-a", attrs[i], NULL };
        g_auto (Result) c = { 0 };
        run_full (f, argv, env, NULL, &c);
        g_assert_cmpint (c.status, ==, 1);
        assert_one_line_error (&c, "vgpuctl: Could not apply vendor attribute");
        g_autofree char *log2 = kernel_log (f);
        g_assert_cmpstr (log2, ==, "create " GPU_A " vgpu_sim-32m " UUID1 "\n"
                                   "remove " UUID1 "\n");
    }
}

/* Two domains start at once, neither names a GPU, each of two GPUs has one
 * free instance: both start. */
static void
test_hook_concurrent (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    set_available (f, GPU_A, "vgpu_sim-32m", "1");
    set_available (f, GPU_B, "vgpu_sim-32m", "1");
    g_autofree char *x1 = native_domain_for (f, "one", DOM_UUID, ANY_32 (UUID1));
    g_autofree char *x2 = native_domain_for (f, "two", DOM2_UUID, ANY_32 (UUID2));

    g_autoptr (GSubprocessLauncher) l = fake_launcher (
        f, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    const char *a1[] = { g_getenv ("VGPU_HOOK"), "one", "prepare", "begin", "-", NULL };
    const char *a2[] = { g_getenv ("VGPU_HOOK"), "two", "prepare", "begin", "-", NULL };
    g_autoptr (GError) err = NULL;
    g_autoptr (GSubprocess) p1 = g_subprocess_launcher_spawnv (l, a1, &err);
    g_assert_no_error (err);
    g_autoptr (GSubprocess) p2 = g_subprocess_launcher_spawnv (l, a2, &err);
    g_assert_no_error (err);
    g_autofree char *e1 = NULL, *e2 = NULL;
    g_assert_true (g_subprocess_communicate_utf8 (p1, x1, NULL, NULL, &e1, &err));
    g_assert_true (g_subprocess_communicate_utf8 (p2, x2, NULL, NULL, &e2, &err));
    if (g_subprocess_get_exit_status (p1) != 0 || g_subprocess_get_exit_status (p2) != 0)
        g_error ("a concurrent start failed: \"%s\" \"%s\"", e1, e2);
    g_autofree char *on1 = parent_of (f, UUID1);
    g_autofree char *on2 = parent_of (f, UUID2);
    g_assert_cmpstr (on1, !=, on2);
}

/* Another program takes the last instance between the hook's choice and its
 * create: the hook goes on to the next GPU. */
static void
test_hook_fallthrough (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    set_available (f, GPU_A, "vgpu_sim-32m", "1");
    set_available (f, GPU_B, "vgpu_sim-32m", "1");
    g_autofree char *xml = native_domain (f, ANY_32 (UUID1));
    const char *env[] = { "FAKEKERNEL_STEAL=" GPU_A, NULL };
    g_auto (Result) p = { 0 };
    hook (f, "prepare", "begin", xml, env, &p);
    g_assert_cmpint (p.status, ==, 0);
    g_autofree char *log = kernel_log (f);
    g_assert_true (g_str_has_prefix (log, "create " GPU_A " vgpu_sim-32m " UUID1 "\n"
                                          "create " GPU_B " vgpu_sim-32m " UUID1 "\n"));
    g_autofree char *on = parent_of (f, UUID1);
    g_assert_cmpstr (on, ==, GPU_B);

    /* With the GPU named, there is nowhere else to go. */
    g_auto (Result) r = { 0 };
    hook (f, "release", "end", xml, NULL, &r);
    g_assert_cmpint (r.status, ==, 0);
    set_available (f, GPU_A, "vgpu_sim-32m", "1");
    g_autofree char *named = native_domain (f, MANAGED_32);
    g_auto (Result) n = { 0 };
    hook (f, "prepare", "begin", named, env, &n);
    g_assert_cmpint (n.status, ==, 1);
    assert_one_line_error (&n, "vgpu hook: Cannot create vGPU " UUID1);
}

/* While another vgpu program holds the host lock, a start waits for it
 * instead of choosing a GPU at the same time. */
static void
test_hook_waits_for_lock (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *dir = P (f, "run/vgpu");
    g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
    g_autofree char *lock = P (f, "run/vgpu/lock");
    int fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    g_assert_cmpint (fd, >=, 0);
    g_assert_cmpint (flock (fd, LOCK_EX), ==, 0);

    g_autofree char *xml = native_domain (f, MANAGED_32);
    g_autoptr (GSubprocessLauncher) l = fake_launcher (
        f, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    const char *argv[] = { g_getenv ("VGPU_HOOK"), "guest", "prepare", "begin", "-", NULL };
    g_autoptr (GError) err = NULL;
    g_autoptr (GSubprocess) p = g_subprocess_launcher_spawnv (l, argv, &err);
    g_assert_no_error (err);
    g_autoptr (GBytes) in = g_bytes_new (xml, strlen (xml));
    g_autoptr (GOutputStream) pipe = g_object_ref (g_subprocess_get_stdin_pipe (p));
    g_assert_true (g_output_stream_write_all (pipe, xml, strlen (xml), NULL, NULL, &err));
    g_assert_true (g_output_stream_close (pipe, NULL, &err));

    g_usleep (300 * 1000);
    g_autofree char *log = kernel_log (f);
    g_assert_cmpstr (log, ==, "");                  /* nothing while the lock is held */
    g_assert_cmpint (close (fd), ==, 0);
    g_assert_true (g_subprocess_wait (p, NULL, &err));
    g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 0);
    g_autofree char *dev1 = dev_rel (UUID1, NULL);
    g_assert_true (exists (f, dev1));
}

/* A stop never waits without bound: a vGPU that a process holds is
 * reported with that process; a removal the kernel keeps waiting for ends
 * the hook anyway. */
static void
test_hook_remove_bounded (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *xml = native_domain (f, MANAGED_32);
    g_autofree char *dev1 = dev_rel (UUID1, NULL);
    g_auto (Result) p = { 0 };
    hook (f, "prepare", "begin", xml, NULL, &p);
    g_assert_cmpint (p.status, ==, 0);

    /* A process with the vGPU's VFIO group open (as QEMU holds it). */
    g_autofree char *grp_rel = dev_rel (UUID1, "iommu_group");
    g_autofree char *grp_link = P (f, grp_rel);
    g_autofree char *target = g_file_read_link (grp_link, NULL);
    g_autofree char *group = g_path_get_basename (target);
    g_autofree char *node_rel = g_strdup_printf ("dev/vfio/%s", group);
    g_autofree char *node = P (f, node_rel);
    g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_set_stdin_file_path (l, node);
    g_autoptr (GError) err = NULL;
    g_autoptr (GSubprocess) holder = g_subprocess_launcher_spawn (l, &err, "sleep", "60", NULL);
    g_assert_no_error (err);
    g_autofree char *fd0 = g_strdup_printf ("/proc/%s/fd/0",
                                            g_subprocess_get_identifier (holder));
    gboolean running = FALSE;
    for (int i = 0; i < 3000 && !running; i++) {    /* until sleep runs with it */
        g_autofree char *t = g_file_read_link (fd0, NULL);
        g_autofree char *comm = NULL;
        g_autofree char *comm_path = g_strdup_printf ("/proc/%s/comm",
                                                      g_subprocess_get_identifier (holder));
        g_file_get_contents (comm_path, &comm, NULL, NULL);
        running = t && comm && g_str_has_prefix (comm, "sleep");
        if (!running)
            g_usleep (10 * 1000);
    }
    g_assert_true (running);

    g_unlink (f->log);
    g_auto (Result) r = { 0 };
    hook (f, "release", "end", xml, NULL, &r);
    g_assert_cmpint (r.status, ==, 1);
    g_autofree char *who = g_strdup_printf ("is in use by process %s (sleep)",
                                            g_subprocess_get_identifier (holder));
    assert_one_line_error (&r, "vgpu hook: Cannot remove vGPU " UUID1);
    g_assert_nonnull (strstr (r.err, who));
    g_assert_true (exists (f, dev1));
    g_autofree char *log = kernel_log (f);
    g_assert_cmpstr (log, ==, "");
    g_auto (Result) force = { 0 };
    vgpuctl (f, &force, "remove", "--force", UUID1, NULL);
    g_assert_cmpint (force.status, ==, 1);
    g_assert_nonnull (strstr (force.err, who));
    g_subprocess_force_exit (holder);
    g_assert_true (g_subprocess_wait (holder, NULL, &err));

    /* The kernel keeps the remove write waiting (a user we cannot see). */
    const char *hang[] = { "FAKEKERNEL_REMOVE_HANG_MS=3000", "VGPU_TIMEOUT_MS=300", NULL };
    g_auto (Result) h = { 0 };
    hook (f, "release", "end", xml, hang, &h);
    g_assert_cmpint (h.status, ==, 1);
    assert_one_line_error (&h, "vgpu hook: Cannot remove vGPU " UUID1);
    g_assert_nonnull (strstr (h.err, "is still in use 300 ms after its removal was requested"));
    g_assert_true (exists (f, dev1));       /* the hook did not wait for it */
    for (int i = 0; i < 1000 && exists (f, dev1); i++)
        g_usleep (10 * 1000);
    g_assert_false (exists (f, dev1));      /* and the removal completed by itself */
}

/* Operations the hook does not handle end at once, whatever the input:
 * libvirt kills a running domain whose "reconnect" hook fails. */
static void
test_hook_other_ops (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    /* More than the hook would ever read (VGPU_XML_MAX_SIZE), and no XML. */
    gsize big = 9 * 1024 * 1024;
    g_autofree char *huge = g_malloc (big);
    memset (huge, 'x', big);
    g_autofree char *input = g_build_filename (f->tmp, "huge.xml", NULL);
    g_autoptr (GError) err = NULL;
    g_file_set_contents (input, huge, big, &err);
    g_assert_no_error (err);

    const char *const ops[][2] = {
        { "reconnect", "begin" }, { "attach", "begin" }, { "start", "begin" },
        { "started", "begin" }, { "stopped", "end" }, { "migrate", "begin" },
        { "restore", "begin" }, { "prepare", "end" }, { "release", "begin" },
    };
    for (gsize i = 0; i < G_N_ELEMENTS (ops); i++) {
        g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (
            G_SUBPROCESS_FLAGS_STDERR_PIPE);
        g_subprocess_launcher_setenv (l, "VGPU_ROOT", f->root, TRUE);
        g_subprocess_launcher_set_stdin_file_path (l, input);
        g_autoptr (GSubprocess) p = g_subprocess_launcher_spawn (
            l, &err, g_getenv ("VGPU_HOOK"), "guest", ops[i][0], ops[i][1], "-", NULL);
        g_assert_no_error (err);
        g_autofree char *errout = NULL;
        g_assert_true (g_subprocess_communicate_utf8 (p, NULL, NULL, NULL, &errout, &err));
        g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 0);
        g_assert_cmpstr (errout, ==, "");
    }
    /* The operations it does handle refuse such input. */
    g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_subprocess_launcher_setenv (l, "VGPU_ROOT", f->root, TRUE);
    g_subprocess_launcher_set_stdin_file_path (l, input);
    g_autoptr (GSubprocess) p = g_subprocess_launcher_spawn (
        l, &err, g_getenv ("VGPU_HOOK"), "guest", "prepare", "begin", "-", NULL);
    g_assert_no_error (err);
    g_autofree char *errout = NULL;
    g_assert_true (g_subprocess_communicate_utf8 (p, NULL, NULL, NULL, &errout, &err));
    g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 1);
    g_assert_true (g_str_has_prefix (errout, "vgpu hook: The XML of domain guest is larger"));
}

/* vgpuctl list shows who owns what; a managed vGPU is only removed by
 * hand with --force. */
static void
test_list_owners (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *xml = native_domain (f, MANAGED_32);
    g_auto (Result) p = { 0 };
    hook (f, "prepare", "begin", xml, NULL, &p);
    g_assert_cmpint (p.status, ==, 0);
    g_auto (Result) c = { 0 };
    vgpuctl (f, &c, "create", "-t", "vgpu_sim-16m", "-u", UUID2, NULL);
    g_assert_cmpint (c.status, ==, 0);

    g_auto (Result) l = { 0 };
    vgpuctl (f, &l, "list", NULL);
    g_assert_cmpint (l.status, ==, 0);
    g_auto (GStrv) lines = g_strsplit (l.out, "\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, 3);
    g_assert_true (g_str_has_prefix (lines[0], UUID1));
    g_assert_nonnull (strstr (lines[0], " guest "));
    g_assert_true (g_str_has_suffix (lines[0], " managed"));
    g_assert_true (g_str_has_prefix (lines[1], UUID2));
    g_assert_true (g_str_has_suffix (lines[1], " unmanaged"));

    g_auto (Result) j = { 0 };
    vgpuctl (f, &j, "list", "--json", NULL);
    g_assert_cmpint (j.status, ==, 0);
    g_autoptr (JsonParser) parser = json_parser_new ();
    g_autoptr (GError) err = NULL;
    json_parser_load_from_data (parser, j.out, -1, &err);
    g_assert_no_error (err);
    JsonArray *arr = json_node_get_array (json_parser_get_root (parser));
    g_assert_cmpuint (json_array_get_length (arr), ==, 2);
    JsonObject *o1 = json_array_get_object_element (arr, 0);
    g_assert_true (json_object_get_boolean_member (o1, "managed"));
    JsonObject *owner = json_object_get_object_member (o1, "owner");
    g_assert_cmpstr (json_object_get_string_member (owner, "domain_uuid"), ==, DOM_UUID);
    g_assert_cmpstr (json_object_get_string_member (owner, "domain_name"), ==, "guest");
    g_assert_cmpstr (json_object_get_string_member (owner, "created_by"), ==, "libvirt-hook");
    JsonObject *o2 = json_array_get_object_element (arr, 1);
    g_assert_false (json_object_get_boolean_member (o2, "managed"));
    g_assert_true (json_object_get_null_member (o2, "owner"));

    g_auto (Result) rm = { 0 };
    vgpuctl (f, &rm, "remove", UUID1, NULL);
    g_assert_cmpint (rm.status, ==, 1);
    assert_one_line_error (&rm, "vgpuctl: vGPU " UUID1 " belongs to domain guest");
    g_autofree char *dev1 = dev_rel (UUID1, NULL);
    g_assert_true (exists (f, dev1));
    g_auto (Result) force = { 0 };
    vgpuctl (f, &force, "remove", "--force", UUID1, NULL);
    g_assert_cmpint (force.status, ==, 0);
    g_assert_false (exists (f, dev1));
    g_autofree char *record = P (f, "run/vgpu/owners/" UUID1);
    g_assert_false (g_file_test (record, G_FILE_TEST_EXISTS));
}

/* A user other than root may list vGPUs, but not see who owns them. */
static void
test_list_as_user (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    if (getuid () != 0 || g_find_program_in_path ("setpriv") == NULL) {
        g_test_skip ("needs root and setpriv to run vgpuctl as another user");
        return;
    }
    g_autofree char *xml = native_domain (f, MANAGED_32);
    g_auto (Result) p = { 0 };
    hook (f, "prepare", "begin", xml, NULL, &p);
    g_assert_cmpint (p.status, ==, 0);
    g_assert_cmpint (g_chmod (f->tmp, 0755), ==, 0);

    const char *argv[] = { "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           g_getenv ("VGPUCTL"), "list", NULL };
    g_auto (Result) l = { 0 };
    run_full (f, argv, NULL, NULL, &l);
    g_assert_cmpint (l.status, ==, 0);
    g_assert_true (g_str_has_prefix (l.out, UUID1));
    g_assert_true (g_str_has_suffix (l.out, " ?\n"));
    g_assert_cmpstr (l.err, ==, "Owners are only shown to root: run vgpuctl list as root.\n");
}

/* ---------------------------------------------------- mdevctl call-out */

static void
callout (Fixture *f, const char *event, const char *action, const char *parent,
         const char *type, const char *uuid, const char *json, Result *r)
{
    const char *argv[] = { g_getenv ("VGPU_CALLOUT"), "-t", type, "-e", event, "-a", action,
                           "-s", "none", "-u", uuid, "-p", parent, NULL };
    run_full (f, argv, NULL, json, r);
}

static void
test_callout (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    const char *good = "{\"mdev_type\":\"vgpu_sim-32m\",\"start\":\"manual\","
                       "\"attrs\":[{\"vendor/label\":\"web\"}]}";
    g_auto (Result) mine = { 0 };
    callout (f, "pre", "start", GPU_A, "vgpu_sim-32m", UUID1, good, &mine);
    g_assert_cmpint (mine.status, ==, 0);

    g_auto (Result) other = { 0 };
    callout (f, "pre", "start", GPU_OTHER, "mtty-2", UUID1, "{}", &other);
    g_assert_cmpint (other.status, ==, 2);
    g_auto (Result) nosuch = { 0 };
    callout (f, "pre", "start", GPU_A, "vgpu_sim-1g", UUID1, "{}", &nosuch);
    g_assert_cmpint (nosuch.status, ==, 2);

    g_auto (Result) badname = { 0 };
    callout (f, "pre", "define", GPU_A, "vgpu_sim-32m", UUID1,
             "{\"mdev_type\":\"vgpu_sim-32m\",\"attrs\":[{\"../../remove\":\"1\"}]}", &badname);
    g_assert_cmpint (badname.status, ==, 1);
    assert_one_line_error (&badname, "vgpu: ");
    g_auto (Result) badval = { 0 };
    callout (f, "pre", "start", GPU_A, "vgpu_sim-32m", UUID1,
             "{\"attrs\":[{\"vendor/label\":\"a\\u0001b\"}]}", &badval);
    g_assert_cmpint (badval.status, ==, 1);
    g_auto (Result) num = { 0 };
    callout (f, "pre", "start", GPU_A, "vgpu_sim-32m", UUID1,
             "{\"attrs\":[{\"vendor/label\":3}]}", &num);
    g_assert_cmpint (num.status, ==, 1);
    g_auto (Result) junk = { 0 };
    callout (f, "pre", "start", GPU_A, "vgpu_sim-32m", UUID1, "{attrs", &junk);
    g_assert_cmpint (junk.status, ==, 1);
    assert_one_line_error (&junk, "vgpu: ");
    g_auto (Result) post = { 0 };
    callout (f, "post", "start", GPU_A, "vgpu_sim-32m", UUID1, "{attrs", &post);
    g_assert_cmpint (post.status, ==, 0);

    /* get attributes: read back from the running vGPU. */
    g_auto (Result) gone = { 0 };
    callout (f, "get", "attributes", GPU_A, "vgpu_sim-32m", UUID1, NULL, &gone);
    g_assert_cmpint (gone.status, ==, 1);
    g_auto (Result) c = { 0 };
    vgpuctl (f, &c, "create", "-t", "vgpu_sim-32m", "-u", UUID1, "-a", "vendor/label=web",
             NULL);
    g_assert_cmpint (c.status, ==, 0);
    g_auto (Result) get_r = { 0 };
    callout (f, "get", "attributes", GPU_A, "vgpu_sim-32m", UUID1, NULL, &get_r);
    g_assert_cmpint (get_r.status, ==, 0);
    g_assert_cmpstr (get_r.out, ==, "[{\"vendor/label\":\"web\"}]\n");
}

/* mdevctl >= 1.3's callout versioning: "get capabilities" with what mdevctl
 * provides on standard input (its V_2 list, mdevctl's src/callouts.rs). */
#define MDEVCTL_PROVIDES \
    "{\"provides\":{\"version\":2,\"actions\":[\"start\",\"stop\",\"define\"," \
    "\"undefine\",\"modify\",\"attributes\",\"capabilities\"],\"events\":[\"pre\"," \
    "\"post\",\"notify\",\"get\",\"live\"]}}"

static void
test_callout_capabilities (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_auto (Result) caps = { 0 };
    callout (f, "get", "capabilities", GPU_A, "vgpu_sim-32m", UUID1, MDEVCTL_PROVIDES, &caps);
    g_assert_cmpint (caps.status, ==, 0);
    g_assert_cmpstr (caps.err, ==, "");
    /* Every action mdevctl sends us, and every call-out event but notify. */
    g_assert_cmpstr (caps.out, ==,
                     "{\"supports\":{\"version\":2,\"actions\":[\"start\",\"stop\","
                     "\"define\",\"undefine\",\"modify\",\"attributes\",\"capabilities\"],"
                     "\"events\":[\"pre\",\"post\",\"get\",\"live\"]}}\n");

    /* Only what mdevctl offers (a version 1 list: no live, no capabilities). */
    g_auto (Result) v1 = { 0 };
    callout (f, "get", "capabilities", GPU_A, "vgpu_sim-32m", UUID1,
             "{\"provides\":{\"version\":1,\"actions\":[\"start\",\"stop\",\"define\","
             "\"undefine\",\"modify\",\"attributes\",\"resize\"],\"events\":[\"pre\","
             "\"post\",\"notify\",\"get\"]}}", &v1);
    g_assert_cmpint (v1.status, ==, 0);
    g_assert_cmpstr (v1.out, ==,
                     "{\"supports\":{\"version\":1,\"actions\":[\"start\",\"stop\","
                     "\"define\",\"undefine\",\"modify\",\"attributes\"],"
                     "\"events\":[\"pre\",\"post\",\"get\"]}}\n");

    /* Not our type: mdevctl asks the next call-out. */
    g_auto (Result) other = { 0 };
    callout (f, "get", "capabilities", GPU_OTHER, "mtty-2", UUID1, MDEVCTL_PROVIDES, &other);
    g_assert_cmpint (other.status, ==, 2);
    g_assert_cmpstr (other.out, ==, "");

    /* A query we cannot read: no answer, one line. */
    const char *bad[] = { "", "[]", "{\"provides\":{}}", "{\"provides\":{\"version\":\"2\","
                          "\"actions\":[],\"events\":[]}}", "{provides" };
    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
        g_auto (Result) r = { 0 };
        callout (f, "get", "capabilities", GPU_A, "vgpu_sim-32m", UUID1, bad[i], &r);
        g_assert_cmpint (r.status, ==, 1);
        g_assert_cmpstr (r.out, ==, "");
        assert_one_line_error (&r, "vgpu: ");
    }
}

/* mdevctl modify --live: the new attributes go to the running vGPU. */
static void
test_callout_live (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    const char *cfg = "{\"mdev_type\":\"vgpu_sim-32m\",\"start\":\"manual\","
                      "\"attrs\":[{\"vendor/label\":\"db\"}]}";
    /* Not running: nothing to modify live. */
    g_auto (Result) absent = { 0 };
    callout (f, "live", "modify", GPU_A, "vgpu_sim-32m", UUID1, cfg, &absent);
    g_assert_cmpint (absent.status, ==, 1);
    assert_one_line_error (&absent, "vgpu: ");

    g_auto (Result) c = { 0 };
    vgpuctl (f, &c, "create", "-t", "vgpu_sim-32m", "-u", UUID1, "-a", "vendor/label=web",
             NULL);
    g_assert_cmpint (c.status, ==, 0);
    g_auto (Result) live = { 0 };
    callout (f, "live", "modify", GPU_A, "vgpu_sim-32m", UUID1, cfg, &live);
    g_assert_cmpint (live.status, ==, 0);
    g_assert_cmpstr (live.err, ==, "");
    g_auto (Result) get_r = { 0 };
    callout (f, "get", "attributes", GPU_A, "vgpu_sim-32m", UUID1, NULL, &get_r);
    g_assert_cmpstr (get_r.out, ==, "[{\"vendor/label\":\"db\"}]\n");

    /* Checked as before a start: nothing is written. */
    g_auto (Result) bad = { 0 };
    callout (f, "live", "modify", GPU_A, "vgpu_sim-32m", UUID1,
             "{\"attrs\":[{\"vendor/label\":\"x\"},{\"../../remove\":\"1\"}]}", &bad);
    g_assert_cmpint (bad.status, ==, 1);
    assert_one_line_error (&bad, "vgpu: ");
    g_auto (Result) still = { 0 };
    callout (f, "get", "attributes", GPU_A, "vgpu_sim-32m", UUID1, NULL, &still);
    g_assert_cmpstr (still.out, ==, "[{\"vendor/label\":\"db\"}]\n");

    /* An attribute the type does not have. */
    g_auto (Result) nosuch = { 0 };
    callout (f, "live", "modify", GPU_A, "vgpu_sim-32m", UUID1,
             "{\"attrs\":[{\"vendor/nosuch\":\"1\"}]}", &nosuch);
    g_assert_cmpint (nosuch.status, ==, 1);
    assert_one_line_error (&nosuch, "vgpu: ");

    /* Opened by a VM: the core refuses, the call-out says what to do. */
    g_setenv ("FAKEKERNEL_ATTR_BUSY", "1", TRUE);
    g_auto (Result) busy = { 0 };
    callout (f, "live", "modify", GPU_A, "vgpu_sim-32m", UUID1, cfg, &busy);
    g_unsetenv ("FAKEKERNEL_ATTR_BUSY");
    g_assert_cmpint (busy.status, ==, 1);
    assert_one_line_error (&busy, "vgpu: ");
    g_assert_nonnull (strstr (busy.err, "nodedev-update --config"));

    /* Other live actions are declined. */
    g_auto (Result) other = { 0 };
    callout (f, "live", "start", GPU_A, "vgpu_sim-32m", UUID1, cfg, &other);
    g_assert_cmpint (other.status, ==, 1);
    assert_one_line_error (&other, "vgpu: ");
}

/* ---------------------------------------------------------- messages */

/* Builds the locale NAME (e.g. "de_DE") in UTF-8 into a private directory
 * with localedef from the "locales" package's sources; returns "LOCPATH=..."
 * for the environment, or NULL after marking the test skipped. */
static char *
private_locale (Fixture *f, const char *name)
{
    g_autofree char *src = g_build_filename ("/usr/share/i18n/locales", name, NULL);
    if (!g_file_test (src, G_FILE_TEST_EXISTS)) {
        g_autofree char *msg = g_strdup_printf ("no locale sources (%s): install the "
                                                "'locales' package", src);
        g_test_skip (msg);
        return NULL;
    }
    g_autofree char *locpath = g_build_filename (f->tmp, "locales", NULL);
    g_assert_cmpint (g_mkdir_with_parents (locpath, 0755), ==, 0);
    g_autofree char *full = g_strdup_printf ("%s.UTF-8", name);
    g_autofree char *out = g_build_filename (locpath, full, NULL);
    const char *def[] = { "localedef", "-i", name, "-f", "UTF-8", out, NULL };
    g_auto (Result) d = { 0 };
    run_full (f, def, (const char *const[]) { "LD_PRELOAD", NULL }, NULL, &d);
    g_assert_cmpint (d.status, ==, 0);
    return g_strdup_printf ("LOCPATH=%s", locpath);
}

/* vgpuctl speaks German with LANGUAGE=de over an English locale. (Not over
 * C.UTF-8: glibc 2.41 ignores LANGUAGE there, as it always did for C.) */
static void
test_german (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *lp = private_locale (f, "en_US");
    if (!lp)
        return;
    const char *argv[] = { g_getenv ("VGPUCTL"), "frobnicate", NULL };
    g_autofree char *localedir = g_strdup_printf ("VGPU_LOCALEDIR=%s",
                                                  g_getenv ("VGPU_LOCALEDIR"));
    const char *env[] = { "LC_ALL", "LC_MESSAGES", "LANG=en_US.UTF-8", "LANGUAGE=de", lp,
                          localedir, NULL };
    g_auto (Result) r = { 0 };
    run_full (f, argv, env, NULL, &r);
    g_assert_cmpint (r.status, ==, 2);
    g_assert_cmpstr (r.err, ==, "vgpuctl: Unbekanntes Verb „frobnicate“; „vgpuctl --help“ "
                                "zeigt die Liste der Verben.\n");

    const char *help_argv[] = { g_getenv ("VGPUCTL"), "--help", NULL };
    g_auto (Result) h = { 0 };
    run_full (f, help_argv, env, NULL, &h);
    g_assert_cmpint (h.status, ==, 0);
    g_assert_nonnull (strstr (h.out, "Rückgabewert:"));
}

/* ... and with LANG=de_DE.UTF-8 alone. */
static void
test_german_locale (Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *lp = private_locale (f, "de_DE");
    if (!lp)
        return;
    const char *argv[] = { g_getenv ("VGPUCTL"), "remove", NULL };
    g_autofree char *localedir = g_strdup_printf ("VGPU_LOCALEDIR=%s",
                                                  g_getenv ("VGPU_LOCALEDIR"));
    const char *env[] = { "LC_ALL", "LC_MESSAGES", "LANGUAGE", "LANG=de_DE.UTF-8", lp,
                          localedir, NULL };
    g_auto (Result) r = { 0 };
    run_full (f, argv, env, NULL, &r);
    g_assert_cmpint (r.status, ==, 2);
    g_assert_true (g_str_has_prefix (r.err, "vgpuctl: „vgpuctl remove“ erwartet"));
}

int
main (int argc, char **argv)
{
    g_test_init (&argc, &argv, NULL);
    /* A program that exits without reading its input must not kill us. */
    signal (SIGPIPE, SIG_IGN);
    static const char *const needed[] = {
        "VGPUCTL", "VGPU_HOOK", "VGPU_CALLOUT", "FAKEKERNEL", "VGPU_SCHEMA_DIR",
        "VGPU_SRCDIR", "VGPU_LOCALEDIR",
    };
    for (gsize i = 0; i < G_N_ELEMENTS (needed); i++)
        if (g_getenv (needed[i]) == NULL)
            g_error ("%s is not set; run this test through meson", needed[i]);

#define ADD(name, fn) \
    g_test_add (name, Fixture, NULL, setup, fn, teardown)
    ADD ("/vgpuctl/help", test_help);
    ADD ("/vgpuctl/types", test_types);
    ADD ("/vgpuctl/create-list-remove", test_create_list_remove);
    ADD ("/vgpuctl/create-failures", test_create_failures);
    ADD ("/vgpuctl/qemu-args-handoff", test_qemu_args_handoff);
    ADD ("/vgpuctl/validate", test_validate);
    ADD ("/vgpuctl/translate", test_translate);
    ADD ("/vgpuctl/modules-missing", test_modules_missing);
    ADD ("/vgpuctl/define", test_define);
    ADD ("/vgpuctl/define-checks", test_define_checks);
    ADD ("/vgpuctl/attach-undo", test_attach_undo);
    ADD ("/vgpuctl/detach-unknown", test_detach_unknown);
    ADD ("/vgpuctl/metadata-lookup", test_metadata_lookup);
    ADD ("/hook/lifecycle", test_hook_lifecycle);
    ADD ("/hook/unmanaged", test_hook_unmanaged);
    ADD ("/hook/undo", test_hook_undo);
    ADD ("/hook/copied-domain", test_hook_copied_domain);
    ADD ("/hook/not-owned", test_hook_not_owned);
    ADD ("/hook/stale-record", test_hook_stale_record);
    ADD ("/hook/orphans", test_hook_orphans);
    ADD ("/hook/concurrent", test_hook_concurrent);
    ADD ("/hook/fallthrough", test_hook_fallthrough);
    ADD ("/hook/waits-for-lock", test_hook_waits_for_lock);
    ADD ("/hook/remove-bounded", test_hook_remove_bounded);
    ADD ("/hook/other-ops", test_hook_other_ops);
    ADD ("/vgpuctl/attr-escapes", test_attr_escapes);
    ADD ("/vgpuctl/list-owners", test_list_owners);
    ADD ("/vgpuctl/list-as-user", test_list_as_user);
    ADD ("/callout/events", test_callout);
    ADD ("/callout/capabilities", test_callout_capabilities);
    ADD ("/callout/live", test_callout_live);
    ADD ("/i18n/german-language", test_german);
    ADD ("/i18n/german-locale", test_german_locale);
    return g_test_run ();
}
