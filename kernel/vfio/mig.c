// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO migration v2 of a vGPU: the state machine (STOP_COPY, P2P and, from
 * 6.2, PRE_COPY), the data fds, the stream (include/vgpu_mig.h) and the
 * dirty tracking of the vendor's VRAM that lets PRE_COPY iterate.
 *
 * Locking: every transition runs under the vGPU mutex, which also orders it
 * against trapped accesses, config writes, reset and close. A data fd has
 * its own mutex (taken inside the vGPU mutex, never around it), so read()
 * and write() of the stream never wait for the device. "frozen" (STOP,
 * STOP_COPY, RESUMING) is written under the vGPU mutex and memory_lock:
 * trapped BAR accesses and faults on writable mappings see it under either.
 * A PRE_COPY read() starts the next VRAM pass with memory_lock held for
 * write inside the fd mutex (faults take it for read under mmap_lock;
 * nothing takes the fd mutex inside memory_lock); it copies to the user
 * with memory_lock released.
 */
#include <linux/anon_inodes.h>
#include <linux/bitmap.h>
#include <linux/crc32.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "compat.h"
#include "vfio.h"
#include "vgpu_mig.h"

struct vgpu_mig_file {
	struct file *filp;
	struct mutex lock;	/* guards the fields below */
	struct vgpu_vfio *vv;	/* valid while not disabled */
	bool disabled;		/* the transition that made it is over */
	u8 *buf;		/* the record being read or written */
	size_t cap, len, pos;	/* saving: its length, read position */
	u8 *state;		/* device state sections, CONFIG to VENDOR */
	size_t state_cap, state_len;
	u32 crc;		/* running, over what follows the header */
	u64 bytes;

	/* saving */
	int phase;
	bool precopy;		/* made in PRE_COPY */
	bool final;		/* device state taken: the last pass */
	unsigned int pass;	/* VRAM passes started after the first */
	unsigned long cursor;	/* next page to look at in vram_send */

	/* resuming */
	int rx;
	size_t need;		/* bytes of the current unit; len is had */
	bool failed;
	u32 sec_id, next_id;
	u64 sec_len;
	u32 state_version;
};

enum { PH_HEADER, PH_VRAM, PH_STATE, PH_END, PH_EOF, PH_FAILED };
enum { RX_HEADER, RX_SECTION, RX_DATA, RX_DONE };

#define SEC_HDR		sizeof(struct vgpu_mig_section)
#define VRAM_HDR	(SEC_HDR + sizeof(struct vgpu_mig_vram))
#define VRAM_REC_MAX	(VRAM_HDR + VGPU_MIG_VRAM_MAX_PAGES * PAGE_SIZE)
#define END_REC		(SEC_HDR + sizeof(struct vgpu_mig_end))

static size_t msix_bytes(struct vgpu_vfio *vv)
{
	unsigned int n = vv->vgpu->info.irqs.msix;

	return n ? vgpu_msix_table_size(n) + vgpu_msix_pba_size(n) : 0;
}

static size_t vendor_size(struct vgpu_vfio *vv)
{
	return vv->ops->state_size(vv->vgpu);
}

/* The device state sections for a vendor blob of @vendor bytes. */
static size_t state_bytes(struct vgpu_vfio *vv, size_t vendor)
{
	return 4 * SEC_HDR + ALIGN(vv->cfg.size, 8) + ALIGN(msix_bytes(vv), 8) +
	       sizeof(struct vgpu_mig_irq) + ALIGN(vendor, 8);
}

/* Stream bytes of the VRAM sections carrying the pages set in @map. */
/* PRE_COPY and the data size ioctl need these (6.2+). */
static u64 __maybe_unused vram_bytes(const unsigned long *map, unsigned long pages)
{
	unsigned long s = 0, e;
	u64 bytes = 0;

	while ((s = find_next_bit(map, pages, s)) < pages) {
		e = find_next_zero_bit(map, pages, s);
		bytes += DIV_ROUND_UP(e - s, VGPU_MIG_VRAM_MAX_PAGES) * VRAM_HDR +
			 ((u64)(e - s) << PAGE_SHIFT);
		s = e;
	}
	return bytes;
}

static u64 __maybe_unused vram_bytes_all(struct vgpu_vfio *vv)
{
	return DIV_ROUND_UP(vv->vram_pages, VGPU_MIG_VRAM_MAX_PAGES) *
	       VRAM_HDR + ((u64)vv->vram_pages << PAGE_SHIFT);
}

static u32 header_crc(const struct vgpu_mig_header *hdr)
{
	struct vgpu_mig_header h = *hdr;

	h.crc = 0;
	return ~crc32_le(~0U, (const u8 *)&h, sizeof(h));
}

static u32 vram_crc(const struct vgpu_mig_vram *rec, const u8 *data,
		    size_t len)
{
	struct vgpu_mig_vram r = *rec;
	u32 crc;

	r.crc = 0;
	crc = crc32_le(~0U, (const u8 *)&r, sizeof(r));
	return ~crc32_le(crc, data, len);
}

/* ---- VRAM dirty tracking ---------------------------------------------- */

/*
 * Start (or stop) noting writes to VRAM. Starting zaps the VRAM mappings
 * under memory_lock, so every later CPU write faults and is noted first.
 */
static void vram_track(struct vgpu_vfio *vv, bool on)
{
	const struct vgpu_device_info *info = &vv->vgpu->info;

	down_write(&vv->memory_lock);
	if (on) {
		bitmap_zero(vv->vram_dirty, vv->vram_pages);
		vgpu_vfio_zap_range_locked(vv, info->vram_index, 0,
					   info->vram_size);
	}
	WRITE_ONCE(vv->tracking, on);
	up_write(&vv->memory_lock);
}

