"""Every numeric, boolean, text and tuple field of every method's tiny config, given generated bad
values (wrong type, zero, negative, non-finite, unknown choice, empty): each is refused by the
checks `run.py` runs before any work (`validate_common`, the method's `validate` through the
registry, the data description) with a ConfigError naming the field, or it is a value the field
allows, listed in `ALLOWED` with the reason. A new field that takes a bad value silently fails
here; a few allowed values are traced through init and one step to show they build.
"""

import importlib

import jax
import ml_collections
import pytest

from common import data, registry, train
from common.errors import ConfigError

# (config module, field) -> the bad-looking values the field legitimately takes, and why.
_WEIGHTS = (0, 0.0)  # a loss weight or a defence at 0 turns its term off
ALLOWED = {
    ('*', 'seed'): ((0,), 'seeds start at 0'),
    ('*', 'optim.b1'): ((0, 0.0), "Adam's b1 = 0 is plain RMS scaling"),
    ('dualadv.config', 'data.rotation'): ((0.0, -1.0), 'an angle in degrees, either sign'),
    ('dualadv.config', 'loss.bandwidth'): ((0.0, -1.0), '<= 0: the median heuristic'),
    ('dualadv.config', 'optim.critic_lr'): ((0.0, -1.0), "<= 0: T's own rate"),
    ('lrmf.config', 'data.rotation'): ((0.0, -1.0), 'an angle in degrees, either sign'),
    ('lrmf.config', 'data.warp_strength'): ((0.0, -1.0), 'the bend, either sign or none'),
    ('lrmf.config', 'data.noise'): ((0.0,), 'noise-free points'),
    ('lrmf.config', 'data.validation_fraction'): ((0.0,), 'nothing held out'),
    ('lrmf.config', 'optim.shared_lr'): ((0.0, -1.0), "<= 0: T's own rate"),
    ('common.cyclegan.config', 'data.roles'): (('',), 'no role assignment (the image/segmentation task)'),
    ('common.cyclegan.config', 'eval.batch_size'): ((0,), '0: the training batch size'),
    ('puppet.config', 'data.real_min_scale'): ((0.0,), 'the real digits as they are'),
    ('common.cyclegan.config', 'data.real_min_scale'): ((0.0,), 'the real digits as they are'),
    ('rift.config', 'loss.target_margin'): ((0.0,), 'the L1 targets as they are (as the authors train)'),
    ('puppet.config', 'data.max_angle'): ((0.0,), 'a rotation task with no rotation'),
    ('puppet.config', 'data.max_thickness'): ((0,), "every digit at its font's own stroke width"),
    ('common.cyclegan.config', 'data.max_angle'): ((0.0,), 'synthetic digits with no rotation'),
    ('common.cyclegan.config', 'data.max_thickness'): ((0,), "every digit at its font's own stroke width"),
    ('puppet.config', 'data.data_dir'): (('nope', ''), 'a folder, read only when data.real is tfds'),
    ('*', 'train.keep_every'): ((0,), 'no checkpoint kept beyond the newest three'),
    ('rift.config', 'data.data_dir'): (('nope', ''), 'a folder, read only when data.source is tfds'),
    ('common.cyclegan.config', 'data.data_dir'): (('nope', ''), 'a folder, read only when data.source is tfds'),
    ('common.cyclegan.config', 'data.tfds_name'): (('nope', ''), 'read (and checked) only when data.source is tfds'),
    ('common.cyclegan.config', 'data.root'): (
        ('nope', ''),
        'a folder, read (and checked) only when data.source is folder',
    ),
    ('common.cyclegan.config', 'data.load_size'): ((0,), '0: the image size'),
    ('common.cyclegan.config', 'optim.decay_from'): ((0,), '0: a constant learning rate'),
    ('rift.config', 'data.root'): (('nope', ''), 'a folder, read (and checked) only when data.source is folder'),
    ('puppet.config', 'data.root'): (('nope', ''), "a folder, read only when data.real is 'folder'"),
    ('rift.config', 'data.domain_attribute'): (('nope', ''), 'a feature path, read only from a TFDS record'),
    ('rift.config', 'data.domain_value'): ((0, -1, 2.5, 'x'), "any feature's value (compared with a TFDS record's)"),
}
for _module, _fields in {
    'common.cyclegan.config': ('cycle_a', 'cycle_b', 'guess_weight', 'history_size', 'identity', 'noise_std'),
    'puppet.config': (
        'adv',
        'attr_a',
        'attr_b',
        'attr_back_a',
        'attr_back_b',
        'cyc',
        'dis',
        'noise_std',
        'rec',
        'supervised',
    ),
    'rift.config': (
        'adversarial',
        'cycle',
        'cycle_swap',
        'defence_noise',
        'guess_weight',
        'history_size',
        'identity',
        'latent',
        'style_idt',
        'style_rec',
        'style_swap',
        'style_zero_rec',
        'supervised',
    ),
}.items():
    ALLOWED |= {(_module, f'loss.{f}'): (_WEIGHTS, 'a weight (or size) of 0 turns the term off') for f in _fields}


