// SPDX-License-Identifier: GPL-2.0-only
/* skeleton */
#include <linux/module.h>
#include "internal.h"

int vgpu_raise_irq(struct vgpu_device *vgpu, unsigned int vector)
{
	return -ENODEV;
}
EXPORT_SYMBOL_GPL(vgpu_raise_irq);
