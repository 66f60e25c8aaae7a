// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of vgpu_sim's VRAM slice allocator, built from the module's own
 * source (kernel/sim/vgpu_sim_alloc.c): fixed scenarios, then a random walk
 * checked against a brute-force model of VRAM and of which granules hold
 * zeros (scrub tracking).
 */
#include <errno.h>
#include <glib.h>

#include "vgpu_sim_alloc.h"

#define MiB (1ULL << 20)

/* granules a get asks the caller to scrub; checked where it matters */
static u64 dirty;

static void test_init(void)
{
	struct vsim_alloc a;

	g_assert_cmpint(vsim_alloc_init(&a, 256 * MiB, 24 * MiB), ==, -EINVAL);
	g_assert_cmpint(vsim_alloc_init(&a, 8 * MiB, 16 * MiB), ==, -ENOSPC);
	g_assert_cmpint(vsim_alloc_init(&a, 256 * MiB, 16 * MiB), ==, 0);
	g_assert_cmpuint(a.nr, ==, 16);
	g_assert_cmpuint(vsim_alloc_available(&a, 16 * MiB), ==, 16);
	g_assert_cmpuint(vsim_alloc_available(&a, 32 * MiB), ==, 8);
	g_assert_cmpuint(vsim_alloc_available(&a, 64 * MiB), ==, 4);
	g_assert_cmpuint(vsim_alloc_available(&a, 256 * MiB), ==, 1);
	g_assert_cmpuint(vsim_alloc_available(&a, 512 * MiB), ==, 0);
	/* sizes that are no slice: not a power of two, below the granule */
	g_assert_cmpuint(vsim_alloc_available(&a, 48 * MiB), ==, 0);
	g_assert_cmpuint(vsim_alloc_available(&a, 8 * MiB), ==, 0);
	g_assert_cmpuint(vsim_alloc_available(&a, 0), ==, 0);
	/* VRAM beyond 64 granules is never handed out */
	g_assert_cmpint(vsim_alloc_init(&a, 2048 * MiB, 16 * MiB), ==, 0);
	g_assert_cmpuint(a.nr, ==, 64);
	g_assert_cmpuint(vsim_alloc_available(&a, 1024 * MiB), ==, 1);
}

static void test_bad_sizes(void)
{
	struct vsim_alloc a;
	guint64 off = 12345;

	g_assert_cmpint(vsim_alloc_init(&a, 128 * MiB, 16 * MiB), ==, 0);
	g_assert_cmpint(vsim_alloc_get(&a, 0, &off, &dirty), ==, -EINVAL);
	g_assert_cmpint(vsim_alloc_get(&a, 48 * MiB, &off, &dirty), ==, -EINVAL);
	g_assert_cmpint(vsim_alloc_get(&a, 256 * MiB, &off, &dirty), ==, -EINVAL);
	g_assert_cmpuint(off, ==, 12345);
	g_assert_cmpuint(vsim_alloc_used_bytes(&a), ==, 0);
}

static void test_uneven_vram(void)
{
	struct vsim_alloc a;
	guint64 off;

	/* 100 MiB: six 16 MiB granules, one aligned 64 MiB run */
	g_assert_cmpint(vsim_alloc_init(&a, 100 * MiB, 16 * MiB), ==, 0);
	g_assert_cmpuint(a.nr, ==, 6);
	g_assert_cmpuint(vsim_alloc_available(&a, 64 * MiB), ==, 1);
	g_assert_cmpuint(vsim_alloc_available(&a, 32 * MiB), ==, 3);
	g_assert_cmpint(vsim_alloc_get(&a, 64 * MiB, &off, &dirty), ==, 0);
	g_assert_cmpuint(off, ==, 0);
	g_assert_cmpint(vsim_alloc_get(&a, 64 * MiB, &off, &dirty), ==, -ENOSPC);
	g_assert_cmpint(vsim_alloc_get(&a, 32 * MiB, &off, &dirty), ==, 0);
	g_assert_cmpuint(off, ==, 64 * MiB);
	g_assert_cmpint(vsim_alloc_get(&a, 16 * MiB, &off, &dirty), ==, -ENOSPC);
}

