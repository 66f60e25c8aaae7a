// SPDX-License-Identifier: GPL-2.0-only
/*
 * Emulated PCI config space, table driven: every register is described by a
 * row {offset, length, writable bits}; reads return the stored value, writes
 * change only the writable bits. BAR sizing falls out of the same rule (the
 * address bits below the BAR size are not writable). Capabilities are rows
 * of their own, placed by the core; vendor capability bodies are handed to
 * the vendor.
 */
#include <linux/errno.h>
#include <linux/string.h>
#include "config.h"
#include "layout.h"

struct vcfg_perm {
	__u16 off;
	__u8 len;
	__u32 wmask;
};

#define VCFG_CMD_BITS	(PCI_COMMAND_PARITY | PCI_COMMAND_SERR)

static const struct vcfg_perm vcfg_header_perms[] = {
	{ PCI_CACHE_LINE_SIZE,	1, 0xff },
	{ PCI_LATENCY_TIMER,	1, 0xff },
	{ PCI_INTERRUPT_LINE,	1, 0xff },
};

/* 64-bit address, no per-vector masking: 14 bytes, padded to 16. */
#define VCFG_MSI_LEN	16
static const struct vcfg_perm vcfg_msi_perms[] = {
	{ PCI_MSI_FLAGS,	2, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE },
	{ PCI_MSI_ADDRESS_LO,	4, 0xfffffffc },
	{ PCI_MSI_ADDRESS_HI,	4, 0xffffffff },
	{ PCI_MSI_DATA_64,	2, 0xffff },
};

#define VCFG_MSIX_LEN	PCI_CAP_MSIX_SIZEOF
static const struct vcfg_perm vcfg_msix_perms[] = {
	{ PCI_MSIX_FLAGS,	2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL },
};

/* Version 2 endpoint with a x1 link: through the link status register. */
#define VCFG_PCIE_LEN	0x34
static const struct vcfg_perm vcfg_pcie_perms[] = {
	{ PCI_EXP_DEVCTL,	2, PCI_EXP_DEVCTL_CERE | PCI_EXP_DEVCTL_NFERE |
				   PCI_EXP_DEVCTL_FERE | PCI_EXP_DEVCTL_URRE |
				   PCI_EXP_DEVCTL_RELAX_EN |
				   PCI_EXP_DEVCTL_PAYLOAD |
				   PCI_EXP_DEVCTL_EXT_TAG |
				   PCI_EXP_DEVCTL_NOSNOOP_EN |
				   PCI_EXP_DEVCTL_READRQ },
	{ PCI_EXP_LNKCTL,	2, PCI_EXP_LNKCTL_ASPMC | PCI_EXP_LNKCTL_CCC |
				   PCI_EXP_LNKCTL_ES },
};

static void put8(struct vgpu_cfg *cfg, unsigned int off, __u8 v)
{
	cfg->data[off] = v;
}

static void put16(struct vgpu_cfg *cfg, unsigned int off, __u16 v)
{
	cfg->data[off] = v & 0xff;
	cfg->data[off + 1] = v >> 8;
}

static void put32(struct vgpu_cfg *cfg, unsigned int off, __u32 v)
{
	put16(cfg, off, v & 0xffff);
	put16(cfg, off + 2, v >> 16);
}

static void putmask(struct vgpu_cfg *cfg, unsigned int off, unsigned int len,
		    __u32 m)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		cfg->wmask[off + i] = (m >> (8 * i)) & 0xff;
}

static void apply_perms(struct vgpu_cfg *cfg, unsigned int base,
			const struct vcfg_perm *p, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		putmask(cfg, base + p[i].off, p[i].len, p[i].wmask);
}

__u16 vcfg_get16(const struct vgpu_cfg *cfg, unsigned int off)
{
	return cfg->data[off] | (cfg->data[off + 1] << 8);
}

__u32 vcfg_get32(const struct vgpu_cfg *cfg, unsigned int off)
{
	return vcfg_get16(cfg, off) | ((__u32)vcfg_get16(cfg, off + 2) << 16);
}

