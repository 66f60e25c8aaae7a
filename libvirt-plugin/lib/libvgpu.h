/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvgpu — host-side library for virtual GPUs: sysfs (mdev ABI) and the
 * libvirt XML dialect of ARCHITECTURE.md §3.1.
 *
 * ========================================================================
 * XML CONTRACT (schemas/ must match this; the library enforces it)
 * ========================================================================
 *
 * 1. Dialect hostdev (inside <domain><devices>, or alone as a document):
 *
 *   <hostdev mode='subsystem' type='vgpu' managed='yes' display='on' ramfb='off'>
 *     <source>
 *       <parent address='0000:00:05.0'/>   optional; OR <parent name='pci_0000_00_05_0'/>
 *       <type id='vgpu_sim-32m'/>          required, exactly one
 *       <uuid>xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx</uuid>   optional
 *       <attr name='NAME' value='VALUE'/>  zero or more, order kept
 *     </source>
 *     <address type='pci' .../>            optional; like <alias>, <boot>, <rom>,
 *                                          <acpi>, <readonly>, <shareable>:
 *                                          passed through untouched
 *   </hostdev>
 *
 *   hostdev attributes: mode ('subsystem', optional), type ('vgpu', required),
 *   managed ('yes'|'no', optional, absent means 'no' as in libvirt),
 *   display and ramfb ('on'|'off', optional); no others. The dialect
 *   elements carry no XML namespace (they live next to libvirt's own).
 *
 *   Names (validated by vgpu_name_is_valid() before any path is built):
 *     type id  : VGPU_NAME_TYPE    [A-Za-z0-9_][A-Za-z0-9_.+:-]{0,63}  (no '/', no '..')
 *     parent   : VGPU_NAME_PARENT  PCI address DDDD:BB:SS.F (lower-case hex), or
 *                VGPU_NAME_NODEDEV libvirt node device name pci_DDDD_BB_SS_F
 *     uuid     : VGPU_NAME_UUID    8-4-4-4-12 hex (either case; stored lower-case)
 *     attr name: VGPU_NAME_ATTR    "vendor/NAME", NAME like a type id (no '.'
 *                                  start, so no '..'): a file of the vendor/
 *                                  group the vGPU core gives every vGPU. The
 *                                  device's other entries (remove, uevent,
 *                                  power/, the links mdev_type, driver,
 *                                  subsystem, iommu_group) are never named.
 *     attr value: up to 4095 bytes of UTF-8 without control characters
 *
 * 2. Native form (what libvirt and QEMU see) — the hostdev is replaced in place:
 *
 *   <hostdev mode='subsystem' type='mdev' model='vfio-pci' display='on' ramfb='off'>
 *     <source><address uuid='...'/></source>
 *     <address type='pci' .../>            (passed-through children kept)
 *   </hostdev>
 *
 *   plus ONE entry per vGPU, in document order, under the domain's <metadata>
 *   (created when absent, after <name>/<uuid>/<genid>/<title>/<description>
 *   as libvirt places it):
 *
 *   <metadata>
 *     <vgpu:devices xmlns:vgpu='https://gitlab.com/vgpu/xmlns/vgpu/1.0'>
 *       <vgpu:device uuid='UUID' type='TYPE' managed='yes|no' derived='yes'>
 *         <vgpu:parent address='0000:00:05.0'/>   optional, or name='pci_...'
 *         <vgpu:attr name='NAME' value='VALUE'/>  zero or more, in order
 *       </vgpu:device>
 *     </vgpu:devices>
 *   </metadata>
 *
 *   vgpu:device attributes: uuid (required), type (required), managed
 *   (optional, copied only when the dialect had it), derived (optional, 'yes'
 *   when the UUID was derived because the dialect had no <uuid>; then
 *   native → dialect omits <uuid> again if deriving at that position gives
 *   the same UUID, and keeps it as an explicit <uuid> otherwise — e.g. after
 *   an earlier vGPU of the same type was detached — so the vGPU keeps its
 *   identity). VGPU_METADATA_NS is the namespace,
 *   VGPU_METADATA_PREFIX the prefix, VGPU_METADATA_KEY the key for
 *   virDomainSetMetadata(); the root element of the metadata document is
 *   <vgpu:devices> (schema: schemas/vgpu-metadata.rng).
 *
 *   Native → dialect converts every native mdev hostdev whose UUID has an
 *   entry in <vgpu:devices>; entries are removed, and <vgpu:devices> (and
 *   <metadata>, if nothing else is left in it) disappear. Other hostdevs and
 *   everything else pass through. dialect → native → dialect gives back the
 *   input (modulo formatting: documents are re-indented; hostdev attributes
 *   come back in the order mode, type, managed, then the others).
 *
 * 3. Schemas (looked up in vgpu_schema_dir(), env VGPU_SCHEMA_DIR overrides):
 *     vgpu-hostdev.rng  : start = a dialect <hostdev type='vgpu'> (and may also
 *                         accept libvirt's own <hostdev>, e.g. by including
 *                         libvirt's domain.rng and overriding start with
 *                         <ref name="hostdev"/>) — used for VGPU_DOC_HOSTDEV
 *                         and VGPU_DOC_HOSTDEV_NATIVE
 *     vgpu-metadata.rng : start = <vgpu:devices> — VGPU_DOC_METADATA
 *     vgpu-domain.rng   : libvirt's installed domain.rng plus the dialect
 *                         hostdev — VGPU_DOC_DOMAIN. It lets any namespaced
 *                         element through <metadata> (libxml2 cannot override
 *                         libvirt's definition there), so vgpu_xml_validate()
 *                         then validates each of our <vgpu:devices> against
 *                         vgpu-metadata.rng on its own.
 *   Node devices (VGPU_DOC_NODEDEV) are validated with libvirt's installed
 *   nodedev.rng from vgpu_libvirt_schema_dir() (env VGPU_LIBVIRT_SCHEMA_DIR).
 *
 * 4. Stable UUIDs: a dialect hostdev without <uuid> gets
 *      uuid_generate_sha1(ns = the domain's <uuid>,
 *                         name = "vgpu:" TYPE ":" PARENT ":" N)
 *    PARENT is the parent exactly as written (address or node device name)
 *    or the empty string when absent; N is the decimal count of earlier
 *    hostdevs in the same document that also have no <uuid> and the same TYPE
 *    and PARENT (0 for the first). So the UUID depends only on the domain
 *    UUID, the type, the parent and the order among identical vGPUs: adding,
 *    removing or reordering other devices does not change it. A domain
 *    without <uuid> cannot derive UUIDs (error VGPU_ERROR_XML_TRANSLATE).
 *
 * ========================================================================
 * SYSFS
 * ========================================================================
 * Every system path is ROOT + an absolute path, ROOT being "/" unless the
 * environment variable VGPU_ROOT names another directory (tests point it at
 * a temporary fake tree). Paths used:
 *   ROOT/sys/class/mdev_bus/PARENT/mdev_supported_types/TYPE/
 *        {name,description,device_api,available_instances,create,devices/}
 *   ROOT/sys/bus/mdev/devices/UUID/{remove,mdev_type,iommu_group,driver,vfio-dev/}
 *   ROOT/sys/bus/mdev/devices/UUID/vendor/NAME  (opened with openat(), never
 *        through a symbolic link below the device directory)
 *   ROOT/sys/kernel/iommu_groups/N/devices/   ROOT/dev/vfio/N   ROOT/dev/vfio/devices/
 *   ROOT/run/vgpu/{lock,owners/UUID,domains/DOMAIN-UUID.lock}  (ownership, locks)
 * Processes are found in /proc, which is never relocated: what their file
 * descriptors point at is compared with the paths above.
 *
 * Errors: every function that can fail takes GError **error (may be NULL),
 * reports one translated message (domain VGPU_ERROR, codes VgpuErrorCode)
 * saying what failed and what to do, and returns FALSE/NULL/-1.
 * Thread-safety: functions are reentrant; objects are not shared-safe.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

G_BEGIN_DECLS

/* ---------------------------------------------------------------- errors */

#define VGPU_ERROR (vgpu_error_quark ())
GQuark vgpu_error_quark (void);

typedef enum {
    VGPU_ERROR_FAILED,          /* anything not below */
    VGPU_ERROR_INVALID_NAME,    /* type/parent/uuid/attr string rejected */
    VGPU_ERROR_NOT_FOUND,       /* parent, type, device or file does not exist */
    VGPU_ERROR_EXISTS,          /* a device with this UUID already exists */
    VGPU_ERROR_NO_INSTANCES,    /* available_instances is 0 */
    VGPU_ERROR_IO,              /* read/write of a sysfs or other file failed */
    VGPU_ERROR_TIMEOUT,         /* bounded wait expired */
    VGPU_ERROR_NOT_VIABLE,      /* IOMMU group not usable through VFIO */
    VGPU_ERROR_XML_PARSE,       /* not well-formed, bad encoding */
    VGPU_ERROR_XML_UNSAFE,      /* DTD/entities, too large, too deep */
    VGPU_ERROR_XML_INVALID,     /* RelaxNG validation failed */
    VGPU_ERROR_XML_TRANSLATE,   /* semantic error while translating */
    VGPU_ERROR_SCHEMA,          /* a schema file is missing or broken */
    VGPU_ERROR_BUSY,            /* a vGPU is in use, or a lock is held too long */
    VGPU_ERROR_NOT_OWNER,       /* a vGPU belongs to another domain, or to nobody */
    VGPU_ERROR_PERMISSION,      /* only root may do or see this */
} VgpuErrorCode;

/* ------------------------------------------------------- names and paths */

typedef enum {
    VGPU_NAME_TYPE,     /* mdev type id, e.g. vgpu_sim-32m */
    VGPU_NAME_PARENT,   /* PCI address DDDD:BB:SS.F */
    VGPU_NAME_NODEDEV,  /* libvirt node device name pci_DDDD_BB_SS_F */
    VGPU_NAME_UUID,     /* 8-4-4-4-12 hex */
    VGPU_NAME_ATTR,     /* vendor attribute name, "vendor/NAME" */
    VGPU_NAME_LAST
} VgpuNameKind;

/* The sysfs group of a vGPU's vendor attributes (the vGPU core's). */
#define VGPU_ATTR_GROUP "vendor"

/* "type id", "parent address", ... (untranslated identifiers) */
const char *vgpu_name_kind_to_string (VgpuNameKind kind);

/* TRUE if @name is a valid @kind; otherwise FALSE with VGPU_ERROR_INVALID_NAME
 * explaining the expected form. NULL @name is invalid. */
gboolean vgpu_name_is_valid (VgpuNameKind kind, const char *name, GError **error);

/* Accepts a PCI address or a node device name (pci_0000_00_05_0) and returns
 * the sysfs device name (0000:00:05.0), newly allocated. */
char *vgpu_parent_to_sysfs (const char *parent, GError **error);

/* The root every system path derives from: $VGPU_ROOT or "/". Never NULL. */
const char *vgpu_root (void);

/* ROOT + @abs_path (which must start with '/'), newly allocated. */
char *vgpu_root_path (const char *abs_path);

/* Directories the schemas are read from ($VGPU_SCHEMA_DIR or the installed
 * datadir; $VGPU_LIBVIRT_SCHEMA_DIR or libvirt's installed schemas). */
const char *vgpu_schema_dir (void);
const char *vgpu_libvirt_schema_dir (void);

/* ------------------------------------------------------------------ sysfs */

/* One key=value field of a type's description ("framebuffer=32M, heads=1"). */
typedef struct {
    char *key;
    char *value;
} VgpuField;

typedef struct {
    char *id;               /* directory name, e.g. vgpu_sim-32m */
    char *parent;           /* sysfs parent name, e.g. 0000:00:05.0 */
    char *name;             /* contents of name, or NULL if absent */
    char *description;      /* raw description, or NULL */
    GPtrArray *fields;      /* VgpuField*, parsed from description in order */
    char *device_api;       /* e.g. vfio-pci, or NULL */
    gint64 available;       /* available_instances, -1 if unreadable */
    GPtrArray *devices;     /* char* UUIDs listed in devices/ (sorted) */
} VgpuType;

typedef struct {
    char *name;             /* sysfs name under /sys/class/mdev_bus, e.g. 0000:00:05.0 */
    char *nodedev;          /* libvirt node device name, e.g. pci_0000_00_05_0 */
    GPtrArray *types;       /* VgpuType*, sorted by id */
} VgpuGpu;

/* A vGPU that exists in /sys/bus/mdev/devices. */
typedef struct {
    char *uuid;
    char *type;             /* basename of the mdev_type link, or NULL */
    char *parent;           /* sysfs parent name, or NULL */
    char *driver;           /* bound driver, or NULL if unbound */
    int iommu_group;        /* -1 if none */
} VgpuMdev;

void vgpu_field_free (VgpuField *f);
void vgpu_type_free (VgpuType *t);
void vgpu_gpu_free (VgpuGpu *g);
void vgpu_mdev_free (VgpuMdev *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VgpuField, vgpu_field_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VgpuType, vgpu_type_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VgpuGpu, vgpu_gpu_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VgpuMdev, vgpu_mdev_free)

/* Parses "k1=v1, k2=v2" (commas and/or newlines separate; blanks trimmed)
 * into VgpuField* in order. A part that does not start with "identifier="
 * continues the previous value (free text with commas, as the vGPU core's
 * trailing "description=..."); a leading one becomes a key with value "". */
GPtrArray *vgpu_description_parse (const char *description);

/* Every GPU under ROOT/sys/class/mdev_bus, sorted by name, with its types.
 * Returns an empty array when there are none; NULL only on error. */
GPtrArray *vgpu_list_gpus (GError **error);

/* One GPU (PCI address or node device name). */
VgpuGpu *vgpu_get_gpu (const char *parent, GError **error);

/* One type of one GPU. */
VgpuType *vgpu_get_type (const char *parent, const char *type, GError **error);

/* Every existing vGPU (ROOT/sys/bus/mdev/devices), sorted by UUID. */
GPtrArray *vgpu_list_mdevs (GError **error);
VgpuMdev *vgpu_get_mdev (const char *uuid, GError **error);

/* A vendor attribute to write after create. */
typedef struct {
    char *name;
    char *value;
} VgpuAttr;
VgpuAttr *vgpu_attr_new (const char *name, const char *value);
void vgpu_attr_free (VgpuAttr *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VgpuAttr, vgpu_attr_free)

/* Chooses a parent for @type: @parent if given (checked to have the type),
 * otherwise the first GPU (by name) that has @type with a free instance.
 * Returns the sysfs parent name. */
char *vgpu_pick_parent (const char *parent, const char *type, GError **error);

/* Creates a vGPU: validates every name, then, under the host lock
 * (vgpu_lock_host), picks the parent, checks that the type exists and has a
 * free instance and that no device @uuid exists, writes @uuid to
 * .../create, waits (at most 2 s, or @timeout_ms if longer) for the device
 * directory, then writes each VgpuAttr of @attrs (may be NULL) in order to
 * ROOT/sys/bus/mdev/devices/UUID/vendor/NAME, then, if @timeout_ms > 0,
 * waits until the device is bound (vgpu_wait_bound). Without @parent, the
 * GPUs with a free instance are tried in order: when the create write fails
 * because another program took the last instance first, the next one is
 * tried. If anything after the create write fails, the device is removed
 * again before returning FALSE, so nothing is left half-created. The new
 * vGPU has no owner (a stale ownership record of an earlier vGPU with this
 * UUID is dropped). @parent_out (may be NULL) receives the sysfs parent that
 * was used. */
gboolean vgpu_create (const char *parent, const char *type, const char *uuid,
                      GPtrArray *attrs, guint timeout_ms,
                      char **parent_out, GError **error);

/* Writes each VgpuAttr of @attrs in order to the existing vGPU @uuid (as
 * vgpu_create does after its create write), after validating all of them.
 * The vGPU core takes them only before the vGPU's first open: after that the
 * error is VGPU_ERROR_BUSY, naming what to do instead. Attributes written
 * before a failing one stay written. */
gboolean vgpu_set_attrs (const char *uuid, GPtrArray *attrs, GError **error);

/* Removes a vGPU, never waiting unboundedly: refuses (VGPU_ERROR_BUSY,
 * naming the process) when a process holds the vGPU's VFIO group or device
 * node open; otherwise writes "1" to ROOT/sys/bus/mdev/devices/UUID/remove
 * from a child process and waits at most @timeout_ms (0: 10 s) for the
 * write to complete and the device to disappear. When the kernel is still
 * waiting for an unseen user to let go after that, the error is
 * VGPU_ERROR_BUSY and the removal completes by itself once it does. The
 * vGPU's ownership record goes with it. */
gboolean vgpu_remove (const char *uuid, guint timeout_ms, GError **error);

/* A process that holds a vGPU open (its VFIO group or device node). */
typedef struct {
    int pid;
    char *comm;             /* /proc/PID/comm, or NULL */
    char *node;             /* the node it holds, e.g. /dev/vfio/12 */
} VgpuHolder;
void vgpu_holder_free (VgpuHolder *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VgpuHolder, vgpu_holder_free)

/* The processes (other than the caller) that hold vGPU @uuid open, as far as
 * /proc lets the caller see (root sees all). Empty when none. */
GPtrArray *vgpu_holders (const char *uuid, GError **error);

/* Waits (polling, at most @timeout_ms) until ROOT/sys/bus/mdev/devices/UUID
 * exists and has a driver link; returns the driver name. VGPU_ERROR_TIMEOUT
 * if it does not happen in time. */
char *vgpu_wait_bound (const char *uuid, guint timeout_ms, GError **error);

/* Waits until the device directory has disappeared (e.g. after a detach
 * that the guest has not completed yet). */
gboolean vgpu_wait_removed (const char *uuid, guint timeout_ms, GError **error);

/* The IOMMU group number of a vGPU (from its iommu_group link). */
int vgpu_iommu_group (const char *uuid, GError **error);

/* "ROOT/dev/vfio/N" for the vGPU's group; checks that it exists. */
char *vgpu_vfio_group_path (const char *uuid, GError **error);

/* A group is viable when every device in ROOT/sys/kernel/iommu_groups/N/devices
 * is unbound or bound to a VFIO driver (vgpu — the vGPU core's mdev driver —,
 * vfio-pci, vfio_mdev, vgpu_vfio, any vfio*, pci-stub or pcieport) and ROOT/dev/vfio/N exists. On failure the
 * error names the device that makes it non-viable. */
gboolean vgpu_iommu_group_viable (int group, GError **error);

/* ------------------------------------------------------- ownership, locks */
/*
 * Who a vGPU belongs to (ARCHITECTURE.md §3.2):
 *   managed    created for one libvirt domain (by the libvirt hook at the
 *              domain's start, or by vgpuctl attach-device --live) and
 *              removed when that domain stops. Its ownership record
 *              ROOT/run/vgpu/owners/UUID names the domain; only that domain
 *              may use it, and only that domain's stop removes it.
 *   unmanaged  created by the administrator (vgpuctl create, mdevctl, virsh
 *              nodedev-create). It has no record; nothing in this project
 *              creates or removes it for a domain. A domain may use it when
 *              no other domain owns it.
 * A record is only valid for the device it was written for (it holds the
 * device directory's identity): when the vGPU is removed by other means
 * and created again, the old record no longer applies.
 *
 * Creating a vGPU, choosing its GPU and writing or dropping records happen
 * under one host-wide lock, ROOT/run/vgpu/lock (flock). A process may take
 * it again while it holds it (nested). Changing a domain's vGPU metadata
 * (vgpuctl) happens under that domain's lock; the libvirt hook never takes
 * a domain lock, so the two never wait for each other in a cycle.
 */
typedef struct {
    char *uuid;             /* the vGPU */
    char *domain_uuid;      /* the domain it belongs to */
    char *domain_name;      /* its name when the record was written */
    char *type;
    char *parent;           /* sysfs parent it was created on */
    char *created_by;       /* "libvirt-hook" or "vgpuctl" */
    gint64 created;         /* seconds since the epoch */
} VgpuOwner;
void vgpu_owner_free (VgpuOwner *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VgpuOwner, vgpu_owner_free)

/* The valid ownership record of vGPU @uuid; NULL without an error when the
 * vGPU has none (or only a stale one). */
VgpuOwner *vgpu_owner_get (const char *uuid, GError **error);

/* Every valid ownership record, sorted by vGPU UUID. */
GPtrArray *vgpu_owner_list (GError **error);

typedef struct VgpuLock VgpuLock;
/* Take the host-wide lock, or a domain's (@domain_uuid) metadata lock,
 * waiting at most @timeout_ms (VGPU_ERROR_BUSY after that). */
VgpuLock *vgpu_lock_host (guint timeout_ms, GError **error);
VgpuLock *vgpu_lock_domain (const char *domain_uuid, guint timeout_ms, GError **error);
void vgpu_lock_release (VgpuLock *lock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VgpuLock, vgpu_lock_release)

/* ------------------------------------------------------------------- XML */

#define VGPU_METADATA_NS     "https://gitlab.com/vgpu/xmlns/vgpu/1.0"
#define VGPU_METADATA_PREFIX "vgpu"
#define VGPU_METADATA_KEY    "vgpu"

/* Largest document accepted by the parse functions, in bytes. */
#define VGPU_XML_MAX_SIZE (8 * 1024 * 1024)

typedef enum {
    VGPU_DOC_UNKNOWN,
    VGPU_DOC_DOMAIN,          /* <domain> (dialect and/or native) */
    VGPU_DOC_HOSTDEV,         /* <hostdev type='vgpu'> */
    VGPU_DOC_HOSTDEV_NATIVE,  /* any other <hostdev> */
    VGPU_DOC_METADATA,        /* <vgpu:devices> in our namespace */
    VGPU_DOC_NODEDEV,         /* libvirt <device> (node device) */
    VGPU_DOC_LAST
} VgpuDocKind;

/* "domain", "hostdev", "hostdev-native", "metadata", "nodedev", "unknown" */
const char *vgpu_doc_kind_to_string (VgpuDocKind kind);
VgpuDocKind vgpu_doc_kind_from_string (const char *str); /* UNKNOWN if no match */

/* Parses untrusted XML: no network, no DTD at all (so no external entities
 * and no entity expansion), at most VGPU_XML_MAX_SIZE bytes, UTF-8 checked by
 * libxml2. Blank text nodes are dropped so the output can be re-indented.
 * @source_name is used in messages (e.g. the file name). Free with xmlFreeDoc
 * (g_autoptr(xmlDoc) works, see below). */
xmlDoc *vgpu_xml_parse (const char *data, gsize len, const char *source_name,
                        GError **error);

/* Reads @path ("-" = standard input) with the size limit, then parses it. */
xmlDoc *vgpu_xml_read_file (const char *path, GError **error);

/* Serializes indented (2 spaces), with the XML declaration omitted and a
 * trailing newline. */
char *vgpu_xml_format (xmlDoc *doc);

/* The kind of document from its root element (and type attribute). */
VgpuDocKind vgpu_xml_detect_kind (xmlDoc *doc);

/* Validates @doc against the schema for @kind (see contract 3). Pass
 * VGPU_DOC_UNKNOWN to use vgpu_xml_detect_kind(). The error lists the first
 * problems with line numbers. */
gboolean vgpu_xml_validate (xmlDoc *doc, VgpuDocKind kind, GError **error);

/* Validates @doc against the RelaxNG file @schema_path. */
gboolean vgpu_xml_validate_with (xmlDoc *doc, const char *schema_path,
                                 GError **error);

/* One vGPU as described by the dialect / metadata. */
typedef enum {
    VGPU_PARENT_NONE,      /* any parent with a free instance */
    VGPU_PARENT_ADDRESS,   /* <parent address='0000:00:05.0'/> */
    VGPU_PARENT_NODEDEV,   /* <parent name='pci_0000_00_05_0'/> */
    VGPU_PARENT_LAST
} VgpuParentKind;

typedef enum {
    VGPU_TRISTATE_ABSENT,
    VGPU_TRISTATE_YES,
    VGPU_TRISTATE_NO,
    VGPU_TRISTATE_LAST
} VgpuTristate;

typedef struct {
    char *uuid;               /* lower-case; never NULL once translated */
    gboolean uuid_derived;    /* TRUE when derived (contract 4) */
    char *type;
    VgpuParentKind parent_kind;
    char *parent;             /* as written; NULL with VGPU_PARENT_NONE */
    VgpuTristate managed;     /* ABSENT means not managed */
    GPtrArray *attrs;         /* VgpuAttr*, in order */
} VgpuDevice;

VgpuDevice *vgpu_device_new (void);
void vgpu_device_free (VgpuDevice *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VgpuDevice, vgpu_device_free)

/* TRUE if the vGPU is managed (created at start, removed at stop). */
gboolean vgpu_device_is_managed (const VgpuDevice *d);

/* Sysfs parent name for vgpu_create(). Returns NULL with @error unset when
 * the device names no parent ("any parent"), NULL with @error set when the
 * parent is invalid (not possible for devices the library parsed). */
char *vgpu_device_sysfs_parent (const VgpuDevice *d, GError **error);

/* The stable UUID of contract 4, lower-case, newly allocated.
 * @domain_uuid must be a valid UUID; @parent may be NULL. */
char *vgpu_derive_uuid (const char *domain_uuid, const char *type,
                        const char *parent, guint ordinal, GError **error);

/* Translates a whole <domain> document in place: every dialect hostdev
 * becomes a native one and gets its metadata entry. On error the document is
 * left unchanged. Returns the number of vGPUs translated (0 is fine), or -1.
 * The returned devices (optional, VgpuDevice*) are in document order. */
int vgpu_domain_to_native (xmlDoc *doc, GPtrArray **devices, GError **error);

/* The reverse (see contract 2). On error the document is left unchanged.
 * Returns the number of hostdevs converted back, or -1. */
int vgpu_domain_from_native (xmlDoc *doc, GError **error);

/* The vGPUs listed in the <vgpu:devices> metadata of a native <domain>
 * document that the domain really has: an entry counts only when the
 * document also has a native mdev hostdev with its UUID (what the libvirt
 * hook acts on). The others — left behind when the hostdev was removed by a
 * tool that does not know the metadata, e.g. virt-manager's Remove Hardware
 * or virsh detach-device — go to @orphans (may be NULL). Both are in
 * metadata order and empty if none. */
GPtrArray *vgpu_domain_get_devices (xmlDoc *doc, GPtrArray **orphans, GError **error);

/* <name> and <uuid> of a <domain> document, newly allocated (the UUID in
 * lower case). Either may be NULL. Fails when the domain has no <uuid>. */
gboolean vgpu_domain_get_identity (xmlDoc *doc, char **name, char **uuid, GError **error);

/* ---------------------------------------------------- vGPUs of a domain */
/* What the libvirt hook and vgpuctl do for a domain's vGPUs, with the
 * ownership rules above. @domain_name only appears in messages. */

/* Whether vGPU @d can be used by domain @domain_uuid at its start; changes
 * nothing. Call under the host lock.
 *   managed, absent      *@missing = TRUE: create it (vgpu_device_create_owned)
 *   managed, present     only if this domain owns it, with @d's type (and
 *                        parent, when @d names one)
 *   unmanaged            must exist with @d's type (and parent) and belong
 *                        to no other domain
 * A vGPU of another domain fails with VGPU_ERROR_NOT_OWNER naming that
 * domain; so does a present managed vGPU that no domain owns. */
gboolean vgpu_device_check (const VgpuDevice *d, const char *domain_uuid,
                            const char *domain_name, gboolean *missing, GError **error);

/* Creates the managed vGPU @d (vgpu_create) and records that domain
 * @domain_uuid owns it (@created_by: "libvirt-hook", "vgpuctl"). If the
 * record cannot be written, the vGPU is removed again. */
gboolean vgpu_device_create_owned (const VgpuDevice *d, const char *domain_uuid,
                                   const char *domain_name, const char *created_by,
                                   guint timeout_ms, GError **error);

/* Removes vGPU @uuid (vgpu_remove) if, and only if, domain @domain_uuid owns
 * it; a vGPU of another domain or of nobody is left alone, which is no
 * error. *@removed (may be NULL) tells whether it was removed. */
gboolean vgpu_device_release_owned (const char *uuid, const char *domain_uuid,
                                    guint timeout_ms, gboolean *removed, GError **error);

/* The UUIDs of the vGPUs that domain @domain_uuid owns, sorted. */
GPtrArray *vgpu_owned_by (const char *domain_uuid, GError **error);

/* Parses a dialect <hostdev type='vgpu'> element (checks every name). The
 * UUID is left NULL when the element has none. */
VgpuDevice *vgpu_device_from_hostdev (xmlNode *hostdev, GError **error);

/* Translates a standalone hostdev document (for attach/detach) in place to
 * native. When the hostdev has no <uuid>, it is derived from @domain_uuid
 * with ordinal @ordinal (error if @domain_uuid is NULL). Returns the device
 * for the metadata entry. */
VgpuDevice *vgpu_hostdev_to_native (xmlDoc *doc, const char *domain_uuid,
                                    guint ordinal, GError **error);

/* Turns a native mdev hostdev document back into the dialect, using @device
 * (its metadata entry, whose uuid must match). Without the domain, <uuid> is
 * omitted exactly when @device->uuid_derived is set. */
gboolean vgpu_hostdev_from_native (xmlDoc *doc, const VgpuDevice *device,
                                   GError **error);

/* Standalone metadata documents.
 * vgpu_metadata_format(): <vgpu:devices xmlns:vgpu=VGPU_METADATA_NS> (as it
 *   appears inside a domain's <metadata>; schemas/vgpu-metadata.rng).
 * vgpu_metadata_format_plain(): the same without namespace, which is what
 *   virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, xml,
 *   VGPU_METADATA_KEY, VGPU_METADATA_NS, flags) requires (libvirt puts the
 *   namespace on every element itself and refuses a namespaced input).
 * vgpu_metadata_parse(): accepts both forms; virDomainGetMetadata(...,
 *   VGPU_METADATA_NS, ...) returns the plain one. */
char *vgpu_metadata_format (GPtrArray *devices);
char *vgpu_metadata_format_plain (GPtrArray *devices);
GPtrArray *vgpu_metadata_parse (const char *xml, GError **error);

/* The UUID of a native mdev hostdev element (newly allocated, lower-case),
 * or NULL if it is not one. */
char *vgpu_native_hostdev_uuid (xmlNode *hostdev);

G_END_DECLS
