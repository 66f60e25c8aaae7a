/* SPDX-License-Identifier: GPL-2.0-only */
/* Private to vgpu.ko. */
#ifndef _VGPU_CORE_H
#define _VGPU_CORE_H

#include "internal.h"
#include "types.h"

int vgpu_vendor_attrs_add(struct vgpu_device *vgpu);
void vgpu_vendor_attrs_remove(struct vgpu_device *vgpu);

#endif /* _VGPU_CORE_H */
