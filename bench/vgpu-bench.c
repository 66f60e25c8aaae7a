// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vgpu-bench: the in-lab half of the benchmarks (docs/benchmarks.md). Times
 * our vGPUs (vgpu_sim on the lab's GPUs) and, in the same boot, the kernel's
 * mdev samples mtty and mbochs and the guest's own limits (pread of
 * /dev/zero, anonymous memory, memcpy, a raw eventfd round trip).
 *
 *   vgpu-bench [--runs N] [--scale F] [--only FIG[,FIG...]] GPU...
 *
 * One JSON object a line on stdout, one per run of a figure:
 *   {"fig":"1","run":0,"unit":"ns","ours":..., "ref":..., "floor":...}
 * Ours and its reference run alternately, so drift hits both alike.
 * bench/report.py turns these into ratios, medians and the report.
 * --scale shrinks the iteration counts (the test suite's quick mode).
 * Exit status: 0 done, 1 an error (printed on stderr), 4 cannot run here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "mdev.h"
#include "vgpu_mig.h"
#include "vgpu_sim_regs.h"

#define MiB		(1024UL * 1024)
#define MAX_GPUS	4
#define MTTY		"mtty"
#define MTTY_TYPE	"mtty-1"
#define MBOCHS		"mbochs"

/*
 * Within a run, ours and the reference alternate in this many batches, and
 * a run's value is the median of its batches: the lab shares two host cores
 * with other guests, and a burst of load then lands on both sides, or on
 * one batch that the median leaves out.
 */
#define BATCHES		10

static const char *gpus[MAX_GPUS];
static unsigned int nr_gpus;
static unsigned int runs = 5;
static double scale = 1.0;
static const char *only;

static unsigned int iters(unsigned int n)
{
	unsigned int k = (unsigned int)(n * scale);

	return k ? k : 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* median of @n values (sorts them) */
static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static bool wanted(const char *fig)
{
	const char *p = only;
	size_t n = strlen(fig);

	if (!only)
		return true;
	while (p && *p) {
		if (!strncmp(p, fig, n) && (p[n] == ',' || !p[n]))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

static void emit(const char *fig, unsigned int run, const char *unit, double ours, double ref,
		 double floor)
{
	printf("{\"fig\":\"%s\",\"run\":%u,\"unit\":\"%s\",\"ours\":%.1f,\"ref\":%.1f", fig, run,
	       unit, ours, ref);
	if (floor >= 0)
		printf(",\"floor\":%.1f", floor);
	printf("}\n");
	fflush(stdout);
}

static char *type_of(const char *kind)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "vgpu_sim-%s", kind);
	return buf;
}

/* a created and opened device; removed again by put_dev() */
static void get_dev(struct bench_dev *d, const char *parent, const char *type)
{
	char uuid[40];
	int ret = mdev_create(parent, type, uuid);

	if (ret) {
		errno = -ret;
		bench_die("create %s on %s", type, parent);
	}
	bench_open(d, uuid);
}

static void put_dev(struct bench_dev *d)
{
	bench_close(d);
	mdev_remove(d->uuid);
}

/* ---- 1, 1b: 4-byte config-space read ---------------------------------- */

static double time_cfg_reads(struct bench_dev *d, unsigned int n)
{
	double t = now_ns();
	unsigned int i;

	for (i = 0; i < n; i++)
		bench_cfg_read(d, 0, 4);
	return (now_ns() - t) / n;
}

static double time_zero_reads(int fd, unsigned int n)
{
	double t = now_ns();
	uint32_t v;
	unsigned int i;

	for (i = 0; i < n; i++)
		if (pread(fd, &v, 4, 0) != 4)
			bench_die("pread /dev/zero");
	return (now_ns() - t) / n;
}

static void fig_config_read(void)
{
	struct bench_dev ours, mtty;
	unsigned int n = iters(5000) < BATCHES ? BATCHES : iters(5000), r;
	int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);

	if (zero < 0)
		bench_die("open /dev/zero");
	get_dev(&ours, gpus[0], type_of("16m"));
	get_dev(&mtty, MTTY, MTTY_TYPE);
	time_cfg_reads(&ours, n / 10 + 1);	/* warm up */
	time_cfg_reads(&mtty, n / 10 + 1);
	for (r = 0; r < runs; r++) {
		double a[BATCHES], b[BATCHES], f[BATCHES];
		unsigned int k;

		for (k = 0; k < BATCHES; k++) {
			a[k] = time_cfg_reads(&ours, n / BATCHES);
			b[k] = time_cfg_reads(&mtty, n / BATCHES);
			f[k] = time_zero_reads(zero, n / BATCHES);
		}
		emit("1", r, "ns", median(a, BATCHES), median(b, BATCHES), median(f, BATCHES));
	}
	put_dev(&ours);
	put_dev(&mtty);
	close(zero);
}

/* ---- 2: trapped MMIO write + read ------------------------------------- */

static double time_mmio(struct bench_dev *d, unsigned int bar, uint64_t off, unsigned int n)
{
	double t = now_ns();
	uint32_t v = VGPU_SIM_QEXT_LITTLE_ENDIAN;
	unsigned int i;

	for (i = 0; i < n; i++) {
		bench_pwrite(d, bar, off, &v, 4);
		bench_pread(d, bar, off, &v, 4);
	}
	return (now_ns() - t) / n;
}

static void fig_mmio(void)
{
	struct bench_dev ours, mb;
	unsigned int n = iters(3000) < BATCHES ? BATCHES : iters(3000), r;

	get_dev(&ours, gpus[0], type_of("16m"));
	get_dev(&mb, MBOCHS, "mbochs-medium");
	/* the same register on both: QEMU's byte-order register in BAR2 */
	for (r = 0; r < runs; r++) {
		double a[BATCHES], b[BATCHES];
		unsigned int k;

		for (k = 0; k < BATCHES; k++) {
			a[k] = time_mmio(&ours, VFIO_PCI_BAR2_REGION_INDEX, VGPU_SIM_QEXT_BYTEORDER,
					 n / BATCHES);
			b[k] = time_mmio(&mb, VFIO_PCI_BAR2_REGION_INDEX, VGPU_SIM_QEXT_BYTEORDER,
					 n / BATCHES);
		}
		emit("2", r, "ns", median(a, BATCHES), median(b, BATCHES), -1);
	}
	put_dev(&ours);
	put_dev(&mb);
}

/* ---- scaling: 1 and 2 with 16 vGPUs open at once ---------------------- */

#define CROWD 16

static void fig_scaling(void)
{
	static struct bench_dev crowd[CROWD];
	unsigned int n = iters(3000), r, i;
	struct bench_dev *d = &crowd[0];
	char uuids[CROWD][40];
	int ret;

	/*
	 * One vGPU open throughout; 15 more on the other GPUs are created once
	 * and opened for the "crowd" half of each run, closed for the other.
	 */
	get_dev(d, gpus[0], type_of("16m"));
	for (i = 1; i < CROWD; i++) {
		ret = mdev_create(gpus[i % nr_gpus], type_of("16m"), uuids[i]);
		if (ret) {
			errno = -ret;
			bench_die("create vGPU %u of %u", i + 1, CROWD);
		}
	}
	time_cfg_reads(d, n / 10 + 1);
	for (r = 0; r < runs; r++) {
		double cfg1 = time_cfg_reads(d, n), cfg16, mmio1, mmio16;

		mmio1 = time_mmio(d, VFIO_PCI_BAR2_REGION_INDEX, VGPU_SIM_QEXT_BYTEORDER, n);
		for (i = 1; i < CROWD; i++)
			bench_open(&crowd[i], uuids[i]);
		cfg16 = time_cfg_reads(d, n);
		mmio16 = time_mmio(d, VFIO_PCI_BAR2_REGION_INDEX, VGPU_SIM_QEXT_BYTEORDER, n);
		for (i = 1; i < CROWD; i++)
			bench_close(&crowd[i]);
		emit("1s", r, "ns", cfg16, cfg1, -1);
		emit("2s", r, "ns", mmio16, mmio1, -1);
	}
	put_dev(d);
	for (i = 1; i < CROWD; i++)
		mdev_remove(uuids[i]);
}

/* ---- 3: mapped VRAM bandwidth; 4: first touch -------------------------- */

static volatile uint64_t sink;

static double time_write(void *p, size_t len)
{
	double t = now_ns();

	memset(p, 0x5a, len);
	__sync_synchronize();
	return now_ns() - t;
}

static double time_read(const void *p, size_t len)
{
	const volatile uint64_t *q = p;
	uint64_t s = 0;
	double t = now_ns();
	size_t i;

	for (i = 0; i < len / 8; i++)
		s += q[i];
	sink = s;
	return now_ns() - t;
}

static void *anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		bench_die("mmap %zu bytes of anonymous memory", len);
	memset(p, 1, len);	/* fault it in: bandwidth, not faults */
	return p;
}

