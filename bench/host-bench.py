#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The host-side figures (no lab): prints one JSON object a line, as vgpu-bench does.

    host-bench.py --vgpuctl PATH --schemas DIR [--runs N] [--scale F] DOCUMENT...

Figure 10: `vgpuctl domxml-to-native` of each document against `xmllint --noout` of the
same, both started the same way (fork + exec, output discarded), alternately. 10v: the same
against `xmllint --noout --relaxng` with our domain schema, the validation vgpuctl also does
(no target: it tells what the 10's ratio is made of).
"""
import argparse
import json
import os
import subprocess
import sys
import time


def time_cmd(argv, env, n):
    """Mean nanoseconds of one run of argv over n runs; fails loudly if it fails."""
    start = time.perf_counter_ns()
    for _ in range(n):
        r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode != 0:
            sys.exit(f"host-bench.py: {' '.join(argv)} failed ({r.returncode}): "
                     f"{r.stderr.decode(errors='replace').strip()}")
    return (time.perf_counter_ns() - start) / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--vgpuctl', required=True)
    ap.add_argument('--schemas', required=True)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--scale', type=float, default=1.0)
    ap.add_argument('documents', nargs='+')
    args = ap.parse_args()
    xmllint = '/usr/bin/xmllint'
    if not os.access(xmllint, os.X_OK):
        print("host-bench.py: xmllint not found (Debian: libxml2-utils); figure 10 skipped",
              file=sys.stderr)
        return 0
    env = dict(os.environ, VGPU_SCHEMA_DIR=args.schemas, LC_ALL='C')
    n = max(1, int(20 * args.scale))
    rng = os.path.join(args.schemas, 'vgpu-domain.rng')
    for run in range(args.runs):
        ours = ref = val = 0.0
        for doc in args.documents:
            ours += time_cmd([args.vgpuctl, 'domxml-to-native', doc], env, n)
            ref += time_cmd([xmllint, '--noout', doc], env, n)
            val += time_cmd([xmllint, '--noout', '--relaxng', rng, doc], env, n)
        k = len(args.documents)
        print(json.dumps({'fig': '10', 'run': run, 'unit': 'ns',
                          'ours': round(ours / k, 1), 'ref': round(ref / k, 1)}), flush=True)
        print(json.dumps({'fig': '10v', 'run': run, 'unit': 'ns',
                          'ours': round(ours / k, 1), 'ref': round(val / k, 1)}), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
