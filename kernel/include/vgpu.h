/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vgpu.h - the vendor API of the vGPU core.
 *
 * A vendor driver registers a physical GPU with a table of vGPU types and a
 * table of ops. The core turns that into an mdev parent (the standard mdev
 * sysfs ABI), and the generic VFIO driver (vgpu_vfio) turns each vGPU into a
 * VFIO PCI device: config space, region and interrupt uAPI, mmap faults and
 * DMA are handled in common code. The vendor only describes its device and
 * emulates its own registers.
 *
 * Lifecycle of one vGPU:
 *   create -> (open -> accesses -> close)* -> destroy
 * create/destroy run when user space writes the type's "create" file or the
 * device's "remove" file, or when the GPU is unregistered. open/close run when
 * the first VFIO user opens the device and when the last one closes it.
 *
 * Locking: every op that takes a struct vgpu_device is serialised per vGPU by
 * the core (one mutex per vGPU, never a global one) unless its kerneldoc says
 * otherwise. Ops may sleep unless their kerneldoc says otherwise.
 *
 * Lifetime: a struct vgpu_device is valid from the start of create to the
 * end of destroy. The services (vgpu_raise_irq(), vgpu_lower_irq(),
 * vgpu_dma_*(), vgpu_zap_region()) work while the vGPU is open and fail
 * cleanly (-ENODEV, or nothing) during create, between close and the next
 * open, and during destroy; after destroy returns the pointer is freed, so
 * the vendor stops and flushes its own asynchronous work (timers, work
 * items, interrupt handlers) that may call them in close or destroy.
 *
 * Contexts: "any context" below means process, softirq and hard IRQ context
 * on a standard kernel. On PREEMPT_RT (Debian ships linux-image-rt) the
 * core's spinlocks and eventfd_signal() sleep: call the interrupt services
 * from process context or a threaded IRQ handler, never with a raw spinlock
 * held or preemption disabled.
 *
 * Return conventions: 0 or a negative errno; never -1, never a byte count.
 *
 * VRAM and the IOMMU (the threat model of a VRAM slice): after a vGPU is
 * destroyed the core guarantees that nothing its users were given still
 * reaches the memory behind its mmap-able regions, so the vendor may hand
 * that memory to the next vGPU:
 * - CPU mappings are zapped (vgpu_zap_region(), close, reset, destroy) and
 *   fault again through &vgpu_ops.mmap_pfn, which the vendor refuses for a
 *   vGPU that is gone;
 * - the mappings are VM_IO | VM_MIXEDMAP, never VM_PFNMAP: GUP refuses
 *   VM_IO, and vfio_iommu_type1 follows the page tables only of VM_PFNMAP
 *   VMAs, so VFIO_IOMMU_MAP_DMA of a vGPU's mmap fails with -EFAULT instead
 *   of giving a physical device in the same container an IOMMU mapping that
 *   type1 never revokes (iommufd refuses such VMAs too). KVM still maps them
 *   for the guest (hva_to_pfn_remapped() accepts VM_IO). The cost: no
 *   peer-to-peer DMA from a passed-through device to a vGPU's BAR;
 * - pins through vgpu_dma_pin() are of the VFIO user's guest memory, and
 *   type1 refuses device memory (!pfn_valid) there.
 * What the vendor must do: return from &vgpu_ops.mmap_pfn only memory of
 * this vGPU, never map it to user space any other way, and clear a slice
 * before a new vGPU gets it (the core zaps, it does not clear). Not covered:
 * vfio-pci's own BAR mappings (the parent GPU passed through is not a
 * vGPU parent), and anything a vendor exposes outside this API.
 */
#ifndef _VGPU_H
#define _VGPU_H

#include <linux/device.h>
#include <linux/mm_types.h>
#include <linux/module.h>
#include <linux/pci_regs.h>
#include <linux/types.h>
#include <linux/uuid.h>
#include <uapi/linux/vfio.h>

struct vgpu_device;
struct vgpu_gpu;

/**
 * struct vgpu_type - one kind of vGPU a physical GPU can create
 * @name: sysfs name of the type, [A-Za-z0-9_.:-]+; the mdev type directory
 *	is "<vendor driver name>-<name>", e.g. "vgpu_sim-32m".
 * @pretty_name: human readable name, shown in the type's "name" file.
 * @fb_size: framebuffer (VRAM) size of one vGPU, in bytes.
 * @heads: number of display heads.
 * @max_width: maximum horizontal resolution, in pixels.
 * @max_height: maximum vertical resolution, in pixels.
 * @max_instances: upper bound of simultaneous vGPUs of this type; the core
 *	reserves one instance atomically at create and releases it at destroy,
 *	so "available_instances" is exact. Must be at least 1.
 * @description: free text (no newline) appended to the machine-readable
 *	"description" file as its last key: "fb_size=<bytes>, heads=<n>,
 *	max_resolution=<w>x<h>, max_instances=<n>, description=<text>".
 * @driver_data: vendor private, returned by vgpu_get_type().
 *
 * The table passed to vgpu_register_gpu() must stay valid and unchanged until
 * vgpu_unregister_gpu() returns.
 */
