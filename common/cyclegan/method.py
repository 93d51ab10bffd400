"""CycleGAN (Zhu et al. 2017) with adversarial self-defense (Bashkirova et al. 2019), on the
common loop.

Domains: A = images, B = segmentation maps (3D shapes, `common.data` source 'shapes3d'); or any
two image domains of another source (`SOURCES`), B read from the batch field
`config.data.domain_b` (e.g. 'puppet_digits': A = real MNIST digits, B = one image of each
synthetic triplet, one channel).
Players: 'generators' {g_b = G_B: image -> segmentation (A -> B), g_a = G_A: segmentation -> image},
'discriminators' {d_a, d_b} (PatchGAN), and with `loss.guess_weight` > 0 'guess' {a, b}
(6-channel PatchGANs). One training step updates all of them once (Adam, lr 2e-4, b1 0.5):

  generators: L_G = GAN_G(D_B(G_B(a))) + GAN_G(D_A(G_A(b)))
                    + cycle_a |G_A(n(G_B(a))) - a|_1 + cycle_b |G_B(n(G_A(b))) - b|_1
                    + identity [cycle_a |G_A(a) - a|_1 + cycle_b |G_B(b) - b|_1]
                    + guess_weight [L_guess^G(a, rec_a) + L_guess^G(b, rec_b)]
              with n(x) = x + N(0, noise_std^2) (the noise defence; identity when 0);
  discriminators: GAN_D(D_A(a), D_A(history_A(G_A(b)))) + GAN_D(D_B(b), D_B(history_B(G_B(a))));
  guess: L_guess^D(a, rec_a) + L_guess^D(b, rec_b)  (`common.defenses`).

Evaluation (`metrics.evaluate_translation`): segmentation accuracy and mean IoU of G_B on test
images against the exact ground truth, RH, SN(2), SN(8), and the reconstruction error.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax

from common import defenses, gan, honesty, nets, plots
from common.checks import check_bool, check_choice, check_number
from common.cyclegan import metrics
from common.errors import ConfigError
from common.method import Method, Player, TrainState, bind_config
from common.synth import digits, shapes3d

PAPER = {
    'source': 'Bashkirova et al. NeurIPS 2019, GTA V image <-> segmentation; RH / SN on the 0-255 scale',
    'CycleGAN': {'rh': 27.4, 'sn': 447},
    '+ noise': {'rh': 9.2, 'sn': 94},
    '+ guess': {'rh': 11.4, 'sn': 213},
    '+ guess + noise': {'rh': 6.1, 'sn': 151},
    'segmentation accuracy': '0.23 (CycleGAN) -> 0.24 (defended)',
}


# source -> (image channels, the batch fields that can serve as domain B); 'folder' (your own
# trainA/ trainB/) and 'tfds' (e.g. cycle_gan/horse2zebra) take theirs from the data config
SOURCES = {
    'shapes3d': (3, ('b',)),
    'puppet_digits': (1, ('b_both', 'b_rest', 'b_attr')),
    'folder': (None, ('b',)),
    'tfds': (None, ('b',)),
}


def image_channels(config: Any) -> int:
    """The images' channels: the source's, `data.channels` of a folder, 1 for TFDS mnist."""
    fixed = SOURCES[config.data.source][0]
    if fixed is not None:
        return fixed
    if config.data.source == 'folder':
        return int(config.data.get('channels', 3))
    return 1 if config.data.get('tfds_name', '') == 'mnist' else 3


def domain_b(config: Any) -> str:
    """The batch field that holds domain B."""
    return config.data.get('domain_b', 'b')


def identity_weight(config: Any) -> float:
    """lambda_idt (0 in runs recorded before the field existed)."""
    return config.loss.get('identity', 0.0)


def validate_nets_and_optimizer(config: Any) -> None:
    """The GAN loss, the network sizes and Adam's b1 (shared with pix2pix)."""
    check_choice('config.loss.gan', config.loss.gan, gan.KINDS)
    for field in ('ngf', 'ndf', 'num_blocks', 'num_layers'):
        check_number(f'config.model.{field}', config.model[field], integer=True, positive=True)
    image_size = config.data.get('image_size', 32)  # puppet_digits: 32
    check_number('config.data.image_size', image_size, integer=True, positive=True)
    nets.check_patch_depth(config.model.num_layers, image_size)
    check_number('config.optim.b1', config.optim.b1, nonnegative=True)
    if not config.optim.b1 < 1:
        raise ConfigError(f'config.optim.b1={config.optim.b1} is not valid; it must be in [0, 1)')
    decay_from = config.optim.get('decay_from', 0)
    check_number('config.optim.decay_from', decay_from, integer=True, nonnegative=True)
    if decay_from >= config.train.steps:
        raise ConfigError(
            f'config.optim.decay_from={decay_from} is not valid; '
            f'it must be below config.train.steps={config.train.steps}'
        )


