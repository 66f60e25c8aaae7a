#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Self-tests of the lab harness (TAP): exit statuses pass through exactly, output streams come
# back separated and byte-exact, a panicking or hanging guest fails promptly with its console
# shown, bad input gets one clear line, modules and services are there when asked for.
#
#   selftest.sh LAB BUILDDIR

set -u
lab=$(readlink -f "$1")
builddir=$2
n=0
failed=0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

ok() { # status description
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
		sed 's/^/# stdout| /' "$out/stdout" | tail -n 15
		sed 's/^/# stderr| /' "$out/stderr" | tail -n 25
	fi
}

# lab ARGS... : run the lab, keep stdout/stderr, set $rc
lab() {
	"$lab" "$@" >"$out/stdout" 2>"$out/stderr"
	rc=$?
}

expect_rc() { # expected description lab-args...
	local want=$1 what=$2
	shift 2
	lab "$@"
	[ "$rc" = "$want" ]
	ok $? "$what (want status $want, got $rc)"
}

echo "1..32"

expect_rc 0 "run -- true exits 0" run --builddir "$builddir" -- true
expect_rc 1 "run -- false exits 1" run --builddir "$builddir" -- false
expect_rc 7 "run -- sh -c 'exit 7' exits 7" run --builddir "$builddir" -- sh -c 'exit 7'
expect_rc 0 "/dev/vfio/vfio exists in the lab" run --builddir "$builddir" -- test -c /dev/vfio/vfio

# Every module the build made is loaded, after vfio and mdev.
mods=$(find "$builddir/kernel" -name '*.ko' -type f -printf '%f\n' | sed 's/\.ko$//; s/-/_/g' | sort | tr '\n' ' ')
lab run --builddir "$builddir" -- sh -c 'cut -d" " -f1 /proc/modules | sort | tr "\n" " "'
loaded=" $(cat "$out/stdout")"
missing=""
for m in vfio vfio_iommu_type1 mdev $mods; do
	case $loaded in *" $m "*) ;; *) missing="$missing $m" ;; esac
done
[ "$rc" = 0 ] && [ -z "$missing" ]
ok $? "vfio, vfio_iommu_type1, mdev and our modules ($mods) are loaded${missing:+ (missing:$missing)}"

# Output: stdout and stderr separate, bytes unchanged (no CRLF), TAP passes through.
lab run --builddir "$builddir" -- sh -c 'printf "ok 1 - a\n\tb\r\n"; printf "err\n" >&2'
printf 'ok 1 - a\n\tb\r\n' | cmp -s - "$out/stdout" && grep -qx err "$out/stderr"
ok $? "stdout and stderr come back separately and byte-exact"

lab run --builddir "$builddir" -- sh -c 'head -c 200000 /dev/zero | tr "\0" x; echo'
[ "$rc" = 0 ] && [ "$(wc -c <"$out/stdout")" = 200001 ]
ok $? "200 kB of output arrive complete (got $(wc -c <"$out/stdout") bytes)"

lab run --builddir "$builddir" -- pwd
[ "$rc" = 0 ] && [ "$(cat "$out/stdout")" = "$PWD" ]
ok $? "the command runs in the caller's working directory"

lab run --builddir "$builddir" -- sh -c 'cat; echo end'
[ "$rc" = 0 ] && [ "$(cat "$out/stdout")" = end ]
ok $? "stdin is /dev/null"

# Writes: the build directory is shared writable, the rest of the host is a guest-only overlay.
mark="lab-selftest-$$"
lab run --builddir "$builddir" -- sh -c "echo hi > '$builddir/$mark' && touch /etc/$mark && test -e /etc/$mark"
[ "$rc" = 0 ] && [ "$(cat "$builddir/$mark" 2>/dev/null)" = hi ] && [ ! -e "/etc/$mark" ]
ok $? "writes reach the build directory only; /etc stays untouched on the host"
rm -f "$builddir/$mark"

