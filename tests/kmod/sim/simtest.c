// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * VFIO client helpers for vgpu_sim's in-lab tests (see simtest.h).
 */
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "simtest.h"

jmp_buf st_fail_jmp;
const char *st_current;
const char *st_gpu;
const char *st_skipped;
bool st_use_iommufd;

void st_skip(const char *why)
{
	st_skipped = why;
}

void st_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

void st_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("# %s: %s:%d: ", st_current ? st_current : "?", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	longjmp(st_fail_jmp, 1);
}

/* ---- sysfs ---------------------------------------------------------- */

int sysfs_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	int fd = open(path, O_WRONLY);
	ssize_t n;
	int e;

	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	e = errno;
	close(fd);
	if (n < 0)
		return -e;
	return (size_t)n == len ? 0 : -EIO;
}

int sysfs_read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = 0;
	return 0;
}

long long sysfs_read_ll(const char *path)
{
	char buf[64], *end;
	long long v;

	if (sysfs_read_str(path, buf, sizeof(buf)))
		return -1;
	v = strtoll(buf, &end, 0);
	return *end ? -1 : v;
}

/* ---- vGPUs -------------------------------------------------------------- */

#define MAX_LIVE 64
static struct vgpu *live[MAX_LIVE];

void st_type_path(char *buf, size_t len, const char *type, const char *file)
{
	snprintf(buf, len, "/sys/class/mdev_bus/%s/mdev_supported_types/vgpu_sim-%s/%s",
		 st_gpu, type, file);
}

long long st_available(const char *type)
{
	char p[PATH_MAX];

	st_type_path(p, sizeof(p), type, "available_instances");
	return sysfs_read_ll(p);
}

static void new_uuid(char *buf)
{
	ASSERT(sysfs_read_str("/proc/sys/kernel/random/uuid", buf, 40) == 0);
}

int vgpu_create(struct vgpu *g, const char *type)
{
	char p[PATH_MAX];
	int ret, i;

	memset(g, 0, sizeof(*g));
	g->container = g->group = g->dev = g->iommufd = -1;
	g->efd[0] = g->efd[1] = -1;
	snprintf(g->type, sizeof(g->type), "%s", type);
	new_uuid(g->uuid);
	st_type_path(p, sizeof(p), type, "create");
	ret = sysfs_write(p, g->uuid);
	if (ret) {
		errno = -ret;	/* for the caller's assertion message */
		return ret;
	}
	g->created = true;
	for (i = 0; i < MAX_LIVE; i++) {
		if (!live[i]) {
			live[i] = g;
			break;
		}
	}
	return 0;
}

void vgpu_close(struct vgpu *g)
{
	int i;

	if (g->vram)
		munmap(g->vram, g->vram_len);
	g->vram = NULL;
	for (i = 0; i < 8; i++) {
		if (g->maps[i])
			munmap(g->maps[i], g->map_len[i]);
		g->maps[i] = NULL;
	}
	for (i = 0; i < 2; i++) {
		if (g->efd[i] >= 0)
			close(g->efd[i]);
		g->efd[i] = -1;
	}
	if (g->dev >= 0)
		close(g->dev);
	if (g->group >= 0)
		close(g->group);
	if (g->container >= 0)
		close(g->container);
	if (g->iommufd >= 0)
		close(g->iommufd);
	g->dev = g->group = g->container = g->iommufd = -1;
}

void vgpu_remove(struct vgpu *g)
{
	char p[PATH_MAX];
	int i;

	vgpu_close(g);
	if (!g->created)
		return;
	snprintf(p, sizeof(p), "/sys/bus/mdev/devices/%s/remove", g->uuid);
	g->created = false;
	for (i = 0; i < MAX_LIVE; i++)
		if (live[i] == g)
			live[i] = NULL;
	ASSERT(sysfs_write(p, "1") == 0);
}

