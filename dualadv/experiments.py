"""The seed's comparisons as one command: dual vs min-max over a small learning-rate grid.

    python -m dualadv.experiments [--quick]

Runs `run.py` for each (experiment, objective, lr) and each digits seed into runs/grid/, then
writes dualadv/results/experiments.{md,json} and overlay plots with common.report. Every run is
an ordinary run.py workdir, so any one of them can be inspected or resumed on its own.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys

from common import report

POINT_LRS = (0.1, 0.3, 1.0)
DIGIT_SEEDS = (0, 1, 2)
KEYS = (
    'final_train_error',
    'test_map_error_after',
    'test_mean_gap_after',
    'final_train_distance',
    'ups_distance',
    'ups_error',
    'accuracy_uci_before',
    'accuracy_uci_after',
    'accuracy_mnist_test',
)


def _jobs(quick: bool) -> list[tuple[str, list[str]]]:
    jobs = []
    for experiment in ('points_linear', 'points_rbf'):
        for objective in ('', '_minmax'):
            for lr in POINT_LRS[1:2] if quick else POINT_LRS:
                name = f'{experiment}{objective}-lr{lr}'
                jobs.append((name, [f'--config=dualadv/config.py:{experiment}{objective}', f'--config.optim.lr={lr}']))
    for objective in ('', '_minmax'):
        for seed in DIGIT_SEEDS[:1] if quick else DIGIT_SEEDS:
            name = f'digits_rbf{objective}-seed{seed}'
            jobs.append((name, [f'--config=dualadv/config.py:digits_rbf{objective}', f'--config.seed={seed}']))
    return jobs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='python -m dualadv.experiments')
    parser.add_argument('--quick', action='store_true', help='one lr and one seed per experiment')
    parser.add_argument('--root', default='runs/grid')
    parser.add_argument('--out', default='dualadv/results/experiments')
    args = parser.parse_args(argv)
    jobs = _jobs(args.quick)

    def run(job):
        name, flags = job
        cmd = [sys.executable, 'run.py', *flags, f'--workdir={os.path.join(args.root, name)}']
        proc = subprocess.run(cmd, capture_output=True, text=True)
        return name, proc.returncode, proc.stderr[-400:]

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for name, rc, err in pool.map(run, jobs):
            print(f'{name}: {"ok" if rc == 0 else "FAILED " + err}', file=sys.stderr)

    rows = {}
    for name, _ in jobs:
        path = os.path.join(args.root, name, 'results.json')
        if os.path.exists(path):
            with open(path) as f:
                res = json.load(f)
            rows[name] = {k: res[k] for k in KEYS if k in res}
            rows[name]['steps'] = res['steps']
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out + '.json', 'w') as f:
        json.dump(rows, f, indent=2)
    names = list(rows)
    with open(args.out + '.md', 'w') as f:
        f.write(report.markdown_table(names, [rows[n] for n in names]) + '\n')
    for experiment in ('points_linear', 'points_rbf', 'digits_rbf'):
        dirs = [os.path.join(args.root, n) for n in names if n.split('-')[0].removesuffix('_minmax') == experiment]
        if dirs:
            report.overlay_curves(dirs, ['loss/distance', 'align/error'], f'{args.out}-{experiment}.png')
    print(open(args.out + '.md').read())
    return 0


if __name__ == '__main__':
    sys.exit(main())
