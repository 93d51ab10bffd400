"""The experiment table reuses a finished run only when its config is the current one."""

import json

from common.cyclegan import experiments
from common.cyclegan.config import get_config


def _write_run(workdir, config, steps):
    workdir.mkdir(parents=True)
    (workdir / 'config.json').write_text(config.to_json())
    (workdir / 'results.json').write_text(json.dumps({'steps': steps}))


def test_finished_run_is_reused_only_with_the_same_config(tmp_path):
    config = get_config('guess')
    config.seed = 3
    _write_run(tmp_path / 'same', config, config.train.steps)
    assert experiments._finished(str(tmp_path / 'same'), 'guess', 3)
    assert not experiments._finished(str(tmp_path / 'same'), 'guess', 4)  # another seed
    assert not experiments._finished(str(tmp_path / 'same'), 'noise', 3)  # another variant

    _write_run(tmp_path / 'short', config, config.train.steps - 1)  # stopped early
    assert not experiments._finished(str(tmp_path / 'short'), 'guess', 3)
    assert not experiments._finished(str(tmp_path / 'missing'), 'guess', 3)


def test_a_field_added_after_the_run_counts_as_its_default():
    expected = json.loads(get_config('default').to_json())
    recorded = json.loads(get_config('default').to_json())
    del recorded['model']['fast_convs']
    assert experiments._same(recorded, expected)
    recorded['model']['ngf'] = 32
    assert not experiments._same(recorded, expected)
    recorded['model']['ngf'] = expected['model']['ngf']
    recorded['model']['removed_field'] = 1
    assert not experiments._same(recorded, expected)
