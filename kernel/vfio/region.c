// SPDX-License-Identifier: GPL-2.0-only
/*
 * Regions of a vGPU: what VFIO reports for each index, read()/write() split
 * into naturally aligned vendor accesses, and mmap with fault-on-access
 * through the vendor's mandatory translation.
 */
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/pfn_t.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "compat.h"
#include "vfio.h"
#include "trace.h"

static void set_region(struct vgpu_vfio_region *vr,
		       const struct vgpu_region *decl)
{
	vr->decl = decl;
	vr->size = decl->size;
	if (!vr->size)
		return;
	vr->flags = VFIO_REGION_INFO_FLAG_READ;
	if (!(decl->flags & VGPU_REGION_READONLY))
		vr->flags |= VFIO_REGION_INFO_FLAG_WRITE;
	if (decl->flags & VGPU_REGION_MMAP)
		vr->flags |= VFIO_REGION_INFO_FLAG_MMAP;
}

void vgpu_vfio_regions_init(struct vgpu_vfio *vv)
{
	const struct vgpu_device_info *info = &vv->vgpu->info;
	unsigned int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		set_region(&vv->regions[VFIO_PCI_BAR0_REGION_INDEX + i],
			   &info->bars[i]);
	/* Validation refused ROM flags other than READONLY: never written. */
	set_region(&vv->regions[VFIO_PCI_ROM_REGION_INDEX], &info->rom);
	vv->regions[VFIO_PCI_ROM_REGION_INDEX].flags &=
		~VFIO_REGION_INFO_FLAG_WRITE;

	vv->regions[VFIO_PCI_CONFIG_REGION_INDEX].size = vv->cfg.size;
	vv->regions[VFIO_PCI_CONFIG_REGION_INDEX].flags =
		VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	if (info->vga) {
		vv->regions[VFIO_PCI_VGA_REGION_INDEX].size = VGPU_VGA_SIZE;
		vv->regions[VFIO_PCI_VGA_REGION_INDEX].flags =
			VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	}
	for (i = 0; i < info->nr_regions; i++) {
		struct vgpu_vfio_region *vr =
			&vv->regions[VFIO_PCI_NUM_REGIONS + i];

		set_region(vr, &info->regions[i].region);
		vr->extra = &info->regions[i];
	}
	vv->nr_regions = VFIO_PCI_NUM_REGIONS + info->nr_regions;
}

static bool is_bar(unsigned int index)
{
	return index <= VFIO_PCI_BAR5_REGION_INDEX;
}

/* Config space access: the table in config.c plus its side effects. */
static int vcfg_vendor_read(void *opaque, unsigned int off, unsigned int size,
			    u32 *val)
{
	struct vgpu_vfio *vv = opaque;

	return vv->ops->config_read(vv->vgpu, off, size, val);
}

static int vcfg_vendor_write(void *opaque, unsigned int off,
			     unsigned int size, u32 val)
{
	struct vgpu_vfio *vv = opaque;

	return vv->ops->config_write(vv->vgpu, off, size, val);
}

static int config_access(struct vgpu_vfio *vv, u64 off, unsigned int size,
			 u64 *val, bool write)
{
	struct vcfg_vendor_ops vops = {
		.read = vv->ops->config_read ? vcfg_vendor_read : NULL,
		.write = vv->ops->config_write ? vcfg_vendor_write : NULL,
		.opaque = vv,
	};
	unsigned int events;
	u32 v;
	int ret;

	if (!write) {
		ret = vcfg_read(&vv->cfg, off, size, &v, &vops);
		*val = v;
		return ret;
	}
	ret = vcfg_write(&vv->cfg, off, size, *val, &vops, &events);
	if (ret)
		return ret;
	if (events & VCFG_EV_COMMAND) {
		u16 cmd = vcfg_get16(&vv->cfg, PCI_COMMAND);

		vgpu_vfio_set_memory(vv, cmd & PCI_COMMAND_MEMORY);
		WRITE_ONCE(vv->bus_master, !!(cmd & PCI_COMMAND_MASTER));
	}
	if (events)
		vgpu_vfio_irq_config_changed(vv);
	return 0;
}

