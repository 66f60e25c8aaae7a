/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every kernel-version difference the modules care about, in one place.
 * Built and tested on 6.1 (Debian 12) and 6.12 (Debian 13); the versions
 * between are covered on paper, each difference named with the release that
 * introduced it.
 *
 * Differences that need no code here:
 * - mdev: <linux/mdev.h> is the same from 6.1 to 6.12 (mdev_register_parent
 *   with type tables, mdev_driver.get_available/show_description).
 * - struct fd became an opaque word behind fd_file() in 6.12; vfio/irq.c
 *   uses fget()/fput(), which did not change.
 * - pci_dev.driver_override moved into struct device in Debian's 6.12.y
 *   (a stable backport); vgpu_sim learns about an override from the
 *   override_only entry of its ID table (5.16+) instead of reading it.
 * - platform_driver.remove returns void from 6.11: only the lab's test
 *   vendor (tests/kmod/core) is a platform driver; it unregisters through
 *   devres instead of .remove.
 */
#ifndef _VGPU_COMPAT_H
#define _VGPU_COMPAT_H

#include <linux/version.h>
#include <linux/eventfd.h>
#include <linux/mm.h>
#include <linux/vfio.h>

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
 * Device release: up to 6.1 the driver's .release had to end with
 * vfio_free_device(). 6.2 removed that function and the core frees the
 * vfio_device itself after .release returns, so freeing there again would
 * be a double free.
 */
static inline void vgpu_vfio_release_done(struct vfio_device *vdev)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
	vfio_free_device(vdev);
#endif
}

/*
 * iommufd (6.2+): bind_iommufd/unbind_iommufd/attach_ioas let an emulated
 * device pin pages through an iommufd access; without them (6.2-6.5) the
 * core treats the device as doing no DMA under iommufd. 6.6 added
 * detach_ioas and refuses to register a device lacking any of the four when
 * CONFIG_IOMMUFD is set. Without CONFIG_IOMMUFD <linux/vfio.h> defines the
 * helpers as NULL.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
#define VGPU_COMPAT_IOMMUFD_OPS					\
	.bind_iommufd	= vfio_iommufd_emulated_bind,		\
	.unbind_iommufd	= vfio_iommufd_emulated_unbind,		\
	.attach_ioas	= vfio_iommufd_emulated_attach_ioas,	\
	.detach_ioas	= vfio_iommufd_emulated_detach_ioas,
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
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

/* 6.12 moved <asm/unaligned.h> to <linux/unaligned.h>. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/*
 * Huge PFN maps: 6.12 calls vm_operations_struct.huge_fault for VM_PFNMAP
 * and VM_MIXEDMAP file VMAs (vma_is_special_huge()), with PMD (and PUD)
 * "special" entries where the architecture selects ARCH_SUPPORTS_PMD_PFNMAP
 * (_PUD_PFNMAP). Before, hugepage_vma_check() refused such VMAs
 * (VM_NO_KHUGEPAGED), so vfio/region.c maps the contiguous run around a
 * fault with PTEs instead.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0) && \
	defined(CONFIG_TRANSPARENT_HUGEPAGE)
#include <linux/huge_mm.h>
#include <linux/pfn_t.h>

#define VGPU_HAVE_HUGE_PFNMAP 1

/* PFN_DEV without PFN_MAP: no struct page, so the entry is special. */
static inline vm_fault_t vgpu_insert_pfn_order(struct vm_fault *vmf,
					       unsigned long pfn,
					       unsigned int order, bool write)
{
#ifdef CONFIG_ARCH_SUPPORTS_PMD_PFNMAP
	if (order == PMD_ORDER)
		return vmf_insert_pfn_pmd(vmf, __pfn_to_pfn_t(pfn, PFN_DEV),
					  write);
#endif
#ifdef CONFIG_ARCH_SUPPORTS_PUD_PFNMAP
	if (order == PUD_ORDER)
		return vmf_insert_pfn_pud(vmf, __pfn_to_pfn_t(pfn, PFN_DEV),
					  write);
#endif
	return VM_FAULT_FALLBACK;
}
#endif

/*
 * VFIO migration v2. 6.1 already has struct vfio_migration_ops
 * (migration_set_state, migration_get_state) in vfio_device.mig_ops, with
 * vfio_mig_get_next_state() and the STOP_COPY and P2P states. 6.2 added
 * the PRE_COPY states (VFIO_MIGRATION_PRE_COPY, VFIO_MIG_GET_PRECOPY_INFO)
 * and VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, whose op migration_get_data_size
 * the 6.2+ core calls without a NULL check whenever mig_ops is set.
 * Keyed on the uAPI define that came with it.
 */
#ifdef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
#define VGPU_HAVE_MIG_DATA_SIZE 1
#endif
#ifdef VFIO_MIG_GET_PRECOPY_INFO
#define VGPU_HAVE_MIG_PRECOPY 1
#endif

/*
 * Device DMA logging: struct vfio_log_ops (6.1) reports through the VFIO
 * core's iova_bitmap, part of vfio.ko up to 6.6. 6.7 moved it into iommufd
 * (symbol namespace IOMMUFD), built only with CONFIG_IOMMUFD_DRIVER, which
 * IOMMU drivers select when CONFIG_IOMMUFD is set; without it the core's
 * DMA_LOGGING_REPORT always fails (a stub), so the ops are left out there:
 * Debian 13's kernel has no IOMMUFD.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 7, 0) || \
	IS_ENABLED(CONFIG_IOMMUFD_DRIVER)
#define VGPU_HAVE_DMA_LOGGING 1
#endif

#endif /* _VGPU_COMPAT_H */
