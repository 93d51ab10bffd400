"""LRMF's figure of a run: A, B and T(A) (points coloured by label, or digit tiles), and the LRMF
loss over training, the certificate that reads ~0 when T(A) and B are aligned."""

from __future__ import annotations

import os
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from common import plots
from common.method import TrainState


def plot(state: TrainState, samples: list, workdir: str, info: dict, config: Any) -> list[str]:
    """alignment.png: A, B and T(A) (coloured by label), and the LRMF loss (the certificate)."""
    del state
    series = plots.read_metrics(workdir)
    fig, axes = plt.subplots(1, 4, figsize=(17, 4.0))
    if samples and samples[-1][1]['a'].ndim > 2:
        last = samples[-1][1]
        for ax, key, title in ((axes[0], 'a', 'A'), (axes[1], 'b', 'B'), (axes[2], 'ta', 'T(A), final')):
            ax.imshow(_tile(last[key]), cmap='gray', vmin=0.0, vmax=1.0)
            ax.set_title(title, fontsize=9)
            ax.axis('off')
    elif samples:
        last = samples[-1][1]
        cmap = 'tab10' if last['label_b'].max() > 1 else 'coolwarm'
        for ax, key, title in ((axes[0], 'a', 'A'), (axes[1], 'b', 'B'), (axes[2], 'ta', 'T(A), final')):
            labels = last['label_b'] if key == 'b' else last['label_a']
            ax.scatter(last[key][:, 0], last[key][:, 1], s=5, c=labels, cmap=cmap, alpha=0.7)
            note = ' (dims 0-1)' if last[key].shape[1] > 2 else ''
            ax.set_title(title + note, fontsize=9)
        lims = np.concatenate([last['b'][:, :2], last['ta'][:, :2]])
        for ax in axes[:3]:
            ax.set_xlim(lims[:, 0].min() - 0.5, lims[:, 0].max() + 0.5)
            ax.set_ylim(lims[:, 1].min() - 0.5, lims[:, 1].max() + 0.5)
    if 'loss/lrmf' in series:
        steps, values = series['loss/lrmf']
        axes[3].plot(steps, values, c='tab:red', label='LRMF loss (train batch)')
        axes[3].axhline(0.0, c='k', lw=0.8)
        axes[3].set_yscale('symlog', linthresh=1e-2)
        axes[3].legend(fontsize=8)
    axes[3].set_title(f'certificate: T={config.model.transform}, M={config.model.density}', fontsize=9)
    axes[3].set_xlabel('step')
    axes[3].grid(alpha=0.3)
    return [plots.save_figure(fig, os.path.join(workdir, 'alignment.png'))]


def _tile(images: np.ndarray, cols: int = 8) -> np.ndarray:
    """[n, h, w, 1] -> one [rows * h, cols * w] picture."""
    n, h, w = images.shape[:3]
    rows = -(-n // cols)
    canvas = np.ones((rows * h, cols * w), np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        canvas[r * h : (r + 1) * h, c * w : (c + 1) * w] = img[..., 0]
    return np.clip(canvas, 0.0, 1.0)
