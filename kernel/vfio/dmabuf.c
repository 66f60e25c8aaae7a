// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgpu_vfio: display planes as dma-bufs (VFIO_GFX_PLANE_TYPE_DMABUF), for
 * vGPUs whose vendor turned them on with vgpu_set_plane_dmabuf().
 *
 * QUERY_GFX_PLANE takes the PFNs behind the vendor's plane region, as a
 * fault would (&vgpu_ops.mmap_pfn), and names them with an id;
 * GET_GFX_DMABUF exports them. That memory is the user's only as long as
 * the region's own mappings are, so ids and exports are revoked wherever
 * those are zapped: vgpu_zap_region(), memory decode off (BARs), reset,
 * close, the parent GPU's reset or loss. A revoked export's CPU mappings
 * are zapped and fault SIGBUS, and it cannot be mapped again; a page flip
 * thus ends the previous frame's buffers and the next query names new ones.
 *
 * Read-only memory: a display reads planes, and a write through an export
 * would escape migration's VRAM dirty tracking. CPU mappings may be
 * writable, as importers such as Mesa's llvmpipe map buffers, but a store
 * faults SIGBUS; devices get mappings for reading (DMA_TO_DEVICE, which an
 * IOMMU enforces). Device importers must be dynamic: revocation sends them
 * move_notify() and their next map fails; a pinned mapping could not be
 * taken back.
 *
 * Locks, outermost first: vgpu->lock, memory_lock, the vGPU's
 * vgpu_dmabuf_set.lock, an export's vgpu_dmabuf.lock, the buffer's
 * reservation. Faults take only the export's lock, under mmap_lock.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/kref.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/pfn_t.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "compat.h"
#include "vfio.h"

MODULE_IMPORT_NS(DMA_BUF);

/* Whatever an importer asks for, a device may only read. */
#define VGPU_DMABUF_DIR	DMA_TO_DEVICE

/* Ids a vGPU keeps at once; the oldest is forgotten first. */
#define VGPU_PLANE_IDS	16

/*
 * A vGPU's ids and live exports. Exports outlive the vGPU (a user keeps
 * the fd): each holds a reference, so their release can still lock it.
 */
struct vgpu_dmabuf_set {
	struct kref ref;
	struct mutex lock;
	struct list_head plane_bufs;
	struct list_head dmabufs;
	u32 next_id;
};

struct vgpu_pfn_run {
	unsigned long pfn;
	unsigned long npages;
};

/* What a dmabuf_id names: the memory behind a plane when it was queried. */
struct vgpu_plane_buf {
	struct kref ref;		/* the id, and each export */
	struct list_head node;		/* set->plane_bufs */
	u32 id;
	u32 index;			/* the region it was taken from */
	struct vfio_device_gfx_plane_info plane;
	u32 decl_flags;			/* the region's VGPU_REGION_* */
	bool pages;			/* memory with struct pages (RAM) */
	struct pci_dev *provider;	/* the GPU, for P2P: NULL if not PCI */
	unsigned long npages;
	unsigned int nr_runs;
	struct vgpu_pfn_run runs[];
};

/* One export of it. */
struct vgpu_dmabuf {
	struct list_head node;		/* set->dmabufs, until revoked */
	struct vgpu_dmabuf_set *set;
	struct vgpu_plane_buf *pb;
	struct dma_buf *buf;
	/* revoked and the mappings, against faults and VMA open/close */
	struct rw_semaphore lock;
	bool revoked;
	unsigned int nr_vmas;
	struct address_space *mapping;	/* of the dma-buf file, once mapped */
};

static void plane_buf_free(struct kref *ref)
{
	kvfree(container_of(ref, struct vgpu_plane_buf, ref));
}

static void plane_buf_put(struct vgpu_plane_buf *pb)
{
	kref_put(&pb->ref, plane_buf_free);
}

static void set_free(struct kref *ref)
{
	struct vgpu_dmabuf_set *set = container_of(ref, struct vgpu_dmabuf_set,
						   ref);

	mutex_destroy(&set->lock);
	kfree(set);
}

