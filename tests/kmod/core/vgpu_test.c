// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vgpu_test: a small vendor driver for testing the vgpu core and vgpu_vfio
 * without a GPU. A platform device stands in for the physical GPU. Its vGPUs
 * use every part of the vendor API: 64-bit prefetchable BAR0 of RAM with two
 * mmap-able areas around one trapped page, a trapped register BAR2 (with the
 * MSI-X table and PBA), an I/O BAR4, a ROM, a vendor capability, an extra
 * mmap-able "display" region, INTx/MSI/MSI-X, DMA through the core, a plane
 * and vendor attributes. The register layout is in vgpu_test_regs.h.
 * With huge_base, a "huge" type whose 1 GiB BAR0 can be mapped by one PUD.
 */
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/ioport.h>
#include <linux/pci_ids.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/vfio.h>
#include <linux/wait.h>
#include <drm/drm_fourcc.h>
#include <drm/drm_plane.h>

#include "compat.h"	/* <linux/unaligned.h> or <asm/unaligned.h> */
#include "vgpu.h"
#include "vgpu_test_regs.h"

#define BAR0_SIZE	SZ_1M
#define DISP_SIZE	SZ_64K
#define MAX_PINS	16

static const struct vgpu_mmap_area bar0_areas[] = {
	{ .offset = 0, .size = VT_BAR0_TRAP },
	{ .offset = VT_BAR0_TRAP + PAGE_SIZE,
	  .size = BAR0_SIZE - VT_BAR0_TRAP - PAGE_SIZE },
};

static const u8 vt_cap_data[VT_CAP_LEN - 2] = { VT_CAP_LEN, 0x11, 0x22, 0x33,
						0x44, 0x55 };
static const struct vgpu_config_cap vt_caps[] = {
	{ .id = PCI_CAP_ID_VNDR, .len = VT_CAP_LEN, .data = vt_cap_data },
};

static const struct vgpu_extra_region vt_disp = {
	.region = { .size = DISP_SIZE,
		    .flags = VGPU_REGION_MMAP | VGPU_REGION_READONLY },
	.type = VFIO_REGION_TYPE_PCI_VENDOR_TYPE | VT_VENDOR,
	.subtype = 1,
};

static const struct vgpu_type vt_types[] = {
	{ .name = "small", .pretty_name = "vgpu_test small", .fb_size = BAR0_SIZE,
	  .heads = 1, .max_width = 1024, .max_height = 768,
	  .max_instances = VT_SMALL_MAX, .description = "test vGPU, PCIe, MSI-X" },
	{ .name = "big", .pretty_name = "vgpu_test big", .fb_size = BAR0_SIZE,
	  .heads = 2, .max_width = 1920, .max_height = 1080,
	  .max_instances = VT_BIG_MAX, .description = "test vGPU, PCI, MSI only" },
	/* describes an impossible device: creation must fail cleanly */
	{ .name = "broken", .pretty_name = "vgpu_test broken", .fb_size = BAR0_SIZE,
	  .heads = 1, .max_width = 640, .max_height = 480, .max_instances = 1,
	  .description = "invalid device description" },
	/* last: registered only with huge_base */
	{ .name = "huge", .pretty_name = "vgpu_test huge", .fb_size = SZ_1G,
	  .heads = 1, .max_width = 1024, .max_height = 768, .max_instances = 1,
	  .description = "test vGPU, 1 GiB BAR0 in reserved memory" },
};

/*
 * The huge type's BAR0: a 1 GiB-aligned range of physical memory the kernel
 * does not own (memmap=1G$ADDR), so that it is contiguous and aligned enough
 * for a PUD entry, which no page allocator gives. One vGPU at a time; not
 * scrubbed between tenants (a test vendor, and 1 GiB is slow to clear).
 */
static unsigned long huge_base;
module_param(huge_base, ulong, 0444);
MODULE_PARM_DESC(huge_base,
		 "physical address of a reserved, 1 GiB-aligned 1 GiB range for the huge type (0: no huge type)");
static void *huge_va;
static bool huge_used;		/* under room_lock */

/* Room the "GPU" has left, shared by both types (get_available). */
static unsigned int room = 1000;
module_param(room, uint, 0644);
MODULE_PARM_DESC(room, "vGPUs of any type the test GPU still has room for");
static DEFINE_MUTEX(room_lock);

