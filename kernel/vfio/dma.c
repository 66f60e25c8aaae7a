// SPDX-License-Identifier: GPL-2.0-only
/* skeleton */
#include <linux/module.h>
#include "internal.h"

int vgpu_dma_pin(struct vgpu_device *vgpu, dma_addr_t iova, int npage,
		 int prot, struct page **pages)
{
	return -ENODEV;
}
EXPORT_SYMBOL_GPL(vgpu_dma_pin);

void vgpu_dma_unpin(struct vgpu_device *vgpu, dma_addr_t iova, int npage)
{
}
EXPORT_SYMBOL_GPL(vgpu_dma_unpin);

int vgpu_dma_rw(struct vgpu_device *vgpu, dma_addr_t iova, void *data,
		size_t len, bool write)
{
	return -ENODEV;
}
EXPORT_SYMBOL_GPL(vgpu_dma_rw);
