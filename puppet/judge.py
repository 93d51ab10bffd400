"""The judge of PuppetGAN's Acc, trained so that it can see a rotated or resized digit, and the
ceilings it allows: the Acc, r_attr and r_rest of the *exact* manipulation of the same real digits.

    python -m puppet.judge [--steps=3000] [--seed=0]

A LeNet (`common.classifier`) trained on real training digits only upright cannot tell a perfectly
rotated 7 from a 1: it keeps the class of an exact +-45 degree rotation in about three cells of
four. The judge here trains on each training digit as it is and under the task's augmentation
(`AUGMENT` copies each: a rotation uniform in +-45 degrees and a scale uniform in [0.5, 1], both
about the ink's centre of mass, `common.synth.geometry`). Every run trains its own judge with
this recipe on its own split (`judge`); this command trains seed 0's and writes, to
puppet/results/judge.json / .md:

* its held-out accuracy on the real test digits as they are and under the augmentation;
* the ceilings, per task: the protocol's four numbers (`puppet.metrics.evaluate_manipulation`)
  of the exact manipulation (the real digit turned by the reference's angle, or scaled to the
  reference's scale), per reference value and over all, with the Acc over the central references,
  and the same under the upright-only judge (what the old numbers were judged by);
* the estimators validated on real digits: per-row r of the exact sweeps (median, worst).

The manipulation's target: the real digit with the reference's attribute, not the reference's
added to its own (the demonstrations' b_both takes b_attr's angle or scale and drops b_rest's).
A real digit's own angle is 0 (MNIST digits are written upright; their slant, like an oblique
font's, belongs to the rest) and its own scale 1 (MNIST fits every digit to one box), or the
factor the varied-size setting rescaled it by: so the exact answer turns the digit by the
reference's angle, or scales it by reference / own scale.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

AUGMENT = 3  # augmented copies of each training digit beside the digit itself
MAX_ANGLE, MIN_SCALE = 45.0, 0.5
HERE = os.path.dirname(os.path.abspath(__file__))


def augment(images: np.ndarray, labels: np.ndarray, seed: int, copies: int = AUGMENT) -> tuple[np.ndarray, np.ndarray]:
    """The digits and `copies` augmented versions of each (rotation and scale drawn per copy)."""
    from common.synth import geometry

    rng = np.random.default_rng([seed, 4545])
    out, out_labels = [images], [labels]
    for _ in range(copies):
        angles = rng.uniform(-MAX_ANGLE, MAX_ANGLE, len(images))
        scales = rng.uniform(MIN_SCALE, 1.0, len(images))
        out.append(geometry.rescale(geometry.rotate(images, angles), scales))
        out_labels.append(labels)
    return np.concatenate(out), np.concatenate(out_labels)


_TRAINED: dict[str, Any] = {}  # judges trained in this process, by their inputs (a budget curve asks often)


def judge(train_a, train_labels, test_a, test_labels, *, steps: int, seed: int, augmented: bool = True):
    """The digit classifier that judges Acc: trained on the real training digits (with `augmented`,
    under the task's augmentation as well). Returns `common.classifier.Classifier`; the same inputs
    give the same judge, trained once per process."""
    import hashlib

    from common.classifier import train_classifier

    digest = hashlib.sha1()
    for array in (train_a, train_labels, test_a, test_labels):
        digest.update(np.ascontiguousarray(array).tobytes())
    key = f'{digest.hexdigest()}-{steps}-{seed}-{augmented}'
    if key not in _TRAINED:
        x, y = augment(train_a, train_labels, seed) if augmented else (train_a, train_labels)
        _TRAINED[key] = train_classifier(x, y, test_a, test_labels, steps=steps, seed=seed)
    return _TRAINED[key]


def exact_manipulator(task: str, values: np.ndarray, own_scale: np.ndarray | None = None):
    """`manipulate(real, refs) -> [N, K, ...]` of the exact manipulation to the K reference
    `values` (the refs' images are not read: their attribute is known): every digit given the
    reference's attribute, turned by its angle (an upright digit at angle 0) or scaled by
    value / own scale (`own_scale` [N]: each digit's own, 1 for MNIST as it is)."""
    from common.synth import geometry

    def manipulate(real: np.ndarray, refs: np.ndarray) -> np.ndarray:
        del refs
        n, k = len(real), len(values)
        tiled = np.repeat(real, k, axis=0)
        per = np.tile(values, n)
        if task == 'rotation':
            return geometry.rotate(tiled, per).reshape(n, k, *real.shape[1:])
        own = np.ones(n, np.float32) if own_scale is None else np.asarray(own_scale, np.float32)
        return geometry.rescale(tiled, per / np.repeat(own, k)).reshape(n, k, *real.shape[1:])

    return manipulate


def ceiling(real, labels, predict, sweeps, task: str, own_scale: np.ndarray | None = None) -> dict[str, Any]:
    """The protocol's numbers of the exact manipulation of `real`, per reference value as well:
    in the `attr` sweeps every cell is given its reference's value; in the `other` sweeps (the
    manipulated attribute held at each rest's own value) that value (`own_scale`: the digits' own
    scales, see `exact_manipulator`)."""
    from puppet import metrics

    values = np.asarray(sweeps.attr_values)
    exact_attr = exact_manipulator(task, values, own_scale)
    cells = np.repeat(exact_attr(real, None)[None], len(sweeps.attr), axis=0)  # every rest: the same exact grid
    others = np.stack(
        [exact_manipulator(task, np.full(len(sweeps.other_values), v), own_scale)(real, None) for v in sweeps.rest_attr]
    )
    return metrics.score_cells(cells, others, real, labels, predict, sweeps, task)


def estimator_validation(real: np.ndarray, num_refs: int = 9) -> dict[str, Any]:
    """Per-row Pearson r of each estimator over exact sweeps of real digits (median, worst, mean)."""
    from puppet import metrics

    out = {}
    for task, values in (
        ('rotation', np.linspace(-MAX_ANGLE, MAX_ANGLE, num_refs)),
        ('size', np.linspace(MIN_SCALE, 1.0, num_refs)),
    ):
        cells = exact_manipulator(task, values)(real, None)
        rs = np.nan_to_num(
            metrics.row_correlations(values, cells[None], metrics.ESTIMATORS[task], unwrap=task == 'rotation')
        )
        out[task] = {'median_r': float(np.median(rs)), 'worst_r': float(np.min(rs)), 'mean_r': float(np.mean(rs))}
        if task == 'rotation':
            wrapped = np.nan_to_num(metrics.row_correlations(values, cells[None], metrics.ESTIMATORS[task]))
            out[task]['mean_r_without_unwrap'] = float(np.mean(wrapped))
            out[task]['negative_rows_without_unwrap'] = int(np.sum(wrapped < 0))
        out[task]['rows'] = len(rs)
    return out


def main(argv: list[str] | None = None) -> None:
    from common import grid
    from common.data import puppet_digits
    from common.report import write_result
    from puppet import metrics
    from puppet.config import get_config

    parser = grid.OneLineParser(prog='python -m puppet.judge', description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, default=3000)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--rows', type=int, default=32, help='held-out real digits per grid')
    args = parser.parse_args(argv)
    train_a, train_labels = puppet_digits.real('train', args.seed)
    test_a, test_labels = puppet_digits.real('test', args.seed)
    judges = {
        name: judge(train_a, train_labels, test_a, test_labels, steps=args.steps, seed=args.seed, augmented=aug)
        for name, aug in (('augmented', True), ('upright', False))
    }
    aug_x, aug_y = augment(test_a, test_labels, args.seed + 1, copies=1)
    result: dict[str, Any] = {'steps': args.steps, 'seed': args.seed, 'augment_copies': AUGMENT, 'judges': {}}
    lines = ["# The judge of PuppetGAN's Acc and the ceilings of the exact manipulation", '']
    lines += ['| judge | held-out | held-out, augmented | task | ceiling Acc | central Acc | r_attr | r_rest |']
    lines += ['|---|---|---|---|---|---|---|---|']
    real, labels = test_a[: args.rows], test_labels[: args.rows]
    for name, j in judges.items():
        augmented_acc = float(np.mean(j.predict(aug_x[len(test_a) :]) == aug_y[len(test_a) :]))
        entry = {'held_out_accuracy': j.test_accuracy, 'held_out_augmented_accuracy': augmented_acc, 'ceilings': {}}
        for task in ('rotation', 'size'):
            config = get_config(task)
            sweeps = metrics.reference_sweeps(
                task,
                num_refs=config.eval.num_refs,
                num_rests=config.eval.num_rests,
                max_angle=float(config.data.max_angle),
                min_scale=float(config.data.min_scale),
            )
            c = ceiling(real, labels, j.predict, sweeps, task)
            entry['ceilings'][task] = c
            lines.append(
                f'| {name} | {j.test_accuracy:.3f} | {augmented_acc:.3f} | {task} | {c["acc"]:.3f} | '
                f'{c["acc_central"]:.3f} | {c["r_attr"]:.2f} | {c["r_rest"]:.2f} |'
            )
        result['judges'][name] = entry
    result['estimators_on_real_digits'] = validation = estimator_validation(test_a[:64])
    lines += ['', 'Estimators on exact sweeps of 64 held-out real digits (per-row Pearson r):', '']
    for task, v in validation.items():
        lines.append(f'* {task}: median {v["median_r"]:.3f}, worst {v["worst_r"]:.3f}, mean {v["mean_r"]:.3f}')
    from common import classifier

    classifier.save(grid.wrote(os.path.join(HERE, 'judge_32px.msgpack')), judges['augmented'])
    print(write_result(os.path.join(HERE, 'results'), 'judge', result, lines))


if __name__ == '__main__':
    sys.exit(main())
