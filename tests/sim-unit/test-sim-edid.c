// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of vgpu_sim's EDID generator (kernel/sim/vgpu_sim_edid.c):
 * a valid EDID 1.3 block whose every mode fits the maximum, with the
 * preferred and maximum modes as detailed timings.
 */
#include <glib.h>
#include <string.h>

#include "vgpu_sim_edid.h"

struct dtd {
	unsigned int clock_khz, w, h, hblank, vblank;
};

static struct dtd parse_dtd(const guint8 *d)
{
	struct dtd t = {
		.clock_khz = (d[0] | d[1] << 8) * 10,
		.w = d[2] | (d[4] >> 4) << 8,
		.hblank = d[3] | (d[4] & 0xf) << 8,
		.h = d[5] | (d[7] >> 4) << 8,
		.vblank = d[6] | (d[7] & 0xf) << 8,
	};
	return t;
}

static void check_common(const guint8 *e)
{
	static const guint8 header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	guint8 sum = 0;
	int i;

	g_assert_cmpmem(e, 8, header, 8);
	for (i = 0; i < 128; i++)
		sum += e[i];
	g_assert_cmpuint(sum, ==, 0);
	g_assert_cmpuint(e[18], ==, 1);
	g_assert_cmpuint(e[19], ==, 3);
	g_assert_cmpuint(e[126], ==, 0);	/* no extensions */
	/* no continuous frequency: the guest infers no modes of its own */
	g_assert_cmpuint(e[24] & 1, ==, 0);
	g_assert_cmpuint(e[24] & 2, ==, 2);
}

/* every standard timing fits w x h */
static void check_std(const guint8 *e, unsigned int w, unsigned int h, unsigned int want)
{
	static const unsigned int num[4] = { 10, 3, 4, 9 }, den[4] = { 16, 4, 5, 16 };
	unsigned int i, n = 0;

	for (i = 0; i < 8; i++) {
		const guint8 *s = &e[38 + 2 * i];
		unsigned int sw, sh;

		if (s[0] == 1 && s[1] == 1)
			continue;
		sw = (s[0] + 31) * 8;
		sh = sw * num[s[1] >> 6] / den[s[1] >> 6];
		g_assert_cmpuint(s[1] & 0x3f, ==, 0);	/* 60 Hz */
		g_assert_cmpuint(sw, <=, w);
		g_assert_cmpuint(sh, <=, h);
		n++;
	}
	g_assert_cmpuint(n, ==, want);
}

static void test_16m(void)
{
	guint8 e[VSIM_EDID_SIZE];
	struct dtd p, m;

	vsim_edid_build(e, 1920, 1080);
	check_common(e);
	/* 640x480, 800x600, 1024x768 established */
	g_assert_cmpuint(e[35], ==, 0x20);
	g_assert_cmpuint(e[36], ==, 0x09);
	/* 1152x864 .. 1680x1050: all 8 fit 1920x1080 except 1600x1200 */
	check_std(e, 1920, 1080, 7);
	p = parse_dtd(&e[54]);
	g_assert_cmpuint(p.w, ==, 1024);
	g_assert_cmpuint(p.h, ==, 768);
	g_assert_cmpuint(p.clock_khz, ==, 65000);
	g_assert_cmpuint(p.hblank, ==, 320);
	g_assert_cmpuint(p.vblank, ==, 38);
	m = parse_dtd(&e[72]);
	g_assert_cmpuint(m.w, ==, 1920);
	g_assert_cmpuint(m.h, ==, 1080);
	g_assert_cmpuint(m.hblank, ==, 160);
	/* CVT-RB 1920x1080@60 is 138.5 MHz, 1111 lines */
	g_assert_cmpuint(m.clock_khz, ==, 138500);
	g_assert_cmpuint(m.vblank, ==, 31);
	g_assert_cmpuint(e[90 + 3], ==, 0xfd);
	g_assert_cmpuint(e[108 + 3], ==, 0xfc);
	g_assert_cmpmem(&e[108 + 5], 9, "vgpu_sim\n", 9);
}

static void test_small(void)
{
	guint8 e[VSIM_EDID_SIZE];
	struct dtd p;

	/* the maximum is an established mode: one detailed timing */
	vsim_edid_build(e, 800, 600);
	check_common(e);
	g_assert_cmpuint(e[35], ==, 0x20);
	g_assert_cmpuint(e[36], ==, 0x01);
	check_std(e, 800, 600, 0);
	p = parse_dtd(&e[54]);
	g_assert_cmpuint(p.w, ==, 800);
	g_assert_cmpuint(p.clock_khz, ==, 40000);
	g_assert_cmpuint(e[72 + 3], ==, 0xfd);
	g_assert_cmpuint(e[90 + 3], ==, 0xfc);

	/* below 640x480: only the maximum, as CVT */
	vsim_edid_build(e, 320, 200);
	check_common(e);
	g_assert_cmpuint(e[35] | e[36], ==, 0);
	p = parse_dtd(&e[54]);
	g_assert_cmpuint(p.w, ==, 320);
	g_assert_cmpuint(p.h, ==, 200);
}

static void test_4k(void)
{
	guint8 e[VSIM_EDID_SIZE];
	struct dtd m;

	vsim_edid_build(e, 3840, 2160);
	check_common(e);
	check_std(e, 3840, 2160, 8);
	m = parse_dtd(&e[72]);
	g_assert_cmpuint(m.w, ==, 3840);
	g_assert_cmpuint(m.h, ==, 2160);
	/* CVT-RB 3840x2160@60: 533.25 MHz */
	g_assert_cmpuint(m.clock_khz, ==, 533250);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sim/edid/16m", test_16m);
	g_test_add_func("/sim/edid/small", test_small);
	g_test_add_func("/sim/edid/4k", test_4k);
	return g_test_run();
}
