// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vgpu_sim in the lab (TAP): binds the lab's Bochs display, then drives real
 * vGPUs through sysfs and VFIO: types and exact capacity, device identity,
 * VRAM mmap and trapped mailbox, DISPI, the copy engine with every error
 * path, MSI-X/MSI/INTx, isolation between tenants and the display plane.
 *
 *   sim-test [-t NAME]...      (LAB_GPU names the PCI device)
 * Exit: 0 all passed, 1 a failure, 4 skipped (no GPU in this lab).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include "simtest.h"
#include "../harness/importer/dmabuf_import.h"
#include "../harness/kmsg.h"
#include "vgpu_mig.h"
#include "vgpu_sim_regs.h"

#define MiB (1ULL << 20)
#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define BAR2 (VFIO_PCI_BAR0_REGION_INDEX + VGPU_SIM_MMIO_BAR)
#define DRM_PLANE_PRIMARY 1	/* the kernel's DRM_PLANE_TYPE_PRIMARY */
#define DRM_PLANE_CURSOR 2
/* DRM fourcc codes (uapi drm_fourcc.h, not installed on every host) */
#define FOURCC(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | \
			    (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define DRM_FORMAT_XRGB8888 FOURCC('X', 'R', '2', '4')
#define DRM_FORMAT_BGRX8888 FOURCC('B', 'X', '2', '4')
#define DRM_FORMAT_RGB565 FOURCC('R', 'G', '1', '6')

struct st_type {
	const char *name;
	uint64_t size;
	unsigned int w, h;
};

static const struct st_type types[] = {
	{ "16m", 16 * MiB, 1920, 1080 },
	{ "32m", 32 * MiB, 2560, 1440 },
	{ "64m", 64 * MiB, 2560, 1600 },
	{ "128m", 128 * MiB, 3840, 2160 },
};

static uint64_t vram_total;

static void param_write(const char *name, const char *val)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "/sys/module/vgpu_sim/parameters/%s", name);
	ASSERT(sysfs_write(p, val) == 0);
}

/* where vgpu_sim put a vGPU's slice (vendor/vram) */
static void vgpu_slice(struct vgpu *g, uint64_t *off, uint64_t *size)
{
	char p[PATH_MAX], buf[128];
	unsigned long long o, s;

	snprintf(p, sizeof(p), "/sys/bus/mdev/devices/%s/vendor/vram", g->uuid);
	ASSERT(sysfs_read_str(p, buf, sizeof(buf)) == 0);
	ASSERT(sscanf(buf, "offset=%llx, size=%llx", &o, &s) == 2);
	*off = o;
	*size = s;
}

/* ---- the physical GPU ------------------------------------------------- */

static void t_bind(void)
{
	char p[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	/* loaded, but bound to nothing until told */
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", st_gpu);
	ASSERT(access("/sys/bus/pci/drivers/vgpu_sim", F_OK) == 0);
	ASSERT(access(p, F_OK) != 0);
	snprintf(p, sizeof(p), "/sys/class/mdev_bus/%s", st_gpu);
	ASSERT(access(p, F_OK) != 0);
	/* a plain probe request does not bind it either */
	ASSERT(sysfs_write("/sys/bus/pci/drivers_probe", st_gpu) == 0 ||
	       errno == ENODEV);
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", st_gpu);
	ASSERT(access(p, F_OK) != 0);

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver_override", st_gpu);
	ASSERT(sysfs_write(p, "vgpu_sim") == 0);
	ASSERT(sysfs_write("/sys/bus/pci/drivers_probe", st_gpu) == 0);
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", st_gpu);
	n = readlink(p, link, sizeof(link) - 1);
	ASSERT(n > 0);
	link[n] = 0;
	ASSERT(strstr(link, "/vgpu_sim") != NULL);
	snprintf(p, sizeof(p), "/sys/class/mdev_bus/%s", st_gpu);
	ASSERT(access(p, F_OK) == 0);
	{
		unsigned long long s, e, fl;
		char line[256];
		FILE *f;

		/* the first line of "resource" is BAR0, the VRAM */
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/resource", st_gpu);
		f = fopen(p, "r");
		ASSERT(f);
		ASSERT(fgets(line, sizeof(line), f));
		fclose(f);
		ASSERT(sscanf(line, "%llx %llx %llx", &s, &e, &fl) == 3);
		vram_total = e - s + 1;
	}
	st_diag("physical VRAM: %llu MiB", (unsigned long long)vram_total >> 20);
}

/* a PCI device with no driver that is not a Bochs display, or NULL */
static const char *spare_device(char *buf, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *de;
	const char *found = NULL;

	ASSERT(d);
	while (!found && (de = readdir(d))) {
		char p[PATH_MAX];
		long long vendor, device, class;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, st_gpu))
			continue;
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", de->d_name);
		if (access(p, F_OK) == 0)
			continue;
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/vendor", de->d_name);
		vendor = sysfs_read_ll(p);
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/device", de->d_name);
		device = sysfs_read_ll(p);
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/class", de->d_name);
		class = sysfs_read_ll(p);
		/* bridges are left alone */
		if ((vendor == VGPU_SIM_PCI_VENDOR && device == VGPU_SIM_PCI_DEVICE) ||
		    class >> 16 == 0x06)
			continue;
		snprintf(buf, len, "%s", de->d_name);
		found = buf;
	}
	closedir(d);
	return found;
}

/* occurrences of @needle in the kernel log */
static unsigned int klog_count(const char *needle)
{
	int len = klogctl(10, NULL, 0);
	unsigned int n = 0;
	char *log, *p;

	ASSERT(len > 0);
	log = malloc(len + 1);
	ASSERT(log);
	len = klogctl(3, log, len);
	ASSERT(len >= 0);
	log[len] = 0;
	for (p = log; (p = strstr(p, needle)); p++)
		n++;
	free(log);
	return n;
}

static bool klog_has(const char *needle)
{
	return klog_count(needle) != 0;
}

/*
 * driver_override names vgpu_sim for a device that is no Bochs display:
 * refused before it is touched (enabled, its BAR0 taken as VRAM).
 */
static void t_bind_other(void)
{
	char dev[NAME_MAX + 1], p[PATH_MAX], want[NAME_MAX + 64];

	if (!spare_device(dev, sizeof(dev)))
		st_fail(__FILE__, __LINE__, "the lab has no unbound non-bridge PCI device");
	st_diag("trying %s", dev);
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver_override", dev);
	ASSERT(sysfs_write(p, "vgpu_sim") == 0);
	ASSERT(sysfs_write("/sys/bus/pci/drivers_probe", dev) == 0 || errno == ENODEV);
	ASSERT(sysfs_write(p, "\n") == 0);
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", dev);
	ASSERT(access(p, F_OK) != 0);
	snprintf(want, sizeof(want), "%s: not a QEMU Bochs display", dev);
	ASSERT(klog_has(want));
	ASSERT(!klog_has("BAR0 is not a memory BAR"));
}

static void t_types(void)
{
	char p[PATH_MAX], buf[512], want[128];
	unsigned int i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		const struct st_type *t = &types[i];
		long long max = vram_total / t->size;

		st_type_path(p, sizeof(p), t->name, "name");
		if (!max) {
			/* a type that cannot fit is not offered */
			ASSERT(access(p, F_OK) != 0);
			continue;
		}
		ASSERT(sysfs_read_str(p, buf, sizeof(buf)) == 0);
		ASSERT(strstr(buf, "vgpu_sim") != NULL);
		st_type_path(p, sizeof(p), t->name, "device_api");
		ASSERT(sysfs_read_str(p, buf, sizeof(buf)) == 0);
		ASSERT(strcmp(buf, "vfio-pci") == 0);
		st_type_path(p, sizeof(p), t->name, "description");
		ASSERT(sysfs_read_str(p, buf, sizeof(buf)) == 0);
		st_diag("%s: %s", t->name, buf);
		snprintf(want, sizeof(want), "fb_size=%llu,", (unsigned long long)t->size);
		ASSERT(strstr(buf, want) != NULL);
		ASSERT(strstr(buf, "heads=1,") != NULL);
		snprintf(want, sizeof(want), "max_resolution=%ux%u,", t->w, t->h);
		ASSERT(strstr(buf, want) != NULL);
		snprintf(want, sizeof(want), "max_instances=%lld", max);
		ASSERT(strstr(buf, want) != NULL);
		ASSERT_CMP(st_available(t->name), ==, max);
	}
}

/*
 * available_instances must be exactly what can be created now: for each
 * type, create until refused and compare, in a fragmented state.
 */
static void check_available_exact(void)
{
	static struct vgpu extra[16];
	unsigned int i, k;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		long long avail = st_available(types[i].name);
		int made = 0, ret;

		if (avail < 0)
			continue;	/* type not offered */
		for (k = 0; k < 16; k++) {
			ret = vgpu_create(&extra[k], types[i].name);
			if (ret)
				break;
			made++;
		}
		ASSERT_CMP(made, ==, avail);
		if (made < 16)
			ASSERT(ret == -ENOSPC || ret == -EUSERS);
		ASSERT_CMP(st_available(types[i].name), ==, 0);
		for (k = 0; k < (unsigned int)made; k++)
			vgpu_remove(&extra[k]);
		ASSERT_CMP(st_available(types[i].name), ==, avail);
	}
}

static void t_capacity(void)
{
	static struct vgpu a, b, c;
	unsigned int i;

	ASSERT(vgpu_create(&a, "64m") == 0);
	ASSERT_CMP(st_available("16m"), ==, (vram_total - 64 * MiB) / (16 * MiB));
	check_available_exact();
	ASSERT(vgpu_create(&b, "16m") == 0);
	ASSERT(vgpu_create(&c, "32m") == 0);
	check_available_exact();
	/* free a hole between live slices: fragmentation must be counted */
	vgpu_remove(&b);
	check_available_exact();
	vgpu_remove(&a);
	vgpu_remove(&c);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (vram_total >= types[i].size)
			ASSERT_CMP(st_available(types[i].name), ==,
				   vram_total / types[i].size);
}

struct racer {
	const char *type;
	struct vgpu g[64];
	int made;
	int err;
};

static void *race_create(void *arg)
{
	struct racer *r = arg;
	int ret;

	while (r->made < 64) {
		ret = vgpu_create(&r->g[r->made], r->type);
		if (ret) {
			r->err = ret;
			break;
		}
		r->made++;
	}
	return NULL;
}

/* creates racing in two threads; checks the slices they got */
static void race(const char *t0, const char *t1, uint64_t *used)
{
	static struct racer r[2];
	struct { uint64_t off, size; } sl[128];
	pthread_t th[2];
	int i, k, j, n = 0;

	memset(r, 0, sizeof(r));
	r[0].type = t0;
	r[1].type = t1;
	for (i = 0; i < 2; i++)
		ASSERT(pthread_create(&th[i], NULL, race_create, &r[i]) == 0);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	st_diag("threads created %d x %s + %d x %s", r[0].made, t0, r[1].made, t1);
	*used = 0;
	for (i = 0; i < 2; i++) {
		ASSERT(r[i].err == -ENOSPC || r[i].err == -EUSERS);
		for (k = 0; k < r[i].made; k++) {
			vgpu_slice(&r[i].g[k], &sl[n].off, &sl[n].size);
			ASSERT_CMP(sl[n].off % sl[n].size, ==, 0);
			ASSERT_CMP(sl[n].off + sl[n].size, <=, vram_total);
			for (j = 0; j < n; j++)
				ASSERT(sl[j].off + sl[j].size <= sl[n].off ||
				       sl[n].off + sl[n].size <= sl[j].off);
			*used += sl[n].size;
			n++;
		}
	}
	/* whoever stopped last found no room for even its own size */
	for (i = 0; i < (int)(sizeof(types) / sizeof(types[0])); i++)
		if (!strcmp(types[i].name, t0) || !strcmp(types[i].name, t1))
			ASSERT_CMP(st_available(types[i].name), ==, 0);
	for (i = 0; i < 2; i++)
		for (k = 0; k < r[i].made; k++)
			vgpu_remove(&r[i].g[k]);
}

static void t_concurrent_create(void)
{
	uint64_t used;
	unsigned int i;

	race("16m", "16m", &used);
	ASSERT_CMP(used, ==, vram_total);
	/* mixed sizes: 16m fills every hole, so VRAM ends up full, never over */
	race("16m", "32m", &used);
	ASSERT_CMP(used, ==, vram_total);
	race("64m", "32m", &used);
	ASSERT_CMP(used, ==, vram_total);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (vram_total >= types[i].size)
			ASSERT_CMP(st_available(types[i].name), ==,
				   vram_total / types[i].size);
}

/* ---- one vGPU as a VFIO device ----------------------------------------- */

static void t_device_info(void)
{
	static struct vgpu g;
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct st_region *r0, *r2;
	uint32_t lo, hi;

	ASSERT(vgpu_create(&g, "32m") == 0);
	vgpu_open(&g);
	ASSERT(ioctl(g.dev, VFIO_DEVICE_GET_INFO, &di) == 0);
	ASSERT(di.flags & VFIO_DEVICE_FLAGS_PCI);
	ASSERT(di.flags & VFIO_DEVICE_FLAGS_RESET);
	ASSERT_CMP(di.num_regions, >=, VFIO_PCI_NUM_REGIONS);
	ASSERT_CMP(di.num_irqs, >=, VFIO_PCI_MSIX_IRQ_INDEX + 1);

	ASSERT_CMP(cfg_read(&g, 0x00, 2), ==, VGPU_SIM_PCI_VENDOR);
	ASSERT_CMP(cfg_read(&g, 0x02, 2), ==, VGPU_SIM_PCI_DEVICE);
	ASSERT_CMP(cfg_read(&g, 0x08, 1), ==, VGPU_SIM_PCI_REVISION);
	ASSERT_CMP(cfg_read(&g, 0x09, 4) & 0xffffff, ==, VGPU_SIM_PCI_CLASS);
	ASSERT_CMP(cfg_read(&g, 0x2c, 2), ==, VGPU_SIM_SUBSYS_VENDOR);
	ASSERT_CMP(cfg_read(&g, 0x2e, 2), ==, VGPU_SIM_SUBSYS_DEVICE(1));

	/* BAR0: 64-bit prefetchable memory of the slice size */
	ASSERT_CMP(cfg_read(&g, 0x10, 4) & 0xf, ==, 0xc);
	cfg_write(&g, 0x10, 4, 0xffffffff);
	cfg_write(&g, 0x14, 4, 0xffffffff);
	lo = cfg_read(&g, 0x10, 4);
	hi = cfg_read(&g, 0x14, 4);
	ASSERT_CMP(~(((uint64_t)hi << 32) | (lo & ~0xfu)) + 1, ==, 32 * MiB);
	/* BAR2: 32-bit memory, the MMIO block */
	cfg_write(&g, 0x18, 4, 0xffffffff);
	ASSERT_CMP(~(cfg_read(&g, 0x18, 4) & ~0xfu) + 1, ==, VGPU_SIM_MMIO_SIZE);

	r0 = &g.reg[BAR0];
	r2 = &g.reg[BAR2];
	ASSERT_CMP(r0->info.size, ==, 32 * MiB);
	ASSERT(r0->info.flags & VFIO_REGION_INFO_FLAG_READ);
	ASSERT(r0->info.flags & VFIO_REGION_INFO_FLAG_WRITE);
	ASSERT(r0->info.flags & VFIO_REGION_INFO_FLAG_MMAP);
	ASSERT(r0->sparse);
	ASSERT_CMP(r0->nr_areas, ==, 1);
	ASSERT_CMP(r0->areas[0].offset, ==, 0);
	ASSERT_CMP(r0->areas[0].size, ==, 32 * MiB - VGPU_SIM_MAILBOX_SIZE);
	ASSERT_CMP(r2->info.size, ==, VGPU_SIM_MMIO_SIZE);
	ASSERT(!(r2->info.flags & VFIO_REGION_INFO_FLAG_MMAP));
	ASSERT_CMP(g.reg[VFIO_PCI_BAR0_REGION_INDEX + 1].info.size, ==, 0);
	ASSERT_CMP(g.reg[VFIO_PCI_BAR0_REGION_INDEX + 3].info.size, ==, 0);
	ASSERT_CMP(g.reg[VFIO_PCI_ROM_REGION_INDEX].info.size, ==, 0);
	ASSERT_CMP(g.reg[VFIO_PCI_VGA_REGION_INDEX].info.size, ==, 0);
	/* the display region: vendor-typed, read-only, mmap-able */
	ASSERT_CMP(di.num_regions, ==, VFIO_PCI_NUM_REGIONS + 1);
	ASSERT(g.reg[VFIO_PCI_NUM_REGIONS].has_type);
	ASSERT_CMP(g.reg[VFIO_PCI_NUM_REGIONS].type, ==,
		   (uint32_t)VFIO_REGION_TYPE_PCI_VENDOR_TYPE | VGPU_SIM_PCI_VENDOR);
	ASSERT_CMP(g.reg[VFIO_PCI_NUM_REGIONS].subtype, ==, VGPU_SIM_DISPLAY_REGION_SUBTYPE);
	ASSERT_CMP(g.reg[VFIO_PCI_NUM_REGIONS].info.size, ==, 32 * MiB - VGPU_SIM_MAILBOX_SIZE);
	ASSERT_CMP(g.reg[VFIO_PCI_NUM_REGIONS].info.flags &
		   (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		    VFIO_REGION_INFO_FLAG_MMAP), ==,
		   VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_MMAP);

	/* sim identity block */
	ASSERT_CMP(bar_read(&g, BAR2, VGPU_SIM_REG_ID, 4), ==, VGPU_SIM_ID_VALUE);
	ASSERT_CMP(bar_read(&g, BAR2, VGPU_SIM_REG_VRAM_SIZE, 4), ==, 32 * MiB);
	ASSERT_CMP(bar_read(&g, BAR2, VGPU_SIM_REG_MAX_RES, 4), ==, 2560 | 1440 << 16);
	vgpu_remove(&g);

	/* every type: its BAR0 and identity */
	for (unsigned int i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (vram_total < types[i].size)
			continue;
		ASSERT(vgpu_create(&g, types[i].name) == 0);
		vgpu_open(&g);
		ASSERT_CMP(g.reg[BAR0].info.size, ==, types[i].size);
		ASSERT_CMP(cfg_read(&g, 0x2e, 2), ==, VGPU_SIM_SUBSYS_DEVICE(i));
		ASSERT_CMP(bar_read(&g, BAR2, VGPU_SIM_REG_VRAM_SIZE, 4), ==, types[i].size);
		ASSERT_CMP(bar_read(&g, BAR2, VGPU_SIM_REG_MAX_RES, 4), ==,
			   types[i].w | types[i].h << 16);
		ASSERT_CMP(bar_read(&g, BAR2, VGPU_SIM_DISPI_REG(VGPU_SIM_DISPI_VIDEO_MEMORY_64K), 2),
			   ==, (types[i].size - 0x10000) >> 16);
		vgpu_remove(&g);
	}
}

static void t_irq_info(void)
{
	static struct vgpu g;
	static const struct { unsigned int index, count; } want[] = {
		{ VFIO_PCI_INTX_IRQ_INDEX, 1 },
		{ VFIO_PCI_MSI_IRQ_INDEX, 1 },
		{ VFIO_PCI_MSIX_IRQ_INDEX, VGPU_SIM_MSIX_VECTORS },
	};
	unsigned int i;

	ASSERT(vgpu_create(&g, "16m") == 0);
	vgpu_open(&g);
	for (i = 0; i < 3; i++) {
		struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = want[i].index };

		ASSERT(ioctl(g.dev, VFIO_DEVICE_GET_IRQ_INFO, &ii) == 0);
		ASSERT_CMP(ii.count, ==, want[i].count);
		ASSERT(ii.flags & VFIO_IRQ_INFO_EVENTFD);
	}
	/* MSI-X capability: 2 vectors, table and PBA in BAR2 where declared */
	{
		unsigned int pos = cfg_read(&g, 0x34, 1), guard = 0, found = 0;

		while (pos && guard++ < 48) {
			if (cfg_read(&g, pos, 1) == 0x11) {
				ASSERT_CMP((cfg_read(&g, pos + 2, 2) & 0x7ff) + 1, ==, 2);
				ASSERT_CMP(cfg_read(&g, pos + 4, 4), ==,
					   VGPU_SIM_MSIX_TABLE_OFFSET | VGPU_SIM_MMIO_BAR);
				ASSERT_CMP(cfg_read(&g, pos + 8, 4), ==,
					   VGPU_SIM_MSIX_PBA_OFFSET | VGPU_SIM_MMIO_BAR);
				found |= 1;
			}
			if (cfg_read(&g, pos, 1) == 0x05)
				found |= 2;
			pos = cfg_read(&g, pos + 1, 1);
		}
		ASSERT_CMP(found, ==, 3);
	}
	vgpu_remove(&g);
}

static void fill(void *p, size_t len, uint32_t seed)
{
	uint32_t *w = p;
	size_t i;

	for (i = 0; i < len / 4; i++)
		w[i] = seed ^ (uint32_t)(i * 2654435761u);
}

static size_t first_mismatch(const void *p, size_t len, uint32_t seed)
{
	const uint32_t *w = p;
	size_t i;

	for (i = 0; i < len / 4; i++)
		if (w[i] != (seed ^ (uint32_t)(i * 2654435761u)))
			return i * 4;
	return (size_t)-1;
}

static bool all_zero(const volatile void *p, size_t len)
{
	const volatile uint64_t *q = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (q[i])
			return false;
	return true;
}

