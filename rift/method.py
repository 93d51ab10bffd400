"""RIFT (Usman, Bashkirova, Saenko, WACV 2023) on the common loop, and the many-to-many protocol's
evaluation of any translator trained here (RIFT or the MUNIT-style baseline, `rift.munit`).

Data: source 'shapes3d' (or 'tfds' shapes3d) with task 'factor_domains' and `data.roles` 'A', 'B'
or 'C': two image domains of the 3D-shapes world with their factors (`rift.roles`); or two domains
without factors ('folder', TFDS 'celeb_a' split by an attribute, 'cycle_gan/<name>'): grids and spreads.
Players: 'generators' {a2b, b2a} (`rift.models.StyleGenerator`: image + 1-channel style map in
and out), 'discriminators' {d_a, d_b} (PatchGAN), and with `loss.guess_weight` > 0 'guess' {a, b}
(6-channel PatchGANs, `common.defenses`). One step updates each once (Adam, b1 0.5; generators at
`optim.lr`, the others at `optim.lr_d`):

    L_G = GAN_G(D_B(a2b)) + GAN_G(D_A(b2a)) + 10 L_cycle + 1 L_identity + w_norm L_style_norm
          [+ w_guess (L_guess^G(a, a2b2a) + L_guess^G(b, b2a2b))]
    L_D = GAN_D(D_A(a), D_A(hist(b2a))) + GAN_D(D_B(b), D_B(hist(a2b)))    (LSGAN, histories of 50)

with the terms of `rift.losses` (equations there): the guide's style is another batch element's,
every styled generator call adds noise of sd `style_noise` to its style input (the capacity
limit: MI(a; a') <= dim(s) log2(1 + L / sigma^2)), and w_norm, sigma default to the authors'
logged values for the assignment (`rift.config.LOGGED`).

Evaluation (`rift.metrics`): on `eval.num_pairs` test pairs, ACC per direction and the WACV 2022
metrics of the method's guided translations, beside the exact translations' (the oracle: how far
the attribute classifier can be trusted) and RAND's (a random target-domain image: chance).
"""

from __future__ import annotations

import os
from typing import Any

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from common import gan, nets, plots
from common.checks import check_bool, check_choice, check_number
from common.errors import ConfigError
from common.method import Method, Player, TrainState, bind_config
from common.synth import shapes3d
from rift import adversary, losses, metrics, munit
from rift.config import style_terms
from rift.models import StyleGenerator
from rift.roles import ROLES, exact_translations, translate_factors

TRANSLATORS = ('rift', 'munit')
# The terms of `rift.losses` beside cycle, identity and style norm, each weighted by loss.<name>.
WEIGHTED = ('style_rec', 'style_idt', 'style_zero_rec', 'style_swap', 'cycle_swap', 'supervised')
PAPER = {
    'source': 'Usman, Bashkirova, Saenko, WACV 2023, 3D shapes: 3DS = mean ACC over the three assignments (%), RD (%)',
    'RIFT': {'3ds': 88, 'rd': 6},
    'MUNIT': {'3ds': 58, 'rd': 56},
    'StarGANv2': {'3ds': 45, 'rd': 97},
    'DRIT++': {'3ds': 18, 'rd': 20},
    'RAND': {'3ds': 12, 'rd': 9},
}


