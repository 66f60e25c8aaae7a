/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SKELETON: not implemented yet; every function reports VGPU_ERROR_FAILED. */

#include "vgpu-private.h"

void vgpu_field_free (VgpuField *f)
{
}

void vgpu_type_free (VgpuType *t)
{
}

void vgpu_gpu_free (VgpuGpu *g)
{
}

void vgpu_mdev_free (VgpuMdev *m)
{
}

GPtrArray *vgpu_description_parse (const char *description)
{
    return NULL;
}

GPtrArray *vgpu_list_gpus (GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return NULL;
}

VgpuGpu *vgpu_get_gpu (const char *parent, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return NULL;
}

VgpuType *vgpu_get_type (const char *parent, const char *type, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return NULL;
}

GPtrArray *vgpu_list_mdevs (GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return NULL;
}

VgpuMdev *vgpu_get_mdev (const char *uuid, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return NULL;
}

VgpuAttr *vgpu_attr_new (const char *name, const char *value)
{
    return NULL;
}

void vgpu_attr_free (VgpuAttr *a)
{
}

char *vgpu_pick_parent (const char *parent, const char *type, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return NULL;
}

gboolean vgpu_create (const char *parent, const char *type, const char *uuid,
                      GPtrArray *attrs, guint timeout_ms,
                      char **parent_out, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return FALSE;
}

gboolean vgpu_remove (const char *uuid, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return FALSE;
}

char *vgpu_wait_bound (const char *uuid, guint timeout_ms, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return NULL;
}

gboolean vgpu_wait_removed (const char *uuid, guint timeout_ms, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return FALSE;
}

int vgpu_iommu_group (const char *uuid, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return -1;
}

char *vgpu_vfio_group_path (const char *uuid, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return NULL;
}

gboolean vgpu_iommu_group_viable (int group, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return FALSE;
}
