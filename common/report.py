"""Compare runs: one markdown table of results.json and one PNG of overlaid curves.

    python -m common.report runs/dualadv-points_rbf runs/dualadv-points_rbf_minmax \
        [--metrics=loss/distance,align/error] [--out=runs/report]

Writes <out>.md and <out>.png and prints the table.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys

from common import grid, plots


def write_result(directory: str, name: str, result: dict, lines: list[str]) -> str:
    """Write <directory>/<name>.json (the numbers) and <name>.md (the lines); return the text."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, f'{name}.json'), 'w') as f:
        json.dump(result, f, indent=2)
    grid.wrote(os.path.join(directory, f'{name}.json'))
    text = '\n'.join(lines) + '\n'
    with open(os.path.join(directory, f'{name}.md'), 'w') as f:
        f.write(text)
    grid.wrote(os.path.join(directory, f'{name}.md'))
    return text


def table_rows(rows: dict[str, object], formats: list[tuple[str, str]]) -> list[str]:
    """Markdown rows `| name | value ... |` of dicts (or 'failed'), one column per (key, format)."""
    out = []
    for name, row in rows.items():
        if isinstance(row, dict):
            out.append('| ' + ' | '.join([name, *(format(row[k], f) for k, f in formats)]) + ' |')
        else:
            out.append('| ' + ' | '.join([name, 'failed', *([''] * (len(formats) - 1))]) + ' |')
    return out


def gather(workdirs: list[str]) -> tuple[list[str], list[dict]]:
    """(names, results) of the workdirs that hold a results.json, in the order given."""
    names, results = [], []
    for w in workdirs:
        path = os.path.join(w, 'results.json')
        if os.path.exists(path):
            with open(path) as f:
                results.append(json.load(f))
            names.append(os.path.basename(os.path.normpath(w)))
    return names, results


def markdown_table(names: list[str], results: list[dict]) -> str:
    """Rows = runs, columns = the scalar (number, string, bool) fields any run reports."""
    keys = sorted({k for r in results for k, v in r.items() if isinstance(v, int | float | str)})

    def fmt(v):
        if isinstance(v, float):
            return f'{v:.4g}'
        return '' if v is None else str(v)

    lines = ['| run | ' + ' | '.join(keys) + ' |', '|' + '---|' * (len(keys) + 1)]
    for name, r in zip(names, results, strict=True):
        lines.append(f'| {name} | ' + ' | '.join(fmt(r.get(k)) for k in keys) + ' |')
    return '\n'.join(lines)


def overlay_curves(workdirs: list[str], metrics: list[str], path: str) -> str:
    """One panel per metric, one line per run."""
    series = {w: plots.read_metrics(w) for w in workdirs}
    if not metrics:
        common = set.intersection(*(set(s) for s in series.values())) if series else set()
        metrics = sorted(m for m in common if not m.startswith('perf/'))[:6]
    fig, axes = plots.plt.subplots(1, max(len(metrics), 1), figsize=(4.8 * max(len(metrics), 1), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=False):
        for w, s in series.items():
            if metric in s:
                ax.plot(*s[metric], lw=1.2, label=os.path.basename(os.path.normpath(w)))
        ax.set_title(metric, fontsize=9)
        ax.set_xlabel('step')
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    return plots.save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='python -m common.report', description=__doc__.split('\n')[0])
    parser.add_argument('workdirs', nargs='+', help='run folders (globs are expanded)')
    parser.add_argument('--metrics', default='', help='comma-separated metric names to overlay')
    parser.add_argument('--out', default='runs/report', help='output path without extension')
    args = parser.parse_args(argv)
    workdirs = sorted({p for w in args.workdirs for p in (glob.glob(w) or [w])})
    names, results = gather(workdirs)
    if not results:
        print(f'report: error: none of {", ".join(workdirs)} holds a results.json', file=sys.stderr)
        return 2
    table = markdown_table(names, results)
    os.makedirs(os.path.dirname(args.out) or '.', exist_ok=True)
    with open(args.out + '.md', 'w') as f:
        f.write(table + '\n')
    finished = [w for w in workdirs if os.path.exists(os.path.join(w, 'results.json'))]
    metrics = [m for m in args.metrics.split(',') if m]
    overlay_curves(finished, metrics, args.out + '.png')
    print(table)
    print(f'\nwrote {args.out}.md and {args.out}.png', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
