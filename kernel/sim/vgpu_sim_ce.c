// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgpu_sim copy engine: moves bytes between guest memory and the vGPU's
 * VRAM slice through the core's DMA services, asynchronously, and completes
 * with an interrupt (MSI-X vector per cause, else MSI or INTx).
 *
 * A job pins all its guest pages first and holds them until it ends; the
 * IOMMU backend therefore tells us (dma_unmap) when the guest unmaps any of
 * them, and we abort and unpin before the IOVA goes away.
 */
#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vfio.h>

#include "vgpu_sim.h"

/*
 * Records the cause and signals its vector. Under ce_lock, with the status
 * change that caused it: a guest that reads the engine idle then finds its
 * interrupt already sent, or dropped if bus mastering was off, never one
 * arriving after it turned bus mastering back on or started the next job.
 */
static void vsim_raise(struct vsim_vgpu *v, u32 cause)
{
	unsigned int vec = cause == VGPU_SIM_IRQ_ERROR ?
			   VGPU_SIM_MSIX_VEC_ERROR : VGPU_SIM_MSIX_VEC_COMPLETE;
	int ret;

	lockdep_assert_held(&v->ce_lock);
	v->irq_status |= cause;
	ret = vgpu_raise_irq(v->vgpu, vec);
	/*
	 * One vector for both causes: MSI has only vector 0 (-EINVAL), a
	 * user that enabled only MSI-X vector 0 has no eventfd for ours
	 * (-ENODEV). A masked vector (-EAGAIN) stays pending instead.
	 */
	if (vec && (ret == -EINVAL || ret == -ENODEV))
		ret = vgpu_raise_irq(v->vgpu, 0);
	if (ret)
		dev_dbg(vgpu_dev(v->vgpu), "interrupt %u not delivered: %d\n",
			vec, ret);
}

/* [a, a + alen) and [b, b + blen) intersect; lengths are non-zero */
static bool vsim_overlaps(u64 a, u64 alen, u64 b, u64 blen)
{
	return a <= b + (blen - 1) && b <= a + (alen - 1);
}

static void vsim_unpin(struct vsim_vgpu *v, u64 base, unsigned int npages)
{
	unsigned int done, n;

	for (done = 0; done < npages; done += n) {
		n = min_t(unsigned int, npages - done,
			  VFIO_PIN_PAGES_MAX_ENTRIES);
		vgpu_dma_unpin(v->vgpu, base + (u64)done * PAGE_SIZE, n);
	}
}

