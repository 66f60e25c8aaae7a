// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of vgpu_vfio's pure logic, compiled in userspace from the very
 * kernel sources (kernel/vfio/config.c, kernel/vfio/layout.h): the region
 * offset encoding, overflow-safe range checks, the access split, validation
 * of vendor device descriptions and the table-driven config space.
 */
#include <errno.h>
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "layout.h"

#define PAGE 4096UL

/* ---- layout.h ---- */

static void test_offset_encoding(void)
{
	__u32 idx = 0;
	__u64 off = 0;

	for (__u32 cookie = 1; cookie < VGPU_VFIO_MAX_COOKIE; cookie = cookie * 3 + 1) {
		for (__u32 i = 0; i < VGPU_VFIO_MAX_REGIONS; i++) {
			__u64 base = vgpu_vfio_region_base(cookie, i);

			g_assert_true(vgpu_vfio_decode(base + 0x1234, cookie, &idx, &off));
			g_assert_cmpuint(idx, ==, i);
			g_assert_cmpuint(off, ==, 0x1234);
			g_assert_false(vgpu_vfio_decode(base, cookie + 1, &idx, &off));
			/* an offset past the index field lands in another region */
			g_assert_true(vgpu_vfio_decode(base + VGPU_VFIO_OFFSET_MASK, cookie, &idx, &off));
			g_assert_cmpuint(idx, ==, i);
			g_assert_cmphex(off, ==, VGPU_VFIO_OFFSET_MASK);
		}
	}
	/* the largest position stays a valid (positive) loff_t */
	g_assert_cmpuint(vgpu_vfio_region_base(VGPU_VFIO_MAX_COOKIE, 15) + VGPU_VFIO_OFFSET_MASK,
			 <=, (__u64)INT64_MAX);
	g_assert_false(vgpu_vfio_decode(0, 1, &idx, &off));
}

static void test_range_ok(void)
{
	g_assert_true(vgpu_range_ok(0, 0, 0));
	g_assert_true(vgpu_range_ok(0, 16, 16));
	g_assert_true(vgpu_range_ok(16, 0, 16));
	g_assert_false(vgpu_range_ok(17, 0, 16));
	g_assert_false(vgpu_range_ok(15, 2, 16));
	g_assert_false(vgpu_range_ok(8, UINT64_MAX, 16));
	g_assert_false(vgpu_range_ok(UINT64_MAX, 2, 16));
	/* off + len wraps to a small number: must still fail */
	g_assert_false(vgpu_range_ok(UINT64_MAX - 1, 4, UINT64_MAX));
	g_assert_true(vgpu_range_ok(UINT64_MAX - 4, 4, UINT64_MAX));
}

static void test_chunk(void)
{
	static const struct { __u64 off, len; unsigned int max, want; } t[] = {
		{ 0, 8, 8, 8 }, { 0, 7, 8, 4 }, { 1, 8, 8, 1 }, { 2, 8, 8, 2 },
		{ 4, 8, 8, 4 }, { 6, 2, 8, 2 }, { 8, 100, 8, 8 }, { 8, 100, 4, 4 },
		{ 3, 1, 4, 1 }, { 12, 3, 8, 2 }, { 16, 1, 8, 1 },
	};
	/* splitting 1..64 bytes at any offset covers exactly, aligned pieces */
	for (unsigned int i = 0; i < G_N_ELEMENTS(t); i++)
		g_assert_cmpuint(vgpu_chunk(t[i].off, t[i].len, t[i].max), ==, t[i].want);
	for (__u64 off = 0; off < 16; off++) {
		for (__u64 len = 1; len < 64; len++) {
			__u64 p = off, left = len;

			while (left) {
				unsigned int n = vgpu_chunk(p, left, 8);

				g_assert_true(n == 1 || n == 2 || n == 4 || n == 8);
				g_assert_cmpuint(p % n, ==, 0);
				g_assert_cmpuint(n, <=, left);
				p += n;
				left -= n;
			}
		}
	}
}

/* ---- device description validation ---- */

static const struct vgpu_mmap_area two_areas[] = {
	{ 0, 0x80000 }, { 0x81000, 0x7f000 },
};

static const struct vgpu_config_cap vcap[] = {
	{ .id = PCI_CAP_ID_VNDR, .len = 8 },
};

static void good_info(struct vgpu_device_info *i)
{
	memset(i, 0, sizeof(*i));
	i->vendor = 0x1234;
	i->device = 0x1111;
	i->class = 0x030000;
	i->bars[0] = (struct vgpu_region){ .size = 0x100000,
		.flags = VGPU_REGION_MEM64 | VGPU_REGION_PREFETCH | VGPU_REGION_MMAP,
		.areas = two_areas, .nr_areas = 2 };
	i->bars[2] = (struct vgpu_region){ .size = 0x1000 };
	i->bars[4] = (struct vgpu_region){ .size = 32, .flags = VGPU_REGION_IO };
	i->rom = (struct vgpu_region){ .size = 2048 };
	i->irqs = (struct vgpu_irqs){ .intx = true, .msi = 4, .msix = 16,
		.msix_bar = 2, .msix_table_offset = 0x800, .msix_pba_offset = 0xc00 };
	i->pcie = true;
	i->caps = vcap;
	i->nr_caps = 1;
}