static int region_access(struct vgpu_vfio *vv, unsigned int index, u64 off,
			 unsigned int size, u64 *val, bool write)
{
	struct vgpu_device *vgpu = vv->vgpu;

	lockdep_assert_held(&vgpu->lock);
	if (index == VFIO_PCI_CONFIG_REGION_INDEX)
		return config_access(vv, off, size, val, write);
	/* Frozen for migration: only read-only regions still answer. */
	if (vv->frozen && (vv->regions[index].flags &
			   VFIO_REGION_INFO_FLAG_WRITE))
		return -EIO;
	if (is_bar(index)) {
		u16 cmd = vcfg_get16(&vv->cfg, PCI_COMMAND);
		bool io = vv->regions[index].decl->flags & VGPU_REGION_IO;

		/* A disabled decoder does not answer, as on real hardware. */
		if (!(cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)))
			return -EIO;
		if (vgpu_vfio_in_msix(vv, index, off, size))
			return vgpu_vfio_msix_rw(vv, off, size, val, write);
	}
	if (write) {
		int ret = vv->ops->region_write(vgpu, index, off, size, *val);

		/* after the write: a pass copying the page sees it or resends */
		if (!ret)
			vgpu_vfio_vram_mark(vv, index, off, size);
		return ret;
	}
	return vv->ops->region_read(vgpu, index, off, size, val);
}

/*
 * One chunk (1, 2, 4 or 8 bytes, little endian) between user memory and
 * @val. Constant sizes: no hardened-usercopy check per access, which a
 * copy of a variable length costs. A buffer not aligned to the chunk takes
 * the byte copy: not every architecture's get_user() takes that.
 */
static int chunk_from_user(u64 *val, const char __user *p, unsigned int sz)
{
	u8 bytes[8] = { 0 };
	int ret;

	if (!IS_ALIGNED((unsigned long)p, sz)) {
		if (copy_from_user(bytes, p, sz))
			return -EFAULT;
		*val = get_unaligned_le64(bytes);
		return 0;
	}
	switch (sz) {
	case 1: {
		u8 v;

		ret = get_user(v, (const u8 __user *)p);
		*val = v;
		break;
	}
	case 2: {
		__le16 v;

		ret = get_user(v, (const __le16 __user *)p);
		*val = le16_to_cpu(v);
		break;
	}
	case 4: {
		__le32 v;

		ret = get_user(v, (const __le32 __user *)p);
		*val = le32_to_cpu(v);
		break;
	}
	default: {
		__le64 v;

		ret = get_user(v, (const __le64 __user *)p);
		*val = le64_to_cpu(v);
		break;
	}
	}
	return ret;
}

static int chunk_to_user(char __user *p, u64 val, unsigned int sz)
{
	u8 bytes[8];

	if (!IS_ALIGNED((unsigned long)p, sz)) {
		put_unaligned_le64(val, bytes);
		return copy_to_user(p, bytes, sz) ? -EFAULT : 0;
	}
	switch (sz) {
	case 1:
		return put_user((u8)val, (u8 __user *)p);
	case 2:
		return put_user(cpu_to_le16(val), (__le16 __user *)p);
	case 4:
		return put_user(cpu_to_le32(val), (__le32 __user *)p);
	default:
		return put_user(cpu_to_le64(val), (__le64 __user *)p);
	}
}

ssize_t vgpu_vfio_rw(struct vgpu_vfio *vv, char __user *buf, size_t count,
		     loff_t *ppos, bool write)
{
	struct vgpu_vfio_region *vr;
	unsigned int index, max;
	size_t done = 0;
	u64 off;
	int ret = 0;

	if (*ppos < 0 || !vgpu_vfio_decode(*ppos, vv->cookie, &index, &off) ||
	    index >= vv->nr_regions)
		return -EINVAL;
	vr = &vv->regions[index];
	if (!vr->size || !vgpu_range_ok(off, count, vr->size))
		return -EINVAL;
	if (write && !(vr->flags & VFIO_REGION_INFO_FLAG_WRITE))
		return -EINVAL;
	max = index == VFIO_PCI_CONFIG_REGION_INDEX ? 4 : 8;

	while (done < count) {
		unsigned int sz = vgpu_chunk(off + done, count - done, max);
		u64 val = 0;

		/* User memory is never touched with the vGPU mutex held. */
		if (write && chunk_from_user(&val, buf + done, sz)) {
			ret = -EFAULT;
			break;
		}
		mutex_lock(&vv->vgpu->lock);
		ret = region_access(vv, index, off + done, sz, &val, write);
		mutex_unlock(&vv->vgpu->lock);
		trace_vgpu_vfio_access(vv->cookie, index, off + done, sz, write,
				       val, ret);
		if (ret)
			break;
		if (!write && chunk_to_user(buf + done, val, sz)) {
			ret = -EFAULT;
			break;
		}
		done += sz;
		/* between chunks only: a single access returns at once */
		if (done < count) {
			if (fatal_signal_pending(current)) {
				ret = -EINTR;
				break;
			}
			cond_resched();
		}
	}
	if (!done)
		return ret;
	*ppos += done;
	return done;
}

