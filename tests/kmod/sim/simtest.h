/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small VFIO client for vgpu_sim's in-lab tests: TAP output, fail-fast
 * assertions that print the expression, the values and errno, and helpers
 * to create, open and drive vGPUs.
 */
#ifndef SIMTEST_H
#define SIMTEST_H

#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/vfio.h>

#include "../harness/vfio-cdev.h"

#ifdef VGPU_TEST_HAVE_IOMMUFD
#define ST_HAVE_IOMMUFD 1
#endif

/* ---- TAP ---------------------------------------------------------------- */

extern jmp_buf st_fail_jmp;
extern const char *st_current;

void st_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
void st_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* the running case cannot run here: the runner reports it as a TAP SKIP */
extern const char *st_skipped;
void st_skip(const char *why);

/* errno as @cond left it */
#define ASSERT(cond)							\
	do {								\
		if (!(cond)) {						\
			int e_ = errno;					\
			st_fail(__FILE__, __LINE__, "%s (errno %d: %s)", \
				#cond, e_, strerror(e_));		\
		}							\
	} while (0)

/* compare two integers, printing both */
#define ASSERT_CMP(a, op, b)						\
	do {								\
		long long a_ = (long long)(a), b_ = (long long)(b);	\
		int e_ = errno;						\
		if (!(a_ op b_))					\
			st_fail(__FILE__, __LINE__,			\
				"%s %s %s: %lld (%#llx) vs %lld (%#llx) (errno %d: %s)", \
				#a, #op, #b, a_, (unsigned long long)a_, \
				b_, (unsigned long long)b_, e_, strerror(e_)); \
	} while (0)

/* a syscall-style call must fail with a given errno */
#define ASSERT_ERRNO(call, want)					\
	do {								\
		errno = 0;						\
		long long r_ = (long long)(call);			\
		int e_ = errno;						\
		if (r_ >= 0 || e_ != (want))				\
			st_fail(__FILE__, __LINE__,			\
				"%s: want -1/%s, got %lld/errno %d (%s)", \
				#call, #want, r_, e_, strerror(e_));	\
	} while (0)

/* ---- sysfs ---------------------------------------------------------- */

int sysfs_write(const char *path, const char *val);	/* 0 or -errno */
long long sysfs_read_ll(const char *path);		/* -1 on error */
int sysfs_read_str(const char *path, char *buf, size_t len);

/* ---- vGPUs -------------------------------------------------------------- */

struct st_region {
	struct vfio_region_info info;
	struct vfio_region_sparse_mmap_area areas[4];
	unsigned int nr_areas;
	bool sparse;
	bool has_type;		/* VFIO_REGION_INFO_CAP_TYPE */
	uint32_t type, subtype;
};

/* the PCI regions and vgpu_sim's display region */
#define ST_NUM_REGIONS (VFIO_PCI_NUM_REGIONS + 1)

struct vgpu {
	char uuid[40];
	char type[32];
	bool created;
	int container, group, dev;
	int iommufd;		/* >= 0: opened through its cdev and iommufd */
	uint32_t ioas;
	struct st_region reg[ST_NUM_REGIONS];
	unsigned int num_regions;
	void *vram;		/* mmap of BAR0's VRAM area, or NULL */
	size_t vram_len;
	int efd[2];		/* interrupt eventfds */
	/* other mappings of the device, undone by vgpu_close() */
	void *maps[8];
	size_t map_len[8];
};

extern const char *st_gpu;	/* physical GPU PCI address */

void st_type_path(char *buf, size_t len, const char *type, const char *file);
long long st_available(const char *type);
int vgpu_create(struct vgpu *g, const char *type);	/* 0 or -errno */
void vgpu_remove(struct vgpu *g);
void vgpu_open(struct vgpu *g);		/* asserts */
/* opens into @container, whose IOMMU is already set (or a new one if < 0) */
void vgpu_open_in(struct vgpu *g, int container);
/*
 * Opens through the VFIO device cdev bound to a new iommufd with one IOAS
 * (dma_map() then maps there); false, with @why set, when this build or
 * kernel has no iommufd.
 */
bool vgpu_open_iommufd(struct vgpu *g, const char **why);
/* false, with @why set, when neither this build nor the kernel has it */
bool st_iommufd_supported(const char **why);
/* while true, vgpu_open() opens through the cdev and iommufd */
extern bool st_use_iommufd;
void vgpu_close(struct vgpu *g);
void vgpu_cleanup_all(void);		/* removes every vGPU still created */

uint32_t cfg_read(struct vgpu *g, unsigned int off, unsigned int size);
void cfg_write(struct vgpu *g, unsigned int off, unsigned int size, uint32_t val);
uint64_t bar_read(struct vgpu *g, unsigned int bar, uint64_t off, unsigned int size);
void bar_write(struct vgpu *g, unsigned int bar, uint64_t off, unsigned int size, uint64_t val);
void *vram_map(struct vgpu *g);		/* maps BAR0's VRAM area */
/* mmap of the device fd, recorded so that closing never leaves it open */
void *dev_mmap(struct vgpu *g, size_t len, int prot, uint64_t offset);

/* type1 MAP_DMA of a read/write range: 0 or -errno */
int container_dma_map(int container, void *vaddr, uint64_t iova, uint64_t size);
void dma_map(struct vgpu *g, void *vaddr, uint64_t iova, uint64_t size);
int dma_unmap(struct vgpu *g, uint64_t iova, uint64_t size);	/* 0 or -errno */

int irq_set_eventfds(struct vgpu *g, unsigned int index, unsigned int count);
void irq_disable(struct vgpu *g, unsigned int index);
/* waits for eventfd @i; true if it fired within @ms */
bool irq_wait(struct vgpu *g, unsigned int i, int ms);
bool irq_fired(struct vgpu *g, unsigned int i);	/* non-blocking, consumes */

#endif /* SIMTEST_H */