static vm_fault_t vgpu_dmabuf_fault(struct vm_fault *vmf)
{
	struct vgpu_dmabuf *d = vmf->vma->vm_private_data;
	const struct vgpu_plane_buf *pb = d->pb;
	unsigned long pgoff = vmf->pgoff;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	unsigned int i;

	down_read(&d->lock);
	if (d->revoked || pgoff >= pb->npages)
		goto out;
	for (i = 0; pgoff >= pb->runs[i].npages; i++)
		pgoff -= pb->runs[i].npages;
	ret = vmf_insert_mixed(vmf->vma, vmf->address & PAGE_MASK,
			       __pfn_to_pfn_t(pb->runs[i].pfn + pgoff,
					      PFN_DEV));
out:
	up_read(&d->lock);
	return ret;
}

/*
 * Revocation zaps through the file's mapping, which is safe only while a
 * VMA holds the file: count them (fork and split open, munmap closes).
 */
static void vgpu_dmabuf_vm_open(struct vm_area_struct *vma)
{
	struct vgpu_dmabuf *d = vma->vm_private_data;

	down_write(&d->lock);
	d->nr_vmas++;
	up_write(&d->lock);
}

static void vgpu_dmabuf_vm_close(struct vm_area_struct *vma)
{
	struct vgpu_dmabuf *d = vma->vm_private_data;

	down_write(&d->lock);
	d->nr_vmas--;
	up_write(&d->lock);
}

/*
 * A store through a writable mapping: the PTEs are read-only (pfn_mkwrite
 * makes mmap_region() leave vm_page_prot without write), so it ends here.
 */