/*
 * Move what was written since the last pass to the send set and, while
 * tracking, zap again: a page is copied only after its PTEs are gone, so a
 * write after the copy faults and marks it for the next pass. Device and
 * region writes mark after writing; a mark the xchg() misses lands in the
 * next pass.
 */
static void vram_fold(struct vgpu_vfio *vv)
{
	const struct vgpu_device_info *info = &vv->vgpu->info;
	unsigned long i;

	down_write(&vv->memory_lock);
	for (i = 0; i < BITS_TO_LONGS(vv->vram_pages); i++)
		vv->vram_send[i] |= xchg(&vv->vram_dirty[i], 0);
	if (vv->tracking)
		vgpu_vfio_zap_range_locked(vv, info->vram_index, 0,
					   info->vram_size);
	up_write(&vv->memory_lock);
}

void vgpu_vram_dirty(struct vgpu_device *vgpu, u64 offset, u64 len)
{
	struct vgpu_vfio *vv = READ_ONCE(vgpu->backend);

	if (vv && vv->vram_pages)
		vgpu_vfio_vram_mark(vv, vgpu->info.vram_index, offset, len);
}
EXPORT_SYMBOL_GPL(vgpu_vram_dirty);

/* ---- saving ------------------------------------------------------------- */

static u8 *put_section(u8 *p, u32 id, const void *data, size_t len)
{
	struct vgpu_mig_section s = {
		.id = cpu_to_le32(id),
		.len = cpu_to_le64(len),
	};

	memcpy(p, &s, sizeof(s));
	p += sizeof(s);
	if (data && len)
		memcpy(p, data, len);
	memset(p + len, 0, ALIGN(len, 8) - len);
	return p + ALIGN(len, 8);
}

static void put_msix(struct vgpu_vfio *vv, u8 *p)
{
	unsigned int n = vv->vgpu->info.irqs.msix, i;
	u32 tsize = vgpu_msix_table_size(n);
	unsigned long flags;

	memset(p, 0, msix_bytes(vv));
	spin_lock_irqsave(&vv->irq.lock, flags);
	memcpy(p, vv->msix_table, tsize);
	for (i = 0; i < n; i++)
		if (test_bit(i, vv->irq.msix_pending))
			p[tsize + i / 8] |= BIT(i % 8);
	spin_unlock_irqrestore(&vv->irq.lock, flags);
}

static void fill_header(struct vgpu_vfio *vv, struct vgpu_mig_header *h)
{
	struct vgpu_device *vgpu = vv->vgpu;

	memset(h, 0, sizeof(*h));
	h->magic = cpu_to_le32(VGPU_MIG_MAGIC);
	h->version = cpu_to_le16(VGPU_MIG_VERSION);
	h->header_size = cpu_to_le16(sizeof(*h));
	h->vendor = cpu_to_le16(vgpu->info.vendor);
	h->device = cpu_to_le16(vgpu->info.device);
	h->subsystem_vendor = cpu_to_le16(vgpu->info.subsystem_vendor);
	h->subsystem_device = cpu_to_le16(vgpu->info.subsystem_device);
	strscpy(h->driver, module_name(vv->ops->owner), sizeof(h->driver));
	strscpy(h->type, vgpu->type->type->name, sizeof(h->type));
	h->state_version = cpu_to_le32(vv->ops->state_version);
	h->vram_size = cpu_to_le64((u64)vv->vram_pages << PAGE_SHIFT);
	h->crc = cpu_to_le32(header_crc(h));
}

/* The frozen vGPU's device state into mf->state (vGPU mutex held). */
static int take_state(struct vgpu_vfio *vv, struct vgpu_mig_file *mf)
{
	size_t vsize = vendor_size(vv), msix = msix_bytes(vv);
	struct vgpu_mig_irq irq = { 0 };
	u8 *p = mf->state;
	int ret;

	if (state_bytes(vv, vsize) != mf->state_cap)
		return -EINVAL;
	p = put_section(p, VGPU_MIG_SEC_CONFIG, vv->cfg.data, vv->cfg.size);
	if (msix)
		put_msix(vv, p + SEC_HDR);
	p = put_section(p, VGPU_MIG_SEC_MSIX, NULL, msix);
	spin_lock_irq(&vv->irq.lock);
	irq.intx_pending = vv->irq.intx_pending;
	spin_unlock_irq(&vv->irq.lock);
	p = put_section(p, VGPU_MIG_SEC_IRQ, &irq, sizeof(irq));
	memset(p + SEC_HDR, 0, ALIGN(vsize, 8));
	ret = vv->ops->save_state(vv->vgpu, p + SEC_HDR, vsize);
	if (ret)
		return ret;
	p = put_section(p, VGPU_MIG_SEC_VENDOR, NULL, vsize);
	mf->state_len = p - mf->state;
	return 0;
}

/* VRAM through the vendor, not while a parent GPU reset holds it. */
static int vram_copy(struct vgpu_vfio *vv, u64 off, void *buf, size_t len,
		     bool write)
{
	int ret = -EIO;

	down_read(&vv->memory_lock);
	if (!vv->gpu_lost)
		ret = vv->ops->vram_rw(vv->vgpu, off, buf, len, write);
	up_read(&vv->memory_lock);
	return ret;
}

