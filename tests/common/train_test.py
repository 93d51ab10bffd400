"""common.train: the loop, stages, checkpoints, resume, the non-finite guard."""

import json
import os
import signal

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from common import train
from common.errors import ConfigError, RunInterrupted
from common.method import Method, Player, Stage, TrainState


def _config(steps=6, **train_kw):
    c = ml_collections.ConfigDict()
    c.method = 'toy'
    c.seed = 0
    c.data = ml_collections.ConfigDict(
        dict(source='gaussian', dim=2, num_a=8, num_b=8, batch_size=8, rotation=0.0, scale=(1.0, 1.0), shift=(1.0, 0.0))
    )
    c.optim = ml_collections.ConfigDict(dict(lr=0.1))
    c.train = ml_collections.ConfigDict(dict(steps=steps, checkpoint_every=2, eval_every=3, log_every=1))
    c.train.update(train_kw)
    c.nan_at = -1
    return c


def _toy_method(config, stages=False):
    """Move a shift c so that mean(a + c) = mean(b); loss is NaN from step `nan_at` on."""

    def init(rng, batch, info):
        return TrainState.create({'t': Player.create({'c': jnp.zeros(2)}, optax.sgd(config.optim.lr))})

    def step(state, batch, rng, scale=1.0):
        def loss_fn(p):
            gap = jnp.mean(batch['a'] + p['c'], 0) - jnp.mean(batch['b'], 0)
            return scale * jnp.sum(gap**2)

        loss, g = jax.value_and_grad(loss_fn)(state.params('t'))
        loss = jnp.where(state.step + 1 >= config.nan_at, jnp.where(config.nan_at > 0, jnp.nan, loss), loss)
        return state.replace(players={'t': state.players['t'].apply_gradients(g)}), {'loss/gap': loss}

    stage_list = ()
    if stages:
        stage_list = (
            Stage('warmup', lambda s, b, r: step(s, b, r, 0.0), 2),
            Stage('fit', step, config.train.steps - 2),
        )
    return Method(
        init=init,
        train_step=step,
        eval_step=lambda s, b: {'gap': jnp.sum(s.params('t')['c'])},
        sample=lambda s, b: {'c': s.params('t')['c']},
        evaluate=lambda s, pools, info: {'c': np.asarray(s.params('t')['c']).tolist(), 'final_step': int(s.step)},
        stages=stage_list,
    )


def test_runs_writes_outputs_and_learns(tmp_path):
    cfg = _config(steps=30)
    res = train.train_and_evaluate(_toy_method(cfg), cfg, str(tmp_path))
    for name in ('config.json', 'metrics.jsonl', 'results.json', 'curves.png', 'ckpt', 'tb', 'samples'):
        assert os.path.exists(tmp_path / name), name
    assert res['final_step'] == 30
    lines = [json.loads(x) for x in open(tmp_path / 'metrics.jsonl')]
    losses = [x['loss/gap'] for x in lines if 'loss/gap' in x]
    assert len(losses) == 30 and losses[-1] < 0.1 * losses[0]
    assert any('eval/gap' in x for x in lines)


@pytest.mark.parametrize('presses', [1, 2])
def test_ctrl_c_stops_between_steps_and_twice_stops_at_once(tmp_path, monkeypatch, presses):
    """Ctrl-C (SIGINT to this process) as the progress bar counts step 3 of 6."""
    cfg = _config(steps=6)
    make_bar = train.progress_bar

    def progress_bar(*args, **kw):
        bar = make_bar(*args, **kw)
        update = bar.update

        def update_and_press(n):
            update(n)
            if bar.n == 3:
                for _ in range(presses):
                    os.kill(os.getpid(), signal.SIGINT)

        bar.update = update_and_press
        return bar

    monkeypatch.setattr(train, 'progress_bar', progress_bar)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(RunInterrupted) as stopped:
            train.train_and_evaluate(_toy_method(cfg), cfg, str(tmp_path))
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    finally:
        signal.signal(signal.SIGINT, previous)
    # One press: the step in flight ends (its log, evaluation), then the loop stops; two: at once.
    stopped_at = 3 if presses == 1 else 2
    assert str(stopped.value) == (
        f'the run stopped at step {stopped_at} of 6; the last checkpoint (step 2) is in {tmp_path}/ckpt; '
        'run the same command to resume'
    )
    assert not os.path.exists(tmp_path / 'results.json')


