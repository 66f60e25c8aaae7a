// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgpu_sim: a simulated GPU vendor driver on the vgpu core.
 *
 * The "physical GPU" is a QEMU Bochs display device (1234:1111, e.g.
 * -device bochs-display,vgamem=256M): its VRAM BAR is carved into slices,
 * one per vGPU. The driver never binds on its own; tell it which device:
 *
 *   modprobe vgpu_sim gpus=0000:00:05.0[,...]
 * or, with the module loaded,
 *   echo vgpu_sim > /sys/bus/pci/devices/0000:00:05.0/driver_override
 *   echo 0000:00:05.0 > /sys/bus/pci/drivers_probe
 *
 * Keep the guest's bochs DRM driver away from that device (blacklist
 * bochs, or unbind it first).
 */
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/sizes.h>
#include <linux/string.h>

#include "vgpu_sim.h"

static char *gpus;
module_param(gpus, charp, 0444);
MODULE_PARM_DESC(gpus, "comma-separated PCI addresses of the devices to drive (default: none)");

unsigned int vsim_ce_delay_us;
module_param_named(ce_delay_us, vsim_ce_delay_us, uint, 0644);
MODULE_PARM_DESC(ce_delay_us, "copy engine pause per page in microseconds, to model a slow engine (default 0)");

static unsigned int vsim_reset_ms = 10;
module_param_named(reset_ms, vsim_reset_ms, uint, 0644);
MODULE_PARM_DESC(reset_ms, "how long a sim_reset of the GPU keeps its VRAM unreachable (default 10)");

/* Types are data: VRAM slice size and the largest double-buffered mode. */
static const struct vsim_type_info vsim_type_table[VSIM_MAX_TYPES] = {
	{ 0, "16m", "vgpu_sim 16 MiB", SZ_16M, 1920, 1080 },
	{ 1, "32m", "vgpu_sim 32 MiB", SZ_32M, 2560, 1440 },
	{ 2, "64m", "vgpu_sim 64 MiB", SZ_64M, 2560, 1600 },
	{ 3, "128m", "vgpu_sim 128 MiB", SZ_128M, 3840, 2160 },
};

#define VSIM_GRANULE	SZ_16M

/*
 * @id is the override_only entry of vsim_pci_ids exactly when the device's
 * driver_override names this driver (the PCI core matches such entries only
 * then); reading the override itself differs between kernels, see compat.h.
 */
static bool vsim_requested(struct pci_dev *pdev,
			   const struct pci_device_id *id)
{
	const char *name = pci_name(pdev);
	size_t len = strlen(name);
	const char *p = gpus;

	if (id->override_only)
		return true;
	while (p && *p) {
		size_t n = strcspn(p, ",");

		if (n == len && !strncmp(p, name, len))
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

unsigned int vsim_slice_available(struct vsim_gpu *g, u64 size)
{
	unsigned int n;

	spin_lock(&g->alloc_lock);
	n = vsim_alloc_available(&g->alloc, size);
	spin_unlock(&g->alloc_lock);
	return n;
}

/*
 * VRAM never shows one tenant's data to the next, at the cost of one scrub
 * per tenant: vsim_slice_put() zeroes the slice before it is free again,
 * and vsim_slice_get() zeroes only granules never scrubbed since the GPU
 * was bound (see vgpu_sim_alloc.h). Both scrub outside the lock: the slice
 * is then owned by its vGPU alone. A vGPU never opened had no one to write
 * its slice (guest, copy engine, migration all need an open), which is
 * still as vsim_slice_get() left it: zeroed, and put back without a scrub.
 */
/*
 * Zeroes VRAM a chunk at a time: a slice can be gigabytes on a real GPU, and
 * one pass over it would hold the CPU for seconds on a kernel without full
 * preemption (under TCG a 16 MiB scrub already takes a quarter of a second).
 */
static void vsim_scrub(struct vsim_gpu *g, u64 offset, u64 size)
{
	u64 done, n;

	for (done = 0; done < size; done += n) {
		n = min_t(u64, size - done, SZ_1M);
		vsim_vram_zero(g->vram + offset + done, n);
		cond_resched();
	}
	atomic64_add(size, &g->scrubbed);
}

int vsim_slice_get(struct vsim_gpu *g, u64 size, u64 *offset)
{
	u64 dirty, granule = g->alloc.granule;
	unsigned int j;
	int ret;

	spin_lock(&g->alloc_lock);
	ret = vsim_alloc_get(&g->alloc, size, offset, &dirty);
	spin_unlock(&g->alloc_lock);
	if (ret)
		return ret;
	for (j = 0; dirty; j++, dirty >>= 1)
		if (dirty & 1)
			vsim_scrub(g, *offset + j * granule, granule);
	return 0;
}

void vsim_slice_put(struct vsim_gpu *g, u64 offset, u64 size, bool scrub)
{
	int ret;

	if (scrub)
		vsim_scrub(g, offset, size);
	spin_lock(&g->alloc_lock);
	ret = vsim_alloc_put(&g->alloc, offset, size);
	spin_unlock(&g->alloc_lock);
	WARN_ON(ret);
}

unsigned int vsim_get_available(struct vgpu_gpu *gpu,
				const struct vgpu_type *type)
{
	const struct vsim_type_info *ti = type->driver_data;

	return vsim_slice_available(vgpu_gpu_get_drvdata(gpu), ti->fb_size);
}

static void vsim_init_types(struct vsim_gpu *g)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vsim_type_table); i++) {
		const struct vsim_type_info *ti = &vsim_type_table[i];
		struct vgpu_type *t = &g->types[g->nr_types];
		unsigned int max = vsim_alloc_available(&g->alloc, ti->fb_size);

		if (!max)
			continue;	/* does not fit this GPU's VRAM */
		t->name = ti->name;
		t->pretty_name = ti->pretty_name;
		t->fb_size = ti->fb_size;
		t->heads = 1;
		t->max_width = ti->max_width;
		t->max_height = ti->max_height;
		t->max_instances = max;
		t->description = "Bochs DISPI display, copy engine, MSI-X/MSI/INTx";
		t->driver_data = ti;
		g->nr_types++;
	}
}

