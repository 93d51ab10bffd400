"""The table that settles RIFT's claim at CPU scale: the world chosen by the supervised bound, every
run about an hour on 2 cores, each with its budget curve.

    python -m rift.settle [--root=runs/rift-settle] [--only=NAME,...] [--table] [--quick]

The world: 3D shapes at 32 px seen by the renderer's 'close' camera (the object fills ~35% of
the frame instead of ~12%), the same six factors, cardinalities and role assignments, its own
attribute classifier (`rift/attribute_classifier_32px_close.msgpack`). Jobs, in this order
(assignment A first, so the claim can be read before the rest finishes):

  supervised A       the upper bound: the same nets trained on the exact translations
  supervised, no norm A   the same without the generators' instance norm (a hypothesis for A -> B's
                     lost object hue, refuted: the hue is lost as before)
  supervised, target margin A   L1 targets clipped to +-0.98: the cause found instead, A -> B's green
                     channel saturated (pre-tanh -31 to -5) by targets at exactly -1 over B's rooms
                     (first run for 6000 steps, then extended to 24000, then 48000: more
                     train.steps resume a run; A -> B's orientation was still rising at 24000)
  RIFT exported A    the authors' evaluated recipe (`rift/config.py:exported`)
  RIFT rep_perfect A, RIFT unlimited A, CycleGAN A (unguided), MUNIT-style A
  RIFT exported, CycleGAN, supervised (target margin, 24000 steps) on B and C
  RIFT as CycleGAN A (the closed channel, also scored through the noise it was trained with)
  the capacity sweep on A: the exported terms with style noise 0 and 0.15 (0.5 is exported)
  seeds 1 and 2 of RIFT exported A
  RIFT exported, no style norm A (style noise 0.5 alone: the capacity limit without the norm
                     penalty, which closes the channel at every noise level in the sweep).

Every run is an ordinary run.py workdir: a finished one is skipped, an interrupted one resumes,
and a run whose row is already in the committed table but whose workdir is not under --root (a
fresh clone) is kept from the table, not trained again (name it in --only to redo it).
After each job its kept checkpoints are scored (`rift.curves`) and the table is rewritten from
what has finished: rift/results/settle/table.{json,md} (last checkpoint, and best by ground
truth, labelled; 3DS and RD for a row run on all three assignments; the capacity sweep; the seeds'
spread: `rift.settle_table`), and per run
curve_<run>.{json,png} (the budget curve) and grid_<run>.png (its last translations). `--quick`
runs tiny versions into runs/partial-results (a smoke test).
"""

from __future__ import annotations

import json
import os
import shutil
import sys

