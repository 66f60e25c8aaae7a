/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A vGPU through its VFIO device cdev and iommufd, as a VMM without the
 * group and container uAPI opens it (6.6+ headers; kernels with
 * CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV).
 */
#ifndef VGPU_TEST_VFIO_CDEV_H
#define VGPU_TEST_VFIO_CDEV_H

#include <linux/vfio.h>
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#endif

/* the cdev/iommufd uAPI came with 6.6's headers */
#if defined(VFIO_DEVICE_BIND_IOMMUFD) && defined(IOMMU_IOAS_MAP)
#define VGPU_TEST_HAVE_IOMMUFD 1
#endif

/*
 * Opens /dev/iommu into *@iommufd and allocates an IOAS into *@ioas: 0, or
 * -1 with errno (ENOTTY without the uAPI in the headers).
 */
int vfio_cdev_iommufd(int *iommufd, unsigned int *ioas);

/*
 * Opens the cdev of mdev @uuid (/dev/vfio/devices/vfioN, from its sysfs
 * vfio-dev directory), binds it to @iommufd and attaches it to @ioas: the
 * device fd, or -1 with errno (ENODEV: the kernel made no cdev for it).
 */
int vfio_cdev_open(const char *uuid, int iommufd, unsigned int ioas);

#endif
