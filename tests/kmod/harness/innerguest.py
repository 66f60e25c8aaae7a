# SPDX-License-Identifier: GPL-2.0-or-later
"""The inner guests of the in-lab tests: an initramfs with Debian's busybox,
the lab kernel's modules a test needs, and the test's own programs.
"""
import os
import subprocess


def lab_kernel():
    """(vmlinux, modules root, kernel ABI) for an inner guest, from tools/lab's environment:
    the world's stock kernel, also when the lab runs the debug kernel."""
    cache = os.environ.get("LAB_INNER_CACHE") or os.environ["LAB_CACHE"]
    abi = os.environ.get("LAB_INNER_ABI") or os.environ["LAB_ABI"]
    return os.path.join(cache, f"vmlinux-{abi}"), os.path.join(cache, "root"), abi


def build_initramfs(out, init, programs=(), modules=()):
    """Writes the newc cpio @out: @init as /init, each (path, name) of
    @programs as /bin/name, and for each (subdir, module) of @modules that
    module and what it needs, in load order, in /subdir with an 'order' file."""
    _, root, abi = lab_kernel()
    busybox = os.path.join(root, "bin/busybox")
    tree = out + ".d"
    subprocess.run(["rm", "-rf", tree], check=True)
    for d in ("bin", "dev", "proc", "sys"):
        os.makedirs(os.path.join(tree, d))
    subprocess.run(["cp", busybox, os.path.join(tree, "bin/busybox")], check=True)
    subprocess.run(["cp", init, os.path.join(tree, "init")], check=True)
    for path, name in programs:
        subprocess.run(["cp", path, os.path.join(tree, "bin", name)], check=True)
    for sub, top in modules:
        os.makedirs(os.path.join(tree, sub), exist_ok=True)
        deps = subprocess.run(["modprobe", "-d", root, "-S", abi, "-a", "--show-depends", top],
                              check=True, capture_output=True, text=True).stdout
        order = []
        for line in deps.splitlines():
            parts = line.split()
            if parts and parts[0] == "insmod" and os.path.basename(parts[1]) not in order:
                subprocess.run(["cp", parts[1], os.path.join(tree, sub)], check=True)
                order.append(os.path.basename(parts[1]))
        with open(os.path.join(tree, sub, "order"), "w") as f:
            f.write("\n".join(order) + "\n")
    files = subprocess.run(["find", "."], cwd=tree, check=True, capture_output=True).stdout
    with open(out, "wb") as f:
        subprocess.run([busybox, "cpio", "-o", "-H", "newc"], input=files, cwd=tree, stdout=f,
                       stderr=subprocess.DEVNULL, check=True)
    subprocess.run(["rm", "-rf", tree], check=True)