long vgpu_vfio_region_info(struct vgpu_vfio *vv, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_info_cap caps = { .buf = NULL, .size = 0 };
	struct vfio_region_info info;
	struct vgpu_vfio_region *vr;
	int ret = 0;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	if (info.index >= vv->nr_regions)
		return -EINVAL;
	vr = &vv->regions[info.index];
	info.offset = vgpu_vfio_region_base(vv->cookie, info.index);
	info.size = vr->size;
	info.flags = vr->flags;
	info.cap_offset = 0;

	if ((vr->flags & VFIO_REGION_INFO_FLAG_MMAP) && vr->decl->nr_areas) {
		const struct vgpu_region *d = vr->decl;
		struct vfio_region_info_cap_sparse_mmap *sparse;
		size_t sz = struct_size(sparse, areas, d->nr_areas);
		unsigned int i;

		sparse = kzalloc(sz, GFP_KERNEL);
		if (!sparse)
			return -ENOMEM;
		sparse->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
		sparse->header.version = 1;
		sparse->nr_areas = d->nr_areas;
		for (i = 0; i < d->nr_areas; i++) {
			sparse->areas[i].offset = d->areas[i].offset;
			sparse->areas[i].size = d->areas[i].size;
		}
		ret = vfio_info_add_capability(&caps, &sparse->header, sz);
		kfree(sparse);
		if (ret)
			goto out;
	}
	if (vr->extra) {
		struct vfio_region_info_cap_type type = {
			.header.id = VFIO_REGION_INFO_CAP_TYPE,
			.header.version = 1,
			.type = vr->extra->type,
			.subtype = vr->extra->subtype,
		};

		ret = vfio_info_add_capability(&caps, &type.header,
					       sizeof(type));
		if (ret)
			goto out;
	}

	if (caps.size) {
		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		if (info.argsz < sizeof(info) + caps.size) {
			/* Too small: say how much is needed, return no chain. */
			info.argsz = sizeof(info) + caps.size;
		} else {
			vfio_info_cap_shift(&caps, sizeof(info));
			if (copy_to_user(arg + sizeof(info), caps.buf,
					 caps.size)) {
				ret = -EFAULT;
				goto out;
			}
			info.cap_offset = sizeof(info);
		}
	}
	if (copy_to_user(arg, &info, minsz))
		ret = -EFAULT;
out:
	kfree(caps.buf);
	return ret;
}

/* The cache mode of a region's mappings on top of @prot. */
static pgprot_t region_prot(const struct vgpu_vfio_region *vr, pgprot_t prot)
{
	return vgpu_vfio_pgprot(vr->decl->flags, prot);
}

/*
 * Fault-on-access: nothing is mapped at mmap() time. A fault asks the vendor
 * for the PFN and maps the physically contiguous run from there with PTEs,
 * bounded by the area, the VMA and the surrounding PMD-sized window. Where
 * the kernel takes huge entries in PFN maps (6.12, see compat.h),
 * vgpu_vfio_huge_fault() tries a PMD or PUD first and this is the fallback.
 *
 * Dirty tracking (mig.c): vm_ops has pfn_mkwrite, so mmap_region() makes
 * vm_page_prot of a shared writable VMA read-only (vma_wants_writenotify()).
 * Untracked, faults map writable entries as before. While VRAM is tracked
 * the run is mapped read-only but for the faulting page of a write fault,
 * and a later write to a read-only PTE goes through do_wp_page() ->
 * wp_pfn_shared() -> vgpu_vfio_pfn_mkwrite(). Both note the page in the
 * dirty bitmap. KVM follows the
 * same PTEs (hva_to_pfn_remapped(): a missing PTE is faulted in with
 * FAULT_FLAG_WRITE for a guest write; a read-only one makes KVM emulate the
 * write through the user address, which takes pfn_mkwrite), and the zap at
 * each pass reaches its EPT entries through the MMU notifier.
 */
