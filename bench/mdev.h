/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VFIO client for any mdev parent (ours, mtty, mbochs): create and remove
 * through sysfs, open through a type1 container and the device's group,
 * region access and mappings. Errors are fatal (the benchmark cannot go on
 * with a half-set-up device): bench_die() prints what failed and exits.
 */
#ifndef BENCH_MDEV_H
#define BENCH_MDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/vfio.h>

#define BENCH_MAX_REGIONS	(VFIO_PCI_NUM_REGIONS + 2)

struct bench_region {
	uint64_t offset;	/* in the device fd */
	uint64_t size;
	uint32_t flags;
	uint64_t mmap_offset;	/* first mmap-able area, relative to offset */
	uint64_t mmap_size;	/* 0: not mmap-able */
};

struct bench_dev {
	char uuid[40];
	int container, group, fd;
	unsigned int num_regions;
	struct bench_region reg[BENCH_MAX_REGIONS];
};

void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* mdev_bus parent (e.g. "0000:00:05.0", "mtty") and type directory name */
int mdev_create(const char *parent, const char *type, char uuid[40]);	/* 0 or -errno */
void mdev_remove(const char *uuid);

void bench_open(struct bench_dev *d, const char *uuid);
void bench_close(struct bench_dev *d);

void bench_pread(struct bench_dev *d, unsigned int region, uint64_t off, void *buf, size_t len);
void bench_pwrite(struct bench_dev *d, unsigned int region, uint64_t off, const void *buf,
		  size_t len);
uint32_t bench_cfg_read(struct bench_dev *d, unsigned int off, unsigned int size);
void bench_cfg_write(struct bench_dev *d, unsigned int off, unsigned int size, uint32_t val);
/* maps @len bytes of the region's first mmap-able area */
void *bench_map(struct bench_dev *d, unsigned int region, size_t len);

#endif /* BENCH_MDEV_H */