static int vsim_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct vsim_gpu *g;
	int ret;

	/*
	 * driver_override bypasses the ID table; anything but a QEMU Bochs
	 * display would get its BAR0 zeroed as VRAM: never touch it.
	 */
	if (pdev->vendor != VGPU_SIM_PCI_VENDOR ||
	    pdev->device != VGPU_SIM_PCI_DEVICE) {
		dev_err(dev, "not a QEMU Bochs display (%04x:%04x)\n",
			pdev->vendor, pdev->device);
		return -ENODEV;
	}
	if (!vsim_requested(pdev, id))
		return -ENODEV;	/* only devices we were told about */

	g = devm_kzalloc(dev, sizeof(*g), GFP_KERNEL);
	if (!g)
		return -ENOMEM;
	g->pdev = pdev;
	spin_lock_init(&g->alloc_lock);

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	if (!(pci_resource_flags(pdev, 0) & IORESOURCE_MEM)) {
		dev_err(dev, "BAR0 is not a memory BAR: not a Bochs display\n");
		return -ENODEV;
	}
	g->vram_start = pci_resource_start(pdev, 0);
	g->vram_size = pci_resource_len(pdev, 0);
	ret = vsim_alloc_init(&g->alloc, g->vram_size, VSIM_GRANULE);
	if (ret) {
		dev_err(dev, "VRAM of %pa bytes is too small for any vGPU\n",
			&g->vram_size);
		return ret;
	}
	if (!devm_request_mem_region(dev, g->vram_start, g->vram_size,
				     VSIM_NAME))
		return -EBUSY;
	g->vram = devm_ioremap_wc(dev, g->vram_start, g->vram_size);
	if (!g->vram)
		return -ENOMEM;

	vsim_init_types(g);
	pci_set_drvdata(pdev, g);
	g->gpu = vgpu_register_gpu(dev, &vsim_ops, g->types, g->nr_types, g);
	if (IS_ERR(g->gpu))
		return PTR_ERR(g->gpu);

	dev_info(dev, "%llu MiB of VRAM, %u vGPU types\n",
		 (unsigned long long)g->vram_size >> 20, g->nr_types);
	return 0;
}

static void vsim_end_recovery(struct vsim_gpu *g)
{
	if (g->in_recovery) {
		g->in_recovery = false;
		vgpu_gpu_reset_done(g->gpu);
	}
}

static void vsim_remove(struct pci_dev *pdev)
{
	struct vsim_gpu *g = pci_get_drvdata(pdev);

	/* A recovery that never resumed must not keep faults waiting. */
	vsim_end_recovery(g);
	/* Surprise removal: the BAR is gone, users must not reach it. */
	if (pci_dev_is_disconnected(pdev))
		vgpu_gpu_lost(g->gpu);
	/* destroys every vGPU (and waits for their users) first */
	vgpu_unregister_gpu(g->gpu);
	WARN_ON(vsim_alloc_used_bytes(&g->alloc));
}

