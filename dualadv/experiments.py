"""The seed's comparisons as one command: dual vs min-max over a small learning-rate grid.

    python -m dualadv.experiments [--quick] [--root=runs/grid]

Runs `run.py` for each (experiment, objective, lr, seed), for two stronger min-max critics on the
RBF points (the exact kernel discriminator; 5 critic steps per step on T), and for each digits
seed into runs/grid/ (through
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
POINT_SEEDS = (0, 1, 2)
DIGIT_SEEDS = (0, 1, 2)
# The RBF min-max with a stronger critic (name suffix -> switches), so that its failure cannot be
# blamed on the 256 random Fourier features or on one simultaneous critic step.
CRITICS = {
    '_kernel': {'loss.critic': 'kernel'},
    '_5steps': {'optim.critic_steps': 5},
}
# The point-grid summary's rows: (label, run-name prefix).
POINT_ROWS = (
    ('linear, dual', 'points_linear'),
    ('linear, min-max', 'points_linear_minmax'),
    ('RBF, dual', 'points_rbf'),
    ('RBF, min-max (256 RFF critic)', 'points_rbf_minmax'),
    ('RBF, min-max (exact kernel critic)', 'points_rbf_minmax_kernel'),
    ('RBF, min-max (RFF critic, 5 steps per T step)', 'points_rbf_minmax_5steps'),
)
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
    """The grid: (points_linear, points_rbf) x (dual, min-max) x lr x seed, the RBF min-max with the
    two stronger critics x lr x seed, and digits x objective x seed."""
    out = []
    lrs = POINT_LRS[1:2] if quick else POINT_LRS
    seeds = POINT_SEEDS[:1] if quick else POINT_SEEDS
    points = [(f'{e}{o}', f'{e}{o}', {}) for e in ('points_linear', 'points_rbf') for o in ('', '_minmax')]
    points += [(f'points_rbf_minmax{k}', 'points_rbf_minmax', v) for k, v in CRITICS.items()]
    for name, variant, switches in points:
        for lr in lrs:
            for seed in seeds:
                overrides = {**switches, 'optim.lr': lr, 'seed': seed}
                out.append(grid.Job(f'{name}-lr{lr}-seed{seed}', 'dualadv', variant, overrides))
    for objective in ('', '_minmax'):
        for seed in DIGIT_SEEDS[:1] if quick else DIGIT_SEEDS:
            variant = f'digits_rbf{objective}'
            out.append(grid.Job(f'{variant}-seed{seed}', 'dualadv', variant, {'seed': seed}))
    return out


def point_summary(rows: dict[str, dict]) -> list[str]:
    """Markdown: final map error and ups of the distance per point setting x lr, per seed and mean."""
    lines = [
        '## Points: final map error (ups of the distance) per seed, and the mean over seeds',
        '',
        '| run | lr | seed 0 | seed 1 | seed 2 | mean error | mean ups |',
        '|---|---|---|---|---|---|---|',
    ]
    for label, prefix in POINT_ROWS:
        for lr in POINT_LRS:
            found = [rows.get(f'{prefix}-lr{lr}-seed{s}') for s in POINT_SEEDS]
            if not any(found):
                continue
            cells = [f'{r["final_train_error"]:.3g} ({r["ups_distance"]})' if r else '' for r in found]
            done = [r for r in found if r]
            error = sum(r['final_train_error'] for r in done) / len(done)
            ups = sum(r['ups_distance'] for r in done) / len(done)
            lines.append(f'| {label} | {lr} | ' + ' | '.join(cells) + f' | {error:.3g} | {ups:.0f} |')
    return lines + ['']


def main(argv: list[str] | None = None) -> int:
    parser = grid.OneLineParser(prog='python -m dualadv.experiments')
    parser.add_argument('--quick', action='store_true', help='one lr and one seed per experiment (a smoke test)')
    parser.add_argument('--root', default='runs/grid', help='folder of the run workdirs')
    args = parser.parse_args(argv)
    grid_jobs = jobs(args.quick)
    done = grid.run_jobs(grid_jobs, args.root, workers=2)
    if not any(done.values()):
        print('python -m dualadv.experiments: error: every run failed; nothing was written', file=sys.stderr)
        return grid.exit_status()
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
        f.write('\n'.join(point_summary(rows)) + '\n## Every run\n\n' + table + '\n')
    grid.wrote(out + '.md')
    for experiment in ('points_linear', 'points_rbf', 'digits_rbf'):
        dirs = [
            os.path.join(args.root, n)
            for n in names
            if n.split('-')[0].split('_minmax')[0] == experiment and n.endswith('seed0')
        ]
        if dirs:
            grid.wrote(report.overlay_curves(dirs, ['loss/distance', 'align/error'], f'{out}-{experiment}.png'))
    print(table)
    return grid.exit_status()


if __name__ == '__main__':
    sys.exit(main())