def validate(config: Any) -> None:
    """Method-specific config checks (ConfigError naming the field)."""
    check_choice('config.data.source', config.data.source, ('shapes3d', 'tfds', 'folder'))
    check_choice('config.data.channels', config.data.get('channels', 3), (3,))  # folder: RGB
    check_choice('config.data.task', config.data.get('task', 'factor_domains'), ('factor_domains',))
    check_choice('config.data.roles', config.data.get('roles', None), tuple(ROLES))
    if not str(config.data.get('tfds_name', 'shapes3d')).startswith('cycle_gan/'):  # or two-domain RGB sets
        check_choice('config.data.tfds_name', config.data.get('tfds_name', 'shapes3d'), ('shapes3d', 'celeb_a'))
    check_choice('config.data.camera', config.data.get('camera', 'default'), tuple(shapes3d.CAMERAS))
    check_choice('config.model.translator', config.model.translator, TRANSLATORS)
    check_choice('config.model.norm', config.model.norm, nets.NORMS)
    check_choice('config.model.dtype', config.model.get('dtype', 'float32'), tuple(nets.DTYPES))
    if config.model.get('dtype', 'float32') != 'float32' and config.model.translator == 'munit':
        raise ConfigError("config.model.dtype='bfloat16' is not wired for the MUNIT-style baseline; use 'float32'")
    check_choice('config.loss.gan', config.loss.gan, gan.KINDS)
    for field in ('ngf', 'ndf', 'num_blocks', 'num_layers', 'style_dim'):
        check_number(f'config.model.{field}', config.model[field], integer=True, positive=True)
    check_number('config.data.image_size', config.data.image_size, integer=True, positive=True)
    nets.check_patch_depth(config.model.num_layers, config.data.image_size)
    check_bool('config.model.fast_convs', config.model.fast_convs)
    check_number('config.data.batch_size', config.data.batch_size, integer=True, positive=True)
    for field in (
        'adversarial',
        'cycle',
        'identity',
        'defence_noise',
        'guess_weight',
        'latent',
        'target_margin',
        *WEIGHTED,
    ):
        check_number(f'config.loss.{field}', config.loss[field], nonnegative=True)
    check_bool('config.eval.noisy', config.eval.noisy)
    if not config.loss.target_margin < 1:
        raise ConfigError(f'config.loss.target_margin={config.loss.target_margin} is not valid; it must be in [0, 1)')
    if config.loss.supervised > 0 and config.data.source != 'shapes3d':
        raise ConfigError(
            f'config.loss.supervised={config.loss.supervised} needs the exact translations of the renderer; '
            "it is allowed only with config.data.source='shapes3d'"
        )
    for field in ('style_norm', 'style_noise'):
        if config.loss[field] is not None:
            check_number(f'config.loss.{field}', config.loss[field], nonnegative=True)
    check_number('config.loss.history_size', config.loss.history_size, integer=True, nonnegative=True)
    for field in ('lr', 'lr_d'):
        check_number(f'config.optim.{field}', config.optim[field], positive=True)
    check_number('config.optim.b1', config.optim.b1, nonnegative=True)
    if not 0 <= config.optim.b1 < 1:
        raise ConfigError(f'config.optim.b1={config.optim.b1} is not valid; it must be in [0, 1)')
    check_number('config.eval.num_pairs', config.eval.num_pairs, integer=True, positive=True)
    check_number('config.eval.grid', config.eval.grid, integer=True, positive=True)
    if config.data.batch_size < 2:
        raise ConfigError(
            f'config.data.batch_size={config.data.batch_size} is not valid; RIFT takes the guide style '
            'from another batch element, so it must be at least 2'
        )


def generator(config: Any) -> nets.Reused:
    return nets.Reused(
        StyleGenerator(
            config.model.ngf,
            config.model.num_blocks,
            fast=bool(config.model.fast_convs),
            norm=config.model.norm,
            dtype=nets.compute_dtype(config.model.get('dtype', 'float32')),
        )
    )


def init(rng: jax.Array, batch: dict, info: dict, config: Any) -> TrainState:
    del info
    gen = generator(config)
    tx_g, _ = adversary.optimizers(config)
    shape = tuple(batch['a'].shape[1:])
    k_a2b, k_b2a, k_adv = jax.random.split(rng, 3)
    x, s = jnp.zeros((1, *shape)), jnp.zeros((1, *shape[:-1], 1))
    players, extra = adversary.adversaries(k_adv, shape, config)
    players['generators'] = Player.create({'a2b': gen.init(k_a2b, x, s), 'b2a': gen.init(k_b2a, x, s)}, tx_g)
    return TrainState.create(players, extra)


def _generators(gparams: dict, config: Any):
    gen = generator(config)
    return (lambda x, s: gen.apply(gparams['a2b'], x, s)), (lambda x, s: gen.apply(gparams['b2a'], x, s))


def weights(config: Any) -> dict[str, float]:
    """{term of `rift.losses`: its weight} for the terms with a weight above 0."""
    norm_weight, _ = style_terms(config)
    out = {'cycle': config.loss.cycle, 'identity': config.loss.identity, 'style_norm': norm_weight}
    out |= {name: config.loss[name] for name in WEIGHTED}
    return {k: float(v) for k, v in out.items() if v > 0}


def _trains_adversaries(config: Any) -> bool:
    return config.loss.adversarial > 0 or config.loss.guess_weight > 0


