// SPDX-License-Identifier: GPL-2.0-or-later
/* A vGPU through its VFIO device cdev and iommufd: see vfio-cdev.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vfio-cdev.h"

#ifdef VGPU_TEST_HAVE_IOMMUFD
int vfio_cdev_iommufd(int *iommufd, unsigned int *ioas)
{
	struct iommu_ioas_alloc ia = { .size = sizeof(ia) };
	int err;

	*iommufd = open("/dev/iommu", O_RDWR);
	if (*iommufd < 0)
		return -1;
	if (ioctl(*iommufd, IOMMU_IOAS_ALLOC, &ia)) {
		err = errno;
		close(*iommufd);
		*iommufd = -1;
		errno = err;
		return -1;
	}
	*ioas = ia.out_ioas_id;
	return 0;
}

int vfio_cdev_open(const char *uuid, int iommufd, unsigned int ioas)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind), .iommufd = iommufd };
	struct vfio_device_attach_iommufd_pt at = {
		.argsz = sizeof(at), .pt_id = ioas };
	char p[512], name[256] = "";
	struct dirent *e;
	DIR *dir;
	int fd, err;

	snprintf(p, sizeof(p), "/sys/bus/mdev/devices/%s/vfio-dev", uuid);
	dir = opendir(p);
	if (!dir) {
		errno = ENODEV;
		return -1;
	}
	while ((e = readdir(dir)))
		if (!strncmp(e->d_name, "vfio", 4))
			snprintf(name, sizeof(name), "%s", e->d_name);
	closedir(dir);
	if (!name[0]) {
		errno = ENODEV;
		return -1;
	}
	snprintf(p, sizeof(p), "/dev/vfio/devices/%s", name);
	fd = open(p, O_RDWR);
	if (fd < 0)
		return -1;
	if (ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind) ||
	    ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at)) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}
#else
int vfio_cdev_iommufd(int *iommufd, unsigned int *ioas)
{
	(void)iommufd;
	(void)ioas;
	errno = ENOTTY;
	return -1;
}

int vfio_cdev_open(const char *uuid, int iommufd, unsigned int ioas)
{
	(void)uuid;
	(void)iommufd;
	(void)ioas;
	errno = ENOTTY;
	return -1;
}
#endif
