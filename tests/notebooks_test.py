"""Every method's notebook runs top to bottom on its tiny config (code cells executed in order,
as Colab would), its outputs stripped in the repository."""

import json
import os

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _dualadv(ns):
    assert ns['results']['test_map_error_after'] < ns['results']['test_map_error_before']
    assert ns['sol'].kkt_residual < 1e-4 and ns['moved'].shape == (5, 2)
    return 'alignment.png'


def _lrmf(ns):
    assert np.isfinite(ns['results']['test_lrmf_loss']) and ns['moved'].shape == (5, 2)
    assert np.all(np.isfinite(np.asarray(ns['log_det'])))
    return 'curves.png'


def _cyclegan(ns):
    assert ns['segs'].shape == ns['images'].shape == ns['back'].shape == (4, 16, 16, 3)
    return 'translations.png'


def _puppet(ns):
    assert ns['out'].shape == (4, 3, 32, 32, 1) and 0.0 <= ns['results']['acc'] <= 1.0
    return 'manipulation.png'


def _rift(ns):
    assert ns['made'].shape == ns['exact'].shape == (4, 16, 16, 3)
    return 'translations.png'


NOTEBOOKS = {
    'dualadv/colab.ipynb': _dualadv,
    'lrmf/colab.ipynb': _lrmf,
    'common/cyclegan/colab.ipynb': _cyclegan,
    'puppet/colab.ipynb': _puppet,
    'rift/colab.ipynb': _rift,
}


@pytest.mark.parametrize('path', sorted(NOTEBOOKS))
def test_notebook_runs_and_is_stripped(path, monkeypatch, tmp_path):
    monkeypatch.setenv('MPLBACKEND', 'Agg')
    import tempfile

    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))  # the notebooks' run folders go here
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, 'show', lambda *a, **k: plt.close('all'))
    with open(os.path.join(ROOT, path)) as f:
        nb = json.load(f)
    assert nb['cells'][0]['cell_type'] == 'markdown'
    namespace = {}
    for cell in nb['cells']:
        if cell['cell_type'] != 'code':
            continue
        assert cell['outputs'] == [] and cell['execution_count'] is None, 'outputs must be stripped'
        exec(compile(''.join(cell['source']), path, 'exec'), namespace)  # noqa: S102
    figure = NOTEBOOKS[path](namespace)
    assert os.path.exists(os.path.join(namespace['workdir'], figure))
    assert namespace['workdir'].startswith(str(tmp_path))
