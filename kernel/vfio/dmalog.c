// SPDX-License-Identifier: GPL-2.0-only
/*
 * Device DMA logging (VFIO_DEVICE_FEATURE_DMA_LOGGING_*): which guest pages
 * a vGPU wrote, so that a VMM migrating guest RAM needs no IOMMU dirty
 * tracking. Every vendor DMA goes through dma.c, so the core sees all of it:
 * - vgpu_dma_rw() writes are logged once done (before, a report could clear
 *   the bit ahead of the write and the VMM copy the page too early);
 * - a page pinned writable may be written at any moment: it is reported at
 *   every read while any pin on it is held, and logged at its last unpin.
 * Pins are counted per page from open to close, logging or not, because
 * unpin does not say how a page was pinned and logging may start while
 * pins are held.
 *
 * The log is a page-sized bitmap per 128 MiB (4 KiB pages) of IOVA,
 * allocated for the ranges given at start so that marking never allocates
 * and never fails; DMA outside those ranges is not logged, as the VMM
 * asked for none of it.
 *
 * Locking: log_lock is a leaf. vgpu_dma_unpin() runs under the IOMMU
 * backend's locks (type1's dma_unmap notifier), so nothing here calls into
 * VFIO or mm with log_lock held, except iova_bitmap_set(), which only
 * writes to the report's already pinned pages.
 */
#include <linux/bitmap.h>
#include <linux/interval_tree.h>
#include <linux/iova_bitmap.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vfio.h>

#include "compat.h"
#include "vfio.h"

#ifdef VGPU_HAVE_DMA_LOGGING

/* iova_bitmap_set() is in this namespace from 6.7; before, nothing is. */
MODULE_IMPORT_NS(IOMMUFD);

#define LOG_CHUNK_PAGES		(PAGE_SIZE * BITS_PER_BYTE)
/* at most 1 TiB of IOVA logged (32 MiB of bitmaps), per device */
#define LOG_MAX_CHUNKS		((1UL << (40 - PAGE_SHIFT)) / LOG_CHUNK_PAGES)

/* A pin count entry: the count, and whether any of the pins may write. */
static unsigned long pin_value(void *entry)
{
	return entry ? xa_to_value(entry) : 0;
}

static void log_free(struct vgpu_vfio *vv)
{
	unsigned long idx;
	void *map;

	xa_for_each(&vv->log, idx, map)
		free_page((unsigned long)map);
	xa_destroy(&vv->log);
	vv->logging = false;
}

/* Under log_lock: note pages [@pfn, @pfn + @n) as written. */
static void log_mark(struct vgpu_vfio *vv, unsigned long pfn, unsigned long n)
{
	lockdep_assert_held(&vv->log_lock);
	if (!vv->logging)
		return;
	while (n) {
		unsigned long bit = pfn % LOG_CHUNK_PAGES;
		unsigned long len = min(n, LOG_CHUNK_PAGES - bit);
		unsigned long *map = xa_load(&vv->log, pfn / LOG_CHUNK_PAGES);

		if (map)
			bitmap_set(map, bit, len);
		pfn += len;
		n -= len;
	}
}

void vgpu_dmalog_written(struct vgpu_vfio *vv, u64 iova, size_t len)
{
	unsigned long first = iova >> PAGE_SHIFT;
	unsigned long last = (iova + len - 1) >> PAGE_SHIFT;

	if (!len || iova + len - 1 < iova)
		return;
	mutex_lock(&vv->log_lock);
	log_mark(vv, first, last - first + 1);
	mutex_unlock(&vv->log_lock);
}

static void pins_put(struct vgpu_vfio *vv, unsigned long pfn, int npage,
		     bool log)
{
	int i;

	for (i = 0; i < npage; i++) {
		unsigned long v = pin_value(xa_load(&vv->pins, pfn + i));

		if (v >> 1 > 1) {
			/* replaces an entry: never allocates */
			xa_store(&vv->pins, pfn + i, xa_mk_value(v - 2),
				 GFP_NOWAIT);
			continue;
		}
		xa_erase(&vv->pins, pfn + i);
		if (log && v & 1)
			log_mark(vv, pfn + i, 1);
	}
}

int vgpu_dmalog_pin(struct vgpu_vfio *vv, u64 iova, int npage, bool write)
{
	unsigned long pfn = iova >> PAGE_SHIFT;
	int i, ret = 0;

	mutex_lock(&vv->log_lock);
	for (i = 0; i < npage; i++) {
		unsigned long v = pin_value(xa_load(&vv->pins, pfn + i));

		ret = xa_err(xa_store(&vv->pins, pfn + i,
				      xa_mk_value((v + 2) | write),
				      GFP_KERNEL_ACCOUNT));
		if (ret) {
			pins_put(vv, pfn, i, false);
			break;
		}
	}
	mutex_unlock(&vv->log_lock);
	return ret;
}

void vgpu_dmalog_unpin(struct vgpu_vfio *vv, u64 iova, int npage, bool done)
{
	mutex_lock(&vv->log_lock);
	pins_put(vv, iova >> PAGE_SHIFT, npage, done);
	mutex_unlock(&vv->log_lock);
}