static void test_validate_good(void)
{
	struct vgpu_device_info i;

	good_info(&i);
	g_assert_cmpint(vgpu_info_validate(&i, PAGE), ==, 0);
	memset(&i, 0, sizeof(i));	/* a device with nothing is still valid */
	g_assert_cmpint(vgpu_info_validate(&i, PAGE), ==, 0);
}

typedef void (*breaker)(struct vgpu_device_info *i);

static const struct vgpu_mmap_area overlap[] = { { 0, 0x2000 }, { 0x1000, 0x1000 } };
static const struct vgpu_mmap_area outside[] = { { 0xff000, 0x2000 } };
static const struct vgpu_mmap_area unaligned[] = { { 0x800, 0x1000 } };
static const struct vgpu_mmap_area empty[] = { { 0, 0 } };
static const struct vgpu_mmap_area huge_area[] = { { 0x1000, UINT64_MAX - 0xfff } };
static const struct vgpu_mmap_area cover_table[] = { { 0, 0x1000 } };
static const struct vgpu_config_cap short_cap[] = { { .id = 9, .len = 3 } };
static struct vgpu_config_cap big_caps[8];
static const struct vgpu_extra_region io_extra = {
	.region = { .size = 0x1000, .flags = VGPU_REGION_IO } };
static const struct vgpu_extra_region empty_extra = { .region = { .size = 0 } };

static void b_bar_pow2(struct vgpu_device_info *i) { i->bars[2].size = 0x1800; }
static void b_bar_small(struct vgpu_device_info *i) { i->bars[2].size = 8; }
static void b_io_big(struct vgpu_device_info *i) { i->bars[4].size = 512; }
static void b_io_mmap(struct vgpu_device_info *i) { i->bars[4].flags |= VGPU_REGION_MMAP; }
static void b_io_64(struct vgpu_device_info *i) { i->bars[4].flags |= VGPU_REGION_MEM64; }
static void b_mem64_last(struct vgpu_device_info *i) { i->bars[5] = i->bars[2]; i->bars[5].flags = VGPU_REGION_MEM64; }
static void b_mem64_next(struct vgpu_device_info *i) { i->bars[1].size = 16; }
static void b_mem64_next_flags(struct vgpu_device_info *i) { i->bars[1].flags = VGPU_REGION_PREFETCH; }
static void b_mem32_huge(struct vgpu_device_info *i) { i->bars[2].size = 1ULL << 32; i->irqs.msix = 0; }
static void b_absent_flags(struct vgpu_device_info *i) { i->bars[3].flags = VGPU_REGION_MMAP; }
static void b_overlap(struct vgpu_device_info *i) { i->bars[0].areas = overlap; }
static void b_outside(struct vgpu_device_info *i) { i->bars[0].areas = outside; i->bars[0].nr_areas = 1; }
static void b_unaligned(struct vgpu_device_info *i) { i->bars[0].areas = unaligned; i->bars[0].nr_areas = 1; }
static void b_empty_area(struct vgpu_device_info *i) { i->bars[0].areas = empty; i->bars[0].nr_areas = 1; }
static void b_huge_area(struct vgpu_device_info *i) { i->bars[0].areas = huge_area; i->bars[0].nr_areas = 1; }
static void b_areas_no_ptr(struct vgpu_device_info *i) { i->bars[0].areas = NULL; }
static void b_areas_no_mmap(struct vgpu_device_info *i) { i->bars[0].flags &= ~VGPU_REGION_MMAP; }
static void b_mmap_small(struct vgpu_device_info *i) { i->bars[2].flags = VGPU_REGION_MMAP; i->bars[2].size = 0x800; i->irqs.msix = 0; }
static void b_msi3(struct vgpu_device_info *i) { i->irqs.msi = 3; }
static void b_msi64(struct vgpu_device_info *i) { i->irqs.msi = 64; }
static void b_msix_many(struct vgpu_device_info *i) { i->irqs.msix = 2049; }
static void b_msix_io(struct vgpu_device_info *i) { i->irqs.msix_bar = 4; }
static void b_msix_absent(struct vgpu_device_info *i) { i->irqs.msix_bar = 3; }
static void b_msix_bar6(struct vgpu_device_info *i) { i->irqs.msix_bar = 6; }
static void b_msix_overlap(struct vgpu_device_info *i) { i->irqs.msix_pba_offset = 0x8f8; }
static void b_msix_outside(struct vgpu_device_info *i) { i->irqs.msix_table_offset = 0xf80; }
static void b_msix_align(struct vgpu_device_info *i) { i->irqs.msix_table_offset = 0x804; }
static void b_msix_mmap(struct vgpu_device_info *i) { i->bars[2].flags = VGPU_REGION_MMAP; i->bars[2].areas = cover_table; i->bars[2].nr_areas = 1; i->irqs.msix_table_offset = 0; i->irqs.msix_pba_offset = 0x800; }
static void b_msix_whole(struct vgpu_device_info *i) { i->bars[2].flags = VGPU_REGION_MMAP; }
static void b_rom_small(struct vgpu_device_info *i) { i->rom.size = 1024; }
static void b_rom_mmap(struct vgpu_device_info *i) { i->rom.flags = VGPU_REGION_MMAP; }
static void b_rom_absent_flags(struct vgpu_device_info *i) { i->rom.size = 0; i->rom.flags = VGPU_REGION_READONLY; }
static void b_class(struct vgpu_device_info *i) { i->class = 0x1000000; }
static void b_cap_short(struct vgpu_device_info *i) { i->caps = short_cap; }
static void b_cap_many(struct vgpu_device_info *i) { i->nr_caps = VGPU_MAX_CONFIG_CAPS + 1; i->caps = big_caps; }
static void b_cap_null(struct vgpu_device_info *i) { i->caps = NULL; }
static void b_extra_io(struct vgpu_device_info *i) { i->regions = &io_extra; i->nr_regions = 1; }
static void b_extra_empty(struct vgpu_device_info *i) { i->regions = &empty_extra; i->nr_regions = 1; }
static void b_extra_many(struct vgpu_device_info *i) { i->regions = &io_extra; i->nr_regions = VGPU_MAX_EXTRA_REGIONS + 1; }
/* Regions larger than the device fd's per-region offset window (layout.h). */
static const struct vgpu_extra_region huge_extra = {
	.region = { .size = (1ULL << VGPU_VFIO_INDEX_SHIFT) + 0x1000 } };