void vgpu_cleanup_all(void)
{
	char p[PATH_MAX];
	int i;

	for (i = 0; i < MAX_LIVE; i++) {
		struct vgpu *g = live[i];

		if (!g)
			continue;
		live[i] = NULL;
		vgpu_close(g);
		snprintf(p, sizeof(p), "/sys/bus/mdev/devices/%s/remove", g->uuid);
		if (g->created && sysfs_write(p, "1"))
			st_diag("cleanup: could not remove %s", g->uuid);
		g->created = false;
	}
}

static void get_region(struct vgpu *g, unsigned int index)
{
	struct st_region *r = &g->reg[index];
	struct vfio_region_info *info;
	size_t sz = 4096;
	unsigned int i;

	info = calloc(1, sz);
	ASSERT(info);
	info->argsz = sz;
	info->index = index;
	ASSERT(ioctl(g->dev, VFIO_DEVICE_GET_REGION_INFO, info) == 0);
	ASSERT_CMP(info->argsz, <=, sz);
	r->info = *info;
	r->info.argsz = sizeof(r->info);
	if (info->flags & VFIO_REGION_INFO_FLAG_CAPS && info->cap_offset) {
		struct vfio_info_cap_header *h;
		unsigned int off = info->cap_offset;

		while (off) {
			ASSERT_CMP(off + sizeof(*h), <=, info->argsz);
			h = (void *)((char *)info + off);
			if (h->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
				struct vfio_region_info_cap_sparse_mmap *s = (void *)h;

				r->sparse = true;
				r->nr_areas = s->nr_areas;
				ASSERT_CMP(s->nr_areas, <=, 4);
				for (i = 0; i < s->nr_areas; i++)
					r->areas[i] = s->areas[i];
			} else if (h->id == VFIO_REGION_INFO_CAP_TYPE) {
				struct vfio_region_info_cap_type *t = (void *)h;

				r->has_type = true;
				r->type = t->type;
				r->subtype = t->subtype;
			}
			off = h->next;
		}
	}
	free(info);
}

void vgpu_open(struct vgpu *g)
{
	const char *why = NULL;

	if (!st_use_iommufd)
		vgpu_open_in(g, -1);
	else if (!vgpu_open_iommufd(g, &why))
		st_fail(__FILE__, __LINE__, "iommufd: %s", why);
}

/* what every way of opening does once the device fd is there */
static void device_opened(struct vgpu *g)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	unsigned int i;

	ASSERT(ioctl(g->dev, VFIO_DEVICE_GET_INFO, &di) == 0);
	g->num_regions = di.num_regions < ST_NUM_REGIONS ? di.num_regions : ST_NUM_REGIONS;
	for (i = 0; i < g->num_regions; i++)
		get_region(g, i);
	/* as a guest's firmware would: decode memory */
	cfg_write(g, 0x04, 2, cfg_read(g, 0x04, 2) | 0x2);
}

/*
 * The group's node, made from sysfs if devtmpfs has none, as udev would:
 * device_add() ignores a failed devtmpfs node (its name is allocated in
 * the caller, where fault injection can fail it), and the lab has no udev.
 */
static void group_node(const char *group, const char *dev)
{
	char p[PATH_MAX], buf[32];
	unsigned int maj, min;
	FILE *f;

	if (!access(dev, F_OK))
		return;
	snprintf(p, sizeof(p), "/sys/class/vfio/%s/dev", group);
	f = fopen(p, "r");
	ASSERT(f);
	ASSERT(fgets(buf, sizeof(buf), f));
	fclose(f);
	ASSERT(sscanf(buf, "%u:%u", &maj, &min) == 2);
	ASSERT(mknod(dev, S_IFCHR | 0600, makedev(maj, min)) == 0);
	st_diag("%s: no devtmpfs node, made from %s as udev would", dev, p);
}

