"""pix2pix (Isola et al., CVPR 2017): the supervised upper bound of the self-defense table.

The same generator as CycleGAN's G_B (image -> segmentation), trained on the renderer's paired
(image, segmentation) with an L1 term and a conditional PatchGAN that sees the image beside the
segmentation (6 channels):

  generator:     L_G = GAN_G(D(a, G(a))) + l1 |G(a) - s_a|_1          (l1 = 100 in the paper)
  discriminator: L_D = GAN_D(D(a, s_a), D(a, G(a)))

where s_a is the exact segmentation of image a. Evaluation: segmentation accuracy and mean IoU of
G(image) on the test split, as `common.cyclegan.metrics` scores CycleGAN's G_B. With no way back
to images, RH and SN do not apply.

Run:  python run.py --config=common/cyclegan/config.py:pix2pix
"""

from __future__ import annotations

import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from common import gan, plots
from common.checks import check_choice, check_number
from common.cyclegan import metrics
from common.cyclegan.method import networks, optimizer, validate_nets_and_optimizer
from common.method import Method, Player, TrainState, bind_config
from common.synth import shapes3d


def validate(config: Any) -> None:
    """pix2pix needs paired ground truth: 3D shapes image -> segmentation."""
    check_choice('config.data.source', config.data.source, ('shapes3d',))
    check_choice('config.data.task', config.data.task, ('image_segmentation',))
    validate_nets_and_optimizer(config)
    check_number('config.loss.l1', config.loss.l1, nonnegative=True)


def init(rng: jax.Array, batch: dict, info: dict, config: Any) -> TrainState:
    del info
    gen, disc = networks(config)
    shape = tuple(batch['a'].shape[1:])
    k_g, k_d = jax.random.split(rng)
    tx = optimizer(config)
    pair = jnp.zeros((1, *shape[:-1], 2 * shape[-1]))
    return TrainState.create(
        {
            'generator': Player.create(gen.init(k_g, jnp.zeros((1, *shape))), tx),
            'discriminator': Player.create(disc.init(k_d, pair), tx),
        }
    )


def losses(gparams, dparams, a: jax.Array, seg: jax.Array, config: Any) -> tuple[jax.Array, dict]:
    """(L_G, its terms): the conditional GAN term and l1 |G(a) - s_a|_1 (module docstring)."""
    gen, disc = networks(config)
    fake = gen.apply(gparams, a)
    terms = {
        'gan': gan.generator_loss(disc.apply(dparams, jnp.concatenate([a, fake], -1)), kind=config.loss.gan),
        'l1': config.loss.l1 * gan.l1(fake, seg),
    }
    return sum(terms.values()), terms | {'fake': fake}


def train_step(state: TrainState, batch: dict, rng: jax.Array, config: Any):
    """One generator step, then one discriminator step on the (detached) translation."""
    del rng
    _, disc = networks(config)
    a, seg = batch['a'], batch['seg_a']
    dparams = state.params('discriminator')

    (g_total, terms), g_grads = jax.value_and_grad(losses, has_aux=True)(
        state.params('generator'), dparams, a, seg, config
    )
    fake = jax.lax.stop_gradient(terms.pop('fake'))

    def discriminator_loss(dparams):
        real = disc.apply(dparams, jnp.concatenate([a, seg], -1))
        shown = disc.apply(dparams, jnp.concatenate([a, fake], -1))
        return gan.discriminator_loss(real, shown, kind=config.loss.gan)

    d_total, d_grads = jax.value_and_grad(discriminator_loss)(dparams)
    players = dict(state.players)
    players['generator'] = players['generator'].apply_gradients(g_grads)
    players['discriminator'] = players['discriminator'].apply_gradients(d_grads)
    out = {f'loss/g_{k}': v for k, v in terms.items()} | {'loss/generator': g_total, 'loss/discriminator': d_total}
    return state.replace(players=players), out


def segment(state: TrainState, config: Any):
    """G: image -> segmentation, as a function of images."""
    gen, _ = networks(config)
    return lambda x: gen.apply(state.params('generator'), x)


def eval_step(state: TrainState, batch: dict, config: Any) -> dict:
    pred = segment(state, config)(batch['a'])
    return {'seg_accuracy': jnp.mean(shapes3d.labels(pred) == shapes3d.labels(batch['seg_a']))}


def sample(state: TrainState, batch: dict, config: Any) -> dict:
    x = batch['a'][:8]
    return {'a': x, 'seg_true': batch['seg_a'][:8], 'seg': segment(state, config)(x)}


def evaluate(state: TrainState, pools: dict, info: dict, config: Any) -> dict[str, Any]:
    """Segmentation accuracy and mean IoU on the test split (the first eval.num_images)."""
    test = pools['test']
    n = min(config.eval.num_images, len(test['a']))
    g = jax.jit(segment(state, config))
    preds = np.concatenate([np.asarray(g(jnp.asarray(test['a'][i : i + 64]))) for i in range(0, n, 64)])
    return {'num_test_images': n, 'l1_weight': config.loss.l1, **metrics.segmentation_scores(preds, test['seg_a'][:n])}


def plot(state: TrainState, samples: list, workdir: str, info: dict, config: Any) -> list[str]:
    """translations.png: test images, their true segmentations, and G's."""
    del state, config
    if not samples:
        return []
    step, last = samples[-1]
    rows = (('image', 'a'), ('true seg', 'seg_true'), ('G(image)', 'seg'))
    n = len(last['a'])
    fig, axes = plots.plt.subplots(len(rows), n, figsize=(1.3 * max(n, 2), 1.4 * len(rows)), squeeze=False)
    for r, (title, key) in enumerate(rows):
        for c in range(n):
            plots.show_image(axes[r, c], last[key][c])
        axes[r, 0].set_ylabel(title, fontsize=8)
    fig.suptitle(f'pix2pix (supervised upper bound), step {step}', fontsize=9)
    return [plots.save_figure(fig, os.path.join(workdir, 'translations.png'))]


def make(config: Any) -> Method:
    """Build the pix2pix Method for `config` (wiring only)."""
    validate(config)
    return bind_config(
        config, init=init, train_step=train_step, eval_step=eval_step, sample=sample, evaluate=evaluate, plot=plot
    )
