"""Aligning T(A) to B with the dual adversarial distance (min-min), or the primal min-max.

Dual (the seed): min_T d(T(A), B) = min_T min_alpha D(alpha; T(A), B), a joint minimisation
with no saddle point. Each step solves for alpha (warm-started from the previous step's
solution) and takes a gradient step on T through the envelope theorem (see dualadv.solver).

Min-max (the baseline a user would write): the same discriminator family and lam,
    min_T max_{w,b} sum_A log s(f(T(a))) + sum_B log(1 - s(f(b))) - lam/2 |w|^2,
with f(x) = w.phi(x) + b, phi the identity (linear) or, for the RBF kernel, random Fourier
features (`loss.critic='rff'`) or the exact kernel discriminator in function space
(`loss.critic='kernel'`: f(x) = sum_j c_j k(x_j, x) + b over the current points T(A) and B, the
penalty lam/2 c^T K c, the same kernel and bandwidth as the dual; `losses.primal_objective_kernel`).
Per training step, `optim.critic_steps` ascent steps on the critic, then one descent step on T
(1: simultaneous gradient descent-ascent), same lr.

Both runs log the exact distance d(T(A), B) of the current T (solved to tolerance), so their
curves are comparable; the state counts the steps where that distance and the alignment error
went up.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax

from common import plots
from common.checks import check_choice, check_number
from common.errors import ConfigError
from common.method import Method, Player, TrainState, bind_config
from dualadv import losses, metrics, models, solver

OBJECTIVES = ('dual', 'minmax')
SOURCES = ('gaussian', 'mixture', 'moons', 'digits')  # points, or digits as vectors
OPTIMIZERS = ('sgd', 'adam')
CRITICS = ('rff', 'kernel')
PAPER = {
    'claim': 'the dual (min-min) alignment improves monotonically and stably; the primal '
    'min-max oscillates (Usman, Saenko, Kulis, ICLR-W 2018; qualitative, no table)',
}


def validate(config: Any) -> None:
    """Method-specific config checks (ConfigError naming the field)."""
    check_choice('config.loss.objective', config.loss.objective, OBJECTIVES)
    check_choice('config.loss.kernel', config.loss.kernel, solver.KERNELS)
    check_choice('config.loss.solver', config.loss.solver, solver.METHODS)
    check_choice('config.model.transform', config.model.transform, models.TRANSFORMS)
    check_choice('config.optim.optimizer', config.optim.optimizer, OPTIMIZERS)
    check_number('config.loss.lam', config.loss.lam, positive=True)
    check_number('config.loss.bandwidth', config.loss.bandwidth)
    check_number('config.loss.rff_features', config.loss.rff_features, integer=True, positive=True)
    check_number('config.optim.critic_lr', config.optim.critic_lr)
    check_choice('config.loss.critic', config.loss.get('critic', 'rff'), CRITICS)
    check_number('config.optim.critic_steps', config.optim.get('critic_steps', 1), integer=True, positive=True)
    check_choice('config.data.source', config.data.source, SOURCES)
    if config.data.source == 'digits' and config.data.get('format', 'image') not in ('flat', 'pca'):
        raise ConfigError(
            f'config.data.format={config.data.get("format", "image")!r} is not valid for dualadv (it aligns '
            "vectors); allowed: 'flat', 'pca' (--config=dualadv/config.py:digits_rbf sets up the digits)"
        )


def _optimizer(config: Any, lr: float) -> optax.GradientTransformation:
    return optax.sgd(lr) if config.optim.optimizer == 'sgd' else optax.adam(lr)


def distance(ta: jax.Array, b: jax.Array, extra: dict, config: Any, init=None) -> solver.DualSolution:
    """The exact dual distance d(T(A), B) of the current T (the monitored quantity)."""
    return solver.adversarial_distance(
        ta,
        b,
        lam=config.loss.lam,
        kernel=config.loss.kernel,
        bandwidth=extra['bandwidth'] if config.loss.kernel == 'rbf' else None,
        method=config.loss.solver,
        init=init,
    )


def init(rng: jax.Array, batch: dict, info: dict, config: Any) -> TrainState:
    """T at the identity; the solver's warm start; the monitors; the critic for min-max."""
    a = jnp.asarray(batch['a'])
    dim = a.shape[-1]
    tparams = models.init_transform(config.model.transform, dim)
    players = {'transform': Player.create(tparams, _optimizer(config, config.optim.lr))}
    bw = config.loss.bandwidth
    if bw <= 0:
        bw = losses.median_bandwidth(a, jnp.asarray(batch['b']))
    n_a, n_b = batch['a'].shape[0], batch['b'].shape[0]
    extra = {
        'bandwidth': jnp.asarray(bw, jnp.float32),
        'alpha_a': jnp.full((n_a,), 0.5, jnp.float32),
        'alpha_b': jnp.full((n_b,), 0.5, jnp.float32),
        'bias': jnp.zeros((), jnp.float32),
        'prev_distance': jnp.asarray(jnp.inf, jnp.float32),
        'prev_error': jnp.asarray(jnp.inf, jnp.float32),
        'ups_distance': jnp.zeros((), jnp.int32),
        'ups_error': jnp.zeros((), jnp.int32),
    }
    true_map = info.get('true_map')
    if true_map is not None and np.ndim(true_map[0]) == 2:  # a synthetic pair: the aligning map (M, c)
        m, c = true_map
        extra['true_matrix'] = jnp.asarray(m, jnp.float32)
        extra['true_offset'] = jnp.asarray(c, jnp.float32)
    if config.loss.objective == 'minmax':
        feat_dim = dim if config.loss.kernel == 'linear' else config.loss.rff_features
        critic = {'w': jnp.zeros((feat_dim,), jnp.float32), 'b': jnp.zeros((), jnp.float32)}
        if _kernel_critic(config):
            critic = {'c_a': jnp.zeros((n_a,), jnp.float32), 'c_b': jnp.zeros((n_b,), jnp.float32), 'b': critic['b']}
        # Ascent: the critic minimises the negated objective.
        critic_lr = config.optim.critic_lr if config.optim.critic_lr > 0 else config.optim.lr
        players['critic'] = Player.create(critic, _optimizer(config, critic_lr))
        k1, k2 = jax.random.split(rng)
        extra['rff_omega'] = jax.random.normal(k1, (dim, feat_dim), jnp.float32)
        extra['rff_phase'] = jax.random.uniform(k2, (feat_dim,), jnp.float32, 0, 2 * jnp.pi)
    return TrainState.create(players, extra)