/* Runs one job; returns VGPU_SIM_CE_ERR_*. */
static u32 vsim_ce_run(struct vsim_vgpu *v, const struct vsim_ce_job *job)
{
	u64 base = job->iova & PAGE_MASK;
	unsigned int first = offset_in_page(job->iova);
	unsigned int npages = DIV_ROUND_UP(first + job->length, PAGE_SIZE);
	int prot = job->to_guest ? IOMMU_WRITE : IOMMU_READ;
	void __iomem *vram = v->vram + job->vram_offset;
	u32 left = job->length, code = VGPU_SIM_CE_ERR_NONE;
	unsigned int pinned = 0, i;
	struct page **pages;

	/* an IOVA range that wraps cannot be mapped */
	if (job->iova + job->length - 1 < job->iova)
		return VGPU_SIM_CE_ERR_DMA;
	pages = kvcalloc(npages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return VGPU_SIM_CE_ERR_DMA;

	spin_lock_irq(&v->ce_lock);
	v->ce_pinning = true;
	spin_unlock_irq(&v->ce_lock);
	while (pinned < npages) {
		unsigned int n = min_t(unsigned int, npages - pinned,
				       VFIO_PIN_PAGES_MAX_ENTRIES);
		int ret;

		/* dma_unmap sets this, then waits for ce_pinning to clear */
		code = READ_ONCE(v->ce_abort);
		if (code)
			goto out_unpin;
		ret = vgpu_dma_pin(v->vgpu, base + (u64)pinned * PAGE_SIZE, n,
				   prot, pages + pinned);
		if (ret != n) {
			if (ret > 0)
				vgpu_dma_unpin(v->vgpu,
					       base + (u64)pinned * PAGE_SIZE,
					       ret);
			code = VGPU_SIM_CE_ERR_DMA;
			goto out_unpin;
		}
		pinned += n;
	}

	for (i = 0; i < npages && left; i++) {
		unsigned int off = i ? 0 : first;
		unsigned int chunk = min_t(u32, PAGE_SIZE - off, left);
		void *kaddr;

		code = READ_ONCE(v->ce_abort);
		if (code)
			goto out_unpin;
		kaddr = kmap_local_page(pages[i]);
		if (job->to_guest) {
			vsim_vram_copy_from(kaddr + off, vram, chunk);
		} else {
			vsim_vram_copy_to(vram, kaddr + off, chunk);
			/* after the write, for a migration pass in progress */
			vgpu_vram_dirty(v->vgpu,
					job->vram_offset + job->length - left,
					chunk);
		}
		kunmap_local(kaddr);
		vram += chunk;
		left -= chunk;
		if (vsim_ce_delay_us)
			usleep_range(vsim_ce_delay_us, vsim_ce_delay_us + 10);
		cond_resched();
	}

out_unpin:
	vsim_unpin(v, base, pinned);
	spin_lock_irq(&v->ce_lock);
	v->ce_pinning = false;
	spin_unlock_irq(&v->ce_lock);
	wake_up_all(&v->ce_unpinned);
	kvfree(pages);
	return code;
}

static void vsim_ce_work(struct work_struct *work)
{
	struct vsim_vgpu *v = container_of(work, struct vsim_vgpu, ce_work);
	struct vsim_ce_job job;
	u32 code;

	spin_lock_irq(&v->ce_lock);
	job = v->job;
	spin_unlock_irq(&v->ce_lock);

	code = vsim_ce_run(v, &job);

	spin_lock_irq(&v->ce_lock);
	v->ce_busy = false;
	v->ce_status &= ~VGPU_SIM_CE_STATUS_BUSY;
	if (code == VGPU_SIM_CE_ERR_RESET) {
		/* reset or close: state is about to be discarded */
		spin_unlock_irq(&v->ce_lock);
		return;
	}
	if (code) {
		v->ce_status |= VGPU_SIM_CE_STATUS_ERROR;
		v->ce_error = code;
		v->ce_error_count++;
	} else {
		v->ce_status |= VGPU_SIM_CE_STATUS_DONE;
		v->ce_done_count++;
	}
	vsim_raise(v, code ? VGPU_SIM_IRQ_ERROR : VGPU_SIM_IRQ_COMPLETE);
	spin_unlock_irq(&v->ce_lock);
}

void vsim_ce_init(struct vsim_vgpu *v)
{
	spin_lock_init(&v->ce_lock);
	init_waitqueue_head(&v->ce_unpinned);
	INIT_WORK(&v->ce_work, vsim_ce_work);
}

/* The guest rang the doorbell (vGPU mutex held): validate, then start. */
void vsim_ce_doorbell(struct vsim_vgpu *v)
{
	struct vsim_ce_job job = {
		.iova = v->ce_iova,
		.vram_offset = v->ce_vram_offset,
		.length = v->ce_length,
		.to_guest = v->ce_ctrl & VGPU_SIM_CE_CTRL_TO_GUEST,
	};
	u64 limit = v->vram_area.size;	/* VRAM only, never the mailbox */
	u32 code = VGPU_SIM_CE_ERR_NONE;

	spin_lock_irq(&v->ce_lock);
	if (v->ce_busy)
		code = VGPU_SIM_CE_ERR_BUSY;
	else if (!job.length || job.length > VGPU_SIM_CE_MAX_LENGTH)
		code = VGPU_SIM_CE_ERR_LENGTH;
	else if (job.vram_offset > limit || job.length > limit - job.vram_offset)
		code = VGPU_SIM_CE_ERR_RANGE;
	if (code) {
		/* a running job goes on; only this doorbell is refused */
		v->ce_status |= VGPU_SIM_CE_STATUS_ERROR;
		v->ce_error = code;
		v->ce_error_count++;
		vsim_raise(v, VGPU_SIM_IRQ_ERROR);
		spin_unlock_irq(&v->ce_lock);
		return;
	}
	v->ce_busy = true;
	v->ce_abort = VGPU_SIM_CE_ERR_NONE;
	v->ce_status = VGPU_SIM_CE_STATUS_BUSY;
	v->ce_error = VGPU_SIM_CE_ERR_NONE;
	v->job = job;
	spin_unlock_irq(&v->ce_lock);
	queue_work(system_unbound_wq, &v->ce_work);
}

/* Abort a running job and wait until it has dropped its pins. */
void vsim_ce_stop(struct vsim_vgpu *v)
{
	spin_lock_irq(&v->ce_lock);
	if (v->ce_busy && !v->ce_abort)
		v->ce_abort = VGPU_SIM_CE_ERR_RESET;
	spin_unlock_irq(&v->ce_lock);
	flush_work(&v->ce_work);
}

static bool vsim_ce_unpinned(struct vsim_vgpu *v)
{
	bool done;

	spin_lock_irq(&v->ce_lock);
	done = !v->ce_pinning;
	spin_unlock_irq(&v->ce_lock);
	return done;
}

/*
 * The VFIO user unmaps [iova, iova + length). Called concurrently with the
 * vGPU's other ops: if the running job uses that range, abort it and wait
 * until its pins are gone, as the IOMMU backend requires on return.
 */
void vsim_ce_dma_unmap(struct vgpu_device *vgpu, u64 iova, u64 length)
{
	struct vsim_vgpu *v = vgpu_get_drvdata(vgpu);
	bool hit = false;

	if (!length)
		return;
	spin_lock_irq(&v->ce_lock);
	/* the job pins whole pages: compare page spans */
	if (v->ce_busy &&
	    vsim_overlaps(v->job.iova & PAGE_MASK,
			  PAGE_ALIGN(offset_in_page(v->job.iova) + v->job.length),
			  iova, length)) {
		if (!v->ce_abort)
			v->ce_abort = VGPU_SIM_CE_ERR_UNMAPPED;
		hit = true;
	}
	spin_unlock_irq(&v->ce_lock);
	/*
	 * A worker not pinning yet sees the abort before its first pin. The
	 * pins in flight need only the backend lock it dropped to call us.
	 */
	if (hit)
		wait_event(v->ce_unpinned, vsim_ce_unpinned(v));
}