static void t_vram_mmap(void)
{
	static struct vgpu g;
	volatile uint32_t *vram;
	struct st_region *r;
	void *bad;
	uint64_t off;

	ASSERT(vgpu_create(&g, "16m") == 0);
	vgpu_open(&g);
	r = &g.reg[BAR0];
	vram = vram_map(&g);
	/* a fresh slice is zeroed */
	ASSERT(all_zero(vram, g.vram_len));
	/* mmap write -> region read, and back, at both ends and inside */
	for (off = 0; off < g.vram_len; off += g.vram_len / 4 - 4) {
		vram[off / 4] = 0xa5000000u | (uint32_t)off;
		ASSERT_CMP(bar_read(&g, BAR0, off, 4), ==, 0xa5000000u | (uint32_t)off);
		bar_write(&g, BAR0, off, 4, 0x5a000000u | (uint32_t)off);
		ASSERT_CMP(vram[off / 4], ==, 0x5a000000u | (uint32_t)off);
	}
	ASSERT_CMP(bar_read(&g, BAR0, 2, 2), ==, 0x5a00);
	/* the mailbox page is trapped: no mmap of it, nor past the end */
	bad = dev_mmap(&g, 4096, PROT_READ,
		       r->info.offset + VGPU_SIM_MAILBOX_OFFSET(r->info.size));
	ASSERT(bad == MAP_FAILED);
	bad = dev_mmap(&g, r->info.size, PROT_READ, r->info.offset);
	ASSERT(bad == MAP_FAILED);
	bad = dev_mmap(&g, 4096, PROT_READ, g.reg[BAR2].info.offset);
	ASSERT(bad == MAP_FAILED);
	vgpu_remove(&g);
}

/* ---- huge mappings ------------------------------------------------------ */

#define TRACEFS "/sys/kernel/tracing"

/* true if the running kernel is at least @major.@minor */
static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	ASSERT(uname(&u) == 0);
	ASSERT(sscanf(u.release, "%d.%d", &ma, &mi) == 2);
	return ma > major || (ma == major && mi >= minor);
}

/* opening the trace buffer with O_TRUNC empties it */
static void trace_clear(void)
{
	int fd = open(TRACEFS "/trace", O_WRONLY | O_TRUNC);

	ASSERT(fd >= 0);
	close(fd);
}

static void trace_faults_start(void)
{
	if (access(TRACEFS "/events", F_OK))
		ASSERT(mount("tracefs", TRACEFS, "tracefs", 0, NULL) == 0);
	ASSERT(sysfs_write(TRACEFS "/events/vgpu_vfio/vgpu_vfio_fault/enable", "1") == 0);
	trace_clear();
}

/*
 * Faults of the vGPU with offset cookie @cookie served since the last
 * trace_faults_start() (vm_fault 0x100 is VM_FAULT_NOPAGE); clears the trace.
 * @pages gets the pages the last of them mapped.
 */
static unsigned int trace_faults(unsigned int cookie, unsigned long *pages)
{
	char want[64], line[512];
	unsigned int n = 0;
	FILE *f;

	snprintf(want, sizeof(want), "vgpu_vfio_fault: vgpu %u ", cookie);
	f = fopen(TRACEFS "/trace", "r");
	ASSERT(f);
	while (fgets(line, sizeof(line), f)) {
		const char *e = strstr(line, want);

		if (!e)
			continue;
		ASSERT(strstr(e, " vm_fault 0x100"));
		ASSERT(sscanf(strstr(e, " mapped ") ?: "", " mapped %lu pages", pages) == 1);
		st_diag("%.*s", (int)strcspn(e, "\n"), e);
		n++;
	}
	fclose(f);
	trace_clear();
	return n;
}

static uint32_t touch_pages(volatile uint32_t *m, size_t len)
{
	uint32_t x = 0;
	size_t i;

	for (i = 0; i < len / 4; i += 4096 / 4)
		x += m[i];
	return x;
}

/*
 * VRAM faults map 2 MiB at a time on every kernel: with one PMD entry where
 * the kernel supports huge PFN maps (6.12), with 512 PTEs before (6.1). The
 * page-table level shows when a page in the middle is unmapped: the kernel
 * drops a PMD entry as a whole, so its other pages fault again; PTEs stay.
 */