def _features(x: jax.Array, extra: dict, kernel: str) -> jax.Array:
    """The min-max critic's features: x itself (linear) or random Fourier features (RBF)."""
    if kernel == 'linear':
        return x
    return models.random_fourier_features(x, extra['rff_omega'], extra['rff_phase'], bandwidth=extra['bandwidth'])


def _monitor(state: TrainState, batch: dict, tparams: dict, sol: solver.DualSolution):
    """Distance / error bookkeeping shared by both objectives: (extra, metrics)."""
    a, b = batch['a'], batch['b']
    n = a.shape[0] + b.shape[0]
    dist = sol.value / n
    ta = models.apply_transform(tparams, a)
    err = metrics.map_error(tparams, a, state.extra) if 'true_matrix' in state.extra else metrics.mean_gap(ta, b)
    ex = state.extra
    tol = 1e-6 * (1.0 + jnp.abs(ex['prev_distance']))
    up_d = jnp.isfinite(ex['prev_distance']) & (dist > ex['prev_distance'] + tol)
    up_e = jnp.isfinite(ex['prev_error']) & (err > ex['prev_error'] + 1e-6)
    extra = dict(
        ex,
        prev_distance=dist.astype(jnp.float32),
        prev_error=err.astype(jnp.float32),
        ups_distance=ex['ups_distance'] + up_d.astype(jnp.int32),
        ups_error=ex['ups_error'] + up_e.astype(jnp.int32),
        alpha_a=sol.alpha_a.astype(jnp.float32),
        alpha_b=sol.alpha_b.astype(jnp.float32),
        bias=sol.bias.astype(jnp.float32),
    )
    out = {
        'loss/distance': dist,
        'align/distance_excess': sol.excess / n,
        'align/error': err,
        'align/mean_gap': metrics.mean_gap(ta, b),
        'solver/kkt_residual': sol.kkt_residual,
        'solver/num_steps': sol.num_steps.astype(jnp.float32),
    }
    return extra, out


def _warm(extra: dict) -> solver.DualSolution:
    """The previous step's solution as the solver's warm start."""
    zero = jnp.zeros((), jnp.float32)
    return solver.DualSolution(
        zero, extra['alpha_a'], extra['alpha_b'], extra['bias'], zero, 0, extra['bandwidth'], zero, jnp.bool_(False)
    )


