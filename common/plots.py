"""Plots every run gets (training curves), and helpers methods use for their own figures."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from typing import Any

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def read_metrics(workdir: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """metrics.jsonl as {name: (steps, values)}."""
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    path = os.path.join(workdir, 'metrics.jsonl')
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                for k, v in record.items():
                    if k != 'step':
                        series[k].append((record['step'], v))
    return {k: (np.array([s for s, _ in v]), np.array([x for _, x in v])) for k, v in series.items()}


def read_samples(workdir: str) -> list[tuple[int, dict[str, np.ndarray]]]:
    """The arrays `sample` saved at each evaluation, in step order."""
    folder = os.path.join(workdir, 'samples')
    if not os.path.isdir(folder):
        return []
    out = []
    for name in sorted(os.listdir(folder)):
        if name.endswith('.npz'):
            with np.load(os.path.join(folder, name)) as z:
                out.append((int(name[:-4]), {k: z[k] for k in z.files}))
    return out


def plot_curves(workdir: str, filename: str = 'curves.png') -> str:
    """One panel per metric (perf/ excluded), against the step."""
    series = {k: v for k, v in read_metrics(workdir).items() if not k.startswith('perf/')}
    path = os.path.join(workdir, filename)
    if not series:
        return path
    names = sorted(series)
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        steps, values = series[name]
        ax.plot(steps, values, lw=1.5)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel('step', fontsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis('off')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def save_figure(fig: Any, path: str, metadata: dict[str, str] | None = None) -> str:
    """Save and close `fig` (PNG at 110 dpi; `metadata`: PNG text fields); return `path`."""
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata=metadata)
    plt.close(fig)
    return path


def show_image(ax: Any, image: Any, title: str | None = None, *, fontsize: int = 7) -> None:
    """Draw one image in [-1, 1] ([h, w], [h, w, 1] grey or [h, w, 3] colour) on `ax`: mapped to
    [0, 1] and clipped, pixels unsmoothed, no ticks; `title` above it."""
    pixels = np.clip((np.asarray(image, np.float32) + 1.0) / 2.0, 0.0, 1.0)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    grey = {'cmap': 'gray', 'vmin': 0.0, 'vmax': 1.0} if pixels.ndim == 2 else {}
    ax.imshow(pixels, interpolation='nearest', **grey)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=fontsize)
