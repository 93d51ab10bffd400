"""The seed's comparisons as one command: dual vs min-max over a small learning-rate grid.

    python -m dualadv.experiments [--quick] [--root=runs/grid]

Runs `run.py` for each (experiment, objective, lr) and each digits seed into runs/grid/ (through
`common.grid`: finished runs are skipped, unfinished ones resume), then writes
dualadv/results/experiments.{md,json} and overlay plots. `--quick` (one lr and one seed per
experiment, a smoke test) writes its tables under runs/partial-results/dualadv/ instead, so the
committed results change only from the full grid. Every file written is printed.
"""

from __future__ import annotations

import json
import os
import sys

from common import grid, report

POINT_LRS = (0.1, 0.3, 1.0)
DIGIT_SEEDS = (0, 1, 2)
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')
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


def jobs(quick: bool) -> list[grid.Job]:
    """The grid: (points_linear, points_rbf) x (dual, min-max) x lr, and digits x objective x seed."""
    out = []
    for experiment in ('points_linear', 'points_rbf'):
        for objective in ('', '_minmax'):
            for lr in POINT_LRS[1:2] if quick else POINT_LRS:
                spec = f'dualadv/config.py:{experiment}{objective}'
                out.append(grid.Job(f'{experiment}{objective}-lr{lr}', spec, (f'--config.optim.lr={lr}',)))
    for objective in ('', '_minmax'):
        for seed in DIGIT_SEEDS[:1] if quick else DIGIT_SEEDS:
            spec = f'dualadv/config.py:digits_rbf{objective}'
            out.append(grid.Job(f'digits_rbf{objective}-seed{seed}', spec, (f'--config.seed={seed}',)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = grid.OneLineParser(prog='python -m dualadv.experiments')
    parser.add_argument('--quick', action='store_true', help='one lr and one seed per experiment (a smoke test)')
    parser.add_argument('--root', default='runs/grid', help='folder of the run workdirs')
    args = parser.parse_args(argv)
    grid_jobs = jobs(args.quick)
    done = grid.run_jobs(grid_jobs, args.root, workers=2)
    rows = {}
    for name, res in done.items():
        if res is not None:
            rows[name] = {k: res[k] for k in KEYS if k in res} | {'steps': res['steps']}
    out = os.path.join(grid.results_dir(RESULTS, 'dualadv', full=not args.quick), 'experiments')
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out + '.json', 'w') as f:
        json.dump(rows, f, indent=2)
    grid.wrote(out + '.json')
    names = list(rows)
    table = report.markdown_table(names, [rows[n] for n in names])
    with open(out + '.md', 'w') as f:
        f.write(table + '\n')
    grid.wrote(out + '.md')
    for experiment in ('points_linear', 'points_rbf', 'digits_rbf'):
        dirs = [os.path.join(args.root, n) for n in names if n.split('-')[0].removesuffix('_minmax') == experiment]
        if dirs:
            grid.wrote(report.overlay_curves(dirs, ['loss/distance', 'align/error'], f'{out}-{experiment}.png'))
    print(table)
    return 0


if __name__ == '__main__':
    sys.exit(main())
