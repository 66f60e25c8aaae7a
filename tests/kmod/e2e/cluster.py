#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""OpenStack Nova's and KubeVirt's use of mediated devices, replayed against our vGPUs.

In the lab (--libvirt --nested --gpus 2 --gpu-vram 128, our build installed): the libvirt API
calls of Nova's libvirt driver and the sysfs reads and writes of KubeVirt's virt-handler, in
their order, on two vgpu_sim GPUs, with the configuration docs/cluster.md gives (read from it).
Neither Nova nor KubeVirt runs here; docs/cluster.md says what each step stands for (file and
function in their sources) and what could not be run.

  cluster.py BUILDDIR        (TAP)
"""
import configparser
import glob
import os
import re
import subprocess
import sys
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET

import libvirt
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "harness"))
import tap as taplib  # noqa: E402
from tap import bail, keep_log, note, tap as ok  # noqa: E402

BUILDDIR = os.path.realpath(sys.argv[1])
WORK = os.path.join(BUILDDIR, "tests/kmod/e2e/cluster")
GPUS = os.environ["LAB_GPUS"].split()
MDEV_BUS = "/sys/class/mdev_bus"
MDEVS = "/sys/bus/mdev/devices"


def run(*cmd, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        bail(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return r


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def mdevs():
    return sorted(os.listdir(MDEVS))


def wait(fn, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    return fn()


def libvirt_name(pci):          # 0000:00:05.0 -> pci_0000_00_05_0
    return "pci_" + re.sub(r"[:.]", "_", pci)


# ---------------------------------------------------------------------------------------
# The configuration, as docs/cluster.md gives it.
doc = read("docs/cluster.md")
ini = re.search(r"<!-- nova.conf -->\s*```ini\n(.*?)```", doc, re.S)
kv = re.search(r"<!-- kubevirt -->\s*```yaml\n(.*?)```", doc, re.S)
if not ini or not kv:
    bail("docs/cluster.md lacks its nova.conf or KubeVirt block")
NOVA_CONF = ini.group(1)
KV_CONF = yaml.safe_load(kv.group(1))

total = 22
print(f"1..{total}", flush=True)
os.makedirs(WORK, exist_ok=True)
if len(GPUS) < 2:
    bail("run me in a lab with --gpus 2")
for g in GPUS:
    write(f"/sys/bus/pci/devices/{g}/driver_override", "vgpu_sim")
    write("/sys/bus/pci/drivers_probe", g)
run("udevadm", "settle")
conn = libvirt.open("qemu:///system")
# libvirt's node device driver takes udev's events in its own time.
if not wait(lambda: len(conn.listDevices("mdev_types", 0)) == len(GPUS), 30):
    bail(f"libvirt does not list {len(GPUS)} mdev-capable devices: "
         f"{conn.listDevices('mdev_types', 0)}")

# =======================================================================================
# OpenStack Nova (nova/virt/libvirt/driver.py, host.py, config.py; nova/conf/devices.py).
# =======================================================================================

# Nova's configuration: oslo.config reads an INI file; [devices] enabled_mdev_types names the
# types, one [mdev_TYPE] group per type with device_addresses and mdev_class.
cfg = configparser.ConfigParser()
cfg.read_string(NOVA_CONF)
enabled = [t.strip() for t in cfg["devices"]["enabled_mdev_types"].split(",")]
type_of = {}        # PCI address -> the one type Nova uses on that GPU
class_of = {}
for t in enabled:
    grp = cfg[f"mdev_{t}"]
    rc = grp.get("mdev_class", "VGPU")
    for a in grp.get("device_addresses", "").split(","):
        if a.strip():
            type_of[a.strip()] = t
            class_of[a.strip()] = rc
sysfs_types = {os.path.basename(p) for p in glob.glob(f"{MDEV_BUS}/*/mdev_supported_types/*")}
ok(set(enabled) <= sysfs_types and set(type_of) == set(GPUS) and
   all(re.fullmatch(r"VGPU|CUSTOM_[A-Z0-9_]+", c) for c in class_of.values()),
   f"docs/cluster.md's nova.conf: types {enabled} exist in sysfs, one per lab GPU, "
   f"resource classes {sorted(set(class_of.values()))} pass Nova's pattern")


# Nova's discovery: listDevices('mdev_types'), each parent's nodedev XML, its PCI capability's
# nested <capability type='mdev_types'>: type id, name, deviceAPI, availableInstances.
def nova_mdev_capable_devices(types):
    found = []
    for name in conn.listDevices("mdev_types", 0):
        root = ET.fromstring(conn.nodeDeviceLookupByName(name).XMLDesc(0))
        pci = root.find("capability[@type='pci']")
        dev = {"dev_id": root.findtext("name"), "vendor_id": int(pci.find("vendor").get("id"), 16),
               "types": {}}
        for t in pci.findall("capability[@type='mdev_types']/type"):
            if t.get("id") in types:
                dev["types"][t.get("id")] = {
                    "availableInstances": int(t.findtext("availableInstances")),
                    "name": t.findtext("name"), "deviceAPI": t.findtext("deviceAPI")}
        if dev["types"]:
            found.append(dev)
    return found


def nova_address(dev_id):       # pci_0000_00_05_0 -> 0000:00:05.0, as Nova splits it
    return "{}:{}:{}.{}".format(*dev_id[4:].split("_"))


caps = nova_mdev_capable_devices(enabled)
good = len(caps) == len(GPUS)
for dev in caps:
    pci = nova_address(dev["dev_id"])
    for t, info in dev["types"].items():
        d = f"{MDEV_BUS}/{pci}/mdev_supported_types/{t}"
        good &= (info["deviceAPI"] == "vfio-pci" == read(f"{d}/device_api").strip() and
                 info["name"] == read(f"{d}/name").strip() and
                 info["availableInstances"] == int(read(f"{d}/available_instances")))
        note(f"{dev['dev_id']} ({pci}): {t} name '{info['name']}' deviceAPI {info['deviceAPI']} "
             f"availableInstances {info['availableInstances']}")
ok(good and dev["vendor_id"] == 0x1234,
   "Nova's discovery through libvirt: both GPUs list the enabled types; id, name, deviceAPI "
   "vfio-pci and availableInstances equal sysfs")


# Nova's mdevs: listDevices('mdev'), each one's nodedev XML (parent, type id, uuid, iommuGroup).
def nova_mediated_devices(types=None):
    out = []
    for name in conn.listDevices("mdev", 0):
        root = ET.fromstring(conn.nodeDeviceLookupByName(name).XMLDesc(0))
        cap = root.find("capability[@type='mdev']")
        dev = {"dev_id": root.findtext("name"), "uuid": cap.findtext("uuid"),
               "parent": root.findtext("parent"), "type": cap.find("type").get("id"),
               "iommu_group": int(cap.find("iommuGroup").get("number"))}
        if types is None or dev["type"] in types:
            out.append(dev)
    return out


# Nova's inventory per GPU: its mdevs of the GPU's type plus that type's availableInstances.
def nova_inventory():
    inv = {}
    for m in nova_mediated_devices(enabled):
        if m["type"] == type_of.get(nova_address(m["parent"])):
            inv[m["parent"]] = inv.get(m["parent"], 0) + 1
    for dev in nova_mdev_capable_devices(enabled):
        t = type_of.get(nova_address(dev["dev_id"]))
        if t in dev["types"]:
            inv[dev["dev_id"]] = inv.get(dev["dev_id"], 0) + dev["types"][t]["availableInstances"]
    return inv


def type_max(pci, t):
    m = re.search(r"max_instances=(\d+)",
                  read(f"{MDEV_BUS}/{pci}/mdev_supported_types/{t}/description"))
    return int(m.group(1))


inv = nova_inventory()
note(f"Nova's inventory: {inv}")
ok(all(inv.get(libvirt_name(g)) == type_max(g, type_of[g]) for g in GPUS),
   "Nova's inventory of an empty GPU is its type's max_instances")

gpu_a, gpu_b = GPUS[0], GPUS[1]
type_a = type_of[gpu_a]


# Nova >= 30.0 (Dalmatian) with libvirt >= 7.3, and every Nova since 32.0: a new mdev is
# nodeDeviceCreateXML (transient), nodeDeviceDefineXML (persistent), setAutostart.
def nova_create_mdev(parent_name, mdev_type, u):
    xml = (f"<device><parent>{parent_name}</parent><capability type='mdev'>"
           f"<type id='{mdev_type}'/><uuid>{u}</uuid></capability></device>")
    conn.nodeDeviceCreateXML(xml, 0)
    dev = conn.nodeDeviceDefineXML(xml, 0)
    dev.setAutostart(1)
    return dev


u1 = str(uuidlib.uuid4())
try:
    d1 = nova_create_mdev(libvirt_name(gpu_a), type_a, u1)
    created = True
except libvirt.libvirtError as e:
    note(f"libvirt: {e}")
    created = False
mdevctl = run("mdevctl", "list", "--defined", check=False).stdout
note(mdevctl)
ok(created and os.path.exists(f"{MDEVS}/{u1}/driver") and
   os.path.basename(os.readlink(f"{MDEVS}/{u1}/mdev_type")) == type_a and
   re.search(rf"^{u1} {re.escape(gpu_a)} {type_a} auto", mdevctl, re.M) is not None,
   f"Nova's create: nodeDeviceCreateXML + DefineXML + setAutostart made vGPU {u1} "
   f"({type_a} on {gpu_a}), defined in mdevctl with start 'auto'")


# Nova looks an mdev up by 'mdev_' + UUID; libvirt >= 7.7 names it mdev_UUID_PARENT, so that
# fails with VIR_ERR_NO_NODE_DEVICE and Nova takes the one name starting with it.
def nova_mdev_info(devname):
    try:
        dev = conn.nodeDeviceLookupByName(devname)
    except libvirt.libvirtError as e:
        if e.get_error_code() != libvirt.VIR_ERR_NO_NODE_DEVICE:
            raise
        names = [d for d in conn.listDevices("mdev", 0) if d.startswith(devname)]
        if len(names) != 1:
            return None
        dev = conn.nodeDeviceLookupByName(names[0])
    return [m for m in nova_mediated_devices() if m["dev_id"] == dev.name()][0]


info = nova_mdev_info("mdev_" + u1.replace("-", "_"))
group = os.path.basename(os.readlink(f"{MDEVS}/{u1}/iommu_group"))
note(f"Nova's view of it: {info}")
ok(info is not None and info["uuid"] == u1 and info["type"] == type_a and
   info["parent"] == libvirt_name(gpu_a) and str(info["iommu_group"]) == group and
   info["dev_id"] == f"mdev_{u1.replace('-', '_')}_{gpu_a.replace(':', '_').replace('.', '_')}",
   "Nova's lookup (mdev_UUID fails, the prefix match finds mdev_UUID_PARENT): uuid, type, "
   "parent and iommuGroup as sysfs has them")

# Nova <= 29.0 (and 30/31 with libvirt < 7.3): nova.privsep.libvirt.create_mdev writes the
# UUID to the type's create file; _is_existing_mdev looks for /sys/bus/mdev/devices/UUID.
u2 = str(uuidlib.uuid4())
try:
    write(f"{MDEV_BUS}/{gpu_a}/mdev_supported_types/{type_a}/create", u2)
    wrote = True
except OSError as e:
    note(f"create: {e}")
    wrote = False
listed = wait(lambda: any(d.startswith("mdev_" + u2.replace("-", "_"))
                          for d in conn.listDevices("mdev", 0)))
ok(wrote and os.path.exists(f"{MDEVS}/{u2}") and listed,
   f"old Nova's create: the UUID written to {type_a}/create makes /sys/bus/mdev/devices/{u2}, "
   "and libvirt lists it")

# Nova's claim of an mdev: the guest's <hostdev type='mdev' model='vfio-pci'>; free mdevs are
# those of the GPU's type not named by any domain's XML (defined or running).
domain_xml = f"""<domain type='kvm'>
  <name>nova-instance</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <video><model type='none'/></video><memballoon model='none'/>
    <hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci'>
      <source><address uuid='{u1}'/></source>
    </hostdev>
  </devices>