def _exact_pairs(batch: dict, config: Any) -> tuple[jax.Array, jax.Array]:
    """(T(a_i, b_i), T(b_i, a_i)): each pair's exact guided translations, rendered in the step."""

    def render(factors):  # the renderer's exact images, traced inside the step
        return shapes3d.render(factors, config.data.image_size, camera=config.data.camera)[0]

    fa, fb = batch['factors_a'], batch['factors_b']
    roles = config.data.roles
    return (
        render(translate_factors(roles, fa, fb, direction='a2b')),
        render(translate_factors(roles, fa, fb, direction='b2a')),
    )


def train_step(state: TrainState, batch: dict, rng: jax.Array, config: Any):
    """One update of the generators (L_G above), then the discriminators, then D_g."""
    if config.model.translator == 'munit':
        return munit.train_step(state, batch, rng, config=config)
    disc = adversary.discriminator(config)
    a, b = batch['a'], batch['b']
    k_gen, k_adv = jax.random.split(rng)
    _, style_noise = style_terms(config)
    dparams = state.params('discriminators')
    weight = weights(config)
    adversaries = _trains_adversaries(config)
    outputs = (('a2b', 'b2a') if adversaries else ()) + (('a2b2a', 'b2a2b') if config.loss.guess_weight > 0 else ())
    exact = _exact_pairs(batch, config) if 'supervised' in weight else None

    def generator_loss(gparams):
        g_a2b, g_b2a = _generators(gparams, config)
        terms, images = losses.generator_terms(
            g_a2b,
            g_b2a,
            a,
            b,
            k_gen,
            style_noise=style_noise,
            defence_noise=config.loss.defence_noise,
            terms=tuple(weight),
            exact=exact,
            outputs=outputs,
            target_margin=config.loss.get('target_margin', 0.0),
        )
        weighted = {name: w * terms[name] for name, w in weight.items()}
        if config.loss.adversarial > 0:
            w = config.loss.adversarial
            weighted['gan_ab'] = w * gan.generator_loss(disc.apply(dparams['d_b'], images['a2b']), kind=config.loss.gan)
            weighted['gan_ba'] = w * gan.generator_loss(disc.apply(dparams['d_a'], images['b2a']), kind=config.loss.gan)
        if config.loss.guess_weight > 0:
            guess = adversary.guess_total(
                state.params('guess'), a, b, images['a2b2a'], images['b2a2b'], config, generator=True
            )
            weighted['guess'] = config.loss.guess_weight * guess
        return sum(weighted.values()), (weighted, terms, images)

    (g_total, (weighted, terms, images)), g_grads = jax.value_and_grad(generator_loss, has_aux=True)(
        state.params('generators')
    )
    players = dict(state.players)
    players['generators'] = players['generators'].apply_gradients(g_grads)
    extra, out = state.extra, {}
    if adversaries:
        players, extra, out = adversary.adversary_step(
            state, players, a, b, images['a2b'], images['b2a'], images.get('a2b2a'), images.get('b2a2b'), k_adv, config
        )
    out |= {f'loss/g_{k}': v for k, v in weighted.items()} | {'loss/generators': g_total}
    out['style/mean_abs'] = (jnp.mean(jnp.abs(images['s_a'])) + jnp.mean(jnp.abs(images['s_b']))) / 2
    return state.replace(players=players, extra=extra), out


def translator(state: TrainState, config: Any, *, noise_key: jax.Array | None = None):
    """The trained guided translator: `translate(sources, guides, direction) -> images`; without
    noise, or with `noise_key` through the training noise (defence and style noise, as the authors
    translate)."""
    if config.model.translator == 'munit':
        return munit.translator(state, config)
    g_a2b, g_b2a = _generators(state.params('generators'), config)
    if noise_key is None:
        return lambda sources, guides, direction: losses.translate(g_a2b, g_b2a, sources, guides, direction=direction)
    noise = (noise_key, config.loss.defence_noise, style_terms(config)[1])
    return lambda sources, guides, direction: losses.translate(
        g_a2b, g_b2a, sources, guides, direction=direction, noise=noise
    )


