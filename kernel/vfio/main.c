// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgpu_vfio: every vGPU as a VFIO PCI device with an emulated IOMMU. This
 * file holds the device lifetime (probe/remove/release), per-open state and
 * the ioctl dispatch; config.c, region.c, irq.c and dma.c do the rest.
 */
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "compat.h"
#include "vfio.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/* Per-vGPU offset cookies, see layout.h. */
static DEFINE_IDA(vgpu_vfio_cookies);

static int vgpu_vfio_open_device(struct vfio_device *vdev)
{
	struct vgpu_vfio *vv = to_vv(vdev);
	struct vgpu_device *vgpu = vv->vgpu;
	int ret;

	mutex_lock(&vgpu->lock);
	vv->mig_state = VFIO_DEVICE_STATE_RUNNING;
	/* A new user starts from power-on state, whatever the last one did. */
	vcfg_reset(&vv->cfg);
	vgpu_vfio_irq_reset(vv);
	vgpu_vfio_set_memory(vv, false);
	vgpu_vfio_irq_config_changed(vv);
	if (vv->ops->reset) {
		ret = vv->ops->reset(vgpu);
		if (ret)
			goto out_unlock;
	}
	if (vv->ops->open) {
		ret = vv->ops->open(vgpu);
		if (ret)
			goto out_unlock;
	}
	vgpu->opened_once = true;
	down_write(&vv->open_lock);
	WRITE_ONCE(vv->open, true);
	WRITE_ONCE(vv->bus_master, false);
	up_write(&vv->open_lock);
	ret = 0;
out_unlock:
	mutex_unlock(&vgpu->lock);
	return ret;
}

static void vgpu_vfio_close_device(struct vfio_device *vdev)
{
	struct vgpu_vfio *vv = to_vv(vdev);
	struct vgpu_device *vgpu = vv->vgpu;

	mutex_lock(&vgpu->lock);
	vgpu_vfio_mig_reset(vv);
	vgpu_vfio_irq_disable_all(vv);
	vgpu_vfio_set_memory(vv, false);
	vgpu_vfio_zap(vv, -1);
	/* The vendor unpins here, while VFIO still counts the device open. */
	if (vv->ops->close)
		vv->ops->close(vgpu);
	down_write(&vv->open_lock);
	WRITE_ONCE(vv->open, false);
	WRITE_ONCE(vv->bus_master, false);
	up_write(&vv->open_lock);
	vgpu_dmalog_reset(vv);
	/* No stale BARs or MSI state for the next user. */
	vcfg_reset(&vv->cfg);
	vgpu_vfio_irq_reset(vv);
	vgpu_vfio_irq_config_changed(vv);
	mutex_unlock(&vgpu->lock);
}

static long vgpu_vfio_get_info(struct vgpu_vfio *vv, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = vv->nr_regions;
	info.num_irqs = VFIO_PCI_NUM_IRQS;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static long vgpu_vfio_reset(struct vgpu_vfio *vv)
{
	struct vgpu_device *vgpu = vv->vgpu;
	int ret = 0;

	mutex_lock(&vgpu->lock);
	/* As vfio-pci: a reset ends a migration, back to RUNNING. */
	vgpu_vfio_mig_reset(vv);
	vcfg_reset(&vv->cfg);
	vgpu_vfio_irq_reset(vv);
	vgpu_vfio_set_memory(vv, false);
	vgpu_vfio_zap(vv, -1);
	WRITE_ONCE(vv->bus_master, false);
	vgpu_vfio_irq_config_changed(vv);
	if (vv->ops->reset)
		ret = vv->ops->reset(vgpu);
	/*
	 * Regions not gated by memory decode may fault during the vendor's
	 * reset, from translations it is replacing: zap once more after it.
	 * (Holding memory_lock across the reset instead would deadlock with
	 * a vendor that zaps from its reset, as vgpu_sim does.)
	 */
	vgpu_vfio_zap(vv, -1);
	mutex_unlock(&vgpu->lock);
	return ret;
}

static long vgpu_vfio_query_plane(struct vgpu_vfio *vv, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_gfx_plane_info,
					  region_index);
	struct vfio_device_gfx_plane_info plane;
	struct vgpu_device *vgpu = vv->vgpu;
	u32 type, kind;
	int ret;

	if (!vv->ops->query_plane)
		return -ENOTTY;
	if (copy_from_user(&plane, arg, minsz))
		return -EFAULT;
	if (plane.argsz < minsz)
		return -EINVAL;
	kind = plane.flags & ~VFIO_GFX_PLANE_TYPE_PROBE;
	if (kind != VFIO_GFX_PLANE_TYPE_REGION &&
	    (kind != VFIO_GFX_PLANE_TYPE_DMABUF || !READ_ONCE(vv->plane_dmabuf)))
		return -EINVAL;
	if (plane.flags & VFIO_GFX_PLANE_TYPE_PROBE)
		return 0;
	/* Passed through: QEMU's region display path sends 0, not PRIMARY. */
	type = plane.drm_plane_type;

	memset(&plane, 0, sizeof(plane));
	plane.drm_plane_type = type;
	mutex_lock(&vgpu->lock);
	ret = vv->ops->query_plane(vgpu, &plane);
	/* A vendor mistake must not send the VMM to a region it cannot map. */
	if (!ret && plane.drm_format &&
	    (plane.region_index >= vv->nr_regions ||
	     !(vv->regions[plane.region_index].flags &
	       VFIO_REGION_INFO_FLAG_MMAP)))
		ret = -EIO;
	/* the memory behind it, named while the vendor cannot change it */
	if (!ret && plane.drm_format && kind == VFIO_GFX_PLANE_TYPE_DMABUF)
		ret = vgpu_vfio_dmabuf_plane(vv, &plane);
	else if (kind == VFIO_GFX_PLANE_TYPE_DMABUF)
		plane.dmabuf_id = 0;
	mutex_unlock(&vgpu->lock);
	if (ret)
		return ret;
	plane.argsz = minsz;
	plane.flags = kind;
	plane.drm_plane_type = type;
	return copy_to_user(arg, &plane, minsz) ? -EFAULT : 0;
}