static void test_best_fit(void)
{
	struct vsim_alloc a;
	guint64 off;

	g_assert_cmpint(vsim_alloc_init(&a, 256 * MiB, 16 * MiB), ==, 0);
	g_assert_cmpint(vsim_alloc_get(&a, 16 * MiB, &off, &dirty), ==, 0);
	g_assert_cmpuint(off, ==, 0);
	/* the second small slice goes next to the first, not into a fresh 128 */
	g_assert_cmpint(vsim_alloc_get(&a, 64 * MiB, &off, &dirty), ==, 0);
	g_assert_cmpuint(off, ==, 64 * MiB);
	g_assert_cmpint(vsim_alloc_get(&a, 16 * MiB, &off, &dirty), ==, 0);
	g_assert_cmpuint(off, ==, 16 * MiB);
	g_assert_cmpuint(vsim_alloc_available(&a, 128 * MiB), ==, 1);
	g_assert_cmpint(vsim_alloc_get(&a, 32 * MiB, &off, &dirty), ==, 0);
	g_assert_cmpuint(off, ==, 32 * MiB);
	g_assert_cmpuint(vsim_alloc_available(&a, 128 * MiB), ==, 1);
	g_assert_cmpuint(vsim_alloc_used_bytes(&a), ==, 128 * MiB);
}

static void test_fragmentation(void)
{
	struct vsim_alloc a;
	guint64 off[16];
	int i;

	g_assert_cmpint(vsim_alloc_init(&a, 256 * MiB, 16 * MiB), ==, 0);
	for (i = 0; i < 16; i++)
		g_assert_cmpint(vsim_alloc_get(&a, 16 * MiB, &off[i], &dirty), ==, 0);
	g_assert_cmpint(vsim_alloc_get(&a, 16 * MiB, &off[0], &dirty), ==, -ENOSPC);
	/* the failed call must not have clobbered anything */
	g_assert_cmpuint(vsim_alloc_used_bytes(&a), ==, 256 * MiB);
	for (i = 0; i < 16; i += 2)
		g_assert_cmpint(vsim_alloc_put(&a, i * 16 * MiB, 16 * MiB), ==, 0);
	/* half the VRAM is free, but no 32 MiB slice fits */
	g_assert_cmpuint(vsim_alloc_used_bytes(&a), ==, 128 * MiB);
	g_assert_cmpuint(vsim_alloc_available(&a, 16 * MiB), ==, 8);
	g_assert_cmpuint(vsim_alloc_available(&a, 32 * MiB), ==, 0);
	g_assert_cmpint(vsim_alloc_get(&a, 32 * MiB, &off[0], &dirty), ==, -ENOSPC);
	g_assert_cmpint(vsim_alloc_put(&a, 16 * MiB, 16 * MiB), ==, 0);
	g_assert_cmpuint(vsim_alloc_available(&a, 32 * MiB), ==, 1);
	g_assert_cmpint(vsim_alloc_get(&a, 32 * MiB, &off[0], &dirty), ==, 0);
	g_assert_cmpuint(off[0], ==, 0);
}

