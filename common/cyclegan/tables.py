"""The self-defense table's numbers and markdown: per variant the mean and sd over seeds, each
defended run against plain CycleGAN on the same seed (RH and SN as ratios, accuracy as a
difference), every run, the pix2pix upper bound and the convergence check. Pure functions of the
runs' results (`common.cyclegan.experiments` runs the grid and writes what these return).
"""

from __future__ import annotations

import numpy as np

from common.report import table_rows

VARIANTS = (('default', 'CycleGAN'), ('noise', '+ noise'), ('guess', '+ guess'), ('guess_noise', '+ guess + noise'))
KEYS = ('seg_accuracy', 'seg_miou', 'rh', 'sn_2', 'sn_8', 'reconstruction_l2')
OPTIONAL_KEYS = ('rh_8bit',)  # in runs made after it was added
RH_8BIT_FLOOR = 1.0  # squared 0-255 levels summed over the image: below it RH(8-bit) is rounding noise
# RH (nearest colour) of a run that hides nothing is a few squared levels either side of 0 (seen:
# -3.1 to 0.9); a ratio to such a plain run is noise over noise, so it is not taken.
RH_FLOOR = 10.0
# The seed's RH and SN ratios of each defence against plain CycleGAN (GTA V, NeurIPS 2019 table).
PAPER_RATIOS = {'noise': (0.33, 0.21), 'guess': (0.42, 0.48), 'guess_noise': (0.22, 0.34)}


def with_upper_bound(result: dict, lines: list[str], runs: dict, seeds) -> tuple[dict, list[str]]:
    """The table with pix2pix (supervised on the paired data) as the upper bound of accuracy / IoU."""
    ok = {n: r for n, r in runs.items() if isinstance(r, dict)}
    if not ok:
        return result, lines
    acc = [r['seg_accuracy'] for r in ok.values()]
    iou = [r['seg_miou'] for r in ok.values()]
    result['pix2pix'] = {n: {k: r[k] for k in ('seg_accuracy', 'seg_miou')} for n, r in ok.items()}
    extra = [
        '',
        'Supervised upper bound, pix2pix (the same generator on the paired data, L1 x100 + a conditional PatchGAN):',
        f'seg accuracy {" / ".join(f"{a:.3f}" for a in acc)} (mean {np.mean(acc):.3f}), '
        f'mIoU {" / ".join(f"{v:.3f}" for v in iou)} (mean {np.mean(iou):.3f}) over {len(ok)} seed(s).',
    ]
    at = lines.index('Each defended run against plain CycleGAN on the same seed (per seed, then the mean):') - 1
    return result, lines[:at] + extra + lines[at:]


def last_quarter(curve: dict) -> dict[str, float] | None:
    """How much the accuracy moved over the last quarter of the run: its range there, and the
    change from the quarter's first eval to the last (the convergence test: both < 0.005)."""
    if not curve or not curve['step']:
        return None
    steps, acc = np.asarray(curve['step']), np.asarray(curve['seg_accuracy'])
    tail = acc[steps >= 0.75 * steps[-1]]
    return {'range': float(tail.max() - tail.min()), 'change': float(tail[-1] - tail[0]), 'final': float(acc[-1])}


def convergence_lines(curves: dict, seeds) -> list[str]:
    lines = [
        '',
        'Convergence (accuracy on the 64-image eval batch over the last quarter of each run; the',
        'criterion for plain CycleGAN: it moves by less than 0.005):',
        '',
        '| run | final | change over the last quarter | range over the last quarter |',
        '| --- | --- | --- | --- |',
    ]
    for name, curve in curves.items():
        q = last_quarter(curve)
        if q:
            lines.append(f'| {name} | {q["final"]:.3f} | {q["change"]:+.3f} | {q["range"]:.3f} |')
    return lines


