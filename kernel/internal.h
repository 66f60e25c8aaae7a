/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Between vgpu.ko (registry, lifecycle) and vgpu_vfio.ko (the VFIO device):
 * not part of the vendor API.
 */
#ifndef _VGPU_INTERNAL_H
#define _VGPU_INTERNAL_H

#include <linux/mdev.h>
#include <linux/mutex.h>
#include <linux/sysfs.h>
#include "vgpu.h"

/* One vGPU type of one GPU: the mdev type plus our facts and capacity. */
struct vgpu_type_entry {
	struct mdev_type mtype;
	const struct vgpu_type *type;
	struct vgpu_gpu *gpu;
	/* unreserved instances: taken at create, returned at destroy */
	atomic_t avail;
};

struct vgpu_gpu {
	struct mdev_parent parent;
	struct device *dev;
	const struct vgpu_ops *ops;
	void *drvdata;
	struct vgpu_type_entry *types;
	struct mdev_type **mtypes;
	unsigned int nr_types;
	struct list_head node;		/* in vgpu_gpus, under vgpu_gpus_lock */
	/* probed vGPUs; also held across a GPU reset (prepare to done) */
	struct mutex vgpus_lock;
	struct list_head vgpus;
};

struct vgpu_attr_inst {
	struct device_attribute dattr;
	const struct vgpu_attribute *vattr;
};

struct vgpu_device {
	struct mdev_device *mdev;
	struct vgpu_gpu *gpu;
	struct vgpu_type_entry *type;
	struct vgpu_device_info info;
	void *drvdata;
	/* serialises the vendor ops of this vGPU and the state they touch */
	struct mutex lock;
	/* set at first open: vendor attributes are read-only from then on */
	bool opened_once;
	/* the VFIO side's state, owned by the backend */
	void *backend;
	struct list_head gpu_node;	/* in gpu->vgpus, under vgpus_lock */

	struct attribute_group vendor_group;
	struct attribute **vendor_attrs;
	struct vgpu_attr_inst *vendor_inst;
};

/*
 * The VFIO side plugs into the core through this: probe turns a created vGPU
 * into a VFIO device (validating vgpu->info), remove unregisters it and
 * returns only once no user holds the device any more, free drops what is
 * left after the vendor's destroy (so vendor calls during destroy are safe).
 */
struct vgpu_backend {
	struct module *owner;
	int (*probe)(struct vgpu_device *vgpu);
	void (*remove)(struct vgpu_device *vgpu);
	void (*free)(struct vgpu_device *vgpu);
	/* the parent GPU's reset and loss; see vgpu_gpu_reset_prepare() */
	void (*gpu_reset_prepare)(struct vgpu_device *vgpu);
	void (*gpu_reset_done)(struct vgpu_device *vgpu);
	void (*gpu_lost)(struct vgpu_device *vgpu);
};

int vgpu_backend_register(const struct vgpu_backend *backend);
void vgpu_backend_unregister(const struct vgpu_backend *backend);

#endif /* _VGPU_INTERNAL_H */
