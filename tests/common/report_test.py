"""common.report gathers runs into one table and one overlay plot, and writes over nothing it did
not write."""

import json

import pytest

from common import report


def _fake_run(path, distance, lr, method='dualadv'):
    path.mkdir(parents=True)
    (path / 'config.json').write_text(json.dumps({'method': method, 'train': {}}))
    (path / 'results.json').write_text(json.dumps({'final_distance': distance, 'lr': lr, 'objective': 'dual'}))
    (path / 'metrics.jsonl').write_text(
        '\n'.join(json.dumps({'step': s, 'loss/distance': distance + 1.0 / (s + 1)}) for s in range(5))
    )


def test_report_table_and_plot(tmp_path, capsys):
    _fake_run(tmp_path / 'dual', -0.69, 0.3)
    _fake_run(tmp_path / 'minmax', -0.5, 0.3)
    _fake_run(tmp_path / 'other', -0.1, 0.1, method='not-a-method')
    (tmp_path / 'unfinished').mkdir()
    out = str(tmp_path / 'rep')
    assert report.main([str(tmp_path / '*'), f'--out={out}']) == 0
    table = open(out + '.md').read()
    assert table.startswith(report.MARKER)
    assert '| dual | -0.69 | 0.3 | dualadv | dual |' in table and '| minmax | -0.5 |' in table
    assert 'unfinished' not in table and 'other' not in table
    err = capsys.readouterr().err
    assert f'skipped {tmp_path / "other"}: its config.json names no method of this codebase' in err
    assert f'skipped {tmp_path / "unfinished"}: it holds no finished run' in err
    assert (tmp_path / 'rep.png').stat().st_size > 1000


def test_two_runs_with_one_folder_name_get_distinct_rows(tmp_path):
    _fake_run(tmp_path / 'a' / 'run', -0.69, 0.3)
    _fake_run(tmp_path / 'b' / 'run', -0.5, 0.1)
    out = str(tmp_path / 'rep')
    assert report.main([str(tmp_path / '*' / 'run'), f'--out={out}']) == 0
    table = open(out + '.md').read()
    assert '| a/run | -0.69 |' in table and '| b/run | -0.5 |' in table


def _error(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        report.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_bad_input_is_one_line_and_other_files_are_never_replaced(tmp_path, capsys):
    assert 'holds a results.json' in _error(capsys, [str(tmp_path / 'none'), f'--out={tmp_path / "r"}'])
    _fake_run(tmp_path / 'dual', -0.69, 0.3)
    run = str(tmp_path / 'dual')
    assert 'not logged by these runs; allowed: loss/distance' in _error(
        capsys, [run, '--metrics=loss/typo', f'--out={tmp_path / "r"}']
    )
    notes = tmp_path / 'notes'
    (tmp_path / 'notes.md').write_text('my notes')
    assert 'notes.md exists; pass --overwrite' in _error(capsys, [run, f'--out={notes}'])
    assert 'was not written by common.report' in _error(capsys, [run, f'--out={notes}', '--overwrite'])
    assert (tmp_path / 'notes.md').read_text() == 'my notes' and not (tmp_path / 'notes.png').exists()
    assert report.main([run, f'--out={tmp_path / "r"}']) == 0
    assert report.main([run, f'--out={tmp_path / "r"}', '--overwrite']) == 0  # its own outputs: replaced
    capsys.readouterr()
    assert 'unrecognized arguments: --bogus' in _error(capsys, [run, '--bogus'])
