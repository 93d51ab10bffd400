"""The self-defense experiment table: plain CycleGAN and the three defended variants on 3D shapes
image <-> segmentation, same budget and seeds, through run.py.

    python -m common.cyclegan.experiments [--seeds=0] [--root=runs/cyclegan-table]

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


def run(seeds=(0,), root: str = 'runs/cyclegan-table') -> dict:
    per_seed, runtime = {}, {}
    for variant, _ in VARIANTS:
        for seed in seeds:
            workdir = os.path.join(root, f'{variant}-seed{seed}')
            t0 = time.time()
            cmd = [sys.executable, 'run.py', f'--config=common/cyclegan/config.py:{variant}', f'--config.seed={seed}']
            subprocess.run([*cmd, f'--workdir={workdir}'], capture_output=True, text=True)
            path = os.path.join(workdir, 'results.json')
            res = json.load(open(path)) if os.path.exists(path) else None
            per_seed[f'{variant}-seed{seed}'] = {k: res[k] for k in KEYS} if res else 'failed'
            runtime[f'{variant}-seed{seed}'] = round(time.time() - t0, 1)
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
            row['runtime'] = float(np.mean([runtime[f'{variant}-seed{s}'] for s in seeds]))
    formats = [('seg_accuracy', '.3f'), ('seg_miou', '.3f'), ('rh', '.1f'), ('sn_2', '.1f'), ('sn_8', '.1f')]
    lines += table_rows(titled, [*formats, ('reconstruction_l2', '.1f'), ('runtime', '.0f')])
    write_result(OUT, 'table', result, lines)
    _plot_hidden(root, seeds[0])
    return result


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
    args = parser.parse_args(argv)
    result = run(tuple(int(s) for s in args.seeds.split(',')), args.root)
    print(json.dumps(result['mean'], indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