static vm_fault_t vgpu_vfio_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct vgpu_vfio *vv = vma->vm_private_data;
	struct vgpu_mmap_area whole;
	const struct vgpu_mmap_area *area;
	unsigned long addr = vmf->address & PAGE_MASK;
	unsigned long end, pfn, i = 0, n;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	unsigned int index;
	u64 off, len = 0;
	bool write, tracked;
	pgprot_t wprot;

	if (!vgpu_vfio_decode((u64)vmf->pgoff << PAGE_SHIFT, vv->cookie,
			      &index, &off) || index >= vv->nr_regions ||
	    !(vv->regions[index].flags & VFIO_REGION_INFO_FLAG_MMAP))
		return VM_FAULT_SIGBUS;

	down_read(&vv->memory_lock);
	if (!READ_ONCE(vv->open) || vv->gpu_lost ||
	    (is_bar(index) && !vv->mem_enabled) ||
	    (vv->frozen &&
	     (vv->regions[index].flags & VFIO_REGION_INFO_FLAG_WRITE)))
		goto out;
	area = vgpu_region_area(vv->regions[index].decl, off, PAGE_SIZE,
				&whole);
	if (!area)
		goto out;
	if (vv->ops->mmap_pfn(vv->vgpu, index, off, &pfn, &len) ||
	    len < PAGE_SIZE)
		goto out;

	end = min(vma->vm_end, ALIGN(addr + 1, PMD_SIZE));
	n = min_t(u64, (end - addr) >> PAGE_SHIFT, len >> PAGE_SHIFT);
	n = min_t(u64, n, (area->offset + area->size - off) >> PAGE_SHIFT);
	write = (vmf->flags & FAULT_FLAG_WRITE) &&
		(vv->regions[index].flags & VFIO_REGION_INFO_FLAG_WRITE);
	tracked = vgpu_vfio_vram_tracked(vv, index, off, PAGE_SIZE);
	if (write)
		vgpu_vfio_vram_mark(vv, index, off, PAGE_SIZE);
	wprot = region_prot(&vv->regions[index],
			    vm_get_page_prot(vma->vm_flags));
	for (i = 0; i < n; i++) {
		unsigned long a = addr + (i << PAGE_SHIFT);
		bool w = (vma->vm_flags & VM_WRITE) && (!tracked || (!i && write));
		vm_fault_t r;

		/*
		 * Writable PTEs (vm_page_prot is read-only, see above) unless
		 * VRAM is tracked; then only the page being written, right
		 * away: KVM's fault-in takes one handle_mm_fault() and reads
		 * the PTE's write bit after. vmf_insert_pfn_prot() refuses
		 * memmap-backed PFNs in a mixed map; those get read-only PTEs
		 * and take pfn_mkwrite on the first write.
		 */
		if (w && !pfn_valid(pfn + i))
			r = vmf_insert_pfn_prot(vma, a, pfn + i, wprot);
		else
			r = vmf_insert_mixed(vma, a,
					     __pfn_to_pfn_t(pfn + i, PFN_DEV));

		if (r & VM_FAULT_ERROR) {
			/* Only the faulting page must succeed; the rest is a bonus. */
			if (!i) {
				ret = r;
				goto out;
			}
			break;
		}
	}
	ret = VM_FAULT_NOPAGE;
out:
	up_read(&vv->memory_lock);
	trace_vgpu_vfio_fault(vv->cookie, index, off,
			      ret == VM_FAULT_NOPAGE ? max(i, 1UL) : 0, ret);
	return ret;
}

#ifdef VGPU_HAVE_HUGE_PFNMAP
/*
 * One PMD (order 9) or PUD (order 18) entry for the naturally aligned block
 * around the fault, when the block lies inside the VMA and one mmap area and
 * the vendor backs it with contiguous, equally aligned memory. Anything else
 * falls back, in the end to vgpu_vfio_fault() and PTEs.
 */
