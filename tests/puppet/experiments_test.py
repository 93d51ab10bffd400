"""puppet.experiments: the job order (seed 0 of every row first) and the table from finished runs."""

import pytest

from puppet import experiments


def test_seed_zero_of_every_row_comes_first_with_the_bound_and_both_size_settings():
    names = [j.name for j in experiments.jobs((0, 1, 2), ('rotation', 'size'), quick=False)]
    first = [
        f'{m}-{t}-seed0' for t in ('rotation', 'size', 'size_varied') for m in ('puppetgan', 'supervised', 'cyclegan')
    ]
    assert names[:9] == first
    later = [f'puppetgan-{t}-seed{s}' for s in (1, 2) for t in ('rotation', 'size', 'size_varied')]
    assert names[9:] == later
    jobs = {j.name: j for j in experiments.jobs((0,), ('size',), quick=False)}
    cyc = jobs['cyclegan-size_varied-seed0']
    assert cyc.overrides['data.task'] == 'size' and cyc.overrides['data.source'] == 'puppet_digits'
    assert (
        cyc.overrides['data.real_min_scale'] == 0.5
        and 'data.real_min_scale' not in jobs['cyclegan-size-seed0'].overrides
    )
    assert jobs['supervised-size-seed0'].variant == 'supervised'
    cyc.config()  # the CycleGAN config carries the field it is given


def _row(acc, r_attr):
    return {
        'acc': acc,
        'acc_true_label': acc - 0.1,
        'r_attr': r_attr,
        'r_rest': 0.1,
        'r_rest_abs': 0.2,
        'v_rest_std01': 0.05,
        'v_rest_var': 0.01,
        'classifier_test_accuracy': 0.95,
    }


def test_table_rows_state_their_seeds_and_sit_beside_the_paper():
    per_run = {
        'puppetgan-rotation-seed0': _row(0.9, 0.5),
        'puppetgan-rotation-seed1': _row(0.7, 0.3),
        'puppetgan-rotation-seed2': None,
        'cyclegan-rotation-seed0': _row(0.2, 0.6),
    }
    per_run['puppetgan-rotation-seed0']['ceiling'] = {'acc': 0.95}
    per_run['puppetgan-rotation-seed0']['acc_central'] = 0.97
    result, lines = experiments.summarize(per_run, (0, 1, 2), ('rotation', 'size'))
    row = result['rows']['rotation/PuppetGAN']
    assert row['seeds'] == [0, 1] and row['mean']['acc'] == pytest.approx(0.8)
    assert row['sd']['r_attr'] == pytest.approx(0.1414, abs=1e-3)
    assert row['range']['r_attr'] == pytest.approx([0.3, 0.5])
    assert result['rows']['rotation/CycleGAN']['sd'] is None and result['rows']['rotation/CycleGAN']['range'] is None
    text = '\n'.join(lines)
    assert (
        '| rotation | PuppetGAN | 0,1 | 0.80 (0.70 to 0.90) | 0.95 | 0.97 |' in text
        and '0.97 / 0.40 / 0.11 / 0.01' in text
    )
    assert '| size, MNIST sizes | PuppetGAN | (not run yet) |' in text and '0.64 / 0.28 / 0.07 / 0.01' in text
    assert '| size, varied | supervised | (not run yet) |' in text


def test_the_ceiling_row_scores_the_exact_manipulation_as_a_model_by_every_runs_judge():
    """The exact manipulation's own numbers, averaged over the ceilings of a setting's runs (each
    run's judge scores it), as a row of its own; a setting with no run has none."""
    ceiling = {'acc': 0.9, 'acc_central': 0.96, 'acc_true_label': 0.9, 'r_attr': 1.0, 'r_rest': 0.0}
    ceiling |= {'r_rest_abs': 0.0, 'v_rest_std01': 0.0, 'v_rest_var': 0.0}
    per_run = {
        'puppetgan-rotation-seed0': _row(0.8, 0.9) | {'ceiling': ceiling},
        'supervised-rotation-seed0': _row(0.85, 0.95) | {'ceiling': ceiling | {'acc': 0.94}},
    }
    result, lines = experiments.summarize(per_run, (0,), ('rotation', 'size'))
    assert result['exact']['rotation']['acc'] == pytest.approx(0.92) and list(result['exact']) == ['rotation']
    assert '| rotation | exact (ceiling) | | 0.92 | 0.92 | 0.96 | 1.00 | 0.00 | 0.00 | 0.000 | 0.000 | |' in lines
    assert 'rotation/exact' not in result['rows']  # the claims read model rows only


