"""Configs for CycleGAN with adversarial self-defense on 3D shapes (image <-> segmentation).

Run:  python run.py --config=common/cyclegan/config.py:<variant>

Variants
  tiny          CPU test run: tiny nets, a few steps, small data pools.
  default       plain CycleGAN, 32x32, the budget of the experiment table (see README.md).
  noise         + the noise defence (std 0.1 on translations in [-1, 1] before reconstruction).
  guess         + the guess discriminator (weight 2).
  guess_noise   + both.
  pix2pix       the supervised upper bound: G_B trained on the paired (image, segmentation) with L1
                (weight 100) and a conditional PatchGAN (method 'pix2pix', common/cyclegan/pix2pix.py).
  paper         the reference architecture (ngf = ndf = 64, 9 residual blocks) at 64x64, long.
  maps, maps_noise, maps_guess, maps_guess_noise
                the seed's Google Maps setting (aerial photo <-> map, Table 3) with the reference
                recipe the authors' code builds on: ResNet-9 (ngf 64), 70x70 PatchGAN (ndf 64, 3
                layers), LSGAN, batch 1, Adam 2e-4 (b1 0.5), load 286 -> random crop 256 (+ flip),
                100 + 100 epochs of the 1096 training pairs with the learning rate decayed
                linearly to 0 over the second 100, identity 0.5; the defences at the authors'
                defaults (noise 0.1, guess 2). Data: TFDS cycle_gan/maps (prepared beforehand), or
                the maps archive as a folder (--config.data.source=folder --config.data.root=...).
                For a GPU: ~219k steps at 256 px.
Defences can also be switched on any variant: --config.loss.noise_std=0.1 --config.loss.guess_weight=2.
The authors' advice for a many-to-one pair (image -> segmentation) and the reference identity loss:
--config.loss.cycle_a=1 --config.loss.cycle_b=2 --config.loss.identity=0.5.
"""

from __future__ import annotations

import ml_collections

from common.errors import ConfigError