/* Lets the client touch a mapping while a reset is in the vendor's hands. */
static unsigned int reset_delay_ms;
module_param(reset_delay_ms, uint, 0644);
MODULE_PARM_DESC(reset_delay_ms, "time each vGPU reset takes in the vendor");

/*
 * The vendor services must fail cleanly on a vGPU that is not open: during
 * create (no VFIO device yet) and destroy (closed). Counted here, checked by
 * the client; checks shows the check ran.
 */
static unsigned int api_errors, api_checks;
module_param(api_errors, uint, 0444);
MODULE_PARM_DESC(api_errors, "vendor services that misbehaved on a vGPU not open");
module_param(api_checks, uint, 0444);
MODULE_PARM_DESC(api_checks, "times the services were checked on a vGPU not open");

static void vt_check_closed_services(struct vgpu_device *vgpu)
{
	struct page *page;
	bool bad;
	u8 byte;

	bad = vgpu_raise_irq(vgpu, 0) != -ENODEV ||
	      vgpu_dma_rw(vgpu, 0x1000, &byte, 1, false) != -ENODEV ||
	      vgpu_dma_pin(vgpu, 0x1000, 1, IOMMU_READ, &page) != -ENODEV;
	/* no-ops while not open: must not crash */
	vgpu_dma_unpin(vgpu, 0x1000, 1);
	vgpu_zap_region(vgpu, VFIO_PCI_BAR0_REGION_INDEX);
	mutex_lock(&room_lock);
	api_checks++;
	api_errors += bad;
	mutex_unlock(&room_lock);
}

enum vt_pin_state { VT_PIN_FREE, VT_PIN_PINNING, VT_PIN_PINNED };

struct vt_pin {
	dma_addr_t iova;
	enum vt_pin_state state;
};

struct vt_vgpu {
	struct vgpu_device *vgpu;
	bool small;
	bool broken;
	bool huge;
	struct page *bar0;	/* NULL for the huge type */
	void *bar0_va;
	unsigned long bar0_pfn;
	u64 bar0_size;
	struct page *disp;
	u64 scratch;
	u64 irq_result;
	u64 dma_iova, dma_len, dma_result;
	u8 io[VT_IO_SIZE];
	u8 cap[VT_CAP_LEN - 2];
	u8 ext[VT_EXT_SIZE];		/* extended config space from 0x100 */
	u8 vga[VT_VGA_PORTS_LEN];	/* the 0x3c0-0x3df ports (big type) */
	char label[32];
	bool dmabuf;		/* vendor/display_dmabuf */
	unsigned int opens;
	atomic_t pfn_calls;	/* mmap_pfn runs without the vGPU mutex */
	/*
	 * dma_unmap runs concurrently with the other ops, under the IOMMU
	 * backend's locks that vgpu_dma_pin() takes too: pin_lock is never
	 * held across vgpu_dma_pin(); dma_unmap waits on pin_wq for a pin in
	 * flight instead.
	 */
	spinlock_t pin_lock;
	wait_queue_head_t pin_wq;
	struct vt_pin pins[MAX_PINS];
};

static void *bar0_va(struct vt_vgpu *vt)
{
	return vt->bar0_va;
}

static unsigned int vt_count_pins(struct vt_vgpu *vt)
{
	unsigned int i, n = 0;

	spin_lock(&vt->pin_lock);
	for (i = 0; i < MAX_PINS; i++)
		n += vt->pins[i].state == VT_PIN_PINNED;
	spin_unlock(&vt->pin_lock);
	return n;
}

static bool vt_in_range(const struct vt_pin *p, u64 iova, u64 len)
{
	return p->iova >= iova && p->iova - iova < len;
}

static bool vt_pinning(struct vt_vgpu *vt, u64 iova, u64 len)
{
	bool busy = false;
	unsigned int i;

	spin_lock(&vt->pin_lock);
	for (i = 0; i < MAX_PINS; i++)
		busy |= vt->pins[i].state == VT_PIN_PINNING &&
			vt_in_range(&vt->pins[i], iova, len);
	spin_unlock(&vt->pin_lock);
	return busy;
}

