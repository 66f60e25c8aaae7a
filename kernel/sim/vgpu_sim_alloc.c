// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgpu_sim VRAM slice allocator (see vgpu_sim_alloc.h). Callers serialise.
 */
#ifdef __KERNEL__
#include <linux/bitops.h>
#include <linux/errno.h>
#include <linux/log2.h>
#else
#include <errno.h>
#define hweight64(x)		__builtin_popcountll(x)
#define is_power_of_2(x)	((x) != 0 && (((x) & ((x) - 1)) == 0))
#endif

#include "vgpu_sim_alloc.h"

/* mask of @n granules starting at granule @first */
static u64 run_mask(unsigned int first, unsigned int n)
{
	u64 m = n >= 64 ? ~0ULL : (1ULL << n) - 1;

	return m << first;
}

/* granules in a slice of @size, or 0 if @size is not a valid slice size */
static unsigned int slice_granules(const struct vsim_alloc *a, u64 size)
{
	if (!a->nr || size < a->granule || !is_power_of_2(size) ||
	    size / a->granule > a->nr)
		return 0;
	return size / a->granule;
}

int vsim_alloc_init(struct vsim_alloc *a, u64 vram_size, u64 granule)
{
	u64 nr;

	if (!is_power_of_2(granule))
		return -EINVAL;
	nr = vram_size / granule;
	if (!nr)
		return -ENOSPC;
	/* VRAM past the bitmap's reach is left unused, never handed out */
	if (nr > VSIM_ALLOC_MAX_GRANULES)
		nr = VSIM_ALLOC_MAX_GRANULES;
	a->granule = granule;
	a->nr = nr;
	a->used = 0;
	a->clean = 0;
	return 0;
}

unsigned int vsim_alloc_available(const struct vsim_alloc *a, u64 size)
{
	unsigned int n = slice_granules(a, size);
	unsigned int i, count = 0;

	if (!n)
		return 0;
	for (i = 0; i + n <= a->nr; i += n)
		if (!(a->used & run_mask(i, n)))
			count++;
	return count;
}

/*
 * Order of the largest free aligned block around the run at @first of @n
 * granules: placing a slice there breaks that block, so smaller is better
 * (buddy-style best fit keeps big slices available).
 */
static unsigned int free_order(const struct vsim_alloc *a, unsigned int first,
			       unsigned int n)
{
	unsigned int order = 0;

	for (;;) {
		unsigned int span = n << (order + 1);
		unsigned int start = first & ~(span - 1);

		if (span > a->nr || start + span > a->nr ||
		    (a->used & run_mask(start, span)))
			return order;
		order++;
	}
}

/*
 * On success *@dirty has bit j set for each granule j of the slice (counted
 * from its start) that the caller must scrub before handing the slice out.
 */
int vsim_alloc_get(struct vsim_alloc *a, u64 size, u64 *offset, u64 *dirty)
{
	unsigned int n = slice_granules(a, size);
	unsigned int i, best = 0, best_order = ~0U;

	if (!n)
		return -EINVAL;
	for (i = 0; i + n <= a->nr; i += n) {
		unsigned int order;

		if (a->used & run_mask(i, n))
			continue;
		order = free_order(a, i, n);
		if (order < best_order) {
			best = i;
			best_order = order;
		}
	}
	if (best_order == ~0U)
		return -ENOSPC;
	a->used |= run_mask(best, n);
	*dirty = (~a->clean & run_mask(best, n)) >> best;
	a->clean &= ~run_mask(best, n);
	*offset = (u64)best * a->granule;
	return 0;
}

int vsim_alloc_put(struct vsim_alloc *a, u64 offset, u64 size)
{
	unsigned int n = slice_granules(a, size);
	u64 first, m;

	if (!n || offset % size)
		return -EINVAL;
	/* in u64: a far offset must not wrap onto a live granule */
	first = offset / a->granule;
	if (first + n > a->nr)
		return -EINVAL;
	m = run_mask(first, n);
	/* freeing what is not wholly allocated is a caller bug */
	if ((a->used & m) != m)
		return -EINVAL;
	a->used &= ~m;
	/* the caller scrubbed it (see vgpu_sim_alloc.h) */
	a->clean |= m;
	return 0;
}

u64 vsim_alloc_used_bytes(const struct vsim_alloc *a)
{
	return (u64)hweight64(a->used) * a->granule;
}
