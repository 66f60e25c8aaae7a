/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The uAPI of dmabuf_import.ko, a test-only device importer of dma-bufs
 * (/dev/vgpu_dmabuf_import), shared with sim-test.
 */
#ifndef DMABUF_IMPORT_H
#define DMABUF_IMPORT_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* struct dmabuf_import.flags */
#define DMABUF_IMPORT_STATIC	(1 << 0)	/* a non-dynamic importer */
#define DMABUF_IMPORT_NO_P2P	(1 << 1)	/* wants struct pages */

struct dmabuf_import {
	__s32 fd;		/* in (IMPORT): the dma-buf */
	__u32 flags;		/* in (IMPORT): DMABUF_IMPORT_* */
	__u64 buf;		/* in: user memory the contents are copied to */
	__u64 len;		/* in: its size */
	__u32 nents;		/* out: DMA segments of the mapping */
	__u32 moves;		/* out: move_notify() calls so far */
};

/* attach, map, copy through the DMA addresses; the attachment stays */
#define DMABUF_IMPORT_IMPORT	_IOWR('V', 0x40, struct dmabuf_import)
/* map the attachment again (after a move_notify) and copy */
#define DMABUF_IMPORT_REMAP	_IOWR('V', 0x41, struct dmabuf_import)
/* unmap, detach, drop the dma-buf */
#define DMABUF_IMPORT_RELEASE	_IO('V', 0x42)

#endif
