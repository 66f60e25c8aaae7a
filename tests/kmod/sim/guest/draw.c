// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Runs in the inner guest: a minimal KMS client. It sets the connector's
 * preferred mode on a dumb buffer holding the known test pattern (four
 * quadrants: red, green, blue, white, XRGB8888), reports it and keeps the
 * mode up until killed. Built static: the inner guest has only busybox.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm.h>
#include <drm_mode.h>

#define die(...) do { printf("SIMTEST-FAIL " __VA_ARGS__); printf(" (errno %d)\n", errno); \
		      exit(1); } while (0)

static void xioctl(int fd, unsigned long req, void *arg, const char *what)
{
	int r;

	do {
		r = ioctl(fd, req, arg);
	} while (r && (errno == EINTR || errno == EAGAIN));
	if (r)
		die("%s", what);
}

static uint32_t color(unsigned int x, unsigned int y, unsigned int w, unsigned int h)
{
	static const uint32_t quad[4] = { 0xff0000, 0x00ff00, 0x0000ff, 0xffffff };

	return quad[(y >= h / 2) * 2 + (x >= w / 2)];
}

int main(void)
{
	struct drm_mode_card_res res = { 0 };
	struct drm_mode_get_connector conn = { 0 };
	struct drm_mode_get_encoder enc = { 0 };
	struct drm_mode_create_dumb dumb = { 0 };
	struct drm_mode_map_dumb map = { 0 };
	struct drm_mode_fb_cmd fb = { 0 };
	struct drm_mode_crtc crtc = { 0 };
	struct drm_mode_modeinfo *modes = NULL;
	uint32_t *conns, *crtcs, *encs = NULL, conn_id = 0;
	unsigned int i, x, y;
	uint8_t *px;
	int fd;

	fd = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open /dev/dri/card0");
	xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res, "GETRESOURCES");
	conns = calloc(res.count_connectors, sizeof(*conns));
	crtcs = calloc(res.count_crtcs, sizeof(*crtcs));
	if (!conns || !crtcs || !res.count_connectors || !res.count_crtcs)
		die("no connectors or CRTCs");
	res.connector_id_ptr = (uintptr_t)conns;
	res.crtc_id_ptr = (uintptr_t)crtcs;
	res.count_fbs = res.count_encoders = 0;
	xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res, "GETRESOURCES");

	for (i = 0; i < res.count_connectors && !conn_id; i++) {
		memset(&conn, 0, sizeof(conn));
		conn.connector_id = conns[i];
		xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &conn, "GETCONNECTOR");
		if (conn.connection != 1 || !conn.count_modes)
			continue;
		modes = calloc(conn.count_modes, sizeof(*modes));
		encs = calloc(conn.count_encoders, sizeof(*encs));
		if (!modes || !encs)
			die("calloc");
		conn.modes_ptr = (uintptr_t)modes;
		conn.encoders_ptr = (uintptr_t)encs;
		conn.count_props = 0;
		xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &conn, "GETCONNECTOR");
		conn_id = conns[i];
	}
	if (!conn_id)
		die("no connected connector with modes");
	/* what the monitor (the vGPU's EDID) offers: all modes and the largest */
	{
		unsigned int mw = 0, mh = 0;

		for (i = 0; i < conn.count_modes; i++) {
			if ((unsigned int)modes[i].hdisplay * modes[i].vdisplay > mw * mh) {
				mw = modes[i].hdisplay;
				mh = modes[i].vdisplay;
			}
		}
		printf("SIMTEST-MODES %u largest %ux%u\n", conn.count_modes, mw, mh);
	}
	/* the preferred mode is listed first */
	for (i = 0; i < conn.count_modes; i++)
		if (modes[i].type & DRM_MODE_TYPE_PREFERRED)
			break;
	if (i == conn.count_modes)
		i = 0;
	crtc.mode = modes[i];

	enc.encoder_id = conn.encoder_id ? conn.encoder_id : encs[0];
	xioctl(fd, DRM_IOCTL_MODE_GETENCODER, &enc, "GETENCODER");
	crtc.crtc_id = enc.crtc_id;
	for (i = 0; !crtc.crtc_id && i < res.count_crtcs; i++)
		if (enc.possible_crtcs & (1u << i))
			crtc.crtc_id = crtcs[i];

	dumb.width = crtc.mode.hdisplay;
	dumb.height = crtc.mode.vdisplay;
	dumb.bpp = 32;
	xioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &dumb, "CREATE_DUMB");
	fb.width = dumb.width;
	fb.height = dumb.height;
	fb.pitch = dumb.pitch;
	fb.bpp = 32;
	fb.depth = 24;
	fb.handle = dumb.handle;
	xioctl(fd, DRM_IOCTL_MODE_ADDFB, &fb, "ADDFB");
	map.handle = dumb.handle;
	xioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map, "MAP_DUMB");
	px = mmap(NULL, dumb.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, map.offset);
	if (px == MAP_FAILED)
		die("mmap dumb buffer");
	for (y = 0; y < dumb.height; y++)
		for (x = 0; x < dumb.width; x++)
			((uint32_t *)(px + (size_t)y * dumb.pitch))[x] =
				color(x, y, dumb.width, dumb.height);

	crtc.fb_id = fb.fb_id;
	crtc.set_connectors_ptr = (uintptr_t)&conn_id;
	crtc.count_connectors = 1;
	crtc.mode_valid = 1;
	xioctl(fd, DRM_IOCTL_MODE_SETCRTC, &crtc, "SETCRTC");
	printf("SIMTEST-FB card0 %ux%u 32bpp stride %u mode %s\n", dumb.width,
	       dumb.height, dumb.pitch, crtc.mode.name);
	printf("SIMTEST-DRAWN\n");
	fflush(stdout);
	/* closing the device could take the mode down: stay */
	for (;;)
		pause();
}