/* The log chunks range @node touches: [*first, *last]. */
static void range_chunks(struct interval_tree_node *node, unsigned long *first,
			 unsigned long *last)
{
	*first = (node->start >> PAGE_SHIFT) / LOG_CHUNK_PAGES;
	*last = (node->last >> PAGE_SHIFT) / LOG_CHUNK_PAGES;
}

#define for_each_range(node, ranges)					\
	for (node = interval_tree_iter_first(ranges, 0, ULONG_MAX); node;	\
	     node = interval_tree_iter_next(node, 0, ULONG_MAX))

static int vgpu_log_start(struct vfio_device *vdev,
			  struct rb_root_cached *ranges, u32 nnodes,
			  u64 *page_size)
{
	struct vgpu_vfio *vv = to_vv(vdev);
	struct interval_tree_node *node;
	unsigned long chunks = 0, idx, last;
	int ret = 0;

	/* The core checks the ranges against page_size, not page_size itself. */
	if (!*page_size || !is_power_of_2(*page_size))
		return -EINVAL;
	/* Too much to log is refused before anything is allocated. */
	for_each_range(node, ranges) {
		range_chunks(node, &idx, &last);
		chunks += last - idx + 1;
		if (chunks > LOG_MAX_CHUNKS)
			return -E2BIG;
	}
	mutex_lock(&vv->log_lock);
	if (vv->logging) {
		ret = -EBUSY;
		goto out;
	}
	vv->logging = true;
	for_each_range(node, ranges) {
		for (range_chunks(node, &idx, &last); idx <= last; idx++) {
			unsigned long map;

			if (xa_load(&vv->log, idx))
				continue;
			map = get_zeroed_page(GFP_KERNEL_ACCOUNT);
			if (!map) {
				ret = -ENOMEM;
				goto fail;
			}
			ret = xa_err(xa_store(&vv->log, idx, (void *)map,
					      GFP_KERNEL_ACCOUNT));
			if (ret) {
				free_page(map);
				goto fail;
			}
		}
	}
	/* Bits are pages; a report may ask for any granularity. */
	*page_size = PAGE_SIZE;
	goto out;
fail:
	log_free(vv);
out:
	mutex_unlock(&vv->log_lock);
	return ret;
}

static int vgpu_log_stop(struct vfio_device *vdev)
{
	struct vgpu_vfio *vv = to_vv(vdev);

	mutex_lock(&vv->log_lock);
	log_free(vv);
	mutex_unlock(&vv->log_lock);
	return 0;
}

static int vgpu_log_read_and_clear(struct vfio_device *vdev, unsigned long iova,
				   unsigned long length,
				   struct iova_bitmap *dirty)
{
	struct vgpu_vfio *vv = to_vv(vdev);
	unsigned long first, last, idx, pfn;
	unsigned long *map;
	void *entry;

	if (!length)
		return 0;
	first = iova >> PAGE_SHIFT;
	last = (iova + length - 1) >> PAGE_SHIFT;
	mutex_lock(&vv->log_lock);
	if (!vv->logging) {
		mutex_unlock(&vv->log_lock);
		return -EINVAL;
	}
	xa_for_each_range(&vv->log, idx, map, first / LOG_CHUNK_PAGES,
			  last / LOG_CHUNK_PAGES) {
		unsigned long base = idx * LOG_CHUNK_PAGES;
		unsigned long lo = max(first, base) - base;
		unsigned long hi = min(last - base, LOG_CHUNK_PAGES - 1) + 1;
		unsigned long start, end;

		for (start = find_next_bit(map, hi, lo); start < hi;
		     start = find_next_bit(map, hi, end)) {
			end = find_next_zero_bit(map, hi, start);
			iova_bitmap_set(dirty, (base + start) << PAGE_SHIFT,
					(end - start) << PAGE_SHIFT);
			bitmap_clear(map, start, end - start);
		}
	}
	xa_for_each_range(&vv->pins, pfn, entry, first, last)
		if (pin_value(entry) & 1)
			iova_bitmap_set(dirty, pfn << PAGE_SHIFT, PAGE_SIZE);
	mutex_unlock(&vv->log_lock);
	return 0;
}

static const struct vfio_log_ops vgpu_vfio_log_ops = {
	.log_start		= vgpu_log_start,
	.log_stop		= vgpu_log_stop,
	.log_read_and_clear	= vgpu_log_read_and_clear,
};

void vgpu_dmalog_init(struct vgpu_vfio *vv)
{
	mutex_init(&vv->log_lock);
	xa_init(&vv->log);
	xa_init(&vv->pins);
	vv->vdev.log_ops = &vgpu_vfio_log_ops;
}

/* At close, after the vendor dropped its pins: a new user starts clean. */
void vgpu_dmalog_reset(struct vgpu_vfio *vv)
{
	mutex_lock(&vv->log_lock);
	log_free(vv);
	xa_destroy(&vv->pins);
	mutex_unlock(&vv->log_lock);
}

void vgpu_dmalog_fini(struct vgpu_vfio *vv)
{
	vgpu_dmalog_reset(vv);
	mutex_destroy(&vv->log_lock);
}

#endif /* VGPU_HAVE_DMA_LOGGING */