def test_ablation_reuses_the_tables_rotation_run_and_writes_a_row_per_recipe():
    from puppet import ablation

    jobs = {j.name: j for j in ablation.jobs(quick=False)}
    table_job = experiments.jobs((0,), ('rotation',), quick=False)[0]
    assert jobs['puppetgan-rotation-seed0'] == table_job  # the winning data is the table's finished run
    assert jobs['puppetgan-rotation-summed-seed0'].overrides['loss.adv_reduce'] == 'sum'
    assert jobs['puppetgan-rotation-adam-per-decoder-seed0'].overrides['optim.per_decoder'] is True
    for job in jobs.values():
        config = job.config()  # every override is a field of the config
        wide = job.name != 'puppetgan-rotation-seed0'  # the rows measured on the first table's data
        assert (config.data.max_angle, config.data.min_scale, config.data.max_thickness) == (
            (45.0, 0.5, 6) if wide else (40.0, 0.75, 1)
        )
    result = {'acc': 0.7, 'r_attr': 0.9, 'r_rest': -0.2, 'r_rest_abs': 0.5, 'v_rest_std01': 0.02}
    table, lines = ablation.summarize({'puppetgan-rotation-seed0': result | {'ceiling': {'acc': 0.93}}})
    assert table['rows'] == {'shipped-like data': result | {'ceiling_acc': 0.93}}
    assert (
        '| shipped-like data | (the rotation config: angles +-40, scales 0.75-1, strokes 0-1) | 0.70 | 0.93 '
        '| 0.90 | -0.20 (0.50) | 0.020 |'
    ) in lines
    summed = '--config.data.max_angle=45.0 --config.data.min_scale=0.5 --config.data.max_thickness=6 '
    assert f'| summed | {summed}--config.loss.adv_reduce=sum | (not run yet) | | | | |' in lines


def test_every_job_of_a_task_draws_its_tasks_synthetic_ranges_whatever_its_variant():
    ranges = {'rotation': (40.0, 0.75, 1), 'size': (45.0, 0.5, 6)}
    for job in experiments.jobs((0, 1), ('rotation', 'size'), quick=False):
        c = job.config()
        assert (c.data.max_angle, c.data.min_scale, c.data.max_thickness) == ranges[c.data.task], job.name


def test_run_keeps_each_puppet_runs_budget_curve_and_grid_beside_the_table(tmp_path, monkeypatch):
    import json

    from common import grid
    from puppet import baseline, curves, experiments

    root = tmp_path / 'runs'
    job = experiments.jobs((0,), ('rotation',), quick=True)[0]  # puppetgan-rotation-seed0
    (root / job.name).mkdir(parents=True)
    (root / job.name / 'manipulation.png').write_bytes(b'the last grid')
    curve = {'points': [{'step': 4, 'acc': 0.5}]}
    monkeypatch.setattr(grid, 'PARTIAL_ROOT', str(tmp_path / 'partial'))
    monkeypatch.setattr(grid, 'run_jobs', lambda jobs, r, reuse: {j.name: {'acc': 0.5} for j in jobs})
    monkeypatch.setattr(experiments, 'validate_estimators', lambda out: None)
    monkeypatch.setattr(baseline, 'cyclegan_metrics', lambda *a, **k: {'acc': 0.1})
    monkeypatch.setattr(experiments, 'summarize', lambda per_run, seeds, tasks: ({'rows': {}}, []))
    monkeypatch.setattr(curves, 'score_run', lambda w: curve if w.endswith(job.name) else {'points': []})
    cyclegan_curve = {'points': [{'step': 4, 'acc': 0.1}]}
    monkeypatch.setattr(baseline, 'cyclegan_curve', lambda w, task, quick: task == 'rotation' and cyclegan_curve)
    drawn = {}
    monkeypatch.setattr(curves, 'plot', lambda c, path, title=None: drawn.update({path: c}) or path)
    experiments.run((0,), ('rotation',), str(root), quick=True)
    out = tmp_path / 'partial' / 'puppet'
    # the task's rows on one figure, each with its own curve (the bound's run gave none: empty)
    together = drawn[str(out / 'curves_rotation.png')]
    assert together == {'PuppetGAN': curve, 'CycleGAN': cyclegan_curve, 'supervised bound': {'points': []}}
    assert json.loads((out / f'curve_{job.name}.json').read_text()) == curve
    assert json.loads((out / 'curve_cyclegan-rotation-seed0.json').read_text()) == cyclegan_curve
    assert (out / 'grid_rotation_puppetgan.png').read_bytes() == b'the last grid'


