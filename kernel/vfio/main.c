// SPDX-License-Identifier: GPL-2.0-only
/* vgpu_vfio: each vGPU as a VFIO PCI device (skeleton). */
#include <linux/module.h>
#include <linux/vfio.h>

#include "internal.h"

static int vgpu_vfio_probe(struct vgpu_device *vgpu)
{
	return -ENODEV;
}

static void vgpu_vfio_remove(struct vgpu_device *vgpu)
{
}

static const struct vgpu_backend vgpu_vfio_backend = {
	.owner = THIS_MODULE,
	.probe = vgpu_vfio_probe,
	.remove = vgpu_vfio_remove,
};

static int __init vgpu_vfio_init(void)
{
	return vgpu_backend_register(&vgpu_vfio_backend);
}

static void __exit vgpu_vfio_exit(void)
{
	vgpu_backend_unregister(&vgpu_vfio_backend);
}

module_init(vgpu_vfio_init);
module_exit(vgpu_vfio_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("VFIO PCI driver for vGPUs");
