// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Runs in the inner guest of sim-qemu-migration: keeps a vGPU busy, from user
 * space, while the host migrates the guest to another vGPU under it.
 *
 * Sets a 640x480x32 mode through the DISPI registers and draws a fixed
 * picture (quadrants below a 16-row ticker), then loops for ever. Frame k:
 * checks that everything frame k-1 left is still there (the canvas it wrote
 * to VRAM with the CPU, the VRAM and the guest pages the copy engine wrote,
 * the engine's completion count), then rewrites the canvas and the ticker
 * and copies NPAGES pages guest -> VRAM -> guest, polling for each
 * completion and counting the INTx that come through uio_pci_generic. Whenever the guest is frozen, its VRAM,
 * engine and interrupt state move to the other vGPU; the checks of the next
 * frame notice any loss. Prints MIG-READY, MIG-TICK every 4th frame,
 * MIG-INTX-LOST and MIG-PIRQ-REWRITE once if INTx stops coming (see
 * rewrite_pirq_routing()), and MIG-FAIL with the reason before exiting on
 * any mismatch.
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

#define WIDTH		640
#define HEIGHT		480
#define TICKER_ROWS	16
#define CANVAS_OFF	(4u << 20)	/* CPU-written VRAM, off screen */
#define CANVAS_WORDS	(64u << 10)	/* 256 KiB */
#define CE_OFF		(8u << 20)	/* copy engine's VRAM pages */
#define NPAGES		4
#define VRAM_MAP	(9u << 20)

static char dev[300];
static int uio = -1;
static volatile uint32_t *mmio;
static volatile uint32_t *vram;
static unsigned long frame;

#define fail(...) do { printf("MIG-FAIL frame %lu: ", frame); printf(__VA_ARGS__); \
		       printf("\n"); fflush(stdout); exit(1); } while (0)

#include "guest.h"

static uint32_t rd(unsigned int off)
{
	return mmio[off / 4];
}

static void wr(unsigned int off, uint32_t v)
{
	mmio[off / 4] = v;
}

static void dispi(unsigned int idx, uint16_t v)
{
	((volatile uint16_t *)mmio)[VGPU_SIM_DISPI_REG(idx) / 2] = v;
}

/*
 * INTx seen so far. Completions are polled (below), so a lost interrupt
 * stalls nothing; the host compares this count before and after migration.
 * uio_pci_generic masks each INTx with INTx Disable: cleared again here.
 */
static unsigned long intx_seen;

/* Completed copies since the last INTx; QUIET_LOST of them: INTx is lost. */
static unsigned int quiet_copies;
#define QUIET_LOST	32
#define PIIX_CONFIG	"/sys/bus/pci/devices/0000:00:01.0/config"

/*
 * After a migration QEMU 10 keeps the KVM irqfd of the vGPU's INTx on the
 * line it computed before the PIIX state arrived (see kernel/README.md): a
 * guest write of the PIIX's PIRQ routing registers, even of their own value,
 * makes QEMU route it again. Done once, when INTx is seen lost, so that the
 * host can tell a loss that this cures from one it does not.
 */
static void rewrite_pirq_routing(void)
{
	uint32_t id = 0, route = 0;
	int fd = open(PIIX_CONFIG, O_RDWR);

	if (fd < 0 || pread(fd, &id, 4, 0) != 4 || id != 0x70008086 ||
	    pread(fd, &route, 4, 0x60) != 4 || pwrite(fd, &route, 4, 0x60) != 4) {
		printf("MIG-PIRQ-REWRITE failed (ISA bridge id %#x)\n", id);
	} else {
		printf("MIG-PIRQ-REWRITE frame %lu routing %#x\n", frame, route);
	}
	if (fd >= 0)
		close(fd);
}

static void take_intx(void)
{
	struct pollfd p = { .fd = uio, .events = POLLIN };
	static int rewritten;
	char path[400];
	uint32_t count;
	uint16_t cmd;
	int fd;

	if (poll(&p, 1, 0) != 1 || read(uio, &count, 4) != 4) {
		if (++quiet_copies == QUIET_LOST && !rewritten) {
			printf("MIG-INTX-LOST frame %lu: %u copies completed without an INTx\n",
			       frame, quiet_copies);
			rewrite_pirq_routing();
			rewritten = 1;
		}
		return;
	}
	quiet_copies = 0;
	intx_seen++;
	snprintf(path, sizeof(path), "%s/config", dev);
	fd = open(path, O_RDWR);
	if (fd < 0 || pread(fd, &cmd, 2, 4) != 2)
		fail("config");
	cmd &= ~0x400;
	if (pwrite(fd, &cmd, 2, 4) != 2)
		fail("re-enabling INTx");
	close(fd);
}

static void copy(uint64_t iova, uint32_t vram_off, int to_guest)
{
	struct timespec t0, t;
	uint32_t st;

	wr(VGPU_SIM_CE_IOVA_LO, (uint32_t)iova);
	wr(VGPU_SIM_CE_IOVA_HI, iova >> 32);
	wr(VGPU_SIM_CE_VRAM_OFFSET, vram_off);
	wr(VGPU_SIM_CE_LENGTH, 4096);
	wr(VGPU_SIM_CE_CTRL, to_guest ? VGPU_SIM_CE_CTRL_TO_GUEST : 0);
	wr(VGPU_SIM_CE_DOORBELL, 1);
	/* generous: the guest may be frozen for a whole migration meanwhile */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((st = rd(VGPU_SIM_CE_STATUS)) & VGPU_SIM_CE_STATUS_BUSY) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 120)
			fail("copy engine still busy after 120 s");
		usleep(100);
	}
	if (st != VGPU_SIM_CE_STATUS_DONE)
		fail("copy %s: status %#x error %u", to_guest ? "to guest" : "to VRAM", st,
		     rd(VGPU_SIM_CE_ERROR));
	if (!(rd(VGPU_SIM_REG_IRQ_STATUS) & VGPU_SIM_IRQ_COMPLETE))
		fail("copy done, IRQ_STATUS %#x", rd(VGPU_SIM_REG_IRQ_STATUS));
	/* acknowledge as a handler would: the line drops */
	wr(VGPU_SIM_REG_IRQ_STATUS, rd(VGPU_SIM_REG_IRQ_STATUS));
	take_intx();
}

