// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgpu_sim: one vGPU as its guest sees it. BAR0 is the VRAM slice (mapped
 * by the core through vsim_mmap_pfn) with a trapped mailbox page at its end;
 * BAR2 holds the Bochs DISPI registers where bochs-drm looks for them, the
 * copy engine and the MSI-X table (the latter emulated by the core).
 *
 * Registers are modelled as 32-bit words: every access the core hands us
 * (1, 2, 4 or 8 bytes, naturally aligned) becomes word reads or masked word
 * writes, so sub-word and split accesses behave like on hardware.
 */
#include <linux/io.h>
#include <linux/slab.h>
#include <drm/drm_fourcc.h>
#include <drm/drm_plane.h>

#include "vgpu_sim.h"

static struct vsim_vgpu *to_vsim(struct vgpu_device *vgpu)
{
	return vgpu_get_drvdata(vgpu);
}

static u32 vsim_guest_vram(const struct vsim_vgpu *v)
{
	return VGPU_SIM_GUEST_VRAM(v->bar0_size);
}

static void vsim_update_scanout(struct vsim_vgpu *v);

/* Power-on state of everything the guest can program. */
static void vsim_reset_regs(struct vsim_vgpu *v)
{
	memset(v->dispi, 0, sizeof(v->dispi));
	vsim_update_scanout(v);
	memset(v->vga, 0, sizeof(v->vga));
	v->byteorder = VGPU_SIM_QEXT_LITTLE_ENDIAN;
	memset(v->mbox, 0, sizeof(v->mbox));
	v->mbox_writes = 0;
	v->ce_iova = 0;
	v->ce_vram_offset = 0;
	v->ce_length = 0;
	v->ce_ctrl = 0;
	spin_lock_irq(&v->ce_lock);
	v->ce_status = 0;
	v->ce_error = VGPU_SIM_CE_ERR_NONE;
	v->ce_done_count = 0;
	v->ce_error_count = 0;
	v->irq_status = 0;
	spin_unlock_irq(&v->ce_lock);
}

/* ---- display ---------------------------------------------------------- */

static unsigned int vsim_bytes_pp(u16 bpp)
{
	switch (bpp) {
	case 16:
		return 2;
	case 32:
		return 4;
	default:
		return 0;	/* valid DISPI depth we cannot scan out */
	}
}

static u16 vsim_dispi_read(struct vsim_vgpu *v, unsigned int i)
{
	bool caps = v->dispi[VGPU_SIM_DISPI_ENABLE] & VGPU_SIM_DISPI_GETCAPS;

	switch (i) {
	case VGPU_SIM_DISPI_ID:
		return VGPU_SIM_DISPI_ID5;
	case VGPU_SIM_DISPI_XRES:
		return caps ? v->max_width : v->dispi[i];
	case VGPU_SIM_DISPI_YRES:
		return caps ? v->max_height : v->dispi[i];
	case VGPU_SIM_DISPI_BPP:
		return caps ? 32 : v->dispi[i];
	case VGPU_SIM_DISPI_VIDEO_MEMORY_64K:
		return vsim_guest_vram(v) >> 16;
	default:
		return i < VGPU_SIM_DISPI_NREGS ? v->dispi[i] : 0;
	}
}

static void vsim_dispi_write(struct vsim_vgpu *v, unsigned int i, u16 val)
{
	switch (i) {
	case VGPU_SIM_DISPI_ID:
	case VGPU_SIM_DISPI_VIDEO_MEMORY_64K:
		return;		/* read-only */
	case VGPU_SIM_DISPI_XRES:
		if (val <= v->max_width)
			v->dispi[i] = val;
		return;
	case VGPU_SIM_DISPI_YRES:
		if (val <= v->max_height)
			v->dispi[i] = val;
		return;
	case VGPU_SIM_DISPI_BPP:
		if (!val)
			val = 8;
		if (val == 4 || val == 8 || val == 15 || val == 16 ||
		    val == 24 || val == 32)
			v->dispi[i] = val;
		return;
	/*
	 * ENABLE never clears VRAM: like QEMU's bochs-display (and unlike
	 * its stdvga), since bochs-drm fills the buffer before enabling.
	 */
	default:
		if (i < VGPU_SIM_DISPI_NREGS)
			v->dispi[i] = val;
	}
}

/* Where the guest's picture starts in VRAM, and its line pitch. */
static u64 vsim_scanout(const struct vsim_vgpu *v, u32 *stride)
{
	const u16 *d = v->dispi;
	unsigned int bpp = vsim_bytes_pp(d[VGPU_SIM_DISPI_BPP]);

	*stride = max_t(u32, d[VGPU_SIM_DISPI_VIRT_WIDTH],
			d[VGPU_SIM_DISPI_XRES]) * bpp;
	return (u64)d[VGPU_SIM_DISPI_Y_OFFSET] * *stride +
	       (u64)d[VGPU_SIM_DISPI_X_OFFSET] * bpp;
}

