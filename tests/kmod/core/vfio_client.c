// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vgpu-core-test: drives the vgpu core and vgpu_vfio through the real uAPI
 * (mdev sysfs, VFIO container/group/device) on vGPUs of the vgpu_test vendor
 * module, inside the lab. TAP output; every check is fail-fast within its
 * test and prints the expression, the values and errno.
 *
 *   vgpu-core-test --module PATH/vgpu_test.ko [--group vfio|lifecycle|all]
 *   vgpu-core-test --module PATH/vgpu_test.ko --group vfio --iommufd
 *   vgpu-core-test --module PATH/vgpu_test.ko --group huge --huge-base ADDR
 *
 * --iommufd opens every device through its VFIO cdev bound to an iommufd IOAS
 * instead of a type1 container (kernels with CONFIG_IOMMUFD and
 * CONFIG_VFIO_DEVICE_CDEV: the lab's debug kernels).
 *
 * Exit status: 0 all passed, 1 a test failed, 4 cannot run here (skip).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "vgpu_test_regs.h"
#include "../harness/importer/dmabuf_import.h"
#include "../harness/kmsg.h"
#include "../harness/vfio-cdev.h"

#define PARENT		"/sys/devices/platform/vgpu_test.0"
#define TYPES		PARENT "/mdev_supported_types"
#define SMALL		TYPES "/vgpu_test-small"
#define BIG		TYPES "/vgpu_test-big"
#define MDEV_DEVS	"/sys/bus/mdev/devices"
#define DRIVER		"/sys/bus/platform/drivers/vgpu_test"
#define ROOM		"/sys/module/vgpu_test/parameters/room"
#define IOVA		0x100000ULL
#define DMA_SIZE	0x10000ULL
#define DRM_FORMAT_XRGB8888_ 0x34325258	/* fourcc 'XR24' */

static int tap_n, tap_failed;
static bool use_iommufd;	/* --iommufd: cdev + IOAS instead of type1 */
static void *volatile bad_ptr = (void *)8;	/* an unmapped user address */
static const char *module_path;

static void diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
}

#define FAIL(fmt, ...) do {						\
	diag("%s:%d: " fmt " (errno %d: %s)", __FILE__, __LINE__,	\
	     ##__VA_ARGS__, errno, strerror(errno));			\
	return -1;							\
} while (0)

#define CHECK(cond) do {						\
	if (!(cond))							\
		FAIL("CHECK(%s) failed", #cond);			\
} while (0)

#define CHECK_EQ(a, b) do {						\
	unsigned long long _a = (unsigned long long)(a);		\
	unsigned long long _b = (unsigned long long)(b);		\
	if (_a != _b)							\
		FAIL("CHECK_EQ(%s, %s): 0x%llx != 0x%llx", #a, #b, _a, _b); \
} while (0)

/* expr must fail with -1 and errno == err */
#define CHECK_ERRNO(expr, err) do {					\
	errno = 0;							\
	long _r = (long)(expr);						\
	if (_r != -1 || errno != (err))					\
		FAIL("CHECK_ERRNO(%s, %s): returned %ld", #expr, #err, _r); \
} while (0)

#define CHECK_OK(expr) do {						\
	errno = 0;							\
	long _r = (long)(expr);						\
	if (_r < 0)							\
		FAIL("CHECK_OK(%s): returned %ld", #expr, _r);		\
} while (0)

static void tap(int ok, const char *name)
{
	tap_n++;
	if (!ok)
		tap_failed++;
	printf("%sok %d - %s\n", ok ? "" : "not ", tap_n, name);
	fflush(stdout);
}

/* ---- sysfs ---- */

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;
	int e;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = 0;
	return 0;
}

static long read_long(const char *path)
{
	char buf[64];

	if (read_file(path, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 0);
}

static void make_uuid(char *out, unsigned int n)
{
	sprintf(out, "1c0ffee0-0000-4000-8000-%012x", n);
}

static int mdev_create(const char *type, const char *uuid)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/create", type);
	return write_file(p, uuid);
}

static int mdev_remove(const char *uuid)
{
	char p[256];

	snprintf(p, sizeof(p), MDEV_DEVS "/%s/remove", uuid);
	return write_file(p, "1");
}

static bool mdev_exists(const char *uuid)
{
	char p[256];

	snprintf(p, sizeof(p), MDEV_DEVS "/%s", uuid);
	return access(p, F_OK) == 0;
}

static long avail(const char *type)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/available_instances", type);
	return read_long(p);
}

/* ---- VFIO ---- */

struct dev {
	char uuid[40];
	int container, group, fd;
	int iommufd;		/* --iommufd: the iommufd and the IOAS */
	unsigned int ioas;
	struct vfio_device_info info;
	struct vfio_region_info reg[16];
	bool small;
};

static int group_path(const char *uuid, char *out, size_t size)
{
	char p[256], link[256];
	ssize_t n;
	char *base;

	snprintf(p, sizeof(p), MDEV_DEVS "/%s/iommu_group", uuid);
	n = readlink(p, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = 0;
	base = strrchr(link, '/');
	snprintf(out, size, "/dev/vfio/%s", base ? base + 1 : link);
	return 0;
}

/* The device's VFIO cdev, opened, bound to d->iommufd and attached to d->ioas. */
static int cdev_open_bound(struct dev *d)
{
	return vfio_cdev_open(d->uuid, d->iommufd, d->ioas);
}

static int iommufd_setup(struct dev *d)
{
	return vfio_cdev_iommufd(&d->iommufd, &d->ioas);
}

/* A new device fd for @d: from its group, or with --iommufd its bound cdev. */
static int dev_new_fd(struct dev *d)
{
	if (use_iommufd)
		return cdev_open_bound(d);
	return ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, d->uuid);
}

static int dev_open_fd(struct dev *d)
{
	unsigned int i;

	d->fd = dev_new_fd(d);
	if (d->fd < 0)
		return -1;
	d->info.argsz = sizeof(d->info);
	if (ioctl(d->fd, VFIO_DEVICE_GET_INFO, &d->info))
		return -1;
	for (i = 0; i < d->info.num_regions && i < 16; i++) {
		d->reg[i] = (struct vfio_region_info){
			.argsz = sizeof(d->reg[i]), .index = i };
		if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &d->reg[i]))
			return -1;
	}
	return 0;
}

static int dev_open(struct dev *d, const char *uuid, bool small)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char gp[300];

	memset(d, 0, sizeof(*d));
	d->container = d->group = d->fd = d->iommufd = -1;
	snprintf(d->uuid, sizeof(d->uuid), "%s", uuid);
	d->small = small;
	if (use_iommufd)
		return iommufd_setup(d) || dev_open_fd(d) ? -1 : 0;
	if (group_path(uuid, gp, sizeof(gp)))
		return -1;
	d->container = open("/dev/vfio/vfio", O_RDWR);
	if (d->container < 0)
		return -1;
	d->group = open(gp, O_RDWR);
	if (d->group < 0)
		return -1;
	if (ioctl(d->group, VFIO_GROUP_GET_STATUS, &st) ||
	    !(st.flags & VFIO_GROUP_FLAGS_VIABLE))
		return -1;
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container))
		return -1;
	if (ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -1;
	return dev_open_fd(d);
}

static void dev_close(struct dev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	if (d->group >= 0)
		close(d->group);
	if (d->container >= 0)
		close(d->container);
	if (d->iommufd >= 0)
		close(d->iommufd);
	d->fd = d->group = d->container = d->iommufd = -1;
}

/* Map @size bytes at @mem for DMA at @iova, read and write: type1 or IOAS. */
static int dma_map(struct dev *d, void *mem, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map), .vaddr = (uintptr_t)mem, .iova = iova,
		.size = size,
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE };

#ifdef VGPU_TEST_HAVE_IOMMUFD
	if (use_iommufd) {
		struct iommu_ioas_map im = {
			.size = sizeof(im), .ioas_id = d->ioas,
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA |
				 IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.user_va = (uintptr_t)mem, .length = size,
			.iova = iova };

		return ioctl(d->iommufd, IOMMU_IOAS_MAP, &im);
	}
#endif
	return ioctl(d->container, VFIO_IOMMU_MAP_DMA, &map);
}

/* Unmap [@iova, @iova + @size); the bytes unmapped in *@done. */
static int dma_unmap(struct dev *d, uint64_t iova, uint64_t size,
		     uint64_t *done)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = iova, .size = size };
	int ret;

#ifdef VGPU_TEST_HAVE_IOMMUFD
	if (use_iommufd) {
		struct iommu_ioas_unmap iu = {
			.size = sizeof(iu), .ioas_id = d->ioas, .iova = iova,
			.length = size };

		ret = ioctl(d->iommufd, IOMMU_IOAS_UNMAP, &iu);
		*done = iu.length;
		return ret;
	}
#endif
	ret = ioctl(d->container, VFIO_IOMMU_UNMAP_DMA, &unmap);
	*done = unmap.size;
	return ret;
}

static ssize_t rd(struct dev *d, unsigned int idx, uint64_t off, void *buf,
		  size_t n)
{
	return pread(d->fd, buf, n, d->reg[idx].offset + off);
}

static ssize_t wr(struct dev *d, unsigned int idx, uint64_t off,
		  const void *buf, size_t n)
{
	return pwrite(d->fd, buf, n, d->reg[idx].offset + off);
}

static uint32_t cfg_rd(struct dev *d, unsigned int off, unsigned int size)
{
	uint32_t v = 0;

	if (rd(d, VFIO_PCI_CONFIG_REGION_INDEX, off, &v, size) != (ssize_t)size)
		return 0xdeadbeef;
	return v;
}

static int cfg_wr(struct dev *d, unsigned int off, unsigned int size,
		  uint32_t v)
{
	return wr(d, VFIO_PCI_CONFIG_REGION_INDEX, off, &v, size) ==
	       (ssize_t)size ? 0 : -1;
}

static uint64_t reg_rd(struct dev *d, unsigned int off)
{
	uint64_t v = 0;

	if (rd(d, VFIO_PCI_BAR2_REGION_INDEX, off, &v, 8) != 8)
		return 0xdeadbeefdeadbeefULL;
	return v;
}

static int reg_wr(struct dev *d, unsigned int off, uint64_t v)
{
	return wr(d, VFIO_PCI_BAR2_REGION_INDEX, off, &v, 8) == 8 ? 0 : -1;
}

/* A BAR2 register whatever the command register says (restored after). */
static uint64_t reg_rd_any(struct dev *d, unsigned int off)
{
	uint16_t cmd = cfg_rd(d, PCI_COMMAND, 2);
	uint64_t v;

	cfg_wr(d, PCI_COMMAND, 2, cmd | PCI_COMMAND_MEMORY);
	v = reg_rd(d, off);
	cfg_wr(d, PCI_COMMAND, 2, cmd);
	return v;
}

static int enable_decode(struct dev *d, uint16_t bits)
{
	uint16_t cmd = cfg_rd(d, PCI_COMMAND, 2);

	return cfg_wr(d, PCI_COMMAND, 2, cmd | bits);
}

static unsigned int find_cap(struct dev *d, uint8_t id)
{
	unsigned int pos = cfg_rd(d, PCI_CAPABILITY_LIST, 1), n = 0;

	while (pos && n++ < 48) {
		if (cfg_rd(d, pos, 1) == id)
			return pos;
		pos = cfg_rd(d, pos + 1, 1);
	}
	return 0;
}

/* Non-blocking eventfd read: the count signalled so far (0 if none). */
static uint64_t ev_count(int efd)
{
	uint64_t v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static int set_irq_fds(struct dev *d, unsigned int index, unsigned int start,
		       unsigned int count, const int *fds)
{
	char buf[sizeof(struct vfio_irq_set) + 64 * sizeof(int)];
	struct vfio_irq_set *s = (void *)buf;

	s->argsz = sizeof(*s) + count * sizeof(int);
	s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	s->index = index;
	s->start = start;
	s->count = count;
	memcpy(s->data, fds, count * sizeof(int));
	return ioctl(d->fd, VFIO_DEVICE_SET_IRQS, s);
}

static int set_irq_none(struct dev *d, unsigned int index, uint32_t action,
			unsigned int start, unsigned int count)
{
	struct vfio_irq_set s = {
		.argsz = sizeof(s), .index = index, .start = start,
		.count = count, .flags = VFIO_IRQ_SET_DATA_NONE | action,
	};

	return ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &s);
}

static int64_t dev_raise(struct dev *d, unsigned int vector)
{
	if (reg_wr(d, VT_REG_IRQ, vector))
		return -1000;
	return (int64_t)reg_rd(d, VT_REG_IRQ_RESULT);
}

/* Mappings a failed test may leave behind: they keep the device open. */
static struct { void *p; size_t len; } maps[16];

static void *map_dev(struct dev *d, size_t len, int flags, uint64_t off)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, d->fd, off);

	for (unsigned int i = 0; p != MAP_FAILED && i < 16; i++) {
		if (!maps[i].p) {
			maps[i].p = p;
			maps[i].len = len;
			break;
		}
	}
	return p;
}

static int unmap_dev(volatile void *vp)
{
	void *p = (void *)vp;

	for (unsigned int i = 0; i < 16; i++) {
		if (maps[i].p == p) {
			maps[i].p = NULL;
			return munmap(p, maps[i].len);
		}
	}
	errno = EINVAL;
	return -1;
}

static void unmap_all(void)
{
	for (unsigned int i = 0; i < 16; i++) {
		if (maps[i].p)
			munmap(maps[i].p, maps[i].len);
		maps[i].p = NULL;
	}
}

static const char *skip_reason;	/* a test returning SKIP says why here */
#define SKIP 77

/* ---- SIGBUS probing of mappings ---- */

/* Per thread: the fuzz test probes mappings from several threads at once. */
static __thread sigjmp_buf bus_jmp;
static __thread volatile int bus_armed;

static void on_sigbus(int sig)
{
	if (!bus_armed) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	siglongjmp(bus_jmp, 1);
}

/* 0: read ok (*out set), 1: SIGBUS */
static int probe_read(volatile uint32_t *p, uint32_t *out)
{
	int ret = 0;

	if (sigsetjmp(bus_jmp, 1))
		ret = 1;
	else {
		bus_armed = 1;
		*out = *p;
	}
	bus_armed = 0;
	return ret;
}

/* ================= tests: sysfs ABI ================= */

static int t_sysfs_types(void)
{
	char buf[512];

	CHECK(access(PARENT "/mdev_supported_types", F_OK) == 0);
	CHECK(access("/sys/class/mdev_bus/vgpu_test.0", F_OK) == 0);
	CHECK(!read_file(SMALL "/name", buf, sizeof(buf)));
	CHECK(!strcmp(buf, "vgpu_test small"));
	CHECK(!read_file(SMALL "/device_api", buf, sizeof(buf)));
	CHECK(!strcmp(buf, "vfio-pci"));
	CHECK(!read_file(SMALL "/description", buf, sizeof(buf)));
	if (strcmp(buf, "fb_size=1048576, heads=1, max_resolution=1024x768, "
		   "max_instances=4, description=test vGPU, PCIe, MSI-X"))
		FAIL("description '%s'", buf);
	CHECK(!read_file(BIG "/description", buf, sizeof(buf)));
	CHECK(strstr(buf, "heads=2, max_resolution=1920x1080, max_instances=2"));
	CHECK_EQ(avail(SMALL), VT_SMALL_MAX);
	CHECK_EQ(avail(BIG), VT_BIG_MAX);
	CHECK(access(SMALL "/devices", F_OK) == 0);
	return 0;
}

static int t_sysfs_create_bad(void)
{
	char u[40];

	make_uuid(u, 0xbad);
	CHECK_ERRNO(mdev_create(SMALL, "not-a-uuid"), EINVAL);
	CHECK_OK(mdev_create(SMALL, u));
	CHECK_ERRNO(mdev_create(SMALL, u), EEXIST);
	CHECK_ERRNO(mdev_create(BIG, u), EEXIST);
	CHECK_EQ(avail(SMALL), VT_SMALL_MAX - 1);
	CHECK_OK(mdev_remove(u));
	CHECK(!mdev_exists(u));
	CHECK_EQ(avail(SMALL), VT_SMALL_MAX);
	return 0;
}

/* A vendor describing an impossible device: create fails, nothing leaks. */
static int t_sysfs_broken_type(void)
{
	char u[40];

	make_uuid(u, 0xb40);
	CHECK_EQ(avail(TYPES "/vgpu_test-broken"), 1);
	for (unsigned int i = 0; i < 20; i++)
		CHECK_ERRNO(mdev_create(TYPES "/vgpu_test-broken", u), EINVAL);
	CHECK(!mdev_exists(u));
	CHECK_EQ(avail(TYPES "/vgpu_test-broken"), 1);
	CHECK_EQ(read_long(ROOM), 1000);	/* the vendor's destroy ran */
	return 0;
}

static int t_sysfs_exhaust(void)
{
	char u[40];
	unsigned int i;

	for (i = 0; i < VT_BIG_MAX; i++) {
		make_uuid(u, 0xb00 + i);
		CHECK_OK(mdev_create(BIG, u));
	}
	CHECK_EQ(avail(BIG), 0);
	make_uuid(u, 0xb00 + i);
	CHECK_ERRNO(mdev_create(BIG, u), EUSERS);
	CHECK(!mdev_exists(u));
	for (i = 0; i < VT_BIG_MAX; i++) {
		make_uuid(u, 0xb00 + i);
		CHECK_OK(mdev_remove(u));
	}
	CHECK_EQ(avail(BIG), VT_BIG_MAX);
	return 0;
}


/* The vendor's own limit (get_available) and its -ENOSPC at create. */
static int t_vendor_room(void)
{
	char u[40], v[40];

	CHECK_OK(write_file(ROOM, "1"));
	CHECK_EQ(avail(SMALL), 1);
	CHECK_EQ(avail(BIG), 1);
	make_uuid(u, 0x5e0);
	make_uuid(v, 0x5e1);
	CHECK_OK(mdev_create(BIG, u));
	CHECK_EQ(avail(SMALL), 0);
	CHECK_EQ(avail(BIG), 0);
	CHECK_ERRNO(mdev_create(SMALL, v), ENOSPC);
	CHECK(!mdev_exists(v));
	CHECK_OK(mdev_remove(u));
	CHECK_EQ(read_long(ROOM), 1);
	CHECK_OK(write_file(ROOM, "1000"));
	/* a failed create gave its reservation back */
	CHECK_EQ(avail(SMALL), VT_SMALL_MAX);
	CHECK_EQ(avail(BIG), VT_BIG_MAX);
	return 0;
}

static int t_vendor_attrs(void)
{
	char u[40], p[256], buf[64];
	struct dev d;

	make_uuid(u, 0xa77);
	CHECK_OK(mdev_create(SMALL, u));
	snprintf(p, sizeof(p), MDEV_DEVS "/%s/mdev_type", u);
	CHECK(access(p, F_OK) == 0);
	snprintf(p, sizeof(p), MDEV_DEVS "/%s/vendor/label", u);
	CHECK_OK(write_file(p, "blue"));
	CHECK(!read_file(p, buf, sizeof(buf)));
	CHECK(!strcmp(buf, "blue"));
	CHECK_ERRNO(write_file(p, "0123456789012345678901234567890123456789"),
		    EINVAL);
	CHECK(!dev_open(&d, u, true));
	/* After the first open the vendor has applied its attributes. */
	CHECK_ERRNO(write_file(p, "red"), EBUSY);
	dev_close(&d);
	CHECK_ERRNO(write_file(p, "red"), EBUSY);
	CHECK(!read_file(p, buf, sizeof(buf)));
	CHECK(!strcmp(buf, "blue"));
	snprintf(p, sizeof(p), MDEV_DEVS "/%s/vendor/opens", u);
	CHECK_EQ(read_long(p), 1);
	CHECK_ERRNO(write_file(p, "5"), EACCES);
	CHECK_OK(mdev_remove(u));
	return 0;
}

