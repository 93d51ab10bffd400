"""The reproduction report: built from the committed result files, verdicts computed from the
numbers, the committed report/README.md current."""

import json
import os

import pytest

from common import claims, report, reproduction


def test_the_committed_report_is_what_the_command_builds():
    with open(reproduction.REPORT) as f:
        committed = f.read()
    assert reproduction.build() == committed, 'report/README.md is stale: run python -m common.report --all'
    for claim in reproduction.CLAIMS:  # every claim's file is committed and read
        assert os.path.exists(os.path.join(reproduction.results_folder(claim.method, quick=False), claim.file))
    assert '| no result yet |' not in committed


@pytest.mark.parametrize(
    'numbers, verdict',
    [
        ({'affine T': 0.47, 'RealNVP T': -0.08}, 'reproduced'),
        ({'affine T': 0.05, 'RealNVP T': -0.08}, 'not at this scale'),  # no failure signal
        ({'affine T': 0.47, 'RealNVP T': 0.6}, 'not at this scale'),  # the flexible T does not align
    ],
)
def test_verdicts_follow_the_numbers(numbers, verdict):
    assert claims._moons_verdict(numbers)[0] == verdict
    assert '0.47' in claims._moons_verdict({'affine T': 0.47, 'RealNVP T': 0.0})[1]


def test_defence_verdict_partly_when_one_defence_fails():
    base = {'plain RH / SN(8)': (1.0, 1.0)}
    good = {
        f'{n}: {k}': v
        for n in ('noise', 'guess', 'guess_noise')
        for k, v in (('RH ratio', 0.5), ('SN(8) ratio', 0.5), ('accuracy change', 0.0))
    }
    assert claims._defence_verdict(base | good)[0] == 'reproduced'
    assert claims._defence_verdict(base | good | {'noise: RH ratio': 1.2})[0] == 'partly'


def test_puppet_verdict_reads_each_task_against_its_bound_or_says_it_has_only_the_ceiling():
    rows = {
        'rotation/PuppetGAN: Acc (ceiling) / r_attr': (0.77, 0.94, 0.89),
        'rotation/supervised: Acc (ceiling) / r_attr': (0.93, 0.94, 0.98),
    }
    verdict, why = claims._puppet_verdict(rows)
    assert verdict == 'partly' and 'Acc 0.77 against the bound 0.93 (ceiling 0.94)' in why
    rows['size/PuppetGAN: Acc (ceiling) / r_attr'] = (0.79, 0.96, -0.65)  # no supervised row yet
    verdict, why = claims._puppet_verdict(rows)
    assert 'size: r_attr -0.65, Acc 0.79 against the ceiling 0.96' in why and 'bound 0.96' not in why
    good = {'rotation/PuppetGAN: Acc (ceiling) / r_attr': (0.9, 0.94, 0.9)}
    assert claims._puppet_verdict(good | {'rotation/supervised: Acc (ceiling) / r_attr': (0.93, 0.94, 1)})[0] == (
        'reproduced'
    )


def test_rift_verdict_reads_3ds_and_rd_across_the_assignments_once_they_are_in():
    table = {
        'rows': {'RIFT exported | A | 0': {'acc': 0.21, 'steps': 12000, 'rand': 0.13, 'wacv2022': {}}},
        'across': {
            'RIFT exported | 0': {'3ds': 0.20, 'rd': 44.0},
            'supervised, target margin | 0': {'3ds': 0.90, 'rd': 1.3},
        },
    }
    verdict, why = claims._settle_rift_verdict(claims._settle_rift_ours(table))
    assert verdict == 'not at this scale' and '3DS 20, RD 44' in why and 'reach 90 / 1' in why
    table['across']['RIFT exported | 0'] = {'3ds': 0.85, 'rd': 9.0}
    assert claims._settle_rift_verdict(claims._settle_rift_ours(table))[0] == 'reproduced'
    table['across']['RIFT exported | 0'] = {'3ds': 0.60, 'rd': 30.0}
    assert claims._settle_rift_verdict(claims._settle_rift_ours(table))[0] == 'partly'
    del table['across']  # before C is in: assignment A's row
    assert 'ACC 0.21' in claims._settle_rift_verdict(claims._settle_rift_ours(table))[1]


def test_a_missing_result_names_its_command(tmp_path, monkeypatch):
    monkeypatch.setattr(reproduction, 'results_folder', lambda method, quick: str(tmp_path / method))
    text = reproduction.build()
    assert text.count('| no result yet |') == len(reproduction.CLAIMS)
    assert '`python -m rift.settle` writes `rift/results/settle/table.json`' in text


def test_all_flag_writes_only_the_report_and_refuses_run_folders(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(reproduction, 'REPORT', str(tmp_path / 'report' / 'README.md'))
    assert report.main(['--all']) == 0
    assert (tmp_path / 'report' / 'README.md').read_text() == reproduction.build()
    for argv, match in (
        (['--all', 'runs/x'], 'give no run folders'),
        (['--rerun'], '--rerun and --quick go with --all'),
    ):
        with pytest.raises(SystemExit):
            report.main(argv)
        assert match in capsys.readouterr().err
    assert json.dumps(sorted(os.listdir(tmp_path))) == '["report"]'


def test_rerun_runs_every_grid_in_order_and_quick_writes_under_runs(tmp_path, monkeypatch, capsys):
    calls = []

    class Done:
        returncode = 0

    monkeypatch.setattr(reproduction.subprocess, 'run', lambda cmd, cwd: calls.append(cmd[2:]) or Done())
    monkeypatch.chdir(tmp_path)
    assert reproduction.main(rerun_grids=True, quick=True) == 0
    assert calls == [quick for _, _, quick in reproduction.RERUN if quick is not None]
    assert all(c[-1] == '--quick' or c == ['lrmf.experiments', 'gmm'] for c in calls)
    assert (tmp_path / 'runs' / 'partial-results' / 'report' / 'README.md').exists()
    assert '[1/' in capsys.readouterr().err
    calls.clear()

    class Failed:
        returncode = 1

    monkeypatch.setattr(reproduction.subprocess, 'run', lambda cmd, cwd: calls.append(cmd[2:]) or Failed())
    monkeypatch.setattr(reproduction, 'REPORT', str(tmp_path / 'report.md'))
    assert reproduction.main(rerun_grids=True, quick=False) == 1  # a failed grid is exit status 1
    assert len(calls) == len(reproduction.RERUN) and 'grid(s) failed' in capsys.readouterr().err