static void fig_vram_bandwidth(void)
{
	size_t len = 64 * MiB;
	struct bench_dev ours;
	void *vram, *mem;
	unsigned int r;

	if (scale < 1)
		len = 4 * MiB;
	get_dev(&ours, gpus[0], type_of("128m"));
	vram = bench_map(&ours, VFIO_PCI_BAR0_REGION_INDEX, len);
	mem = anon(len);
	time_write(vram, len);	/* fault the mapping in */
	/* 64 MiB in order, in 8 pieces that alternate with anonymous memory's */
	for (r = 0; r < runs; r++) {
		double a[8], b[8], c[8], d[8];
		size_t piece = len / 8;
		unsigned int k;

		for (k = 0; k < 8; k++) {
			a[k] = time_write((char *)vram + k * piece, piece);
			b[k] = time_write((char *)mem + k * piece, piece);
		}
		for (k = 0; k < 8; k++) {
			c[k] = time_read((char *)vram + k * piece, piece);
			d[k] = time_read((char *)mem + k * piece, piece);
		}
		emit("3w", r, "ns", 8 * median(a, 8), 8 * median(b, 8), -1);
		emit("3r", r, "ns", 8 * median(c, 8), 8 * median(d, 8), -1);
	}
	munmap(vram, len);
	munmap(mem, len);
	put_dev(&ours);
}

