// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vgpu-fuzz: a coverage-guided fuzzer for the vGPU device fd, run in the lab
 * as root (TAP). A program is a list of operations on two vGPUs of vgpu_sim:
 * every VFIO ioctl our driver handles with edge argsz/flags/indexes,
 * pread/pwrite/mmap/touch of every region, config-space writes, migration
 * states and data, close/reopen and removal mid-sequence, spread over three
 * threads that share the device fds. With KCOV (/sys/kernel/debug/kcov) the
 * programs that reach new PCs or edges in our modules join an in-memory
 * corpus and are mutated; without it the programs are random, and it says so.
 * Every program starts from freshly opened vGPUs, so it replays from its text
 * (up to the races between its threads).
 *
 *   vgpu-fuzz [-c DIR]... [-o DIR] [-n EXECS] [-s SEED] [-r] [-m FILE] [FILE...]
 *     -c DIR   load the DIR/NAME.txt programs into the corpus and replay them first
 *     -o DIR   write new interesting programs and crashes there
 *     -n N     fuzzing executions after the replay (default 1000)
 *     -s SEED  random seed (default 1)
 *     -r       replay only (the corpus and FILEs), no fuzzing
 *     -m FILE  minimise FILE, a program that makes a kernel report
 *     -T SECS  stop fuzzing after SECS seconds even if EXECS are not done (long runs)
 * FUZZ_DEBUG=1 in the environment prints every mmap and its result.
 * Exit: 0 no report, 1 a kernel report/oracle failure/hang, 4 skipped.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/kcov.h>
#include <linux/vfio.h>

#include "vgpu_mig.h"
#include "vgpu_sim_regs.h"

#ifndef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 9
#endif

#define NTHREADS	3	/* program threads; the main thread is one more */
#define NSLOTS		2	/* vGPUs */
#define MAX_OPS		48
#define MAX_MAPS	8
#define MAX_REGIONS	16
#define NEFD		4
#define BUF_SIZE	(64 << 10)
#define COVER_SIZE	(256 << 10)	/* PCs per thread per program */
#define EDGE_BITS	22
#define PC_SET_BITS	20
#define MAX_CORPUS	4096
#define HANG_SECS	120

/* ---- programs ---------------------------------------------------------- */

enum op_kind {
	OP_GET_INFO, OP_REGION_INFO, OP_IRQ_INFO, OP_SET_IRQS, OP_RESET,
	OP_FEATURE, OP_MIG_STATE, OP_MIG_DATA, OP_PLANE, OP_PREAD, OP_PWRITE,
	OP_MMAP, OP_MUNMAP, OP_TOUCH, OP_CFG, OP_EFD, OP_CLOSE, OP_REOPEN,
	OP_REMOVE, OP_IOCTL, OP_DMA, OP_MIG_FORGE, OP_DMA_LOG, NR_OPS
};

static const char *const op_names[] = {
	"get_info", "region_info", "irq_info", "set_irqs", "reset",
	"feature", "mig_state", "mig_data", "plane", "pread", "pwrite",
	"mmap", "munmap", "touch", "cfg", "efd", "close", "reopen",
	"remove", "ioctl", "dma", "mig_forge", "dma_log",
};

/* how often the generator picks each */
static const unsigned int op_weight[] = {
	2, 4, 3, 10, 3, 4, 3, 4, 2, 8, 10, 6, 3, 8, 10, 3, 2, 2, 1, 2, 4, 2, 3,
};

_Static_assert(sizeof(op_names) / sizeof(op_names[0]) == NR_OPS, "a name per op");
_Static_assert(sizeof(op_weight) / sizeof(op_weight[0]) == NR_OPS, "a weight per op");

struct op {
	uint8_t kind, thread, slot;
	uint32_t a[6];
};

struct prog {
	unsigned int n;
	struct op ops[MAX_OPS];
};

/* ---- random numbers ---------------------------------------------------- */

static uint64_t rng_state = 1;

static uint64_t rnd64(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rnd(uint32_t n)
{
	return n ? (uint32_t)(rnd64() % n) : 0;
}

/* a per-op stream, from its arguments: data it writes is part of the program */
static uint64_t mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	return z ^ (z >> 27);
}

static const uint32_t interesting[] = {
	0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 511,
	0x3ff, 0x400, 0xfff, 0x1000, 0x1001, 0x7fff, 0x8000, 0xffff, 0x10000,
	0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
};
#define NR_INTERESTING (sizeof(interesting) / sizeof(interesting[0]))

/* a small count or index: mostly edges */
static uint32_t small(uint32_t a)
{
	switch (a & 3) {
	case 0:
		return (a >> 2) % 8;
	case 1:
		return interesting[(a >> 2) % NR_INTERESTING];
	case 2:
		return (a >> 2) % 64;
	default:
		return a >> 2 << 2 | (a >> 30);
	}
}

/* argsz around the exact size of a request */
static uint32_t argsz_of(uint32_t a, uint32_t exact)
{
	switch (a & 7) {
	case 0:
	case 1:
		return exact;
	case 2:
		return exact ? exact - 1 : 0;
	case 3:
		return exact + (a >> 3) % 64;
	case 4:
		return (a >> 3) % 32;
	case 5:
		return 4096;
	case 6:
		return 0xffffffff;
	default:
		return (a >> 3) % (BUF_SIZE + 64);
	}
}

/* ---- output ------------------------------------------------------------- */

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static void prog_write(FILE *f, const struct prog *p)
{
	unsigned int i, j;

	fprintf(f, "# vgpu-fuzz program: op thread slot args...\n");
	for (i = 0; i < p->n; i++) {
		const struct op *o = &p->ops[i];

		fprintf(f, "%s %u %u", op_names[o->kind], o->thread, o->slot);
		for (j = 0; j < 6; j++)
			fprintf(f, " %#x", o->a[j]);
		fputc('\n', f);
	}
}

/* 0, or -1 with a message */
static int prog_parse(const char *path, struct prog *p)
{
	char line[512];
	FILE *f = fopen(path, "r");
	unsigned int lineno = 0;

	if (!f) {
		diag("%s: %s", path, strerror(errno));
		return -1;
	}
	memset(p, 0, sizeof(*p));
	while (fgets(line, sizeof(line), f)) {
		char name[32];
		unsigned int t, s, a[6], k;
		int n, end = 0;

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		n = sscanf(line, "%31s %u %u %x %x %x %x %x %x %n", name, &t, &s,
			   &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &end);
		for (k = 0; k < NR_OPS; k++)
			if (!strcmp(name, op_names[k]))
				break;
		/* exactly nine fields: no stray one ignored */
		if (n != 9 || line[end] || k == NR_OPS || t >= NTHREADS || s >= NSLOTS ||
		    p->n == MAX_OPS) {
			diag("%s:%u: not a program line (or too many ops)", path, lineno);
			fclose(f);
			return -1;
		}
		p->ops[p->n].kind = k;
		p->ops[p->n].thread = t;
		p->ops[p->n].slot = s;
		memcpy(p->ops[p->n].a, a, sizeof(a));
		p->n++;
	}
	fclose(f);
	return 0;
}

static uint64_t prog_hash(const struct prog *p)
{
	uint64_t h = 1469598103934665603ULL;
	const uint8_t *b = (const uint8_t *)p->ops;
	size_t i;

	for (i = 0; i < p->n * sizeof(struct op); i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

/* ---- the vGPUs ----------------------------------------------------------- */

struct region {
	uint64_t off, size;
	uint32_t flags;
	unsigned int nareas;		/* sparse mmap areas */
	struct { uint64_t off, size; } areas[4];
};

struct map {
	uint8_t *p;
	size_t len;
	bool wr;
};

struct slot {
	pthread_mutex_t lock;		/* everything but the fd numbers */
	char uuid[40];
	int container, group;
	int dev, mig;			/* fixed numbers: the device or /dev/null */
	bool present, removing;
	bool probed;			/* regions known for this instance */
	atomic_bool removed;		/* the remover's write returned */
	pthread_t remover;
	pthread_rwlock_t maplock;	/* touch (read) vs munmap (write) */
	struct map maps[MAX_MAPS];
	unsigned int nregions;
	struct region reg[MAX_REGIONS];
	unsigned int cap_msi, cap_msix, cap_pcie;
	unsigned int msix_bar, msix_off, msix_n;
};

static const char *gpu;
static char type_dir[PATH_MAX];
static struct slot slots[NSLOTS];
static int nullfd, efds[NEFD];
static const char *outdir;

static int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;
	int e;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	e = errno;
	close(fd);
	return n < 0 ? -e : 0;
}

static void *remover(void *arg)
{
	struct slot *s = arg;
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "/sys/bus/mdev/devices/%s/remove", s->uuid);
	sysfs_write(p, "1");
	atomic_store(&s->removed, true);
	return NULL;
}

static int cfg_read(struct slot *s, unsigned int off, unsigned int size, uint32_t *v)
{
	*v = 0;
	return pread(s->dev, v, size, s->reg[VFIO_PCI_CONFIG_REGION_INDEX].off + off) ==
	       (ssize_t)size ? 0 : -1;
}

/* the regions and capabilities of a freshly opened device (caller: lock) */
static void slot_probe(struct slot *s)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	unsigned int i, pos, guard;
	uint32_t v;

	s->nregions = 0;
	if (ioctl(s->dev, VFIO_DEVICE_GET_INFO, &di))
		return;
	s->nregions = di.num_regions < MAX_REGIONS ? di.num_regions : MAX_REGIONS;
	for (i = 0; i < s->nregions; i++) {
		uint64_t b[512] = { 0 };
		struct vfio_region_info *ri = (void *)b;
		struct region *r = &s->reg[i];

		ri->argsz = sizeof(b);
		ri->index = i;
		r->nareas = 0;
		if (ioctl(s->dev, VFIO_DEVICE_GET_REGION_INFO, ri))
			continue;
		r->off = ri->offset;
		r->size = ri->size;
		r->flags = ri->flags;
		if ((ri->flags & VFIO_REGION_INFO_FLAG_CAPS) && ri->cap_offset) {
			uint32_t off = ri->cap_offset, hops = 0;

			while (off && off + 16 <= sizeof(b) && hops++ < 8) {
				struct vfio_region_info_cap_sparse_mmap *sp = (void *)((uint8_t *)b + off);
				unsigned int k;

				if (sp->header.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP)
					for (k = 0; k < sp->nr_areas && k < 4 &&
					     off + sizeof(*sp) + (k + 1) * 16 <= sizeof(b); k++) {
						r->areas[k].off = sp->areas[k].offset;
						r->areas[k].size = sp->areas[k].size;
						r->nareas = k + 1;
					}
				off = sp->header.next;
			}
		} else if (ri->flags & VFIO_REGION_INFO_FLAG_MMAP) {
			r->areas[0].off = 0;
			r->areas[0].size = ri->size;
			r->nareas = 1;
		}
	}
	s->cap_msi = s->cap_msix = s->cap_pcie = 0;
	if (cfg_read(s, 0x34, 1, &v))
		return;
	for (pos = v & ~3u, guard = 0; pos >= 0x40 && pos < 0x100 && guard < 48; guard++) {
		uint32_t id, next;

		if (cfg_read(s, pos, 1, &id) || cfg_read(s, pos + 1, 1, &next))
			break;
		if (id == 0x05)
			s->cap_msi = pos;
		else if (id == 0x11)
			s->cap_msix = pos;
		else if (id == 0x10)
			s->cap_pcie = pos;
		pos = next & ~3u;
	}
	if (s->cap_msix && !cfg_read(s, s->cap_msix + 4, 4, &v)) {
		uint32_t ctrl;

		s->msix_bar = v & 7;
		s->msix_off = v & ~7u;
		s->msix_n = cfg_read(s, s->cap_msix + 2, 2, &ctrl) ? 1 : (ctrl & 0x7ff) + 1;
	}
}