def optimizer(config: Any) -> optax.GradientTransformation:
    """Adam(lr, b1, 0.999); with `optim.decay_from` > 0 the reference's linear decay: lr until that
    step, then linearly to 0 at `train.steps` (niter + niter_decay)."""
    lr, start = config.optim.lr, int(config.optim.get('decay_from', 0))
    if start:
        decay = optax.linear_schedule(lr, 0.0, max(int(config.train.steps) - start, 1))
        lr = optax.join_schedules([optax.constant_schedule(lr), decay], [start])
    return optax.adam(lr, b1=config.optim.b1, b2=0.999)


def validate(config: Any) -> None:
    """Method-specific config checks (ConfigError naming the field)."""
    check_choice('config.data.source', config.data.source, tuple(SOURCES))
    check_choice('config.data.domain_b', domain_b(config), SOURCES[config.data.source][1])
    validate_nets_and_optimizer(config)
    for field in ('cycle_a', 'cycle_b', 'noise_std', 'guess_weight'):
        check_number(f'config.loss.{field}', config.loss[field], nonnegative=True)
    check_number('config.loss.identity', identity_weight(config), nonnegative=True)
    check_number('config.loss.history_size', config.loss.history_size, integer=True, nonnegative=True)
    check_number('config.eval.num_images', config.eval.num_images, integer=True, positive=True)
    check_bool('config.model.fast_convs', config.model.fast_convs)
    check_choice('config.model.dtype', config.model.get('dtype', 'float32'), tuple(nets.DTYPES))
    check_choice('config.data.roles', config.data.get('roles', ''), ('', 'A', 'B', 'C'))
    check_choice('config.data.camera', config.data.get('camera', 'default'), tuple(shapes3d.CAMERAS))
    check_choice('config.data.channels', config.data.get('channels', 3), (1, 3))  # source 'folder'
    check_choice('config.data.load', config.data.get('load', 'resize'), ('resize', 'resize_crop'))
    check_number('config.data.load_size', config.data.get('load_size', 0), integer=True, nonnegative=True)
    digits.check_ranges(config.data)  # the 'puppet_digits' fields, whatever the source
    if not config.eval.sigmas:
        raise ConfigError('config.eval.sigmas=() is not valid; give at least one noise level for SN, e.g. (2.0, 8.0)')
    for s in config.eval.sigmas:
        check_number('config.eval.sigmas', s, positive=True)


def networks(config: Any) -> tuple[nets.Reused, nets.Reused]:
    """(the generator, the discriminator) modules of `config.model`."""
    fast = bool(config.model.get('fast_convs', False))
    channels = image_channels(config)
    dtype = nets.compute_dtype(config.model.get('dtype', 'float32'))
    gen = nets.ResnetGenerator(channels, config.model.ngf, config.model.num_blocks, fast=fast, dtype=dtype)
    disc = nets.PatchDiscriminator(config.model.ndf, config.model.num_layers, fast=fast, dtype=dtype)
    return nets.Reused(gen), nets.Reused(disc)


