// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf_import: a test-only device importer of dma-bufs, as a GPU driver
 * importing a display buffer is. It attaches from a device of its own
 * (dynamic and peer-to-peer unless told otherwise), maps the attachment and
 * reads the buffer through the DMA addresses it got, which equal physical
 * addresses while the device is not behind an IOMMU (the lab's default):
 * what it copies out is what a device would have read. One import at a
 * time per open file. Never loaded outside the tests.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "dmabuf_import.h"

MODULE_IMPORT_NS(DMA_BUF);

static struct platform_device *imp_pdev;

struct imp {
	struct mutex lock;
	struct dma_buf *buf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;		/* under the buffer's reservation */
	atomic_t moves;
};

/* The exporter took the memory back: drop the mapping, as importers must. */
static void imp_move_notify(struct dma_buf_attachment *attach)
{
	struct imp *im = attach->importer_priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	if (im->sgt) {
		dma_buf_unmap_attachment(attach, im->sgt, DMA_FROM_DEVICE);
		im->sgt = NULL;
	}
	atomic_inc(&im->moves);
}

static const struct dma_buf_attach_ops imp_p2p_ops = {
	.allow_peer2peer = true,
	.move_notify = imp_move_notify,
};

static const struct dma_buf_attach_ops imp_pages_ops = {
	.move_notify = imp_move_notify,
};

/*
 * Reads @len bytes of the mapped buffer into @dst through its DMA addresses,
 * under the reservation that keeps the mapping valid.
 */
static int imp_read(struct imp *im, void *dst, u64 len, __u32 *nents)
{
	struct scatterlist *sg;
	unsigned int i;
	u64 done = 0;

	*nents = im->sgt->nents;
	for_each_sgtable_dma_sg(im->sgt, sg, i) {
		u64 n = min_t(u64, sg_dma_len(sg), len - done);
		void *p;

		if (!n)
			break;
		/* memremap() refuses to map RAM other than write-back */
		p = memremap(sg_dma_address(sg), n,
			     pfn_valid(PHYS_PFN(sg_dma_address(sg))) ?
			     MEMREMAP_WB : MEMREMAP_WC);
		if (!p)
			return -ENOMEM;
		memcpy(dst + done, p, n);
		memunmap(p);
		done += n;
	}
	return 0;
}

/*
 * Maps the attachment (again, after a move) and copies the buffer out. The
 * copy to user memory waits for the reservation's release: a user fault
 * takes mmap_lock, which dma-buf orders before reservations.
 */
static int imp_map(struct imp *im, struct dmabuf_import *arg)
{
	u64 len = min_t(u64, arg->len, im->buf->size);
	struct sg_table *sgt;
	void *bounce;
	int ret = 0;

	bounce = kvmalloc(len ?: 1, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;
	dma_resv_lock(im->buf->resv, NULL);
	if (!im->sgt) {
		sgt = dma_buf_map_attachment(im->attach, DMA_FROM_DEVICE);
		if (IS_ERR(sgt))
			ret = PTR_ERR(sgt);
		else
			im->sgt = sgt;
	}
	if (!ret)
		ret = imp_read(im, bounce, len, &arg->nents);
	dma_resv_unlock(im->buf->resv);
	if (!ret && copy_to_user(u64_to_user_ptr(arg->buf), bounce, len))
		ret = -EFAULT;
	kvfree(bounce);
	return ret;
}

static void imp_release_buf(struct imp *im)
{
	if (!im->buf)
		return;
	if (im->sgt) {
		dma_resv_lock(im->buf->resv, NULL);
		if (im->sgt)
			dma_buf_unmap_attachment(im->attach, im->sgt,
						 DMA_FROM_DEVICE);
		im->sgt = NULL;
		dma_resv_unlock(im->buf->resv);
	}
	dma_buf_detach(im->buf, im->attach);
	dma_buf_put(im->buf);
	im->buf = NULL;
	im->attach = NULL;
}

static long imp_import(struct imp *im, struct dmabuf_import *arg)
{
	struct dma_buf_attachment *attach;
	struct device *dev = &imp_pdev->dev;
	struct dma_buf *buf;
	int ret;

	if (im->buf)
		return -EBUSY;
	/* DMA addresses are physical ones only without an IOMMU */
	if (device_iommu_mapped(dev))
		return -EOPNOTSUPP;
	buf = dma_buf_get(arg->fd);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	if (arg->flags & DMABUF_IMPORT_STATIC)
		attach = dma_buf_attach(buf, dev);
	else
		attach = dma_buf_dynamic_attach(buf, dev,
						arg->flags & DMABUF_IMPORT_NO_P2P ?
						&imp_pages_ops : &imp_p2p_ops,
						im);
	if (IS_ERR(attach)) {
		dma_buf_put(buf);
		return PTR_ERR(attach);
	}
	im->buf = buf;
	im->attach = attach;
	ret = imp_map(im, arg);
	if (ret)
		imp_release_buf(im);
	return ret;
}

static long imp_ioctl(struct file *file, unsigned int cmd, unsigned long uarg)
{
	struct imp *im = file->private_data;
	void __user *up = (void __user *)uarg;
	struct dmabuf_import arg;
	long ret;

	if (cmd == DMABUF_IMPORT_RELEASE) {
		mutex_lock(&im->lock);
		imp_release_buf(im);
		mutex_unlock(&im->lock);
		return 0;
	}
	if (cmd != DMABUF_IMPORT_IMPORT && cmd != DMABUF_IMPORT_REMAP)
		return -ENOTTY;
	if (copy_from_user(&arg, up, sizeof(arg)))
		return -EFAULT;
	mutex_lock(&im->lock);
	if (cmd == DMABUF_IMPORT_IMPORT)
		ret = imp_import(im, &arg);
	else
		ret = im->buf ? imp_map(im, &arg) : -ENOENT;
	arg.moves = atomic_read(&im->moves);
	mutex_unlock(&im->lock);
	if (copy_to_user(up, &arg, sizeof(arg)))
		return -EFAULT;
	return ret;
}

static int imp_open(struct inode *inode, struct file *file)
{
	struct imp *im = kzalloc(sizeof(*im), GFP_KERNEL);

	if (!im)
		return -ENOMEM;
	mutex_init(&im->lock);
	file->private_data = im;
	return 0;
}

static int imp_release(struct inode *inode, struct file *file)
{
	struct imp *im = file->private_data;

	imp_release_buf(im);
	mutex_destroy(&im->lock);
	kfree(im);
	return 0;
}

static const struct file_operations imp_fops = {
	.owner = THIS_MODULE,
	.open = imp_open,
	.release = imp_release,
	.unlocked_ioctl = imp_ioctl,
};

static struct miscdevice imp_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vgpu_dmabuf_import",
	.fops = &imp_fops,
};

static int __init imp_init(void)
{
	int ret;

	imp_pdev = platform_device_register_simple("vgpu_dmabuf_import", -1,
						   NULL, 0);
	if (IS_ERR(imp_pdev))
		return PTR_ERR(imp_pdev);
	ret = dma_coerce_mask_and_coherent(&imp_pdev->dev, DMA_BIT_MASK(64));
	if (!ret)
		ret = misc_register(&imp_misc);
	if (ret)
		platform_device_unregister(imp_pdev);
	return ret;
}

static void __exit imp_exit(void)
{
	misc_deregister(&imp_misc);
	platform_device_unregister(imp_pdev);
}

module_init(imp_init);
module_exit(imp_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test-only device importer of dma-bufs");
