#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The real VFIO client: inside the lab (--nested), QEMU opens a vgpu_test vGPU with
# -device vfio-pci,sysfsdev=... and boots an inner Linux guest (the lab's own kernel and a
# busybox + lspci initramfs) whose `lspci -vv` must show the vGPU's IDs, BARs and
# capabilities as the vendor declared them. TAP output.
#
#   qemu-guest.sh VGPU_TEST_KO
set -u

ko=$1
top=$(cd "$(dirname "$0")/../../.." && pwd)
# The world's stock kernel and the lab's cache of this world (tools/lab exports them; Debian
# 13's cache lives outside the tree), also under the debug kernel.
abi=${LAB_INNER_ABI:-$(uname -r)}
cache=${LAB_INNER_CACHE:-${LAB_CACHE:-$top/.cache/lab}}
kernel=$cache/vmlinux-$abi
busybox=$cache/root/bin/busybox
uuid=1c0ffee0-0000-4000-8000-00000000abcd
work=$(mktemp -d)
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
finish() {
	echo "1..$n"
	exit $failed
}
# A line of the inner guest's lspci output must match (extended regex).
expect() { # description regex
	if grep -Eq -- "$2" "$work/lspci.txt"; then ok "$1"; else not_ok "$1"; echo "# no line matches /$2/"; fi
}

if [ ! -e /dev/kvm ] || [ ! -f "$kernel" ] || ! command -v lspci >/dev/null; then
	echo "1..0 # SKIP needs the lab's --nested (/dev/kvm), $kernel and lspci (pciutils)"
	exit 0
fi

if insmod "$ko"; then ok "load vgpu_test"; else not_ok "load vgpu_test"; finish; fi
if echo "$uuid" >/sys/devices/platform/vgpu_test.0/mdev_supported_types/vgpu_test-small/create; then
	ok "create a vGPU"
else
	not_ok "create a vGPU"
	finish
fi

# The inner guest's initramfs: static busybox, lspci and the libraries it links.
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,lib64,usr/share/misc}
cp "$busybox" "$root/bin/busybox"
cp "$(command -v lspci)" "$root/bin/lspci"
for lib in $(ldd "$(command -v lspci)" | grep -o '/[^ ]*'); do
	mkdir -p "$root$(dirname "$lib")"
	cp "$lib" "$root$lib"