# A panic ends the run at once with status 125 and the panic text, not at the timeout.
lab run --builddir "$builddir" --timeout 300 -- sh -c 'echo c > /proc/sysrq-trigger; sleep 600'
[ "$rc" = 125 ] && grep -q 'Kernel panic' "$out/stderr"
ok $? "a kernel panic fails the run with status 125 and shows the panic"

# Alive but stuck: status 124, and where its tasks (here a QEMU) waited shortly before the end.
lab run --builddir "$builddir" --timeout 60 -- \
	sh -c 'qemu-system-x86_64 -machine none -display none -monitor none -serial none -S & sleep 600'
[ "$rc" = 124 ] && grep -q 'did not finish within 60s' "$out/stderr" &&
	grep -q 'where its tasks waited' "$out/stderr" &&
	grep -qE '^  \| [0-9]+/task/[0-9]+ qemu-system-x86 \(qemu-system-x86\) state [A-Z] ' "$out/stderr"
ok $? "a hanging command times out with status 124, saying where its QEMU waited"

# A guest that stops as a whole (its heartbeat stops: played here by killing it) is ended after
# LAB_STALL_SECONDS rather than at --timeout, with 124 and where its vCPUs were.
LAB_STALL_SECONDS=20 lab run --builddir "$builddir" --timeout 600 -- \
	sh -c 'kill "$LAB_HEARTBEAT_PID"; sleep 900'
[ "$rc" = 124 ] && grep -q 'the guest stopped: no heartbeat for 20s' "$out/stderr" &&
	grep -qE 'vCPU 0 at .*\(RIP [0-9a-f]+, CPL [0-3], halted [01]\)' "$out/stderr" &&
	! grep -q 'did not finish within' "$out/stderr"
ok $? "a guest that stops as a whole ends after 20 s without its heartbeat, with its vCPUs' places"

# A guest broken from inside by lab_crash.ko (built here): a CPU stuck in the kernel ends the
# run at the kernel's soft-lockup panic, and a triple fault at once, both with 124 (hangs of the
# lab's machine, not results) and what they were; the stuck CPU's place is on the console.
kbuild=$(dirname "$lab")/kbuild
kdir=$("$lab" kdir 2>"$out/stderr") &&
	"$kbuild" "$(dirname "$0")/labcrash" "$out/labcrash" "$kdir" >"$out/stdout" 2>&1
crash_built=$?
lab run --builddir "$builddir" --timeout 300 -- sh -c "insmod $out/labcrash/lab_crash.ko how=lockup; sleep 900"
[ "$crash_built" = 0 ] && [ "$rc" = 124 ] && grep -q 'the guest locked up' "$out/stderr" &&
	grep -q 'RIP: 0010:lab_crash_init' "$out/stderr" &&
	[ "$(grep -cE 'NMI backtrace for cpu [01]' "$out/stderr")" = 2 ]
ok $? "a CPU stuck in the kernel ends the run with 124 at the soft-lockup panic, with both CPUs' places"
lab run --builddir "$builddir" --timeout 300 -- sh -c "insmod $out/labcrash/lab_crash.ko how=reset; sleep 900"
[ "$crash_built" = 0 ] && [ "$rc" = 124 ] && grep -q 'reset by its CPU (a triple fault' "$out/stderr"
ok $? "a triple fault ends the run at once with 124, named as one"

lab run --no-modules --nested -- test -c /dev/kvm
[ "$rc" = 0 ]
ok $? "--nested gives the guest /dev/kvm"

# (with every kind of share, so the GPU's fixed PCI slot is checked against them all)
lab run --builddir "$builddir" --rw "$out" --libvirt -- virsh -c qemu:///system version
[ "$rc" = 0 ] && grep -q 'Running hypervisor: QEMU' "$out/stdout" && grep -q 'libvirt' "$out/stdout"
ok $? "--libvirt: virsh reaches libvirtd and QEMU"

