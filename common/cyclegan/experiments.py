"""The self-defense experiment table: plain CycleGAN and the three defended variants on 3D shapes
image <-> segmentation, same budget and seeds, through run.py.

    python -m common.cyclegan.experiments [--seeds=0,1,2] [--recipe=reference|authors] [--root=...] [--rerun]
                                          [--more-seeds-for=default,guess] [--report-only]

Recipes (every variant of a table trains with the same one):
  reference  the configs as they are: lambda_A = lambda_B = 10, no identity loss, 3000 steps
             (runs/cyclegan-table; writes table.{json,md}, hidden_signal.png, tradeoff.png).
  authors    the authors' advice for a many-to-one pair, lambda_A = 1 < lambda_B = 2, the reference
             code's identity loss (0.5 x the cycle weights), 4x the steps (12000) with the accuracy
             curve every 250 steps on 64 test images; plus pix2pix, the supervised upper bound
             (runs/cyclegan-authors; writes the same files with the suffix _authors, and
             curves_authors.png: segmentation accuracy vs step for every run).

A finished run (results.json for the same config and step count) is reused unless --rerun; an
unfinished one resumes from its last checkpoint. --more-seeds-for restricts the seeds after the
first to some variants (the authors' recipe: every variant on seed 0, then plain CycleGAN and the
best defence on more seeds). --report-only writes the table of the grid's finished runs and trains
none (the table of a grid still in progress).

The table: segmentation accuracy and IoU against the exact ground truth, RH (both readings of the
quantisation where the runs have them), SN(2), SN(8), per seed and mean; each defended run against
plain CycleGAN on its seed, beside the seed's ratios. hidden_signal.png: per variant, an image,
its translation, the translation's hidden signal amplified x10, and the reconstructions from the
translation and from its quantized version.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

from common import grid
from common.cyclegan.tables import (
    KEYS,
    OPTIONAL_KEYS,
    VARIANTS,
    convergence_lines,
    summarize,
    with_upper_bound,
)
from common.report import write_result

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')
SEEDS = (0, 1, 2)
# recipe -> (the switches every run of it takes, whether pix2pix joins the table)
RECIPES = {
    'reference': ({}, False),
    'authors': (
        {
            'loss.cycle_a': 1,
            'loss.cycle_b': 2,
            'loss.identity': 0.5,
            'train.steps': 12000,
            'train.eval_every': 250,
            'train.checkpoint_every': 1000,
            'eval.batch_size': 64,
        },
        True,
    ),
}


def run(
    seeds=SEEDS,
    root: str | None = None,
    reuse: bool = True,
    recipe: str = 'reference',
    more_seeds_for=None,
    report_only: bool = False,
) -> dict:
    """Every variant x seed through the grid runner (the seeds after the first only for the
    variants in `more_seeds_for`, when given), then the table and the figures; with `report_only`,
    the table of the finished runs of the grid, training none."""
    switches, with_pix2pix = RECIPES[recipe]
    root = root or ('runs/cyclegan-table' if recipe == 'reference' else f'runs/cyclegan-{recipe}')
    suffix = '' if recipe == 'reference' else f'_{recipe}'
    # The reference table needs seeds 0-2; the authors' recipe is committed from seed 0 on (every
    # variant on seed 0 first, more seeds for plain and the best defence as time allows).
    full = set(SEEDS) <= set(seeds) if recipe == 'reference' else 0 in seeds
    variants = [v for v, _ in VARIANTS] + (['pix2pix'] if with_pix2pix else [])
    jobs = [
        grid.Job(
            f'{variant}-seed{seed}',
            'pix2pix' if variant == 'pix2pix' else 'cyclegan',
            variant,
            {'seed': seed, **switches},
        )
        for variant in variants
        for seed in seeds
        if seed == seeds[0] or more_seeds_for is None or variant in more_seeds_for
    ]

    def finished(job: grid.Job, workdir: str) -> bool:
        return reuse and grid.finished(job, workdir)

    if report_only:
        jobs = [job for job in jobs if grid.finished(job, os.path.join(root, job.name))]
        if not jobs:
            raise grid.NothingFinished(f'--report-only: no finished run of this grid under {root}; nothing was written')
    seconds: dict[str, float] = {}
    done = grid.run_jobs(jobs, root, reuse=finished, overwrite=True, seconds=seconds)
    out = grid.results_dir(OUT, 'cyclegan', full=full)
    os.makedirs(out, exist_ok=True)
    runtime = {name: seconds[name] if name in seconds else _recorded_runtime(os.path.join(root, name)) for name in done}
    if recipe != 'reference':
        # Its long runs resume across machines and sessions: a run's wall time is not one machine's.
        runtime = {name: None for name in done}
    keys = KEYS + tuple(k for k in OPTIONAL_KEYS if all(k in r for n, r in done.items() if r and 'rh' in r))
    per_seed = {
        name: {k: res[k] for k in keys} if res else 'failed' for name, res in done.items() if not name.startswith('pix')
    }
    first = grid.read_results(os.path.join(root, f'default-seed{seeds[0]}')) or {}
    chance = first.get('seg_accuracy_majority_class')
    result, lines = summarize(per_seed, runtime, seeds, chance)
    if with_pix2pix:
        result, lines = with_upper_bound(result, lines, {n: r for n, r in done.items() if n.startswith('pix')}, seeds)
        result['recipe'] = {'name': recipe, 'switches': grid.override_flags(switches)}
        curves = {name: _curve(os.path.join(root, name)) for name in done}
        result['curves'] = curves
        lines = lines[:2] + _recipe_lines(recipe, switches) + lines[2:] + convergence_lines(curves, seeds)
        _plot_curves(curves, seeds, os.path.join(out, f'curves{suffix}.png'))
    write_result(out, f'table{suffix}', result, lines)
    _plot_hidden(root, seeds[0], out, suffix)
    _plot_tradeoff(per_seed, seeds, chance, out, suffix)
    return result


def _recipe_lines(recipe: str, switches) -> list[str]:
    return [
        f'Recipe {recipe!r}: every run with {grid.flags_text(switches)}.',
        "Runtime is not shown: this recipe's long runs resume across sessions and machines, so a run's wall",
        "time is not one machine's.",
        '',
    ]


def _curve(workdir: str) -> dict[str, list[float]]:
    """The run's eval curve: segmentation accuracy on the eval batch vs step."""
    from common import plots

    series = plots.read_metrics(workdir).get('eval/seg_accuracy')
    return {'step': [int(x) for x in series[0]], 'seg_accuracy': [float(y) for y in series[1]]} if series else {}


