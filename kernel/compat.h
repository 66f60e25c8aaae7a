/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every kernel-version difference the modules care about, in one place.
 * Baseline: Linux 6.1 (mdev_register_parent with mdev_type tables, no iommufd
 * bind ops, two-argument eventfd_signal, no huge PFN-map faults).
 */
#ifndef _VGPU_COMPAT_H
#define _VGPU_COMPAT_H

#include <linux/version.h>
#include <linux/eventfd.h>
#include <linux/mm.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "vgpu needs Linux 6.1 or later (mdev_register_parent with type tables)"
#endif

/* 6.8 dropped the count argument of eventfd_signal(). */
static inline void vgpu_eventfd_signal(struct eventfd_ctx *ctx)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/*
 * 6.2 added iommufd and requires bind_iommufd/unbind_iommufd/attach_ioas
 * in the vfio_device_ops of emulated-IOMMU devices.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define VGPU_COMPAT_IOMMUFD_OPS					\
	.bind_iommufd	= vfio_iommufd_emulated_bind,		\
	.unbind_iommufd	= vfio_iommufd_emulated_unbind,		\
	.attach_ioas	= vfio_iommufd_emulated_attach_ioas,
#else
#define VGPU_COMPAT_IOMMUFD_OPS
#endif

/* 6.3 made vma->vm_flags read-only behind vm_flags_set(). */
static inline void vgpu_vm_flags_set(struct vm_area_struct *vma,
				     unsigned long flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

static inline void vgpu_vm_flags_clear(struct vm_area_struct *vma,
				       unsigned long flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

/*
 * Huge (PMD) entries in PFN maps: 6.1 never calls huge_fault for VM_PFNMAP
 * VMAs (hugepage_vma_check() refuses VM_NO_KHUGEPAGED), PFN-map huge faults
 * arrived in 6.12. On 6.1 the fault handler therefore maps the contiguous run
 * around a fault with PTEs in one go instead.
 */

#endif /* _VGPU_COMPAT_H */
