"""common.grid: the one grid runner, and committed results written only by a full grid."""

import json
import os

import pytest

from common import grid
from dualadv import experiments as dualadv_experiments

FAKE_RUN_PY = """
import json, os, sys
args = dict(a.split('=', 1) for a in sys.argv[1:] if '=' in a)
if 'fail' in args['--config']:
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
    jobs = [grid.Job('one', 'm/config.py:a', ('--config.seed=1',)), grid.Job('two', 'fail/config.py:b')]
    seconds = {}
    done = grid.run_jobs(jobs, str(tmp_path / 'root'), workers=2, overwrite=True, seconds=seconds)
    assert done['one'] == {'config': 'm/config.py:a', 'overwrite': True, 'steps': 1}
    assert done['two'] is None and set(seconds) == {'one', 'two'}
    err = capsys.readouterr().err
    assert 'one: ok' in err and 'two: FAILED: run.py: error: config.x is not valid' in err
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