struct vgpu_type {
	const char *name;
	const char *pretty_name;
	u64 fb_size;
	unsigned int heads;
	unsigned int max_width;
	unsigned int max_height;
	unsigned int max_instances;
	const char *description;
	const void *driver_data;
};

/**
 * struct vgpu_mmap_area - a part of a region that may be mapped into user space
 * @offset: start within the region; page aligned.
 * @size: length in bytes; page aligned, non-zero.
 *
 * Reported to user space as a VFIO_REGION_INFO_CAP_SPARSE_MMAP area. Accesses
 * outside all areas are trapped and go to the region_read/region_write ops.
 */
struct vgpu_mmap_area {
	u64 offset;
	u64 size;
};

/* struct vgpu_region.flags */
#define VGPU_REGION_IO		BIT(0)	/* I/O-port BAR (else memory) */
#define VGPU_REGION_MEM64	BIT(1)	/* 64-bit memory BAR, uses the next slot */
#define VGPU_REGION_PREFETCH	BIT(2)	/* prefetchable memory BAR */
#define VGPU_REGION_MMAP	BIT(3)	/* may be mmap()ed, see @areas */
#define VGPU_REGION_READONLY	BIT(4)	/* writes refused with -EINVAL */

/**
 * struct vgpu_region - a BAR (or the ROM) of a vGPU
 * @size: size in bytes; 0 means absent. BARs: a power of two, at least 16
 *	for memory and 4 for I/O (I/O at most 256). ROM: a power of two, at
 *	least 2 KiB; the ROM is always read-only and never mmap-able. At most
 *	1 TiB (the device fd gives each region a 2^40-byte offset window).
 * @flags: VGPU_REGION_* flags; other bits are refused.
 * @areas: the mmap-able parts when VGPU_REGION_MMAP is set; NULL (with
 *	@nr_areas 0) means the whole region. Areas must not overlap, must lie
 *	inside the region and must not cover the MSI-X table or PBA.
 * @nr_areas: number of entries in @areas.
 *
 * Only memory BARs can be mmap-able, and only through the mandatory
 * &vgpu_ops.mmap_pfn translation: the core never maps a host BAR by itself.
 */
struct vgpu_region {
	u64 size;
	u32 flags;
	const struct vgpu_mmap_area *areas;
	unsigned int nr_areas;
};

/**
 * struct vgpu_irqs - interrupts a vGPU can raise
 * @intx: true if the device has a legacy INTx pin (INTA#).
 * @msi: number of MSI vectors: 0 (no MSI capability) or a power of two up
 *	to 32. The core emulates the MSI capability (64-bit, no per-vector mask).
 * @msix: number of MSI-X vectors, 0 (no MSI-X capability) to 2048. The core
 *	emulates the MSI-X capability, table and PBA.
 * @msix_bar: BAR index holding the MSI-X table and PBA (a memory BAR).
 * @msix_table_offset: offset of the table in that BAR, 8-byte aligned.
 * @msix_pba_offset: offset of the PBA in that BAR, 8-byte aligned.
 *
 * Which eventfd fires for vgpu_raise_irq() is decided by the core from what
 * the VFIO user enabled (VFIO_DEVICE_SET_IRQS) and from the guest's view of
 * config space (INTx disable, MSI-X function and vector masks).
 */
struct vgpu_irqs {
	bool intx;
	unsigned int msi;
	unsigned int msix;
	unsigned int msix_bar;
	u32 msix_table_offset;
	u32 msix_pba_offset;
};

/**
 * struct vgpu_config_cap - a vendor capability in PCI config space
 * @id: PCI capability ID (PCI_CAP_ID_*, usually PCI_CAP_ID_VNDR).
 * @len: total length including the 2-byte header, 4..(192 - core caps).
 * @data: initial contents of the @len - 2 bytes after the header; NULL for
 *	zeroes.
 *
 * The core places the capability in config space and links it into the
 * capability list; the header (ID and next pointer) is owned by the core.
 * Reads and writes of the body go to &vgpu_ops.config_read and
 * &vgpu_ops.config_write when the vendor provides them; otherwise the body is
 * read-only @data.
 */