static bool is_pow2(__u64 v)
{
	return v && !(v & (v - 1));
}

#define VGPU_REGION_FLAGS	(VGPU_REGION_IO | VGPU_REGION_MEM64 |	\
				 VGPU_REGION_PREFETCH | VGPU_REGION_MMAP | \
				 VGPU_REGION_READONLY)

/* Flags and size every region needs; the areas when it is mmap-able. */
static int validate_areas(const struct vgpu_region *r, unsigned long page)
{
	unsigned int i, j;

	/* Offsets past the window would land in the next region index. */
	if (r->flags & ~VGPU_REGION_FLAGS ||
	    r->size > (1ULL << VGPU_VFIO_INDEX_SHIFT))
		return -EINVAL;
	if (!(r->flags & VGPU_REGION_MMAP))
		return r->nr_areas || r->areas ? -EINVAL : 0;
	if (r->size < page || (r->size & (page - 1)))
		return -EINVAL;
	if (!r->areas != !r->nr_areas || r->nr_areas > 16)
		return -EINVAL;
	for (i = 0; i < r->nr_areas; i++) {
		const struct vgpu_mmap_area *a = &r->areas[i];

		if (!a->size || (a->offset | a->size) & (page - 1) ||
		    !vgpu_range_ok(a->offset, a->size, r->size))
			return -EINVAL;
		for (j = 0; j < i; j++) {
			const struct vgpu_mmap_area *b = &r->areas[j];

			if (a->offset < b->offset + b->size &&
			    b->offset < a->offset + a->size)
				return -EINVAL;
		}
	}
	return 0;
}

/* Does any mmap-able part of @r overlap [off, off + len)? */
static bool mmap_overlaps(const struct vgpu_region *r, __u64 off, __u64 len)
{
	unsigned int i;

	if (!(r->flags & VGPU_REGION_MMAP) || !len)
		return false;
	if (!r->nr_areas)
		return true;
	for (i = 0; i < r->nr_areas; i++)
		if (off < r->areas[i].offset + r->areas[i].size &&
		    r->areas[i].offset < off + len)
			return true;
	return false;
}

static int validate_bars(const struct vgpu_device_info *info,
			 unsigned long page)
{
	unsigned int i;
	int ret;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		const struct vgpu_region *r = &info->bars[i];

		if (!r->size) {
			if (r->flags || r->areas || r->nr_areas)
				return -EINVAL;
			continue;
		}
		if (!is_pow2(r->size))
			return -EINVAL;
		if (r->flags & VGPU_REGION_IO) {
			if (r->size < 4 || r->size > 256 ||
			    r->flags & ~(VGPU_REGION_IO | VGPU_REGION_READONLY))
				return -EINVAL;
			continue;
		}
		if (r->size < 16)
			return -EINVAL;
		if (r->flags & VGPU_REGION_MEM64) {
			/* The upper half takes the next slot, which stays empty. */
			if (i == PCI_STD_NUM_BARS - 1 || info->bars[i + 1].size ||
			    info->bars[i + 1].flags)
				return -EINVAL;
		} else if (r->size > (1ULL << 31)) {
			return -EINVAL;
		}
		ret = validate_areas(r, page);
		if (ret)
			return ret;
		if (r->flags & VGPU_REGION_MEM64)
			i++;
	}
	return 0;
}

