"""The dualadv notebook runs top to bottom on the tiny config (code cells executed in order)."""

import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_notebook_runs_and_is_stripped(monkeypatch, tmp_path):
    monkeypatch.setenv('MPLBACKEND', 'Agg')
    with open(os.path.join(ROOT, 'dualadv', 'colab.ipynb')) as f:
        nb = json.load(f)
    monkeypatch.setenv('TMPDIR', str(tmp_path))
    namespace = {}
    for cell in nb['cells']:
        if cell['cell_type'] != 'code':
            continue
        assert cell['outputs'] == [] and cell['execution_count'] is None, 'outputs must be stripped'
        exec(compile(''.join(cell['source']), 'colab.ipynb', 'exec'), namespace)  # noqa: S102
    assert namespace['results']['test_map_error_after'] < namespace['results']['test_map_error_before']
    assert os.path.exists(os.path.join(namespace['workdir'], 'alignment.png'))
    assert namespace['sol'].kkt_residual < 1e-4


if __name__ == '__main__':
    sys.exit(pytest.main([__file__]))
