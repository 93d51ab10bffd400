"""Committed result files change only from finished work: each command that writes under
`<method>/results/`, given a path or a grid with nothing finished, refuses in one line (exit 2)
and leaves every committed file byte for byte as it was."""

import os

import pytest

from common.cyclegan import experiments as cyclegan_experiments
from rift import experiments as rift_experiments
from rift import settle as rift_settle

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = [os.path.join(ROOT, p, 'results') for p in ('dualadv', 'lrmf', 'common/cyclegan', 'puppet', 'rift')]


def _snapshot():
    out = {}
    for folder in RESULTS:
        for root, _, files in os.walk(folder):
            for name in files:
                path = os.path.join(root, name)
                out[path] = open(path, 'rb').read()
    return out


@pytest.mark.parametrize(
    'main, argv, expected',
    [
        (cyclegan_experiments.main, ['--gpu-check=/path/that/does/not/exist'], 'holds no finished run'),
        (cyclegan_experiments.main, ['--renderer-check=default=/no/such/run'], 'holds no finished run'),
        (cyclegan_experiments.main, ['--renderer-check=default'], "'default' is not valid; give <variant>=<workdir>"),
        (cyclegan_experiments.main, ['--recipe=authors', '--report-only', '--root={tmp}'], 'no finished run'),
        (rift_experiments.main, ['--table', '--root={tmp}'], 'no finished run of this table'),
        (rift_settle.main, ['--table', '--root={tmp}'], 'no finished run of this table'),
    ],
)
def test_nothing_finished_writes_nothing(tmp_path, capsys, main, argv, expected):
    before = _snapshot()
    with pytest.raises(SystemExit) as exit_info:
        main([a.replace('{tmp}', str(tmp_path / 'empty')) for a in argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err
    assert _snapshot() == before
