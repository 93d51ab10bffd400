"""Budget curves: every kept checkpoint of a finished RIFT run (`train.keep_every`) scored exactly
as its final evaluation, so a run that peaks early, collapses or is still rising shows.

    python -m rift.curves RUN [RUN ...] [--out=FIGURE.png]

Per checkpoint: ACC per direction and per factor, the WACV 2022 metrics as the authors compute
them (CP, SA, Q_trans, bias), ACC of the noisy translation, the guided cycle's L1 error and the
spread of A -> B outputs across sources for one guide (beside the exact translations' spread: a
collapse to one image shows as a spread near 0). Written to RUN/curve.json (steps already scored
are kept, only new ones are scored) and drawn to RUN/curve.png. `best` is the checkpoint with the
highest ACC against the renderer's ground truth (as the authors select theirs); the tables report
the last checkpoint and, labelled, the best.
"""

from __future__ import annotations

from typing import Any

from common import curves as budget


def point(result: dict[str, Any], step: int) -> dict[str, Any]:
    """The numbers of one checkpoint's evaluation that a budget curve draws."""
    name = result['translator']
    out = {
        **_scored(result[name], step),
        'cycle_l1': result['cycle_l1'],
        'source_spread': result['source_spread'],
        'spread_a2b': result['source_spread'][f'{name}_a2b'],
        'spread_exact_a2b': result['source_spread'].get('exact_a2b'),
    }
    if f'{name}_noisy' in result:
        out['acc_noisy'] = result[f'{name}_noisy']['acc']
    for ref in ('oracle', 'rand'):
        if ref in result:
            out[f'{ref}_acc'] = result[ref]['acc']
    return out


def _scored(row: dict[str, Any], step: int) -> dict[str, Any]:
    """ACC (per direction, per factor) and the WACV 2022 metrics of one row of an evaluation."""
    return {
        'step': int(step),
        'acc': row['acc'],
        'acc_a2b': row['a2b']['acc'],
        'acc_b2a': row['b2a']['acc'],
        'acc_per_factor': {d: row[d]['acc_per_factor'] for d in ('a2b', 'b2a')},
        'wacv2022': row['wacv2022'],
    }


def score_run(workdir: str) -> dict[str, Any]:
    """The budget curve of the RIFT run in `workdir` (`common.curves.score_run`, best by ACC)."""
    from rift import method

    return budget.score_run(workdir, method.make, 'rift', point)


def cyclegan_point(result: dict[str, Any], step: int) -> dict[str, Any]:
    """`point` of a CycleGAN checkpoint scored by the protocol (`experiments.cyclegan_scores`):
    unguided, so no noisy translation, cycle through a guide or exact spread."""
    return {
        **_scored(result['cyclegan'], step),
        'spread_a2b': result['source_spread']['cyclegan_a2b'],
        'spread_exact_a2b': None,
    }


def score_cyclegan_run(workdir: str, roles: str) -> dict[str, Any]:
    """The budget curve of a CycleGAN run on a RIFT world (every kept checkpoint by the protocol)."""
    from rift import experiments

    evaluate = lambda w, step: experiments.cyclegan_scores(w, roles, step=step)  # noqa: E731
    return budget.score_run(workdir, None, 'cyclegan', cyclegan_point, evaluate=evaluate)


def plot(curves: dict[str, dict], path: str) -> str:
    """Draw ACC per direction (with the oracle and RAND), CP / SA, and the A -> B spread per step."""
    import matplotlib.pyplot as plt

    from common import plots

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for label, curve in curves.items():
        pts = curve['points']
        steps = [p['step'] for p in pts]
        for d, style in (('a2b', '-'), ('b2a', '--')):
            axes[0].plot(steps, [p[f'acc_{d}'] for p in pts], style, marker='o', ms=3, label=f'{label} {d.upper()}')
        for key, short, style in (('content_preservation', 'CP', '-'), ('style_accuracy', 'SA', '--')):
            axes[1].plot(steps, [p['wacv2022'][key] for p in pts], style, marker='o', ms=3, label=f'{label} {short}')
        axes[2].plot(steps, [p['spread_a2b'] for p in pts], '-', marker='o', ms=3, label=label)
        if pts[0]['spread_exact_a2b'] is not None:
            axes[2].axhline(pts[0]['spread_exact_a2b'], color='gray', ls=':', lw=1)
    first = next(iter(curves.values()))['points'][0]
    for key, style in (('oracle_acc', ':'), ('rand_acc', '-.')):
        if key in first:
            axes[0].axhline(first[key], color='gray', ls=style, lw=1, label=key.split('_')[0])
    axes[0].set(title='ACC per direction', xlabel='step', ylim=(0, 1.02))
    axes[1].set(title='WACV 2022: content preservation, style accuracy', xlabel='step', ylim=(0, 1.02))
    axes[2].set(title='A->B spread across sources (exact: dotted)', xlabel='step')
    for ax in axes:
        ax.legend(fontsize=6)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return plots.save_figure(fig, path)


def compare(runs: dict[str, tuple[dict, int]], path: str, title: str) -> str:
    """One figure for a table's assignment: ACC, CP and SA of every run ({label: (curve, batch)})
    against the images it has seen (step x batch, so rows at different batch sizes line up), with
    RAND's ACC where a curve scored it."""
    import matplotlib.pyplot as plt

    from common import plots

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    keys = (('acc', 'ACC (mean of both directions)'), ('content_preservation', 'WACV 2022 CP'))
    keys += (('style_accuracy', 'WACV 2022 SA'),)
    rand = None
    for label, (curve, batch) in runs.items():
        pts = curve['points']
        images = [p['step'] * batch / 1000 for p in pts]
        for ax, (key, _) in zip(axes, keys, strict=True):
            values = [p['acc'] if key == 'acc' else p['wacv2022'][key] for p in pts]
            ax.plot(images, values, '-', marker='o', ms=2 if len(pts) > 1 else 6, label=f'{label} (batch {batch})')
        rand = rand if rand is not None else pts[0].get('rand_acc')
    if rand is not None:
        axes[0].axhline(rand, color='gray', ls='-.', lw=1, label='RAND')
    for ax, (_, name) in zip(axes, keys, strict=True):
        ax.set(title=name, xlabel='thousands of images seen', ylim=(0, 1.02))
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=6)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return plots.save_figure(fig, path)


def main(argv: list[str] | None = None) -> None:
    budget.main(argv, prog='python -m rift.curves', doc=__doc__, score=score_run, plot=plot)


if __name__ == '__main__':
    main()