static void vt_unpin_range(struct vt_vgpu *vt, u64 iova, u64 len)
{
	dma_addr_t iovas[MAX_PINS];
	unsigned int i, n = 0;

	/* a pin in flight in the range must be undone before we return */
	wait_event(vt->pin_wq, !vt_pinning(vt, iova, len));
	spin_lock(&vt->pin_lock);
	for (i = 0; i < MAX_PINS; i++) {
		struct vt_pin *p = &vt->pins[i];

		if (p->state == VT_PIN_PINNED && vt_in_range(p, iova, len)) {
			iovas[n++] = p->iova;
			p->state = VT_PIN_FREE;
		}
	}
	spin_unlock(&vt->pin_lock);
	for (i = 0; i < n; i++)
		vgpu_dma_unpin(vt->vgpu, iovas[i], 1);
}

static s64 vt_pin(struct vt_vgpu *vt, dma_addr_t iova)
{
	struct page *page;
	unsigned int i;
	int ret;

	spin_lock(&vt->pin_lock);
	for (i = 0; i < MAX_PINS && vt->pins[i].state != VT_PIN_FREE; i++)
		;
	if (i == MAX_PINS) {
		spin_unlock(&vt->pin_lock);
		return -ENOSPC;
	}
	vt->pins[i].iova = iova;
	vt->pins[i].state = VT_PIN_PINNING;
	spin_unlock(&vt->pin_lock);

	ret = vgpu_dma_pin(vt->vgpu, iova, 1, IOMMU_READ | IOMMU_WRITE, &page);
	spin_lock(&vt->pin_lock);
	vt->pins[i].state = ret == 1 ? VT_PIN_PINNED : VT_PIN_FREE;
	spin_unlock(&vt->pin_lock);
	wake_up_all(&vt->pin_wq);
	return ret == 1 ? 0 : ret;
}

static s64 vt_dma(struct vt_vgpu *vt, u64 cmd)
{
	switch (cmd) {
	case VT_DMA_FROM_GUEST:
	case VT_DMA_TO_GUEST:
		if (!vt->dma_len || vt->dma_len > BAR0_SIZE)
			return -EINVAL;
		return vgpu_dma_rw(vt->vgpu, vt->dma_iova, bar0_va(vt),
				   vt->dma_len, cmd == VT_DMA_TO_GUEST);
	case VT_DMA_PIN:
		return vt_pin(vt, vt->dma_iova);
	case VT_DMA_UNPIN_ALL:
		vt_unpin_range(vt, 0, U64_MAX);
		return 0;
	}
	return -EINVAL;
}

static int vt_create(struct vgpu_device *vgpu, const struct vgpu_type *type,
		     struct vgpu_device_info *info)
{
	bool huge = type == &vt_types[3];
	struct vt_vgpu *vt;
	unsigned int i;

	mutex_lock(&room_lock);
	if (!room || (huge && huge_used)) {
		mutex_unlock(&room_lock);
		return -ENOSPC;
	}
	room--;
	huge_used |= huge;
	mutex_unlock(&room_lock);

	vt = kzalloc(sizeof(*vt), GFP_KERNEL);
	if (!vt)
		goto err_room;
	vt->vgpu = vgpu;
	vt->small = type == &vt_types[0];
	vt->broken = type == &vt_types[2];
	vt->huge = huge;
	spin_lock_init(&vt->pin_lock);
	init_waitqueue_head(&vt->pin_wq);
	if (huge) {
		vt->bar0_va = huge_va;
		vt->bar0_pfn = PHYS_PFN(huge_base);
		vt->bar0_size = SZ_1G;
	} else {
		vt->bar0 = alloc_pages(GFP_KERNEL | __GFP_ZERO,
				       get_order(BAR0_SIZE));
		if (!vt->bar0)
			goto err_free;
		vt->bar0_va = page_address(vt->bar0);
		vt->bar0_pfn = page_to_pfn(vt->bar0);
		vt->bar0_size = BAR0_SIZE;
	}
	vt->disp = alloc_pages(GFP_KERNEL | __GFP_ZERO, get_order(DISP_SIZE));
	if (!vt->disp)
		goto err_bar0;
	memcpy(vt->cap, vt_cap_data, sizeof(vt->cap));
	put_unaligned_le32(VT_EXT_HDR, &vt->ext[0]);
	put_unaligned_le32(VT_EXT_VSEC_HDR, &vt->ext[4]);
	for (i = 0; i < VT_IO_SIZE; i++)
		vt->io[i] = i;
	/* a recognisable picture in the read-only display region */
	for (i = 0; i < DISP_SIZE / 4; i++)
		((u32 *)page_address(vt->disp))[i] = VT_DISP_WORD(i);

