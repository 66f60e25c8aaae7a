/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Emulated PCI config space of a vGPU: pure logic, no kernel services, so the
 * userspace unit tests compile the same file.
 */
#ifndef _VGPU_VFIO_CONFIG_H
#define _VGPU_VFIO_CONFIG_H

#include <linux/types.h>
#include <linux/pci_regs.h>
#include "vgpu.h"

/* What a config write changed, for the caller to act on. */
#define VCFG_EV_COMMAND		0x1	/* command register changed */
#define VCFG_EV_MSI		0x2	/* MSI control changed */
#define VCFG_EV_MSIX		0x4	/* MSI-X control changed */

/* Vendor capability bodies are reached through this (NULL: read-only). */
struct vcfg_vendor_ops {
	int (*read)(void *opaque, unsigned int off, unsigned int size,
		    __u32 *val);
	int (*write)(void *opaque, unsigned int off, unsigned int size,
		     __u32 val);
	void *opaque;
};

struct vgpu_cfg {
	const struct vgpu_device_info *info;
	unsigned int size;			/* 256, or 4096 with PCIe */
	__u8 msi_pos, msix_pos, pcie_pos;	/* 0: absent */
	__u8 vendor_pos[VGPU_MAX_CONFIG_CAPS];
	/* set from any context by the interrupt code: status bit 3 */
	bool intx_status;
	__u8 data[PCI_CFG_SPACE_EXP_SIZE];	/* current values */
	__u8 wmask[PCI_CFG_SPACE_EXP_SIZE];	/* bits a write may change */
	__u8 vendor[PCI_CFG_SPACE_SIZE];	/* byte owned by a vendor cap */
};

int vgpu_info_validate(const struct vgpu_device_info *info,
		       unsigned long page_size);
int vcfg_init(struct vgpu_cfg *cfg, const struct vgpu_device_info *info);
void vcfg_reset(struct vgpu_cfg *cfg);
void vcfg_restore(struct vgpu_cfg *cfg, const __u8 *saved);
int vcfg_read(struct vgpu_cfg *cfg, unsigned int off, unsigned int size,
	      __u32 *val, const struct vcfg_vendor_ops *vops);
int vcfg_write(struct vgpu_cfg *cfg, unsigned int off, unsigned int size,
	       __u32 val, const struct vcfg_vendor_ops *vops,
	       unsigned int *events);

__u16 vcfg_get16(const struct vgpu_cfg *cfg, unsigned int off);
__u32 vcfg_get32(const struct vgpu_cfg *cfg, unsigned int off);

/* Size of the MSI-X table and PBA in bytes. */
static inline __u32 vgpu_msix_table_size(unsigned int n)
{
	return n * PCI_MSIX_ENTRY_SIZE;
}

static inline __u32 vgpu_msix_pba_size(unsigned int n)
{
	return ((n + 63) / 64) * 8;
}

/* The area of @r containing [off, off + len), or NULL. */
const struct vgpu_mmap_area *vgpu_region_area(const struct vgpu_region *r,
					      __u64 off, __u64 len,
					      struct vgpu_mmap_area *whole);

#endif /* _VGPU_VFIO_CONFIG_H */