MAPS = ('maps', 'maps_noise', 'maps_guess', 'maps_guess_noise')
VARIANTS = ('tiny', 'default', 'noise', 'guess', 'guess_noise', 'pix2pix', 'paper', *MAPS)
MAPS_TRAIN_PAIRS = 1096  # cycle_gan/maps: trainA and trainB hold 1096 images each


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """The config of variant `arg` (default 'default')."""
    variant = arg or 'default'
    if variant not in VARIANTS:
        raise ConfigError(f'unknown variant {variant!r} for common/cyclegan/config.py; allowed: {", ".join(VARIANTS)}')
    c = ml_collections.ConfigDict()
    c.method = 'cyclegan'
    c.seed = 0

    c.data = ml_collections.ConfigDict()
    c.data.source = 'shapes3d'
    c.data.task = 'image_segmentation'  # or 'factor_domains': two image domains of 3D-shapes factors
    c.data.roles = ''  # with 'factor_domains': a many-to-many role assignment 'A', 'B' or 'C' (rift/roles.py)
    c.data.real_min_scale = 0.0  # source 'puppet_digits': > 0 rescales each real digit (puppet/config.py)
    # source 'puppet_digits': the synthetic digits' angles (+-), scales ([min, 1]), extra stroke widths
    c.data.max_angle = 45.0
    c.data.min_scale = 0.5
    c.data.max_thickness = 6
    c.data.domain_b = 'b'  # the batch field of domain B (source 'puppet_digits': 'b_both', 'b_rest' or 'b_attr')
    c.data.image_size = 32
    c.data.camera = 'default'  # shapes3d: the renderer's view, 'default' (the room) or 'close' (the object fills ~35%)
    c.data.pool_size = 2048
    c.data.batch_size = 4
    # source 'folder': your own images, root/trainA, trainB (optional testA, testB), any size and mode
    c.data.root = ''
    c.data.channels = 3  # folder: 3 (RGB) or 1 (grey)
    c.data.load = 'resize'  # folder, tfds: 'resize', or 'resize_crop' (to load_size, then a seeded crop + flip)
    c.data.load_size = 0  # resize_crop: the size before the crop (0: image_size)
    # source 'tfds': a prepared dataset, e.g. 'cycle_gan/horse2zebra' (never downloaded at run time)
    c.data.tfds_name = 'cycle_gan/horse2zebra'
    c.data.data_dir = '~/tensorflow_datasets'

    c.model = ml_collections.ConfigDict()
    c.model.dtype = 'float32'  # or 'bfloat16' (accelerators): the convolutions; parameters, norms, losses float32
    c.model.ngf = 16
    c.model.ndf = 16
    c.model.num_blocks = 3
    c.model.num_layers = 3
    c.model.fast_convs = False  # common.fastconv for the stride-2 convolutions (same function, faster on CPU)

    c.loss = ml_collections.ConfigDict()
    c.loss.gan = 'lsgan'
    c.loss.cycle_a = 10.0  # lambda_A: image -> seg -> image
    c.loss.cycle_b = 10.0  # lambda_B: seg -> image -> seg (the authors: lambda_A < lambda_B for many-to-one)
    c.loss.identity = 0.0  # lambda_idt, a fraction of the cycle weights as in the reference code (0.5 there)
    c.loss.noise_std = 0.0
    c.loss.guess_weight = 0.0
    c.loss.history_size = 50

    c.optim = ml_collections.ConfigDict()
    c.optim.lr = 2e-4
    c.optim.b1 = 0.5
    c.optim.decay_from = 0  # > 0: from this step the learning rate falls linearly to 0 at train.steps

    c.eval = ml_collections.ConfigDict()
    c.eval.num_images = 512
    c.eval.sigmas = (2.0, 8.0)
    c.eval.batch_size = 0  # > 0: test images behind the eval curves (seg accuracy vs step); 0: data.batch_size

    c.train = ml_collections.ConfigDict()
    c.train.steps = 3000
    c.train.log_every = 10
    c.train.eval_every = 500
    c.train.checkpoint_every = 500
    c.train.keep_every = 0  # > 0: also keep every checkpoint at a multiple of it (budget curves); 0: the newest three

    if variant == 'tiny':
        c.data.image_size = 16
        c.data.pool_size = 32
        c.data.batch_size = 4
        c.model.ngf = c.model.ndf = 8
        c.model.num_blocks = 1
        c.model.num_layers = 2
        c.loss.history_size = 4
        c.eval.num_images = 8
        c.train.steps = 4
        c.train.eval_every = c.train.checkpoint_every = 2
        c.train.log_every = 1
    elif variant in ('noise', 'guess_noise', 'maps_noise', 'maps_guess_noise'):
        c.loss.noise_std = 0.1
    if variant in ('guess', 'guess_noise', 'maps_guess', 'maps_guess_noise'):
        c.loss.guess_weight = 2.0
    if variant in MAPS:
        c.data.source = 'tfds'
        c.data.tfds_name = 'cycle_gan/maps'
        c.data.image_size = 256
        c.data.load = 'resize_crop'
        c.data.load_size = 286
        c.data.pool_size = MAPS_TRAIN_PAIRS
        c.data.batch_size = 1
        c.model.ngf = c.model.ndf = 64
        c.model.num_blocks = 9
        c.model.num_layers = 3
        c.model.fast_convs = True
        c.loss.identity = 0.5
        c.eval.num_images = 64
        c.train.steps = 200 * MAPS_TRAIN_PAIRS
        c.optim.decay_from = 100 * MAPS_TRAIN_PAIRS
        c.train.eval_every = c.train.checkpoint_every = 10 * MAPS_TRAIN_PAIRS
    if variant == 'pix2pix':
        c.method = 'pix2pix'
        c.loss.l1 = 100.0  # the pix2pix paper's weight of |G(a) - s_a|_1
    if variant == 'paper':
        c.data.image_size = 64
        c.data.batch_size = 1
        c.model.ngf = c.model.ndf = 64
        c.model.num_blocks = 9
        c.model.fast_convs = True
        c.train.steps = 200_000
        c.train.eval_every = c.train.checkpoint_every = 10_000
    return c
