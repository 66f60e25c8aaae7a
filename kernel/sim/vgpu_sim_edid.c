// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgpu_sim EDID: the monitor a vGPU reports in its MMIO BAR (where QEMU's
 * PCI VGA devices keep theirs, so bochs-drm reads it). It lists only modes
 * up to the vGPU's maximum resolution, so the guest never picks one the
 * device refuses. Pure logic: also built by the userspace unit tests.
 *
 * EDID 1.3 base block: established timings up to 1024x768, standard timings
 * up to the maximum (those the 8-bit code can express), a detailed timing
 * for the preferred mode (1024x768, or the largest established one that
 * fits) and one for the maximum (CVT reduced blanking, 60 Hz), a range
 * limits descriptor and the monitor name.
 */
#ifdef __KERNEL__
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/types.h>
#else
#include <stdint.h>
#include <string.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#include "vgpu_sim_edid.h"

struct vsim_timing {
	u32 clock_khz;
	u16 hactive, hfp, hsync, hbp;
	u16 vactive, vfp, vsync, vbp;
};

/* VESA DMT timings of the established modes we may offer */
static const struct vsim_timing vsim_dmt[] = {
	{ 25175, 640, 16, 96, 48, 480, 10, 2, 33 },
	{ 40000, 800, 40, 128, 88, 600, 1, 4, 23 },
	{ 65000, 1024, 24, 136, 160, 768, 3, 6, 29 },
};

/* established timing bits (bytes 35-36) of the entries above, 60 Hz */
static const u16 vsim_dmt_bits[] = { 0x2000, 0x0001, 0x0008 };

/* standard timings: width, height, aspect code (0 16:10, 1 4:3, 2 5:4, 3 16:9) */
static const struct { u16 w, h; u8 aspect; } vsim_std[] = {
	{ 1152, 864, 1 }, { 1280, 720, 3 }, { 1280, 800, 0 }, { 1280, 1024, 2 },
	{ 1440, 900, 0 }, { 1600, 900, 3 }, { 1600, 1200, 1 }, { 1680, 1050, 0 },
};

/* CVT reduced blanking (v1) at 60 Hz, as the VESA CVT formula gives it. */
static void vsim_cvt_rb(struct vsim_timing *t, u16 w, u16 h)
{
	const u32 min_vblank_us = 460, refresh = 60;
	u32 hperiod_ns, vbi, vsync, htotal, vtotal;
	u64 clock;

	/* vsync width encodes the aspect ratio */
	if (w * 3 == h * 4)
		vsync = 4;
	else if (w * 9 == h * 16)
		vsync = 5;
	else if (w * 10 == h * 16)
		vsync = 6;
	else if (w * 4 == h * 5)
		vsync = 7;
	else
		vsync = 10;
	hperiod_ns = (1000000000u / refresh - min_vblank_us * 1000) / h;
	vbi = min_vblank_us * 1000 / hperiod_ns + 1;
	if (vbi < 3 + vsync + 6)
		vbi = 3 + vsync + 6;
	htotal = w + 160;
	vtotal = h + vbi;
	/* pixel clock in 250 kHz steps, rounded down */
	clock = (u64)htotal * vtotal * refresh / 1000;
	clock -= clock % 250;

	t->clock_khz = clock;
	t->hactive = w;
	t->hfp = 48;
	t->hsync = 32;
	t->hbp = 80;
	t->vactive = h;
	t->vfp = 3;
	t->vsync = vsync;
	t->vbp = vbi - 3 - vsync;
}

static void vsim_put_dtd(u8 *d, const struct vsim_timing *t)
{
	u16 hblank = t->hfp + t->hsync + t->hbp;
	u16 vblank = t->vfp + t->vsync + t->vbp;
	u16 clk = t->clock_khz / 10;

	d[0] = clk & 0xff;
	d[1] = clk >> 8;
	d[2] = t->hactive & 0xff;
	d[3] = hblank & 0xff;
	d[4] = (t->hactive >> 8) << 4 | hblank >> 8;
	d[5] = t->vactive & 0xff;
	d[6] = vblank & 0xff;
	d[7] = (t->vactive >> 8) << 4 | vblank >> 8;
	d[8] = t->hfp & 0xff;
	d[9] = t->hsync & 0xff;
	d[10] = (t->vfp & 0xf) << 4 | (t->vsync & 0xf);
	d[11] = (t->hfp >> 8) << 6 | (t->hsync >> 8) << 4 |
		(t->vfp >> 4) << 2 | t->vsync >> 4;
	/* 12-17: image size 0 (unknown), no border; digital separate sync */
	d[17] = 0x18 | 0x04 | 0x02;
}