static void t_vram_huge(void)
{
	static struct vgpu g;
	const size_t pmd = 2 * MiB, len = 4 * MiB;
	bool huge = kernel_at_least(6, 12);
	volatile uint32_t *v;
	unsigned long pages = 0;
	unsigned int cookie;
	char thp[128];
	uint8_t *win, *m;
	uint64_t off;

	/* 6.12.0 applies this policy to huge PFN maps, later 6.12.y do not */
	if (sysfs_read_str("/sys/kernel/mm/transparent_hugepage/enabled", thp,
			   sizeof(thp))) {
		st_skip("no transparent_hugepage in this kernel (the debug kernel's config)");
		return;
	}
	st_diag("kernel %s huge PFN maps, THP %s", huge ? "with" : "without", thp);

	ASSERT(vgpu_create(&g, "16m") == 0);
	vgpu_open(&g);
	off = g.reg[BAR0].info.offset + g.reg[BAR0].areas[0].offset;
	cookie = off >> 44;
	ASSERT_CMP(off % pmd, ==, 0);
	/* a 2 MiB aligned address for the 2 MiB aligned offset */
	win = mmap(NULL, len + pmd, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT(win != MAP_FAILED);
	g.maps[0] = win;	/* vgpu_close() unmaps it all */
	g.map_len[0] = len + pmd;
	m = (uint8_t *)(((uintptr_t)win + pmd - 1) & ~(uintptr_t)(pmd - 1));
	ASSERT(mmap(m, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, g.dev, off) ==
	       (void *)m);
	v = (volatile uint32_t *)m;

	trace_faults_start();
	touch_pages(v, len);
	ASSERT_CMP(trace_faults(cookie, &pages), ==, 2);
	ASSERT_CMP(pages, ==, pmd / 4096);
	touch_pages(v, len);
	ASSERT_CMP(trace_faults(cookie, &pages), ==, 0);
	/* the right VRAM behind both halves */
	v[(pmd - 8) / 4] = 0x11223344;
	v[(pmd + 8) / 4] = 0x55667788;
	ASSERT_CMP(bar_read(&g, BAR0, pmd - 8, 4), ==, 0x11223344);
	ASSERT_CMP(bar_read(&g, BAR0, pmd + 8, 4), ==, 0x55667788);
	touch_pages(v, len);
	ASSERT_CMP(trace_faults(cookie, &pages), ==, 0);

	/* a hole in the first 2 MiB; the second stays whole */
	ASSERT(munmap(m + MiB, 4096) == 0);
	touch_pages(v, MiB);
	touch_pages(v + (MiB + 4096) / 4, MiB - 4096);
	touch_pages(v + pmd / 4, pmd);
	ASSERT_CMP(trace_faults(cookie, &pages), ==, huge ? 2 : 0);
	ASSERT_CMP(v[(pmd - 8) / 4], ==, 0x11223344);
	ASSERT_CMP(v[(pmd + 8) / 4], ==, 0x55667788);

	/* memory disable zaps the huge entry too: the next access faults */
	cfg_write(&g, 0x04, 2, cfg_read(&g, 0x04, 2) & ~0x2);
	cfg_write(&g, 0x04, 2, cfg_read(&g, 0x04, 2) | 0x2);
	ASSERT_CMP(v[(pmd + 8) / 4], ==, 0x55667788);
	ASSERT_CMP(trace_faults(cookie, &pages), ==, 1);
	ASSERT_CMP(pages, ==, pmd / 4096);
	ASSERT(sysfs_write(TRACEFS "/events/vgpu_vfio/vgpu_vfio_fault/enable", "0") == 0);
	vgpu_remove(&g);
}

static void t_mailbox(void)
{
	static struct vgpu g;
	uint64_t mb;
	uint32_t w0;

	ASSERT(vgpu_create(&g, "16m") == 0);
	vgpu_open(&g);
	mb = VGPU_SIM_MAILBOX_OFFSET(g.reg[BAR0].info.size);
	ASSERT_CMP(bar_read(&g, BAR0, mb + VGPU_SIM_MBOX_MAGIC, 4), ==,
		   VGPU_SIM_MBOX_MAGIC_VALUE);
	ASSERT_CMP(bar_read(&g, BAR0, mb + VGPU_SIM_MBOX_VRAM_MB, 4), ==, 16);
	w0 = bar_read(&g, BAR0, mb + VGPU_SIM_MBOX_WRITES, 4);
	/* read-only words stay, scratch keeps what is written, writes count */
	bar_write(&g, BAR0, mb + VGPU_SIM_MBOX_MAGIC, 4, 0);
	ASSERT_CMP(bar_read(&g, BAR0, mb + VGPU_SIM_MBOX_MAGIC, 4), ==,
		   VGPU_SIM_MBOX_MAGIC_VALUE);
	bar_write(&g, BAR0, mb + VGPU_SIM_MBOX_SCRATCH, 8, 0x1122334455667788ull);
	bar_write(&g, BAR0, mb + 4092, 4, 0xdeadbeef);
	bar_write(&g, BAR0, mb + VGPU_SIM_MBOX_SCRATCH + 1, 1, 0xee);
	ASSERT_CMP(bar_read(&g, BAR0, mb + VGPU_SIM_MBOX_SCRATCH, 8), ==,
		   0x112233445566ee88ull);
	ASSERT_CMP(bar_read(&g, BAR0, mb + 4092, 4), ==, 0xdeadbeef);
	ASSERT_CMP(bar_read(&g, BAR0, mb + VGPU_SIM_MBOX_WRITES, 4), ==, w0 + 4);
	/* the mailbox is not VRAM: the page before it is untouched */
	ASSERT_CMP(bar_read(&g, BAR0, mb - 8, 8), ==, 0);
	vgpu_remove(&g);
}

static uint16_t dispi_rd(struct vgpu *g, unsigned int i)
{
	return bar_read(g, BAR2, VGPU_SIM_DISPI_REG(i), 2);
}

static void dispi_wr(struct vgpu *g, unsigned int i, uint16_t v)
{
	bar_write(g, BAR2, VGPU_SIM_DISPI_REG(i), 2, v);
}

static void t_dispi(void)
{
	static struct vgpu g;

	ASSERT(vgpu_create(&g, "16m") == 0);
	vgpu_open(&g);
	ASSERT_CMP(dispi_rd(&g, VGPU_SIM_DISPI_ID) & 0xfff0, ==, VGPU_SIM_DISPI_ID0);
	ASSERT_CMP(dispi_rd(&g, VGPU_SIM_DISPI_VIDEO_MEMORY_64K), ==,
		   (16 * MiB - 0x10000) >> 16);
	dispi_wr(&g, VGPU_SIM_DISPI_XRES, 800);
	dispi_wr(&g, VGPU_SIM_DISPI_YRES, 600);
	ASSERT_CMP(dispi_rd(&g, VGPU_SIM_DISPI_XRES), ==, 800);
	ASSERT_CMP(dispi_rd(&g, VGPU_SIM_DISPI_YRES), ==, 600);
	/* beyond the type's maximum: refused */
	dispi_wr(&g, VGPU_SIM_DISPI_XRES, 4000);
	ASSERT_CMP(dispi_rd(&g, VGPU_SIM_DISPI_XRES), ==, 800);
	/* GETCAPS reads the maxima */
	dispi_wr(&g, VGPU_SIM_DISPI_ENABLE, VGPU_SIM_DISPI_GETCAPS);
	ASSERT_CMP(dispi_rd(&g, VGPU_SIM_DISPI_XRES), ==, 1920);
	ASSERT_CMP(dispi_rd(&g, VGPU_SIM_DISPI_YRES), ==, 1080);
	dispi_wr(&g, VGPU_SIM_DISPI_ENABLE, 0);
	ASSERT_CMP(dispi_rd(&g, VGPU_SIM_DISPI_XRES), ==, 800);
	/* a 32-bit access covers two registers */
	bar_write(&g, BAR2, VGPU_SIM_DISPI_REG(VGPU_SIM_DISPI_X_OFFSET), 4, 0x00070003);
	ASSERT_CMP(dispi_rd(&g, VGPU_SIM_DISPI_X_OFFSET), ==, 3);
	ASSERT_CMP(dispi_rd(&g, VGPU_SIM_DISPI_Y_OFFSET), ==, 7);
	/* qext block as bochs-drm probes it (revision 2) */
	ASSERT_CMP(bar_read(&g, BAR2, VGPU_SIM_QEXT_SIZE_REG, 4), ==, 8);
	ASSERT_CMP(bar_read(&g, BAR2, VGPU_SIM_QEXT_BYTEORDER, 4), ==,
		   VGPU_SIM_QEXT_LITTLE_ENDIAN);
	bar_write(&g, BAR2, VGPU_SIM_QEXT_BYTEORDER, 4, 0x12345678);
	ASSERT_CMP(bar_read(&g, BAR2, VGPU_SIM_QEXT_BYTEORDER, 4), ==,
		   VGPU_SIM_QEXT_LITTLE_ENDIAN);
	/* VGA ports keep bytes */
	bar_write(&g, BAR2, VGPU_SIM_VGA_OFFSET + 2, 1, 0x01);
	ASSERT_CMP(bar_read(&g, BAR2, VGPU_SIM_VGA_OFFSET + 2, 1), ==, 0x01);
	/* device reset returns everything to power-on, memory decode included */
	ASSERT(ioctl(g.dev, VFIO_DEVICE_RESET) == 0);
	ASSERT_CMP(cfg_read(&g, 0x04, 2) & 0x2, ==, 0);
	cfg_write(&g, 0x04, 2, 0x2);
	ASSERT_CMP(dispi_rd(&g, VGPU_SIM_DISPI_XRES), ==, 0);
	ASSERT_CMP(bar_read(&g, BAR2, VGPU_SIM_VGA_OFFSET + 2, 1), ==, 0);
	vgpu_remove(&g);
}

/* vendor/max_resolution: set before the first open, seen by the guest */
static void t_attrs(void)
{
	static struct vgpu g;
	char p[PATH_MAX], buf[64];
	static const char *const bad[] = {
		"0x0", "319x200", "1921x1080", "1920x1081", "800", "800x600x1",
		"800x600 ", "abc", "-1x600", "800x600\n\n",
	};
	unsigned int i;

	ASSERT(vgpu_create(&g, "16m") == 0);
	snprintf(p, sizeof(p), "/sys/bus/mdev/devices/%s/vendor/max_resolution", g.uuid);
	ASSERT(sysfs_read_str(p, buf, sizeof(buf)) == 0);
	ASSERT(strcmp(buf, "1920x1080") == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = sysfs_write(p, bad[i]);

		if (ret != -EINVAL)
			st_fail(__FILE__, __LINE__, "writing '%s': %d, want -EINVAL", bad[i], ret);
	}
	ASSERT(sysfs_write(p, "800x600\n") == 0);
	ASSERT(sysfs_read_str(p, buf, sizeof(buf)) == 0);
	ASSERT(strcmp(buf, "800x600") == 0);

	vgpu_open(&g);
	ASSERT_CMP(bar_read(&g, BAR2, VGPU_SIM_REG_MAX_RES, 4), ==, 800 | 600 << 16);
	/* the EDID in BAR2 describes the same monitor: 800x600 preferred */
	{
		uint8_t edid[128], sum = 0;
		unsigned int k;

		for (k = 0; k < 128; k += 8) {
			uint64_t q = bar_read(&g, BAR2, VGPU_SIM_EDID_OFFSET + k, 8);

			memcpy(&edid[k], &q, 8);
		}
		for (k = 0; k < 128; k++)
			sum += edid[k];
		ASSERT_CMP(sum, ==, 0);
		ASSERT_CMP(edid[0] | edid[7], ==, 0);
		ASSERT_CMP(edid[1] & edid[2] & edid[3] & edid[4] & edid[5] & edid[6], ==, 0xff);
		ASSERT_CMP(edid[54 + 2] | (edid[54 + 4] >> 4) << 8, ==, 800);
		ASSERT_CMP(edid[54 + 5] | (edid[54 + 7] >> 4) << 8, ==, 600);
		ASSERT_CMP(bar_read(&g, BAR2, VGPU_SIM_EDID_OFFSET + 128, 4), ==, 0);
	}
	dispi_wr(&g, VGPU_SIM_DISPI_ENABLE, VGPU_SIM_DISPI_GETCAPS);
	ASSERT_CMP(dispi_rd(&g, VGPU_SIM_DISPI_XRES), ==, 800);
	ASSERT_CMP(dispi_rd(&g, VGPU_SIM_DISPI_YRES), ==, 600);
	dispi_wr(&g, VGPU_SIM_DISPI_ENABLE, 0);
	dispi_wr(&g, VGPU_SIM_DISPI_XRES, 1024);
	ASSERT_CMP(dispi_rd(&g, VGPU_SIM_DISPI_XRES), ==, 0);
	dispi_wr(&g, VGPU_SIM_DISPI_XRES, 800);
	ASSERT_CMP(dispi_rd(&g, VGPU_SIM_DISPI_XRES), ==, 800);
	/* once opened the configuration is fixed (the core refuses) */
	ASSERT_CMP(sysfs_write(p, "640x480"), ==, -EBUSY);
	vgpu_close(&g);
	ASSERT_CMP(sysfs_write(p, "640x480"), ==, -EBUSY);
	/* and it survives close and reopen */
	vgpu_open(&g);
	ASSERT_CMP(bar_read(&g, BAR2, VGPU_SIM_REG_MAX_RES, 4), ==, 800 | 600 << 16);
	vgpu_remove(&g);
}

/* ---- copy engine ------------------------------------------------------ */

#define IOVA_BASE 0x100000ull

struct ce_env {
	struct vgpu g;
	uint8_t *buf;		/* guest memory, mapped at IOVA_BASE */
	size_t buf_len;
};

static void ce_setup(struct ce_env *e, const char *type, size_t buf_len,
		     unsigned int irq_index)
{
	uint16_t cmd;

	ASSERT(vgpu_create(&e->g, type) == 0);
	vgpu_open(&e->g);
	e->buf_len = buf_len;
	e->buf = mmap(NULL, buf_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT(e->buf != MAP_FAILED);
	memset(e->buf, 0, buf_len);
	dma_map(&e->g, e->buf, IOVA_BASE, buf_len);
	cmd = cfg_read(&e->g, 0x04, 2);
	cfg_write(&e->g, 0x04, 2, cmd | 0x6);	/* memory + bus master */
	if (irq_index == VFIO_PCI_MSIX_IRQ_INDEX) {
		unsigned int pos = cfg_read(&e->g, 0x34, 1);

		while (pos && cfg_read(&e->g, pos, 1) != 0x11)
			pos = cfg_read(&e->g, pos + 1, 1);
		ASSERT(pos);
		/* as QEMU does: enable in config space, then the eventfds */
		cfg_write(&e->g, pos + 2, 2, 0x8000);
		ASSERT(irq_set_eventfds(&e->g, irq_index, 2) == 0);
	} else if (irq_index == VFIO_PCI_MSI_IRQ_INDEX) {
		unsigned int pos = cfg_read(&e->g, 0x34, 1);

		while (pos && cfg_read(&e->g, pos, 1) != 0x05)
			pos = cfg_read(&e->g, pos + 1, 1);
		ASSERT(pos);
		cfg_write(&e->g, pos + 2, 2, cfg_read(&e->g, pos + 2, 2) | 1);
		ASSERT(irq_set_eventfds(&e->g, irq_index, 1) == 0);
	} else {
		ASSERT(irq_set_eventfds(&e->g, irq_index, 1) == 0);
	}
}

static void ce_teardown(struct ce_env *e)
{
	vgpu_remove(&e->g);
	munmap(e->buf, e->buf_len);
}

static void ce_kick(struct vgpu *g, uint64_t iova, uint32_t vram_off,
		    uint32_t len, bool to_guest)
{
	bar_write(g, BAR2, VGPU_SIM_CE_IOVA_LO, 4, (uint32_t)iova);
	bar_write(g, BAR2, VGPU_SIM_CE_IOVA_HI, 4, iova >> 32);
	bar_write(g, BAR2, VGPU_SIM_CE_VRAM_OFFSET, 4, vram_off);
	bar_write(g, BAR2, VGPU_SIM_CE_LENGTH, 4, len);
	bar_write(g, BAR2, VGPU_SIM_CE_CTRL, 4, to_guest ? VGPU_SIM_CE_CTRL_TO_GUEST : 0);
	bar_write(g, BAR2, VGPU_SIM_CE_DOORBELL, 4, 1);
}

static uint32_t ce_status(struct vgpu *g)
{
	return bar_read(g, BAR2, VGPU_SIM_CE_STATUS, 4);
}

/* waits for the vector and checks the other one stayed quiet */
static void ce_expect(struct vgpu *g, bool error, uint32_t code)
{
	unsigned int vec = error ? VGPU_SIM_MSIX_VEC_ERROR : VGPU_SIM_MSIX_VEC_COMPLETE;

	ASSERT(irq_wait(g, vec, 10000));
	ASSERT(!irq_fired(g, !vec));
	ASSERT_CMP(ce_status(g) & VGPU_SIM_CE_STATUS_BUSY, ==, 0);
	if (error) {
		ASSERT(ce_status(g) & VGPU_SIM_CE_STATUS_ERROR);
		ASSERT_CMP(bar_read(g, BAR2, VGPU_SIM_CE_ERROR, 4), ==, code);
	} else {
		ASSERT_CMP(ce_status(g), ==, VGPU_SIM_CE_STATUS_DONE);
	}
	ASSERT(bar_read(g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4) &
	       (error ? VGPU_SIM_IRQ_ERROR : VGPU_SIM_IRQ_COMPLETE));
	bar_write(g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4, ~0u);
	ASSERT_CMP(bar_read(g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4), ==, 0);
}

static void t_ce_copy(void)
{
	static struct ce_env e;
	const size_t len = 3 * 4096 + 100;	/* unaligned, crosses pages */
	volatile uint8_t *vram;

	ce_setup(&e, "16m", 1 * MiB, VFIO_PCI_MSIX_IRQ_INDEX);
	vram = vram_map(&e.g);
	fill(e.buf + 8, len, 0x1234);
	/* guest -> VRAM, from an unaligned IOVA to an unaligned offset */
	ce_kick(&e.g, IOVA_BASE + 8, 4096 + 4, len, false);
	ce_expect(&e.g, false, 0);
	ASSERT_CMP(first_mismatch((const void *)(vram + 4096 + 4), len, 0x1234), ==, (size_t)-1);
	ASSERT(all_zero(vram, 4096));
	ASSERT_CMP(vram[4096 + 4 + len], ==, 0);
	ASSERT(all_zero(vram + 4 * 4096 + 4096, 64 * 4096));
	/* VRAM -> guest, into another part of the buffer */
	ce_kick(&e.g, IOVA_BASE + 512 * 1024, 4096 + 4, len, true);
	ce_expect(&e.g, false, 0);
	ASSERT_CMP(first_mismatch(e.buf + 512 * 1024, len, 0x1234), ==, (size_t)-1);
	ASSERT(all_zero(e.buf + 512 * 1024 + ((len + 7) & ~7ul), 4096));
	ASSERT(all_zero(e.buf + 256 * 1024, 256 * 1024));
	ASSERT_CMP(bar_read(&e.g, BAR2, VGPU_SIM_CE_DONE_COUNT, 4), ==, 2);
	ASSERT_CMP(bar_read(&e.g, BAR2, VGPU_SIM_CE_ERROR_COUNT, 4), ==, 0);
	ce_teardown(&e);
}

struct parent_reset {
	char path[256];
	volatile int started;
	int ret;
};

static void *parent_reset_thread(void *arg)
{
	struct parent_reset *r = arg;

	r->started = 1;
	r->ret = sysfs_write(r->path, "1");
	return NULL;
}

/*
 * A reset of the physical GPU while a vGPU's VRAM is mapped and in use: the
 * mapping is zapped before the reset and an access during it waits for the
 * end (no stale PTE reads an unreachable BAR, no write is lost).
 */
static void t_parent_reset(void)
{
	static struct vgpu g;
	struct parent_reset r = { .ret = -1 };
	volatile uint32_t *vram;
	struct timespec t0, t1;
	long long waited_ms;
	uint32_t seen;
	pthread_t th;

	ASSERT(vgpu_create(&g, "16m") == 0);
	vgpu_open(&g);
	vram = vram_map(&g);
	vram[0] = 0x5eed1234u;
	ASSERT_CMP(vram[0], ==, 0x5eed1234u);
	ASSERT(sysfs_write("/sys/module/vgpu_sim/parameters/reset_ms", "500") == 0);
	snprintf(r.path, sizeof(r.path), "/sys/bus/pci/devices/%s/sim_reset", st_gpu);
	ASSERT(pthread_create(&th, NULL, parent_reset_thread, &r) == 0);
	while (!r.started)
		usleep(1000);
	usleep(150000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	seen = vram[0];
	clock_gettime(CLOCK_MONOTONIC, &t1);
	vram[1] = 0x0badcafeu;
	ASSERT(pthread_join(th, NULL) == 0);
	sysfs_write("/sys/module/vgpu_sim/parameters/reset_ms", "10");
	ASSERT_CMP(r.ret, ==, 0);
	ASSERT_CMP(seen, ==, 0x5eed1234u);
	/* the read waited for the rest of the 500 ms reset */
	waited_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ASSERT_CMP(waited_ms, >=, 200);
	ASSERT_CMP(vram[1], ==, 0x0badcafeu);
	ASSERT_CMP(bar_read(&g, BAR0, 4, 4), ==, 0x0badcafeu);
	vgpu_remove(&g);
}

#define BM_OFF_ROUNDS	16

static void t_ce_errors(void)
{
	static struct ce_env e;
	volatile uint8_t *vram;
	uint32_t guest_vram;

	ce_setup(&e, "16m", 1 * MiB, VFIO_PCI_MSIX_IRQ_INDEX);
	vram = vram_map(&e.g);
	guest_vram = e.g.vram_len;
	fill(e.buf, e.buf_len, 0x77);

	/* IOVA not mapped at all, and a range running off the mapping */
	ce_kick(&e.g, 0x40000000ull, 0, 4096, false);
	ce_expect(&e.g, true, VGPU_SIM_CE_ERR_DMA);
	ce_kick(&e.g, IOVA_BASE + e.buf_len - 4096, 0, 8192, false);
	ce_expect(&e.g, true, VGPU_SIM_CE_ERR_DMA);
	ce_kick(&e.g, 0xfffffffffffff000ull, 0, 8192, false);
	ce_expect(&e.g, true, VGPU_SIM_CE_ERR_DMA);
	/* lengths: zero, above the engine's maximum */
	ce_kick(&e.g, IOVA_BASE, 0, 0, false);
	ce_expect(&e.g, true, VGPU_SIM_CE_ERR_LENGTH);
	ce_kick(&e.g, IOVA_BASE, 0, VGPU_SIM_CE_MAX_LENGTH + 1, false);
	ce_expect(&e.g, true, VGPU_SIM_CE_ERR_LENGTH);
	/* VRAM ranges past the slice, into the mailbox, wrapping */
	ce_kick(&e.g, IOVA_BASE, guest_vram - 4096, 8192, false);
	ce_expect(&e.g, true, VGPU_SIM_CE_ERR_RANGE);
	ce_kick(&e.g, IOVA_BASE, guest_vram, 4, false);
	ce_expect(&e.g, true, VGPU_SIM_CE_ERR_RANGE);
	ce_kick(&e.g, IOVA_BASE, 0xfffff000u, 0x2000, false);
	ce_expect(&e.g, true, VGPU_SIM_CE_ERR_RANGE);
	ce_kick(&e.g, IOVA_BASE, 0, 16 * MiB, true);
	ce_expect(&e.g, true, VGPU_SIM_CE_ERR_RANGE);
	/*
	 * Bus mastering off: the engine may not touch guest memory, nor send
	 * its MSI-X (a memory write too): the error shows in its registers.
	 */
	/*
	 * Once idle, the engine has decided its interrupt: none may follow
	 * when bus mastering comes back (the debug kernel once caught one
	 * that was sent after BUSY cleared). Repeated to widen the window.
	 */
	for (int round = 0; round < BM_OFF_ROUNDS; round++) {
		cfg_write(&e.g, 0x04, 2, cfg_read(&e.g, 0x04, 2) & ~0x4);
		ce_kick(&e.g, IOVA_BASE, 0, 4096, false);
		for (int i = 0; i < 1000 && (ce_status(&e.g) & VGPU_SIM_CE_STATUS_BUSY); i++)
			usleep(1000);
		ASSERT_CMP(ce_status(&e.g) & VGPU_SIM_CE_STATUS_BUSY, ==, 0);
		ASSERT(ce_status(&e.g) & VGPU_SIM_CE_STATUS_ERROR);
		ASSERT_CMP(bar_read(&e.g, BAR2, VGPU_SIM_CE_ERROR, 4), ==, VGPU_SIM_CE_ERR_DMA);
		ASSERT(bar_read(&e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4) & VGPU_SIM_IRQ_ERROR);
		bar_write(&e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4, ~0u);
		cfg_write(&e.g, 0x04, 2, cfg_read(&e.g, 0x04, 2) | 0x4);
		usleep(5000);
		ASSERT(!irq_fired(&e.g, VGPU_SIM_MSIX_VEC_ERROR));
	}

	/* guest memory the IOMMU maps read-only: the engine may not write it */
	{
		uint8_t *ro = mmap(NULL, 65536, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct vfio_iommu_type1_dma_map m = {
			.argsz = sizeof(m),
			.flags = VFIO_DMA_MAP_FLAG_READ,
			.vaddr = (uintptr_t)ro,
			.iova = 0x20000000ull,
			.size = 65536,
		};

		ASSERT(ro != MAP_FAILED);
		memset(ro, 0x5c, 65536);
		ASSERT(ioctl(e.g.container, VFIO_IOMMU_MAP_DMA, &m) == 0);
		ce_kick(&e.g, 0x20000000ull, 0, 65536, true);
		ce_expect(&e.g, true, VGPU_SIM_CE_ERR_DMA);
		for (size_t k = 0; k < 65536; k++)
			if (ro[k] != 0x5c)
				st_fail(__FILE__, __LINE__, "read-only buffer changed at %zu", k);
		/* reading it is fine */
		ce_kick(&e.g, 0x20000000ull, 0, 4096, false);
		ce_expect(&e.g, false, 0);
		ASSERT_CMP(vram[4095], ==, 0x5c);
		memset((void *)vram, 0, 4096);
		ASSERT_CMP(dma_unmap(&e.g, 0x20000000ull, 65536), ==, 0);
		munmap(ro, 65536);
	}

	/* nothing moved anywhere */
	ASSERT(all_zero(vram, e.g.vram_len));
	ASSERT_CMP(first_mismatch(e.buf, e.buf_len, 0x77), ==, (size_t)-1);
	ASSERT_CMP(bar_read(&e.g, BAR2, VGPU_SIM_CE_ERROR_COUNT, 4), ==, 10 + BM_OFF_ROUNDS);
	ASSERT_CMP(bar_read(&e.g, BAR2, VGPU_SIM_CE_DONE_COUNT, 4), ==, 1);
	/* and the engine still works */
	ce_kick(&e.g, IOVA_BASE, 0, 4096, false);
	ce_expect(&e.g, false, 0);
	ASSERT_CMP(first_mismatch((const void *)vram, 4096, 0x77), ==, (size_t)-1);
	ce_teardown(&e);
}

static void t_ce_busy_and_unmap(void)
{
	static struct ce_env e;
	const size_t len = 8 * MiB;
	volatile uint8_t *vram;
	struct timespec t0, t1;

	ce_setup(&e, "16m", len, VFIO_PCI_MSIX_IRQ_INDEX);
	vram = vram_map(&e.g);
	fill(e.buf, len, 0x99);
	/* slow the engine so the second doorbell surely lands mid-copy */
	param_write("ce_delay_us", "400");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ce_kick(&e.g, IOVA_BASE, 0, len, false);
	ASSERT(ce_status(&e.g) & VGPU_SIM_CE_STATUS_BUSY);
	bar_write(&e.g, BAR2, VGPU_SIM_CE_DOORBELL, 4, 1);
	/* the overlapping doorbell fails at once; the first job goes on */
	ASSERT(irq_wait(&e.g, VGPU_SIM_MSIX_VEC_ERROR, 10000));
	ASSERT_CMP(bar_read(&e.g, BAR2, VGPU_SIM_CE_ERROR, 4), ==, VGPU_SIM_CE_ERR_BUSY);
	ASSERT(ce_status(&e.g) & VGPU_SIM_CE_STATUS_BUSY);
	ASSERT(irq_wait(&e.g, VGPU_SIM_MSIX_VEC_COMPLETE, 60000));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st_diag("8 MiB copy with 400us/page took %.2f s",
		(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	ASSERT(ce_status(&e.g) & VGPU_SIM_CE_STATUS_DONE);
	ASSERT_CMP(first_mismatch((const void *)vram, len, 0x99), ==, (size_t)-1);
	bar_write(&e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4, ~0u);

	/* unmapping some other buffer mid-copy does not disturb it */
	{
		void *other = mmap(NULL, 1 * MiB, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		ASSERT(other != MAP_FAILED);
		dma_map(&e.g, other, 0x40000000ull, 1 * MiB);
		ce_kick(&e.g, IOVA_BASE, 0, len, true);
		ASSERT(ce_status(&e.g) & VGPU_SIM_CE_STATUS_BUSY);
		ASSERT_CMP(dma_unmap(&e.g, 0x40000000ull, 1 * MiB), ==, 0);
		ASSERT(ce_status(&e.g) & VGPU_SIM_CE_STATUS_BUSY);
		ASSERT(irq_wait(&e.g, VGPU_SIM_MSIX_VEC_COMPLETE, 60000));
		ASSERT(!irq_fired(&e.g, VGPU_SIM_MSIX_VEC_ERROR));
		ASSERT_CMP(first_mismatch(e.buf, len, 0x99), ==, (size_t)-1);
		bar_write(&e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4, ~0u);
		munmap(other, 1 * MiB);
	}

	/* unmapping the guest buffer mid-copy aborts it */
	ce_kick(&e.g, IOVA_BASE, 0, len, true);
	ASSERT(ce_status(&e.g) & VGPU_SIM_CE_STATUS_BUSY);
	usleep(20000);
	ASSERT(ce_status(&e.g) & VGPU_SIM_CE_STATUS_BUSY);
	ASSERT_CMP(dma_unmap(&e.g, IOVA_BASE, len), ==, 0);
	ASSERT(irq_wait(&e.g, VGPU_SIM_MSIX_VEC_ERROR, 10000));
	ASSERT(!irq_fired(&e.g, VGPU_SIM_MSIX_VEC_COMPLETE));
	/*
	 * iommufd first fences the range, so the engine's next pin may fail
	 * (a DMA error) before dma_unmap aborts it. type1 calls dma_unmap
	 * only while pages are pinned: a worker that had not pinned yet (a
	 * loaded machine delays it past the 20 ms) finds the IOVA gone.
	 */
	if (bar_read(&e.g, BAR2, VGPU_SIM_CE_ERROR, 4) == VGPU_SIM_CE_ERR_DMA)
		st_diag("the copy stopped on a refused pin before dma_unmap");
	else
		ASSERT_CMP(bar_read(&e.g, BAR2, VGPU_SIM_CE_ERROR, 4), ==,
			   VGPU_SIM_CE_ERR_UNMAPPED);
	ASSERT_CMP(ce_status(&e.g) & VGPU_SIM_CE_STATUS_BUSY, ==, 0);
	param_write("ce_delay_us", "0");
	/* the source VRAM is intact; the unmapped IOVA is now refused */
	ASSERT_CMP(first_mismatch((const void *)vram, len, 0x99), ==, (size_t)-1);
	ce_kick(&e.g, IOVA_BASE, 0, 4096, true);
	ce_expect(&e.g, true, VGPU_SIM_CE_ERR_DMA);
	ce_teardown(&e);
}

/* polls the copy engine until it is idle; returns its status */
static uint32_t ce_poll_idle(struct vgpu *g)
{
	uint32_t st;
	int i;

	for (i = 0; i < 10000; i++) {
		st = ce_status(g);
		if (!(st & VGPU_SIM_CE_STATUS_BUSY))
			return st;
		usleep(1000);
	}
	st_fail(__FILE__, __LINE__, "copy engine still busy after 10 s");
}

/*
 * Reset and close stop a running copy: it never completes afterwards and
 * never touches guest memory again, and its pins are gone (a pin left at
 * close is a vfio_iommu_type1 WARNING, which the dmesg case catches).
 */
/* ---- the cdev + iommufd path ---------------------------------------------- */

/*
 * Runs @fn with every vgpu_open() going through the VFIO device cdev and
 * iommufd (the emulated-device iommufd ops: bind, attach an IOAS, pinning
 * through an iommufd access, dma_unmap when an IOAS range goes).
 */
static void with_iommufd(void (*fn)(void))
{
	const char *why;

	if (!st_iommufd_supported(&why)) {
		st_skip(why);
		return;
	}
	st_use_iommufd = true;
	fn();
	st_use_iommufd = false;
}

static void t_iommufd_ce_copy(void)
{
	with_iommufd(t_ce_copy);
}

static void t_iommufd_ce_unmap(void)
{
	with_iommufd(t_ce_busy_and_unmap);
}

#ifdef ST_HAVE_IOMMUFD
/* the group of a device bound to an iommufd cannot be opened */
static void expect_group_busy(struct vgpu *g)
{
	char p[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(p, sizeof(p), "/sys/bus/mdev/devices/%s/iommu_group", g->uuid);
	n = readlink(p, link, sizeof(link) - 1);
	ASSERT(n > 0);
	link[n] = 0;
	snprintf(p, sizeof(p), "/dev/vfio/%s", strrchr(link, '/') + 1);
	ASSERT_ERRNO(open(p, O_RDWR), EBUSY);
}

/*
 * What only the iommufd path has: the group is fenced off while the cdev is
 * bound, VRAM cannot be mapped into an IOAS (iommufd pins user pages, and our
 * VRAM is VM_IO), DMA stops at detach and resumes at a new attach, and a
 * closed cdev frees the device for the group path again.
 */
static void t_iommufd(void)
{
	static struct ce_env e;
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct vfio_device_detach_iommufd_pt dt = { .argsz = sizeof(dt) };
	const char *why;
	void *vram;

	if (!st_iommufd_supported(&why)) {
		st_skip(why);
		return;
	}
	st_use_iommufd = true;
	ce_setup(&e, "16m", 1 * MiB, VFIO_PCI_MSIX_IRQ_INDEX);
	expect_group_busy(&e.g);

	vram = vram_map(&e.g);
	{
		struct iommu_ioas_map im = {
			.size = sizeof(im),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = e.g.ioas,
			.user_va = (uintptr_t)vram,
			.length = 2 * MiB,
			.iova = 0x80000000ull,
		};

		/*
		 * An IOAS with only emulated devices has no IOMMU domain: the
		 * map may be taken and pinned only on access. The access must
		 * fail: VRAM is VM_IO, which pinning refuses.
		 */
		if (ioctl(e.g.iommufd, IOMMU_IOAS_MAP, &im) == 0) {
			ce_kick(&e.g, 0x80000000ull, 4096, 4096, false);
			ce_expect(&e.g, true, VGPU_SIM_CE_ERR_DMA);
		} else {
			st_diag("IOMMU_IOAS_MAP of VRAM refused: %s", strerror(errno));
		}
	}

	fill(e.buf, 4096, 0x51);
	ce_kick(&e.g, IOVA_BASE, 0, 4096, false);
	ce_expect(&e.g, false, 0);
	/* detached: the IOVA means nothing, the copy fails cleanly */
	ASSERT(ioctl(e.g.dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt) == 0);
	ce_kick(&e.g, IOVA_BASE, 0, 4096, false);
	ce_expect(&e.g, true, VGPU_SIM_CE_ERR_DMA);
	at.pt_id = e.g.ioas;
	ASSERT(ioctl(e.g.dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at) == 0);
	fill(e.buf, 4096, 0x52);
	ce_kick(&e.g, IOVA_BASE, 4096, 4096, false);
	ce_expect(&e.g, false, 0);
	ASSERT_CMP(first_mismatch((const uint8_t *)vram + 4096, 4096, 0x52), ==, (size_t)-1);

	/* closed, the group path may have the device again; its VRAM stayed */
	vgpu_close(&e.g);
	st_use_iommufd = false;
	vgpu_open(&e.g);
	ASSERT_CMP(bar_read(&e.g, BAR0, 4096, 1), ==, *(const uint8_t *)e.buf);
	ce_teardown(&e);
}
#else
static void t_iommufd(void)
{
	const char *why;

	ASSERT(!st_iommufd_supported(&why));
	st_skip(why);
}
#endif

static void t_ce_abort(void)
{
	static struct ce_env e;
	const size_t len = 8 * MiB;
	uint8_t *snap;

	ce_setup(&e, "16m", len, VFIO_PCI_MSIX_IRQ_INDEX);
	fill(e.buf, len, 0x42);
	param_write("ce_delay_us", "400");

	/* reset mid-copy (guest -> VRAM): idle at once, and stays so */
	ce_kick(&e.g, IOVA_BASE, 0, len, false);
	ASSERT(ce_status(&e.g) & VGPU_SIM_CE_STATUS_BUSY);
	ASSERT(ioctl(e.g.dev, VFIO_DEVICE_RESET) == 0);
	cfg_write(&e.g, 0x04, 2, 0x6);
	ASSERT_CMP(ce_status(&e.g), ==, 0);
	usleep(2000000);	/* longer than the whole copy takes */
	ASSERT_CMP(ce_status(&e.g), ==, 0);
	ASSERT_CMP(bar_read(&e.g, BAR2, VGPU_SIM_CE_DONE_COUNT, 4), ==, 0);
	ASSERT_CMP(bar_read(&e.g, BAR2, VGPU_SIM_CE_ERROR_COUNT, 4), ==, 0);
	ASSERT_CMP(bar_read(&e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4), ==, 0);

	/* the engine works after the reset: the whole buffer into VRAM */
	param_write("ce_delay_us", "0");
	ce_kick(&e.g, IOVA_BASE, 0, len, false);
	ASSERT_CMP(ce_poll_idle(&e.g), ==, VGPU_SIM_CE_STATUS_DONE);
	memset(e.buf, 0, len);

	/* close mid-copy (VRAM -> guest): guest memory stops changing */
	param_write("ce_delay_us", "400");
	ce_kick(&e.g, IOVA_BASE, 0, len, true);
	ASSERT(ce_status(&e.g) & VGPU_SIM_CE_STATUS_BUSY);
	/* close once the copy has surely started: its first page arrived */
	for (int k = 0; k < 5000 && first_mismatch(e.buf, 4096, 0x42) != (size_t)-1; k++)
		usleep(1000);
	vgpu_close(&e.g);
	snap = malloc(len);
	ASSERT(snap);
	memcpy(snap, e.buf, len);
	usleep(2000000);
	param_write("ce_delay_us", "0");
	ASSERT(memcmp(snap, e.buf, len) == 0);
	/* it did start: the first page arrived, the last did not */
	ASSERT_CMP(first_mismatch(e.buf, 4096, 0x42), ==, (size_t)-1);
	ASSERT(all_zero(e.buf + len - 4096, 4096));
	free(snap);
	ce_teardown(&e);
}

/* SET_IRQS ACTION_UNMASK of INTx: synchronous, whatever it delivers has fired on return */
static void intx_unmask(struct vgpu *g)
{
	struct vfio_irq_set s = {
		.argsz = sizeof(s),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
		.index = VFIO_PCI_INTX_IRQ_INDEX,
		.count = 1,
	};

	ASSERT(ioctl(g->dev, VFIO_DEVICE_SET_IRQS, &s) == 0);
}

/*
 * A copy that completes while INTx is masked or disabled: waits until the
 * engine and IRQ_STATUS show it, then a little longer so that the engine's
 * worker surely made its raise (it sets IRQ_STATUS just before). Nothing
 * may fire meanwhile.
 */
static void intx_copy_while_masked(struct vgpu *g)
{
	int i;

	ce_kick(g, IOVA_BASE, 0, 4096, false);
	ASSERT_CMP(ce_poll_idle(g), ==, VGPU_SIM_CE_STATUS_DONE);
	for (i = 0; i < 5000 && !(bar_read(g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4) &
				  VGPU_SIM_IRQ_COMPLETE); i++)
		usleep(1000);
	ASSERT_CMP(bar_read(g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4), ==, VGPU_SIM_IRQ_COMPLETE);
	usleep(100000);
	ASSERT(!irq_fired(g, 0));
}

/* what the guest's handler does: the cause is there, it clears it */
static void intx_handle(struct vgpu *g)
{
	ASSERT_CMP(bar_read(g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4), ==, VGPU_SIM_IRQ_COMPLETE);
	bar_write(g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4, ~0u);
}

/*
 * INTx is a level (API-REQUESTS.md request 6): it automasks at each
 * interrupt, and a completion while it is masked (the guest's handler ran,
 * QEMU/KVM has not unmasked at EOI yet) or disabled in the command register
 * is held and fires at the unmask or enable, once. Reset and close drop it.
 */
static void intx_level(void)
{
	static struct ce_env e;
	struct {
		struct vfio_irq_set s;
		int32_t fd;
	} ufd = {
		.s = {
			.argsz = sizeof(ufd),
			.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK,
			.index = VFIO_PCI_INTX_IRQ_INDEX,
			.count = 1,
		},
	};
	uint64_t one = 1;
	int u;

	ce_setup(&e, "16m", 1 * MiB, VFIO_PCI_INTX_IRQ_INDEX);
	/* copy #1 interrupts; INTx is automasked */
	ce_kick(&e.g, IOVA_BASE, 0, 4096, false);
	ASSERT(irq_wait(&e.g, 0, 10000));
	intx_handle(&e.g);
	/* copy #2 completes before the unmask: it fires at the unmask */
	intx_copy_while_masked(&e.g);
	intx_unmask(&e.g);
	ASSERT(irq_wait(&e.g, 0, 5000));
	ASSERT(!irq_fired(&e.g, 0));
	intx_handle(&e.g);
	/* delivered once: nothing is left for the next unmask */
	intx_unmask(&e.g);
	ASSERT(!irq_wait(&e.g, 0, 200));
	/* unmasked, a copy interrupts at once (and automasks) */
	ce_kick(&e.g, IOVA_BASE, 0, 4096, false);
	ASSERT(irq_wait(&e.g, 0, 10000));
	intx_handle(&e.g);
	/* a cause cleared while masked lowers the line: no spurious unmask */
	intx_copy_while_masked(&e.g);
	bar_write(&e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4, ~0u);
	intx_unmask(&e.g);
	ASSERT(!irq_wait(&e.g, 0, 200));
	ce_kick(&e.g, IOVA_BASE, 0, 4096, false);
	ASSERT(irq_wait(&e.g, 0, 10000));
	intx_handle(&e.g);

	/* the same through the unmask eventfd, as KVM's resampler does */
	u = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT(u >= 0);
	ufd.fd = u;
	ASSERT(ioctl(e.g.dev, VFIO_DEVICE_SET_IRQS, &ufd) == 0);
	intx_copy_while_masked(&e.g);
	ASSERT_CMP(write(u, &one, sizeof(one)), ==, sizeof(one));
	ASSERT(irq_wait(&e.g, 0, 5000));
	intx_handle(&e.g);
	intx_unmask(&e.g);
	ASSERT(!irq_wait(&e.g, 0, 200));

	/* unmasked but disabled in the command register: fires at enable */
	cfg_write(&e.g, 0x04, 2, 0x6 | 0x400);	/* PCI_COMMAND_INTX_DISABLE */
	intx_copy_while_masked(&e.g);
	cfg_write(&e.g, 0x04, 2, 0x6);
	ASSERT(irq_wait(&e.g, 0, 5000));
	intx_handle(&e.g);

	/* a reset drops a held completion (and IRQ_STATUS with it) */
	intx_copy_while_masked(&e.g);
	ASSERT(ioctl(e.g.dev, VFIO_DEVICE_RESET) == 0);
	cfg_write(&e.g, 0x04, 2, 0x6);
	ASSERT_CMP(bar_read(&e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4), ==, 0);
	intx_unmask(&e.g);
	ASSERT(!irq_wait(&e.g, 0, 200));
	ce_kick(&e.g, IOVA_BASE, 0, 4096, false);
	ASSERT(irq_wait(&e.g, 0, 10000));
	intx_handle(&e.g);

	/* and so does a close: the next user's unmask fires nothing */
	intx_copy_while_masked(&e.g);
	vgpu_close(&e.g);
	vgpu_open(&e.g);
	dma_map(&e.g, e.buf, IOVA_BASE, e.buf_len);
	cfg_write(&e.g, 0x04, 2, 0x6);
	ASSERT(irq_set_eventfds(&e.g, VFIO_PCI_INTX_IRQ_INDEX, 1) == 0);
	intx_unmask(&e.g);
	ASSERT(!irq_wait(&e.g, 0, 200));
	ce_kick(&e.g, IOVA_BASE, 0, 4096, false);
	ASSERT(irq_wait(&e.g, 0, 10000));
	intx_handle(&e.g);
	ce_teardown(&e);
	close(u);
}

/* One vector (MSI, INTx, MSI-X with one enabled) carries both causes */
static void t_msi_intx(void)
{
	static struct ce_env e;

	/* MSI-X with only vector 0 enabled (a guest that took one vector) */
	ce_setup(&e, "16m", 1 * MiB, VFIO_PCI_MSIX_IRQ_INDEX);
	irq_disable(&e.g, VFIO_PCI_MSIX_IRQ_INDEX);
	ASSERT(irq_set_eventfds(&e.g, VFIO_PCI_MSIX_IRQ_INDEX, 1) == 0);
	ce_kick(&e.g, IOVA_BASE, 0, 0, false);
	ASSERT(irq_wait(&e.g, 0, 10000));
	ASSERT_CMP(bar_read(&e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4), ==, VGPU_SIM_IRQ_ERROR);
	bar_write(&e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4, ~0u);
	ce_kick(&e.g, IOVA_BASE, 0, 4096, false);
	ASSERT(irq_wait(&e.g, 0, 10000));
	ASSERT_CMP(bar_read(&e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4), ==, VGPU_SIM_IRQ_COMPLETE);
	ASSERT(!irq_fired(&e.g, 1));
	ce_teardown(&e);

	ce_setup(&e, "16m", 1 * MiB, VFIO_PCI_MSI_IRQ_INDEX);
	ce_kick(&e.g, IOVA_BASE, 0, 4096, false);
	ASSERT(irq_wait(&e.g, 0, 10000));
	ASSERT_CMP(bar_read(&e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4), ==, VGPU_SIM_IRQ_COMPLETE);
	bar_write(&e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4, ~0u);
	ce_kick(&e.g, IOVA_BASE, 0, 0, false);
	ASSERT(irq_wait(&e.g, 0, 10000));
	ASSERT_CMP(bar_read(&e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4), ==, VGPU_SIM_IRQ_ERROR);
	bar_write(&e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4, ~0u);
	irq_disable(&e.g, VFIO_PCI_MSI_IRQ_INDEX);
	ce_teardown(&e);

	intx_level();
}

/* ---- isolation -------------------------------------------------------- */

static void t_isolation(void)
{
	static struct vgpu a, b, c;
	volatile uint32_t *va, *vb, *vc;
	uint64_t a_off, c_off, size;
	size_t i;

	ASSERT(vgpu_create(&a, "16m") == 0);
	ASSERT(vgpu_create(&b, "16m") == 0);
	vgpu_open(&a);
	vgpu_open(&b);
	va = vram_map(&a);
	vb = vram_map(&b);
	for (i = 0; i < a.vram_len / 4; i += 1024)
		va[i] = 0xaaaa0000u | (uint32_t)i;
	ASSERT(all_zero(vb, b.vram_len));
	for (i = 0; i < b.vram_len / 4; i += 1024)
		vb[i] = 0xbbbb0000u | (uint32_t)i;
	for (i = 0; i < a.vram_len / 4; i += 1024)
		ASSERT_CMP(va[i], ==, 0xaaaa0000u | (uint32_t)i);
	/* destroy a tenant: its slice is reused (same offset), zeroed */
	vgpu_slice(&a, &a_off, &size);
	vgpu_remove(&a);
	ASSERT(vgpu_create(&c, "16m") == 0);
	vgpu_slice(&c, &c_off, &size);
	ASSERT_CMP(c_off, ==, a_off);
	vgpu_open(&c);
	vc = vram_map(&c);
	ASSERT(all_zero(vc, c.vram_len));
	ASSERT_CMP(bar_read(&c, BAR0, 0, 8), ==, 0);
	for (i = 0; i < b.vram_len / 4; i += 1024)
		ASSERT_CMP(vb[i], ==, 0xbbbb0000u | (uint32_t)i);
	vgpu_remove(&b);
	vgpu_remove(&c);
}

static void gpu_bind(bool bind)
{
	char p[PATH_MAX];

	if (bind) {
		/* driver_override still names vgpu_sim (see bind) */
		ASSERT(sysfs_write("/sys/bus/pci/drivers_probe", st_gpu) == 0);
		snprintf(p, sizeof(p), "/sys/class/mdev_bus/%s", st_gpu);
	} else {
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver/unbind", st_gpu);
		ASSERT(sysfs_write(p, st_gpu) == 0);
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", st_gpu);
	}
	ASSERT((access(p, F_OK) == 0) == bind);
}

/* the physical VRAM as the host sees it while vgpu_sim is unbound */
static uint32_t *phys_vram_map(void)
{
	char p[PATH_MAX];
	void *m;
	int fd;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/resource0", st_gpu);
	fd = open(p, O_RDWR | O_SYNC);
	ASSERT(fd >= 0);
	m = mmap(NULL, vram_total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	ASSERT(m != MAP_FAILED);
	return m;
}

static size_t first_not(const volatile uint32_t *w, size_t len, uint32_t val)
{
	size_t i;

	for (i = 0; i < len / 4; i++)
		if (w[i] != val)
			return i * 4;
	return (size_t)-1;
}

/* every 16 MiB granule of the physical VRAM holds @host but those listed */
static void check_granules(const volatile uint32_t *pv, uint32_t host,
			   const uint64_t *zeroed, size_t n)
{
	const size_t gran = 16 << 20;
	size_t off, i;

	for (off = 0; off + gran <= vram_total; off += gran) {
		uint32_t want = host;

		for (i = 0; i < n; i++)
			if (zeroed[i] == off)
				want = 0;
		ASSERT_CMP(first_not(pv + off / 4, gran, want), ==, (size_t)-1);
	}
}

/*
 * Scrubbing, each half on its own: the host fills the physical VRAM while
 * vgpu_sim is unbound; a new vGPU must read zeros (a granule not scrubbed
 * since the bind is scrubbed at create); after it is destroyed its slice,
 * seen by the host again, must be zeros (scrub on destroy). A tenant of a
 * slice scrubbed at destroy is not scrubbed for again, but one of a
 * granule never used since the bind is: both read zeros. The granules no
 * vGPU had still hold the host's fill (no scrub of what was not handed out).
 */
static void t_scrub(void)
{
	const uint32_t host = 0xc3c3c3c3u, tenant = 0x5e5e5e5eu;
	static struct vgpu g, a, b;
	volatile uint32_t *pv, *vram;
	uint64_t off, a_off, size, zeroed[2];
	size_t i;

	gpu_bind(false);
	pv = phys_vram_map();
	for (i = 0; i < vram_total / 4; i++)
		pv[i] = host;
	ASSERT_CMP(first_not(pv, vram_total, host), ==, (size_t)-1);
	munmap((void *)pv, vram_total);
	gpu_bind(true);

	ASSERT(vgpu_create(&g, "16m") == 0);
	vgpu_slice(&g, &off, &size);
	vgpu_open(&g);
	vram = vram_map(&g);
	ASSERT_CMP(first_not(vram, g.vram_len, 0), ==, (size_t)-1);
	ASSERT_CMP(bar_read(&g, BAR0, 0, 8), ==, 0);
	for (i = 0; i < g.vram_len / 4; i++)
		vram[i] = tenant;
	ASSERT_CMP(bar_read(&g, BAR0, g.vram_len - 4, 4), ==, tenant);
	vgpu_remove(&g);

	gpu_bind(false);
	pv = phys_vram_map();
	check_granules(pv, host, &off, 1);
	munmap((void *)pv, vram_total);
	gpu_bind(true);

	/* the rebind forgot what was clean: the slice is scrubbed again */
	ASSERT(vgpu_create(&a, "16m") == 0);
	vgpu_slice(&a, &a_off, &size);
	ASSERT_CMP(a_off, ==, off);
	vgpu_open(&a);
	vram = vram_map(&a);
	ASSERT_CMP(first_not(vram, a.vram_len, 0), ==, (size_t)-1);
	for (i = 0; i < a.vram_len / 4; i++)
		vram[i] = tenant;
	vgpu_remove(&a);
	/* the same slice again, clean since a's destroy */
	ASSERT(vgpu_create(&a, "16m") == 0);
	vgpu_slice(&a, &a_off, &size);
	ASSERT_CMP(a_off, ==, off);
	vgpu_open(&a);
	vram = vram_map(&a);
	ASSERT_CMP(first_not(vram, a.vram_len, 0), ==, (size_t)-1);
	/* a granule no vGPU had since the bind: the host's fill is scrubbed */
	ASSERT(vgpu_create(&b, "16m") == 0);
	vgpu_slice(&b, &zeroed[1], &size);
	ASSERT_CMP(zeroed[1], !=, off);
	vgpu_open(&b);
	vram = vram_map(&b);
	ASSERT_CMP(first_not(vram, b.vram_len, 0), ==, (size_t)-1);
	vgpu_remove(&b);
	vgpu_remove(&a);

	gpu_bind(false);
	pv = phys_vram_map();
	zeroed[0] = off;
	check_granules(pv, host, zeroed, 2);
	/* leave the VRAM as a fresh boot has it */
	for (i = 0; i < vram_total / 4; i++)
		pv[i] = 0;
	munmap((void *)pv, vram_total);
	gpu_bind(true);
}

static long long scrubbed(void)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/vram_scrubbed", st_gpu);
	return sysfs_read_ll(p);
}

/*
 * A vGPU never opened is destroyed without a scrub: nothing could write its
 * slice, which is still zeroed from its create. One that was opened, even
 * without a write, is scrubbed, and its next tenant reads zeros after a
 * tenant that wrote. vram_scrubbed counts the bytes zeroed.
 */
static void t_scrub_unopened(void)
{
	static struct vgpu g;
	volatile uint32_t *vram;
	long long before;
	uint64_t off, off2, size;
	size_t i;

	ASSERT(vgpu_create(&g, "16m") == 0);	/* may scrub a granule once */
	vgpu_slice(&g, &off, &size);
	before = scrubbed();
	ASSERT_CMP(before, >=, 0);
	vgpu_remove(&g);
	ASSERT_CMP(scrubbed(), ==, before);
	/* the same slice, clean: no scrub at create either */
	ASSERT(vgpu_create(&g, "16m") == 0);
	vgpu_slice(&g, &off2, &size);
	ASSERT_CMP(off2, ==, off);
	ASSERT_CMP(scrubbed(), ==, before);
	/* opened and closed, nothing written: scrubbed all the same */
	vgpu_open(&g);
	vgpu_remove(&g);
	ASSERT_CMP(scrubbed(), ==, before + (long long)size);
	/* a tenant that writes, then the next one reads zeros */
	ASSERT(vgpu_create(&g, "16m") == 0);
	vgpu_open(&g);
	vram = vram_map(&g);
	for (i = 0; i < g.vram_len / 4; i++)
		vram[i] = 0xa5a5a5a5u;
	vgpu_remove(&g);
	ASSERT_CMP(scrubbed(), ==, before + 2 * (long long)size);
	ASSERT(vgpu_create(&g, "16m") == 0);
	vgpu_slice(&g, &off2, &size);
	ASSERT_CMP(off2, ==, off);
	vgpu_open(&g);
	vram = vram_map(&g);
	ASSERT_CMP(first_not(vram, g.vram_len, 0), ==, (size_t)-1);
	vgpu_remove(&g);
}

/* ---- display plane ---------------------------------------------------- */

static int query_plane(struct vgpu *g, uint32_t flags, uint32_t type,
		       struct vfio_device_gfx_plane_info *p)
{
	memset(p, 0, sizeof(*p));
	p->argsz = sizeof(*p);
	p->flags = flags;
	p->drm_plane_type = type;
	return ioctl(g->dev, VFIO_DEVICE_QUERY_GFX_PLANE, p);
}

static void t_plane(void)
{
	static struct vgpu g;
	struct vfio_device_gfx_plane_info p;

	ASSERT(vgpu_create(&g, "16m") == 0);
	vgpu_open(&g);
	ASSERT(query_plane(&g, VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_REGION,
			   DRM_PLANE_PRIMARY, &p) == 0);
	ASSERT_ERRNO(query_plane(&g, VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_DMABUF,
				 DRM_PLANE_PRIMARY, &p), EINVAL);
	/* display off: a zeroed plane */
	ASSERT(query_plane(&g, VFIO_GFX_PLANE_TYPE_REGION, DRM_PLANE_PRIMARY, &p) == 0);
	ASSERT_CMP(p.drm_format, ==, 0);
	/* the mode bochs-drm sets */
	dispi_wr(&g, VGPU_SIM_DISPI_ENABLE, 0);
	dispi_wr(&g, VGPU_SIM_DISPI_BPP, 32);
	dispi_wr(&g, VGPU_SIM_DISPI_XRES, 1024);
	dispi_wr(&g, VGPU_SIM_DISPI_YRES, 768);
	dispi_wr(&g, VGPU_SIM_DISPI_VIRT_WIDTH, 1024);
	dispi_wr(&g, VGPU_SIM_DISPI_ENABLE,
		 VGPU_SIM_DISPI_ENABLED | VGPU_SIM_DISPI_LFB_ENABLED);
	ASSERT(query_plane(&g, VFIO_GFX_PLANE_TYPE_REGION, DRM_PLANE_PRIMARY, &p) == 0);
	ASSERT_CMP(p.drm_format, ==, DRM_FORMAT_XRGB8888);
	ASSERT_CMP(p.width, ==, 1024);
	ASSERT_CMP(p.height, ==, 768);
	ASSERT_CMP(p.stride, ==, 4096);
	ASSERT_CMP(p.size, ==, 4096 * 768);
	ASSERT_CMP(p.region_index, ==, VFIO_PCI_NUM_REGIONS);
	{
		char path[PATH_MAX], buf[256];

		snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/vendor/display", g.uuid);
		ASSERT(sysfs_read_str(path, buf, sizeof(buf)) == 0);
		st_diag("vendor/display: %s", buf);
		ASSERT(strstr(buf, "enabled=1, mode=1024x768, bpp=32, stride=4096,") != NULL);
	}
	/* the display region shows VRAM from the scanout start, and follows it */
	{
		struct st_region *dr = &g.reg[VFIO_PCI_NUM_REGIONS];
		volatile uint32_t *vram = vram_map(&g);
		volatile uint32_t *disp;

		disp = dev_mmap(&g, 8 * 4096, PROT_READ, dr->info.offset);
		ASSERT(disp != MAP_FAILED);
		vram[0] = 0x11111111;
		vram[768 * 1024] = 0x22222222;	/* line 768: the second buffer */
		ASSERT_CMP(disp[0], ==, 0x11111111);
		ASSERT_CMP(bar_read(&g, VFIO_PCI_NUM_REGIONS, 0, 4), ==, 0x11111111);
		dispi_wr(&g, VGPU_SIM_DISPI_Y_OFFSET, 768);	/* page flip */
		ASSERT_CMP(disp[0], ==, 0x22222222);
		ASSERT_CMP(bar_read(&g, VFIO_PCI_NUM_REGIONS, 0, 4), ==, 0x22222222);
		ASSERT(query_plane(&g, VFIO_GFX_PLANE_TYPE_REGION, DRM_PLANE_PRIMARY, &p) == 0);
		ASSERT_CMP(p.drm_format, ==, DRM_FORMAT_XRGB8888);
		/* a start inside a page cannot be shown through the region */
		dispi_wr(&g, VGPU_SIM_DISPI_X_OFFSET, 1);
		ASSERT(query_plane(&g, VFIO_GFX_PLANE_TYPE_REGION, DRM_PLANE_PRIMARY, &p) == 0);
		ASSERT_CMP(p.drm_format, ==, 0);
		dispi_wr(&g, VGPU_SIM_DISPI_X_OFFSET, 0);
		dispi_wr(&g, VGPU_SIM_DISPI_Y_OFFSET, 0);
		ASSERT_CMP(disp[0], ==, 0x11111111);
		/* read-only region: no writable mapping (API-REQUESTS.md 3) */
		ASSERT(dev_mmap(&g, 4096, PROT_READ | PROT_WRITE, dr->info.offset) ==
		       MAP_FAILED);
	}
	/*
	 * Modes the guest's VRAM cannot hold are off: a plane QEMU maps must
	 * be readable to its end (a fault past the region is a SIGBUS there).
	 */
	{
		struct st_region *dr = &g.reg[VFIO_PCI_NUM_REGIONS];
		const uint64_t gv = VGPU_SIM_GUEST_VRAM(16 * MiB), fb = 4096 * 768;
		volatile uint32_t *vram = vram_map(&g);
		volatile uint32_t *disp;

		/* the last start that fits: shown, and mapped to its very end */
		dispi_wr(&g, VGPU_SIM_DISPI_Y_OFFSET, (gv - fb) / 4096);
		ASSERT(query_plane(&g, VFIO_GFX_PLANE_TYPE_REGION, DRM_PLANE_PRIMARY, &p) == 0);
		ASSERT_CMP(p.drm_format, ==, DRM_FORMAT_XRGB8888);
		ASSERT_CMP(p.size, ==, fb);
		vram[(gv - 4) / 4] = 0x33333333;
		disp = dev_mmap(&g, p.size, PROT_READ, dr->info.offset);
		ASSERT(disp != MAP_FAILED);
		ASSERT_CMP(disp[(p.size - 4) / 4], ==, 0x33333333);
		/* one line further: the last line leaves the guest's VRAM */
		dispi_wr(&g, VGPU_SIM_DISPI_Y_OFFSET, (gv - fb) / 4096 + 1);
		ASSERT(query_plane(&g, VFIO_GFX_PLANE_TYPE_REGION, DRM_PLANE_PRIMARY, &p) == 0);
		ASSERT_CMP(p.drm_format, ==, 0);
		/* a start between the guest's VRAM and the mailbox page */
		dispi_wr(&g, VGPU_SIM_DISPI_Y_OFFSET, gv / 4096 + 8);
		ASSERT(query_plane(&g, VFIO_GFX_PLANE_TYPE_REGION, DRM_PLANE_PRIMARY, &p) == 0);
		ASSERT_CMP(p.drm_format, ==, 0);
		dispi_wr(&g, VGPU_SIM_DISPI_Y_OFFSET, 0);
		/* a virtual width whose frame is larger than the slice */
		dispi_wr(&g, VGPU_SIM_DISPI_VIRT_WIDTH, 8192);
		ASSERT(query_plane(&g, VFIO_GFX_PLANE_TYPE_REGION, DRM_PLANE_PRIMARY, &p) == 0);
		ASSERT_CMP(p.drm_format, ==, 0);
		dispi_wr(&g, VGPU_SIM_DISPI_VIRT_WIDTH, 1024);
		ASSERT(query_plane(&g, VFIO_GFX_PLANE_TYPE_REGION, DRM_PLANE_PRIMARY, &p) == 0);
		ASSERT_CMP(p.drm_format, ==, DRM_FORMAT_XRGB8888);
	}
	/* QEMU's region display path leaves the plane type 0: same plane */
	ASSERT(query_plane(&g, VFIO_GFX_PLANE_TYPE_REGION, 0, &p) == 0);
	ASSERT_CMP(p.drm_format, ==, DRM_FORMAT_XRGB8888);
	ASSERT_CMP(p.width, ==, 1024);
	/* big-endian byte order is the BGRX format */
	bar_write(&g, BAR2, VGPU_SIM_QEXT_BYTEORDER, 4, VGPU_SIM_QEXT_BIG_ENDIAN);
	ASSERT(query_plane(&g, VFIO_GFX_PLANE_TYPE_REGION, DRM_PLANE_PRIMARY, &p) == 0);
	ASSERT_CMP(p.drm_format, ==, DRM_FORMAT_BGRX8888);
	/* 16 bpp */
	dispi_wr(&g, VGPU_SIM_DISPI_BPP, 16);
	ASSERT(query_plane(&g, VFIO_GFX_PLANE_TYPE_REGION, DRM_PLANE_PRIMARY, &p) == 0);
	ASSERT_CMP(p.drm_format, ==, DRM_FORMAT_RGB565);
	ASSERT_CMP(p.stride, ==, 2048);
	/* no cursor plane */
	ASSERT(query_plane(&g, VFIO_GFX_PLANE_TYPE_REGION, DRM_PLANE_CURSOR, &p) == 0);
	ASSERT_CMP(p.drm_format, ==, 0);
	/* disabled again */
	dispi_wr(&g, VGPU_SIM_DISPI_ENABLE, 0);
	ASSERT(query_plane(&g, VFIO_GFX_PLANE_TYPE_REGION, DRM_PLANE_PRIMARY, &p) == 0);
	ASSERT_CMP(p.drm_format, ==, 0);
	vgpu_remove(&g);
}

/* ---- after everything -------------------------------------------------- */

static void *unbind_gpu(void *done)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver/unbind", st_gpu);
	*(int *)done = sysfs_write(p, st_gpu) ? -1 : 1;
	return NULL;
}

static void t_unbind(void)
{
	char p[PATH_MAX];
	static struct vgpu g;
	static struct ce_env e;
	char buf[sizeof(struct vfio_irq_set) + sizeof(int)];
	struct vfio_irq_set *req = (void *)buf;
	volatile int done = 0;
	pthread_t th;
	int efd;

	/*
	 * Unbinding the GPU under an open vGPU whose engine is copying: the
	 * user gets REQ, unbind waits for the close, then the vGPU (its job,
	 * its pins, its slice) and the GPU's mapping of VRAM go.
	 */
	ce_setup(&e, "16m", 8 * MiB, VFIO_PCI_MSIX_IRQ_INDEX);
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT(efd >= 0);
	req->argsz = sizeof(buf);
	req->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	req->index = VFIO_PCI_REQ_IRQ_INDEX;
	req->start = 0;
	req->count = 1;
	memcpy(req->data, &efd, sizeof(int));
	ASSERT(ioctl(e.g.dev, VFIO_DEVICE_SET_IRQS, req) == 0);
	param_write("ce_delay_us", "400");
	ce_kick(&e.g, IOVA_BASE, 0, 8 * MiB, true);
	ASSERT(ce_status(&e.g) & VGPU_SIM_CE_STATUS_BUSY);
	ASSERT(pthread_create(&th, NULL, unbind_gpu, (void *)&done) == 0);
	{
		struct pollfd pf = { .fd = efd, .events = POLLIN };

		ASSERT(poll(&pf, 1, 10000) == 1);
	}
	usleep(100000);
	ASSERT_CMP(done, ==, 0);	/* still waiting for us */
	vgpu_close(&e.g);
	pthread_join(th, NULL);
	close(efd);
	param_write("ce_delay_us", "0");
	ASSERT_CMP(done, ==, 1);
	e.g.created = false;
	vgpu_remove(&e.g);
	munmap(e.buf, e.buf_len);
	snprintf(p, sizeof(p), "/sys/bus/mdev/devices/%s", e.g.uuid);
	ASSERT(access(p, F_OK) != 0);
	gpu_bind(true);

	/* unbinding the GPU removes a live vGPU with it */
	ASSERT(vgpu_create(&g, "16m") == 0);
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver/unbind", st_gpu);
	ASSERT(sysfs_write(p, st_gpu) == 0);
	g.created = false;
	snprintf(p, sizeof(p), "/sys/bus/mdev/devices/%s", g.uuid);
	ASSERT(access(p, F_OK) != 0);
	snprintf(p, sizeof(p), "/sys/class/mdev_bus/%s", st_gpu);
	ASSERT(access(p, F_OK) != 0);
}

/* loads the module that environment variable @env names */
static int load_ko(const char *env, const char *params)
{
	const char *ko = getenv(env);
	int fd, ret;

	ASSERT(ko && *ko);
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	ASSERT(fd >= 0);
	ret = syscall(SYS_finit_module, fd, params, 0);
	close(fd);
	return ret;
}

/* the gpus= parameter binds at load; a live vGPU pins the module */
static void t_module(void)
{
	char p[PATH_MAX], link[PATH_MAX];
	static struct vgpu g;
	ssize_t n;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver_override", st_gpu);
	ASSERT(sysfs_write(p, "\n") == 0);
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver/unbind", st_gpu);
	if (access(p, F_OK) == 0)
		ASSERT(sysfs_write(p, st_gpu) == 0);
	ASSERT(syscall(SYS_delete_module, "vgpu_sim", O_NONBLOCK) == 0);
	snprintf(p, sizeof(p), "gpus=0000:ff:1f.7,%s", st_gpu);
	ASSERT(load_ko("SIM_KO", p) == 0);
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", st_gpu);
	n = readlink(p, link, sizeof(link) - 1);
	ASSERT(n > 0);
	link[n] = 0;
	ASSERT(strstr(link, "/vgpu_sim") != NULL);

	ASSERT(vgpu_create(&g, "16m") == 0);
	ASSERT_ERRNO(syscall(SYS_delete_module, "vgpu_sim", O_NONBLOCK), EWOULDBLOCK);
	vgpu_remove(&g);
	ASSERT(syscall(SYS_delete_module, "vgpu_sim", O_NONBLOCK) == 0);
	/* without a parameter it binds nothing */
	ASSERT(load_ko("SIM_KO", "") == 0);
	ASSERT(access(p, F_OK) != 0);
}

/* FNV-1a over 64-bit words */
static uint64_t hash_words(const volatile uint64_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len / 8; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void wait_ce_idle(struct vgpu *g)
{
	for (int i = 0; i < 1000 && (ce_status(g) & VGPU_SIM_CE_STATUS_BUSY); i++)
		usleep(10000);
	ASSERT_CMP(ce_status(g) & VGPU_SIM_CE_STATUS_BUSY, ==, 0);
}

/*
 * A hostile user of vGPU A tries every way this API offers to reach vGPU B's
 * VRAM or host memory: B's offsets through A's fd (read/write/mmap), mappings
 * past A's regions or grown with mremap, the trapped mailbox page, offsets
 * that wrap, the copy engine aimed past A's slice, the display plane moved
 * past A's VRAM, resets and vGPU removal mid-use. B's VRAM hashes the same
 * before and after, and A's own writes stay in A.
 */
static void t_isolation_attack(void)
{
	static struct vgpu a, b;
	struct st_region *ra, *rb;
	volatile uint64_t *va, *vb;
	uint64_t h0, h1, v = 0, offs[8];
	unsigned int i;
	void *m;

	ASSERT(vgpu_create(&a, "16m") == 0);
	ASSERT(vgpu_create(&b, "16m") == 0);
	vgpu_open(&a);
	vgpu_open(&b);
	ra = &a.reg[BAR0];
	rb = &b.reg[BAR0];
	vb = vram_map(&b);
	for (i = 0; i < b.vram_len / 8; i++)
		vb[i] = 0xb0b0000000000000ull ^ (i * 0x9e3779b97f4a7c15ull);
	h0 = hash_words(vb, b.vram_len);

	/* B's region offsets, and wrapping ones, through A's fd */
	offs[0] = rb->info.offset;
	offs[1] = b.reg[BAR2].info.offset;
	offs[2] = b.reg[VFIO_PCI_CONFIG_REGION_INDEX].info.offset;
	offs[3] = ra->info.offset + ra->info.size;
	offs[4] = ra->info.offset + ra->info.size - 4;
	offs[5] = ra->info.offset + (1ull << 40);
	offs[6] = ~0ull - 7;
	offs[7] = 1ull << 63;
	for (i = 0; i < 8; i++) {
		if (offs[i] >= ra->info.offset && offs[i] + 8 <= ra->info.offset + ra->info.size &&
		    offs[i] != offs[4])
			continue;
		v = 0x4141414141414141ull;
		ASSERT(pwrite(a.dev, (void *)&v, 8, (off_t)offs[i]) != 8);
		ASSERT(pread(a.dev, (void *)&v, 8, (off_t)offs[i]) != 8);
		m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, a.dev,
			 (off_t)(offs[i] & ~4095ull));
		ASSERT(m == MAP_FAILED);
	}
	/* mappings past A's VRAM area, of the trapped mailbox, grown later */
	m = mmap(NULL, ra->areas[0].size + 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		 a.dev, ra->info.offset + ra->areas[0].offset);
	ASSERT(m == MAP_FAILED);
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, a.dev,
		 ra->info.offset + VGPU_SIM_MAILBOX_OFFSET(ra->info.size));
	ASSERT(m == MAP_FAILED);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, a.dev,
		 ra->info.offset + ra->areas[0].size - 4096);
	ASSERT(m != MAP_FAILED);
	ASSERT(mremap(m, 4096, 8192, MREMAP_MAYMOVE) == MAP_FAILED);
	munmap(m, 4096);
	ASSERT(pwrite(a.dev, (void *)&v, 8, (off_t)(ra->info.offset +
		      VGPU_SIM_MAILBOX_OFFSET(ra->info.size) + 4096 - 4)) != 8);

	/* A fills its own VRAM through both paths, right to the end */
	va = vram_map(&a);
	for (i = 0; i < a.vram_len / 8; i++)
		va[i] = 0xa0a0a0a0a0a0a0a0ull;
	bar_write(&a, BAR0, a.vram_len - 8, 8, 0xa1a1a1a1a1a1a1a1ull);

	/* the copy engine aimed past A's slice, and wrapping */
	cfg_write(&a, 0x04, 2, 0x6);
	ce_kick(&a, 0x100000, a.vram_len - 4096, 8192, true);
	wait_ce_idle(&a);
	ASSERT(ce_status(&a) & VGPU_SIM_CE_STATUS_ERROR);
	ce_kick(&a, 0x100000, (uint32_t)ra->info.size, 4096, false);
	wait_ce_idle(&a);
	ASSERT(ce_status(&a) & VGPU_SIM_CE_STATUS_ERROR);
	ce_kick(&a, 0x100000, 0xfffff000u, 0x2000, false);
	wait_ce_idle(&a);
	ASSERT(ce_status(&a) & VGPU_SIM_CE_STATUS_ERROR);

	/* the scanout moved as far past A's VRAM as DISPI lets it */
	dispi_wr(&a, VGPU_SIM_DISPI_ENABLE, 0);
	dispi_wr(&a, VGPU_SIM_DISPI_XRES, 1024);
	dispi_wr(&a, VGPU_SIM_DISPI_YRES, 768);
	dispi_wr(&a, VGPU_SIM_DISPI_BPP, 32);
	dispi_wr(&a, VGPU_SIM_DISPI_VIRT_WIDTH, 0xffff);
	dispi_wr(&a, VGPU_SIM_DISPI_VIRT_HEIGHT, 0xffff);
	dispi_wr(&a, VGPU_SIM_DISPI_X_OFFSET, 0xfff0);
	dispi_wr(&a, VGPU_SIM_DISPI_Y_OFFSET, 0xfff0);
	dispi_wr(&a, VGPU_SIM_DISPI_ENABLE, VGPU_SIM_DISPI_ENABLED | VGPU_SIM_DISPI_LFB_ENABLED);
	{
		struct vfio_device_gfx_plane_info pl = {
			.argsz = sizeof(pl), .flags = VFIO_GFX_PLANE_TYPE_REGION,
			.drm_plane_type = 1,
		};

		if (ioctl(a.dev, VFIO_DEVICE_QUERY_GFX_PLANE, &pl) == 0 && pl.drm_format) {
			struct st_region *rd = &a.reg[pl.region_index];
			volatile uint64_t *d;

			ASSERT_CMP(pl.size, <=, rd->info.size);
			d = mmap(NULL, rd->info.size, PROT_READ, MAP_SHARED, a.dev,
				 rd->info.offset);
			if (d != MAP_FAILED) {
				for (i = 0; i < rd->info.size / 8; i += 512)
					ASSERT(d[i] == 0xa0a0a0a0a0a0a0a0ull ||
					       d[i] == 0xa1a1a1a1a1a1a1a1ull || d[i] == 0);
				munmap((void *)d, rd->info.size);
			}
		}
	}
	/* resets and a removal of A while it is mapped and in use */
	ASSERT(ioctl(a.dev, VFIO_DEVICE_RESET) == 0);
	ASSERT(ioctl(a.dev, VFIO_DEVICE_RESET) == 0);

	h1 = hash_words(vb, b.vram_len);
	ASSERT_CMP(h1, ==, h0);
	ASSERT_CMP(bar_read(&b, BAR0, b.vram_len - 8, 8), ==,
		   vb[b.vram_len / 8 - 1]);
	vgpu_remove(&a);
	ASSERT_CMP(hash_words(vb, b.vram_len), ==, h0);
	vgpu_remove(&b);
}

/* ---- stress: users, creators, the parent unbound and reset, at once ---- */

static volatile int stress_stop;
static __thread sigjmp_buf stress_jmp;
static __thread volatile int stress_armed;

static void stress_sigbus(int sig)
{
	if (stress_armed)
		siglongjmp(stress_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

struct stress_user {
	unsigned int id;
	unsigned long cycles, refused, opened, touched, sigbus;
};

static int stress_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), r;

	if (fd < 0)
		return -errno;
	r = write(fd, val, strlen(val)) < 0 ? -errno : 0;
	close(fd);
	return r;
}

/* Faults in a MiB of VRAM: 0, or 1 on SIGBUS. */
static int stress_touch(volatile uint32_t *vr)
{
	int ret = 0;

	if (sigsetjmp(stress_jmp, 1)) {
		ret = 1;
	} else {
		stress_armed = 1;
		for (unsigned int i = 0; i < (1 << 20) / 4; i += 1024)
			vr[i] = vr[i] + 1;
	}
	stress_armed = 0;
	return ret;
}

/* One vGPU at a time: create, open, map, fault, ioctl, close, remove. */
static void *stress_user_thread(void *arg)
{
	struct stress_user *u = arg;
	char uuid[40], p[PATH_MAX];
	unsigned long n = 0;

	while (!stress_stop) {
		struct vfio_group_status gs = { .argsz = sizeof(gs) };
		struct vfio_region_info ri = { .argsz = sizeof(ri) };
		struct vfio_device_info di = { .argsz = sizeof(di) };
		int c = -1, g = -1, d = -1, type1 = VFIO_TYPE1v2_IOMMU;
		char link[PATH_MAX], *grp;
		volatile uint32_t *vr = MAP_FAILED;
		ssize_t len;

		snprintf(uuid, sizeof(uuid), "5be55000-0000-4000-8000-%06x%06lx", u->id, n++ & 0xffffff);
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/mdev_supported_types/vgpu_sim-16m/create", st_gpu);
		u->cycles++;
		/* refused while the parent is unbound: do not spin meanwhile */
		if (stress_write(p, uuid)) {
			u->refused++;
			usleep(2000);
			continue;
		}
		snprintf(p, sizeof(p), "/sys/bus/mdev/devices/%s/iommu_group", uuid);
		len = readlink(p, link, sizeof(link) - 1);
		if (len > 0) {
			link[len] = 0;
			grp = strrchr(link, '/');
			snprintf(p, sizeof(p), "/dev/vfio/%s", grp + 1);
			c = open("/dev/vfio/vfio", O_RDWR);
			g = open(p, O_RDWR);
		}
		if (c >= 0 && g >= 0 && !ioctl(g, VFIO_GROUP_GET_STATUS, &gs) &&
		    !ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) &&
		    !ioctl(c, VFIO_SET_IOMMU, type1))
			d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, uuid);
		if (d >= 0) {
			u->opened++;
			ioctl(d, VFIO_DEVICE_GET_INFO, &di);
			ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
			if (!ioctl(d, VFIO_DEVICE_GET_REGION_INFO, &ri)) {
				uint16_t cmd = 0x6;	/* memory decode, bus master */

				pwrite(d, &cmd, 2, (off_t)ri.offset + 4);
			}
			ri.index = VFIO_PCI_BAR0_REGION_INDEX;
			if (!ioctl(d, VFIO_DEVICE_GET_REGION_INFO, &ri))
				vr = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, d, ri.offset);
			if (vr != MAP_FAILED) {
				if (stress_touch(vr))
					u->sigbus++;
				else
					u->touched++;
			}
			if (n % 4 == 0)
				ioctl(d, VFIO_DEVICE_RESET);
			if (vr != MAP_FAILED)
				munmap((void *)vr, 1 << 20);
			close(d);
		}
		if (g >= 0)
			close(g);
		if (c >= 0)
			close(c);
		snprintf(p, sizeof(p), "/sys/bus/mdev/devices/%s/remove", uuid);
		stress_write(p, "1");
	}
	return NULL;
}

/* The parent: unbound and bound again, and reset, while the rest runs. */
static void *stress_parent_thread(void *arg)
{
	unsigned long *rounds = arg;
	char p[PATH_MAX];

	while (!stress_stop) {
		usleep(700000);
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/sim_reset", st_gpu);
		stress_write(p, "1");
		usleep(700000);
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver/unbind", st_gpu);
		stress_write(p, st_gpu);
		usleep(100000);
		stress_write("/sys/bus/pci/drivers_probe", st_gpu);
		(*rounds)++;
	}
	return NULL;
}

static void t_stress(void)
{
	struct sigaction sa = { .sa_handler = stress_sigbus }, old;
	struct stress_user users[4] = { { .id = 1 }, { .id = 2 }, { .id = 3 }, { .id = 4 } };
	unsigned long rounds = 0, opened = 0;
	long long before = st_available("16m");
	const char *env = getenv("SIM_STRESS_SECONDS");
	unsigned int secs = env ? (unsigned int)atoi(env) : 20;
	pthread_t th[5];
	char p[PATH_MAX];
	unsigned int i;

	ASSERT_CMP(before, >, 0);
	sigaction(SIGBUS, &sa, &old);
	stress_stop = 0;
	for (i = 0; i < 4; i++)
		ASSERT(pthread_create(&th[i], NULL, stress_user_thread, &users[i]) == 0);
	ASSERT(pthread_create(&th[4], NULL, stress_parent_thread, &rounds) == 0);
	sleep(secs);
	stress_stop = 1;
	for (i = 0; i < 5; i++)
		ASSERT(pthread_join(th[i], NULL) == 0);
	sigaction(SIGBUS, &old, NULL);
	snprintf(p, sizeof(p), "/sys/class/mdev_bus/%s", st_gpu);
	if (access(p, F_OK))
		stress_write("/sys/bus/pci/drivers_probe", st_gpu);
	ASSERT(access(p, F_OK) == 0);
	vgpu_cleanup_all();
	for (i = 0; i < 4; i++) {
		st_diag("user %u: %lu cycles, %lu creates refused, %lu opened, %lu touched, %lu SIGBUS",
			i, users[i].cycles, users[i].refused, users[i].opened,
			users[i].touched, users[i].sigbus);
		opened += users[i].opened;
	}
	st_diag("%u s, parent unbound/rebound and reset %lu times", secs, rounds);
	ASSERT_CMP(rounds, >, 0);
	ASSERT_CMP(opened, >, 0);
	ASSERT_CMP(st_available("16m"), ==, before);
}

/* /dev/kmsg at the log's end when the cases began: the scan sees only theirs */
static int st_kmsg = -1;

static void t_dmesg(void)
{
	int bad = kmsg_reports(st_kmsg);

	ASSERT_CMP(bad, >=, 0);
	ASSERT_CMP(bad, ==, 0);
}

/* ---- migration (VFIO migration v2) ------------------------------------- */

/* The running kernel has VFIO PRE_COPY (6.2+): the vGPU must offer it. */
static bool kernel_precopy(void)
{
	struct utsname u;
	int maj = 0, min = 0;

	ASSERT(uname(&u) == 0);
	ASSERT(sscanf(u.release, "%d.%d", &maj, &min) == 2);
	return maj > 6 || (maj == 6 && min >= 2);
}

#define MIG_ALL	(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | \
		 (kernel_precopy() ? MIG_FLAG_PRE_COPY : 0))

static const char *const mig_names[] = {
	"ERROR", "STOP", "RUNNING", "STOP_COPY", "RESUMING", "RUNNING_P2P",
	"PRE_COPY", "PRE_COPY_P2P",
};

/* VFIO_DEVICE_FEATURE with a payload; returns ioctl()'s result */
static int mig_feature(struct vgpu *g, uint32_t flags, void *data, size_t len)
{
	uint64_t buf[8] = { 0 };
	struct vfio_device_feature *f = (struct vfio_device_feature *)buf;
	int ret;

	ASSERT(sizeof(*f) + len <= sizeof(buf));
	f->argsz = sizeof(*f) + len;
	f->flags = flags;
	memcpy(f->data, data, len);
	ret = ioctl(g->dev, VFIO_DEVICE_FEATURE, f);
	memcpy(data, f->data, len);
	return ret;
}

/* Migration flags of @g, or -errno (ENOTTY: no migration). */
static long long mig_flags(struct vgpu *g)
{
	struct vfio_device_feature_migration m = { 0 };

	if (mig_feature(g, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION,
			&m, sizeof(m)))
		return -errno;
	return m.flags;
}

/* Sets the state: 0 and the data fd (-1 if none) or -errno. */
static int mig_try(struct vgpu *g, uint32_t state, int *fd)
{
	struct vfio_device_feature_mig_state s = { .device_state = state };

	*fd = -2;
	if (mig_feature(g, VFIO_DEVICE_FEATURE_SET |
			VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &s, sizeof(s)))
		return -errno;
	*fd = s.data_fd;
	return 0;
}

static uint32_t mig_get(struct vgpu *g)
{
	struct vfio_device_feature_mig_state s = { 0 };

	ASSERT(mig_feature(g, VFIO_DEVICE_FEATURE_GET |
			   VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &s, sizeof(s)) == 0);
	return s.device_state;
}

/* Sets a state that must work; returns its data fd or -1. */
static int mig_set(struct vgpu *g, uint32_t state)
{
	int fd, ret = mig_try(g, state, &fd);

	if (ret)
		st_diag("-> %s: %s", mig_names[state], strerror(-ret));
	ASSERT_CMP(ret, ==, 0);
	ASSERT_CMP(mig_get(g), ==, state);
	if (state == VFIO_DEVICE_STATE_STOP_COPY ||
	    state == VFIO_DEVICE_STATE_RESUMING || state == MIG_PRE_COPY)
		ASSERT(fd >= 0);
	else
		ASSERT_CMP(fd, ==, -1);
	return fd;
}

/* A state reached without a new data fd (PRE_COPY_P2P, STOP_COPY from it). */
static void mig_set_nofd(struct vgpu *g, uint32_t state)
{
	int fd, ret = mig_try(g, state, &fd);

	if (ret)
		st_diag("-> %s: %s", mig_names[state], strerror(-ret));
	ASSERT_CMP(ret, ==, 0);
	ASSERT_CMP(mig_get(g), ==, state);
	ASSERT_CMP(fd, ==, -1);
}

static uint8_t *read_stream(int fd, size_t *len)
{
	size_t cap = 1 << 20, n = 0;
	uint8_t *buf = malloc(cap);
	ssize_t r;

	ASSERT(buf);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			ASSERT(buf);
		}
		r = read(fd, buf + n, cap - n < 300000 ? cap - n : 300000);
		ASSERT(r >= 0);
		if (!r)
			break;
		n += r;
	}
	/* the end stays the end */
	ASSERT_CMP(read(fd, buf, 1), ==, 0);
	*len = n;
	return buf;
}

