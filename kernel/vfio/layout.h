/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pure helpers of vgpu_vfio (no kernel services): the region offset encoding
 * of the device fd, overflow-safe range checks and the split of an access
 * into naturally aligned pieces. Also compiled into the userspace unit tests.
 */
#ifndef _VGPU_VFIO_LAYOUT_H
#define _VGPU_VFIO_LAYOUT_H

#include <linux/types.h>

/*
 * Device fd offset = cookie << 44 | region index << 40 | offset in region.
 * The cookie is unique per vGPU (never 0): all VFIO device fds share one
 * anonymous inode, so the cookie keeps our page offsets disjoint from every
 * other device's and lets unmap_mapping_range() zap exactly one vGPU.
 */
#define VGPU_VFIO_INDEX_SHIFT	40
#define VGPU_VFIO_INDEX_BITS	4
#define VGPU_VFIO_COOKIE_SHIFT	(VGPU_VFIO_INDEX_SHIFT + VGPU_VFIO_INDEX_BITS)
#define VGPU_VFIO_COOKIE_BITS	18
#define VGPU_VFIO_MAX_COOKIE	((1U << VGPU_VFIO_COOKIE_BITS) - 1)
#define VGPU_VFIO_MAX_REGIONS	(1U << VGPU_VFIO_INDEX_BITS)
#define VGPU_VFIO_OFFSET_MASK	((1ULL << VGPU_VFIO_INDEX_SHIFT) - 1)

static inline __u64 vgpu_vfio_region_base(__u32 cookie, __u32 index)
{
	return ((__u64)cookie << VGPU_VFIO_COOKIE_SHIFT) |
	       ((__u64)index << VGPU_VFIO_INDEX_SHIFT);
}

/* Split a device fd position; false if it does not belong to @cookie. */
static inline bool vgpu_vfio_decode(__u64 pos, __u32 cookie, __u32 *index,
				    __u64 *off)
{
	if ((pos >> VGPU_VFIO_COOKIE_SHIFT) != cookie)
		return false;
	*index = (pos >> VGPU_VFIO_INDEX_SHIFT) &
		 (VGPU_VFIO_MAX_REGIONS - 1);
	*off = pos & VGPU_VFIO_OFFSET_MASK;
	return true;
}

/* [off, off + len) inside [0, size), without overflowing. */
static inline bool vgpu_range_ok(__u64 off, __u64 len, __u64 size)
{
	return off <= size && len <= size - off;
}

/*
 * Largest access at @off of at most @len bytes and at most @max (a power of
 * two, <= 8) that is naturally aligned: 8, 4, 2 or 1. @len must be > 0.
 */
static inline unsigned int vgpu_chunk(__u64 off, __u64 len, unsigned int max)
{
	unsigned int sz = max;

	while (sz > 1 && ((off & (sz - 1)) || len < sz))
		sz >>= 1;
	return sz;
}

#endif /* _VGPU_VFIO_LAYOUT_H */
