"""rift.experiments: the job order and the table (3DS, RD) from finished runs' scores."""

import json
import os

import numpy as np
import pytest

from rift import experiments, metrics
from rift.roles import ROLES


def test_seed_zero_of_every_row_and_assignment_comes_first():
    jobs = experiments.jobs((0, 1), ('A', 'B', 'C'), steps=100, quick=False)
    names = [j.name for j in jobs]
    assert len(names) == 2 * 3 * len(experiments.ROWS) and len(set(names)) == len(names)
    assert names[:3] == ['rift-A-seed0', 'rift-B-seed0', 'rift-C-seed0']
    assert all(n.endswith('seed0') for n in names[: len(names) // 2])
    cyc = next(j for j in jobs if j.name == 'cyclegan-B-seed0')
    assert cyc.config_spec().startswith('common/cyclegan/config.py') and cyc.overrides['data.task'] == 'factor_domains'
    assert cyc.overrides['data.roles'] == 'B' and cyc.overrides['train.steps'] == 100


def _scores(assignment, specific, shared):
    """A run's scores where every target-specific factor has ACC `specific` and every shared one `shared`."""
    out = {}
    for d in metrics.DIRECTIONS:
        s, t, _, _ = metrics.factor_roles(assignment, d)
        per = {n: specific for n in t} | {n: shared for n in s}
        out[d] = {'acc': float(np.mean(list(per.values()))), 'acc_per_factor': per}
        out[d] |= dict.fromkeys(experiments.WACV, 0.5)
    return (
        out
        | {'acc': float(np.mean([out[d]['acc'] for d in metrics.DIRECTIONS]))}
        | dict.fromkeys(experiments.WACV, 0.5)
    )


def test_table_gives_3ds_and_rd_only_with_every_assignment():
    per_run = {
        f'rift-{r}-seed0': {
            'translator': 'rift',
            'rift': _scores(r, 0.9, 0.6),
            'rand': _scores(r, 0.1, 0.1),
            'oracle': _scores(r, 1.0, 1.0),
        }
        for r in ROLES
    }
    per_run['munit-style-A-seed0'] = {'translator': 'munit', 'munit': _scores('A', 0.2, 0.8)}
    table, lines = experiments.summarize(per_run, (0,), tuple(ROLES))
    rift = table['rows']['RIFT']
    assert rift['3ds'] == pytest.approx(0.75) and rift['rd'] == pytest.approx(100 * 0.3 / 1.5)
    assert table['rows']['RAND']['rd'] == pytest.approx(0.0) and table['rows']['oracle']['3ds'] == 1.0
    munit = table['rows']['MUNIT-style']
    assert munit['acc'] == {'A': pytest.approx(0.5)} and '3ds' not in munit and 'rd' not in munit
    text = '\n'.join(lines)
    assert '| RIFT | 0 | 75 | 75 | 75 | 75 | 20 |' in text and '| RIFT + guess | (not run yet) |' in text


def test_settle_runs_the_bound_first_then_assignment_a_and_keeps_checkpoints_for_curves():
    from rift import settle

    jobs = settle.jobs()
    names = [j.name for j in jobs]
    assert names[:4] == [
        'supervised-A-seed0',
        'supervised-no-norm-A-seed0',
        'supervised-target-margin-A-seed0',
        'rift-exported-A-seed0',
    ] and len(set(names)) == len(names)
    assert all(j.overrides['data.camera'] == 'close' for j in jobs)
    first_b = next(i for i, n in enumerate(names) if '-B-' in n)
    assert all('-A-' in n for n in names[:first_b])
    rift_jobs = [j for j in jobs if j.method == 'rift']
    kept = [j.overrides['train.steps'] // j.overrides['train.keep_every'] for j in rift_jobs]
    assert all(k >= 12 for k in kept)  # at least 12 points on every budget curve
    unsupervised = [j for j in rift_jobs if j.variant not in ('supervised', 'munit')]
    assert unsupervised and all(j.overrides['loss.target_margin'] == 0.02 for j in unsupervised)
    sweep = [j.overrides.get('loss.style_noise') for j in jobs if j.name.startswith('rift-exported-style-noise')]
    assert sweep == [0.0, 0.15]
    bounds = {j.name: j.overrides for j in jobs if j.variant == 'supervised' and '-A-' not in j.name}
    assert sorted(bounds) == ['supervised-target-margin-B-seed0', 'supervised-target-margin-C-seed0']
    assert all(o['loss.target_margin'] == 0.02 and o['train.steps'] == 24000 for o in bounds.values())
    assert [j.name for j in settle.jobs(quick=True)] == names and all(
        j.variant == 'tiny' for j in settle.jobs(quick=True)
    )


def test_settle_table_reports_last_and_best_with_the_exact_spread():
    from rift import settle

    scores = _scores('A', 0.9, 0.6) | {'wacv2022': {'content_preservation': 0.6, 'style_accuracy': 0.9}}
    result = {
        'translator': 'rift',
        'rift': scores,
        'rift_noisy': _scores('A', 0.5, 0.5),
        'oracle': _scores('A', 1.0, 1.0),
        'rand': _scores('A', 0.1, 0.1),
        'source_spread': {'rift_a2b': 0.01, 'exact_a2b': 0.2},
    }
    curve = {'best': {'step': 500, 'acc': 0.8}, 'points': [{'step': 500, 'acc_a2b': 0.8, 'acc_b2a': 0.8}]}
    cell = settle._cell(result, curve, 'RIFT exported') | {'steps': 1000}
    other = settle._cell(result | {'rand': _scores('A', 0.2, 0.2)}, None, 'RIFT exported')
    _, lines = settle.summarize({('RIFT exported', 'A', 0): cell, ('RIFT exported', 'A', 1): other})
    text = '\n'.join(lines)
    assert '| RIFT exported | A | 0 | 1000 | 75 | 75 | 75 | 50 | 60 | 90 | 0.010 (0.200) | 80 (500) |' in text
    assert 'oracle 100-100, RAND 10-20 (mean 15).' in text  # each seed's own test pairs


def test_settle_keeps_each_runs_curve_and_last_grid_beside_the_table(tmp_path, monkeypatch):
    from common import grid
    from rift import curves, settle

    job = settle.jobs(quick=True)[3]  # rift-exported-A-seed0
    workdir = tmp_path / 'runs' / job.name
    workdir.mkdir(parents=True)
    (workdir / 'translations.png').write_bytes(b'grid of the last checkpoint')
    point = {'step': 2, 'acc': 0.5, 'acc_a2b': 0.5, 'acc_b2a': 0.5}
    point['wacv2022'] = {'content_preservation': 0.6, 'style_accuracy': 0.4}
    curve = {'best': {'step': 2, 'acc': 0.5}, 'points': [point]}
    monkeypatch.setattr(grid, 'run_jobs', lambda jobs, root, reuse: {job.name: {'translator': 'rift'}})
    monkeypatch.setattr(curves, 'score_run', lambda w: curve if w == str(workdir) else None)
    monkeypatch.setattr(curves, 'plot', lambda c, path: open(path, 'w').close() or path)
    monkeypatch.setattr(settle, 'finished_cells', lambda root, quick: {})
    monkeypatch.setattr(grid, 'PARTIAL_ROOT', str(tmp_path / 'partial'))
    settle.run(str(tmp_path / 'runs'), quick=True, only=(job.name,))
    out = tmp_path / 'partial' / 'rift-settle'
    assert json.loads((out / f'curve_{job.name}.json').read_text()) == curve
    assert (out / f'grid_{job.name}.png').read_bytes() == b'grid of the last checkpoint'
    assert (out / f'curve_{job.name}.png').exists() and (out / 'table.json').exists()
    assert (out / 'curves_A.png').stat().st_size > 0  # every row of the assignment on one figure


def test_settle_draws_an_assignments_rows_against_the_images_they_have_seen(tmp_path, monkeypatch):
    from rift import curves, settle

    point = {
        'step': 1000,
        'acc': 0.3,
        'rand_acc': 0.13,
        'wacv2022': {'content_preservation': 0.5, 'style_accuracy': 0.1},
    }
    curve = {'points': [point, point | {'step': 2000, 'acc': 0.4}]}
    (tmp_path / 'curve_rift-exported-A-seed0.json').write_text(json.dumps(curve))
    (tmp_path / 'curve_rift-exported-A-seed1.json').write_text(json.dumps(curve))  # not seed 0: not drawn
    cell = {'acc': 0.25, 'steps': 12000, 'wacv2022': point['wacv2022']}
    rows = {'CycleGAN | A | 0': cell, 'CycleGAN | B | 0': cell | {'wacv2022': None}}  # B: no metrics, no point
    (tmp_path / 'table.json').write_text(json.dumps({'rows': rows}))
    drawn = {}
    monkeypatch.setattr(curves, 'compare', lambda runs, path, title: drawn.update({path: runs}) or path)
    assert settle.compare_curves(str(tmp_path)) == [str(tmp_path / 'curves_A.png')]
    last = {'points': [{'step': 12000, 'acc': 0.25, 'wacv2022': point['wacv2022']}]}
    assert drawn[str(tmp_path / 'curves_A.png')] == {'RIFT exported': (curve, 8), 'CycleGAN, last only': (last, 4)}
    monkeypatch.undo()
    path = curves.compare(drawn[str(tmp_path / 'curves_A.png')], str(tmp_path / 'figure.png'), 'title')
    assert os.path.getsize(path) > 0


def test_settle_traces_the_style_channel_from_the_runs_metrics(tmp_path):
    from rift import settle

    lines = [{'step': 10, 'style/mean_abs': 0.39}, {'step': 500, 'style/mean_abs': 0.2}, {'step': 1000}]
    lines += [{'step': 1000, 'style/mean_abs': 0.083}, {'step': 2000, 'style/mean_abs': 0.03119}]
    (tmp_path / 'metrics.jsonl').write_text('\n'.join(json.dumps(r) for r in lines) + '\n')
    assert settle.style_trace(str(tmp_path)) == [(10, 0.39), (1000, 0.083), (2000, 0.0312)]
    assert settle.style_trace(str(tmp_path / 'missing')) == []


def test_settle_keeps_committed_rows_on_a_fresh_clone_instead_of_training_them_again(tmp_path, monkeypatch):
    from common import grid
    from rift import settle

    committed = tmp_path / 'results'
    committed.mkdir()
    cell = {'acc': 0.5, 'a2b': 0.4, 'b2a': 0.6, 'steps': 12000}
    rows = {'RIFT exported | A | 0': cell, 'a row of an older table | A | 0': cell}
    (committed / 'table.json').write_text(json.dumps({'rows': rows}))
    monkeypatch.setattr(settle, 'OUT', str(committed))
    trained = []
    monkeypatch.setattr(grid, 'run_jobs', lambda jobs, root, reuse: trained.extend(jobs) or {jobs[0].name: None})
    table = settle.run(str(tmp_path / 'runs'))
    names = [j.name for j in settle.jobs()]
    assert [j.name for j in trained] == [n for n in names if n != 'rift-exported-A-seed0']  # not trained again
    assert settle.committed_cells(str(committed)) == {('RIFT exported', 'A', 0): cell}
    assert table == {} or list(table['rows']) == ['RIFT exported | A | 0']
    rows_after = json.loads((committed / 'table.json').read_text())['rows']
    assert rows_after['RIFT exported | A | 0'] == cell  # still in the table
    trained.clear()
    settle.run(str(tmp_path / 'runs'), only=('rift-exported-A-seed0',))  # named: trained again
    assert [j.name for j in trained] == ['rift-exported-A-seed0']


def test_a_cyclegan_on_a_rift_world_gets_a_budget_curve_scored_by_the_protocol(tmp_path):
    from common import train
    from common.cyclegan import config as cyclegan_config
    from common.cyclegan import method as cyclegan_method
    from rift import curves

    config = cyclegan_config.get_config('tiny')
    config.data.task, config.data.roles, config.data.camera = 'factor_domains', 'A', 'close'
    config.train.steps, config.train.keep_every = 4, 2
    workdir = str(tmp_path / 'cyclegan')
    train.train_and_evaluate(cyclegan_method.make(config), config, workdir)
    curve = curves.score_cyclegan_run(workdir, 'A')
    assert [p['step'] for p in curve['points']] == [2, 4]
    final = experiments.cyclegan_scores(workdir, 'A')  # the newest checkpoint, cached in the run
    assert curve['last']['acc'] == pytest.approx(final['cyclegan']['acc'])
    assert curve['last']['spread_a2b'] == pytest.approx(final['source_spread']['cyclegan_a2b'])
    assert 0 <= curve['points'][0]['acc'] <= 1 and curve['points'][0]['spread_exact_a2b'] is None
    assert curves.score_cyclegan_run(workdir, 'A') == curve  # nothing rescored
    assert os.path.exists(curves.plot({'cyclegan': curve}, str(tmp_path / 'curve.png')))


def test_settle_gives_3ds_and_rd_for_rows_on_every_assignment():
    from rift import settle, settle_table

    def cell(r, specific, shared):
        return settle._cell({'translator': 'rift', 'rift': _scores(r, specific, shared)}, None, 'RIFT exported')

    cells = {('RIFT exported', r, 0): cell(r, 0.9, 0.6) for r in ROLES}
    cells[('CycleGAN', 'A', 0)] = cell('A', 0.2, 0.8)  # one assignment only: no 3DS, no RD
    table, lines = settle_table.summarize(cells)
    assert list(table['across']) == ['RIFT exported | 0']
    rift = table['across']['RIFT exported | 0']
    # every factor is specific (0.9) somewhere and shared (0.6) elsewhere: RD = 100 * 6 * 0.3 / (6 * 1.5)
    assert rift['3ds'] == pytest.approx(0.75) and rift['rd'] == pytest.approx(20.0)
    assert '| RIFT exported | 0 | 75 | 75 | 75 | 75 | 20 | 88 / 6 |' in '\n'.join(lines)


def test_settle_sweeps_the_style_channel_and_spreads_the_seeds():
    from rift import settle, settle_table

    def cell(specific, shared, style=None):
        out = settle._cell({'translator': 'rift', 'rift': _scores('A', specific, shared)}, None, 'RIFT exported')
        return out | ({'style_mean_abs': [(10, 0.4), (12000, style)]} if style is not None else {})

    cells = {
        ('RIFT exported', 'A', 0): cell(0.1, 0.3, style=0.006),
        ('RIFT unlimited', 'A', 0): cell(0.6, 0.6),
        ('RIFT exported', 'A', 1): cell(0.2, 0.4),
        ('RIFT exported', 'A', 2): cell(0.3, 0.5),
        ('RIFT exported, style noise 0', 'B', 0): cell(0.9, 0.9),  # not A: not in the sweep
    }
    table, lines = settle_table.summarize(cells)
    sweep = table['capacity']
    assert [v['row'] for v in sweep] == ['RIFT unlimited', 'RIFT exported']  # widest channel first
    # guide (target-specific) 0.1, source (shared) 0.3: imbalance 100 * 0.2 / 0.4
    assert sweep[1]['acc_guide'] == pytest.approx(0.1) and sweep[1]['acc_source'] == pytest.approx(0.3)
    assert sweep[1]['imbalance'] == pytest.approx(50.0) and sweep[0]['imbalance'] == pytest.approx(0.0)
    assert sweep[1]['style_mean_abs'] == 0.006 and sweep[0]['style_mean_abs'] is None
    text = '\n'.join(lines)
    assert '| RIFT exported | 0.5 | 20 | 10 | 30 | 50 | 0.006 |' in text
    # A: A -> B takes scale (8) and orientation (15) from the guide, B -> A floor and wall hue (10, 10);
    # both keep object hue (10) and shape (4) from the source
    chance = ((1 / 8 + 1 / 15) / 2 + 0.1) / 2, (0.1 + 0.25) / 2
    assert settle_table.chance_guide_source() == pytest.approx(chance)
    assert 'Chance (a uniformly random value of each factor): guide 10, source 18.' in text
    seeds = table['seeds']['RIFT exported | A']
    accs = [cells[('RIFT exported', 'A', s)]['acc'] for s in (0, 1, 2)]
    assert seeds['seeds'] == [0, 1, 2] and seeds['mean'] == pytest.approx(np.mean(accs))
    assert seeds['sd'] == pytest.approx(np.std(accs, ddof=1))
    assert '| RIFT exported | A | 3 | 20, 30, 40 | 30 | 10.0 |' in text
    # per seed, the capacity sweep's split: seed 1 guide 0.2, source 0.4, imbalance 100 * 0.2 / 0.6
    assert seeds['channel'][0] == {k: sweep[1][k] for k in ('acc_guide', 'acc_source', 'imbalance', 'style_mean_abs')}
    assert seeds['channel'][1]['imbalance'] == pytest.approx(100 * 0.2 / 0.6)
    assert '| RIFT exported | 1 | 20 | 40 | 33 |  |' in text and '| RIFT exported | 0 | 10 | 30 | 50 | 0.006 |' in text
    assert list(table['seeds']) == ['RIFT exported | A']  # one seed elsewhere: no spread
    assert settle_table.summarize({('RIFT exported', 'A', 0): cells[('RIFT exported', 'A', 0)]})[0]['capacity'] == [
        sweep[1]
    ]
    assert 'capacity sweep' not in '\n'.join(
        settle_table.summarize({('RIFT exported', 'A', 0): cells[('RIFT exported', 'A', 0)]})[1]
    )