def test_stages_run_in_order_with_a_checkpoint_between(tmp_path):
    cfg = _config(steps=7, checkpoint_every=100)
    train.train_and_evaluate(_toy_method(cfg, stages=True), cfg, str(tmp_path))
    assert sorted(int(d) for d in os.listdir(tmp_path / 'ckpt') if d.isdigit()) == [2, 7]
    lines = [json.loads(x) for x in open(tmp_path / 'metrics.jsonl') if 'loss/gap' in x]
    assert lines[0]['loss/gap'] == 0.0 and lines[2]['loss/gap'] > 0  # warmup scaled by 0


def test_nonfinite_loss_stops_with_step_and_term_and_keeps_checkpoint(tmp_path):
    cfg = _config(steps=10)
    cfg.nan_at = 5
    with pytest.raises(train.NonFiniteLossError, match=r'non-finite loss/gap=nan at step 5 .*step 4'):
        train.train_and_evaluate(_toy_method(cfg), cfg, str(tmp_path))
    assert sorted(int(d) for d in os.listdir(tmp_path / 'ckpt') if d.isdigit())[-1] == 4
    assert not os.path.exists(tmp_path / 'results.json')


def test_nonfinite_between_log_steps_is_caught_at_its_step_before_any_save(tmp_path):
    """Metrics reach the host only every 5 steps; the device-side record still names step 3."""
    cfg = _config(steps=10, log_every=5, checkpoint_every=2, eval_every=100)
    cfg.nan_at = 3
    with pytest.raises(
        train.NonFiniteLossError, match=r"non-finite loss/gap=nan at step 3 \(stage 'train'\).*step 2\)"
    ):
        train.train_and_evaluate(_toy_method(cfg), cfg, str(tmp_path))
    assert sorted(int(d) for d in os.listdir(tmp_path / 'ckpt') if d.isdigit()) == [2]  # 4 was never saved


def test_restore_returns_config_method_and_the_trained_state(tmp_path):
    cfg = _config(steps=6)
    res = train.train_and_evaluate(_toy_method(cfg), cfg, str(tmp_path))
    config, method, state = train.restore(str(tmp_path), _toy_method)
    assert config.train.steps == 6 and int(state.step) == 6
    np.testing.assert_array_equal(np.asarray(state.params('t')['c']), res['c'])
    assert method.evaluate(state, {}, {}) == {k: res[k] for k in ('c', 'final_step')}
    with pytest.raises(ConfigError, match='holds no run'):
        train.restore(str(tmp_path / 'nothing'), _toy_method)


def test_evaluate_checkpoint_scores_a_run_stopped_early_at_its_last_checkpoint(tmp_path):
    cfg = _config(steps=10)
    cfg.nan_at = 7  # stops the run after the checkpoint of step 6
    with pytest.raises(train.NonFiniteLossError):
        train.train_and_evaluate(_toy_method(cfg), cfg, str(tmp_path))
    results = train.evaluate_checkpoint(str(tmp_path), _toy_method)
    assert results['steps'] == 6 and results['final_step'] == 6
    assert not os.path.exists(tmp_path / 'results.json')


def test_eval_batch_size_sets_the_batch_behind_the_eval_curves(tmp_path):
    cfg = _config(steps=3)
    cfg.eval = ml_collections.ConfigDict({'batch_size': 2})
    method = _toy_method(cfg)._replace(eval_step=lambda s, b: {'n': jnp.float32(b['a'].shape[0])})
    train.train_and_evaluate(method, cfg, str(tmp_path / 'two'))
    records = [json.loads(x) for x in open(tmp_path / 'two' / 'metrics.jsonl') if 'eval/n' in x]
    assert records and all(r['eval/n'] == 2 for r in records)
    cfg.eval.batch_size = -1
    with pytest.raises(ConfigError, match='config.eval.batch_size=-1'):
        train.train_and_evaluate(method, cfg, str(tmp_path / 'bad'))