	info->vendor = VT_VENDOR;
	info->device = vt->small ? VT_DEVICE_SMALL :
		       huge ? VT_DEVICE_HUGE : VT_DEVICE_BIG;
	info->subsystem_vendor = VT_VENDOR;
	info->subsystem_device = 0x0100;
	info->revision = VT_REVISION;
	info->class = PCI_CLASS_DISPLAY_OTHER << 8;
	info->bars[0] = (struct vgpu_region) {
		.size = vt->bar0_size,
		.flags = VGPU_REGION_MEM64 | VGPU_REGION_PREFETCH |
			 VGPU_REGION_MMAP,
		.areas = bar0_areas, .nr_areas = ARRAY_SIZE(bar0_areas),
	};
	if (huge) {
		/* all of it mmap-able: one area, as large as the BAR */
		info->bars[0].areas = NULL;
		info->bars[0].nr_areas = 0;
	}
	info->bars[2] = (struct vgpu_region) { .size = VT_BAR2_SIZE };
	info->bars[4] = (struct vgpu_region) {
		.size = VT_IO_SIZE, .flags = VGPU_REGION_IO,
	};
	info->rom = (struct vgpu_region) { .size = VT_ROM_SIZE };
	info->caps = vt_caps;
	info->nr_caps = ARRAY_SIZE(vt_caps);
	if (vt->small) {
		info->irqs = (struct vgpu_irqs) {
			.intx = true, .msi = VT_SMALL_MSI, .msix = VT_SMALL_MSIX,
			.msix_bar = 2, .msix_table_offset = VT_MSIX_TABLE,
			.msix_pba_offset = VT_MSIX_PBA,
		};
		info->pcie = true;
		info->ext_size = VT_EXT_SIZE;
		info->regions = &vt_disp;
		info->nr_regions = 1;
	} else {
		info->irqs = (struct vgpu_irqs) { .msi = 1 };
		info->vga = !huge;
	}
	if (vt->broken)
		info->bars[2].size = 0x1800;	/* not a power of two */
	vgpu_set_drvdata(vgpu, vt);
	vt_check_closed_services(vgpu);
	return 0;

err_bar0:
	if (vt->bar0)
		__free_pages(vt->bar0, get_order(BAR0_SIZE));
err_free:
	kfree(vt);
err_room:
	mutex_lock(&room_lock);
	room++;
	if (huge)
		huge_used = false;
	mutex_unlock(&room_lock);
	return -ENOMEM;
}

static void vt_destroy(struct vgpu_device *vgpu)
{
	struct vt_vgpu *vt = vgpu_get_drvdata(vgpu);

	vt_check_closed_services(vgpu);
	__free_pages(vt->disp, get_order(DISP_SIZE));
	if (vt->bar0)
		__free_pages(vt->bar0, get_order(BAR0_SIZE));
	mutex_lock(&room_lock);
	room++;
	if (vt->huge)
		huge_used = false;
	mutex_unlock(&room_lock);
	kfree(vt);
}

static unsigned int vt_get_available(struct vgpu_gpu *gpu,
				     const struct vgpu_type *type)
{
	if (type == &vt_types[3])
		return READ_ONCE(room) && !READ_ONCE(huge_used);
	return READ_ONCE(room);
}

static int vt_open(struct vgpu_device *vgpu)
{
	struct vt_vgpu *vt = vgpu_get_drvdata(vgpu);

	vt->opens++;
	vgpu_set_plane_dmabuf(vgpu, vt->dmabuf);
	return 0;
}

static void vt_close(struct vgpu_device *vgpu)
{
	struct vt_vgpu *vt = vgpu_get_drvdata(vgpu);

	vt_unpin_range(vt, 0, U64_MAX);
}

