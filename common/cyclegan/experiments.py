"""The self-defense experiment table: plain CycleGAN and the three defended variants on 3D shapes
image <-> segmentation, same budget and seeds, through run.py.

    python -m common.cyclegan.experiments [--seeds=0] [--root=runs/cyclegan-table] [--rerun]

A finished run (results.json for the same config and step count) is reused unless --rerun.

Writes common/cyclegan/results/table.{json,md} (the seed's columns: segmentation accuracy and
IoU against the exact ground truth, RH, SN(2), SN(8); per seed and mean) and hidden_signal.png
(per variant: an image, its translation, the translation's hidden signal amplified x10, and the
reconstructions from the translation and from its quantized version).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

from common.report import table_rows, write_result

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')
VARIANTS = (('default', 'CycleGAN'), ('noise', '+ noise'), ('guess', '+ guess'), ('guess_noise', '+ guess + noise'))
KEYS = ('seg_accuracy', 'seg_miou', 'rh', 'sn_2', 'sn_8', 'reconstruction_l2')


def run(seeds=(0,), root: str = 'runs/cyclegan-table', reuse: bool = True) -> dict:
    per_seed, runtime = {}, {}
    for variant, _ in VARIANTS:
        for seed in seeds:
            workdir = os.path.join(root, f'{variant}-seed{seed}')
            path = os.path.join(workdir, 'results.json')
            if reuse and _finished(workdir, variant, seed):
                print(f'{variant}-seed{seed}: reusing {path}', flush=True)
                runtime[f'{variant}-seed{seed}'] = _recorded_runtime(workdir)
            else:
                t0 = time.time()
                cmd = [
                    sys.executable,
                    'run.py',
                    f'--config=common/cyclegan/config.py:{variant}',
                    f'--config.seed={seed}',
                ]
                subprocess.run([*cmd, f'--workdir={workdir}', '--overwrite'], capture_output=True, text=True)
                runtime[f'{variant}-seed{seed}'] = round(time.time() - t0, 1)
                print(f'{variant}-seed{seed}: {runtime[f"{variant}-seed{seed}"]} s', flush=True)
            res = json.load(open(path)) if os.path.exists(path) else None
            per_seed[f'{variant}-seed{seed}'] = {k: res[k] for k in KEYS} if res else 'failed'
    mean = {}
    for variant, _ in VARIANTS:
        rows = [per_seed[f'{variant}-seed{s}'] for s in seeds if isinstance(per_seed[f'{variant}-seed{s}'], dict)]
        mean[variant] = {k: float(np.mean([r[k] for r in rows])) for k in KEYS} if rows else 'failed'
    chance = None
    first = os.path.join(root, f'default-seed{seeds[0]}', 'results.json')
    if os.path.exists(first):
        chance = json.load(open(first)).get('seg_accuracy_majority_class')
    result = {
        'seeds': list(seeds),
        'per_seed': per_seed,
        'mean': mean,
        'runtime_s': runtime,
        'majority_class_accuracy': chance,
    }
    lines = [
        f'# Self-defense on 3D shapes image <-> segmentation (32x32), seeds {", ".join(map(str, seeds))}',
        '',
        'Segmentation accuracy / mean IoU of G_B(image) against the exact ground truth; RH and SN on the',
        f'0-255 scale (sigma = 2 and 8 levels). Majority-class accuracy: {chance}.',
        '',
        '| variant | seg accuracy | seg mIoU | RH | SN(2) | SN(8) | reconstruction L2 | runtime (s) |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ]
    titled = {title: mean[variant] for variant, title in VARIANTS}
    for (variant, _), row in zip(VARIANTS, titled.values(), strict=True):
        if isinstance(row, dict):
            known = [runtime[f'{variant}-seed{s}'] for s in seeds if runtime[f'{variant}-seed{s}'] is not None]
            row['runtime'] = float(np.mean(known)) if known else float('nan')
    formats = [('seg_accuracy', '.3f'), ('seg_miou', '.3f'), ('rh', '.1f'), ('sn_2', '.1f'), ('sn_8', '.1f')]
    lines += table_rows(titled, [*formats, ('reconstruction_l2', '.1f'), ('runtime', '.0f')])
    write_result(OUT, 'table', result, lines)
    _plot_hidden(root, seeds[0])
    return result


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


def _plot_hidden(root: str, seed: int) -> None:
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
    plots.save_figure(fig, os.path.join(OUT, 'hidden_signal.png'))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='python -m common.cyclegan.experiments')
    parser.add_argument('--seeds', default='0')
    parser.add_argument('--root', default='runs/cyclegan-table')
    parser.add_argument('--rerun', action='store_true', help='train again even where a finished run exists')
    args = parser.parse_args(argv)
    result = run(tuple(int(s) for s in args.seeds.split(',')), args.root, reuse=not args.rerun)
    print(json.dumps(result['mean'], indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