void vgpu_open_in(struct vgpu *g, int container)
{
	char p[PATH_MAX], link[PATH_MAX], dev[64];
	struct vfio_group_status st = { .argsz = sizeof(st) };
	ssize_t n;

	snprintf(p, sizeof(p), "/sys/bus/mdev/devices/%s/iommu_group", g->uuid);
	n = readlink(p, link, sizeof(link) - 1);
	ASSERT(n > 0);
	link[n] = 0;
	snprintf(dev, sizeof(dev), "/dev/vfio/%s", basename(link));
	group_node(basename(link), dev);

	/* our own reference to a shared container: vgpu_close() drops it */
	g->container = container >= 0 ? dup(container) : open("/dev/vfio/vfio", O_RDWR);
	ASSERT(g->container >= 0);
	ASSERT_CMP(ioctl(g->container, VFIO_GET_API_VERSION), ==, VFIO_API_VERSION);
	ASSERT(ioctl(g->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) == 1);
	g->group = open(dev, O_RDWR);
	ASSERT(g->group >= 0);
	ASSERT(ioctl(g->group, VFIO_GROUP_GET_STATUS, &st) == 0);
	ASSERT(st.flags & VFIO_GROUP_FLAGS_VIABLE);
	ASSERT(ioctl(g->group, VFIO_GROUP_SET_CONTAINER, &g->container) == 0);
	if (container < 0)
		ASSERT(ioctl(g->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) == 0);
	g->dev = ioctl(g->group, VFIO_GROUP_GET_DEVICE_FD, g->uuid);
	ASSERT(g->dev >= 0);
	device_opened(g);
}

bool st_iommufd_supported(const char **why)
{
#ifdef ST_HAVE_IOMMUFD
	if (access("/dev/iommu", F_OK)) {
		*why = "no /dev/iommu: this kernel has no CONFIG_IOMMUFD";
		return false;
	}
	if (access("/sys/class/vfio-dev", F_OK)) {
		*why = "no /sys/class/vfio-dev: this kernel has no CONFIG_VFIO_DEVICE_CDEV";
		return false;
	}
	return true;
#else
	*why = "built without the iommufd uAPI (kernel headers before 6.6)";
	return false;
#endif
}

bool vgpu_open_iommufd(struct vgpu *g, const char **why)
{
	char p[PATH_MAX];

	if (vfio_cdev_iommufd(&g->iommufd, &g->ioas)) {
		*why = errno == ENOTTY ?
			"built without the iommufd uAPI (kernel headers before 6.6)" :
			"no /dev/iommu: this kernel has no CONFIG_IOMMUFD";
		return false;
	}
	snprintf(p, sizeof(p), "/sys/bus/mdev/devices/%s/vfio-dev", g->uuid);
	if (access(p, F_OK)) {
		close(g->iommufd);
		g->iommufd = -1;
		*why = "no vfio-dev in sysfs: this kernel has no CONFIG_VFIO_DEVICE_CDEV";
		return false;
	}
	g->dev = vfio_cdev_open(g->uuid, g->iommufd, g->ioas);
	ASSERT(g->dev >= 0);
	device_opened(g);
	return true;
}

static void rw_exact(bool wr, int fd, void *buf, size_t len, off_t off)
{
	ssize_t n = wr ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);

	ASSERT_CMP(n, ==, (ssize_t)len);
}

uint32_t cfg_read(struct vgpu *g, unsigned int off, unsigned int size)
{
	uint32_t v = 0;

	rw_exact(false, g->dev, &v, size,
		 g->reg[VFIO_PCI_CONFIG_REGION_INDEX].info.offset + off);
	return v;
}

void cfg_write(struct vgpu *g, unsigned int off, unsigned int size, uint32_t val)
{
	rw_exact(true, g->dev, &val, size,
		 g->reg[VFIO_PCI_CONFIG_REGION_INDEX].info.offset + off);
}

uint64_t bar_read(struct vgpu *g, unsigned int bar, uint64_t off, unsigned int size)
{
	uint64_t v = 0;

	rw_exact(false, g->dev, &v, size, g->reg[bar].info.offset + off);
	return v;
}