static int vt_reset(struct vgpu_device *vgpu)
{
	struct vt_vgpu *vt = vgpu_get_drvdata(vgpu);

	vt->scratch = 0;
	vt->irq_result = 0;
	vt->dma_iova = 0;
	vt->dma_len = 0;
	vt->dma_result = 0;
	if (READ_ONCE(reset_delay_ms))
		msleep(READ_ONCE(reset_delay_ms));
	return 0;
}

static u8 *vt_mem(struct vt_vgpu *vt, unsigned int index, u64 off)
{
	if (index == VFIO_PCI_BAR0_REGION_INDEX)
		return (u8 *)bar0_va(vt) + off;
	if (index == VFIO_PCI_NUM_REGIONS)
		return (u8 *)page_address(vt->disp) + off;
	return NULL;
}

static int vt_region_read(struct vgpu_device *vgpu, unsigned int index,
			  u64 off, unsigned int size, u64 *val)
{
	struct vt_vgpu *vt = vgpu_get_drvdata(vgpu);
	u8 *mem = vt_mem(vt, index, off);
	unsigned int i;
	u64 v = 0;

	if (mem) {
		for (i = 0; i < size; i++)
			v |= (u64)mem[i] << (8 * i);
		*val = v;
		return 0;
	}
	switch (index) {
	case VFIO_PCI_BAR2_REGION_INDEX:
		if (off >= VT_REG_EIO && off < VT_REG_EIO + VT_REG_EIO_LEN)
			return -EIO;
		switch (off & ~7ULL) {
		case VT_REG_ID:
			v = VT_ID_MAGIC;
			break;
		case VT_REG_SCRATCH:
			v = vt->scratch;
			break;
		case VT_REG_IRQ_RESULT:
			v = vt->irq_result;
			break;
		case VT_REG_DMA_IOVA:
			v = vt->dma_iova;
			break;
		case VT_REG_DMA_LEN:
			v = vt->dma_len;
			break;
		case VT_REG_DMA_RESULT:
			v = vt->dma_result;
			break;
		case VT_REG_PFN_CALLS:
			v = atomic_read(&vt->pfn_calls);
			break;
		case VT_REG_PINNED:
			v = vt_count_pins(vt);
			break;
		}
		v >>= 8 * (off & 7);
		break;
	case VFIO_PCI_BAR4_REGION_INDEX:
		for (i = 0; i < size; i++)
			v |= (u64)vt->io[off + i] << (8 * i);
		break;
	case VFIO_PCI_ROM_REGION_INDEX:
		for (i = 0; i < size; i++)
			v |= (u64)VT_ROM_BYTE(off + i) << (8 * i);
		break;
	case VFIO_PCI_VGA_REGION_INDEX:
		/* only the 0x3c0 ports decode; the rest floats high */
		for (i = 0; i < size; i++)
			v |= (u64)(off + i >= VT_VGA_PORTS &&
				   off + i < VT_VGA_PORTS + VT_VGA_PORTS_LEN ?
				   vt->vga[off + i - VT_VGA_PORTS] : 0xff) << (8 * i);
		break;
	default:
		return -EINVAL;
	}
	*val = size == 8 ? v : v & ((1ULL << (8 * size)) - 1);
	return 0;
}