def _leaves(config, prefix=''):
    for key, value in config.items():
        if isinstance(value, ml_collections.ConfigDict):
            yield from _leaves(value, f'{prefix}{key}.')
        else:
            yield f'{prefix}{key}', value


def _bad_values(value):
    if isinstance(value, bool):
        return ('yes', 2)
    if isinstance(value, int):
        return (0, -1, 2.5, 'x')
    if isinstance(value, float):
        return (0.0, -1.0, float('nan'), float('inf'), 'x')
    if isinstance(value, str):
        return ('nope', '')
    if isinstance(value, tuple):
        return ((), ('nope',))
    return ()


def _set(config, field, value):
    *parents, last = field.split('.')
    node = config
    for part in parents:
        node = node[part]
    with node.ignore_type():
        node[last] = value


def _checked(config):
    """What run.py checks before any work: the shared fields, the method's, the data's."""
    train.validate_common(config)
    registry.make(config)
    for split in ('train', 'test'):
        data.describe(config.data, split)


def _cases():
    for module in registry.config_modules():
        for field, value in _leaves(importlib.import_module(module).get_config('tiny')):
            if field != 'method':
                yield from ((module, field, bad) for bad in _bad_values(value))


def _allowed(module, field, value):
    values, _ = ALLOWED.get((module, field), ALLOWED.get(('*', field), ((), '')))
    return any(value == v and type(value) is type(v) for v in values)


def test_every_bad_value_is_refused_naming_its_field_or_is_an_allowed_one():
    tracebacks, unnamed, accepted, cases = [], [], [], 0
    for module, field, value in _cases():
        config = importlib.import_module(module).get_config('tiny')
        _set(config, field, value)
        cases += 1
        try:
            _checked(config)
        except ConfigError as e:
            if field.split('.')[-1] not in str(e) or '\n' in str(e):
                unnamed.append((module, field, value, str(e)))
            continue
        except Exception as e:  # noqa: BLE001 - what the user would see as a traceback
            tracebacks.append((module, field, value, f'{type(e).__name__}: {e}'))
            continue
        if not _allowed(module, field, value):
            accepted.append((module, field, value))
    assert cases > 500
    assert not tracebacks, tracebacks
    assert not unnamed, unnamed
    assert not accepted, f'bad values taken silently (refuse them, or list them in ALLOWED): {accepted}'


@pytest.mark.parametrize(
    'module, field, value',
    [
        ('common.cyclegan.config', 'loss.history_size', 0),
        ('rift.config', 'loss.guess_weight', 0.0),
        ('lrmf.config', 'data.validation_fraction', 0.0),
        ('puppet.config', 'loss.adv', 0.0),
    ],
)
def test_allowed_values_build_and_trace_one_step(module, field, value):
    config = importlib.import_module(module).get_config('tiny')
    _set(config, field, value)
    method = registry.make(config)
    batch, info = data.describe(config.data, 'train')
    rng = jax.random.PRNGKey(0)
    state = jax.eval_shape(lambda r, b: method.init(r, b, info), rng, batch)
    for stage in method.stages or ((None, method.train_step, 1),):
        state, metrics = jax.eval_shape(stage[1], state, batch, rng)
    assert metrics