static void b_mem64_window(struct vgpu_device_info *i) { i->bars[0].size = 1ULL << (VGPU_VFIO_INDEX_SHIFT + 1); }
static void b_extra_window(struct vgpu_device_info *i) { i->regions = &huge_extra; i->nr_regions = 1; }
static void b_ext_no_pcie(struct vgpu_device_info *i) { i->pcie = false; i->ext_size = 0x10; }
static void b_ext_odd(struct vgpu_device_info *i) { i->ext_size = 6; }
static void b_ext_big(struct vgpu_device_info *i) { i->ext_size = 0xf04; }
static void b_bar_flags(struct vgpu_device_info *i) { i->bars[2].flags = 1u << 7; }
static void b_extra_flags(struct vgpu_device_info *i) { static struct vgpu_extra_region x; x.region = (struct vgpu_region){ .size = 0x1000, .flags = 1u << 9 }; i->regions = &x; i->nr_regions = 1; }

static void test_validate_bad(void)
{
	static const breaker b[] = {
		b_bar_pow2, b_bar_small, b_io_big, b_io_mmap, b_io_64, b_mem64_last,
		b_mem64_next, b_mem64_next_flags, b_mem32_huge, b_absent_flags,
		b_overlap, b_outside, b_unaligned, b_empty_area, b_huge_area,
		b_areas_no_ptr, b_areas_no_mmap, b_mmap_small, b_msi3, b_msi64,
		b_msix_many, b_msix_io, b_msix_absent, b_msix_bar6, b_msix_overlap,
		b_msix_outside, b_msix_align, b_msix_mmap, b_msix_whole, b_rom_small,
		b_rom_mmap, b_rom_absent_flags, b_class, b_cap_short, b_cap_many,
		b_cap_null, b_extra_io, b_extra_empty, b_extra_many,
		b_mem64_window, b_extra_window, b_bar_flags, b_extra_flags,
		b_ext_no_pcie, b_ext_odd, b_ext_big,
	};
	struct vgpu_device_info i;

	for (unsigned int n = 0; n < G_N_ELEMENTS(b); n++) {
		good_info(&i);
		b[n](&i);
		if (vgpu_info_validate(&i, PAGE) != -EINVAL)
			g_error("breaker #%u was accepted (%d)", n, vgpu_info_validate(&i, PAGE));
	}
}

/* The largest regions the offset encoding can address are fine. */
static void test_validate_window(void)
{
	static struct vgpu_extra_region x;
	struct vgpu_device_info i;

	good_info(&i);
	i.bars[0].size = 1ULL << VGPU_VFIO_INDEX_SHIFT;
	x.region.size = 1ULL << VGPU_VFIO_INDEX_SHIFT;
	i.regions = &x;
	i.nr_regions = 1;
	g_assert_cmpint(vgpu_info_validate(&i, PAGE), ==, 0);
}

