"""PuppetGAN (Usman, Dufour, Saenko, Bregler, ICCV 2019) on the common loop.

Players: 'generators' {encoder E, real decoder g_A, synthetic decoder g_B}, one Adam (lr 2e-4,
b1 0.5); 'discriminators' {a, b}, a PatchGAN per domain (Adam, lr 5e-5, b1 0.5). One training
step updates the generators on

    L = 10 L_rec + 10 L_dis + 10 L_cyc + 5 L_attr_b + 3 L_attr_a + L_adv

(`puppet.losses`, where each term is written out), then the discriminators on the images the
generators made. Batches: 'a' (real digits) and a synthetic triplet 'b_rest', 'b_attr',
'b_both' (source 'puppet_digits').

Manipulation: g_A(a, b) = g_A(rest = E_rest(a), attr = E_attr(b)), the real digit a with the
attribute of the synthetic reference b. Evaluation (`puppet.metrics.evaluate_manipulation`):
grids of held-out real digits x swept references, judged by a LeNet trained on the real training
split (`common.classifier`): Acc, r_attr, r_rest, V_rest.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import optax

from common import gan, nets, plots
from common.checks import check_bool, check_choice, check_number
from common.errors import ConfigError
from common.method import Method, Player, TrainState, bind_config
from common.synth import geometry
from puppet import judge as judges
from puppet import losses, metrics
from puppet.models import Decoder, Encoder

PAPER = {
    'source': 'Usman et al. ICCV 2019, Table 1 (MNIST digits); Acc up, r_attr up, r_rest down, V_rest down',
    'rotation': {
        'PuppetGAN': {'acc': 0.97, 'r_attr': 0.40, 'r_rest': 0.11, 'v_rest': 0.01},
        'CycleGAN': {'acc': 0.11, 'r_attr': 0.54, 'r_rest': 0.37, 'v_rest': 0.33},
        'MUNIT': {'acc': 1.00, 'r_attr': 0.00, 'r_rest': 0.15, 'v_rest': 0.01},
    },
    'size': {
        'PuppetGAN': {'acc': 0.73, 'r_attr': 0.85, 'r_rest': 0.02, 'v_rest': 0.02},
        'CycleGAN': {'acc': 0.10, 'r_attr': 0.28, 'r_rest': 0.06, 'v_rest': 0.28},
        'MUNIT': {'acc': 0.96, 'r_attr': 0.06, 'r_rest': 0.09, 'v_rest': 0.01},
    },
    # the deck's "input domain discrepancy" row: the real domain lacks the synthetic attribute's range
    'size_discrepancy': {'PuppetGAN': {'acc': 0.64, 'r_attr': 0.28, 'r_rest': 0.07, 'v_rest': 0.01}},
    'reimplementation': 'GiorgosKarantonis/PuppetGAN (TF2), rotation: Acc 0.96, r_attr 0.59, V_rest 0.01 (std)',
}
IMAGE = 32
SYNTHETIC = losses.TRIPLET


def validate(config: Any) -> None:
    """Method-specific config checks (ConfigError naming the field)."""
    check_choice('config.data.source', config.data.source, ('puppet_digits',))
    check_choice('config.data.task', config.data.task, metrics.TASKS)
    check_choice('config.eval.judge', config.eval.get('judge', 'augmented'), ('augmented', 'upright'))
    check_choice('config.data.tfds_name', config.data.get('tfds_name', 'mnist'), ('mnist',))
    check_choice('config.model.dtype', config.model.get('dtype', 'float32'), tuple(nets.DTYPES))
    check_choice('config.loss.gan', config.loss.gan, gan.KINDS)
    check_choice('config.loss.adv_reduce', config.loss.adv_reduce, losses.REDUCTIONS)
    for field in ('nf', 'num_blocks', 'embed_dim', 'ndf', 'num_layers'):
        check_number(f'config.model.{field}', config.model[field], integer=True, positive=True)
    nets.check_patch_depth(config.model.num_layers, IMAGE)
    check_bool('config.model.fast_convs', config.model.fast_convs)
    if config.model.embed_dim % 2:
        raise ConfigError(f'config.model.embed_dim={config.model.embed_dim} must be even (half attribute, half rest)')
    for field in (*losses.TERMS, *losses.EXTRA_TERMS, 'adv', 'noise_std', 'supervised'):
        check_number(f'config.loss.{field}', config.loss[field], nonnegative=True)
    check_bool('config.optim.per_decoder', config.optim.per_decoder)
    for field in ('lr', 'lr_d'):
        check_number(f'config.optim.{field}', config.optim[field], positive=True)
    check_number('config.optim.b1', config.optim.b1, nonnegative=True)
    if not config.optim.b1 < 1:
        raise ConfigError(f'config.optim.b1={config.optim.b1} is not valid; it must be in [0, 1)')
    for field in ('num_rows', 'num_refs', 'classifier_steps'):
        check_number(f'config.eval.{field}', config.eval[field], integer=True, positive=True)
    check_number('config.eval.num_rests', config.eval.num_rests, integer=True, positive=True)
    if config.eval.num_rests < 2 or config.eval.num_refs < 2:
        raise ConfigError(
            'config.eval.num_rests and config.eval.num_refs must be at least 2 (spreads and correlations)'
        )


def networks(config: Any) -> tuple[nets.Reused, nets.Reused, nets.Reused]:
    """(E, the decoder module of g_A and g_B, the PatchGAN of D_A and D_B)."""
    m = config.model
    fast, dtype = bool(m.fast_convs), nets.compute_dtype(m.get('dtype', 'float32'))
    return (
        nets.Reused(Encoder(m.nf, m.num_blocks, m.embed_dim, fast=fast, dtype=dtype)),
        nets.Reused(Decoder(m.nf, m.num_blocks, out_channels=1, fast=fast, dtype=dtype)),
        nets.Reused(nets.PatchDiscriminator(m.ndf, m.num_layers, fast=fast, dtype=dtype)),
    )


def init(rng: jax.Array, batch: dict, info: dict, config: Any) -> TrainState:
    """E, g_A, g_B (one optimiser) and the two PatchGANs."""
    del batch, info
    enc, dec, disc = networks(config)
    keys = jax.random.split(rng, 5)
    x = jnp.zeros((1, IMAGE, IMAGE, 1))
    half = jnp.zeros((1, config.model.embed_dim // 2))
    b1 = config.optim.b1
    adam = optax.adam(config.optim.lr, b1=b1, b2=0.999)
    generators = {
        'encoder': enc.init(keys[0], x),
        'real': dec.init(keys[1], half, half),
        'synthetic': dec.init(keys[2], half, half),
    }
    players = {
        'generators': Player.create(generators, per_decoder(adam) if config.optim.per_decoder else adam),
        'discriminators': Player.create(
            {'a': disc.init(keys[3], x), 'b': disc.init(keys[4], x)}, optax.adam(config.optim.lr_d, b1=b1, b2=0.999)
        ),
    }
    return TrainState.create(players)


def per_decoder(adam: optax.GradientTransformation) -> optax.GradientTransformation:
    """The reimplementation's two generator optimisers: one Adam steps (E, g_A) on the real
    decoder's loss, another (E, g_B) on the synthetic one's, both from the same parameters, so
    the shared encoder moves by the sum of the two updates. Its gradients: the pair (real's,
    synthetic's), each zero on the other decoder (whose Adam moments then stay zero)."""

    def update(grads, state, params=None):
        (u_real, s_real), (u_synth, s_synth) = (adam.update(g, s, params) for g, s in zip(grads, state, strict=True))
        return jax.tree.map(jnp.add, u_real, u_synth), (s_real, s_synth)

    return optax.GradientTransformation(lambda params: (adam.init(params), adam.init(params)), update)


def _functions(gparams: dict, config: Any):
    """(E, g_A, g_B) as plain functions of arrays."""
    enc, dec, _ = networks(config)
    return (
        lambda x: enc.apply(gparams['encoder'], x),
        lambda rest, attr: dec.apply(gparams['real'], rest, attr),
        lambda rest, attr: dec.apply(gparams['synthetic'], rest, attr),
    )


def _discriminators(dparams: dict, config: Any) -> dict:
    _, _, disc = networks(config)
    return {d: functools.partial(disc.apply, dparams[d]) for d in 'ab'}


def exact_targets(batch: dict, config: Any) -> jax.Array:
    """T(a_i, b_attr_i): each real digit given its pair's reference attribute (the reference's
    value, not added to the digit's own: an upright digit turned by the reference's angle, a digit
    scaled by reference / own scale; see `puppet.judge.exact_manipulator`)."""
    values = batch['attr_attr_b']
    if config.data.task == 'rotation':
        return geometry.rotate(batch['a'], values)
    return geometry.rescale(batch['a'], values / batch['scale_a'])


def train_step(state: TrainState, batch: dict, rng: jax.Array, config: Any):
    """One update of (E, g_A, g_B) on L (with `optim.per_decoder`, of (E, g_A) on L without L_dis
    and D_B's term, and of (E, g_B) on L without D_A's and the supervised term, as the
    reimplementation's two tapes), then of both PatchGANs on the images generated."""
    kind, extra = config.loss.gan, config.loss.attr_back_a > 0 or config.loss.attr_back_b > 0
    weights = {k: config.loss[k] for k in (*losses.TERMS, *(losses.EXTRA_TERMS if extra else ()))}
    discriminate = _discriminators(state.params('discriminators'), config)

    def total(terms, adv, part):
        if part == 'all':
            out = losses.weighted_total({k: terms[k] for k in weights}, weights) + config.loss.adv * (
                adv['a'] + adv['b']
            )
        else:  # 'a' (the real decoder's loss) or 'b' (the synthetic one's)
            dropped = 'dis' if part == 'a' else None
            out = losses.weighted_total({k: terms[k] for k in weights if k != dropped}, weights)
            out = out + config.loss.adv * adv[part]
        if 'supervised' in terms and part != 'b':
            out = out + config.loss.supervised * terms['supervised']
        return out

    def generator_loss(gparams, part='all'):
        terms, fakes = losses.generator_losses(
            *_functions(gparams, config), batch, rng, noise_std=config.loss.noise_std, extra=extra
        )
        adv = losses.adversarial_generator_loss(discriminate, fakes, kind=kind, reduce=config.loss.adv_reduce)
        if config.loss.supervised > 0:
            encode, decode_a, _ = _functions(gparams, config)
            target = exact_targets(batch, config)
            terms = terms | {
                'supervised': losses.supervised_loss(encode, decode_a, batch['a'], batch['b_attr'], target)
            }
        return total(terms, adv, part), (terms, adv, fakes)

    gparams = state.params('generators')
    if config.optim.per_decoder:
        grad = jax.grad(functools.partial(generator_loss, part='a'), has_aux=True)
        g_real, (terms, adv, fakes) = grad(gparams)
        g_synth, _ = jax.grad(functools.partial(generator_loss, part='b'), has_aux=True)(gparams)
        zeros = jax.tree.map(jnp.zeros_like, gparams)
        g_grads = (g_real | {'synthetic': zeros['synthetic']}, g_synth | {'real': zeros['real']})
        g_total = total(terms, adv, 'all')
    else:
        (g_total, (terms, adv, fakes)), g_grads = jax.value_and_grad(generator_loss, has_aux=True)(gparams)
    fakes = jax.lax.stop_gradient(fakes)
    reals = {'a': batch['a'], 'b': jnp.concatenate([batch[k] for k in SYNTHETIC])}

    def discriminator_loss(dparams):
        out = losses.discriminator_loss(
            _discriminators(dparams, config), reals, fakes, kind=kind, reduce=config.loss.adv_reduce
        )
        return out['a'] + out['b'], out

    (d_total, d_terms), d_grads = jax.value_and_grad(discriminator_loss, has_aux=True)(state.params('discriminators'))
    players = dict(state.players)
    players['generators'] = players['generators'].apply_gradients(g_grads)
    players['discriminators'] = players['discriminators'].apply_gradients(d_grads)
    out = {f'loss/{k}': v for k, v in terms.items()}
    out |= {f'loss/adv_{d}': v for d, v in adv.items()} | {f'loss/d_{d}': v for d, v in d_terms.items()}
    out['loss/generators'] = g_total
    out['loss/discriminators'] = d_total
    return state.replace(players=players), out


def manipulator(state: TrainState, config: Any):
    """manipulate(real [N, 32, 32, 1], refs [K, 32, 32, 1]) -> [N, K, 32, 32, 1]: every real
    digit drawn with every reference's attribute, g_A(rest = E_rest(a), attr = E_attr(b))."""
    encode, decode_a, _ = _functions(state.params('generators'), config)

    def manipulate(real: jax.Array, refs: jax.Array) -> jax.Array:
        n, k = real.shape[0], refs.shape[0]
        _, rest = encode(real)
        attr, _ = encode(refs)
        rest = jnp.repeat(rest, k, axis=0)
        attr = jnp.tile(attr, (n, 1))
        return decode_a(rest, attr).reshape(n, k, *real.shape[1:])

    return manipulate


def eval_step(state: TrainState, batch: dict, config: Any) -> dict:
    """The supervised terms on a test batch, without noise."""
    terms, _ = losses.generator_losses(
        *_functions(state.params('generators'), config), batch, jax.random.PRNGKey(0), noise_std=0.0
    )
    return terms


@functools.lru_cache(maxsize=8)
def _sweeps(task: str, num_refs: int, num_rests: int, max_angle: float, min_scale: float) -> metrics.Sweeps:
    return metrics.reference_sweeps(
        task, num_refs=num_refs, num_rests=num_rests, max_angle=max_angle, min_scale=min_scale
    )


def sweeps(config: Any) -> metrics.Sweeps:
    """The evaluation references of `config` (rendered once per process): the protocol's ranges
    (+-45 degrees, scales 0.5-1: the judge's augmentation), whatever the training data's, so runs
    on differently drawn synthetic data are scored on the same grid."""
    return _sweeps(config.data.task, config.eval.num_refs, config.eval.num_rests, judges.MAX_ANGLE, judges.MIN_SCALE)


def sample(state: TrainState, batch: dict, config: Any) -> dict:
    """A small manipulation grid (test digits x the first attribute sweep) and the synthetic
    decoder's disentanglement g_B(b_rest, b_attr) beside its target b_both."""
    refs = jnp.asarray(sweeps(config).attr[0])
    real = batch['a'][:8]
    encode, _, decode_b = _functions(state.params('generators'), config)
    (_, rest), (attr, _) = encode(batch['b_rest'][:8]), encode(batch['b_attr'][:8])
    return {
        'real': real,
        'refs': refs,
        'grid': manipulator(state, config)(real, refs),
        'b_rest': batch['b_rest'][:8],
        'b_attr': batch['b_attr'][:8],
        'b_both': batch['b_both'][:8],
        'dis': decode_b(rest, attr),
    }


def evaluate(state: TrainState, pools: dict, info: dict, config: Any) -> dict[str, Any]:
    """Acc, r_attr, r_rest, V_rest of g_A(a, b) on held-out real digits (see the module doc)."""
    train, test = pools['train'], pools['test']
    judge = judges.judge(
        train['a'],
        train['label_a'],
        test['a'],
        test['label_a'],
        steps=config.eval.classifier_steps,
        seed=config.seed,
        augmented=config.eval.judge == 'augmented',
    )
    n = min(config.eval.num_rows, len(test['a']))
    manipulate = jax.jit(manipulator(state, config))
    real, labels, task = test['a'][:n], test['label_a'][:n], config.data.task
    out = metrics.evaluate_manipulation(manipulate, real, labels, judge.predict, sweeps(config), task)
    return {
        'task': task,
        **out,
        'ceiling': judges.ceiling(real, labels, judge.predict, sweeps(config), task, test['scale_a'][:n]),
        'judge': config.eval.judge,
        'classifier_test_accuracy': judge.test_accuracy,
        'paper': PAPER,
    }


def plot(state: TrainState, samples: list, workdir: str, info: dict, config: Any) -> list[str]:
    """manipulation.png: real test digits (rows) given the attribute of each synthetic reference
    (top row); disentanglement.png: g_B(b_rest, b_attr) beside b_both."""
    del state
    if not samples:
        return []
    step, last = samples[-1]
    grid, refs, real = last['grid'], last['refs'], last['real']
    n, k = grid.shape[:2]
    fig, axes = plt.subplots(n + 1, k + 1, figsize=(0.75 * (k + 1), 0.75 * (n + 1)), squeeze=False)
    for ax in axes.ravel():
        ax.set_frame_on(False)
        ax.set_xticks([])
        ax.set_yticks([])
    for j in range(k):
        plots.show_image(axes[0, j + 1], refs[j])
    for i in range(n):
        plots.show_image(axes[i + 1, 0], real[i])
        for j in range(k):
            plots.show_image(axes[i + 1, j + 1], grid[i, j])
    axes[0, 0].text(0.5, 0.5, f'{config.data.task}\nstep {step}', ha='center', va='center', fontsize=7)
    fig.suptitle("PuppetGAN: real digit (left) with the reference's attribute (top)", fontsize=8)
    paths = [plots.save_figure(fig, os.path.join(workdir, 'manipulation.png'))]
    rows = (
        ('b_rest', last['b_rest']),
        ('b_attr', last['b_attr']),
        ('g_B(rest, attr)', last['dis']),
        ('b_both', last['b_both']),
    )
    fig, axes = plt.subplots(
        len(rows), len(last['dis']), figsize=(0.9 * len(last['dis']), 1.0 * len(rows)), squeeze=False
    )
    for r, (title, images) in enumerate(rows):
        for c in range(len(images)):
            plots.show_image(axes[r, c], images[c])
        axes[r, 0].set_ylabel(title, fontsize=7)
    fig.suptitle('synthetic decoder: the rest of b_rest with the attribute of b_attr', fontsize=8)
    paths.append(plots.save_figure(fig, os.path.join(workdir, 'disentanglement.png')))
    return paths


def make(config: Any) -> Method:
    """Build the PuppetGAN Method for `config` (wiring only: the bodies are the functions above)."""
    validate(config)
    return bind_config(
        config, init=init, train_step=train_step, eval_step=eval_step, sample=sample, evaluate=evaluate, plot=plot
    )