def _plot_curves(curves: dict, seeds, path: str) -> None:
    """Segmentation accuracy vs step, one panel per seed, one line per variant."""
    from common import plots

    titles = dict(VARIANTS) | {'pix2pix': 'pix2pix (supervised)'}
    fig, axes = plots.plt.subplots(1, len(seeds), figsize=(5.2 * len(seeds), 3.6), squeeze=False)
    for ax, seed in zip(axes[0], seeds, strict=True):
        for i, (variant, title) in enumerate(titles.items()):
            curve = curves.get(f'{variant}-seed{seed}')
            if curve:
                ax.plot(curve['step'], curve['seg_accuracy'], lw=1.2, color=f'C{i}', label=title)
        ax.set_title(f'seed {seed}', fontsize=9)
        ax.set_xlabel('step')
        ax.set_ylabel('segmentation accuracy (64 test images)')
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    grid.wrote(plots.save_figure(fig, path))


def _recorded_runtime(workdir: str) -> float | None:
    """Wall seconds of a finished run: as the last table recorded it, else from its config (written first) to its
    results (written last); None when neither is known."""
    name = os.path.basename(os.path.normpath(workdir))
    try:
        recorded = json.load(open(os.path.join(OUT, 'table.json')))['runtime_s'].get(name)
    except (OSError, ValueError, KeyError):
        recorded = None
    if recorded is None:
        try:
            start, end = (os.path.getmtime(os.path.join(workdir, f)) for f in ('config.json', 'results.json'))
        except OSError:
            return None
        seconds = end - start
        recorded = round(seconds, 1) if seconds > 1.0 else None
    return recorded


def _plot_hidden(root: str, seed: int, out: str, suffix: str = '') -> None:
    from common import plots

    cols = ('a', 'seg', 'hidden', 'rec', 'rec_from_quantized')
    titles = ('image', 'G_B(image)', 'hidden signal x10', 'G_A(G_B(image))', 'G_A(quantized)')
    fig, axes = plots.plt.subplots(len(VARIANTS), 2 * len(cols), figsize=(2 * len(cols) * 1.3, len(VARIANTS) * 1.45))
    for r, (variant, title) in enumerate(VARIANTS):
        samples = plots.read_samples(os.path.join(root, f'{variant}-seed{seed}'))
        if not samples:
            continue
        last = dict(samples[-1][1])
        last['hidden'] = np.clip(10.0 * np.abs(last['seg'] - last['seg_quantized']), 0.0, 2.0) - 1.0
        for i in range(2):
            for c, (key, name) in enumerate(zip(cols, titles, strict=True)):
                plots.show_image(axes[r, i * len(cols) + c], last[key][i], name if r == 0 else None)
        axes[r, 0].set_ylabel(title, fontsize=8)
    grid.wrote(plots.save_figure(fig, os.path.join(out, f'hidden_signal{suffix}.png')))