/* Next VRAM section from the send set; -ENOENT when it is empty. */
static int save_vram(struct vgpu_mig_file *mf)
{
	struct vgpu_vfio *vv = mf->vv;
	struct vgpu_mig_vram r = { 0 };
	u8 *data = mf->buf + VRAM_HDR;
	unsigned long first, last, n;
	int ret;

	if (!vv->vram_pages)
		return -ENOENT;
	first = find_next_bit(vv->vram_send, vv->vram_pages, mf->cursor);
	if (first >= vv->vram_pages)
		return -ENOENT;
	last = find_next_zero_bit(vv->vram_send,
				  min(vv->vram_pages,
				      first + VGPU_MIG_VRAM_MAX_PAGES), first);
	n = last - first;
	bitmap_clear(vv->vram_send, first, n);
	mf->cursor = last;
	ret = vram_copy(vv, (u64)first << PAGE_SHIFT, data, n << PAGE_SHIFT,
			false);
	if (ret)
		return ret;
	r.offset = cpu_to_le64((u64)first << PAGE_SHIFT);
	r.page_size = cpu_to_le32(PAGE_SIZE);
	r.npages = cpu_to_le32(n);
	r.crc = cpu_to_le32(vram_crc(&r, data, n << PAGE_SHIFT));
	put_section(mf->buf, VGPU_MIG_SEC_VRAM, &r, sizeof(r));
	/* put_section() wrote the struct only: fix the length */
	((struct vgpu_mig_section *)mf->buf)->len =
		cpu_to_le64(sizeof(r) + (n << PAGE_SHIFT));
	mf->len = VRAM_HDR + (n << PAGE_SHIFT);
	return 0;
}

/* Fills mf->buf with the next record: 0, 1 at the end, or -errno. */
static int save_next(struct vgpu_mig_file *mf)
{
	struct vgpu_vfio *vv = mf->vv;
	int ret;

	mf->pos = 0;
	mf->len = 0;
	switch (mf->phase) {
	case PH_HEADER:
		fill_header(vv, (struct vgpu_mig_header *)mf->buf);
		mf->len = sizeof(struct vgpu_mig_header);
		mf->phase = PH_VRAM;
		return 0;	/* not in the running crc */
	case PH_VRAM:
		ret = save_vram(mf);
		if (ret == -ENOENT && !mf->final) {
			/* PRE_COPY: the next pass, if anything was written */
			if (bitmap_empty(vv->vram_dirty, vv->vram_pages))
				return -ENOMSG;
			vram_fold(vv);
			mf->cursor = 0;
			mf->pass++;
			ret = save_vram(mf);
			if (ret == -ENOENT)
				return -ENOMSG;
		}
		if (ret == -ENOENT) {
			mf->phase = PH_STATE;
			return save_next(mf);
		}
		if (ret) {
			mf->phase = PH_FAILED;
			return ret;
		}
		break;
	case PH_STATE:
		memcpy(mf->buf, mf->state, mf->state_len);
		mf->len = mf->state_len;
		mf->phase = PH_END;
		break;
	case PH_END: {
		struct vgpu_mig_end e = {
			.payload_len = cpu_to_le64(mf->bytes),
			.crc = cpu_to_le32(~mf->crc),
		};

		put_section(mf->buf, VGPU_MIG_SEC_END, &e, sizeof(e));
		mf->len = END_REC;
		mf->phase = PH_EOF;
		return 0;
	}
	case PH_EOF:
		return 1;
	default:
		return -EIO;
	}
	mf->crc = crc32_le(mf->crc, mf->buf, mf->len);
	mf->bytes += mf->len;
	return 0;
}

/* ---- data fds ----------------------------------------------------------- */

/* Returns 0 with mf->lock held, or an errno without it. */
static int mig_begin(struct vgpu_mig_file *mf, loff_t *ppos)
{
	/* A stream: no pread() or pwrite(). */
	if (ppos)
		return -ESPIPE;
	mutex_lock(&mf->lock);
	if (mf->disabled || !mf->buf) {
		mutex_unlock(&mf->lock);
		return -ENODEV;
	}
	return 0;
}

static ssize_t mig_read(struct file *filp, char __user *ubuf, size_t count,
			loff_t *ppos)
{
	struct vgpu_mig_file *mf = filp->private_data;
	size_t done = 0, n;
	ssize_t ret;
	int r = 0;

	ret = mig_begin(mf, ppos);
	if (ret)
		return ret;
	while (done < count) {
		if (mf->pos == mf->len) {
			r = save_next(mf);
			if (r)
				break;
		}
		n = min(count - done, mf->len - mf->pos);
		if (copy_to_user(ubuf + done, mf->buf + mf->pos, n)) {
			r = -EFAULT;
			break;
		}
		mf->pos += n;
		done += n;
		if (fatal_signal_pending(current))
			break;
		cond_resched();
	}
	/* PRE_COPY with nothing to send now: -ENOMSG, as the uAPI says */
	ret = done ? done : (r == 1 ? 0 : r);
	mutex_unlock(&mf->lock);
	return ret;
}

/* ---- resuming ----------------------------------------------------------- */

struct mig_parsed {
	const u8 *cfg;
	const u8 *msix;
	const struct vgpu_mig_irq *irq;
	const u8 *vendor;
	size_t vendor_len;
};

#define refuse_err(vv, err, why)					\
	({								\
		dev_warn_ratelimited(vgpu_dev((vv)->vgpu),		\
				     "migration stream refused: %s\n", why); \
		err;							\
	})
#define refuse(vv, why)		refuse_err(vv, -EINVAL, why)