/* Writes it all; 0 or -errno of the failing write. */
static int write_stream(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		size_t n = len - done < 1000000 ? len - done : 1000000;
		ssize_t w = write(fd, (const uint8_t *)buf + done, n);

		if (w < 0)
			return -errno;
		ASSERT(w > 0);
		done += w;
	}
	return 0;
}

static void mig_reset(struct vgpu *g)
{
	ASSERT(ioctl(g->dev, VFIO_DEVICE_RESET) == 0);
	ASSERT_CMP(mig_get(g), ==, VFIO_DEVICE_STATE_RUNNING);
}

static sigjmp_buf mig_jmp;
static volatile sig_atomic_t mig_armed;

static void mig_sigbus(int sig)
{
	if (mig_armed)
		siglongjmp(mig_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* true if a store of @v to @p (a load with !@store) faults (SIGBUS) */
static bool access_faults(volatile uint32_t *p, bool store, uint32_t v)
{
	struct sigaction sa = { .sa_handler = mig_sigbus }, old;
	volatile bool faulted = false;

	sigaction(SIGBUS, &sa, &old);
	if (!sigsetjmp(mig_jmp, 1)) {
		mig_armed = 1;
		if (store)
			*p = v;
		else
			(void)*p;
		mig_armed = 0;
	} else {
		mig_armed = 0;
		faulted = true;
	}
	sigaction(SIGBUS, &old, NULL);
	return faulted;
}

static bool store_faults(volatile uint32_t *p, uint32_t v)
{
	return access_faults(p, true, v);
}

static bool load_faults(volatile uint32_t *p)
{
	return access_faults(p, false, 0);
}

/* ---- display planes as dma-bufs --------------------------------------- */

static int get_dmabuf(struct vgpu *g, uint32_t id)
{
	return ioctl(g->dev, VFIO_DEVICE_GET_GFX_DMABUF, &id);
}

/* maps dma-buf @fd of @size bytes and checks it holds what @vram holds */
static volatile uint32_t *dmabuf_map_check(int fd, size_t size,
					   const volatile uint32_t *vram)
{
	volatile uint32_t *m;
	size_t i;

	ASSERT_CMP(lseek(fd, 0, SEEK_END), ==, size);
	m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT(m != MAP_FAILED);
	for (i = 0; i < size / 4; i++)
		if (m[i] != vram[i])
			st_fail(__FILE__, __LINE__, "dma-buf word %zu: %#x, VRAM %#x",
				i, m[i], vram[i]);
	return m;
}

static void dmabuf_mode(struct vgpu *g)
{
	dispi_wr(g, VGPU_SIM_DISPI_ENABLE, 0);
	dispi_wr(g, VGPU_SIM_DISPI_BPP, 32);
	dispi_wr(g, VGPU_SIM_DISPI_XRES, 1024);
	dispi_wr(g, VGPU_SIM_DISPI_YRES, 768);
	dispi_wr(g, VGPU_SIM_DISPI_VIRT_WIDTH, 1024);
	dispi_wr(g, VGPU_SIM_DISPI_ENABLE,
		 VGPU_SIM_DISPI_ENABLED | VGPU_SIM_DISPI_LFB_ENABLED);
}

/* memory decode on, the mode set, its plane exported (*@fd) and mapped */
static volatile uint32_t *dmabuf_fresh(struct vgpu *g, const volatile uint32_t *vram,
				       struct vfio_device_gfx_plane_info *p, int *fd)
{
	cfg_write(g, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	dmabuf_mode(g);
	ASSERT(query_plane(g, VFIO_GFX_PLANE_TYPE_DMABUF, DRM_PLANE_PRIMARY, p) == 0);
	*fd = get_dmabuf(g, p->dmabuf_id);
	ASSERT(*fd >= 0);
	return dmabuf_map_check(*fd, p->size, vram);
}

static void t_plane_dmabuf(void)
{
	static struct vgpu g;
	const unsigned int dmabuf = VFIO_GFX_PLANE_TYPE_DMABUF;
	const size_t fb = 4096 * 768;
	struct vfio_device_gfx_plane_info p;
	volatile uint32_t *vram, *m, *m2;
	char path[PATH_MAX], buf[16];
	uint32_t id, id2;
	int fd, fd2;
	size_t i;

	ASSERT(vgpu_create(&g, "16m") == 0);
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/vendor/display_dmabuf",
		 g.uuid);
	ASSERT(sysfs_read_str(path, buf, sizeof(buf)) == 0);
	ASSERT(!strcmp(buf, "0"));
	ASSERT_CMP(sysfs_write(path, "maybe"), ==, -EINVAL);
	ASSERT(sysfs_write(path, "1") == 0);
	vgpu_open(&g);
	ASSERT_CMP(sysfs_write(path, "0"), ==, -EBUSY);
	ASSERT(query_plane(&g, VFIO_GFX_PLANE_TYPE_PROBE | dmabuf, DRM_PLANE_PRIMARY, &p) == 0);
	ASSERT(query_plane(&g, VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_REGION,
			   DRM_PLANE_PRIMARY, &p) == 0);
	ASSERT_ERRNO(query_plane(&g, dmabuf | VFIO_GFX_PLANE_TYPE_REGION, DRM_PLANE_PRIMARY, &p),
		     EINVAL);
	/* display off: no buffer */
	ASSERT(query_plane(&g, dmabuf, DRM_PLANE_PRIMARY, &p) == 0);
	ASSERT_CMP(p.drm_format, ==, 0);
	ASSERT_CMP(p.dmabuf_id, ==, 0);
	ASSERT_ERRNO(get_dmabuf(&g, 0), ENOENT);
	ASSERT_ERRNO(ioctl(g.dev, VFIO_DEVICE_GET_GFX_DMABUF, NULL), EFAULT);

	/* two frames of distinct words */
	vram = vram_map(&g);
	for (i = 0; i < 2 * fb / 4; i++)
		vram[i] = 0x40000000u + i;
	dmabuf_mode(&g);
	ASSERT(query_plane(&g, dmabuf, DRM_PLANE_PRIMARY, &p) == 0);
	ASSERT_CMP(p.flags, ==, dmabuf);
	ASSERT_CMP(p.drm_format, ==, DRM_FORMAT_XRGB8888);
	ASSERT_CMP(p.width, ==, 1024);
	ASSERT_CMP(p.height, ==, 768);
	ASSERT_CMP(p.stride, ==, 4096);
	ASSERT_CMP(p.size, ==, fb);
	ASSERT_CMP(p.dmabuf_id, !=, 0);
	id = p.dmabuf_id;
	/* the same buffer keeps its id (QEMU caches imports by it) */
	ASSERT(query_plane(&g, dmabuf, 0, &p) == 0);
	ASSERT_CMP(p.dmabuf_id, ==, id);
	ASSERT(query_plane(&g, VFIO_GFX_PLANE_TYPE_REGION, DRM_PLANE_PRIMARY, &p) == 0);
	ASSERT_CMP(p.region_index, ==, VFIO_PCI_NUM_REGIONS);

	fd = get_dmabuf(&g, id);
	ASSERT(fd >= 0);
	ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	m = dmabuf_map_check(fd, fb, vram);
	/* the same memory, not a copy */
	vram[5] = 0xdeadbeef;
	ASSERT_CMP(m[5], ==, 0xdeadbeef);
	/*
	 * Read-only memory: a writable mapping (Mesa's llvmpipe maps imports
	 * so) is allowed, a store through it faults and changes nothing
	 */
	{
		volatile uint32_t *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					    MAP_SHARED, fd, 0);

		ASSERT(w != MAP_FAILED);
		ASSERT_CMP(w[5], ==, 0xdeadbeef);
		ASSERT(store_faults(&w[5], 0x5555aaaa));
		ASSERT_CMP(vram[5], ==, 0xdeadbeef);
		munmap((void *)w, 4096);
		ASSERT(mprotect((void *)m, 4096, PROT_READ | PROT_WRITE) == 0);
		ASSERT(store_faults(&m[6], 0x5555aaaa));
		ASSERT_CMP(vram[6], ==, 0x40000006);
	}
	/* shared and inside the buffer only */
	ASSERT(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED);
	ASSERT(mmap(NULL, fb + 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED);
	/* another fd of the id is another export of the same memory */
	fd2 = get_dmabuf(&g, id);
	ASSERT(fd2 >= 0);
	close(fd2);
	ASSERT_ERRNO(get_dmabuf(&g, id + 1000), ENOENT);

	/* a page flip revokes the old frame's buffers; the new one gets an id */
	dispi_wr(&g, VGPU_SIM_DISPI_Y_OFFSET, 768);
	ASSERT(load_faults(&m[0]));
	ASSERT_ERRNO(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0), ENODEV);
	ASSERT_ERRNO(get_dmabuf(&g, id), ENOENT);
	munmap((void *)m, fb);
	close(fd);
	ASSERT(query_plane(&g, dmabuf, DRM_PLANE_PRIMARY, &p) == 0);
	ASSERT_CMP(p.dmabuf_id, !=, id);
	id2 = p.dmabuf_id;
	fd2 = get_dmabuf(&g, id2);
	ASSERT(fd2 >= 0);
	m2 = dmabuf_map_check(fd2, fb, vram + fb / 4);

	/* planes that differ without a flip get their own ids; 16 are kept */
	for (i = 1; i <= 16; i++) {
		dispi_wr(&g, VGPU_SIM_DISPI_XRES, 1024 - 8 * i);
		ASSERT(query_plane(&g, dmabuf, DRM_PLANE_PRIMARY, &p) == 0);
		ASSERT_CMP(p.width, ==, 1024 - 8 * i);
		ASSERT_CMP(p.dmabuf_id, !=, id2);
	}
	ASSERT_ERRNO(get_dmabuf(&g, id2), ENOENT);
	fd = get_dmabuf(&g, p.dmabuf_id);
	ASSERT(fd >= 0);
	close(fd);
	/* a forgotten id's export lives on */
	ASSERT_CMP(m2[7], ==, vram[fb / 4 + 7]);

	/* a reset revokes */
	ASSERT(ioctl(g.dev, VFIO_DEVICE_RESET) == 0);
	ASSERT(load_faults(&m2[0]));
	munmap((void *)m2, fb);
	close(fd2);

	/* so does a reset of the physical GPU */
	m = dmabuf_fresh(&g, vram, &p, &fd);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sim_reset", st_gpu);
	ASSERT(sysfs_write(path, "1") == 0);
	ASSERT(load_faults(&m[0]));
	ASSERT_ERRNO(get_dmabuf(&g, p.dmabuf_id), ENOENT);
	munmap((void *)m, fb);
	close(fd);

	/* so does the close; an export outlives its vGPU */
	m = dmabuf_fresh(&g, vram, &p, &fd);
	vgpu_close(&g);
	ASSERT(load_faults(&m[0]));
	vgpu_remove(&g);
	ASSERT(load_faults(&m[0]));
	munmap((void *)m, fb);
	close(fd);

	/* off by default, and then no dma-buf plane */
	ASSERT(vgpu_create(&g, "16m") == 0);
	vgpu_open(&g);
	ASSERT_ERRNO(query_plane(&g, VFIO_GFX_PLANE_TYPE_PROBE | dmabuf, DRM_PLANE_PRIMARY, &p),
		     EINVAL);
	ASSERT_ERRNO(query_plane(&g, dmabuf, DRM_PLANE_PRIMARY, &p), EINVAL);
	ASSERT_ERRNO(get_dmabuf(&g, 1), ENOENT);
	vgpu_remove(&g);
}

/*
 * A device importer (harness/importer/dmabuf_import.ko) reads the plane through the
 * DMA addresses our export gave it: what a GPU importing the display would
 * read. Revocation reaches it through move_notify.
 */
static void t_plane_dmabuf_import(void)
{
	static struct vgpu g;
	const size_t fb = 4096 * 768;
	struct vfio_device_gfx_plane_info p;
	struct dmabuf_import im;
	const char *ko = getenv("IMPORT_KO");
	char path[PATH_MAX];
	volatile uint32_t *vram;
	uint32_t *copy;
	int imp, fd;
	size_t i;

	if (!ko || access(ko, R_OK)) {
		st_skip("harness/importer/dmabuf_import.ko not built");
		return;
	}
	if (access("/sys/module/dmabuf_import", F_OK))
		ASSERT(load_ko("IMPORT_KO", "") == 0);
	imp = open("/dev/vgpu_dmabuf_import", O_RDWR | O_CLOEXEC);
	ASSERT(imp >= 0);
	copy = malloc(fb);
	ASSERT(copy);

	ASSERT(vgpu_create(&g, "16m") == 0);
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/vendor/display_dmabuf",
		 g.uuid);
	ASSERT(sysfs_write(path, "1") == 0);
	vgpu_open(&g);
	vram = vram_map(&g);
	for (i = 0; i < 2 * fb / 4; i++)
		vram[i] = 0x70000000u ^ (uint32_t)(i * 2654435761u);
	dmabuf_mode(&g);
	ASSERT(query_plane(&g, VFIO_GFX_PLANE_TYPE_DMABUF, DRM_PLANE_PRIMARY, &p) == 0);
	fd = get_dmabuf(&g, p.dmabuf_id);
	ASSERT(fd >= 0);

	memset(&im, 0, sizeof(im));
	im.fd = fd;
	im.buf = (uintptr_t)copy;
	im.len = fb;
	/* a static importer pins, which revocation could not undo: refused */
	im.flags = DMABUF_IMPORT_STATIC;
	ASSERT_ERRNO(ioctl(imp, DMABUF_IMPORT_IMPORT, &im), EOPNOTSUPP);
	/* device memory has no struct pages for one that wants them */
	im.flags = DMABUF_IMPORT_NO_P2P;
	ASSERT_ERRNO(ioctl(imp, DMABUF_IMPORT_IMPORT, &im), EOPNOTSUPP);
	/* dynamic and peer-to-peer: the device reads the frame in VRAM */
	im.flags = 0;
	ASSERT(ioctl(imp, DMABUF_IMPORT_IMPORT, &im) == 0);
	ASSERT_CMP(im.nents, >=, 1);
	ASSERT_CMP(im.moves, ==, 0);
	for (i = 0; i < fb / 4; i++)
		if (copy[i] != vram[i])
			st_fail(__FILE__, __LINE__, "imported word %zu: %#x, VRAM %#x",
				i, copy[i], vram[i]);
	/* the importer's reference keeps the buffer; the mapping is VRAM itself */
	close(fd);
	vram[3] = 0x0ddba11u;
	ASSERT(ioctl(imp, DMABUF_IMPORT_REMAP, &im) == 0);
	ASSERT_CMP(copy[3], ==, 0x0ddba11u);
	/* a page flip revokes: move_notify, and mapping again fails */
	dispi_wr(&g, VGPU_SIM_DISPI_Y_OFFSET, 768);
	ASSERT_ERRNO(ioctl(imp, DMABUF_IMPORT_REMAP, &im), ENODEV);
	ASSERT_CMP(im.moves, ==, 1);
	ASSERT(ioctl(imp, DMABUF_IMPORT_RELEASE) == 0);

	/* an import outlives its vGPU: removal revokes it */
	ASSERT(query_plane(&g, VFIO_GFX_PLANE_TYPE_DMABUF, DRM_PLANE_PRIMARY, &p) == 0);
	fd = get_dmabuf(&g, p.dmabuf_id);
	ASSERT(fd >= 0);
	im.fd = fd;
	ASSERT(ioctl(imp, DMABUF_IMPORT_IMPORT, &im) == 0);
	ASSERT_CMP(copy[0], ==, vram[fb / 4]);
	close(fd);
	vgpu_remove(&g);
	ASSERT_ERRNO(ioctl(imp, DMABUF_IMPORT_REMAP, &im), ENODEV);
	ASSERT_CMP(im.moves, ==, 2);
	ASSERT(ioctl(imp, DMABUF_IMPORT_RELEASE) == 0);
	close(imp);
	free(copy);
}