def eval_step(state: TrainState, batch: dict, config: Any) -> dict:
    """Cycle errors of guided round trips on the test batch (a2b with a rolled guide, then back)."""
    translate = translator(state, config)
    a, b = batch['a'], batch['b']
    a2b = translate(a, jnp.roll(b, 1, axis=0), 'a2b')
    b2a = translate(b, jnp.roll(a, 1, axis=0), 'b2a')
    return {
        'cycle_l1_a': gan.l1(translate(a2b, a, 'b2a'), a),
        'cycle_l1_b': gan.l1(translate(b2a, b, 'a2b'), b),
    }


def sample(state: TrainState, batch: dict, config: Any) -> dict:
    """The grid: every one of `eval.grid` sources translated with every one of as many guides."""
    translate = translator(state, config)
    g = min(config.eval.grid, batch['a'].shape[0], batch['b'].shape[0])
    a, b = batch['a'][:g], batch['b'][:g]

    def rows(src, guides, d):  # [source, guide, h, w, 3], in one call
        out = translate(jnp.repeat(src, g, 0), jnp.tile(guides, (g, 1, 1, 1)), d)
        return out.reshape(g, g, *out.shape[1:])

    return {
        'a': a,
        'b': b,
        **{k: batch[k][:g] for k in ('factors_a', 'factors_b') if k in batch},  # none in your own folders
        'a2b': rows(a, b, 'a2b'),
        'b2a': rows(b, a, 'b2a'),
    }


def _spread_and_cycle(translate, pairs: dict, roles: str, render, name: str) -> tuple[dict, dict]:
    """({'<name>_<direction>', 'exact_<direction>': `metrics.source_spread`}, {domain: the guided
    round trip's L1 error}): a collapse to one image per guide shows as a spread near 0."""
    spread, cycle = {}, {}
    for d in metrics.DIRECTIONS:
        s, g = ('a', 'b') if d == 'a2b' else ('b', 'a')
        fixed = metrics.one_guide(pairs, d)
        spread[f'{name}_{d}'] = metrics.source_spread(translate(fixed[s], fixed[g], d))
        if render is not None:
            exact = render(translate_factors(roles, fixed['factors_a'], fixed['factors_b'], direction=d))
            spread[f'exact_{d}'] = metrics.source_spread(exact)
        n = min(256, len(pairs[s]))  # the guided round trip s -> other domain -> s, guided back by s
        there = translate(pairs[s][:n], pairs[g][:n], d)
        cycle[s] = float(
            np.mean(np.abs(np.asarray(translate(there, pairs[s][:n], 'b2a' if d == 'a2b' else 'a2b')) - pairs[s][:n]))
        )
    return spread, cycle


def evaluate(state: TrainState, pools: dict, info: dict, config: Any) -> dict[str, Any]:
    """ACC per direction and the WACV 2022 metrics, beside RAND's and (when the source has an
    exact renderer, `info['render']`) the oracle's."""
    translate = jax.jit(translator(state, config), static_argnums=2)
    if 'factors_a' not in pools['test']:  # your own folders: no factors to score
        return _evaluate_without_factors(translate, pools['test'], config)
    pairs = metrics.test_pairs(pools['test'], config.eval.num_pairs, config.seed)
    roles = config.data.roles
    norm_weight, style_noise = style_terms(config)
    predict = metrics.predictor(info.get('camera', 'default'))
    name = config.model.translator
    rows = {name: metrics.score(roles, pairs, metrics.translate_pairs(translate, pairs), predict=predict)}
    if config.eval.noisy and name == 'rift' and (style_noise > 0 or config.loss.defence_noise > 0):
        noisy = jax.jit(translator(state, config, noise_key=jax.random.PRNGKey(config.seed)), static_argnums=2)
        rows['rift_noisy'] = metrics.score(roles, pairs, metrics.translate_pairs(noisy, pairs), predict=predict)
    if info.get('render') is not None:  # the exact answers, drawn by the data source's renderer
        rows['oracle'] = metrics.score(roles, pairs, exact_translations(info['render'], roles, pairs), predict=predict)
    rows['rand'] = metrics.score(roles, pairs, metrics.random_translations(pairs, config.seed), predict=predict)
    spread, cycle = _spread_and_cycle(translate, pairs, roles, info.get('render'), name)
    return {
        'roles': roles,
        'translator': config.model.translator,
        'style_norm': norm_weight,
        'style_noise': style_noise,
        'guess_weight': config.loss.guess_weight,
        'num_pairs': len(pairs['a']),
        **rows,
        'source_spread': spread,
        'cycle_l1': cycle,
        'target_acc_above_rand': rows[config.model.translator]['acc_target'] - rows['rand']['acc_target'],
        'paper': PAPER,
    }