lab run --no-modules --gpu-vram 64 -- sh -c 'cat /sys/bus/pci/devices/$LAB_GPU/vendor /sys/bus/pci/devices/$LAB_GPU/device; echo $((($(sed -n 1p /sys/bus/pci/devices/$LAB_GPU/resource | cut -d" " -f2) - $(sed -n 1p /sys/bus/pci/devices/$LAB_GPU/resource | cut -d" " -f1) + 1) >> 20))'
[ "$rc" = 0 ] && [ "$(tr '\n' ' ' <"$out/stdout")" = "0x1234 0x1111 64 " ]
ok $? "--gpu-vram 64 gives a 1234:1111 display device with a 64 MiB BAR 0 at \$LAB_GPU"

# --setup runs first (in the same guest), and its failure fails the run.
lab run --builddir "$builddir" --setup 'touch /etc/lab-setup-mark' -- test -e /etc/lab-setup-mark
[ "$rc" = 0 ]
ok $? "--setup runs inside before the command"
lab run --builddir "$builddir" --setup 'exit 3' -- true
[ "$rc" = 125 ] && grep -q "LAB-FAILED: --setup 'exit 3' failed" "$out/stderr"
ok $? "a failing --setup fails the run with status 125"

# --install: the build's meson install, staged outside, is in place before --setup runs.
lab run --builddir "$builddir" --install --setup 'test -x /etc/libvirt/hooks/qemu.d/vgpu' -- \
	sh -c 'vgpuctl --version && test -x /etc/mdevctl.d/scripts.d/callouts/vgpu'
[ "$rc" = 0 ] && grep -q '^vgpuctl ' "$out/stdout"
ok $? "--install puts the build's meson install (vgpuctl and its library, the hook, the call-out) in place before --setup"

# What tools/lab keeps for the next boot of the same root and build (the ld.so.cache after
# --install, libvirt's compiled AppArmor profiles) is byte for byte what ldconfig and
# apparmor_parser write in this boot. Two boots: the first may be the one that keeps them.
for pass in 1 2; do
	lab run --builddir "$builddir" --libvirt --install -- sh -c '
		cp /etc/ld.so.cache /run/kept && ldconfig && cmp /etc/ld.so.cache /run/kept || exit 1
		[ -n "$LAB_AACACHE" ] || exit 1
		for p in usr.sbin.libvirtd usr.lib.libvirt.virt-aa-helper; do
			apparmor_parser -S /etc/apparmor.d/$p | cmp - "$LAB_AACACHE/$p" || exit 1
		done'
	[ "$rc" = 0 ] || break
done
ok $? "what the lab keeps between boots (ld.so.cache, compiled AppArmor profiles) is what ldconfig and apparmor_parser write"

# Bad input: one clear line, status 2, nothing booted.
lab run --bogus -- true
[ "$rc" = 2 ] && [ "$(wc -l <"$out/stderr")" = 1 ] && grep -q "unknown option '--bogus'" "$out/stderr"
ok $? "an unknown option is refused in one line"

lab run --builddir /nonexistent -- true
[ "$rc" = 2 ] && [ "$(wc -l <"$out/stderr")" = 1 ] && grep -q "meson setup" "$out/stderr"
ok $? "a missing build directory is refused in one line that says what to do"

lab run --gpu-vram 300 -- true
[ "$rc" = 2 ] && [ "$(wc -l <"$out/stderr")" = 1 ]
ok $? "an out-of-range --gpu-vram is refused in one line"

# --append reaches the guest kernel after the lab's own arguments; the help's example keeps
# [4G, 5G) away from the kernel: reserved (merged with any reserved neighbour), no RAM in it.
lab run --no-modules --memory 4096 --append 'memmap=1G$4G' --append quiet -- sh -c \
	'cat /proc/cmdline; grep "^[0-9a-f]" /proc/iomem'