/* vgpu.h: the vendor asks for VFIO_GFX_PLANE_TYPE_DMABUF. */
void vgpu_set_plane_dmabuf(struct vgpu_device *vgpu, bool on)
{
	struct vgpu_vfio *vv = vgpu->backend;

	if (vv)
		WRITE_ONCE(vv->plane_dmabuf,
			   on && IS_ENABLED(CONFIG_DMA_SHARED_BUFFER));
}
EXPORT_SYMBOL_GPL(vgpu_set_plane_dmabuf);

static long vgpu_vfio_ioctl(struct vfio_device *vdev, unsigned int cmd,
			    unsigned long arg)
{
	struct vgpu_vfio *vv = to_vv(vdev);
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return vgpu_vfio_get_info(vv, uarg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return vgpu_vfio_region_info(vv, uarg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return vgpu_vfio_irq_info(vv, uarg);
	case VFIO_DEVICE_SET_IRQS:
		return vgpu_vfio_set_irqs(vv, uarg);
	case VFIO_DEVICE_RESET:
		return vgpu_vfio_reset(vv);
	case VFIO_DEVICE_QUERY_GFX_PLANE:
		return vgpu_vfio_query_plane(vv, uarg);
	case VFIO_DEVICE_GET_GFX_DMABUF:
		if (!vv->ops->query_plane)
			return -ENOTTY;
		return vgpu_vfio_get_dmabuf(vv, uarg);
	}
	return -ENOTTY;
}

static ssize_t vgpu_vfio_read(struct vfio_device *vdev, char __user *buf,
			      size_t count, loff_t *ppos)
{
	return vgpu_vfio_rw(to_vv(vdev), buf, count, ppos, false);
}

static ssize_t vgpu_vfio_write(struct vfio_device *vdev,
			       const char __user *buf, size_t count,
			       loff_t *ppos)
{
	return vgpu_vfio_rw(to_vv(vdev), (char __user *)buf, count, ppos, true);
}

/* Called when the last reference to the vfio_device goes. */
static void vgpu_vfio_release(struct vfio_device *vdev)
{
	struct vgpu_vfio *vv = to_vv(vdev);

	vgpu_vfio_irq_fini(vv);
	vgpu_vfio_mig_fini(vv);
	vgpu_vfio_dmabuf_fini(vv);
	vgpu_dmalog_fini(vv);
	if (vv->cookie)
		ida_free(&vgpu_vfio_cookies, vv->cookie);
	vgpu_vfio_release_done(vdev);
}

static const struct vfio_device_ops vgpu_vfio_dev_ops = {
	.name		= "vgpu-vfio-pci",
	.release	= vgpu_vfio_release,
	.open_device	= vgpu_vfio_open_device,
	.close_device	= vgpu_vfio_close_device,
	.read		= vgpu_vfio_read,
	.write		= vgpu_vfio_write,
	.ioctl		= vgpu_vfio_ioctl,
	.mmap		= vgpu_vfio_mmap,
	.request	= vgpu_vfio_request,
	.dma_unmap	= vgpu_vfio_dma_unmap,
	VGPU_COMPAT_IOMMUFD_OPS
};

static int vgpu_vfio_probe(struct vgpu_device *vgpu)
{
	struct device *dev = &vgpu->mdev->dev;
	struct vgpu_vfio *vv;
	int ret;

	ret = vgpu_info_validate(&vgpu->info, PAGE_SIZE);
	if (ret) {
		dev_err(dev, "vendor described an invalid device (%d)\n", ret);
		return ret;
	}

	vv = vfio_alloc_device(vgpu_vfio, vdev, dev, &vgpu_vfio_dev_ops);
	if (IS_ERR(vv))
		return PTR_ERR(vv);
	vv->vgpu = vgpu;
	vv->ops = vgpu->gpu->ops;
	init_rwsem(&vv->memory_lock);
	init_rwsem(&vv->open_lock);
	vgpu_dmalog_init(vv);

	ret = ida_alloc_range(&vgpu_vfio_cookies, 1, VGPU_VFIO_MAX_COOKIE,
			      GFP_KERNEL);
	if (ret < 0)
		goto err_put;
	vv->cookie = ret;

	vcfg_init(&vv->cfg, &vgpu->info);
	vgpu_vfio_regions_init(vv);
	ret = vgpu_vfio_irq_init(vv);
	if (ret)
		goto err_put;
	vgpu_vfio_mig_init(vv);
	ret = vgpu_vfio_dmabuf_init(vv);
	if (ret)
		goto err_put;

	/*
	 * The VFIO core makes a singleton set itself but ignores its failure
	 * (6.1 to 6.12), leaving dev_set NULL for the first open to oops on.
	 */
	ret = vfio_assign_device_set(&vv->vdev, &vv->vdev);
	if (ret)
		goto err_put;

	/* Published before registration: a user may open it right away. */
	vgpu->backend = vv;
	ret = vfio_register_emulated_iommu_dev(&vv->vdev);
	if (ret)
		goto err_unpublish;
	return 0;

err_unpublish:
	vgpu->backend = NULL;
err_put:
	/* Pairs with vfio_alloc_device(); release frees what was set up. */
	vfio_put_device(&vv->vdev);
	return ret;
}

static void vgpu_vfio_remove(struct vgpu_device *vgpu)
{
	struct vgpu_vfio *vv = vgpu->backend;

	/* Signals REQ to a current user and waits for the last close. */
	vfio_unregister_group_dev(&vv->vdev);
}

static void vgpu_vfio_free(struct vgpu_device *vgpu)
{
	struct vgpu_vfio *vv = vgpu->backend;

	vgpu->backend = NULL;
	/* Pairs with vfio_alloc_device() in probe. */
	vfio_put_device(&vv->vdev);
}

/*
 * The parent GPU's reset: faults wait on memory_lock, held for write from
 * prepare to done, nested in the GPU's vgpus_lock (held as long).
 */
static void vgpu_vfio_gpu_reset_prepare(struct vgpu_device *vgpu)
{
	struct vgpu_vfio *vv = vgpu->backend;

	down_write_nest_lock(&vv->memory_lock, &vgpu->gpu->vgpus_lock);
	vgpu_vfio_zap_all_locked(vv);
}

static void vgpu_vfio_gpu_reset_done(struct vgpu_device *vgpu)
{
	struct vgpu_vfio *vv = vgpu->backend;

	up_write(&vv->memory_lock);
}

static void vgpu_vfio_gpu_lost(struct vgpu_device *vgpu)
{
	struct vgpu_vfio *vv = vgpu->backend;

	down_write(&vv->memory_lock);
	vv->gpu_lost = true;
	vgpu_vfio_zap_all_locked(vv);
	up_write(&vv->memory_lock);
}

static const struct vgpu_backend vgpu_vfio_backend = {
	.owner	= THIS_MODULE,
	.probe	= vgpu_vfio_probe,
	.remove	= vgpu_vfio_remove,
	.free	= vgpu_vfio_free,
	.gpu_reset_prepare = vgpu_vfio_gpu_reset_prepare,
	.gpu_reset_done = vgpu_vfio_gpu_reset_done,
	.gpu_lost = vgpu_vfio_gpu_lost,
};

static int __init vgpu_vfio_init(void)
{
	return vgpu_backend_register(&vgpu_vfio_backend);
}

static void __exit vgpu_vfio_exit(void)
{
	vgpu_backend_unregister(&vgpu_vfio_backend);
}

module_init(vgpu_vfio_init);
module_exit(vgpu_vfio_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("VFIO PCI driver for vGPUs");
