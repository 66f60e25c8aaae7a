/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vgpuctl verbs on documents: domxml-to-native, domxml-from-native,
 * validate. The translation and validation are libvgpu's; these verbs only
 * read, dispatch on the kind of document and print.
 */
#include <stdio.h>

#include "vgpuctl.h"

int
vgpuctl_cmd_to_native (const VgpuctlVerb *verb, int argc, char **argv)
{
    g_autofree char *domain_uuid = NULL;
    const GOptionEntry entries[] = {
        { "domain-uuid", 'D', 0, G_OPTION_ARG_STRING, &domain_uuid,
          N_("For a lone hostdev without <uuid>: the UUID of the domain it is meant for, "
             "from which the vGPU's UUID is derived"), N_("UUID") },
        { NULL }
    };
    if (!vgpuctl_parse (verb, _("FILE is a <domain> or a <hostdev type='vgpu'> document; '-' "
                                "reads standard input. The native document is printed on "
                                "standard output; for a domain it carries the vGPUs in its "
                                "<metadata>."),
                        entries, &argc, &argv, 1, 1))
        return VGPUCTL_EXIT_USAGE;

    int rc;
    g_autoptr (xmlDoc) doc = vgpuctl_read_doc (argv[1], &rc);
    if (doc == NULL)
        return rc;
    VgpuDocKind kind = vgpu_xml_detect_kind (doc);
    if (kind != VGPU_DOC_DOMAIN && kind != VGPU_DOC_HOSTDEV) {
        vgpuctl_error (_("%1$s is a %2$s document, not a <domain> or a <hostdev "
                         "type='vgpu'>; there is nothing to translate."),
                       argv[1], vgpu_doc_kind_to_string (kind));
        return VGPUCTL_EXIT_INVALID;
    }
    rc = vgpuctl_validate_doc (argv[1], doc, kind);
    if (rc != VGPUCTL_EXIT_OK)
        return rc;

    g_autoptr (GError) error = NULL;
    if (kind == VGPU_DOC_DOMAIN) {
        if (vgpu_domain_to_native (doc, NULL, &error) < 0)
            return vgpuctl_report (error);
    } else {
        g_autoptr (VgpuDevice) d = vgpu_hostdev_to_native (doc, domain_uuid, 0, &error);
        if (d == NULL)
            return vgpuctl_report (error);
    }
    vgpuctl_print_doc (doc);
    return VGPUCTL_EXIT_OK;
}

int
vgpuctl_cmd_from_native (const VgpuctlVerb *verb, int argc, char **argv)
{
    if (!vgpuctl_parse (verb, _("FILE is a native <domain> document, e.g. from 'virsh dumpxml' "
                                "('-' reads standard input). Every mdev hostdev listed in the "
                                "vGPU metadata becomes a <hostdev type='vgpu'> again."),
                        NULL, &argc, &argv, 1, 1))
        return VGPUCTL_EXIT_USAGE;

    int rc;
    g_autoptr (xmlDoc) doc = vgpuctl_read_doc (argv[1], &rc);
    if (doc == NULL)
        return rc;
    VgpuDocKind kind = vgpu_xml_detect_kind (doc);
    if (kind == VGPU_DOC_HOSTDEV_NATIVE) {
        vgpuctl_error (_("%1$s is a lone native hostdev; the vGPU's type is only recorded in "
                         "the domain's metadata, so translate the whole domain (virsh dumpxml "
                         "DOMAIN | vgpuctl domxml-from-native -)."), argv[1]);
        return VGPUCTL_EXIT_INVALID;
    }
    if (kind != VGPU_DOC_DOMAIN) {
        vgpuctl_error (_("%1$s is a %2$s document, not a <domain>; there is nothing to "
                         "translate."), argv[1], vgpu_doc_kind_to_string (kind));
        return VGPUCTL_EXIT_INVALID;
    }
    rc = vgpuctl_validate_doc (argv[1], doc, kind);
    if (rc != VGPUCTL_EXIT_OK)
        return rc;
    g_autoptr (GError) error = NULL;
    if (vgpu_domain_from_native (doc, &error) < 0)
        return vgpuctl_report (error);
    vgpuctl_print_doc (doc);
    return VGPUCTL_EXIT_OK;
}

int
vgpuctl_cmd_validate (const VgpuctlVerb *verb, int argc, char **argv)
{
    gboolean quiet = FALSE;
    const GOptionEntry entries[] = {
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet,
          N_("Print nothing for valid documents"), NULL },
        { NULL }
    };
    if (!vgpuctl_parse (verb, _("Each FILE is checked against the schema of its kind: a domain "
                                "(vGPU dialect and/or native, with its vGPU metadata), a vGPU or "
                                "native hostdev, a <vgpu:devices> metadata element, or a "
                                "libvirt node device. The exit status is 3 if any is invalid."),
                        entries, &argc, &argv, 1, -1))
        return VGPUCTL_EXIT_USAGE;

    int status = VGPUCTL_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        int rc;
        g_autoptr (xmlDoc) doc = vgpuctl_read_doc (argv[i], &rc);
        if (doc == NULL) {
            /* An unreadable file is worse than an invalid document. */
            if (status == VGPUCTL_EXIT_OK || rc == VGPUCTL_EXIT_FAILED)
                status = rc;
            continue;
        }
        VgpuDocKind kind = vgpu_xml_detect_kind (doc);
        if (kind == VGPU_DOC_UNKNOWN) {
            vgpuctl_error (_("%1$s: unknown kind of document; vgpuctl validates domains, "
                             "hostdevs, vGPU metadata and node devices."), argv[i]);
            status = VGPUCTL_EXIT_INVALID;
            continue;
        }
        rc = vgpuctl_validate_doc (argv[i], doc, kind);
        if (rc != VGPUCTL_EXIT_OK) {
            /* An unreadable schema is worse than an invalid document. */
            if (status == VGPUCTL_EXIT_OK || rc == VGPUCTL_EXIT_FAILED)
                status = rc;
            continue;
        }
        if (!quiet)
            /* TRANSLATORS: FILE: valid (KIND, e.g. "domain"). */
            printf (_("%1$s: valid (%2$s)\n"), argv[i], vgpu_doc_kind_to_string (kind));
    }
    return status;
}
