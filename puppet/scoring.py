"""Score attribute manipulations of real digits made anywhere with PuppetGAN's protocol: the
committed augmented judge (`puppet/judge_32px.msgpack`) and the rotation / size estimators.

    python -m puppet.metrics --write-grid=GRID [--task=rotation] [--num-rows=32] [--num-refs=9] [--num-rests=4]
    python -m puppet.metrics --grid=GRID --outputs=OUT [--save=scores.json]

`--write-grid` writes into a new or empty folder what a model must manipulate, and the exact answer:

    GRID/grid.json                    task, the references' values, the real digits' classes
    GRID/real/0000.png ...            held-out real MNIST digits (white ink on black, 32 px)
    GRID/attr/m0_k0.png ...           sweep m of synthetic references, the attribute at value k
    GRID/other/m0_k0.png ...          the same rests with the *other* attribute swept (r_rest, ideal 0)
    GRID/exact/attr/0000__m0_k0.png   the exact manipulation (real digit n turned / scaled to value k):
    GRID/exact/other/0000__m0_k0.png  the protocol's ceiling

A model writes OUT/attr/<n>__m<m>_k<k>.png = its real digit n given reference attr/m<m>_k<k>'s
attribute, and OUT/other/ likewise; that is what `python -m puppet.apply RUN --real=GRID/real
--references=GRID/attr --out=OUT/attr` writes for a run of this codebase. The score: Acc (the
judge keeps each cell's class), over the central references and per reference, r_attr, r_rest,
V_rest (`puppet.metrics.score_cells`), beside the same numbers of GRID/exact (the ceiling). A
missing, extra, unreadable or non-square image is one line naming it.

A runner module (it reads the real digits through the data module); `python -m puppet.metrics`
runs its `main`.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

from common import grid, images
from common.errors import ConfigError
from puppet import judge, metrics

HERE = os.path.dirname(os.path.abspath(__file__))
JUDGE = os.path.join(HERE, 'judge_32px.msgpack')
SIZE = 32
SWEEPS = ('attr', 'other')


def _ref(m: int, k: int) -> str:
    return f'm{m}_k{k}'


def _cell(n: int, m: int, k: int) -> str:
    return f'{n:04d}__{_ref(m, k)}.png'


def write_grid(out: str, *, task: str = 'rotation', num_rows: int = 32, num_refs: int = 9, num_rests: int = 4) -> str:
    """Write the evaluation grid of `task` into `out` (layout above); its grid.json."""
    from common.data import puppet_digits

    if task not in metrics.TASKS:
        raise ConfigError(f'--task={task!r} is not valid; allowed: {", ".join(map(repr, metrics.TASKS))}')
    for flag, value, low in (('--num-rows', num_rows, 1), ('--num-refs', num_refs, 2), ('--num-rests', num_rests, 1)):
        if value < low:
            raise ConfigError(f'{flag}={value} is not valid; allowed: an integer >= {low}')
    images.output_folder(out, '--write-grid', create=False)
    real, labels = puppet_digits.real('test', 0)
    real, labels = real[:num_rows], labels[:num_rows]
    sweeps = metrics.reference_sweeps(
        task, num_refs=num_refs, num_rests=num_rests, max_angle=judge.MAX_ANGLE, min_scale=judge.MIN_SCALE
    )
    exact = {
        'attr': [judge.exact_manipulator(task, sweeps.attr_values)(real, None)] * num_rests,
        'other': [judge.exact_manipulator(task, np.full(num_refs, v))(real, None) for v in sweeps.rest_attr],
    }
    images.output_folder(out, '--write-grid')
    for sub in ('real', *SWEEPS, *(f'exact/{s}' for s in SWEEPS)):
        os.makedirs(os.path.join(out, sub))
    for n, x in enumerate(real):
        images.save_png(os.path.join(out, 'real', f'{n:04d}.png'), x)
    for sweep in SWEEPS:
        refs = getattr(sweeps, sweep)
        for m in range(num_rests):
            for k in range(num_refs):
                images.save_png(os.path.join(out, sweep, _ref(m, k) + '.png'), refs[m, k])
                for n in range(len(real)):
                    images.save_png(os.path.join(out, 'exact', sweep, _cell(n, m, k)), exact[sweep][m][n, k])
    meta = {
        'task': task,
        'num_rows': len(real),
        'num_refs': num_refs,
        'num_rests': num_rests,
        'labels': np.asarray(labels).tolist(),
        'attr_values': np.asarray(sweeps.attr_values).tolist(),
        'other_values': np.asarray(sweeps.other_values).tolist(),
        'rest_attr': np.asarray(sweeps.rest_attr).tolist(),
    }
    path = os.path.join(out, 'grid.json')
    with open(path, 'w') as f:
        json.dump(meta, f)
    return path


def read_grid(folder: str) -> dict:
    try:
        with open(os.path.join(folder, 'grid.json')) as f:
            meta = json.load(f)
        meta['task'], meta['num_rows'], meta['num_refs'], meta['num_rests'], meta['labels']  # noqa: B018
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(
            f'--grid={folder} holds no readable grid.json; write one with python -m puppet.metrics --write-grid'
        ) from None
    return meta


def read_cells(folder: str, meta: dict) -> np.ndarray:
    """[M, N, K, 32, 32, 1] from folder/<n>__m<m>_k<k>.png exactly (a missing, extra or
    non-square one named)."""
    m, n, k = meta['num_rests'], meta['num_rows'], meta['num_refs']
    wanted = [_cell(i, a, b) for a in range(m) for i in range(n) for b in range(k)]
    expected = f'<n>__m<m>_k<k>.png for n < {n}, m < {m}, k < {k}'
    cells = images.read_exactly(folder, wanted, SIZE, 1, flag='--outputs', expected=expected)
    return cells.reshape(m, n, k, SIZE, SIZE, 1)


def score_folder(grid_dir: str, outputs_dir: str, *, predict=None) -> dict:
    """The protocol's numbers of OUT's manipulations, beside the exact manipulation's (`ceiling`)."""
    meta = read_grid(grid_dir)
    if predict is None:
        from common import classifier

        predict = classifier.load(JUDGE, classifier.LeNet(), np.zeros((1, SIZE, SIZE, 1), np.float32))
    real = images.load_all([os.path.join(grid_dir, 'real', f'{n:04d}.png') for n in range(meta['num_rows'])], SIZE, 1)
    sweeps = metrics.Sweeps(
        None, np.asarray(meta['attr_values']), None, np.asarray(meta['other_values']), np.asarray(meta['rest_attr'])
    )
    labels = np.asarray(meta['labels'])

    def score(folder):
        cells, others = (read_cells(os.path.join(folder, s), meta) for s in SWEEPS)
        return metrics.score_cells(cells, others, real, labels, predict, sweeps, meta['task'])

    return {'task': meta['task'], 'model': score(outputs_dir), 'ceiling': score(os.path.join(grid_dir, 'exact'))}