static void test_validate_msix_max(void)
{
	struct vgpu_device_info i;

	good_info(&i);
	i.bars[2].size = 0x10000;
	i.irqs.msix_table_offset = 0;
	i.irqs.msix_pba_offset = 0xc000;
	i.irqs.msix = 2048;
	g_assert_cmpint(vgpu_info_validate(&i, PAGE), ==, 0);
	i.irqs.msix = 2049;
	g_assert_cmpint(vgpu_info_validate(&i, PAGE), ==, -EINVAL);
}

static void test_validate_caps_space(void)
{
	static struct vgpu_config_cap caps[VGPU_MAX_CONFIG_CAPS];
	struct vgpu_device_info i;

	good_info(&i);
	for (unsigned int n = 0; n < VGPU_MAX_CONFIG_CAPS; n++)
		caps[n] = (struct vgpu_config_cap){ .id = PCI_CAP_ID_VNDR, .len = 16 };
	i.caps = caps;
	i.nr_caps = 5;	/* 0x40 + 16 + 12 + 52 + 80 = 224: fits */
	g_assert_cmpint(vgpu_info_validate(&i, PAGE), ==, 0);
	i.nr_caps = 6;	/* 240 */
	g_assert_cmpint(vgpu_info_validate(&i, PAGE), ==, 0);
	i.nr_caps = 7;	/* exactly 256 */
	g_assert_cmpint(vgpu_info_validate(&i, PAGE), ==, 0);
	caps[6].len = 20;
	g_assert_cmpint(vgpu_info_validate(&i, PAGE), ==, -ENOSPC);
}

/* ---- config space ---- */

static __u32 rd(struct vgpu_cfg *c, unsigned int off, unsigned int size)
{
	__u32 v = 0xdeadbeef;

	g_assert_cmpint(vcfg_read(c, off, size, &v, NULL), ==, 0);
	return v;
}

static unsigned int wr(struct vgpu_cfg *c, unsigned int off, unsigned int size, __u32 v)
{
	unsigned int ev = 0;

	g_assert_cmpint(vcfg_write(c, off, size, v, NULL, &ev), ==, 0);
	return ev;
}

static unsigned int find_cap(struct vgpu_cfg *c, __u8 id)
{
	unsigned int pos = rd(c, PCI_CAPABILITY_LIST, 1), hops = 0;

	while (pos) {
		g_assert_cmpuint(++hops, <, 48);
		g_assert_cmpuint(pos % 4, ==, 0);
		g_assert_cmpuint(pos, >=, 0x40);
		if (rd(c, pos, 1) == id)
			return pos;
		pos = rd(c, pos + 1, 1);
	}
	return 0;
}

static void test_cfg_header(void)
{
	static struct vgpu_cfg c;
	struct vgpu_device_info i;

	good_info(&i);
	i.revision = 7;
	i.subsystem_vendor = 0xaaaa;
	i.subsystem_device = 0xbbbb;
	g_assert_cmpint(vcfg_init(&c, &i), ==, 0);
	g_assert_cmpuint(c.size, ==, 4096);
	g_assert_cmphex(rd(&c, 0, 4), ==, 0x11111234);
	g_assert_cmphex(rd(&c, PCI_CLASS_REVISION, 4), ==, 0x03000007);
	g_assert_cmphex(rd(&c, PCI_SUBSYSTEM_VENDOR_ID, 4), ==, 0xbbbbaaaa);
	g_assert_cmphex(rd(&c, PCI_INTERRUPT_PIN, 1), ==, 1);
	/* read-only header */
	wr(&c, 0, 4, 0);
	wr(&c, PCI_CLASS_REVISION, 4, 0);
	wr(&c, PCI_HEADER_TYPE, 1, 0xff);
	wr(&c, PCI_INTERRUPT_PIN, 1, 4);
	g_assert_cmphex(rd(&c, 0, 4), ==, 0x11111234);
	g_assert_cmphex(rd(&c, PCI_CLASS_REVISION, 4), ==, 0x03000007);
	g_assert_cmphex(rd(&c, PCI_HEADER_TYPE, 1), ==, 0);
	g_assert_cmphex(rd(&c, PCI_INTERRUPT_PIN, 1), ==, 1);
	/* command: writable bits, change event */
	g_assert_cmpuint(wr(&c, PCI_COMMAND, 2, 0xffff), ==, VCFG_EV_COMMAND);
	g_assert_cmphex(rd(&c, PCI_COMMAND, 2), ==, 0x0547);
	g_assert_cmpuint(wr(&c, PCI_COMMAND, 2, 0xffff), ==, 0);
	/* status: cap list, read-only, INTx status overlay */
	g_assert_cmphex(rd(&c, PCI_STATUS, 2), ==, PCI_STATUS_CAP_LIST);
	wr(&c, PCI_STATUS, 2, 0xffff);
	g_assert_cmphex(rd(&c, PCI_STATUS, 2), ==, PCI_STATUS_CAP_LIST);
	c.intx_status = true;
	g_assert_cmphex(rd(&c, PCI_STATUS, 2), ==, PCI_STATUS_CAP_LIST | PCI_STATUS_INTERRUPT);
	g_assert_cmphex(rd(&c, PCI_COMMAND, 4) >> 16, ==, PCI_STATUS_CAP_LIST | PCI_STATUS_INTERRUPT);
	/* bounds */
	__u32 v;
	unsigned int ev;

	g_assert_cmpint(vcfg_read(&c, 4096, 1, &v, NULL), ==, -EINVAL);
	g_assert_cmpint(vcfg_read(&c, 4094, 4, &v, NULL), ==, -EINVAL);
	g_assert_cmpint(vcfg_read(&c, 0, 8, &v, NULL), ==, -EINVAL);
	g_assert_cmpint(vcfg_write(&c, UINT32_MAX, 4, 0, NULL, &ev), ==, -EINVAL);
	g_assert_cmpint(vcfg_read(&c, 4095, 1, &v, NULL), ==, 0);
	/* reset */
	vcfg_reset(&c);
	g_assert_cmphex(rd(&c, PCI_COMMAND, 2), ==, 0);
	g_assert_false(c.intx_status);
	/* a plain PCI device: 256 bytes, no INTx disable bit without a pin */
	i.pcie = false;
	i.irqs.intx = false;
	vcfg_init(&c, &i);
	g_assert_cmpuint(c.size, ==, 256);
	wr(&c, PCI_COMMAND, 2, 0xffff);
	g_assert_cmphex(rd(&c, PCI_COMMAND, 2), ==, 0x0147);
	g_assert_cmpint(vcfg_read(&c, 256, 1, &v, NULL), ==, -EINVAL);
}

