// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Type1 and PFN maps (issue 13): a VMM puts a vGPU and an IOMMU-backed device
 * in one type1 container and DMA-maps the vGPU's VRAM mmap. If type1 accepts
 * that, the IOMMU maps the VRAM slice and never learns when the vGPU goes:
 * the device can then read whatever the slice's next tenant writes.
 *
 * Runs in the lab with --viommu: QEMU's "edu" device on vfio-pci behind an
 * emulated Intel IOMMU plays the physical device. Its DMA engine copies
 * between a 4 KiB buffer at 0x40000 in its own address space and a bus
 * address (here an IOVA). The test passes only if MAP_DMA of the VRAM mmap
 * is refused; where it is accepted it goes on to show the leak and fails.
 *
 *   type1-pfnmap          (TAP; LAB_GPU names the GPU for vgpu_sim)
 */
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "simtest.h"

#define EDU_BUF		0x40000		/* the DMA buffer in edu's address space */
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_DMA_RUN	0x1
#define EDU_DMA_TO_PCI	0x2		/* buffer -> bus address; else bus -> buffer */

/* edu masks DMA addresses to 28 bits: every IOVA stays below 256 MiB */
#define IOVA_SRC	0x100000ULL
#define IOVA_DST	0x200000ULL
#define IOVA_VRAM	0x1000000ULL
#define VRAM_MAP	0x10000ULL

struct edu {
	char addr[32];
	int group, dev;
	volatile uint8_t *bar;
	uint64_t cfg_off;
};

static int container = -1;
static struct edu edu = { .group = -1, .dev = -1 };

static void bind_driver(const char *addr, const char *driver)
{
	char p[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver_override", addr);
	ASSERT(sysfs_write(p, driver) == 0);
	ASSERT(sysfs_write("/sys/bus/pci/drivers_probe", addr) == 0);
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", addr);
	n = readlink(p, link, sizeof(link) - 1);
	ASSERT(n > 0);
	link[n] = 0;
	ASSERT(strcmp(basename(link), driver) == 0);
}

/* the edu device: 1234:11e8 */
static void find_edu(void)
{
	char p[PATH_MAX + 64], v[16], d[16];
	struct dirent *e;
	DIR *dir = opendir("/sys/bus/pci/devices");

	ASSERT(dir);
	edu.addr[0] = 0;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/vendor", e->d_name);
		if (sysfs_read_str(p, v, sizeof(v)))
			continue;
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/device", e->d_name);
		if (sysfs_read_str(p, d, sizeof(d)))
			continue;
		if (!strcmp(v, "0x1234") && !strcmp(d, "0x11e8") &&
		    strlen(e->d_name) < sizeof(edu.addr))
			strcpy(edu.addr, e->d_name);
	}
	closedir(dir);
}

static void t_setup(void)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	struct vfio_region_info bar = { .argsz = sizeof(bar), .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct vfio_region_info cfg = { .argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX };
	char p[PATH_MAX], link[PATH_MAX], dev[64];
	uint16_t cmd;
	ssize_t n;

	find_edu();
	if (!edu.addr[0])
		st_fail(__FILE__, __LINE__, "no edu device (1234:11e8): run the lab with --viommu");
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/iommu_group", edu.addr);
	if (access(p, F_OK))
		st_fail(__FILE__, __LINE__, "%s has no IOMMU group: is intel_iommu=on?", edu.addr);
	ASSERT(system("modprobe vfio-pci") == 0);
	bind_driver(edu.addr, "vfio-pci");
	bind_driver(st_gpu, "vgpu_sim");

	n = readlink(p, link, sizeof(link) - 1);
	ASSERT(n > 0);
	link[n] = 0;
	snprintf(dev, sizeof(dev), "/dev/vfio/%s", basename(link));
	container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT(container >= 0);
	edu.group = open(dev, O_RDWR);
	ASSERT(edu.group >= 0);
	ASSERT(ioctl(edu.group, VFIO_GROUP_GET_STATUS, &st) == 0);
	ASSERT(st.flags & VFIO_GROUP_FLAGS_VIABLE);
	ASSERT(ioctl(edu.group, VFIO_GROUP_SET_CONTAINER, &container) == 0);
	ASSERT(ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) == 0);
	edu.dev = ioctl(edu.group, VFIO_GROUP_GET_DEVICE_FD, edu.addr);
	ASSERT(edu.dev >= 0);
	ASSERT(ioctl(edu.dev, VFIO_DEVICE_GET_REGION_INFO, &bar) == 0);
	ASSERT(bar.flags & VFIO_REGION_INFO_FLAG_MMAP);
	ASSERT(ioctl(edu.dev, VFIO_DEVICE_GET_REGION_INFO, &cfg) == 0);
	edu.cfg_off = cfg.offset;
	/* memory decode and bus mastering, as a guest driver would */
	ASSERT_CMP(pread(edu.dev, &cmd, 2, edu.cfg_off + 4), ==, 2);
	cmd |= 0x6;
	ASSERT_CMP(pwrite(edu.dev, &cmd, 2, edu.cfg_off + 4), ==, 2);
	edu.bar = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, edu.dev, bar.offset);
	ASSERT(edu.bar != MAP_FAILED);
}

