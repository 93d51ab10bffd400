"""Configs for PuppetGAN on digits: change the rotation (or the size) of a real MNIST digit to the
value shown by a font-rendered synthetic reference.

Run:  python run.py --config=puppet/config.py:<variant>

Variants
  tiny      CPU test run: tiny nets, a handful of steps, small grids.
  default   the rotation task, narrow nets, ~10 minutes on 2 cores: the manipulation grid and
            Acc / r_attr / r_rest / V_rest on held-out real digits in results.json.
  rotation  the table's rotation run (batch 16, more steps).
  size      the table's size run (the same, `data.task='size'`).
  supervised  the upper bound: the same E and g_A trained only on the exact manipulations of real
            digits (turned by, or scaled to, the reference's attribute); any task.
  paper     full-width nets and the recipe's long schedule, for a GPU.
The task can be switched on any variant: --config.data.task=size (the synthetic digits keep the
variant's ranges; the size task's are --config.data.min_scale=0.5 --config.data.max_angle=45
--config.data.max_thickness=6, see `DATA`).
"""

from __future__ import annotations

import ml_collections

from common.errors import ConfigError

VARIANTS = ('tiny', 'default', 'rotation', 'size', 'supervised', 'paper')
# The synthetic digits' ranges per task. Rotation: like the triplets tpham393/PuppetGAN-Tensorflow-2
# ships (near-constant size, thin strokes, angles about +-40; `puppet.ablation`: Acc 0.77 vs 0.72
# with every digit at +-45 degrees, scale 0.5-1, strokes 0-6). Size: the scale is the attribute,
# so it spans 0.5-1, with the wide angles and strokes of the first table.
DATA = {
    'rotation': {'max_angle': 40.0, 'min_scale': 0.75, 'max_thickness': 1},
    'size': {'max_angle': 45.0, 'min_scale': 0.5, 'max_thickness': 6},
}


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """The config of variant `arg` (default 'default')."""
    variant = arg or 'default'
    if variant not in VARIANTS:
        raise ConfigError(f'unknown variant {variant!r} for puppet/config.py; allowed: {", ".join(VARIANTS)}')
    c = ml_collections.ConfigDict()
    c.method = 'puppet'
    c.seed = 0

    c.data = ml_collections.ConfigDict()
    c.data.source = 'puppet_digits'
    c.data.task = 'size' if variant == 'size' else 'rotation'
    c.data.real = 'offline'  # or 'tfds': TFDS 'mnist' prepared in data_dir; or 'folder': data.root
    c.data.root = ''  # data.real='folder': your digits, root/train/<0-9>/*.png (optional root/test/<0-9>/)
    c.data.tfds_name = 'mnist'  # the only one data.real='tfds' reads
    c.data.data_dir = '~/tensorflow_datasets'  # TFDS never downloads at run time
    c.data.pool_size = 4000  # synthetic triplets in the train split (a quarter as many in test)
    # Every synthetic digit's angle is uniform in +-max_angle degrees, its scale in [min_scale, 1] of
    # the MNIST digit box, its extra stroke width in 0..max_thickness (x 4 px at 128 px): the
    # variant's task's ranges (`DATA`), kept when the task is switched on the command line.
    for field, value in DATA[c.data.task].items():
        c.data[field] = value
    c.data.real_min_scale = 0.0  # > 0: each real digit rescaled by a factor in [real_min_scale, 1]
    c.data.batch_size = 16

    c.model = ml_collections.ConfigDict()
    c.model.dtype = 'float32'  # or 'bfloat16' (accelerators): the convolutions; parameters, norms, losses float32
    c.model.nf = 8  # encoder / decoder width (4 nf at the 8x8 residual blocks)
    c.model.num_blocks = 2
    c.model.embed_dim = 128  # first half attribute, second half rest
    c.model.ndf = 8
    c.model.num_layers = 3
    c.model.fast_convs = True  # common.fastconv: the same functions, faster on XLA's CPU backend

    c.loss = ml_collections.ConfigDict()
    c.loss.gan = 'lsgan'
    c.loss.rec = 10.0
    c.loss.dis = 10.0
    c.loss.cyc = 10.0
    c.loss.attr_b = 5.0
    c.loss.attr_a = 3.0
    c.loss.adv = 1.0
    c.loss.adv_reduce = 'mean'  # over a domain's generated images; the TF2 recipe sums ('sum', paper)
    c.loss.noise_std = 0.2
    # The reimplementation's two extra attribute cycles (its "roids"; not the paper's): 0 = off, it uses 3 / 5.
    c.loss.attr_back_a = 0.0
    c.loss.attr_back_b = 0.0
    c.loss.supervised = 0.0  # the `supervised` bound: g_A(a, b_attr) against the exact manipulation of a

    c.optim = ml_collections.ConfigDict()
    # The recipe's 2e-4 / 5e-5 at batch 200; our CPU runs (batch 16, a few thousand steps) take
    # 2.5 x both, the same ratio (`paper` keeps the recipe's).
    c.optim.lr = 5e-4  # generators: one Adam over the encoder and both decoders
    c.optim.lr_d = 1.25e-4  # discriminators
    c.optim.b1 = 0.5
    c.optim.per_decoder = False  # True: the reimplementation's Adam per decoder (E stepped by both)

    c.eval = ml_collections.ConfigDict()
    c.eval.num_rows = 32  # held-out real digits per grid
    c.eval.num_refs = 9  # references per sweep
    c.eval.num_rests = 4  # sweeps (rests) per grid; V_rest is the spread across them
    c.eval.classifier_steps = 1500
    c.eval.judge = 'augmented'  # the judge of Acc: 'augmented' (sees rotated / resized digits) or 'upright'

    c.train = ml_collections.ConfigDict()
    c.train.steps = 1500
    c.train.log_every = 10
    c.train.eval_every = 250
    c.train.checkpoint_every = 250
    c.train.keep_every = 500  # checkpoints kept for the budget curve (`python -m puppet.curves RUN`)

    if variant == 'tiny':
        c.data.pool_size = 16
        c.data.batch_size = 4
        c.model.nf = c.model.ndf = 4
        c.model.num_blocks = 1
        c.model.embed_dim = 8
        c.model.num_layers = 2
        c.model.fast_convs = False  # compiles in less than half the time
        c.eval.num_rows = 3
        c.eval.num_refs = 3
        c.eval.num_rests = 2
        c.eval.classifier_steps = 5
        c.train.steps = 4
        c.train.eval_every = c.train.checkpoint_every = c.train.keep_every = 2
        c.train.log_every = 1
    elif variant == 'supervised':  # the upper bound: the same nets on the exact manipulations
        c.loss.rec = c.loss.dis = c.loss.cyc = c.loss.attr_b = c.loss.attr_a = c.loss.adv = 0.0
        c.loss.supervised = 10.0
        c.train.steps = 3000
        c.train.eval_every = c.train.checkpoint_every = 500
    elif variant in ('rotation', 'size'):
        c.train.steps = 3000
        c.train.eval_every = c.train.checkpoint_every = 500
    elif variant == 'paper':
        c.loss.adv_reduce = 'sum'
        c.optim.lr, c.optim.lr_d = 2e-4, 5e-5
        c.data.batch_size = 64
        c.model.nf = 64
        c.model.ndf = 64
        c.model.num_blocks = 4
        c.train.steps = 60_000
        c.train.log_every = 100
        c.train.eval_every = c.train.checkpoint_every = c.train.keep_every = 5000
    return c