static void test_bad_put(void)
{
	struct vsim_alloc a;
	guint64 off;

	g_assert_cmpint(vsim_alloc_init(&a, 256 * MiB, 16 * MiB), ==, 0);
	g_assert_cmpint(vsim_alloc_get(&a, 32 * MiB, &off, &dirty), ==, 0);
	g_assert_cmpint(vsim_alloc_put(&a, off + 16 * MiB, 32 * MiB), ==, -EINVAL);
	g_assert_cmpint(vsim_alloc_put(&a, off, 64 * MiB), ==, -EINVAL);
	g_assert_cmpint(vsim_alloc_put(&a, 256 * MiB, 16 * MiB), ==, -EINVAL);
	g_assert_cmpint(vsim_alloc_put(&a, 64 * MiB, 32 * MiB), ==, -EINVAL);
	/* far past the VRAM: granule 2^32 must not wrap onto the live slice */
	g_assert_cmpuint(off, ==, 0);
	g_assert_cmpint(vsim_alloc_put(&a, (1ULL << 32) * 16 * MiB, 16 * MiB), ==, -EINVAL);
	g_assert_cmpint(vsim_alloc_put(&a, (1ULL << 32) * 32 * MiB, 32 * MiB), ==, -EINVAL);
	g_assert_cmpuint(vsim_alloc_used_bytes(&a), ==, 32 * MiB);
	g_assert_cmpint(vsim_alloc_put(&a, off, 32 * MiB), ==, 0);
	g_assert_cmpint(vsim_alloc_put(&a, off, 32 * MiB), ==, -EINVAL);
	g_assert_cmpuint(vsim_alloc_used_bytes(&a), ==, 0);
}

/* Brute force: count aligned runs of @size with no live slice inside. */
struct live {
	guint64 off, size;
};

static unsigned int model_available(GArray *slices, guint64 vram, guint64 size)
{
	unsigned int count = 0;
	guint64 o;
	guint i;

	for (o = 0; o + size <= vram; o += size) {
		gboolean free_run = TRUE;

		for (i = 0; i < slices->len; i++) {
			struct live *s = &g_array_index(slices, struct live, i);

			if (s->off < o + size && o < s->off + s->size)
				free_run = FALSE;
		}
		count += free_run;
	}
	return count;
}

static void test_random_walk(void)
{
	static const guint64 sizes[] = { 16 * MiB, 32 * MiB, 64 * MiB, 128 * MiB };
	const guint64 vram = 256 * MiB;
	g_autoptr(GArray) slices = g_array_new(FALSE, FALSE, sizeof(struct live));
	g_autoptr(GRand) rand = g_rand_new_with_seed(20261125);
	bool clean[16] = { false };	/* granule freed (scrubbed) since */
	struct vsim_alloc a;
	int step;

	g_assert_cmpint(vsim_alloc_init(&a, vram, 16 * MiB), ==, 0);
	for (step = 0; step < 20000; step++) {
		guint64 size = sizes[g_rand_int_range(rand, 0, G_N_ELEMENTS(sizes))];
		guint64 used = 0;
		unsigned int avail, k;
		guint i;

		if (slices->len && g_rand_boolean(rand)) {
			i = g_rand_int_range(rand, 0, slices->len);
			struct live s = g_array_index(slices, struct live, i);

			g_assert_cmpint(vsim_alloc_put(&a, s.off, s.size), ==, 0);
			for (k = 0; k < s.size / (16 * MiB); k++)
				clean[s.off / (16 * MiB) + k] = true;
			g_array_remove_index_fast(slices, i);
		} else {
			struct live s = { .size = size };

			avail = model_available(slices, vram, size);
			if (vsim_alloc_get(&a, size, &s.off, &dirty) == 0) {
				g_assert_cmpuint(avail, >, 0);
				g_assert_cmpuint(s.off % size, ==, 0);
				g_assert_cmpuint(s.off + size, <=, vram);
				/* exactly the granules not freed since init or last use */
				for (k = 0; k < size / (16 * MiB); k++) {
					bool *c = &clean[s.off / (16 * MiB) + k];

					g_assert_cmpuint((dirty >> k) & 1, ==, !*c);
					*c = false;
				}
				g_assert_cmpuint(dirty >> k, ==, 0);
				g_array_append_val(slices, s);
			} else {
				g_assert_cmpuint(avail, ==, 0);
			}
		}
		/* disjoint slices; the allocator's view matches the model */
		for (i = 0; i < slices->len; i++) {
			struct live *s = &g_array_index(slices, struct live, i);
			guint j;

			used += s->size;
			for (j = i + 1; j < slices->len; j++) {
				struct live *t = &g_array_index(slices, struct live, j);

				g_assert_false(s->off < t->off + t->size &&
					       t->off < s->off + s->size);
			}
		}
		g_assert_cmpuint(vsim_alloc_used_bytes(&a), ==, used);
		for (k = 0; k < G_N_ELEMENTS(sizes); k++)
			g_assert_cmpuint(vsim_alloc_available(&a, sizes[k]), ==,
					 model_available(slices, vram, sizes[k]));
	}
}

