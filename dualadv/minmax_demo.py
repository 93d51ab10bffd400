"""The seed's opening example: min-max is hard for first-order methods; the dual min-min is not.

    python -m dualadv.minmax_demo

Left: gradient descent-ascent on f(x, y) = x y from (1, 1): simultaneous steps spiral out (each
multiplies |(x, y)| by sqrt(1 + lr^2)), alternating steps circle. Right: the same two-player
shape as the method has it: a 1-D shift T(a) = a + t of a cloud A ~ N(0, 1) toward B ~ N(3, 1)
(50 points each) against a linear logistic discriminator s(w x + b) with penalty lam / 2 w^2,

    primal (min-max):  min_t max_{w, b} sum_A log s(w (a + t) + b) + sum_B log(1 - s(w x + b)) - lam/2 w^2,
                       by simultaneous gradient descent (t) / ascent (w, b), one step each;
    dual (min-min):    min_t d(A + t, B), the inner max solved exactly by `solver.adversarial_distance`
                       (its gradient in t by the envelope theorem), gradient descent on t.

Both with the same step size on t (and the primal again with 10x smaller steps, 10x as many).
Writes dualadv/results/minmax_demo.{png,json,md}.
"""

from __future__ import annotations

import json
import os

import jax
import jax.numpy as jnp
import numpy as np

from common import grid

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')
LAM = 0.1
STEPS = 400
LR_T = 0.02
LR_D = 0.02


def bilinear(lr: float = 0.1, steps: int = 60) -> dict[str, np.ndarray]:
    """GDA on f(x, y) = x y (x descends, y ascends): simultaneous and alternating trajectories."""
    sim, alt = [(1.0, 1.0)], [(1.0, 1.0)]
    for _ in range(steps):
        x, y = sim[-1]
        sim.append((x - lr * y, y + lr * x))
        x, y = alt[-1]
        x = x - lr * y
        alt.append((x, y + lr * x))
    return {'simultaneous': np.array(sim), 'alternating': np.array(alt)}


def shift_game(seed: int = 0) -> dict[str, np.ndarray]:
    """t over steps for the primal GDA and the dual min-min (and the primal's w)."""
    from dualadv import solver

    rng = np.random.default_rng(seed)
    a = jnp.asarray(rng.normal(0.0, 1.0, (50, 1)))
    b = jnp.asarray(rng.normal(3.0, 1.0, (50, 1)))

    def primal(t, w, bias):
        za = w * (a[:, 0] + t) + bias
        zb = w * b[:, 0] + bias
        return jnp.sum(jax.nn.log_sigmoid(za)) + jnp.sum(jax.nn.log_sigmoid(-zb)) - 0.5 * LAM * w**2

    grads = jax.jit(jax.grad(primal, argnums=(0, 1, 2)))

    def gda(lr_t, lr_d, steps):
        t, w, bias = 0.0, 0.0, 0.0
        ts, ws = [t], [w]
        for _ in range(steps):
            g_t, g_w, g_b = grads(t, w, bias)
            t, w, bias = t - lr_t * float(g_t), w + lr_d * float(g_w), bias + lr_d * float(g_b)
            ts.append(t)
            ws.append(w)
        return np.array(ts), np.array(ws)

    primal_t, primal_w = gda(LR_T, LR_D, STEPS)
    slow_t, slow_w = gda(LR_T / 10, LR_D / 10, 10 * STEPS)  # 10x smaller steps, as many updates x10

    def distance(t):
        return solver.adversarial_distance(a + t, b, lam=LAM, kernel='linear').value

    dual_grad = jax.jit(jax.value_and_grad(distance))
    t = 0.0
    dual_t = [t]
    for _ in range(STEPS):
        _, g = dual_grad(t)
        t = t - LR_T * float(g)
        dual_t.append(t)
    gap = float(jnp.mean(b) - jnp.mean(a))
    return {
        'primal_t': primal_t,
        'primal_w': primal_w,
        'slow_t': slow_t,
        'slow_w': slow_w,
        'dual_t': np.array(dual_t),
        'target': gap,
    }


def main() -> None:
    import matplotlib.pyplot as plt

    from common import plots

    jax.config.update('jax_enable_x64', True)
    bl = bilinear()
    game = shift_game()
    target = game['target']

    def settled(ts, tol=0.05):
        """The first step after which |t - target| stays below tol (None if never)."""
        off = np.abs(ts - target) > tol
        return None if off[-1] else int(len(ts) - np.argmax(off[::-1]))

    result = {
        'bilinear_radius_after_60_steps': {k: float(np.hypot(*v[-1])) for k, v in bl.items()},
        'shift_game': {
            'lam': LAM,
            'lr_t': LR_T,
            'lr_discriminator': LR_D,
            'steps': STEPS,
            'target_shift_mean_b_minus_mean_a': target,
            'dual_final_t': float(game['dual_t'][-1]),
            'primal_final_t': float(game['primal_t'][-1]),
            'dual_settles_within_0.05_at_step': settled(game['dual_t']),
            'primal_settles_within_0.05_at_step': settled(game['primal_t']),
            'primal_t_range_last_100_steps': [
                float(game['primal_t'][-100:].min()),
                float(game['primal_t'][-100:].max()),
            ],
            'primal_lr_div10_final_t': float(game['slow_t'][-1]),
            'primal_lr_div10_updates': 10 * STEPS,
            'primal_lr_div10_settles_within_0.05_at_update': settled(game['slow_t']),
        },
    }
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for name, traj in bl.items():
        axes[0].plot(traj[:, 0], traj[:, 1], '.-', ms=2, lw=0.8, label=name)
    axes[0].plot([0], [0], 'k*', label='equilibrium')
    axes[0].set_title('GDA on f(x, y) = x y', fontsize=9)
    axes[0].set_xlabel('x (descends)')
    axes[0].set_ylabel('y (ascends)')
    axes[0].legend(fontsize=7)
    axes[1].plot(game['primal_t'], label=f'primal min-max (GDA, lr {LR_T})')
    axes[1].plot(game['slow_t'][::10], label=f'primal, lr {LR_T / 10} (x10 updates, every 10th)')
    axes[1].plot(game['dual_t'], label='dual min-min')
    axes[1].axhline(target, color='k', lw=0.6, ls='--', label='mean B - mean A')
    axes[1].set_xlabel('step')
    axes[1].set_ylabel('shift t')
    axes[1].set_title('shift T(a) = a + t vs a logistic discriminator', fontsize=9)
    axes[1].legend(fontsize=7)
    axes[2].plot(game['primal_t'], game['primal_w'], lw=0.8, label=f'lr {LR_T}')
    axes[2].plot(game['slow_t'], game['slow_w'], lw=0.8, label=f'lr {LR_T / 10}')
    axes[2].legend(fontsize=7)
    axes[2].plot([target], [0.0], 'k*')
    axes[2].set_xlabel('shift t')
    axes[2].set_ylabel('discriminator weight w')
    axes[2].set_title('the primal players circle the equilibrium', fontsize=9)
    out = grid.results_dir(OUT, 'dualadv', full=True)  # never inside an installed package
    os.makedirs(out, exist_ok=True)
    plots.save_figure(fig, grid.wrote(os.path.join(out, 'minmax_demo.png')))
    with open(grid.wrote(os.path.join(out, 'minmax_demo.json')), 'w') as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == '__main__':
    main()