/* CRC-32 as zlib's crc32(), what the stream format documents */
static uint32_t crc32_ieee(uint32_t crc, const uint8_t *p, size_t len)
{
	unsigned int k;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
	}
	return ~crc;
}

#define MIG_SEC_HDR	sizeof(struct vgpu_mig_section)
#define MIG_END_REC	(MIG_SEC_HDR + sizeof(struct vgpu_mig_end))
#define MIG_VRAM_HDR	(MIG_SEC_HDR + sizeof(struct vgpu_mig_vram))

static uint32_t header_crc(const uint8_t *s)
{
	struct vgpu_mig_header h;

	memcpy(&h, s, sizeof(h));
	h.crc = 0;
	return crc32_ieee(0, (const uint8_t *)&h, sizeof(h));
}

static void fix_header_crc(uint8_t *s)
{
	((struct vgpu_mig_header *)s)->crc = header_crc(s);
}

/* the @nth (from 0) section @id of a whole stream */
static struct vgpu_mig_section *stream_section(uint8_t *s, size_t len,
					       uint32_t id, unsigned int nth)
{
	size_t off = sizeof(struct vgpu_mig_header);

	while (off + MIG_SEC_HDR <= len) {
		struct vgpu_mig_section *sec = (void *)(s + off);

		if (sec->id == id && !nth--)
			return sec;
		off += MIG_SEC_HDR + ((sec->len + 7) & ~7ull);
	}
	ASSERT(!"section not found");
	return NULL;
}