/*
 * The GPU's own reset, for the lab: QEMU's bochs-display offers no reset
 * method the PCI core could use. Like a real reset it leaves VRAM
 * unreachable (memory decode off) for a while.
 */
static ssize_t sim_reset_store(struct device *dev,
			       struct device_attribute *attr, const char *buf,
			       size_t count)
{
	struct pci_dev *pdev = to_pci_dev(dev);
	struct vsim_gpu *g = pci_get_drvdata(pdev);
	bool yes;
	u16 cmd;
	int ret;

	ret = kstrtobool(buf, &yes);
	if (ret)
		return ret;
	if (!yes)
		return -EINVAL;
	vgpu_gpu_reset_prepare(g->gpu);
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	pci_write_config_word(pdev, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	msleep(READ_ONCE(vsim_reset_ms));
	pci_write_config_word(pdev, PCI_COMMAND, cmd);
	vgpu_gpu_reset_done(g->gpu);
	return count;
}
static DEVICE_ATTR_WO(sim_reset);

/* Bytes of VRAM zeroed for tenants since the bind: what scrubbing costs. */
static ssize_t vram_scrubbed_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct vsim_gpu *g = pci_get_drvdata(to_pci_dev(dev));

	return sysfs_emit(buf, "%lld\n", atomic64_read(&g->scrubbed));
}
static DEVICE_ATTR_RO(vram_scrubbed);

static struct attribute *vsim_dev_attrs[] = {
	&dev_attr_sim_reset.attr,
	&dev_attr_vram_scrubbed.attr,
	NULL
};
ATTRIBUTE_GROUPS(vsim_dev);

/* A reset by the PCI core (sysfs reset, FLR, bus reset) or error recovery. */
static void vsim_reset_prepare(struct pci_dev *pdev)
{
	struct vsim_gpu *g = pci_get_drvdata(pdev);

	vgpu_gpu_reset_prepare(g->gpu);
}

static void vsim_reset_done(struct pci_dev *pdev)
{
	struct vsim_gpu *g = pci_get_drvdata(pdev);

	vgpu_gpu_reset_done(g->gpu);
}

/*
 * Error recovery: the vGPUs' mappings go at once; a recoverable error is a
 * reset (prepare here, done at resume), a permanent one loses the GPU.
 */
static pci_ers_result_t vsim_error_detected(struct pci_dev *pdev,
					    pci_channel_state_t state)
{
	struct vsim_gpu *g = pci_get_drvdata(pdev);

	if (state == pci_channel_io_perm_failure) {
		vgpu_gpu_lost(g->gpu);
		return PCI_ERS_RESULT_DISCONNECT;
	}
	if (!g->in_recovery) {
		g->in_recovery = true;
		vgpu_gpu_reset_prepare(g->gpu);
	}
	return PCI_ERS_RESULT_NEED_RESET;
}

static pci_ers_result_t vsim_slot_reset(struct pci_dev *pdev)
{
	return PCI_ERS_RESULT_RECOVERED;
}

static void vsim_resume(struct pci_dev *pdev)
{
	vsim_end_recovery(pci_get_drvdata(pdev));
}

static const struct pci_error_handlers vsim_err_handlers = {
	.error_detected = vsim_error_detected,
	.slot_reset = vsim_slot_reset,
	.resume = vsim_resume,
	.reset_prepare = vsim_reset_prepare,
	.reset_done = vsim_reset_done,
};

/*
 * Matches only bind when asked: see vsim_requested(). The override_only
 * entry comes first so that an overridden device matches it.
 */
static const struct pci_device_id vsim_pci_ids[] = {
	{ PCI_DEVICE_DRIVER_OVERRIDE(VGPU_SIM_PCI_VENDOR, VGPU_SIM_PCI_DEVICE,
				     1) },
	{ PCI_DEVICE(VGPU_SIM_PCI_VENDOR, VGPU_SIM_PCI_DEVICE) },
	{ }
};

static struct pci_driver vsim_pci_driver = {
	.name = VSIM_NAME,
	.id_table = vsim_pci_ids,
	.probe = vsim_probe,
	.remove = vsim_remove,
	.dev_groups = vsim_dev_groups,
	.err_handler = &vsim_err_handlers,
};

static int __init vsim_init(void)
{
	return pci_register_driver(&vsim_pci_driver);
}

static void __exit vsim_exit(void)
{
	pci_unregister_driver(&vsim_pci_driver);
}

module_init(vsim_init);
module_exit(vsim_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Simulated GPU vendor driver for the vgpu core");
/* no MODULE_DEVICE_TABLE: never autoload for someone's real display */