static uint32_t canvas_word(unsigned long k, uint32_t i)
{
	return (uint32_t)(k * 2654435761u) ^ (i * 40503u) ^ 0x5a5a0000u;
}

static uint8_t page_byte(unsigned long k, unsigned int p, unsigned int i)
{
	return (uint8_t)(k * 31 + p * 7 + i * 13 + (i >> 8));
}

/* The fixed picture: red, green, blue, white quadrants (XRGB8888). */
static uint32_t quadrant(unsigned int x, unsigned int y)
{
	static const uint32_t quad[4] = { 0xff0000, 0x00ff00, 0x0000ff, 0xffffff };

	return quad[(y >= HEIGHT / 2) * 2 + (x >= WIDTH / 2)];
}

int main(void)
{
	uint32_t done0, want;
	uint8_t *a, *b;
	unsigned int p, i, x, y;

	setvbuf(stdout, NULL, _IOLBF, 0);
	uio = open_vgpu();
	mmio = map_bar(VGPU_SIM_MMIO_BAR, VGPU_SIM_MMIO_SIZE);
	vram = map_bar(VGPU_SIM_VRAM_BAR, VRAM_MAP);
	if (rd(VGPU_SIM_REG_ID) != VGPU_SIM_ID_VALUE)
		fail("ID register reads %#x", rd(VGPU_SIM_REG_ID));

	dispi(VGPU_SIM_DISPI_ENABLE, 0);
	dispi(VGPU_SIM_DISPI_XRES, WIDTH);
	dispi(VGPU_SIM_DISPI_YRES, HEIGHT);
	dispi(VGPU_SIM_DISPI_BPP, 32);
	dispi(VGPU_SIM_DISPI_VIRT_WIDTH, WIDTH);
	dispi(VGPU_SIM_DISPI_X_OFFSET, 0);
	dispi(VGPU_SIM_DISPI_Y_OFFSET, 0);
	dispi(VGPU_SIM_DISPI_ENABLE, VGPU_SIM_DISPI_ENABLED | VGPU_SIM_DISPI_LFB_ENABLED |
	      VGPU_SIM_DISPI_NOCLEARMEM);
	for (y = 0; y < HEIGHT; y++)
		for (x = 0; x < WIDTH; x++)
			vram[y * WIDTH + x] = y < TICKER_ROWS ? 0 : quadrant(x, y);

	a = mmap(NULL, 2 * NPAGES * 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	if (a == MAP_FAILED)
		fail("mmap");
	b = a + NPAGES * 4096;
	memset(a, 0, 2 * NPAGES * 4096);
	done0 = rd(VGPU_SIM_CE_DONE_COUNT);
	printf("MIG-READY %ux%u ce_done %u\n", WIDTH, HEIGHT, done0);

	for (frame = 1;; frame++) {
		unsigned long k = frame;

		if (k > 1) {
			for (i = 0; i < CANVAS_WORDS; i++)
				if (vram[CANVAS_OFF / 4 + i] != canvas_word(k - 1, i))
					fail("CPU-written VRAM word %u is %#x, want %#x", i,
					     vram[CANVAS_OFF / 4 + i], canvas_word(k - 1, i));
			for (p = 0; p < NPAGES; p++)
				for (i = 0; i < 4096; i++) {
					uint8_t v = page_byte(k - 1, p, i);

					if (((volatile uint8_t *)vram)[CE_OFF + p * 4096 + i] != v)
						fail("engine-written VRAM page %u byte %u", p, i);
					if (b[p * 4096 + i] != v)
						fail("engine-written guest page %u byte %u is %#x, want %#x",
						     p, i, b[p * 4096 + i], v);
				}
			want = done0 + 2 * NPAGES * (k - 1);
			if (rd(VGPU_SIM_CE_DONE_COUNT) != want)
				fail("engine done count %u, want %u", rd(VGPU_SIM_CE_DONE_COUNT), want);
		}
		for (i = 0; i < CANVAS_WORDS; i++)
			vram[CANVAS_OFF / 4 + i] = canvas_word(k, i);
		for (y = 0; y < TICKER_ROWS; y++)
			for (x = 0; x < WIDTH; x++)
				vram[y * WIDTH + x] = x < (k * 8) % WIDTH ? 0xffff00 : 0;
		for (p = 0; p < NPAGES; p++) {
			for (i = 0; i < 4096; i++)
				a[p * 4096 + i] = page_byte(k, p, i);
			copy(phys(a + p * 4096), CE_OFF + p * 4096, 0);
			copy(phys(b + p * 4096), CE_OFF + p * 4096, 1);
			if (memcmp(a + p * 4096, b + p * 4096, 4096))
				fail("page %u differs after guest -> VRAM -> guest", p);
		}
		if (k % 4 == 0)
			printf("MIG-TICK %lu ce_done %u intx %lu\n", k, rd(VGPU_SIM_CE_DONE_COUNT),
			       intx_seen);
		usleep(10000);
	}
}