covered=0 ram=0
while IFS=' ' read -r range _ what; do
	[[ $range =~ ^([0-9a-f]+)-([0-9a-f]+)$ ]] || continue
	s=$((16#${BASH_REMATCH[1]})) e=$((16#${BASH_REMATCH[2]}))
	[ "$e" -lt $((4 << 30)) ] || [ "$s" -gt $(((5 << 30) - 1)) ] && continue
	[ "$what" = Reserved ] && [ "$s" -le $((4 << 30)) ] && [ "$e" -ge $(((5 << 30) - 1)) ] && covered=1
	[ "$what" = "System RAM" ] && ram=1
done <"$out/stdout"
[ "$rc" = 0 ] && grep -q '^console=ttyS0 .* memmap=1G\$4G quiet$' "$out/stdout" &&
	[ "$covered" = 1 ] && [ "$ram" = 0 ]
ok $? "--append 'memmap=1G\$4G' --append quiet: on the guest's command line, [4G, 5G) reserved"

lab run --no-modules --append '' -- true
[ "$rc" = 2 ] && [ "$(wc -l <"$out/stderr")" = 1 ]
ok $? "an empty --append is refused in one line"

LAB_QEMU=/nonexistent/qemu-system-x86_64 lab run --no-modules -- true
[ "$rc" = 125 ] && [ "$(wc -l <"$out/stderr")" = 1 ] && grep -q "apt-get install qemu-system-x86" "$out/stderr"
ok $? "a missing QEMU is reported in one line that says what to install"

# The first fetch with Debian's archive unreachable (a proxy nobody listens on).
printf 'Acquire::http::Proxy "http://127.0.0.1:9";\nAcquire::https::Proxy "http://127.0.0.1:9";\n' >"$out/apt.conf"
APT_CONFIG=$out/apt.conf LAB_CACHE=$out/cache lab fetch
[ "$rc" = 125 ] && [ "$(grep -c "could not" "$out/stderr")" = 1 ] && grep -q "reachable.*tools/lab fetch" "$out/stderr"
ok $? "a first fetch without network fails in one line that says what to do"

# Through meson itself, as the kmod suite runs: a passing in-guest TAP test passes, a failing
# one fails, a panicking one fails (before its timeout).
mkdir -p "$out/proj"
cat >"$out/proj/meson.build" <<MESON
project('labcheck', meson_version: '>= 1.0')
lab = find_program('$lab')
test('pass', lab, args: ['run', '--no-modules', '--', 'sh', '-c', 'echo 1..1; echo ok 1 - fine'],
  protocol: 'tap')
test('fail', lab, args: ['run', '--no-modules', '--', 'sh', '-c', 'echo 1..2; echo ok 1; echo not ok 2 - broken'],
  protocol: 'tap')
test('panic', lab, args: ['run', '--no-modules', '--timeout', '600', '--', 'sh', '-c',
  'echo 1..1; echo c > /proc/sysrq-trigger; sleep 900'], protocol: 'tap', timeout: 700)
MESON
if meson setup "$out/proj/b" "$out/proj" >"$out/stdout" 2>"$out/stderr"; then
	meson test -C "$out/proj/b" --num-processes 1 >"$out/stdout" 2>"$out/stderr"
	results=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(r["name"], r["result"], int(r["duration"]))
' "$out/proj/b/meson-logs/testlog.json")
else
	results=""
fi
echo "$results" | sed 's/^/# meson: /'
echo "$results" | grep -qx 'pass OK [0-9]*'
ok $? "meson: a passing in-guest TAP test passes"
echo "$results" | grep -qx 'fail FAIL [0-9]*'
ok $? "meson: a failing in-guest TAP test fails"
# (meson calls a TAP stream cut short by the crash an ERROR, which fails the suite as FAIL does)
secs=$(echo "$results" | sed -n 's/^panic \(FAIL\|ERROR\) \([0-9]*\)$/\2/p')
[ -n "$secs" ] && [ "$secs" -lt 600 ]
ok $? "meson: a panicking guest fails the test without waiting for the timeout"

echo "# $failed of $n failed"
[ "$failed" = 0 ]
