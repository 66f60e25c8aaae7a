#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# In the lab (--libvirt --nested, our build installed by --install, AppArmor enforcing): virsh
# migrate --live of a running domain with a managed vGPU in our dialect, from the lab's
# libvirtd to a second libvirtd standing in for another host.
#   - the second libvirtd has its own mount and cgroup namespaces: its own /etc/libvirt (with
#     its own host UUID: libvirt refuses a migration to its own host), /run/libvirt,
#     /var/lib/libvirt, /run/vgpu (the hook's ownership records) and its own /machine
#   - the destination's hook refuses a migration when no instance of the type is free, and one
#     that names the source's vGPU (on two hosts the uuid could stay; here the source holds
#     it): the source domain runs on, nothing is left behind on either side
#   - with the destination's vGPU uuid in the migration XML, the destination's hook makes that
#     vGPU at prepare, QEMU migrates VRAM and registers into it while the inner guest
#     (tests/kmod/sim/guest/mig.c) draws and copies, the source's release removes the
#     source's vGPU, and the guest's checks of what it wrote before keep passing
# The destination runs without AppArmor (security_driver 'none'): libvirt names a domain's
# profile after the domain's UUID, and both ends of a migration on one kernel would load and
# then remove the same profile under each other's QEMU. QEMU drives VFIO migration from 8.0
# on: with Debian 12's 7.2 the whole test is one TAP skip.
#
#   migrate-live.sh BUILDDIR MIG MIG-INIT        (TAP)
set -u
builddir=$(readlink -f "$1")
mig=$2 init=$3
work=$builddir/tests/kmod/e2e/migrate-live
gpu=${LAB_GPU:?run me inside the lab}
types=/sys/class/mdev_bus/$gpu/mdev_supported_types
vtype=vgpu_sim-16m
name=e2e-migrate
. "$(dirname "$0")/lib.sh"

mig_require

# The destination's files outside its namespace: its sockets, pid files, copied state.
dst=/run/lab-dst
dst_uuid=d0d0d0d0-0000-4000-8000-00000000d057
dvirsh() { command virsh -q -c "qemu+unix:///system?socket=$dst/libvirt-sock" "$@"; }
in_dst() { nsenter -t "$(cat "$dst/libvirtd.pid")" -m "$@"; }
cgroot=/sys/fs/cgroup/lab-dst

# On the lab's own /run: QEMU writes it a byte at a time, and the 9p share reads back holes.
console=/run/vgpu-migrate-console.log
rm -f "$console"
stop_dst() {
	local f pid
	for f in libvirtd virtlogd; do
		pid=$(cat "$dst/$f.pid" 2>/dev/null) && rm -f "$dst/$f.pid" && [ -n "$pid" ] || continue
		kill "$pid" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
	done
	# Its cgroups, the deepest first (the daemons' and what libvirt left under machine).
	find "$cgroot" -depth -mindepth 1 -type d -exec rmdir {} + 2>/dev/null
	rmdir "$cgroot" 2>/dev/null
}
trap 'cp "$console" "$work/console.log" 2>/dev/null; stop_dst' EXIT

echo "1..16"
mig_setup

# 1. The destination: a copy of this host's libvirt state, taken before any domain exists,
# behind its own mounts; its cgroup namespace is rooted at lab-dst, the daemons in a child
# (a cgroup with processes cannot hand controllers to the domains' cgroups).
rm -rf "$dst" && mkdir -p "$dst"
for d in etc/libvirt var/lib/libvirt var/cache/libvirt var/log/libvirt; do
	mkdir -p "$dst/$d" && cp -a "/$d/." "$dst/$d/"
done
cat >>"$dst/etc/libvirt/libvirtd.conf" <<EOF
host_uuid = "$dst_uuid"
unix_sock_dir = "$dst"
EOF
echo 'security_driver = "none"' >>"$dst/etc/libvirt/qemu.conf"
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
	echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