static int validate_irqs(const struct vgpu_device_info *info)
{
	const struct vgpu_irqs *q = &info->irqs;
	const struct vgpu_region *r;
	__u32 tsz, psz;

	if (q->msi && (!is_pow2(q->msi) || q->msi > 32))
		return -EINVAL;
	if (!q->msix)
		return 0;
	if (q->msix > 2048 || q->msix_bar >= PCI_STD_NUM_BARS)
		return -EINVAL;
	r = &info->bars[q->msix_bar];
	if (!r->size || r->flags & VGPU_REGION_IO)
		return -EINVAL;
	tsz = vgpu_msix_table_size(q->msix);
	psz = vgpu_msix_pba_size(q->msix);
	if ((q->msix_table_offset | q->msix_pba_offset) & 7)
		return -EINVAL;
	if (!vgpu_range_ok(q->msix_table_offset, tsz, r->size) ||
	    !vgpu_range_ok(q->msix_pba_offset, psz, r->size))
		return -EINVAL;
	if ((__u64)q->msix_table_offset < (__u64)q->msix_pba_offset + psz &&
	    (__u64)q->msix_pba_offset < (__u64)q->msix_table_offset + tsz)
		return -EINVAL;
	/* The core traps the table and PBA: they cannot be mapped. */
	if (mmap_overlaps(r, q->msix_table_offset, tsz) ||
	    mmap_overlaps(r, q->msix_pba_offset, psz))
		return -EINVAL;
	return 0;
}

static unsigned int caps_len(const struct vgpu_device_info *info)
{
	unsigned int i, len = 0;

	if (info->irqs.msi)
		len += VCFG_MSI_LEN;
	if (info->irqs.msix)
		len += VCFG_MSIX_LEN;
	if (info->pcie)
		len += VCFG_PCIE_LEN;
	for (i = 0; i < info->nr_caps; i++)
		len += (info->caps[i].len + 3) & ~3U;
	return len;
}

int vgpu_info_validate(const struct vgpu_device_info *info,
		       unsigned long page_size)
{
	unsigned int i;
	int ret;

	if (info->class > 0xffffff)
		return -EINVAL;
	ret = validate_bars(info, page_size);
	if (ret)
		return ret;
	if (info->rom.size && (!is_pow2(info->rom.size) ||
			       info->rom.size < 2048 ||
			       info->rom.size > (1U << 24) ||
			       info->rom.flags & ~VGPU_REGION_READONLY ||
			       info->rom.areas || info->rom.nr_areas))
		return -EINVAL;
	if (!info->rom.size && (info->rom.flags || info->rom.areas))
		return -EINVAL;
	ret = validate_irqs(info);
	if (ret)
		return ret;
	if (info->nr_caps > VGPU_MAX_CONFIG_CAPS || (!info->caps && info->nr_caps))
		return -EINVAL;
	for (i = 0; i < info->nr_caps; i++)
		if (info->caps[i].len < 4)
			return -EINVAL;
	if (0x40 + caps_len(info) > PCI_CFG_SPACE_SIZE)
		return -ENOSPC;
	if (info->ext_size && (!info->pcie || info->ext_size % 4 ||
			       info->ext_size > PCI_CFG_SPACE_EXP_SIZE -
						PCI_CFG_SPACE_SIZE))
		return -EINVAL;
	if (info->nr_regions > VGPU_MAX_EXTRA_REGIONS ||
	    (!info->regions && info->nr_regions))
		return -EINVAL;
	for (i = 0; i < info->nr_regions; i++) {
		const struct vgpu_region *r = &info->regions[i].region;

		if (!r->size || r->flags & (VGPU_REGION_IO | VGPU_REGION_MEM64))
			return -EINVAL;
		ret = validate_areas(r, page_size);
		if (ret)
			return ret;
	}
	return 0;
}

static void init_bars(struct vgpu_cfg *cfg)
{
	const struct vgpu_device_info *info = cfg->info;
	unsigned int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		const struct vgpu_region *r = &info->bars[i];
		unsigned int off = PCI_BASE_ADDRESS_0 + 4 * i;
		__u64 amask = ~(r->size - 1);

		if (!r->size)
			continue;
		if (r->flags & VGPU_REGION_IO) {
			put32(cfg, off, PCI_BASE_ADDRESS_SPACE_IO);
			putmask(cfg, off, 4, amask & PCI_BASE_ADDRESS_IO_MASK);
			continue;
		}
		put32(cfg, off,
		      (r->flags & VGPU_REGION_MEM64 ?
		       PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) |
		      (r->flags & VGPU_REGION_PREFETCH ?
		       PCI_BASE_ADDRESS_MEM_PREFETCH : 0));
		putmask(cfg, off, 4, amask & PCI_BASE_ADDRESS_MEM_MASK);
		if (r->flags & VGPU_REGION_MEM64) {
			putmask(cfg, off + 4, 4, amask >> 32);
			i++;
		}
	}
	if (info->rom.size)
		putmask(cfg, PCI_ROM_ADDRESS, 4,
			(~(info->rom.size - 1) & PCI_ROM_ADDRESS_MASK) |
			PCI_ROM_ADDRESS_ENABLE);
}