def init(rng: jax.Array, batch: dict, info: dict, config: Any) -> TrainState:
    """Both generators, both discriminators (and the guess discriminators), the histories of generated images."""
    del info
    gen, disc = networks(config)
    shape = tuple(batch['a'].shape[1:])
    keys = jax.random.split(rng, 6)
    x = jnp.zeros((1, *shape))
    tx = optimizer(config)
    players = {
        'generators': Player.create({'g_b': gen.init(keys[0], x), 'g_a': gen.init(keys[1], x)}, tx),
        'discriminators': Player.create({'d_a': disc.init(keys[2], x), 'd_b': disc.init(keys[3], x)}, tx),
    }
    if config.loss.guess_weight > 0:
        pair = jnp.zeros((1, *shape[:-1], 2 * shape[-1]))
        players['guess'] = Player.create({'a': disc.init(keys[4], pair), 'b': disc.init(keys[5], pair)}, tx)
    return TrainState.create(players, gan.history_create(config.loss.history_size, shape))


def cycle(gparams: dict, a: jax.Array, b: jax.Array, rng: jax.Array, config: Any):
    """(G_A(b), G_B(a), G_A(n(G_B(a))), G_B(n(G_A(b)))), n the noise defence (identity at std 0)."""
    gen, _ = networks(config)
    noise_std = config.loss.noise_std
    k_a, k_b = jax.random.split(rng)
    fake_b = gen.apply(gparams['g_b'], a)
    fake_a = gen.apply(gparams['g_a'], b)
    noisy_b = defenses.add_noise(fake_b, k_a, noise_std) if noise_std > 0 else fake_b
    noisy_a = defenses.add_noise(fake_a, k_b, noise_std) if noise_std > 0 else fake_a
    return fake_a, fake_b, gen.apply(gparams['g_a'], noisy_b), gen.apply(gparams['g_b'], noisy_a)


def _guess_total(guess_params: dict, a, b, rec_a, rec_b, config: Any, *, generator: bool) -> jax.Array:
    """The guess loss of both domains: the generators' (fool D_g) or D_g's own."""
    _, disc = networks(config)
    pairs = ((a, rec_a), (b, rec_b))
    return defenses.guess_loss_both(disc.apply, guess_params, pairs, kind=config.loss.gan, generator=generator)


def train_step(state: TrainState, batch: dict, rng: jax.Array, config: Any):
    """One update of the generators, then the discriminators (on fakes from the history), then D_g."""
    _, disc = networks(config)
    kind = config.loss.gan
    a, b = batch['a'], batch[domain_b(config)]
    k_cycle, k_history_a, k_history_b = jax.random.split(rng, 3)
    dparams = state.params('discriminators')
    use_guess = config.loss.guess_weight > 0

    def generator_loss(gparams):
        fake_a, fake_b, rec_a, rec_b = cycle(gparams, a, b, k_cycle, config)
        terms = {
            'gan_ab': gan.generator_loss(disc.apply(dparams['d_b'], fake_b), kind=kind),
            'gan_ba': gan.generator_loss(disc.apply(dparams['d_a'], fake_a), kind=kind),
            'cycle_a': config.loss.cycle_a * gan.l1(rec_a, a),
            'cycle_b': config.loss.cycle_b * gan.l1(rec_b, b),
        }
        if identity_weight(config) > 0:  # the reference code's identity loss, scaled by the cycle weights
            gen, _ = networks(config)
            terms['identity_a'] = (
                identity_weight(config) * config.loss.cycle_a * gan.l1(gen.apply(gparams['g_a'], a), a)
            )
            terms['identity_b'] = (
                identity_weight(config) * config.loss.cycle_b * gan.l1(gen.apply(gparams['g_b'], b), b)
            )
        if use_guess:
            guess = _guess_total(state.params('guess'), a, b, rec_a, rec_b, config, generator=True)
            terms['guess'] = config.loss.guess_weight * guess
        return sum(terms.values()), (terms, fake_a, fake_b, rec_a, rec_b)

    (g_total, (terms, fake_a, fake_b, rec_a, rec_b)), g_grads = jax.value_and_grad(generator_loss, has_aux=True)(
        state.params('generators')
    )
    fake_a, fake_b, rec_a, rec_b = jax.lax.stop_gradient((fake_a, fake_b, rec_a, rec_b))
    history = gan.history_read(state.extra)
    history_a, shown_a = gan.query(history['a'], fake_a, k_history_a)
    history_b, shown_b = gan.query(history['b'], fake_b, k_history_b)

    def discriminator_loss(dparams):
        d_a = gan.discriminator_loss(disc.apply(dparams['d_a'], a), disc.apply(dparams['d_a'], shown_a), kind=kind)
        d_b = gan.discriminator_loss(disc.apply(dparams['d_b'], b), disc.apply(dparams['d_b'], shown_b), kind=kind)
        return d_a + d_b, {'d_a': d_a, 'd_b': d_b}

    (d_total, d_terms), d_grads = jax.value_and_grad(discriminator_loss, has_aux=True)(dparams)
    players = dict(state.players)
    players['generators'] = players['generators'].apply_gradients(g_grads)
    players['discriminators'] = players['discriminators'].apply_gradients(d_grads)
    out = {f'loss/g_{k}': v for k, v in terms.items()} | {f'loss/{k}': v for k, v in d_terms.items()}
    out['loss/generators'] = g_total
    out['loss/discriminators'] = d_total
    if use_guess:
        q_total, q_grads = jax.value_and_grad(_guess_total)(
            state.params('guess'), a, b, rec_a, rec_b, config, generator=False
        )
        players['guess'] = players['guess'].apply_gradients(q_grads)
        out['loss/guess_discriminators'] = q_total
    extra = gan.history_write(state.extra, {'a': history_a, 'b': history_b})
    return state.replace(players=players, extra=extra), out


