// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO migration v2 of a vGPU: the state machine (STOP_COPY and P2P), the
 * data fds and the stream (include/vgpu_mig.h).
 *
 * Locking: every transition runs under the vGPU mutex, which also orders it
 * against trapped accesses, config writes, reset and close. A data fd has
 * its own mutex (taken inside the vGPU mutex, never around it), so read()
 * and write() of the stream never wait for the device. "frozen" (STOP,
 * STOP_COPY, RESUMING) is written under the vGPU mutex and memory_lock:
 * trapped BAR accesses and faults on writable mappings see it under either.
 */
#include <linux/anon_inodes.h>
#include <linux/crc32.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "compat.h"
#include "vfio.h"
#include "vgpu_mig.h"

struct vgpu_mig_file {
	struct file *filp;
	struct mutex lock;	/* guards the fields below */
	bool disabled;		/* the transition that made it is over */
	u8 *buf;
	size_t len;		/* saving: stream length; resuming: written */
	size_t cap;		/* resuming: most this vGPU accepts */
	size_t pos;		/* saving: read position */
};

#define SEC_HDR	sizeof(struct vgpu_mig_section)

static size_t msix_bytes(struct vgpu_vfio *vv)
{
	unsigned int n = vv->vgpu->info.irqs.msix;

	return n ? vgpu_msix_table_size(n) + vgpu_msix_pba_size(n) : 0;
}

/* Stream length for a vendor blob of @vendor bytes. */
static size_t stream_size(struct vgpu_vfio *vv, size_t vendor)
{
	return sizeof(struct vgpu_mig_header) + 4 * SEC_HDR +
	       ALIGN(vv->cfg.size, 8) + ALIGN(msix_bytes(vv), 8) +
	       sizeof(struct vgpu_mig_irq) + ALIGN(vendor, 8);
}

static size_t vendor_size(struct vgpu_vfio *vv)
{
	return vv->ops->state_size(vv->vgpu);
}

static u32 stream_crc(const u8 *buf, size_t len)
{
	struct vgpu_mig_header h;
	u32 crc;

	memcpy(&h, buf, sizeof(h));
	h.crc = 0;
	crc = crc32_le(~0U, (const u8 *)&h, sizeof(h));
	crc = crc32_le(crc, buf + sizeof(h), len - sizeof(h));
	return ~crc;
}

/* ---- data fds ----------------------------------------------------------- */

static ssize_t mig_read(struct file *filp, char __user *ubuf, size_t count,
			loff_t *ppos)
{
	struct vgpu_mig_file *mf = filp->private_data;
	ssize_t ret;
	size_t n;

	/* A stream: no pread(). */
	if (ppos)
		return -ESPIPE;
	mutex_lock(&mf->lock);
	if (mf->disabled) {
		ret = -ENODEV;
		goto out;
	}
	n = min(count, mf->len - mf->pos);
	if (n && copy_to_user(ubuf, mf->buf + mf->pos, n)) {
		ret = -EFAULT;
		goto out;
	}
	mf->pos += n;
	ret = n;
out:
	mutex_unlock(&mf->lock);
	return ret;
}

static ssize_t mig_write(struct file *filp, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	struct vgpu_mig_file *mf = filp->private_data;
	const struct vgpu_mig_header *h;
	size_t had;
	ssize_t ret;

	if (ppos)
		return -ESPIPE;
	mutex_lock(&mf->lock);
	if (mf->disabled) {
		ret = -ENODEV;
		goto out;
	}
	/* More than this vGPU's state could ever be. */
	if (count > mf->cap - mf->len) {
		ret = -EFBIG;
		goto out;
	}
	if (copy_from_user(mf->buf + mf->len, ubuf, count)) {
		ret = -EFAULT;
		goto out;
	}
	had = mf->len;
	mf->len += count;
	/* Refuse a stream announcing too much as soon as its header is in. */
	h = (const struct vgpu_mig_header *)mf->buf;
	if (mf->len >= sizeof(*h) &&
	    le64_to_cpu(h->payload_len) > mf->cap - sizeof(*h)) {
		mf->len = had;
		ret = -EFBIG;
		goto out;
	}
	ret = count;
out:
	mutex_unlock(&mf->lock);
	return ret;
}

static int mig_release(struct inode *inode, struct file *filp)
{
	struct vgpu_mig_file *mf = filp->private_data;

	kvfree(mf->buf);
	mutex_destroy(&mf->lock);
	kfree(mf);
	return 0;
}

