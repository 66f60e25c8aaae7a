#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vgpuctl define / attach-device --config / detach-device --config against a
# real libvirtd (qemu driver), which the libvirt test driver cannot do (it
# has no device attach).
#
#   tests/cli/libvirtd-config.sh BUILD-DIR        (meson test: suite libvirtd)
#
# It re-runs itself in a private mount namespace (unshare -m) and starts a
# private libvirtd and virtlogd there, with /etc/libvirt, /run/libvirt,
# /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt bind-mounted from
# a scratch directory (LAB.md), so it never meets a system libvirtd. It stops
# both daemons at the end (also when killed) and exits 1 on the first failed
# check. The domain is never started: no vGPU and no /dev/kvm are needed.
# Exit 77 (skipped) without root, unshare or libvirtd.
set -euo pipefail

build=$(realpath "${1:?usage: $0 BUILD-DIR}")
src=$(realpath "$(dirname "$0")/../..")
vgpuctl=$build/libvirt-plugin/vgpuctl/vgpuctl
export VGPU_SCHEMA_DIR=$src/schemas LC_ALL=C
uri=qemu:///system

if [ "$(id -u)" != 0 ] || ! command -v libvirtd >/dev/null || ! command -v virtlogd >/dev/null; then
    echo "SKIP: needs root, libvirtd and virtlogd (package libvirt-daemon-system)" >&2
    exit 77
fi
if [ -z "${VGPU_PRIVATE_MOUNT_NS:-}" ]; then
    if ! unshare -m true 2>/dev/null; then
        echo "SKIP: cannot create a private mount namespace (unshare -m)" >&2
        exit 77
    fi
    VGPU_PRIVATE_MOUNT_NS=1 exec unshare -m "$0" "$@"
fi

