/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SKELETON: not implemented yet; every function reports VGPU_ERROR_FAILED. */

#include "vgpu-private.h"

VgpuDevice *vgpu_device_new (void)
{
    return NULL;
}

void vgpu_device_free (VgpuDevice *d)
{
}

gboolean vgpu_device_is_managed (const VgpuDevice *d)
{
    return FALSE;
}

char *vgpu_device_sysfs_parent (const VgpuDevice *d, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return NULL;
}

char *vgpu_derive_uuid (const char *domain_uuid, const char *type,
                        const char *parent, guint ordinal, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return NULL;
}

int vgpu_domain_to_native (xmlDoc *doc, GPtrArray **devices, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return -1;
}

int vgpu_domain_from_native (xmlDoc *doc, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return -1;
}

GPtrArray *vgpu_domain_get_devices (xmlDoc *doc, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return NULL;
}

VgpuDevice *vgpu_device_from_hostdev (xmlNode *hostdev, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return NULL;
}

VgpuDevice *vgpu_hostdev_to_native (xmlDoc *doc, const char *domain_uuid,
                                    guint ordinal, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return NULL;
}

gboolean vgpu_hostdev_from_native (xmlDoc *doc, const VgpuDevice *device,
                                   GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return FALSE;
}

char *vgpu_metadata_format (GPtrArray *devices)
{
    return NULL;
}

GPtrArray *vgpu_metadata_parse (const char *xml, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return NULL;
}

char *vgpu_native_hostdev_uuid (xmlNode *hostdev)
{
    return NULL;
}
