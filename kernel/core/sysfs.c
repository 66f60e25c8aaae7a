// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgpu core: the vendor attributes of each vGPU (vendor/ under the mdev).
 */
#include <linux/device.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "core.h"

static ssize_t vgpu_attr_show(struct device *dev, struct device_attribute *da,
			      char *buf)
{
	struct vgpu_attr_inst *inst = container_of(da, struct vgpu_attr_inst,
						   dattr);
	struct vgpu_device *vgpu = dev_get_drvdata(dev);
	ssize_t ret;

	mutex_lock(&vgpu->lock);
	ret = inst->vattr->show(vgpu, buf);
	mutex_unlock(&vgpu->lock);
	return ret;
}

static ssize_t vgpu_attr_store(struct device *dev, struct device_attribute *da,
			       const char *buf, size_t count)
{
	struct vgpu_attr_inst *inst = container_of(da, struct vgpu_attr_inst,
						   dattr);
	struct vgpu_device *vgpu = dev_get_drvdata(dev);
	ssize_t ret;

	mutex_lock(&vgpu->lock);
	/* The vendor applies attributes at open; later changes are refused. */
	if (vgpu->opened_once)
		ret = -EBUSY;
	else
		ret = inst->vattr->store(vgpu, buf, count);
	mutex_unlock(&vgpu->lock);
	return ret;
}

int vgpu_vendor_attrs_add(struct vgpu_device *vgpu)
{
	const struct vgpu_attribute *const *va = vgpu->gpu->ops->attrs;
	unsigned int i, n = 0;
	int ret;

	if (!va)
		return 0;
	while (va[n])
		n++;
	if (!n)
		return 0;

	vgpu->vendor_inst = kcalloc(n, sizeof(*vgpu->vendor_inst), GFP_KERNEL);
	vgpu->vendor_attrs = kcalloc(n + 1, sizeof(*vgpu->vendor_attrs),
				     GFP_KERNEL);
	if (!vgpu->vendor_inst || !vgpu->vendor_attrs) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (i = 0; i < n; i++) {
		struct vgpu_attr_inst *inst = &vgpu->vendor_inst[i];

		sysfs_attr_init(&inst->dattr.attr);
		inst->vattr = va[i];
		inst->dattr.attr.name = va[i]->name;
		inst->dattr.attr.mode = (va[i]->show ? 0444 : 0) |
					 (va[i]->store ? 0200 : 0);
		if (va[i]->show)
			inst->dattr.show = vgpu_attr_show;
		if (va[i]->store)
			inst->dattr.store = vgpu_attr_store;
		vgpu->vendor_attrs[i] = &inst->dattr.attr;
	}
	vgpu->vendor_group.name = "vendor";
	vgpu->vendor_group.attrs = vgpu->vendor_attrs;

	ret = sysfs_create_group(&vgpu->mdev->dev.kobj, &vgpu->vendor_group);
	if (ret)
		goto err_free;
	return 0;

err_free:
	kfree(vgpu->vendor_attrs);
	kfree(vgpu->vendor_inst);
	vgpu->vendor_attrs = NULL;
	vgpu->vendor_inst = NULL;
	return ret;
}

void vgpu_vendor_attrs_remove(struct vgpu_device *vgpu)
{
	if (!vgpu->vendor_attrs)
		return;
	/* Drains running show/store calls before the vendor state goes. */
	sysfs_remove_group(&vgpu->mdev->dev.kobj, &vgpu->vendor_group);
	kfree(vgpu->vendor_attrs);
	kfree(vgpu->vendor_inst);
	vgpu->vendor_attrs = NULL;
	vgpu->vendor_inst = NULL;
}