from common import grid
from common.report import write_result
from rift import curves, experiments
from rift.settle_table import summarize

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results', 'settle')
ROOT = 'runs/rift-settle'
WORLD = {'data.camera': 'close'}
# Every RIFT row after the bound keeps the L1 image targets off the tanh's asymptote
# (the bound's finding: targets at exactly -1 saturate an output channel).
MARGIN = {'loss.target_margin': 0.02}
# row -> (method, variant, overrides, steps): the supervised step is ~3x cheaper than RIFT's.
ROWS = {
    'supervised': ('rift', 'supervised', {}, 24000),
    'supervised, no norm': ('rift', 'supervised', {'model.norm': 'none'}, 12000),
    'supervised, target margin': (
        'rift',
        'supervised',
        {'loss.target_margin': 0.02, 'train.keep_every': 2000},
        48000,
    ),
    'RIFT exported': ('rift', 'exported', {}, 12000),
    'RIFT rep_perfect': ('rift', 'rep_perfect', {}, 12000),
    'RIFT unlimited': ('rift', 'unlimited', {}, 12000),
    'CycleGAN': ('cyclegan', 'default', {'data.task': 'factor_domains', 'model.fast_convs': True}, 12000),
    'MUNIT-style': ('rift', 'munit', {}, 12000),
    'RIFT as CycleGAN': ('rift', 'as_cyclegan', {}, 12000),
    'RIFT exported, style noise 0': ('rift', 'exported', {'loss.style_noise': 0.0}, 12000),
    'RIFT exported, style noise 0.15': ('rift', 'exported', {'loss.style_noise': 0.15}, 12000),
    'RIFT exported, no style norm': ('rift', 'exported', {'loss.style_norm': 0.0}, 12000),
}
# (row, assignment) -> steps where a row's budget differs by assignment: the bound on B and C
# stops at 24000 steps, where A's had ACC 0.90 over both directions (its curve says whether more
# would help; more train.steps resume a run).
BUDGET = {('supervised, target margin', roles): 24000 for roles in ('B', 'C')}
ORDER = (
    *(
        (row, 'A', 0)
        for row in (
            'supervised',
            'supervised, no norm',
            'supervised, target margin',
            'RIFT exported',
            'RIFT rep_perfect',
            'RIFT unlimited',
            'CycleGAN',
        )
    ),
    ('MUNIT-style', 'A', 0),
    # The bound on B and C is the one A's runs found to work: the target margin (`BUDGET`: 24000 steps).
    *((row, r, 0) for r in ('B', 'C') for row in ('RIFT exported', 'CycleGAN', 'supervised, target margin')),
    ('RIFT as CycleGAN', 'A', 0),
    ('RIFT exported, style noise 0', 'A', 0),
    ('RIFT exported, style noise 0.15', 'A', 0),
    ('RIFT exported', 'A', 1),
    ('RIFT exported', 'A', 2),
    ('RIFT exported, no style norm', 'A', 0),
)


def slug(row: str) -> str:
    return row.lower().replace(', ', '-').replace(' ', '-')


