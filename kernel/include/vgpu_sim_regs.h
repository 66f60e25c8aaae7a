/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vgpu_sim register ABI: what a guest (or a VFIO test client) sees of a
 * simulated vGPU. Shared by the vgpu_sim module and the tests, so it holds
 * only constants and fixed-width types.
 *
 * PCI identity: 1234:1111 (QEMU stdvga/Bochs, so a Linux guest's bochs-drm
 * binds), class display, revision 2 (bochs-drm then probes the QEMU
 * extension registers), subsystem 1234:VGPU_SIM_SUBSYS_DEVICE(type).
 *
 * BAR0 (64-bit prefetchable memory, size = the type's VRAM slice):
 *   [0, size - 4K)   VRAM, mmap-able (fault-on-access onto the slice)
 *   [size - 4K, size) the mailbox page, always trapped (not mmap-able)
 *   The DISPI VIDEO_MEMORY_64K register reports size - 64K so the guest
 *   never places a buffer over the mailbox (bochs-drm logs a harmless
 *   "Size mismatch" and uses the smaller value).
 *
 * BAR2 (32-bit memory, VGPU_SIM_MMIO_SIZE, trapped): the layout QEMU gives
 * its PCI VGA devices (EDID blob, VGA ports, DISPI, QEMU extension), then
 * the vgpu_sim block (identity, copy engine, interrupt status), then the
 * MSI-X table and PBA.
 */
#ifndef VGPU_SIM_REGS_H
#define VGPU_SIM_REGS_H

#ifdef __KERNEL__
#include <linux/bits.h>
#include <linux/types.h>
#else
#include <linux/types.h>
#ifndef BIT
#define BIT(n) (1UL << (n))
#endif
#endif

/* PCI identity */
#define VGPU_SIM_PCI_VENDOR		0x1234
#define VGPU_SIM_PCI_DEVICE		0x1111
#define VGPU_SIM_PCI_REVISION		0x02
#define VGPU_SIM_PCI_CLASS		0x030000	/* display, VGA-compatible */
#define VGPU_SIM_SUBSYS_VENDOR		0x1234
/* subsystem device: 0x5600 | type index, "VS" for vgpu_sim */
#define VGPU_SIM_SUBSYS_DEVICE(t)	(0x5600 | ((t) & 0xff))

/* BARs */
#define VGPU_SIM_VRAM_BAR		0
#define VGPU_SIM_MMIO_BAR		2
#define VGPU_SIM_PAGE_SIZE		4096u
#define VGPU_SIM_MAILBOX_SIZE		VGPU_SIM_PAGE_SIZE
/* the mailbox page is the last page of BAR0 */
#define VGPU_SIM_MAILBOX_OFFSET(bar0)	((bar0) - VGPU_SIM_MAILBOX_SIZE)
/* what the guest may use as framebuffer memory: BAR0 minus a 64K unit */
#define VGPU_SIM_GUEST_VRAM(bar0)	((bar0) - 0x10000u)

/*
 * Display region: a device-specific VFIO region (index VFIO_PCI_NUM_REGIONS,
 * type VFIO_REGION_TYPE_PCI_VENDOR_TYPE | VGPU_SIM_PCI_VENDOR, subtype
 * below), read-only and mmap-able, whose offset 0 is always the current
 * scanout start in VRAM. QUERY_GFX_PLANE names it: QEMU maps a plane region
 * once and draws from its start, so the region follows page flips instead.
 */
#define VGPU_SIM_DISPLAY_REGION_SUBTYPE	1

/* Mailbox page (offsets inside it): emulated, not VRAM */
#define VGPU_SIM_MBOX_MAGIC		0x000	/* RO */
#define   VGPU_SIM_MBOX_MAGIC_VALUE	0x786f626du	/* "mbox" */
#define VGPU_SIM_MBOX_VRAM_MB		0x004	/* RO: BAR0 size in MiB */
#define VGPU_SIM_MBOX_WRITES		0x008	/* RO: emulated writes seen */
#define VGPU_SIM_MBOX_SCRATCH		0x100	/* RW scratch to the end */

/* BAR2: the QEMU PCI VGA MMIO layout that bochs-drm uses */
#define VGPU_SIM_MMIO_SIZE		0x2000u
#define VGPU_SIM_EDID_OFFSET		0x000	/* RO: EDID 1.3 block, then 0 */
#define VGPU_SIM_EDID_SIZE		0x400
#define VGPU_SIM_VGA_OFFSET		0x400	/* ports 0x3c0..0x3df */
#define VGPU_SIM_VGA_SIZE		0x20
#define VGPU_SIM_DISPI_OFFSET		0x500	/* 16-bit regs at index << 1 */
#define VGPU_SIM_DISPI_REG(i)		(VGPU_SIM_DISPI_OFFSET + ((i) << 1))
#define VGPU_SIM_QEXT_OFFSET		0x600
#define VGPU_SIM_QEXT_SIZE_REG		0x600	/* RO: size of the qext block */
#define VGPU_SIM_QEXT_BYTEORDER		0x604	/* RW */
#define   VGPU_SIM_QEXT_LITTLE_ENDIAN	0x1e1e1e1eu
#define   VGPU_SIM_QEXT_BIG_ENDIAN	0xbebebebeu
#define VGPU_SIM_QEXT_BLOCK_SIZE	8

/* Bochs DISPI register indexes and values */
#define VGPU_SIM_DISPI_ID		0x0
#define VGPU_SIM_DISPI_XRES		0x1
#define VGPU_SIM_DISPI_YRES		0x2
#define VGPU_SIM_DISPI_BPP		0x3
#define VGPU_SIM_DISPI_ENABLE		0x4
#define VGPU_SIM_DISPI_BANK		0x5
#define VGPU_SIM_DISPI_VIRT_WIDTH	0x6
#define VGPU_SIM_DISPI_VIRT_HEIGHT	0x7
#define VGPU_SIM_DISPI_X_OFFSET		0x8
#define VGPU_SIM_DISPI_Y_OFFSET		0x9
#define VGPU_SIM_DISPI_VIDEO_MEMORY_64K	0xa	/* RO */
#define VGPU_SIM_DISPI_NREGS		0xb

#define VGPU_SIM_DISPI_ID0		0xb0c0
#define VGPU_SIM_DISPI_ID5		0xb0c5	/* what we report */
#define VGPU_SIM_DISPI_ENABLED		0x01
#define VGPU_SIM_DISPI_GETCAPS		0x02
#define VGPU_SIM_DISPI_8BIT_DAC		0x20
#define VGPU_SIM_DISPI_LFB_ENABLED	0x40
#define VGPU_SIM_DISPI_NOCLEARMEM	0x80

/* vgpu_sim block in BAR2 (32-bit registers) */
#define VGPU_SIM_REG_ID			0x800	/* RO */
#define   VGPU_SIM_ID_VALUE		0x6d697376u	/* "vsim" */
#define VGPU_SIM_REG_VERSION		0x804	/* RO */
#define   VGPU_SIM_VERSION_VALUE	1
#define VGPU_SIM_REG_VRAM_SIZE		0x808	/* RO: BAR0 size in bytes */
#define VGPU_SIM_REG_MAX_RES		0x80c	/* RO: width | height << 16 */
#define VGPU_SIM_REG_HEADS		0x810	/* RO */

/* Copy engine: moves bytes between guest memory (IOVA) and the slice */
#define VGPU_SIM_CE_IOVA_LO		0x820	/* RW */
#define VGPU_SIM_CE_IOVA_HI		0x824	/* RW */
#define VGPU_SIM_CE_VRAM_OFFSET		0x828	/* RW: offset in BAR0 */
#define VGPU_SIM_CE_LENGTH		0x82c	/* RW: bytes */
#define VGPU_SIM_CE_CTRL		0x830	/* RW */
#define   VGPU_SIM_CE_CTRL_TO_GUEST	BIT(0)	/* 0: guest -> VRAM */
#define VGPU_SIM_CE_DOORBELL		0x834	/* WO: any write starts */
#define VGPU_SIM_CE_STATUS		0x838	/* RO */
#define   VGPU_SIM_CE_STATUS_BUSY	BIT(0)
#define   VGPU_SIM_CE_STATUS_DONE	BIT(1)
#define   VGPU_SIM_CE_STATUS_ERROR	BIT(2)
#define VGPU_SIM_CE_ERROR		0x83c	/* RO: last error code */
#define   VGPU_SIM_CE_ERR_NONE		0
#define   VGPU_SIM_CE_ERR_DMA		1	/* IOVA not mapped/pinnable */
#define   VGPU_SIM_CE_ERR_RANGE		2	/* VRAM range outside the slice */
#define   VGPU_SIM_CE_ERR_BUSY		3	/* doorbell while busy */
#define   VGPU_SIM_CE_ERR_UNMAPPED	4	/* IOVA unmapped during copy */
#define   VGPU_SIM_CE_ERR_LENGTH	5	/* zero or too long */
#define   VGPU_SIM_CE_ERR_RESET		6	/* aborted by reset/close */
#define VGPU_SIM_CE_DONE_COUNT		0x840	/* RO: completed copies */
#define VGPU_SIM_CE_ERROR_COUNT		0x844	/* RO: failed copies */
/* longest copy: one BAR0 worth, whatever the type */
#define VGPU_SIM_CE_MAX_LENGTH		(64u << 20)

/*
 * Interrupt causes. MSI-X: one vector per cause (both on vector 0 when the
 * user enabled only that one). MSI and INTx: one line; the guest reads
 * IRQ_STATUS and writes 1s to clear. INTx is meant to stay asserted while
 * a cause is pending; until the core re-signals at unmask
 * (kernel/sim/API-REQUESTS.md 6) a cause raised while the user has INTx
 * masked interrupts only with the next one.
 */
#define VGPU_SIM_REG_IRQ_STATUS		0x850	/* RW1C */
#define   VGPU_SIM_IRQ_COMPLETE		BIT(0)
#define   VGPU_SIM_IRQ_ERROR		BIT(1)
#define VGPU_SIM_MSIX_VEC_COMPLETE	0
#define VGPU_SIM_MSIX_VEC_ERROR		1
#define VGPU_SIM_MSIX_VECTORS		2

/* MSI-X table and PBA in BAR2 */
#define VGPU_SIM_MSIX_TABLE_OFFSET	0x1000
#define VGPU_SIM_MSIX_PBA_OFFSET	0x1800

#endif /* VGPU_SIM_REGS_H */
