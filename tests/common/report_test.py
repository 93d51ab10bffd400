"""common.report gathers runs into one table and one overlay plot."""

import json

from common import report


def _fake_run(path, distance, lr):
    path.mkdir()
    (path / 'results.json').write_text(json.dumps({'final_distance': distance, 'lr': lr, 'objective': 'dual'}))
    (path / 'metrics.jsonl').write_text(
        '\n'.join(json.dumps({'step': s, 'loss/distance': distance + 1.0 / (s + 1)}) for s in range(5))
    )


def test_report_table_and_plot(tmp_path, capsys):
    _fake_run(tmp_path / 'dual', -0.69, 0.3)
    _fake_run(tmp_path / 'minmax', -0.5, 0.3)
    (tmp_path / 'unfinished').mkdir()
    out = str(tmp_path / 'rep')
    assert report.main([str(tmp_path / '*'), f'--out={out}']) == 0
    table = open(out + '.md').read()
    assert '| dual | -0.69 | 0.3 | dual |' in table and '| minmax | -0.5 |' in table
    assert 'unfinished' not in table
    assert (tmp_path / 'rep.png').stat().st_size > 1000


def test_report_without_results_is_a_clear_error(tmp_path, capsys):
    assert report.main([str(tmp_path / 'none'), f'--out={tmp_path / "r"}']) == 2
    assert 'holds a results.json' in capsys.readouterr().err
