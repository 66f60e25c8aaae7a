// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interrupts of a vGPU: GET_IRQ_INFO/SET_IRQS for what the vendor declared
 * (INTx, MSI, MSI-X) plus ERR and REQ, the MSI-X table and PBA, and
 * vgpu_raise_irq() for the vendor.
 */
#include <linux/bitmap.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "compat.h"
#include "vfio.h"
#include "trace.h"

static int raise_irq(struct vgpu_vfio *vv, unsigned int vector, bool device);

static unsigned int num_irqs(struct vgpu_vfio *vv, unsigned int index)
{
	const struct vgpu_irqs *q = &vv->vgpu->info.irqs;

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		return q->intx ? 1 : 0;
	case VFIO_PCI_MSI_IRQ_INDEX:
		return q->msi;
	case VFIO_PCI_MSIX_IRQ_INDEX:
		return q->msix;
	case VFIO_PCI_ERR_IRQ_INDEX:
		/* Offered to every vGPU: QEMU sets it up for AER either way. */
		return 1;
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	}
	return 0;
}

int vgpu_vfio_irq_init(struct vgpu_vfio *vv)
{
	const struct vgpu_irqs *q = &vv->vgpu->info.irqs;
	unsigned int nvec = max(q->msi, q->msix);

	spin_lock_init(&vv->irq.lock);
	vv->irq.type = -1;
	if (nvec) {
		vv->irq.vec = kcalloc(nvec, sizeof(*vv->irq.vec), GFP_KERNEL);
		if (!vv->irq.vec)
			return -ENOMEM;
	}
	if (q->msix) {
		vv->irq.msix_pending = bitmap_zalloc(q->msix, GFP_KERNEL);
		vv->msix_table = kzalloc(vgpu_msix_table_size(q->msix),
					 GFP_KERNEL);
		if (!vv->irq.msix_pending || !vv->msix_table)
			return -ENOMEM;
	}
	return 0;
}

/*
 * Power-on state of the MSI-X table (zeroed, vectors not masked, see below),
 * of the PBA and of a held INTx: nothing from before a reset fires after it.
 */
void vgpu_vfio_irq_reset(struct vgpu_vfio *vv)
{
	unsigned int n = vv->vgpu->info.irqs.msix;
	unsigned long flags;

	spin_lock_irqsave(&vv->irq.lock, flags);
	vv->irq.intx_pending = false;
	if (n) {
		memset(vv->msix_table, 0, vgpu_msix_table_size(n));
		bitmap_zero(vv->irq.msix_pending, n);
	}
	spin_unlock_irqrestore(&vv->irq.lock, flags);
}

void vgpu_vfio_irq_fini(struct vgpu_vfio *vv)
{
	kfree(vv->irq.vec);
	bitmap_free(vv->irq.msix_pending);
	kfree(vv->msix_table);
}

/* The guest's per-vector mask in the MSI-X table; caller holds irq.lock. */
static bool msix_vector_masked(struct vgpu_vfio *vv, unsigned int vec)
{
	return vv->msix_table[vec * PCI_MSIX_ENTRY_SIZE +
			      PCI_MSIX_ENTRY_VECTOR_CTRL] &
	       PCI_MSIX_ENTRY_CTRL_MASKBIT;
}

