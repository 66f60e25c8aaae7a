#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turns the benchmarks' raw lines into the report (docs/benchmarks.md).

    report.py --world NAME --out DIR [--quick] [--expect FIG,...] RAW.jsonl...

Reads the JSON lines of vgpu-bench (in the lab) and host-bench.py, computes each run's ratio
(ours against its reference, measured in the same boot, one run after the other), and writes
DIR/<date>-<world>.json and .md: per figure the median, min and max of the ratios, the target
and whether it was met, plus the medians of the raw values, the versions and the machine; and
DIR/<date>-<world>.png, the ratios against their targets (matplotlib, Debian's
python3-matplotlib).
Exit status: 0 written; 1 the input is malformed or a figure in --expect is missing (what the
test suite's quick mode checks; it never judges the figures themselves), or matplotlib is
missing (the .json and .md are written first).
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys


# key, what is measured, reference, how the ratio is made, target
def ratio_time(r):
    return r['ours'] / r['ref']


def ratio_speed(r):
    return r['ref'] / r['ours']


def ratio_above_floor(r):
    return (r['ours'] - r['floor']) / (r['ref'] - r['floor'])


FIGURES = [
    ('1', '1', '4-byte config-space read (pread on the device fd)', 'mtty', ratio_time, '<=', 1.0),
    ('1b', '1', 'the same, above the syscall floor (pread of /dev/zero)',
     "mtty's above the floor", ratio_above_floor, '<=', 1.0),
    ('2', '2', '4-byte trapped MMIO write + read (BAR2 offset 0x604)', "mbochs's MMIO BAR",
     ratio_time, '<=', 1.0),
    ('1s', '1s', 'figure 1 on one vGPU with 16 vGPUs open', 'the same, the 15 others closed',
     ratio_time, None, None),
    ('2s', '2s', 'figure 2 on one vGPU with 16 vGPUs open', 'the same, the 15 others closed',
     ratio_time, None, None),
    ('3w', '3w', "mmap'd VRAM, 64 MiB sequential write (speed)", 'anonymous memory',
     ratio_speed, '>=', 0.9),
    ('3r', '3r', "mmap'd VRAM, 64 MiB sequential read (speed)", 'anonymous memory',
     ratio_speed, '>=', 0.9),
    ('4', '4', "first touch of 64 MiB of mmap'd VRAM (a fresh vGPU each run)", 'mbochs',
     ratio_time, '<=', 0.25),
    ('5a', '5-mtty', 'create + remove of one vGPU (16 MiB)', 'mtty', ratio_time, '<=', 1.0),
    ('5b', '5-mbochs', 'create + remove of one vGPU (16 MiB)', 'mbochs (16 MiB)', ratio_time,
     '<=', 1.0),
    ('5c', '5-opened', 'create, open + close, remove of one vGPU (16 MiB; its slice scrubbed)',
     'mbochs (16 MiB), the same', ratio_time, None, None),
    ('6', '6', 'the last 4 of 64 creates (4 GPUs, round robin)', 'the first 4', ratio_time,
     '<=', 1.5),
    ('7', '7', 'doorbell write -> MSI-X eventfd wake-up (one-page copy)',
     'raw eventfd round trip between two threads', ratio_time, '<=', 2.0),
    ('8', '8', 'copy engine, guest memory -> VRAM, 16 MiB (speed)', 'memcpy in the guest',
     ratio_speed, '>=', 0.5),
    ('9', '9', 'kernel memory per idle vGPU (slab + vmalloc + per-CPU, 16 devices)', 'mbochs per device',
     ratio_time, '<=', 1.0),
    ('10', '10', '`vgpuctl domxml-to-native` per document', '`xmllint --noout` of the same',
     ratio_time, '<=', 3.0),
    ('11', '11', '`virsh start --paused` of a domain with a managed vGPU (the hook creates it)',
     'the same domain, its vGPU created beforehand', ratio_time, '<=', 1.2),
    ('12', '12', "the hook's `prepare begin` (one managed vGPU; fake root, 16 GPUs x 16 types)",
     'one `mdevctl list` of the same tree', ratio_time, '<=', 1.0),
    ('10v', '10v', 'the same', '`xmllint --noout --relaxng` with our domain schema', ratio_time,
     None, None),
] + [
    # issue 11: a vGPU migrated with PRE_COPY against STOP_COPY alone (6.2+ only)
    (f'm{rate}{part}', f'm{rate}{part}',
     f'migration {what}, the guest writing {rate}% of VRAM a second (64 MiB vGPU)',
     'STOP_COPY alone', ratio_time, None, None)
    for rate in (1, 10, 50)
    for part, what in (('', 'downtime (pause to B running)'), ('b', 'bytes sent in STOP_COPY'))
]


def fail(msg):
    print(f'report.py: {msg}', file=sys.stderr)
    sys.exit(1)


def read_raw(paths):
    runs, meta = {}, {}
    for path in paths:
        with open(path, encoding='utf-8') as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    fail(f'{path}:{n}: not JSON ({e}): {line[:80]}')
                if 'meta' in obj:
                    meta.update(obj['meta'])
                    continue
                for k, t in (('fig', str), ('run', int), ('ours', (int, float)),
                             ('ref', (int, float)), ('unit', str)):
                    if not isinstance(obj.get(k), t):
                        fail(f'{path}:{n}: field {k!r} missing or of the wrong type')
                if not all(math.isfinite(obj[k]) and obj[k] >= 0 for k in ('ours', 'ref')):
                    fail(f'{path}:{n}: a value is negative or not finite')
                runs.setdefault(obj['fig'], []).append(obj)
    return runs, meta


def version(argv, pattern):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
    except OSError:
        return 'unknown'
    m = re.search(pattern, out)
    return m.group(1) if m else 'unknown'


def summarise(runs):
    figures = []
    for key, src, what, against, fn, op, target in FIGURES:
        entry = {'figure': key, 'what': what, 'against': against,
                 'target': f'{op} {target:g}x' if op else 'none', 'runs': 0,
                 'status': 'not measured'}
        rows = runs.get(src, [])
        ratios = []
        for r in rows:
            try:
                ratios.append(fn(r))
            except ZeroDivisionError:
                pass
        entry['runs'] = len(rows)
        if rows:
            entry['unit'] = rows[0]['unit']
            entry['ours_median'] = statistics.median(r['ours'] for r in rows)
            entry['ref_median'] = statistics.median(r['ref'] for r in rows)
            if 'floor' in rows[0]:
                entry['floor_median'] = statistics.median(r['floor'] for r in rows)
        if ratios:
            med = statistics.median(ratios)
            entry.update(ratio_median=round(med, 3), ratio_min=round(min(ratios), 3),
                         ratio_max=round(max(ratios), 3))
            if op:
                met = med <= target if op == '<=' else med >= target
                entry['status'] = 'met' if met else 'missed'
            else:
                entry['status'] = 'measured'
        elif rows:
            entry['status'] = 'no ratio (the reference measured 0)'
        figures.append(entry)
    return figures


def fmt(v, unit):
    if v is None:
        return '-'
    if unit == 'bytes':
        return f'{v / 1024:.1f} KiB'
    if v >= 1e9:
        return f'{v / 1e9:.2f} s'
    if v >= 1e6:
        return f'{v / 1e6:.2f} ms'
    if v >= 1e3:
        return f'{v / 1e3:.2f} µs'
    return f'{v:.0f} ns'


def markdown(report):
    m = report['machine']
    lines = [f"# Benchmarks, {report['world']}, {report['date']}", '',
             f"Guest kernel {m['guest_kernel']} under QEMU {m['qemu']} ({m['guest_cpu']}, "
             f"{m['guest_cpus']} vCPUs); host {m['host_cpu']}, {m['host_cpus']} cores; "
             f"libvirt {m['libvirt']}. Mode: {report['mode']}.", '',
             'Ratio = ours against the reference, measured in the same lab boot, run after run; '
             'median (min–max) over the runs.', '',
             '| # | figure | against | ours (median) | reference (median) | ratio median (min–max) '
             '| target | |',
             '|---|---|---|---|---|---|---|---|']
    for f in report['figures']:
        unit = f.get('unit', 'ns')
        if 'ratio_median' in f:
            ratio = f"{f['ratio_median']:.2f}x ({f['ratio_min']:.2f}–{f['ratio_max']:.2f})"
        else:
            ratio = '-'
        ours, ref = f.get('ours_median'), f.get('ref_median')
        if f['figure'] == '1b' and ours is not None:
            ours -= f['floor_median']
            ref -= f['floor_median']
        lines.append(f"| {f['figure']} | {f['what']} | {f['against']} | {fmt(ours, unit)} | "
                     f"{fmt(ref, unit)} | {ratio} | {f['target']} | {f['status']} |")
    lines.append('')
    missed = [f['figure'] for f in report['figures'] if f['status'] == 'missed']
    absent = [f['figure'] for f in report['figures'] if f['status'] == 'not measured']
    lines.append(f"Targets missed: {', '.join(missed) if missed else 'none'}. "
                 f"Not measured: {', '.join(absent) if absent else 'none'}.")
    return '\n'.join(lines) + '\n'


def plot(report, path):
    """The ratios (median, min-max) of every measured figure against its target, log scale."""
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError as e:
        fail(f'cannot draw {path}: {e} (Debian: python3-matplotlib; tools/deps installs it)')
    figs = [f for f in report['figures'] if 'ratio_median' in f]
    if not figs:
        fail(f'cannot draw {path}: no figure has a ratio')
    colours = {'met': '#2a7d2a', 'missed': '#c0392b', 'measured': '#7f7f7f'}
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(figs) + 1.6), dpi=90)
    for y, f in enumerate(figs):
        med, lo, hi = f['ratio_median'], f['ratio_min'], f['ratio_max']
        c = colours.get(f['status'], '#7f7f7f')
        # a ratio of 0 (or below, figure 1b) has no place on a log axis
        lo = max(lo, 1e-2)
        ax.plot([lo, max(hi, lo)], [y, y], color=c, linewidth=1.5)
        ax.plot([max(med, 1e-2)], [y], 'o', color=c, markersize=5)
        if f['target'] != 'none':
            op, val = f['target'].split()
            val = float(val.rstrip('x'))
            ax.plot([val], [y], '|', color='black', markersize=12, markeredgewidth=2)
            ax.annotate(op, (val, y), textcoords='offset points', xytext=(5, 3), fontsize=7)
    ax.set_yticks(range(len(figs)))
    ax.set_yticklabels([f"{f['figure']}  {f['against'].replace('`', '')[:34]}" for f in figs], fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale('log')
    ax.axvline(1.0, color='#bbbbbb', linewidth=0.8, zorder=0)
    ax.set_xlabel('ratio, ours against the reference (dot: median, line: min–max; '
                  'bar: target)', fontsize=8)
    ax.tick_params(axis='x', labelsize=7)
    ax.set_title(f"vGPU benchmarks, {report['world']}, {report['date']} ({report['mode'][:5]}); "
                 'green met, red missed, grey no target', fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--world', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--expect', default='')
    ap.add_argument('--qemu', help="QEMU's version, when not this machine's")
    ap.add_argument('--libvirt', help="libvirt's version, when not this machine's")
    ap.add_argument('raw', nargs='+')
    args = ap.parse_args()
    runs, meta = read_raw(args.raw)
    for fig in filter(None, args.expect.split(',')):
        if fig not in runs:
            fail(f'figure {fig} has no runs in {", ".join(args.raw)}')
    if not meta:
        fail('no "meta" line from the lab (kernel, machine)')
    now = datetime.datetime.now(datetime.timezone.utc)
    report = {
        'world': args.world,
        'date': now.strftime('%Y-%m-%d %H:%M UTC'),
        'mode': 'quick (a few iterations: checks the code, not the figures)' if args.quick
                else 'full',
        'machine': {
            'guest_kernel': meta.get('kernel', 'unknown'),
            'guest_cpu': meta.get('cpu', 'unknown'),
            'guest_cpus': meta.get('cpus', 0),
            'guest_memory_kb': meta.get('memory_kb', 0),
            'gpus': meta.get('gpus', ''),
            'qemu': args.qemu or version(['qemu-system-x86_64', '--version'], r'version (\S+)'),
            'libvirt': args.libvirt or version(['libvirtd', '--version'], r'(\d+\.\d+\.\d+)'),
            'host_kernel': platform.release(),
            'host_cpu': version(['sh', '-c', 'cat /proc/cpuinfo'], r'model name\s*: (.*)'),
            'host_cpus': os.cpu_count(),
        },
        'figures': summarise(runs),
        'raw': runs,
    }
    os.makedirs(args.out, exist_ok=True)
    base = os.path.join(args.out, f"{now.strftime('%Y-%m-%d')}-{args.world}")
    with open(base + '.json', 'w', encoding='utf-8') as f:
        json.dump(report, f, indent=1)
        f.write('\n')
    md = markdown(report)
    with open(base + '.md', 'w', encoding='utf-8') as f:
        f.write(md)
    print(md, end='')
    print(f'report.py: wrote {base}.json and {base}.md', file=sys.stderr)
    plot(report, base + '.png')
    print(f'report.py: wrote {base}.png', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