/* After editing a stream: END's length and crc as the source would write */
static void fix_end(uint8_t *s, size_t len)
{
	struct vgpu_mig_end *e = (void *)(s + len - sizeof(*e));
	size_t hl = sizeof(struct vgpu_mig_header);

	e->payload_len = len - hl - MIG_END_REC;
	e->crc = crc32_ieee(0, s + hl, e->payload_len);
}

static void fix_vram_crc(struct vgpu_mig_section *sec)
{
	struct vgpu_mig_vram *r = (void *)(sec + 1);
	uint32_t crc;

	r->crc = 0;
	crc = crc32_ieee(0, (const uint8_t *)r, sizeof(*r));
	r->crc = crc32_ieee(crc, (const uint8_t *)(r + 1),
			    (size_t)r->npages * r->page_size);
}

/*
 * Walks the sections in s[from, to), which must tile it; returns the VRAM
 * pages they carry and whether END was among them.
 */
static size_t stream_vram_pages(const uint8_t *s, size_t from, size_t to,
				bool *end)
{
	size_t pages = 0;

	*end = false;
	while (from < to) {
		const struct vgpu_mig_section *sec = (const void *)(s + from);

		ASSERT(from + MIG_SEC_HDR <= to);
		ASSERT(!*end);
		if (sec->id == VGPU_MIG_SEC_VRAM) {
			const struct vgpu_mig_vram *r = (const void *)(sec + 1);

			ASSERT_CMP(r->page_size, ==, 4096);
			ASSERT_CMP(sec->len, ==, sizeof(*r) + r->npages * 4096ull);
			pages += r->npages;
		}
		*end = sec->id == VGPU_MIG_SEC_END;
		from += MIG_SEC_HDR + ((sec->len + 7) & ~7ull);
	}
	ASSERT_CMP(from, ==, to);
	return pages;
}