/*
 * Point the display region at the (page-aligned) scanout start; user
 * mappings of the old start are zapped and fault in again.
 */
static void vsim_update_scanout(struct vsim_vgpu *v)
{
	u32 stride;
	u64 start = vsim_scanout(v, &stride) & PAGE_MASK;

	if (start >= v->vram_area.size)
		start = 0;
	if (start == v->scanout_start)
		return;
	WRITE_ONCE(v->scanout_start, start);
	vgpu_zap_region(v->vgpu, VSIM_DISPLAY_INDEX);
}

static int vsim_query_plane(struct vgpu_device *vgpu,
			    struct vfio_device_gfx_plane_info *plane)
{
	struct vsim_vgpu *v = to_vsim(vgpu);
	const u16 *d = v->dispi;
	unsigned int bpp = vsim_bytes_pp(d[VGPU_SIM_DISPI_BPP]);
	u32 width = d[VGPU_SIM_DISPI_XRES], height = d[VGPU_SIM_DISPI_YRES];
	u32 stride;
	u64 start = vsim_scanout(v, &stride);
	u32 format;

	plane->drm_format = 0;
	plane->drm_format_mod = DRM_FORMAT_MOD_LINEAR;
	plane->width = 0;
	plane->height = 0;
	plane->stride = 0;
	plane->size = 0;
	plane->x_pos = 0;
	plane->y_pos = 0;
	plane->x_hot = 0xffffffff;
	plane->y_hot = 0xffffffff;
	plane->region_index = VSIM_DISPLAY_INDEX;

	/*
	 * No cursor plane: reported as off. Anything else is the primary
	 * plane: QEMU's region display path leaves the type 0.
	 */
	if (plane->drm_plane_type == DRM_PLANE_TYPE_CURSOR)
		return 0;
	if (!(d[VGPU_SIM_DISPI_ENABLE] & VGPU_SIM_DISPI_ENABLED) || !bpp ||
	    !width || !height)
		return 0;
	/*
	 * The display region starts at a page: so must the picture. All of
	 * it lies in the guest's VRAM, which the region maps, so a VMM
	 * reading the plane never faults past the region's mapped end.
	 */
	if (start != v->scanout_start || start > vsim_guest_vram(v) ||
	    (u64)stride * height > vsim_guest_vram(v) - start)
		return 0;
	if (bpp == 2)
		format = DRM_FORMAT_RGB565;
	else if (v->byteorder == VGPU_SIM_QEXT_BIG_ENDIAN)
		format = DRM_FORMAT_BGRX8888;
	else
		format = DRM_FORMAT_XRGB8888;

	plane->drm_format = format;
	plane->width = width;
	plane->height = height;
	plane->stride = stride;
	plane->size = PAGE_ALIGN(stride * height);
	return 0;
}

/* ---- BAR2: DISPI, VGA ports, qext, sim block -------------------------- */

static u32 vsim_sim_read(struct vsim_vgpu *v, u32 off)
{
	u32 val;

	switch (off) {
	case VGPU_SIM_REG_ID:
		return VGPU_SIM_ID_VALUE;
	case VGPU_SIM_REG_VERSION:
		return VGPU_SIM_VERSION_VALUE;
	case VGPU_SIM_REG_VRAM_SIZE:
		return v->bar0_size;
	case VGPU_SIM_REG_MAX_RES:
		return v->max_width | v->max_height << 16;
	case VGPU_SIM_REG_HEADS:
		return 1;
	case VGPU_SIM_CE_IOVA_LO:
		return lower_32_bits(v->ce_iova);
	case VGPU_SIM_CE_IOVA_HI:
		return upper_32_bits(v->ce_iova);
	case VGPU_SIM_CE_VRAM_OFFSET:
		return v->ce_vram_offset;
	case VGPU_SIM_CE_LENGTH:
		return v->ce_length;
	case VGPU_SIM_CE_CTRL:
		return v->ce_ctrl;
	}

	spin_lock_irq(&v->ce_lock);
	switch (off) {
	case VGPU_SIM_CE_STATUS:
		val = v->ce_status;
		break;
	case VGPU_SIM_CE_ERROR:
		val = v->ce_error;
		break;
	case VGPU_SIM_CE_DONE_COUNT:
		val = v->ce_done_count;
		break;
	case VGPU_SIM_CE_ERROR_COUNT:
		val = v->ce_error_count;
		break;
	case VGPU_SIM_REG_IRQ_STATUS:
		val = v->irq_status;
		break;
	default:
		val = 0;	/* unassigned: reads as zero */
	}
	spin_unlock_irq(&v->ce_lock);
	return val;
}