def dual_step(state: TrainState, batch: dict, rng: jax.Array, config: Any):
    """min_T min_alpha D(alpha; T(A), B): solve for alpha (warm), step T by the envelope gradient."""
    del rng
    tparams = state.params('transform')
    n = batch['a'].shape[0] + batch['b'].shape[0]

    def loss_fn(p):
        sol = distance(models.apply_transform(p, batch['a']), batch['b'], state.extra, config, _warm(state.extra))
        return sol.value / n, sol

    (_, sol), grads = jax.value_and_grad(loss_fn, has_aux=True)(tparams)
    extra, out = _monitor(state, batch, tparams, sol)
    out['grad_norm/transform'] = optax.global_norm(grads)
    players = {'transform': state.players['transform'].apply_gradients(grads)}
    return state.replace(players=players, extra=extra), out


def _kernel_critic(config: Any) -> bool:
    return config.loss.kernel == 'rbf' and config.loss.get('critic', 'rff') == 'kernel'


def _primal(tparams: dict, cparams: dict, batch: dict, extra: dict, config: Any) -> jax.Array:
    """Normalised primal objective J(T, critic) (`losses.primal_objective` on the critic's
    features of T(A) and B, or `losses.primal_objective_kernel` for the exact kernel critic), to
    be maximised by the critic."""
    if _kernel_critic(config):
        ta, b = models.apply_transform(tparams, batch['a']), batch['b']
        gram = lambda x, y: losses.rbf_gram(x, y, bandwidth=extra['bandwidth'])  # noqa: E731
        obj = losses.primal_objective_kernel(
            cparams['c_a'],
            cparams['c_b'],
            cparams['b'],
            q_aa=gram(ta, ta),
            q_bb=gram(b, b),
            q_ab=gram(ta, b),
            lam=config.loss.lam,
        )
        return obj / (ta.shape[0] + b.shape[0])
    phi_a = _features(models.apply_transform(tparams, batch['a']), extra, config.loss.kernel)
    phi_b = _features(batch['b'], extra, config.loss.kernel)
    obj = losses.primal_objective(cparams['w'], cparams['b'], phi_a, phi_b, lam=config.loss.lam)
    return obj / (phi_a.shape[0] + phi_b.shape[0])


def minmax_step(state: TrainState, batch: dict, rng: jax.Array, config: Any):
    """min_T max_critic J: `optim.critic_steps` ascent steps on the critic, then one descent step
    on T (with one critic step, simultaneous: both gradients at the same point)."""
    del rng
    tparams = state.params('transform')
    critic = state.players['critic']
    grad = jax.value_and_grad(_primal, argnums=(0, 1))
    for _ in range(config.optim.get('critic_steps', 1) - 1):
        _, (_, g_c) = grad(tparams, critic.params, batch, state.extra, config)
        critic = critic.apply_gradients(jax.tree.map(jnp.negative, g_c))
    obj, (g_t, g_c) = grad(tparams, critic.params, batch, state.extra, config)
    ta = models.apply_transform(tparams, batch['a'])
    sol = distance(ta, batch['b'], state.extra, config, _warm(state.extra))
    extra, out = _monitor(state, batch, tparams, sol)
    out['loss/critic_objective'] = obj
    out['grad_norm/transform'] = optax.global_norm(g_t)
    out['grad_norm/critic'] = optax.global_norm(g_c)
    players = {
        'transform': state.players['transform'].apply_gradients(g_t),
        'critic': critic.apply_gradients(jax.tree.map(jnp.negative, g_c)),
    }
    return state.replace(players=players, extra=extra), out


def eval_step(state: TrainState, batch: dict, config: Any) -> dict:
    tparams = state.params('transform')
    ta = models.apply_transform(tparams, batch['a'])
    sol = distance(ta, batch['b'], state.extra, config)
    n = ta.shape[0] + batch['b'].shape[0]
    out = {'distance': sol.value / n, 'distance_excess': sol.excess / n, 'mean_gap': metrics.mean_gap(ta, batch['b'])}
    if 'true_matrix' in state.extra:
        out['map_error'] = metrics.map_error(tparams, batch['a'], state.extra)
    return out


def sample(state: TrainState, batch: dict, config: Any) -> dict:
    """A, B (with labels) and T(A) of the batch, for the trajectory plot."""
    del config
    keys = ('a', 'b', 'label_a', 'label_b')
    return {k: batch[k] for k in keys} | {'ta': models.apply_transform(state.params('transform'), batch['a'])}