static void mig_check_header(struct vgpu *g, const uint8_t *s, size_t len,
			     const char *type)
{
	const struct vgpu_mig_header *h = (const void *)s;
	char want[40];

	ASSERT_CMP(len, >, sizeof(*h));
	ASSERT_CMP(h->magic, ==, VGPU_MIG_MAGIC);
	ASSERT_CMP(h->version, ==, VGPU_MIG_VERSION);
	ASSERT_CMP(h->header_size, ==, sizeof(*h));
	ASSERT_CMP(h->vendor, ==, cfg_read(g, PCI_VENDOR_ID, 2));
	ASSERT_CMP(h->device, ==, cfg_read(g, PCI_DEVICE_ID, 2));
	ASSERT_CMP(h->subsystem_device, ==, cfg_read(g, PCI_SUBSYSTEM_ID, 2));
	ASSERT(!strcmp(h->driver, "vgpu_sim"));
	snprintf(want, sizeof(want), "%s", type);
	ASSERT(!strcmp(h->type, want));
	ASSERT_CMP(h->vram_size, ==, 16 * MiB - 4096);	/* BAR0 minus mailbox */
	ASSERT_CMP(h->crc, ==, header_crc(s));
	/* END last, covering everything between the header and itself */
	{
		const struct vgpu_mig_section *sec =
			(const void *)(s + len - MIG_END_REC);
		const struct vgpu_mig_end *e = (const void *)(sec + 1);

		ASSERT_CMP(sec->id, ==, VGPU_MIG_SEC_END);
		ASSERT_CMP(e->payload_len, ==, len - sizeof(*h) - MIG_END_REC);
		ASSERT_CMP(e->crc, ==, crc32_ieee(0, s + sizeof(*h),
						  e->payload_len));
	}
#ifdef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
	{
		struct vfio_device_feature_mig_data_size ds = { 0 };

		ASSERT(mig_feature(g, VFIO_DEVICE_FEATURE_GET |
				   VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
				   &ds, sizeof(ds)) == 0);
		ASSERT_CMP(ds.stop_copy_length, ==, len);
	}
#endif
}

/* Saves @g (RUNNING -> STOP_COPY -> STOP), leaves it in STOP. */
static uint8_t *mig_save(struct vgpu *g, const char *type, size_t *len)
{
	int fd = mig_set(g, VFIO_DEVICE_STATE_STOP_COPY);
	uint8_t *s = read_stream(fd, len);
	char c;

	mig_check_header(g, s, *len, type);
	mig_set(g, VFIO_DEVICE_STATE_STOP);
	/* the transition ended the fd */
	ASSERT_ERRNO(read(fd, &c, 1), ENODEV);
	close(fd);
	return s;
}

/* RUNNING -> RESUMING, stream in, -> STOP; 0 or -errno of write/STOP */
static int mig_load(struct vgpu *g, const uint8_t *s, size_t len)
{
	int fd = mig_set(g, VFIO_DEVICE_STATE_RESUMING), ret, nfd;

	ret = write_stream(fd, s, len);
	if (!ret)
		ret = mig_try(g, VFIO_DEVICE_STATE_STOP, &nfd);
	close(fd);
	return ret;
}

#define MIG_TYPE "16m"

