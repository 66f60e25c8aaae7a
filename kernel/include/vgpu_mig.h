/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vgpu_mig.h - the state stream of a vGPU, as read from the VFIO migration
 * data fd (PRE_COPY and STOP_COPY) and written to it in RESUMING. Shared
 * with user space tests; everything is little-endian.
 *
 * Stream (format version 2) = header, then sections, each a struct
 * vgpu_mig_section and len bytes padded with zeroes to 8 bytes:
 *   VRAM    zero or more: struct vgpu_mig_vram, then npages pages of VRAM
 *           from offset. PRE_COPY sends every page once, then in later
 *           passes the pages written since the previous one; STOP_COPY
 *           sends what is left (all of VRAM without PRE_COPY). A page may
 *           come several times: the last copy wins. Only for a vendor
 *           whose VRAM the core moves (&vgpu_ops.vram_rw).
 *   CONFIG  the config space (cfg size bytes; writable bits are restored)
 *   MSIX    the MSI-X table, then the PBA as 64-bit words (0 bytes without
 *           MSI-X)
 *   IRQ     struct vgpu_mig_irq
 *   VENDOR  the vendor driver's blob (format &vgpu_mig_header.state_version)
 *   END     struct vgpu_mig_end: the length and CRC of all that came
 *           between the header and END; nothing may follow.
 * CRCs are CRC-32 (IEEE 802.3, as zlib's crc32()). The header's crc covers
 * the header with crc set to 0; a VRAM section's crc covers its struct
 * vgpu_mig_vram with crc set to 0, then the pages.
 *
 * The destination checks the header as soon as it is written, applies each
 * VRAM section as it arrives once its crc and bounds are checked, checks
 * the device state (CONFIG to END) when END is written, the vendor's blob
 * too if the vendor has &vgpu_ops.check_state, and applies it at
 * RESUMING -> STOP. All but a missing END (and the blob of a vendor
 * without check_state) fails the write() that brings it. It
 * refuses, applying nothing of the device state: another magic, format
 * version or header size; other PCI IDs, vendor driver or vGPU type; a
 * header or VRAM crc mismatch; a missing, unknown, misplaced or wrongly
 * sized section (-EFBIG for one larger than this vGPU could send); VRAM
 * outside the vGPU's; bytes after END; a stream without END; an END whose
 * length or crc does not match; non-zero reserved bytes; a blob the vendor
 * refuses. After a refusal the data fd takes no more; VRAM pages applied
 * before it stay written (the destination has not run yet; reset it and
 * resume again).
 */
#ifndef _VGPU_MIG_H
#define _VGPU_MIG_H

#include <linux/types.h>

#define VGPU_MIG_MAGIC		0x4d504756	/* "VGPM" */
#define VGPU_MIG_VERSION	2

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
	__le32 crc;			/* of this header */
	__le64 vram_size;		/* bytes of VRAM the stream may carry */
	__u8 reserved[40];		/* zero */
};

enum vgpu_mig_section_id {
	VGPU_MIG_SEC_CONFIG = 1,
	VGPU_MIG_SEC_MSIX = 2,
	VGPU_MIG_SEC_IRQ = 3,
	VGPU_MIG_SEC_VENDOR = 4,
	VGPU_MIG_SEC_VRAM = 5,
	VGPU_MIG_SEC_END = 6,
};

struct vgpu_mig_section {
	__le32 id;
	__le32 reserved;		/* zero */
	__le64 len;			/* bytes of data, before padding */
};

/* Most pages in one VRAM section. */
#define VGPU_MIG_VRAM_MAX_PAGES	64

struct vgpu_mig_vram {
	__le64 offset;			/* in VRAM, a multiple of page_size */
	__le32 page_size;		/* the source's; must be the destination's */
	__le32 npages;			/* 1..VGPU_MIG_VRAM_MAX_PAGES */
	__le32 crc;
	__le32 reserved;		/* zero */
};

struct vgpu_mig_irq {
	__u8 intx_pending;		/* 0 or 1: INTx raised, not delivered */
	__u8 reserved[7];		/* zero */
};

struct vgpu_mig_end {
	__le64 payload_len;		/* bytes between the header and END */
	__le32 crc;			/* of those bytes */
	__le32 reserved;		/* zero */
};

#ifndef __KERNEL__
/*
 * For user space: VFIO's PRE_COPY uAPI (Linux 6.2) by value, since a
 * program's uAPI headers may predate it (Debian 12's are 6.1). Use after
 * <linux/vfio.h>.
 */
#define MIG_PRE_COPY		6	/* VFIO_DEVICE_STATE_PRE_COPY */
#define MIG_PRE_COPY_P2P	7	/* VFIO_DEVICE_STATE_PRE_COPY_P2P */
#define MIG_FLAG_PRE_COPY	(1 << 2)	/* VFIO_MIGRATION_PRE_COPY */
struct mig_precopy_info {		/* struct vfio_precopy_info */
	__u32 argsz;
	__u32 flags;
	__u64 initial_bytes;
	__u64 dirty_bytes;
};

#define MIG_GET_PRECOPY_INFO	_IO(VFIO_TYPE, VFIO_BASE + 21)
#endif

#endif /* _VGPU_MIG_H */
