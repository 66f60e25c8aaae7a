// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * VFIO client for the benchmarks (see mdev.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mdev.h"

void bench_die(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	fputs("vgpu-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (errno %d: %s)\n", e, strerror(e));
	exit(1);
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int e;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	e = errno;
	close(fd);
	if (n < 0)
		return -e;
	return (size_t)n == strlen(s) ? 0 : -EIO;
}

int mdev_create(const char *parent, const char *type, char uuid[40])
{
	char p[PATH_MAX];
	int fd = open("/proc/sys/kernel/random/uuid", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		bench_die("open /proc/sys/kernel/random/uuid");
	n = read(fd, uuid, 36);
	close(fd);
	if (n != 36)
		bench_die("read a new UUID");
	uuid[36] = 0;
	snprintf(p, sizeof(p), "/sys/class/mdev_bus/%s/mdev_supported_types/%s/create",
		 parent, type);
	return write_str(p, uuid);
}

void mdev_remove(const char *uuid)
{
	char p[PATH_MAX];
	int ret;

	snprintf(p, sizeof(p), "/sys/bus/mdev/devices/%s/remove", uuid);
	ret = write_str(p, "1");
	if (ret) {
		errno = -ret;
		bench_die("remove mdev %s", uuid);
	}
}

static void region_info(struct bench_dev *d, unsigned int index)
{
	struct bench_region *r = &d->reg[index];
	size_t sz = sizeof(struct vfio_region_info);
	struct vfio_region_info *info = NULL;
	uint32_t off;

	/* as QEMU does: the bare struct first, then again with the size the driver asks for */
	for (;;) {
		free(info);
		info = calloc(1, sz);
		if (!info)
			bench_die("out of memory");
		info->argsz = sz;
		info->index = index;
		if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, info))
			bench_die("VFIO_DEVICE_GET_REGION_INFO %u of %s", index, d->uuid);
		if (info->argsz <= sz)
			break;
		sz = info->argsz;
	}
	r->offset = info->offset;
	r->size = info->size;
	r->flags = info->flags;
	if (info->flags & VFIO_REGION_INFO_FLAG_MMAP)
		r->mmap_size = info->size;
	/* a sparse capability narrows what can be mapped to its areas */
	off = (info->flags & VFIO_REGION_INFO_FLAG_CAPS) ? info->cap_offset : 0;
	while (off && off + sizeof(struct vfio_info_cap_header) <= sz) {
		struct vfio_info_cap_header *h = (void *)((char *)info + off);

		if (h->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			struct vfio_region_info_cap_sparse_mmap *s = (void *)h;

			r->mmap_offset = s->nr_areas ? s->areas[0].offset : 0;
			r->mmap_size = s->nr_areas ? s->areas[0].size : 0;
		}
		off = h->next;
	}
	free(info);
}

void bench_open(struct bench_dev *d, const char *uuid)
{
	char p[PATH_MAX], link[PATH_MAX], group[64];
	struct vfio_group_status st = { .argsz = sizeof(st) };
	struct vfio_device_info di = { .argsz = sizeof(di) };
	unsigned int i;
	ssize_t n;

	memset(d, 0, sizeof(*d));
	snprintf(d->uuid, sizeof(d->uuid), "%s", uuid);
	snprintf(p, sizeof(p), "/sys/bus/mdev/devices/%s/iommu_group", uuid);
	n = readlink(p, link, sizeof(link) - 1);
	if (n <= 0)
		bench_die("readlink %s", p);
	link[n] = 0;
	snprintf(group, sizeof(group), "/dev/vfio/%s", basename(link));

	d->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (d->container < 0)
		bench_die("open /dev/vfio/vfio");
	d->group = open(group, O_RDWR | O_CLOEXEC);
	if (d->group < 0)
		bench_die("open %s", group);
	if (ioctl(d->group, VFIO_GROUP_GET_STATUS, &st) ||
	    !(st.flags & VFIO_GROUP_FLAGS_VIABLE))
		bench_die("group %s is not viable", group);
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container))
		bench_die("VFIO_GROUP_SET_CONTAINER %s", group);
	if (ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		bench_die("VFIO_SET_IOMMU type1v2");
	d->fd = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, uuid);
	if (d->fd < 0)
		bench_die("VFIO_GROUP_GET_DEVICE_FD %s", uuid);
	if (ioctl(d->fd, VFIO_DEVICE_GET_INFO, &di))
		bench_die("VFIO_DEVICE_GET_INFO %s", uuid);
	d->num_regions = di.num_regions < BENCH_MAX_REGIONS ? di.num_regions : BENCH_MAX_REGIONS;
	for (i = 0; i < d->num_regions; i++)
		region_info(d, i);
	/* as firmware would: decode memory, allow bus mastering */
	bench_cfg_write(d, 0x04, 2, bench_cfg_read(d, 0x04, 2) | 0x6);
}

void bench_close(struct bench_dev *d)
{
	if (d->fd > 0)
		close(d->fd);
	if (d->group > 0)
		close(d->group);
	if (d->container > 0)
		close(d->container);
	d->fd = d->group = d->container = -1;
}

void bench_pread(struct bench_dev *d, unsigned int region, uint64_t off, void *buf, size_t len)
{
	if (pread(d->fd, buf, len, d->reg[region].offset + off) != (ssize_t)len)
		bench_die("read of region %u at %#llx of %s", region, (unsigned long long)off,
			  d->uuid);
}

void bench_pwrite(struct bench_dev *d, unsigned int region, uint64_t off, const void *buf,
		  size_t len)
{
	if (pwrite(d->fd, buf, len, d->reg[region].offset + off) != (ssize_t)len)
		bench_die("write of region %u at %#llx of %s", region, (unsigned long long)off,
			  d->uuid);
}

uint32_t bench_cfg_read(struct bench_dev *d, unsigned int off, unsigned int size)
{
	uint32_t v = 0;

	bench_pread(d, VFIO_PCI_CONFIG_REGION_INDEX, off, &v, size);
	return v;
}

void bench_cfg_write(struct bench_dev *d, unsigned int off, unsigned int size, uint32_t val)
{
	bench_pwrite(d, VFIO_PCI_CONFIG_REGION_INDEX, off, &val, size);
}

void *bench_map(struct bench_dev *d, unsigned int region, size_t len)
{
	struct bench_region *r = &d->reg[region];
	void *p;

	if (len > r->mmap_size)
		bench_die("region %u of %s maps %llu bytes, not %zu", region, d->uuid,
			  (unsigned long long)r->mmap_size, len);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
		 r->offset + r->mmap_offset);
	if (p == MAP_FAILED)
		bench_die("mmap of region %u of %s", region, d->uuid);
	return p;
}