scratch=$(mktemp -d /tmp/vgpu-libvirtd-XXXXXX)
libvirtd_pid= virtlogd_pid=
cleanup() {
    [ -n "$libvirtd_pid" ] && kill "$libvirtd_pid" 2>/dev/null
    [ -n "$virtlogd_pid" ] && kill "$virtlogd_pid" 2>/dev/null
    sleep 1
    rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$scratch"/{etc,run,lib,log/qemu,cache}
cp -a /etc/libvirt/. "$scratch/etc/"
# Our hook, as installed (libvirt reads hooks when it starts).
mkdir -p "$scratch/etc/hooks/qemu.d"
cp "$build/libvirt-plugin/hook/vgpu" "$scratch/etc/hooks/qemu.d/vgpu"
for d in etc:/etc/libvirt run:/run/libvirt lib:/var/lib/libvirt log:/var/log/libvirt \
         cache:/var/cache/libvirt; do
    mkdir -p "${d#*:}"
    mount --bind "$scratch/${d%%:*}" "${d#*:}"
done

virtlogd --pid-file="$scratch/run/virtlogd.pid" & virtlogd_pid=$!
libvirtd --pid-file="$scratch/run/libvirtd.pid" & libvirtd_pid=$!
for i in $(seq 1 180); do
    virsh -c $uri version >/dev/null 2>&1 && break
    sleep 1
done
virsh -c $uri version >/dev/null || fail "libvirtd did not come up"

dom=$scratch/dom.xml
sed "s/type='kvm'/type='qemu'/" "$src/xml-examples/domain-unmanaged-vgpu.xml" > "$dom"
"$vgpuctl" define -c $uri "$dom" || fail "define"
"$vgpuctl" attach-device -c $uri --config vgpu-unmanaged \
    "$src/xml-examples/hostdev-vgpu.xml" || fail "attach-device --config"
xml=$(virsh -c $uri dumpxml --inactive vgpu-unmanaged)
[ "$(grep -c "type='mdev'" <<<"$xml")" = 2 ] || fail "two mdev hostdevs expected after attach"
grep -q 'type="vgpu_sim-16m" managed="yes" derived="yes"' <<<"$xml" ||
    fail "the attached vGPU is not in the metadata"
back=$("$vgpuctl" domxml-from-native - <<<"$xml") || fail "domxml-from-native"
[ "$(grep -c 'type="vgpu"' <<<"$back")" = 2 ] || fail "two vGPU hostdevs expected back"
"$vgpuctl" attach-device -c $uri --config vgpu-unmanaged \
    "$src/xml-examples/hostdev-vgpu.xml" || fail "a second derived vGPU of the same type"
"$vgpuctl" detach-device -c $uri --config vgpu-unmanaged \
    "$src/xml-examples/hostdev-vgpu.xml" && fail "detach of an ambiguous hostdev succeeded"
uuid=$(virsh -c $uri dumpxml --inactive vgpu-unmanaged |
       sed -n 's/.*uuid="\([^"]*\)" type="vgpu_sim-16m".*/\1/p' | tail -1)
sed "s|<type id='vgpu_sim-16m'/>|<type id='vgpu_sim-16m'/><uuid>$uuid</uuid>|" \
    "$src/xml-examples/hostdev-vgpu.xml" > "$scratch/detach.xml"
"$vgpuctl" detach-device -c $uri --config vgpu-unmanaged "$scratch/detach.xml" ||
    fail "detach-device --config by UUID"
xml=$(virsh -c $uri dumpxml --inactive vgpu-unmanaged)
grep -q "$uuid" <<<"$xml" && fail "vGPU $uuid is still in the domain"
[ "$(grep -c "type='mdev'" <<<"$xml")" = 2 ] || fail "two mdev hostdevs expected after detach"

# Concurrent attaches to one domain: each vgpuctl reads and writes the metadata under the
# domain's lock, so no entry is lost and no derived UUID is given twice.
pids=()
for i in 1 2 3 4; do
    "$vgpuctl" attach-device -c $uri --config vgpu-unmanaged \
        "$src/xml-examples/hostdev-vgpu.xml" >/dev/null & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent attach-device failed"; done
derived() {
    virsh -c $uri dumpxml --inactive vgpu-unmanaged |
        sed -n 's/.*uuid="\([^"]*\)" type="vgpu_sim-16m" managed="yes" derived="yes".*/\1/p'
}
[ "$(derived | wc -l)" = 5 ] && [ "$(derived | sort -u | wc -l)" = 5 ] ||
    fail "5 distinct derived vGPUs expected after 4 concurrent attaches: $(derived | tr '\n' ' ')"
# Detach the first; the next attach takes its free ordinal, not a survivor's UUID.
first=$(derived | head -1)
sed "s|<type id='vgpu_sim-16m'/>|<type id='vgpu_sim-16m'/><uuid>$first</uuid>|" \
    "$src/xml-examples/hostdev-vgpu.xml" > "$scratch/detach-first.xml"
"$vgpuctl" detach-device -c $uri --config vgpu-unmanaged "$scratch/detach-first.xml" ||
    fail "detach-device of the first derived vGPU"
"$vgpuctl" attach-device -c $uri --config vgpu-unmanaged "$src/xml-examples/hostdev-vgpu.xml" ||
    fail "attach-device after a detach"
derived | grep -qx "$first" && [ "$(derived | sort -u | wc -l)" = 5 ] ||
    fail "the new vGPU did not take the detached one's free ordinal: $(derived | tr '\n' ' ')"

# libvirt runs the hook at start: this host has no vGPU, so the unmanaged one
# is missing and the start is refused with the hook's one line.
out=$(virsh -c $uri start vgpu-unmanaged 2>&1) && fail "start without the unmanaged vGPU succeeded"
echo "$out"
grep -q "vgpu hook: The unmanaged vGPU 3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7 (type vgpu_sim-64m) of domain vgpu-unmanaged does not exist" <<<"$out" ||
    fail "libvirt did not show the hook's message: $out"
[ "$(virsh -c $uri domstate vgpu-unmanaged)" = "shut off" ] || fail "the domain is not shut off"
virsh -c $uri undefine vgpu-unmanaged >/dev/null

# A managed vGPU on a GPU this host does not have: the hook cannot create it.
sed -e "s/type='kvm'/type='qemu'/" -e '/<disk /,/<\/disk>/d' \
    "$src/xml-examples/domain-managed-vgpu.xml" > "$dom"
"$vgpuctl" define -c $uri "$dom" || fail "define of the managed example"
out=$(virsh -c $uri start vgpu-managed 2>&1) && fail "start of the managed example succeeded"
echo "$out"
grep -q "vgpu hook: Cannot create vGPU 6096908c-cee6-5a79-ad09-2863b0dcb2e5 of domain vgpu-managed: GPU 0000:00:05.0" <<<"$out" ||
    fail "libvirt did not show the hook's message: $out"
virsh -c $uri undefine vgpu-managed >/dev/null
echo "PASS: define, attach-device --config, domxml-from-native, detach-device --config; libvirt runs the hook at start and shows its refusal"
