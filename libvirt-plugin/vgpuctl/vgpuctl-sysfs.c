/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vgpuctl verbs that act on this host's vGPUs through libvgpu's sysfs layer:
 * list, types, create, remove, qemu-args, handoff.
 */
#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "vgpuctl.h"

static void
print_json (JsonBuilder *builder)
{
    g_autoptr (JsonNode) root = json_builder_get_root (builder);
    g_autoptr (JsonGenerator) gen = json_generator_new ();
    json_generator_set_pretty (gen, TRUE);
    json_generator_set_root (gen, root);
    g_autofree char *out = json_generator_to_data (gen, NULL);
    printf ("%s\n", out);
}

static void
json_add_string_or_null (JsonBuilder *b, const char *member, const char *value)
{
    json_builder_set_member_name (b, member);
    if (value)
        json_builder_add_string_value (b, value);
    else
        json_builder_add_null_value (b);
}

/* ------------------------------------------------------------------ list */

/* "domain (uuid)" of an owner record, or "-". */
static char *
owner_text (const VgpuOwner *o)
{
    if (o == NULL)
        return g_strdup ("-");
    return g_strdup_printf ("%s", o->domain_name && *o->domain_name ? o->domain_name
                                                                     : o->domain_uuid);
}

int
vgpuctl_cmd_list (const VgpuctlVerb *verb, int argc, char **argv)
{
    gboolean json = FALSE;
    const GOptionEntry entries[] = {
        { "json", 'j', 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
        { NULL }
    };
    if (!vgpuctl_parse (verb, _("Columns: UUID, type, parent GPU, bound driver, IOMMU group, "
                                "the domain that owns the vGPU and whether it is managed "
                                "(created for that domain and removed when it stops; an "
                                "unmanaged vGPU has no owner and stays until it is removed)."),
                        entries, &argc, &argv, 0, 0))
        return VGPUCTL_EXIT_USAGE;

    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) mdevs = vgpu_list_mdevs (&error);
    if (mdevs == NULL)
        return vgpuctl_report (error);
    g_autoptr (GPtrArray) owners = g_ptr_array_new_with_free_func ((GDestroyNotify) vgpu_owner_free);
    gboolean owners_hidden = FALSE;    /* the records are root's */
    for (guint i = 0; i < mdevs->len; i++) {
        const VgpuMdev *m = mdevs->pdata[i];
        VgpuOwner *o = vgpu_owner_get (m->uuid, &error);
        if (g_error_matches (error, VGPU_ERROR, VGPU_ERROR_PERMISSION)) {
            owners_hidden = TRUE;
            g_clear_error (&error);
        }
        if (error)
            return vgpuctl_report (error);
        g_ptr_array_add (owners, o);
    }
    if (owners_hidden)
        g_printerr ("%s\n", _("Owners are only shown to root: run vgpuctl list as root."));

    if (json) {
        g_autoptr (JsonBuilder) b = json_builder_new ();
        json_builder_begin_array (b);
        for (guint i = 0; i < mdevs->len; i++) {
            const VgpuMdev *m = mdevs->pdata[i];
            const VgpuOwner *o = owners->pdata[i];
            json_builder_begin_object (b);
            json_add_string_or_null (b, "uuid", m->uuid);
            json_add_string_or_null (b, "type", m->type);
            json_add_string_or_null (b, "parent", m->parent);
            json_add_string_or_null (b, "driver", m->driver);
            json_builder_set_member_name (b, "iommu_group");
            if (m->iommu_group >= 0)
                json_builder_add_int_value (b, m->iommu_group);
            else
                json_builder_add_null_value (b);
            json_builder_set_member_name (b, "managed");
            if (owners_hidden)
                json_builder_add_null_value (b);
            else
                json_builder_add_boolean_value (b, o != NULL);
            json_builder_set_member_name (b, "owner");
            if (o) {
                json_builder_begin_object (b);
                json_add_string_or_null (b, "domain_uuid", o->domain_uuid);
                json_add_string_or_null (b, "domain_name", o->domain_name);
                json_add_string_or_null (b, "created_by", o->created_by);
                json_builder_set_member_name (b, "created");
                json_builder_add_int_value (b, o->created);
                json_builder_end_object (b);
            } else {
                json_builder_add_null_value (b);
            }
            json_builder_end_object (b);
        }
        json_builder_end_array (b);
        print_json (b);
        return VGPUCTL_EXIT_OK;
    }

    for (guint i = 0; i < mdevs->len; i++) {
        const VgpuMdev *m = mdevs->pdata[i];
        const VgpuOwner *o = owners->pdata[i];
        g_autofree char *group = m->iommu_group >= 0 ?
            g_strdup_printf ("%d", m->iommu_group) : g_strdup ("-");
        g_autofree char *owner = owners_hidden ? g_strdup ("?") : owner_text (o);
        printf ("%s  %-20s %-14s %-10s %-5s %-20s %s\n", m->uuid, m->type ? m->type : "-",
                m->parent ? m->parent : "-", m->driver ? m->driver : "-", group, owner,
                /* TRANSLATORS: the "managed" column of vgpuctl list. */
                owners_hidden ? "?" : o ? _("managed") : _("unmanaged"));
    }
    return VGPUCTL_EXIT_OK;
}

