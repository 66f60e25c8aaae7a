/* SPDX-License-Identifier: GPL-2.0-only */
/* Private to vgpu.ko: type-table logic with no kernel services (types.c). */
#ifndef _VGPU_CORE_TYPES_H
#define _VGPU_CORE_TYPES_H

#include "vgpu.h"

int vgpu_check_types(const struct vgpu_type *types, unsigned int nr_types);
ssize_t vgpu_format_description(const struct vgpu_type *type, char *buf);

#endif /* _VGPU_CORE_TYPES_H */