struct vgpu_config_cap {
	u8 id;
	u8 len;
	const u8 *data;
};

#define VGPU_MAX_CONFIG_CAPS	8

/**
 * struct vgpu_extra_region - a vendor-defined (device specific) region
 * @region: size, flags and mmap-able areas, as for a BAR.
 * @type: VFIO region type, reported in VFIO_REGION_INFO_CAP_TYPE (e.g.
 *	VFIO_REGION_TYPE_PCI_VENDOR_TYPE | vendor ID).
 * @subtype: VFIO region subtype.
 */
struct vgpu_extra_region {
	struct vgpu_region region;
	u32 type;
	u32 subtype;
};

#define VGPU_MAX_EXTRA_REGIONS	4

/**
 * struct vgpu_device_info - the PCI device a vGPU presents
 * @vendor: PCI vendor ID.
 * @device: PCI device ID.
 * @subsystem_vendor: PCI subsystem vendor ID.
 * @subsystem_device: PCI subsystem ID.
 * @revision: revision ID.
 * @class: 24-bit class code (base class << 16 | subclass << 8 | prog-if),
 *	e.g. PCI_CLASS_DISPLAY_VGA << 8.
 * @bars: the six BARs, indexed as VFIO_PCI_BAR0_REGION_INDEX + i.
 * @rom: the expansion ROM; read through &vgpu_ops.region_read with index
 *	VFIO_PCI_ROM_REGION_INDEX.
 * @vga: true if the device decodes legacy VGA ranges; the VFIO VGA region
 *	(VFIO_PCI_VGA_REGION_INDEX, offsets as in the VFIO uAPI) is then trapped
 *	to region_read/region_write. False: no VGA region is reported.
 * @regions: vendor-defined regions beyond the PCI ones, reported at indexes
 *	VFIO_PCI_NUM_REGIONS + i with a VFIO_REGION_INFO_CAP_TYPE capability;
 *	accessed and mapped like BARs (their region index is passed to the
 *	ops), never gated by the command register. VGPU_REGION_IO and
 *	VGPU_REGION_MEM64 do not apply.
 * @nr_regions: number of entries in @regions, at most VGPU_MAX_EXTRA_REGIONS.
 * @irqs: interrupt declaration.
 * @pcie: present a PCI Express endpoint capability (and 4 KiB config space).
 * @caps: vendor capabilities, see struct vgpu_config_cap.
 * @nr_caps: number of entries in @caps, at most VGPU_MAX_CONFIG_CAPS.
 * @ext_size: with @pcie, the bytes of extended config space from 0x100 that
 *	the vendor emulates itself (its extended capabilities, e.g. a
 *	vendor-specific one, and device-specific registers): a multiple of 4,
 *	at most 0xf00, 0 for none. Accesses there go to &vgpu_ops.config_read
 *	and &vgpu_ops.config_write (read as zero, writes ignored, without
 *	them); the rest of extended space reads as zero.
 * @vram_index: region index (a BAR or an extra region) of the VRAM, see
 *	&vgpu_ops.vram_rw.
 * @vram_size: bytes of VRAM from offset 0 of that region, inside its mmap
 *	areas, a multiple of PAGE_SIZE; 0 (no VRAM for the core to migrate)
 *	without &vgpu_ops.vram_rw.
 *
 * Filled by the vendor in &vgpu_ops.create (the core zeroes it first) and
 * validated by the core afterwards; it must not change while the vGPU exists.
 * The standard config header (command, status, BARs, ROM BAR, interrupt
 * line/pin, capability list) is emulated by the core from this description.
 */
struct vgpu_device_info {
	u16 vendor;
	u16 device;
	u16 subsystem_vendor;
	u16 subsystem_device;
	u8 revision;
	u32 class;
	struct vgpu_region bars[PCI_STD_NUM_BARS];
	struct vgpu_region rom;
	bool vga;
	const struct vgpu_extra_region *regions;
	unsigned int nr_regions;
	struct vgpu_irqs irqs;
	bool pcie;
	const struct vgpu_config_cap *caps;
	unsigned int nr_caps;
	unsigned int ext_size;
	unsigned int vram_index;
	u64 vram_size;
};

/**
 * struct vgpu_attribute - a vendor sysfs attribute of each vGPU
 * @name: file name inside the vGPU's "vendor/" directory
 *	(/sys/bus/mdev/devices/<uuid>/vendor/<name>).
 * @show: optional; formats the value into @buf (PAGE_SIZE) and returns the
 *	length or a negative errno.
 * @store: optional; parses @buf and returns @count or a negative errno.
 *	Called with the vGPU mutex held and only while the vGPU has never been
 *	opened: afterwards the core refuses writes with -EBUSY, so the vendor
 *	can apply the value at open. This is how mdevctl "attrs" and libvirt
 *	<attr> configure a vGPU.
 *
 * Files are 0644 with @store, 0444 without.
 */