static vm_fault_t vgpu_vfio_huge_fault(struct vm_fault *vmf,
				       unsigned int order)
{
	struct vm_area_struct *vma = vmf->vma;
	struct vgpu_vfio *vv = vma->vm_private_data;
	unsigned long size = PAGE_SIZE << order;
	unsigned long haddr = vmf->address & ~(size - 1);
	unsigned long skip = (vmf->address - haddr) >> PAGE_SHIFT;
	struct vgpu_mmap_area whole;
	vm_fault_t ret = VM_FAULT_FALLBACK;
	unsigned long pfn;
	unsigned int index;
	u64 off, len = 0;

	if (!order)
		return vgpu_vfio_fault(vmf);
	if (haddr < vma->vm_start || vma->vm_end - haddr < size ||
	    vmf->pgoff < skip ||
	    !vgpu_vfio_decode((u64)(vmf->pgoff - skip) << PAGE_SHIFT,
			      vv->cookie, &index, &off) ||
	    index >= vv->nr_regions ||
	    !(vv->regions[index].flags & VFIO_REGION_INFO_FLAG_MMAP) ||
	    !vgpu_region_area(vv->regions[index].decl, off, size, &whole))
		return VM_FAULT_FALLBACK;

	down_read(&vv->memory_lock);
	if (!READ_ONCE(vv->open) || vv->gpu_lost ||
	    (is_bar(index) && !vv->mem_enabled) ||
	    (vv->frozen &&
	     (vv->regions[index].flags & VFIO_REGION_INFO_FLAG_WRITE))) {
		ret = VM_FAULT_SIGBUS;
		goto out;
	}
	/*
	 * Tracked VRAM: page granules, so PTEs (a write to a read-only huge
	 * entry comes here from wp_huge_pmd(); FALLBACK splits it).
	 */
	if (vgpu_vfio_vram_tracked(vv, index, off, size))
		goto out;
	if (vv->ops->mmap_pfn(vv->vgpu, index, off, &pfn, &len) ||
	    len < size || !IS_ALIGNED(pfn, 1UL << order))
		goto out;
	/* untracked: writable at once, as the PTE path does */
	ret = vgpu_insert_pfn_order(vmf, pfn, order,
				    (vmf->flags & FAULT_FLAG_WRITE) ||
				    (vma->vm_flags & VM_WRITE));
out:
	up_read(&vv->memory_lock);
	if (ret != VM_FAULT_FALLBACK)
		trace_vgpu_vfio_fault(vv->cookie, index, off,
				      ret == VM_FAULT_NOPAGE ? 1UL << order : 0,
				      ret);
	return ret;
}
#endif

/*
 * A write to a read-only PTE of a writable mapping (see vgpu_vfio_fault()):
 * note the page, then let the core make the PTE writable. A zap between
 * this and finish_mkwrite_fault() fails its pte_same() and the access
 * faults again.
 */
static vm_fault_t vgpu_vfio_pfn_mkwrite(struct vm_fault *vmf)
{
	struct vgpu_vfio *vv = vmf->vma->vm_private_data;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	unsigned int index;
	u64 off;

	if (!vgpu_vfio_decode((u64)vmf->pgoff << PAGE_SHIFT, vv->cookie,
			      &index, &off) || index >= vv->nr_regions)
		return VM_FAULT_SIGBUS;
	down_read(&vv->memory_lock);
	if (!READ_ONCE(vv->open) || vv->gpu_lost ||
	    (is_bar(index) && !vv->mem_enabled) || vv->frozen)
		goto out;
	vgpu_vfio_vram_mark(vv, index, off & PAGE_MASK, PAGE_SIZE);
	ret = 0;
out:
	up_read(&vv->memory_lock);
	return ret;
}

static const struct vm_operations_struct vgpu_vfio_vm_ops = {
	.fault = vgpu_vfio_fault,
	.pfn_mkwrite = vgpu_vfio_pfn_mkwrite,
#ifdef VGPU_HAVE_HUGE_PFNMAP
	.huge_fault = vgpu_vfio_huge_fault,
#endif
};