def main(argv: list[str] | None = None) -> int:
    parser = grid.OneLineParser(prog='python -m puppet.metrics', description=__doc__.split('\n')[0])
    parser.add_argument('--write-grid', default=None, help='write the evaluation grid into this new or empty folder')
    parser.add_argument('--task', default='rotation', help="'rotation' or 'size'")
    parser.add_argument('--num-rows', type=int, default=32, help='held-out real digits')
    parser.add_argument('--num-refs', type=int, default=9, help='references per sweep')
    parser.add_argument('--num-rests', type=int, default=4, help='sweeps (V_rest is their spread)')
    parser.add_argument('--grid', default=None, help='a folder written by --write-grid')
    parser.add_argument('--outputs', default=None, help='a folder holding attr/ and other/ manipulations')
    parser.add_argument('--save', default=None, help='also write the scores to this new JSON file')
    args = parser.parse_args(argv)
    try:
        if args.write_grid is not None:
            path = write_grid(
                args.write_grid,
                task=args.task,
                num_rows=args.num_rows,
                num_refs=args.num_refs,
                num_rests=args.num_rests,
            )
            print(f'wrote the {args.task} grid and its exact manipulation; {path}')
            return 0
        if args.grid is None or args.outputs is None:
            parser.error('give --write-grid=DIR, or --grid=DIR and --outputs=DIR')
        images.check_new_file(args.save, '--save')
        result = score_folder(args.grid, args.outputs)
    except ConfigError as e:
        parser.error(str(e))
    keys = ('acc', 'acc_central', 'acc_true_label', 'r_attr', 'r_rest', 'r_rest_abs', 'v_rest_var')
    print(f'{result["task"]}: ' + ' | '.join(keys))
    for row in ('model', 'ceiling'):
        print(f'  {row}: ' + ' | '.join(f'{result[row][k]:.3f}' for k in keys))
    images.save_json(args.save, result)
    return 0


if __name__ == '__main__':
    sys.exit(main())