static int vt_region_write(struct vgpu_device *vgpu, unsigned int index,
			   u64 off, unsigned int size, u64 val)
{
	struct vt_vgpu *vt = vgpu_get_drvdata(vgpu);
	u8 *mem = vt_mem(vt, index, off);
	unsigned int i;

	if (mem) {
		for (i = 0; i < size; i++)
			mem[i] = val >> (8 * i);
		return 0;
	}
	switch (index) {
	case VFIO_PCI_BAR2_REGION_INDEX:
		if (off >= VT_REG_EIO && off < VT_REG_EIO + VT_REG_EIO_LEN)
			return -EIO;
		/* Registers take whole 64-bit writes; smaller ones are ignored. */
		if (size != 8)
			return 0;
		switch (off) {
		case VT_REG_SCRATCH:
			vt->scratch = val;
			break;
		case VT_REG_IRQ:
			vt->irq_result = (u64)(s64)vgpu_raise_irq(vgpu, val);
			break;
		case VT_REG_IRQ_LOWER:
			vgpu_lower_irq(vgpu);
			break;
		case VT_REG_DMA_IOVA:
			vt->dma_iova = val;
			break;
		case VT_REG_DMA_LEN:
			vt->dma_len = val;
			break;
		case VT_REG_DMA_CMD:
			vt->dma_result = (u64)vt_dma(vt, val);
			break;
		}
		return 0;
	case VFIO_PCI_BAR4_REGION_INDEX:
		for (i = 0; i < size; i++)
			vt->io[off + i] = val >> (8 * i);
		return 0;
	case VFIO_PCI_VGA_REGION_INDEX:
		for (i = 0; i < size; i++)
			if (off + i >= VT_VGA_PORTS &&
			    off + i < VT_VGA_PORTS + VT_VGA_PORTS_LEN)
				vt->vga[off + i - VT_VGA_PORTS] = val >> (8 * i);
		return 0;
	}
	return -EINVAL;
}

static int vt_mmap_pfn(struct vgpu_device *vgpu, unsigned int index,
		       u64 off, unsigned long *pfn, u64 *len)
{
	struct vt_vgpu *vt = vgpu_get_drvdata(vgpu);

	atomic_inc(&vt->pfn_calls);
	if (index == VFIO_PCI_BAR0_REGION_INDEX && off < vt->bar0_size) {
		*pfn = vt->bar0_pfn + (off >> PAGE_SHIFT);
		*len = vt->bar0_size - off;
		return 0;
	}
	if (index == VFIO_PCI_NUM_REGIONS && off < DISP_SIZE) {
		*pfn = page_to_pfn(vt->disp) + (off >> PAGE_SHIFT);
		*len = DISP_SIZE - off;
		return 0;
	}
	return -EINVAL;
}

static int vt_config_read(struct vgpu_device *vgpu, unsigned int off,
			  unsigned int size, u32 *val)
{
	struct vt_vgpu *vt = vgpu_get_drvdata(vgpu);
	unsigned int i, rel = off - VT_CAP_POS(vt->small) - 2;
	const u8 *mem = vt->cap;
	u32 v = 0;

	if (off >= PCI_CFG_SPACE_SIZE) {
		rel = off - PCI_CFG_SPACE_SIZE;
		mem = vt->ext;
		if (rel + size > sizeof(vt->ext))
			return -EINVAL;
	} else if (rel + size > sizeof(vt->cap)) {
		return -EINVAL;
	}
	for (i = 0; i < size; i++)
		v |= (u32)mem[rel + i] << (8 * i);
	*val = v;
	return 0;
}

static int vt_config_write(struct vgpu_device *vgpu, unsigned int off,
			   unsigned int size, u32 val)
{
	struct vt_vgpu *vt = vgpu_get_drvdata(vgpu);
	unsigned int i, rel = off - VT_CAP_POS(vt->small) - 2;

	if (off >= PCI_CFG_SPACE_SIZE) {
		/* the two header dwords are read-only, the rest is scratch */
		if (off < VT_EXT_SCRATCH ||
		    off + size > PCI_CFG_SPACE_SIZE + VT_EXT_SIZE)
			return 0;
		for (i = 0; i < size; i++)
			vt->ext[off - PCI_CFG_SPACE_SIZE + i] = val >> (8 * i);
		return 0;
	}
	if (rel + size > sizeof(vt->cap))
		return -EINVAL;
	/* Byte 0 (the length) is read-only, the rest is scratch. */
	for (i = 0; i < size; i++)
		if (rel + i)
			vt->cap[rel + i] = val >> (8 * i);
	return 0;
}

static void vt_dma_unmap(struct vgpu_device *vgpu, u64 iova, u64 length)
{
	vt_unpin_range(vgpu_get_drvdata(vgpu), iova, length);
}

static int vt_query_plane(struct vgpu_device *vgpu,
			  struct vfio_device_gfx_plane_info *plane)
{
	struct vt_vgpu *vt = vgpu_get_drvdata(vgpu);

