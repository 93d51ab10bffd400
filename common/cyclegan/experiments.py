"""The self-defense experiment table: plain CycleGAN and the three defended variants on 3D shapes
image <-> segmentation, same budget and seeds, through run.py.

    python -m common.cyclegan.experiments [--seeds=0,1,2] [--root=runs/cyclegan-table] [--rerun]

A finished run (results.json for the same config and step count) is reused unless --rerun.

Writes common/cyclegan/results/table.{json,md} (the seed's columns: segmentation accuracy and
IoU against the exact ground truth, RH, SN(2), SN(8); per seed and mean) and hidden_signal.png
(per variant: an image, its translation, the translation's hidden signal amplified x10, and the
reconstructions from the translation and from its quantized version).
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

from common import grid
from common.report import table_rows, write_result

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')
VARIANTS = (('default', 'CycleGAN'), ('noise', '+ noise'), ('guess', '+ guess'), ('guess_noise', '+ guess + noise'))
SEEDS = (0, 1, 2)
KEYS = ('seg_accuracy', 'seg_miou', 'rh', 'sn_2', 'sn_8', 'reconstruction_l2')


def run(seeds=SEEDS, root: str = 'runs/cyclegan-table', reuse: bool = True) -> dict:
    """Every variant x seed through the grid runner, then the table and the figures."""
    out = grid.results_dir(OUT, 'cyclegan', full=set(SEEDS) <= set(seeds))
    jobs = [
        grid.Job(f'{variant}-seed{seed}', f'common/cyclegan/config.py:{variant}', (f'--config.seed={seed}',))
        for variant, _ in VARIANTS
        for seed in seeds
    ]

    def finished(job: grid.Job, workdir: str) -> bool:
        variant, seed = job.name.rsplit('-seed', 1)
        return reuse and _finished(workdir, variant, int(seed))

    seconds: dict[str, float] = {}
    done = grid.run_jobs(jobs, root, reuse=finished, overwrite=True, seconds=seconds)
    runtime = {name: seconds[name] if name in seconds else _recorded_runtime(os.path.join(root, name)) for name in done}
    per_seed = {name: {k: res[k] for k in KEYS} if res else 'failed' for name, res in done.items()}
    first = grid.read_results(os.path.join(root, f'default-seed{seeds[0]}')) or {}
    chance = first.get('seg_accuracy_majority_class')
    result, lines = summarize(per_seed, runtime, seeds, chance)
    write_result(out, 'table', result, lines)
    _plot_hidden(root, seeds[0], out)
    _plot_tradeoff(per_seed, seeds, chance, out)
    return result


def summarize(per_seed: dict, runtime: dict, seeds, chance: float | None) -> tuple[dict, list[str]]:
    """(numbers, markdown lines): the mean and sample sd over seeds of each variant, each run, and
    each defended run against plain CycleGAN on the same seed (RH and SN as ratios, accuracy as a
    difference), since seed-to-seed variance is as large as some of the effects."""
    ok = {name: row for name, row in per_seed.items() if isinstance(row, dict)}
    mean, sd, paired = {}, {}, {}
    for variant, _ in VARIANTS:
        rows = [ok[f'{variant}-seed{s}'] for s in seeds if f'{variant}-seed{s}' in ok]
        mean[variant] = {k: float(np.mean([r[k] for r in rows])) for k in KEYS} if rows else 'failed'
        sd[variant] = {k: float(np.std([r[k] for r in rows], ddof=1)) for k in KEYS} if len(rows) > 1 else None
        both = [s for s in seeds if f'{variant}-seed{s}' in ok and f'default-seed{s}' in ok]
        pairs = [(ok[f'{variant}-seed{s}'], ok[f'default-seed{s}']) for s in both]
        if variant != 'default' and pairs:
            paired[variant] = {
                'seg_accuracy_change': [r['seg_accuracy'] - p['seg_accuracy'] for r, p in pairs],
                **{f'{k}_ratio': [r[k] / p[k] for r, p in pairs] for k in ('rh', 'sn_2', 'sn_8')},
            }
    result = {
        'seeds': list(seeds),
        'per_seed': per_seed,
        'mean': mean,
        'sd': sd,
        'paired_with_plain': paired,
        'runtime_s': runtime,
        'majority_class_accuracy': chance,
    }
    titles = dict(VARIANTS)
    lines = [
        f'# Self-defense on 3D shapes image <-> segmentation (32x32), seeds {", ".join(map(str, seeds))}',
        '',
        'Segmentation accuracy / mean IoU of G_B(image) against the exact ground truth; RH and SN on the',
        f'0-255 scale (sigma = 2 and 8 levels). Majority-class accuracy: {_fmt(chance, ".3f")}.',
        '',
        f'Mean +- sample sd over {len(seeds)} seed(s):',
        '',
        '| variant | seg accuracy | seg mIoU | RH | SN(2) | SN(8) | reconstruction L2 | runtime (s) |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ]
    formats = [('seg_accuracy', '.3f'), ('seg_miou', '.3f'), ('rh', '.0f'), ('sn_2', '.0f'), ('sn_8', '.0f')]
    formats.append(('reconstruction_l2', '.0f'))
    cells = {}
    for variant, title in VARIANTS:
        if not isinstance(mean[variant], dict):
            cells[title] = 'failed'
            continue
        spread = sd[variant] or {}
        cells[title] = {k: f'{mean[variant][k]:{f}}' + (f' +- {spread[k]:{f}}' if spread else '') for k, f in formats}
        known = [runtime[f'{variant}-seed{s}'] for s in seeds if runtime.get(f'{variant}-seed{s}') is not None]
        cells[title]['runtime'] = _fmt(float(np.mean(known)) if known else None, '.0f')
    lines += table_rows(cells, [(k, '') for k, _ in formats] + [('runtime', '')])
    lines += [
        '',
        'Each defended run against plain CycleGAN on the same seed (per seed, then the mean):',
        '',
        '| variant | accuracy change | RH ratio | SN(2) ratio | SN(8) ratio |',
        '| --- | --- | --- | --- | --- |',
    ]
    paired_cells = {}
    for variant, values in paired.items():
        paired_cells[titles[variant]] = {
            k: ' / '.join(f'{v:{f}}' for v in values[k]) + f' (mean {np.mean(values[k]):{f}})'
            for k, f in (
                ('seg_accuracy_change', '+.3f'),
                ('rh_ratio', '.2f'),
                ('sn_2_ratio', '.2f'),
                ('sn_8_ratio', '.2f'),
            )
        }
    lines += table_rows(
        paired_cells, [(k, '') for k in ('seg_accuracy_change', 'rh_ratio', 'sn_2_ratio', 'sn_8_ratio')]
    )
    lines += [
        '',
        'Every run:',
        '',
        '| run | seg accuracy | seg mIoU | RH | SN(2) | SN(8) | reconstruction L2 | runtime (s) |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ]
    runs = {}
    for variant, title in VARIANTS:
        for s in seeds:
            name = f'{variant}-seed{s}'
            row = per_seed.get(name, 'failed')
            runs[f'{title}, seed {s}'] = {**row, 'runtime': runtime.get(name)} if isinstance(row, dict) else 'failed'
    lines += table_rows(
        {k: {**v, 'runtime': _fmt(v['runtime'], '.0f')} if isinstance(v, dict) else v for k, v in runs.items()},
        [(k, f.replace('.0f', '.1f')) for k, f in formats] + [('runtime', '')],
    )
    return result, lines


def _fmt(value: float | None, spec: str) -> str:
    return 'n/a' if value is None else format(value, spec)


def _finished(workdir: str, variant: str, seed: int) -> bool:
    """Whether `workdir` holds a finished run of this variant and seed with the current config."""
    from common.cyclegan import config as cyclegan_config

    try:
        done = json.load(open(os.path.join(workdir, 'results.json')))
        recorded = json.load(open(os.path.join(workdir, 'config.json')))
    except (OSError, ValueError):
        return False
    expected = cyclegan_config.get_config(variant)
    expected.seed = seed
    return done.get('steps') == expected.train.steps and _same(recorded, json.loads(expected.to_json()))


def _same(recorded: dict, expected: dict) -> bool:
    """Equal configs, where a field added after the run was recorded counts as its default."""
    for key, value in expected.items():
        if key not in recorded:
            continue
        if isinstance(value, dict) != isinstance(recorded[key], dict):
            return False
        equal = _same(recorded[key], value) if isinstance(value, dict) else recorded[key] == value
        if not equal:
            return False
    return set(recorded) <= set(expected)


def _recorded_runtime(workdir: str) -> float | None:
    """Wall seconds of a finished run: as the last table recorded it, else from its config (written first) to its
    results (written last); None when neither is known."""
    name = os.path.basename(os.path.normpath(workdir))
    try:
        recorded = json.load(open(os.path.join(OUT, 'table.json')))['runtime_s'].get(name)
    except (OSError, ValueError, KeyError):
        recorded = None
    if recorded is None:
        start, end = (os.path.getmtime(os.path.join(workdir, f)) for f in ('config.json', 'results.json'))
        seconds = end - start
        recorded = round(seconds, 1) if seconds > 1.0 else None
    return recorded


def _plot_hidden(root: str, seed: int, out: str) -> None:
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
                ax = axes[r, i * len(cols) + c]
                ax.imshow(np.clip((last[key][i] + 1.0) / 2.0, 0.0, 1.0), interpolation='nearest')
                ax.set_xticks([])
                ax.set_yticks([])
                if r == 0:
                    ax.set_title(name, fontsize=7)
        axes[r, 0].set_ylabel(title, fontsize=8)
    grid.wrote(plots.save_figure(fig, os.path.join(out, 'hidden_signal.png')))


def _plot_tradeoff(per_seed: dict, seeds, chance: float | None, out: str) -> None:
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
    grid.wrote(plots.save_figure(fig, os.path.join(out, 'tradeoff.png')))


def main(argv: list[str] | None = None) -> int:
    parser = grid.OneLineParser(prog='python -m common.cyclegan.experiments')
    parser.add_argument('--seeds', default=SEEDS, type=grid.int_list, help='comma-separated seeds (default 0,1,2)')
    parser.add_argument('--root', default='runs/cyclegan-table', help='folder of the run workdirs')
    parser.add_argument('--rerun', action='store_true', help='train again even where a finished run exists')
    args = parser.parse_args(argv)
    result = run(args.seeds, args.root, reuse=not args.rerun)
    print(json.dumps(result['mean'], indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