static const struct file_operations mig_fops = {
	.owner		= THIS_MODULE,
	.read		= mig_read,
	.write		= mig_write,
	.release	= mig_release,
};

static struct vgpu_mig_file *mig_file_new(size_t size, bool saving)
{
	struct vgpu_mig_file *mf;

	mf = kzalloc(sizeof(*mf), GFP_KERNEL_ACCOUNT);
	if (!mf)
		return ERR_PTR(-ENOMEM);
	mf->buf = kvzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!mf->buf) {
		kfree(mf);
		return ERR_PTR(-ENOMEM);
	}
	mutex_init(&mf->lock);
	mf->filp = anon_inode_getfile("[vgpu_mig]", &mig_fops, mf,
				      saving ? O_RDONLY : O_WRONLY);
	if (IS_ERR(mf->filp)) {
		struct file *err = mf->filp;

		kvfree(mf->buf);
		mutex_destroy(&mf->lock);
		kfree(mf);
		return ERR_CAST(err);
	}
	stream_open(mf->filp->f_inode, mf->filp);
	if (saving)
		mf->len = size;
	else
		mf->cap = size;
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
	mf->len = 0;
	mf->pos = 0;
	mutex_unlock(&mf->lock);
	fput(mf->filp);
}

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
	return p + ALIGN(len, 8);	/* the buffer is zeroed: padding is 0 */
}

static void put_msix(struct vgpu_vfio *vv, u8 *p)
{
	unsigned int n = vv->vgpu->info.irqs.msix, i;
	u32 tsize = vgpu_msix_table_size(n);
	unsigned long flags;

	spin_lock_irqsave(&vv->irq.lock, flags);
	memcpy(p, vv->msix_table, tsize);
	for (i = 0; i < n; i++)
		if (test_bit(i, vv->irq.msix_pending))
			p[tsize + i / 8] |= BIT(i % 8);
	spin_unlock_irqrestore(&vv->irq.lock, flags);
}

static struct file *mig_save(struct vgpu_vfio *vv)
{
	struct vgpu_device *vgpu = vv->vgpu;
	size_t vsize = vendor_size(vv), total, msix = msix_bytes(vv);
	struct vgpu_mig_header *h;
	struct vgpu_mig_irq irq = { 0 };
	struct vgpu_mig_file *mf;
	u8 *p;
	int ret;

	if (vsize > VGPU_MAX_STATE_SIZE)
		return ERR_PTR(-EINVAL);
	total = stream_size(vv, vsize);
	mf = mig_file_new(total, true);
	if (IS_ERR(mf))
		return ERR_CAST(mf);

	h = (struct vgpu_mig_header *)mf->buf;
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
	h->payload_len = cpu_to_le64(total - sizeof(*h));

	p = mf->buf + sizeof(*h);
	p = put_section(p, VGPU_MIG_SEC_CONFIG, vv->cfg.data, vv->cfg.size);
	if (msix)
		put_msix(vv, p + SEC_HDR);
	p = put_section(p, VGPU_MIG_SEC_MSIX, NULL, msix);
	spin_lock_irq(&vv->irq.lock);
	irq.intx_pending = vv->irq.intx_pending;
	spin_unlock_irq(&vv->irq.lock);
	p = put_section(p, VGPU_MIG_SEC_IRQ, &irq, sizeof(irq));
	ret = vv->ops->save_state(vgpu, p + SEC_HDR, vsize);
	if (ret)
		goto err;
	p = put_section(p, VGPU_MIG_SEC_VENDOR, NULL, vsize);
	if (WARN_ON(p != mf->buf + total)) {
		ret = -EIO;
		goto err;
	}
	h->crc = cpu_to_le32(stream_crc(mf->buf, total));
	vv->saving = mf;
	return mf->filp;
err:
	fput(mf->filp);
	return ERR_PTR(ret);
}

/* ---- resuming ----------------------------------------------------------- */

struct mig_parsed {
	const u8 *cfg;
	const u8 *msix;
	const struct vgpu_mig_irq *irq;
	const u8 *vendor;
	size_t vendor_len;
	u32 state_version;
};

#define refuse(vv, why)							\
	({								\
		dev_warn_ratelimited(vgpu_dev((vv)->vgpu),		\
				     "migration stream refused: %s\n", why); \
		-EINVAL;						\
	})

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

static int mig_parse(struct vgpu_vfio *vv, const u8 *buf, size_t len,
		     struct mig_parsed *m)
{
	struct vgpu_device *vgpu = vv->vgpu;
	struct vgpu_mig_header h;
	const u8 *p, *end, *d;
	char name[sizeof(h.type) + 1];
	size_t dlen;
	int ret;