done
[ -f /usr/share/misc/pci.ids ] && cp /usr/share/misc/pci.ids "$root/usr/share/misc/"
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs dev /dev
echo INNER-LSPCI-BEGIN
/bin/lspci -vv -nn -d 1b36:7601
echo INNER-LSPCI-END
# The guest drives the device: BAR2 is trapped (QEMU -> read/write of the device fd),
# BAR0's areas are mapped (KVM -> our fault handler), BAR0's page at 512K is trapped.
for d in /sys/bus/pci/devices/*; do
	[ "$(/bin/busybox cat $d/vendor)" = 0x1b36 ] && [ "$(/bin/busybox cat $d/device)" = 0x7601 ] && dev=$d
done
bar0=$(/bin/busybox sed -n 1p $dev/resource | /bin/busybox cut -d' ' -f1)
bar2=$(/bin/busybox sed -n 3p $dev/resource | /bin/busybox cut -d' ' -f1)
echo "INNER-ID $(/bin/busybox devmem $((bar2)) 64)"
/bin/busybox devmem $((bar2 + 8)) 64 0x0123456789abcdef
echo "INNER-SCRATCH $(/bin/busybox devmem $((bar2 + 8)) 64)"
/bin/busybox devmem $((bar0 + 0x100)) 32 0xfeedf00d
/bin/busybox devmem $((bar0 + 0x80008)) 32 0x600df00d
echo "INNER-BAR0 $(/bin/busybox devmem $((bar0 + 0x100)) 32) $(/bin/busybox devmem $((bar0 + 0x80008)) 32)"
echo "INNER-FAULTS $(/bin/busybox devmem $((bar2 + 0x48)) 64)"
/bin/busybox poweroff -f
EOF
chmod 755 "$root/init"
(cd "$root" && find . | "$busybox" cpio -o -H newc 2>/dev/null) >"$work/initrd.cpio"

timeout 300 qemu-system-x86_64 -accel kvm -cpu host -m 256 -smp 1 -nographic -no-reboot \
	-kernel "$kernel" -initrd "$work/initrd.cpio" \
	-append 'console=ttyS0 panic=-1 rdinit=/init quiet' -nic none \
	-device "vfio-pci,sysfsdev=/sys/bus/mdev/devices/$uuid" \
	</dev/null >"$work/console.txt" 2>&1
rc=$?
sed -n '/INNER-LSPCI-BEGIN/,/INNER-LSPCI-END/p' "$work/console.txt" | tr -d '\r' >"$work/lspci.txt"
if [ "$rc" = 0 ] && grep -q INNER-LSPCI-END "$work/lspci.txt"; then
	ok "QEMU opened the vGPU and the inner guest booted"
else
	not_ok "QEMU opened the vGPU and the inner guest booted (status $rc)"
	sed 's/^/# /' "$work/console.txt" | tail -40
	finish
fi
sed 's/^/# /' "$work/lspci.txt"

# What the guest read back through the device (values are printed in hex by devmem).
tr -d '\r' <"$work/console.txt" | grep '^INNER-' | grep -v LSPCI | sed 's/^/# /'
gexpect() { # description regex (on the console)
	if tr -d '\r' <"$work/console.txt" | grep -Eq -- "$2"; then ok "$1"; else not_ok "$1"; fi
}
gexpect "guest reads the ID register (trapped BAR2)" '^INNER-ID 0x0*76677075$'
gexpect "guest writes and reads back a 64-bit register" '^INNER-SCRATCH 0x0*123456789ABCDEF$'
gexpect "guest writes BAR0 through the mapping and the trapped page" '^INNER-BAR0 0xFEEDF00D 0x600DF00D$'
# the mapped access really went through our fault handler (vendor translation counter)
gexpect "BAR0 reached the guest through fault-on-access" '^INNER-FAULTS 0x0*[1-9A-F][0-9A-F]*$'

expect "IDs and class" '\[0380\]: .*\[1b36:7601\] \(rev 05\)'
expect "subsystem" 'Subsystem: .*\[1b36:0100\]'
expect "BAR0: 64-bit prefetchable 1M" 'Region 0: Memory at [0-9a-f]+ \(64-bit, prefetchable\) \[size=1M\]'
expect "BAR2: 32-bit 4K" 'Region 2: Memory at [0-9a-f]+ \(32-bit, non-prefetchable\) \[size=4K\]'
expect "BAR4: I/O 32 bytes" 'Region 4: I/O ports at [0-9a-f]+ \[size=32\]'
expect "expansion ROM 2K" 'Expansion ROM at .*\[size=2K\]'
expect "INTx pin A" 'Interrupt: pin A'
expect "MSI capability: 4 vectors, 64-bit" 'MSI: Enable[-+] Count=[0-9]+/4 Maskable- 64bit\+'
expect "MSI-X capability: 16 vectors" 'MSI-X: Enable[-+] Count=16'
expect "MSI-X table in BAR2" 'Vector table: BAR=2 offset=00000800'
expect "MSI-X PBA in BAR2" 'PBA: BAR=2 offset=00000c00'
expect "PCIe endpoint capability" 'Express \(v2\) Endpoint'
expect "vendor capability" 'Vendor Specific Information: Len=08'

if echo 1 >"/sys/bus/mdev/devices/$uuid/remove"; then ok "remove the vGPU after QEMU exited"; else not_ok "remove the vGPU"; fi
if dmesg | grep -Eq 'WARNING:|BUG:|Oops|general protection|Call Trace'; then
	not_ok "dmesg: no WARN, BUG or oops"
	dmesg | grep -E -A5 'WARNING:|BUG:|Oops|general protection|Call Trace' | sed 's/^/# /'
else
	ok "dmesg: no WARN, BUG or oops"
fi
rm -rf "$work"
finish
