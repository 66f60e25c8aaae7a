/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The register ABI of the vgpu_test vendor driver, shared by the module and
 * the userspace VFIO client (macros only).
 */
#ifndef _VGPU_TEST_REGS_H
#define _VGPU_TEST_REGS_H

#define VT_VENDOR		0x1b36
#define VT_DEVICE_SMALL		0x7601
#define VT_DEVICE_BIG		0x7602
#define VT_DEVICE_HUGE		0x7603
#define VT_REVISION		0x05
#define VT_SMALL_MAX		4
#define VT_BIG_MAX		2
#define VT_SMALL_MSI		4
#define VT_SMALL_MSIX		16

#define VT_BAR0_SIZE		0x100000
#define VT_BAR0_TRAP		0x80000		/* the one trapped page */
#define VT_DISP_SIZE		0x10000	/* read-only, word i = VT_DISP_WORD(i) */
#define VT_DISP_WORD(i)		(0xd1500000u + (i))
#define VT_BAR2_SIZE		0x1000
#define VT_IO_SIZE		32
#define VT_ROM_SIZE		2048
#define VT_VGA_SIZE		0xc0000	/* big type only: the VFIO VGA region */
#define VT_VGA_PORTS		0xa03c0	/* VGA region offset of I/O port 0x3c0 */
#define VT_VGA_PORTS_LEN	0x20
#define VT_ROM_BYTE(o)		((o) == 0 ? 0x55 : (o) == 1 ? 0xaa : ((o) * 7) & 0xff)

/* BAR2 registers, 64-bit */
#define VT_REG_ID		0x00
#define VT_ID_MAGIC		0x76677075ULL
#define VT_REG_SCRATCH		0x08
#define VT_REG_IRQ		0x10	/* write: raise vector */
#define VT_REG_IRQ_RESULT	0x18	/* vgpu_raise_irq() result */
#define VT_REG_DMA_IOVA		0x20
#define VT_REG_DMA_LEN		0x28
#define VT_REG_DMA_CMD		0x30
#define VT_REG_DMA_RESULT	0x38
#define VT_REG_PINNED		0x40	/* pages pinned now */
#define VT_REG_PFN_CALLS	0x48	/* mmap_pfn calls so far (faults served) */
#define VT_REG_IRQ_LOWER	0x50	/* write: vgpu_lower_irq() */
#define VT_REG_EIO		0xf00	/* 16 bytes that fail with -EIO */
#define VT_REG_EIO_LEN		16
#define VT_MSIX_TABLE		0x800
#define VT_MSIX_PBA		0xc00

#define VT_DMA_FROM_GUEST	1	/* guest[iova, +len) -> BAR0[0, len) */
#define VT_DMA_TO_GUEST		2	/* BAR0[0, len) -> guest[iova, +len) */
#define VT_DMA_PIN		3	/* pin the page at iova */
#define VT_DMA_UNPIN_ALL	4

/* Vendor capability: where the core places it (after MSI, MSI-X, PCIe). */
#define VT_CAP_LEN		8
#define VT_CAP_POS(small)	((small) ? 0x90 : 0x50)

/* Small type: extended config space 0x100..0x10f is the vendor's (a VSEC). */
#define VT_EXT_SIZE		0x10
#define VT_EXT_HDR		0x0001000b	/* PCI_EXT_CAP_ID_VNDR, v1, last */
#define VT_EXT_VSEC_HDR		0x01000001	/* ID 1, rev 0, length 0x10 */
#define VT_EXT_SCRATCH		0x108		/* 8 bytes, read/write */

#define VT_PLANE_W		64
#define VT_PLANE_H		64

#endif /* _VGPU_TEST_REGS_H */