static u32 merge(u32 old, u32 val, u32 mask)
{
	return (old & ~mask) | (val & mask);
}

static void vsim_sim_write(struct vsim_vgpu *v, u32 off, u32 val, u32 mask)
{
	switch (off) {
	case VGPU_SIM_CE_IOVA_LO:
		v->ce_iova = (v->ce_iova & ~0xffffffffULL) |
			     merge(lower_32_bits(v->ce_iova), val, mask);
		break;
	case VGPU_SIM_CE_IOVA_HI:
		v->ce_iova = lower_32_bits(v->ce_iova) |
			     (u64)merge(upper_32_bits(v->ce_iova), val, mask) << 32;
		break;
	case VGPU_SIM_CE_VRAM_OFFSET:
		v->ce_vram_offset = merge(v->ce_vram_offset, val, mask);
		break;
	case VGPU_SIM_CE_LENGTH:
		v->ce_length = merge(v->ce_length, val, mask);
		break;
	case VGPU_SIM_CE_CTRL:
		v->ce_ctrl = merge(v->ce_ctrl, val, mask) &
			     VGPU_SIM_CE_CTRL_TO_GUEST;
		break;
	case VGPU_SIM_CE_DOORBELL:
		vsim_ce_doorbell(v);
		break;
	case VGPU_SIM_REG_IRQ_STATUS:
		/*
		 * The line drops with the last cause. Under ce_lock, so a cause
		 * raised meanwhile (vsim_raise) is never dropped with it.
		 */
		spin_lock_irq(&v->ce_lock);
		v->irq_status &= ~(val & mask);
		if (!v->irq_status)
			vgpu_lower_irq(v->vgpu);
		spin_unlock_irq(&v->ce_lock);
		break;
	default:
		break;		/* read-only or unassigned */
	}
}

static u32 vsim_mmio_read32(struct vsim_vgpu *v, u32 off)
{
	if (off >= VGPU_SIM_VGA_OFFSET &&
	    off < VGPU_SIM_VGA_OFFSET + VGPU_SIM_VGA_SIZE) {
		const u8 *b = &v->vga[off - VGPU_SIM_VGA_OFFSET];

		return b[0] | b[1] << 8 | b[2] << 16 | (u32)b[3] << 24;
	}
	if (off >= VGPU_SIM_DISPI_OFFSET &&
	    off < VGPU_SIM_DISPI_REG(VGPU_SIM_DISPI_NREGS)) {
		unsigned int i = (off - VGPU_SIM_DISPI_OFFSET) >> 1;

		return vsim_dispi_read(v, i) |
		       (u32)vsim_dispi_read(v, i + 1) << 16;
	}
	if (off == VGPU_SIM_QEXT_SIZE_REG)
		return VGPU_SIM_QEXT_BLOCK_SIZE;
	if (off == VGPU_SIM_QEXT_BYTEORDER)
		return v->byteorder;
	if (off >= VGPU_SIM_REG_ID && off < VGPU_SIM_MSIX_TABLE_OFFSET)
		return vsim_sim_read(v, off);
	if (off < VSIM_EDID_SIZE)
		return le32_to_cpup((__le32 *)&v->edid[off]);
	return 0;	/* the rest of the EDID slot, unassigned space */
}

static void vsim_mmio_write32(struct vsim_vgpu *v, u32 off, u32 val, u32 mask)
{
	if (off >= VGPU_SIM_VGA_OFFSET &&
	    off < VGPU_SIM_VGA_OFFSET + VGPU_SIM_VGA_SIZE) {
		u8 *b = &v->vga[off - VGPU_SIM_VGA_OFFSET];
		unsigned int k;

		for (k = 0; k < 4; k++)
			if (mask & (0xffu << (8 * k)))
				b[k] = val >> (8 * k);
		return;
	}
	if (off >= VGPU_SIM_DISPI_OFFSET &&
	    off < VGPU_SIM_DISPI_REG(VGPU_SIM_DISPI_NREGS)) {
		unsigned int i = (off - VGPU_SIM_DISPI_OFFSET) >> 1;

		/* each 16-bit register is written only if touched */
		if (mask & 0xffff)
			vsim_dispi_write(v, i, merge(vsim_dispi_read(v, i),
						     val, mask));
		if (mask >> 16)
			vsim_dispi_write(v, i + 1,
					 merge(vsim_dispi_read(v, i + 1),
					       val >> 16, mask >> 16));
		vsim_update_scanout(v);
		return;
	}
	if (off == VGPU_SIM_QEXT_BYTEORDER) {
		val = merge(v->byteorder, val, mask);
		if (val == VGPU_SIM_QEXT_LITTLE_ENDIAN ||
		    val == VGPU_SIM_QEXT_BIG_ENDIAN)
			v->byteorder = val;
		return;
	}
	if (off >= VGPU_SIM_REG_ID && off < VGPU_SIM_MSIX_TABLE_OFFSET)
		vsim_sim_write(v, off, val, mask);
}

