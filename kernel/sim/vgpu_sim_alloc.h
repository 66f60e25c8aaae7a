/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VRAM slice allocator of vgpu_sim: pure logic (no locking, no kernel
 * services) so the same source also builds as a userspace unit test.
 *
 * VRAM is cut into granules (the smallest slice size, a power of two); a
 * slice is a naturally aligned power-of-two run of granules. Aligned slices
 * of one size never partially overlap, so the number of fully free aligned
 * runs of a size is exactly how many such slices can be created right now.
 *
 * Scrubbing is paid once per tenant: a granule's bit in @clean is set only
 * while it is free and known to hold zeros. vsim_alloc_put() is called only
 * after the slice was scrubbed, so it sets them; vsim_alloc_get() clears
 * them (the tenant may write) and reports which granules of the new slice
 * were not clean, for the caller to scrub before the tenant can reach them.
 * At init nothing is clean: the host or an earlier driver may have left data.
 */
#ifndef VGPU_SIM_ALLOC_H
#define VGPU_SIM_ALLOC_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stdint.h>
typedef uint64_t u64;
#endif

/* at most 64 granules: one u64 bitmap */
#define VSIM_ALLOC_MAX_GRANULES	64

struct vsim_alloc {
	u64 granule;		/* bytes, power of two */
	unsigned int nr;	/* granules managed */
	u64 used;		/* bit i: granule i belongs to a slice */
	u64 clean;		/* bit i: granule i is free and zeroed */
};

int vsim_alloc_init(struct vsim_alloc *a, u64 vram_size, u64 granule);
unsigned int vsim_alloc_available(const struct vsim_alloc *a, u64 size);
int vsim_alloc_get(struct vsim_alloc *a, u64 size, u64 *offset, u64 *dirty);
int vsim_alloc_put(struct vsim_alloc *a, u64 offset, u64 size);
u64 vsim_alloc_used_bytes(const struct vsim_alloc *a);

#endif /* VGPU_SIM_ALLOC_H */
