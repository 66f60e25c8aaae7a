#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The kmod batches that exercise our kernel code most, on the lab's debug kernel (lockdep,
# KASAN, kmemleak, DEBUG_ATOMIC_SLEEP: tools/lab fetch --debug-kernel). Our modules and
# vgpu_test are built for it here with Debian 13's toolchain; each batch is one boot, and
# tools/lab fails a boot (125) on any report of the kernel's checkers or on a kmemleak leak
# through our modules; what tools/lab said of each boot is kept in
# BUILDDIR/tests/kmod/debug-kernel/BATCH.log, its console in BATCH.console. TAP; one SKIP
# line when the debug kernel is not built (20 to 95 minutes to build: CI does not build it).
#
# core-iommufd is core-vfio with every device opened through its VFIO cdev and an iommufd
# IOAS (the debug kernels have IOMMUFD and VFIO_DEVICE_CDEV): pins and dma_unmap through
# iommufd's access, and lockdep on to the end, which core-vfio loses at type1's own report.
# The reports batch (first) checks the harness itself on this kernel: two boots write a
# synthetic KCSAN report to the kernel log, one with frames of ours, which must fail the run
# (125), one with the kernel's own only, which tools/lab leaves out with one line.
# The fuzz batch runs vgpu-fuzz coverage-guided (KCOV): the corpus and 2000 programs. The
# qemu-migration batch is sim-qemu-migration (QEMU migrates a running guest between two vGPUs,
# an inner KVM guest): the debug kernel has IOMMUFD, so our core offers device DMA logging and
# QEMU migrates with enable-migration=auto on it.
# DEBUG_KERNEL_FLAVOR=kcsan runs them on the KCSAN flavour (tools/lab fetch --debug-kernel=kcsan)
# instead, its consoles in BUILDDIR/tests/kmod/debug-kernel-kcsan/.
#
#   debug-kernel.sh LAB SRCDIR BUILDDIR VGPU_CORE_TEST RUN_SIM_TESTS SIM_TEST FAULTINJECT VGPU_FUZZ
#                   SIM_GUEST_MIG
set -u
lab=$1 src=$2 build=$3 core_test=$4 run_sim=$5 sim_test=$6 faultinject=$7 fuzz=$8 guest_mig=$9

flavor=${DEBUG_KERNEL_FLAVOR:-}
[[ $flavor =~ ^(kcsan)?$ ]] || { echo "Bail out! DEBUG_KERNEL_FLAVOR is kcsan or empty, not '$flavor'"; exit 1; }
debug=--debug-kernel${flavor:+=$flavor}
err=$(mktemp)
trap 'rm -f "$err"' EXIT
kdir=$("$lab" kdir "$debug" 2>"$err")
rc=$?
if [ $rc = 77 ]; then
	echo "1..0 # SKIP $(tail -1 "$err")"
	exit 0
elif [ $rc != 0 ]; then
	echo "Bail out! tools/lab kdir $debug failed: $(tail -1 "$err")"
	exit 1
fi

# The source tree's layout (vgpu_test's Kbuild finds kernel/ three levels up).
out=$build/tests/kmod/debug-kernel${flavor:+-$flavor}
# Debian 13's kbuild runs only on Debian 13: directly inside its root, else through the chroot.
kbuild() {
	if [ "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" = trixie ]; then
		"$src/tools/kbuild" "$@"
	else
		"$lab" chroot --distro trixie -- "$src/tools/kbuild" "$@"
	fi
}
# (The dma-buf importer too: sim's plane-dmabuf-import and core-vfio's dma-buf case load it.)
importer=$out/tests/kmod/harness/importer
if ! kbuild "$src/kernel" "$out/kernel" "$kdir" >"$err" 2>&1 ||
	! kbuild "$src/tests/kmod/core" "$out/tests/kmod/core" "$kdir" "$out/kernel/Module.symvers" >>"$err" 2>&1 ||
	! kbuild "$src/tests/kmod/harness/importer" "$importer" "$kdir" >>"$err" 2>&1; then
	sed 's/^/# /' "$err"
	echo "Bail out! our modules do not build for the debug kernel ($kdir)"
	exit 1
fi