def _statistics(ok: dict, seeds, keys: tuple[str, ...]) -> tuple[dict, dict, dict]:
    """(mean, sd, paired) per variant: mean and sample sd over its seeds, and each defended run
    against plain CycleGAN on the same seed (accuracy change, RH / SN ratios)."""
    mean, sd, paired = {}, {}, {}
    for variant, _ in VARIANTS:
        rows = [ok[f'{variant}-seed{s}'] for s in seeds if f'{variant}-seed{s}' in ok]
        mean[variant] = {k: float(np.mean([r[k] for r in rows])) for k in keys} if rows else 'failed'
        sd[variant] = {k: float(np.std([r[k] for r in rows], ddof=1)) for k in keys} if len(rows) > 1 else None
        both = [s for s in seeds if f'{variant}-seed{s}' in ok and f'default-seed{s}' in ok]
        pairs = [(ok[f'{variant}-seed{s}'], ok[f'default-seed{s}']) for s in both]
        if variant != 'default' and pairs:
            paired[variant] = {
                'seg_accuracy_change': [r['seg_accuracy'] - p['seg_accuracy'] for r, p in pairs],
                **{f'{k}_ratio': [r[k] / p[k] for r, p in pairs] for k in ('rh', 'sn_2', 'sn_8') + keys[len(KEYS) :]},
            }
            paired[variant]['rh_ratio'] = [r['rh'] / p['rh'] if p['rh'] >= RH_FLOOR else None for r, p in pairs]
    return mean, sd, paired


def _intro_lines(ok: dict, seeds, chance: float | None, eight: bool, eight_ratio: bool) -> list[str]:
    """The title, what the columns mean, and the header of the mean table."""
    return [
        f'# Self-defense on 3D shapes image <-> segmentation (32x32), seeds {", ".join(map(str, seeds))}',
        '',
        'Segmentation accuracy / mean IoU of G_B(image) against the exact ground truth; RH and SN on the',
        f'0-255 scale (sigma = 2 and 8 levels). Majority-class accuracy: {_fmt(chance, ".3f")}.',
        *(
            ['RH: the translation snapped to the nearest class colour; RH(8-bit): rounded to 8-bit intensities.']
            if eight
            else []
        ),
        *(
            [
                f"Plain CycleGAN's RH(8-bit) is below {RH_8BIT_FLOOR:g} on some seed (8-bit rounding leaves its hidden",
                'signal intact): no RH(8-bit) ratios are shown.',
            ]
            if eight and not eight_ratio
            else []
        ),
        '',
        _mean_header(ok, seeds),
        '',
        *_run_header('variant', eight),
    ]


def _run_header(first: str, eight: bool) -> list[str]:
    return [
        f'| {first} | seg accuracy | seg mIoU | RH |{" RH(8-bit) |" if eight else ""} SN(2) | SN(8) | '
        'reconstruction L2 | runtime (s) |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |' + (' --- |' if eight else ''),
    ]


def _mean_rows(mean: dict, sd: dict, runtime: dict, seeds, formats) -> list[str]:
    cells = {}
    for variant, title in VARIANTS:
        if not isinstance(mean[variant], dict):
            cells[title] = 'failed'
            continue
        spread = sd[variant] or {}
        cells[title] = {k: f'{mean[variant][k]:{f}}' + (f' +- {spread[k]:{f}}' if spread else '') for k, f in formats}
        known = [runtime[f'{variant}-seed{s}'] for s in seeds if runtime.get(f'{variant}-seed{s}') is not None]
        cells[title]['runtime'] = _fmt(float(np.mean(known)) if known else None, '.0f')
    return table_rows(cells, [(k, '') for k, _ in formats] + [('runtime', '')])


def _paired_lines(paired: dict, eight_ratio: bool) -> list[str]:
    """Each defended run against plain CycleGAN on its seed, beside the seed's ratios."""
    ratios = ('rh_ratio', *(('rh_8bit_ratio',) if eight_ratio else ()), 'sn_2_ratio', 'sn_8_ratio')
    titles = dict(VARIANTS)
    lines = [
        '',
        'Each defended run against plain CycleGAN on the same seed (per seed, then the mean):',
        '',
        f'| variant | accuracy change | RH ratio |{" RH(8-bit) ratio |" if eight_ratio else ""} SN(2) ratio | '
        'SN(8) ratio | seed: RH / SN ratio |',
        '| --- | --- | --- | --- | --- | --- |' + (' --- |' if eight_ratio else ''),
    ]
    cells = {}
    for variant, values in paired.items():
        cells[titles[variant]] = {
            k: ' / '.join(_fmt(v, f) for v in values[k]) + f' (mean {_fmt(_mean(values[k]), f)})'
            for k, f in (('seg_accuracy_change', '+.3f'), *((r, '.2f') for r in ratios))
        } | {'paper': ' / '.join(f'x{r:.2f}' for r in PAPER_RATIOS[variant])}
    lines += table_rows(cells, [(k, '') for k in ('seg_accuracy_change', *ratios, 'paper')])
    if any(None in values['rh_ratio'] for values in paired.values()):
        lines += [
            '',
            f'RH ratio n/a: plain CycleGAN on that seed hides nothing (its RH is below {RH_FLOOR:g}); the mean is over',
            'the other seeds.',
        ]
    return lines