/*
 * A slice is scrubbed once per tenant: get reports the granules never freed
 * since init (their content is unknown), put marks a slice zeroed, and a
 * failed put marks nothing.
 */
static void test_scrub_once(void)
{
	struct vsim_alloc a;
	u64 off, off2;

	g_assert_cmpint(vsim_alloc_init(&a, 64 * MiB, 16 * MiB), ==, 0);
	g_assert_cmpint(vsim_alloc_get(&a, 16 * MiB, &off, &dirty), ==, 0);
	g_assert_cmpuint(dirty, ==, 0x1);
	g_assert_cmpint(vsim_alloc_put(&a, off, 16 * MiB), ==, 0);
	/* the same granule again: zeroed by its last tenant's put */
	g_assert_cmpint(vsim_alloc_get(&a, 16 * MiB, &off2, &dirty), ==, 0);
	g_assert_cmpuint(off2, ==, off);
	g_assert_cmpuint(dirty, ==, 0);
	/* handed out, it is no longer known clean */
	g_assert_cmpint(vsim_alloc_put(&a, off, 16 * MiB), ==, 0);
	/* 32 MiB over one clean and one unknown granule */
	g_assert_cmpint(vsim_alloc_get(&a, 32 * MiB, &off, &dirty), ==, 0);
	g_assert_cmpuint(off, ==, 0);
	g_assert_cmpuint(dirty, ==, 0x2);
	/* a bad put changes nothing */
	g_assert_cmpint(vsim_alloc_put(&a, 32 * MiB, 32 * MiB), ==, -EINVAL);
	g_assert_cmpint(vsim_alloc_get(&a, 32 * MiB, &off2, &dirty), ==, 0);
	g_assert_cmpuint(off2, ==, 32 * MiB);
	g_assert_cmpuint(dirty, ==, 0x3);
	g_assert_cmpint(vsim_alloc_put(&a, off, 32 * MiB), ==, 0);
	g_assert_cmpint(vsim_alloc_put(&a, off2, 32 * MiB), ==, 0);
	g_assert_cmpint(vsim_alloc_get(&a, 64 * MiB, &off, &dirty), ==, 0);
	g_assert_cmpuint(dirty, ==, 0);
	/* init forgets: VRAM may have been written while unbound */
	g_assert_cmpint(vsim_alloc_init(&a, 64 * MiB, 16 * MiB), ==, 0);
	g_assert_cmpint(vsim_alloc_get(&a, 64 * MiB, &off, &dirty), ==, 0);
	g_assert_cmpuint(dirty, ==, 0xf);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sim/alloc/init", test_init);
	g_test_add_func("/sim/alloc/bad-sizes", test_bad_sizes);
	g_test_add_func("/sim/alloc/uneven-vram", test_uneven_vram);
	g_test_add_func("/sim/alloc/best-fit", test_best_fit);
	g_test_add_func("/sim/alloc/fragmentation", test_fragmentation);
	g_test_add_func("/sim/alloc/bad-put", test_bad_put);
	g_test_add_func("/sim/alloc/scrub-once", test_scrub_once);
	g_test_add_func("/sim/alloc/random-walk", test_random_walk);
	return g_test_run();
}