/* Link a capability of @len bytes at *pos; returns where it went. */
static unsigned int add_cap(struct vgpu_cfg *cfg, unsigned int *pos,
			    unsigned int *prev_next, __u8 id, unsigned int len)
{
	unsigned int at = *pos;

	put8(cfg, *prev_next, at);
	put8(cfg, at + PCI_CAP_LIST_ID, id);
	put8(cfg, at + PCI_CAP_LIST_NEXT, 0);
	*prev_next = at + PCI_CAP_LIST_NEXT;
	*pos += (len + 3) & ~3U;
	return at;
}

static void build(struct vgpu_cfg *cfg)
{
	const struct vgpu_device_info *info = cfg->info;
	const struct vgpu_irqs *q = &info->irqs;
	unsigned int pos = 0x40, prev = PCI_CAPABILITY_LIST, i;
	__u16 cmd_mask = VCFG_CMD_BITS | PCI_COMMAND_MASTER;

	memset(cfg->data, 0, sizeof(cfg->data));
	memset(cfg->wmask, 0, sizeof(cfg->wmask));
	memset(cfg->vendor, 0, sizeof(cfg->vendor));
	cfg->msi_pos = 0;
	cfg->msix_pos = 0;
	cfg->pcie_pos = 0;
	cfg->intx_status = false;

	put16(cfg, PCI_VENDOR_ID, info->vendor);
	put16(cfg, PCI_DEVICE_ID, info->device);
	put8(cfg, PCI_REVISION_ID, info->revision);
	put8(cfg, PCI_CLASS_PROG, info->class & 0xff);
	put16(cfg, PCI_CLASS_DEVICE, info->class >> 8);
	put8(cfg, PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL);
	put16(cfg, PCI_SUBSYSTEM_VENDOR_ID, info->subsystem_vendor);
	put16(cfg, PCI_SUBSYSTEM_ID, info->subsystem_device);
	put8(cfg, PCI_INTERRUPT_PIN, q->intx ? 1 : 0);
	apply_perms(cfg, 0, vcfg_header_perms, ARRAY_SIZE(vcfg_header_perms));

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		if (!info->bars[i].size)
			continue;
		if (info->bars[i].flags & VGPU_REGION_IO)
			cmd_mask |= PCI_COMMAND_IO;
		else
			cmd_mask |= PCI_COMMAND_MEMORY;
	}
	if (info->rom.size || info->nr_regions)
		cmd_mask |= PCI_COMMAND_MEMORY;
	if (info->vga)
		cmd_mask |= PCI_COMMAND_IO | PCI_COMMAND_MEMORY;
	if (q->intx)
		cmd_mask |= PCI_COMMAND_INTX_DISABLE;
	putmask(cfg, PCI_COMMAND, 2, cmd_mask);
	init_bars(cfg);

	if (q->msi) {
		unsigned int at = add_cap(cfg, &pos, &prev, PCI_CAP_ID_MSI,
					  VCFG_MSI_LEN);

		cfg->msi_pos = at;
		/* Multiple Message Capable = log2(vectors), 64-bit. */
		put16(cfg, at + PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT |
		      ((__builtin_ctz(q->msi) << 1) & PCI_MSI_FLAGS_QMASK));
		apply_perms(cfg, at, vcfg_msi_perms, ARRAY_SIZE(vcfg_msi_perms));
	}
	if (q->msix) {
		unsigned int at = add_cap(cfg, &pos, &prev, PCI_CAP_ID_MSIX,
					  VCFG_MSIX_LEN);

		cfg->msix_pos = at;
		put16(cfg, at + PCI_MSIX_FLAGS, q->msix - 1);
		put32(cfg, at + PCI_MSIX_TABLE,
		      q->msix_table_offset | q->msix_bar);
		put32(cfg, at + PCI_MSIX_PBA, q->msix_pba_offset | q->msix_bar);
		apply_perms(cfg, at, vcfg_msix_perms,
			    ARRAY_SIZE(vcfg_msix_perms));
	}
	if (info->pcie) {
		unsigned int at = add_cap(cfg, &pos, &prev, PCI_CAP_ID_EXP,
					  VCFG_PCIE_LEN);

		cfg->pcie_pos = at;
		put16(cfg, at + PCI_EXP_FLAGS,
		      2 | (PCI_EXP_TYPE_ENDPOINT << 4));
		put32(cfg, at + PCI_EXP_LNKCAP, 1 | (1 << 4));
		put16(cfg, at + PCI_EXP_LNKSTA, 1 | (1 << 4));
		apply_perms(cfg, at, vcfg_pcie_perms,
			    ARRAY_SIZE(vcfg_pcie_perms));
	}
	for (i = 0; i < info->nr_caps; i++) {
		const struct vgpu_config_cap *c = &info->caps[i];
		unsigned int at = add_cap(cfg, &pos, &prev, c->id, c->len);

		cfg->vendor_pos[i] = at;
		if (c->data)
			memcpy(&cfg->data[at + 2], c->data, c->len - 2);
		memset(&cfg->vendor[at + 2], 1, c->len - 2);
	}
	if (pos > 0x40)
		put16(cfg, PCI_STATUS, PCI_STATUS_CAP_LIST);
}