struct vgpu_attribute {
	const char *name;
	ssize_t (*show)(struct vgpu_device *vgpu, char *buf);
	ssize_t (*store)(struct vgpu_device *vgpu, const char *buf,
			 size_t count);
};

/**
 * struct vgpu_ops - what a vendor driver implements
 * @owner: the vendor module (THIS_MODULE); pinned while any of its vGPUs
 *	exists, so the vendor module cannot be unloaded under them.
 *
 * @create: mandatory. Set up vendor state for a new vGPU of @type (use
 *	vgpu_set_drvdata()) and describe the device in @info. Return 0,
 *	-ENOSPC when the GPU has no room left, or another negative errno.
 *	Process context, may sleep.
 * @destroy: mandatory. Undo @create. Called after the last close and after
 *	all user mappings are gone; never fails.
 * @get_available: optional. How many more vGPUs of @type the GPU could create
 *	right now (e.g. from a VRAM allocator shared between types). The
 *	reported "available_instances" is the minimum of this and the type's
 *	unreserved instances. No vGPU lock held; must not sleep for long.
 *
 * @open: optional. The first VFIO user opened the vGPU. Return 0 or -errno
 *	(the open then fails).
 * @close: optional. The last VFIO user closed the vGPU. The core has already
 *	disabled interrupts and zapped mappings; the vendor must drop all DMA
 *	pins it holds and return its per-open state to the power-on state.
 * @reset: optional. Device reset: VFIO_DEVICE_RESET, and every open (before
 *	@open). The core resets config space, interrupts and mappings itself,
 *	and zaps the mappings again after @reset returns, so a fault served
 *	during @reset (regions not gated by memory decode) does not outlive it.
 *
 * @region_read: mandatory. Read @size bytes (1, 2, 4 or 8) at @offset of
 *	region @index (VFIO_PCI_BAR0_REGION_INDEX..VFIO_PCI_BAR5_REGION_INDEX,
 *	VFIO_PCI_ROM_REGION_INDEX, VFIO_PCI_VGA_REGION_INDEX, or an extra
 *	region's index) into @val. The core guarantees @offset is naturally
 *	aligned to @size, inside the region and not in the MSI-X table or PBA
 *	(which the core emulates). Accesses inside mmap-able areas arrive here
 *	too, through read()/write() of the device fd. Return 0 or -errno (-EIO
 *	for a device error).
 * @region_write: mandatory. Same for a write of @val (low @size bytes).
 *	Writes to read-only regions never reach the vendor.
 * @mmap_pfn: mandatory. Translate page-aligned @offset of mmap-able region
 *	@index into the PFN backing it (*@pfn) and the number of bytes
 *	physically contiguous from there (*@len, at least PAGE_SIZE); the core
 *	maps up to that much at once, with one PMD (PUD) entry per 2 MiB
 *	(1 GiB) block that is equally aligned in the mapping and in physical
 *	memory where the kernel supports huge PFN maps (6.12), with PTEs
 *	otherwise. Called from the page-fault handler with mmap_lock (on
 *	6.12 huge faults: the VMA's lock) held for reading (it may sleep,
 *	but must not take locks it also holds
 *	across vgpu_*() calls, nor call vgpu_zap_region(), whose lock the
 *	fault holds), and for a dma-buf plane (vgpu_set_plane_dmabuf()) from
 *	VFIO_DEVICE_QUERY_GFX_PLANE with the vGPU mutex held too. Return 0,
 *	or a negative errno which makes the access fail with SIGBUS.
 *
 * @config_read: optional. Read @size bytes at absolute config-space @offset,
 *	which lies inside the body of one of the vendor's struct
 *	vgpu_config_cap or inside its extended range (&vgpu_device_info.ext_size).
 *	Return 0 or -errno.
 * @config_write: optional. Same for writes.
 *
 * @dma_unmap: optional, but required to use vgpu_dma_pin(). The VFIO user is
 *	unmapping [@iova, @iova + @length): the vendor must unpin every page it
 *	pinned in that range before returning (and never touch those IOVAs
 *	again). Called without the vGPU mutex held (it comes from the IOMMU
 *	backend, concurrently with other ops); may sleep. The backend calls it
 *	with its own locks held that vgpu_dma_pin() and vgpu_dma_rw() take
 *	too (type1: the device list lock): it must not take a lock the vendor
 *	holds across those calls. To wait for a pin in flight, flag the pin
 *	and wait on a wait queue instead.
 *
 * @query_plane: optional. Describe the current display plane for
 *	VFIO_DEVICE_QUERY_GFX_PLANE with VFIO_GFX_PLANE_TYPE_REGION: on entry
 *	@plane->drm_plane_type is what the user asked for, unchecked (QEMU's
 *	region display path sends 0, DRM_PLANE_TYPE_OVERLAY, for the primary
 *	plane): treat DRM_PLANE_TYPE_CURSOR as the cursor and anything else as
 *	the primary plane, or report the plane off; fill
 *	drm_format (0 if the plane is off), drm_format_mod, width, height,
 *	stride, size, x_pos, y_pos, x_hot, y_hot and region_index (a region
 *	the vendor declared mmap-able: BAR0 or an extra region whose offset 0
 *	is the scanout start). Return 0 or -errno; a plane naming a region
 *	that is not mmap-able makes the ioctl fail with -EIO.
 *	Without this op the device has no display (-ENOTTY for that ioctl).
 *	After vgpu_set_plane_dmabuf() the core also offers the plane as a
 *	dma-buf (VFIO_GFX_PLANE_TYPE_DMABUF, VFIO_DEVICE_GET_GFX_DMABUF): the
 *	memory behind the region's first @size bytes, taken through
 *	@mmap_pfn at the query, read-only and CPU-mappable, revoked (its
 *	mappings fault SIGBUS) when the region's mappings are zapped. Off by
 *	default: QEMU prefers a dma-buf display and without OpenGL refuses
 *	the device.
 *
 * @attrs: optional NULL-terminated array of vendor attributes of each vGPU.
 *
 * Migration (VFIO migration v2): a vendor that implements all five of
 * @freeze, @thaw, @state_size, @save_state and @load_state gets
 * VFIO_DEVICE_FEATURE_MIGRATION (STOP_COPY and P2P; with @vram_rw also
 * PRE_COPY where the kernel has it, 6.2+); one without any of them gets no
 * migration capability; a partial set, or @vram_rw alone, is refused by
 * vgpu_register_gpu(). The core owns the stream (header, checksums, VRAM
 * with @vram_rw, config space, MSI-X table and pending interrupts); the
 * vendor only produces and consumes its own blob. All five are called with the vGPU mutex held,
 * while the vGPU is open.
 * @state_version: the vendor's blob format version, recorded in the stream
 *	and passed to @load_state (which decides what it accepts).
 * @freeze: the VFIO user moved the vGPU out of RUNNING (to STOP): finish or
 *	cancel (to re-issue at @thaw or after @load_state) in-flight work and
 *	return with no DMA, no interrupt and no state change pending until
 *	@thaw. The core has stopped serving trapped BAR accesses and faults on
 *	writable mappings before calling it, and zaps those mappings.
 * @thaw: back to RUNNING: resume what @freeze stopped. Also called before
 *	@reset and @close when the vGPU is frozen, so the two always pair.
 * @state_size: the exact byte count @save_state will produce for this vGPU
 *	(at most 1 GiB plus 1 MiB; it bounds what a resume accepts).
 * @save_state: STOP (or PRE_COPY_P2P) -> STOP_COPY: fill @buf with exactly
 *	@size bytes (@size is what @state_size returned) describing the frozen
 *	vGPU. Return 0 or -errno (the transition then fails, the vGPU stays
 *	in the state it came from).
 * @load_state: RESUMING -> STOP: the core has checked the stream header
 *	(same vendor driver, device IDs and type) and its checksum; the vendor
 *	validates @buf (@size bytes, blob format @version) completely before
 *	changing anything, returns -EINVAL for a blob it does not accept with
 *	nothing applied, else applies it and returns 0. The vGPU is frozen.
 * @check_state: optional, with the five above: the checks of @load_state
 *	alone, applying nothing; 0 or -EINVAL. Called when the stream's END is
 *	written (RESUMING, without the vGPU mutex), so that a blob the vGPU
 *	would refuse fails that write() and the VMM's load, not its later
 *	RESUMING -> STOP. @load_state must still check.
 * @vram_rw: optional, with the five above: the vendor's VRAM is the first
 *	&vgpu_device_info.vram_size bytes (page multiple) of mmap-able region
 *	&vgpu_device_info.vram_index. The core then streams VRAM itself, page
 *	by page, out of the vendor blob (which must not contain it), tracks
 *	which pages were written (CPU mappings, read()/write() of the region,
 *	and vgpu_vram_dirty() for the device's own writes) and offers
 *	VFIO_MIGRATION_PRE_COPY where the kernel has it (6.2+). Copy @len
 *	bytes at page-aligned @offset of VRAM to (@write false) or from @buf.
 *	Called without the vGPU mutex, while the device may be running (a
 *	concurrent write is sent again in a later pass), never during a GPU
 *	reset (vgpu_gpu_reset_prepare() to _done()) nor with destroy.
 *	Return 0 or -errno.
 *
 * The mandatory ops are checked once, by vgpu_register_gpu(); the core never
 * tests them for NULL afterwards.
 */