	/* No cursor; any other type is the primary plane (QEMU sends 0). */
	if (!vt->small || plane->drm_plane_type == DRM_PLANE_TYPE_CURSOR)
		return 0;
	plane->drm_format = DRM_FORMAT_XRGB8888;
	plane->width = VT_PLANE_W;
	plane->height = VT_PLANE_H;
	plane->stride = VT_PLANE_W * 4;
	plane->size = VT_PLANE_W * VT_PLANE_H * 4;
	plane->region_index = VFIO_PCI_NUM_REGIONS;
	return 0;
}

static ssize_t vt_label_show(struct vgpu_device *vgpu, char *buf)
{
	struct vt_vgpu *vt = vgpu_get_drvdata(vgpu);

	return sysfs_emit(buf, "%s\n", vt->label);
}

static ssize_t vt_label_store(struct vgpu_device *vgpu, const char *buf,
			      size_t count)
{
	struct vt_vgpu *vt = vgpu_get_drvdata(vgpu);

	if (count >= sizeof(vt->label))
		return -EINVAL;
	strscpy(vt->label, buf, sizeof(vt->label));
	strim(vt->label);
	return count;
}

static ssize_t vt_opens_show(struct vgpu_device *vgpu, char *buf)
{
	struct vt_vgpu *vt = vgpu_get_drvdata(vgpu);

	return sysfs_emit(buf, "%u\n", vt->opens);
}

static const struct vgpu_attribute vt_attr_label = {
	.name = "label", .show = vt_label_show, .store = vt_label_store,
};

static const struct vgpu_attribute vt_attr_opens = {
	.name = "opens", .show = vt_opens_show,
};

/* the plane as a dma-buf too: RAM with struct pages, unlike vgpu_sim's VRAM */
static ssize_t vt_dmabuf_show(struct vgpu_device *vgpu, char *buf)
{
	struct vt_vgpu *vt = vgpu_get_drvdata(vgpu);

	return sysfs_emit(buf, "%d\n", vt->dmabuf);
}

static ssize_t vt_dmabuf_store(struct vgpu_device *vgpu, const char *buf,
			       size_t count)
{
	struct vt_vgpu *vt = vgpu_get_drvdata(vgpu);
	int ret = kstrtobool(buf, &vt->dmabuf);

	return ret ? ret : count;
}

static const struct vgpu_attribute vt_attr_dmabuf = {
	.name = "display_dmabuf", .show = vt_dmabuf_show,
	.store = vt_dmabuf_store,
};

static const struct vgpu_attribute *const vt_attrs[] = {
	&vt_attr_label, &vt_attr_opens, &vt_attr_dmabuf, NULL,
};

static const struct vgpu_ops vt_ops = {
	.owner = THIS_MODULE,
	.create = vt_create,
	.destroy = vt_destroy,
	.get_available = vt_get_available,
	.open = vt_open,
	.close = vt_close,
	.reset = vt_reset,
	.region_read = vt_region_read,
	.region_write = vt_region_write,
	.mmap_pfn = vt_mmap_pfn,
	.config_read = vt_config_read,
	.config_write = vt_config_write,
	.dma_unmap = vt_dma_unmap,
	.query_plane = vt_query_plane,
	.attrs = vt_attrs,
};

/*
 * The core must refuse malformed registrations before anything is created;
 * a core that does not makes this probe (and the module load) fail.
 */
static int vt_check_registration_errors(struct device *dev)
{
	static const struct vgpu_type dup[] = { { .name = "a", .max_instances = 1 },
						{ .name = "a", .max_instances = 1 } };
	static const struct vgpu_type slash[] = { { .name = "a/b", .max_instances = 1 } };
	struct vgpu_ops no_create = vt_ops, no_pfn = vt_ops, no_read = vt_ops;
	struct vgpu_ops no_destroy = vt_ops, no_write = vt_ops;
	const struct {
		const struct vgpu_ops *ops;
		const struct vgpu_type *types;
		unsigned int n;
	} bad[] = {
		{ &no_create, vt_types, 1 }, { &no_pfn, vt_types, 1 },
		{ &no_read, vt_types, 1 }, { NULL, vt_types, 1 },
		{ &no_destroy, vt_types, 1 }, { &no_write, vt_types, 1 },
		{ &vt_ops, NULL, 1 }, { &vt_ops, vt_types, 0 },
		{ &vt_ops, dup, 2 }, { &vt_ops, slash, 1 },
	};
	unsigned int i;

	no_create.create = NULL;
	no_pfn.mmap_pfn = NULL;
	no_read.region_read = NULL;
	no_destroy.destroy = NULL;
	no_write.region_write = NULL;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct vgpu_gpu *g = vgpu_register_gpu(dev, bad[i].ops,
						       bad[i].types, bad[i].n,
						       NULL);

		if (PTR_ERR(g) != -EINVAL) {
			dev_err(dev, "bad registration %u not refused (%d)\n",
				i, PTR_ERR_OR_ZERO(g));
			if (!IS_ERR(g))
				vgpu_unregister_gpu(g);
			return -EINVAL;
		}
	}
	return 0;
}

