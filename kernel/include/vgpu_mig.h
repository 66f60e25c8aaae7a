/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vgpu_mig.h - the state stream of a vGPU, as read from the VFIO migration
 * data fd in STOP_COPY and written to it in RESUMING. Shared with user space
 * tests; everything is little-endian.
 *
 * Stream = header, then payload_len bytes of sections in this order:
 *   CONFIG  the config space (cfg size bytes; writable bits are restored)
 *   MSIX    the MSI-X table, then the PBA as 64-bit words (0 bytes without
 *           MSI-X)
 *   IRQ     struct vgpu_mig_irq
 *   VENDOR  the vendor driver's blob (format &vgpu_mig_header.state_version)
 * Each section is a struct vgpu_mig_section and len bytes, padded with
 * zeroes to 8 bytes. The crc is CRC-32 (IEEE 802.3, as zlib's crc32()) over
 * the header with crc set to 0, then the payload.
 *
 * A resume refuses, with nothing applied: another magic, format version or
 * header size; other PCI IDs, vendor driver or vGPU type; a stream shorter
 * or longer than the header says, or longer than this vGPU's own state
 * could be; a checksum mismatch; a missing, unknown, misplaced or wrongly
 * sized section; non-zero reserved bytes; a blob the vendor refuses.
 */
#ifndef _VGPU_MIG_H
#define _VGPU_MIG_H

#include <linux/types.h>

#define VGPU_MIG_MAGIC		0x4d504756	/* "VGPM" */
#define VGPU_MIG_VERSION	1

struct vgpu_mig_header {
	__le32 magic;
	__le16 version;
	__le16 header_size;		/* sizeof(struct vgpu_mig_header) */
	__le16 vendor;			/* PCI IDs of the vGPU */
	__le16 device;
	__le16 subsystem_vendor;
	__le16 subsystem_device;
	char driver[24];		/* vendor module, NUL padded */
	char type[32];			/* vGPU type name, NUL padded */
	__le32 state_version;		/* of the vendor blob */
	__le32 crc;
	__le64 payload_len;		/* bytes after the header */
	__u8 reserved[40];		/* zero */
};

enum vgpu_mig_section_id {
	VGPU_MIG_SEC_CONFIG = 1,
	VGPU_MIG_SEC_MSIX = 2,
	VGPU_MIG_SEC_IRQ = 3,
	VGPU_MIG_SEC_VENDOR = 4,
};

struct vgpu_mig_section {
	__le32 id;
	__le32 reserved;		/* zero */
	__le64 len;			/* bytes of data, before padding */
};

struct vgpu_mig_irq {
	__u8 intx_pending;		/* 0 or 1: INTx raised, not delivered */
	__u8 reserved[7];		/* zero */
};

#endif /* _VGPU_MIG_H */