struct vgpu_ops {
	struct module *owner;

	int (*create)(struct vgpu_device *vgpu, const struct vgpu_type *type,
		      struct vgpu_device_info *info);
	void (*destroy)(struct vgpu_device *vgpu);
	unsigned int (*get_available)(struct vgpu_gpu *gpu,
				      const struct vgpu_type *type);

	int (*open)(struct vgpu_device *vgpu);
	void (*close)(struct vgpu_device *vgpu);
	int (*reset)(struct vgpu_device *vgpu);

	int (*region_read)(struct vgpu_device *vgpu, unsigned int index,
			   u64 offset, unsigned int size, u64 *val);
	int (*region_write)(struct vgpu_device *vgpu, unsigned int index,
			    u64 offset, unsigned int size, u64 val);
	int (*mmap_pfn)(struct vgpu_device *vgpu, unsigned int index,
			u64 offset, unsigned long *pfn, u64 *len);

	int (*config_read)(struct vgpu_device *vgpu, unsigned int offset,
			   unsigned int size, u32 *val);
	int (*config_write)(struct vgpu_device *vgpu, unsigned int offset,
			    unsigned int size, u32 val);

	void (*dma_unmap)(struct vgpu_device *vgpu, u64 iova, u64 length);

	int (*query_plane)(struct vgpu_device *vgpu,
			   struct vfio_device_gfx_plane_info *plane);