static void vsim_put_text(u8 *d, u8 tag, const char *s)
{
	size_t i, n = strlen(s);

	d[3] = tag;
	for (i = 0; i < 13; i++)
		d[5 + i] = i < n ? s[i] : (i == n ? '\n' : ' ');
}

void vsim_edid_build(u8 edid[VSIM_EDID_SIZE], u16 max_w, u16 max_h)
{
	static const u8 header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	struct vsim_timing max_mode;
	unsigned int i, n, pref = 0, desc = 54;
	u16 est = 0;
	u8 sum = 0;

	memset(edid, 0, VSIM_EDID_SIZE);
	memcpy(edid, header, sizeof(header));
	/* manufacturer "VSM" (compressed ASCII, big endian), product 0x5653 */
	edid[8] = ('V' - '@') << 2 | ('S' - '@') >> 3;
	edid[9] = (('S' - '@') & 7) << 5 | ('M' - '@');
	edid[10] = 0x53;
	edid[11] = 0x56;
	edid[17] = 2025 - 1990;	/* year of manufacture */
	edid[18] = 1;		/* EDID 1.3 */
	edid[19] = 3;
	edid[20] = 0x80;	/* digital input */
	edid[23] = 120;		/* gamma 2.2 */
	edid[24] = 0x06;	/* sRGB, preferred timing in the first DTD */

	for (i = 0; i < ARRAY_SIZE(vsim_dmt); i++) {
		if (vsim_dmt[i].hactive > max_w || vsim_dmt[i].vactive > max_h)
			continue;
		est |= vsim_dmt_bits[i];
		pref = i + 1;
	}
	edid[35] = est >> 8;
	edid[36] = est & 0xff;

	/* standard timings, 60 Hz; unused slots are 0x0101 */
	for (i = 0; i < 8; i++) {
		edid[38 + 2 * i] = 1;
		edid[39 + 2 * i] = 1;
	}
	for (i = 0, n = 0; i < ARRAY_SIZE(vsim_std); i++) {
		if (vsim_std[i].w > max_w || vsim_std[i].h > max_h)
			continue;
		edid[38 + 2 * n] = vsim_std[i].w / 8 - 31;
		edid[39 + 2 * n] = vsim_std[i].aspect << 6;
		n++;
	}

	/* preferred mode first, then the maximum if it differs */
	if (pref) {
		vsim_put_dtd(&edid[desc], &vsim_dmt[pref - 1]);
		desc += 18;
	}
	if (!pref || vsim_dmt[pref - 1].hactive != max_w ||
	    vsim_dmt[pref - 1].vactive != max_h) {
		vsim_cvt_rb(&max_mode, max_w, max_h);
		vsim_put_dtd(&edid[desc], &max_mode);
		desc += 18;
	}

	/* range limits: 50-75 Hz, 30-160 kHz, up to 600 MHz, no formula */
	edid[desc + 3] = 0xfd;
	edid[desc + 5] = 50;
	edid[desc + 6] = 75;
	edid[desc + 7] = 30;
	edid[desc + 8] = 160;
	edid[desc + 9] = 60;
	edid[desc + 10] = 0x00;	/* no secondary timing formula */
	edid[desc + 11] = '\n';
	for (i = 12; i < 18; i++)
		edid[desc + i] = ' ';
	desc += 18;
	if (desc <= 108)
		vsim_put_text(&edid[desc], 0xfc, "vgpu_sim");

	for (i = 0; i < VSIM_EDID_SIZE - 1; i++)
		sum += edid[i];
	edid[VSIM_EDID_SIZE - 1] = -sum;
}