/* ================= tests: device uAPI (one open small vGPU) ================= */

static struct dev D;	/* small vGPU, open */
static struct dev B;	/* big vGPU, open */

static int t_get_info(void)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	CHECK_OK(ioctl(D.fd, VFIO_DEVICE_GET_INFO, &info));
	CHECK_EQ(info.flags & (VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET),
		 VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET);
	CHECK_EQ(info.num_regions, VFIO_PCI_NUM_REGIONS + 1);
	CHECK_EQ(info.num_irqs, VFIO_PCI_NUM_IRQS);
	CHECK_EQ(B.info.num_regions, VFIO_PCI_NUM_REGIONS);
	info.argsz = offsetof(struct vfio_device_info, num_irqs);
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_GET_INFO, &info), EINVAL);
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_GET_INFO, (void *)8), EFAULT);
	return 0;
}

static int t_region_info(void)
{
	struct vfio_region_info *r = D.reg;
	char buf[512];
	struct vfio_region_info *ri = (void *)buf;
	struct vfio_info_cap_header *h;
	struct vfio_region_info_cap_sparse_mmap *sp;
	struct vfio_region_info_cap_type *ty;
	unsigned int i;

	CHECK_EQ(r[0].size, VT_BAR0_SIZE);
	CHECK_EQ(r[0].flags, VFIO_REGION_INFO_FLAG_READ |
		 VFIO_REGION_INFO_FLAG_WRITE | VFIO_REGION_INFO_FLAG_MMAP |
		 VFIO_REGION_INFO_FLAG_CAPS);
	CHECK_EQ(r[1].size, 0);		/* upper half of 64-bit BAR0 */
	CHECK_EQ(r[2].size, VT_BAR2_SIZE);
	CHECK_EQ(r[2].flags, VFIO_REGION_INFO_FLAG_READ |
		 VFIO_REGION_INFO_FLAG_WRITE);
	CHECK_EQ(r[3].size, 0);
	CHECK_EQ(r[4].size, VT_IO_SIZE);
	CHECK_EQ(r[5].size, 0);
	CHECK_EQ(r[VFIO_PCI_ROM_REGION_INDEX].size, VT_ROM_SIZE);
	CHECK_EQ(r[VFIO_PCI_ROM_REGION_INDEX].flags, VFIO_REGION_INFO_FLAG_READ);
	CHECK_EQ(r[VFIO_PCI_CONFIG_REGION_INDEX].size, 4096);
	CHECK_EQ(B.reg[VFIO_PCI_CONFIG_REGION_INDEX].size, 256);
	CHECK_EQ(r[VFIO_PCI_VGA_REGION_INDEX].size, 0);
	CHECK_EQ(r[VFIO_PCI_VGA_REGION_INDEX].flags, 0);
	/* the big type declares legacy VGA: the region exists and works */
	CHECK_EQ(B.reg[VFIO_PCI_VGA_REGION_INDEX].size, VT_VGA_SIZE);
	CHECK_EQ(B.reg[VFIO_PCI_VGA_REGION_INDEX].flags,
		 VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
	{
		uint32_t v = 0x44332211, got = 0;

		CHECK_EQ(wr(&B, VFIO_PCI_VGA_REGION_INDEX, VT_VGA_PORTS + 4, &v, 4), 4);
		CHECK_EQ(rd(&B, VFIO_PCI_VGA_REGION_INDEX, VT_VGA_PORTS + 4, &got, 4), 4);
		CHECK_EQ(got, v);
		got = 0;
		CHECK_EQ(rd(&B, VFIO_PCI_VGA_REGION_INDEX, 0x3b0 + 0xa0000, &got, 2), 2);
		CHECK_EQ(got, 0xffff);
		CHECK_ERRNO(rd(&B, VFIO_PCI_VGA_REGION_INDEX, VT_VGA_SIZE - 1, &got, 2), EINVAL);
		CHECK(mmap(NULL, 4096, PROT_READ, MAP_SHARED, B.fd,
			   B.reg[VFIO_PCI_VGA_REGION_INDEX].offset) == MAP_FAILED && errno == EINVAL);
	}
	CHECK_EQ(r[VFIO_PCI_NUM_REGIONS].size, VT_DISP_SIZE);
	for (i = 0; i < D.info.num_regions; i++)
		for (unsigned int j = 0; j < i; j++)
			if (r[i].size && r[j].size && r[i].offset == r[j].offset)
				FAIL("regions %u and %u share offset", i, j);

	/* argsz too small for the chain: told the size, no chain. */
	memset(buf, 0, sizeof(buf));
	ri->argsz = sizeof(*ri);
	ri->index = 0;
	CHECK_OK(ioctl(D.fd, VFIO_DEVICE_GET_REGION_INFO, ri));
	CHECK(ri->flags & VFIO_REGION_INFO_FLAG_CAPS);
	CHECK_EQ(ri->cap_offset, 0);
	CHECK(ri->argsz > sizeof(*ri));
	CHECK(ri->argsz <= sizeof(buf));

	ri->index = 0;
	CHECK_OK(ioctl(D.fd, VFIO_DEVICE_GET_REGION_INFO, ri));
	CHECK_EQ(ri->cap_offset, sizeof(*ri));
	h = (void *)(buf + ri->cap_offset);
	CHECK_EQ(h->id, VFIO_REGION_INFO_CAP_SPARSE_MMAP);
	CHECK_EQ(h->next, 0);
	sp = (void *)h;
	CHECK_EQ(sp->nr_areas, 2);
	CHECK_EQ(sp->areas[0].offset, 0);
	CHECK_EQ(sp->areas[0].size, VT_BAR0_TRAP);
	CHECK_EQ(sp->areas[1].offset, VT_BAR0_TRAP + 4096);
	CHECK_EQ(sp->areas[1].size, VT_BAR0_SIZE - VT_BAR0_TRAP - 4096);

	memset(buf, 0, sizeof(buf));
	ri->argsz = sizeof(buf);
	ri->index = VFIO_PCI_NUM_REGIONS;
	CHECK_OK(ioctl(D.fd, VFIO_DEVICE_GET_REGION_INFO, ri));
	CHECK(ri->flags & VFIO_REGION_INFO_FLAG_MMAP);
	h = (void *)(buf + ri->cap_offset);
	CHECK_EQ(h->id, VFIO_REGION_INFO_CAP_TYPE);
	ty = (void *)h;
	CHECK_EQ(ty->type, (uint32_t)VFIO_REGION_TYPE_PCI_VENDOR_TYPE | VT_VENDOR);
	CHECK_EQ(ty->subtype, 1);

	ri->argsz = sizeof(buf);
	ri->index = D.info.num_regions;
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_GET_REGION_INFO, ri), EINVAL);
	ri->index = 0xffffffff;
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_GET_REGION_INFO, ri), EINVAL);
	ri->argsz = offsetof(struct vfio_region_info, offset);
	ri->index = 0;
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_GET_REGION_INFO, ri), EINVAL);
	return 0;
}