done
mkdir -p "$cgroot"
(
	echo $BASHPID >"$cgroot/cgroup.procs"
	exec unshare --mount --cgroup --propagation private bash -c '
		dst=$1
		mount -t cgroup2 cgroup2 /sys/fs/cgroup && mkdir /sys/fs/cgroup/daemons &&
			echo $$ >/sys/fs/cgroup/daemons/cgroup.procs || exit 1
		for d in etc/libvirt var/lib/libvirt var/cache/libvirt var/log/libvirt; do
			mount --bind "$dst/$d" "/$d" || exit 1
		done
		mount -t tmpfs -o mode=0755 tmpfs /run/libvirt && mkdir -p /run/vgpu &&
			mount -t tmpfs -o mode=0700 tmpfs /run/vgpu || exit 1
		virtlogd -d -p "$dst/virtlogd.pid" && libvirtd -d -p "$dst/libvirtd.pid"' sh "$dst"
) >"$work/dst-start.out" 2>&1
rc=$?
for _ in $(seq 300); do dvirsh uri >/dev/null 2>&1 && break; sleep 0.2; done
show "$work/dst-start.out"
[ $rc = 0 ] && dvirsh uri >/dev/null 2>&1 &&
	dvirsh capabilities | grep -q "<uuid>$dst_uuid</uuid>" &&
	! virsh capabilities | grep -q "<uuid>$dst_uuid</uuid>" &&
	[ "$(in_dst readlink /proc/self/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ]
ok $? "a second libvirtd in its own mount and cgroup namespaces answers, with host UUID $dst_uuid"

# 2. The source domain, migratable (enable-migration=on), drawing and copying.
mig_domain $name 5a7e5a7e-0000-4000-8000-0000000000cc $vtype "$work/guest.cpio" override >"$work/mig.xml"
vgpuctl define "$work/mig.xml" >"$work/define.out" 2>&1 && virsh start $name >"$work/start.out" 2>&1
rc=$?
show "$work/define.out" "$work/start.out"
uuid=$(virsh dumpxml $name | sed -n "s/.*<address uuid='\([0-9a-f-]*\)'.*/\1/p" | head -1)
[ $rc = 0 ] && [ -e "/sys/bus/mdev/devices/$uuid/driver" ]
ok $? "vgpuctl define and virsh start on the source: the hook made vGPU $uuid"
wait_tick 8 240
ok $? "the guest draws and copies on its vGPU (tick $(last_tick))"
[ -n "$(fails)" ] && fails | sed 's/^/# /'

# The migration's XML without its AppArmor label (the destination has no security driver):
# same.xml as it is otherwise, dst.xml with the destination's own vGPU uuid in the hostdev
# and the metadata.
new=$(cat /proc/sys/kernel/random/uuid)
virsh dumpxml --migratable $name |
	sed -e "/<seclabel[^>]*\/>/d" -e "/<seclabel/,/<\/seclabel>/d" >"$work/same.xml"
sed "s/$uuid/$new/g" "$work/same.xml" >"$work/dst.xml"
migrate() { # XML: a live migration to the destination over 127.0.0.1
	virsh migrate --live $name "qemu+unix:///system?socket=$dst/libvirt-sock" \
		--migrateuri tcp://127.0.0.1 --xml "$1"
}
# nothing_moved: the source runs its domain on its vGPU, the destination has none of either
nothing_moved() {
	virsh domstate $name | grep -q running && [ -e "/sys/bus/mdev/devices/$uuid/driver" ] &&
		[ -z "$(dvirsh list --all --name)" ] && [ ! -e "/sys/bus/mdev/devices/$new" ]
}

# 3. The destination full: its hook refuses at prepare; its release after that failed start
# leaves the source's vGPU alone (no record of it there).
fill_type
before=$(mdevs)
out=$(migrate "$work/dst.xml" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
[ $rc != 0 ] && grep -q "vgpu hook: .*$vtype" <<<"$out" && [ "$(grep -c 'vgpu hook:' <<<"$out")" = 1 ]
ok $? "migration to a destination with no free $vtype instance (${#fill[@]} taken): refused with its hook's one line"
[ "$(mdevs)" = "$before" ] && nothing_moved
ok $? "the source runs on, on vGPU $uuid; no vGPU and no domain left at the destination"
unfill_type

# 4. The source's own uuid (what a migration to another host would carry): the vGPU exists
# here and is no domain's at the destination, so its hook refuses to take it.
out=$(migrate "$work/same.xml" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
[ $rc != 0 ] && grep -q "vgpu hook: .*$uuid" <<<"$out" && nothing_moved
ok $? "migration naming the source's vGPU: refused by the destination's hook, nothing moved"
t=$(last_tick)
wait_tick $((t + 2)) 120 && [ -z "$(fails)" ]
ok $? "the guest went on through both refusals (tick $(last_tick))"

# 5. The migration. QEMU switches over when what is left fits its downtime limit times its
# bandwidth estimate; the vGPU's stop-copy data did not fit the 300 ms default under TCG
# (kernel/README.md, "The downtime limit").
virsh migrate-setmaxdowntime $name 10000 >"$work/downtime.out" 2>&1
ok $? "virsh migrate-setmaxdowntime 10000 (10 s)"
before=$(last_tick)
bounded_job $name "$work/migrate.out" migrate "$work/dst.xml" &&
	dvirsh domstate $name | grep -q running && virsh domstate $name | grep -q "shut off"
ok $? "virsh migrate --live: the domain runs at the destination, shut off at the source (tick before: $before)"
virsh domjobinfo --completed $name 2>/dev/null | grep -E "Time elapsed|downtime|Data processed" | sed 's/^/# /'
in_dst vgpuctl list >"$work/dst-list.out" 2>&1
show "$work/dst-list.out"
[ "$(basename "$(readlink "/sys/bus/mdev/devices/$new/mdev_type" 2>/dev/null)")" = $vtype ] &&
	[ -e "/sys/bus/mdev/devices/$new/driver" ] && grep -q "^$new .* $name  *managed$" "$work/dst-list.out"
ok $? "the destination's hook made vGPU $new ($vtype, owned there by $name, managed), QEMU holds it"
for _ in $(seq 50); do [ -e "/sys/bus/mdev/devices/$uuid" ] || break; sleep 0.2; done
[ ! -e "/sys/bus/mdev/devices/$uuid" ] && ! vgpuctl list | grep -q "^$uuid "
ok $? "the source's release removed its vGPU $uuid"
wait_tick $((before + 16)) 300
ok $? "the guest carries on at the destination: VRAM canvas, engine pages, done count intact at every frame (ticks $before -> $(last_tick))"
mig_nothing_lost

# 6. The end, at the destination; the source still has the domain defined.
dvirsh destroy $name >/dev/null
for _ in $(seq 50); do [ -e "/sys/bus/mdev/devices/$new" ] || break; sleep 0.2; done
[ "$(mdevs)" = "" ] && [ -z "$(dvirsh list --all --name)" ]
ok $? "virsh destroy at the destination: its hook removed vGPU $new, no vGPU left"
virsh domstate $name | grep -q "shut off" && virsh undefine $name >/dev/null
ok $? "the source's definition stays (shut off) and undefines"
stop_dst
[ ! -d "$cgroot" ]
ok $? "the destination's daemons stop; their cgroups go"
finish