static double time_first_touch(const char *parent, const char *type, size_t len)
{
	struct bench_dev d;
	volatile char *p;
	double t;
	size_t i;

	get_dev(&d, parent, type);
	p = bench_map(&d, VFIO_PCI_BAR0_REGION_INDEX, len);
	t = now_ns();
	for (i = 0; i < len; i += 4096)
		p[i] = 1;
	t = now_ns() - t;
	munmap((void *)p, len);
	put_dev(&d);
	return t;
}

static void fig_first_touch(void)
{
	size_t len = scale < 1 ? 4 * MiB : 64 * MiB;
	unsigned int r;

	/* a fresh device each run: the first touch of a device that never was touched */
	for (r = 0; r < runs; r++) {
		double a = time_first_touch(gpus[0], type_of("128m"), len);
		double b = time_first_touch(MBOCHS, "mbochs-large", len);

		emit("4", r, "ns", a, b, -1);
	}
}

/* ---- 5: create + remove; 6: the Nth create ----------------------------- */

/* @opened: opened and closed once between (for us: a slice to scrub at remove) */
static double time_create_remove(const char *parent, const char *type, unsigned int n,
				 bool opened)
{
	struct bench_dev d;
	char uuid[40];
	double t = now_ns();
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = mdev_create(parent, type, uuid);
		if (ret) {
			errno = -ret;
			bench_die("create %s on %s", type, parent);
		}
		if (opened) {
			bench_open(&d, uuid);
			bench_close(&d);
		}
		mdev_remove(uuid);
	}
	return (now_ns() - t) / n;
}

static void fig_create_remove(void)
{
	unsigned int n = iters(10) < 64 ? iters(10) : 64, r;

	for (r = 0; r < runs; r++) {
		double a[64], b[64], c[64], ao[64], co[64];
		unsigned int k;

		for (k = 0; k < n; k++) {
			a[k] = time_create_remove(gpus[0], type_of("16m"), 1, false);
			b[k] = time_create_remove(MTTY, MTTY_TYPE, 1, false);
			c[k] = time_create_remove(MBOCHS, "mbochs-medium", 1, false);
			ao[k] = time_create_remove(gpus[0], type_of("16m"), 1, true);
			co[k] = time_create_remove(MBOCHS, "mbochs-medium", 1, true);
		}

		emit("5-mtty", r, "ns", median(a, n), median(b, n), -1);
		emit("5-mbochs", r, "ns", median(a, n), median(c, n), -1);
		emit("5-opened", r, "ns", median(ao, n), median(co, n), -1);
	}
}

#define NTH_MAX 64

