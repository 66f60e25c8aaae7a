// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA services for vendors: guest memory only through the VFIO core
 * (vfio_pin_pages/vfio_dma_rw), only while the vGPU is open and the guest
 * allows bus mastering, and pins invalidated through dma_unmap. What the
 * device writes is logged for the VMM (dmalog.c).
 */
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/vfio.h>

#include "vfio.h"

/* Takes open_lock for read; returns with it held only on success. */
static int dma_begin(struct vgpu_vfio *vv)
{
	down_read(&vv->open_lock);
	if (!vv->open) {
		up_read(&vv->open_lock);
		return -ENODEV;
	}
	if (!READ_ONCE(vv->bus_master)) {
		up_read(&vv->open_lock);
		return -EPERM;
	}
	return 0;
}

int vgpu_dma_pin(struct vgpu_device *vgpu, dma_addr_t iova, int npage,
		 int prot, struct page **pages)
{
	struct vgpu_vfio *vv = READ_ONCE(vgpu->backend);
	int ret;

	might_sleep();
	if (!vv)
		return -ENODEV;
	if (!vv->ops->dma_unmap)
		return -EOPNOTSUPP;
	if (npage <= 0 || npage > VFIO_PIN_PAGES_MAX_ENTRIES || !pages ||
	    offset_in_page(iova) || !(prot & (IOMMU_READ | IOMMU_WRITE)) ||
	    prot & ~(IOMMU_READ | IOMMU_WRITE))
		return -EINVAL;
	ret = dma_begin(vv);
	if (ret)
		return ret;
	/* counted first: logging may report a page before the pin is done */
	ret = vgpu_dmalog_pin(vv, iova, npage, prot & IOMMU_WRITE);
	if (!ret) {
		ret = vfio_pin_pages(&vv->vdev, iova, npage, prot, pages);
		/* 6.x pins all or none; were a count returned, those are held */
		if (ret != npage) {
			int held = clamp(ret, 0, npage);

			vgpu_dmalog_unpin(vv, iova + (u64)held * PAGE_SIZE,
					  npage - held, false);
		}
	}
	up_read(&vv->open_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(vgpu_dma_pin);

void vgpu_dma_unpin(struct vgpu_device *vgpu, dma_addr_t iova, int npage)
{
	struct vgpu_vfio *vv = READ_ONCE(vgpu->backend);

	might_sleep();
	if (!vv || npage <= 0 || npage > VFIO_PIN_PAGES_MAX_ENTRIES)
		return;
	/*
	 * Works with bus mastering off. No open_lock: dma_unmap calls this
	 * under IOMMU backend locks that vgpu_dma_pin() takes inside
	 * open_lock. Pins live only while open (the vendor's close drops them
	 * before open clears), so a vendor unpinning what it pinned is never
	 * racing the close.
	 */
	if (READ_ONCE(vv->open)) {
		vfio_unpin_pages(&vv->vdev, iova, npage);
		vgpu_dmalog_unpin(vv, iova, npage, true);
	}
}
EXPORT_SYMBOL_GPL(vgpu_dma_unpin);

int vgpu_dma_rw(struct vgpu_device *vgpu, dma_addr_t iova, void *data,
		size_t len, bool write)
{
	struct vgpu_vfio *vv = READ_ONCE(vgpu->backend);
	int ret;

	might_sleep();
	if (!vv)
		return -ENODEV;
	if (!data || !len || len > INT_MAX)
		return -EINVAL;
	ret = dma_begin(vv);
	if (ret)
		return ret;
	ret = vfio_dma_rw(&vv->vdev, iova, data, len, write);
	/* after the write, even a failed one: part of it may have landed */
	if (write)
		vgpu_dmalog_written(vv, iova, len);
	up_read(&vv->open_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(vgpu_dma_rw);

void vgpu_vfio_dma_unmap(struct vfio_device *vdev, u64 iova, u64 length)
{
	struct vgpu_vfio *vv = to_vv(vdev);

	if (vv->ops->dma_unmap)
		vv->ops->dma_unmap(vv->vgpu, iova, length);
}
