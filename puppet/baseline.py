"""A CycleGAN between real and synthetic digits scored by PuppetGAN's protocol: its
"manipulation" of a real digit a by a reference b is the translation of b into the real domain
(it ignores a), judged by the same grids, judge and estimators as PuppetGAN (`puppet.metrics`),
at its newest checkpoint (`cyclegan_metrics`, cached in the run) and at every kept one
(`cyclegan_curve`, the budget curve). The rows of `python -m puppet.experiments`."""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from common import workdir as workdir_lib
from puppet import metrics


def cyclegan_metrics(workdir: str, task: str, *, quick: bool, step: int | None = None) -> dict[str, Any]:
    """The puppet metrics of a CycleGAN run: of its newest checkpoint (cached in its workdir as
    puppet_metrics.json, with its grid) or of the kept `step` (a budget curve's point)."""
    path = os.path.join(workdir, 'puppet_metrics.json')
    if step is None and os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    import jax

    from common import train
    from common.cyclegan import method as cyclegan_method
    from common.data import puppet_digits
    from puppet import judge as judges
    from puppet import method as puppet_method
    from puppet.config import get_config

    config, _, state = train.restore(workdir, cyclegan_method.make, step=step)
    to_real, _ = cyclegan_method.translators(state, config)
    to_real = jax.jit(to_real)
    pconfig = get_config('tiny' if quick else task)
    pconfig.data.task = task
    train_a, train_labels = puppet_digits.real('train', config.seed, config.data)
    test_a, test_labels = puppet_digits.real('test', config.seed, config.data)
    judge = judges.judge(
        train_a,
        train_labels,
        test_a,
        test_labels,
        steps=pconfig.eval.classifier_steps,
        seed=config.seed,
        augmented=pconfig.eval.judge == 'augmented',
    )
    n = pconfig.eval.num_rows

    def manipulate(real, refs):  # the translation of the reference, whatever the real digit
        return np.repeat(np.asarray(to_real(refs))[None], len(real), axis=0)

    sweeps = puppet_method.sweeps(pconfig)
    out = metrics.evaluate_manipulation(manipulate, test_a[:n], test_labels[:n], judge.predict, sweeps, task)
    out |= {'task': task, 'classifier_test_accuracy': judge.test_accuracy, 'judge': pconfig.eval.judge}
    own = puppet_digits.real_scales('test', config.seed, n, config.data)
    out['ceiling'] = judges.ceiling(test_a[:n], test_labels[:n], judge.predict, sweeps, task, own)
    if step is not None:
        return out
    with workdir_lib.owned(workdir):  # the run's folder: written only while holding its lock
        with open(path, 'w') as f:
            json.dump(out, f, indent=2)
        grid_path = os.path.join(workdir, 'manipulation.png')
        _plot_cyclegan_grid(manipulate, test_a[:8], sweeps.attr[0], grid_path, task)
        workdir_lib.record(workdir, path, grid_path)
    return out


def cyclegan_curve(workdir: str, task: str, *, quick: bool = False) -> dict[str, Any]:
    """The budget curve of a CycleGAN run between real and synthetic digits: every kept checkpoint
    scored by the same judge and estimators as PuppetGAN's (`cyclegan_metrics`, `puppet.curves`)."""
    from common import curves as budget
    from puppet import curves

    evaluate = lambda w, step: cyclegan_metrics(w, task, quick=quick, step=step)  # noqa: E731
    return budget.score_run(workdir, None, 'cyclegan', curves.point, evaluate=evaluate)


def _plot_cyclegan_grid(manipulate, real, refs, path: str, task: str) -> None:
    import matplotlib.pyplot as plt

    from common import plots

    cells = manipulate(real, refs)
    n, k = cells.shape[:2]
    fig, axes = plt.subplots(n + 1, k + 1, figsize=(0.75 * (k + 1), 0.75 * (n + 1)), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for j in range(k):
        plots.show_image(axes[0, j + 1], refs[j])
    for i in range(n):
        plots.show_image(axes[i + 1, 0], real[i])
        for j in range(k):
            plots.show_image(axes[i + 1, j + 1], cells[i, j])
    fig.suptitle(f'CycleGAN ({task}): the reference (top)\ntranslated; the real digit (left) unused', fontsize=7)
    plots.save_figure(fig, path)