def translators(state: TrainState, config: Any):
    """(G_A: segmentation -> image, G_B: image -> segmentation) as functions of images."""
    gen, _ = networks(config)
    gparams = state.params('generators')
    return (lambda s: gen.apply(gparams['g_a'], s)), (lambda x: gen.apply(gparams['g_b'], x))


def eval_step(state: TrainState, batch: dict, config: Any) -> dict:
    g_a, g_b = translators(state, config)
    if 'seg_a' not in batch:  # two image domains without ground truth: the cycle errors
        a, b = batch['a'], batch[domain_b(config)]
        return {'cycle_l1_a': gan.l1(g_a(g_b(a)), a), 'cycle_l1_b': gan.l1(g_b(g_a(b)), b)}
    pred = g_b(batch['a'])
    acc = jnp.mean(shapes3d.labels(pred) == shapes3d.labels(batch['seg_a']))
    rh = honesty.reconstruction_honesty(g_a, g_b, batch['a'], shapes3d.quantize)
    rec = gan.l1(g_a(pred), batch['a'])
    return {'seg_accuracy': acc, 'rh': rh, 'cycle_l1_a': rec}


def sample(state: TrainState, batch: dict, config: Any) -> dict:
    g_a, g_b = translators(state, config)
    x = batch['a'][:8]
    if 'seg_a' not in batch:
        b = batch[domain_b(config)][:8]
        return {'a': x, 'fake_b': g_b(x), 'rec_a': g_a(g_b(x)), 'b': b, 'fake_a': g_a(b), 'rec_b': g_b(g_a(b))}
    seg = g_b(x)
    quant = shapes3d.quantize(seg)
    return {
        'a': x,
        'seg_true': batch['seg_a'][:8],
        'seg': seg,
        'seg_quantized': quant,
        'rec': g_a(seg),
        'rec_from_quantized': g_a(quant),
        'b': batch['b'][:8],
        'image_from_b': g_a(batch['b'][:8]),
    }