def _plot_tradeoff(per_seed: dict, seeds, chance: float | None, out: str, suffix: str = '') -> None:
    """Each run as a point: segmentation accuracy against RH and against SN(8), one marker per
    variant, runs of the same seed joined to plain CycleGAN."""
    from common import plots

    fig, axes = plots.plt.subplots(1, 2, figsize=(9.6, 3.8))
    markers = dict(zip((v for v, _ in VARIANTS), 'osD^', strict=True))
    for ax, key, label in ((axes[0], 'rh', 'RH (0-255 scale)'), (axes[1], 'sn_8', 'SN(8)')):
        for s in seeds:
            plain = per_seed.get(f'default-seed{s}')
            for variant, _ in VARIANTS[1:]:
                row = per_seed.get(f'{variant}-seed{s}')
                if isinstance(plain, dict) and isinstance(row, dict):
                    ax.plot(
                        [plain['seg_accuracy'], row['seg_accuracy']], [plain[key], row[key]], c='0.8', lw=0.8, zorder=1
                    )
        for i, (variant, title) in enumerate(VARIANTS):
            rows = [per_seed.get(f'{variant}-seed{s}') for s in seeds]
            rows = [r for r in rows if isinstance(r, dict)]
            if rows:
                xs, ys = [r['seg_accuracy'] for r in rows], [r[key] for r in rows]
                ax.scatter(xs, ys, marker=markers[variant], s=40, color=f'C{i}', label=title, zorder=2)
        if chance is not None:
            ax.axvline(chance, c='0.5', ls=':', lw=1)
            ax.text(chance, ax.get_ylim()[1], ' majority class', fontsize=7, va='top', color='0.4')
        ax.set_xlabel('segmentation accuracy (higher is better)')
        ax.set_ylabel(f'{label} (lower is more honest)')
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f'Self-defense on 3D shapes, 32x32: every run (seeds {", ".join(map(str, seeds))}); grey: same seed')
    grid.wrote(plots.save_figure(fig, os.path.join(out, f'tradeoff{suffix}.png')))


RENDERER_INTRO = (
    '# The self-defense table on the closed-form renderer: seed 0 re-run',
    '',
    'Seed 0 of plain CycleGAN and of + guess + noise re-run on the closed-form renderer, against the',
    "committed table's seed 0 (first renderer) and its seed-to-seed range over seeds 0-2. Within:",
    '|new - old| is at most the range.',
)
GPU_INTRO = (
    "# The authors' recipe, seed 0 of plain CycleGAN trained again, mostly on a GPU",
    '',
    'The same config and seed, its first 11000 steps on one H200 (jax 0.11.2) and the last 1000 on the',
    "2 CPU cores, against the table's seed 0 (all on the CPU) and the table's seed-to-seed range over",
    'seeds 0-2: how far the hardware alone moves a run. Within: |new - old| is at most the range.',
)


def renderer_check(
    workdirs: dict[str, str], table_path: str = os.path.join(OUT, 'table.json'), intro=RENDERER_INTRO
) -> tuple[dict, list]:
    """New seed-0 runs against a committed table's seed-0 runs, beside the table's seed-to-seed
    spread (range over seeds 0-2). By default: the current renderer against the first,
    ray-marching one; with `intro=GPU_INTRO` and the authors' table: GPU against CPU.

    Args:
      workdirs: variant ('default', 'guess_noise', ...) -> the workdir of its new seed-0 run.
    """
    table = json.load(open(table_path))
    rows, lines = {}, []
    lines += [
        *intro,
        '',
        '| variant | metric | old seed 0 | new seed 0 | new - old | seed range (0-2) | within |',
        '| --- | --- | --- | --- | --- | --- | --- |',
    ]
    titles = dict(VARIANTS)
    for variant, workdir in workdirs.items():
        new = grid.read_results(workdir)
        if not new:
            lines.append(f'| {titles[variant]} | (not finished) | | | | | |')
            continue
        seeds = [table['per_seed'].get(f'{variant}-seed{s}') for s in table['seeds']]
        seeds = [r for r in seeds if isinstance(r, dict)]
        old = table['per_seed'][f'{variant}-seed0']
        rows[variant] = {}
        for key in KEYS:
            spread = max(r[key] for r in seeds) - min(r[key] for r in seeds)
            diff = new[key] - old[key]
            within = abs(diff) <= spread
            rows[variant][key] = {'old': old[key], 'new': new[key], 'range': spread, 'within': within}
            f = '.3f' if key.startswith('seg') else '.1f'
            lines.append(
                f'| {titles[variant]} | {key} | {old[key]:{f}} | {new[key]:{f}} | {diff:+{f}} | {spread:{f}} | '
                f'{"yes" if within else "no"} |'
            )
    return {'runs': workdirs, 'rows': rows}, lines


