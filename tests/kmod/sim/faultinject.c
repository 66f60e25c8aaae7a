// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * faultinject: every allocation on the vGPU paths fails in turn (issue 13).
 * The kernel's own mechanism: failslab and fail_page_alloc (GFP_KERNEL
 * included, order 0 up) with /proc/thread-self/fail-nth, which fails the
 * Nth allocation of this thread only. Each operation runs with nth = 1, 2,
 * ... until it completes without an injected failure. After every injected
 * failure: an errno or a success (a failure the kernel absorbed), no oops or
 * WARN (the debug lab fails the boot on those and on kmemleak reports), the
 * operation's side effects undone, and the vGPU usable again.
 *
 * vgpu_sim: create, open, region info, SET_IRQS, an mmap fault, migration
 * save. vgpu_test (its path is the argument): DMA through vgpu_dma_pin() and
 * vgpu_dma_rw() in the caller's thread; vgpu_sim's copy engine does its DMA
 * in a workqueue, which a per-thread injection cannot reach.
 *
 *   faultinject VGPU_TEST_KO   (in the lab, vgpu_sim loaded: run-sim-tests.sh)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "simtest.h"
#include "vgpu_sim_regs.h"
#include "vgpu_test_regs.h"

#define FAILSLAB	"/sys/kernel/debug/failslab"
#define FAILPAGE	"/sys/kernel/debug/fail_page_alloc"
#define VT_TYPES	"/sys/devices/platform/vgpu_test.0/mdev_supported_types"
#define MAX_NTH		20000
#define IOVA		0x100000ULL
#define DMA_SIZE	0x10000ULL

static int nth_fd = -1;
/* FAULTINJECT_DRY=1: no injection, each operation once (the program's own logic, any kernel) */
static bool dry;

/* ---- injection ---------------------------------------------------------- */

static int fi_setup(void)
{
	static const char *const knobs[][2] = {
		/* nothing at random: only fail-nth injects */
		{ FAILSLAB "/probability", "0" },
		{ FAILSLAB "/ignore-gfp-wait", "N" },
		{ FAILSLAB "/verbose", "0" },
		{ FAILPAGE "/probability", "0" },
		{ FAILPAGE "/ignore-gfp-wait", "N" },
		{ FAILPAGE "/ignore-gfp-highmem", "N" },
		{ FAILPAGE "/min-order", "0" },
		{ FAILPAGE "/verbose", "0" },
	};
	unsigned int i;

	if (dry)
		return 0;
	if (access("/sys/kernel/debug/failslab", F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	if (access(FAILSLAB, F_OK) || access(FAILPAGE, F_OK) ||
	    access("/proc/thread-self/fail-nth", F_OK))
		return -1;
	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		ASSERT(sysfs_write(knobs[i][0], knobs[i][1]) == 0);
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	ASSERT(nth_fd >= 0);
	return 0;
}

/* The next syscalls' @nth-th allocation fails. */
static void fi_arm(unsigned int nth)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", nth);

	if (dry)
		return;
	ASSERT(pwrite(nth_fd, buf, len, 0) == len);
}

/* Disarms; true if the failure was injected (fail-nth reads 0 then). */
static bool fi_disarm(void)
{
	char buf[16] = "";
	int e = errno;

	if (dry)
		return false;
	ASSERT(pread(nth_fd, buf, sizeof(buf) - 1, 0) > 0);
	ASSERT(pwrite(nth_fd, "0", 1, 0) == 1);
	errno = e;
	return atoi(buf) == 0;
}

struct fi_op {
	const char *name;
	void (*setup)(void);	/* outside the injection; asserts */
	int (*run)(void);	/* injected: 0 or -errno */
	void (*check)(int ret);	/* outside: undoes, checks state and use */
	unsigned int min_allocs;	/* it surely allocates: else nothing is injected */
};

/* Runs @op with nth = 1, 2, ... until it needs no more than nth - 1 allocations. */
static void fi_run(const struct fi_op *op)
{
	unsigned int nth, failed = 0, absorbed = 0;
	int errs[8] = { 0 }, counts[8] = { 0 };
	char seen[160] = "";
	size_t k;

	for (nth = 1; nth <= MAX_NTH; nth++) {
		bool injected;
		int ret;

		if (op->setup)
			op->setup();
		fi_arm(nth);
		ret = op->run();
		injected = fi_disarm();
		if (!injected && ret)
			st_fail(__FILE__, __LINE__, "%s: fails without an injected failure: %s",
				op->name, strerror(-ret));
		op->check(ret);
		if (!injected)
			break;
		if (!ret) {
			absorbed++;
			continue;
		}
		failed++;
		for (k = 0; k < 8 && errs[k] && errs[k] != -ret; k++)
			;
		if (k < 8) {
			errs[k] = -ret;
			counts[k]++;
		}
	}
	ASSERT(nth <= MAX_NTH);
	if (!dry && nth - 1 < op->min_allocs)
		st_fail(__FILE__, __LINE__, "%s: %u allocations seen, at least %u expected: is fail-nth working?",
			op->name, nth - 1, op->min_allocs);
	for (k = 0; k < 8 && errs[k]; k++)
		snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), " %s x%d",
			 strerrorname_np(errs[k]) ?: "?", counts[k]);
	st_diag("%s: %u allocations failed in turn: %u errors (%s ), %u absorbed",
		op->name, nth - 1, failed, *seen ? seen : " none", absorbed);
}

