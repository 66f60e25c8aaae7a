// SPDX-License-Identifier: GPL-2.0-only
/*
 * Bulk VRAM access of vgpu_sim: copies to and from the GPU's BAR and its
 * scrub, in 64-bit moves.
 *
 * On x86 memcpy_toio() and memcpy_fromio() are a "rep movsl" and
 * memset_io() a memset (a "rep stosb" with ERMS). QEMU's TCG, which runs
 * the lab, emulates a string instruction an element at a time; a loop of
 * 64-bit moves runs as plain loads and stores, several times faster. On
 * hardware both suit a write-combined BAR (vsim_probe() maps it so).
 */
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "vgpu_sim.h"

/* the guest's buffer may be unaligned (a memcpy of 8 is one load or store) */
static inline u64 vsim_ld(const void *p)
{
	u64 x;

	memcpy(&x, p, sizeof(x));
	return x;
}

static inline void vsim_st(void *p, u64 x)
{
	memcpy(p, &x, sizeof(x));
}

/* bytes up to the next 8-byte boundary of @p, at most @n */
static size_t vsim_head(const void __iomem *p, size_t n)
{
	return min_t(size_t, n, -(unsigned long)p & 7);
}

void vsim_vram_copy_to(void __iomem *dst, const void *src, size_t n)
{
	size_t head = vsim_head(dst, n);

	if (head) {
		memcpy_toio(dst, src, head);
		dst += head;
		src += head;
		n -= head;
	}
	for (; n >= 32; n -= 32, dst += 32, src += 32) {
		__raw_writeq(vsim_ld(src), dst);
		__raw_writeq(vsim_ld(src + 8), dst + 8);
		__raw_writeq(vsim_ld(src + 16), dst + 16);
		__raw_writeq(vsim_ld(src + 24), dst + 24);
	}
	for (; n >= 8; n -= 8, dst += 8, src += 8)
		__raw_writeq(vsim_ld(src), dst);
	if (n)
		memcpy_toio(dst, src, n);
	/* write-combined stores are visible to others only after this */
	wmb();
}

void vsim_vram_copy_from(void *dst, const void __iomem *src, size_t n)
{
	size_t head = vsim_head(src, n);

	if (head) {
		memcpy_fromio(dst, src, head);
		dst += head;
		src += head;
		n -= head;
	}
	for (; n >= 32; n -= 32, dst += 32, src += 32) {
		vsim_st(dst, __raw_readq(src));
		vsim_st(dst + 8, __raw_readq(src + 8));
		vsim_st(dst + 16, __raw_readq(src + 16));
		vsim_st(dst + 24, __raw_readq(src + 24));
	}
	for (; n >= 8; n -= 8, dst += 8, src += 8)
		vsim_st(dst, __raw_readq(src));
	if (n)
		memcpy_fromio(dst, src, n);
}

void vsim_vram_zero(void __iomem *dst, size_t n)
{
	size_t head = vsim_head(dst, n);

	if (head) {
		memset_io(dst, 0, head);
		dst += head;
		n -= head;
	}
	for (; n >= 32; n -= 32, dst += 32) {
		__raw_writeq(0, dst);
		__raw_writeq(0, dst + 8);
		__raw_writeq(0, dst + 16);
		__raw_writeq(0, dst + 24);
	}
	for (; n >= 8; n -= 8, dst += 8)
		__raw_writeq(0, dst);
	if (n)
		memset_io(dst, 0, n);
	/* the zeros reach VRAM before the slice goes to anyone */
	wmb();
}
