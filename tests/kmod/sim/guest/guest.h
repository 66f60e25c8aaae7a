/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the inner guest's programs share: finding vgpu_sim's vGPU among the
 * guest's PCI devices, mapping its BARs through sysfs and the guest-physical
 * address of a page (QEMU maps guest RAM 1:1 for DMA, no vIOMMU), the vGPU's
 * INTx through uio_pci_generic. Include it
 * after defining fail(...), which prints a line and exits, and
 * `static char dev[300]`, which gets the vGPU's sysfs directory.
 */
#ifndef SIM_GUEST_H
#define SIM_GUEST_H

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vgpu_sim_regs.h"

/* 0 and @dev set, or -1 when the guest has no vgpu_sim vGPU */
static int find_vgpu(void)
{
	static const char *const names[3] = { "vendor", "device", "subsystem_vendor" };
	DIR *dir = opendir("/sys/bus/pci/devices");
	char p[600], buf[32];
	struct dirent *d;
	FILE *f;

	while (dir && (d = readdir(dir))) {
		unsigned int ids[3] = { 0 };
		int k;

		for (k = 0; k < 3; k++) {
			snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/%s", d->d_name, names[k]);
			f = fopen(p, "r");
			if (!f || !fgets(buf, sizeof(buf), f))
				break;
			fclose(f);
			ids[k] = strtoul(buf, NULL, 16);
		}
		if (ids[0] == VGPU_SIM_PCI_VENDOR && ids[1] == VGPU_SIM_PCI_DEVICE &&
		    ids[2] == VGPU_SIM_SUBSYS_VENDOR) {
			snprintf(dev, sizeof(dev), "/sys/bus/pci/devices/%s", d->d_name);
			return 0;
		}
	}
	return -1;
}

/*
 * Find the vGPU, turn on memory decoding and bus mastering as a driver's
 * probe would, and open the uio_pci_generic node its INTx comes through.
 */
static int open_vgpu(void)
{
	char p[600];
	struct dirent *d;
	uint16_t cmd;
	int fd, uio = -1;
	DIR *dir;

	if (find_vgpu())
		fail("no vgpu_sim device");
	snprintf(p, sizeof(p), "%s/config", dev);
	fd = open(p, O_RDWR);
	if (fd < 0 || pread(fd, &cmd, 2, 4) != 2)
		fail("config");
	cmd |= 0x6;
	if (pwrite(fd, &cmd, 2, 4) != 2)
		fail("config write");
	close(fd);
	snprintf(p, sizeof(p), "%s/uio", dev);
	dir = opendir(p);
	while (dir && (d = readdir(dir)))
		if (!strncmp(d->d_name, "uio", 3)) {
			snprintf(p, sizeof(p), "/dev/%s", d->d_name);
			uio = open(p, O_RDWR);
		}
	if (dir)
		closedir(dir);
	if (uio < 0)
		fail("vGPU not bound to uio_pci_generic");
	return uio;
}

static void *map_bar(int bar, size_t len)
{
	char p[400];
	void *m;
	int fd;

	snprintf(p, sizeof(p), "%s/resource%d", dev, bar);
	fd = open(p, O_RDWR | O_SYNC);
	if (fd < 0)
		fail("open %s", p);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		fail("mmap %s", p);
	return m;
}

/* guest-physical address of a locked page of ours */
static uint64_t phys(void *addr)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t ent;

	if (fd < 0 || pread(fd, &ent, 8, (uintptr_t)addr / 4096 * 8) != 8)
		fail("pagemap");
	close(fd);
	if (!(ent >> 63) || !(ent & ((1ULL << 55) - 1)))
		fail("page not present or PFN hidden");
	return (ent & ((1ULL << 55) - 1)) * 4096;
}

#endif /* SIM_GUEST_H */