</domain>"""
dom = conn.defineXML(domain_xml)


def nova_assigned():
    used = set()
    for d in conn.listAllDomains(0):
        for a in ET.fromstring(d.XMLDesc(0)).findall(
                "devices/hostdev[@type='mdev']/source/address"):
            used.add(a.get("uuid"))
    return used


def nova_free(parent_name):
    return {m["uuid"] for m in nova_mediated_devices(enabled)
            if m["parent"] == parent_name and m["type"] == type_of[nova_address(parent_name)]
            } - nova_assigned()


free = nova_free(libvirt_name(gpu_a))
ok(free == {u2}, f"Nova's free mdevs on {gpu_a}: {u2} only ({u1} is named by domain "
   "nova-instance)")

# Nova starts the guest. Our hook runs for it (libvirt runs it for every domain) and leaves
# the vGPU alone: no vGPU metadata, so nothing of ours.
try:
    dom.create()
    started = True
except libvirt.libvirtError as e:
    note(f"start: {e}")
    started = False
pid = int(read(f"/run/libvirt/qemu/nova-instance.pid")) if started else 0
held = started and any(os.readlink(f"/proc/{pid}/fd/{fd}") == f"/dev/vfio/{group}"
                       for fd in os.listdir(f"/proc/{pid}/fd"))
vl = run("vgpuctl", "list", check=False).stdout
note(vl)
ok(started and held and re.search(rf"^{u1} .*unmanaged$", vl, re.M) is not None and
   not os.path.exists(f"/run/vgpu/owners/{u1}"),
   f"nova-instance starts on {u1}: QEMU holds /dev/vfio/{group}; vgpuctl lists it unmanaged, "
   "no owner")
if started:
    dom.destroy()
ok(started and os.path.exists(f"{MDEVS}/{u1}/driver"),
   "after the instance stops the vGPU stays (neither libvirt nor our hook removes it; Nova "
   "reuses it)")

# Nova's inventory follows the VRAM that other types take on the same GPU: a vGPU of another
# type made by someone else shrinks what Nova can create there.
before = nova_inventory()[libvirt_name(gpu_a)]
other = {"vgpu_sim-16m": "vgpu_sim-64m"}.get(type_a, "vgpu_sim-16m")
u3 = str(uuidlib.uuid4())
write(f"{MDEV_BUS}/{gpu_a}/mdev_supported_types/{other}/create", u3)
# libvirt learns of a vGPU made through sysfs from udev's event, in its own thread: libvirt
# 11.3 takes seconds under TCG, and a read meanwhile can miss the GPU's types altogether.
# Nova's inventory is a periodic task, long after: read it once libvirt lists the vGPU.
at_once = nova_inventory().get(libvirt_name(gpu_a))
wait(lambda: any(d.startswith("mdev_" + u3.replace("-", "_")) for d in conn.listDevices("mdev", 0)))
run("udevadm", "settle")
after = nova_inventory().get(libvirt_name(gpu_a))
fb = {t: int(re.search(r"fb_size=(\d+)", read(f"{MDEV_BUS}/{gpu_a}/mdev_supported_types/{t}/"
                                              "description")).group(1)) for t in (type_a, other)}
expect = before - max(1, fb[other] // fb[type_a])
note(f"Nova's inventory on {gpu_a}: {before} before, {after} after a {other} vGPU "
     f"({at_once} read at once)")
ok(after == expect, f"a {other} vGPU made outside Nova takes {before - (after or 0)} of Nova's "
   f"{type_a} inventory on {gpu_a} (the types share the VRAM)")
write(f"{MDEVS}/{u3}/remove", "1")

# Nova's init_host: defined but inactive mdevs (listAllDevices CAP_MDEV|INACTIVE) are started.
def inactive_mdevs():
    return [d.name() for d in conn.listAllDevices(
        libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_MDEV |
        libvirt.VIR_CONNECT_LIST_NODE_DEVICES_INACTIVE)]


run("virsh", "-c", "qemu:///system", "nodedev-destroy", d1.name())
gone = not os.path.exists(f"{MDEVS}/{u1}")
# nodedev-destroy returns once the vGPU is gone from sysfs; libvirt marks the defined device
# inactive when its udev thread takes the remove event (libvirt 11.3: seconds later). Nova's
# init_host runs when nova-compute starts, long after: list once libvirt has caught up.
at_once = inactive_mdevs()
inactive = wait(lambda: d1.name() in inactive_mdevs() and inactive_mdevs()) or inactive_mdevs()
note(f"inactive mdevs: {inactive} ({at_once} read at once)")
for name in inactive:
    conn.nodeDeviceLookupByName(name).create(0)
ok(gone and d1.name() in inactive and os.path.exists(f"{MDEVS}/{u1}/driver"),
   f"Nova's init_host: the defined, inactive {u1} is listed inactive and started again")

# Clean up the Nova part (Nova itself never removes an mdev).
dom.undefine()
run("virsh", "-c", "qemu:///system", "nodedev-destroy", d1.name(), check=False)
run("virsh", "-c", "qemu:///system", "nodedev-undefine", d1.name())
write(f"{MDEVS}/{u2}/remove", "1")
ok(mdevs() == [], "the Nova part leaves no vGPU")

# =======================================================================================
# KubeVirt (pkg/virt-handler/device-manager/mediated_devices_types.go, mediated_device.go,
# common.go, device_controller.go; cmd/virt-chroot/mdev-handler.go).
# =======================================================================================
conf = KV_CONF["spec"]["configuration"]
desired = conf["mediatedDevicesConfiguration"]["mediatedDeviceTypes"]
permitted = conf["permittedHostDevices"]["mediatedDevices"]


def kv_name(raw):               # KubeVirt: spaces to '_', then trimmed
    return raw.replace(" ", "_").strip()


selectors = {kv_name(p["mdevNameSelector"]): p["resourceName"] for p in permitted
             if not p.get("externalResourceProvider")}
external = {kv_name(p["mdevNameSelector"]) for p in permitted if p.get("externalResourceProvider")}
note(f"KubeVirt: mediatedDeviceTypes {desired}, selectors {selectors}, external {external}")
kv_type = desired[0]


# The type name KubeVirt gives an mdev: its mdev_type/name, else the mdev_type link's target.
def kv_mdev_type_name(u):
    try:
        raw = read(f"{MDEVS}/{u}/mdev_type/name")
    except FileNotFoundError:
        raw = os.path.basename(os.readlink(f"{MDEVS}/{u}/mdev_type"))
    return kv_name(raw)


# The sweep: every mdev whose type name (or type id) is neither configured nor external is
# removed by writing 1 to its remove file. Returns what it removed.
def kv_sweep(keep):
    removed = []
    for u in os.listdir(MDEVS):
        try:
            if kv_name(read(f"{MDEVS}/{u}/mdev_type/name")) in keep:
                continue
        except OSError:
            pass
        try:
            tid = kv_name(os.path.basename(os.readlink(f"{MDEVS}/{u}/mdev_type")))
        except OSError:
            continue
        if tid in keep:
            continue
        write(f"{MDEVS}/{u}/remove", "1")
        removed.append(u)
    return removed


# The configuration step: parents with any mdev are skipped; on the others, as many mdevs of
# the first configured type as available_instances says, one random UUID each.
def kv_configure(types):
    busy = set()
    for p in glob.glob(f"{MDEVS}/*"):
        busy.add(os.readlink(p).split("/")[-2])
    todo = {}
    for t in glob.glob(f"{MDEV_BUS}/*/mdev_supported_types/*"):
        parent = t.split("/")[-3]
        try:
            name = kv_name(read(f"{t}/name"))
        except FileNotFoundError:
            name = ""
        tid = os.path.basename(t)
        if (name in types or tid in types) and parent not in busy:
            todo.setdefault(tid, []).append(parent)
    made = {}
    for tid, parents in todo.items():
        for parent in parents:
            if parent in made:
                continue        # one type per parent
            count = int(read(f"{MDEV_BUS}/{parent}/mdev_supported_types/{tid}/available_instances"))
            made[parent] = []
            for _ in range(count):
                u = str(uuidlib.uuid1())
                write(f"{MDEV_BUS}/{parent}/mdev_supported_types/{tid}/create", u)
                made[parent].append(u)
    return made


# Someone else's vGPUs on the host: the administrator's (virsh nodedev-create, a type KubeVirt
# is not configured for) on GPU A, and one of KubeVirt's type on GPU B.
kept_type = kv_type
alien_type = "vgpu_sim-16m" if kv_type != "vgpu_sim-16m" else "vgpu_sim-64m"
x = str(uuidlib.uuid4())
y = str(uuidlib.uuid4())
for u, g, t in ((x, gpu_a, alien_type), (y, gpu_b, kept_type)):
    conn.nodeDeviceCreateXML(f"<device><parent>{libvirt_name(g)}</parent><capability type='mdev'>"
                             f"<type id='{t}'/><uuid>{u}</uuid></capability></device>", 0)
names = {u: kv_mdev_type_name(u) for u in (x, y)}
note(f"KubeVirt's type names: {names}")
ok(names[x] == kv_name(read(f"{MDEV_BUS}/{gpu_a}/mdev_supported_types/{alien_type}/name")) and
   names[y] in selectors,
   f"KubeVirt names our types from mdev_type/name with '_' for spaces: {names[y]!r} matches "
   "docs/cluster.md's mdevNameSelector")

# An externalResourceProvider entry for the alien type protects it from the sweep ...
removed = kv_sweep(set(desired) | external | {names[x]})
ok(removed == [] and mdevs() == sorted([x, y]),
   f"the sweep keeps {x} when its type is listed (externalResourceProvider)")
# ... without one, it goes.
removed = kv_sweep(set(desired) | external)
ok(removed == [x] and mdevs() == [y],
   f"KubeVirt's sweep removes the administrator's {alien_type} vGPU {x}; keeps {y} ({kept_type})")

# Configuration: GPU B has an mdev already and is skipped; GPU A, now empty, is filled.
made = kv_configure(set(desired))
note(f"KubeVirt created: {made}")
full = all(int(read(f"{t}/available_instances")) == 0
           for t in glob.glob(f"{MDEV_BUS}/{gpu_a}/mdev_supported_types/*"))
ok(list(made) == [gpu_a] and len(made[gpu_a]) == type_max(gpu_a, kv_type) and full,
   f"KubeVirt fills {gpu_a} with {len(made.get(gpu_a, []))} x {kv_type} (available_instances "
   f"of every type is then 0) and skips {gpu_b}, which has an mdev")

# The device plugin: each mdev of a permitted type, its parent (the link's directory), NUMA
# node, IOMMU group (the plugin's device ID) and /dev/vfio/GROUP, which the pod gets.
plugin = {}
good = True
for u in os.listdir(MDEVS):
    if not os.path.islink(f"{MDEVS}/{u}"):
        continue
    name = kv_mdev_type_name(u)
    if name not in selectors:
        continue
    parent = os.readlink(f"{MDEVS}/{u}").split("/")[-2]
    numa = int(read(f"/sys/bus/pci/devices/{parent}/numa_node"))
    grp = os.path.basename(os.readlink(f"{MDEVS}/{u}/iommu_group"))
    good &= os.path.exists(f"/dev/vfio/{grp}") and parent in GPUS
    plugin[grp] = (u, parent, numa)
note(f"device plugin {selectors}: " + ", ".join(f"group {g}: {v[0]} on {v[1]} numa {v[2]}"
                                               for g, v in sorted(plugin.items())))
ok(good and len(plugin) == len(made[gpu_a]) + 1,
   "the device plugin finds every vGPU of the permitted type, each in its own IOMMU group with "
   "/dev/vfio/GROUP")

# virt-launcher's domain: the mdev hostdev by UUID, display and ramfb on for the first GPU.
ku = made[gpu_a][0]
kdom = conn.defineXML(f"""<domain type='kvm'>
  <name>kubevirt-vmi</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <graphics type='vnc' autoport='yes'/>
    <video><model type='none'/></video><memballoon model='none'/>
    <hostdev mode='subsystem' type='mdev' model='vfio-pci' display='on' ramfb='on'>
      <source><address uuid='{ku}'/></source>
    </hostdev>
  </devices>