static void fig_nth_create(void)
{
	static char uuids[NTH_MAX][40];
	double t[NTH_MAX];
	unsigned int per_gpu = 16, total = per_gpu * nr_gpus, r, i, k = 4;
	int ret;

	if (total > NTH_MAX)
		total = NTH_MAX;
	for (r = 0; r < runs; r++) {
		double first = 0, last = 0;

		/* round robin over the GPUs, 16 MiB vGPUs: 16 per GPU of 256 MiB */
		for (i = 0; i < total; i++) {
			double s = now_ns();

			ret = mdev_create(gpus[i % nr_gpus], type_of("16m"), uuids[i]);
			t[i] = now_ns() - s;
			if (ret) {
				errno = -ret;
				bench_die("create vGPU %u of %u", i + 1, total);
			}
		}
		for (i = 0; i < total; i++)
			mdev_remove(uuids[i]);
		for (i = 0; i < k; i++) {
			first += t[i] / k;
			last += t[total - k + i] / k;
		}
		/* "ours" is the mean of the last 4 creates, "ref" of the first 4 */
		printf("{\"fig\":\"6\",\"run\":%u,\"unit\":\"ns\",\"ours\":%.1f,\"ref\":%.1f,"
		       "\"n\":%u,\"each\":[", r, last, first, total);
		for (i = 0; i < total; i++)
			printf("%s%.0f", i ? "," : "", t[i]);
		printf("]}\n");
		fflush(stdout);
	}
}

/* ---- 7: doorbell -> MSI-X eventfd; 8: copy engine --------------------- */

struct ce {
	struct bench_dev d;
	void *buf;
	size_t len;
	int efd[VGPU_SIM_MSIX_VECTORS];
};

static unsigned int find_cap(struct bench_dev *d, uint8_t id)
{
	unsigned int pos = bench_cfg_read(d, 0x34, 1);

	while (pos && bench_cfg_read(d, pos, 1) != id)
		pos = bench_cfg_read(d, pos + 1, 1);
	return pos;
}

static void ce_setup(struct ce *c, const char *kind, size_t len)
{
	char buf[sizeof(struct vfio_irq_set) + VGPU_SIM_MSIX_VECTORS * sizeof(int)];
	struct vfio_irq_set *s = (void *)buf;
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m) };
	unsigned int pos, i;

	get_dev(&c->d, gpus[0], type_of(kind));
	c->len = len;
	c->buf = anon(len);
	m.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	m.vaddr = (uintptr_t)c->buf;
	m.iova = 0;
	m.size = len;
	if (ioctl(c->d.container, VFIO_IOMMU_MAP_DMA, &m))
		bench_die("VFIO_IOMMU_MAP_DMA of %zu bytes", len);
	pos = find_cap(&c->d, 0x11);
	if (!pos)
		bench_die("no MSI-X capability on %s", c->d.uuid);
	/* as QEMU does: enable MSI-X in config space, then hand over eventfds */
	bench_cfg_write(&c->d, pos + 2, 2, 0x8000);
	for (i = 0; i < VGPU_SIM_MSIX_VECTORS; i++) {
		c->efd[i] = eventfd(0, EFD_CLOEXEC);
		if (c->efd[i] < 0)
			bench_die("eventfd");
	}
	s->argsz = sizeof(buf);
	s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	s->index = VFIO_PCI_MSIX_IRQ_INDEX;
	s->start = 0;
	s->count = VGPU_SIM_MSIX_VECTORS;
	memcpy(s->data, c->efd, sizeof(c->efd));
	if (ioctl(c->d.fd, VFIO_DEVICE_SET_IRQS, s))
		bench_die("VFIO_DEVICE_SET_IRQS MSI-X");
}

static void ce_teardown(struct ce *c)
{
	unsigned int i;

	for (i = 0; i < VGPU_SIM_MSIX_VECTORS; i++)
		close(c->efd[i]);
	put_dev(&c->d);
	munmap(c->buf, c->len);
}

static void reg_write(struct bench_dev *d, unsigned int off, uint32_t v)
{
	bench_pwrite(d, VFIO_PCI_BAR2_REGION_INDEX, off, &v, 4);
}

static uint32_t reg_read(struct bench_dev *d, unsigned int off)
{
	uint32_t v;

	bench_pread(d, VFIO_PCI_BAR2_REGION_INDEX, off, &v, 4);
	return v;
}

static void ce_program(struct ce *c, uint32_t len)
{
	reg_write(&c->d, VGPU_SIM_CE_IOVA_LO, 0);
	reg_write(&c->d, VGPU_SIM_CE_IOVA_HI, 0);
	reg_write(&c->d, VGPU_SIM_CE_VRAM_OFFSET, 0);
	reg_write(&c->d, VGPU_SIM_CE_LENGTH, len);
	reg_write(&c->d, VGPU_SIM_CE_CTRL, 0);	/* guest -> VRAM */
}