	if (len < sizeof(h))
		return refuse(vv, "truncated header");
	memcpy(&h, buf, sizeof(h));
	if (le32_to_cpu(h.magic) != VGPU_MIG_MAGIC)
		return refuse(vv, "bad magic");
	if (le16_to_cpu(h.version) != VGPU_MIG_VERSION ||
	    le16_to_cpu(h.header_size) != sizeof(h))
		return refuse(vv, "unsupported format version");
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
	if (le64_to_cpu(h.payload_len) > len - sizeof(h))
		return refuse(vv, "truncated stream");
	if (le64_to_cpu(h.payload_len) < len - sizeof(h))
		return refuse(vv, "trailing bytes after the stream");
	if (le32_to_cpu(h.crc) != stream_crc(buf, len))
		return refuse(vv, "checksum mismatch");

	p = buf + sizeof(h);
	end = buf + len;
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
	m->state_version = le32_to_cpu(h.state_version);
	return 0;
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
	ret = mig_parse(vv, mf->buf, mf->len, &m);
	if (!ret) {
		ret = vv->ops->load_state(vv->vgpu, m.vendor, m.vendor_len,
					  m.state_version);
		if (ret)
			dev_warn_ratelimited(vgpu_dev(vv->vgpu),
					     "migration stream refused: vendor state (%d)\n",
					     ret);
	}
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

/* One arc of the FSM; vfio_mig_get_next_state() picked it. */
static struct file *mig_step(struct vgpu_vfio *vv,
			     enum vfio_device_mig_state next)
{
	enum vfio_device_mig_state cur = vv->mig_state;
	struct file *f;
	int ret;

	/* A vGPU does no peer-to-peer DMA: RUNNING_P2P is RUNNING. */
	if (is_running(cur) && is_running(next))
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
	if (cur == VFIO_DEVICE_STATE_STOP &&
	    next == VFIO_DEVICE_STATE_STOP_COPY) {
		f = mig_save(vv);
		if (!IS_ERR(f))
			get_file(f);	/* the caller's reference, for the fd */
		return f;
	}
	if (cur == VFIO_DEVICE_STATE_STOP_COPY &&
	    next == VFIO_DEVICE_STATE_STOP) {
		mig_file_disable(&vv->saving);
		return NULL;
	}
	if (cur == VFIO_DEVICE_STATE_STOP &&
	    next == VFIO_DEVICE_STATE_RESUMING) {
		size_t vsize = vendor_size(vv);
		struct vgpu_mig_file *mf;

		if (vsize > VGPU_MAX_STATE_SIZE)
			return ERR_PTR(-EINVAL);
		mf = mig_file_new(stream_size(vv, vsize), false);
		if (IS_ERR(mf))
			return ERR_CAST(mf);
		vv->resuming = mf;
		get_file(mf->filp);
		return mf->filp;
	}
	if (cur == VFIO_DEVICE_STATE_RESUMING &&
	    next == VFIO_DEVICE_STATE_STOP) {
		/*
		 * Refused: stay in RESUMING, nothing applied; the user may
		 * write the rest of a short stream or reset the device.
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
static int vgpu_vfio_mig_get_data_size(struct vfio_device *vdev,
				       unsigned long *stop_copy_length)
{
	struct vgpu_vfio *vv = to_vv(vdev);

	mutex_lock(&vv->vgpu->lock);
	*stop_copy_length = stream_size(vv, vendor_size(vv));
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

/* Before registration: only a vendor with the state ops migrates. */
void vgpu_vfio_mig_init(struct vgpu_vfio *vv)
{
	vv->mig_state = VFIO_DEVICE_STATE_RUNNING;
	if (!vv->ops->save_state)
		return;
	vv->vdev.migration_flags = VFIO_MIGRATION_STOP_COPY |
				   VFIO_MIGRATION_P2P;
	vv->vdev.mig_ops = &vgpu_vfio_mig_ops;
}

/*
 * Reset and close (vGPU mutex held): end the data fds, thaw the vendor if
 * it was frozen, and start again from RUNNING.
 */
void vgpu_vfio_mig_reset(struct vgpu_vfio *vv)
{
	lockdep_assert_held(&vv->vgpu->lock);
	mig_file_disable(&vv->saving);
	mig_file_disable(&vv->resuming);
	if (vv->frozen)
		mig_thaw(vv);
	vv->mig_state = VFIO_DEVICE_STATE_RUNNING;
}