def jobs(*, quick: bool = False) -> list[grid.Job]:
    """The table's jobs in `ORDER` (tiny versions with `quick`)."""
    out = []
    for row, roles, seed in ORDER:
        method, variant, overrides, steps = ROWS[row]
        fields = {**WORLD, 'data.roles': roles, 'seed': seed, **overrides}
        if quick:
            if method == 'rift':
                fields['model.translator'] = 'munit' if variant == 'munit' else 'rift'
                fields |= {'loss.supervised': 1.0} if variant == 'supervised' else {}
            else:
                fields.pop('model.fast_convs', None)
            out.append(grid.Job(f'{slug(row)}-{roles}-seed{seed}', method, 'tiny', fields))
            continue
        fields |= {'train.steps': BUDGET.get((row, roles), steps)}
        fields.setdefault('train.keep_every', steps // 12)
        if method == 'rift':
            if variant not in ('supervised', 'munit'):  # the MUNIT-style losses take no margin
                fields = MARGIN | fields
        out.append(grid.Job(f'{slug(row)}-{roles}-seed{seed}', method, variant, fields))
    return out


def _cell(result: dict | None, curve: dict | None, row: str) -> dict | None:
    """One run's numbers for the table: ACC per direction, the WACV 2022 metrics, the noisy ACC,
    the A -> B spread beside the exact one, and the best checkpoint's ACC."""
    if not isinstance(result, dict):
        return None
    name = 'cyclegan' if row == 'CycleGAN' else result['translator']
    scores = result[name]
    out = {'acc': scores['acc'], 'a2b': scores['a2b']['acc'], 'b2a': scores['b2a']['acc'], 'scores': scores}
    out['wacv2022'] = scores.get('wacv2022')
    out['spread_a2b'] = result.get('source_spread', {}).get(f'{name}_a2b')
    out['spread_exact_a2b'] = result.get('source_spread', {}).get('exact_a2b')
    if f'{name}_noisy' in result:
        out['acc_noisy'] = result[f'{name}_noisy']['acc']
    for ref in ('oracle', 'rand'):
        if ref in result:
            out[ref] = result[ref]['acc']
    if curve is not None:  # the last checkpoint, scored by today's evaluation (a run may predate a metric)
        last = curve.get('last', {})
        out['wacv2022'] = out['wacv2022'] or last.get('wacv2022')
        out['spread_a2b'] = out['spread_a2b'] if out['spread_a2b'] is not None else last.get('spread_a2b')
        if out['spread_exact_a2b'] is None:
            out['spread_exact_a2b'] = last.get('spread_exact_a2b')
        if 'acc_noisy' not in out and 'acc_noisy' in last:
            out['acc_noisy'] = last['acc_noisy']
        out['best'] = {'step': curve['best']['step'], 'acc': curve['best']['acc']}
        out['curve'] = [(p['step'], p['acc_a2b'], p['acc_b2a']) for p in curve['points']]
    return out


def committed_cells(out: str | None = None) -> dict[tuple[str, str, int], dict]:
    """The cells of the table committed in `out` (default `OUT`; empty when there is none): the
    rows of runs whose workdirs another machine holds."""
    try:
        with open(os.path.join(out or OUT, 'table.json')) as f:
            rows = json.load(f).get('rows', {})
    except (OSError, ValueError):
        return {}
    cells = {}
    for text, cell in rows.items():
        row, roles, seed = text.split(' | ')
        if (row, roles, int(seed)) in ORDER:
            cells[(row, roles, int(seed))] = cell
    return cells


def finished_cells(root: str, *, quick: bool = False, committed: bool = True) -> dict[tuple[str, str, int], dict]:
    """The table's cells of every finished run under `root` (with its curve when one was scored),
    over the committed table's cells (in table order; not with `quick` or without `committed`)."""
    cells = committed_cells() if committed and not quick else {}
    for job in jobs(quick=quick):
        workdir = os.path.join(root, job.name)
        if not grid.finished(job, workdir):
            continue
        row, roles, seed = _key(job.name)
        result = grid.read_results(workdir)
        curve = None
        if job.method == 'cyclegan':
            result = experiments.cyclegan_scores(workdir, roles)
        if os.path.exists(os.path.join(workdir, 'curve.json')):
            with open(os.path.join(workdir, 'curve.json')) as f:
                curve = json.load(f)
        cell = _cell(result, curve, row)
        if cell is not None:
            trace = style_trace(workdir)
            cells[(row, roles, seed)] = (
                cell | {'steps': job.overrides.get('train.steps')} | ({'style_mean_abs': trace} if trace else {})
            )
    return {key: cells[key] for key in ORDER if key in cells}


def style_trace(workdir: str, every: int = 1000) -> list[tuple[int, float]]:
    """[(step, mean |s|)] of a RIFT run's style maps, at its first logged step and every `every`
    steps (from metrics.jsonl; empty for a run that logs none): whether the channel stayed open."""
    out = []
    try:
        with open(os.path.join(workdir, 'metrics.jsonl')) as f:
            for line in f:
                record = json.loads(line)
                if 'style/mean_abs' in record and (not out or record['step'] % every == 0):
                    out.append((int(record['step']), round(float(record['style/mean_abs']), 4)))
    except (OSError, ValueError):
        return []
    return out


def run(root: str = ROOT, *, quick: bool = False, train: bool = True, only: tuple[str, ...] = ()) -> dict:
    """Every job (finished ones skipped), each run's budget curve, and the table after each job,
    from every finished run under `root` (so runs made by separate invocations share one table)."""
    planned = [j for j in jobs(quick=quick) if not only or j.name in only]
    if not train and not finished_cells(root, quick=quick, committed=False):
        raise grid.NothingFinished(f'--table: no finished run of this table under {root}; nothing was written')
    out = grid.results_dir(OUT, 'rift-settle', full=not quick)
    os.makedirs(out, exist_ok=True)
    table: dict = {}
    committed = {} if quick else committed_cells()
    for job in planned:
        workdir = os.path.join(root, job.name)
        if train and _key(job.name) in committed and job.name not in only and not os.path.exists(workdir):
            print(f'{job.name}: kept from the committed table ({OUT}), not under {root}', file=sys.stderr, flush=True)
            continue
        result = grid.run_jobs([job], root, reuse=grid.finished)[job.name] if train else grid.read_results(workdir)
        if result is None:
            continue
        # the budget curve: every kept checkpoint (a CycleGAN's scored by the same protocol)
        if job.method == 'cyclegan':
            curve = curves.score_cyclegan_run(workdir, _key(job.name)[1])
        else:
            curve = curves.score_run(workdir)
        grid.wrote(curves.plot({job.name: curve}, os.path.join(out, f'curve_{job.name}.png')))
        with open(grid.wrote(os.path.join(out, f'curve_{job.name}.json')), 'w') as f:
            json.dump(curve, f, indent=1)
        if os.path.exists(os.path.join(workdir, 'translations.png')):
            shutil.copyfile(
                os.path.join(workdir, 'translations.png'), grid.wrote(os.path.join(out, f'grid_{job.name}.png'))
            )
        table = _write_table(out, root, quick)
    return _write_table(out, root, quick) if not table else table


def _write_table(out: str, root: str, quick: bool) -> dict:
    table, lines = summarize(finished_cells(root, quick=quick))
    write_result(out, 'table', table | {'root': root, 'quick': quick, 'world': WORLD}, lines)
    compare_curves(out, quick=quick)
    return table


def compare_curves(out: str, *, quick: bool = False) -> list[str]:
    """Per assignment, the budget curves of its seed-0 rows saved in `out` on one figure
    (`rift.curves.compare`; a row without a curve, one point: its table cell): out/curves_<roles>.png.
    Returns the paths written."""
    paths, cells = [], committed_cells(out)
    for roles in sorted({r for _, r, _ in ORDER}):
        runs = {}
        for job in jobs(quick=quick):
            row, r, seed = _key(job.name)
            path = os.path.join(out, f'curve_{job.name}.json')
            if r != roles or seed != 0:
                continue
            if os.path.exists(path):
                with open(path) as f:
                    runs[row] = (json.load(f), job.config().data.batch_size)
            elif cells.get((row, r, seed), {}).get('wacv2022') and cells[(row, r, seed)].get('steps'):
                cell = cells[(row, r, seed)]
                point = {'step': cell['steps'], 'acc': cell['acc'], 'wacv2022': cell['wacv2022']}
                runs[f'{row}, last only'] = ({'points': [point]}, job.config().data.batch_size)
        if runs:
            title = f"Budget curves on assignment {roles}, the 'close' world at 32 px"
            paths.append(grid.wrote(curves.compare(runs, os.path.join(out, f'curves_{roles}.png'), title)))
    return paths


def _key(name: str) -> tuple[str, str, int]:
    return next(k for k in ORDER if _name(k) == name)


def _name(key: tuple[str, str, int]) -> str:
    row, roles, seed = key
    return f'{slug(row)}-{roles}-seed{seed}'


def main(argv: list[str] | None = None) -> int:
    parser = grid.OneLineParser(prog='python -m rift.settle', description=__doc__.split('\n')[0])
    parser.add_argument('--root', default=ROOT, help='the folder of the run workdirs')
    parser.add_argument('--quick', action='store_true', help='tiny runs: a smoke test of the pipeline')
    parser.add_argument('--only', default='', help='comma-separated job names (default: every job, in order)')
    parser.add_argument('--table', action='store_true', help='only write the table from the finished runs')
    args = parser.parse_args(argv)
    names = [j.name for j in jobs(quick=args.quick)]
    only = grid.choices(parser, '--only', args.only, tuple(names)) if args.only else ()
    try:
        table = run(grid.root_of(args, ROOT), quick=args.quick, train=not args.table, only=tuple(only))
    except grid.NothingFinished as e:
        parser.error(str(e))
    print(json.dumps(list(table.get('rows', {})), indent=1), file=sys.stderr)
    return grid.exit_status()


if __name__ == '__main__':
    sys.exit(main())
