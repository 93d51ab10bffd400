"""common.grid: the one grid runner, and committed results written only by a full grid."""

import json
import os

import pytest

from common import grid
from dualadv import experiments as dualadv_experiments

FAKE_RUN_PY = """
import json, os, sys
args = dict(a.split('=', 1) for a in sys.argv[1:] if '=' in a)
if 'lrmf' in args['--config']:
    print('run.py: error: config.x is not valid', file=sys.stderr)
    sys.exit(2)
os.makedirs(args['--workdir'], exist_ok=True)
with open(os.path.join(args['--workdir'], 'results.json'), 'w') as f:
    json.dump({'config': args['--config'], 'overwrite': '--overwrite' in sys.argv, 'steps': 1}, f)
"""


def test_run_jobs_runs_each_job_reuses_and_reports_failures(tmp_path, monkeypatch, capsys):
    fake = tmp_path / 'run.py'
    fake.write_text(FAKE_RUN_PY)
    monkeypatch.setattr(grid, 'RUN_PY', str(fake))
    monkeypatch.setattr(grid, 'FAILED', [])
    jobs = [grid.Job('one', 'dualadv', 'tiny', {'seed': 1}), grid.Job('two', 'lrmf', 'tiny')]
    seconds = {}
    done = grid.run_jobs(jobs, str(tmp_path / 'root'), workers=2, overwrite=True, seconds=seconds)
    assert done['one'] == {'config': 'dualadv/config.py:tiny', 'overwrite': True, 'steps': 1}
    assert done['two'] is None and set(seconds) == {'one', 'two'}
    err = capsys.readouterr().err
    assert 'one: ok' in err and 'two: FAILED: run.py: error: config.x is not valid' in err
    assert grid.FAILED == ['two'] and grid.exit_status() == 1
    assert '1 run(s) failed: two' in capsys.readouterr().err
    assert grid.results_dir('dualadv/results', 'dualadv', full=True) != 'dualadv/results'  # not after a failure
    reused = grid.run_jobs(jobs[:1], str(tmp_path / 'root'), reuse=lambda job, workdir: True)
    assert reused['one']['overwrite'] is True and 'one: reusing' in capsys.readouterr().err


def test_int_list_and_one_line_errors(capsys):
    assert grid.int_list('0,1,2') == (0, 1, 2)
    parser = grid.OneLineParser(prog='prog')
    parser.add_argument('--seeds', type=grid.int_list)
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(['--seeds=a'])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["prog: error: argument --seeds: 'a' is not valid; give comma-separated integers, e.g. 0,1,2"]


def _snapshot(folder):
    return {name: open(os.path.join(folder, name), 'rb').read() for name in sorted(os.listdir(folder))}


def test_a_quick_grid_leaves_the_committed_results_alone(tmp_path, monkeypatch, capsys):
    """dualadv.experiments --quick: tables under runs/partial-results/, every path printed."""
    committed = _snapshot(dualadv_experiments.RESULTS)

    def fake_run_jobs(jobs, root, **kw):
        out = {}
        for job in jobs:
            os.makedirs(os.path.join(root, job.name))
            with open(os.path.join(root, job.name, 'metrics.jsonl'), 'w') as f:
                f.write(json.dumps({'step': 1, 'loss/distance': -0.6, 'align/error': 0.1}) + '\n')
            out[job.name] = {'final_train_error': 0.1, 'ups_distance': 0, 'steps': 1}
        return out

    monkeypatch.setattr(grid, 'run_jobs', fake_run_jobs)
    monkeypatch.chdir(tmp_path)
    assert dualadv_experiments.main(['--quick', f'--root={tmp_path / "grid"}']) == 0
    assert _snapshot(dualadv_experiments.RESULTS) == committed
    partial = tmp_path / 'runs' / 'partial-results' / 'dualadv'
    written = [line.split(' ', 1)[1] for line in capsys.readouterr().err.splitlines() if line.startswith('wrote ')]
    assert sorted(os.path.join(tmp_path, w) for w in written) == sorted(str(p) for p in partial.iterdir())
    rows = json.load(open(partial / 'experiments.json'))
    assert (
        rows['points_rbf-lr0.3-seed0'] == {'final_train_error': 0.1, 'ups_distance': 0, 'steps': 1} and len(rows) == 8
    )


def test_full_grid_writes_the_committed_folder():
    assert grid.results_dir('dualadv/results', 'dualadv', full=True) == 'dualadv/results'
    assert grid.results_dir('dualadv/results', 'dualadv', full=False) == os.path.join(
        'runs', 'partial-results', 'dualadv'
    )


def test_a_job_is_data_its_flags_give_its_config(tmp_path):
    """The flags a job passes run.py parse back to `job.config()`, and `finished` compares the run's
    recorded config with it as values (a field added since counts as its default)."""
    import ml_collections
    from absl import flags
    from ml_collections import config_flags

    job = grid.Job('x', 'cyclegan', 'guess', {'seed': 3, 'loss.cycle_a': 1, 'model.fast_convs': True})
    assert job.flags()[0] == '--config=common/cyclegan/config.py:guess'
    holder = flags.FlagValues()  # as run.py parses them: the config file first, then each override
    argv = [__file__, f'--config={grid.CODE_ROOT}/{job.config_spec()}', *job.flags()[1:]]
    config_flags.DEFINE_config_file('config', flag_values=holder, sys_argv=argv)
    holder(argv)
    assert isinstance(holder.config, ml_collections.ConfigDict)
    assert holder.config.to_json() == job.config().to_json()
    assert job.config().loss.cycle_a == 1.0 and job.config().seed == 3
    with pytest.raises(KeyError, match='config.loss.typo does not exist'):
        grid.Job('y', 'cyclegan', 'guess', {'loss.typo': 1}).config()

    workdir = tmp_path / 'x'
    workdir.mkdir()
    (workdir / 'config.json').write_text(job.config().to_json())
    assert not grid.finished(job, str(workdir))  # no results.json yet
    (workdir / 'results.json').write_text(json.dumps({'steps': job.config().train.steps}))
    assert grid.finished(job, str(workdir))
    assert not grid.finished(job._replace(overrides={**job.overrides, 'seed': 4}), str(workdir))


def test_an_installed_copy_never_writes_into_its_package(tmp_path, monkeypatch):
    """Without a checkout around the code (an installed wheel), even a full grid's tables go
    under the working folder's runs/partial-results/."""
    monkeypatch.setattr(grid, 'CODE_ROOT', str(tmp_path / 'site-packages'))
    monkeypatch.setattr(grid, 'FAILED', [])
    assert grid.results_dir('pkg/results', 'dualadv', full=True) == os.path.join('runs', 'partial-results', 'dualadv')


def test_a_grid_whose_every_run_failed_writes_nothing_and_exits_1(tmp_path, monkeypatch, capsys):
    def all_fail(jobs, root, **kw):
        grid.FAILED.extend(job.name for job in jobs)
        return {job.name: None for job in jobs}

    monkeypatch.setattr(grid, 'FAILED', [])
    monkeypatch.setattr(grid, 'run_jobs', all_fail)
    monkeypatch.chdir(tmp_path)
    committed = _snapshot(dualadv_experiments.RESULTS)
    assert dualadv_experiments.main(['--quick', f'--root={tmp_path / "grid"}']) == 1
    err = capsys.readouterr().err
    assert 'every run failed; nothing was written' in err and 'run(s) failed: points_linear-lr0.3-seed0' in err
    assert _snapshot(dualadv_experiments.RESULTS) == committed and not (tmp_path / 'runs').exists()