static int t_config_header(void)
{
	uint32_t v;

	CHECK_EQ(cfg_rd(&D, PCI_VENDOR_ID, 2), VT_VENDOR);
	CHECK_EQ(cfg_rd(&D, PCI_DEVICE_ID, 2), VT_DEVICE_SMALL);
	CHECK_EQ(cfg_rd(&B, PCI_DEVICE_ID, 2), VT_DEVICE_BIG);
	CHECK_EQ(cfg_rd(&D, PCI_VENDOR_ID, 4), VT_VENDOR | (VT_DEVICE_SMALL << 16));
	CHECK_EQ(cfg_rd(&D, PCI_REVISION_ID, 1), VT_REVISION);
	CHECK_EQ(cfg_rd(&D, PCI_CLASS_DEVICE, 2), 0x0380);
	CHECK_EQ(cfg_rd(&D, PCI_SUBSYSTEM_VENDOR_ID, 2), VT_VENDOR);
	CHECK_EQ(cfg_rd(&D, PCI_HEADER_TYPE, 1), 0);
	/* Read-only: IDs, class, revision. */
	CHECK_OK(cfg_wr(&D, PCI_VENDOR_ID, 4, 0x12345678));
	CHECK_EQ(cfg_rd(&D, PCI_VENDOR_ID, 2), VT_VENDOR);
	CHECK_OK(cfg_wr(&D, PCI_REVISION_ID, 4, 0xffffffff));
	CHECK_EQ(cfg_rd(&D, PCI_REVISION_ID, 1), VT_REVISION);
	CHECK_EQ(cfg_rd(&D, PCI_CLASS_DEVICE, 2), 0x0380);
	/* Command: only the bits that mean something for this device. */
	CHECK_OK(cfg_wr(&D, PCI_COMMAND, 2, 0xffff));
	v = cfg_rd(&D, PCI_COMMAND, 2);
	CHECK_EQ(v, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		 PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
		 PCI_COMMAND_INTX_DISABLE);
	CHECK_OK(cfg_wr(&D, PCI_COMMAND, 2, 0));
	CHECK_OK(cfg_wr(&B, PCI_COMMAND, 2, 0xffff));
	/* big: no INTx pin, so no INTx disable bit */
	CHECK_EQ(cfg_rd(&B, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE, 0);
	CHECK_OK(cfg_wr(&B, PCI_COMMAND, 2, 0));
	CHECK_EQ(cfg_rd(&D, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST,
		 PCI_STATUS_CAP_LIST);
	CHECK_OK(cfg_wr(&D, PCI_STATUS, 2, 0xffff));
	CHECK_EQ(cfg_rd(&D, PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
	CHECK_EQ(cfg_rd(&D, PCI_INTERRUPT_PIN, 1), 1);
	CHECK_EQ(cfg_rd(&B, PCI_INTERRUPT_PIN, 1), 0);
	CHECK_OK(cfg_wr(&D, PCI_INTERRUPT_LINE, 1, 0x0b));
	CHECK_EQ(cfg_rd(&D, PCI_INTERRUPT_LINE, 1), 0x0b);
	return 0;
}

static int t_config_bars(void)
{
	unsigned int i;

	/* BAR0: 64-bit prefetchable 1 MiB; BAR1 is its upper half. */
	CHECK_EQ(cfg_rd(&D, PCI_BASE_ADDRESS_0, 4),
		 PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);
	for (i = 0; i < 6; i++)
		CHECK_OK(cfg_wr(&D, PCI_BASE_ADDRESS_0 + 4 * i, 4, 0xffffffff));
	CHECK_OK(cfg_wr(&D, PCI_ROM_ADDRESS, 4, 0xffffffff));
	CHECK_EQ(cfg_rd(&D, PCI_BASE_ADDRESS_0, 4),
		 (~(VT_BAR0_SIZE - 1) & 0xfffffff0u) |
		 PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);
	CHECK_EQ(cfg_rd(&D, PCI_BASE_ADDRESS_1, 4), 0xffffffff);
	CHECK_EQ(cfg_rd(&D, PCI_BASE_ADDRESS_2, 4), ~(VT_BAR2_SIZE - 1) & 0xfffffff0u);
	CHECK_EQ(cfg_rd(&D, PCI_BASE_ADDRESS_3, 4), 0);
	/* I/O BAR: bit 0 set, address mask of the I/O kind. */
	CHECK_EQ(cfg_rd(&D, PCI_BASE_ADDRESS_4, 4),
		 (~(VT_IO_SIZE - 1) & 0xfffffffcu) | PCI_BASE_ADDRESS_SPACE_IO);
	CHECK_EQ(cfg_rd(&D, PCI_BASE_ADDRESS_5, 4), 0);
	CHECK_EQ(cfg_rd(&D, PCI_ROM_ADDRESS, 4),
		 (~(VT_ROM_SIZE - 1) & PCI_ROM_ADDRESS_MASK) | PCI_ROM_ADDRESS_ENABLE);
	/* Program addresses and read them back. */
	CHECK_OK(cfg_wr(&D, PCI_BASE_ADDRESS_0, 4, 0xfe000000));
	CHECK_OK(cfg_wr(&D, PCI_BASE_ADDRESS_1, 4, 0x00000001));
	CHECK_OK(cfg_wr(&D, PCI_BASE_ADDRESS_2, 4, 0xfd001234));
	CHECK_OK(cfg_wr(&D, PCI_BASE_ADDRESS_4, 4, 0xc040));
	CHECK_EQ(cfg_rd(&D, PCI_BASE_ADDRESS_0, 4), 0xfe00000c);
	CHECK_EQ(cfg_rd(&D, PCI_BASE_ADDRESS_1, 4), 1);
	CHECK_EQ(cfg_rd(&D, PCI_BASE_ADDRESS_2, 4), 0xfd001000);
	CHECK_EQ(cfg_rd(&D, PCI_BASE_ADDRESS_4, 4), 0xc041);
	return 0;
}

static int t_config_caps(void)
{
	unsigned int msi, msix, exp, vndr;

	msi = find_cap(&D, PCI_CAP_ID_MSI);
	msix = find_cap(&D, PCI_CAP_ID_MSIX);
	exp = find_cap(&D, PCI_CAP_ID_EXP);
	vndr = find_cap(&D, PCI_CAP_ID_VNDR);
	CHECK(msi && msix && exp && vndr);
	CHECK_EQ(vndr, VT_CAP_POS(1));
	/* MSI: 4 vectors (MMC = 2), 64-bit; enable and MME writable. */
	CHECK_EQ(cfg_rd(&D, msi + PCI_MSI_FLAGS, 2), PCI_MSI_FLAGS_64BIT | (2 << 1));
	CHECK_OK(cfg_wr(&D, msi + PCI_MSI_FLAGS, 2, 0xffff));
	CHECK_EQ(cfg_rd(&D, msi + PCI_MSI_FLAGS, 2), PCI_MSI_FLAGS_64BIT |
		 (2 << 1) | PCI_MSI_FLAGS_QSIZE | PCI_MSI_FLAGS_ENABLE);
	CHECK_OK(cfg_wr(&D, msi + PCI_MSI_FLAGS, 2, 0));
	CHECK_OK(cfg_wr(&D, msi + PCI_MSI_ADDRESS_LO, 4, 0xfee00003));
	CHECK_EQ(cfg_rd(&D, msi + PCI_MSI_ADDRESS_LO, 4), 0xfee00000);
	CHECK_OK(cfg_wr(&D, msi + PCI_MSI_DATA_64, 2, 0x4041));
	CHECK_EQ(cfg_rd(&D, msi + PCI_MSI_DATA_64, 2), 0x4041);
	/* MSI-X: 16 vectors, table and PBA in BAR2. */
	CHECK_EQ(cfg_rd(&D, msix + PCI_MSIX_FLAGS, 2), VT_SMALL_MSIX - 1);
	CHECK_EQ(cfg_rd(&D, msix + PCI_MSIX_TABLE, 4), VT_MSIX_TABLE | 2);
	CHECK_EQ(cfg_rd(&D, msix + PCI_MSIX_PBA, 4), VT_MSIX_PBA | 2);
	CHECK_OK(cfg_wr(&D, msix + PCI_MSIX_FLAGS, 2, 0xffff));
	CHECK_EQ(cfg_rd(&D, msix + PCI_MSIX_FLAGS, 2), (VT_SMALL_MSIX - 1) |
		 PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	CHECK_OK(cfg_wr(&D, msix + PCI_MSIX_FLAGS, 2, 0));
	CHECK_OK(cfg_wr(&D, msix + PCI_MSIX_TABLE, 4, 0));
	CHECK_EQ(cfg_rd(&D, msix + PCI_MSIX_TABLE, 4), VT_MSIX_TABLE | 2);
	/* PCIe endpoint, version 2. */
	CHECK_EQ(cfg_rd(&D, exp + PCI_EXP_FLAGS, 2), 2 | (PCI_EXP_TYPE_ENDPOINT << 4));
	/* Extended space: the vendor's range (a VSEC) at 0x100, zero beyond. */
	CHECK_EQ(cfg_rd(&D, 0x100, 4), VT_EXT_HDR);
	CHECK_EQ(cfg_rd(&D, 0x104, 4), VT_EXT_VSEC_HDR);
	CHECK_OK(cfg_wr(&D, 0x100, 4, 0));
	CHECK_EQ(cfg_rd(&D, 0x100, 4), VT_EXT_HDR);
	CHECK_OK(cfg_wr(&D, VT_EXT_SCRATCH, 4, 0x12345678));
	CHECK_OK(cfg_wr(&D, VT_EXT_SCRATCH + 6, 2, 0xabcd));
	CHECK_EQ(cfg_rd(&D, VT_EXT_SCRATCH, 4), 0x12345678);
	CHECK_EQ(cfg_rd(&D, VT_EXT_SCRATCH + 4, 4), 0xabcd0000);
	CHECK_EQ(cfg_rd(&D, 0x100 + VT_EXT_SIZE, 4), 0);
	CHECK_OK(cfg_wr(&D, 0x100 + VT_EXT_SIZE, 4, 0xffffffff));
	CHECK_EQ(cfg_rd(&D, 0x100 + VT_EXT_SIZE, 4), 0);
	CHECK_EQ(cfg_rd(&D, 0xffc, 4), 0);
	/* Vendor capability: body from the vendor, length byte read-only. */
	CHECK_EQ(cfg_rd(&D, vndr, 4), PCI_CAP_ID_VNDR | (0 << 8) |
		 (VT_CAP_LEN << 16) | (0x11 << 24));
	CHECK_EQ(cfg_rd(&D, vndr + 4, 4), 0x55443322);
	CHECK_OK(cfg_wr(&D, vndr, 4, 0xa5a5ffff));
	CHECK_EQ(cfg_rd(&D, vndr, 4), PCI_CAP_ID_VNDR | (VT_CAP_LEN << 16) |
		 (0xa5u << 24));
	CHECK_OK(cfg_wr(&D, vndr + 5, 1, 0x99));
	CHECK_EQ(cfg_rd(&D, vndr + 4, 4), 0x55449922);
	/* big: MSI (1 vector) and the vendor cap only. */
	CHECK(find_cap(&B, PCI_CAP_ID_MSI));
	CHECK_EQ(cfg_rd(&B, find_cap(&B, PCI_CAP_ID_MSI) + PCI_MSI_FLAGS, 2),
		 PCI_MSI_FLAGS_64BIT);
	CHECK(!find_cap(&B, PCI_CAP_ID_MSIX));
	CHECK(!find_cap(&B, PCI_CAP_ID_EXP));
	CHECK_EQ(find_cap(&B, PCI_CAP_ID_VNDR), VT_CAP_POS(0));
	return 0;
}

static int t_rw_bounds(void)
{
	volatile size_t huge = SIZE_MAX / 2;	/* never reaches the buffer */
	uint8_t buf[64];
	uint64_t v;
	size_t cfgsz = D.reg[VFIO_PCI_CONFIG_REGION_INDEX].size;

	/* Decoders off: BARs do not answer. */
	CHECK_ERRNO(rd(&D, 2, 0, &v, 8), EIO);
	CHECK_ERRNO(rd(&D, 4, 0, &v, 1), EIO);
	CHECK_OK(enable_decode(&D, PCI_COMMAND_MEMORY | PCI_COMMAND_IO));
	CHECK_EQ(reg_rd(&D, VT_REG_ID), VT_ID_MAGIC);
	/* Config: end, straddle, past end, count 0, 8-byte split. */
	CHECK_EQ(rd(&D, VFIO_PCI_CONFIG_REGION_INDEX, cfgsz - 1, buf, 1), 1);
	CHECK_ERRNO(rd(&D, VFIO_PCI_CONFIG_REGION_INDEX, cfgsz - 2, buf, 4), EINVAL);
	CHECK_ERRNO(rd(&D, VFIO_PCI_CONFIG_REGION_INDEX, cfgsz, buf, 1), EINVAL);
	CHECK_EQ(rd(&D, VFIO_PCI_CONFIG_REGION_INDEX, 0, buf, 0), 0);
	CHECK_EQ(rd(&D, VFIO_PCI_CONFIG_REGION_INDEX, 0, buf, 64), 64);
	CHECK_EQ(buf[0] | buf[1] << 8, VT_VENDOR);
	CHECK_EQ(buf[0x3d], 1);
	/* BAR2: aligned sizes, odd alignment split, end, straddle, beyond. */
	v = 0x1122334455667788ULL;
	CHECK_EQ(wr(&D, 2, VT_REG_SCRATCH, &v, 8), 8);
	CHECK_EQ(reg_rd(&D, VT_REG_SCRATCH), v);
	CHECK_EQ(rd(&D, 2, VT_REG_SCRATCH + 3, buf, 5), 5);
	CHECK_EQ(buf[0], 0x55);	/* bytes 3..7 of the little-endian value */
	CHECK_EQ(buf[1], 0x44);
	CHECK_EQ(buf[4], 0x11);
	/* a user buffer not aligned to the chunk, both ways */
	memcpy(buf + 1, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	CHECK_EQ(wr(&D, 2, VT_REG_SCRATCH, buf + 1, 8), 8);
	CHECK_EQ(reg_rd(&D, VT_REG_SCRATCH), 0x0807060504030201ULL);
	memset(buf, 0, 16);
	CHECK_EQ(rd(&D, 2, VT_REG_SCRATCH, buf + 3, 8), 8);
	CHECK(!memcmp(buf + 3, "\x01\x02\x03\x04\x05\x06\x07\x08", 8));
	CHECK_EQ(rd(&D, 2, VT_BAR2_SIZE - 8, buf, 8), 8);
	CHECK_ERRNO(rd(&D, 2, VT_BAR2_SIZE - 4, buf, 8), EINVAL);
	CHECK_ERRNO(rd(&D, 2, VT_BAR2_SIZE, buf, 1), EINVAL);
	CHECK_ERRNO(wr(&D, 2, VT_BAR2_SIZE, buf, 1), EINVAL);
	CHECK_EQ(rd(&D, 2, VT_BAR2_SIZE, buf, 0), 0);
	/* counts beyond the region, offsets beyond any region */
	{
		size_t big = 2 * VT_BAR0_SIZE;
		uint8_t *b = malloc(big);

		CHECK(b);
		CHECK_ERRNO(pread(D.fd, b, VT_BAR2_SIZE + 1, D.reg[2].offset), EINVAL);
		CHECK_ERRNO(pread(D.fd, b, big, D.reg[0].offset), EINVAL);
		CHECK_ERRNO(pwrite(D.fd, b, big, D.reg[0].offset + 8), EINVAL);
		free(b);
	}
	CHECK_ERRNO(pread(D.fd, buf, 8, D.reg[2].offset + (1ULL << 40) - 4), EINVAL);
	CHECK_ERRNO(pread(D.fd, buf, huge, D.reg[2].offset), EFAULT);
	CHECK_ERRNO(pread(D.fd, buf, 8, D.reg[2].offset + (1ULL << 39)), EINVAL);
	CHECK_ERRNO(pread(D.fd, buf, 8, -8), EINVAL);
	CHECK_ERRNO(pread(D.fd, buf, 8, 0), EINVAL);	/* cookie 0 */
	CHECK_ERRNO(pread(D.fd, buf, 8, D.reg[2].offset ^ (1ULL << 50)), EINVAL);
	CHECK_ERRNO(pread(D.fd, buf, 8, D.reg[0].offset + (15ULL << 40)), EINVAL);
	/* Absent regions: upper BAR half, BAR3, VGA. */
	CHECK_ERRNO(pread(D.fd, buf, 4, D.reg[0].offset + (1ULL << 40)), EINVAL);
	CHECK_ERRNO(pread(D.fd, buf, 4, D.reg[0].offset + (3ULL << 40)), EINVAL);
	CHECK_ERRNO(pread(D.fd, buf, 4, D.reg[0].offset + (8ULL << 40)), EINVAL);
	/* ROM: read-only, signature. */
	CHECK_EQ(rd(&D, VFIO_PCI_ROM_REGION_INDEX, 0, buf, 8), 8);
	CHECK_EQ(buf[0], 0x55);
	CHECK_EQ(buf[1], 0xaa);
	CHECK_EQ(buf[5], VT_ROM_BYTE(5));
	CHECK_ERRNO(wr(&D, VFIO_PCI_ROM_REGION_INDEX, 0, buf, 1), EINVAL);
	/* I/O BAR */
	CHECK_EQ(rd(&D, 4, 0, buf, VT_IO_SIZE), VT_IO_SIZE);
	CHECK_EQ(buf[7], 7);
	buf[0] = 0xab;
	CHECK_EQ(wr(&D, 4, 31, buf, 1), 1);
	CHECK_EQ(rd(&D, 4, 30, buf, 2), 2);
	CHECK_EQ(buf[1], 0xab);
	CHECK_ERRNO(rd(&D, 4, 31, buf, 2), EINVAL);
	/* BAR0 through read/write, in an mmap area and the trapped page. */
	v = 0xcafef00d;
	CHECK_EQ(wr(&D, 0, 0x100, &v, 4), 4);
	CHECK_EQ(wr(&D, 0, VT_BAR0_TRAP + 8, &v, 4), 4);
	v = 0;
	CHECK_EQ(rd(&D, 0, VT_BAR0_TRAP + 8, &v, 4), 4);
	CHECK_EQ(v, 0xcafef00d);
	/* A bad user buffer is -EFAULT, never a byte count. */
	CHECK_ERRNO(rd(&D, 2, 0, bad_ptr, 8), EFAULT);
	CHECK_ERRNO(wr(&D, 2, VT_REG_SCRATCH, bad_ptr, 8), EFAULT);
	/* The device still works. */
	CHECK_EQ(reg_rd(&D, VT_REG_ID), VT_ID_MAGIC);
	return 0;
}

/*
 * A vendor error ends the transfer: the bytes done so far are returned and
 * nothing beyond them is copied (the RFC copied the full count anyway).
 */
static int t_rw_vendor_error(void)
{
	uint8_t buf[32];
	off_t base = D.reg[2].offset;

	CHECK_OK(enable_decode(&D, PCI_COMMAND_MEMORY));
	memset(buf, 0xaa, sizeof(buf));
	CHECK_EQ(pread(D.fd, buf, 32, base + VT_REG_EIO - 16), 16);
	for (unsigned int i = 16; i < 32; i++)
		CHECK_EQ(buf[i], 0xaa);
	CHECK_ERRNO(pread(D.fd, buf, 8, base + VT_REG_EIO), EIO);
	CHECK_ERRNO(pread(D.fd, buf, 1, base + VT_REG_EIO + VT_REG_EIO_LEN - 1), EIO);
	CHECK_EQ(pwrite(D.fd, buf, 32, base + VT_REG_EIO - 16), 16);
	CHECK_ERRNO(pwrite(D.fd, buf, 2, base + VT_REG_EIO + 4), EIO);
	CHECK_EQ(reg_rd(&D, VT_REG_ID), VT_ID_MAGIC);
	return 0;
}

static int t_mmap(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t off0 = D.reg[0].offset, v;
	volatile uint32_t *m, *m2, *disp;
	uint32_t x;
	void *p;

	CHECK_OK(enable_decode(&D, PCI_COMMAND_MEMORY));
	/* Refused: non-mmap region, trapped page, across areas, past end,
	 * MAP_PRIVATE, wrong offsets. */
	CHECK(mmap(NULL, pg, PROT_READ, MAP_SHARED, D.fd, D.reg[2].offset) == MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, pg, PROT_READ, MAP_SHARED, D.fd, off0 + VT_BAR0_TRAP) == MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED, D.fd, off0 + VT_BAR0_TRAP - pg) == MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED, D.fd, off0 + VT_BAR0_SIZE - pg) == MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, pg, PROT_READ, MAP_SHARED, D.fd, off0 + VT_BAR0_SIZE) == MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, pg, PROT_READ, MAP_PRIVATE, D.fd, off0) == MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, pg, PROT_READ, MAP_SHARED, D.fd, D.reg[VFIO_PCI_CONFIG_REGION_INDEX].offset) == MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, pg, PROT_READ, MAP_SHARED, D.fd, D.reg[VFIO_PCI_ROM_REGION_INDEX].offset) == MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, pg, PROT_READ, MAP_SHARED, D.fd, 0) == MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, pg, PROT_READ, MAP_SHARED, D.fd, off0 + (1ULL << 40)) == MAP_FAILED && errno == EINVAL);
	/* I/O BAR, absent BAR, VGA, beyond the last region */
	CHECK(mmap(NULL, pg, PROT_READ, MAP_SHARED, D.fd, D.reg[4].offset) == MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, pg, PROT_READ, MAP_SHARED, D.fd, off0 + (3ULL << 40)) == MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, pg, PROT_READ, MAP_SHARED, D.fd, off0 + (8ULL << 40)) == MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, pg, PROT_READ, MAP_SHARED, D.fd, off0 + (12ULL << 40)) == MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, pg, PROT_READ, MAP_SHARED, D.fd, D.reg[0].offset ^ (1ULL << 45)) == MAP_FAILED && errno == EINVAL);

	p = map_dev(&D, VT_BAR0_TRAP, MAP_SHARED, off0);
	CHECK(p != MAP_FAILED);
	m = p;
	/* One fault maps the whole contiguous run (PMD-sized window). */
	{
		uint64_t calls = reg_rd_any(&D, VT_REG_PFN_CALLS);

		uintptr_t first = (uintptr_t)m >> 21;
		uintptr_t last = ((uintptr_t)m + VT_BAR0_TRAP - 1) >> 21;

		x = m[0];
		CHECK_EQ(reg_rd_any(&D, VT_REG_PFN_CALLS), calls + 1);
		for (unsigned int i = 0; i < VT_BAR0_TRAP / 4; i += pg / 4)
			x += m[i];
		/* one fault per 2 MiB window the 512 KiB mapping touches */
		CHECK_EQ(reg_rd_any(&D, VT_REG_PFN_CALLS), calls + 1 + (last - first));
	}
	/* Same memory as the trapped path. */
	CHECK_EQ(m[0x100 / 4], 0xcafef00d);
	m[0x200 / 4] = 0x12345678;
	v = 0;
	CHECK_EQ(rd(&D, 0, 0x200, &v, 4), 4);
	CHECK_EQ(v, 0x12345678);
	for (unsigned int i = 0; i < VT_BAR0_TRAP / 4; i += 1024)
		m[i] = i;
	for (unsigned int i = 0; i < VT_BAR0_TRAP / 4; i += 1024)
		CHECK_EQ(m[i], i);
	p = map_dev(&D, VT_BAR0_SIZE - VT_BAR0_TRAP - pg, MAP_SHARED,
		    off0 + VT_BAR0_TRAP + pg);
	CHECK(p != MAP_FAILED);
	m2 = p;
	m2[0] = 0xfeedbeef;
	CHECK_EQ(rd(&D, 0, VT_BAR0_TRAP + pg, &v, 4), 4);
	CHECK_EQ(v & 0xffffffff, 0xfeedbeef);

	/* Memory disable zaps; access then faults with SIGBUS. */
	CHECK_OK(cfg_wr(&D, PCI_COMMAND, 2, cfg_rd(&D, PCI_COMMAND, 2) & ~PCI_COMMAND_MEMORY));
	CHECK_EQ(probe_read(m, &x), 1);
	CHECK_EQ(probe_read(m2, &x), 1);
	{
		uint64_t calls;

		CHECK_OK(enable_decode(&D, PCI_COMMAND_MEMORY));
		calls = reg_rd_any(&D, VT_REG_PFN_CALLS);
		CHECK_EQ(probe_read(m + 0x200 / 4, &x), 0);
		CHECK_EQ(x, 0x12345678);
		/* zapped, so that access faulted again */
		CHECK_EQ(reg_rd_any(&D, VT_REG_PFN_CALLS), calls + 1);
	}
	/* Reset zaps too (and disables memory). */
	CHECK_OK(ioctl(D.fd, VFIO_DEVICE_RESET));
	CHECK_EQ(cfg_rd(&D, PCI_COMMAND, 2), 0);
	CHECK_EQ(probe_read(m, &x), 1);
	CHECK_OK(enable_decode(&D, PCI_COMMAND_MEMORY));
	CHECK_EQ(probe_read(m + 0x200 / 4, &x), 0);
	CHECK_EQ(x, 0x12345678);

	/*
	 * The display region: read-only, mappable whatever the command
	 * register says, never writable (not even through mprotect).
	 */
	CHECK_EQ(D.reg[VFIO_PCI_NUM_REGIONS].flags & VFIO_REGION_INFO_FLAG_WRITE, 0);
	CHECK(map_dev(&D, VT_DISP_SIZE, MAP_SHARED,
		      D.reg[VFIO_PCI_NUM_REGIONS].offset) == MAP_FAILED && errno == EINVAL);
	p = mmap(NULL, VT_DISP_SIZE, PROT_READ, MAP_SHARED, D.fd,
		 D.reg[VFIO_PCI_NUM_REGIONS].offset);
	CHECK(p != MAP_FAILED);
	disp = p;
	CHECK_EQ(disp[5], VT_DISP_WORD(5));
	CHECK_EQ(disp[VT_DISP_SIZE / 4 - 1], VT_DISP_WORD(VT_DISP_SIZE / 4 - 1));
	CHECK_ERRNO(mprotect(p, VT_DISP_SIZE, PROT_READ | PROT_WRITE), EACCES);
	CHECK_ERRNO(wr(&D, VFIO_PCI_NUM_REGIONS, 20, &v, 4), EINVAL);
	CHECK_EQ(rd(&D, VFIO_PCI_NUM_REGIONS, 20, &v, 4), 4);
	CHECK_EQ(v & 0xffffffff, VT_DISP_WORD(5));
	CHECK_OK(munmap(p, VT_DISP_SIZE));
	CHECK_OK(unmap_dev(m2));
	CHECK_OK(unmap_dev(m));
	return 0;
}