</domain>""")
try:
    kdom.create()
    kstarted = True
    kdom.destroy()
except libvirt.libvirtError as e:
    note(f"start: {e}")
    kstarted = False
kdom.undefine()
ok(kstarted, f"a domain with KubeVirt's hostdev (display='on' ramfb='on') starts on {ku}")

# The sweep against a running domain's vGPU: a domain in our dialect, its managed vGPU made by
# our hook, a guest that watches its PCI bus. KubeVirt's configured type is not the vGPU's.
for u in mdevs():
    write(f"{MDEVS}/{u}/remove", "1")
run("tools/lab-guest-image", "--watch", f"{WORK}/guest.cpio")
# On the lab's /run, not in the 9p-shared WORK (see keep_log).
console = "/run/vgpu-cluster-console.log"
if os.path.exists(console):
    os.unlink(console)
keep_log(console, f"{WORK}/console.log")
# the world's stock kernel, also under the debug kernel (as tests/kmod/harness/innerguest.py)
abi = os.environ.get("LAB_INNER_ABI") or os.environ["LAB_ABI"]
cache = os.environ.get("LAB_INNER_CACHE") or os.environ["LAB_CACHE"]
write(f"{WORK}/victim.xml", f"""<domain type='kvm'>
  <name>victim</name>
  <uuid>77777777-0000-4000-8000-0000000000bb</uuid>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{cache}/vmlinux-{abi}</kernel>
    <initrd>{WORK}/guest.cpio</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <devices>
    <serial type='file'><source path='{console}'/></serial>
    <video><model type='none'/></video>
    <memballoon model='none'/>
    <hostdev mode='subsystem' type='vgpu' managed='yes'>
      <source><type id='{alien_type}'/></source>
    </hostdev>
  </devices>