	const struct vgpu_attribute *const *attrs;

	unsigned int state_version;
	void (*freeze)(struct vgpu_device *vgpu);
	void (*thaw)(struct vgpu_device *vgpu);
	size_t (*state_size)(struct vgpu_device *vgpu);
	int (*save_state)(struct vgpu_device *vgpu, void *buf, size_t size);
	int (*load_state)(struct vgpu_device *vgpu, const void *buf,
			  size_t size, unsigned int version);
	int (*check_state)(struct vgpu_device *vgpu, const void *buf,
			   size_t size, unsigned int version);
	int (*vram_rw)(struct vgpu_device *vgpu, u64 offset, void *buf,
		       size_t len, bool write);
};

/* Upper bound of &vgpu_ops.state_size. */
#define VGPU_MAX_STATE_SIZE	((1ULL << 30) + (1ULL << 20))

/* vgpu.ko: registry and lifecycle */

/**
 * vgpu_register_gpu() - make a physical GPU's vGPU types available
 * @dev: the physical GPU (usually &pci_dev->dev, bound to the vendor driver,
 *	whose name prefixes the type names).
 * @ops: vendor ops; must stay valid until vgpu_unregister_gpu() returns.
 * @types: table of vGPU types, at least one, unique names.
 * @nr_types: number of entries in @types.
 * @drvdata: vendor data for the GPU, see vgpu_gpu_get_drvdata().
 *
 * Registers an mdev parent; all types exist before the parent's
 * MDEV_STATE=registered uevent. Process context.
 *
 * Return: a handle, or an ERR_PTR: -EINVAL for a missing mandatory op or a
 * malformed type table, -EEXIST if @dev is already registered, -ENOMEM.
 */
struct vgpu_gpu *vgpu_register_gpu(struct device *dev,
				   const struct vgpu_ops *ops,
				   const struct vgpu_type *types,
				   unsigned int nr_types, void *drvdata);

/**
 * vgpu_unregister_gpu() - remove a GPU and all its vGPUs
 * @gpu: handle from vgpu_register_gpu().
 *
 * Removes every vGPU of @gpu (a vGPU still open gets its VFIO REQ interrupt
 * signalled and this call waits until its user closes it), then the mdev
 * parent. Process context; may sleep for as long as users keep vGPUs open.
 */
void vgpu_unregister_gpu(struct vgpu_gpu *gpu);

/**
 * vgpu_gpu_get_drvdata() - the @drvdata given to vgpu_register_gpu()
 * @gpu: a registered GPU.
 *
 * Return: the vendor's GPU data.
 */
void *vgpu_gpu_get_drvdata(struct vgpu_gpu *gpu);