def evaluate(state: TrainState, pools: dict, info: dict, config: Any) -> dict[str, Any]:
    """Final numbers: distance, error, monotonicity counts, digit accuracies."""
    tparams = jax.device_get(state.params('transform'))
    steps = int(config.train.steps)
    out: dict[str, Any] = {
        'objective': config.loss.objective,
        'kernel': config.loss.kernel,
        'lr': float(config.optim.lr),
        'final_train_distance': float(state.extra['prev_distance']),
        'final_train_error': float(state.extra['prev_error']),
        'ups_distance': int(state.extra['ups_distance']),
        'ups_error': int(state.extra['ups_error']),
        'ups_distance_fraction': int(state.extra['ups_distance']) / max(steps - 1, 1),
        'ups_error_fraction': int(state.extra['ups_error']) / max(steps - 1, 1),
        'paper': PAPER,
    }
    test = pools['test']
    a, b = jnp.asarray(test['a']), jnp.asarray(test['b'])
    ta = models.apply_transform(tparams, a)
    n = a.shape[0] + b.shape[0]
    out['test_distance_before'] = float(distance(a, b, state.extra, config).value / n)
    out['test_distance_after'] = float(distance(ta, b, state.extra, config).value / n)
    out['test_distance_excess_before'] = out['test_distance_before'] + float(np.log(2.0))
    out['test_distance_excess_after'] = out['test_distance_after'] + float(np.log(2.0))
    out['test_mean_gap_before'] = float(metrics.mean_gap(a, b))
    out['test_mean_gap_after'] = float(metrics.mean_gap(ta, b))
    if 'true_matrix' in state.extra:
        ident = models.init_transform('shift', a.shape[1])
        out['test_map_error_before'] = float(metrics.map_error(ident, a, state.extra))
        out['test_map_error_after'] = float(metrics.map_error(tparams, a, state.extra))
    if config.data.source == 'digits':
        out |= metrics.digit_accuracies(pools['train'], test, np.asarray(ta))
    return out


def make(config: Any) -> Method:
    """Build the dualadv Method for `config` (wiring only: the bodies are the functions above)."""
    validate(config)
    step = dual_step if config.loss.objective == 'dual' else minmax_step
    return bind_config(
        config, init=init, train_step=step, eval_step=eval_step, sample=sample, evaluate=evaluate, plot=plot
    )


def plot(state: TrainState, samples: list, workdir: str, info: dict, config: Any) -> list[str]:
    """alignment.png: T(A) over B with trajectories (2-D), distance and error vs step."""
    del state
    series = plots.read_metrics(workdir)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    ax = axes[0]
    if samples:
        first, last = samples[0][1], samples[-1][1]
        ax.scatter(last['b'][:, 0], last['b'][:, 1], s=8, c='tab:blue', alpha=0.5, label='B')
        ax.scatter(first['a'][:, 0], first['a'][:, 1], s=8, c='tab:gray', alpha=0.35, label='A')
        ax.scatter(last['ta'][:, 0], last['ta'][:, 1], s=8, c='tab:red', alpha=0.6, label='T(A), final')
        traj = np.stack([s['ta'] for _, s in samples])  # [t, n, d]
        for i in range(0, traj.shape[1], max(traj.shape[1] // 24, 1)):
            ax.plot(traj[:, i, 0], traj[:, i, 1], c='tab:red', lw=0.6, alpha=0.5)
        ax.legend(fontsize=8, loc='best')
    title = f'{config.loss.objective} ({config.loss.kernel}), lr {config.optim.lr}'
    ax.set_title(
        f'{title}: T(A) trajectories' + (' (first 2 dims)' if config.data.get('dim', 2) != 2 else ''), fontsize=9
    )
    for ax, key, label in (
        (axes[1], 'loss/distance', 'd(T(A), B) / n  (exact dual value; -ln 2 = -0.693 when aligned)'),
        (axes[2], 'align/error', 'alignment error'),
    ):
        if key in series:
            steps, values = series[key]
            ax.plot(steps, values, c='tab:red' if config.loss.objective == 'dual' else 'tab:purple')
        ax.set_title(label, fontsize=9)
        ax.set_xlabel('step')
        ax.grid(alpha=0.3)
    axes[1].axhline(-np.log(2.0), c='0.5', ls=':', lw=1)
    axes[1].set_ylabel('log-likelihood per point (chance: -ln 2)', fontsize=8)
    axes[2].set_yscale('log')
    import os

    return [plots.save_figure(fig, os.path.join(workdir, 'alignment.png'))]