static int t_irq_info(void)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii) };
	static const struct { unsigned int idx, count, flags; } want[] = {
		{ VFIO_PCI_INTX_IRQ_INDEX, 1, VFIO_IRQ_INFO_EVENTFD |
		  VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED },
		{ VFIO_PCI_MSI_IRQ_INDEX, VT_SMALL_MSI, VFIO_IRQ_INFO_EVENTFD |
		  VFIO_IRQ_INFO_NORESIZE },
		{ VFIO_PCI_MSIX_IRQ_INDEX, VT_SMALL_MSIX, VFIO_IRQ_INFO_EVENTFD |
		  VFIO_IRQ_INFO_NORESIZE },
		{ VFIO_PCI_ERR_IRQ_INDEX, 1, VFIO_IRQ_INFO_EVENTFD },
		{ VFIO_PCI_REQ_IRQ_INDEX, 1, VFIO_IRQ_INFO_EVENTFD },
	};

	for (unsigned int i = 0; i < 5; i++) {
		ii.argsz = sizeof(ii);
		ii.index = want[i].idx;
		CHECK_OK(ioctl(D.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
		CHECK_EQ(ii.count, want[i].count);
		CHECK_EQ(ii.flags, want[i].flags);
	}
	ii.index = VFIO_PCI_MSIX_IRQ_INDEX;
	CHECK_OK(ioctl(B.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	CHECK_EQ(ii.count, 0);
	ii.index = VFIO_PCI_INTX_IRQ_INDEX;
	CHECK_OK(ioctl(B.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	CHECK_EQ(ii.count, 0);
	ii.index = VFIO_PCI_NUM_IRQS;
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii), EINVAL);
	ii.index = 0;
	ii.argsz = offsetof(struct vfio_irq_info, count);
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii), EINVAL);
	return 0;
}

static int t_irq_intx(void)
{
	int e = eventfd(0, EFD_NONBLOCK);
	uint8_t one = 1;
	char buf[sizeof(struct vfio_irq_set) + 4];
	struct vfio_irq_set *s = (void *)buf;

	CHECK(e >= 0);
	CHECK_OK(enable_decode(&D, PCI_COMMAND_MEMORY));
	CHECK_EQ(dev_raise(&D, 0), (uint64_t)-ENODEV);
	CHECK_OK(set_irq_fds(&D, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &e));
	CHECK_EQ(dev_raise(&D, 0), 0);
	CHECK_EQ(ev_count(e), 1);
	CHECK(cfg_rd(&D, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* automasked until unmasked; a raise meanwhile is held, not lost */
	CHECK_EQ(dev_raise(&D, 0), (uint64_t)-EAGAIN);
	CHECK_EQ(dev_raise(&D, 0), (uint64_t)-EAGAIN);
	CHECK_EQ(ev_count(e), 0);
	CHECK_OK(set_irq_none(&D, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	CHECK_EQ(ev_count(e), 1);	/* once: it is a level, not a count */
	CHECK(cfg_rd(&D, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	CHECK_OK(set_irq_none(&D, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	CHECK_EQ(ev_count(e), 0);
	CHECK_EQ(cfg_rd(&D, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
	CHECK_EQ(dev_raise(&D, 0), 0);
	CHECK_EQ(ev_count(e), 1);
	/* unmask with DATA_BOOL, mask explicitly */
	s->argsz = sizeof(*s) + 1;
	s->flags = VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_UNMASK;
	s->index = VFIO_PCI_INTX_IRQ_INDEX;
	s->start = 0;
	s->count = 1;
	memcpy(s->data, &one, 1);
	CHECK_OK(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s));
	CHECK_OK(set_irq_none(&D, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_MASK, 0, 1));
	CHECK_EQ(dev_raise(&D, 0), (uint64_t)-EAGAIN);
	CHECK_EQ(ev_count(e), 0);
	CHECK_OK(set_irq_none(&D, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	CHECK_EQ(ev_count(e), 1);
	CHECK_OK(set_irq_none(&D, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	/* INTx disable in the command register: held until enabled again */
	CHECK_OK(enable_decode(&D, PCI_COMMAND_INTX_DISABLE));
	CHECK_EQ(cfg_rd(&D, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
	CHECK_EQ(dev_raise(&D, 0), (uint64_t)-EAGAIN);
	CHECK_EQ(ev_count(e), 0);
	/* the status bit shows the asserted line whatever INTx-disable says */
	CHECK(cfg_rd(&D, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	CHECK_OK(cfg_wr(&D, PCI_COMMAND, 2, PCI_COMMAND_MEMORY));
	CHECK_EQ(ev_count(e), 1);
	CHECK_OK(set_irq_none(&D, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	/* the vendor lowering its line drops a held INTx: no spurious one */
	CHECK_EQ(dev_raise(&D, 0), 0);
	CHECK_EQ(dev_raise(&D, 0), (uint64_t)-EAGAIN);
	CHECK_OK(reg_wr(&D, VT_REG_IRQ_LOWER, 1));
	CHECK_EQ(cfg_rd(&D, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
	CHECK_OK(set_irq_none(&D, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	CHECK_EQ(ev_count(e), 1);	/* the first raise only */
	/* a reset drops a held INTx */
	CHECK_EQ(dev_raise(&D, 0), 0);
	CHECK_EQ(dev_raise(&D, 0), (uint64_t)-EAGAIN);
	CHECK_OK(ioctl(D.fd, VFIO_DEVICE_RESET));
	CHECK_OK(enable_decode(&D, PCI_COMMAND_MEMORY));
	CHECK_OK(set_irq_none(&D, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	CHECK_EQ(ev_count(e), 1);	/* the first raise only */
	/* loopback trigger */
	CHECK_OK(set_irq_none(&D, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	CHECK_EQ(ev_count(e), 1);
	CHECK_OK(set_irq_none(&D, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	/* unmask through an eventfd (KVM's resampler) */
	{
		int u = eventfd(0, EFD_NONBLOCK), closed = eventfd(0, 0);
		uint64_t one64 = 1;
		int64_t r = -1;

		CHECK(u >= 0 && closed >= 0);
		close(closed);
		s->argsz = sizeof(*s) + 4;
		s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK;
		memcpy(s->data, &closed, 4);
		CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s), EBADF);
		memcpy(s->data, &u, 4);
		CHECK_OK(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s));
		CHECK_EQ(dev_raise(&D, 0), 0);
		CHECK_EQ(dev_raise(&D, 0), (uint64_t)-EAGAIN);
		/* the resampler's unmask delivers the held one */
		CHECK_EQ(write(u, &one64, 8), 8);
		r = ev_count(e);
		for (int i = 0; i < 200 && r < 2; i++) {
			usleep(5000);
			r += ev_count(e);
		}
		CHECK_EQ(r, 2);
		/*
		 * Unmasked with nothing held: one raise, one interrupt. The
		 * unmask runs in a work item; a raise that beats it is held
		 * (-EAGAIN) and delivered by it, so wait for the interrupt
		 * rather than retrying the raise (a retry would be held too).
		 */
		CHECK_EQ(write(u, &one64, 8), 8);
		r = dev_raise(&D, 0);
		CHECK(r == 0 || r == -EAGAIN);
		r = ev_count(e);
		for (int i = 0; i < 200 && !r; i++) {
			usleep(5000);
			r = ev_count(e);
		}
		CHECK_EQ(r, 1);
		/* the same eventfd as trigger and unmask: no deadlock */
		memcpy(s->data, &e, 4);
		CHECK_OK(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s));
		for (int i = 0; i < 50; i++)
			dev_raise(&D, 0);
		/* closing the eventfd while registered is harmless */
		memcpy(s->data, &u, 4);
		CHECK_OK(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s));
		close(u);
		CHECK_EQ(write(e, &one64, 8), 8);
		u = -1;
		memcpy(s->data, &u, 4);
		CHECK_OK(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s));
		ev_count(e);
		CHECK_OK(set_irq_none(&D, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	}
	/* mask via eventfd is not a thing */
	s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_MASK;
	memcpy(s->data, &e, 4);
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s), EINVAL);
	/* MSI while INTx is active: refused */
	CHECK_ERRNO(set_irq_fds(&D, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &e), EINVAL);
	CHECK_OK(set_irq_none(&D, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	CHECK_EQ(dev_raise(&D, 0), (uint64_t)-ENODEV);
	close(e);
	return 0;
}

static int t_irq_msi(void)
{
	int e[VT_SMALL_MSI];

	for (int i = 0; i < VT_SMALL_MSI; i++)
		CHECK((e[i] = eventfd(0, EFD_NONBLOCK)) >= 0);
	CHECK_OK(enable_decode(&D, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
	CHECK_OK(set_irq_fds(&D, VFIO_PCI_MSI_IRQ_INDEX, 0, VT_SMALL_MSI, e));
	CHECK_EQ(dev_raise(&D, 2), 0);
	CHECK_EQ(ev_count(e[2]), 1);
	CHECK_EQ(ev_count(e[1]), 0);
	CHECK_EQ(dev_raise(&D, 3), 0);
	CHECK_EQ(ev_count(e[3]), 1);
	CHECK_EQ(dev_raise(&D, VT_SMALL_MSI), (uint64_t)-EINVAL);
	/* unset one vector */
	{
		int m1 = -1;

		CHECK_OK(set_irq_fds(&D, VFIO_PCI_MSI_IRQ_INDEX, 1, 1, &m1));
		CHECK_EQ(dev_raise(&D, 1), (uint64_t)-ENODEV);
	}
	CHECK_ERRNO(set_irq_fds(&D, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, e), EINVAL);
	CHECK_OK(set_irq_none(&D, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	CHECK_EQ(dev_raise(&D, 2), (uint64_t)-ENODEV);
	for (int i = 0; i < VT_SMALL_MSI; i++)
		close(e[i]);
	return 0;
}

static int t_irq_msix(void)
{
	int e[VT_SMALL_MSIX];
	unsigned int msix = find_cap(&D, PCI_CAP_ID_MSIX);
	uint64_t pba, ent[2] = { 0x00000000fee01000ULL, 0x0000000000004041ULL }, r[2];

	for (int i = 0; i < VT_SMALL_MSIX; i++)
		CHECK((e[i] = eventfd(0, EFD_NONBLOCK)) >= 0);
	CHECK_OK(enable_decode(&D, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
	CHECK_OK(set_irq_fds(&D, VFIO_PCI_MSIX_IRQ_INDEX, 0, VT_SMALL_MSIX, e));
	CHECK_OK(cfg_wr(&D, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE));
	CHECK_EQ(dev_raise(&D, 15), 0);
	CHECK_EQ(ev_count(e[15]), 1);
	CHECK_EQ(dev_raise(&D, 16), (uint64_t)-EINVAL);
	/* Function mask: pending in the PBA, delivered at unmask. */
	CHECK_OK(cfg_wr(&D, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL));
	CHECK_EQ(dev_raise(&D, 5), (uint64_t)-EAGAIN);
	CHECK_EQ(dev_raise(&D, 9), (uint64_t)-EAGAIN);
	CHECK_EQ(ev_count(e[5]), 0);
	CHECK_EQ(rd(&D, 2, VT_MSIX_PBA, &pba, 8), 8);
	CHECK_EQ(pba, (1u << 5) | (1u << 9));
	CHECK_OK(cfg_wr(&D, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE));
	CHECK_EQ(ev_count(e[5]), 1);
	CHECK_EQ(ev_count(e[9]), 1);
	CHECK_EQ(rd(&D, 2, VT_MSIX_PBA, &pba, 8), 8);
	CHECK_EQ(pba, 0);
	/* Table is storage, PBA is read-only. */
	CHECK_EQ(wr(&D, 2, VT_MSIX_TABLE + 16 * 3, ent, 16), 16);
	CHECK_EQ(rd(&D, 2, VT_MSIX_TABLE + 16 * 3, r, 16), 16);
	CHECK_EQ(r[0], ent[0]);
	CHECK_EQ(r[1], ent[1]);
	pba = ~0ULL;
	CHECK_EQ(wr(&D, 2, VT_MSIX_PBA, &pba, 8), 8);
	CHECK_EQ(rd(&D, 2, VT_MSIX_PBA, &pba, 8), 8);
	CHECK_EQ(pba, 0);
	/* Loopback of a range */
	CHECK_OK(set_irq_none(&D, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 3, 2));
	CHECK_EQ(ev_count(e[3]), 1);
	CHECK_EQ(ev_count(e[4]), 1);
	CHECK_OK(set_irq_none(&D, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	CHECK_EQ(dev_raise(&D, 15), (uint64_t)-ENODEV);
	for (int i = 0; i < VT_SMALL_MSIX; i++)
		close(e[i]);
	return 0;
}

/*
 * vgpu.h: -EINVAL for a vector beyond the count the user enabled, so a vendor
 * can fold its causes onto vector 0 when fewer vectors are in use (vgpu_sim
 * relies on it). Enabled fewer than declared: the rest are -EINVAL, not lost.
 */
static int t_irq_enabled_count(void)
{
	int e[2];

	for (int i = 0; i < 2; i++)
		CHECK((e[i] = eventfd(0, EFD_NONBLOCK)) >= 0);
	CHECK_OK(enable_decode(&D, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
	CHECK_OK(set_irq_fds(&D, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, e));
	CHECK_EQ(dev_raise(&D, 0), 0);
	CHECK_EQ(ev_count(e[0]), 1);
	CHECK_EQ(dev_raise(&D, 1), (uint64_t)-EINVAL);
	CHECK_EQ(dev_raise(&D, VT_SMALL_MSIX - 1), (uint64_t)-EINVAL);
	/* NORESIZE: more vectors only by disabling and enabling again */
	CHECK_ERRNO(set_irq_fds(&D, VFIO_PCI_MSIX_IRQ_INDEX, 2, 1, &e[1]), EINVAL);
	CHECK_OK(set_irq_none(&D, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	{
		int three[3] = { e[0], -1, e[1] };

		CHECK_OK(set_irq_fds(&D, VFIO_PCI_MSIX_IRQ_INDEX, 0, 3, three));
	}
	/* an unset trigger inside the count stays -ENODEV */
	CHECK_EQ(dev_raise(&D, 2), 0);
	CHECK_EQ(ev_count(e[1]), 1);
	CHECK_EQ(dev_raise(&D, 1), (uint64_t)-ENODEV);
	CHECK_EQ(dev_raise(&D, 3), (uint64_t)-EINVAL);
	CHECK_OK(set_irq_none(&D, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	/* disabling forgets the count */
	CHECK_OK(set_irq_fds(&D, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, e));
	CHECK_EQ(dev_raise(&D, 0), 0);
	CHECK_EQ(ev_count(e[0]), 1);
	CHECK_EQ(dev_raise(&D, 2), (uint64_t)-EINVAL);
	CHECK_OK(set_irq_none(&D, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	CHECK_EQ(dev_raise(&D, 0), (uint64_t)-ENODEV);
	for (int i = 0; i < 2; i++)
		close(e[i]);
	return 0;
}

static int msix_ctrl(struct dev *d, unsigned int vec, uint32_t ctrl)
{
	return wr(d, 2, VT_MSIX_TABLE + 16 * vec + PCI_MSIX_ENTRY_VECTOR_CTRL,
		  &ctrl, 4) == 4 ? 0 : -1;
}

/* A vector masked in the MSI-X table is pending (PBA) and fires at unmask. */
static int t_irq_msix_vector_mask(void)
{
	int e[VT_SMALL_MSIX];
	unsigned int msix = find_cap(&D, PCI_CAP_ID_MSIX);
	uint64_t pba;

	for (int i = 0; i < VT_SMALL_MSIX; i++)
		CHECK((e[i] = eventfd(0, EFD_NONBLOCK)) >= 0);
	CHECK_OK(enable_decode(&D, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
	CHECK_OK(set_irq_fds(&D, VFIO_PCI_MSIX_IRQ_INDEX, 0, VT_SMALL_MSIX, e));
	CHECK_OK(cfg_wr(&D, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE));
	CHECK_OK(msix_ctrl(&D, 3, PCI_MSIX_ENTRY_CTRL_MASKBIT));
	CHECK_EQ(dev_raise(&D, 3), (uint64_t)-EAGAIN);
	CHECK_EQ(dev_raise(&D, 4), 0);
	CHECK_EQ(ev_count(e[3]), 0);
	CHECK_EQ(ev_count(e[4]), 1);
	CHECK_EQ(rd(&D, 2, VT_MSIX_PBA, &pba, 8), 8);
	CHECK_EQ(pba, 1u << 3);
	/* lifting the function mask does not unmask the vector */
	CHECK_OK(cfg_wr(&D, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL));
	CHECK_OK(cfg_wr(&D, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE));
	CHECK_EQ(ev_count(e[3]), 0);
	/* unmasking the vector delivers it once */
	CHECK_OK(msix_ctrl(&D, 3, 0));
	CHECK_EQ(ev_count(e[3]), 1);
	CHECK_EQ(rd(&D, 2, VT_MSIX_PBA, &pba, 8), 8);
	CHECK_EQ(pba, 0);
	CHECK_OK(msix_ctrl(&D, 3, 0));
	CHECK_EQ(ev_count(e[3]), 0);
	/* an 8-byte write of data + control masks too */
	{
		uint64_t ent = (uint64_t)PCI_MSIX_ENTRY_CTRL_MASKBIT << 32 | 0x4041;

		CHECK_EQ(wr(&D, 2, VT_MSIX_TABLE + 16 * 7 + 8, &ent, 8), 8);
		CHECK_EQ(dev_raise(&D, 7), (uint64_t)-EAGAIN);
		ent = 0x4041;
		CHECK_EQ(wr(&D, 2, VT_MSIX_TABLE + 16 * 7 + 8, &ent, 8), 8);
		CHECK_EQ(ev_count(e[7]), 1);
	}
	CHECK_OK(set_irq_none(&D, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	for (int i = 0; i < VT_SMALL_MSIX; i++)
		close(e[i]);
	return 0;
}

/* A reset drops what was pending: no interrupt from before the reset after it. */
static int t_irq_msix_reset_pending(void)
{
	int e;
	unsigned int msix = find_cap(&D, PCI_CAP_ID_MSIX);
	uint64_t pba;

	CHECK((e = eventfd(0, EFD_NONBLOCK)) >= 0);
	CHECK_OK(enable_decode(&D, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
	CHECK_OK(set_irq_fds(&D, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, &e));
	CHECK_OK(cfg_wr(&D, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL));
	CHECK_EQ(dev_raise(&D, 0), (uint64_t)-EAGAIN);
	CHECK_EQ(rd(&D, 2, VT_MSIX_PBA, &pba, 8), 8);
	CHECK_EQ(pba, 1);
	CHECK_OK(ioctl(D.fd, VFIO_DEVICE_RESET));
	CHECK_EQ(ev_count(e), 0);
	CHECK_OK(enable_decode(&D, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
	CHECK_EQ(rd(&D, 2, VT_MSIX_PBA, &pba, 8), 8);
	CHECK_EQ(pba, 0);
	/* the trigger survives the reset (as with vfio-pci) and works */
	CHECK_OK(cfg_wr(&D, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE));
	CHECK_EQ(ev_count(e), 0);
	CHECK_EQ(dev_raise(&D, 0), 0);
	CHECK_EQ(ev_count(e), 1);
	CHECK_OK(set_irq_none(&D, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	close(e);
	return 0;
}

#define RESET_DELAY	"/sys/module/vgpu_test/parameters/reset_delay_ms"

struct resetter {
	struct dev *d;
	volatile int done;
	int ret;
};

static void *reset_thread(void *arg)
{
	struct resetter *r = arg;

	r->ret = ioctl(r->d->fd, VFIO_DEVICE_RESET);
	r->done = 1;
	return NULL;
}

/*
 * A fault served while the vendor resets must not survive the reset: the
 * page is translated again afterwards. The display region is not gated by
 * memory decode, so only the core's zap after the vendor's reset removes
 * what a fault mapped meanwhile.
 */
static int t_reset_refaults(void)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri),
				       .index = VFIO_PCI_NUM_REGIONS };
	struct resetter r = { .d = &D, .ret = -2 };
	volatile uint32_t *disp;
	uint64_t before, after;
	uint32_t v = 0;
	pthread_t th;
	int bus;

	CHECK_OK(ioctl(D.fd, VFIO_DEVICE_GET_REGION_INFO, &ri));
	disp = mmap(NULL, VT_DISP_SIZE, PROT_READ, MAP_SHARED, D.fd, ri.offset);
	CHECK(disp != MAP_FAILED);
	CHECK_OK(write_file(RESET_DELAY, "500"));
	CHECK(!pthread_create(&th, NULL, reset_thread, &r));
	usleep(150000);
	bus = probe_read(disp, &v);
	v = r.done;	/* the reset must still have been running */
	CHECK(!pthread_join(th, NULL));
	write_file(RESET_DELAY, "0");
	CHECK_EQ(r.ret, 0);
	CHECK_EQ(bus, 0);
	CHECK_EQ(v, 0);
	CHECK_OK(enable_decode(&D, PCI_COMMAND_MEMORY));
	before = reg_rd(&D, VT_REG_PFN_CALLS);
	CHECK_EQ(probe_read(disp, &v), 0);
	CHECK_EQ(v, VT_DISP_WORD(0));
	after = reg_rd(&D, VT_REG_PFN_CALLS);
	munmap((void *)disp, VT_DISP_SIZE);
	CHECK_EQ(after, before + 1);
	return 0;
}

/*
 * SET_IRQS as vfio-pci answers it: INTx mask/unmask only while INTx is the
 * enabled type, a fixed vector count while MSI/MSI-X is enabled (NORESIZE),
 * and no MSI/MSI-X from the device while the guest has bus mastering off
 * (they are memory writes); the user's own loopback trigger still fires.
 */
static int t_irq_vfio_pci_semantics(void)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii) };
	int e[3], m1 = -1;
	char buf[sizeof(struct vfio_irq_set) + 4];
	struct vfio_irq_set *s = (void *)buf;

	for (int i = 0; i < 3; i++)
		CHECK((e[i] = eventfd(0, EFD_NONBLOCK)) >= 0);
	CHECK_OK(enable_decode(&D, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
	CHECK_ERRNO(set_irq_none(&D, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_MASK, 0, 1), EINVAL);
	CHECK_ERRNO(set_irq_none(&D, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1), EINVAL);
	s->argsz = sizeof(*s) + 4;
	s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK;
	s->index = VFIO_PCI_INTX_IRQ_INDEX;
	s->start = 0;
	s->count = 1;
	memcpy(s->data, &m1, 4);
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s), EINVAL);

	ii.index = VFIO_PCI_MSIX_IRQ_INDEX;
	CHECK_OK(ioctl(D.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	CHECK(ii.flags & VFIO_IRQ_INFO_NORESIZE);
	CHECK_OK(set_irq_fds(&D, VFIO_PCI_MSIX_IRQ_INDEX, 0, 2, e));
	CHECK_ERRNO(set_irq_fds(&D, VFIO_PCI_MSIX_IRQ_INDEX, 2, 1, &e[2]), EINVAL);
	CHECK_ERRNO(set_irq_fds(&D, VFIO_PCI_MSIX_IRQ_INDEX, 1, 2, e), EINVAL);
	CHECK_EQ(dev_raise(&D, 2), (uint64_t)-EINVAL);
	CHECK_ERRNO(set_irq_none(&D, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1), EINVAL);
	/* within the count a trigger may be replaced */
	CHECK_OK(set_irq_fds(&D, VFIO_PCI_MSIX_IRQ_INDEX, 1, 1, &e[2]));
	CHECK_EQ(dev_raise(&D, 1), 0);
	CHECK_EQ(ev_count(e[2]), 1);

	CHECK_OK(cfg_wr(&D, PCI_COMMAND, 2, PCI_COMMAND_MEMORY));
	CHECK_EQ(dev_raise(&D, 0), (uint64_t)-EIO);
	CHECK_EQ(ev_count(e[0]), 0);
	CHECK_OK(set_irq_none(&D, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	CHECK_EQ(ev_count(e[0]), 1);
	CHECK_OK(enable_decode(&D, PCI_COMMAND_MASTER));
	CHECK_EQ(ev_count(e[0]), 0);	/* dropped, not held */
	CHECK_EQ(dev_raise(&D, 0), 0);
	CHECK_EQ(ev_count(e[0]), 1);
	CHECK_OK(set_irq_none(&D, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));

	CHECK_OK(set_irq_fds(&D, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, e));
	CHECK_OK(cfg_wr(&D, PCI_COMMAND, 2, PCI_COMMAND_MEMORY));
	CHECK_EQ(dev_raise(&D, 0), (uint64_t)-EIO);
	CHECK_EQ(ev_count(e[0]), 0);
	CHECK_OK(enable_decode(&D, PCI_COMMAND_MASTER));
	CHECK_EQ(dev_raise(&D, 0), 0);
	CHECK_EQ(ev_count(e[0]), 1);
	CHECK_OK(set_irq_none(&D, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	for (int i = 0; i < 3; i++)
		close(e[i]);
	return 0;
}

static int t_irq_err_req(void)
{
	int e = eventfd(0, EFD_NONBLOCK), r = eventfd(0, EFD_NONBLOCK);

	CHECK(e >= 0 && r >= 0);
	CHECK_OK(set_irq_fds(&D, VFIO_PCI_ERR_IRQ_INDEX, 0, 1, &e));
	CHECK_OK(set_irq_fds(&D, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &r));
	CHECK_OK(set_irq_none(&D, VFIO_PCI_ERR_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	CHECK_OK(set_irq_none(&D, VFIO_PCI_REQ_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	CHECK_EQ(ev_count(e), 1);
	CHECK_EQ(ev_count(r), 1);
	CHECK_ERRNO(set_irq_none(&D, VFIO_PCI_REQ_IRQ_INDEX, VFIO_IRQ_SET_ACTION_MASK, 0, 1), EINVAL);
	CHECK_OK(set_irq_none(&D, VFIO_PCI_ERR_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	CHECK_OK(set_irq_none(&D, VFIO_PCI_REQ_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	CHECK_OK(set_irq_none(&D, VFIO_PCI_REQ_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	CHECK_EQ(ev_count(r), 0);
	/* ERR is offered to plain PCI vGPUs too (QEMU sets it up) */
	CHECK_OK(set_irq_fds(&B, VFIO_PCI_ERR_IRQ_INDEX, 0, 1, &e));
	CHECK_ERRNO(set_irq_fds(&B, VFIO_PCI_ERR_IRQ_INDEX, 1, 1, &e), EINVAL);
	CHECK_OK(set_irq_none(&B, VFIO_PCI_ERR_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	close(e);
	close(r);
	return 0;
}

static int t_irq_bad(void)
{
	char buf[sizeof(struct vfio_irq_set) + 64];
	struct vfio_irq_set *s = (void *)buf;
	int e = eventfd(0, EFD_NONBLOCK), closed = eventfd(0, 0);
	int nullfd = open("/dev/null", O_RDWR);
	int fds[VT_SMALL_MSI + 1] = { e, e, e, e, e };

	CHECK(e >= 0 && closed >= 0 && nullfd >= 0);
	close(closed);
	/* start + count overflow, too many vectors, beyond the count */
	memset(buf, 0, sizeof(buf));
	s->argsz = sizeof(*s);
	s->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	s->index = VFIO_PCI_MSI_IRQ_INDEX;
	s->start = 0xffffffff;
	s->count = 2;
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s), EINVAL);
	s->start = 1;
	s->count = 0xffffffff;
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s), EINVAL);
	s->start = 0;
	s->count = VT_SMALL_MSI + 1;
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s), EINVAL);
	CHECK_ERRNO(set_irq_fds(&D, VFIO_PCI_MSI_IRQ_INDEX, 0, VT_SMALL_MSI + 1, fds), EINVAL);
	s->start = VT_SMALL_MSI;
	s->count = 1;
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s), EINVAL);
	/* bad flag combinations */
	s->start = 0;
	s->count = 1;
	s->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER;
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s), EINVAL);
	s->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_TRIGGER;
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s), EINVAL);
	s->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER | (1u << 12);
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s), EINVAL);
	s->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK;
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s), EINVAL);
	/* index out of range */
	s->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	s->index = VFIO_PCI_NUM_IRQS;
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s), EINVAL);
	s->index = 0xffffffff;
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s), EINVAL);
	/* argsz below minsz; payload shorter than count says */
	s->index = VFIO_PCI_MSI_IRQ_INDEX;
	s->argsz = offsetof(struct vfio_irq_set, count);
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s), EINVAL);
	s->argsz = sizeof(*s) + 4;
	s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	s->count = 2;
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s), EINVAL);
	/* count 0 with an eventfd/bool data type: there is no payload */
	s->argsz = sizeof(*s);
	s->index = VFIO_PCI_INTX_IRQ_INDEX;
	s->start = 0;
	s->count = 0;
	for (unsigned int a = 0; a < 3; a++) {
		for (unsigned int t = 0; t < 3; t++) {
			s->flags = (VFIO_IRQ_SET_ACTION_MASK << a) | (VFIO_IRQ_SET_DATA_NONE << t);
			for (s->index = 0; s->index < VFIO_PCI_NUM_IRQS; s->index++)
				ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s);	/* must not crash */
		}
	}
	s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK;
	s->index = VFIO_PCI_INTX_IRQ_INDEX;
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s), EINVAL);
	s->index = VFIO_PCI_MSI_IRQ_INDEX;
	/* closed fd, non-eventfd fd: nothing changes */
	CHECK_ERRNO(set_irq_fds(&D, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &closed), EBADF);
	CHECK_ERRNO(set_irq_fds(&D, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &nullfd), EINVAL);
	fds[1] = nullfd;
	CHECK_ERRNO(set_irq_fds(&D, VFIO_PCI_MSI_IRQ_INDEX, 0, 2, fds), EINVAL);
	CHECK_OK(enable_decode(&D, PCI_COMMAND_MEMORY));
	CHECK_EQ(dev_raise(&D, 0), (uint64_t)-ENODEV);
	/* payload pointer unreadable */
	s->argsz = sizeof(*s) + 4;
	s->count = 1;
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, (void *)8), EFAULT);
	/* still works */
	CHECK_OK(set_irq_fds(&D, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &e));
	CHECK_EQ(dev_raise(&D, 0), 0);
	CHECK_EQ(ev_count(e), 1);
	CHECK_OK(set_irq_none(&D, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	close(e);
	close(nullfd);
	return 0;
}

/*
 * DMA_SIZE bytes of anonymous memory, filled with 0x5a, DMA-mapped at IOVA
 * for D, with memory decode on (bus mastering stays as it was); NULL on
 * failure.
 */
static uint8_t *dma_window(void)
{
	uint8_t *mem;

	mem = mmap(NULL, DMA_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	memset(mem, 0x5a, DMA_SIZE);
	if (dma_map(&D, mem, IOVA, DMA_SIZE) ||
	    cfg_wr(&D, PCI_COMMAND, 2, PCI_COMMAND_MEMORY)) {
		diag("DMA window at 0x%llx: %s", IOVA, strerror(errno));
		munmap(mem, DMA_SIZE);
		return NULL;
	}
	return mem;
}

static int t_dma(void)
{
	uint64_t done;
	uint8_t *mem, pat[256];

	mem = dma_window();
	CHECK(mem);
	/* Bus mastering off: the device may not DMA. */
	CHECK_OK(reg_wr(&D, VT_REG_DMA_IOVA, IOVA + 0x1000));
	CHECK_OK(reg_wr(&D, VT_REG_DMA_LEN, sizeof(pat)));
	CHECK_OK(reg_wr(&D, VT_REG_DMA_CMD, VT_DMA_FROM_GUEST));
	CHECK_EQ(reg_rd(&D, VT_REG_DMA_RESULT), (uint64_t)-EPERM);
	CHECK_OK(enable_decode(&D, PCI_COMMAND_MASTER));
	for (unsigned int i = 0; i < sizeof(pat); i++)
		mem[0x1000 + i] = pat[i] = i ^ 0xc3;
	CHECK_OK(reg_wr(&D, VT_REG_DMA_CMD, VT_DMA_FROM_GUEST));
	CHECK_EQ(reg_rd(&D, VT_REG_DMA_RESULT), 0);
	{
		uint8_t got[sizeof(pat)];

		CHECK_EQ(rd(&D, 0, 0, got, sizeof(got)), sizeof(got));
		CHECK(!memcmp(got, pat, sizeof(pat)));
	}
	/* device -> guest, at an unaligned IOVA */
	CHECK_OK(reg_wr(&D, VT_REG_DMA_IOVA, IOVA + 0x3003));
	CHECK_OK(reg_wr(&D, VT_REG_DMA_CMD, VT_DMA_TO_GUEST));
	CHECK_EQ(reg_rd(&D, VT_REG_DMA_RESULT), 0);
	CHECK(!memcmp(mem + 0x3003, pat, sizeof(pat)));
	/* unmapped IOVA */
	CHECK_OK(reg_wr(&D, VT_REG_DMA_IOVA, IOVA + DMA_SIZE + 0x100000));
	CHECK_OK(reg_wr(&D, VT_REG_DMA_CMD, VT_DMA_TO_GUEST));
	CHECK((int64_t)reg_rd(&D, VT_REG_DMA_RESULT) < 0);
	/* Pins, then the IOVA goes away: the vendor is told and unpins. */
	for (unsigned int i = 0; i < 3; i++) {
		CHECK_OK(reg_wr(&D, VT_REG_DMA_IOVA, IOVA + 0x2000 * i));
		CHECK_OK(reg_wr(&D, VT_REG_DMA_CMD, VT_DMA_PIN));
		CHECK_EQ(reg_rd(&D, VT_REG_DMA_RESULT), 0);
	}
	CHECK_OK(reg_wr(&D, VT_REG_DMA_IOVA, IOVA + 0x1001));
	CHECK_OK(reg_wr(&D, VT_REG_DMA_CMD, VT_DMA_PIN));
	CHECK_EQ(reg_rd(&D, VT_REG_DMA_RESULT), (uint64_t)-EINVAL);
	CHECK_EQ(reg_rd(&D, VT_REG_PINNED), 3);
	CHECK_OK(dma_unmap(&D, IOVA, DMA_SIZE, &done));
	CHECK_EQ(done, DMA_SIZE);
	CHECK_EQ(reg_rd(&D, VT_REG_PINNED), 0);
	CHECK_OK(reg_wr(&D, VT_REG_DMA_IOVA, IOVA));
	CHECK_OK(reg_wr(&D, VT_REG_DMA_CMD, VT_DMA_PIN));
	CHECK((int64_t)reg_rd(&D, VT_REG_DMA_RESULT) < 0);
	CHECK_OK(munmap(mem, DMA_SIZE));
	return 0;
}

/*
 * Device DMA logging, offered where the kernel can report it: where it has
 * iova_bitmap_set() (vfio.ko up to 6.6, CONFIG_IOMMUFD_DRIVER from 6.7).
 */
static bool kernel_has_iova_bitmap(void)
{
	char line[512], name[128];
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%*s %*s %127s", name) == 1 &&
			!strcmp(name, "iova_bitmap_set");
	fclose(f);
	return found;
}

/* VFIO_DEVICE_FEATURE with @len bytes of payload, copied back; -errno */
static int feature(struct dev *d, uint32_t flags, void *data, size_t len)
{
	uint64_t buf[8] = { 0 };
	struct vfio_device_feature *f = (void *)buf;

	if (sizeof(*f) + len > sizeof(buf))
		return -E2BIG;
	f->argsz = sizeof(*f) + len;
	f->flags = flags;
	memcpy(f->data, data, len);
	if (ioctl(d->fd, VFIO_DEVICE_FEATURE, f))
		return -errno;
	memcpy(data, f->data, len);
	return 0;
}

static int log_start(struct dev *d, uint64_t page, uint64_t iova, uint64_t len,
		     uint64_t *got)
{
	struct vfio_device_feature_dma_logging_range r = { .iova = iova, .length = len };
	struct vfio_device_feature_dma_logging_control c = {
		.page_size = page, .num_ranges = 1, .ranges = (uintptr_t)&r,
	};
	int ret = feature(d, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
			  &c, sizeof(c));

	if (got)
		*got = c.page_size;
	return ret;
}

static int log_stop(struct dev *d)
{
	return feature(d, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
		       NULL, 0);
}

/* Which @page-sized pages of [IOVA, IOVA + DMA_SIZE) the device wrote: a bit each. */
static int64_t log_report(struct dev *d, uint64_t page)
{
	uint64_t bits = 0;
	struct vfio_device_feature_dma_logging_report r = {
		.iova = IOVA, .length = DMA_SIZE, .page_size = page,
		.bitmap = (uintptr_t)&bits,
	};
	int ret = feature(d, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
			  &r, sizeof(r));

	return ret ? ret : (int64_t)bits;
}

static int dma_cmd(struct dev *d, uint64_t iova, uint64_t cmd)
{
	if (reg_wr(d, VT_REG_DMA_IOVA, iova) || reg_wr(d, VT_REG_DMA_CMD, cmd))
		return -EIO;
	return (int)reg_rd(d, VT_REG_DMA_RESULT);
}

static int t_dma_log(void)
{
	uint64_t page = sysconf(_SC_PAGESIZE), got = 0, done;
	uint8_t *mem;

	if (!kernel_has_iova_bitmap()) {
		diag("no iova_bitmap_set in this kernel: DMA logging must not be offered");
		CHECK_EQ(feature(&D, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET |
				 VFIO_DEVICE_FEATURE_DMA_LOGGING_START, NULL, 0), -ENOTTY);
		CHECK_EQ(log_report(&D, page), -ENOTTY);
		return 0;
	}
	CHECK_EQ(page, 4096);
	CHECK_EQ(feature(&D, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET |
			 VFIO_DEVICE_FEATURE_DMA_LOGGING_START, NULL, 0), 0);
	/* from invalid states: a report fails, a stop does nothing */
	CHECK_EQ(log_report(&D, page), -EINVAL);
	CHECK_EQ(log_stop(&D), 0);
	/* hostile starts */
	CHECK_EQ(log_start(&D, 0, IOVA, DMA_SIZE, NULL), -EINVAL);
	CHECK_EQ(log_start(&D, 3, IOVA, DMA_SIZE, NULL), -EINVAL);
	CHECK_EQ(log_start(&D, page, 0, 1ULL << 41, NULL), -E2BIG);
	CHECK_EQ(log_report(&D, page), -EINVAL);
	/* the device logs at its own page size, whatever was hinted */
	CHECK_EQ(log_start(&D, 2 * page, IOVA, DMA_SIZE, &got), 0);
	CHECK_EQ(got, page);
	CHECK_EQ(log_start(&D, page, IOVA, DMA_SIZE, NULL), -EBUSY);
	CHECK_EQ(log_report(&D, page), 0);

	mem = dma_window();
	CHECK(mem);
	CHECK_OK(enable_decode(&D, PCI_COMMAND_MASTER));
	CHECK_OK(reg_wr(&D, VT_REG_DMA_LEN, 256));
	/* reads are not logged; writes are, once, by page */
	CHECK_EQ(dma_cmd(&D, IOVA + 0x1000, VT_DMA_FROM_GUEST), 0);
	CHECK_EQ(log_report(&D, page), 0);
	CHECK_EQ(dma_cmd(&D, IOVA + 0x3003, VT_DMA_TO_GUEST), 0);
	CHECK_EQ(log_report(&D, page), 1 << 3);
	CHECK_EQ(log_report(&D, page), 0);
	CHECK_EQ(dma_cmd(&D, IOVA + 0x4f80, VT_DMA_TO_GUEST), 0);
	CHECK_EQ(log_report(&D, page), 3 << 4);
	/* a coarser report: 8 KiB per bit */
	CHECK_EQ(dma_cmd(&D, IOVA + 0x5000, VT_DMA_TO_GUEST), 0);
	CHECK_EQ(dma_cmd(&D, IOVA + 0xe000, VT_DMA_TO_GUEST), 0);
	CHECK_EQ(log_report(&D, 2 * page), (1 << 2) | (1 << 7));
	CHECK_EQ(log_report(&D, page), 0);
	/* a page pinned writable is reported while pinned, and once after */
	CHECK_EQ(dma_cmd(&D, IOVA + 0x8000, VT_DMA_PIN), 0);
	CHECK_EQ(log_report(&D, page), 1 << 8);
	CHECK_EQ(log_report(&D, page), 1 << 8);
	CHECK_EQ(dma_cmd(&D, 0, VT_DMA_UNPIN_ALL), 0);
	CHECK_EQ(log_report(&D, page), 1 << 8);
	CHECK_EQ(log_report(&D, page), 0);
	/* pinned twice, both dropped by dma_unmap: logged at the last unpin */
	CHECK_EQ(dma_cmd(&D, IOVA + 0xa000, VT_DMA_PIN), 0);
	CHECK_EQ(dma_cmd(&D, IOVA + 0xa000, VT_DMA_PIN), 0);
	CHECK_EQ(log_report(&D, page), 1 << 10);
	CHECK_EQ(reg_rd(&D, VT_REG_PINNED), 2);
	CHECK_OK(dma_unmap(&D, IOVA, DMA_SIZE, &done));
	CHECK_EQ(reg_rd(&D, VT_REG_PINNED), 0);
	CHECK_EQ(log_report(&D, page), 1 << 10);
	CHECK_EQ(log_report(&D, page), 0);
	/* a failed write is logged too: nothing landed, nothing is lost */
	CHECK((int64_t)dma_cmd(&D, IOVA + 0x6000, VT_DMA_TO_GUEST) < 0);
	CHECK_EQ(log_report(&D, page), 1 << 6);
	CHECK_EQ(log_stop(&D), 0);
	CHECK_EQ(log_report(&D, page), -EINVAL);
	CHECK_EQ(log_stop(&D), 0);
	/* a new start begins with an empty log */
	CHECK_EQ(log_start(&D, page, IOVA, DMA_SIZE, NULL), 0);
	CHECK_EQ(log_report(&D, page), 0);
	CHECK_EQ(log_stop(&D), 0);
	CHECK_OK(munmap(mem, DMA_SIZE));
	return 0;
}

static int t_gfx_plane(void)
{
	struct vfio_device_gfx_plane_info p = { .argsz = sizeof(p) };

	p.flags = VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_REGION;
	CHECK_OK(ioctl(D.fd, VFIO_DEVICE_QUERY_GFX_PLANE, &p));
	p.flags = VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_DMABUF;
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_QUERY_GFX_PLANE, &p), EINVAL);
	p.flags = VFIO_GFX_PLANE_TYPE_DMABUF;
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_QUERY_GFX_PLANE, &p), EINVAL);
	p.flags = VFIO_GFX_PLANE_TYPE_REGION;
	p.drm_plane_type = 1;	/* DRM_PLANE_TYPE_PRIMARY */
	CHECK_OK(ioctl(D.fd, VFIO_DEVICE_QUERY_GFX_PLANE, &p));
	CHECK_EQ(p.drm_format, DRM_FORMAT_XRGB8888_);
	CHECK_EQ(p.width, VT_PLANE_W);
	CHECK_EQ(p.height, VT_PLANE_H);
	CHECK_EQ(p.stride, VT_PLANE_W * 4);
	CHECK_EQ(p.region_index, VFIO_PCI_NUM_REGIONS);
	p.flags = VFIO_GFX_PLANE_TYPE_REGION;
	p.drm_plane_type = 2;	/* cursor: off */
	CHECK_OK(ioctl(D.fd, VFIO_DEVICE_QUERY_GFX_PLANE, &p));
	CHECK_EQ(p.drm_format, 0);
	/* QEMU's region path leaves the type 0: the primary plane too */
	p.flags = VFIO_GFX_PLANE_TYPE_REGION;
	p.drm_plane_type = 0;
	CHECK_OK(ioctl(D.fd, VFIO_DEVICE_QUERY_GFX_PLANE, &p));
	CHECK_EQ(p.drm_format, DRM_FORMAT_XRGB8888_);
	CHECK_EQ(p.flags, VFIO_GFX_PLANE_TYPE_REGION);
	/* the big type has no display: plane off */
	p.drm_plane_type = 1;
	CHECK_OK(ioctl(B.fd, VFIO_DEVICE_QUERY_GFX_PLANE, &p));
	CHECK_EQ(p.drm_format, 0);
	p.argsz = 8;
	p.drm_plane_type = 1;
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_QUERY_GFX_PLANE, &p), EINVAL);
	return 0;
}

static const char *importer_path;	/* --importer: dmabuf_import.ko */

/* finit_module() of the module file @path: 0, or -1 with errno */
static int load_ko(const char *path, const char *params)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, params, 0);
	close(fd);
	return ret;
}

/*
 * The plane as a dma-buf, on RAM with struct pages (vgpu_sim's VRAM has
 * none: sim-test covers that): mapped, imported by a device that wants
 * pages, revoked at close.
 */
static int t_gfx_plane_dmabuf(void)
{
	struct vfio_device_gfx_plane_info p = { .argsz = sizeof(p) };
	struct dmabuf_import im = { 0 };
	uint32_t *copy = NULL, word;
	volatile uint32_t *m;
	char u[40], path[256];
	int fd, imp = -1, ret;
	struct dev d;
	unsigned int i;

	make_uuid(u, 0xdb);
	CHECK_OK(mdev_create(SMALL, u));
	snprintf(path, sizeof(path), MDEV_DEVS "/%s/vendor/display_dmabuf", u);
	CHECK_OK(write_file(path, "1"));
	CHECK(!dev_open(&d, u, true));
	p.flags = VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_DMABUF;
	CHECK_OK(ioctl(d.fd, VFIO_DEVICE_QUERY_GFX_PLANE, &p));
	p.flags = VFIO_GFX_PLANE_TYPE_DMABUF;
	p.drm_plane_type = 1;
	CHECK_OK(ioctl(d.fd, VFIO_DEVICE_QUERY_GFX_PLANE, &p));
	CHECK_EQ(p.drm_format, DRM_FORMAT_XRGB8888_);
	CHECK_EQ(p.size, VT_PLANE_W * VT_PLANE_H * 4);
	CHECK(p.dmabuf_id != 0);
	fd = ioctl(d.fd, VFIO_DEVICE_GET_GFX_DMABUF, &p.dmabuf_id);
	CHECK(fd >= 0);
	m = mmap(NULL, p.size, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	for (i = 0; i < p.size / 4; i++)
		CHECK_EQ(m[i], VT_DISP_WORD(i));

	/* a device importer that wants pages gets them here */
	if (importer_path) {
		ret = load_ko(importer_path, "");
		CHECK(!ret || errno == EEXIST);
		imp = open("/dev/vgpu_dmabuf_import", O_RDWR | O_CLOEXEC);
		CHECK(imp >= 0);
		copy = calloc(1, p.size);
		CHECK(copy);
		im.fd = fd;
		im.buf = (uintptr_t)copy;
		im.len = p.size;
		im.flags = DMABUF_IMPORT_STATIC;
		CHECK_ERRNO(ioctl(imp, DMABUF_IMPORT_IMPORT, &im), EOPNOTSUPP);
		im.flags = DMABUF_IMPORT_NO_P2P;
		CHECK_OK(ioctl(imp, DMABUF_IMPORT_IMPORT, &im));
		for (i = 0; i < p.size / 4; i++)
			CHECK_EQ(copy[i], VT_DISP_WORD(i));
	}
	/* the close revokes: the mapping faults, the importer was told */
	dev_close(&d);
	CHECK_EQ(probe_read(&m[0], &word), 1);
	if (imp >= 0) {
		CHECK_ERRNO(ioctl(imp, DMABUF_IMPORT_REMAP, &im), ENODEV);
		CHECK_EQ(im.moves, 1);
		CHECK_OK(ioctl(imp, DMABUF_IMPORT_RELEASE));
		close(imp);
	}
	free(copy);
	munmap((void *)m, p.size);
	close(fd);
	CHECK_OK(mdev_remove(u));
	if (!importer_path) {
		skip_reason = "no --importer: the device import was not tried";
		return SKIP;
	}
	return 0;
}

static int t_tracepoints(void)
{
	const char *t = "/sys/kernel/tracing";
	char path[128], *buf;
	int fd;
	ssize_t n;

	if (access("/sys/kernel/tracing/events", F_OK))
		CHECK_OK(mount("tracefs", t, "tracefs", 0, NULL));
	snprintf(path, sizeof(path), "%s/events/vgpu_vfio/enable", t);
	CHECK_OK(write_file(path, "1"));
	snprintf(path, sizeof(path), "%s/trace", t);
	CHECK_OK(write_file(path, ""));	/* clear */
	CHECK_OK(enable_decode(&D, PCI_COMMAND_MEMORY));
	CHECK_OK(set_irq_none(&D, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	CHECK_EQ(reg_rd(&D, VT_REG_ID), VT_ID_MAGIC);
	CHECK_EQ(dev_raise(&D, 3), (uint64_t)-ENODEV);
	snprintf(path, sizeof(path), "%s/events/vgpu_vfio/enable", t);
	CHECK_OK(write_file(path, "0"));
	buf = calloc(1, 1 << 20);
	CHECK(buf);
	snprintf(path, sizeof(path), "%s/trace", t);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	n = read(fd, buf, (1 << 20) - 1);
	close(fd);
	CHECK(n > 0);
	if (!strstr(buf, "vgpu_vfio_access: ") ||
	    !strstr(buf, "region 2 read 8@0x0 val 0x76677075 ret 0") ||
	    !strstr(buf, "vgpu_vfio_irq: ") || !strstr(buf, "vector 3 ret -19")) {
		diag("trace:\n%s", buf);
		free(buf);
		FAIL("expected events missing");
	}
	free(buf);
	return 0;
}

/* xorshift64*: reproducible hostile input */
static __thread uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dULL;
}

/* An interesting offset: around the edges of some region, or anything. */
static uint64_t rnd_pos(struct dev *d)
{
	unsigned int idx = rnd() % 16;
	uint64_t base = d->reg[0].offset & ~((1ULL << 44) - 1);
	uint64_t size = idx < d->info.num_regions ? d->reg[idx].size : 4096;
	uint64_t off;

	if (rnd() % 5 < 3) {
		/* mostly inside a region that exists */
		do
			idx = rnd() % d->info.num_regions;
		while (!d->reg[idx].size);
		return d->reg[idx].offset + rnd() % d->reg[idx].size;
	}
	switch (rnd() % 4) {
	case 0:
		off = size - (rnd() % 16);
		break;
	case 1:
		off = rnd() % (size + 64);
		break;
	case 2:
		off = rnd() & ((1ULL << 40) - 1);
		break;
	default:
		return rnd() >> (rnd() % 64);
	}
	return base + ((uint64_t)idx << 40) + off;
}

struct fuzz {
	uint64_t seed;
	unsigned int iters;
	const int *efd;
	unsigned int tried[6], okay[6];
};

static void *fuzz_ops(void *arg)
{
	struct fuzz *f = arg;
	const int *efd = f->efd;
	unsigned int *tried = f->tried, *okay = f->okay;
	uint8_t *buf = malloc(8192);
	unsigned int i;

	rnd_state = f->seed;
	for (i = 0; i < f->iters && buf; i++) {
		size_t len = rnd() % 3 ? rnd() % 17 : rnd() % 8192;
		uint64_t pos = rnd_pos(&D);

		for (unsigned int k = 0; k < 64; k++)
			((uint64_t *)buf)[k] = rnd();
		unsigned int op = rnd() % 6;
		long r = 0;

		tried[op]++;
		switch (op) {
		case 0:
			r = pread(D.fd, buf, len, pos);
			break;
		case 1:
			r = pwrite(D.fd, buf, len, pos);
			break;
		case 2: {
			struct vfio_irq_set *s = (void *)buf;

			if (rnd() % 2) {
				/* well-formed: valid index, range, flags and payload */
				static const uint32_t acts[] = { VFIO_IRQ_SET_ACTION_MASK,
					VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_ACTION_TRIGGER };
				static const unsigned int cnt[] = { 1, VT_SMALL_MSI, VT_SMALL_MSIX, 1, 1 };

				s->index = rnd() % 5;
				s->start = rnd() % cnt[s->index];
				s->count = rnd() % (cnt[s->index] - s->start + 1);
				s->flags = acts[rnd() % 3] | (1u << (rnd() % 3));
				s->argsz = sizeof(*s) + 64;
				for (unsigned int k = 0; k < 16; k++)
					((int32_t *)s->data)[k] = rnd() % 4 ? efd[rnd() % 4] : -1;
				r = ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s);
				break;
			}
			s->argsz = rnd() % 3 ? sizeof(*s) + (rnd() % 64) : rnd();
			s->flags = rnd() % 2 ? (1u << (rnd() % 3)) | (1u << (3 + rnd() % 3))
					     : (uint32_t)rnd();
			s->index = rnd() % 2 ? rnd() % 6 : (uint32_t)rnd();
			s->start = rnd() % 2 ? rnd() % 20 : (uint32_t)rnd();
			s->count = rnd() % 2 ? rnd() % 20 : (uint32_t)rnd();
			for (unsigned int k = 0; k < 16; k++)
				((int32_t *)s->data)[k] = rnd() % 2 ? efd[rnd() % 4] :
							  (int32_t)(rnd() % 64) - 1;
			r = ioctl(D.fd, VFIO_DEVICE_SET_IRQS, s);
			break;
		}
		case 3: {
			static const unsigned long cmds[] = {
				VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_REGION_INFO,
				VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_QUERY_GFX_PLANE,
				VFIO_DEVICE_RESET, _IO(VFIO_TYPE, VFIO_BASE + 30),
			};
			((uint32_t *)buf)[0] = rnd() % 4 ? 16 + rnd() % 112 : (uint32_t)rnd();
			r = ioctl(D.fd, cmds[rnd() % 6], buf);
			break;
		}
		case 4: {
			size_t mlen = (1 + rnd() % 4) * 4096;
			void *p = mmap(NULL, mlen, rnd() % 2 ? PROT_READ : PROT_READ | PROT_WRITE,
				       rnd() % 8 ? MAP_SHARED : MAP_PRIVATE, D.fd,
				       pos & ~4095ULL);
			uint32_t x;

			r = -1;
			if (p != MAP_FAILED) {
				r = probe_read(p, &x) ? -1 : 0;
				munmap(p, mlen);
			}
			break;
		}
		default:
			/* config space gets hammered with sensible sizes */
			r = pwrite(D.fd, buf, 1u << (rnd() % 3),
				   D.reg[VFIO_PCI_CONFIG_REGION_INDEX].offset + rnd() % 260);
			break;
		}
		if (r >= 0)
			okay[op]++;
	}
	free(buf);
	return NULL;
}

static int run_fuzz(unsigned int threads, unsigned int iters, uint64_t seed)
{
	struct fuzz f[4];
	pthread_t th[4];
	int efd[4];
	unsigned int i, t;

	/* VGPU_FUZZ_SEED / VGPU_FUZZ_ITERS: longer or different runs by hand */
	if (getenv("VGPU_FUZZ_SEED"))
		seed = strtoull(getenv("VGPU_FUZZ_SEED"), NULL, 0) | 1;
	if (getenv("VGPU_FUZZ_ITERS"))
		iters = strtoul(getenv("VGPU_FUZZ_ITERS"), NULL, 0);
	diag("fuzz seed 0x%llx, %u threads x %u operations",
	     (unsigned long long)seed, threads, iters);
	for (i = 0; i < 4; i++)
		CHECK((efd[i] = eventfd(0, EFD_NONBLOCK)) >= 0);
	for (t = 0; t < threads; t++) {
		memset(&f[t], 0, sizeof(f[t]));
		f[t].seed = seed + 0x1000193 * t;
		f[t].iters = iters;
		f[t].efd = efd;
		CHECK(!pthread_create(&th[t], NULL, fuzz_ops, &f[t]));
	}
	for (t = 0; t < threads; t++) {
		CHECK(!pthread_join(th[t], NULL));
		diag("accepted/tried: read %u/%u write %u/%u set_irqs %u/%u ioctl %u/%u mmap+touch %u/%u config %u/%u",
		     f[t].okay[0], f[t].tried[0], f[t].okay[1], f[t].tried[1],
		     f[t].okay[2], f[t].tried[2], f[t].okay[3], f[t].tried[3],
		     f[t].okay[4], f[t].tried[4], f[t].okay[5], f[t].tried[5]);
	}
	/* Back to a known state; the device must still work. */
	CHECK_OK(ioctl(D.fd, VFIO_DEVICE_RESET));
	for (i = 0; i < 5; i++)
		set_irq_none(&D, i, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0);
	CHECK_EQ(cfg_rd(&D, PCI_VENDOR_ID, 4), VT_VENDOR | (VT_DEVICE_SMALL << 16));
	CHECK_OK(enable_decode(&D, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
	CHECK_EQ(reg_rd(&D, VT_REG_ID), VT_ID_MAGIC);
	CHECK_OK(set_irq_fds(&D, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, efd));
	CHECK_OK(cfg_wr(&D, find_cap(&D, PCI_CAP_ID_MSIX) + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE));
	ev_count(efd[0]);
	CHECK_EQ(dev_raise(&D, 0), 0);
	CHECK_EQ(ev_count(efd[0]), 1);
	CHECK_OK(set_irq_none(&D, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	CHECK_OK(ioctl(D.fd, VFIO_DEVICE_RESET));
	for (i = 0; i < 4; i++)
		close(efd[i]);
	return 0;
}

static int t_fuzz(void)
{
	return run_fuzz(1, 20000, 0x9e3779b97f4a7c15ULL);
}

/* The same, from 4 threads at once on one device: races, not just input. */
static int t_fuzz_threads(void)
{
	return run_fuzz(4, 5000, 0x51ed270b27a1f7c5ULL);
}

/*
 * Every region that is reported works as its flags say (REVIEW.md 10): its
 * first and last bytes read back, and writes succeed exactly when the WRITE
 * flag is set (what was read is written back). Both vGPU types.
 */
static int regions_as_flagged(struct dev *d)
{
	CHECK_OK(enable_decode(d, PCI_COMMAND_MEMORY | PCI_COMMAND_IO));
	for (unsigned int i = 0; i < d->info.num_regions; i++) {
		struct vfio_region_info *r = &d->reg[i];
		uint64_t at[2] = { 0, r->size - 4 };
		uint32_t v;

		if (!r->size) {
			CHECK_EQ(r->flags, 0);
			continue;
		}
		CHECK(r->flags & VFIO_REGION_INFO_FLAG_READ);
		for (unsigned int k = 0; k < 2; k++) {
			if (rd(d, i, at[k], &v, 4) != 4)
				FAIL("region %u: read at 0x%llx", i, (unsigned long long)at[k]);
			if (r->flags & VFIO_REGION_INFO_FLAG_WRITE) {
				if (wr(d, i, at[k], &v, 4) != 4)
					FAIL("region %u: write at 0x%llx", i,
					     (unsigned long long)at[k]);
			} else {
				CHECK_ERRNO(wr(d, i, at[k], &v, 4), EINVAL);
			}
		}
	}
	CHECK_OK(cfg_wr(d, PCI_COMMAND, 2, 0));
	return 0;
}

static int t_regions_as_flagged(void)
{
	CHECK_OK(regions_as_flagged(&D));
	CHECK_OK(regions_as_flagged(&B));
	return 0;
}

/* Copy failures are -EFAULT for every ioctl, never a byte count (REVIEW.md 3). */
static int t_ioctl_efault(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct vfio_region_info *ri;
	uint8_t *p;

	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_GET_REGION_INFO, bad_ptr), EFAULT);
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_GET_IRQ_INFO, bad_ptr), EFAULT);
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_SET_IRQS, bad_ptr), EFAULT);
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_QUERY_GFX_PLANE, bad_ptr), EFAULT);
	/* The info fits, the capability chain after it does not: -EFAULT. */
	p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK_OK(munmap(p + pg, pg));
	ri = (void *)(p + pg - sizeof(*ri));
	memset(ri, 0, sizeof(*ri));
	ri->argsz = 512;
	ri->index = VFIO_PCI_BAR0_REGION_INDEX;
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_GET_REGION_INFO, ri), EFAULT);
	CHECK_OK(munmap(p, pg));
	CHECK_EQ(cfg_rd(&D, PCI_VENDOR_ID, 2), VT_VENDOR);
	return 0;
}

static int t_unknown_ioctl(void)
{
	char buf[64] = { 0 };

	CHECK_ERRNO(ioctl(D.fd, _IO(VFIO_TYPE, VFIO_BASE + 60), buf), ENOTTY);
	CHECK_ERRNO(ioctl(D.fd, 0x12345678, buf), ENOTTY);
	CHECK_ERRNO(ioctl(D.fd, VFIO_DEVICE_IOEVENTFD, buf), ENOTTY);
	return 0;
}

/* vgpu_test has no state ops: no migration feature, as vgpu.h promises. */
static int t_no_migration(void)
{
	struct vfio_device_feature_migration m = { 0 };
	struct vfio_device_feature_mig_state st = { .device_state = VFIO_DEVICE_STATE_STOP };

	CHECK_EQ(feature(&D, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION,
			 &m, sizeof(m)), -ENOTTY);
	CHECK_EQ(feature(&D, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
			 VFIO_DEVICE_FEATURE_MIGRATION, &m, sizeof(m)), -ENOTTY);
	CHECK_EQ(feature(&D, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			 &st, sizeof(st)), -ENOTTY);
	CHECK_EQ(cfg_rd(&D, PCI_VENDOR_ID, 2), VT_VENDOR);
	return 0;
}

static int t_second_container(void)
{
	char gp[300];

	int c2;

	CHECK(!group_path(D.uuid, gp, sizeof(gp)));
	/* A VFIO group has one owner at a time; a bound cdev fences it off. */
	CHECK_ERRNO(open(gp, O_RDWR), EBUSY);
	if (use_iommufd) {
		/* and the cdev path has no second opener of a bound device */
		c2 = cdev_open_bound(&D);
		if (c2 >= 0)
			close(c2);
		CHECK_EQ(c2, -1);
		CHECK_EQ(errno, EINVAL);
	} else {
		/* and one container: a second one cannot claim it */
		c2 = open("/dev/vfio/vfio", O_RDWR);
		CHECK(c2 >= 0);
		CHECK_ERRNO(ioctl(D.group, VFIO_GROUP_SET_CONTAINER, &c2),
			    EINVAL);
		close(c2);
	}
	CHECK_EQ(cfg_rd(&D, PCI_VENDOR_ID, 2), VT_VENDOR);
	return 0;
}

static int t_reopen_clean(void)
{
	unsigned int msi = find_cap(&D, PCI_CAP_ID_MSI);
	int e = eventfd(0, EFD_NONBLOCK);
	uint64_t v = 42;

	CHECK(e >= 0);
	CHECK_OK(cfg_wr(&D, PCI_BASE_ADDRESS_0, 4, 0xfe000000));
	CHECK_OK(cfg_wr(&D, PCI_BASE_ADDRESS_2, 4, 0xfd000000));
	CHECK_OK(cfg_wr(&D, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
	CHECK_OK(cfg_wr(&D, msi + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE));
	CHECK_OK(set_irq_fds(&D, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &e));
	CHECK_OK(reg_wr(&D, VT_REG_SCRATCH, v));
	close(D.fd);
	CHECK_OK(dev_open_fd(&D));
	CHECK_EQ(cfg_rd(&D, PCI_BASE_ADDRESS_0, 4),
		 PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);
	CHECK_EQ(cfg_rd(&D, PCI_BASE_ADDRESS_2, 4), 0);
	CHECK_EQ(cfg_rd(&D, PCI_COMMAND, 2), 0);
	CHECK_EQ(cfg_rd(&D, msi + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE, 0);
	CHECK_OK(enable_decode(&D, PCI_COMMAND_MEMORY));
	CHECK_EQ(reg_rd(&D, VT_REG_SCRATCH), 0);	/* vendor reset at open */
	CHECK_EQ(dev_raise(&D, 0), (uint64_t)-ENODEV);	/* no stale trigger */
	CHECK_EQ(ev_count(e), 0);
	close(e);
	return 0;
}

static bool lockdep_at_start;

/* /proc/lockdep_stats says "debug_locks: 0" once a report turned lockdep off. */
static bool lockdep_on(void)
{
	char line[128];
	bool on = false;
	FILE *f = fopen("/proc/lockdep_stats", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "debug_locks:"))
			on = strtol(strchr(line, ':') + 1, NULL, 10) == 1;
	if (f)
		fclose(f);
	return on;
}

static int t_open_close_1000(void)
{
	/* Our fd closed first, so each cycle is a real first open/last close. */
	close(D.fd);
	D.fd = -1;
	for (unsigned int i = 0; i < 1000; i++) {
		int fd = dev_new_fd(&D);

		if (fd < 0)
			FAIL("opening the device failed at cycle %u", i);
		close(fd);
	}
	CHECK_OK(dev_open_fd(&D));
	CHECK_EQ(cfg_rd(&D, PCI_VENDOR_ID, 2), VT_VENDOR);
	return 0;
}

/* ================= tests: lifecycle ================= */

struct remover {
	char uuid[40];
	int ret, err;
	const char *path, *val;
};

static void *remover_thread(void *arg)
{
	struct remover *r = arg;

	if (r->path)
		r->ret = write_file(r->path, r->val);
	else
		r->ret = mdev_remove(r->uuid);
	r->err = errno;
	return NULL;
}

static int wait_event(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 ? 0 : -1;
}

static int t_remove_while_open(void)
{
	struct remover r = { .ret = -2 };
	pthread_t th;
	struct dev d;
	int req = eventfd(0, EFD_NONBLOCK);

	CHECK(req >= 0);
	make_uuid(r.uuid, 0x7e0);
	CHECK_OK(mdev_create(SMALL, r.uuid));
	CHECK(!dev_open(&d, r.uuid, true));
	CHECK_OK(set_irq_fds(&d, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &req));
	CHECK(!pthread_create(&th, NULL, remover_thread, &r));
	CHECK_OK(wait_event(req, 10000));
	CHECK_EQ(ev_count(req), 1);
	usleep(200000);
	CHECK_EQ(r.ret, -2);	/* still waiting for us */
	/* No global lock held meanwhile: another vGPU is created, used, removed. */
	{
		struct dev d2;
		char u2[40];

		make_uuid(u2, 0x7e5);
		CHECK_OK(mdev_create(BIG, u2));
		CHECK(!dev_open(&d2, u2, false));
		CHECK_EQ(cfg_rd(&d2, PCI_DEVICE_ID, 2), VT_DEVICE_BIG);
		dev_close(&d2);
		CHECK(!dev_open(&d2, u2, false));
		dev_close(&d2);
		CHECK_OK(mdev_remove(u2));
		CHECK_EQ(r.ret, -2);
	}
	dev_close(&d);
	CHECK(!pthread_join(th, NULL));
	CHECK_EQ(r.ret, 0);
	CHECK(!mdev_exists(r.uuid));
	CHECK_EQ(avail(SMALL), VT_SMALL_MAX);
	close(req);
	return 0;
}

static int t_use_after_remove(void)
{
	char u[40], gp[300];
	struct dev d;
	int fd;

	make_uuid(u, 0x7e1);
	CHECK_OK(mdev_create(SMALL, u));
	CHECK(!dev_open(&d, u, true));
	close(d.fd);
	d.fd = -1;
	CHECK(!group_path(u, gp, sizeof(gp)));
	CHECK_OK(mdev_remove(u));
	/* The group fd outlives the device: getting it again fails cleanly. */
	fd = ioctl(d.group, VFIO_GROUP_GET_DEVICE_FD, u);
	CHECK(fd < 0);
	CHECK(errno == ENODEV || errno == EINVAL);
	dev_close(&d);
	CHECK_ERRNO(open(gp, O_RDWR), ENOENT);
	CHECK_ERRNO(mdev_remove(u), ENOENT);
	return 0;
}

static int t_cycles_1000(void)
{
	char u[40];

	for (unsigned int i = 0; i < 1000; i++) {
		make_uuid(u, 0x10000 + i);
		if (mdev_create(i & 1 ? BIG : SMALL, u))
			FAIL("create failed at cycle %u", i);
		if (mdev_remove(u))
			FAIL("remove failed at cycle %u", i);
	}
	CHECK_EQ(avail(SMALL), VT_SMALL_MAX);
	CHECK_EQ(avail(BIG), VT_BIG_MAX);
	return 0;
}

struct creator {
	unsigned int base, made;
};

static void *creator_thread(void *arg)
{
	struct creator *c = arg;
	char u[40];

	for (unsigned int i = 0; i < 64; i++) {
		make_uuid(u, c->base + i);
		if (!mdev_create(SMALL, u))
			c->made++;
	}
	return NULL;
}

static int t_concurrent_create(void)
{
	struct creator a = { .base = 0x20000 }, b = { .base = 0x30000 };
	pthread_t ta, tb;
	char u[40];
	unsigned int i, n = 0;

	CHECK(!pthread_create(&ta, NULL, creator_thread, &a));
	CHECK(!pthread_create(&tb, NULL, creator_thread, &b));
	CHECK(!pthread_join(ta, NULL));
	CHECK(!pthread_join(tb, NULL));
	CHECK_EQ(a.made + b.made, VT_SMALL_MAX);
	CHECK_EQ(avail(SMALL), 0);
	for (i = 0; i < 64; i++) {
		make_uuid(u, a.base + i);
		if (mdev_exists(u) && !mdev_remove(u))
			n++;
		make_uuid(u, b.base + i);
		if (mdev_exists(u) && !mdev_remove(u))
			n++;
	}
	CHECK_EQ(n, VT_SMALL_MAX);
	CHECK_EQ(avail(SMALL), VT_SMALL_MAX);
	return 0;
}

static int t_module_unload_busy(void)
{
	char u[40];

	make_uuid(u, 0x7e2);
	CHECK_OK(mdev_create(BIG, u));
	CHECK_ERRNO(syscall(SYS_delete_module, "vgpu_test", O_NONBLOCK), EWOULDBLOCK);
	CHECK_ERRNO(syscall(SYS_delete_module, "vgpu_vfio", O_NONBLOCK), EWOULDBLOCK);
	CHECK_ERRNO(syscall(SYS_delete_module, "vgpu", O_NONBLOCK), EWOULDBLOCK);
	CHECK(mdev_exists(u));
	CHECK_OK(mdev_remove(u));
	return 0;
}

static int t_unregister_with_open(void)
{
	struct remover r = { .ret = -2, .path = DRIVER "/unbind",
			     .val = "vgpu_test.0" };
	char u2[40];
	pthread_t th;
	struct dev d;
	int req = eventfd(0, EFD_NONBLOCK);

	CHECK(req >= 0);
	make_uuid(r.uuid, 0x7e3);
	make_uuid(u2, 0x7e4);
	CHECK_OK(mdev_create(SMALL, r.uuid));
	CHECK_OK(mdev_create(BIG, u2));
	CHECK(!dev_open(&d, r.uuid, true));
	CHECK_OK(set_irq_fds(&d, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &req));
	CHECK(!pthread_create(&th, NULL, remover_thread, &r));
	CHECK_OK(wait_event(req, 10000));
	dev_close(&d);
	CHECK(!pthread_join(th, NULL));
	CHECK_EQ(r.ret, 0);
	CHECK(!mdev_exists(r.uuid));
	CHECK(!mdev_exists(u2));
	CHECK(access(TYPES, F_OK) != 0);
	/* Bind again: the types come back complete. */
	CHECK_OK(write_file(DRIVER "/bind", "vgpu_test.0"));
	CHECK_EQ(avail(SMALL), VT_SMALL_MAX);
	CHECK_EQ(avail(BIG), VT_BIG_MAX);
	close(req);
	return 0;
}

struct churn {
	volatile int stop;
	unsigned int made, opened;
};

/* Creates, sometimes opens, and removes vGPUs while the GPU comes and goes. */
static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	char u[40];

	for (unsigned int i = 0; !c->stop; i++) {
		struct dev d;

		make_uuid(u, 0x40000 + i % 64);
		if (mdev_create(i & 1 ? BIG : SMALL, u))
			continue;
		c->made++;
		if (i % 3 == 0 && !dev_open(&d, u, !(i & 1)))
			c->opened++;
		if (i % 3 == 0)
			dev_close(&d);
		mdev_remove(u);
	}
	return NULL;
}

/*
 * Unregistering the GPU (driver unbind) while vGPUs are being created, opened
 * and removed: no oops (the lab panics on one), nothing left behind, capacity
 * exact once the GPU is back.
 */
static int t_unregister_races_create(void)
{
	struct churn c = { 0 };
	pthread_t th[2];
	char u[40];

	for (unsigned int t = 0; t < 2; t++)
		CHECK(!pthread_create(&th[t], NULL, churn_thread, &c));
	for (unsigned int i = 0; i < 20; i++) {
		usleep(20000 + (i % 5) * 15000);
		CHECK_OK(write_file(DRIVER "/unbind", "vgpu_test.0"));
		usleep(5000 + (i % 3) * 10000);
		CHECK_OK(write_file(DRIVER "/bind", "vgpu_test.0"));
	}
	c.stop = 1;
	for (unsigned int t = 0; t < 2; t++)
		CHECK(!pthread_join(th[t], NULL));
	diag("%u vGPUs created, %u opened while the GPU was unbound 20 times",
	     c.made, c.opened);
	CHECK(c.made > 0);
	for (unsigned int i = 0; i < 64; i++) {
		make_uuid(u, 0x40000 + i);
		if (mdev_exists(u))
			CHECK_OK(mdev_remove(u));
	}
	CHECK_EQ(avail(SMALL), VT_SMALL_MAX);
	CHECK_EQ(avail(BIG), VT_BIG_MAX);
	CHECK_EQ(read_long(ROOM), 1000);
	return 0;
}

/*
 * udev/mdevctl act on the parent's MDEV_STATE=registered uevent: by then
 * every type must be complete. Checked the moment the event arrives.
 */
static int t_uevent_types_complete(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	char buf[8192];
	int s, seen = 0;

	s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	CHECK(s >= 0);
	CHECK_OK(bind(s, (struct sockaddr *)&sa, sizeof(sa)));
	CHECK_OK(write_file(DRIVER "/unbind", "vgpu_test.0"));
	CHECK(access(TYPES, F_OK) != 0);
	/* bind from another thread, so the check runs as the event arrives */
	struct remover binder = { .ret = -2, .path = DRIVER "/bind", .val = "vgpu_test.0" };
	pthread_t th;

	CHECK(!pthread_create(&th, NULL, remover_thread, &binder));
	while (!seen) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		ssize_t n;
		bool reg = false, ours = false;

		if (poll(&p, 1, 5000) != 1)
			FAIL("no MDEV_STATE=registered uevent within 5 s");
		n = recv(s, buf, sizeof(buf) - 1, 0);
		CHECK(n > 0);
		buf[n] = 0;
		/* NUL-separated "key=value" strings after the header */
		for (char *k = buf; k < buf + n; k += strlen(k) + 1) {
			if (!strcmp(k, "MDEV_STATE=registered"))
				reg = true;
			if (!strncmp(k, "DEVPATH=", 8) && strstr(k, "/vgpu_test.0"))
				ours = true;
		}
		if (reg && ours) {
			seen = 1;
			CHECK_EQ(avail(SMALL), VT_SMALL_MAX);
			CHECK_EQ(avail(BIG), VT_BIG_MAX);
			CHECK(access(SMALL "/create", W_OK) == 0);
			CHECK(access(BIG "/description", R_OK) == 0);
		}
	}
	close(s);
	CHECK(!pthread_join(th, NULL));
	CHECK_EQ(binder.ret, 0);
	return 0;
}

/*
 * The vendor/ group exists before anything announces a usable vGPU: the VFIO
 * group's ADD uevent (udev sets /dev/vfio/N up then, and a user may open it)
 * and the mdev's BIND. Checked the moment each event arrives, for several
 * creations. (The mdev's own ADD precedes every driver's probe: mdev core
 * fixes the device's groups, so rules wanting vendor/ match on "bind".)
 */
static int t_vendor_attrs_at_uevents(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int s, missing = 0, checks = 0;
	char buf[8192], vendor[256];

	s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	CHECK(s >= 0);
	CHECK_OK(bind(s, (struct sockaddr *)&sa, sizeof(sa)));
	for (unsigned int i = 0; i < 20; i++) {
		struct remover creator = { .ret = -2, .path = SMALL "/create" };
		bool bound = false, group = false;
		pthread_t th;

		make_uuid(creator.uuid, 0xe000 + i);
		creator.val = creator.uuid;
		snprintf(vendor, sizeof(vendor), MDEV_DEVS "/%s/vendor/label",
			 creator.uuid);
		CHECK(!pthread_create(&th, NULL, remover_thread, &creator));
		while (!bound || !group) {
			struct pollfd p = { .fd = s, .events = POLLIN };
			bool add = false, bind_ev = false, vfio = false, ours = false;
			ssize_t n;

			if (poll(&p, 1, 5000) != 1)
				FAIL("no bind/vfio uevents within 5 s (bind %d group %d)",
				     bound, group);
			n = recv(s, buf, sizeof(buf) - 1, 0);
			CHECK(n > 0);
			buf[n] = 0;
			for (char *k = buf; k < buf + n; k += strlen(k) + 1) {
				add |= !strcmp(k, "ACTION=add");
				bind_ev |= !strcmp(k, "ACTION=bind");
				vfio |= !strcmp(k, "SUBSYSTEM=vfio");
				ours |= !strncmp(k, "DEVPATH=", 8) &&
					strstr(k, creator.uuid);
			}
			if ((add && vfio) || (bind_ev && ours)) {
				checks++;
				if (access(vendor, W_OK)) {
					missing++;
					diag("vendor/label missing at %s of %s",
					     bind_ev ? "bind" : "the VFIO group's add",
					     creator.uuid);
				}
				bound |= bind_ev && ours;
				group |= add && vfio;
			}
		}
		CHECK(!pthread_join(th, NULL));
		CHECK_EQ(creator.ret, 0);
		CHECK_OK(mdev_remove(creator.uuid));
	}
	close(s);
	CHECK_EQ(checks, 40);
	CHECK_EQ(missing, 0);
	return 0;
}

/* mdevctl (what libvirt's nodedev-create runs) creates a vGPU with attrs. */
static int t_mdevctl(void)
{
	const char *u = "1c0ffee0-0000-4000-8000-0000000000aa";
	char cmd[512], p[256], buf[64];
	FILE *f;

	f = fopen("/tmp/vgpu-core-test-mdev.json", "w");
	CHECK(f);
	fputs("{\"mdev_type\":\"vgpu_test-small\",\"start\":\"manual\","
	      "\"attrs\":[{\"vendor/label\":\"via-mdevctl\"}]}", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "mdevctl start -p vgpu_test.0 --uuid %s "
		 "--jsonfile /tmp/vgpu-core-test-mdev.json", u);
	CHECK_EQ(system(cmd), 0);
	snprintf(p, sizeof(p), MDEV_DEVS "/%s/vendor/label", u);
	CHECK(!read_file(p, buf, sizeof(buf)));
	CHECK(!strcmp(buf, "via-mdevctl"));
	CHECK_EQ(avail(SMALL), VT_SMALL_MAX - 1);
	snprintf(cmd, sizeof(cmd), "mdevctl stop --uuid %s", u);
	CHECK_EQ(system(cmd), 0);
	CHECK(!mdev_exists(u));
	CHECK_EQ(avail(SMALL), VT_SMALL_MAX);
	unlink("/tmp/vgpu-core-test-mdev.json");
	return 0;
}

/* vgpu_test checks the services in every create and destroy (REVIEW 16). */
static int t_closed_services(void)
{
	CHECK(read_long("/sys/module/vgpu_test/parameters/api_checks") > 0);
	CHECK_EQ(read_long("/sys/module/vgpu_test/parameters/api_errors"), 0);
	return 0;
}

static int t_module_unload(void)
{
	CHECK_OK(syscall(SYS_delete_module, "vgpu_test", O_NONBLOCK));
	CHECK(access(PARENT, F_OK) != 0);
	return 0;
}

/* ================= tests: the huge type (--huge-base) ================= */

/*
 * The huge type's 1 GiB BAR0 is physical memory the lab keeps from the
 * kernel (memmap=1G$ADDR), 1 GiB-aligned, so that where the kernel takes
 * huge PFN maps (6.12) a fault can map all of it with one PUD entry. The
 * vgpu_vfio_fault tracepoint counts faults and the pages each mapped; which
 * accesses fault again after a hole is punched shows the page-table level.
 */
#define HUGE		TYPES "/vgpu_test-huge"
#define TRACEFS		"/sys/kernel/tracing"
#define GiB		(1UL << 30)
#define PMD_PAGES	512UL		/* 2 MiB of 4 KiB pages */
#define PUD_PAGES	262144UL	/* 1 GiB of 4 KiB pages */

static unsigned long huge_base;	/* --huge-base: the lab's reserved range */
static struct dev H;		/* the huge vGPU, open */

static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

/* The client's huge tests need 6.12's huge PFN maps; older kernels map PTEs. */
static int need_huge_pfnmap(void)
{
	if (kernel_at_least(6, 12))
		return 0;
	skip_reason = "no huge PFN maps before Linux 6.12 (faults map PTEs there)";
	return SKIP;
}

struct faults {
	unsigned int n;		/* faults that mapped (VM_FAULT_NOPAGE) */
	unsigned int other;	/* faults that ended otherwise (SIGBUS...) */
	unsigned int puds;	/* faults that mapped exactly 1 GiB */
	unsigned int pmds;	/* ... exactly 2 MiB */
	unsigned long pages;	/* all pages mapped */
	unsigned long max;	/* the most one fault mapped */
};

static int trace_clear(void)
{
	int fd = open(TRACEFS "/trace", O_WRONLY | O_TRUNC);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int trace_faults_start(bool on)
{
	if (access(TRACEFS "/events", F_OK) &&
	    mount("tracefs", TRACEFS, "tracefs", 0, NULL))
		return -1;
	if (write_file(TRACEFS "/events/vgpu_vfio/vgpu_vfio_fault/enable",
		       on ? "1" : "0"))
		return -1;
	return trace_clear();
}

/* The faults of vGPU @cookie since the last call (or start); clears the trace. */
static int trace_faults(unsigned int cookie, struct faults *f)
{
	char want[64], line[512];
	FILE *tf;

	memset(f, 0, sizeof(*f));
	snprintf(want, sizeof(want), "vgpu_vfio_fault: vgpu %u ", cookie);
	tf = fopen(TRACEFS "/trace", "r");
	if (!tf)
		return -1;
	while (fgets(line, sizeof(line), tf)) {
		const char *e = strstr(line, want), *m;
		unsigned long pages;
		unsigned int ret;

		if (!e)
			continue;
		m = strstr(e, " mapped ");
		if (!m || sscanf(m, " mapped %lu pages vm_fault 0x%x", &pages, &ret) != 2) {
			fclose(tf);
			errno = EINVAL;
			return -1;
		}
		if (ret != 0x100) {	/* VM_FAULT_NOPAGE */
			f->other++;
			continue;
		}
		f->n++;
		f->pages += pages;
		f->puds += pages == PUD_PAGES;
		f->pmds += pages == PMD_PAGES;
		if (pages > f->max)
			f->max = pages;
	}
	fclose(tf);
	diag("faults: %u mapped (%u x 1 GiB, %u x 2 MiB, %lu pages, at most %lu), %u other",
	     f->n, f->puds, f->pmds, f->pages, f->max, f->other);
	return trace_clear();
}

/* One read per page: every page of [p, p + len) is mapped after it. */
static uint64_t touch(volatile uint8_t *p, size_t len)
{
	uint64_t x = 0;

	for (size_t i = 0; i < len; i += 4096)
		x += p[i];
	return x;
}

/*
 * @len bytes of BAR0 from @off at an address @skew bytes past a 1 GiB
 * boundary: a PROT_NONE reservation trimmed by the device mapping over it.
 */
static volatile uint8_t *map_huge(size_t len, uint64_t off, size_t skew,
				  void **resv, size_t *resv_len)
{
	uint8_t *r, *a;

	*resv_len = len + skew + GiB;
	r = mmap(NULL, *resv_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		 MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		return NULL;
	*resv = r;
	a = (uint8_t *)(((uintptr_t)r + GiB - 1) & ~(uintptr_t)(GiB - 1)) + skew;
	if (mmap(a, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, H.fd,
		 H.reg[VFIO_PCI_BAR0_REGION_INDEX].offset + off) != a) {
		munmap(r, *resv_len);
		return NULL;
	}
	/* unmap_all() (after a failed test) takes the reservation with it */
	for (unsigned int i = 0; i < 16; i++) {
		if (!maps[i].p) {
			maps[i].p = r;
			maps[i].len = *resv_len;
			break;
		}
	}
	return a;
}

static unsigned int bar0_cookie(void)
{
	return H.reg[VFIO_PCI_BAR0_REGION_INDEX].offset >> 44;
}

/* The type exists only with huge_base, takes the reserved range, one at a time. */
static int t_huge_type(void)
{
	char u[40], line[256], want[128];
	struct vfio_region_info *r0;
	bool claimed = false;
	FILE *f;

	snprintf(want, sizeof(want), "%lx-%lx : vgpu_test huge", huge_base,
		 huge_base + GiB - 1);
	f = fopen("/proc/iomem", "r");
	CHECK(f);
	while (fgets(line, sizeof(line), f))
		claimed |= strstr(line, want) != NULL;
	fclose(f);
	if (!claimed)
		FAIL("/proc/iomem has no '%s'", want);
	CHECK_EQ(avail(HUGE), 1);
	make_uuid(u, 0xe0);
	CHECK_OK(mdev_create(HUGE, u));
	CHECK_EQ(avail(HUGE), 0);
	make_uuid(u, 0xe1);
	CHECK_ERRNO(mdev_create(HUGE, u), EUSERS);
	CHECK(!mdev_exists(u));
	make_uuid(u, 0xe0);
	CHECK_OK(dev_open(&H, u, false));
	r0 = &H.reg[VFIO_PCI_BAR0_REGION_INDEX];
	CHECK_EQ(r0->size, GiB);
	CHECK(r0->flags & VFIO_REGION_INFO_FLAG_MMAP);
	CHECK_EQ(cfg_rd(&H, PCI_DEVICE_ID, 2), VT_DEVICE_HUGE);
	/* a 64-bit prefetchable BAR sized 1 GiB */
	CHECK_OK(cfg_wr(&H, PCI_BASE_ADDRESS_0, 4, 0xffffffff));
	CHECK_EQ(cfg_rd(&H, PCI_BASE_ADDRESS_0, 4), (uint32_t)-GiB | 0xc);
	CHECK_OK(enable_decode(&H, PCI_COMMAND_MEMORY));
	return 0;
}

/* Values only this run writes: where they read back, the right memory is there. */
static uint64_t huge_word(uint64_t off, unsigned int round)
{
	return 0x9e3779b97f4a7c15ULL * (off + 1) ^ ((uint64_t)round << 56) ^
	       (uint64_t)getpid();
}

static const uint64_t huge_offs[] = {
	0, 8, 4096, 2UL << 20, (512UL << 20) - 8, 512UL << 20, (512UL << 20) + (1UL << 20),
	(768UL << 20) + 4088, GiB - 4096, GiB - 8,
};
#define NR_HUGE_OFFS (sizeof(huge_offs) / sizeof(huge_offs[0]))

/* Mapping and trapped access see the same memory, both ways. */
static int huge_data(volatile uint8_t *m, unsigned int round, bool skip_hole)
{
	for (unsigned int i = 0; i < NR_HUGE_OFFS; i++) {
		uint64_t off = huge_offs[i], v = huge_word(off, round), got = 0;

		if (skip_hole && off >= (512UL << 20) + (1UL << 20) &&
		    off < (512UL << 20) + (1UL << 20) + 4096)
			continue;
		*(volatile uint64_t *)(m + off) = v;
		CHECK_EQ(rd(&H, VFIO_PCI_BAR0_REGION_INDEX, off, &got, 8), 8);
		CHECK_EQ(got, v);
		v = ~v;
		CHECK_EQ(wr(&H, VFIO_PCI_BAR0_REGION_INDEX, off, &v, 8), 8);
		CHECK_EQ(*(volatile uint64_t *)(m + off), v);
	}
	return 0;
}

/*
 * A 1 GiB-aligned mapping of the whole BAR: one fault maps 262144 pages. Then
 * the level: memory disable zaps it (the next access faults, once, for the
 * whole GiB again); a hole punched in the middle drops the PUD entry as a
 * whole, so the rest faults again in 2 MiB blocks, PTEs next to the hole.
 */
static int t_huge_pud(void)
{
	const size_t hole = (512UL << 20) + (1UL << 20);
	volatile uint8_t *m;
	struct faults f;
	uint32_t dummy;
	size_t resv_len;
	void *resv;
	char thp[128] = "";
	int ret = need_huge_pfnmap();

	if (ret)
		return ret;
	read_file("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof(thp));
	diag("kernel with huge PFN maps, THP %s", thp);
	CHECK_OK(trace_faults_start(true));
	m = map_huge(GiB, 0, 0, &resv, &resv_len);
	CHECK(m);

	touch(m + 12345 * 4096, 1);
	CHECK_OK(trace_faults(bar0_cookie(), &f));
	CHECK_EQ(f.n, 1);
	CHECK_EQ(f.puds, 1);
	CHECK_EQ(f.other, 0);
	/* all of it is mapped now: no page faults again */
	touch(m, GiB);
	CHECK_OK(trace_faults(bar0_cookie(), &f));
	CHECK_EQ(f.n + f.other, 0);
	if (huge_data(m, 1, false))
		return -1;

	/* memory disable zaps the PUD entry: SIGBUS, then one PUD fault again */
	CHECK_OK(cfg_wr(&H, PCI_COMMAND, 2, cfg_rd(&H, PCI_COMMAND, 2) & ~PCI_COMMAND_MEMORY));
	CHECK_EQ(probe_read((volatile uint32_t *)(m + (700UL << 20)), &dummy), 1);
	CHECK_OK(enable_decode(&H, PCI_COMMAND_MEMORY));
	touch(m, GiB);
	CHECK_OK(trace_faults(bar0_cookie(), &f));
	CHECK_EQ(f.other, 1);	/* the SIGBUS */
	CHECK_EQ(f.n, 1);
	CHECK_EQ(f.puds, 1);
	if (huge_data(m, 2, false))
		return -1;

	/*
	 * A page unmapped at 513 MiB: [0, 512M) faults as 256 PMDs, [512M,
	 * 513M) as one PTE batch; past the hole a PTE batch up to 514M and 255
	 * PMDs. 262143 pages in 513 faults, the data still there.
	 */
	CHECK_OK(munmap((void *)(m + hole), 4096));
	touch(m, hole);
	touch(m + hole + 4096, GiB - hole - 4096);
	CHECK_OK(trace_faults(bar0_cookie(), &f));
	CHECK_EQ(f.other, 0);
	CHECK_EQ(f.puds, 0);
	CHECK_EQ(f.pmds, 511);
	CHECK_EQ(f.n, 513);
	CHECK_EQ(f.pages, PUD_PAGES - 1);
	for (unsigned int i = 0; i < NR_HUGE_OFFS; i++) {
		uint64_t off = huge_offs[i];

		if (off < hole || off >= hole + 4096)
			CHECK_EQ(*(volatile uint64_t *)(m + off), ~huge_word(off, 2));
	}
	if (huge_data(m, 3, true))
		return -1;
	CHECK_OK(unmap_dev(resv));
	CHECK_OK(trace_faults_start(false));
	return 0;
}

/*
 * The fallback: 1 GiB of BAR0 at an address 2 MiB past a 1 GiB boundary can
 * hold no PUD entry (the aligned GiB around it leaves the VMA): 512 PMDs.
 */
static int t_huge_unaligned(void)
{
	volatile uint8_t *m;
	struct faults f;
	size_t resv_len;
	void *resv;
	int ret = need_huge_pfnmap();

	if (ret)
		return ret;
	CHECK_OK(trace_faults_start(true));
	m = map_huge(GiB, 0, 2UL << 20, &resv, &resv_len);
	CHECK(m);
	touch(m, GiB);
	CHECK_OK(trace_faults(bar0_cookie(), &f));
	CHECK_EQ(f.other, 0);
	CHECK_EQ(f.puds, 0);
	CHECK_EQ(f.pmds, 512);
	CHECK_EQ(f.n, 512);
	if (huge_data(m, 4, false))
		return -1;
	CHECK_OK(unmap_dev(resv));
	CHECK_OK(trace_faults_start(false));
	return 0;
}

/* Closed and removed: capacity back; unloaded: the range given back. */
static int t_huge_remove(void)
{
	char line[256];
	FILE *f;

	unmap_all();
	dev_close(&H);
	CHECK_OK(mdev_remove(H.uuid));
	CHECK(!mdev_exists(H.uuid));
	CHECK_EQ(avail(HUGE), 1);
	CHECK_OK(syscall(SYS_delete_module, "vgpu_test", O_NONBLOCK));
	f = fopen("/proc/iomem", "r");
	CHECK(f);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "vgpu_test")) {
			fclose(f);
			FAIL("still in /proc/iomem after unload: %s", line);
		}
	}
	fclose(f);
	return 0;
}

/* ================= runner ================= */

static int load_module(void)
{
	char params[64] = "";

	if (huge_base)
		snprintf(params, sizeof(params), "huge_base=%#lx", huge_base);
	return load_ko(module_path, params);
}

/* /dev/kmsg at the end of the log when the tests began: the scan sees only theirs */
static int kmsg = -1;

/* The kernel's log since the tests began: no report a test caused. */
static int t_dmesg_clean(void)
{
	int bad = kmsg_reports(kmsg);

	CHECK(bad >= 0);
	CHECK_EQ(bad, 0);
	return 0;
}

struct test {
	const char *name;
	int (*fn)(void);
	bool needs_open;	/* runs with D and B open */
};

static const struct test vfio_tests[] = {
	{ "sysfs: types, names, description, available_instances", t_sysfs_types, false },
	{ "sysfs: bad and duplicate uuids", t_sysfs_create_bad, false },
	{ "sysfs: exhausting a type", t_sysfs_exhaust, false },
	{ "sysfs: invalid vendor description refused, unwound", t_sysfs_broken_type, false },
	{ "sysfs: vendor attributes writable before first open", t_vendor_attrs, false },
	{ "sysfs: the vendor's own capacity (get_available, -ENOSPC)", t_vendor_room, false },
	{ "VFIO_DEVICE_GET_INFO", t_get_info, true },
	{ "VFIO_DEVICE_GET_REGION_INFO and capability chain", t_region_info, true },
	{ "config: header, read-only IDs, command/status", t_config_header, true },
	{ "config: BAR sizing (64-bit, 32-bit, I/O, ROM)", t_config_bars, true },
	{ "config: MSI, MSI-X, PCIe and vendor capabilities", t_config_caps, true },
	{ "read/write: bounds, alignment, absent regions", t_rw_bounds, true },
	{ "read/write: a vendor error returns the bytes done, copies no more", t_rw_vendor_error, true },
	{ "mmap: sparse areas, refusals, fault, zap", t_mmap, true },
	{ "VFIO_DEVICE_GET_IRQ_INFO", t_irq_info, true },
	{ "INTx: trigger, automask, unmask, disable", t_irq_intx, true },
	{ "MSI: vectors", t_irq_msi, true },
	{ "MSI-X: vectors, function mask, PBA, table", t_irq_msix, true },
	{ "MSI/MSI-X: vectors beyond the enabled count are -EINVAL", t_irq_enabled_count, true },
	{ "MSI-X: per-vector mask, pending, delivered at unmask", t_irq_msix_vector_mask, true },
	{ "MSI-X: reset drops pending vectors", t_irq_msix_reset_pending, true },
	{ "SET_IRQS like vfio-pci: INTx mask state, NORESIZE, bus master", t_irq_vfio_pci_semantics, true },
	{ "ERR and REQ triggers", t_irq_err_req, true },
	{ "SET_IRQS bad input", t_irq_bad, true },
	{ "DMA: rw, bus master, pins and dma_unmap", t_dma, true },
	{ "DMA logging: writes and writable pins reported, hostile starts", t_dma_log, true },
	{ "reset: a fault during the vendor's reset does not survive it", t_reset_refaults, true },
	{ "QUERY_GFX_PLANE", t_gfx_plane, true },
	{ "the plane as a dma-buf: RAM pages mapped, imported, revoked at close", t_gfx_plane_dmabuf, false },
	{ "tracepoints: access and irq", t_tracepoints, true },
	{ "every reported region reads, and writes exactly when flagged", t_regions_as_flagged, true },
	{ "copy failures are -EFAULT for every ioctl", t_ioctl_efault, true },
	{ "unknown ioctls", t_unknown_ioctl, true },
	{ "no migration feature without the vendor's state ops", t_no_migration, true },
	{ "a second owner: group busy, second container or cdev bind refused", t_second_container, true },
	{ "20000 random hostile operations, device still works", t_fuzz, true },
	{ "4 threads x 5000 random operations at once", t_fuzz_threads, true },
	{ "reopen: no stale BARs, MSI or triggers", t_reopen_clean, true },
	{ "1000 open/close cycles", t_open_close_1000, true },
};

static const struct test life_tests[] = {
	{ "remove while open: REQ, then completes after close", t_remove_while_open, false },
	{ "use after remove", t_use_after_remove, false },
	{ "1000 create/remove cycles", t_cycles_1000, false },
	{ "two threads creating until exhaustion", t_concurrent_create, false },
	{ "module unload refused with live vGPUs", t_module_unload_busy, false },
	{ "unregister GPU with an open vGPU", t_unregister_with_open, false },
	{ "unregister GPU racing with create, open and remove", t_unregister_races_create, false },
	{ "types complete at the MDEV_STATE=registered uevent", t_uevent_types_complete, false },
	{ "vendor/ present at the VFIO group's add and the mdev's bind", t_vendor_attrs_at_uevents, false },
	{ "mdevctl start with vendor attrs, mdevctl stop", t_mdevctl, false },
	{ "vendor services on a vGPU not open fail with -ENODEV", t_closed_services, false },
	{ "vendor module unload", t_module_unload, false },
};

static const struct test huge_tests[] = {
	{ "huge type: 1 GiB BAR0 on the reserved range, one instance", t_huge_type, false },
	{ "huge: an aligned 1 GiB mapping is one PUD fault; zap, hole, data", t_huge_pud, false },
	{ "huge: 1 GiB not 1 GiB-aligned falls back to 512 PMD faults", t_huge_unaligned, false },
	{ "huge: removal and unload give capacity and the range back", t_huge_remove, false },
};

static int open_pair(void)
{
	char u[40];

	make_uuid(u, 0xd0);
	if (mdev_create(SMALL, u) || dev_open(&D, u, true))
		return -1;
	make_uuid(u, 0xd1);
	if (mdev_create(BIG, u) || dev_open(&B, u, false))
		return -1;
	return 0;
}

static void close_pair(void)
{
	unmap_all();
	dev_close(&D);
	dev_close(&B);
	mdev_remove(D.uuid);
	mdev_remove(B.uuid);
}

static void run(const struct test *t, unsigned int n, bool *opened)
{
	int ret;

	for (unsigned int i = 0; i < n; i++) {
		if (t[i].needs_open && !*opened) {
			if (open_pair()) {
				diag("cannot create/open the test vGPUs (errno %d: %s)",
				     errno, strerror(errno));
				tap(0, t[i].name);
				continue;
			}
			*opened = true;
		}
		if (t[i].fn == t_mdevctl && system("command -v mdevctl >/dev/null 2>&1")) {
			tap_n++;
			printf("ok %d - %s # SKIP mdevctl not installed\n", tap_n, t[i].name);
			continue;
		}
		ret = t[i].fn();
		if (ret == SKIP) {
			tap_n++;
			printf("ok %d - %s # SKIP %s\n", tap_n, t[i].name, skip_reason);
		} else if (ret) {
			tap(0, t[i].name);
			/* A test that failed may leave the device mapped. */
			if (t[i].needs_open)
				unmap_all();
		} else {
			tap(1, t[i].name);
		}
	}
}

int main(int argc, char **argv)
{
	const char *group = "all";
	bool opened = false;
	int i;

	struct sigaction sa = { .sa_handler = on_sigbus };

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGBUS, &sa, NULL);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--module") && i + 1 < argc)
			module_path = argv[++i];
		else if (!strcmp(argv[i], "--group") && i + 1 < argc)
			group = argv[++i];
		else if (!strcmp(argv[i], "--huge-base") && i + 1 < argc)
			huge_base = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--importer") && i + 1 < argc)
			importer_path = argv[++i];
		else if (!strcmp(argv[i], "--iommufd"))
			use_iommufd = true;
		else
			break;
	}
	if (i < argc || !strcmp(group, "huge") != !!huge_base ||
	    (use_iommufd && strcmp(group, "vfio"))) {
		fprintf(stderr, "usage: %s --module vgpu_test.ko [--group vfio|lifecycle|all]\n"
			"       %s --module vgpu_test.ko --group vfio --iommufd\n"
			"       %s --module vgpu_test.ko --group huge --huge-base ADDR (memmap=1G$ADDR)\n",
			argv[0], argv[0], argv[0]);
		return 2;
	}
	if (!module_path || geteuid() != 0 || access("/dev/vfio/vfio", F_OK)) {
		printf("1..0 # SKIP needs root, /dev/vfio/vfio and --module (run in the lab)\n");
		return 4;
	}
#ifndef VGPU_TEST_HAVE_IOMMUFD
	if (use_iommufd) {
		printf("1..0 # SKIP built without the iommufd uAPI (kernel headers before 6.6)\n");
		return 4;
	}
#endif
	if (use_iommufd && (access("/dev/iommu", F_OK) ||
			    access("/sys/class/vfio-dev", F_OK))) {
		printf("1..0 # SKIP --iommufd needs /dev/iommu and VFIO device cdevs "
		       "(CONFIG_IOMMUFD, CONFIG_VFIO_DEVICE_CDEV)\n");
		return 4;
	}
	/* the boot's own reports are the lab's to judge, not ours */
	kmsg = kmsg_open_at_end();
	lockdep_at_start = lockdep_on();
	if (load_module()) {
		printf("not ok 1 - load %s (errno %d: %s)\n1..1\n", module_path,
		       errno, strerror(errno));
		return 1;
	}
	tap(1, "load vgpu_test");
	if (!strcmp(group, "vfio") || !strcmp(group, "all")) {
		run(vfio_tests, sizeof(vfio_tests) / sizeof(vfio_tests[0]), &opened);
		if (opened)
			close_pair();
		tap(avail(SMALL) == VT_SMALL_MAX && avail(BIG) == VT_BIG_MAX,
		    "all test vGPUs removed, capacity restored");
		tap(!t_closed_services(),
		    "vendor services on a vGPU not open fail with -ENODEV");
	}
	if (!strcmp(group, "lifecycle") || !strcmp(group, "all"))
		run(life_tests, sizeof(life_tests) / sizeof(life_tests[0]), &opened);
	if (!strcmp(group, "huge"))
		run(huge_tests, sizeof(huge_tests) / sizeof(huge_tests[0]), &opened);
	tap(t_dmesg_clean() == 0, "dmesg: no WARN, BUG or oops");
	if (use_iommufd && !access("/proc/lockdep_stats", F_OK) && !lockdep_at_start)
		printf("ok %d - lockdep still on # SKIP it was off before the first test (a report at boot)\n",
		       ++tap_n);
	else if (use_iommufd && !access("/proc/lockdep_stats", F_OK))
		tap(lockdep_on(), "lockdep still on: no lock report stopped it");
	else if (!access("/proc/lockdep_stats", F_OK))
		diag("lockdep %s at the end (type1's own report at the first dma_unmap of pinned pages turns it off)",
		     lockdep_on() ? "still on" : "off");
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
