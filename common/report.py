"""Compare runs: one markdown table of results.json and one PNG of overlaid curves; or, with
`--all`, the reproduction report of the whole body of work (`common.reproduction`).

    python -m common.report runs/dualadv-points_rbf runs/dualadv-points_rbf_minmax \
        [--metrics=loss/distance,align/error] [--out=runs/report]
    python -m common.report --all [--rerun] [--quick]   # report/README.md

Writes <out>.md and <out>.png and prints the table: one row per finished run of a method in
`common.registry` (a folder that is not one is named on stderr). Existing outputs are replaced
only with --overwrite and only when this command wrote them.
"""

from __future__ import annotations

import glob
import json
import os
import sys

from common import grid, plots, registry


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


MARKER = '<!-- written by python -m common.report -->'


def _run_method(workdir: str) -> str | None:
    """The run's method (a registry name) from its config.json; None when it is no run of ours."""
    try:
        with open(os.path.join(workdir, 'config.json')) as f:
            name = json.load(f).get('method')
    except (OSError, ValueError, AttributeError):
        return None
    return name if name in registry.METHODS else None


def _labels(workdirs: list[str]) -> list[str]:
    """Each run's label: its folder name, or its path under the runs' common folder where two
    folder names are the same."""
    names = [os.path.basename(os.path.normpath(w)) for w in workdirs]
    if len(set(names)) == len(names):
        return names
    base = os.path.commonpath([os.path.abspath(w) for w in workdirs])
    return [os.path.relpath(os.path.abspath(w), base) for w in workdirs]


def gather(workdirs: list[str]) -> tuple[list[str], list[dict], list[str], list[str]]:
    """(labels, results, folders, skipped) of the workdirs that hold a finished run of a registered
    method, in the order given; `skipped` says of every other folder why it was left out."""
    kept, results, skipped = [], [], []
    for w in workdirs:
        try:
            with open(os.path.join(w, 'results.json')) as f:
                result = json.load(f)
        except (OSError, ValueError):
            skipped.append(f'report: skipped {w}: it holds no finished run (no readable results.json)')
            continue
        method = _run_method(w)
        if method is None:
            skipped.append(f'report: skipped {w}: its config.json names no method of this codebase')
            continue
        kept.append(w)
        results.append({'method': method, **result})
    return _labels(kept), results, kept, skipped


def _check_outputs(out: str, overwrite: bool) -> None:
    """Refuse (one line) to write over a file this command did not write; with --overwrite, replace
    only the report's own earlier outputs."""
    for path in (out + '.md', out + '.png'):
        if not os.path.exists(path):
            continue
        if not overwrite:
            raise ValueError(f'--out={out}: {path} exists; pass --overwrite to replace an earlier report')
        if not _written_here(path):
            raise ValueError(f'--out={out}: {path} was not written by common.report; it is left alone')


def _written_here(path: str) -> bool:
    if path.endswith('.md'):
        with open(path, errors='replace') as f:
            return f.readline().strip() == MARKER
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.info.get('Software') == 'common.report'
    except OSError:
        return False


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


def overlay_curves(workdirs: list[str], metrics: list[str], path: str, labels: list[str] | None = None) -> str:
    """One panel per metric, one line per run (labelled by `labels`, default the folder names)."""
    labels = labels or [os.path.basename(os.path.normpath(w)) for w in workdirs]
    names = dict(zip(workdirs, labels, strict=True))
    series = {w: plots.read_metrics(w) for w in workdirs}
    if not metrics:
        common = set.intersection(*(set(s) for s in series.values())) if series else set()
        metrics = sorted(m for m in common if not m.startswith('perf/'))[:6]
    fig, axes = plots.plt.subplots(1, max(len(metrics), 1), figsize=(4.8 * max(len(metrics), 1), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=False):
        for w, s in series.items():
            if metric in s:
                ax.plot(*s[metric], lw=1.2, label=names[w])
        ax.set_title(metric, fontsize=9)
        ax.set_xlabel('step')
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    return plots.save_figure(fig, path, metadata={'Software': 'common.report'})


def main(argv: list[str] | None = None) -> int:
    parser = grid.OneLineParser(prog='python -m common.report', description=__doc__.split('\n')[0])
    parser.add_argument('workdirs', nargs='*', help='run folders (globs are expanded)')
    parser.add_argument('--all', action='store_true', help='the reproduction report: report/README.md')
    parser.add_argument('--rerun', action='store_true', help='with --all: run (or resume, or reuse) every grid first')
    parser.add_argument('--quick', action='store_true', help='with --all: the tiny grids; the report under runs/')
    parser.add_argument('--metrics', default='', help='comma-separated metric names to overlay')
    parser.add_argument('--out', default='runs/report', help='output path without extension')
    parser.add_argument('--overwrite', action='store_true', help="replace this command's earlier outputs")
    args = parser.parse_args(argv)
    if args.all:
        if args.workdirs:
            parser.error('--all builds the report from the committed results; give no run folders with it')
        from common import reproduction

        return reproduction.main(rerun_grids=args.rerun or args.quick, quick=args.quick)
    if args.rerun or args.quick:
        parser.error('--rerun and --quick go with --all')
    if not args.workdirs:
        parser.error('give run folders to compare, or --all for the reproduction report')
    workdirs = sorted({p for w in args.workdirs for p in (glob.glob(w) or [w])})
    names, results, finished, skipped = gather(workdirs)
    if not results:
        parser.error(f'none of {", ".join(workdirs)} holds a results.json of a run of this codebase')
    for line in skipped:
        print(line, file=sys.stderr)
    metrics = [m for m in args.metrics.split(',') if m]
    logged = set().union(*(plots.read_metrics(w) for w in finished))
    unknown = [m for m in metrics if m not in logged]
    if unknown:
        parser.error(f'--metrics: {", ".join(unknown)} not logged by these runs; allowed: {", ".join(sorted(logged))}')
    try:
        _check_outputs(args.out, args.overwrite)
    except ValueError as e:
        parser.error(str(e))
    table = markdown_table(names, results)
    os.makedirs(os.path.dirname(args.out) or '.', exist_ok=True)
    with open(args.out + '.md', 'w') as f:
        f.write(MARKER + '\n' + table + '\n')
    overlay_curves(finished, metrics, args.out + '.png', labels=names)
    print(table)
    print(f'\nwrote {args.out}.md and {args.out}.png', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