static bool zeroes(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

/* Next section: must be @id; @len exact, or at most @max when @len is 0. */
static int get_section(struct vgpu_vfio *vv, const u8 **p, const u8 *end,
		       u32 id, size_t len, size_t max, const u8 **data,
		       size_t *out_len)
{
	struct vgpu_mig_section s;
	u64 slen;

	if (end - *p < SEC_HDR)
		return refuse(vv, "truncated section");
	memcpy(&s, *p, sizeof(s));
	slen = le64_to_cpu(s.len);
	if (le32_to_cpu(s.id) != id || s.reserved)
		return refuse(vv, "unexpected section");
	if (len ? slen != len : slen > max)
		return refuse(vv, "section of wrong size");
	*p += SEC_HDR;
	if ((u64)(end - *p) < ALIGN(slen, 8))
		return refuse(vv, "truncated section");
	if (!zeroes(*p + slen, ALIGN(slen, 8) - slen))
		return refuse(vv, "bad section padding");
	*data = *p;
	*out_len = slen;
	*p += ALIGN(slen, 8);
	return 0;
}

/* The vendor checks (@apply false) or loads its blob; says why it refused. */
static int vendor_state(struct vgpu_vfio *vv, const struct mig_parsed *m,
			u32 version, bool apply)
{
	int ret = apply ? vv->ops->load_state(vv->vgpu, m->vendor,
					      m->vendor_len, version) :
			  vv->ops->check_state(vv->vgpu, m->vendor,
					       m->vendor_len, version);

	if (ret)
		dev_warn_ratelimited(vgpu_dev(vv->vgpu),
				     "migration stream refused: vendor state (%d)\n",
				     ret);
	return ret;
}

/* The device state sections, all in: CONFIG, MSIX, IRQ, VENDOR. */
static int mig_parse_state(struct vgpu_vfio *vv, const u8 *buf, size_t len,
			   struct mig_parsed *m)
{
	const u8 *p = buf, *end = buf + len, *d;
	size_t dlen;
	int ret;

	ret = get_section(vv, &p, end, VGPU_MIG_SEC_CONFIG, vv->cfg.size, 0,
			  &m->cfg, &dlen);
	if (ret)
		return ret;
	/* without MSI-X: "at most 0" bytes */
	ret = get_section(vv, &p, end, VGPU_MIG_SEC_MSIX, msix_bytes(vv),
			  msix_bytes(vv), &m->msix, &dlen);
	if (ret)
		return ret;
	ret = get_section(vv, &p, end, VGPU_MIG_SEC_IRQ, sizeof(*m->irq), 0,
			  &d, &dlen);
	if (ret)
		return ret;
	m->irq = (const struct vgpu_mig_irq *)d;
	if (m->irq->intx_pending > 1 ||
	    !zeroes(m->irq->reserved, sizeof(m->irq->reserved)))
		return refuse(vv, "bad interrupt state");
	ret = get_section(vv, &p, end, VGPU_MIG_SEC_VENDOR, 0, vendor_size(vv),
			  &m->vendor, &m->vendor_len);
	if (ret)
		return ret;
	if (p != end)
		return refuse(vv, "unknown trailing section");
	return 0;
}

static int rx_header(struct vgpu_mig_file *mf)
{
	struct vgpu_vfio *vv = mf->vv;
	struct vgpu_device *vgpu = vv->vgpu;
	struct vgpu_mig_header h;
	char name[sizeof(h.type) + 1];

	memcpy(&h, mf->buf, sizeof(h));
	if (le32_to_cpu(h.magic) != VGPU_MIG_MAGIC)
		return refuse(vv, "bad magic");
	if (le16_to_cpu(h.version) != VGPU_MIG_VERSION ||
	    le16_to_cpu(h.header_size) != sizeof(h))
		return refuse(vv, "unsupported format version");
	if (le32_to_cpu(h.crc) != header_crc(&h))
		return refuse(vv, "header checksum mismatch");
	if (!zeroes(h.reserved, sizeof(h.reserved)))
		return refuse(vv, "reserved header bytes set");
	memset(name, 0, sizeof(name));
	memcpy(name, h.driver, sizeof(h.driver));
	if (strcmp(name, module_name(vv->ops->owner)) ||
	    !zeroes(h.driver + strlen(name), sizeof(h.driver) - strlen(name)))
		return refuse(vv, "other vendor driver");
	memset(name, 0, sizeof(name));
	memcpy(name, h.type, sizeof(h.type));
	if (strcmp(name, vgpu->type->type->name) ||
	    !zeroes(h.type + strlen(name), sizeof(h.type) - strlen(name)))
		return refuse(vv, "other vGPU type");
	/* after the type, which names the mismatch better */
	if (le16_to_cpu(h.vendor) != vgpu->info.vendor ||
	    le16_to_cpu(h.device) != vgpu->info.device ||
	    le16_to_cpu(h.subsystem_vendor) != vgpu->info.subsystem_vendor ||
	    le16_to_cpu(h.subsystem_device) != vgpu->info.subsystem_device)
		return refuse(vv, "other PCI device");
	if (le64_to_cpu(h.vram_size) != (u64)vv->vram_pages << PAGE_SHIFT)
		return refuse(vv, "other VRAM size");
	mf->state_version = le32_to_cpu(h.state_version);
	return 0;
}

/* A section header is in: check it fits where it stands. */
static int rx_section(struct vgpu_mig_file *mf)
{
	struct vgpu_vfio *vv = mf->vv;
	struct vgpu_mig_section s;
	size_t max;

	memcpy(&s, mf->buf, sizeof(s));
	mf->sec_id = le32_to_cpu(s.id);
	mf->sec_len = le64_to_cpu(s.len);
	if (s.reserved)
		return refuse(vv, "unexpected section");
	switch (mf->sec_id) {
	case VGPU_MIG_SEC_VRAM:
		if (!vv->vram_pages || mf->next_id != VGPU_MIG_SEC_CONFIG)
			return refuse(vv, "unexpected section");
		if (mf->sec_len > VRAM_REC_MAX - SEC_HDR)
			return refuse_err(vv, -EFBIG, "oversized section");
		if (mf->sec_len < sizeof(struct vgpu_mig_vram) + PAGE_SIZE)
			return refuse(vv, "section of wrong size");
		break;
	case VGPU_MIG_SEC_CONFIG:
	case VGPU_MIG_SEC_MSIX:
	case VGPU_MIG_SEC_IRQ:
	case VGPU_MIG_SEC_VENDOR:
		if (mf->sec_id != mf->next_id)
			return refuse(vv, "unexpected section");
		/* sizes are checked in full by mig_parse_state() */
		max = mf->state_cap - mf->state_len;
		if (max < SEC_HDR || mf->sec_len > max - SEC_HDR)
			return refuse_err(vv, -EFBIG, "oversized section");
		memcpy(mf->state + mf->state_len, &s, sizeof(s));
		break;
	case VGPU_MIG_SEC_END:
		if (mf->next_id != VGPU_MIG_SEC_END)
			return refuse(vv, "unexpected section");
		if (mf->sec_len != sizeof(struct vgpu_mig_end))
			return refuse(vv, "section of wrong size");
		return 0;	/* END is not in the crc it carries */
	default:
		return refuse(vv, "unexpected section");
	}
	mf->crc = crc32_le(mf->crc, mf->buf, SEC_HDR);
	mf->bytes += SEC_HDR;
	return 0;
}

/* A section's data is in: apply VRAM now, keep the device state. */
static int rx_data(struct vgpu_mig_file *mf)
{
	struct vgpu_vfio *vv = mf->vv;
	size_t len = mf->sec_len, pad = ALIGN(len, 8);
	const struct vgpu_mig_vram *r = (const void *)mf->buf;
	const struct vgpu_mig_end *e = (const void *)mf->buf;
	u64 off, n;
	int ret;

	if (!zeroes(mf->buf + len, pad - len))
		return refuse(vv, "bad section padding");
	switch (mf->sec_id) {
	case VGPU_MIG_SEC_VRAM:
		off = le64_to_cpu(r->offset);
		n = le32_to_cpu(r->npages);
		if (le32_to_cpu(r->page_size) != PAGE_SIZE || r->reserved ||
		    !n || len != sizeof(*r) + (n << PAGE_SHIFT))
			return refuse(vv, "section of wrong size");
		if (!PAGE_ALIGNED(off) || (off >> PAGE_SHIFT) > vv->vram_pages ||
		    n > vv->vram_pages - (off >> PAGE_SHIFT))
			return refuse(vv, "VRAM outside the vGPU's");
		if (le32_to_cpu(r->crc) != vram_crc(r, (const u8 *)(r + 1),
						    n << PAGE_SHIFT))
			return refuse(vv, "VRAM checksum mismatch");
		ret = vram_copy(vv, off, (void *)(r + 1), n << PAGE_SHIFT, true);
		if (ret)
			return refuse_err(vv, ret, "VRAM not written");
		break;
	case VGPU_MIG_SEC_END: {
		struct mig_parsed m;

		if (le64_to_cpu(e->payload_len) != mf->bytes ||
		    le32_to_cpu(e->crc) != ~mf->crc || e->reserved)
			return refuse(vv, "stream length or checksum mismatch");
		/*
		 * The device state is whole: check it now, so a bad one fails
		 * this write (and the VMM's load, which can still report it)
		 * rather than RESUMING -> STOP; it is applied only there.
		 */
		ret = mig_parse_state(vv, mf->state, mf->state_len, &m);
		if (!ret && vv->ops->check_state)
			ret = vendor_state(vv, &m, mf->state_version, false);
		if (ret)
			return ret;
		mf->rx = RX_DONE;
		return 0;
	}
	default:
		memcpy(mf->state + mf->state_len + SEC_HDR, mf->buf, pad);
		mf->state_len += SEC_HDR + pad;
		mf->next_id = mf->sec_id == VGPU_MIG_SEC_VENDOR ?
			      VGPU_MIG_SEC_END : mf->sec_id + 1;
	}
	mf->crc = crc32_le(mf->crc, mf->buf, pad);
	mf->bytes += pad;
	return 0;
}

/* The unit in mf->buf is complete: check it, say what comes next. */
static int rx_step(struct vgpu_mig_file *mf)
{
	int ret;

	switch (mf->rx) {
	case RX_HEADER:
		ret = rx_header(mf);
		mf->rx = RX_SECTION;
		mf->need = SEC_HDR;
		break;
	case RX_SECTION:
		ret = rx_section(mf);
		mf->rx = RX_DATA;
		mf->need = ALIGN(mf->sec_len, 8);
		break;
	default:
		ret = rx_data(mf);
		if (mf->rx != RX_DONE)
			mf->rx = RX_SECTION;
		mf->need = mf->rx == RX_DONE ? 0 : SEC_HDR;
	}
	mf->len = 0;
	return ret;
}

static ssize_t mig_write(struct file *filp, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	struct vgpu_mig_file *mf = filp->private_data;
	size_t done = 0, n;
	ssize_t ret;

	ret = mig_begin(mf, ppos);
	if (ret)
		return ret;
	/* Refused once: the rest of that stream means nothing. */
	if (mf->failed) {
		ret = -EINVAL;
		goto out;
	}
	for (;;) {
		if (mf->len == mf->need && mf->rx != RX_DONE) {
			ret = rx_step(mf);
			if (ret) {
				mf->failed = true;
				goto out;
			}
			continue;
		}
		if (done == count)
			break;
		if (mf->rx == RX_DONE) {
			mf->failed = true;
			ret = refuse(mf->vv, "trailing bytes after the stream");
			goto out;
		}
		n = min(count - done, mf->need - mf->len);
		if (copy_from_user(mf->buf + mf->len, ubuf + done, n)) {
			ret = done ? done : -EFAULT;
			goto out;
		}
		mf->len += n;
		done += n;
	}
	ret = done;
out:
	mutex_unlock(&mf->lock);
	return ret;
}

static long mig_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
#ifdef VGPU_HAVE_MIG_PRECOPY
	unsigned long minsz = offsetofend(struct vfio_precopy_info, dirty_bytes);
	struct vgpu_mig_file *mf = filp->private_data;
	struct vfio_precopy_info info;
	struct vgpu_vfio *vv = mf->vv;
	u64 rest, send, dirty;
	long ret = 0;

	if (cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	mutex_lock(&mf->lock);
	/* only in PRE_COPY and PRE_COPY_P2P */
	if (mf->disabled || !mf->precopy || mf->final) {
		ret = -EINVAL;
		goto out;
	}
	rest = mf->len - mf->pos;
	if (mf->phase == PH_HEADER)
		rest += sizeof(struct vgpu_mig_header);
	send = vram_bytes(vv->vram_send, vv->vram_pages);
	dirty = (u64)bitmap_weight(vv->vram_dirty, vv->vram_pages) <<
		PAGE_SHIFT;
	if (!mf->pass) {
		info.initial_bytes = rest + send;
		info.dirty_bytes = dirty;
	} else {
		info.initial_bytes = 0;
		info.dirty_bytes = rest + send + dirty;
	}
out:
	mutex_unlock(&mf->lock);
	if (!ret && copy_to_user((void __user *)arg, &info, minsz))
		ret = -EFAULT;
	return ret;
#else
	return -ENOTTY;
#endif
}

static void mig_file_free(struct vgpu_mig_file *mf)
{
	kvfree(mf->buf);
	kvfree(mf->state);
	mutex_destroy(&mf->lock);
	kfree(mf);
}

static int mig_release(struct inode *inode, struct file *filp)
{
	mig_file_free(filp->private_data);
	return 0;
}

static const struct file_operations mig_fops = {
	.owner		= THIS_MODULE,
	.read		= mig_read,
	.write		= mig_write,
	.unlocked_ioctl	= mig_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.release	= mig_release,
};

/* Both directions hold one record and the device state, never all VRAM. */
static struct vgpu_mig_file *mig_file_new(struct vgpu_vfio *vv, bool saving)
{
	size_t vsize = vendor_size(vv);
	struct vgpu_mig_file *mf;
	struct file *filp;

	if (vsize > VGPU_MAX_STATE_SIZE)
		return ERR_PTR(-EINVAL);
	mf = kzalloc(sizeof(*mf), GFP_KERNEL_ACCOUNT);
	if (!mf)
		return ERR_PTR(-ENOMEM);
	mutex_init(&mf->lock);
	mf->vv = vv;
	mf->state_cap = state_bytes(vv, vsize);
	mf->cap = max3(mf->state_cap, (size_t)END_REC,
		       sizeof(struct vgpu_mig_header));
	if (vv->vram_pages)
		mf->cap = max_t(size_t, mf->cap, VRAM_REC_MAX);
	mf->buf = kvzalloc(mf->cap, GFP_KERNEL_ACCOUNT);
	mf->state = kvzalloc(mf->state_cap, GFP_KERNEL_ACCOUNT);
	if (!mf->buf || !mf->state) {
		mig_file_free(mf);
		return ERR_PTR(-ENOMEM);
	}
	mf->crc = ~0U;
	mf->next_id = VGPU_MIG_SEC_CONFIG;
	mf->need = sizeof(struct vgpu_mig_header);
	filp = anon_inode_getfile("[vgpu_mig]", &mig_fops, mf,
				  saving ? O_RDONLY : O_WRONLY);
	if (IS_ERR(filp)) {
		mig_file_free(mf);
		return ERR_CAST(filp);
	}
	mf->filp = filp;
	stream_open(filp->f_inode, filp);
	return mf;
}

/* Ends a data fd: the user's further reads and writes fail with -ENODEV. */
static void mig_file_disable(struct vgpu_mig_file **slot)
{
	struct vgpu_mig_file *mf = *slot;

	if (!mf)
		return;
	*slot = NULL;
	mutex_lock(&mf->lock);
	mf->disabled = true;
	kvfree(mf->buf);
	mf->buf = NULL;
	kvfree(mf->state);
	mf->state = NULL;
	mf->len = 0;
	mf->pos = 0;
	mutex_unlock(&mf->lock);
	fput(mf->filp);
}

/* A saving fd; for STOP_COPY (@precopy false) the vGPU is frozen. */
static struct file *mig_save(struct vgpu_vfio *vv, bool precopy)
{
	struct vgpu_mig_file *mf;
	int ret;

	mf = mig_file_new(vv, true);
	if (IS_ERR(mf))
		return ERR_CAST(mf);
	if (vv->vram_pages)
		bitmap_fill(vv->vram_send, vv->vram_pages);
	mf->precopy = precopy;
	if (precopy) {
		vram_track(vv, true);
	} else {
		ret = take_state(vv, mf);
		if (ret) {
			fput(mf->filp);
			return ERR_PTR(ret);
		}
		mf->final = true;
	}
	vv->saving = mf;
	return mf->filp;
}

/* PRE_COPY_P2P -> STOP_COPY: frozen now; the last pass, then the state. */
static int mig_save_final(struct vgpu_vfio *vv)
{
	struct vgpu_mig_file *mf = vv->saving;
	int ret;

	vram_track(vv, false);
	/* vram_send is the fd's: fold under its mutex, as read() does */
	mutex_lock(&mf->lock);
	vram_fold(vv);
	ret = take_state(vv, mf);
	if (!ret) {
		mf->cursor = 0;
		mf->final = true;
	}
	mutex_unlock(&mf->lock);
	return ret;
}

/* Validated already: cannot fail. */
static void mig_apply_core(struct vgpu_vfio *vv, const struct mig_parsed *m)
{
	unsigned int n = vv->vgpu->info.irqs.msix, i;
	u32 tsize = vgpu_msix_table_size(n);
	u16 cmd;

	vcfg_restore(&vv->cfg, m->cfg);
	spin_lock_irq(&vv->irq.lock);
	if (n) {
		memcpy(vv->msix_table, m->msix, tsize);
		for (i = 0; i < n; i++)
			__assign_bit(i, vv->irq.msix_pending,
				     m->msix[tsize + i / 8] & BIT(i % 8));
	}
	vv->irq.intx_pending = m->irq->intx_pending;
	spin_unlock_irq(&vv->irq.lock);

	cmd = vcfg_get16(&vv->cfg, PCI_COMMAND);
	vgpu_vfio_set_memory(vv, cmd & PCI_COMMAND_MEMORY);
	WRITE_ONCE(vv->bus_master, !!(cmd & PCI_COMMAND_MASTER));
	/* Interrupt masks follow config at thaw, when delivery may resume. */
}

static int mig_load(struct vgpu_vfio *vv)
{
	struct vgpu_mig_file *mf = vv->resuming;
	struct mig_parsed m = { 0 };
	int ret;

	mutex_lock(&mf->lock);
	if (mf->failed)
		ret = -EINVAL;	/* said why already */
	else if (mf->rx != RX_DONE)
		ret = refuse(vv, "truncated stream");
	else
		ret = mig_parse_state(vv, mf->state, mf->state_len, &m);
	if (!ret)
		ret = vendor_state(vv, &m, mf->state_version, true);
	if (!ret)
		mig_apply_core(vv, &m);
	mutex_unlock(&mf->lock);
	return ret;
}

/* ---- the state machine ------------------------------------------------ */

static void mig_freeze(struct vgpu_vfio *vv)
{
	down_write(&vv->memory_lock);
	vv->frozen = true;
	vgpu_vfio_zap_all_locked(vv);
	up_write(&vv->memory_lock);
	vv->ops->freeze(vv->vgpu);
}

static void mig_thaw(struct vgpu_vfio *vv)
{
	down_write(&vv->memory_lock);
	vv->frozen = false;
	up_write(&vv->memory_lock);
	vv->ops->thaw(vv->vgpu);
}

static bool is_running(enum vfio_device_mig_state s)
{
	return s == VFIO_DEVICE_STATE_RUNNING ||
	       s == VFIO_DEVICE_STATE_RUNNING_P2P;
}

static bool is_precopy(enum vfio_device_mig_state s)
{
#ifdef VGPU_HAVE_MIG_PRECOPY
	return s == VFIO_DEVICE_STATE_PRE_COPY ||
	       s == VFIO_DEVICE_STATE_PRE_COPY_P2P;
#else
	return false;
#endif
}

/* One arc of the FSM; vfio_mig_get_next_state() picked it. */
static struct file *mig_step(struct vgpu_vfio *vv,
			     enum vfio_device_mig_state next)
{
	enum vfio_device_mig_state cur = vv->mig_state;
	struct vgpu_mig_file *mf;
	struct file *f;
	int ret;

	/* A vGPU does no peer-to-peer DMA: the _P2P states are the others. */
	if ((is_running(cur) && is_running(next)) ||
	    (is_precopy(cur) && is_precopy(next)))
		return NULL;
	if (is_running(cur) && next == VFIO_DEVICE_STATE_STOP) {
		mig_freeze(vv);
		return NULL;
	}
	if (cur == VFIO_DEVICE_STATE_STOP && is_running(next)) {
		mig_thaw(vv);
		vgpu_vfio_irq_config_changed(vv);
		return NULL;
	}
	/* PRE_COPY: the vGPU keeps running; VRAM goes out while tracked. */
	if (is_running(cur) && is_precopy(next)) {
		f = mig_save(vv, true);
		if (!IS_ERR(f))
			get_file(f);	/* the caller's reference, for the fd */
		return f;
	}
	if (is_precopy(cur) && is_running(next)) {
		vram_track(vv, false);
		mig_file_disable(&vv->saving);
		return NULL;
	}
	if (is_precopy(cur) && next == VFIO_DEVICE_STATE_STOP_COPY) {
		/* the PRE_COPY data fd carries on */
		mig_freeze(vv);
		ret = mig_save_final(vv);
		if (ret) {
			mig_thaw(vv);
			vram_track(vv, true);
			return ERR_PTR(ret);
		}
		return NULL;
	}
	if (cur == VFIO_DEVICE_STATE_STOP &&
	    next == VFIO_DEVICE_STATE_STOP_COPY) {
		f = mig_save(vv, false);
		if (!IS_ERR(f))
			get_file(f);
		return f;
	}
	if (cur == VFIO_DEVICE_STATE_STOP_COPY &&
	    next == VFIO_DEVICE_STATE_STOP) {
		mig_file_disable(&vv->saving);
		return NULL;
	}
	if (cur == VFIO_DEVICE_STATE_STOP &&
	    next == VFIO_DEVICE_STATE_RESUMING) {
		mf = mig_file_new(vv, false);
		if (IS_ERR(mf))
			return ERR_CAST(mf);
		vv->resuming = mf;
		get_file(mf->filp);
		return mf->filp;
	}
	if (cur == VFIO_DEVICE_STATE_RESUMING &&
	    next == VFIO_DEVICE_STATE_STOP) {
		/*
		 * Refused: stay in RESUMING, no device state applied; the user
		 * may write the rest of a short stream or reset the device.
		 */
		ret = mig_load(vv);
		if (ret)
			return ERR_PTR(ret);
		mig_file_disable(&vv->resuming);
		return NULL;
	}
	return ERR_PTR(-EINVAL);
}

static struct file *vgpu_vfio_mig_set_state(struct vfio_device *vdev,
					    enum vfio_device_mig_state new)
{
	struct vgpu_vfio *vv = to_vv(vdev);
	enum vfio_device_mig_state next;
	struct file *res = NULL;
	int ret;

	mutex_lock(&vv->vgpu->lock);
	while (vv->mig_state != new) {
		ret = vfio_mig_get_next_state(vdev, vv->mig_state, new, &next);
		if (ret) {
			res = ERR_PTR(ret);
			break;
		}
		res = mig_step(vv, next);
		if (IS_ERR(res))
			break;
		vv->mig_state = next;
		/* Only the last arc may open a data fd. */
		if (WARN_ON(res && next != new)) {
			fput(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
	}
	mutex_unlock(&vv->vgpu->lock);
	return res;
}

static int vgpu_vfio_mig_get_state(struct vfio_device *vdev,
				   enum vfio_device_mig_state *state)
{
	struct vgpu_vfio *vv = to_vv(vdev);

	mutex_lock(&vv->vgpu->lock);
	*state = vv->mig_state;
	mutex_unlock(&vv->vgpu->lock);
	return 0;
}

#ifdef VGPU_HAVE_MIG_DATA_SIZE
/*
 * What STOP_COPY would send from here: during PRE_COPY what is left to
 * send or written since (an upper bound), else the whole stream.
 */
static int vgpu_vfio_mig_get_data_size(struct vfio_device *vdev,
				       unsigned long *stop_copy_length)
{
	struct vgpu_vfio *vv = to_vv(vdev);
	struct vgpu_mig_file *mf;
	u64 len;

	mutex_lock(&vv->vgpu->lock);
	mf = vv->saving;
	len = state_bytes(vv, vendor_size(vv)) + END_REC;
	if (mf && mf->precopy && !mf->final) {
		mutex_lock(&mf->lock);
		len += mf->len - mf->pos +
		       vram_bytes(vv->vram_send, vv->vram_pages) +
		       vram_bytes(vv->vram_dirty, vv->vram_pages);
		mutex_unlock(&mf->lock);
	} else {
		len += sizeof(struct vgpu_mig_header) + vram_bytes_all(vv);
	}
	*stop_copy_length = len;
	mutex_unlock(&vv->vgpu->lock);
	return 0;
}
#endif

static const struct vfio_migration_ops vgpu_vfio_mig_ops = {
	.migration_set_state	= vgpu_vfio_mig_set_state,
	.migration_get_state	= vgpu_vfio_mig_get_state,
#ifdef VGPU_HAVE_MIG_DATA_SIZE
	.migration_get_data_size = vgpu_vfio_mig_get_data_size,
#endif
};

/* The VRAM the vendor declared: page multiple inside a writable mmap area. */
static int mig_vram_init(struct vgpu_vfio *vv)
{
	const struct vgpu_device_info *info = &vv->vgpu->info;
	const struct vgpu_vfio_region *vr;
	struct vgpu_mmap_area whole;
	unsigned long words;

	if (!vv->ops->vram_rw)
		return info->vram_size ? -EINVAL : 0;
	if (info->vram_index >= vv->nr_regions || !info->vram_size ||
	    !PAGE_ALIGNED(info->vram_size))
		return -EINVAL;
	vr = &vv->regions[info->vram_index];
	if (!(vr->flags & VFIO_REGION_INFO_FLAG_MMAP) ||
	    !(vr->flags & VFIO_REGION_INFO_FLAG_WRITE) ||
	    !vgpu_region_area(vr->decl, 0, info->vram_size, &whole))
		return -EINVAL;
	words = BITS_TO_LONGS(info->vram_size >> PAGE_SHIFT);
	vv->vram_dirty = kvcalloc(words, sizeof(long), GFP_KERNEL);
	vv->vram_send = kvcalloc(words, sizeof(long), GFP_KERNEL);
	if (!vv->vram_dirty || !vv->vram_send) {
		vgpu_vfio_mig_fini(vv);
		return -ENOMEM;
	}
	vv->vram_pages = info->vram_size >> PAGE_SHIFT;
	return 0;
}

/* Before registration: only a vendor with the state ops migrates. */
void vgpu_vfio_mig_init(struct vgpu_vfio *vv)
{
	int ret;

	vv->mig_state = VFIO_DEVICE_STATE_RUNNING;
	if (!vv->ops->save_state)
		return;
	ret = mig_vram_init(vv);
	if (ret) {
		dev_warn(vgpu_dev(vv->vgpu),
			 "VRAM declaration unusable (%d): no migration\n", ret);
		return;
	}
	vv->vdev.migration_flags = VFIO_MIGRATION_STOP_COPY |
				   VFIO_MIGRATION_P2P;
#ifdef VGPU_HAVE_MIG_PRECOPY
	/* Iterating needs VRAM the core tracks. */
	if (vv->vram_pages)
		vv->vdev.migration_flags |= VFIO_MIGRATION_PRE_COPY;
#endif
	vv->vdev.mig_ops = &vgpu_vfio_mig_ops;
}

void vgpu_vfio_mig_fini(struct vgpu_vfio *vv)
{
	kvfree(vv->vram_dirty);
	kvfree(vv->vram_send);
	vv->vram_dirty = NULL;
	vv->vram_send = NULL;
	vv->vram_pages = 0;
}

/*
 * Reset and close (vGPU mutex held): end the data fds and the tracking,
 * thaw the vendor if it was frozen, and start again from RUNNING.
 */
void vgpu_vfio_mig_reset(struct vgpu_vfio *vv)
{
	lockdep_assert_held(&vv->vgpu->lock);
	if (vv->tracking)
		vram_track(vv, false);
	mig_file_disable(&vv->saving);
	mig_file_disable(&vv->resuming);
	if (vv->frozen)
		mig_thaw(vv);
	vv->mig_state = VFIO_DEVICE_STATE_RUNNING;
}