def evaluate(state: TrainState, pools: dict, info: dict, config: Any) -> dict[str, Any]:
    """Segmentation accuracy / IoU against the exact ground truth, RH, SN on the test split."""
    g_a, g_b = translators(state, config)
    test = pools['test']
    n = min(config.eval.num_images, len(test['a']))
    if 'seg_a' not in test:  # no ground truth: the cycle errors, RH (8-bit) and SN of A -> B -> A
        a, b = test['a'][:n], test[domain_b(config)][:n]
        out = {
            'num_test_images': n,
            'cycle_l1_a': float(gan.l1(g_a(g_b(a)), a)),
            'cycle_l1_b': float(gan.l1(g_b(g_a(b)), b)),
        }
        if config.data.source in ('folder', 'tfds'):  # two image domains of your own: honesty without classes
            rng = jax.random.PRNGKey(config.seed + 1)
            out |= metrics.evaluate_translation(g_a, g_b, a, None, sigmas=tuple(config.eval.sigmas), rng=rng)
            out['skipped'] = 'rh (snap to segmentation colours) and segmentation accuracy: no segmentations here'
            if config.data.source == 'folder':  # A -> B against its pair, where file names pair up
                out |= metrics.paired_scores(g_b, test['a'], test['b'], test['label_a'], test['label_b'])
            else:
                out['skipped'] += '; pairs: TFDS cycle_gan records carry no file name to pair A with B'
        return out
    out = metrics.evaluate_translation(
        g_a,
        g_b,
        test['a'][:n],
        test['seg_a'][:n],
        sigmas=tuple(config.eval.sigmas),
        rng=jax.random.PRNGKey(config.seed + 1),
    )
    return {
        'defences': {'noise_std': config.loss.noise_std, 'guess_weight': config.loss.guess_weight},
        'num_test_images': n,
        **out,
        'paper': PAPER,
    }


def make(config: Any) -> Method:
    """Build the CycleGAN Method for `config` (wiring only: the bodies are the functions above)."""
    validate(config)
    return bind_config(
        config, init=init, train_step=train_step, eval_step=eval_step, sample=sample, evaluate=evaluate, plot=plot
    )


def plot(state: TrainState, samples: list, workdir: str, info: dict, config: Any) -> list[str]:
    """translations.png: per test image, the translation, its quantized version, both
    reconstructions and the hidden signal (|translation - quantized| x 10); and the losses."""
    del state
    if not samples:
        return []
    last = samples[-1][1]
    if 'seg' not in last:
        return [_plot_domains(samples[-1], workdir)]
    hidden = np.clip(10.0 * np.abs(last['seg'] - last['seg_quantized']), 0.0, 2.0) - 1.0
    rows = (
        ('image X', last['a']),
        ('true seg', last['seg_true']),
        ('G_B(X)', last['seg']),
        ('quantized', last['seg_quantized']),
        ('hidden x10', hidden),
        ('G_A(G_B(X))', last['rec']),
        ('G_A(quant)', last['rec_from_quantized']),
        ('seg B', last['b']),
        ('G_A(B)', last['image_from_b']),
    )
    n = len(last['a'])
    fig, axes = plt.subplots(len(rows), n, figsize=(1.3 * max(n, 2), 1.35 * len(rows)), squeeze=False)
    for r, (title, images) in enumerate(rows):
        for c in range(n):
            plots.show_image(axes[r, c], images[c])
        axes[r, 0].set_ylabel(title, fontsize=8)
    fig.suptitle(
        f'CycleGAN noise_std={config.loss.noise_std} guess_weight={config.loss.guess_weight}, step {samples[-1][0]}',
        fontsize=9,
    )
    return [plots.save_figure(fig, os.path.join(workdir, 'translations.png'))]


def _plot_domains(sample: tuple[int, dict], workdir: str) -> str:
    """translations.png for two image domains: A, G_B(A), its reconstruction; B, G_A(B), its."""
    step, last = sample
    rows = (
        ('A', 'a'),
        ('G_B(A)', 'fake_b'),
        ('G_A(G_B(A))', 'rec_a'),
        ('B', 'b'),
        ('G_A(B)', 'fake_a'),
        ('G_B(G_A(B))', 'rec_b'),
    )
    n = min(len(last[key]) for _, key in rows)  # the domains' test batches may differ in size
    fig, axes = plt.subplots(len(rows), n, figsize=(1.1 * max(n, 2), 1.15 * len(rows)), squeeze=False)
    for r, (title, key) in enumerate(rows):
        for c in range(n):
            plots.show_image(axes[r, c], last[key][c])
        axes[r, 0].set_ylabel(title, fontsize=8)
    fig.suptitle(f'CycleGAN, step {step}', fontsize=9)
    return plots.save_figure(fig, os.path.join(workdir, 'translations.png'))