def _require_finished(parser: grid.OneLineParser, flag: str, workdirs) -> None:
    """One line and exit 2 unless every workdir holds a finished run: a committed check is written
    only from finished work."""
    for workdir in workdirs:
        if grid.read_results(workdir) is None:
            parser.error(f'{flag}: {workdir} holds no finished run (no results.json); nothing was written')


def _check_against_table(parser: grid.OneLineParser, args) -> int:
    """--renderer-check / --gpu-check: new seed-0 runs against a committed table, written only
    when every run named has finished."""
    if args.renderer_check:
        items = args.renderer_check.split(',')
        bad = [item for item in items if '=' not in item or not item.split('=', 1)[1]]
        if bad:
            parser.error(f'--renderer-check: {bad[0]!r} is not valid; give <variant>=<workdir>, comma-separated')
        workdirs = dict(item.split('=', 1) for item in items)
        unknown = sorted(set(workdirs) - {v for v, _ in VARIANTS})
        if unknown:
            parser.error(
                f'--renderer-check: {", ".join(unknown)} not valid; allowed: {", ".join(v for v, _ in VARIANTS)}'
            )
        _require_finished(parser, '--renderer-check', workdirs.values())
        result, lines = renderer_check(workdirs)
        print(write_result(grid.results_dir(OUT, 'cyclegan', full=True), 'renderer_check', result, lines))
        return 0
    if args.gpu_check:
        _require_finished(parser, '--gpu-check', [args.gpu_check])
        result, lines = renderer_check(
            {'default': args.gpu_check}, os.path.join(OUT, 'table_authors.json'), intro=GPU_INTRO
        )
        print(write_result(grid.results_dir(OUT, 'cyclegan', full=True), 'gpu_check_authors', result, lines))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = grid.OneLineParser(prog='python -m common.cyclegan.experiments')
    parser.add_argument('--seeds', default=SEEDS, type=grid.int_list, help='comma-separated seeds (default 0,1,2)')
    parser.add_argument('--recipe', default='reference', choices=tuple(RECIPES), help='the training recipe')
    parser.add_argument('--root', default=None, help='folder of the run workdirs (default runs/cyclegan-<recipe>)')
    parser.add_argument('--rerun', action='store_true', help='train again even where a finished run exists')
    parser.add_argument('--report-only', action='store_true', help='the table of the finished runs; train none')
    parser.add_argument(
        '--more-seeds-for', default='', help='variants that train on the seeds after the first (default: all)'
    )
    parser.add_argument(
        '--renderer-check',
        default='',
        help="'default=<workdir>,guess_noise=<workdir>': compare new seed-0 runs with the committed table's",
    )
    parser.add_argument(
        '--gpu-check',
        default='',
        help="<workdir>: a seed-0 plain CycleGAN run of the authors' recipe trained on a GPU, against the table's",
    )
    args = parser.parse_args(argv)
    if args.renderer_check or args.gpu_check:
        return _check_against_table(parser, args)
    more = None
    if args.more_seeds_for:
        more = args.more_seeds_for.split(',')
        allowed = [v for v, _ in VARIANTS] + ['pix2pix']
        unknown = sorted(set(more) - set(allowed))
        if unknown:
            parser.error(f'--more-seeds-for: {", ".join(unknown)} not valid; allowed: {", ".join(allowed)}')
    try:
        result = run(
            args.seeds,
            args.root,
            reuse=not args.rerun,
            recipe=args.recipe,
            more_seeds_for=more,
            report_only=args.report_only,
        )
    except grid.NothingFinished as e:
        parser.error(str(e))
    print(json.dumps(result['mean'], indent=2))
    return grid.exit_status()


if __name__ == '__main__':
    sys.exit(main())