/**
 * vgpu_gpu_reset_prepare() - the physical GPU is about to be reset
 * @gpu: the GPU.
 *
 * Zaps every user mapping of every vGPU of @gpu and makes new faults wait
 * until vgpu_gpu_reset_done(), so no vGPU user reaches the BAR while it is
 * unreachable or being reinitialised (what vfio-pci's memory_lock does for
 * its own device). No vGPU is created or removed meanwhile. Call it from the
 * PCI driver's &pci_error_handlers.reset_prepare (or error_detected), then
 * vgpu_gpu_reset_done() from the same thread. Process context; sleeps.
 */
void vgpu_gpu_reset_prepare(struct vgpu_gpu *gpu);

/**
 * vgpu_gpu_reset_done() - the physical GPU's reset is over
 * @gpu: the GPU, after vgpu_gpu_reset_prepare().
 *
 * Faults wait no more; mappings fault in again from the vendor's
 * translation. Process context.
 */
void vgpu_gpu_reset_done(struct vgpu_gpu *gpu);

/**
 * vgpu_gpu_lost() - the physical GPU is gone (surprise removal, permanent
 * failure)
 * @gpu: the GPU.
 *
 * Zaps every user mapping of its vGPUs; from now on their faults get
 * SIGBUS. Call it before vgpu_unregister_gpu(), which still waits for the
 * users to close (REQ is signalled). Process context; sleeps.
 */
void vgpu_gpu_lost(struct vgpu_gpu *gpu);

/**
 * vgpu_get_gpu() - the GPU a vGPU was created on
 * @vgpu: a vGPU.
 *
 * Return: the GPU handle.
 */
struct vgpu_gpu *vgpu_get_gpu(struct vgpu_device *vgpu);

/**
 * vgpu_get_type() - the type a vGPU was created with
 * @vgpu: a vGPU.
 *
 * Return: the entry of the vendor's type table.
 */
const struct vgpu_type *vgpu_get_type(struct vgpu_device *vgpu);

/**
 * vgpu_set_drvdata() - attach vendor state to a vGPU (usually in create)
 * @vgpu: a vGPU.
 * @data: vendor state; the vendor frees it in destroy.
 */
void vgpu_set_drvdata(struct vgpu_device *vgpu, void *data);

/**
 * vgpu_get_drvdata() - vendor state set by vgpu_set_drvdata()
 * @vgpu: a vGPU.
 *
 * Return: the vendor state, NULL before vgpu_set_drvdata().
 */
void *vgpu_get_drvdata(struct vgpu_device *vgpu);

/**
 * vgpu_dev() - the vGPU's struct device (the mdev), for dev_dbg() and friends
 * @vgpu: a vGPU.
 *
 * Return: the mdev's struct device.
 */
struct device *vgpu_dev(struct vgpu_device *vgpu);

/**
 * vgpu_uuid() - the vGPU's UUID
 * @vgpu: a vGPU.
 *
 * Return: the UUID the vGPU was created with.
 */
const guid_t *vgpu_uuid(struct vgpu_device *vgpu);

/* vgpu_vfio.ko: services for the vendor while a vGPU is open */

/**
 * vgpu_raise_irq() - signal an interrupt of a vGPU
 * @vgpu: the vGPU.
 * @vector: MSI or MSI-X vector number; ignored (use 0) for INTx.
 *
 * Fires the eventfd of whichever interrupt type the VFIO user enabled. INTx
 * is level-like: it is automasked until the user unmasks it, and a raise
 * while it is masked (or disabled in the command register) is held and fires
 * at the unmask (or enable), so the vendor need not retry; a vendor whose
 * cause was cleared meanwhile may produce one spurious interrupt. An MSI-X
 * vector masked by the guest becomes pending (PBA) and fires when unmasked.
 * A device reset drops what is held or pending.
 * Any context, including hard IRQ (not on PREEMPT_RT, see the top of this
 * file); takes only a spinlock.
 *
 * MSI and MSI-X are memory writes: while the guest has bus mastering off in
 * the command register they are dropped (-EIO), as a device could not send
 * them.
 *
 * Return: 0 when signalled, -EAGAIN when masked (INTx masked, INTx disabled
 * in the command register, MSI-X vector or function masked), -EIO for MSI or
 * MSI-X with bus mastering off, -ENODEV when no interrupt is enabled (or the
 * vector has no trigger), -EINVAL for a @vector beyond the enabled count (the
 * start + count with which the VFIO user enabled MSI or MSI-X; the count is
 * fixed until it disables them, VFIO_IRQ_INFO_NORESIZE), so a vendor can fold
 * its causes onto vector 0 when the user enabled fewer vectors than declared.
 */
int vgpu_raise_irq(struct vgpu_device *vgpu, unsigned int vector);

