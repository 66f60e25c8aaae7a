#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The host-side figures (no lab): prints one JSON object a line, as vgpu-bench does.

    host-bench.py --vgpuctl PATH --schemas DIR [--runs N] [--scale F]
                  [--hook PATH --fakekernel PATH [--mdevctl PATH]] DOCUMENT...

Figure 10: `vgpuctl domxml-to-native` of each document against `xmllint --noout` of the
same, both started the same way (fork + exec, output discarded), alternately. 10v: the same
against `xmllint --noout --relaxng` with our domain schema, the validation vgpuctl also does
(no target: it tells what the 10's ratio is made of).

Each line also carries ours_cpu and ref_cpu: the same runs' CPU time (user + system of the
children, getrusage), which a loaded machine inflates far less than the elapsed time that
'ours' and 'ref' are (report.py uses those).

Figure 12 (with --hook): the libvirt hook's `prepare begin` of a domain with one managed vGPU,
in a fake root (VGPU_ROOT) of 16 GPUs x 16 types whose kernel is tests/cli's fakekernel.so
(preloaded: it answers the create as the mdev core would), against one `mdevctl list` of the
same tree. The requested type has a free instance on the last GPU only, so the hook looks at
all 16; 16 other vGPUs (one a GPU) exist, so mdevctl lists 16. mdevctl has no root prefix:
both run in a private mount namespace (unshare, root only) where the fake root's sys/ is
mounted on /sys. The hook's `release end` between two prepares is not timed. The fake root
is a tmpfs mounted in that namespace (--fig12-fs tmp: in $TMPDIR, as before).
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid


def children_cpu_ns():
    """User + system time of the waited-for children so far, in nanoseconds."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (ru.ru_utime + ru.ru_stime) * 1e9


def time_cmd(argv, env, n):
    """Mean elapsed and CPU nanoseconds of one run of argv over n runs; fails loudly if it
    fails."""
    cpu = children_cpu_ns()
    start = time.perf_counter_ns()
    for _ in range(n):
        r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode != 0:
            sys.exit(f"host-bench.py: {' '.join(argv)} failed ({r.returncode}): "
                     f"{r.stderr.decode(errors='replace').strip()}")
    return (time.perf_counter_ns() - start) / n, (children_cpu_ns() - cpu) / n


NGPUS = NTYPES = 16
DESC = 'fb_size={fb}, heads=1, max_resolution=1920x1080, max_instances=4\n'


def gpu_name(i):
    return f'0000:00:{0x10 + i:02x}.0'


def type_name(j):
    return f'vgpu_sim-{16 * (j + 1)}m'


def fake_root(root):
    """16 GPUs x 16 types as the mdev core shows them (tests/common/fake-sysfs.h)."""
    for d in ('sys/bus/mdev/devices', 'dev/vfio', 'sys/kernel/iommu_groups'):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    for i in range(NGPUS):
        for j in range(NTYPES):
            base = os.path.join(root, 'sys/class/mdev_bus', gpu_name(i), 'mdev_supported_types',
                                type_name(j))
            os.makedirs(os.path.join(base, 'devices'))
            # the benchmark's type is free on the last GPU only
            free = 1 if j != NTYPES - 1 or i == NGPUS - 1 else 0
            for name, text in (('name', type_name(j) + '\n'),
                               ('description', DESC.format(fb=(16 << 20) * (j + 1))),
                               ('device_api', 'vfio-pci\n'), ('available_instances', f'{free}\n'),
                               ('create', '')):
                with open(os.path.join(base, name), 'w', encoding='utf-8') as f:
                    f.write(text)


def run_ok(argv, env, stdin=None):
    r = subprocess.run(argv, env=env, input=stdin, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit(f"host-bench.py: {' '.join(argv)} failed ({r.returncode}): "
                 f"{r.stderr.decode(errors='replace').strip()}")


def fig12_inner(args):
    """Inside the private mount namespace: the fake root's sys/ is /sys here."""
    root = args.fig12_root
    if args.fig12_fs == 'tmpfs':
        # sysfs is a memory file system; on a disk file system (/tmp here is ext4) the
        # fake kernel's mkdir and symlink at each create dominated the hook's time
        # (docs/benchmarks.md, figure 12)
        subprocess.run(['mount', '-t', 'tmpfs', '-o', 'mode=0700,size=64m', 'vgpu-bench12',
                        os.path.dirname(root)], check=True)
    fake_root(root)
    subprocess.run(['mount', '--bind', os.path.join(root, 'sys'), '/sys'], check=True)
    # the host's own mdevctl definitions are not the fake tree's; empty script
    # directories, as Debian's package ships them
    for d in ('callouts', 'notifiers'):
        os.makedirs(os.path.join(root, 'etc/mdevctl.d/scripts.d', d), exist_ok=True)
    if os.path.isdir('/etc/mdevctl.d'):
        subprocess.run(['mount', '--bind', os.path.join(root, 'etc/mdevctl.d'),
                        '/etc/mdevctl.d'], check=True)
    env = dict(os.environ, VGPU_ROOT=root, LD_PRELOAD=args.fakekernel, LC_ALL='C',
               FAKEKERNEL_LOG=os.path.join(root, 'kernel.log'), VGPU_TIMEOUT_MS='10000')
    env.pop('LIBVIRT_DEFAULT_URI', None)
    # 16 other vGPUs, one a GPU, for mdevctl to list
    for i in range(NGPUS):
        path = os.path.join(root, 'sys/class/mdev_bus', gpu_name(i), 'mdev_supported_types',
                            type_name(0), 'create')
        # a process of its own: the fake kernel acts in close(), preloaded
        run_ok([sys.executable, '-c', 'import sys; open(sys.argv[1], "w").write(sys.argv[2])',
                path, str(uuid.uuid4())], env)
    out = subprocess.run(['mdevctl', 'list'] if not args.mdevctl else [args.mdevctl, 'list'],
                         capture_output=True, text=True, check=False)
    listed = [ln for ln in out.stdout.splitlines() if ln.strip()]
    if out.returncode != 0 or len(listed) != NGPUS:
        sys.exit(f'host-bench.py: mdevctl list in the fake root gave {out.returncode} and '
                 f'{len(listed)} devices, not {NGPUS}: {out.stderr.strip()}')
    dom_uuid = str(uuid.uuid4())
    dialect = os.path.join(root, 'domain.xml')
    with open(dialect, 'w', encoding='utf-8') as f:
        f.write(f"<domain type='kvm'><name>bench</name><uuid>{dom_uuid}</uuid>"
                "<memory>1048576</memory><os><type>hvm</type></os><devices>"
                "<hostdev mode='subsystem' type='vgpu' managed='yes'><source>"
                f"<type id='{type_name(NTYPES - 1)}'/></source></hostdev></devices></domain>\n")
    env_x = dict(env, VGPU_SCHEMA_DIR=args.schemas)
    native = subprocess.run([args.vgpuctl, 'domxml-to-native', dialect], env=env_x,
                            capture_output=True, check=True).stdout
    prepare = [args.hook, 'bench', 'prepare', 'begin', '-']
    release = [args.hook, 'bench', 'release', 'end', '-']
    mdevctl = [args.mdevctl or 'mdevctl', 'list']
    n = max(1, int(20 * args.scale))
    devices = os.path.join(root, 'sys/bus/mdev/devices')
    for run in range(args.runs):
        ours = ref = ours_cpu = ref_cpu = 0
        for _ in range(n):
            cpu = children_cpu_ns()
            start = time.perf_counter_ns()
            run_ok(prepare, env, native)
            ours += time.perf_counter_ns() - start
            ours_cpu += children_cpu_ns() - cpu
            if len(os.listdir(devices)) != NGPUS + 1:
                sys.exit('host-bench.py: the hook\'s prepare created no vGPU')
            run_ok(release, env, native)
            cpu = children_cpu_ns()
            start = time.perf_counter_ns()
            run_ok(mdevctl, env)
            ref += time.perf_counter_ns() - start
            ref_cpu += children_cpu_ns() - cpu
        print(json.dumps({'fig': '12', 'run': run, 'unit': 'ns', 'ours': round(ours / n, 1),
                          'ref': round(ref / n, 1), 'ours_cpu': round(ours_cpu / n, 1),
                          'ref_cpu': round(ref_cpu / n, 1)}), flush=True)