def _every_run_lines(per_seed: dict, runtime: dict, seeds, formats, eight: bool) -> list[str]:
    runs = {}
    for variant, title in VARIANTS:
        for s in seeds:
            name = f'{variant}-seed{s}'
            if name not in per_seed:
                continue  # not in this grid (--more-seeds-for)
            row = per_seed[name]
            runs[f'{title}, seed {s}'] = {**row, 'runtime': runtime.get(name)} if isinstance(row, dict) else 'failed'
    return ['', 'Every run:', '', *_run_header('run', eight)] + table_rows(
        {k: {**v, 'runtime': _fmt(v['runtime'], '.0f')} if isinstance(v, dict) else v for k, v in runs.items()},
        [(k, f.replace('.0f', '.1f')) for k, f in formats] + [('runtime', '')],
    )


def summarize(per_seed: dict, runtime: dict, seeds, chance: float | None) -> tuple[dict, list[str]]:
    """(numbers, markdown lines): the mean and sample sd over seeds of each variant, each run, and
    each defended run against plain CycleGAN on the same seed (RH and SN as ratios, accuracy as a
    difference), since seed-to-seed variance is as large as some of the effects."""
    ok = {name: row for name, row in per_seed.items() if isinstance(row, dict)}
    keys = KEYS + tuple(k for k in OPTIONAL_KEYS if ok and all(k in r for r in ok.values()))
    mean, sd, paired = _statistics(ok, seeds, keys)
    result = {
        'seeds': list(seeds),
        'per_seed': per_seed,
        'mean': mean,
        'sd': sd,
        'paired_with_plain': paired,
        'runtime_s': runtime,
        'majority_class_accuracy': chance,
    }
    eight = 'rh_8bit' in keys
    # An 8-bit ratio only where plain CycleGAN's RH(8-bit) is at least one squared level on every
    # seed; below that it is rounding noise around 0 and a ratio of it means nothing.
    plain_8bit = [ok[f'default-seed{s}']['rh_8bit'] for s in seeds if eight and f'default-seed{s}' in ok]
    eight_ratio = eight and bool(plain_8bit) and min(plain_8bit) >= RH_8BIT_FLOOR
    formats = [('seg_accuracy', '.3f'), ('seg_miou', '.3f'), ('rh', '.0f')]
    formats += [('rh_8bit', '.2f')] if eight else []
    formats += [('sn_2', '.0f'), ('sn_8', '.0f'), ('reconstruction_l2', '.0f')]
    lines = _intro_lines(ok, seeds, chance, eight, eight_ratio)
    lines += _mean_rows(mean, sd, runtime, seeds, formats)
    lines += _paired_lines(paired, eight_ratio)
    lines += _every_run_lines(per_seed, runtime, seeds, formats, eight)
    return result, lines


def _mean_header(ok: dict, seeds) -> str:
    """'Mean +- sample sd over N seed(s):', naming each variant's count where they differ."""
    counts = {title: sum(f'{v}-seed{s}' in ok for s in seeds) for v, title in VARIANTS}
    if len(set(counts.values())) <= 1:
        return f'Mean +- sample sd over {len(seeds)} seed(s):'
    return (
        'Mean +- sample sd over the seeds each variant ran (' + ', '.join(f'{t}: {n}' for t, n in counts.items()) + '):'
    )


def _mean(values) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.mean(known)) if known else None


def _fmt(value: float | None, spec: str) -> str:
    return 'n/a' if value is None else format(value, spec)