/* rings the doorbell; returns ns until the completion vector's eventfd woke us */
static double ce_run(struct ce *c)
{
	uint64_t v;
	double t = now_ns();

	reg_write(&c->d, VGPU_SIM_CE_DOORBELL, 1);
	if (read(c->efd[VGPU_SIM_MSIX_VEC_COMPLETE], &v, 8) != 8)
		bench_die("read of the completion eventfd");
	t = now_ns() - t;
	if (reg_read(&c->d, VGPU_SIM_CE_STATUS) != VGPU_SIM_CE_STATUS_DONE)
		bench_die("copy engine: status %#x, error %u",
			  reg_read(&c->d, VGPU_SIM_CE_STATUS), reg_read(&c->d, VGPU_SIM_CE_ERROR));
	reg_write(&c->d, VGPU_SIM_REG_IRQ_STATUS, ~0u);
	return t;
}

static int pong[2];

static void *pong_thread(void *arg)
{
	uint64_t v;

	(void)arg;
	while (read(pong[0], &v, 8) == 8 && v != ~0ULL - 1)
		if (write(pong[1], &v, 8) != 8)
			break;
	return NULL;
}

/* a write to an eventfd another thread sleeps on, and its answer: one wake-up each way */
static double time_raw_eventfd(unsigned int n)
{
	uint64_t v = 1;
	double t = now_ns();
	unsigned int i;

	for (i = 0; i < n; i++) {
		v = 1;
		if (write(pong[0], &v, 8) != 8 || read(pong[1], &v, 8) != 8)
			bench_die("eventfd round trip");
	}
	return (now_ns() - t) / n;
}

static void fig_doorbell(void)
{
	unsigned int per = iters(300) / BATCHES ? iters(300) / BATCHES : 1, r, i;
	pthread_t th;
	uint64_t stop = ~0ULL - 1;
	struct ce c;

	pong[0] = eventfd(0, EFD_CLOEXEC);
	pong[1] = eventfd(0, EFD_CLOEXEC);
	if (pong[0] < 0 || pong[1] < 0 || pthread_create(&th, NULL, pong_thread, NULL))
		bench_die("eventfd thread");
	ce_setup(&c, "16m", 4096);
	ce_program(&c, 4096);	/* the smallest job: one page */
	ce_run(&c);
	for (r = 0; r < runs; r++) {
		double a[BATCHES], b[BATCHES];
		unsigned int k;

		for (k = 0; k < BATCHES; k++) {
			a[k] = b[k] = 0;
			for (i = 0; i < per; i++) {
				a[k] += ce_run(&c);
				b[k] += time_raw_eventfd(1);
			}
			a[k] /= per;
			b[k] /= per;
		}
		emit("7", r, "ns", median(a, BATCHES), median(b, BATCHES), -1);
	}
	ce_teardown(&c);
	if (write(pong[0], &stop, 8) != 8)
		bench_die("stop the eventfd thread");
	pthread_join(th, NULL);
	close(pong[0]);
	close(pong[1]);
}

static void fig_copy_engine(void)
{
	size_t len = scale < 1 ? 1 * MiB : 16 * MiB;
	void *dst = anon(len);
	unsigned int r;
	struct ce c;

	ce_setup(&c, "32m", len);
	ce_program(&c, len);
	/* 5 jobs a run, each next to a memcpy; the run's value is the medians */
	for (r = 0; r < runs; r++) {
		double a[5], b[5];
		unsigned int k;

		for (k = 0; k < 5; k++) {
			a[k] = ce_run(&c);
			b[k] = now_ns();
			memcpy(dst, c.buf, len);
			__sync_synchronize();
			b[k] = now_ns() - b[k];
		}
		emit("8", r, "ns", median(a, 5), median(b, 5), -1);
	}
	ce_teardown(&c);
	munmap(dst, len);
}

/* ---- 9: kernel memory per idle vGPU ------------------------------------ */