def test_a_fresh_clone_keeps_the_committed_runs_instead_of_training_them_again(tmp_path, monkeypatch):
    import json

    from common import grid

    result = {'acc': 0.7, 'ceiling': {'acc': 0.9}}
    rows = {
        'rotation/PuppetGAN': {'per_seed': {'0': result}},
        'size, varied/supervised': {'per_seed': {'0': result}},
        'a retired task/PuppetGAN': {'per_seed': {'0': result}},
    }
    (tmp_path / 'table.json').write_text(json.dumps({'rows': rows}))
    assert experiments.committed_runs(str(tmp_path)) == {
        'puppetgan-rotation-seed0': result,
        'supervised-size_varied-seed0': result,
    }
    monkeypatch.setattr(experiments, 'OUT', str(tmp_path))
    monkeypatch.setattr(experiments, 'validate_estimators', lambda out: None)
    trained, tables = [], []
    monkeypatch.setattr(grid, 'run_jobs', lambda jobs, r, reuse: trained.extend(jobs) or {jobs[0].name: None})
    monkeypatch.setattr(grid, 'FAILED', [])
    monkeypatch.setattr(experiments, 'summarize', lambda per_run, s, t: tables.append(dict(per_run)) or ({}, []))
    monkeypatch.setattr(experiments, 'write_result', lambda *a: None)
    experiments.run(root=str(tmp_path / 'runs'))
    names = [j.name for j in experiments.jobs(experiments.SEEDS, experiments.TASKS, quick=False)]
    assert [j.name for j in trained] == [
        n for n in names if n not in ('puppetgan-rotation-seed0', 'supervised-size_varied-seed0')
    ]
    assert tables[-1]['puppetgan-rotation-seed0'] == result and tables[-1]['supervised-size_varied-seed0'] == result


def test_only_trains_the_named_jobs_and_the_table_holds_every_finished_run_under_the_root(tmp_path, monkeypatch):
    import json

    from common import grid
    from puppet import curves

    root = tmp_path / 'runs'
    elsewhere = experiments.jobs((0,), ('rotation',), quick=True)[0]  # finished by another invocation
    (root / elsewhere.name).mkdir(parents=True)
    (root / elsewhere.name / 'config.json').write_text(elsewhere.config().to_json())
    (root / elsewhere.name / 'results.json').write_text(json.dumps({'acc': 0.6}))
    trained, tables = [], []
    monkeypatch.setattr(grid, 'PARTIAL_ROOT', str(tmp_path / 'partial'))
    monkeypatch.setattr(
        grid, 'run_jobs', lambda jobs, r, reuse: trained.extend(j.name for j in jobs) or {jobs[0].name: {'acc': 0.5}}
    )
    monkeypatch.setattr(experiments, 'validate_estimators', lambda out: None)
    monkeypatch.setattr(curves, 'score_run', lambda w: {'points': []})
    monkeypatch.setattr(curves, 'plot', lambda c, path, title=None: path)
    monkeypatch.setattr(
        experiments, 'summarize', lambda per_run, s, t: tables.append(dict(per_run)) or ({'rows': {}}, [])
    )
    experiments.run((0,), ('rotation',), str(root), quick=True, only=('supervised-rotation-seed0',))
    assert trained == ['supervised-rotation-seed0']
    assert tables[-1] == {elsewhere.name: {'acc': 0.6}, 'supervised-rotation-seed0': {'acc': 0.5}}
    with pytest.raises(SystemExit) as exit_:  # a name that is no job of the table: one line, exit 2
        experiments.main(['--quick', '--tasks=rotation', '--only=puppetgan-rotaton-seed0'])
    assert exit_.value.code == 2


def test_a_cyclegan_row_gets_a_budget_curve_scored_like_puppetgans(tmp_path):
    from common import train
    from common.cyclegan import config as cyclegan_config
    from common.cyclegan import method as cyclegan_method
    from puppet import baseline

    config = cyclegan_config.get_config('tiny')
    for field, value in experiments.cyclegan_overrides('size', quick=True).items():
        section, key = field.split('.')
        config[section][key] = value
    workdir = str(tmp_path / 'cyclegan-size-seed0')
    train.train_and_evaluate(cyclegan_method.make(config), config, workdir)
    curve = baseline.cyclegan_curve(workdir, 'size', quick=True)
    assert [p['step'] for p in curve['points']] == [2, 4]
    final = baseline.cyclegan_metrics(workdir, 'size', quick=True)  # the newest checkpoint, cached
    assert (
        curve['last']['acc'] == pytest.approx(final['acc']) and curve['last']['ceiling_acc'] == final['ceiling']['acc']
    )
    assert baseline.cyclegan_curve(workdir, 'size', quick=True) == curve  # nothing rescored
