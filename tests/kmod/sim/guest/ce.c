// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Runs in the inner guest before bochs-drm loads: drives the vGPU's copy
 * engine the way a guest driver would, through the BARs (sysfs resource
 * files) with guest-physical addresses as IOVAs (QEMU maps guest RAM 1:1,
 * no vIOMMU), taking each completion or error as INTx through
 * uio_pci_generic. Prints SIMTEST-CE lines.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vgpu_sim_regs.h"

static char dev[300];
static int uio = -1;		/* /dev/uioN of the vGPU: its INTx */
static volatile uint32_t *mmio;
static volatile uint8_t *vram;

#define fail(...) do { printf("SIMTEST-CE FAIL " __VA_ARGS__); printf("\n"); exit(1); } while (0)

#include "guest.h"

static uint32_t rd(unsigned int off)
{
	return mmio[off / 4];
}

static void wr(unsigned int off, uint32_t v)
{
	mmio[off / 4] = v;
}

/*
 * Wait for the vGPU's INTx (through uio). uio_pci_generic masked it with
 * the command register's INTx Disable bit: clear that bit to re-enable.
 */
static void wait_intx(void)
{
	struct pollfd p = { .fd = uio, .events = POLLIN };
	char path[400];
	uint32_t count;
	uint16_t cmd;
	int fd;

	if (poll(&p, 1, 10000) != 1 || read(uio, &count, 4) != 4)
		fail("no INTx within 10 s");
	snprintf(path, sizeof(path), "%s/config", dev);
	fd = open(path, O_RDWR);
	if (fd < 0 || pread(fd, &cmd, 2, 4) != 2)
		fail("config");
	if (!(cmd & 0x400))
		fail("INTx was not masked by uio_pci_generic (command %#x)", cmd);
	cmd &= ~0x400;
	if (pwrite(fd, &cmd, 2, 4) != 2)
		fail("re-enabling INTx");
	close(fd);
}

/* start a copy and wait until the engine is idle; returns the status */
static uint32_t copy(uint64_t iova, uint32_t vram_off, uint32_t len, int to_guest)
{
	struct timespec t0, t;
	uint32_t st;

	wr(VGPU_SIM_CE_IOVA_LO, (uint32_t)iova);
	wr(VGPU_SIM_CE_IOVA_HI, iova >> 32);
	wr(VGPU_SIM_CE_VRAM_OFFSET, vram_off);
	wr(VGPU_SIM_CE_LENGTH, len);
	wr(VGPU_SIM_CE_CTRL, to_guest ? VGPU_SIM_CE_CTRL_TO_GUEST : 0);
	wr(VGPU_SIM_CE_DOORBELL, 1);
	wait_intx();
	/* the interrupt came: the engine must be idle already */
	if (rd(VGPU_SIM_CE_STATUS) & VGPU_SIM_CE_STATUS_BUSY)
		fail("INTx before the copy ended");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		st = rd(VGPU_SIM_CE_STATUS);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10)
			fail("copy engine still busy after 10 s");
	} while (st & VGPU_SIM_CE_STATUS_BUSY);
	/* acknowledge, as an interrupt handler would: the line drops */
	wr(VGPU_SIM_REG_IRQ_STATUS, rd(VGPU_SIM_REG_IRQ_STATUS));
	return st;
}

int main(void)
{
	uint8_t *a, *b;
	uint32_t st;
	int i;

	uio = open_vgpu();
	mmio = map_bar(VGPU_SIM_MMIO_BAR, VGPU_SIM_MMIO_SIZE);
	vram = map_bar(VGPU_SIM_VRAM_BAR, 1 << 20);
	if (rd(VGPU_SIM_REG_ID) != VGPU_SIM_ID_VALUE)
		fail("ID register reads %#x", rd(VGPU_SIM_REG_ID));

	a = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED,
		 -1, 0);
	if (a == MAP_FAILED)
		fail("mmap");
	b = a + 4096;
	for (i = 0; i < 4096; i++) {
		a[i] = (uint8_t)(i * 7 + 3);
		b[i] = 0;
	}

	/* guest memory -> VRAM */
	st = copy(phys(a), 0x10000, 4096, 0);
	if (st != VGPU_SIM_CE_STATUS_DONE)
		fail("to VRAM: status %#x error %u", st, rd(VGPU_SIM_CE_ERROR));
	for (i = 0; i < 4096; i++)
		if (vram[0x10000 + i] != a[i])
			fail("VRAM byte %d is %#x, want %#x", i, vram[0x10000 + i], a[i]);
	printf("SIMTEST-CE ok guest-to-vram\n");

	/* VRAM -> guest memory */
	st = copy(phys(b), 0x10000, 4096, 1);
	if (st != VGPU_SIM_CE_STATUS_DONE)
		fail("to guest: status %#x error %u", st, rd(VGPU_SIM_CE_ERROR));
	if (memcmp(a, b, 4096))
		fail("guest page differs after VRAM -> guest");
	printf("SIMTEST-CE ok vram-to-guest\n");

	/* an address QEMU never mapped: refused, nothing written */
	st = copy(1ULL << 40, 0x20000, 4096, 0);
	if (!(st & VGPU_SIM_CE_STATUS_ERROR) || rd(VGPU_SIM_CE_ERROR) != VGPU_SIM_CE_ERR_DMA)
		fail("unmapped IOVA: status %#x error %u", st, rd(VGPU_SIM_CE_ERROR));
	for (i = 0; i < 4096; i++)
		if (vram[0x20000 + i])
			fail("VRAM written by a refused copy");
	printf("SIMTEST-CE ok unmapped-iova-refused\n");

	if (rd(VGPU_SIM_REG_IRQ_STATUS))
		fail("IRQ_STATUS %#x after acknowledging", rd(VGPU_SIM_REG_IRQ_STATUS));
	memset((void *)(vram + 0x10000), 0, 4096);
	printf("SIMTEST-CE ok done %u errors %u\n", rd(VGPU_SIM_CE_DONE_COUNT),
	       rd(VGPU_SIM_CE_ERROR_COUNT));
	return 0;
}