def fig12(args):
    """Figure 12, or a note on stderr saying why it cannot run here."""
    for what, path in (('the hook', args.hook), ('fakekernel.so', args.fakekernel),
                       ('mdevctl', args.mdevctl or shutil.which('mdevctl'))):
        if not path or not os.access(path, os.R_OK):
            print(f'host-bench.py: {what} not found; figure 12 skipped', file=sys.stderr)
            return
    if os.geteuid() != 0 or not shutil.which('unshare'):
        print('host-bench.py: figure 12 needs root and unshare (a mount namespace for '
              'mdevctl); skipped', file=sys.stderr)
        return
    with tempfile.TemporaryDirectory(prefix='vgpu-bench12-') as tmp:
        root = os.path.join(tmp, 'root')
        argv = [sys.executable, os.path.abspath(__file__), '--fig12-root', root,
                '--vgpuctl', args.vgpuctl, '--schemas', args.schemas, '--hook', args.hook,
                '--fakekernel', args.fakekernel, '--runs', str(args.runs),
                '--scale', str(args.scale), '--fig12-fs', args.fig12_fs]
        if args.mdevctl:
            argv += ['--mdevctl', args.mdevctl]
        r = subprocess.run(['unshare', '--mount', '--propagation', 'private', '--'] + argv,
                           check=False)
        if r.returncode != 0:
            sys.exit(f'host-bench.py: figure 12 failed ({r.returncode})')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--vgpuctl', required=True)
    ap.add_argument('--schemas', required=True)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--scale', type=float, default=1.0)
    ap.add_argument('--hook')
    ap.add_argument('--fakekernel')
    ap.add_argument('--mdevctl')
    ap.add_argument('--only', default='10,12')
    ap.add_argument('--fig12-fs', choices=('tmpfs', 'tmp'), default='tmpfs',
                    help="figure 12's fake root: a tmpfs of its own (default), or in "
                         "$TMPDIR's file system as before")
    ap.add_argument('--fig12-root', help=argparse.SUPPRESS)
    ap.add_argument('documents', nargs='*')
    args = ap.parse_args()
    if args.fig12_root:
        fig12_inner(args)
        return 0
    only = args.only.split(',')
    if '12' in only and args.hook:
        fig12(args)
    if '10' not in only:
        return 0
    if not args.documents:
        ap.error('figure 10 needs documents')
    xmllint = '/usr/bin/xmllint'
    if not os.access(xmllint, os.X_OK):
        print("host-bench.py: xmllint not found (Debian: libxml2-utils); figure 10 skipped",
              file=sys.stderr)
        return 0
    env = dict(os.environ, VGPU_SCHEMA_DIR=args.schemas, LC_ALL='C')
    n = max(1, int(20 * args.scale))
    rng = os.path.join(args.schemas, 'vgpu-domain.rng')
    for run in range(args.runs):
        # [elapsed, CPU] summed over the documents
        ours, ref, val = [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]
        for doc in args.documents:
            for acc, argv in ((ours, [args.vgpuctl, 'domxml-to-native', doc]),
                              (ref, [xmllint, '--noout', doc]),
                              (val, [xmllint, '--noout', '--relaxng', rng, doc])):
                elapsed, cpu = time_cmd(argv, env, n)
                acc[0] += elapsed
                acc[1] += cpu
        k = len(args.documents)
        for fig, against in (('10', ref), ('10v', val)):
            print(json.dumps({'fig': fig, 'run': run, 'unit': 'ns',
                              'ours': round(ours[0] / k, 1), 'ref': round(against[0] / k, 1),
                              'ours_cpu': round(ours[1] / k, 1),
                              'ref_cpu': round(against[1] / k, 1)}), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
