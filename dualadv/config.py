"""Configs for the dual adversarial distance (dualadv). One variant per experiment.

Run:  python run.py --config=dualadv/config.py:<variant> [--config.optim.lr=0.5]

Variants
  tiny                  CPU test run, seconds.
  default               = points_rbf: the seed's 2-D figure with the kernel (RBF) dual. An
                        anisotropic 3-component mixture A is an affine (rotated, scaled,
                        shifted) copy of B; T is affine and the error is the RMS distance of T
                        to the true map over A. About 1 minute on 2 CPU cores; map error falls
                        from 2.27 to 0.10 (seed 0); the distance goes up on 2-6 of 399 steps (rounding at the plateau).
  points_linear         linear discriminator (sees only the means): T is a shift, the error is
                        the distance between the means.
  points_rbf            as default.
  digits_rbf            UCI 8x8 digits -> MNIST digits in a shared PCA embedding (fitted on
                        MNIST only); T affine; results.json has the accuracy on T(UCI) of a
                        classifier trained on MNIST features, before and after.
  paper                 the 2-D RBF experiment at a larger scale (more points, more steps).
  <experiment>_minmax   the same experiment with the primal min-max baseline: gradient descent
                        on T and ascent on the discriminator (w, b) with the same lam and lr.
                        For the RBF kernel the discriminator is linear in random Fourier
                        features of the same bandwidth (loss.rff_features of them), or with
                        --config.loss.critic=kernel the exact kernel discriminator; and
                        --config.optim.critic_steps=k takes k critic steps per step on T.
"""

from __future__ import annotations

import ml_collections

from common.errors import ConfigError

EXPERIMENTS = ('tiny', 'default', 'paper', 'points_linear', 'points_rbf', 'digits_rbf')
VARIANTS = EXPERIMENTS + tuple(f'{e}_minmax' for e in EXPERIMENTS)


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    """The config of variant `arg` (default 'default')."""
    variant = arg or 'default'
    if variant not in VARIANTS:
        raise ConfigError(f'unknown variant {variant!r} for dualadv/config.py; allowed: {", ".join(VARIANTS)}')
    experiment = variant.removesuffix('_minmax')
    c = ml_collections.ConfigDict()
    c.method = 'dualadv'
    c.seed = 0

    c.data = ml_collections.ConfigDict()
    c.data.source = 'mixture'
    c.data.dim = 2
    c.data.num_a = 128
    c.data.num_b = 128
    c.data.batch_size = 128
    c.data.num_components = 3
    c.data.rotation = 30.0
    c.data.scale = (1.3, 0.8)
    c.data.shift = (1.5, -1.0)

    c.model = ml_collections.ConfigDict()
    c.model.transform = 'affine'

    c.loss = ml_collections.ConfigDict()
    c.loss.objective = 'minmax' if variant.endswith('_minmax') else 'dual'
    c.loss.kernel = 'rbf'
    c.loss.lam = 1.0
    c.loss.bandwidth = -1.0  # <= 0: median heuristic on the train pool, fixed for the run
    c.loss.solver = 'newton'
    c.loss.rff_features = 256
    c.loss.critic = 'rff'  # min-max with the RBF kernel: 'rff' (linear in rff_features) or 'kernel' (exact)

    c.optim = ml_collections.ConfigDict()
    c.optim.optimizer = 'sgd'
    c.optim.lr = 0.3
    c.optim.critic_lr = -1.0  # <= 0: the same as optim.lr (the fair comparison)
    c.optim.critic_steps = 1  # min-max: critic ascent steps per step on T (1: simultaneous)

    c.train = ml_collections.ConfigDict()
    c.train.steps = 400
    c.train.log_every = 1
    c.train.eval_every = 20
    c.train.checkpoint_every = 100

    if experiment == 'tiny':
        c.data.num_a = c.data.num_b = c.data.batch_size = 32
        c.loss.rff_features = 32
        c.train.steps = 12
        c.train.eval_every = 4
        c.train.checkpoint_every = 4
    elif experiment == 'points_linear':
        c.data.source = 'gaussian'
        c.data.rotation = 0.0
        c.data.scale = (1.0, 1.0)
        c.data.shift = (3.0, -2.0)
        c.model.transform = 'shift'
        c.loss.kernel = 'linear'
        c.loss.lam = 1.0
        c.optim.lr = 0.5
        c.train.steps = 200
    elif experiment == 'paper':
        c.data.num_a = c.data.num_b = c.data.batch_size = 512
        c.train.steps = 2000
        c.train.eval_every = 50
        c.train.checkpoint_every = 500
    elif experiment == 'digits_rbf':
        c.data.source = 'digits'
        c.data.format = 'pca'
        c.data.image_size = 16
        c.data.pca_dim = 16
        c.data.batch_size = 256
        for field in ('dim', 'num_a', 'num_b', 'num_components', 'rotation', 'scale', 'shift'):
            del c.data[field]
        c.optim.lr = 0.5
        c.train.steps = 300
        c.train.eval_every = 25
    return c
