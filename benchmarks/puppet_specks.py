"""Do stray specks move PuppetGAN's size r_attr? Each kept checkpoint's size r_attr with the convex
hull of all ink (the protocol's estimator, `puppet.metrics.size`) beside the hull of the largest
connected ink component only, and the share of outputs with more than one component per reference.

    python benchmarks/puppet_specks.py RUN [--steps=2500,3000]

A speck beside a small output enlarges its convex hull as much as a larger digit would, so the
outputs of small references read as larger and r_attr falls. Writes
benchmarks/results/puppet_specks.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))


def largest_component(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(images [N, H, W, 1] with only the largest 8-connected ink component kept as ink (+1, the
    rest -1), [N] the number of other components each image had)."""
    from scipy import ndimage

    from puppet import metrics

    kept = np.full(images.shape[:3], -1.0, np.float32)
    others = np.zeros(len(images), int)
    for i, ink in enumerate(metrics._ink(images)):
        labels, count = ndimage.label(ink, structure=np.ones((3, 3)))
        if count:
            sizes = ndimage.sum(ink, labels, range(1, count + 1))
            kept[i][labels == 1 + int(np.argmax(sizes))] = 1.0
            others[i] = count - 1
    return kept[..., None], others


def specks(cells: np.ndarray, values: np.ndarray) -> dict:
    """The numbers of one grid `cells` [M, N, K, H, W, 1] drawn at reference sizes `values` [K]."""
    from puppet import metrics

    flat = cells.reshape(-1, *cells.shape[3:])
    cleaned, others = largest_component(flat)
    r_all = metrics.row_correlations(values, cells, metrics.size)
    r_big = metrics.row_correlations(values, cleaned.reshape(cells.shape), metrics.size)
    return {
        'r_attr_all_ink': float(np.mean(np.nan_to_num(r_all))),
        'r_attr_largest_component': float(np.mean(np.nan_to_num(r_big))),
        'share_with_specks': [float(v) for v in (others.reshape(cells.shape[:3]) > 0).mean(axis=(0, 1))],
    }


def checkpoint_cells(run: str, step: int) -> tuple[np.ndarray, np.ndarray]:
    """(the evaluation's attribute grid [M, N, K, ...] of `run` at `step`, the reference sizes)."""
    import jax

    from common import train
    from common.data import puppet_digits
    from puppet import method

    config, _, state = train.restore(run, method.make, step=step)
    real, _ = puppet_digits.real('test', config.seed, config.data)
    real = np.asarray(real[: config.eval.num_rows])
    sweeps = method.sweeps(config)
    manipulate = jax.jit(method.manipulator(state, config))
    return np.stack([np.asarray(manipulate(real, refs)) for refs in sweeps.attr]), np.asarray(sweeps.attr_values)


def run_args(script: str, doc: str, run_help: str, argv: list[str]) -> tuple[argparse.Namespace, str]:
    """(the flags of a probe of one run's kept checkpoints: RUN, --steps, --out; the run's name),
    a folder that is not a run workdir refused in one line."""
    from common.grid import int_list

    parser = argparse.ArgumentParser(prog=f'python benchmarks/{script}', description=doc.split('\n')[0])
    parser.add_argument('run', help=run_help)
    parser.add_argument('--steps', type=int_list, default=(2500, 3000), help='comma-separated kept checkpoints')
    parser.add_argument('--out', default=os.path.join(HERE, 'results'))
    args = parser.parse_args(argv)
    if not os.path.isdir(os.path.join(args.run, 'ckpt')):
        parser.error(f'{args.run}: not a run workdir (no ckpt/ in it)')
    return args, os.path.basename(os.path.normpath(args.run))


def main(argv: list[str]) -> int:
    from common.report import write_result

    args, name = run_args('puppet_specks.py', __doc__, 'a size-task PuppetGAN workdir', argv)
    result: dict = {'run': name, 'steps': {}}
    lines = [f'# Specks and the size estimator: {name}', '']
    lines += ['r_attr with the convex hull of all ink (the protocol) and of the largest ink component only;']
    lines += ['specks: the share of outputs with more than one ink component, per reference size.', '']
    values = None
    for step in args.steps:
        cells, values = checkpoint_cells(args.run, step)
        result['steps'][step] = row = specks(cells, values)
        if len(lines) == 5:
            lines += [
                '| step | r_attr (all ink) | r_attr (largest component) | specks at '
                + ' / '.join(f'{v:g}' for v in values)
                + ' |'
            ]
            lines += ['|---|---|---|---|']
        share = ' / '.join(f'{v:.2f}' for v in row['share_with_specks'])
        lines.append(f'| {step} | {row["r_attr_all_ink"]:.2f} | {row["r_attr_largest_component"]:.2f} | {share} |')
    result['reference_sizes'] = [float(v) for v in values]
    print(write_result(args.out, 'puppet_specks', result, lines))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