</domain>
""")
run("vgpuctl", "define", f"{WORK}/victim.xml")
named_before = nova_assigned()
run("virsh", "-c", "qemu:///system", "start", "victim")


def console_has(pat):
    try:
        return re.search(pat, read(console))
    except FileNotFoundError:
        return None


up = wait(lambda: console_has(r"guest: watching"), 120)
victim = mdevs()
note(f"victim's vGPU: {victim}; guest: " + (read(console).strip().splitlines()[-1] if up else "-"))
ok(up and len(victim) == 1 and os.path.exists(f"/run/vgpu/owners/{victim[0]}"),
   f"domain victim runs with a managed {alien_type} vGPU its start made (owner recorded)")
# Nova, on the same host, would never hand this vGPU to an instance: the domain names its UUID
# in its XML from vgpuctl define on, before the vGPU exists.
ok(len(victim) == 1 and victim[0] in named_before and victim[0] in nova_assigned(),
   f"Nova's free-mdev computation skips the managed vGPU {victim[0] if victim else '-'}: "
   "domain victim names it from its definition on")
t0 = time.monotonic()
removed = kv_sweep(set(desired) | external)
took = time.monotonic() - t0
state = run("virsh", "-c", "qemu:///system", "domstate", "victim", check=False).stdout.strip()


def live_hostdevs():            # the mdev hostdevs in the running domain's XML
    xml = run("virsh", "-c", "qemu:///system", "dumpxml", "victim", check=False).stdout
    return [a.get("uuid") for a in ET.fromstring(xml).findall(
        "devices/hostdev[@type='mdev']/source/address")] if xml else None


live = wait(lambda: live_hostdevs() == [], 20)
note(f"sweep removed {removed} in {took:.1f} s; victim is {state}")
note(*(l for l in read(console).splitlines() if l.startswith("guest:") and not l.startswith("guest: alive")))
ok(removed == victim and mdevs() == [] and state == "running" and
   console_has(r"guest: removed") is not None and live,
   "KubeVirt's sweep takes the running domain's vGPU: the remove write returns once QEMU let "
   "go (the guest was asked to unplug it and did), the domain runs on without it")
# Our owner record of the vanished vGPU is stale (it names a device that is gone) and claims
# nothing: a new vGPU with the same UUID, made by someone else, is nobody's, and the domain's
# stop leaves it alone.
u = victim[0]
conn.nodeDeviceCreateXML(f"<device><parent>{libvirt_name(gpu_a)}</parent><capability type='mdev'>"
                         f"<type id='{alien_type}'/><uuid>{u}</uuid></capability></device>", 0)
vl = run("vgpuctl", "list", check=False).stdout
run("virsh", "-c", "qemu:///system", "destroy", "victim", check=False)
note(vl)
ok(re.search(rf"^{u} .* - +unmanaged$", vl, re.M) is not None and
   os.path.exists(f"{MDEVS}/{u}/driver"),
   f"a new vGPU {u} with the swept one's UUID is nobody's, and victim's stop leaves it alone")
run("virsh", "-c", "qemu:///system", "undefine", "victim", check=False)
write(f"{MDEVS}/{u}/remove", "1")

note(f"{taplib.failed} of {taplib.count} failed")
if taplib.count != total:
    note(f"planned {total} tests, ran {taplib.count}")
    sys.exit(1)
sys.exit(1 if taplib.failed else 0)
