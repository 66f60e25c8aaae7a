/* SPDX-License-Identifier: GPL-2.0-only */
/* Private to vgpu_vfio.ko. */
#ifndef _VGPU_VFIO_H
#define _VGPU_VFIO_H

#include <linux/eventfd.h>
#include <linux/mm.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/vfio.h>
#include <linux/xarray.h>

#include "compat.h"
#include "internal.h"
#include "config.h"
#include "layout.h"

#define VGPU_VGA_SIZE	0xc0000	/* legacy VGA region, as the VFIO uAPI lays it out */

struct vgpu_dmabuf_set;

/* What VFIO reports for one region index. */
struct vgpu_vfio_region {
	__u64 size;			/* 0: absent */
	__u32 flags;			/* VFIO_REGION_INFO_FLAG_* */
	const struct vgpu_region *decl;	/* vendor declaration; NULL for config/VGA */
	const struct vgpu_extra_region *extra;	/* vendor-defined regions */
};

/* Interrupt state; written under irq.lock, which vgpu_raise_irq() takes. */
struct vgpu_vfio_irqs {
	spinlock_t lock;
	int type;				/* VFIO_PCI_*_IRQ_INDEX, or -1 */
	struct eventfd_ctx *intx;
	bool intx_masked;
	bool intx_pending;			/* raised, not yet delivered */
	struct vgpu_unmask_fd *unmask_fd;	/* under vgpu->lock */
	struct eventfd_ctx **vec;		/* MSI or MSI-X triggers */
	unsigned int nvec;			/* enabled: highest start + count */
	unsigned long *msix_pending;		/* raised while masked (PBA) */
	bool msix_fmask;			/* MSI-X function mask (config) */
	bool intx_disabled;			/* PCI_COMMAND_INTX_DISABLE */
	struct eventfd_ctx *err;
	struct eventfd_ctx *req;
};

struct vgpu_vfio {
	struct vfio_device vdev;
	struct vgpu_device *vgpu;
	const struct vgpu_ops *ops;
	unsigned int cookie;

	struct vgpu_vfio_region regions[VGPU_VFIO_MAX_REGIONS];
	unsigned int nr_regions;

	/* under vgpu->lock; msix_table writes also under irq.lock */
	struct vgpu_cfg cfg;
	u8 *msix_table;

	struct vgpu_vfio_irqs irq;

	/*
	 * Guards user mappings against changes of what backs them: faults take
	 * it for read, whoever disables memory or zaps takes it for write.
	 */
	struct rw_semaphore memory_lock;
	bool mem_enabled;			/* PCI_COMMAND_MEMORY */
	bool gpu_lost;				/* the parent GPU is gone */
	struct address_space *mapping;		/* of the device fd, once mapped */

	/*
	 * open is true between open_device and close_device: pin and rw check
	 * it under open_lock (read), so close waits for them; unpin reads it
	 * without the lock (dma.c says why).
	 */
	struct rw_semaphore open_lock;
	bool open;
	bool bus_master;

	/*
	 * Migration, under vgpu->lock; frozen (STOP, STOP_COPY, RESUMING)
	 * also under memory_lock: no trapped BAR access, no fault on a
	 * writable mapping, the vendor frozen.
	 */
	enum vfio_device_mig_state mig_state;
	bool frozen;
	struct vgpu_mig_file *saving, *resuming;

	/*
	 * VRAM dirty tracking (mig.c), when the vendor has vram_rw. tracking
	 * is written under memory_lock held for write (which also orders the
	 * zap at each pass against faults); vram_dirty bits are set
	 * atomically from faults, region writes and vgpu_vram_dirty() and
	 * taken word by word with xchg(); vram_send is the saving fd's.
	 */
	unsigned long vram_pages;		/* 0: the core moves no VRAM */
	unsigned long *vram_dirty;
	unsigned long *vram_send;
	bool tracking;

	/* Display planes as dma-bufs (dmabuf.c), when the vendor said so. */
	bool plane_dmabuf;
	struct vgpu_dmabuf_set *dmabuf_set;

#ifdef VGPU_HAVE_DMA_LOGGING
	/*
	 * Device DMA logging (dmalog.c), under log_lock: the log's bitmaps
	 * by 128 MiB chunk of IOVA while logging, and the pin count of every
	 * pinned page (count << 1 | pinned writable) while open.
	 */
	struct mutex log_lock;
	bool logging;
	struct xarray log;
	struct xarray pins;
#endif
};

static inline struct vgpu_vfio *to_vv(struct vfio_device *vdev)
{
	return container_of(vdev, struct vgpu_vfio, vdev);
}

/* region.c */
void vgpu_vfio_regions_init(struct vgpu_vfio *vv);
ssize_t vgpu_vfio_rw(struct vgpu_vfio *vv, char __user *buf, size_t count,
		     loff_t *ppos, bool write);
long vgpu_vfio_region_info(struct vgpu_vfio *vv, void __user *arg);
int vgpu_vfio_mmap(struct vfio_device *vdev, struct vm_area_struct *vma);
void vgpu_vfio_zap(struct vgpu_vfio *vv, int index);	/* -1: all */
void vgpu_vfio_zap_all_locked(struct vgpu_vfio *vv);
void vgpu_vfio_zap_range_locked(struct vgpu_vfio *vv, unsigned int index,
				u64 off, u64 len);
void vgpu_vfio_set_memory(struct vgpu_vfio *vv, bool enabled);