static void vt_unregister(void *gpu)
{
	vgpu_unregister_gpu(gpu);
}

static int vt_probe(struct platform_device *pdev)
{
	struct vgpu_gpu *gpu, *again;
	int ret;

	ret = vt_check_registration_errors(&pdev->dev);
	if (ret)
		return ret;

	gpu = vgpu_register_gpu(&pdev->dev, &vt_ops, vt_types,
				ARRAY_SIZE(vt_types) - !huge_va, NULL);
	if (IS_ERR(gpu))
		return PTR_ERR(gpu);
	/* the same device twice: refused, the first registration intact */
	again = vgpu_register_gpu(&pdev->dev, &vt_ops, vt_types,
				  ARRAY_SIZE(vt_types) - !huge_va, NULL);
	if (PTR_ERR(again) != -EEXIST) {
		dev_err(&pdev->dev, "second registration not refused (%d)\n",
			PTR_ERR_OR_ZERO(again));
		if (!IS_ERR(again))
			vgpu_unregister_gpu(again);
		vgpu_unregister_gpu(gpu);
		return -EINVAL;
	}
	platform_set_drvdata(pdev, gpu);
	/* undone at unbind: platform_driver.remove's type changed in 6.11 */
	return devm_add_action_or_reset(&pdev->dev, vt_unregister, gpu);
}

static struct platform_driver vt_driver = {
	.driver = { .name = "vgpu_test" },
	.probe = vt_probe,
};

static struct platform_device *vt_pdev;

/* The huge type's range: aligned, no System RAM in it, no other owner. */
static int vt_huge_init(void)
{
	if (!huge_base)
		return 0;
	if (!IS_ALIGNED(huge_base, SZ_1G) ||
	    region_intersects(huge_base, SZ_1G, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT) {
		pr_err("vgpu_test: huge_base %#lx is not a 1 GiB-aligned range outside System RAM (memmap=1G$ADDR)\n",
		       huge_base);
		return -EINVAL;
	}
	if (!request_mem_region(huge_base, SZ_1G, "vgpu_test huge")) {
		pr_err("vgpu_test: huge_base %#lx: range busy\n", huge_base);
		return -EBUSY;
	}
	huge_va = memremap(huge_base, SZ_1G, MEMREMAP_WB);
	if (!huge_va) {
		release_mem_region(huge_base, SZ_1G);
		return -ENOMEM;
	}
	return 0;
}

static void vt_huge_exit(void)
{
	if (!huge_va)
		return;
	memunmap(huge_va);
	huge_va = NULL;
	release_mem_region(huge_base, SZ_1G);
}

static int __init vt_init(void)
{
	int ret;

	ret = vt_huge_init();
	if (ret)
		return ret;
	ret = platform_driver_register(&vt_driver);
	if (ret)
		goto err_huge;
	vt_pdev = platform_device_register_simple("vgpu_test", 0, NULL, 0);
	if (IS_ERR(vt_pdev)) {
		ret = PTR_ERR(vt_pdev);
		platform_driver_unregister(&vt_driver);
		goto err_huge;
	}
	return 0;

err_huge:
	vt_huge_exit();
	return ret;
}

static void __exit vt_exit(void)
{
	platform_device_unregister(vt_pdev);
	platform_driver_unregister(&vt_driver);
	vt_huge_exit();
}

module_init(vt_init);
module_exit(vt_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vgpu test vendor driver (no hardware)");