long vgpu_vfio_irq_info(struct vgpu_vfio *vv, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	info.count = num_irqs(vv, info.index);
	info.flags = VFIO_IRQ_INFO_EVENTFD;
	if (info.index == VFIO_PCI_INTX_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
	else if (info.index == VFIO_PCI_MSI_IRQ_INDEX ||
		 info.index == VFIO_PCI_MSIX_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_NORESIZE;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static void put_ctx(struct eventfd_ctx *ctx)
{
	if (ctx)
		eventfd_ctx_put(ctx);
}

/* Swap one trigger slot under the lock; the old context is put after. */
static void swap_ctx(struct vgpu_vfio *vv, struct eventfd_ctx **slot,
		     struct eventfd_ctx *ctx)
{
	struct eventfd_ctx *old;
	unsigned long flags;

	spin_lock_irqsave(&vv->irq.lock, flags);
	old = *slot;
	*slot = ctx;
	spin_unlock_irqrestore(&vv->irq.lock, flags);
	put_ctx(old);
}

/*
 * INTx is a level: raised while masked or disabled it stays asserted and
 * fires once the user unmasks it or the guest enables it again, instead of
 * being lost (the vendor is not told about unmasks, it could not retry).
 * Caller holds irq.lock.
 */
static void intx_deliver(struct vgpu_vfio *vv)
{
	if (vv->irq.type != VFIO_PCI_INTX_IRQ_INDEX || !vv->irq.intx ||
	    !vv->irq.intx_pending || vv->irq.intx_masked ||
	    vv->irq.intx_disabled)
		return;
	vv->irq.intx_pending = false;
	/* Automasked until the user unmasks. */
	vv->irq.intx_masked = true;
	WRITE_ONCE(vv->cfg.intx_status, true);
	vgpu_eventfd_signal(vv->irq.intx);
}

static void intx_unmask(struct vgpu_vfio *vv)
{
	unsigned long flags;

	spin_lock_irqsave(&vv->irq.lock, flags);
	vv->irq.intx_masked = false;
	WRITE_ONCE(vv->cfg.intx_status, false);
	intx_deliver(vv);
	spin_unlock_irqrestore(&vv->irq.lock, flags);
}

/*
 * INTx unmask through an eventfd (KVM's resampler signals it at EOI). The
 * wake-up callback runs under the eventfd's queue lock, possibly from our own
 * vgpu_raise_irq() when the user passed the trigger eventfd here too, so it
 * only queues the unmask. The context reference keeps the queue alive until
 * we leave it, even after the user closed the eventfd.
 */
struct vgpu_unmask_fd {
	struct vgpu_vfio *vv;
	struct eventfd_ctx *ctx;
	wait_queue_entry_t wait;
	poll_table pt;
	struct work_struct work;
};

static void unmask_work(struct work_struct *work)
{
	intx_unmask(container_of(work, struct vgpu_unmask_fd, work)->vv);
}

static int unmask_wake(wait_queue_entry_t *wait, unsigned int mode, int sync,
		       void *key)
{
	struct vgpu_unmask_fd *u = container_of(wait, struct vgpu_unmask_fd,
						wait);
	u64 cnt;

	if (key_to_poll(key) & EPOLLIN) {
		eventfd_ctx_do_read(u->ctx, &cnt);
		schedule_work(&u->work);
	}
	return 0;
}

static void unmask_queue(struct file *file, wait_queue_head_t *wqh,
			 poll_table *pt)
{
	struct vgpu_unmask_fd *u = container_of(pt, struct vgpu_unmask_fd, pt);

	add_wait_queue(wqh, &u->wait);
}

static void unmask_fd_disable(struct vgpu_vfio *vv)
{
	struct vgpu_unmask_fd *u = vv->irq.unmask_fd;
	u64 cnt;

	lockdep_assert_held(&vv->vgpu->lock);
	if (!u)
		return;
	vv->irq.unmask_fd = NULL;
	eventfd_ctx_remove_wait_queue(u->ctx, &u->wait, &cnt);
	cancel_work_sync(&u->work);
	eventfd_ctx_put(u->ctx);
	kfree(u);
}

static int unmask_fd_enable(struct vgpu_vfio *vv, int fd)
{
	struct vgpu_unmask_fd *u;
	__poll_t events;
	struct file *file;
	int ret;

	u = kzalloc(sizeof(*u), GFP_KERNEL_ACCOUNT);
	if (!u)
		return -ENOMEM;
	u->vv = vv;
	INIT_WORK(&u->work, unmask_work);
	init_waitqueue_func_entry(&u->wait, unmask_wake);
	init_poll_funcptr(&u->pt, unmask_queue);

	file = fget(fd);
	if (!file) {
		ret = -EBADF;
		goto err_free;
	}
	u->ctx = eventfd_ctx_fileget(file);
	if (IS_ERR(u->ctx)) {
		ret = PTR_ERR(u->ctx);
		goto err_fput;
	}
	unmask_fd_disable(vv);
	events = vfs_poll(file, &u->pt);
	/* Already signalled before we listened: do not lose it. */
	if (events & EPOLLIN)
		schedule_work(&u->work);
	vv->irq.unmask_fd = u;
	fput(file);
	return 0;

err_fput:
	fput(file);
err_free:
	kfree(u);
	return ret;
}

/* Vectors/INTx of @type off; caller holds vgpu->lock. */
static void disable_type(struct vgpu_vfio *vv)
{
	struct eventfd_ctx *intx, **old = NULL;
	unsigned int i, n = 0;
	unsigned long flags;

	lockdep_assert_held(&vv->vgpu->lock);
	unmask_fd_disable(vv);
	if (vv->irq.vec) {
		n = max(vv->vgpu->info.irqs.msi, vv->vgpu->info.irqs.msix);
		old = kcalloc(n, sizeof(*old), GFP_KERNEL);
	}
	spin_lock_irqsave(&vv->irq.lock, flags);
	intx = vv->irq.intx;
	vv->irq.intx = NULL;
	vv->irq.intx_masked = false;
	vv->irq.intx_pending = false;
	WRITE_ONCE(vv->cfg.intx_status, false);
	for (i = 0; i < n; i++) {
		if (old)
			old[i] = vv->irq.vec[i];
		else if (vv->irq.vec[i])
			/* No memory for the list: put under the lock (no sleep). */
			eventfd_ctx_put(vv->irq.vec[i]);
		vv->irq.vec[i] = NULL;
	}
	if (vv->irq.msix_pending)
		bitmap_zero(vv->irq.msix_pending, vv->vgpu->info.irqs.msix);
	vv->irq.nvec = 0;
	vv->irq.type = -1;
	spin_unlock_irqrestore(&vv->irq.lock, flags);

	put_ctx(intx);
	for (i = 0; old && i < n; i++)
		put_ctx(old[i]);
	kfree(old);
}

void vgpu_vfio_irq_disable_all(struct vgpu_vfio *vv)
{
	lockdep_assert_held(&vv->vgpu->lock);
	disable_type(vv);
	swap_ctx(vv, &vv->irq.err, NULL);
	swap_ctx(vv, &vv->irq.req, NULL);
}

static bool want(u32 flags, const u8 *data, unsigned int i)
{
	if ((flags & VFIO_IRQ_SET_DATA_TYPE_MASK) == VFIO_IRQ_SET_DATA_BOOL)
		return data[i];
	return true;
}

static int set_intx(struct vgpu_vfio *vv, struct vfio_irq_set *hdr, u8 *data)
{
	u32 dtype = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	unsigned long flags;
	s32 fd;

	lockdep_assert_held(&vv->vgpu->lock);
	switch (hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) {
	case VFIO_IRQ_SET_ACTION_MASK:
		/* As vfio-pci: masking is a property of an enabled INTx. */
		if (vv->irq.type != VFIO_PCI_INTX_IRQ_INDEX)
			return -EINVAL;
		if (dtype == VFIO_IRQ_SET_DATA_EVENTFD)
			return -EINVAL;
		if (hdr->count && want(hdr->flags, data, 0)) {
			spin_lock_irqsave(&vv->irq.lock, flags);
			vv->irq.intx_masked = true;
			spin_unlock_irqrestore(&vv->irq.lock, flags);
		}
		return 0;
	case VFIO_IRQ_SET_ACTION_UNMASK:
		if (vv->irq.type != VFIO_PCI_INTX_IRQ_INDEX)
			return -EINVAL;
		if (dtype == VFIO_IRQ_SET_DATA_EVENTFD) {
			/* count 0 comes with no payload at all */
			if (!hdr->count)
				return -EINVAL;
			fd = *(s32 *)data;
			if (fd < 0) {
				unmask_fd_disable(vv);
				return 0;
			}
			return unmask_fd_enable(vv, fd);
		}
		if (hdr->count && want(hdr->flags, data, 0))
			intx_unmask(vv);
		return 0;
	case VFIO_IRQ_SET_ACTION_TRIGGER:
		if (!hdr->count) {
			if (dtype != VFIO_IRQ_SET_DATA_NONE)
				return -EINVAL;
			if (vv->irq.type == VFIO_PCI_INTX_IRQ_INDEX)
				disable_type(vv);
			return 0;
		}
		if (dtype == VFIO_IRQ_SET_DATA_EVENTFD) {
			struct eventfd_ctx *ctx;

			fd = *(s32 *)data;
			if (fd < 0) {
				if (vv->irq.type == VFIO_PCI_INTX_IRQ_INDEX)
					disable_type(vv);
				return 0;
			}
			if (vv->irq.type >= 0 &&
			    vv->irq.type != VFIO_PCI_INTX_IRQ_INDEX)
				return -EINVAL;
			ctx = eventfd_ctx_fdget(fd);
			if (IS_ERR(ctx))
				return PTR_ERR(ctx);
			/* One critical section: a raise sees both or neither. */
			spin_lock_irqsave(&vv->irq.lock, flags);
			swap(vv->irq.intx, ctx);
			vv->irq.type = VFIO_PCI_INTX_IRQ_INDEX;
			spin_unlock_irqrestore(&vv->irq.lock, flags);
			put_ctx(ctx);
			return 0;
		}
		/* Loopback: fire as if the device had asserted INTx. */
		if (vv->irq.type == VFIO_PCI_INTX_IRQ_INDEX &&
		    want(hdr->flags, data, 0))
			raise_irq(vv, 0, false);
		return 0;
	}
	return -EINVAL;
}

static int set_vectors(struct vgpu_vfio *vv, struct vfio_irq_set *hdr,
		       u8 *data)
{
	u32 dtype = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	struct eventfd_ctx **ctx;
	unsigned long flags;
	unsigned int i;
	int ret = 0;

	lockdep_assert_held(&vv->vgpu->lock);
	if ((hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) !=
	    VFIO_IRQ_SET_ACTION_TRIGGER)
		return -EINVAL;
	if (!hdr->count) {
		if (dtype != VFIO_IRQ_SET_DATA_NONE)
			return -EINVAL;
		if (vv->irq.type == hdr->index)
			disable_type(vv);
		return 0;
	}
	if (dtype != VFIO_IRQ_SET_DATA_EVENTFD) {
		for (i = 0; i < hdr->count; i++) {
			unsigned int v = hdr->start + i;

			if (vv->irq.type == hdr->index && want(hdr->flags, data, i))
				raise_irq(vv, v, false);
		}
		return 0;
	}
	if (vv->irq.type >= 0 && vv->irq.type != hdr->index)
		return -EINVAL;
	/* NORESIZE: the count is fixed until the user disables the type. */
	if (vv->irq.type == hdr->index &&
	    hdr->start + hdr->count > vv->irq.nvec)
		return -EINVAL;

	/* Resolve every fd first, so a bad one changes nothing. */
	ctx = kcalloc(hdr->count, sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	for (i = 0; i < hdr->count; i++) {
		s32 fd = ((s32 *)data)[i];

		if (fd < 0)
			continue;
		ctx[i] = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx[i])) {
			ret = PTR_ERR(ctx[i]);
			ctx[i] = NULL;
			goto out_put;
		}
	}
	spin_lock_irqsave(&vv->irq.lock, flags);
	for (i = 0; i < hdr->count; i++)
		swap(vv->irq.vec[hdr->start + i], ctx[i]);
	/* Enabling sets the count; fd -1 later only drops a trigger. */
	if (vv->irq.type != hdr->index)
		vv->irq.nvec = hdr->start + hdr->count;
	vv->irq.type = hdr->index;
	spin_unlock_irqrestore(&vv->irq.lock, flags);
out_put:
	/* Now the old contexts (or, on error, the new ones). */
	for (i = 0; i < hdr->count; i++)
		put_ctx(ctx[i]);
	kfree(ctx);
	return ret;
}

static int set_single(struct vgpu_vfio *vv, struct eventfd_ctx **slot,
		      struct vfio_irq_set *hdr, u8 *data)
{
	u32 dtype = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	struct eventfd_ctx *ctx;
	unsigned long flags;
	s32 fd;

	if ((hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) !=
	    VFIO_IRQ_SET_ACTION_TRIGGER)
		return -EINVAL;
	if (!hdr->count) {
		if (dtype != VFIO_IRQ_SET_DATA_NONE)
			return -EINVAL;
		swap_ctx(vv, slot, NULL);
		return 0;
	}
	if (dtype != VFIO_IRQ_SET_DATA_EVENTFD) {
		spin_lock_irqsave(&vv->irq.lock, flags);
		if (*slot && want(hdr->flags, data, 0))
			vgpu_eventfd_signal(*slot);
		spin_unlock_irqrestore(&vv->irq.lock, flags);
		return 0;
	}
	fd = *(s32 *)data;
	if (fd < 0) {
		swap_ctx(vv, slot, NULL);
		return 0;
	}
	ctx = eventfd_ctx_fdget(fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	swap_ctx(vv, slot, ctx);
	return 0;
}

long vgpu_vfio_set_irqs(struct vgpu_vfio *vv, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_irq_set hdr;
	size_t data_size = 0;
	u8 *data = NULL;
	int ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	/* Checks argsz, index, flags, start + count overflow and payload. */
	ret = vfio_set_irqs_validate_and_prepare(&hdr,
			hdr.index < VFIO_PCI_NUM_IRQS ?
			num_irqs(vv, hdr.index) : 0,
			VFIO_PCI_NUM_IRQS, &data_size);
	if (ret)
		return ret;
	if (data_size) {
		data = memdup_user(arg + minsz, data_size);
		if (IS_ERR(data))
			return PTR_ERR(data);
	}

	mutex_lock(&vv->vgpu->lock);
	switch (hdr.index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		ret = set_intx(vv, &hdr, data);
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_MSIX_IRQ_INDEX:
		ret = set_vectors(vv, &hdr, data);
		break;
	case VFIO_PCI_ERR_IRQ_INDEX:
		ret = set_single(vv, &vv->irq.err, &hdr, data);
		break;
	case VFIO_PCI_REQ_IRQ_INDEX:
		ret = set_single(vv, &vv->irq.req, &hdr, data);
		break;
	default:
		ret = -EINVAL;
	}
	mutex_unlock(&vv->vgpu->lock);
	kfree(data);
	return ret;
}

void vgpu_vfio_request(struct vfio_device *vdev, unsigned int count)
{
	struct vgpu_vfio *vv = to_vv(vdev);
	unsigned long flags;
	bool sent = false;

	spin_lock_irqsave(&vv->irq.lock, flags);
	if (vv->irq.req) {
		vgpu_eventfd_signal(vv->irq.req);
		sent = true;
	}
	spin_unlock_irqrestore(&vv->irq.lock, flags);
	if (!sent && !count)
		dev_notice(vdev->dev,
			   "no device request channel; removal waits for the user to close the device\n");
}

/* The guest's config writes: INTx disable, MSI-X function mask. */
void vgpu_vfio_irq_config_changed(struct vgpu_vfio *vv)
{
	struct vgpu_cfg *cfg = &vv->cfg;
	unsigned int n = vv->vgpu->info.irqs.msix, i;
	unsigned long flags;
	bool fmask = false;

	/* cfg is the vGPU mutex's */
	lockdep_assert_held(&vv->vgpu->lock);
	if (cfg->msix_pos)
		fmask = vcfg_get16(cfg, cfg->msix_pos + PCI_MSIX_FLAGS) &
			PCI_MSIX_FLAGS_MASKALL;

	spin_lock_irqsave(&vv->irq.lock, flags);
	vv->irq.intx_disabled = vcfg_get16(cfg, PCI_COMMAND) &
				PCI_COMMAND_INTX_DISABLE;
	intx_deliver(vv);
	vv->irq.msix_fmask = fmask;
	/* Unmasking delivers what became pending meanwhile. */
	if (!fmask && n && vv->irq.type == VFIO_PCI_MSIX_IRQ_INDEX &&
	    READ_ONCE(vv->bus_master)) {
		for_each_set_bit(i, vv->irq.msix_pending, n) {
			if (msix_vector_masked(vv, i))
				continue;
			__clear_bit(i, vv->irq.msix_pending);
			if (vv->irq.vec[i])
				vgpu_eventfd_signal(vv->irq.vec[i]);
		}
	}
	if (!fmask && n && vv->irq.type != VFIO_PCI_MSIX_IRQ_INDEX)
		bitmap_zero(vv->irq.msix_pending, n);
	spin_unlock_irqrestore(&vv->irq.lock, flags);
}

int vgpu_raise_irq(struct vgpu_device *vgpu, unsigned int vector)
{
	struct vgpu_vfio *vv = READ_ONCE(vgpu->backend);

	if (!vv)
		return -ENODEV;
	return raise_irq(vv, vector, true);
}
EXPORT_SYMBOL_GPL(vgpu_raise_irq);

/*
 * @device: raised by the device (the vendor), not the user's loopback
 * trigger; only the device's MSI/MSI-X need bus mastering, being writes.
 */
static int raise_irq(struct vgpu_vfio *vv, unsigned int vector, bool device)
{
	bool master = !device || READ_ONCE(vv->bus_master);
	unsigned long flags;
	int ret = -ENODEV;

	spin_lock_irqsave(&vv->irq.lock, flags);
	switch (vv->irq.type) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		if (!vv->irq.intx)
			break;
		ret = vv->irq.intx_masked || vv->irq.intx_disabled ? -EAGAIN : 0;
		vv->irq.intx_pending = true;
		/* PCI: the status bit shows the line, even while disabled. */
		WRITE_ONCE(vv->cfg.intx_status, true);
		intx_deliver(vv);
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
		/* Beyond what the user enabled: the vendor may fall back. */
		if (vector >= vv->irq.nvec) {
			ret = -EINVAL;
		} else if (!master) {
			ret = -EIO;
		} else if (vv->irq.vec[vector]) {
			vgpu_eventfd_signal(vv->irq.vec[vector]);
			ret = 0;
		}
		break;
	case VFIO_PCI_MSIX_IRQ_INDEX:
		if (vector >= vv->irq.nvec) {
			ret = -EINVAL;
		} else if (!master) {
			ret = -EIO;
		} else if (vv->irq.msix_fmask ||
			   msix_vector_masked(vv, vector)) {
			set_bit(vector, vv->irq.msix_pending);
			ret = -EAGAIN;
		} else if (vv->irq.vec[vector]) {
			vgpu_eventfd_signal(vv->irq.vec[vector]);
			ret = 0;
		}
		break;
	}
	spin_unlock_irqrestore(&vv->irq.lock, flags);
	trace_vgpu_vfio_irq(vv->cookie, vv->irq.type, vector, ret);
	return ret;
}

void vgpu_lower_irq(struct vgpu_device *vgpu)
{
	struct vgpu_vfio *vv = READ_ONCE(vgpu->backend);
	unsigned long flags;

	if (!vv)
		return;
	spin_lock_irqsave(&vv->irq.lock, flags);
	vv->irq.intx_pending = false;
	WRITE_ONCE(vv->cfg.intx_status, false);
	spin_unlock_irqrestore(&vv->irq.lock, flags);
}
EXPORT_SYMBOL_GPL(vgpu_lower_irq);

bool vgpu_vfio_in_msix(struct vgpu_vfio *vv, unsigned int index, u64 off,
		       unsigned int size)
{
	const struct vgpu_irqs *q = &vv->vgpu->info.irqs;
	u64 t = q->msix_table_offset, p = q->msix_pba_offset;

	if (!q->msix || index != VFIO_PCI_BAR0_REGION_INDEX + q->msix_bar)
		return false;
	return (off < t + vgpu_msix_table_size(q->msix) && t < off + size) ||
	       (off < p + vgpu_msix_pba_size(q->msix) && p < off + size);
}

/*
 * The table is storage whose vector control mask bits gate delivery. Its
 * power-on state has every vector unmasked, not masked as PCI says: a VMM
 * like QEMU emulates its own table and never writes ours, so masked vectors
 * would never fire. The PBA shows what is pending and ignores writes.
 * Accesses are naturally aligned and the table and PBA 8-byte aligned, so an
 * access lies wholly inside one of them (and one table entry).
 */
int vgpu_vfio_msix_rw(struct vgpu_vfio *vv, u64 off, unsigned int size,
		      u64 *val, bool write)
{
	const struct vgpu_irqs *q = &vv->vgpu->info.irqs;
	u64 t = q->msix_table_offset, p = q->msix_pba_offset;
	unsigned long flags;
	unsigned int i;
	u64 v = 0;

	if (off >= t && off - t < vgpu_msix_table_size(q->msix)) {
		unsigned int vec = (off - t) / PCI_MSIX_ENTRY_SIZE;
		u8 *e = vv->msix_table + (off - t);

		if (write) {
			spin_lock_irqsave(&vv->irq.lock, flags);
			for (i = 0; i < size; i++)
				e[i] = *val >> (8 * i);
			/* Unmasking a vector delivers what it had pending. */
			if (vv->irq.type == VFIO_PCI_MSIX_IRQ_INDEX &&
			    READ_ONCE(vv->bus_master) &&
			    !vv->irq.msix_fmask && !msix_vector_masked(vv, vec) &&
			    __test_and_clear_bit(vec, vv->irq.msix_pending) &&
			    vv->irq.vec[vec])
				vgpu_eventfd_signal(vv->irq.vec[vec]);
			spin_unlock_irqrestore(&vv->irq.lock, flags);
		} else {
			for (i = 0; i < size; i++)
				v |= (u64)e[i] << (8 * i);
			*val = v;
		}
		return 0;
	}
	if (write)
		return 0;
	spin_lock_irqsave(&vv->irq.lock, flags);
	for (i = 0; i < size * 8; i++) {
		u64 bit = (off - p) * 8 + i;

		if (bit < q->msix && test_bit(bit, vv->irq.msix_pending))
			v |= 1ULL << i;
	}
	spin_unlock_irqrestore(&vv->irq.lock, flags);
	*val = v;
	return 0;
}
