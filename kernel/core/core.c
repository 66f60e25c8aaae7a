// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgpu core: physical GPUs and their vGPU types as mdev parents, and the
 * lifecycle of each vGPU (create -> backend probe ... backend remove ->
 * destroy).
 */
#include <linux/device.h>
#include <linux/err.h>
#include <linux/kmod.h>
#include <linux/list.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <uapi/linux/vfio.h>

#include "internal.h"
#include "core.h"

/* Registered GPUs; guards registration only, never a hot path. */
static LIST_HEAD(vgpu_gpus);
static DEFINE_MUTEX(vgpu_gpus_lock);

/* The VFIO side; set once vgpu_vfio is loaded. */
static const struct vgpu_backend *vgpu_backend;
static DEFINE_MUTEX(vgpu_backend_lock);

static struct mdev_driver vgpu_mdev_driver;

int vgpu_backend_register(const struct vgpu_backend *backend)
{
	int ret = 0;

	mutex_lock(&vgpu_backend_lock);
	if (vgpu_backend)
		ret = -EBUSY;
	else
		vgpu_backend = backend;
	mutex_unlock(&vgpu_backend_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(vgpu_backend_register);

void vgpu_backend_unregister(const struct vgpu_backend *backend)
{
	mutex_lock(&vgpu_backend_lock);
	if (vgpu_backend == backend)
		vgpu_backend = NULL;
	mutex_unlock(&vgpu_backend_lock);
}
EXPORT_SYMBOL_GPL(vgpu_backend_unregister);

static const struct vgpu_backend *vgpu_backend_try_get(void)
{
	const struct vgpu_backend *b;

	mutex_lock(&vgpu_backend_lock);
	b = vgpu_backend;
	if (b && !try_module_get(b->owner))
		b = NULL;
	mutex_unlock(&vgpu_backend_lock);
	return b;
}

/* Take a reference on the backend module, loading it if need be. */
static const struct vgpu_backend *vgpu_backend_get(void)
{
	const struct vgpu_backend *b = vgpu_backend_try_get();

	if (!b && !request_module("vgpu_vfio"))
		b = vgpu_backend_try_get();
	return b;
}

static struct vgpu_type_entry *to_entry(struct mdev_type *mtype)
{
	return container_of(mtype, struct vgpu_type_entry, mtype);
}

/* Reserve one instance; fails once max_instances are taken. */
static bool vgpu_type_reserve(struct vgpu_type_entry *t)
{
	int old = atomic_read(&t->avail);

	do {
		if (old <= 0)
			return false;
	} while (!atomic_try_cmpxchg(&t->avail, &old, old - 1));
	return true;
}

static void vgpu_type_release(struct vgpu_type_entry *t)
{
	atomic_inc(&t->avail);
}

static unsigned int vgpu_mdev_get_available(struct mdev_type *mtype)
{
	struct vgpu_type_entry *t = to_entry(mtype);
	const struct vgpu_ops *ops = t->gpu->ops;
	unsigned int n = max(atomic_read(&t->avail), 0);

	if (ops->get_available)
		n = min(n, ops->get_available(t->gpu, t->type));
	return n;
}

static ssize_t vgpu_mdev_show_description(struct mdev_type *mtype, char *buf)
{
	return vgpu_format_description(to_entry(mtype)->type, buf);
}

static int vgpu_mdev_probe(struct mdev_device *mdev)
{
	struct vgpu_type_entry *t = to_entry(mdev->type);
	struct vgpu_gpu *gpu = t->gpu;
	const struct vgpu_backend *backend;
	struct vgpu_device *vgpu;
	int ret;

	if (!vgpu_type_reserve(t))
		return -EUSERS;

	backend = vgpu_backend_get();
	if (!backend) {
		ret = -ENODEV;
		goto err_release;
	}
	/* Pairs with the module_put() in vgpu_mdev_remove(). */
	if (!try_module_get(gpu->ops->owner)) {
		ret = -ENODEV;
		goto err_backend;
	}

	vgpu = kzalloc(sizeof(*vgpu), GFP_KERNEL);
	if (!vgpu) {
		ret = -ENOMEM;
		goto err_owner;
	}
	vgpu->mdev = mdev;
	vgpu->gpu = gpu;
	vgpu->type = t;
	mutex_init(&vgpu->lock);
	dev_set_drvdata(&mdev->dev, vgpu);

	ret = gpu->ops->create(vgpu, t->type, &vgpu->info);
	if (ret)
		goto err_free;

	/*
	 * vendor/ before the VFIO device: a user may open that at once, and
	 * udev acts on its uevents (and on our "bind", sent after probe).
	 */
	ret = vgpu_vendor_attrs_add(vgpu);
	if (ret)
		goto err_destroy;

	ret = backend->probe(vgpu);
	if (ret)
		goto err_attrs;
	mutex_lock(&gpu->vgpus_lock);
	list_add_tail(&vgpu->gpu_node, &gpu->vgpus);
	mutex_unlock(&gpu->vgpus_lock);

	dev_dbg(&mdev->dev, "created vGPU of type %s\n", t->type->name);
	return 0;

err_attrs:
	vgpu_vendor_attrs_remove(vgpu);
err_destroy:
	gpu->ops->destroy(vgpu);
err_free:
	dev_set_drvdata(&mdev->dev, NULL);
	mutex_destroy(&vgpu->lock);
	kfree(vgpu);
err_owner:
	module_put(gpu->ops->owner);
err_backend:
	module_put(backend->owner);
err_release:
	vgpu_type_release(t);
	return ret;
}

static void vgpu_mdev_remove(struct mdev_device *mdev)
{
	struct vgpu_device *vgpu = dev_get_drvdata(&mdev->dev);
	struct vgpu_type_entry *t = vgpu->type;
	struct module *owner = vgpu->gpu->ops->owner;
	const struct vgpu_backend *backend;

	/* The backend cannot go away: we hold its module since probe. */
	backend = READ_ONCE(vgpu_backend);

	/* Returns once the last VFIO user closed (REQ is signalled first). */
	backend->remove(vgpu);
	/* Closed, nothing mapped: a GPU reset has nothing more to fence. */
	mutex_lock(&vgpu->gpu->vgpus_lock);
	list_del(&vgpu->gpu_node);
	mutex_unlock(&vgpu->gpu->vgpus_lock);
	vgpu_vendor_attrs_remove(vgpu);
	vgpu->gpu->ops->destroy(vgpu);
	backend->free(vgpu);
	dev_set_drvdata(&mdev->dev, NULL);
	mutex_destroy(&vgpu->lock);
	kfree(vgpu);

	module_put(owner);
	module_put(backend->owner);
	vgpu_type_release(t);
	dev_dbg(&mdev->dev, "removed vGPU\n");
}

static struct mdev_driver vgpu_mdev_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.driver = {
		.name = "vgpu",
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
	},
	.probe = vgpu_mdev_probe,
	.remove = vgpu_mdev_remove,
	.get_available = vgpu_mdev_get_available,
	.show_description = vgpu_mdev_show_description,
};

static int vgpu_check_ops(const struct vgpu_ops *ops)
{
	unsigned int n;

	/* The mandatory ops: checked here once, never again. */
	if (!ops || !ops->create || !ops->destroy || !ops->region_read ||
	    !ops->region_write || !ops->mmap_pfn)
		return -EINVAL;
	/* Migration: all of its ops or none. */
	n = !!ops->freeze + !!ops->thaw + !!ops->state_size +
	    !!ops->save_state + !!ops->load_state;
	if (n && n != 5)
		return -EINVAL;
	/* The core moves VRAM and checks blobs only as part of a migration. */
	if ((ops->vram_rw || ops->check_state) && !n)
		return -EINVAL;
	return 0;
}

struct vgpu_gpu *vgpu_register_gpu(struct device *dev,
				   const struct vgpu_ops *ops,
				   const struct vgpu_type *types,
				   unsigned int nr_types, void *drvdata)
{
	struct vgpu_gpu *gpu, *g;
	unsigned int i;
	int ret;

	if (!dev || vgpu_check_ops(ops))
		return ERR_PTR(-EINVAL);
	ret = vgpu_check_types(types, nr_types);
	if (ret)
		return ERR_PTR(ret);

	gpu = kzalloc(sizeof(*gpu), GFP_KERNEL);
	if (!gpu)
		return ERR_PTR(-ENOMEM);
	gpu->dev = dev;
	gpu->ops = ops;
	gpu->drvdata = drvdata;
	gpu->nr_types = nr_types;
	INIT_LIST_HEAD(&gpu->node);
	mutex_init(&gpu->vgpus_lock);
	INIT_LIST_HEAD(&gpu->vgpus);

	gpu->types = kcalloc(nr_types, sizeof(*gpu->types), GFP_KERNEL);
	gpu->mtypes = kcalloc(nr_types, sizeof(*gpu->mtypes), GFP_KERNEL);
	if (!gpu->types || !gpu->mtypes) {
		ret = -ENOMEM;
		goto err_free;
	}
	/* Types are complete before mdev announces MDEV_STATE=registered. */
	for (i = 0; i < nr_types; i++) {
		struct vgpu_type_entry *t = &gpu->types[i];

		t->type = &types[i];
		t->gpu = gpu;
		atomic_set(&t->avail, types[i].max_instances);
		t->mtype.sysfs_name = types[i].name;
		t->mtype.pretty_name = types[i].pretty_name ?: types[i].name;
		gpu->mtypes[i] = &t->mtype;
	}

	mutex_lock(&vgpu_gpus_lock);
	list_for_each_entry(g, &vgpu_gpus, node) {
		if (g->dev == dev) {
			ret = -EEXIST;
			goto err_unlock;
		}
	}
	ret = mdev_register_parent(&gpu->parent, dev, &vgpu_mdev_driver,
				   gpu->mtypes, nr_types);
	if (ret)
		goto err_unlock;
	list_add_tail(&gpu->node, &vgpu_gpus);
	mutex_unlock(&vgpu_gpus_lock);

	dev_dbg(dev, "registered GPU with %u vGPU types\n", nr_types);
	return gpu;

err_unlock:
	mutex_unlock(&vgpu_gpus_lock);
err_free:
	kfree(gpu->mtypes);
	kfree(gpu->types);
	kfree(gpu);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(vgpu_register_gpu);

void vgpu_unregister_gpu(struct vgpu_gpu *gpu)
{
	if (IS_ERR_OR_NULL(gpu))
		return;

	mutex_lock(&vgpu_gpus_lock);
	list_del(&gpu->node);
	mutex_unlock(&vgpu_gpus_lock);

	/* Removes every vGPU (waiting for their users) and the types. */
	mdev_unregister_parent(&gpu->parent);
	mutex_destroy(&gpu->vgpus_lock);
	kfree(gpu->mtypes);
	kfree(gpu->types);
	kfree(gpu);
}
EXPORT_SYMBOL_GPL(vgpu_unregister_gpu);

/*
 * vgpus_lock stays held from prepare to done: the vGPU list cannot change
 * and the backend holds each vGPU's memory_lock nested in it.
 */
void vgpu_gpu_reset_prepare(struct vgpu_gpu *gpu)
{
	const struct vgpu_backend *backend = READ_ONCE(vgpu_backend);
	struct vgpu_device *vgpu;

	might_sleep();
	mutex_lock(&gpu->vgpus_lock);
	/* A listed vGPU holds the backend module since its probe. */
	list_for_each_entry(vgpu, &gpu->vgpus, gpu_node)
		backend->gpu_reset_prepare(vgpu);
}
EXPORT_SYMBOL_GPL(vgpu_gpu_reset_prepare);

void vgpu_gpu_reset_done(struct vgpu_gpu *gpu)
{
	const struct vgpu_backend *backend = READ_ONCE(vgpu_backend);
	struct vgpu_device *vgpu;

	lockdep_assert_held(&gpu->vgpus_lock);
	list_for_each_entry(vgpu, &gpu->vgpus, gpu_node)
		backend->gpu_reset_done(vgpu);
	mutex_unlock(&gpu->vgpus_lock);
}
EXPORT_SYMBOL_GPL(vgpu_gpu_reset_done);

void vgpu_gpu_lost(struct vgpu_gpu *gpu)
{
	const struct vgpu_backend *backend = READ_ONCE(vgpu_backend);
	struct vgpu_device *vgpu;

	might_sleep();
	mutex_lock(&gpu->vgpus_lock);
	list_for_each_entry(vgpu, &gpu->vgpus, gpu_node)
		backend->gpu_lost(vgpu);
	mutex_unlock(&gpu->vgpus_lock);
}
EXPORT_SYMBOL_GPL(vgpu_gpu_lost);

void *vgpu_gpu_get_drvdata(struct vgpu_gpu *gpu)
{
	return gpu->drvdata;
}
EXPORT_SYMBOL_GPL(vgpu_gpu_get_drvdata);

struct vgpu_gpu *vgpu_get_gpu(struct vgpu_device *vgpu)
{
	return vgpu->gpu;
}
EXPORT_SYMBOL_GPL(vgpu_get_gpu);

const struct vgpu_type *vgpu_get_type(struct vgpu_device *vgpu)
{
	return vgpu->type->type;
}
EXPORT_SYMBOL_GPL(vgpu_get_type);

void vgpu_set_drvdata(struct vgpu_device *vgpu, void *data)
{
	vgpu->drvdata = data;
}
EXPORT_SYMBOL_GPL(vgpu_set_drvdata);

void *vgpu_get_drvdata(struct vgpu_device *vgpu)
{
	return vgpu->drvdata;
}
EXPORT_SYMBOL_GPL(vgpu_get_drvdata);

struct device *vgpu_dev(struct vgpu_device *vgpu)
{
	return &vgpu->mdev->dev;
}
EXPORT_SYMBOL_GPL(vgpu_dev);

const guid_t *vgpu_uuid(struct vgpu_device *vgpu)
{
	return &vgpu->mdev->uuid;
}
EXPORT_SYMBOL_GPL(vgpu_uuid);

static int __init vgpu_init(void)
{
	return mdev_register_driver(&vgpu_mdev_driver);
}

static void __exit vgpu_exit(void)
{
	mdev_unregister_driver(&vgpu_mdev_driver);
}

module_init(vgpu_init);
module_exit(vgpu_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vGPU core: virtual GPUs on the mediated device bus");