def test_corrupt_latest_checkpoint_falls_back_with_a_warning(tmp_path, capfd):
    cfg = _config(steps=6)
    ref = train.train_and_evaluate(_toy_method(cfg), cfg, str(tmp_path))
    os.remove(tmp_path / 'results.json')
    for root, _, files in os.walk(tmp_path / 'ckpt' / '6'):
        for f in files:
            with open(os.path.join(root, f), 'wb') as fh:
                fh.write(b'garbage')
    capfd.readouterr()
    res = train.train_and_evaluate(_toy_method(cfg), cfg, str(tmp_path))
    err = [line for line in capfd.readouterr().err.splitlines() if line.strip() and 'it/s' not in line]
    assert err[0] == 'warning: checkpoint at step 6 is unreadable (JSONDecodeError); trying an older one', err
    assert err[1:] == ['resumed from step 4 of 6', f'results: {tmp_path}/results.json'], err
    assert res == ref


def test_finished_run_with_other_config_is_refused_unless_overwrite(tmp_path):
    cfg = _config(steps=4)
    train.train_and_evaluate(_toy_method(cfg), cfg, str(tmp_path))
    other = _config(steps=3)
    with pytest.raises(ConfigError, match=r'finished run with a different config \(config.train.steps: 4 -> 3'):
        train.train_and_evaluate(_toy_method(other), other, str(tmp_path))
    assert json.load(open(tmp_path / 'results.json'))['final_step'] == 4  # not lost
    res = train.train_and_evaluate(_toy_method(other), other, str(tmp_path), overwrite=True)
    assert res['final_step'] == 3
    # Same config again: the finished results are returned, nothing is retrained.
    assert train.train_and_evaluate(_toy_method(other), other, str(tmp_path)) == res


def test_more_steps_extend_a_finished_run_as_one_longer_run(tmp_path, capfd):
    # Train 4 steps, then ask for 6 (checkpoints kept on another cadence): the run resumes from
    # step 4, the first results are kept beside, and the end equals one 6-step run.
    short, longer = _config(steps=4), _config(steps=6, checkpoint_every=3)
    train.train_and_evaluate(_toy_method(short), short, str(tmp_path / 'ext'))
    capfd.readouterr()
    res = train.train_and_evaluate(_toy_method(longer), longer, str(tmp_path / 'ext'))
    err = [line for line in capfd.readouterr().err.splitlines() if line.strip() and 'it/s' not in line]
    assert err[0].startswith(f'extending the run in {tmp_path}/ext from 4 to 6 steps; its results at step 4'), err
    assert err[1] == 'resumed from step 4 of 6', err
    assert json.load(open(tmp_path / 'ext' / 'results-step4.json'))['final_step'] == 4
    assert res == train.train_and_evaluate(_toy_method(longer), longer, str(tmp_path / 'one'))
    assert train.train_and_evaluate(_toy_method(longer), longer, str(tmp_path / 'ext')) == res  # now finished


def test_workdir_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / 'file'
    path.write_text('x')
    with pytest.raises(ConfigError, match='is not a directory'):
        train.train_and_evaluate(_toy_method(_config()), _config(), str(path))


@pytest.mark.parametrize(
    'field, value, match',
    [
        ('train.steps', 0, 'config.train.steps=0'),
        ('train.eval_every', -1, 'config.train.eval_every=-1'),
        ('optim.lr', -0.1, 'config.optim.lr=-0.1'),
        ('seed', -2, 'config.seed=-2'),
    ],
)
def test_bad_common_fields_are_one_clear_error(tmp_path, field, value, match):
    cfg = _config()
    section, _, key = field.rpartition('.')
    (cfg[section] if section else cfg)[key] = value
    with pytest.raises(ConfigError, match=match):
        train.train_and_evaluate(_toy_method(cfg), cfg, str(tmp_path))


def test_progress_bar_in_a_log_file_is_a_few_lines_not_a_frame_per_step(tmp_path, capsys):
    cfg = _config(steps=60, checkpoint_every=60, eval_every=60, log_every=60)
    train.train_and_evaluate(_toy_method(cfg), cfg, str(tmp_path))
    err = capsys.readouterr().err  # captured: not a terminal
    frames = err.count('\r') + err.count('\n')
    assert 'train' in err and frames <= 6, err


def test_restore_names_a_run_of_another_method(tmp_path):
    (tmp_path / 'config.json').write_text(json.dumps({'method': 'puppet', 'seed': 0}))
    with pytest.raises(ConfigError, match=r"holds a 'puppet' run, not a 'rift' one"):
        train.restore(str(tmp_path), lambda config: None, method_name='rift')