/* ----------------------------------------------------------------- types */

static void
json_add_type (JsonBuilder *b, const VgpuType *t)
{
    json_builder_begin_object (b);
    json_add_string_or_null (b, "id", t->id);
    json_add_string_or_null (b, "name", t->name);
    json_add_string_or_null (b, "description", t->description);
    json_builder_set_member_name (b, "fields");
    json_builder_begin_object (b);
    for (guint i = 0; t->fields && i < t->fields->len; i++) {
        const VgpuField *f = t->fields->pdata[i];
        json_add_string_or_null (b, f->key, f->value);
    }
    json_builder_end_object (b);
    json_add_string_or_null (b, "device_api", t->device_api);
    json_builder_set_member_name (b, "available_instances");
    if (t->available >= 0)
        json_builder_add_int_value (b, t->available);
    else
        json_builder_add_null_value (b);
    json_builder_set_member_name (b, "devices");
    json_builder_begin_array (b);
    for (guint i = 0; t->devices && i < t->devices->len; i++)
        json_builder_add_string_value (b, t->devices->pdata[i]);
    json_builder_end_array (b);
    json_builder_end_object (b);
}

static void
print_gpu (const VgpuGpu *g)
{
    printf ("%s (%s)\n", g->name, g->nodedev ? g->nodedev : "-");
    for (guint i = 0; i < g->types->len; i++) {
        const VgpuType *t = g->types->pdata[i];
        g_autofree char *avail = t->available >= 0 ?
            g_strdup_printf ("%" G_GINT64_FORMAT, t->available) : g_strdup ("?");
        /* TRANSLATORS: one vGPU type: its id, free instances, then its name. */
        printf (_("  %1$-24s free %2$-4s %3$s\n"), t->id, avail, t->name ? t->name : "");
        if (t->description)
            printf ("  %-24s %s\n", "", t->description);
    }
}