static vm_fault_t vgpu_dmabuf_pfn_mkwrite(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static const struct vm_operations_struct vgpu_dmabuf_vm_ops = {
	.pfn_mkwrite = vgpu_dmabuf_pfn_mkwrite,
	.open = vgpu_dmabuf_vm_open,
	.close = vgpu_dmabuf_vm_close,
	.fault = vgpu_dmabuf_fault,
};

static int vgpu_dmabuf_mmap(struct dma_buf *buf, struct vm_area_struct *vma)
{
	struct vgpu_dmabuf *d = buf->priv;
	int ret = 0;

	/* No private (copy-on-write) maps. */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	down_write(&d->lock);
	if (d->revoked) {
		ret = -ENODEV;
		goto out;
	}
	/* As the region's own mappings: no GUP, no IOMMU mapping by type1. */
	vgpu_vm_flags_set(vma, VM_IO | VM_MIXEDMAP | VM_DONTEXPAND |
			       VM_DONTDUMP);
	vma->vm_page_prot = vgpu_vfio_pgprot(d->pb->decl_flags,
					     vma->vm_page_prot);
	vma->vm_ops = &vgpu_dmabuf_vm_ops;
	vma->vm_private_data = d;
	d->mapping = vma->vm_file->f_mapping;
	d->nr_vmas++;
out:
	up_write(&d->lock);
	return ret;
}

/*
 * Device importers: dynamic ones only, which take move_notify() at
 * revocation and map again (failing then), never a pinned mapping that
 * could not be taken back. Device memory has no struct page: such an
 * importer must accept DMA addresses alone (peer2peer).
 */
static int vgpu_dmabuf_attach(struct dma_buf *buf,
			      struct dma_buf_attachment *attach)
{
	struct vgpu_dmabuf *d = buf->priv;
	const struct vgpu_plane_buf *pb = d->pb;
	int ret = 0;

	if (!dma_buf_attachment_is_dynamic(attach))
		return -EOPNOTSUPP;
	if (!pb->pages && !attach->peer2peer)
		return -EOPNOTSUPP;
	/* not revoked: the GPU is still there */
	down_read(&d->lock);
	if (d->revoked)
		ret = -ENODEV;
	/*
	 * Both on PCI: the fabric must route between them. Without
	 * CONFIG_PCI_P2PDMA (Debian's kernels) nothing can tell, and the
	 * importer's allow_peer2peer decides.
	 */
	else if (IS_ENABLED(CONFIG_PCI_P2PDMA) && !pb->pages &&
		 pb->provider && dev_is_pci(attach->dev) &&
		 pci_p2pdma_distance(pb->provider, attach->dev, false) < 0)
		ret = -EOPNOTSUPP;
	up_read(&d->lock);
	return ret;
}

/*
 * The memory never moves, so a pin is nothing to do. Only dynamic importers
 * get here (attach refused the rest): kernels without
 * CONFIG_DMABUF_MOVE_NOTIFY (Debian's) pin theirs at every map, and
 * revocation still reaches them through move_notify().
 */
static int vgpu_dmabuf_pin(struct dma_buf_attachment *attach)
{
	return dma_buf_attachment_is_dynamic(attach) ? 0 : -EOPNOTSUPP;
}

static void vgpu_dmabuf_unpin(struct dma_buf_attachment *attach)
{
}

static void unmap_runs(struct dma_buf_attachment *attach,
		       struct sg_table *sgt, bool pages, unsigned int n)
{
	struct scatterlist *sg;
	unsigned int i;

	if (pages) {
		dma_unmap_sgtable(attach->dev, sgt, VGPU_DMABUF_DIR, 0);
	} else {
		for_each_sgtable_dma_sg(sgt, sg, i) {
			if (i == n)
				break;
			dma_unmap_resource(attach->dev, sg_dma_address(sg),
					   sg_dma_len(sg), VGPU_DMABUF_DIR,
					   DMA_ATTR_SKIP_CPU_SYNC);
		}
	}
	sg_free_table(sgt);
	kfree(sgt);
}

/* Called with the buffer's reservation held, as revocation takes it. */
static struct sg_table *vgpu_dmabuf_map(struct dma_buf_attachment *attach,
					enum dma_data_direction dir)
{
	struct vgpu_dmabuf *d = attach->dmabuf->priv;
	const struct vgpu_plane_buf *pb = d->pb;
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned int i;
	int ret;

	dma_resv_assert_held(attach->dmabuf->resv);
	if (d->revoked)
		return ERR_PTR(-ENODEV);
	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table(sgt, pb->nr_runs, GFP_KERNEL);
	if (ret)
		goto err_free;
	for_each_sgtable_sg(sgt, sg, i)
		sg_set_page(sg, pb->pages ? pfn_to_page(pb->runs[i].pfn) : NULL,
			    pb->runs[i].npages << PAGE_SHIFT, 0);
	if (pb->pages) {
		ret = dma_map_sgtable(attach->dev, sgt, VGPU_DMABUF_DIR, 0);
		if (ret)
			goto err_table;
		return sgt;
	}
	for_each_sgtable_sg(sgt, sg, i) {
		dma_addr_t a = dma_map_resource(attach->dev,
						PFN_PHYS(pb->runs[i].pfn),
						sg->length, VGPU_DMABUF_DIR,
						DMA_ATTR_SKIP_CPU_SYNC);

		if (dma_mapping_error(attach->dev, a)) {
			unmap_runs(attach, sgt, false, i);
			return ERR_PTR(-EIO);
		}
		sg_dma_address(sg) = a;
		sg_dma_len(sg) = sg->length;
	}
	return sgt;

err_table:
	sg_free_table(sgt);
err_free:
	kfree(sgt);
	return ERR_PTR(ret);
}

static void vgpu_dmabuf_unmap(struct dma_buf_attachment *attach,
			      struct sg_table *sgt,
			      enum dma_data_direction dir)
{
	struct vgpu_dmabuf *d = attach->dmabuf->priv;

	unmap_runs(attach, sgt, d->pb->pages, UINT_MAX);
}

/* The last file reference: no VMA is left, the vGPU may be gone. */
static void vgpu_dmabuf_release(struct dma_buf *buf)
{
	struct vgpu_dmabuf *d = buf->priv;
	struct vgpu_dmabuf_set *set = d->set;

	mutex_lock(&set->lock);
	if (!d->revoked)
		list_del(&d->node);
	mutex_unlock(&set->lock);
	kref_put(&set->ref, set_free);
	plane_buf_put(d->pb);
	kfree(d);
}

static const struct dma_buf_ops vgpu_dmabuf_ops = {
	.attach = vgpu_dmabuf_attach,
	.pin = vgpu_dmabuf_pin,
	.unpin = vgpu_dmabuf_unpin,
	.map_dma_buf = vgpu_dmabuf_map,
	.unmap_dma_buf = vgpu_dmabuf_unmap,
	.release = vgpu_dmabuf_release,
	.mmap = vgpu_dmabuf_mmap,
};

int vgpu_vfio_dmabuf_init(struct vgpu_vfio *vv)
{
	struct vgpu_dmabuf_set *set = kzalloc(sizeof(*set), GFP_KERNEL);

	if (!set)
		return -ENOMEM;
	kref_init(&set->ref);
	mutex_init(&set->lock);
	INIT_LIST_HEAD(&set->plane_bufs);
	INIT_LIST_HEAD(&set->dmabufs);
	vv->dmabuf_set = set;
	return 0;
}

/* At the device's release: every export was revoked at close. */
void vgpu_vfio_dmabuf_fini(struct vgpu_vfio *vv)
{
	if (vv->dmabuf_set)
		kref_put(&vv->dmabuf_set->ref, set_free);
	vv->dmabuf_set = NULL;
}

/*
 * Forgets the ids and revokes the exports of the regions in @regions
 * (a mask of region indexes). Caller holds memory_lock for write.
 */
void vgpu_vfio_dmabuf_revoke_locked(struct vgpu_vfio *vv, u32 regions)
{
	struct vgpu_dmabuf_set *set = vv->dmabuf_set;
	struct vgpu_plane_buf *pb, *pn;
	struct vgpu_dmabuf *d, *dn;

	lockdep_assert_held_write(&vv->memory_lock);
	mutex_lock(&set->lock);
	list_for_each_entry_safe(pb, pn, &set->plane_bufs, node) {
		if (!(regions & BIT(pb->index)))
			continue;
		list_del(&pb->node);
		plane_buf_put(pb);
	}
	list_for_each_entry_safe(d, dn, &set->dmabufs, node) {
		if (!(regions & BIT(d->pb->index)))
			continue;
		list_del(&d->node);
		down_write(&d->lock);
		dma_resv_lock(d->buf->resv, NULL);
		d->revoked = true;
		/* importers unmap; their next map fails */
		dma_buf_move_notify(d->buf);
		dma_resv_unlock(d->buf->resv);
		if (d->nr_vmas)
			unmap_mapping_range(d->mapping, 0, 0, true);
		up_write(&d->lock);
	}
	mutex_unlock(&set->lock);
}

/*
 * Walks the plane's PFNs into @runs (just counts them when NULL); the
 * plane must lie inside one mmap-able area of its region.
 */
static int plane_runs(struct vgpu_vfio *vv, u32 index, unsigned long npages,
		      struct vgpu_pfn_run *runs, unsigned int *nr)
{
	unsigned long done = 0, pfn, n;
	struct vgpu_mmap_area whole;
	u64 len;

	if (!vgpu_region_area(vv->regions[index].decl, 0,
			      (u64)npages << PAGE_SHIFT, &whole))
		return -EIO;
	*nr = 0;
	while (done < npages) {
		if (vv->ops->mmap_pfn(vv->vgpu, index, (u64)done << PAGE_SHIFT,
				      &pfn, &len) || len < PAGE_SIZE)
			return -EIO;
		n = min_t(u64, len >> PAGE_SHIFT, npages - done);
		if (runs) {
			runs[*nr].pfn = pfn;
			runs[*nr].npages = n;
		}
		(*nr)++;
		done += n;
	}
	return 0;
}

static bool plane_same(const struct vgpu_plane_buf *a,
		       const struct vgpu_plane_buf *b)
{
	const struct vfio_device_gfx_plane_info *p = &a->plane, *q = &b->plane;

	return a->index == b->index && p->drm_format == q->drm_format &&
	       p->drm_format_mod == q->drm_format_mod &&
	       p->width == q->width && p->height == q->height &&
	       p->stride == q->stride && a->npages == b->npages &&
	       a->nr_runs == b->nr_runs &&
	       !memcmp(a->runs, b->runs, a->nr_runs * sizeof(a->runs[0]));
}

/* The buffer named @id, or NULL. Caller holds set->lock. */
static struct vgpu_plane_buf *plane_buf_find(struct vgpu_dmabuf_set *set,
					     u32 id)
{
	struct vgpu_plane_buf *pb;

	list_for_each_entry(pb, &set->plane_bufs, node)
		if (pb->id == id)
			return pb;
	return NULL;
}

/*
 * @plane is what the vendor described (drm_format set, region checked to
 * be mmap-able); sets its dmabuf_id. Caller holds vgpu->lock, so the
 * vendor's translation stays as it described it.
 */
int vgpu_vfio_dmabuf_plane(struct vgpu_vfio *vv,
			   struct vfio_device_gfx_plane_info *plane)
{
	struct vgpu_dmabuf_set *set = vv->dmabuf_set;
	u32 index = plane->region_index;
	unsigned long npages = plane->size >> PAGE_SHIFT;
	struct vgpu_plane_buf *pb, *old;
	unsigned int nr, nr2, count = 0;
	int ret;

	if (!plane->size || !PAGE_ALIGNED(plane->size) ||
	    plane->size > vv->regions[index].size)
		return -EIO;

	down_read(&vv->memory_lock);
	/* The region's own faults would fail now: so does the export. */
	if (!READ_ONCE(vv->open) || vv->gpu_lost ||
	    (index <= VFIO_PCI_BAR5_REGION_INDEX && !vv->mem_enabled)) {
		ret = -EBUSY;
		goto out;
	}
	ret = plane_runs(vv, index, npages, NULL, &nr);
	if (ret)
		goto out;
	pb = kvzalloc(struct_size(pb, runs, nr), GFP_KERNEL);
	if (!pb) {
		ret = -ENOMEM;
		goto out;
	}
	kref_init(&pb->ref);
	pb->index = index;
	pb->plane = *plane;
	pb->decl_flags = vv->regions[index].decl->flags;
	pb->npages = npages;
	ret = plane_runs(vv, index, npages, pb->runs, &nr2);
	if (!ret && nr2 != nr)
		ret = -EAGAIN;
	pb->nr_runs = nr;
	/* all RAM or all device memory: one way to map it for a device */
	pb->pages = pfn_valid(pb->runs[0].pfn);
	for (nr2 = 1; !ret && nr2 < nr; nr2++)
		if (pfn_valid(pb->runs[nr2].pfn) != pb->pages)
			ret = -EIO;
	if (ret) {
		kvfree(pb);
		goto out;
	}
	if (dev_is_pci(vv->vgpu->gpu->dev))
		pb->provider = to_pci_dev(vv->vgpu->gpu->dev);

	mutex_lock(&set->lock);
	list_for_each_entry(old, &set->plane_bufs, node) {
		if (plane_same(old, pb)) {
			plane->dmabuf_id = old->id;
			kvfree(pb);
			goto unlock;
		}
		count++;
	}
	if (count >= VGPU_PLANE_IDS) {
		old = list_first_entry(&set->plane_bufs, struct vgpu_plane_buf,
				       node);
		list_del(&old->node);
		plane_buf_put(old);
	}
	/* never 0, never one still named */
	do {
		pb->id = ++set->next_id;
	} while (!pb->id || plane_buf_find(set, pb->id));
	list_add_tail(&pb->node, &set->plane_bufs);
	plane->dmabuf_id = pb->id;
unlock:
	mutex_unlock(&set->lock);
out:
	up_read(&vv->memory_lock);
	return ret;
}

/* VFIO_DEVICE_GET_GFX_DMABUF: a new dma-buf fd for a queried id. */
long vgpu_vfio_get_dmabuf(struct vgpu_vfio *vv, u32 __user *arg)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp);
	struct vgpu_dmabuf_set *set = vv->dmabuf_set;
	struct vgpu_plane_buf *pb;
	struct vgpu_dmabuf *d;
	struct dma_buf *buf;
	u32 id;
	int fd;

	if (get_user(id, arg))
		return -EFAULT;
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	init_rwsem(&d->lock);

	mutex_lock(&set->lock);
	pb = plane_buf_find(set, id);
	if (!pb) {
		mutex_unlock(&set->lock);
		kfree(d);
		return -ENOENT;
	}
	exp.ops = &vgpu_dmabuf_ops;
	exp.size = pb->npages << PAGE_SHIFT;
	exp.flags = O_RDWR;
	exp.priv = d;
	buf = dma_buf_export(&exp);
	if (IS_ERR(buf)) {
		mutex_unlock(&set->lock);
		kfree(d);
		return PTR_ERR(buf);
	}
	kref_get(&pb->ref);
	kref_get(&set->ref);
	d->set = set;
	d->pb = pb;
	d->buf = buf;
	list_add_tail(&d->node, &set->dmabufs);
	mutex_unlock(&set->lock);

	fd = dma_buf_fd(buf, O_CLOEXEC);
	if (fd < 0)
		dma_buf_put(buf);	/* release undoes the rest */
	return fd;
}