/* ---- BAR0: VRAM and the mailbox page ---------------------------------- */

static u32 vsim_mbox_read32(struct vsim_vgpu *v, u32 off)
{
	switch (off) {
	case VGPU_SIM_MBOX_MAGIC:
		return VGPU_SIM_MBOX_MAGIC_VALUE;
	case VGPU_SIM_MBOX_VRAM_MB:
		return v->bar0_size >> 20;
	case VGPU_SIM_MBOX_WRITES:
		return v->mbox_writes;
	}
	if (off >= VGPU_SIM_MBOX_SCRATCH)
		return le32_to_cpup((__le32 *)&v->mbox[off]);
	return 0;
}

static void vsim_mbox_write32(struct vsim_vgpu *v, u32 off, u32 val, u32 mask)
{
	u32 old;

	if (off < VGPU_SIM_MBOX_SCRATCH)
		return;		/* read-only */
	old = le32_to_cpup((__le32 *)&v->mbox[off]);
	*(__le32 *)&v->mbox[off] = cpu_to_le32(merge(old, val, mask));
}

/* ---- region ops: split accesses into words ---------------------------- */

typedef u32 (*vsim_rd32_t)(struct vsim_vgpu *v, u32 off);
typedef void (*vsim_wr32_t)(struct vsim_vgpu *v, u32 off, u32 val, u32 mask);

static u64 vsim_words_read(struct vsim_vgpu *v, vsim_rd32_t rd, u32 off,
			   unsigned int size)
{
	u32 shift = (off & 3) * 8;

	if (size == 8)
		return rd(v, off) | (u64)rd(v, off + 4) << 32;
	return (rd(v, off & ~3) >> shift) & GENMASK(size * 8 - 1, 0);
}

static void vsim_words_write(struct vsim_vgpu *v, vsim_wr32_t wr, u32 off,
			     unsigned int size, u64 val)
{
	u32 shift = (off & 3) * 8;

	if (size == 8) {
		wr(v, off, lower_32_bits(val), ~0u);
		wr(v, off + 4, upper_32_bits(val), ~0u);
		return;
	}
	wr(v, off & ~3, (u32)val << shift, GENMASK(size * 8 - 1, 0) << shift);
}

static int vsim_vram_read(struct vsim_vgpu *v, u64 offset, unsigned int size,
			  u64 *val)
{
	switch (size) {
	case 1:
		*val = readb(v->vram + offset);
		break;
	case 2:
		*val = readw(v->vram + offset);
		break;
	case 4:
		*val = readl(v->vram + offset);
		break;
	default:
		*val = readq(v->vram + offset);
	}
	return 0;
}