/* opens the group (if needed) and a fresh device fd; 0 or -1 (caller: lock) */
static int slot_open(struct slot *s)
{
	char p[PATH_MAX], link[PATH_MAX], dev[64];
	ssize_t n;
	int fd;

	if (s->group < 0) {
		snprintf(p, sizeof(p), "/sys/bus/mdev/devices/%s/iommu_group", s->uuid);
		n = readlink(p, link, sizeof(link) - 1);
		if (n <= 0)
			return -1;
		link[n] = 0;
		snprintf(dev, sizeof(dev), "/dev/vfio/%s", strrchr(link, '/') + 1);
		s->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
		s->group = open(dev, O_RDWR | O_CLOEXEC);
		if (s->container < 0 || s->group < 0 ||
		    ioctl(s->group, VFIO_GROUP_SET_CONTAINER, &s->container) ||
		    ioctl(s->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
			if (s->group >= 0)
				close(s->group);
			if (s->container >= 0)
				close(s->container);
			s->group = s->container = -1;
			return -1;
		}
	}
	fd = ioctl(s->group, VFIO_GROUP_GET_DEVICE_FD, s->uuid);
	if (fd < 0)
		return -1;
	dup2(fd, s->dev);
	close(fd);
	if (!s->probed)
		slot_probe(s);
	s->probed = true;
	return 0;
}

/* drops the mappings and the device and data fds (caller: lock) */
static void slot_close(struct slot *s)
{
	unsigned int i;

	pthread_rwlock_wrlock(&s->maplock);
	for (i = 0; i < MAX_MAPS; i++) {
		if (s->maps[i].p)
			munmap(s->maps[i].p, s->maps[i].len);
		s->maps[i].p = NULL;
	}
	pthread_rwlock_unlock(&s->maplock);
	dup2(nullfd, s->dev);
	dup2(nullfd, s->mig);
}

/* where the time goes, per kind of op (and the fresh reopen after each program) */
static atomic_ullong op_ns[NR_OPS + 2], op_count[NR_OPS + 2];

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int slot_create(struct slot *s)
{
	char p[PATH_MAX + 8];
	int ret;

	unsigned long long t = now_ns();

	snprintf(p, sizeof(p), "%s/create", type_dir);
	ret = sysfs_write(p, s->uuid);
	atomic_fetch_add(&op_ns[NR_OPS + 1], now_ns() - t);
	atomic_fetch_add(&op_count[NR_OPS + 1], 1);
	if (ret)
		return ret;
	/* every other slot offers its plane as a dma-buf too */
	if ((s - slots) & 1) {
		snprintf(p, sizeof(p), "/sys/bus/mdev/devices/%s/vendor/display_dmabuf", s->uuid);
		sysfs_write(p, "1");
	}
	s->present = true;
	s->probed = false;
	return 0;
}

/* a removal that has finished: forget the group (caller: lock) */
static bool slot_reap(struct slot *s, int timeout)
{
	struct timespec ts;

	if (!s->removing)
		return true;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout;
	if (pthread_timedjoin_np(s->remover, NULL, &ts))
		return false;
	s->removing = false;
	s->present = false;
	atomic_store(&s->removed, false);
	if (s->group >= 0)
		close(s->group);
	if (s->container >= 0)
		close(s->container);
	s->group = s->container = -1;
	return true;
}

/* back to a present, freshly opened vGPU; false on a hang or failure */
static bool slot_fresh(struct slot *s, char *why, size_t len)
{
	bool ok = true;

	pthread_mutex_lock(&s->lock);
	slot_close(s);
	if (!slot_reap(s, HANG_SECS)) {
		snprintf(why, len, "removing vGPU %s did not finish after its last close", s->uuid);
		ok = false;
	} else if (!s->present && slot_create(s)) {
		snprintf(why, len, "recreating vGPU %s failed: %s", s->uuid, strerror(errno));
		ok = false;
	} else if (slot_open(s)) {
		snprintf(why, len, "opening vGPU %s failed: %s", s->uuid, strerror(errno));
		ok = false;
	}
	pthread_mutex_unlock(&s->lock);
	return ok;
}

/* ---- executing operations ------------------------------------------------ */

struct thr {
	unsigned int id;
	pthread_t th;
	sem_t go, done;
	const struct prog *prog;
	uint8_t *buf;			/* BUF_SIZE, then a guard page */
	int kcov;
	uint64_t *cover;
	sigjmp_buf jmp;
	volatile sig_atomic_t armed;
};

static struct thr thrs[NTHREADS + 1];	/* the last: the main thread */
static __thread struct thr *self;
static atomic_bool stop_threads;
static char oracle_msg[512];
static atomic_bool oracle_failed;

static void oracle(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void oracle(const char *fmt, ...)
{
	va_list ap;

	if (atomic_exchange(&oracle_failed, true))
		return;
	va_start(ap, fmt);
	vsnprintf(oracle_msg, sizeof(oracle_msg), fmt, ap);
	va_end(ap);
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (self && self->armed) {
		self->armed = 0;
		siglongjmp(self->jmp, 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * An ioctl argument of @argsz bytes followed by SLACK bytes and the guard
 * page, in a buffer otherwise filled with a pattern: io_check() says when the
 * kernel wrote past argsz (a huge argsz reaches the guard: EFAULT, never our
 * memory). room: the bytes from the returned pointer to the guard.
 */
#define SLACK 128
static __thread uint8_t slack_copy[SLACK];
static __thread uint32_t slack_at;

static uint8_t *io_buf(uint32_t argsz, size_t *room)
{
	uint8_t *p;

	memset(self->buf, 0xa5, BUF_SIZE);
	if ((uint64_t)argsz + SLACK <= BUF_SIZE)
		p = self->buf + BUF_SIZE - (((argsz + 7) & ~7u) + SLACK);
	else
		p = self->buf;
	*room = (size_t)(self->buf + BUF_SIZE - p);
	slack_at = 0;
	return p;
}

/* after filling the request: remember what lies past argsz */
static void io_arm(const uint8_t *p, uint32_t argsz)
{
	slack_at = (uint64_t)argsz + SLACK <= BUF_SIZE ? argsz : 0;
	if (slack_at)
		memcpy(slack_copy, p + argsz, SLACK);
}

static void io_check(const char *what, const uint8_t *p)
{
	unsigned int i;

	if (!slack_at)
		return;
	for (i = 0; i < SLACK; i++)
		if (p[slack_at + i] != slack_copy[i]) {
			oracle("%s wrote past argsz %u (byte %u after it)", what, slack_at, i);
			return;
		}
}

/* a position in a region: edges, inside, past the end, other cookies */
static uint64_t region_pos(struct slot *s, unsigned int idx, uint32_t cls, uint32_t r)
{
	struct region *reg = idx < s->nregions ? &s->reg[idx] : NULL;
	uint64_t base = reg ? reg->off : (uint64_t)idx << 40 | (s->reg[0].off & ~((1ULL << 44) - 1));
	uint64_t size = reg ? reg->size : 4096;

	switch (cls % 6) {
	case 0:
		return base + (size ? r % size : r);
	case 1:
		return base + size - (r % 16);
	case 2:
		return base + (r & ~7u) % (size ? size : 1);
	case 3:
		return base + small(r);
	case 4:
		return base + size + small(r);
	default:
		return (uint64_t)r << 32 | (s->reg[0].off & 0xffffffff) | (r & 0xfff);
	}
}

static size_t io_len(uint32_t a)
{
	static const size_t lens[] = { 1, 2, 4, 8, 3, 16, 4096, 4097, BUF_SIZE, 0 };

	if (a & 1)
		return lens[(a >> 1) % (sizeof(lens) / sizeof(lens[0]))];
	return (a >> 1) % (BUF_SIZE + 1);
}

static void fill(uint8_t *p, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i < len; i += 8) {
		uint64_t v = mix(&seed);

		memcpy(p + i, &v, len - i < 8 ? len - i : 8);
	}
}

static int pick_efd(unsigned int sel)
{
	switch (sel % 8) {
	case 0 ... 3:
		return efds[sel % 8];
	case 4:
		return efds[0];
	case 5:
		return -1;
	case 6:
		return nullfd;		/* not an eventfd */
	default:
		return 4095;		/* not open */
	}
}

static void take_data_fd(struct slot *s, int fd)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st))
		return;
	/* only a new fd: never one of ours that a bogus reply might name */
	if (fd == s->dev || fd == s->mig || fd == nullfd || fd < 3)
		return;
	dup2(fd, s->mig);
	close(fd);
}

/*
 * Forged migration streams: the head of a real one (header, config, MSI-X and
 * IRQ sections, the vendor section's start), captured once at setup, with a
 * vendor blob cut short or complete (the VRAM as zeros), bytes changed and the
 * checksum recomputed or not, loaded into a vGPU in RESUMING. Random bytes
 * never get past the checksum; these reach the parser's every check.
 */
#define FORGE_PREFIX 4096	/* bytes of the vendor blob kept */
static uint8_t *forge_tmpl, *forge_buf;
static size_t forge_head, forge_vendor_len, forge_cap;	/* head: up to the vendor data */
static pthread_mutex_t forge_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t crc32_std(const uint8_t *p, size_t len)
{
	static uint32_t table[256];
	uint32_t crc = ~0u;
	size_t i;

	if (!table[1]) {
		for (i = 0; i < 256; i++) {
			uint32_t c = i;
			int k;

			for (k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	for (i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static int mig_set(struct slot *s, uint32_t state)
{
	uint64_t b[4] = { 0 };
	struct vfio_device_feature *f = (void *)b;
	struct vfio_device_feature_mig_state *m = (void *)f->data;

	f->argsz = sizeof(*f) + sizeof(*m);
	f->flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	m->device_state = state;
	m->data_fd = -1;
	if (ioctl(s->dev, VFIO_DEVICE_FEATURE, f))
		return -1;
	take_data_fd(s, m->data_fd);
	return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (uint8_t *)buf + done, len - done);

		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

/*
 * One real save of slot 0, kept without its VRAM sections (a stream may carry
 * none) and without END, which every forgery writes anew: the header, the
 * device-state sections and the vendor blob's first FORGE_PREFIX bytes.
 * False leaves mig_forge a no-op.
 */
static bool forge_capture(struct slot *s)
{
	struct vgpu_mig_header h;
	struct vgpu_mig_section sec;
	size_t at;
	uint8_t *junk;
	int i;

	if (mig_set(s, VFIO_DEVICE_STATE_STOP) || mig_set(s, VFIO_DEVICE_STATE_STOP_COPY))
		return false;
	forge_tmpl = calloc(1, 1 << 20);
	junk = malloc(1 << 16);
	if (!forge_tmpl || !junk || read_full(s->mig, &h, sizeof(h)))
		return false;
	memcpy(forge_tmpl, &h, sizeof(h));
	at = sizeof(h);
	for (i = 0; i < 1 << 20 && !forge_head; i++) {
		uint64_t len, want;

		if (read_full(s->mig, &sec, sizeof(sec)))
			return false;
		len = (sec.len + 7) & ~7ULL;
		want = 0;
		if (sec.id == VGPU_MIG_SEC_VENDOR) {
			forge_head = at + sizeof(sec);
			forge_vendor_len = sec.len;
			want = len < FORGE_PREFIX ? len : FORGE_PREFIX;
		} else if (sec.id != VGPU_MIG_SEC_VRAM) {
			want = len;
		}
		if (sec.id != VGPU_MIG_SEC_VRAM) {
			if (at + sizeof(sec) + want > (1 << 20) - FORGE_PREFIX)
				return false;
			memcpy(forge_tmpl + at, &sec, sizeof(sec));
			at += sizeof(sec);
			if (read_full(s->mig, forge_tmpl + at, want))
				return false;
			at += want;
		}
		for (len -= want; len; ) {
			size_t n = len < (1 << 16) ? len : (1 << 16);

			if (read_full(s->mig, junk, n))
				return false;
			len -= n;
		}
	}
	free(junk);
	if (!forge_head)
		return false;
	forge_cap = forge_head + ((forge_vendor_len + 7) & ~7ULL) +
		    sizeof(struct vgpu_mig_section) + sizeof(struct vgpu_mig_end);
	forge_buf = mmap(NULL, forge_cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return forge_buf != MAP_FAILED;
}

static void do_mig_forge(struct slot *s, const uint32_t *a)
{
	size_t keep = forge_vendor_len < FORGE_PREFIX ? forge_vendor_len : FORGE_PREFIX;
	size_t vlen, total, payload, i;
	struct vgpu_mig_header *h;
	struct vgpu_mig_section *vs, *es;
	struct vgpu_mig_end *end;
	uint64_t seed = a[3];

	if (!forge_head)
		return;
	switch (a[0] % 32) {
	case 0 ... 15:
		vlen = small(a[0] >> 5) % (keep + 1);
		break;
	case 16 ... 30:
		vlen = keep;
		break;
	default:
		vlen = forge_vendor_len;	/* complete: the rest of the blob reads zeros */
	}
	pthread_mutex_lock(&forge_lock);
	memset(forge_buf, 0, forge_cap);
	memcpy(forge_buf, forge_tmpl, forge_head + keep);
	if (vlen < keep)
		memset(forge_buf + forge_head + vlen, 0, keep - vlen);
	vs = (void *)(forge_buf + forge_head - sizeof(*vs));
	vs->len = vlen;
	total = forge_head + ((vlen + 7) & ~7ULL);
	es = (void *)(forge_buf + total);
	es->id = VGPU_MIG_SEC_END;
	es->len = sizeof(*end);
	end = (void *)(es + 1);
	h = (void *)forge_buf;
	payload = total - sizeof(*h);
	end->payload_len = payload;
	total += sizeof(*es) + sizeof(*end);
	/* byte changes in the head, before or after the checksums */
	for (i = 0; i < (a[1] & 3); i++)
		forge_buf[(a[2] + i * 0x9e37) % (forge_head + keep)] ^= (uint8_t)mix(&seed) | 1;
	if (!(a[1] & 4)) {
		/* not end->payload_len: a flip above may have hit it */
		end->crc = crc32_std(forge_buf + sizeof(*h), payload);
		h->crc = 0;
		h->crc = crc32_std(forge_buf, sizeof(*h));
	}
	if (a[1] & 8)
		forge_buf[(a[4]) % (forge_head + keep)] ^= 1 << (a[5] % 8);
	if (mig_set(s, VFIO_DEVICE_STATE_STOP) == 0 &&
	    mig_set(s, VFIO_DEVICE_STATE_RESUMING) == 0) {
		/* in one write or in pieces */
		if (a[1] & 0x10) {
			for (i = 0; i < total; i += 4096)
				if (write(s->mig, forge_buf + i, total - i < 4096 ? total - i : 4096) < 0)
					break;
		} else {
			write(s->mig, forge_buf, total);
		}
		mig_set(s, a[1] & 0x20 ? VFIO_DEVICE_STATE_RUNNING : VFIO_DEVICE_STATE_STOP);
	}
	pthread_mutex_unlock(&forge_lock);
}

static void do_set_irqs(struct slot *s, const uint32_t *a)
{
	uint32_t index = a[0] & 0x80 ? a[0] : (a[0] & 7) % 7;
	uint32_t action = a[1] & 0x80000000 ? a[1] : 1u << (3 + a[1] % 3);
	uint32_t dtype = a[2] & 0x80000000 ? a[2] : 1u << (a[2] % 3);
	uint32_t count = small(a[4]), n = count < 64 ? count : 64, i, esz;
	struct vfio_irq_set *hdr;
	uint32_t flags = (action & ~VFIO_IRQ_SET_DATA_TYPE_MASK) | (dtype & VFIO_IRQ_SET_DATA_TYPE_MASK);
	size_t room;
	uint64_t seed = a[5];

	esz = dtype == VFIO_IRQ_SET_DATA_EVENTFD ? 4 : dtype == VFIO_IRQ_SET_DATA_BOOL ? 1 : 0;
	if (a[1] & 0x40000000)
		flags = a[1] ^ a[2];
	hdr = (void *)io_buf(argsz_of(a[3], sizeof(*hdr) + n * esz), &room);
	hdr->argsz = argsz_of(a[3], sizeof(*hdr) + n * esz);
	hdr->flags = flags;
	hdr->index = index;
	hdr->start = small(a[3] >> 8);
	hdr->count = count;
	for (i = 0; i < n && sizeof(*hdr) + (i + 1) * 4 <= room; i++) {
		if (esz == 4) {
			int fd = pick_efd((unsigned int)mix(&seed));

			memcpy(hdr->data + i * 4, &fd, 4);
		} else {
			hdr->data[i] = mix(&seed) & 1;
		}
	}
	ioctl(s->dev, VFIO_DEVICE_SET_IRQS, hdr);
}

static void do_feature(struct slot *s, const uint32_t *a, bool structured)
{
	struct vfio_device_feature *f;
	uint32_t plen, argsz;
	size_t room;
	int ret;

	if (structured) {
		/* MIG_DEVICE_STATE set (or get), the arc a VMM takes */
		struct vfio_device_feature_mig_state *m;

		plen = sizeof(*m);
		argsz = sizeof(*f) + plen;
		f = (void *)io_buf(argsz, &room);
		f->argsz = argsz;
		f->flags = VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE |
			   (a[1] & 1 ? VFIO_DEVICE_FEATURE_GET : VFIO_DEVICE_FEATURE_SET);
		m = (void *)f->data;
		m->device_state = a[0] % 10;
		m->data_fd = -1;
	} else {
		static const uint32_t ids[] = {
			VFIO_DEVICE_FEATURE_MIGRATION, VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, 0, 3, 4, 5, 6, 7, 8, 10, 11,
		};
		uint32_t id = a[0] & 0x80000000 ? a[0] & 0xffff : ids[a[0] % 12];
		uint32_t how = a[1] & 0x80000000 ? a[1] & ~0xffffu :
			       (uint32_t)(a[1] % 8) << 16;

		plen = a[2] % 40;
		argsz = argsz_of(a[3], sizeof(*f) + plen);
		f = (void *)io_buf(argsz, &room);
		f->argsz = argsz;
		f->flags = id | how;
		fill(f->data, room - sizeof(*f), a[4] | (uint64_t)a[5] << 32);
	}
	io_arm((uint8_t *)f, f->argsz);
	ret = ioctl(s->dev, VFIO_DEVICE_FEATURE, f);
	io_check("VFIO_DEVICE_FEATURE", (uint8_t *)f);
	if (ret == 0 && (f->flags & 0xffff) == VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE &&
	    (f->flags & VFIO_DEVICE_FEATURE_SET) &&
	    (uint8_t *)f->data + 8 <= self->buf + BUF_SIZE)
		take_data_fd(s, ((struct vfio_device_feature_mig_state *)f->data)->data_fd);
}

static void do_mig_data(struct slot *s, const uint32_t *a)
{
	size_t len = io_len(a[1]);
	uint8_t *b = self->buf;

	if (a[0] & 1) {
		if (read(s->mig, b, len) < 0 && (a[0] & 2))
			lseek(s->mig, small(a[2]), SEEK_SET);
	} else {
		fill(b, len, a[2] | (uint64_t)a[3] << 32);
		/* a header-shaped start now and then: magic-looking words */
		if (len >= 8 && (a[0] & 4))
			memcpy(b, &a[4], 4);
		if (write(s->mig, b, len) < 0 && (a[0] & 2))
			pwrite(s->mig, b, len, small(a[2]));
	}
}

static void do_rw(struct slot *s, const uint32_t *a, bool wr)
{
	unsigned int idx = a[0] & 0x80 ? a[0] & 0xf : a[0] % (s->nregions + 2);
	uint64_t pos = region_pos(s, idx, a[1], a[2]);
	size_t len = io_len(a[3]);
	uint8_t *b = self->buf + BUF_SIZE - len;

	if (wr) {
		fill(b, len, a[4] | (uint64_t)a[5] << 32);
		pwrite(s->dev, b, len, pos);
	} else {
		pread(s->dev, b, len, pos);
	}
}

static atomic_ulong nr_maps, nr_touches, nr_sigbus, nr_dmabufs, mmap_errno[64];

/* files @p among @s's mappings for touch and munmap: its index, or -1 (unmapped) */
static int map_keep(struct slot *s, void *p, size_t len, bool wr)
{
	int i;

	pthread_rwlock_wrlock(&s->maplock);
	for (i = 0; i < MAX_MAPS; i++) {
		if (!s->maps[i].p) {
			s->maps[i].p = p;
			s->maps[i].len = len;
			s->maps[i].wr = wr;
			break;
		}
	}
	pthread_rwlock_unlock(&s->maplock);
	if (i < MAX_MAPS)
		return i;
	munmap(p, len);
	return -1;
}

static void do_mmap(struct slot *s, const uint32_t *a)
{
	unsigned int idx = a[0] & 0x80 ? a[0] & 0xf : a[0] % (s->nregions + 1);
	uint64_t size, pages, pg, off;
	size_t len;
	int prot, i;
	void *p;

	if (a[0] & 0xc0) {
		/* the n-th region that says it can be mapped */
		unsigned int n = 0, k;

		for (k = 0; k < s->nregions; k++)
			n += !!(s->reg[k].flags & VFIO_REGION_INFO_FLAG_MMAP);
		n = n ? (a[0] >> 8) % n : 0;
		for (k = 0; k < s->nregions; k++)
			if ((s->reg[k].flags & VFIO_REGION_INFO_FLAG_MMAP) && !n--) {
				idx = k;
				break;
			}
	}
	size = idx < s->nregions ? s->reg[idx].size : 0x10000;
	pages = size / 4096;
	switch (a[1] % 4) {
	case 0:
		pg = 0;
		break;
	case 1:
		pg = pages ? (a[1] >> 2) % pages : 0;
		break;
	case 2:
		pg = pages ? pages - 1 : 0;
		break;
	default:
		pg = small(a[1] >> 2);
	}
	switch (a[2] % 4) {
	case 0:
		len = (1 + (a[2] >> 2) % 16) * 4096ULL;
		break;
	case 1:
		len = pages > pg ? (pages - pg) * 4096 : 4096;
		break;
	case 2:
		len = pages ? pages * 4096 : 4096;
		break;
	default:
		len = (1 + (a[2] >> 2) % 4) * 4096ULL + 4096ULL * (a[2] & 4 ? pages : 0);
	}
	if (idx < s->nregions && s->reg[idx].nareas && !(a[1] & 0x30)) {
		/* inside one sparse area, as a VMM maps it */
		struct region *r = &s->reg[idx];
		unsigned int k = (a[1] >> 8) % r->nareas;
		uint64_t apages = r->areas[k].size / 4096;

		if (apages) {
			uint64_t first = (a[1] >> 12) % 2 ? 0 : (a[1] >> 13) % apages;

			pg = r->areas[k].off / 4096 + first;
			len = 4096 * (a[2] & 0x30 ? 1 + (a[2] >> 8) % (apages - first) : apages - first);
		}
	}
	if (len > (64ULL << 20))
		len = 64ULL << 20;
	off = region_pos(s, idx, 3, 0) + pg * 4096;
	if (a[4] % 8 == 7)
		off = (uint64_t)a[5] << 12;
	prot = a[3] % 4 == 0 ? PROT_READ : a[3] % 4 == 1 ? PROT_WRITE :
	       a[3] % 4 == 2 ? PROT_READ | PROT_WRITE : PROT_NONE;
	/* never MAP_FIXED: a program must not map over the fuzzer's own memory */
	p = mmap(NULL, len, prot, (a[3] & 0x14) == 0x14 ? MAP_PRIVATE : MAP_SHARED, s->dev, off);
	if (getenv("FUZZ_DEBUG"))
		diag("mmap idx %u off %#llx len %#zx prot %d nareas %u a0 %#llx/%#llx -> %p",
		     idx, (unsigned long long)off, len, prot, idx < s->nregions ? s->reg[idx].nareas : 99,
		     idx < s->nregions ? (unsigned long long)s->reg[idx].areas[0].off : 0ULL,
		     idx < s->nregions ? (unsigned long long)s->reg[idx].areas[0].size : 0ULL, p);
	if (p == MAP_FAILED) {
		atomic_fetch_add(&mmap_errno[errno < 64 ? errno : 0], 1);
		return;
	}
	atomic_fetch_add(&nr_maps, 1);
	i = map_keep(s, p, len, prot & PROT_WRITE);
	if (i >= 0 && (a[3] & 8)) {
		/* mprotect to writable: refused for a read-only region */
		mprotect(s->maps[i].p, len, PROT_READ | PROT_WRITE);
	}
}

/* the (a % live)-th live mapping, or an empty one (caller: maplock) */
static struct map *pick_map(struct slot *s, uint32_t a)
{
	unsigned int live = 0, i;

	for (i = 0; i < MAX_MAPS; i++)
		live += s->maps[i].p != NULL;
	if (!live)
		return &s->maps[0];
	a %= live;
	for (i = 0; i < MAX_MAPS; i++)
		if (s->maps[i].p && !a--)
			return &s->maps[i];
	return &s->maps[0];
}

static void do_munmap(struct slot *s, const uint32_t *a)
{
	struct map *m;

	pthread_rwlock_wrlock(&s->maplock);
	m = pick_map(s, a[0]);
	if (m->p) {
		size_t keep = (a[1] % 4 == 1 && m->len > 4096) ?
			      ((a[1] >> 2) % (m->len / 4096 - 1) + 1) * 4096 : 0;

		munmap(m->p + keep, m->len - keep);
		m->len = keep;
		if (!keep)
			m->p = NULL;
	}
	pthread_rwlock_unlock(&s->maplock);
}

static void do_touch(struct slot *s, const uint32_t *a)
{
	struct map *m;
	volatile size_t off;
	size_t i, step;
	unsigned int sz = 1u << (a[2] % 4);
	bool wr = a[3] & 1;

	pthread_rwlock_rdlock(&s->maplock);
	m = pick_map(s, a[0]);
	if (!m->p || m->len < 8)
		goto out;
	atomic_fetch_add(&nr_touches, 1);
	if (sigsetjmp(self->jmp, 1)) {
		/* SIGBUS/SIGSEGV: memory disabled, removed, read-only: fine */
		atomic_fetch_add(&nr_sigbus, 1);
		goto out;
	}
	self->armed = 1;
	off = ((size_t)a[1] % m->len) & ~(size_t)(sz - 1);
	if (a[3] & 2) {
		/* every page (up to 64): faults across the whole range */
		step = m->len / 4096 > 64 ? m->len / 64 & ~4095ul : 4096;
		for (i = 0; i < m->len; i += step) {
			if (wr)
				*(volatile uint32_t *)(m->p + i) = a[4];
			else
				(void)*(volatile uint32_t *)(m->p + i);
		}
	} else {
		uint8_t *p = m->p + off;

		switch (sz) {
		case 1:
			if (wr)
				*(volatile uint8_t *)p = a[4];
			else
				(void)*(volatile uint8_t *)p;
			break;
		case 2:
			if (wr)
				*(volatile uint16_t *)p = a[4];
			else
				(void)*(volatile uint16_t *)p;
			break;
		case 4:
			if (wr)
				*(volatile uint32_t *)p = a[4];
			else
				(void)*(volatile uint32_t *)p;
			break;
		default:
			if (wr)
				*(volatile uint64_t *)p = a[4] | (uint64_t)a[5] << 32;
			else
				(void)*(volatile uint64_t *)p;
		}
	}
	self->armed = 0;
out:
	self->armed = 0;
	pthread_rwlock_unlock(&s->maplock);
}

static uint32_t pick_val(uint32_t a, uint32_t b)
{
	return a & 1 ? interesting[(a >> 1) % NR_INTERESTING] : b;
}

static void do_cfg(struct slot *s, const uint32_t *a)
{
	uint64_t base = s->reg[VFIO_PCI_CONFIG_REGION_INDEX].off;
	unsigned int off, size = 1u << (a[2] % 3);
	uint32_t v = pick_val(a[3], a[4]);

	switch (a[0] % 8) {
	case 0:
	case 1:
		/* command: I/O, memory, bus master, INTx disable */
		off = 0x04;
		size = 2;
		v = (a[1] & 0x0407) | (a[1] & 0x8000 ? a[4] & 0xffff : 0);
		break;
	case 2:
		off = 0x10 + (a[1] % 7) * 4;
		size = 4;
		if (a[1] & 0x100)
			v = 0xffffffff;		/* sizing */
		break;
	case 3:
		if (!s->cap_msi)
			return;
		off = s->cap_msi + a[1] % 24;
		if (a[1] & 0x100) {
			off = s->cap_msi + 2;	/* control: enable, multiple message */
			size = 2;
			v = (a[4] & 0x71) | (a[4] & 0x8000 ? 0 : 1);
		}
		break;
	case 4:
		if (!s->cap_msix)
			return;
		off = s->cap_msix + 2;
		size = 2;
		v = a[1] & 0x100 ? a[4] : (a[4] & 0xc000);
		break;
	case 5: {
		/* the MSI-X table itself, in its BAR */
		uint8_t *b = self->buf;

		if (!s->cap_msix || s->msix_bar >= s->nregions)
			return;
		off = s->msix_off + a[1] % (s->msix_n * 16 + 16);
		size = a[2] & 4 ? 8 : 4;
		memcpy(b, &v, 4);
		memcpy(b + 4, &a[5], 4);
		pwrite(s->dev, b, size, s->reg[s->msix_bar].off + (off & ~(size - 1u)));
		return;
	}
	case 6:
		if (!s->cap_pcie)
			return;
		off = s->cap_pcie + a[1] % 0x3c;
		break;
	default:
		off = a[1] % 0x1010;
		size = 1 + a[2] % 8;
	}
	pwrite(s->dev, &v, size > 4 ? 4 : size, base + off);
}

static void do_ioctl(struct slot *s, const uint32_t *a)
{
	static const unsigned long cmds[] = {
		VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_REGION_INFO,
		VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_SET_IRQS, VFIO_DEVICE_RESET,
		VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, VFIO_DEVICE_PCI_HOT_RESET,
		VFIO_DEVICE_QUERY_GFX_PLANE, VFIO_DEVICE_GET_GFX_DMABUF,
		VFIO_DEVICE_IOEVENTFD, VFIO_DEVICE_FEATURE, VFIO_IOMMU_MAP_DMA,
		VFIO_GROUP_GET_STATUS, _IO(VFIO_TYPE, VFIO_BASE + 30),
	};
	size_t room;
	uint8_t *b;
	unsigned long cmd = a[0] & 0x80000000 ? (a[0] & 0x7fffffff) | (VFIO_TYPE << 8) :
			    cmds[a[0] % (sizeof(cmds) / sizeof(cmds[0]))];

	if (cmd == VFIO_DEVICE_GET_GFX_DMABUF) {
		/* an id near those the planes were given, or any; a new fd */
		uint32_t id = a[2] & 1 ? a[3] : a[3] % 40;
		int fd = ioctl(s->dev, cmd, a[1] & 1 ? (void *)&id : (void *)(uintptr_t)a[3]);

		if (fd >= 0)
			close(fd);
		return;
	}
	b = io_buf(argsz_of(a[1], 64), &room);
	fill(b, room, a[2] | (uint64_t)a[3] << 32);
	memcpy(b, (uint32_t[]){ argsz_of(a[1], 64) }, 4);
	ioctl(s->dev, cmd, b);
	}

static void exec_op_timed(const struct op *o);

/*
 * A mode the sim shows, at one of four frames (@r selects depth and frame),
 * memory decode on: random writes seldom make one, and planes and their
 * dma-bufs need one.
 */
static void plane_mode(struct slot *s, uint32_t r)
{
	const uint16_t regs[][2] = {
		{ VGPU_SIM_DISPI_ENABLE, 0 },
		{ VGPU_SIM_DISPI_BPP, r & 2 ? 16 : 32 },
		{ VGPU_SIM_DISPI_XRES, 640 },
		{ VGPU_SIM_DISPI_YRES, 480 },
		{ VGPU_SIM_DISPI_VIRT_WIDTH, 640 },
		{ VGPU_SIM_DISPI_Y_OFFSET, (r >> 2) % 4 * 480 },
		{ VGPU_SIM_DISPI_ENABLE, VGPU_SIM_DISPI_ENABLED | VGPU_SIM_DISPI_LFB_ENABLED },
	};
	uint16_t cmd = 0;
	size_t i;

	if (s->nregions <= VGPU_SIM_MMIO_BAR)
		return;
	pread(s->dev, &cmd, 2, s->reg[VFIO_PCI_CONFIG_REGION_INDEX].off + 0x04);
	cmd |= 0x2;
	pwrite(s->dev, &cmd, 2, s->reg[VFIO_PCI_CONFIG_REGION_INDEX].off + 0x04);
	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		pwrite(s->dev, &regs[i][1], 2,
		       s->reg[VGPU_SIM_MMIO_BAR].off + VGPU_SIM_DISPI_REG(regs[i][0]));
}

/* exports a plane's dma-buf and maps it, or part of it, beside the device's mappings */
static void plane_dmabuf(struct slot *s, uint32_t id, uint32_t size, const uint32_t *a)
{
	size_t len = a[3] & 1 ? size : 4096 * (1 + a[3] % 64);
	int fd = ioctl(s->dev, VFIO_DEVICE_GET_GFX_DMABUF, &id);
	void *p;

	if (fd < 0)
		return;
	atomic_fetch_add(&nr_dmabufs, 1);
	/* a private map must fail; a writable one maps, and stores through it fault */
	p = mmap(NULL, len, a[3] & 2 ? PROT_READ | PROT_WRITE : PROT_READ,
		 a[3] & 4 ? MAP_PRIVATE : MAP_SHARED, fd, a[3] & 8 ? 4096 : 0);
	close(fd);
	if (p == MAP_FAILED) {
		atomic_fetch_add(&mmap_errno[errno < 64 ? errno : 0], 1);
		return;
	}
	atomic_fetch_add(&nr_maps, 1);
	map_keep(s, p, len, false);
}

/* a buffer of ours per vGPU that the device may DMA to: nothing else is mapped */
#define DMA_SIZE (2u << 20)
static uint8_t *dma_buf[NSLOTS];

static void do_dma(struct slot *s, const uint32_t *a)
{
	static const uint32_t sizes[] = { 4096, 8192, 65536, DMA_SIZE, 0 };
	uint32_t size = sizes[a[2] % 5], off = (a[3] % (DMA_SIZE / 4096)) * 4096;
	uint64_t iova = a[1] & 0x80000000 ? (uint64_t)a[1] << 12 : (uint64_t)(a[1] % 4) << 21;

	if (!size)
		size = (a[2] >> 8) & ~4095u;
	if (off + (uint64_t)size > DMA_SIZE)
		size = DMA_SIZE - off;
	pthread_mutex_lock(&s->lock);
	if (s->container >= 0) {
		if (a[0] & 1) {
			struct vfio_iommu_type1_dma_map m = {
				.argsz = sizeof(m),
				.flags = VFIO_DMA_MAP_FLAG_READ |
					 (a[0] & 2 ? VFIO_DMA_MAP_FLAG_WRITE : 0),
				.vaddr = (uintptr_t)dma_buf[s - slots] + off,
				.iova = iova,
				.size = size,
			};

			ioctl(s->container, VFIO_IOMMU_MAP_DMA, &m);
		} else {
			struct vfio_iommu_type1_dma_unmap u = {
				.argsz = sizeof(u),
				.iova = a[0] & 2 ? 0 : iova,
				.size = a[0] & 2 ? 1ULL << 32 : size,
			};

			ioctl(s->container, VFIO_IOMMU_UNMAP_DMA, &u);
		}
	}
	pthread_mutex_unlock(&s->lock);
}

/*
 * Device DMA logging as a VMM drives it: START over do_dma()'s IOVA windows,
 * REPORTs into a bitmap with a guard after it, STOP; now and then hostile
 * page sizes, overlapping or huge ranges, and reports beyond the bitmap
 * (into an unmapped address). ENOTTY where the kernel offers no logging.
 */
static void do_dma_log(struct slot *s, const uint32_t *a)
{
	struct vfio_device_feature_dma_logging_range r[4];
	uint64_t bits[8 + 2], guard = 0x5a5a5a5a5a5a5a5aull;
	uint64_t buf[8] = { 0 };
	struct vfio_device_feature *f = (void *)buf;
	unsigned int i, n = 1 + a[1] % 4;

	memset(r, 0, sizeof(r));
	memset(bits, 0xa5, sizeof(bits));
	bits[8] = bits[9] = guard;
	f->argsz = sizeof(*f);
	switch (a[0] % 3) {
	case 0: {
		struct vfio_device_feature_dma_logging_control *c = (void *)f->data;

		for (i = 0; i < n; i++) {
			r[i].iova = (uint64_t)((a[2] >> (2 * i)) % 4) << 21;
			r[i].length = 2u << 20;
		}
		if (a[3] & 1) {		/* hostile: any range, maybe overlapping */
			r[0].iova = (uint64_t)a[4] << 12;
			r[0].length = a[3] & 2 ? (uint64_t)a[5] << 20 : (uint64_t)a[5] << 12;
		}
		f->argsz += sizeof(*c);
		f->flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START;
		c->page_size = a[3] & 4 ? 1ull << (a[3] >> 3) % 64 : 4096;
		c->num_ranges = a[3] & 8 ? a[4] % 8 : n;
		c->ranges = (uintptr_t)(a[3] & 16 ? (void *)8 : r);
		break;
	}
	case 1: {
		struct vfio_device_feature_dma_logging_report *rep = (void *)f->data;
		uint64_t page = 4096ull << a[2] % 4;

		/* 2 MiB at 4 KiB pages fills the 8 words; the two after are the guard */
		f->argsz += sizeof(*rep);
		f->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT;
		rep->iova = (uint64_t)(a[1] % 4) << 21;
		rep->length = 2u << 20;
		rep->page_size = page;
		rep->bitmap = (uintptr_t)bits;
		if (a[3] & 1) {		/* hostile, into no memory */
			rep->iova = (uint64_t)a[4] << 12;
			rep->length = (uint64_t)a[5] << (a[3] & 2 ? 30 : 12);
			rep->page_size = a[3] & 4 ? a[2] : page;
			rep->bitmap = 8;
		}
		break;
	}
	default:
		f->flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP;
		break;
	}
	ioctl(s->dev, VFIO_DEVICE_FEATURE, f);
	if (a[0] % 3 == 1 && (bits[8] != guard || bits[9] != guard))
		oracle("DMA_LOGGING_REPORT wrote past its bitmap");
}

static void exec_op(const struct op *o)
{
	unsigned long long t = now_ns();

	exec_op_timed(o);
	atomic_fetch_add(&op_ns[o->kind], now_ns() - t);
	atomic_fetch_add(&op_count[o->kind], 1);
}

static void exec_op_timed(const struct op *o)
{
	struct slot *s = &slots[o->slot];
	const uint32_t *a = o->a;
	size_t room;

	switch (o->kind) {
	case OP_GET_INFO: {
		struct vfio_device_info *di;
		uint32_t argsz = argsz_of(a[0], sizeof(*di));

		di = (void *)io_buf(argsz, &room);
		di->argsz = argsz;
		io_arm((uint8_t *)di, argsz);
		ioctl(s->dev, VFIO_DEVICE_GET_INFO, di);
		io_check("GET_INFO", (uint8_t *)di);
		break;
	}
	case OP_REGION_INFO: {
		struct vfio_region_info *ri;
		uint32_t argsz = argsz_of(a[0], a[2] & 1 ? 4096 : sizeof(*ri));

		ri = (void *)io_buf(argsz, &room);
		ri->argsz = argsz;
		ri->index = a[1] & 0x80000000 ? a[1] : a[1] % (s->nregions + 3);
		io_arm((uint8_t *)ri, argsz);
		if (ioctl(s->dev, VFIO_DEVICE_GET_REGION_INFO, ri) == 0 &&
		    (ri->flags & VFIO_REGION_INFO_FLAG_CAPS) && ri->cap_offset) {
			/* the chain stays inside argsz and ends */
			uint32_t off = ri->cap_offset, hops = 0;

			while (off) {
				struct vfio_info_cap_header *h;

				if (off < sizeof(*ri) || off + sizeof(*h) > ri->argsz ||
				    off + sizeof(*h) > room || ++hops > 16) {
					oracle("REGION_INFO index %u: capability at %u outside argsz %u",
					       ri->index, off, ri->argsz);
					break;
				}
				h = (void *)((uint8_t *)ri + off);
				off = h->next;
			}
		}
		io_check("GET_REGION_INFO", (uint8_t *)ri);
		break;
	}
	case OP_IRQ_INFO: {
		struct vfio_irq_info *ii;
		uint32_t argsz = argsz_of(a[0], sizeof(*ii));

		ii = (void *)io_buf(argsz, &room);
		ii->argsz = argsz;
		ii->index = a[1] & 0x80000000 ? a[1] : a[1] % 7;
		io_arm((uint8_t *)ii, argsz);
		ioctl(s->dev, VFIO_DEVICE_GET_IRQ_INFO, ii);
		io_check("GET_IRQ_INFO", (uint8_t *)ii);
		break;
	}
	case OP_SET_IRQS:
		do_set_irqs(s, a);
		break;
	case OP_RESET:
		ioctl(s->dev, VFIO_DEVICE_RESET);
		break;
	case OP_FEATURE:
		do_feature(s, a, false);
		break;
	case OP_MIG_STATE:
		do_feature(s, a, true);
		break;
	case OP_MIG_DATA:
		do_mig_data(s, a);
		break;
	case OP_PLANE: {
		struct vfio_device_gfx_plane_info *pl;
		uint32_t argsz = argsz_of(a[0], sizeof(*pl));
		static const uint32_t fl[] = {
			VFIO_GFX_PLANE_TYPE_REGION,
			VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_REGION,
			VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_DMABUF,
			VFIO_GFX_PLANE_TYPE_DMABUF, 0,
		};

		if (a[4] & 1)
			plane_mode(s, a[4] >> 1);
		pl = (void *)io_buf(argsz, &room);
		pl->argsz = argsz;
		pl->flags = a[1] & 0x80000000 ? a[1] : fl[a[1] % 5];
		/* with a mode set, often a dma-buf to export */
		if ((a[4] & 1) && (a[1] & 0x80000008) == 8)
			pl->flags = VFIO_GFX_PLANE_TYPE_DMABUF;
		pl->drm_plane_type = a[2] % 4;
		io_arm((uint8_t *)pl, argsz);
		if (ioctl(s->dev, VFIO_DEVICE_QUERY_GFX_PLANE, pl) == 0 &&
		    pl->flags == VFIO_GFX_PLANE_TYPE_DMABUF && pl->dmabuf_id)
			plane_dmabuf(s, pl->dmabuf_id, pl->size, a);
		io_check("QUERY_GFX_PLANE", (uint8_t *)pl);
		break;
	}
	case OP_PREAD:
		do_rw(s, a, false);
		break;
	case OP_PWRITE:
		do_rw(s, a, true);
		break;
	case OP_MMAP:
		do_mmap(s, a);
		break;
	case OP_MUNMAP:
		do_munmap(s, a);
		break;
	case OP_TOUCH:
		do_touch(s, a);
		break;
	case OP_CFG:
		do_cfg(s, a);
		break;
	case OP_EFD: {
		uint64_t v = 1;

		if (a[1] & 1)
			write(efds[a[0] % NEFD], &v, 8);
		else
			read(efds[a[0] % NEFD], &v, 8);
		break;
	}
	case OP_CLOSE:
		pthread_mutex_lock(&s->lock);
		slot_close(s);
		pthread_mutex_unlock(&s->lock);
		break;
	case OP_REOPEN:
		pthread_mutex_lock(&s->lock);
		if (s->removing && atomic_load(&s->removed))
			slot_reap(s, 1);
		if (!s->present)
			slot_create(s);
		if (s->present)
			slot_open(s);
		pthread_mutex_unlock(&s->lock);
		break;
	case OP_REMOVE:
		pthread_mutex_lock(&s->lock);
		if (s->present && !s->removing &&
		    pthread_create(&s->remover, NULL, remover, s) == 0)
			s->removing = true;
		pthread_mutex_unlock(&s->lock);
		break;
	case OP_IOCTL:
		do_ioctl(s, a);
		break;
	case OP_DMA:
		do_dma(s, a);
		break;
	case OP_MIG_FORGE:
		do_mig_forge(s, a);
		break;
	case OP_DMA_LOG:
		do_dma_log(s, a);
		break;
	}
}

/* ---- coverage -------------------------------------------------------------- */

static bool have_kcov;
static uint8_t *edges;		/* bitmap */
static uint64_t *pc_set;	/* open addressing, 0 = empty */
static unsigned long nr_pcs, nr_edges;
static struct { uint64_t lo, hi; } mods[8];
static unsigned int nr_mods;
static uint64_t kaslr;		/* kcov's PCs are canonical: add it back */
static unsigned long long raw_pcs;	/* every PC traced, ours or not */

static void kcov_thread_init(struct thr *t)
{
	t->kcov = -1;
	if (!have_kcov)
		return;
	t->kcov = open("/sys/kernel/debug/kcov", O_RDWR | O_CLOEXEC);
	if (t->kcov < 0 || ioctl(t->kcov, KCOV_INIT_TRACE, COVER_SIZE))
		goto fail;
	t->cover = mmap(NULL, COVER_SIZE * sizeof(uint64_t), PROT_READ | PROT_WRITE,
			MAP_SHARED, t->kcov, 0);
	if (t->cover == MAP_FAILED)
		goto fail;
	if (ioctl(t->kcov, KCOV_ENABLE, KCOV_TRACE_PC))
		goto fail;
	return;
fail:
	diag("kcov in thread %u: %s", t->id, strerror(errno));
	exit(1);
}

static void load_modules(void)
{
	char line[512], name[64];
	unsigned long size;
	unsigned long long addr;
	FILE *f = fopen("/proc/modules", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && nr_mods < 8) {
		if (sscanf(line, "%63s %lu %*s %*s %*s %llx", name, &size, &addr) != 3)
			continue;
		if (strncmp(name, "vgpu", 4) || !addr)
			continue;
		mods[nr_mods].lo = addr;
		mods[nr_mods].hi = addr + size;
		nr_mods++;
	}
	fclose(f);
	/* x86-64: _text is linked at 0xffffffff81000000; KASLR moves it */
	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %*s %63s", &addr, name) == 2 && !strcmp(name, "_text")) {
			if (addr)
				kaslr = addr - 0xffffffff81000000ULL;
			break;
		}
	}
	fclose(f);
}

static bool ours(uint64_t pc)
{
	unsigned int i;

	if (!nr_mods)
		return true;	/* addresses hidden: KCOV instruments only our code */
	for (i = 0; i < nr_mods; i++)
		if ((pc >= mods[i].lo && pc < mods[i].hi) ||
		    (pc + kaslr >= mods[i].lo && pc + kaslr < mods[i].hi))
			return true;
	return false;
}

static bool pc_add(uint64_t pc)
{
	uint64_t mask = (1ULL << PC_SET_BITS) - 1, h = (pc * 0x9e3779b97f4a7c15ULL) >> 20;

	for (;; h++) {
		uint64_t *e = &pc_set[h & mask];

		if (*e == pc)
			return false;
		if (!*e) {
			if (nr_pcs >= mask / 2)
				return false;	/* full: stop counting */
			*e = pc;
			nr_pcs++;
			return true;
		}
	}
}

static void kcov_start(void)
{
	unsigned int i;

	if (!have_kcov)
		return;
	for (i = 0; i <= NTHREADS; i++)
		__atomic_store_n(&thrs[i].cover[0], 0, __ATOMIC_RELAXED);
}

/* new PCs or edges since the last call: an interesting program */
static bool kcov_collect(void)
{
	bool fresh = false;
	unsigned int i;
	uint64_t n, j;

	if (!have_kcov)
		return false;
	for (i = 0; i <= NTHREADS; i++) {
		uint64_t prev = 0, *c = thrs[i].cover;

		n = __atomic_load_n(&c[0], __ATOMIC_RELAXED);
		if (n >= COVER_SIZE)
			n = COVER_SIZE - 1;
		for (j = 1; j <= n; j++) {
			uint64_t pc = c[j], e;

			raw_pcs++;
			if (!ours(pc))
				continue;
			if (pc_add(pc))
				fresh = true;
			e = ((prev * 0x9e3779b97f4a7c15ULL) ^ pc) & ((1ULL << EDGE_BITS) - 1);
			if (!(edges[e >> 3] & (1 << (e & 7)))) {
				edges[e >> 3] |= 1 << (e & 7);
				nr_edges++;
				fresh = true;
			}
			prev = pc;
		}
	}
	return fresh;
}

/* ---- kernel reports --------------------------------------------------------- */

static int kmsg = -1;
static char report[4096];

static const char *const report_words[] = {
	"WARNING:", "BUG:", "Oops", "KASAN", "UBSAN", "KCSAN", "kernel BUG",
	"general protection fault", "possible circular locking",
	"possible recursive locking", "DEBUG_LOCKS_WARN_ON", "suspicious RCU",
	"INFO: task", "inconsistent lock state", "unreferenced object",
	"Call Trace:", "refcount_t:", "list_add corruption", "list_del corruption",
	"BUG kmalloc", "sleeping function called from invalid context",
	"hung_task", "soft lockup", "rcu_sched self-detected",
};

/* reads what the kernel logged since the last call; true if it reported */
static bool kmsg_check(void)
{
	char rec[2048];
	size_t used = strlen(report);
	bool found = false;
	ssize_t n;

	if (kmsg < 0)
		return false;
	for (;;) {
		unsigned int i;
		char *msg;

		n = read(kmsg, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: carry on */
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		for (i = 0; i < sizeof(report_words) / sizeof(report_words[0]); i++)
			if (strstr(msg, report_words[i]))
				found = true;
		if ((found || used) && used + strlen(msg) < sizeof(report) - 1) {
			strcpy(report + used, msg);
			used += strlen(msg);
		}
	}
	return found || used;
}

/* ---- one execution ----------------------------------------------------------- */

static void *worker(void *arg)
{
	struct thr *t = arg;
	unsigned int i;

	self = t;
	kcov_thread_init(t);
	sem_post(&t->done);	/* ready: its coverage buffer exists */
	for (;;) {
		sem_wait(&t->go);
		if (atomic_load(&stop_threads))
			break;
		for (i = 0; i < t->prog->n; i++)
			if (t->prog->ops[i].thread == t->id)
				exec_op(&t->prog->ops[i]);
		sem_post(&t->done);
	}
	if (t->kcov >= 0)
		ioctl(t->kcov, KCOV_DISABLE, 0);
	return NULL;
}

static void note_last(const struct prog *p);

enum result { RES_OK, RES_REPORT, RES_ORACLE, RES_HANG };
static char hang_why[256];
static unsigned long long execs;

static enum result run(const struct prog *p, bool *fresh)
{
	unsigned long long t;
	struct timespec ts;
	unsigned int i;
	uint64_t v;

	execs++;
	note_last(p);
	kcov_start();
	for (i = 0; i < NTHREADS; i++) {
		thrs[i].prog = p;
		sem_post(&thrs[i].go);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += HANG_SECS;
	for (i = 0; i < NTHREADS; i++) {
		if (sem_timedwait(&thrs[i].done, &ts)) {
			snprintf(hang_why, sizeof(hang_why),
				 "thread %u still in the program after %d s", i, HANG_SECS);
			return RES_HANG;
		}
	}
	/* back to fresh vGPUs: the main thread's close and open count too */
	t = now_ns();
	for (i = 0; i < NSLOTS; i++) {
		unsigned int j;

		for (j = 0; j < p->n && p->ops[j].slot != i; j++)
			;
		if (j < p->n && !slot_fresh(&slots[i], hang_why, sizeof(hang_why)))
			return RES_HANG;
	}
	atomic_fetch_add(&op_ns[NR_OPS], now_ns() - t);
	atomic_fetch_add(&op_count[NR_OPS], 1);
	for (i = 0; i < NEFD; i++)
		while (read(efds[i], &v, 8) == 8)
			;
	if (fresh)
		*fresh = kcov_collect();
	else
		kcov_collect();
	if (kmsg_check())
		return RES_REPORT;
	if (atomic_load(&oracle_failed))
		return RES_ORACLE;
	return RES_OK;
}

/* ---- corpus and mutation ------------------------------------------------------- */

static int last_fd = -1;

static void note_last(const struct prog *p)
{
	char buf[MAX_OPS * 96 + 64];
	size_t used = 0;
	unsigned int i, j;

	if (last_fd < 0)
		return;
	for (i = 0; i < p->n; i++) {
		used += snprintf(buf + used, sizeof(buf) - used, "%s %u %u",
				 op_names[p->ops[i].kind], p->ops[i].thread, p->ops[i].slot);
		for (j = 0; j < 6; j++)
			used += snprintf(buf + used, sizeof(buf) - used, " %#x", p->ops[i].a[j]);
		used += snprintf(buf + used, sizeof(buf) - used, "\n");
	}
	if (ftruncate(last_fd, 0) || pwrite(last_fd, buf, used, 0) < 0)
		diag("last-program.txt: %s", strerror(errno));
}

static struct prog *corpus;
static unsigned int nr_corpus, nr_written;

static void save(const struct prog *p, const char *prefix)
{
	char path[PATH_MAX];
	FILE *f;

	if (!outdir)
		return;
	snprintf(path, sizeof(path), "%s/%s-%016llx.txt", outdir, prefix,
		 (unsigned long long)prog_hash(p));
	f = fopen(path, "w");
	if (!f) {
		diag("%s: %s", path, strerror(errno));
		return;
	}
	prog_write(f, p);
	fclose(f);
	if (!strcmp(prefix, "prog"))
		nr_written++;
}

static void corpus_add(const struct prog *p)
{
	if (nr_corpus < MAX_CORPUS)
		corpus[nr_corpus++] = *p;
	else
		corpus[rnd(MAX_CORPUS)] = *p;
}

static void random_op(struct op *o)
{
	unsigned int total = 0, i, r;

	for (i = 0; i < NR_OPS; i++)
		total += op_weight[i];
	r = rnd(total);
	for (i = 0; r >= op_weight[i]; i++)
		r -= op_weight[i];
	o->kind = i;
	o->thread = rnd(10) < 6 ? 0 : 1 + rnd(NTHREADS - 1);
	o->slot = rnd(5) ? 0 : 1;
	for (i = 0; i < 6; i++)
		o->a[i] = rnd(4) ? (uint32_t)rnd64() : interesting[rnd(NR_INTERESTING)];
}

static void random_prog(struct prog *p)
{
	unsigned int i;

	p->n = 1 + rnd(16);
	for (i = 0; i < p->n; i++)
		random_op(&p->ops[i]);
	if (p->n > 4 && rnd(2)) {
		/* half start as a guest would: memory and bus master on, a BAR mapped */
		p->ops[0] = (struct op){ .kind = OP_CFG, .a = { 0, 0x6 } };
		p->ops[1].kind = OP_MMAP;
		p->ops[1].thread = 0;
		p->ops[1].a[0] |= 0x40;
		p->ops[1].a[3] &= ~0x10u;
	}
}

static void mutate(struct prog *p)
{
	unsigned int k, rounds = 1 + rnd(4);

	for (k = 0; k < rounds; k++) {
		unsigned int i = p->n ? rnd(p->n) : 0;
		struct op *o = &p->ops[i];

		switch (rnd(p->n ? 9 : 1)) {
		case 0:		/* insert */
			if (p->n == MAX_OPS)
				break;
			memmove(o + 1, o, (p->n - i) * sizeof(*o));
			random_op(o);
			p->n++;
			break;
		case 1:		/* delete */
			if (p->n < 2)
				break;
			memmove(o, o + 1, (p->n - i - 1) * sizeof(*o));
			p->n--;
			break;
		case 2:		/* an argument: random */
			o->a[rnd(6)] = (uint32_t)rnd64();
			break;
		case 3:		/* an argument: flip bits */
			o->a[rnd(6)] ^= 1u << rnd(32);
			break;
		case 4:		/* an argument: edge value or nudge */
			if (rnd(2))
				o->a[rnd(6)] = interesting[rnd(NR_INTERESTING)];
			else
				o->a[rnd(6)] += (int)rnd(33) - 16;
			break;
		case 5:		/* thread or vGPU */
			if (rnd(2))
				o->thread = rnd(NTHREADS);
			else
				o->slot = rnd(NSLOTS);
			break;
		case 6:		/* duplicate */
			if (p->n == MAX_OPS)
				break;
			memmove(o + 1, o, (p->n - i) * sizeof(*o));
			p->n++;
			break;
		case 7: {	/* splice another program's tail */
			const struct prog *q = &corpus[rnd(nr_corpus)];
			unsigned int from = q->n ? rnd(q->n) : 0, n = q->n - from;

			if (i + n > MAX_OPS)
				n = MAX_OPS - i;
			memcpy(o, &q->ops[from], n * sizeof(*o));
			p->n = i + n > p->n ? i + n : p->n;
			break;
		}
		default:	/* swap two ops */
			if (p->n > 1) {
				struct op t = *o;
				unsigned int j = rnd(p->n);

				*o = p->ops[j];
				p->ops[j] = t;
			}
		}
	}
}

/* ---- setup --------------------------------------------------------------------- */

static bool setup(char *why, size_t len)
{
	char p[PATH_MAX], link[PATH_MAX];
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_NODEFER };
	struct dirent *de;
	DIR *d;
	unsigned int i;
	ssize_t n;

	/* the GPU to vgpu_sim, as sim-test's bind does */
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", gpu);
	n = readlink(p, link, sizeof(link) - 1);
	if (n <= 0 || (link[n] = 0, !strstr(link, "/vgpu_sim"))) {
		if (n > 0) {
			snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver/unbind", gpu);
			sysfs_write(p, gpu);
		}
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver_override", gpu);
		sysfs_write(p, "vgpu_sim");
		sysfs_write("/sys/bus/pci/drivers_probe", gpu);
	}
	/* the smallest type: the most instances */
	snprintf(p, sizeof(p), "/sys/class/mdev_bus/%s/mdev_supported_types", gpu);
	d = opendir(p);
	if (!d) {
		snprintf(why, len, "%.300s: %s (vgpu_sim not bound?)", p, strerror(errno));
		return false;
	}
	type_dir[0] = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (!type_dir[0] || strcmp(strrchr(type_dir, '/') + 1, de->d_name) > 0 ||
		    strstr(de->d_name, "-16m"))
			snprintf(type_dir, sizeof(type_dir), "%.3800s/%.255s", p, de->d_name);
		if (strstr(de->d_name, "-16m"))
			break;
	}
	closedir(d);
	if (!type_dir[0]) {
		snprintf(why, len, "no vGPU type under %.300s", p);
		return false;
	}

	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (i = 0; i < NEFD; i++)
		efds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	for (i = 0; i < NSLOTS; i++) {
		struct slot *s = &slots[i];

		dma_buf[i] = mmap(NULL, DMA_SIZE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (dma_buf[i] == MAP_FAILED) {
			snprintf(why, len, "DMA buffer: %s", strerror(errno));
			return false;
		}
		pthread_mutex_init(&s->lock, NULL);
		pthread_rwlock_init(&s->maplock, NULL);
		s->group = s->container = -1;
		s->dev = fcntl(nullfd, F_DUPFD_CLOEXEC, 100);
		s->mig = fcntl(nullfd, F_DUPFD_CLOEXEC, 100);
		/* fixed UUIDs: a program names its vGPUs the same way every time */
		snprintf(s->uuid, sizeof(s->uuid), "f022f022-0000-4000-8000-%012x", i + 1);
		snprintf(p, sizeof(p), "/sys/bus/mdev/devices/%s/remove", s->uuid);
		sysfs_write(p, "1");	/* a leftover of an earlier run */
		if (slot_create(s)) {
			snprintf(why, len, "creating vGPU %u under %.300s: %s", i, type_dir,
				 strerror(errno));
			return false;
		}
		if (!slot_fresh(s, why, len))
			return false;
	}

	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	if (!forge_capture(&slots[0]))
		diag("no migration stream captured: mig_forge does nothing");
	if (!slot_fresh(&slots[0], why, len))
		return false;

	if (access("/sys/kernel/debug/kcov", F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	have_kcov = access("/sys/kernel/debug/kcov", R_OK | W_OK) == 0;
	load_modules();
	edges = calloc(1, 1u << (EDGE_BITS - 3));
	pc_set = calloc(1u << PC_SET_BITS, sizeof(uint64_t));
	corpus = calloc(MAX_CORPUS, sizeof(*corpus));
	if (!edges || !pc_set || !corpus) {
		snprintf(why, len, "out of memory");
		return false;
	}
	for (i = 0; i <= NTHREADS; i++) {
		struct thr *t = &thrs[i];

		t->id = i;
		t->buf = mmap(NULL, BUF_SIZE + 4096, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (t->buf == MAP_FAILED || mprotect(t->buf + BUF_SIZE, 4096, PROT_NONE)) {
			snprintf(why, len, "guarded buffer: %s", strerror(errno));
			return false;
		}
		sem_init(&t->go, 0, 0);
		sem_init(&t->done, 0, 0);
		if (i < NTHREADS) {
			pthread_create(&t->th, NULL, worker, t);
			sem_wait(&t->done);
		}
	}
	self = &thrs[NTHREADS];
	kcov_thread_init(self);

	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg >= 0)
		lseek(kmsg, 0, SEEK_END);
	return true;
}

static void teardown(void)
{
	char p[PATH_MAX];
	unsigned int i;

	atomic_store(&stop_threads, true);
	for (i = 0; i < NTHREADS; i++) {
		sem_post(&thrs[i].go);
		pthread_join(thrs[i].th, NULL);
	}
	for (i = 0; i < NSLOTS; i++) {
		struct slot *s = &slots[i];

		pthread_mutex_lock(&s->lock);
		slot_close(s);
		slot_reap(s, HANG_SECS);
		if (s->group >= 0)
			close(s->group);
		if (s->container >= 0)
			close(s->container);
		s->group = s->container = -1;
		snprintf(p, sizeof(p), "/sys/bus/mdev/devices/%s/remove", s->uuid);
		if (s->present)
			sysfs_write(p, "1");
		pthread_mutex_unlock(&s->lock);
	}
}

/* what a failed program leaves: the report, the program, a file */
static void failure(enum result r, const struct prog *p)
{
	static const char *const what[] = { "", "kernel report", "oracle", "hang" };
	char *line, *save_ptr;

	diag("%s after %llu executions, by this program:", what[r], execs);
	pthread_mutex_lock(&out_lock);
	prog_write(stdout, p);
	pthread_mutex_unlock(&out_lock);
	if (r == RES_REPORT) {
		for (line = strtok_r(report, "\n", &save_ptr); line;
		     line = strtok_r(NULL, "\n", &save_ptr))
			diag("kmsg: %s", line);
	} else if (r == RES_ORACLE) {
		diag("%s", oracle_msg);
	} else {
		diag("%s", hang_why);
	}
	save(p, r == RES_HANG ? "hang" : "crash");
}

/* deletes ops while the program still reports; the smallest goes to stdout */
static int minimise(const char *path)
{
	struct prog p, q;
	unsigned int i, tries;
	enum result r = RES_OK;

	if (prog_parse(path, &p))
		return 1;
	for (tries = 0; tries < 3 && r == RES_OK; tries++)
		r = run(&p, NULL);
	if (r == RES_OK || r == RES_HANG) {
		printf("not ok 2 - %s does not reproduce (%s)\n", path,
		       r == RES_HANG ? "a hang: minimise by hand" : "no report in 3 runs");
		return 1;
	}
	for (i = p.n; i-- > 0;) {
		q = p;
		memmove(&q.ops[i], &q.ops[i + 1], (q.n - i - 1) * sizeof(q.ops[0]));
		q.n--;
		report[0] = 0;
		atomic_store(&oracle_failed, false);
		for (tries = 0; tries < 2; tries++)
			if (run(&q, NULL) == r)
				break;
		if (tries < 2)
			p = q;
	}
	printf("ok 2 - minimised to %u ops\n", p.n);
	prog_write(stdout, &p);
	save(&p, "min");
	return 0;
}

static int load_dir(const char *dir, bool quiet)
{
	char path[PATH_MAX];
	struct dirent **names;
	int n, i, bad = 0;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		diag("%s: %s", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		size_t l = strlen(names[i]->d_name);
		struct prog p;

		if (l > 4 && !strcmp(names[i]->d_name + l - 4, ".txt")) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			if (prog_parse(path, &p))
				bad++;
			else if (nr_corpus < MAX_CORPUS)
				corpus[nr_corpus++] = p;
		}
		free(names[i]);
	}
	free(names);
	if (!quiet)
		diag("%s: %u programs", dir, nr_corpus);
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long long n_execs = 1000, fuzz_execs = 0, seed = 1;
	const char *dirs[8], *min_file = NULL;
	unsigned int nr_dirs = 0, i, replayed = 0, new_progs = 0;
	unsigned long budget = 0, last_progress = 0;
	bool replay_only = false, bad_corpus = false;
	struct timespec t0, t1;
	char why[512];
	double secs;
	int c, num = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt(argc, argv, "c:o:n:s:rm:T:")) != -1) {
		switch (c) {
		case 'c':
			if (nr_dirs < 8)
				dirs[nr_dirs++] = optarg;
			break;
		case 'o':
			outdir = optarg;
			break;
		case 'n':
			n_execs = strtoull(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			replay_only = true;
			break;
		case 'm':
			min_file = optarg;
			break;
		case 'T':
			budget = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: vgpu-fuzz [-c DIR]... [-o DIR] [-n EXECS] [-s SEED] [-r] [-m FILE] [FILE...]\n");
			return 2;
		}
	}
	gpu = getenv("LAB_GPU");
	if (!gpu || !*gpu) {
		printf("1..0 # SKIP no physical GPU in this lab (LAB_GPU empty)\n");
		return 4;
	}
	rng_state = seed;
	if (outdir) {
		char path[PATH_MAX];

		mkdir(outdir, 0755);
		snprintf(path, sizeof(path), "%.4000s/last-program.txt", outdir);
		last_fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	}
	printf("1..%d\n", min_file || replay_only ? 2 : 3);
	if (!setup(why, sizeof(why))) {
		printf("not ok 1 - setup: %s\n", why);
		return 1;
	}
	printf("ok 1 - setup: %u vGPUs of %s, %u threads per program\n", NSLOTS,
	       strrchr(type_dir, '/') + 1, NTHREADS);
	if (have_kcov)
		diag("mode: coverage-guided (KCOV, %u module ranges: %s)", nr_mods,
		     nr_mods ? "vgpu*" : "addresses hidden, all PCs counted");
	else
		diag("mode: random, NOT coverage-guided (no KCOV in this kernel: /sys/kernel/debug/kcov absent)");
	if (min_file) {
		c = minimise(min_file);
		teardown();
		return c;
	}

	/* the corpus and named files, each once */
	for (i = 0; i < nr_dirs; i++)
		if (load_dir(dirs[i], false))
			bad_corpus = true;
	for (i = optind; i < (unsigned int)argc; i++) {
		struct prog p;

		if (prog_parse(argv[i], &p))
			bad_corpus = true;
		else if (nr_corpus < MAX_CORPUS)
			corpus[nr_corpus++] = p;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < nr_corpus; i++) {
		enum result r = run(&corpus[i], NULL);

		if (r != RES_OK) {
			failure(r, &corpus[i]);
			printf("not ok 2 - corpus replay: program %u of %u\n", i + 1, nr_corpus);
			teardown();
			return 1;
		}
		replayed++;
	}
	/* what the corpus covers is the base the fuzzing must beat */
	printf("%s 2 - corpus replay: %u programs, no kernel report%s\n",
	       bad_corpus ? "not ok" : "ok", replayed,
	       bad_corpus ? " (but unreadable programs: see above)" : "");
	num = 3;
	if (!replay_only) {
		struct prog p;

		for (fuzz_execs = 0; fuzz_execs < n_execs; fuzz_execs++) {
			bool fresh = false;
			enum result r;

			if (have_kcov && nr_corpus && rnd(10)) {
				p = corpus[rnd(nr_corpus)];
				mutate(&p);
			} else {
				random_prog(&p);
			}
			r = run(&p, &fresh);
			if (r != RES_OK) {
				failure(r, &p);
				printf("not ok %d - fuzzing: failed after %llu of %llu executions\n",
				       num, fuzz_execs + 1, n_execs);
				teardown();
				return 1;
			}
			if (fresh) {
				corpus_add(&p);
				new_progs++;
				save(&p, "prog");
			}
			clock_gettime(CLOCK_MONOTONIC, &t1);
			if ((unsigned long)(t1.tv_sec - t0.tv_sec) >= last_progress + 300) {
				last_progress = t1.tv_sec - t0.tv_sec;
				diag("progress: %llu executions in %lu s, corpus %u, %lu PCs, %lu edges",
				     fuzz_execs + 1, last_progress, nr_corpus, nr_pcs, nr_edges);
			}
			if (budget && (unsigned long)(t1.tv_sec - t0.tv_sec) >= budget) {
				fuzz_execs++;
				diag("time budget of %lu s spent: %llu of %llu executions run",
				     budget, fuzz_execs, n_execs);
				break;
			}
		}
		printf("ok %d - fuzzing: %llu executions (seed %llu), no kernel report\n",
		       num, fuzz_execs, seed);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	{
		char line[1024];
		size_t used = 0;

		for (i = 0; i <= NR_OPS + 1; i++)
			if (op_count[i])
				used += snprintf(line + used, sizeof(line) - used, " %s %llu/%.2f",
						 i < NR_OPS ? op_names[i] : i == NR_OPS ? "fresh" : "recreate",
						 (unsigned long long)op_count[i],
						 op_ns[i] / 1e6 / op_count[i]);
		diag("ops (count/mean ms):%s", line);
		used = 0;
		line[0] = 0;
		for (i = 0; i < 64; i++)
			if (mmap_errno[i])
				used += snprintf(line + used, sizeof(line) - used, " %s %lu",
						 strerror(i), (unsigned long)mmap_errno[i]);
		diag("mmaps that succeeded %lu (failed:%s), touches of a mapping %lu (%lu faulted: SIGBUS/SIGSEGV), plane dma-bufs exported %lu",
		     (unsigned long)nr_maps, line, (unsigned long)nr_touches,
		     (unsigned long)nr_sigbus, (unsigned long)nr_dmabufs);
	}
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	teardown();
	if (have_kcov)
		diag("summary: %llu executions in %.1f s (%.1f execs/s), corpus %u (+%u new, %u written), %lu PCs in our modules, %lu edges",
		     execs, secs, execs / secs, nr_corpus, new_progs, nr_written, nr_pcs, nr_edges);
	else
		diag("summary: %llu executions in %.1f s (%.1f execs/s), random mode: no coverage (no KCOV)",
		     execs, secs, execs / secs);
	return bad_corpus ? 1 : 0;
}
