"""Budget curves of PuppetGAN runs: every kept checkpoint (`train.keep_every`) scored as the final
evaluation (Acc beside its ceiling, r_attr, r_rest, V_rest), so a run that peaks early or
collapses shows.

    python -m puppet.curves RUN [RUN ...]

Writes RUN/curve.json (steps already scored are kept) and RUN/curve.png.
"""

from __future__ import annotations

from typing import Any

from common import curves as budget

KEYS = ('acc', 'acc_central', 'r_attr', 'r_rest', 'r_rest_abs', 'v_rest_std01')


def point(result: dict[str, Any], step: int) -> dict[str, Any]:
    """The numbers of one checkpoint's evaluation that a curve draws (the ceiling's Acc beside)."""
    out = {'step': int(step), **{k: result[k] for k in KEYS}}
    out['ceiling_acc'] = result['ceiling']['acc']
    return out


def score_run(workdir: str) -> dict[str, Any]:
    """The budget curve of the PuppetGAN run in `workdir` (`common.curves.score_run`, best by Acc)."""
    from puppet import method

    return budget.score_run(workdir, method.make, 'puppet', point)


def plot(curves: dict[str, dict], path: str, title: str | None = None) -> str:
    """Acc (and its ceiling), r_attr and r_rest per step, one line per run."""
    import matplotlib.pyplot as plt

    from common import plots

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    for label, curve in curves.items():
        pts = curve['points']
        steps = [p['step'] for p in pts]
        axes[0].plot(steps, [p['acc'] for p in pts], marker='o', ms=3, label=label)
        axes[0].plot(steps, [p['ceiling_acc'] for p in pts], ':', color='gray', lw=1)
        axes[1].plot(steps, [p['r_attr'] for p in pts], marker='o', ms=3, label=label)
        axes[2].plot(steps, [p['r_rest'] for p in pts], marker='o', ms=3, label=label)
    axes[0].set(title='Acc (ceiling: dotted)', xlabel='step', ylim=(0, 1.02))
    axes[1].set(title='r_attr', xlabel='step', ylim=(-1.02, 1.02))
    axes[2].set(title='r_rest', xlabel='step', ylim=(-1.02, 1.02))
    for ax in axes:
        ax.legend(fontsize=6)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return plots.save_figure(fig, path)


def main(argv: list[str] | None = None) -> None:
    budget.main(argv, prog='python -m puppet.curves', doc=__doc__, score=score_run, plot=plot)


if __name__ == '__main__':
    main()