int
vgpuctl_cmd_types (const VgpuctlVerb *verb, int argc, char **argv)
{
    gboolean json = FALSE;
    const GOptionEntry entries[] = {
        { "json", 'j', 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
        { NULL }
    };
    if (!vgpuctl_parse (verb, _("GPU is a PCI address (0000:00:05.0) or a libvirt node device "
                                "name (pci_0000_00_05_0); without it, every GPU is listed."),
                        entries, &argc, &argv, 0, 1))
        return VGPUCTL_EXIT_USAGE;

    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) gpus = NULL;
    if (argc == 2) {
        VgpuGpu *g = vgpu_get_gpu (argv[1], &error);
        if (g == NULL)
            return vgpuctl_report (error);
        gpus = g_ptr_array_new_with_free_func ((GDestroyNotify) vgpu_gpu_free);
        g_ptr_array_add (gpus, g);
    } else {
        gpus = vgpu_list_gpus (&error);
        if (gpus == NULL)
            return vgpuctl_report (error);
    }

    if (json) {
        g_autoptr (JsonBuilder) b = json_builder_new ();
        json_builder_begin_array (b);
        for (guint i = 0; i < gpus->len; i++) {
            const VgpuGpu *g = gpus->pdata[i];
            json_builder_begin_object (b);
            json_add_string_or_null (b, "gpu", g->name);
            json_add_string_or_null (b, "nodedev", g->nodedev);
            json_builder_set_member_name (b, "types");
            json_builder_begin_array (b);
            for (guint j = 0; j < g->types->len; j++)
                json_add_type (b, g->types->pdata[j]);
            json_builder_end_array (b);
            json_builder_end_object (b);
        }
        json_builder_end_array (b);
        print_json (b);
        return VGPUCTL_EXIT_OK;
    }

    if (gpus->len == 0) {
        /* Not an error: report it on stderr and keep stdout empty for scripts. */
        g_printerr ("%s\n", _("No GPU offers vGPU types on this host; load the GPU's vGPU "
                              "driver (e.g. vgpu_sim) first."));
        return VGPUCTL_EXIT_OK;
    }
    for (guint i = 0; i < gpus->len; i++)
        print_gpu (gpus->pdata[i]);
    return VGPUCTL_EXIT_OK;
}

/* ---------------------------------------------------------------- create */

int
vgpuctl_cmd_create (const VgpuctlVerb *verb, int argc, char **argv)
{
    g_autofree char *type = NULL, *parent = NULL, *uuid = NULL;
    g_auto (GStrv) attr_args = NULL;
    int timeout = -1;
    const GOptionEntry entries[] = {
        { "type", 't', 0, G_OPTION_ARG_STRING, &type,
          N_("vGPU type id, e.g. vgpu_sim-32m (required; see 'vgpuctl types')"), N_("TYPE") },
        { "parent", 'p', 0, G_OPTION_ARG_STRING, &parent,
          N_("GPU to create it on (PCI address or node device name); default: the first "
             "GPU with a free instance"), N_("GPU") },
        { "uuid", 'u', 0, G_OPTION_ARG_STRING, &uuid,
          N_("UUID of the new vGPU; default: a random one"), N_("UUID") },
        { "attr", 'a', 0, G_OPTION_ARG_STRING_ARRAY, &attr_args,
          N_("Vendor attribute written after creation, in order (repeatable)"),
          N_("NAME=VALUE") },
        { "timeout", 'w', 0, G_OPTION_ARG_INT, &timeout,
          N_("Seconds to wait until the vGPU is bound to its driver (0: do not wait; "
             "default 10)"), N_("SECONDS") },
        { NULL }
    };
    if (!vgpuctl_parse (verb, _("Prints the UUID of the new vGPU. If anything fails after "
                                "the vGPU appeared, it is removed again."),
                        entries, &argc, &argv, 0, 0))
        return VGPUCTL_EXIT_USAGE;
    if (type == NULL) {
        vgpuctl_error (_("The option --type is required; run 'vgpuctl types' to see the "
                         "vGPU types of this host."));
        return VGPUCTL_EXIT_USAGE;
    }

    g_autoptr (GPtrArray) attrs = g_ptr_array_new_with_free_func ((GDestroyNotify) vgpu_attr_free);
    for (char **a = attr_args; a && *a; a++) {
        const char *eq = strchr (*a, '=');
        if (eq == NULL || eq == *a) {
            vgpuctl_error (_("Vendor attribute '%1$s' is not of the form NAME=VALUE; write "
                             "e.g. --attr vendor/label=web."), *a);
            return VGPUCTL_EXIT_USAGE;
        }
        g_autofree char *name = g_strndup (*a, eq - *a);
        g_ptr_array_add (attrs, vgpu_attr_new (name, eq + 1));
    }

    g_autofree char *random_uuid = uuid ? NULL : g_uuid_string_random ();
    g_autofree char *used_parent = NULL;
    g_autoptr (GError) error = NULL;
    if (!vgpu_create (parent, type, uuid ? uuid : random_uuid, attrs,
                      vgpuctl_timeout_ms (timeout), &used_parent, &error))
        return vgpuctl_report (error);

    g_autofree char *lower = g_ascii_strdown (uuid ? uuid : random_uuid, -1);
    printf ("%s\n", lower);
    g_printerr (_("Created vGPU %1$s of type %2$s on GPU %3$s.\n"), lower, type, used_parent);
    return VGPUCTL_EXIT_OK;
}