static long long meminfo(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long long v = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		bench_die("open /proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtoll(line + n + 1, NULL, 10) * 1024;
	fclose(f);
	return v;
}

static void settle(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

	sync();
	if (fd >= 0) {
		if (write(fd, "3", 1) != 1)
			bench_die("drop caches");
		close(fd);
	}
	usleep(200000);
}

/*
 * Kernel memory the allocators account: slab (kmalloc beyond the slab sizes
 * included, 6.1 counts it there), vmalloc and per-CPU areas. MemFree cannot
 * tell: pages come and go through per-CPU lists it does not count.
 */
static long long kernel_mem(long long *slab)
{
	*slab = meminfo("Slab");
	return *slab + meminfo("VmallocUsed") + meminfo("Percpu");
}

/* bytes of kernel memory per idle device, over @n devices */
static double mem_per_dev(const char *parent, const char *type, unsigned int n, double *slab)
{
	static char uuids[16][40];
	long long m0, m1, s0, s1;
	unsigned int i;
	int ret;

	settle();
	m0 = kernel_mem(&s0);
	for (i = 0; i < n; i++) {
		ret = mdev_create(parent, type, uuids[i]);
		if (ret) {
			errno = -ret;
			bench_die("create %s %u of %u", type, i + 1, n);
		}
	}
	settle();
	m1 = kernel_mem(&s1);
	for (i = 0; i < n; i++)
		mdev_remove(uuids[i]);
	*slab = (double)(s1 - s0) / n;
	return (double)(m1 - m0) / n;
}

static void fig_memory(void)
{
	unsigned int n = 16, r;

	for (r = 0; r < runs; r++) {
		double sa, sb;
		double a = mem_per_dev(gpus[0], type_of("16m"), n, &sa);
		double b = mem_per_dev(MBOCHS, "mbochs-medium", n, &sb);

		/* a freed slab page can make a delta negative: noise, reported as 0 */
		printf("{\"fig\":\"9\",\"run\":%u,\"unit\":\"bytes\",\"ours\":%.1f,\"ref\":%.1f,"
		       "\"ours_slab\":%.1f,\"ref_slab\":%.1f,\"n\":%u}\n", r, a > 0 ? a : 0,
		       b > 0 ? b : 0, sa, sb, n);
		fflush(stdout);
	}
}

/* ---- m: migration downtime and STOP_COPY bytes, PRE_COPY against none ---- */

/*
 * The guest, as far as migration sees it: a thread storing to @rate
 * percent of the VRAM pages a second, spread by a prime stride, into the
 * mapping (whose write faults PRE_COPY tracks) and into a shadow copy
 * that B must equal at the end. "pause" is the VMM stopping the vCPUs.
 */
struct mig_guest {
	volatile uint64_t *vram;
	uint64_t *shadow;
	size_t pages;
	unsigned int rate;
	int stop, pause, paused;	/* __atomic */
	uint64_t stores;		/* made while not paused */
	double busy_ns;			/* time not paused */
	pthread_t thread;
};

/*
 * Paced in 1 ms ticks. A tick that comes late (faults, a busy vCPU) is
 * counted as at most 10 ms: a slowed guest writes less, it does not catch
 * up in a burst, so the rate achieved (reported) can fall short of @rate.
 */
static void *mig_guest_run(void *arg)
{
	struct mig_guest *g = arg;
	double last = now_ns(), budget = 0;
	uint64_t k = 0;

	while (!__atomic_load_n(&g->stop, __ATOMIC_ACQUIRE)) {
		double t = now_ns(), dt = t - last;

		last = t;
		if (__atomic_load_n(&g->pause, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&g->paused, 1, __ATOMIC_RELEASE);
			budget = 0;
			usleep(200);
			continue;
		}
		__atomic_store_n(&g->paused, 0, __ATOMIC_RELEASE);
		g->busy_ns += dt;
		budget += (dt < 1e7 ? dt : 1e7) / 1e9 * g->pages * g->rate / 100;
		for (; budget >= 1 && !__atomic_load_n(&g->pause, __ATOMIC_ACQUIRE); budget--) {
			size_t w = (k * 7919 % g->pages) * 512 + k % 512;

			g->vram[w] = ++k;
			g->shadow[w] = k;
		}
		usleep(1000);
	}
	g->stores = k;
	return NULL;
}

static void mig_guest_pause(struct mig_guest *g, int on)
{
	__atomic_store_n(&g->pause, on, __ATOMIC_RELEASE);
	while (on && !__atomic_load_n(&g->paused, __ATOMIC_ACQUIRE))
		usleep(100);
}

/* Sets @d's migration state; returns the new data fd or -1. */
static int mig_set(struct bench_dev *d, uint32_t state)
{
	uint64_t buf[4] = { 0 };
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_mig_state *s = (void *)f->data;

	f->argsz = sizeof(*f) + sizeof(*s);
	f->flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	s->device_state = state;
	if (ioctl(d->fd, VFIO_DEVICE_FEATURE, f))
		bench_die("%s: migration state %u", d->uuid, state);
	return s->data_fd;
}

static uint64_t mig_flags(struct bench_dev *d)
{
	uint64_t buf[4] = { 0 };
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_migration *m = (void *)f->data;

	f->argsz = sizeof(*f) + sizeof(*m);
	f->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION;
	return ioctl(d->fd, VFIO_DEVICE_FEATURE, f) ? 0 : m->flags;
}

/*
 * Moves what @from has now to @to. 0 at the end of the stream, 1 when a
 * PRE_COPY fd has nothing more now (ENOMSG) or @max bytes went.
 */
static int mig_pump(int from, int to, void *buf, size_t max, uint64_t *bytes)
{
	size_t moved = 0;

	while (moved < max) {
		ssize_t n = read(from, buf, 1 * MiB), w;

		if (n < 0 && errno == ENOMSG)
			return 1;
		if (n < 0)
			bench_die("read of the migration stream");
		if (!n)
			return 0;
		for (w = 0; w < n;) {
			ssize_t k = write(to, (char *)buf + w, n - w);

			if (k <= 0)
				bench_die("write of the migration stream");
			w += k;
		}
		moved += n;
		*bytes += n;
	}
	return 1;
}

/*
 * One migration of a running vGPU A to a fresh B of the same type, as a
 * VMM moves it. Returns the downtime in ns: from the guest's pause to B
 * running (device work only: no network, no guest RAM); *stop_bytes gets
 * what STOP_COPY carried. With @precopy, PRE_COPY iterates while the guest
 * writes and switches over once what is dirty is at most 1/32 of VRAM (or
 * after 4 times VRAM was sent: a rate it cannot outrun).
 */
static double mig_once(const char *type, unsigned int rate, bool precopy, uint64_t *stop_bytes,
		       double *achieved)
{
	struct mig_guest g = { .rate = rate };
	struct bench_dev a, b;
	size_t vram_len;
	uint64_t sent = 0, dirty = ~0ull;
	volatile uint64_t *bv;
	void *buf = malloc(1 * MiB);
	int fa, fb;
	double t;
	size_t i;

	if (!buf)
		bench_die("malloc");
	get_dev(&a, gpus[0], type);
	get_dev(&b, gpus[0], type);
	/* VRAM: BAR0's mmap-able part (the mailbox page after it traps) */
	vram_len = a.reg[VFIO_PCI_BAR0_REGION_INDEX].mmap_size;
	g.pages = vram_len / 4096;
	g.vram = bench_map(&a, VFIO_PCI_BAR0_REGION_INDEX, vram_len);
	g.shadow = anon(vram_len);
	for (i = 0; i < vram_len / 8; i++)
		g.vram[i] = g.shadow[i] = i * 0x9e3779b97f4a7c15ull;
	mig_set(&b, VFIO_DEVICE_STATE_STOP);
	fb = mig_set(&b, VFIO_DEVICE_STATE_RESUMING);
	if (pthread_create(&g.thread, NULL, mig_guest_run, &g))
		bench_die("pthread_create");
	usleep(200000);
	fa = -1;
	if (precopy) {
		fa = mig_set(&a, MIG_PRE_COPY);
		while (sent < 4 * vram_len) {
			struct mig_precopy_info pi = { .argsz = sizeof(pi) };

			mig_pump(fa, fb, buf, 1 * MiB, &sent);
			if (ioctl(fa, MIG_GET_PRECOPY_INFO, &pi))
				bench_die("VFIO_MIG_GET_PRECOPY_INFO");
			dirty = pi.initial_bytes + pi.dirty_bytes;
			if (!pi.initial_bytes && dirty <= vram_len / 32)
				break;
		}
	}
	mig_guest_pause(&g, 1);
	t = now_ns();
	*stop_bytes = 0;
	if (precopy) {
		mig_set(&a, MIG_PRE_COPY_P2P);
		mig_set(&a, VFIO_DEVICE_STATE_STOP_COPY);
	} else {
		mig_set(&a, VFIO_DEVICE_STATE_STOP);
		fa = mig_set(&a, VFIO_DEVICE_STATE_STOP_COPY);
	}
	while (mig_pump(fa, fb, buf, SIZE_MAX, stop_bytes))
		;
	mig_set(&a, VFIO_DEVICE_STATE_STOP);
	mig_set(&b, VFIO_DEVICE_STATE_STOP);
	mig_set(&b, VFIO_DEVICE_STATE_RUNNING);
	t = now_ns() - t;
	__atomic_store_n(&g.stop, 1, __ATOMIC_RELEASE);
	mig_guest_pause(&g, 0);
	pthread_join(g.thread, NULL);
	/* percent of the pages a second, over the time the guest ran */
	*achieved = g.busy_ns > 0 ? g.stores / (g.busy_ns / 1e9) / g.pages * 100 : 0;
	close(fa);
	close(fb);
	/* nothing the guest wrote may be lost */
	bv = bench_map(&b, VFIO_PCI_BAR0_REGION_INDEX, vram_len);
	for (i = 0; i < vram_len / 8; i++)
		if (bv[i] != g.shadow[i])
			bench_die("migration lost a write: B's VRAM word %zu is %#llx, not %#llx",
				  i, (unsigned long long)bv[i], (unsigned long long)g.shadow[i]);
	munmap((void *)bv, vram_len);
	munmap((void *)g.vram, vram_len);
	munmap(g.shadow, vram_len);
	free(buf);
	put_dev(&b);
	put_dev(&a);
	return t;
}

static void fig_migration(void)
{
	static const unsigned int rates[] = { 1, 10, 50 };
	const char *type = type_of(scale < 1 ? "16m" : "64m");
	struct bench_dev probe;
	unsigned int r, k;

	get_dev(&probe, gpus[0], type);
	k = !!(mig_flags(&probe) & MIG_FLAG_PRE_COPY);
	put_dev(&probe);
	if (!k) {
		fprintf(stderr, "vgpu-bench: no PRE_COPY on this kernel (6.2+): no figure m\n");
		return;
	}
	for (r = 0; r < runs; r++) {
		for (k = 0; k < sizeof(rates) / sizeof(rates[0]); k++) {
			uint64_t bw, bn;
			double aw, an;
			/* which goes first alternates, so drift hits both alike */
			double dn = r % 2 ? 0 : mig_once(type, rates[k], false, &bn, &an);
			double dw = mig_once(type, rates[k], true, &bw, &aw);

			if (r % 2)
				dn = mig_once(type, rates[k], false, &bn, &an);
			printf("{\"fig\":\"m%u\",\"run\":%u,\"unit\":\"ns\",\"ours\":%.1f,"
			       "\"ref\":%.1f,\"rate\":%u,\"ours_rate\":%.2f,\"ref_rate\":%.2f}\n",
			       rates[k], r, dw, dn, rates[k], aw, an);
			printf("{\"fig\":\"m%ub\",\"run\":%u,\"unit\":\"bytes\",\"ours\":%llu,"
			       "\"ref\":%llu}\n", rates[k], r, (unsigned long long)bw,
			       (unsigned long long)bn);
			fflush(stdout);
		}
	}
}

/* ------------------------------------------------------------------------ */

static bool have(const char *path)
{
	return access(path, F_OK) == 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *figs;	/* what it emits, for --only */
		void (*run)(void);
	} figures[] = {
		{ "1", fig_config_read },
		{ "2", fig_mmio },
		{ "s", fig_scaling },
		{ "3", fig_vram_bandwidth },
		{ "4", fig_first_touch },
		{ "5", fig_create_remove },
		{ "6", fig_nth_create },
		{ "7", fig_doorbell },
		{ "8", fig_copy_engine },
		{ "9", fig_memory },
		{ "m", fig_migration },
	};
	unsigned int i;

	for (i = 1; i < (unsigned int)argc; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < (unsigned int)argc) {
			runs = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--scale") && i + 1 < (unsigned int)argc) {
			scale = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--only") && i + 1 < (unsigned int)argc) {
			only = argv[++i];
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: vgpu-bench [--runs N] [--scale F] [--only FIG,...] GPU...\n");
			return 2;
		} else if (nr_gpus < MAX_GPUS) {
			gpus[nr_gpus++] = argv[i];
		}
	}
	if (!nr_gpus || !runs || scale <= 0) {
		fprintf(stderr, "usage: vgpu-bench [--runs N] [--scale F] [--only FIG,...] GPU...\n");
		return 2;
	}
	if (!have("/dev/vfio/vfio") || !have("/sys/class/mdev_bus/" MTTY) ||
	    !have("/sys/class/mdev_bus/" MBOCHS)) {
		fprintf(stderr, "vgpu-bench: needs VFIO, our vGPUs, mtty and mbochs loaded (run it through tools/bench)\n");
		return 4;
	}
	for (i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
		if (!wanted(figures[i].figs))
			continue;
		fprintf(stderr, "vgpu-bench: figure %s\n", figures[i].figs);
		figures[i].run();
	}
	return 0;
}