/**
 * vgpu_lower_irq() - the vendor deasserted its interrupt line
 * @vgpu: the vGPU.
 *
 * INTx only (no effect on MSI/MSI-X): drops an INTx held while masked or
 * disabled (see vgpu_raise_irq()), so the unmask brings no spurious
 * interrupt, and clears the interrupt status bit in config space. Call it
 * when the device's cause register becomes clear. Any context, including
 * hard IRQ (not on PREEMPT_RT); takes only a spinlock. A no-op while the vGPU is not open.
 */
void vgpu_lower_irq(struct vgpu_device *vgpu);

/**
 * vgpu_zap_region() - unmap every user mapping of a region
 * @vgpu: the vGPU.
 * @index: region index.
 *
 * For a vendor whose &vgpu_ops.mmap_pfn translation changed: change the
 * translation first, then call this; the next access faults and asks
 * mmap_pfn again. Process context; may be called from ops that hold the vGPU
 * mutex (region_write, config_write, reset). A no-op while the vGPU is not
 * open.
 */
void vgpu_zap_region(struct vgpu_device *vgpu, unsigned int index);

/**
 * vgpu_set_plane_dmabuf() - offer the display plane as a dma-buf as well
 * @vgpu: the vGPU.
 * @on: whether VFIO_GFX_PLANE_TYPE_DMABUF is offered (see
 *	&vgpu_ops.query_plane); off until called.
 *
 * From &vgpu_ops.open at the latest, for the open it belongs to. Process
 * context.
 */
void vgpu_set_plane_dmabuf(struct vgpu_device *vgpu, bool on);

/**
 * vgpu_vram_dirty() - the device itself wrote VRAM
 * @vgpu: the vGPU.
 * @offset: byte offset in VRAM (see &vgpu_ops.vram_rw).
 * @len: bytes written.
 *
 * For a vendor with &vgpu_ops.vram_rw: call it after every write the device
 * makes to VRAM on its own (copy engines, blits), once the data is in VRAM,
 * so migration sends those pages again. Writes through the user's mappings
 * and through read()/write() of the region are tracked by the core. Any
 * context but hard IRQ; cheap (a bitmap update) and a no-op while no
 * migration is tracking.
 */
void vgpu_vram_dirty(struct vgpu_device *vgpu, u64 offset, u64 len);

/**
 * vgpu_dma_pin() - pin guest pages for device access
 * @vgpu: an open vGPU whose vendor implements &vgpu_ops.dma_unmap.
 * @iova: page-aligned guest I/O virtual address.
 * @npage: number of pages, 1..VFIO_PIN_PAGES_MAX_ENTRIES.
 * @prot: IOMMU_READ and/or IOMMU_WRITE.
 * @pages: receives @npage struct page pointers.
 *
 * Wraps vfio_pin_pages(). Process context, may sleep. Where the core offers
 * the VMM device DMA logging, a page pinned with IOMMU_WRITE counts as
 * written for as long as any pin on it is held, and once more when the last
 * is dropped: pin writable only what the device writes, write guest memory
 * only through pages pinned writable (or vgpu_dma_rw()), and unpin only
 * after the device's last write to them.
 *
 * Return: @npage, or -EPERM if the guest disabled bus mastering
 * (PCI_COMMAND_MASTER), -ENODEV if the vGPU is not open, -EOPNOTSUPP
 * without a dma_unmap op, -EINVAL for bad arguments, -ENOMEM, or the errno
 * of vfio_pin_pages().
 */
int vgpu_dma_pin(struct vgpu_device *vgpu, dma_addr_t iova, int npage,
		 int prot, struct page **pages);

/**
 * vgpu_dma_unpin() - undo vgpu_dma_pin()
 * @vgpu: the vGPU the pages were pinned for.
 * @iova: as passed to vgpu_dma_pin().
 * @npage: as passed to vgpu_dma_pin().
 */
void vgpu_dma_unpin(struct vgpu_device *vgpu, dma_addr_t iova, int npage);

/**
 * vgpu_dma_rw() - copy to or from guest memory
 * @vgpu: an open vGPU.
 * @iova: guest I/O virtual address, any alignment.
 * @data: kernel buffer.
 * @len: bytes to copy.
 * @write: true to write guest memory from @data, false to read into @data.
 *
 * Wraps vfio_dma_rw(). Process context, may sleep. A write is logged for
 * the VMM's device DMA logging once it is done, failed or not.
 *
 * Return: 0, -EPERM if bus mastering is disabled, -ENODEV if the vGPU is not
 * open, or the errno of vfio_dma_rw() (-EFAULT for an unmapped IOVA).
 */
int vgpu_dma_rw(struct vgpu_device *vgpu, dma_addr_t iova, void *data,
		size_t len, bool write);

#endif /* _VGPU_H */
