"""Configs for RIFT and its baselines on the 3D-shapes role assignments (many-to-many translation).

Run:  python run.py --config=rift/config.py:<variant> --config.data.roles=A|B|C

Variants
  tiny          CPU test run: tiny nets, a few steps, small data pools.
  default       RIFT at 32x32 with narrow nets (~17 minutes on 2 cores): a grid of guided
                translations beside the exact ones, and ACC per direction (with the oracle's and
                RAND's) in results.json. Its terms are the `rep_perfect` recipe's.
Recipes (the terms and weights of the authors' logged runs, `MInner/rift` LOG, at the default scale):
  rep_perfect   the "rep_perfect" block: cycle 10, identity 1, style norm 2 / noise 0.3 (A).
  exported      the runs whose translations the authors exported and evaluated
                (`ssr1_dz05_sz05_gs2`): + style reconstruction of the guide's style 1, defence
                noise 0.5, style noise 0.5, guess 2, batch 8, lr 1e-4.
  supervised    the upper bound: the same nets trained only on the exact guided translations
                (the authors' gt_data term, rendered for every pair), unlimited style channel.
  guess         RIFT + the guess discriminator (weight 2).
  unlimited     RIFT without the capacity limit (no style noise, no style norm).
  as_cyclegan   RIFT "as CycleGAN": style noise 10 and norm 10 close the style channel.
  munit         a MUNIT-style translator (content encoder, global style code, AdaIN decoder).
  paper         the authors' architecture (ngf = ndf = 64, 9 residual blocks, batch 16) at 32x32, long.
Style norm and style noise default (None) to the authors' logged 3D-shapes values for the
assignment: norm 2, noise 0.3 for A; norm 1, noise 0.1 for B and C. Set them on any variant with
--config.loss.style_norm=... --config.loss.style_noise=....
"""

from __future__ import annotations

import ml_collections
from ml_collections import config_dict

from common.errors import ConfigError

