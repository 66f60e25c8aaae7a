/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SKELETON: not implemented yet; every function reports VGPU_ERROR_FAILED. */

#include "vgpu-private.h"

const char *vgpu_doc_kind_to_string (VgpuDocKind kind)
{
    return NULL;
}

VgpuDocKind vgpu_doc_kind_from_string (const char *str)
{
    return 0;
}

xmlDoc *vgpu_xml_parse (const char *data, gsize len, const char *source_name,
                        GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return NULL;
}

xmlDoc *vgpu_xml_read_file (const char *path, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return NULL;
}

char *vgpu_xml_format (xmlDoc *doc)
{
    return NULL;
}

VgpuDocKind vgpu_xml_detect_kind (xmlDoc *doc)
{
    return 0;
}

gboolean vgpu_xml_validate (xmlDoc *doc, VgpuDocKind kind, GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return FALSE;
}

gboolean vgpu_xml_validate_with (xmlDoc *doc, const char *schema_path,
                                 GError **error)
{
    g_set_error_literal (error, VGPU_ERROR, VGPU_ERROR_FAILED, "not implemented yet");
    return FALSE;
}
