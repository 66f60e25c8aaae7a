/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vgpu_sim internals: the physical GPU (a QEMU Bochs display device whose
 * VRAM BAR is carved into slices) and the per-vGPU emulated device.
 */
#ifndef VGPU_SIM_H
#define VGPU_SIM_H

#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <vgpu.h>
#include <vgpu_sim_regs.h>

#include "vgpu_sim_alloc.h"
#include "vgpu_sim_edid.h"

#define VSIM_NAME		"vgpu_sim"
#define VSIM_MAX_TYPES		4
#define VSIM_DISPLAY_INDEX	VFIO_PCI_NUM_REGIONS
#define VSIM_MIN_WIDTH		320
#define VSIM_MIN_HEIGHT		200

/* a vGPU type, and what the sim needs beyond the core's description */
struct vsim_type_info {
	unsigned int index;		/* in the subsystem ID */
	const char *name;
	const char *pretty_name;
	u64 fb_size;
	unsigned int max_width;
	unsigned int max_height;
};

/* The physical GPU. */
struct vsim_gpu {
	struct pci_dev *pdev;
	resource_size_t vram_start;	/* bus address of the VRAM BAR */
	resource_size_t vram_size;
	void __iomem *vram;		/* whole BAR, write-combined */
	struct vgpu_type types[VSIM_MAX_TYPES];
	unsigned int nr_types;
	struct vgpu_gpu *gpu;
	spinlock_t alloc_lock;		/* guards @alloc */
	struct vsim_alloc alloc;
	atomic64_t scrubbed;		/* bytes zeroed since the bind (sysfs) */
	bool in_recovery;		/* error_detected until resume or remove */
};

/* One copy engine job, as latched at the doorbell. */
struct vsim_ce_job {
	u64 iova;
	u64 vram_offset;
	u32 length;
	bool to_guest;
};

/* One vGPU. Guest-visible registers are guarded by the core's vGPU mutex. */
struct vsim_vgpu {
	struct vgpu_device *vgpu;
	struct vsim_gpu *gpu;
	const struct vsim_type_info *info;
	u64 slice_offset;		/* in the physical VRAM BAR */
	u64 bar0_size;			/* = slice size */
	void __iomem *vram;		/* the slice in the physical BAR */
	struct vgpu_mmap_area vram_area;
	struct vgpu_extra_region display_region;
	bool opened;			/* ever: its slice is scrubbed at destroy */
	/* VRAM offset the display region starts at; read by faults unlocked */
	u64 scanout_start;

	/* display */
	unsigned int max_width;		/* vendor/max_resolution */
	unsigned int max_height;
	bool dmabuf;			/* vendor/display_dmabuf */
	u8 edid[VSIM_EDID_SIZE];	/* lists modes up to the maximum */
	u16 dispi[VGPU_SIM_DISPI_NREGS];
	u8 vga[VGPU_SIM_VGA_SIZE];
	u32 byteorder;

	/* mailbox page */
	u32 mbox_writes;
	u8 mbox[VGPU_SIM_MAILBOX_SIZE];

	/* copy engine registers the guest programs */
	u64 ce_iova;
	u32 ce_vram_offset;
	u32 ce_length;
	u32 ce_ctrl;

	/* copy engine state shared with the worker and dma_unmap */
	spinlock_t ce_lock;		/* guards the fields below */
	u32 ce_status;
	u32 ce_error;
	u32 ce_done_count;
	u32 ce_error_count;
	u32 irq_status;
	bool ce_busy;
	u32 ce_abort;			/* error code that stops the job, or 0 */
	struct vsim_ce_job job;
	struct work_struct ce_work;
	/*
	 * The worker holds or is taking pins (under ce_lock); dma_unmap waits
	 * on ce_unpinned for it to drop them. Not a lock held across
	 * vgpu_dma_pin(): dma_unmap runs under IOMMU backend locks that
	 * vgpu_dma_pin() takes too.
	 */
	bool ce_pinning;
	wait_queue_head_t ce_unpinned;
};

extern const struct vgpu_ops vsim_ops;
extern unsigned int vsim_ce_delay_us;

/* vgpu_sim_main.c */
unsigned int vsim_slice_available(struct vsim_gpu *g, u64 size);
int vsim_slice_get(struct vsim_gpu *g, u64 size, u64 *offset);
void vsim_slice_put(struct vsim_gpu *g, u64 offset, u64 size, bool scrub);
unsigned int vsim_get_available(struct vgpu_gpu *gpu,
				const struct vgpu_type *type);

/* vgpu_sim_vram.c */
void vsim_vram_copy_to(void __iomem *dst, const void *src, size_t n);
void vsim_vram_copy_from(void *dst, const void __iomem *src, size_t n);
void vsim_vram_zero(void __iomem *dst, size_t n);

/* vgpu_sim_ce.c */
void vsim_ce_init(struct vsim_vgpu *v);
void vsim_ce_doorbell(struct vsim_vgpu *v);
void vsim_ce_stop(struct vsim_vgpu *v);
void vsim_ce_dma_unmap(struct vgpu_device *vgpu, u64 iova, u64 length);

#endif /* VGPU_SIM_H */