static void edu_w32(unsigned int reg, uint32_t v)
{
	*(volatile uint32_t *)(edu.bar + reg) = v;
}

static uint32_t edu_r32(unsigned int reg)
{
	return *(volatile uint32_t *)(edu.bar + reg);
}

/* one DMA of @len bytes between edu's buffer and @iova */
static void edu_dma(uint64_t iova, uint32_t len, bool to_pci)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	/* QEMU's range check wants the end inside the buffer: at most 4095 bytes */
	ASSERT_CMP(len, <, 4096);
	edu_w32(to_pci ? EDU_DMA_SRC : EDU_DMA_DST, EDU_BUF);
	edu_w32(to_pci ? EDU_DMA_DST : EDU_DMA_SRC, (uint32_t)iova);
	edu_w32(EDU_DMA_CNT, len);
	edu_w32(EDU_DMA_CMD, EDU_DMA_RUN | (to_pci ? EDU_DMA_TO_PCI : 0));
	for (i = 0; i < 1000 && (edu_r32(EDU_DMA_CMD) & EDU_DMA_RUN); i++)
		nanosleep(&ts, NULL);
	ASSERT_CMP(edu_r32(EDU_DMA_CMD) & EDU_DMA_RUN, ==, 0);
}

static uint8_t *src, *dst;

/* the DMA path works at all: RAM -> edu -> RAM through the vIOMMU */
static void t_edu_dma(void)
{
	unsigned int i;

	src = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dst = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT(src != MAP_FAILED && dst != MAP_FAILED);
	for (i = 0; i < 4096; i++)
		src[i] = (uint8_t)(i * 7 + 1);
	ASSERT_CMP(container_dma_map(container, src, IOVA_SRC, 4096), ==, 0);
	ASSERT_CMP(container_dma_map(container, dst, IOVA_DST, 4096), ==, 0);
	edu_dma(IOVA_SRC, 2048, false);
	edu_dma(IOVA_DST, 2048, true);
	ASSERT(memcmp(src, dst, 2048) == 0);
}

static const char secret[] = "vGPU B's secret: 7f3a9c2e41d8b605";

/*
 * vGPU A's user maps A's VRAM into the shared container: it must be refused.
 * If it is not, A is removed, B gets the slice and writes a secret, and edu
 * reads it through the stale IOMMU mapping.
 */
static void t_vram_map_dma(void)
{
	static struct vgpu a, b;
	uint8_t *va, *vb;
	int ret;

	ASSERT(vgpu_create(&a, "16m") == 0);
	vgpu_open_in(&a, container);
	va = vram_map(&a);
	ASSERT_CMP(a.vram_len, >=, VRAM_MAP);
	memset(va, 0xa5, VRAM_MAP);	/* mapped, accessible to A's user */
	ret = container_dma_map(container, va, IOVA_VRAM, VRAM_MAP);
	if (ret) {
		st_diag("MAP_DMA of vGPU A's VRAM mmap refused: %s", strerror(-ret));
		ASSERT_CMP(ret, ==, -EFAULT);
		ASSERT_CMP(va[0], ==, 0xa5);	/* the CPU mapping still works */
		return;
	}
	st_diag("MAP_DMA of vGPU A's VRAM mmap accepted at IOVA %#llx",
		(unsigned long long)IOVA_VRAM);
	vgpu_remove(&a);
	ASSERT(vgpu_create(&b, "16m") == 0);
	vgpu_open(&b);
	vb = vram_map(&b);
	memcpy(vb, secret, sizeof(secret));
	memset(dst, 0, 4096);
	edu_dma(IOVA_VRAM, sizeof(secret), false);
	edu_dma(IOVA_DST, sizeof(secret), true);
	if (!memcmp(dst, secret, sizeof(secret)))
		st_fail(__FILE__, __LINE__,
			"LEAK: after vGPU A's removal, edu read \"%s\" written by vGPU B", dst);
	st_fail(__FILE__, __LINE__, "MAP_DMA accepted (no leak seen: first byte %#x)", dst[0]);
}

struct st_case {
	const char *name;
	void (*fn)(void);
};

static const struct st_case cases[] = {
	{ "setup", t_setup },
	{ "edu-dma", t_edu_dma },
	{ "vram-map-dma", t_vram_map_dma },
};

int main(void)
{
	unsigned int n = sizeof(cases) / sizeof(cases[0]);
	volatile unsigned int i;
	volatile int failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	st_gpu = getenv("LAB_GPU");
	if (!st_gpu || !*st_gpu) {
		printf("1..0 # SKIP no physical GPU in this lab (LAB_GPU empty)\n");
		return 4;
	}
	printf("1..%u\n", n);
	for (i = 0; i < n; i++) {
		st_current = cases[i].name;
		if (!setjmp(st_fail_jmp)) {
			cases[i].fn();
			printf("ok %u - %s\n", i + 1, cases[i].name);
		} else {
			printf("not ok %u - %s\n", i + 1, cases[i].name);
			failed++;
			/* each case needs the one before */
			for (i++; i < n; i++)
				printf("not ok %u - %s # not run\n", i + 1, cases[i].name);
			break;
		}
		vgpu_cleanup_all();
	}
	vgpu_cleanup_all();
	return failed ? 1 : 0;
}