VARIANTS = (
    'tiny',
    'default',
    'rep_perfect',
    'exported',
    'supervised',
    'guess',
    'unlimited',
    'as_cyclegan',
    'munit',
    'paper',
)
# The authors' logged 3D-shapes runs (MInner/rift LOG): assignment -> (style norm, style noise).
LOGGED = {'A': (2.0, 0.3), 'B': (1.0, 0.1), 'C': (1.0, 0.1)}


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """The config of variant `arg` (default 'default')."""
    variant = arg or 'default'
    if variant not in VARIANTS:
        raise ConfigError(f'unknown variant {variant!r} for rift/config.py; allowed: {", ".join(VARIANTS)}')
    c = ml_collections.ConfigDict()
    c.method = 'rift'
    c.seed = 0

    c.data = ml_collections.ConfigDict()
    c.data.source = 'shapes3d'  # or 'tfds' (DeepMind's shapes3d prepared in data_dir), or 'folder' (data.root)
    c.data.tfds_name = 'shapes3d'  # or e.g. 'celeb_a': two domains split by one attribute, as below
    c.data.domain_attribute = 'attributes/Male'  # tfds other than shapes3d: A = records where it equals
    c.data.domain_value = 1  # this value, B the rest (celeb_a: A male, B female; translation grids only)
    c.data.data_dir = '~/tensorflow_datasets'  # TFDS never downloads at run time
    c.data.task = 'factor_domains'
    c.data.roles = 'A'  # the role assignment: 'A', 'B' or 'C' (rift/roles.py)
    c.data.image_size = 32
    c.data.root = ''  # source 'folder': your own images, root/trainA, trainB (optional testA, testB)
    c.data.camera = 'default'  # the renderer's view: 'default' (the room) or 'close' (the object fills ~35%)
    c.data.pool_size = 2048  # scenes per domain in the train split (a quarter as many in test)
    c.data.batch_size = 4  # the authors' 16 (`paper`); 4 takes 2.5x less time per step on CPU

    c.model = ml_collections.ConfigDict()
    c.model.translator = 'munit' if variant == 'munit' else 'rift'  # 'rift' or 'munit'
    c.model.ngf = 16
    c.model.ndf = 16
    c.model.num_blocks = 3
    c.model.dtype = 'float32'  # or 'bfloat16' (accelerators): the convolutions; parameters, norms, losses float32
    c.model.norm = 'instance'  # the generators' norm (the authors'); 'none' keeps each image's mean colour
    c.model.num_layers = 2  # the PatchGAN's strided layers: 6x6 logits at 32 px (8x8 at 64 px with 3)
    c.model.style_dim = 8  # munit: the global style code's length
    c.model.fast_convs = True  # common.fastconv: the same functions, faster on XLA's CPU backend

    c.loss = ml_collections.ConfigDict()
    c.loss.gan = 'lsgan'
    c.loss.adversarial = 1.0  # GAN_G's weight; 0 (with guess 0): the discriminators are not trained
    c.loss.cycle = 10.0  # rift: |G_B2A(G_A2B(a, s~_b), s_a) - a|_1 (+ B); munit: image reconstruction
    c.loss.identity = 1.0  # rift: |G_B2A(a, s_a) - a|_1 (+ B)
    c.loss.style_norm = config_dict.placeholder(float)  # None: the logged value of data.roles
    c.loss.style_noise = config_dict.placeholder(float)  # None: the logged value of data.roles
    c.loss.style_rec = 0.0  # rift: the guide's style read back after the cycle (the authors' style_rand_rec)
    c.loss.style_idt = 0.0  # rift: the style G_B2A(a, s_a) reports equals s_a
    c.loss.style_zero_rec = 0.0  # rift: the style of a reported by the translation call equals s_a
    c.loss.style_swap = 0.0  # rift: a's style read back from b drawn in it
    c.loss.cycle_swap = 0.0  # rift: the cycle closed with that swapped style
    c.loss.supervised = 0.0  # rift: |G_A2B(a, s_b) - T(a, b)|_1 (+ B), T the exact translation (gt_data)
    c.loss.target_margin = 0.0  # > 0: L1 image targets clipped to +-(1 - margin), so no tanh channel saturates
    c.loss.defence_noise = 0.0  # sd of the noise on every generator's image input (self-defence)
    c.loss.guess_weight = 0.0
    c.loss.latent = 1.0  # munit: content and style reconstruction
    c.loss.history_size = 50

    c.optim = ml_collections.ConfigDict()
    # The authors' logged 3D-shapes runs: 1e-4 for both at batch 16 over ~50k steps (`paper`); our
    # CPU runs (batch 4, a few thousand steps) take twice that, the same ratio.
    c.optim.lr = 2e-4  # generators
    c.optim.lr_d = 2e-4  # discriminators
    c.optim.b1 = 0.5

    c.eval = ml_collections.ConfigDict()
    c.eval.num_pairs = 1024  # test (source, guide) pairs scored per direction
    c.eval.grid = 6  # the translation grid: this many sources x guides
    c.eval.noisy = True  # also score the translations made through the training noise (as the authors do)

    c.train = ml_collections.ConfigDict()
    c.train.steps = 6000
    c.train.log_every = 10
    c.train.eval_every = 500
    c.train.checkpoint_every = 500
    c.train.keep_every = 1000  # checkpoints kept for the budget curve (`python -m rift.curves RUN`)

    if variant == 'tiny':
        c.data.image_size = 16
        c.data.pool_size = 32
        c.data.batch_size = 4
        c.model.ngf = c.model.ndf = 4
        c.model.num_blocks = 1
        c.model.num_layers = 2
        c.model.style_dim = 2
        c.model.fast_convs = False  # compiles faster
        c.loss.history_size = 4
        c.eval.num_pairs = 16
        c.eval.grid = 3
        c.train.steps = 4
        c.train.eval_every = c.train.checkpoint_every = c.train.keep_every = 2
        c.train.log_every = 1
    elif variant == 'exported':
        c.loss.style_rec = 1.0
        c.loss.defence_noise = 0.5
        c.loss.style_noise = 0.5
        c.loss.style_norm = 2.0
        c.loss.guess_weight = 2.0
        c.data.batch_size = 8
        c.optim.lr = c.optim.lr_d = 1e-4
    elif variant == 'supervised':
        c.loss.adversarial = c.loss.cycle = c.loss.identity = 0.0
        c.loss.style_norm = c.loss.style_noise = 0.0
        c.loss.supervised = 1.0
        c.eval.noisy = False
    elif variant == 'guess':
        c.loss.guess_weight = 2.0
    elif variant == 'unlimited':
        c.loss.style_norm = 0.0
        c.loss.style_noise = 0.0
    elif variant == 'as_cyclegan':
        c.loss.style_norm = 10.0
        c.loss.style_noise = 10.0
    elif variant == 'paper':
        c.data.batch_size = 16
        c.optim.lr = c.optim.lr_d = 1e-4
        c.model.ngf = c.model.ndf = 64
        c.model.num_blocks = 9
        c.train.steps = 100_000
        c.train.log_every = 100
        c.train.eval_every = c.train.checkpoint_every = c.train.keep_every = 5000
    return c


def style_terms(config: ml_collections.ConfigDict) -> tuple[float, float]:
    """(style norm weight, style noise sd): the config's, or the logged values of its assignment."""
    norm, noise = LOGGED.get(config.data.roles, LOGGED['A'])
    return (
        norm if config.loss.style_norm is None else config.loss.style_norm,
        noise if config.loss.style_noise is None else config.loss.style_noise,
    )