static bool vsim_valid_size(unsigned int size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static int vsim_region_read(struct vgpu_device *vgpu, unsigned int index,
			    u64 offset, unsigned int size, u64 *val)
{
	struct vsim_vgpu *v = to_vsim(vgpu);
	u64 mbox = VGPU_SIM_MAILBOX_OFFSET(v->bar0_size);

	if (!vsim_valid_size(size))
		return -EINVAL;
	switch (index) {
	case VFIO_PCI_BAR0_REGION_INDEX + VGPU_SIM_VRAM_BAR:
		if (offset + size > v->bar0_size)
			return -EINVAL;
		if (offset >= mbox) {
			*val = vsim_words_read(v, vsim_mbox_read32,
					       offset - mbox, size);
			return 0;
		}
		return vsim_vram_read(v, offset, size, val);
	case VFIO_PCI_BAR0_REGION_INDEX + VGPU_SIM_MMIO_BAR:
		if (offset + size > VGPU_SIM_MMIO_SIZE)
			return -EINVAL;
		*val = vsim_words_read(v, vsim_mmio_read32, offset, size);
		return 0;
	case VSIM_DISPLAY_INDEX:
		offset += v->scanout_start;
		/* past the end of VRAM the region reads as zeroes */
		if (offset + size > v->vram_area.size) {
			*val = 0;
			return 0;
		}
		return vsim_vram_read(v, offset, size, val);
	default:
		return -EINVAL;
	}
}

static int vsim_region_write(struct vgpu_device *vgpu, unsigned int index,
			     u64 offset, unsigned int size, u64 val)
{
	struct vsim_vgpu *v = to_vsim(vgpu);
	u64 mbox = VGPU_SIM_MAILBOX_OFFSET(v->bar0_size);

	if (!vsim_valid_size(size))
		return -EINVAL;
	switch (index) {
	case VFIO_PCI_BAR0_REGION_INDEX + VGPU_SIM_VRAM_BAR:
		if (offset + size > v->bar0_size)
			return -EINVAL;
		if (offset >= mbox) {
			v->mbox_writes++;
			vsim_words_write(v, vsim_mbox_write32, offset - mbox,
					 size, val);
			return 0;
		}
		switch (size) {
		case 1:
			writeb(val, v->vram + offset);
			break;
		case 2:
			writew(val, v->vram + offset);
			break;
		case 4:
			writel(val, v->vram + offset);
			break;
		default:
			writeq(val, v->vram + offset);
		}
		return 0;
	case VFIO_PCI_BAR0_REGION_INDEX + VGPU_SIM_MMIO_BAR:
		if (offset + size > VGPU_SIM_MMIO_SIZE)
			return -EINVAL;
		vsim_words_write(v, vsim_mmio_write32, offset, size, val);
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * Fault-on-access: the VRAM part of BAR0 maps onto the slice's pages, the
 * display region onto them from the scanout start. Runs without the vGPU
 * mutex: the scanout start is read once; a change zaps and faults again.
 */
static int vsim_mmap_pfn(struct vgpu_device *vgpu, unsigned int index,
			 u64 offset, unsigned long *pfn, u64 *len)
{
	struct vsim_vgpu *v = to_vsim(vgpu);

	if (!PAGE_ALIGNED(offset))
		return -EINVAL;
	if (index == VSIM_DISPLAY_INDEX)
		offset += READ_ONCE(v->scanout_start);
	else if (index != VFIO_PCI_BAR0_REGION_INDEX + VGPU_SIM_VRAM_BAR)
		return -EINVAL;
	if (offset >= v->vram_area.size)
		return -EINVAL;
	*pfn = PHYS_PFN(v->gpu->vram_start + v->slice_offset + offset);
	*len = v->vram_area.size - offset;
	return 0;
}

/* ---- lifecycle -------------------------------------------------------- */

static int vsim_create(struct vgpu_device *vgpu, const struct vgpu_type *type,
		       struct vgpu_device_info *info)
{
	struct vsim_gpu *g = vgpu_gpu_get_drvdata(vgpu_get_gpu(vgpu));
	const struct vsim_type_info *ti = type->driver_data;
	struct vsim_vgpu *v;
	int ret;

	v = kzalloc(sizeof(*v), GFP_KERNEL);
	if (!v)
		return -ENOMEM;
	/* a zeroed slice: nothing of a previous tenant shows */
	ret = vsim_slice_get(g, ti->fb_size, &v->slice_offset);
	if (ret)
		goto err_free;

	v->vgpu = vgpu;
	v->gpu = g;
	v->info = ti;
	v->bar0_size = ti->fb_size;
	v->max_width = ti->max_width;
	v->max_height = ti->max_height;
	vsim_edid_build(v->edid, v->max_width, v->max_height);
	v->vram = g->vram + v->slice_offset;
	v->vram_area.offset = 0;
	v->vram_area.size = VGPU_SIM_MAILBOX_OFFSET(v->bar0_size);
	vsim_ce_init(v);
	vsim_reset_regs(v);

	info->vendor = VGPU_SIM_PCI_VENDOR;
	info->device = VGPU_SIM_PCI_DEVICE;
	info->subsystem_vendor = VGPU_SIM_SUBSYS_VENDOR;
	info->subsystem_device = VGPU_SIM_SUBSYS_DEVICE(ti->index);
	info->revision = VGPU_SIM_PCI_REVISION;
	info->class = VGPU_SIM_PCI_CLASS;
	info->bars[VGPU_SIM_VRAM_BAR] = (struct vgpu_region) {
		.size = v->bar0_size,
		.flags = VGPU_REGION_MEM64 | VGPU_REGION_PREFETCH |
			 VGPU_REGION_MMAP,
		.areas = &v->vram_area,
		.nr_areas = 1,
	};
	info->bars[VGPU_SIM_MMIO_BAR] = (struct vgpu_region) {
		.size = VGPU_SIM_MMIO_SIZE,
	};
	v->display_region = (struct vgpu_extra_region) {
		.region = {
			.size = v->vram_area.size,
			.flags = VGPU_REGION_MMAP | VGPU_REGION_READONLY,
		},
		.type = VFIO_REGION_TYPE_PCI_VENDOR_TYPE | VGPU_SIM_PCI_VENDOR,
		.subtype = VGPU_SIM_DISPLAY_REGION_SUBTYPE,
	};
	info->regions = &v->display_region;
	info->nr_regions = 1;
	/* the core migrates VRAM itself and tracks writes to it */
	info->vram_index = VFIO_PCI_BAR0_REGION_INDEX + VGPU_SIM_VRAM_BAR;
	info->vram_size = v->vram_area.size;
	info->irqs = (struct vgpu_irqs) {
		.intx = true,
		.msi = 1,
		.msix = VGPU_SIM_MSIX_VECTORS,
		.msix_bar = VGPU_SIM_MMIO_BAR,
		.msix_table_offset = VGPU_SIM_MSIX_TABLE_OFFSET,
		.msix_pba_offset = VGPU_SIM_MSIX_PBA_OFFSET,
	};
	vgpu_set_drvdata(vgpu, v);
	dev_dbg(vgpu_dev(vgpu), "slice at %#llx, %llu MiB\n",
		v->slice_offset, v->bar0_size >> 20);
	return 0;

err_free:
	kfree(v);
	return ret;
}

static void vsim_destroy(struct vgpu_device *vgpu)
{
	struct vsim_vgpu *v = to_vsim(vgpu);

	vsim_ce_stop(v);
	/* scrubs: the next tenant of this slice must not see our data */
	vsim_slice_put(v->gpu, v->slice_offset, v->bar0_size, v->opened);
	vgpu_set_drvdata(vgpu, NULL);
	kfree(v);
}

static int vsim_reset(struct vgpu_device *vgpu)
{
	struct vsim_vgpu *v = to_vsim(vgpu);

	vsim_ce_stop(v);
	vsim_reset_regs(v);
	return 0;
}

static int vsim_open(struct vgpu_device *vgpu)
{
	to_vsim(vgpu)->opened = true;
	vgpu_set_plane_dmabuf(vgpu, to_vsim(vgpu)->dmabuf);
	return 0;
}

static void vsim_close(struct vgpu_device *vgpu)
{
	struct vsim_vgpu *v = to_vsim(vgpu);

	/* drops every DMA pin before the core lets the IOVAs go */
	vsim_ce_stop(v);
	vsim_reset_regs(v);
}

/* vendor/display: what the guest has programmed, for people and tests */
static ssize_t vsim_display_show(struct vgpu_device *vgpu, char *buf)
{
	struct vsim_vgpu *v = to_vsim(vgpu);
	const u16 *d = v->dispi;
	u32 stride;
	u64 start = vsim_scanout(v, &stride);

	return sysfs_emit(buf, "enabled=%u, mode=%ux%u, bpp=%u, stride=%u, scanout=%#llx, region=%#llx\n",
			  !!(d[VGPU_SIM_DISPI_ENABLE] & VGPU_SIM_DISPI_ENABLED),
			  d[VGPU_SIM_DISPI_XRES], d[VGPU_SIM_DISPI_YRES],
			  d[VGPU_SIM_DISPI_BPP], stride, start,
			  READ_ONCE(v->scanout_start));
}

static const struct vgpu_attribute vsim_attr_display = {
	.name = "display",
	.show = vsim_display_show,
};

/* vendor/vram: where the slice lives in the physical VRAM BAR */
static ssize_t vsim_vram_show(struct vgpu_device *vgpu, char *buf)
{
	struct vsim_vgpu *v = to_vsim(vgpu);

	return sysfs_emit(buf, "offset=%#llx, size=%#llx\n", v->slice_offset,
			  v->bar0_size);
}

static const struct vgpu_attribute vsim_attr_vram = {
	.name = "vram",
	.show = vsim_vram_show,
};

/*
 * vendor/max_resolution: "WxH", at most the type's; set before the first
 * open (mdevctl attrs, libvirt <attr>) to offer the guest smaller modes.
 */
static ssize_t vsim_max_res_show(struct vgpu_device *vgpu, char *buf)
{
	struct vsim_vgpu *v = to_vsim(vgpu);

	return sysfs_emit(buf, "%ux%u\n", v->max_width, v->max_height);
}

static ssize_t vsim_max_res_store(struct vgpu_device *vgpu, const char *buf,
				  size_t count)
{
	struct vsim_vgpu *v = to_vsim(vgpu);
	unsigned int w, h;
	int n = 0;

	/* exactly "WxH", an optional newline and nothing else */
	if (sscanf(buf, "%ux%u%n", &w, &h, &n) != 2 || !n)
		return -EINVAL;
	if (buf[n] == '\n')
		n++;
	if (buf[n])
		return -EINVAL;
	if (w < VSIM_MIN_WIDTH || h < VSIM_MIN_HEIGHT ||
	    w > v->info->max_width || h > v->info->max_height)
		return -EINVAL;
	v->max_width = w;
	v->max_height = h;
	vsim_edid_build(v->edid, w, h);
	return count;
}

static const struct vgpu_attribute vsim_attr_max_res = {
	.name = "max_resolution",
	.show = vsim_max_res_show,
	.store = vsim_max_res_store,
};

/*
 * vendor/display_dmabuf: "1" offers the display plane as a dma-buf too.
 * Off by default: QEMU picks a dma-buf display first, and without OpenGL
 * it then refuses the device.
 */
static ssize_t vsim_dmabuf_show(struct vgpu_device *vgpu, char *buf)
{
	return sysfs_emit(buf, "%d\n", to_vsim(vgpu)->dmabuf);
}

static ssize_t vsim_dmabuf_store(struct vgpu_device *vgpu, const char *buf,
				 size_t count)
{
	int ret = kstrtobool(buf, &to_vsim(vgpu)->dmabuf);

	return ret ? ret : count;
}

static const struct vgpu_attribute vsim_attr_dmabuf = {
	.name = "display_dmabuf",
	.show = vsim_dmabuf_show,
	.store = vsim_dmabuf_store,
};

static const struct vgpu_attribute *const vsim_attrs[] = {
	&vsim_attr_display,
	&vsim_attr_vram,
	&vsim_attr_max_res,
	&vsim_attr_dmabuf,
	NULL,
};

/* ---- migration -------------------------------------------------------- */

/* 2: VRAM left the blob; the core streams it (vsim_vram_rw). */
#define VSIM_STATE_VERSION	2

/* The blob: registers only. */
struct vsim_state {
	__le64 ce_iova;
	__le64 vram_size;
	__le32 byteorder;
	__le32 mbox_writes;
	__le32 ce_vram_offset;
	__le32 ce_length;
	__le32 ce_ctrl;
	__le32 ce_status;
	__le32 ce_error;
	__le32 ce_done_count;
	__le32 ce_error_count;
	__le32 irq_status;
	__le32 max_width;
	__le32 max_height;
	__le16 dispi[VGPU_SIM_DISPI_NREGS];
	u8 vga[VGPU_SIM_VGA_SIZE];
	u8 reserved[2];
	u8 mbox[VGPU_SIM_MAILBOX_SIZE];
} __packed;

/* In-flight copies complete here; the guest cannot ring again until thaw. */
static void vsim_freeze(struct vgpu_device *vgpu)
{
	flush_work(&to_vsim(vgpu)->ce_work);
}

static void vsim_thaw(struct vgpu_device *vgpu)
{
	/* Nothing was cancelled at freeze: nothing to re-issue. */
}

static size_t vsim_state_size(struct vgpu_device *vgpu)
{
	return sizeof(struct vsim_state);
}

static int vsim_save_state(struct vgpu_device *vgpu, void *buf, size_t size)
{
	struct vsim_vgpu *v = to_vsim(vgpu);
	struct vsim_state *st = buf;
	unsigned int i;

	if (size != vsim_state_size(vgpu))
		return -EINVAL;
	st->ce_iova = cpu_to_le64(v->ce_iova);
	st->vram_size = cpu_to_le64(v->vram_area.size);
	st->byteorder = cpu_to_le32(v->byteorder);
	st->mbox_writes = cpu_to_le32(v->mbox_writes);
	st->ce_vram_offset = cpu_to_le32(v->ce_vram_offset);
	st->ce_length = cpu_to_le32(v->ce_length);
	st->ce_ctrl = cpu_to_le32(v->ce_ctrl);
	spin_lock_irq(&v->ce_lock);
	if (v->ce_busy) {
		/* freeze flushed the worker: a job now is a bug */
		spin_unlock_irq(&v->ce_lock);
		return -EBUSY;
	}
	st->ce_status = cpu_to_le32(v->ce_status);
	st->ce_error = cpu_to_le32(v->ce_error);
	st->ce_done_count = cpu_to_le32(v->ce_done_count);
	st->ce_error_count = cpu_to_le32(v->ce_error_count);
	st->irq_status = cpu_to_le32(v->irq_status);
	spin_unlock_irq(&v->ce_lock);
	st->max_width = cpu_to_le32(v->max_width);
	st->max_height = cpu_to_le32(v->max_height);
	for (i = 0; i < VGPU_SIM_DISPI_NREGS; i++)
		st->dispi[i] = cpu_to_le16(v->dispi[i]);
	memcpy(st->vga, v->vga, sizeof(st->vga));
	memcpy(st->mbox, v->mbox, sizeof(st->mbox));
	return 0;
}

static bool vsim_bpp_ok(u16 bpp)
{
	return !bpp || bpp == 4 || bpp == 8 || bpp == 15 || bpp == 16 ||
	       bpp == 24 || bpp == 32;
}

/* Everything a guest could not have programmed is refused. */
static int vsim_check_state(struct vsim_vgpu *v, const struct vsim_state *st)
{
	u32 w = le32_to_cpu(st->max_width), h = le32_to_cpu(st->max_height);
	u32 bo = le32_to_cpu(st->byteorder);
	u32 done = VGPU_SIM_CE_STATUS_DONE | VGPU_SIM_CE_STATUS_ERROR;
	u32 irqs = VGPU_SIM_IRQ_COMPLETE | VGPU_SIM_IRQ_ERROR;

	if (le64_to_cpu(st->vram_size) != v->vram_area.size)
		return -EINVAL;
	if (w < VSIM_MIN_WIDTH || h < VSIM_MIN_HEIGHT ||
	    w > v->info->max_width || h > v->info->max_height)
		return -EINVAL;
	if (le16_to_cpu(st->dispi[VGPU_SIM_DISPI_XRES]) > w ||
	    le16_to_cpu(st->dispi[VGPU_SIM_DISPI_YRES]) > h ||
	    !vsim_bpp_ok(le16_to_cpu(st->dispi[VGPU_SIM_DISPI_BPP])) ||
	    st->dispi[VGPU_SIM_DISPI_ID] ||
	    st->dispi[VGPU_SIM_DISPI_VIDEO_MEMORY_64K])
		return -EINVAL;
	if (bo != VGPU_SIM_QEXT_LITTLE_ENDIAN && bo != VGPU_SIM_QEXT_BIG_ENDIAN)
		return -EINVAL;
	if (le32_to_cpu(st->ce_ctrl) & ~VGPU_SIM_CE_CTRL_TO_GUEST ||
	    le32_to_cpu(st->ce_status) & ~done ||
	    le32_to_cpu(st->ce_error) > VGPU_SIM_CE_ERR_RESET ||
	    le32_to_cpu(st->irq_status) & ~irqs ||
	    st->reserved[0] || st->reserved[1])
		return -EINVAL;
	return 0;
}

static int vsim_check_blob(struct vgpu_device *vgpu, const void *buf,
			   size_t size, unsigned int version)
{
	if (version != VSIM_STATE_VERSION || size != vsim_state_size(vgpu))
		return -EINVAL;
	return vsim_check_state(to_vsim(vgpu), buf);
}

static int vsim_load_state(struct vgpu_device *vgpu, const void *buf,
			   size_t size, unsigned int version)
{
	struct vsim_vgpu *v = to_vsim(vgpu);
	const struct vsim_state *st = buf;
	unsigned int i;
	int ret;

	ret = vsim_check_blob(vgpu, buf, size, version);
	if (ret)
		return ret;

	v->ce_iova = le64_to_cpu(st->ce_iova);
	v->byteorder = le32_to_cpu(st->byteorder);
	v->mbox_writes = le32_to_cpu(st->mbox_writes);
	v->ce_vram_offset = le32_to_cpu(st->ce_vram_offset);
	v->ce_length = le32_to_cpu(st->ce_length);
	v->ce_ctrl = le32_to_cpu(st->ce_ctrl);
	spin_lock_irq(&v->ce_lock);
	v->ce_status = le32_to_cpu(st->ce_status);
	v->ce_error = le32_to_cpu(st->ce_error);
	v->ce_done_count = le32_to_cpu(st->ce_done_count);
	v->ce_error_count = le32_to_cpu(st->ce_error_count);
	v->irq_status = le32_to_cpu(st->irq_status);
	spin_unlock_irq(&v->ce_lock);
	v->max_width = le32_to_cpu(st->max_width);
	v->max_height = le32_to_cpu(st->max_height);
	vsim_edid_build(v->edid, v->max_width, v->max_height);
	for (i = 0; i < VGPU_SIM_DISPI_NREGS; i++)
		v->dispi[i] = le16_to_cpu(st->dispi[i]);
	memcpy(v->vga, st->vga, sizeof(v->vga));
	memcpy(v->mbox, st->mbox, sizeof(v->mbox));
	vsim_update_scanout(v);
	return 0;
}

/* The slice is ours until destroy: no lock needed to copy it. */
static int vsim_vram_rw(struct vgpu_device *vgpu, u64 offset, void *buf,
			size_t len, bool write)
{
	struct vsim_vgpu *v = to_vsim(vgpu);

	if (offset > v->vram_area.size || len > v->vram_area.size - offset)
		return -EINVAL;
	if (write)
		vsim_vram_copy_to(v->vram + offset, buf, len);
	else
		vsim_vram_copy_from(buf, v->vram + offset, len);
	return 0;
}

const struct vgpu_ops vsim_ops = {
	.owner = THIS_MODULE,
	.create = vsim_create,
	.destroy = vsim_destroy,
	.get_available = vsim_get_available,
	.open = vsim_open,
	.close = vsim_close,
	.reset = vsim_reset,
	.region_read = vsim_region_read,
	.region_write = vsim_region_write,
	.mmap_pfn = vsim_mmap_pfn,
	.dma_unmap = vsim_ce_dma_unmap,
	.query_plane = vsim_query_plane,
	.attrs = vsim_attrs,
	.state_version = VSIM_STATE_VERSION,
	.freeze = vsim_freeze,
	.thaw = vsim_thaw,
	.state_size = vsim_state_size,
	.save_state = vsim_save_state,
	.load_state = vsim_load_state,
	.check_state = vsim_check_blob,
	.vram_rw = vsim_vram_rw,
};