int vcfg_init(struct vgpu_cfg *cfg, const struct vgpu_device_info *info)
{
	cfg->info = info;
	cfg->size = info->pcie ? PCI_CFG_SPACE_EXP_SIZE : PCI_CFG_SPACE_SIZE;
	build(cfg);
	return 0;
}

void vcfg_reset(struct vgpu_cfg *cfg)
{
	build(cfg);
}

/*
 * Migration: take the writable bits of a saved config space (cfg->size
 * bytes) over what reset built; the vendor's bytes are its own state.
 */
void vcfg_restore(struct vgpu_cfg *cfg, const __u8 *saved)
{
	unsigned int o;

	for (o = 0; o < cfg->size; o++) {
		if (o < PCI_CFG_SPACE_SIZE && cfg->vendor[o])
			continue;
		cfg->data[o] = (cfg->data[o] & ~cfg->wmask[o]) |
			       (saved[o] & cfg->wmask[o]);
	}
}

/*
 * The vendor's bytes within [off, off + size) form at most one run: inside a
 * vendor capability's body, or inside its extended range (dword aligned, so
 * an access there never reaches past it).
 */
static bool vendor_run(const struct vgpu_cfg *cfg, unsigned int off,
		       unsigned int size, unsigned int *start,
		       unsigned int *len)
{
	unsigned int i, s = 0, n = 0;

	if (off >= PCI_CFG_SPACE_SIZE) {
		if (off - PCI_CFG_SPACE_SIZE >= cfg->info->ext_size)
			return false;
		*start = off;
		*len = PCI_CFG_SPACE_SIZE + cfg->info->ext_size - off;
		if (*len > size)
			*len = size;
		return true;
	}
	/* The map covers the first 256 bytes only; PCIe spaces go beyond. */
	for (i = off; i < off + size && i < PCI_CFG_SPACE_SIZE; i++) {
		if (!cfg->vendor[i])
			continue;
		if (!n)
			s = i;
		n++;
	}
	*start = s;
	*len = n;
	return n;
}

