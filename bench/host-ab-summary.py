#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Summary of bench/host-ab.sh's output: per figure, for elapsed and CPU time, each build's
ratio against its reference (median, min-max over the rounds) and new against old, round by
round."""
import collections
import json
import statistics
import sys


def span(values, unit='x', scale=1.0):
    v = [x / scale for x in values]
    return f'{statistics.median(v):.2f}{unit} ({min(v):.2f}–{max(v):.2f})'


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: host-ab-summary.py RAW.jsonl')
    by = collections.defaultdict(dict)
    with open(sys.argv[1], encoding='utf-8') as f:
        for line in f:
            r = json.loads(line)
            by[(r['fig'], r['build'])][r['round']] = r
    for fig in sorted({k[0] for k in by}):
        old, new = by.get((fig, 'old'), {}), by.get((fig, 'new'), {})
        if not old or not new:
            sys.exit(f'host-ab-summary.py: figure {fig} lacks a build')
        for sfx, what in (('', 'elapsed'), ('_cpu', 'CPU')):
            print(f'figure {fig}, {what}:')
            for name, d in (('old', old), ('new', new)):
                rows = list(d.values())
                print(f'  {name}: {len(rows)} rounds, ratio '
                      f"{span([r['ours' + sfx] / r['ref' + sfx] for r in rows])}, ours "
                      f"{span([r['ours' + sfx] for r in rows], ' ms', 1e6)}, reference "
                      f"{span([r['ref' + sfx] for r in rows], ' ms', 1e6)}")
            rounds = sorted(set(old) & set(new))
            print('  new against old, ours, round by round: '
                  f"{span([new[k]['ours' + sfx] / old[k]['ours' + sfx] for k in rounds])}")


if __name__ == '__main__':
    main()