/* ---- state that must come back ------------------------------------------ */

static long long avail0, vt_avail0;
static unsigned int mdevs0;

static unsigned int count_mdevs(void)
{
	DIR *d = opendir("/sys/bus/mdev/devices");
	struct dirent *e;
	unsigned int n = 0;

	ASSERT(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static long long vt_available(void)
{
	return sysfs_read_ll(VT_TYPES "/vgpu_test-small/available_instances");
}

static void check_counts(const char *what)
{
	if (st_available("16m") != avail0 || count_mdevs() != mdevs0 ||
	    vt_available() != vt_avail0)
		st_fail(__FILE__, __LINE__,
			"%s: available %lld (was %lld), vgpu_test %lld (was %lld), mdevs %u (were %u)",
			what, st_available("16m"), avail0, vt_available(), vt_avail0,
			count_mdevs(), mdevs0);
}

/* ---- create ------------------------------------------------------------- */

static struct vgpu G;		/* the vGPU the operations work on */
static char new_uuid[40];
static int create_fd = -1;

static void create_setup(void)
{
	char p[PATH_MAX];

	ASSERT(sysfs_read_str("/proc/sys/kernel/random/uuid", new_uuid, sizeof(new_uuid)) == 0);
	st_type_path(p, sizeof(p), "16m", "create");
	create_fd = open(p, O_WRONLY);
	ASSERT(create_fd >= 0);
}

static int create_run(void)
{
	return write(create_fd, new_uuid, strlen(new_uuid)) < 0 ? -errno : 0;
}

static void create_check(int ret)
{
	char p[PATH_MAX];

	close(create_fd);
	snprintf(p, sizeof(p), "/sys/bus/mdev/devices/%s", new_uuid);
	if (ret) {
		ASSERT(access(p, F_OK) != 0);
	} else {
		/* it works: opened, configured, removed */
		struct vgpu g = { 0 };

		snprintf(g.uuid, sizeof(g.uuid), "%s", new_uuid);
		snprintf(g.type, sizeof(g.type), "16m");
		g.container = g.group = g.dev = g.efd[0] = g.efd[1] = -1;
		g.created = true;
		vgpu_open(&g);
		ASSERT_CMP(cfg_read(&g, PCI_VENDOR_ID, 2), ==, VGPU_SIM_PCI_VENDOR);
		vgpu_close(&g);
		vgpu_remove(&g);
	}
	check_counts("after create");
}

/* ---- open --------------------------------------------------------------- */

static int open_fd = -1;

/* the first open is what allocates: G's own fd is closed for it */
static void open_setup(void)
{
	if (G.dev >= 0)
		close(G.dev);
	G.dev = -1;
}

static int open_run(void)
{
	open_fd = ioctl(G.group, VFIO_GROUP_GET_DEVICE_FD, G.uuid);
	return open_fd < 0 ? -errno : 0;
}

static void open_check(int ret)
{
	uint16_t vendor = 0;
	int fd = open_fd;

	if (ret)
		fd = ioctl(G.group, VFIO_GROUP_GET_DEVICE_FD, G.uuid);
	ASSERT(fd >= 0);
	ASSERT(pread(fd, &vendor, 2, G.reg[VFIO_PCI_CONFIG_REGION_INDEX].info.offset) == 2);
	ASSERT_CMP(vendor, ==, VGPU_SIM_PCI_VENDOR);
	G.dev = fd;
	cfg_write(&G, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

/* ---- region info with capabilities -------------------------------------- */

static uint64_t info_buf[2][64];

static int region_info_run(void)
{
	static const unsigned int index[2] = { VFIO_PCI_BAR0_REGION_INDEX,
					       VFIO_PCI_NUM_REGIONS };
	unsigned int i;

	memset(info_buf, 0, sizeof(info_buf));
	for (i = 0; i < 2; i++) {
		struct vfio_region_info *ri = (void *)info_buf[i];

		ri->argsz = sizeof(info_buf[i]);
		ri->index = index[i];
		if (ioctl(G.dev, VFIO_DEVICE_GET_REGION_INFO, ri))
			return -errno;
	}
	return 0;
}

static void region_info_check(int ret)
{
	unsigned int i;

	if (ret)
		ASSERT(region_info_run() == 0);
	for (i = 0; i < 2; i++) {
		struct vfio_region_info *ri = (void *)info_buf[i];
		unsigned int want = i ? VFIO_REGION_INFO_CAP_TYPE :
				    VFIO_REGION_INFO_CAP_SPARSE_MMAP, off, n = 0;
		bool found = false;

		ASSERT(ri->flags & VFIO_REGION_INFO_FLAG_CAPS);
		for (off = ri->cap_offset; off && off < sizeof(info_buf[i]) && n < 8; n++) {
			struct vfio_info_cap_header *h = (void *)((char *)ri + off);

			found |= h->id == want;
			off = h->next;
		}
		ASSERT(found);
	}
}

/* ---- SET_IRQS ----------------------------------------------------------- */

static unsigned int irq_index, irq_count;
static int irq_efd[2] = { -1, -1 };

static int set_irqs(unsigned int count)
{
	uint64_t buf[8] = { 0 };
	struct vfio_irq_set *s = (void *)buf;

	s->argsz = sizeof(*s) + count * sizeof(int32_t);
	s->flags = (count ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE) |
		   VFIO_IRQ_SET_ACTION_TRIGGER;
	s->index = irq_index;
	s->count = count;
	memcpy(s->data, irq_efd, count * sizeof(int32_t));
	return ioctl(G.dev, VFIO_DEVICE_SET_IRQS, s) ? -errno : 0;
}

static void irq_setup(void)
{
	irq_efd[0] = eventfd(0, EFD_NONBLOCK);
	irq_efd[1] = eventfd(0, EFD_NONBLOCK);
	ASSERT(irq_efd[0] >= 0 && irq_efd[1] >= 0);
}

static int irq_run(void)
{
	return set_irqs(irq_count);
}

static void irq_check(int ret)
{
	(void)ret;	/* either way it must work now */
	/* disabled, then it works without injection, then disabled again */
	ASSERT_CMP(set_irqs(0), ==, 0);
	ASSERT_CMP(set_irqs(irq_count), ==, 0);
	ASSERT_CMP(set_irqs(0), ==, 0);
	close(irq_efd[0]);
	close(irq_efd[1]);
}

/* ---- an mmap fault ------------------------------------------------------ */

#define FAULT_LEN	(4u << 20)
#define GiB		(1UL << 30)
static volatile uint32_t *fault_map;
static void *fault_resv;
static sigjmp_buf bus_jmp;
static volatile sig_atomic_t bus_armed;

static void on_sigbus(int sig)
{
	if (!bus_armed) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
	siglongjmp(bus_jmp, 1);
}

static void fault_setup(void)
{
	struct st_region *r = &G.reg[VFIO_PCI_BAR0_REGION_INDEX];

	uint8_t *a;

	/*
	 * The data it must find, and a mapping in a gigabyte nothing else
	 * uses: the fault allocates its page tables (PMD and PTE) anew.
	 */
	bar_write(&G, 0, r->areas[0].offset + FAULT_LEN - 4096, 4, 0x600dcafe);
	fault_resv = mmap(NULL, 2 * GiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
			  MAP_NORESERVE, -1, 0);
	ASSERT(fault_resv != MAP_FAILED);
	a = (uint8_t *)(((uintptr_t)fault_resv + GiB - 1) & ~(GiB - 1)) + 4096;
	fault_map = mmap(a, FAULT_LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 G.dev, r->info.offset + r->areas[0].offset);
	ASSERT(fault_map == (void *)a);
}

static int fault_run(void)
{
	uint32_t v;

	if (sigsetjmp(bus_jmp, 1)) {
		bus_armed = 0;
		return -EFAULT;	/* SIGBUS: reported by fault_check */
	}
	bus_armed = 1;
	v = fault_map[(FAULT_LEN - 4096) / 4];
	bus_armed = 0;
	return v == 0x600dcafe ? 0 : -EBADMSG;
}

static void fault_check(int ret)
{
	if (ret)
		st_fail(__FILE__, __LINE__, "a fault under an allocation failure gave %s",
			ret == -EFAULT ? "SIGBUS" : "the wrong data");
	ASSERT(munmap(fault_resv, 2 * GiB) == 0);
}

/* ---- migration save ----------------------------------------------------- */

static int mig_state(uint32_t flags, uint32_t *state, int *data_fd)
{
	uint64_t buf[4] = { 0 };
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_mig_state *s = (void *)f->data;

	f->argsz = sizeof(*f) + sizeof(*s);
	f->flags = flags | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	s->device_state = *state;
	if (ioctl(G.dev, VFIO_DEVICE_FEATURE, f))
		return -errno;
	*state = s->device_state;
	if (data_fd)
		*data_fd = s->data_fd;
	return 0;
}

static uint32_t mig_get_state(void)
{
	uint32_t st = 0;

	ASSERT(mig_state(VFIO_DEVICE_FEATURE_GET, &st, NULL) == 0);
	return st;
}

static void mig_set_state(uint32_t st)
{
	int fd = -1;

	ASSERT(mig_state(VFIO_DEVICE_FEATURE_SET, &st, &fd) == 0);
	if (fd >= 0)
		close(fd);
}

/* The stream: all of it, or -errno. */
static ssize_t read_all(int fd)
{
	static char buf[1 << 16];
	ssize_t n, total = 0;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	return n < 0 ? -errno : total;
}

/* Back to RUNNING whatever happened: a reset leaves ERROR. */
static void mig_recover(void)
{
	if (mig_get_state() == VFIO_DEVICE_STATE_ERROR)
		ASSERT(ioctl(G.dev, VFIO_DEVICE_RESET) == 0);
	if (mig_get_state() != VFIO_DEVICE_STATE_RUNNING)
		mig_set_state(VFIO_DEVICE_STATE_RUNNING);
	ASSERT_CMP(mig_get_state(), ==, VFIO_DEVICE_STATE_RUNNING);
}

static int mig_fd = -1;

static int mig_stop_copy_run(void)
{
	uint32_t st = VFIO_DEVICE_STATE_STOP_COPY;

	mig_fd = -1;
	return mig_state(VFIO_DEVICE_FEATURE_SET, &st, &mig_fd);
}

/* A full save works after whatever happened; the device runs again. */
static void mig_save_works(void)
{
	uint32_t st = VFIO_DEVICE_STATE_STOP_COPY;
	int fd = -1;

	mig_recover();
	ASSERT(mig_state(VFIO_DEVICE_FEATURE_SET, &st, &fd) == 0);
	ASSERT(fd >= 0);
	ASSERT_CMP(read_all(fd), >, 0);
	close(fd);
	mig_set_state(VFIO_DEVICE_STATE_RUNNING);
}

static void mig_stop_copy_check(int ret)
{
	if (!ret) {
		ASSERT(mig_fd >= 0);
		ASSERT_CMP(read_all(mig_fd), >, 0);
		close(mig_fd);
	}
	mig_save_works();
}

static void mig_read_setup(void)
{
	ASSERT(mig_stop_copy_run() == 0);
	ASSERT(mig_fd >= 0);
}

static int mig_read_run(void)
{
	ssize_t n = read_all(mig_fd);

	return n < 0 ? n : n ? 0 : -ENODATA;
}

static void mig_read_check(int ret)
{
	(void)ret;	/* either way a save must work now */
	close(mig_fd);
	mig_save_works();
}

/* ---- DMA through vgpu_dma_* (vgpu_test, in this thread) ------------------ */

static struct vgpu T;		/* a vgpu_test vGPU */
static uint64_t dma_cmd;

static void reg_write(uint64_t off, uint64_t v)
{
	bar_write(&T, 2, off, 8, v);
}

static uint64_t reg_read(uint64_t off)
{
	return bar_read(&T, 2, off, 8);
}

static int dma_run(void)
{
	uint64_t cmd = dma_cmd;

	/* the register write starts the DMA; its result is a register */
	if (pwrite(T.dev, &cmd, 8, T.reg[2].info.offset + VT_REG_DMA_CMD) != 8 ||
	    pread(T.dev, &cmd, 8, T.reg[2].info.offset + VT_REG_DMA_RESULT) != 8)
		return -errno;
	return (int)cmd;
}

static void dma_check(int ret)
{
	ASSERT_CMP(reg_read(VT_REG_PINNED), ==, dma_cmd == VT_DMA_PIN && !ret);
	reg_write(VT_REG_DMA_CMD, VT_DMA_UNPIN_ALL);
	ASSERT_CMP(reg_read(VT_REG_PINNED), ==, 0);
	/* the same DMA works without injection */
	reg_write(VT_REG_DMA_CMD, dma_cmd);
	ASSERT_CMP(reg_read(VT_REG_DMA_RESULT), ==, 0);
	reg_write(VT_REG_DMA_CMD, VT_DMA_UNPIN_ALL);
}

/* ---- the run ------------------------------------------------------------ */

static void vgpu_test_up(const char *ko)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC);
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	char p[PATH_MAX];
	uint8_t *mem;

	ASSERT(fd >= 0);
	ASSERT(syscall(SYS_finit_module, fd, "", 0) == 0);
	close(fd);
	vt_avail0 = vt_available();
	memset(&T, 0, sizeof(T));
	T.container = T.group = T.dev = T.efd[0] = T.efd[1] = -1;
	ASSERT(sysfs_read_str("/proc/sys/kernel/random/uuid", T.uuid, sizeof(T.uuid)) == 0);
	snprintf(p, sizeof(p), VT_TYPES "/vgpu_test-small/create");
	ASSERT(sysfs_write(p, T.uuid) == 0);
	T.created = true;
	vgpu_open(&T);
	mem = mmap(NULL, DMA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT(mem != MAP_FAILED);
	memset(mem, 0x5a, DMA_SIZE);
	map.vaddr = (uintptr_t)mem;
	map.iova = IOVA;
	map.size = DMA_SIZE;
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	ASSERT(ioctl(T.container, VFIO_IOMMU_MAP_DMA, &map) == 0);
	cfg_write(&T, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	reg_write(VT_REG_DMA_IOVA, IOVA + 0x1000);
	reg_write(VT_REG_DMA_LEN, 256);
}

int main(int argc, char **argv)
{
	static const struct fi_op ops[] = {
		{ "vGPU create (sysfs create)", create_setup, create_run, create_check, 1 },
		{ "device open (VFIO_GROUP_GET_DEVICE_FD)", open_setup, open_run, open_check, 1 },
		{ "region info with capabilities", NULL, region_info_run, region_info_check, 1 },
		{ "SET_IRQS", irq_setup, irq_run, irq_check, 1 },
		{ "mmap fault", fault_setup, fault_run, fault_check, 1 },
		{ "migration: STOP_COPY", NULL, mig_stop_copy_run, mig_stop_copy_check, 1 },
		{ "migration: reading the saved state", mig_read_setup, mig_read_run,
		  mig_read_check, 0 },
		{ "DMA: vgpu_dma_pin", NULL, dma_run, dma_check, 1 },
		{ "DMA: vgpu_dma_rw", NULL, dma_run, dma_check, 0 },
	};
	static const struct { const char *name; unsigned int index, count; } irqs[] = {
		{ "INTx", VFIO_PCI_INTX_IRQ_INDEX, 1 },
		{ "MSI", VFIO_PCI_MSI_IRQ_INDEX, 1 },
		{ "MSI-X", VFIO_PCI_MSIX_IRQ_INDEX, 2 },
	};
	struct sigaction sa = { .sa_handler = on_sigbus };
	volatile unsigned int i, num = 0, failed = 0;
	char name[128];

	setvbuf(stdout, NULL, _IOLBF, 0);
	st_gpu = getenv("LAB_GPU");
	dry = getenv("FAULTINJECT_DRY") && !strcmp(getenv("FAULTINJECT_DRY"), "1");
	if (argc != 2) {
		fprintf(stderr, "usage: %s VGPU_TEST_KO (in the lab: run-sim-tests.sh)\n", argv[0]);
		return 2;
	}
	if (!st_gpu || !*st_gpu) {
		printf("1..0 # SKIP no physical GPU in this lab (LAB_GPU empty)\n");
		return 0;
	}
	if (fi_setup()) {
		printf("1..0 # SKIP this kernel has no failslab/fail_page_alloc/fail-nth (CONFIG_FAULT_INJECTION: Debian's kernels lack it; tools/lab run --debug-kernel)\n");
		return 0;
	}
	sigaction(SIGBUS, &sa, NULL);
	printf("1..%zu%s\n", sizeof(ops) / sizeof(ops[0]) + 2 + 2,
	       dry ? " # FAULTINJECT_DRY=1: nothing injected" : "");

	st_current = "setup";
	if (setjmp(st_fail_jmp)) {
		printf("Bail out! setup failed\n");
		return 1;
	}
	{
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver_override", st_gpu);
		ASSERT(sysfs_write(p, "vgpu_sim") == 0);
		ASSERT(sysfs_write("/sys/bus/pci/drivers_probe", st_gpu) == 0);
	}
	vgpu_test_up(argv[1]);
	avail0 = st_available("16m");
	mdevs0 = count_mdevs();
	ASSERT(vgpu_create(&G, "16m") == 0);
	vgpu_open(&G);
	cfg_write(&G, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	/* the open vGPU and vgpu_test's are part of the baseline from here */
	avail0 = st_available("16m");
	mdevs0 = count_mdevs();
	vt_avail0 = vt_available();

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		volatile unsigned int j, reps = ops[i].run == irq_run ? 3 : 1;

		for (j = 0; j < reps; j++) {
			if (ops[i].run == irq_run) {
				irq_index = irqs[j].index;
				irq_count = irqs[j].count;
				snprintf(name, sizeof(name), "SET_IRQS %s (eventfds)", irqs[j].name);
			} else {
				snprintf(name, sizeof(name), "%s", ops[i].name);
			}
			if (ops[i].run == dma_run)
				dma_cmd = strstr(ops[i].name, "pin") ? VT_DMA_PIN :
					  VT_DMA_FROM_GUEST;
			num++;
			st_current = name;
			if (!setjmp(st_fail_jmp)) {
				struct fi_op op = ops[i];

				op.name = name;
				fi_run(&op);
				check_counts(name);
				printf("ok %u - %s: every allocation failed in turn, cleanly%s\n",
				       num, name, dry ? " # SKIP FAULTINJECT_DRY=1, nothing injected" : "");
			} else {
				printf("not ok %u - %s\n", num, name);
				failed++;
				fi_disarm();
			}
		}
	}

	/* Nothing left behind: everything removed, the counts as before any vGPU. */
	num++;
	st_current = "teardown";
	if (!setjmp(st_fail_jmp)) {
		vgpu_close(&G);
		vgpu_remove(&G);
		vgpu_close(&T);
		vgpu_remove(&T);
		ASSERT_CMP(count_mdevs(), ==, 0);
		ASSERT_CMP(st_available("16m"), ==, avail0 + 1);
		ASSERT_CMP(vt_available(), ==, vt_avail0 + 1);
		printf("ok %u - vGPUs removed, available_instances and mdev devices as at the start\n",
		       num);
	} else {
		printf("not ok %u - teardown\n", num);
		failed++;
	}
	num++;
	if (syscall(SYS_delete_module, "vgpu_test", O_NONBLOCK) == 0) {
		printf("ok %u - vgpu_test unloads: no reference left\n", num);
	} else {
		printf("not ok %u - vgpu_test unload: %s\n", num, strerror(errno));
		failed++;
	}
	return failed ? 1 : 0;
}