# sim-faultinject: fail-nth fails every allocation of the vGPU paths in turn (issue 13).
# DEBUG_KERNEL_BATCHES="sim fuzz" runs only those.
read -ra batches <<<"${DEBUG_KERNEL_BATCHES:-reports core-vfio core-iommufd core-lifecycle sim sim-faultinject fuzz qemu-migration}"
echo "1..${#batches[@]}"
n=0
failed=0
for b in "${batches[@]}"; do
	n=$((n + 1))
	if [ "$b" = reports ]; then
		t0=$SECONDS
		"$lab" run "$debug" --builddir "$out" -- "$src/tests/kmod/harness/kmsg-report.sh" ours \
			>/dev/null 2>"$out/reports-ours.log"
		rc1=$?
		"$lab" run "$debug" --builddir "$out" -- "$src/tests/kmod/harness/kmsg-report.sh" kernel \
			>/dev/null 2>"$out/reports-kernel.log"
		rc2=$?
		if [ $rc1 = 125 ] && grep -q 'reported a problem' "$out/reports-ours.log" &&
			grep -q 'BUG: KCSAN: data-race in vgpu_raise_irq' "$out/reports-ours.log" &&
			[ $rc2 = 0 ] && grep -q 'KCSAN report without our modules left out' "$out/reports-kernel.log"
		then
			echo "ok $n - reports: a synthetic KCSAN report through our modules fails the run, the kernel's own is left out$(
				) (${flavor:-kasan}, $((SECONDS - t0)) s)"
		else
			tail -n 30 "$out/reports-ours.log" "$out/reports-kernel.log" | sed 's/^/# /'
			echo "not ok $n - reports: tools/lab on synthetic KCSAN reports (status $rc1 with ours, want 125; $rc2 without, want 0)"
			failed=1
		fi
		continue
	fi
	case $b in
	core-iommufd) cmd=("$core_test" --module "$out/tests/kmod/core/vgpu_test.ko" --group vfio --iommufd
		--importer "$importer/dmabuf_import.ko") ;;
	core-*) cmd=("$core_test" --module "$out/tests/kmod/core/vgpu_test.ko" --group "${b#core-}"
		--importer "$importer/dmabuf_import.ko") ;;
	sim) cmd=("$run_sim" "$out" "$sim_test") ;;
	sim-faultinject) cmd=("$run_sim" "$out" "$faultinject" "$out/tests/kmod/core/vgpu_test.ko") ;;
	fuzz) cmd=("$run_sim" "$out" "$fuzz" -c "$src/tests/kmod/fuzz/corpus" -n 2000 -s 1) ;;
	qemu-migration) cmd=("$src/tests/kmod/sim/guest-migration.py" "$out" "$guest_mig"
		"$src/tests/kmod/sim/guest/mig-init" "$out/guest-migration") ;;
	*) echo "Bail out! unknown batch '$b' in DEBUG_KERNEL_BATCHES"; exit 1 ;;
	esac
	opts=(--timeout 600 --log "$out/$b.console")
	[ "$b" != qemu-migration ] || opts=(--nested --timeout 1500 --log "$out/$b.console")
	t0=$SECONDS
	"$lab" run "$debug" --builddir "$out" "${opts[@]}" -- "${cmd[@]}" >"$err.out" 2>"$out/$b.log"
	rc=$?
	# A KASAN report in start_kernel() (the kernel's own: one boot in 5 on 2026-12-05, before
	# tools/lab booted the debug kernel with no5lvl, docs/lab.md) turns lockdep off before our
	# modules load, and the batch would run without it: such a boot is run again, once.
	if grep -aq 'KASAN in start_kernel' "$out/$b.log"; then
		echo "# lockdep was off from boot (a KASAN report in start_kernel(), the kernel's own): $b runs again"
		mv "$out/$b.log" "$out/$b.lockdep-off.log"
		mv "$out/$b.console" "$out/$b.lockdep-off.console"
		"$lab" run "$debug" --builddir "$out" "${opts[@]}" -- "${cmd[@]}" >"$err.out" 2>"$out/$b.log"
		rc=$?
	fi
	secs=$((SECONDS - t0))
	sed 's/^/# /' "$err.out"
	{ grep -a 'known kernel report' "$out/$b.log" || true; } | sed 's/^/# /'
	k=$(grep -ac 'KCSAN report without our modules' "$out/$b.log")
	[ "$k" = 0 ] || echo "# $k KCSAN reports without a frame of ours left out ($out/$b.log)"
	# A batch passes only when it ran checks and none failed (a skipped batch is no pass; a
	# TODO is a known failure, as TAP has it).
	if [ $rc = 0 ] && grep -q '^ok ' "$err.out" && ! grep '^not ok ' "$err.out" | grep -qv '# TODO'
	then
		echo "ok $n - $b on the debug kernel${flavor:+ ($flavor)} (${secs} s)"
	else
		tail -n 60 "$out/$b.log" | sed 's/^/# /'
		echo "not ok $n - $b on the debug kernel${flavor:+ ($flavor)} (status $rc, ${secs} s)"
		failed=1
	fi
	rm -f "$err.out"
done
exit $failed