int vgpu_vfio_mmap(struct vfio_device *vdev, struct vm_area_struct *vma)
{
	struct vgpu_vfio *vv = to_vv(vdev);
	struct vgpu_mmap_area whole;
	struct vgpu_vfio_region *vr;
	unsigned int index;
	u64 off, len;

	if (vma->vm_pgoff > (U64_MAX >> 1 >> PAGE_SHIFT))
		return -EINVAL;
	if (!vgpu_vfio_decode((u64)vma->vm_pgoff << PAGE_SHIFT, vv->cookie,
			      &index, &off) || index >= vv->nr_regions)
		return -EINVAL;
	vr = &vv->regions[index];
	/* Only what the vendor declared mmap-able, never a host BAR by default. */
	if (!(vr->flags & VFIO_REGION_INFO_FLAG_MMAP))
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	/* A read-only region stays read-only, mprotect() included. */
	if (!(vr->flags & VFIO_REGION_INFO_FLAG_WRITE)) {
		if (vma->vm_flags & VM_WRITE)
			return -EINVAL;
		vgpu_vm_flags_clear(vma, VM_MAYWRITE);
	}
	len = vma->vm_end - vma->vm_start;
	if (!vgpu_region_area(vr->decl, off, len, &whole))
		return -EINVAL;

	/*
	 * VM_MIXEDMAP, not VM_PFNMAP: vfio_iommu_type1 follows the PTEs of
	 * VM_PFNMAP VMAs into an IOMMU mapping it never revokes, which would
	 * outlive this vGPU's hold on its VRAM. VM_IO keeps GUP out and still
	 * lets KVM map it (see "VRAM and the IOMMU" in vgpu.h).
	 */
	vgpu_vm_flags_set(vma, VM_IO | VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_page_prot = region_prot(vr, vma->vm_page_prot);
	vma->vm_ops = &vgpu_vfio_vm_ops;
	vma->vm_private_data = vv;

	down_write(&vv->memory_lock);
	vv->mapping = vma->vm_file->f_mapping;
	up_write(&vv->memory_lock);
	return 0;
}

/* Caller holds memory_lock for write. */
static void zap_locked(struct vgpu_vfio *vv, u64 start, u64 len)
{
	lockdep_assert_held_write(&vv->memory_lock);
	if (vv->mapping)
		unmap_mapping_range(vv->mapping, start, len, true);
}

void vgpu_vfio_zap_range_locked(struct vgpu_vfio *vv, unsigned int index,
				u64 off, u64 len)
{
	zap_locked(vv, vgpu_vfio_region_base(vv->cookie, index) + off, len);
}

void vgpu_vfio_zap_all_locked(struct vgpu_vfio *vv)
{
	zap_locked(vv, vgpu_vfio_region_base(vv->cookie, 0),
		   1ULL << VGPU_VFIO_COOKIE_SHIFT);
	vgpu_vfio_dmabuf_revoke_locked(vv, ~0U);
}

void vgpu_vfio_zap(struct vgpu_vfio *vv, int index)
{
	down_write(&vv->memory_lock);
	if (index < 0) {
		vgpu_vfio_zap_all_locked(vv);
	} else {
		zap_locked(vv, vgpu_vfio_region_base(vv->cookie, index),
			   1ULL << VGPU_VFIO_INDEX_SHIFT);
		vgpu_vfio_dmabuf_revoke_locked(vv, BIT(index));
	}
	up_write(&vv->memory_lock);
}

void vgpu_vfio_set_memory(struct vgpu_vfio *vv, bool enabled)
{
	down_write(&vv->memory_lock);
	/* Disabling memory decode drops every BAR mapping; faults SIGBUS. */
	if (vv->mem_enabled && !enabled) {
		zap_locked(vv, vgpu_vfio_region_base(vv->cookie, 0),
			   (u64)PCI_STD_NUM_BARS << VGPU_VFIO_INDEX_SHIFT);
		vgpu_vfio_dmabuf_revoke_locked(vv, VGPU_VFIO_BARS_MASK);
	}
	vv->mem_enabled = enabled;
	up_write(&vv->memory_lock);
}

void vgpu_zap_region(struct vgpu_device *vgpu, unsigned int index)
{
	struct vgpu_vfio *vv = vgpu->backend;

	if (!vv || index >= vv->nr_regions)
		return;
	vgpu_vfio_zap(vv, index);
}
EXPORT_SYMBOL_GPL(vgpu_zap_region);