def _evaluate_without_factors(translate, test: dict, config: Any) -> dict[str, Any]:
    """Two domains of your own images: the guided round trip's error and how much A -> B outputs
    vary across sources for one guide; the factor metrics are skipped (no factors to read)."""
    rng = np.random.default_rng([config.seed, 2022])
    n = min(config.eval.num_pairs, len(test['a']), len(test['b']), 256)
    a, b = test['a'][rng.permutation(len(test['a']))[:n]], test['b'][rng.permutation(len(test['b']))[:n]]
    cycle = {
        'a': float(np.mean(np.abs(np.asarray(translate(translate(a, b, 'a2b'), a, 'b2a')) - a))),
        'b': float(np.mean(np.abs(np.asarray(translate(translate(b, a, 'b2a'), b, 'a2b')) - b))),
    }
    k = min(16, n)
    spread = {
        f'{config.model.translator}_a2b': metrics.source_spread(translate(a[:k], np.repeat(b[:1], k, 0), 'a2b')),
        f'{config.model.translator}_b2a': metrics.source_spread(translate(b[:k], np.repeat(a[:1], k, 0), 'b2a')),
    }
    return {
        'translator': config.model.translator,
        'num_pairs': n,
        'cycle_l1': cycle,
        'source_spread': spread,
        'skipped': 'ACC, RD and the WACV 2022 metrics: your images carry no factors to read',
    }


def make(config: Any) -> Method:
    """Build the RIFT (or MUNIT-style) Method for `config` (wiring only)."""
    validate(config)
    init_fn = munit.init if config.model.translator == 'munit' else init
    return bind_config(
        config, init=init_fn, train_step=train_step, eval_step=eval_step, sample=sample, evaluate=evaluate, plot=plot
    )


def plot(state: TrainState, samples: list, workdir: str, info: dict, config: Any) -> list[str]:
    """translations.png: per direction, rows sources, columns guides, and beside each translation
    the exact one (rendered from the factors), so a wrong factor shows at a glance; losses are
    plotted by the loop."""
    del state
    if not samples:
        return []
    step, last = samples[-1]
    size = last['a'].shape[1]
    g = len(last['a'])
    fig, axes = plt.subplots(2 * (g + 1), 2 * g + 1, figsize=(0.9 * (2 * g + 1), 0.9 * 2 * (g + 1)), squeeze=False)
    for block, (direction, src, guide) in enumerate((('a2b', 'a', 'b'), ('b2a', 'b', 'a'))):
        top = block * (g + 1)
        render = info.get('render') if f'factors_{src}' in last else None
        oracle = None
        if render is not None:
            pair_source = np.repeat(last[f'factors_{src}'], g, 0)  # the cell (i, j) at row i * g + j
            pair_guide = np.tile(last[f'factors_{guide}'], (g, 1))
            fa, fb = (pair_source, pair_guide) if direction == 'a2b' else (pair_guide, pair_source)
            exact = translate_factors(config.data.roles, fa, fb, direction=direction)
            oracle = render(exact).reshape(g, g, size, size, 3)
        axes[top, 0].axis('off')
        axes[top, 0].set_title(f'{direction.upper()}\nsource \\ guide', fontsize=7)
        for j in range(g):
            plots.show_image(axes[top, 1 + 2 * j], last[guide][j], 'guide')
            axes[top, 2 + 2 * j].axis('off')
        for i in range(g):
            plots.show_image(axes[top + 1 + i, 0], last[src][i])
            for j in range(g):
                plots.show_image(axes[top + 1 + i, 1 + 2 * j], last[direction][i, j], 'F(s, g)' if i == 0 else None)
                if oracle is None:
                    axes[top + 1 + i, 2 + 2 * j].axis('off')
                else:
                    plots.show_image(axes[top + 1 + i, 2 + 2 * j], oracle[i, j], 'exact' if i == 0 else None)
    name = 'MUNIT-style' if config.model.translator == 'munit' else 'RIFT'
    fig.suptitle(
        f'{name}, roles {config.data.roles}, step {step}: guided translations beside the exact ones', fontsize=9
    )
    return [plots.save_figure(fig, os.path.join(workdir, 'translations.png'))]