int vcfg_read(struct vgpu_cfg *cfg, unsigned int off, unsigned int size,
	      __u32 *val, const struct vcfg_vendor_ops *vops)
{
	__u8 bytes[4];
	unsigned int i, vs, vl;
	__u32 v = 0;
	int ret;

	if (size > 4 || !vgpu_range_ok(off, size, cfg->size))
		return -EINVAL;
	memcpy(bytes, &cfg->data[off], size);
	if (off <= PCI_STATUS && off + size > PCI_STATUS &&
	    READ_ONCE(cfg->intx_status))
		bytes[PCI_STATUS - off] |= PCI_STATUS_INTERRUPT;

	if (vops && vops->read && vendor_run(cfg, off, size, &vs, &vl)) {
		unsigned int p = vs;

		while (p < vs + vl) {
			unsigned int n = vgpu_chunk(p, vs + vl - p, 4);
			__u32 part = 0;

			ret = vops->read(vops->opaque, p, n, &part);
			if (ret)
				return ret;
			for (i = 0; i < n; i++)
				bytes[p - off + i] = part >> (8 * i);
			p += n;
		}
	}
	for (i = 0; i < size; i++)
		v |= (__u32)bytes[i] << (8 * i);
	*val = v;
	return 0;
}

int vcfg_write(struct vgpu_cfg *cfg, unsigned int off, unsigned int size,
	       __u32 val, const struct vcfg_vendor_ops *vops,
	       unsigned int *events)
{
	__u16 cmd = vcfg_get16(cfg, PCI_COMMAND);
	__u16 msi = cfg->msi_pos ? vcfg_get16(cfg, cfg->msi_pos + PCI_MSI_FLAGS) : 0;
	__u16 msix = cfg->msix_pos ?
		     vcfg_get16(cfg, cfg->msix_pos + PCI_MSIX_FLAGS) : 0;
	unsigned int i, vs, vl;
	int ret;

	*events = 0;
	if (size > 4 || !vgpu_range_ok(off, size, cfg->size))
		return -EINVAL;

	for (i = 0; i < size; i++) {
		unsigned int o = off + i;
		__u8 b = val >> (8 * i);

		if (o < PCI_CFG_SPACE_SIZE && cfg->vendor[o])
			continue;
		cfg->data[o] = (cfg->data[o] & ~cfg->wmask[o]) |
			       (b & cfg->wmask[o]);
	}
	if (vops && vops->write && vendor_run(cfg, off, size, &vs, &vl)) {
		unsigned int p = vs;

		while (p < vs + vl) {
			unsigned int n = vgpu_chunk(p, vs + vl - p, 4);
			__u32 part = (val >> (8 * (p - off))) &
				     (n == 4 ? 0xffffffffU : ((1U << (8 * n)) - 1));

			ret = vops->write(vops->opaque, p, n, part);
			if (ret)
				return ret;
			p += n;
		}
	}

	if (vcfg_get16(cfg, PCI_COMMAND) != cmd)
		*events |= VCFG_EV_COMMAND;
	if (cfg->msi_pos && vcfg_get16(cfg, cfg->msi_pos + PCI_MSI_FLAGS) != msi)
		*events |= VCFG_EV_MSI;
	if (cfg->msix_pos &&
	    vcfg_get16(cfg, cfg->msix_pos + PCI_MSIX_FLAGS) != msix)
		*events |= VCFG_EV_MSIX;
	return 0;
}

const struct vgpu_mmap_area *vgpu_region_area(const struct vgpu_region *r,
					      __u64 off, __u64 len,
					      struct vgpu_mmap_area *whole)
{
	unsigned int i;

	if (!(r->flags & VGPU_REGION_MMAP))
		return NULL;
	if (!r->nr_areas) {
		whole->offset = 0;
		whole->size = r->size;
		return vgpu_range_ok(off, len, r->size) ? whole : NULL;
	}
	for (i = 0; i < r->nr_areas; i++) {
		const struct vgpu_mmap_area *a = &r->areas[i];

		if (off >= a->offset &&
		    vgpu_range_ok(off - a->offset, len, a->size))
			return a;
	}
	return NULL;
}
