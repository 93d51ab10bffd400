"""How far does PuppetGAN move the attribute? r_attr is a correlation: it is the same for an output
turned by the reference's full angle and for one turned by a quarter of it. This measures the
gain, each row's least-squares slope of the output's measured attribute against the reference's
value, divided by the same slope of the exact manipulation of the same digit (1: the full change;
0: none), and the mean change at the two extreme references, for a run's kept checkpoints.

    python benchmarks/puppet_gain.py RUN [--steps=2500,3000]

Writes benchmarks/results/puppet_gain_<run>.{json,md}.
"""

from __future__ import annotations

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)


def measured(cells: np.ndarray, task: str) -> np.ndarray:
    """[rows, K] the attribute of grids `cells` [M, N, K, H, W, 1] (rotation unwrapped per row),
    relative to the centre reference's output (rotation, degrees) or as a ratio to it (size)."""
    from puppet import metrics

    estimator = metrics.rotation if task == 'rotation' else metrics.size
    values = estimator(cells.reshape(-1, *cells.shape[3:])).reshape(-1, cells.shape[2])
    centre = cells.shape[2] // 2
    if task == 'rotation':
        values = np.stack([metrics.unwrap_angles(row) for row in values])
        return values - values[:, centre : centre + 1]
    return values / np.maximum(values[:, centre : centre + 1], 1e-6)


def gain(model: np.ndarray, exact: np.ndarray, references: np.ndarray) -> dict:
    """The numbers of one checkpoint: `model`, `exact` [rows, K] from `measured`, at `references` [K]."""
    slope = lambda rows: np.array([np.polyfit(references, r, 1)[0] for r in rows])  # noqa: E731
    per_row = slope(model) / np.where(np.abs(slope(exact)) > 1e-6, slope(exact), np.nan)
    return {
        'gain_median': float(np.nanmedian(per_row)),
        'gain_quartiles': [float(q) for q in np.nanpercentile(per_row, [25, 75])],
        'change_at_extremes': [float(model[:, 0].mean()), float(model[:, -1].mean())],
        'exact_change_at_extremes': [float(exact[:, 0].mean()), float(exact[:, -1].mean())],
    }


def main(argv: list[str]) -> int:
    from puppet_specks import checkpoint_cells, run_args

    from common import train
    from common.data import puppet_digits
    from common.report import write_result
    from puppet import judge, method

    args, name = run_args('puppet_gain.py', __doc__, 'a PuppetGAN workdir (rotation or size)', argv)
    config, _, _ = train.restore(args.run, method.make)
    task = config.data.task
    real, _ = puppet_digits.real('test', config.seed, config.data)
    real = np.asarray(real[: config.eval.num_rows])
    own = puppet_digits.real_scales('test', config.seed, len(real), config.data)
    unit = 'degrees' if task == 'rotation' else 'ratio to the centre reference'
    result: dict = {'run': name, 'task': task, 'steps': {}}
    lines = [f'# Gain of the manipulated attribute: {name} ({task})', '']
    lines += ["gain: per row, the slope of the output's measured attribute against the reference's,"]
    lines += ["over the exact manipulation's slope (1: the full change); median (quartiles)."]
    lines += [f'At the extremes: the mean change ({unit}) at the first / last reference, exact in brackets.', '']
    lines += ['| step | gain | at the extremes (exact) |', '|---|---|---|']
    for step in args.steps:
        cells, values = checkpoint_cells(args.run, step)
        exact = np.stack([judge.exact_manipulator(task, values, own)(real, None) for _ in range(len(cells))])
        row = gain(measured(cells, task), measured(exact, task), values)
        result['steps'][step] = row
        lo, hi = row['gain_quartiles']
        change = ' / '.join(f'{v:.2f}' for v in row['change_at_extremes'])
        ex = ' / '.join(f'{v:.2f}' for v in row['exact_change_at_extremes'])
        lines.append(f'| {step} | {row["gain_median"]:.2f} ({lo:.2f} to {hi:.2f}) | {change} ({ex}) |')
    result['references'] = [float(v) for v in values]
    print(write_result(args.out, f'puppet_gain_{name}', result, lines))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