void bar_write(struct vgpu *g, unsigned int bar, uint64_t off, unsigned int size, uint64_t val)
{
	rw_exact(true, g->dev, &val, size, g->reg[bar].info.offset + off);
}

void *vram_map(struct vgpu *g)
{
	struct st_region *r = &g->reg[VFIO_PCI_BAR0_REGION_INDEX];

	if (g->vram)
		return g->vram;
	ASSERT(r->sparse && r->nr_areas >= 1);
	g->vram_len = r->areas[0].size;
	g->vram = mmap(NULL, g->vram_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       g->dev, r->info.offset + r->areas[0].offset);
	ASSERT(g->vram != MAP_FAILED);
	return g->vram;
}

void *dev_mmap(struct vgpu *g, size_t len, int prot, uint64_t offset)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, g->dev, offset);
	int i;

	if (p == MAP_FAILED)
		return p;
	for (i = 0; i < 8; i++) {
		if (!g->maps[i]) {
			g->maps[i] = p;
			g->map_len[i] = len;
			return p;
		}
	}
	munmap(p, len);
	st_fail(__FILE__, __LINE__, "too many mappings");
}

int container_dma_map(int container, void *vaddr, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &m) ? -errno : 0;
}

void dma_map(struct vgpu *g, void *vaddr, uint64_t iova, uint64_t size)
{
#ifdef ST_HAVE_IOMMUFD
	struct iommu_ioas_map im = {
		.size = sizeof(im),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = g->ioas,
		.user_va = (uintptr_t)vaddr,
		.length = size,
		.iova = iova,
	};

	if (g->iommufd >= 0) {
		ASSERT(ioctl(g->iommufd, IOMMU_IOAS_MAP, &im) == 0);
		return;
	}
#endif
	ASSERT_CMP(container_dma_map(g->container, vaddr, iova, size), ==, 0);
}

int dma_unmap(struct vgpu *g, uint64_t iova, uint64_t size)
{
#ifdef ST_HAVE_IOMMUFD
	struct iommu_ioas_unmap iu = {
		.size = sizeof(iu),
		.ioas_id = g->ioas,
		.iova = iova,
		.length = size,
	};

	if (g->iommufd >= 0)
		return ioctl(g->iommufd, IOMMU_IOAS_UNMAP, &iu) ? -errno : 0;
#endif
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = iova,
		.size = size,
	};

	return ioctl(g->container, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : 0;
}

int irq_set_eventfds(struct vgpu *g, unsigned int index, unsigned int count)
{
	char buf[sizeof(struct vfio_irq_set) + 2 * sizeof(int)];
	struct vfio_irq_set *s = (void *)buf;
	unsigned int i;

	for (i = 0; i < count; i++) {
		if (g->efd[i] < 0)
			g->efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ASSERT(g->efd[i] >= 0);
	}
	s->argsz = sizeof(*s) + count * sizeof(int);
	s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	s->index = index;
	s->start = 0;
	s->count = count;
	memcpy(s->data, g->efd, count * sizeof(int));
	return ioctl(g->dev, VFIO_DEVICE_SET_IRQS, s) ? -errno : 0;
}

void irq_disable(struct vgpu *g, unsigned int index)
{
	struct vfio_irq_set s = {
		.argsz = sizeof(s),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = index,
		.start = 0,
		.count = 0,
	};

	ASSERT(ioctl(g->dev, VFIO_DEVICE_SET_IRQS, &s) == 0);
}

bool irq_fired(struct vgpu *g, unsigned int i)
{
	uint64_t cnt;

	return read(g->efd[i], &cnt, sizeof(cnt)) == sizeof(cnt) && cnt;
}

bool irq_wait(struct vgpu *g, unsigned int i, int ms)
{
	struct pollfd p = { .fd = g->efd[i], .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return false;
	return irq_fired(g, i);
}