static void test_cfg_bars(void)
{
	static struct vgpu_cfg c;
	struct vgpu_device_info i;

	good_info(&i);
	vcfg_init(&c, &i);
	g_assert_cmphex(rd(&c, PCI_BASE_ADDRESS_0, 4), ==, 0xc);
	for (unsigned int b = 0; b < 6; b++)
		wr(&c, PCI_BASE_ADDRESS_0 + 4 * b, 4, 0xffffffff);
	wr(&c, PCI_ROM_ADDRESS, 4, 0xffffffff);
	g_assert_cmphex(rd(&c, PCI_BASE_ADDRESS_0, 4), ==, 0xfff0000c);
	g_assert_cmphex(rd(&c, PCI_BASE_ADDRESS_1, 4), ==, 0xffffffff);
	g_assert_cmphex(rd(&c, PCI_BASE_ADDRESS_2, 4), ==, 0xfffff000);
	g_assert_cmphex(rd(&c, PCI_BASE_ADDRESS_3, 4), ==, 0);
	g_assert_cmphex(rd(&c, PCI_BASE_ADDRESS_4, 4), ==, 0xffffffe1);
	g_assert_cmphex(rd(&c, PCI_BASE_ADDRESS_5, 4), ==, 0);
	g_assert_cmphex(rd(&c, PCI_ROM_ADDRESS, 4), ==, 0xfffff801);
	/* byte-wise programming keeps the read-only low bits */
	wr(&c, PCI_BASE_ADDRESS_2, 1, 0xff);
	g_assert_cmphex(rd(&c, PCI_BASE_ADDRESS_2, 4), ==, 0xfffff000);
	wr(&c, PCI_BASE_ADDRESS_2 + 2, 2, 0x1234);
	g_assert_cmphex(rd(&c, PCI_BASE_ADDRESS_2, 4), ==, 0x1234f000);
	/* a large 64-bit BAR: upper dword partially writable */
	i.bars[0].size = 1ULL << 36;
	i.bars[0].areas = NULL;
	i.bars[0].nr_areas = 0;
	vcfg_init(&c, &i);
	wr(&c, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	wr(&c, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	g_assert_cmphex(rd(&c, PCI_BASE_ADDRESS_0, 4), ==, 0x0000000c);
	g_assert_cmphex(rd(&c, PCI_BASE_ADDRESS_1, 4), ==, 0xfffffff0);
	/* a 256-byte I/O BAR and a non-prefetchable 32-bit BAR */
	i.bars[4].size = 256;
	i.bars[2].flags = 0;
	vcfg_init(&c, &i);
	wr(&c, PCI_BASE_ADDRESS_4, 4, 0xffffffff);
	g_assert_cmphex(rd(&c, PCI_BASE_ADDRESS_4, 4), ==, 0xffffff01);
	g_assert_cmphex(rd(&c, PCI_BASE_ADDRESS_2, 4), ==, 0);
	/* the smallest I/O BAR: only bit 1 of the low nibble is address */
	i.bars[4].size = 4;
	vcfg_init(&c, &i);
	wr(&c, PCI_BASE_ADDRESS_4, 4, 0xffffffff);
	g_assert_cmphex(rd(&c, PCI_BASE_ADDRESS_4, 4), ==, 0xfffffffd);
}

static void test_cfg_caps(void)
{
	static struct vgpu_cfg c;
	struct vgpu_device_info i;
	unsigned int msi, msix, exp, vndr;

	good_info(&i);
	vcfg_init(&c, &i);
	msi = find_cap(&c, PCI_CAP_ID_MSI);
	msix = find_cap(&c, PCI_CAP_ID_MSIX);
	exp = find_cap(&c, PCI_CAP_ID_EXP);
	vndr = find_cap(&c, PCI_CAP_ID_VNDR);
	g_assert_cmpuint(msi, ==, 0x40);
	g_assert_cmpuint(msix, ==, 0x50);
	g_assert_cmpuint(exp, ==, 0x5c);
	g_assert_cmpuint(vndr, ==, 0x90);
	g_assert_cmpuint(rd(&c, vndr + 1, 1), ==, 0);
	g_assert_cmphex(rd(&c, msi + PCI_MSI_FLAGS, 2), ==, PCI_MSI_FLAGS_64BIT | (2 << 1));
	g_assert_cmpuint(wr(&c, msi + PCI_MSI_FLAGS, 2, 0xffff), ==, VCFG_EV_MSI);
	g_assert_cmphex(rd(&c, msi + PCI_MSI_FLAGS, 2), ==, 0xf5);
	wr(&c, msi + PCI_MSI_ADDRESS_LO, 4, 0xffffffff);
	g_assert_cmphex(rd(&c, msi + PCI_MSI_ADDRESS_LO, 4), ==, 0xfffffffc);
	g_assert_cmphex(rd(&c, msix + PCI_MSIX_FLAGS, 2), ==, 15);
	g_assert_cmphex(rd(&c, msix + PCI_MSIX_TABLE, 4), ==, 0x802);
	g_assert_cmphex(rd(&c, msix + PCI_MSIX_PBA, 4), ==, 0xc02);
	g_assert_cmpuint(wr(&c, msix + PCI_MSIX_FLAGS, 2, 0xffff), ==, VCFG_EV_MSIX);
	g_assert_cmphex(rd(&c, msix + PCI_MSIX_FLAGS, 2), ==, 0xc00f);
	g_assert_cmphex(rd(&c, exp + PCI_EXP_FLAGS, 2), ==, 0x0002);
	g_assert_cmphex(rd(&c, exp + PCI_EXP_LNKSTA, 2), ==, 0x0011);
	wr(&c, exp + PCI_EXP_DEVCTL, 2, 0xffff);
	g_assert_cmphex(rd(&c, exp + PCI_EXP_DEVCTL, 2) & PCI_EXP_DEVCTL_BCR_FLR, ==, 0);
	/* vendor cap without ops: read-only zeroes (no data given) */
	wr(&c, vndr + 4, 4, 0xffffffff);
	g_assert_cmphex(rd(&c, vndr + 4, 4), ==, 0);
	/* no capabilities at all: no list, no status bit */
	memset(&i, 0, sizeof(i));
	vcfg_init(&c, &i);
	g_assert_cmphex(rd(&c, PCI_CAPABILITY_LIST, 1), ==, 0);
	g_assert_cmphex(rd(&c, PCI_STATUS, 2), ==, 0);
}

struct vlog {
	unsigned int calls, off[8], size[8];
	__u32 val[8];
	__u8 body[8];
};

static int vread(void *opaque, unsigned int off, unsigned int size, __u32 *val)
{
	struct vlog *l = opaque;
	unsigned int rel = off - 0x92;

	l->off[l->calls] = off;
	l->size[l->calls++] = size;
	g_assert_cmpuint(off % size, ==, 0);
	*val = 0;
	for (unsigned int k = 0; k < size; k++)
		*val |= (__u32)l->body[rel + k] << (8 * k);
	return 0;
}

static int vwrite(void *opaque, unsigned int off, unsigned int size, __u32 val)
{
	struct vlog *l = opaque;
	unsigned int rel = off - 0x92;

	l->off[l->calls] = off;
	l->val[l->calls] = val;
	l->size[l->calls++] = size;
	g_assert_cmpuint(off % size, ==, 0);
	for (unsigned int k = 0; k < size; k++)
		l->body[rel + k] = val >> (8 * k);
	return 0;
}

static int vfail(void *opaque, unsigned int off, unsigned int size, __u32 *val)
{
	(void)opaque; (void)off; (void)size; (void)val;
	return -EIO;
}

static void test_cfg_vendor_hook(void)
{
	static struct vgpu_cfg c;
	static const __u8 data[6] = { 8, 1, 2, 3, 4, 5 };
	static const struct vgpu_config_cap cap[] = {
		{ .id = PCI_CAP_ID_VNDR, .len = 8, .data = data },
	};
	struct vlog l = { .body = { 8, 1, 2, 3, 4, 5 } };
	struct vcfg_vendor_ops ops = { .read = vread, .write = vwrite, .opaque = &l };
	struct vcfg_vendor_ops bad = { .read = vfail, .opaque = &l };
	struct vgpu_device_info i;
	unsigned int ev;
	__u32 v;

	good_info(&i);
	i.caps = cap;
	vcfg_init(&c, &i);
	/* header dword: core bytes + one 2-byte vendor access */
	g_assert_cmpint(vcfg_read(&c, 0x90, 4, &v, &ops), ==, 0);
	g_assert_cmphex(v, ==, 0x01080009);
	g_assert_cmpuint(l.calls, ==, 1);
	g_assert_cmpuint(l.off[0], ==, 0x92);
	g_assert_cmpuint(l.size[0], ==, 2);
	l.calls = 0;
	g_assert_cmpint(vcfg_read(&c, 0x94, 4, &v, &ops), ==, 0);
	g_assert_cmphex(v, ==, 0x05040302);
	g_assert_cmpuint(l.calls, ==, 1);
	g_assert_cmpuint(l.size[0], ==, 4);
	/* the core's header bytes never reach the vendor, and stay */
	l.calls = 0;
	g_assert_cmpint(vcfg_write(&c, 0x90, 4, 0xaabbccdd, &ops, &ev), ==, 0);
	g_assert_cmpuint(l.calls, ==, 1);
	g_assert_cmpuint(l.off[0], ==, 0x92);
	g_assert_cmphex(l.val[0], ==, 0xaabb);
	g_assert_cmphex(rd(&c, 0x90, 2), ==, 0x0009);
	/* without ops the initial data shows */
	g_assert_cmphex(rd(&c, 0x94, 4), ==, 0x05040302);
	/* vendor errors propagate */
	g_assert_cmpint(vcfg_read(&c, 0x94, 4, &v, &bad), ==, -EIO);
	/* bytes outside vendor caps never call the vendor */
	l.calls = 0;
	g_assert_cmpint(vcfg_read(&c, 0x40, 4, &v, &ops), ==, 0);
	g_assert_cmpint(vcfg_read(&c, 0x98, 4, &v, &ops), ==, 0);
	g_assert_cmpuint(l.calls, ==, 0);
}

static int vnever(void *opaque, unsigned int off, unsigned int size, __u32 *val)
{
	g_error("vendor read at 0x%x size %u: not a vendor byte", off, size);
	return -EIO;
}

static int vnever_w(void *opaque, unsigned int off, unsigned int size, __u32 val)
{
	g_error("vendor write at 0x%x size %u: not a vendor byte", off, size);
	return -EIO;
}

/*
 * An access that straddles 0x100 in a PCIe config space: the byte map of
 * vendor capabilities covers only the first 256 bytes and must not be read
 * beyond them (the bytes right after it are made to look like vendor bytes).
 */
static void test_cfg_vendor_straddle(void)
{
	static struct {
		struct vgpu_cfg c;
		__u8 after[8];
	} w;
	struct vcfg_vendor_ops ops = { .read = vnever, .write = vnever_w };
	struct vgpu_device_info i;
	unsigned int ev;
	__u32 v;

	good_info(&i);
	i.nr_caps = 0;
	vcfg_init(&w.c, &i);
	g_assert_cmpuint(w.c.size, ==, 4096);
	memset(w.after, 1, sizeof(w.after));
	g_assert_cmpint(vcfg_read(&w.c, 0xff, 2, &v, &ops), ==, 0);
	g_assert_cmpint(vcfg_read(&w.c, 0xfe, 4, &v, &ops), ==, 0);
	g_assert_cmpint(vcfg_write(&w.c, 0xfd, 4, 0, &ops, &ev), ==, 0);
	g_assert_cmpint(vcfg_read(&w.c, 0x100, 4, &v, &ops), ==, 0);
	g_assert_cmphex(v, ==, 0);
}

static int xread(void *opaque, unsigned int off, unsigned int size, __u32 *val)
{
	struct vlog *l = opaque;

	g_assert_cmpuint(off, >=, 0x100);
	g_assert_cmpuint(off + size, <=, 0x110);
	l->off[l->calls] = off;
	l->size[l->calls++] = size;
	*val = 0x5a000000 | off;
	return 0;
}

static int xwrite(void *opaque, unsigned int off, unsigned int size, __u32 val)
{
	struct vlog *l = opaque;

	g_assert_cmpuint(off, >=, 0x100);
	g_assert_cmpuint(off + size, <=, 0x110);
	l->off[l->calls] = off;
	l->val[l->calls] = val;
	l->size[l->calls++] = size;
	return 0;
}

/* The vendor's range of extended config space (REVIEW.md 12). */
static void test_cfg_ext_range(void)
{
	static struct vgpu_cfg c;
	struct vlog l = { 0 };
	struct vcfg_vendor_ops ops = { .read = xread, .write = xwrite, .opaque = &l };
	struct vgpu_device_info i;
	unsigned int ev;
	__u32 v;

	good_info(&i);
	i.ext_size = 0x10;
	g_assert_cmpint(vgpu_info_validate(&i, PAGE), ==, 0);
	i.ext_size = 0xf00;
	g_assert_cmpint(vgpu_info_validate(&i, PAGE), ==, 0);
	i.ext_size = 0x10;
	vcfg_init(&c, &i);
	g_assert_cmpint(vcfg_read(&c, 0x100, 4, &v, &ops), ==, 0);
	g_assert_cmphex(v, ==, 0x5a000100);
	g_assert_cmpint(vcfg_read(&c, 0x10e, 2, &v, &ops), ==, 0);
	g_assert_cmphex(v, ==, 0x010e);
	g_assert_cmpuint(l.calls, ==, 2);
	g_assert_cmpint(vcfg_write(&c, 0x108, 4, 0xcafe, &ops, &ev), ==, 0);
	g_assert_cmpuint(l.calls, ==, 3);
	g_assert_cmpuint(l.off[2], ==, 0x108);
	g_assert_cmphex(l.val[2], ==, 0xcafe);
	g_assert_cmpuint(ev, ==, 0);
	/* past the range, and without ops: zero, never the vendor */
	g_assert_cmpint(vcfg_read(&c, 0x110, 4, &v, &ops), ==, 0);
	g_assert_cmphex(v, ==, 0);
	g_assert_cmpint(vcfg_write(&c, 0x110, 4, 0xffffffff, &ops, &ev), ==, 0);
	g_assert_cmpuint(l.calls, ==, 3);
	g_assert_cmphex(rd(&c, 0x100, 4), ==, 0);
	g_assert_cmphex(rd(&c, 0x110, 4), ==, 0);
	/* a 2-byte access at the range's end is clipped to it */
	g_assert_cmpint(vcfg_read(&c, 0x10f, 2, &v, &ops), ==, 0);
	g_assert_cmpuint(l.size[3], ==, 1);
}

static void test_region_area(void)
{
	struct vgpu_region r = { .size = 0x100000, .flags = VGPU_REGION_MMAP,
				 .areas = two_areas, .nr_areas = 2 };
	struct vgpu_mmap_area whole;
	const struct vgpu_mmap_area *a;

	a = vgpu_region_area(&r, 0, 0x80000, &whole);
	g_assert_true(a == &two_areas[0]);
	g_assert_null(vgpu_region_area(&r, 0x7f000, 0x2000, &whole));
	g_assert_null(vgpu_region_area(&r, 0x80000, 0x1000, &whole));
	g_assert_true(vgpu_region_area(&r, 0x81000, 0x1000, &whole) == &two_areas[1]);
	g_assert_null(vgpu_region_area(&r, 0xff000, 0x2000, &whole));
	g_assert_null(vgpu_region_area(&r, UINT64_MAX - 0xfff, 0x2000, &whole));
	r.areas = NULL;
	r.nr_areas = 0;
	a = vgpu_region_area(&r, 0x1000, 0x1000, &whole);
	g_assert_true(a == &whole);
	g_assert_cmpuint(whole.size, ==, 0x100000);
	g_assert_null(vgpu_region_area(&r, 0x100000, 0x1000, &whole));
	r.flags = 0;
	g_assert_null(vgpu_region_area(&r, 0, 0x1000, &whole));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/layout/offset-encoding", test_offset_encoding);
	g_test_add_func("/layout/range-ok", test_range_ok);
	g_test_add_func("/layout/chunk", test_chunk);
	g_test_add_func("/validate/good", test_validate_good);
	g_test_add_func("/validate/bad", test_validate_bad);
	g_test_add_func("/validate/caps-space", test_validate_caps_space);
	g_test_add_func("/validate/msix-max", test_validate_msix_max);
	g_test_add_func("/validate/window", test_validate_window);
	g_test_add_func("/config/vendor-straddle", test_cfg_vendor_straddle);
	g_test_add_func("/config/ext-range", test_cfg_ext_range);
	g_test_add_func("/config/header", test_cfg_header);
	g_test_add_func("/config/bars", test_cfg_bars);
	g_test_add_func("/config/caps", test_cfg_caps);
	g_test_add_func("/config/vendor-hook", test_cfg_vendor_hook);
	g_test_add_func("/region/area", test_region_area);
	return g_test_run();
}