/* irq.c */
int vgpu_vfio_irq_init(struct vgpu_vfio *vv);
void vgpu_vfio_irq_fini(struct vgpu_vfio *vv);
void vgpu_vfio_irq_reset(struct vgpu_vfio *vv);
long vgpu_vfio_irq_info(struct vgpu_vfio *vv, void __user *arg);
long vgpu_vfio_set_irqs(struct vgpu_vfio *vv, void __user *arg);
void vgpu_vfio_irq_disable_all(struct vgpu_vfio *vv);
void vgpu_vfio_irq_config_changed(struct vgpu_vfio *vv);
void vgpu_vfio_request(struct vfio_device *vdev, unsigned int count);
int vgpu_vfio_msix_rw(struct vgpu_vfio *vv, u64 off, unsigned int size,
		      u64 *val, bool write);
bool vgpu_vfio_in_msix(struct vgpu_vfio *vv, unsigned int index, u64 off,
		       unsigned int size);

/* mig.c */
void vgpu_vfio_mig_init(struct vgpu_vfio *vv);
void vgpu_vfio_mig_reset(struct vgpu_vfio *vv);
void vgpu_vfio_mig_fini(struct vgpu_vfio *vv);

/* dmalog.c: device DMA logging, where the kernel can report it */
#ifdef VGPU_HAVE_DMA_LOGGING
void vgpu_dmalog_init(struct vgpu_vfio *vv);
void vgpu_dmalog_reset(struct vgpu_vfio *vv);
void vgpu_dmalog_fini(struct vgpu_vfio *vv);
int vgpu_dmalog_pin(struct vgpu_vfio *vv, u64 iova, int npage, bool write);
void vgpu_dmalog_unpin(struct vgpu_vfio *vv, u64 iova, int npage, bool done);
void vgpu_dmalog_written(struct vgpu_vfio *vv, u64 iova, size_t len);
#else
static inline void vgpu_dmalog_init(struct vgpu_vfio *vv) {}
static inline void vgpu_dmalog_reset(struct vgpu_vfio *vv) {}
static inline void vgpu_dmalog_fini(struct vgpu_vfio *vv) {}
static inline int vgpu_dmalog_pin(struct vgpu_vfio *vv, u64 iova, int npage,
				  bool write)
{
	return 0;
}

static inline void vgpu_dmalog_unpin(struct vgpu_vfio *vv, u64 iova,
				     int npage, bool done) {}
static inline void vgpu_dmalog_written(struct vgpu_vfio *vv, u64 iova,
				       size_t len) {}
#endif

/* Is [@off, @off + @len) of region @index VRAM that migration tracks now? */
static inline bool vgpu_vfio_vram_tracked(struct vgpu_vfio *vv,
					  unsigned int index, u64 off, u64 len)
{
	return READ_ONCE(vv->tracking) && index == vv->vgpu->info.vram_index &&
	       off < vv->vgpu->info.vram_size;
}

/* Notes a write to region @index (any part of it that is tracked VRAM). */
static inline void vgpu_vfio_vram_mark(struct vgpu_vfio *vv,
				       unsigned int index, u64 off, u64 len)
{
	u64 end;

	if (!len || !vgpu_vfio_vram_tracked(vv, index, off, len))
		return;
	end = min(off + len, vv->vgpu->info.vram_size);
	for (off >>= PAGE_SHIFT; off < DIV_ROUND_UP_ULL(end, PAGE_SIZE); off++)
		set_bit(off, vv->vram_dirty);
}

/* The page protection of a mapping of a region with VGPU_REGION_* @flags. */
static inline pgprot_t vgpu_vfio_pgprot(u32 flags, pgprot_t prot)
{
	if (flags & VGPU_REGION_PREFETCH)
		return pgprot_writecombine(prot);
	return pgprot_noncached(prot);
}

/* dmabuf.c; without dma-buf support, no plane is offered as one */
#define VGPU_VFIO_BARS_MASK	GENMASK(VFIO_PCI_BAR5_REGION_INDEX, 0)
#if IS_ENABLED(CONFIG_DMA_SHARED_BUFFER)
int vgpu_vfio_dmabuf_init(struct vgpu_vfio *vv);
void vgpu_vfio_dmabuf_fini(struct vgpu_vfio *vv);
void vgpu_vfio_dmabuf_revoke_locked(struct vgpu_vfio *vv, u32 regions);
int vgpu_vfio_dmabuf_plane(struct vgpu_vfio *vv,
			   struct vfio_device_gfx_plane_info *plane);
long vgpu_vfio_get_dmabuf(struct vgpu_vfio *vv, u32 __user *arg);
#else
static inline int vgpu_vfio_dmabuf_init(struct vgpu_vfio *vv)
{
	return 0;
}

static inline void vgpu_vfio_dmabuf_fini(struct vgpu_vfio *vv) {}
static inline void vgpu_vfio_dmabuf_revoke_locked(struct vgpu_vfio *vv,
						  u32 regions) {}
static inline int vgpu_vfio_dmabuf_plane(struct vgpu_vfio *vv,
					 struct vfio_device_gfx_plane_info *plane)
{
	return -EINVAL;
}

static inline long vgpu_vfio_get_dmabuf(struct vgpu_vfio *vv, u32 __user *arg)
{
	return -ENOTTY;
}
#endif

/* dma.c */
void vgpu_vfio_dma_unmap(struct vfio_device *vdev, u64 iova, u64 length);

#endif /* _VGPU_VFIO_H */