/* ---------------------------------------------------------------- remove */

int
vgpuctl_cmd_remove (const VgpuctlVerb *verb, int argc, char **argv)
{
    int timeout = -1;
    gboolean force = FALSE;
    const GOptionEntry entries[] = {
        { "timeout", 'w', 0, G_OPTION_ARG_INT, &timeout,
          N_("Seconds to wait for the kernel to remove it (default 10)"), N_("SECONDS") },
        { "force", 'f', 0, G_OPTION_ARG_NONE, &force,
          N_("Also remove a managed vGPU that a domain owns"), NULL },
        { NULL }
    };
    if (!vgpuctl_parse (verb, _("A vGPU that a process (a guest's QEMU) holds open is not "
                                "removed; the error names the process. A managed vGPU is "
                                "removed when its domain stops; removing it earlier needs "
                                "--force."),
                        entries, &argc, &argv, 1, 1))
        return VGPUCTL_EXIT_USAGE;

    g_autofree char *uuid = g_ascii_strdown (argv[1], -1);    /* sysfs spelling */
    g_autoptr (GError) error = NULL;
    if (!vgpu_name_is_valid (VGPU_NAME_UUID, uuid, &error))
        return vgpuctl_report (error);
    g_autoptr (VgpuLock) lock = vgpu_lock_host (vgpuctl_timeout_ms (-1), &error);
    if (lock == NULL)
        return vgpuctl_report (error);
    g_autoptr (VgpuOwner) o = vgpu_owner_get (uuid, &error);
    if (error)
        return vgpuctl_report (error);
    if (o && !force) {
        vgpuctl_error (_("vGPU %1$s belongs to domain %2$s, which removes it when it stops; "
                         "detach it from the domain, or use --force."),
                       uuid, o->domain_name && *o->domain_name ? o->domain_name
                                                              : o->domain_uuid);
        return VGPUCTL_EXIT_FAILED;
    }
    if (!vgpu_remove (uuid, vgpuctl_timeout_ms (timeout), &error))
        return vgpuctl_report (error);
    g_printerr (_("Removed vGPU %1$s.\n"), uuid);
    return VGPUCTL_EXIT_OK;
}

/* ------------------------------------------------------------- qemu-args */

int
vgpuctl_cmd_qemu_args (const VgpuctlVerb *verb, int argc, char **argv)
{
    gboolean display = FALSE;
    g_autofree char *id = NULL;
    const GOptionEntry entries[] = {
        { "display", 'd', 0, G_OPTION_ARG_NONE, &display,
          N_("Show the vGPU's screen in QEMU's display (display=on)"), NULL },
        { "id", 'i', 0, G_OPTION_ARG_STRING, &id, N_("QEMU device id"), N_("ID") },
        { NULL }
    };
    if (!vgpuctl_parse (verb, _("Prints one QEMU option per line; the vGPU must exist. For an "
                                "unprivileged QEMU, run 'vgpuctl handoff' first."),
                        entries, &argc, &argv, 1, 1))
        return VGPUCTL_EXIT_USAGE;

    g_autofree char *uuid = g_ascii_strdown (argv[1], -1);    /* sysfs spelling */
    g_autoptr (GError) error = NULL;
    g_autoptr (VgpuMdev) m = vgpu_get_mdev (uuid, &error);
    if (m == NULL)
        return vgpuctl_report (error);
    if (id && !vgpu_name_is_valid (VGPU_NAME_TYPE, id, NULL)) {
        vgpuctl_error (_("'%1$s' is not usable as a QEMU device id; use letters, digits, "
                         "'-', '_' and '.'."), id);
        return VGPUCTL_EXIT_USAGE;
    }

    /* QEMU runs on the real root; VGPU_ROOT only relocates it for tests. */
    g_autofree char *abs = g_strdup_printf ("/sys/bus/mdev/devices/%s", m->uuid);
    g_autofree char *sysfsdev = vgpu_root_path (abs);
    GString *dev = g_string_new ("vfio-pci,sysfsdev=");
    g_string_append (dev, sysfsdev);
    if (display)
        g_string_append (dev, ",display=on");
    if (id)
        g_string_append_printf (dev, ",id=%s", id);
    printf ("-device\n%s\n", dev->str);
    g_string_free (dev, TRUE);
    return VGPUCTL_EXIT_OK;
}