/* Every arc of the STOP_COPY + P2P FSM, the refused ones and the data fds. */
static void t_mig_fsm(void)
{
	static const uint32_t st[] = {
		VFIO_DEVICE_STATE_RUNNING, VFIO_DEVICE_STATE_RUNNING_P2P,
		VFIO_DEVICE_STATE_STOP, VFIO_DEVICE_STATE_STOP_COPY,
		VFIO_DEVICE_STATE_RESUMING,
	};
	static struct vgpu g;
	struct vfio_device_feature probe = {
		.argsz = sizeof(probe),
		.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
			 VFIO_DEVICE_FEATURE_MIGRATION,
	};
	unsigned int i, j;
	uint8_t *s, c = 0;
	size_t len;
	int fd, nfd;

	ASSERT(vgpu_create(&g, "16m") == 0);
	vgpu_open(&g);
	/* the capability, exactly: the test fails without it */
	ASSERT(ioctl(g.dev, VFIO_DEVICE_FEATURE, &probe) == 0);
	ASSERT_CMP(mig_flags(&g), ==, MIG_ALL);
	ASSERT_CMP(mig_get(&g), ==, VFIO_DEVICE_STATE_RUNNING);
	cfg_write(&g, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	s = mig_save(&g, MIG_TYPE, &len);
	mig_set(&g, VFIO_DEVICE_STATE_RUNNING);

	/* from every state to every other one */
	for (i = 0; i < 5; i++) {
		for (j = 0; j < 5; j++) {
			if (i == j)
				continue;
			mig_reset(&g);
			fd = mig_set(&g, st[i]);
			if (st[i] == VFIO_DEVICE_STATE_RESUMING)
				ASSERT(write_stream(fd, s, len) == 0);
			nfd = mig_set(&g, st[j]);
			if (fd >= 0) {
				/* leaving a data state ends its fd */
				if (st[i] == VFIO_DEVICE_STATE_STOP_COPY)
					ASSERT_ERRNO(read(fd, &c, 1), ENODEV);
				else
					ASSERT_ERRNO(write(fd, &c, 1), ENODEV);
				close(fd);
			}
			if (nfd >= 0)
				close(nfd);
		}
	}

	/* refused: unsupported and invalid states, state unchanged */
	mig_reset(&g);
	ASSERT_CMP(mig_try(&g, VFIO_DEVICE_STATE_ERROR, &fd), ==, -EINVAL);
	if (!kernel_precopy()) {
		ASSERT_CMP(mig_try(&g, MIG_PRE_COPY, &fd), ==, -EINVAL);
		ASSERT_CMP(mig_try(&g, MIG_PRE_COPY_P2P, &fd), ==, -EINVAL);
	}
	ASSERT_CMP(mig_try(&g, 99, &fd), ==, -EINVAL);
	ASSERT_CMP(mig_get(&g), ==, VFIO_DEVICE_STATE_RUNNING);
	/* an empty stream cannot be loaded: RESUMING stays */
	fd = mig_set(&g, VFIO_DEVICE_STATE_RESUMING);
	ASSERT_CMP(mig_try(&g, VFIO_DEVICE_STATE_STOP, &nfd), ==, -EINVAL);
	ASSERT_CMP(mig_get(&g), ==, VFIO_DEVICE_STATE_RESUMING);
	ASSERT_CMP(mig_try(&g, VFIO_DEVICE_STATE_RUNNING, &nfd), ==, -EINVAL);
	ASSERT_CMP(mig_get(&g), ==, VFIO_DEVICE_STATE_RESUMING);
	/* the resuming fd is write-only and a stream */
	ASSERT_ERRNO(read(fd, &c, 1), EBADF);
	ASSERT_ERRNO(pwrite(fd, &c, 1, 0), ESPIPE);
	ASSERT_ERRNO(lseek(fd, 0, SEEK_SET), ESPIPE);
	close(fd);
	mig_reset(&g);

	/* the saving fd: read-only stream, EOF at the end */
	fd = mig_set(&g, VFIO_DEVICE_STATE_STOP_COPY);
	ASSERT_ERRNO(write(fd, &c, 1), EBADF);
	ASSERT_ERRNO(pread(fd, &c, 1, 0), ESPIPE);
	free(read_stream(fd, &len));
	/* closing the device ends the migration: RUNNING at the next open */
	vgpu_close(&g);
	ASSERT_ERRNO(read(fd, &c, 1), ENODEV);
	close(fd);
	vgpu_open(&g);
	ASSERT_CMP(mig_get(&g), ==, VFIO_DEVICE_STATE_RUNNING);
	free(s);
	vgpu_remove(&g);
}

struct mig_dev {
	struct ce_env e;
	volatile uint32_t *vram;
	size_t vram_len;
	unsigned int msix_pos;
};

#define MIG_SEED 0x5eed1234u
#define MIG_CE_LEN (256 * 1024)
#define MIG_CE_VRAM (4 * MiB)

static void mig_dev_setup(struct mig_dev *d, const char *type)
{
	unsigned int pos;

	ce_setup(&d->e, type, 1 * MiB, VFIO_PCI_MSIX_IRQ_INDEX);
	d->vram = vram_map(&d->e.g);
	d->vram_len = d->e.g.vram_len;
	pos = cfg_read(&d->e.g, PCI_CAPABILITY_LIST, 1);
	while (pos && cfg_read(&d->e.g, pos, 1) != PCI_CAP_ID_MSIX)
		pos = cfg_read(&d->e.g, pos + 1, 1);
	ASSERT(pos);
	d->msix_pos = pos;
}

/* What a guest programmed into the source, checked on either vGPU. */
static void mig_program(struct mig_dev *d)
{
	struct vgpu *g = &d->e.g;

	fill((void *)d->vram, d->vram_len, MIG_SEED);
	dispi_wr(g, VGPU_SIM_DISPI_XRES, 1024);
	dispi_wr(g, VGPU_SIM_DISPI_YRES, 768);
	dispi_wr(g, VGPU_SIM_DISPI_BPP, 32);
	dispi_wr(g, VGPU_SIM_DISPI_Y_OFFSET, 16);
	dispi_wr(g, VGPU_SIM_DISPI_ENABLE, VGPU_SIM_DISPI_ENABLED |
		 VGPU_SIM_DISPI_LFB_ENABLED);
	bar_write(g, BAR0, VGPU_SIM_MAILBOX_OFFSET(16 * MiB) +
		  VGPU_SIM_MBOX_SCRATCH, 4, 0xfeedf00d);
	/* MSI-X entry 1: address, data, and masked */
	bar_write(g, BAR2, VGPU_SIM_MSIX_TABLE_OFFSET + 16, 4, 0xfee01000);
	bar_write(g, BAR2, VGPU_SIM_MSIX_TABLE_OFFSET + 24, 4, 0x4242);
	bar_write(g, BAR2, VGPU_SIM_MSIX_TABLE_OFFSET + 28, 4, 1);
	/* a copy from guest memory that completed */
	fill(d->e.buf, MIG_CE_LEN, 0xc0ffee);
	ce_kick(g, IOVA_BASE, MIG_CE_VRAM, MIG_CE_LEN, false);
	ASSERT(irq_wait(g, VGPU_SIM_MSIX_VEC_COMPLETE, 10000));
	ASSERT_CMP(ce_status(g), ==, VGPU_SIM_CE_STATUS_DONE);
}

static void mig_verify(struct mig_dev *d, struct vgpu *src_cfg_ref,
		       const uint8_t *cfg_ref, unsigned int done_count)
{
	struct vgpu *g = &d->e.g;
	const volatile uint32_t *w = d->vram;
	unsigned int i;
	size_t k;

	/* VRAM: the pattern with the copy's bytes at MIG_CE_VRAM */
	ASSERT_CMP(first_mismatch((void *)d->vram, MIG_CE_VRAM, MIG_SEED), ==,
		   (size_t)-1);
	ASSERT_CMP(first_mismatch((uint8_t *)d->vram + MIG_CE_VRAM, MIG_CE_LEN,
				  0xc0ffee), ==, (size_t)-1);
	/* fill() seeds by word index from the start */
	for (k = (MIG_CE_VRAM + MIG_CE_LEN) / 4; k < d->vram_len / 4; k++)
		if (w[k] != (MIG_SEED ^ (uint32_t)(k * 2654435761u)))
			ASSERT_CMP(k * 4, ==, d->vram_len);	/* prints where */
	ASSERT_CMP(dispi_rd(g, VGPU_SIM_DISPI_XRES), ==, 1024);
	ASSERT_CMP(dispi_rd(g, VGPU_SIM_DISPI_YRES), ==, 768);
	ASSERT_CMP(dispi_rd(g, VGPU_SIM_DISPI_BPP), ==, 32);
	ASSERT_CMP(dispi_rd(g, VGPU_SIM_DISPI_Y_OFFSET), ==, 16);
	ASSERT_CMP(dispi_rd(g, VGPU_SIM_DISPI_ENABLE), ==,
		   VGPU_SIM_DISPI_ENABLED | VGPU_SIM_DISPI_LFB_ENABLED);
	ASSERT_CMP(bar_read(g, BAR0, VGPU_SIM_MAILBOX_OFFSET(16 * MiB) +
			    VGPU_SIM_MBOX_SCRATCH, 4), ==, 0xfeedf00d);
	ASSERT_CMP(bar_read(g, BAR2, VGPU_SIM_MSIX_TABLE_OFFSET + 16, 4), ==,
		   0xfee01000);
	ASSERT_CMP(bar_read(g, BAR2, VGPU_SIM_MSIX_TABLE_OFFSET + 24, 4), ==,
		   0x4242);
	ASSERT_CMP(bar_read(g, BAR2, VGPU_SIM_MSIX_TABLE_OFFSET + 28, 4), ==, 1);
	ASSERT_CMP(bar_read(g, BAR2, VGPU_SIM_CE_DONE_COUNT, 4), ==, done_count);
	ASSERT_CMP(ce_status(g), ==, VGPU_SIM_CE_STATUS_DONE);
	/* config space: command, MSI-X control, BARs all as the source's */
	for (i = 0; i < 256; i += 4)
		if (cfg_ref)
			ASSERT_CMP(cfg_read(g, i, 4), ==,
				   ((const uint32_t *)cfg_ref)[i / 4]);
	(void)src_cfg_ref;
}

static void cfg_snapshot(struct vgpu *g, uint32_t *cfg)
{
	unsigned int i;

	for (i = 0; i < 256; i += 4)
		cfg[i / 4] = cfg_read(g, i, 4);
}

/* The device still works: a copy to guest memory completes with MSI-X. */
static void mig_ce_works(struct mig_dev *d)
{
	struct vgpu *g = &d->e.g;

	memset(d->e.buf + MIG_CE_LEN, 0, MIG_CE_LEN);
	ce_kick(g, IOVA_BASE + MIG_CE_LEN, MIG_CE_VRAM, MIG_CE_LEN, true);
	ce_expect(g, false, 0);
	ASSERT_CMP(first_mismatch(d->e.buf + MIG_CE_LEN, MIG_CE_LEN, 0xc0ffee),
		   ==, (size_t)-1);
}

/* Save on A (with a copy in flight at STOP), resume on B of the same type. */
static void t_mig_move(void)
{
	static struct mig_dev a, b;
	uint32_t cfg_a[64];
	volatile uint32_t *vr;
	uint8_t *s;
	size_t len;

	mig_dev_setup(&a, "16m");
	mig_dev_setup(&b, "16m");
	mig_program(&a);
	/* a slow copy still running when the VMM stops the vGPU */
	param_write("ce_delay_us", "5000");
	ce_kick(&a.e.g, IOVA_BASE, MIG_CE_VRAM, MIG_CE_LEN, false);
	ASSERT(ce_status(&a.e.g) & VGPU_SIM_CE_STATUS_BUSY);
	mig_set(&a.e.g, VFIO_DEVICE_STATE_RUNNING_P2P);
	mig_set(&a.e.g, VFIO_DEVICE_STATE_STOP);
	param_write("ce_delay_us", "0");
	/* stopped: trapped BAR accesses refused, VRAM mapping gone */
	{
		uint32_t v;

		ASSERT_ERRNO(pread(a.e.g.dev, &v, 4, a.e.g.reg[BAR2].info.offset +
				   VGPU_SIM_CE_STATUS), EIO);
		ASSERT_ERRNO(pwrite(a.e.g.dev, &v, 4, a.e.g.reg[BAR2].info.offset +
				    VGPU_SIM_CE_DOORBELL), EIO);
	}
	vr = a.vram;
	ASSERT(store_faults(vr + 8, 1));
	/* config space still answers (the VMM saves and restores it) */
	ASSERT_CMP(cfg_read(&a.e.g, PCI_VENDOR_ID, 2), ==, VGPU_SIM_PCI_VENDOR);
	cfg_snapshot(&a.e.g, cfg_a);
	s = mig_save(&a.e.g, MIG_TYPE, &len);

	/* B: the VMM's order: resume, then set up interrupts again */
	ASSERT_CMP(mig_load(&b.e.g, s, len), ==, 0);
	mig_set(&b.e.g, VFIO_DEVICE_STATE_RUNNING);
	mig_verify(&b, &a.e.g, (const uint8_t *)cfg_a, 2);
	ASSERT(irq_set_eventfds(&b.e.g, VFIO_PCI_MSIX_IRQ_INDEX, 2) == 0);
	bar_write(&b.e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4, ~0u);
	mig_ce_works(&b);
	free(s);
	ce_teardown(&b.e);
	ce_teardown(&a.e);
}

/* Aborted migration: the source goes back to RUNNING, intact. */
static void t_mig_abort(void)
{
	static struct mig_dev a;
	uint32_t cfg_a[64];
	uint8_t part[4096];
	int fd;

	mig_dev_setup(&a, "16m");
	mig_program(&a);
	bar_write(&a.e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4, ~0u);
	cfg_snapshot(&a.e.g, cfg_a);
	fd = mig_set(&a.e.g, VFIO_DEVICE_STATE_STOP_COPY);
	ASSERT_CMP(read(fd, part, sizeof(part)), ==, sizeof(part));
	mig_set(&a.e.g, VFIO_DEVICE_STATE_STOP);
	ASSERT_ERRNO(read(fd, part, 1), ENODEV);
	close(fd);
	mig_set(&a.e.g, VFIO_DEVICE_STATE_RUNNING);
	mig_verify(&a, NULL, (const uint8_t *)cfg_a, 1);
	/* the mapping faults in again and takes writes */
	ASSERT(!store_faults(a.vram + 8, MIG_SEED ^ (uint32_t)(8 * 2654435761u)));
	mig_ce_works(&a);
	/* straight from STOP_COPY to RUNNING too */
	fd = mig_set(&a.e.g, VFIO_DEVICE_STATE_STOP_COPY);
	mig_set(&a.e.g, VFIO_DEVICE_STATE_RUNNING);
	close(fd);
	mig_ce_works(&a);
	ce_teardown(&a.e);
}

static unsigned int klog_refused(const char *what)
{
	char needle[128];

	snprintf(needle, sizeof(needle), "migration stream refused: %s\n", what);
	return klog_count(needle);
}

/* After a refusal: still RESUMING, nothing of the state applied; reset. */
static void mig_refused_reset(struct mig_dev *d, bool vram_blank)
{
	struct vgpu *g = &d->e.g;

	ASSERT_CMP(mig_get(g), ==, VFIO_DEVICE_STATE_RESUMING);
	mig_reset(g);
	/* reset cleared the command register: decode on again */
	cfg_write(g, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (vram_blank)
		ASSERT(all_zero(d->vram, d->vram_len));
	ASSERT_CMP(dispi_rd(g, VGPU_SIM_DISPI_XRES), ==, 0);
}

/*
 * A refused stream applies no device state; the vGPU resets and works.
 * VRAM pages that came before the fault were applied (the stream goes in
 * as it arrives); @vram_blank: the fault came before any.
 */
static void mig_refused_vram(struct mig_dev *d, const uint8_t *s, size_t len,
			     int want, const char *why, bool vram_blank)
{
	struct vgpu *g = &d->e.g;
	unsigned int before = klog_refused(why);
	int ret;

	ret = mig_load(g, s, len);
	if (ret != want)
		st_diag("case '%s': got %d", why, ret);
	ASSERT_CMP(ret, ==, want);
	if (want == -EINVAL)
		ASSERT_CMP(klog_refused(why), ==, before + 1);
	mig_refused_reset(d, vram_blank);
}

static void mig_refused(struct mig_dev *d, const uint8_t *s, size_t len,
			int want, const char *why)
{
	mig_refused_vram(d, s, len, want, why, true);
}

/* Refused by the write() of the stream itself (at END), nothing applied. */
static void mig_refused_write(struct mig_dev *d, const uint8_t *s, size_t len,
			      const char *why)
{
	struct vgpu *g = &d->e.g;
	unsigned int before = klog_refused(why);
	int fd = mig_set(g, VFIO_DEVICE_STATE_RESUMING);

	ASSERT_CMP(write_stream(fd, s, len), ==, -EINVAL);
	close(fd);
	ASSERT_CMP(klog_refused(why), ==, before + 1);
	mig_refused_reset(d, false);
}

static void t_mig_refuse(void)
{
	static struct mig_dev a, b, other;
	struct vgpu_mig_header *h;
	struct vgpu_mig_section *sec;
	uint8_t *s, *bad;
	size_t len;
	int fd, nfd;

	mig_dev_setup(&a, "16m");
	mig_dev_setup(&b, "16m");
	mig_program(&a);
	mig_set(&a.e.g, VFIO_DEVICE_STATE_STOP);
	s = mig_save(&a.e.g, MIG_TYPE, &len);
	mig_set(&a.e.g, VFIO_DEVICE_STATE_RUNNING);
	bad = malloc(len + 4096);
	ASSERT(bad);
	h = (struct vgpu_mig_header *)bad;

	/* another type: a 32m vGPU refuses a 16m stream */
	mig_dev_setup(&other, "32m");
	mig_refused(&other, s, len, -EINVAL, "other vGPU type");
	ce_teardown(&other.e);

	/* every section in its place: all of VRAM, then the device state */
	ASSERT(stream_section(s, len, VGPU_MIG_SEC_VRAM, 0));
	ASSERT(stream_section(s, len, VGPU_MIG_SEC_CONFIG, 0));
	ASSERT(stream_section(s, len, VGPU_MIG_SEC_MSIX, 0));
	ASSERT(stream_section(s, len, VGPU_MIG_SEC_IRQ, 0));
	{
		bool end;

		ASSERT_CMP(stream_vram_pages(s, sizeof(*h), len, &end), ==,
			   a.vram_len / 4096);
		ASSERT(end);
	}

	/* refused before any VRAM: the destination's VRAM stays blank */
	/* the header: each check, with its crc right unless it is the crc */
	memcpy(bad, s, len);
	h->state_version ^= 4;
	mig_refused(&b, bad, len, -EINVAL, "header checksum mismatch");
	memcpy(bad, s, len);
	strcpy(h->driver, "vgpu_other");
	fix_header_crc(bad);
	mig_refused(&b, bad, len, -EINVAL, "other vendor driver");
	memcpy(bad, s, len);
	h->reserved[3] = 1;
	fix_header_crc(bad);
	mig_refused(&b, bad, len, -EINVAL, "reserved header bytes set");
	memcpy(bad, s, len);
	h->magic ^= 1;
	mig_refused(&b, bad, len, -EINVAL, "bad magic");
	memcpy(bad, s, len);
	h->version = 1;		/* the format before VRAM streaming */
	fix_header_crc(bad);
	mig_refused(&b, bad, len, -EINVAL, "unsupported format version");
	memcpy(bad, s, len);
	h->subsystem_device ^= 1;
	fix_header_crc(bad);
	mig_refused(&b, bad, len, -EINVAL, "other PCI device");
	memcpy(bad, s, len);
	h->vram_size += 4096;
	fix_header_crc(bad);
	mig_refused(&b, bad, len, -EINVAL, "other VRAM size");
	mig_refused(&b, s, 64, -EINVAL, "truncated stream");
	/* VRAM beyond the vGPU's, crc right */
	memcpy(bad, s, len);
	sec = stream_section(bad, len, VGPU_MIG_SEC_VRAM, 0);
	((struct vgpu_mig_vram *)(sec + 1))->offset = 16 * MiB;
	fix_vram_crc(sec);
	fix_end(bad, len);
	mig_refused(&b, bad, len, -EINVAL, "VRAM outside the vGPU's");
	/* a VRAM section larger than any source sends */
	memcpy(bad, s, len);
	sec = stream_section(bad, len, VGPU_MIG_SEC_VRAM, 0);
	sec->len = 1ull << 30;
	mig_refused(&b, bad, len, -EFBIG, "oversized section");
	/*
	 * Refused after VRAM sections went in (they stay; reset resumes
	 * again): the device state is never applied.
	 */
	/* a bit flips in VRAM: that section is refused, none after it */
	memcpy(bad, s, len);
	bad[len / 2] ^= 0x40;
	mig_refused_vram(&b, bad, len, -EINVAL, "VRAM checksum mismatch",
			 false);
	/* a bit flips in the device state: END's crc catches it */
	memcpy(bad, s, len);
	sec = stream_section(bad, len, VGPU_MIG_SEC_CONFIG, 0);
	((uint8_t *)(sec + 1))[PCI_INTERRUPT_LINE] ^= 1;
	mig_refused_vram(&b, bad, len, -EINVAL,
			 "stream length or checksum mismatch", false);
	/*
	 * A core state section that is wrong, crcs right: refused by the
	 * write of END itself, where a VMM can still fail its load.
	 */
	memcpy(bad, s, len);
	((struct vgpu_mig_irq *)(stream_section(bad, len, VGPU_MIG_SEC_IRQ, 0) + 1))
		->intx_pending = 2;
	fix_end(bad, len);
	mig_refused_write(&b, bad, len, "bad interrupt state");
	/* a vendor blob the sim refuses (XRES beyond the maximum), crcs right */
	memcpy(bad, s, len);
	{
		uint8_t *v = (uint8_t *)(stream_section(bad, len,
						VGPU_MIG_SEC_VENDOR, 0) + 1);

		/* struct vsim_state: dispi[] after 8 + 8 + 12 * 4 bytes */
		ASSERT_CMP(v[64 + 2 * VGPU_SIM_DISPI_XRES] |
			   v[65 + 2 * VGPU_SIM_DISPI_XRES] << 8, ==, 1024);
		v[64 + 2 * VGPU_SIM_DISPI_XRES] = 0xff;
		v[65 + 2 * VGPU_SIM_DISPI_XRES] = 0xff;
	}
	fix_end(bad, len);
	mig_refused_write(&b, bad, len, "vendor state (-22)");
	/* a section out of its place */
	memcpy(bad, s, len);
	stream_section(bad, len, VGPU_MIG_SEC_MSIX, 0)->id = VGPU_MIG_SEC_IRQ;
	mig_refused_vram(&b, bad, len, -EINVAL, "unexpected section", false);
	/* short: no END */
	mig_refused_vram(&b, s, len - 100, -EINVAL, "truncated stream", false);
	/* longer: bytes after END */
	memcpy(bad, s, len);
	memset(bad + len, 0, 8);
	mig_refused_vram(&b, bad, len + 8, -EINVAL,
			 "trailing bytes after the stream", false);

	/* a short stream completed by a second write loads */
	fd = mig_set(&b.e.g, VFIO_DEVICE_STATE_RESUMING);
	ASSERT(write_stream(fd, s, len - 100) == 0);
	ASSERT_CMP(mig_try(&b.e.g, VFIO_DEVICE_STATE_STOP, &nfd), ==, -EINVAL);
	ASSERT(write_stream(fd, s + len - 100, 100) == 0);
	mig_set(&b.e.g, VFIO_DEVICE_STATE_RUNNING);
	close(fd);
	ASSERT(irq_set_eventfds(&b.e.g, VFIO_PCI_MSIX_IRQ_INDEX, 2) == 0);
	mig_verify(&b, NULL, NULL, 1);
	bar_write(&b.e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4, ~0u);
	mig_ce_works(&b);
	free(bad);
	free(s);
	ce_teardown(&b.e);
	ce_teardown(&a.e);
}

/* ---- PRE_COPY (6.2+): VRAM in passes, dirty tracking ----------------- */

struct sbuf {
	uint8_t *p;
	size_t n, cap;
};

/* Appends what the fd has now: true at EOF, false at ENOMSG (PRE_COPY). */
static bool read_avail(int fd, struct sbuf *b)
{
	ssize_t r;

	for (;;) {
		if (b->cap - b->n < 300000) {
			b->cap = b->cap ? b->cap * 2 : 1 << 20;
			b->p = realloc(b->p, b->cap);
			ASSERT(b->p);
		}
		r = read(fd, b->p + b->n, 300000);
		if (r < 0) {
			ASSERT_CMP(errno, ==, ENOMSG);
			return false;
		}
		if (!r)
			return true;
		b->n += r;
	}
}

static int precopy_info(int fd, uint64_t *init, uint64_t *dirty)
{
	struct mig_precopy_info i = { .argsz = sizeof(i) };

	if (ioctl(fd, MIG_GET_PRECOPY_INFO, &i))
		return -errno;
	*init = i.initial_bytes;
	*dirty = i.dirty_bytes;
	return 0;
}

static uint64_t mig_data_size(struct vgpu *g)
{
	uint64_t ds[2] = { 0 };	/* struct vfio_device_feature_mig_data_size */

	ASSERT(mig_feature(g, VFIO_DEVICE_FEATURE_GET | 9 /* MIG_DATA_SIZE */,
			   ds, 8) == 0);
	return ds[0];
}

/* VRAM of @d, hashed (FNV-1a over 64-bit words) */
static uint64_t vram_hash(struct mig_dev *d)
{
	const volatile uint64_t *w = (const volatile uint64_t *)d->vram;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < d->vram_len / 8; i++)
		h = (h ^ w[i]) * 0x100000001b3ull;
	return h;
}

#define PG 4096u

/*
 * The source keeps running in PRE_COPY; the first pass carries all VRAM,
 * the next only the pages written through the mapping (a fresh write fault
 * and a write to a read-only PTE), by the copy engine and by pwrite();
 * STOP_COPY carries only the last writes and the device state; the
 * destination ends with the source's VRAM and registers.
 */
static void t_mig_precopy(void)
{
	static struct mig_dev a, b;
	struct sbuf st = { 0 };
	uint64_t init = 0, dirty = 0, full, state_rec;
	size_t pass0, pass1, stop_from, pages;
	volatile uint32_t sink;
	uint32_t cfg_a[64];
	bool end;
	int fd;

	if (!kernel_precopy()) {
		st_skip("PRE_COPY needs Linux 6.2+; 6.1 migrates with STOP_COPY only");
		return;
	}
	mig_dev_setup(&a, "16m");
	mig_dev_setup(&b, "16m");
	mig_program(&a);
	bar_write(&a.e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4, ~0u);
	ASSERT(mig_flags(&a.e.g) & MIG_FLAG_PRE_COPY);
	/* what STOP_COPY alone would send: header, all VRAM, state, END */
	full = mig_data_size(&a.e.g);
	state_rec = full - sizeof(struct vgpu_mig_header) - MIG_END_REC -
		    (a.vram_len / PG) * PG -
		    ((a.vram_len / PG + 63) / 64) * MIG_VRAM_HDR;

	fd = mig_set(&a.e.g, MIG_PRE_COPY);
	ASSERT(precopy_info(fd, &init, &dirty) == 0);
	/* exact: the header and every page in 64-page sections */
	ASSERT_CMP(init, ==, sizeof(struct vgpu_mig_header) + a.vram_len +
		   ((a.vram_len / PG + 63) / 64) * MIG_VRAM_HDR);
	ASSERT_CMP(dirty, ==, 0);
	/* pass 0: the header and every page, then "nothing now" */
	ASSERT(!read_avail(fd, &st));
	pass0 = st.n;
	ASSERT_CMP(stream_vram_pages(st.p, sizeof(struct vgpu_mig_header),
				     pass0, &end), ==, a.vram_len / PG);
	ASSERT(!end);
	ASSERT(precopy_info(fd, &init, &dirty) == 0);
	ASSERT_CMP(init, ==, 0);
	ASSERT_CMP(dirty, ==, 0);

	/* the guest runs on: 3 pages through the mapping */
	a.vram[1 * MiB / 4] = 0x11111111;		/* fault on a zapped PTE */
	a.vram[(1 * MiB + 3 * PG) / 4 + 5] = 0x22222222;
	sink = a.vram[2 * MiB / 4];			/* maps a read-only run */
	(void)sink;
	a.vram[(2 * MiB + 2 * PG) / 4] = 0x33333333;	/* pfn_mkwrite */
	/* 2 pages by the copy engine, 1 by pwrite() */
	fill(a.e.buf, 2 * PG, 0xabcdef);
	ce_kick(&a.e.g, IOVA_BASE, 6 * MiB, 2 * PG, false);
	ce_expect(&a.e.g, false, 0);
	bar_write(&a.e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4, ~0u);
	bar_write(&a.e.g, BAR0, 8 * MiB + 16, 4, 0x44444444);
	ASSERT(precopy_info(fd, &init, &dirty) == 0);
	ASSERT_CMP(init, ==, 0);
	ASSERT_CMP(dirty, ==, 6 * PG);
	/* pass 1: exactly those */
	ASSERT(!read_avail(fd, &st));
	pass1 = st.n - pass0;
	ASSERT_CMP(stream_vram_pages(st.p, pass0, st.n, &end), ==, 6);
	/* runs: 1 MiB, +3 pages, 2 MiB + 2 pages, 6 MiB (2 pages), 8 MiB */
	ASSERT_CMP(pass1, ==, 6 * PG + 5 * MIG_VRAM_HDR);
	ASSERT(precopy_info(fd, &init, &dirty) == 0);
	ASSERT_CMP(dirty, ==, 0);

	/* the last writes, then the VMM stops the vGPU */
	a.vram[10 * MiB / 4] = 0x55555555;
	fill(a.e.buf, PG, 0x1234);
	ce_kick(&a.e.g, IOVA_BASE, 12 * MiB, PG, false);
	ce_expect(&a.e.g, false, 0);
	bar_write(&a.e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4, ~0u);
	mig_set_nofd(&a.e.g, MIG_PRE_COPY_P2P);
	ASSERT(precopy_info(fd, &init, &dirty) == 0);
	ASSERT_CMP(dirty, ==, 2 * PG);
	cfg_snapshot(&a.e.g, cfg_a);
	mig_set_nofd(&a.e.g, VFIO_DEVICE_STATE_STOP_COPY);
	/* only in PRE_COPY states */
	ASSERT_CMP(precopy_info(fd, &init, &dirty), ==, -EINVAL);
	stop_from = st.n;
	ASSERT(read_avail(fd, &st));
	pages = stream_vram_pages(st.p, stop_from, st.n, &end);
	ASSERT(end);
	ASSERT_CMP(pages, ==, 2);
	/* STOP_COPY: the 2 pages written since the last pass and the state */
	ASSERT_CMP(st.n - stop_from, ==,
		   2 * (PG + MIG_VRAM_HDR) + state_rec + MIG_END_REC);
	st_diag("STOP_COPY bytes: %zu with PRE_COPY, %llu without",
		st.n - stop_from, (unsigned long long)full);
	mig_set(&a.e.g, VFIO_DEVICE_STATE_STOP);
	close(fd);

	/* B takes the whole stream, passes and all */
	ASSERT_CMP(mig_load(&b.e.g, st.p, st.n), ==, 0);
	mig_set(&b.e.g, VFIO_DEVICE_STATE_RUNNING);
	/* the source resumes too (a VMM may, after a failed switch-over) */
	mig_set(&a.e.g, VFIO_DEVICE_STATE_RUNNING);
	ASSERT_CMP(vram_hash(&b), ==, vram_hash(&a));
	ASSERT_CMP(b.vram[(2 * MiB + 2 * PG) / 4], ==, 0x33333333);
	ASSERT_CMP(b.vram[10 * MiB / 4], ==, 0x55555555);
	ASSERT_CMP(first_mismatch((uint8_t *)b.vram + 12 * MiB, PG, 0x1234),
		   ==, (size_t)-1);
	ASSERT_CMP(dispi_rd(&b.e.g, VGPU_SIM_DISPI_XRES), ==, 1024);
	ASSERT_CMP(bar_read(&b.e.g, BAR2, VGPU_SIM_CE_DONE_COUNT, 4), ==, 3);
	{
		unsigned int i;

		for (i = 0; i < 256; i += 4)
			ASSERT_CMP(cfg_read(&b.e.g, i, 4), ==, cfg_a[i / 4]);
	}
	ASSERT(irq_set_eventfds(&b.e.g, VFIO_PCI_MSIX_IRQ_INDEX, 2) == 0);
	memset(b.e.buf + MIG_CE_LEN, 0, PG);
	ce_kick(&b.e.g, IOVA_BASE + MIG_CE_LEN, 12 * MiB, PG, true);
	ce_expect(&b.e.g, false, 0);
	ASSERT_CMP(first_mismatch(b.e.buf + MIG_CE_LEN, PG, 0x1234), ==,
		   (size_t)-1);
	free(st.p);
	ce_teardown(&b.e);
	ce_teardown(&a.e);
}

/* Leaving PRE_COPY for RUNNING, reset, and a failed switch-over. */
static void t_mig_precopy_abort(void)
{
	static struct mig_dev a;
	struct sbuf st = { 0 };
	uint64_t init = 0, dirty = 0;
	uint32_t cfg_a[64];
	uint8_t part[4096];
	char c;
	int fd;

	if (!kernel_precopy()) {
		st_skip("PRE_COPY needs Linux 6.2+; 6.1 migrates with STOP_COPY only");
		return;
	}
	mig_dev_setup(&a, "16m");
	mig_program(&a);
	bar_write(&a.e.g, BAR2, VGPU_SIM_REG_IRQ_STATUS, 4, ~0u);
	cfg_snapshot(&a.e.g, cfg_a);

	/* PRE_COPY -> PRE_COPY_P2P -> PRE_COPY -> RUNNING: the fd ends */
	fd = mig_set(&a.e.g, MIG_PRE_COPY);
	ASSERT_CMP(read(fd, part, sizeof(part)), ==, sizeof(part));
	mig_set_nofd(&a.e.g, MIG_PRE_COPY_P2P);
	mig_set_nofd(&a.e.g, MIG_PRE_COPY);
	ASSERT_ERRNO(write(fd, &c, 1), EBADF);
	mig_set(&a.e.g, VFIO_DEVICE_STATE_RUNNING);
	ASSERT_ERRNO(read(fd, part, 1), ENODEV);
	ASSERT_CMP(precopy_info(fd, &init, &dirty), ==, -EINVAL);
	close(fd);
	mig_verify(&a, NULL, (const uint8_t *)cfg_a, 1);
	ASSERT(!store_faults(a.vram + 8, MIG_SEED ^ (uint32_t)(8 * 2654435761u)));
	mig_ce_works(&a);

	/* PRE_COPY_P2P -> RUNNING_P2P -> RUNNING */
	fd = mig_set(&a.e.g, MIG_PRE_COPY);
	mig_set_nofd(&a.e.g, MIG_PRE_COPY_P2P);
	mig_set(&a.e.g, VFIO_DEVICE_STATE_RUNNING_P2P);
	ASSERT_ERRNO(read(fd, part, 1), ENODEV);
	close(fd);
	mig_set(&a.e.g, VFIO_DEVICE_STATE_RUNNING);
	mig_ce_works(&a);

	/* straight to STOP_COPY (through PRE_COPY_P2P), then the source resumes */
	fd = mig_set(&a.e.g, MIG_PRE_COPY);
	mig_set_nofd(&a.e.g, VFIO_DEVICE_STATE_STOP_COPY);
	ASSERT(read_avail(fd, &st));
	mig_set(&a.e.g, VFIO_DEVICE_STATE_STOP);
	ASSERT_ERRNO(read(fd, part, 1), ENODEV);
	close(fd);
	mig_set(&a.e.g, VFIO_DEVICE_STATE_RUNNING);
	mig_verify(&a, NULL, (const uint8_t *)cfg_a, 3);
	mig_ce_works(&a);

	/* a reset in PRE_COPY ends it; tracking off, writes keep working */
	fd = mig_set(&a.e.g, MIG_PRE_COPY);
	mig_reset(&a.e.g);
	ASSERT_ERRNO(read(fd, part, 1), ENODEV);
	close(fd);
	cfg_write(&a.e.g, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	ASSERT(!store_faults(a.vram + 8, 7));
	ASSERT_CMP(a.vram[8], ==, 7);
	free(st.p);
	ce_teardown(&a.e);
}

/* ---- runner ----------------------------------------------------------- */

struct st_case {
	const char *name;
	void (*fn)(void);
};

static const struct st_case cases[] = {
	{ "bind", t_bind },
	{ "bind-other", t_bind_other },
	{ "types", t_types },
	{ "capacity", t_capacity },
	{ "concurrent-create", t_concurrent_create },
	{ "device-info", t_device_info },
	{ "irq-info", t_irq_info },
	{ "vram-mmap", t_vram_mmap },
	{ "vram-huge", t_vram_huge },
	{ "mailbox", t_mailbox },
	{ "dispi", t_dispi },
	{ "attrs", t_attrs },
	{ "ce-copy", t_ce_copy },
	{ "ce-errors", t_ce_errors },
	{ "parent-reset", t_parent_reset },
	{ "ce-busy-unmap", t_ce_busy_and_unmap },
	{ "ce-abort", t_ce_abort },
	{ "iommufd", t_iommufd },
	{ "iommufd-ce-copy", t_iommufd_ce_copy },
	{ "iommufd-ce-unmap", t_iommufd_ce_unmap },
	{ "msi-intx", t_msi_intx },
	{ "isolation", t_isolation },
	{ "scrub", t_scrub },
	{ "scrub-unopened", t_scrub_unopened },
	{ "plane", t_plane },
	{ "plane-dmabuf", t_plane_dmabuf },
	{ "plane-dmabuf-import", t_plane_dmabuf_import },
	{ "isolation-attack", t_isolation_attack },
	{ "mig-fsm", t_mig_fsm },
	{ "mig-move", t_mig_move },
	{ "mig-abort", t_mig_abort },
	{ "mig-refuse", t_mig_refuse },
	{ "mig-precopy", t_mig_precopy },
	{ "mig-precopy-abort", t_mig_precopy_abort },
	{ "stress", t_stress },
	{ "unbind", t_unbind },
	{ "module", t_module },
	{ "dmesg", t_dmesg },
};

static bool selected(int argc, char **argv, const char *name)
{
	int i;

	if (argc < 2)
		return true;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

/* sim-test [CASE...]: all cases, or the named ones ("bind" always runs) */
int main(int argc, char **argv)
{
	unsigned int n = sizeof(cases) / sizeof(cases[0]), planned = 0;
	/* kept across longjmp() */
	volatile unsigned int i, num = 0;
	volatile int failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	st_kmsg = kmsg_open_at_end();
	st_gpu = getenv("LAB_GPU");
	if (!st_gpu || !*st_gpu) {
		printf("1..0 # SKIP no physical GPU in this lab (LAB_GPU empty)\n");
		return 4;
	}
	for (i = 0; i < n; i++)
		planned += i == 0 || selected(argc, argv, cases[i].name);
	printf("1..%u\n", planned);
	for (i = 0; i < n; i++) {
		if (i && !selected(argc, argv, cases[i].name))
			continue;
		num++;
		st_current = cases[i].name;
		st_skipped = NULL;
		st_use_iommufd = false;
		if (!setjmp(st_fail_jmp)) {
			cases[i].fn();
			if (st_skipped)
				printf("ok %u - %s # SKIP %s\n", num, cases[i].name, st_skipped);
			else
				printf("ok %u - %s\n", num, cases[i].name);
		} else {
			printf("not ok %u - %s\n", num, cases[i].name);
			failed++;
			/* nothing else means anything without the GPU bound */
			if (i == 0) {
				for (i++; i < n; i++)
					if (selected(argc, argv, cases[i].name))
						printf("not ok %u - %s # not run: bind failed\n",
						       ++num, cases[i].name);
				break;
			}
		}
		vgpu_cleanup_all();
	}
	return failed ? 1 : 0;
}