/* --------------------------------------------------------------- handoff */

/* A user name, or a number (which need not be in the password database:
 * QEMU may run as a bare uid). */
static gboolean
lookup_user (const char *user, uid_t *uid)
{
    struct passwd *pw = getpwnam (user);
    if (pw) {
        *uid = pw->pw_uid;
        return TRUE;
    }
    guint64 n;
    if (g_ascii_string_to_unsigned (user, 10, 0, G_MAXINT32, &n, NULL)) {
        *uid = (uid_t) n;
        return TRUE;
    }
    return FALSE;
}

int
vgpuctl_cmd_handoff (const VgpuctlVerb *verb, int argc, char **argv)
{
    g_autofree char *user = NULL;
    const GOptionEntry entries[] = {
        { "user", 'U', 0, G_OPTION_ARG_STRING, &user,
          N_("User (name or number) that will run QEMU (required)"), N_("USER") },
        { NULL }
    };
    if (!vgpuctl_parse (verb, _("Checks that the vGPU's IOMMU group is viable, then makes its "
                                "VFIO group node (/dev/vfio/N) belong to USER. Nothing is "
                                "changed when the group is not viable."),
                        entries, &argc, &argv, 1, 1))
        return VGPUCTL_EXIT_USAGE;
    if (user == NULL) {
        vgpuctl_error (_("The option --user is required: name the user that will run QEMU."));
        return VGPUCTL_EXIT_USAGE;
    }
    uid_t uid;
    if (!lookup_user (user, &uid)) {
        vgpuctl_error (_("There is no user '%1$s'; give an existing user name or number."),
                       user);
        return VGPUCTL_EXIT_FAILED;
    }

    g_autofree char *uuid = g_ascii_strdown (argv[1], -1);    /* sysfs spelling */
    g_autoptr (GError) error = NULL;
    int group = vgpu_iommu_group (uuid, &error);
    if (group < 0)
        return vgpuctl_report (error);
    if (!vgpu_iommu_group_viable (group, &error))
        return vgpuctl_report (error);
    g_autofree char *node = vgpu_vfio_group_path (uuid, &error);
    if (node == NULL)
        return vgpuctl_report (error);

    /* Owner USER, mode 0600: only that user (and root) may open it. */
    if (chown (node, uid, (gid_t) -1) < 0) {
        int e = errno;
        vgpuctl_error (_("Cannot give %1$s to user %2$s: %3$s; run vgpuctl as root."),
                       node, user, g_strerror (e));
        return VGPUCTL_EXIT_FAILED;
    }
    if (chmod (node, 0600) < 0) {
        int e = errno;
        vgpuctl_error (_("Cannot set the mode of %1$s: %2$s; run vgpuctl as root."),
                       node, g_strerror (e));
        return VGPUCTL_EXIT_FAILED;
    }
    printf (_("IOMMU group %1$d of vGPU %2$s is viable; %3$s now belongs to user %4$s.\n"),
            group, uuid, node, user);
    return VGPUCTL_EXIT_OK;
}
