"""LRMF on the common loop, in the seed's two phases, and the baselines of the seed's Fig. 4.

Stage 'fit_private': fit the private density models P_A on A and P_B on B (closed form for
the Gaussian family: the ML fit of the batch, which is the whole pool in the Gaussian configs;
gradient steps on the negative log-likelihood for RealNVP). The shared model starts as P_B
(`model.shared_init`: or as P_A, or from M's random initialisation, 'scratch').
Stage 'lrmf': minimise `lrmf.losses.lrmf_loss` jointly over the transform T and the shared
model S with one Adam step each per training step; the private models are frozen, or, with
`train.refit_private`, keep fitting A and B one step per training step. The certificate needs
well-fit private models: when the fit budget is too small for them to converge (Glow in pixel
space on a CPU), frozen private models fall behind S, which keeps training, and the loss drifts
below 0 by their fitting error; refitting keeps them level with S.

Held-out fitting (`data.validation_fraction` > 0, flow densities): a fraction of each domain's
train pool is held out (`common.data`); during 'fit_private' the private models' NLL on it is
tracked every step, and at the end of the stage the parameters with the lowest held-out NLL are
the ones kept (early stopping), for P_A, P_B and the shared model's start. The test split is
never seen before the reported numbers.

Digits (claim 5): with `model.embedding='vae'` a first stage 'autoencode' trains one VAE on
both domains' flat images; every later stage works on its posterior means (frozen). With the
image kinds ('glow') the flows and densities act on the pixels [n, h, w, 1] directly.

The final loss is the certificate: ~0 means T(A) and B are aligned under the family M, a loss
clearly above 0 means T could not align them.

Baselines (`loss.objective`): the same T family trained with MMD^2 (Gaussian kernel) or the
Sinkhorn divergence (ott-jax) instead of the LRMF loss, and the back-to-back flow
T = f_B o f_A^-1 through the private RealNVP densities (no T to train). Every objective logs
and reports the LRMF loss of its T, so all four are judged by the same certificate.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import optax

from common.checks import check_bool, check_choice, check_number
from common.errors import ConfigError
from common.method import Method, Player, Stage, TrainState, bind_config
from lrmf import figures, losses, metrics, models

PAPER = {
    'claim': 'the LRMF loss is >= 0 and reaches 0 only when T(A) and B are aligned under M; '
    'Gaussian LRMF matches mean and covariance (Usman et al., NeurIPS 2020)',
}


OBJECTIVES = ('lrmf', 'mmd', 'sinkhorn', 'back_to_back')
SOURCES = ('gaussian', 'mixture', 'moons', 'digits')  # point clouds, or digits
EMBEDDINGS = ('none', 'vae')
SHARED_INITS = ('private_b', 'private_a', 'scratch')
POINT_DATA = (
    "point data: a point source, or digits with config.data.format='flat'/'pca' or config.model.embedding='vae'"
)
IMAGE_DATA = "image data: config.data.source='digits' with config.data.format='image' and config.model.embedding='none'"


def _is_image(config: Any) -> bool:
    data = config.data
    return data.source == 'digits' and data.get('format', 'image') == 'image' and _embedding(config) == 'none'


def _embedding(config: Any) -> str:
    return config.model.get('embedding', 'none')


def validate(config: Any) -> None:
    """Method-specific config checks (ConfigError naming the field)."""
    check_choice('config.loss.objective', config.loss.objective, OBJECTIVES)
    check_number('config.loss.mmd_bandwidth', config.loss.mmd_bandwidth, positive=True)
    check_number('config.loss.sinkhorn_epsilon', config.loss.sinkhorn_epsilon, positive=True)
    if config.loss.objective == 'back_to_back' and config.model.density != 'realnvp':
        raise ConfigError(
            f"config.loss.objective='back_to_back' needs config.model.density='realnvp'; got {config.model.density!r}"
        )
    check_choice('config.model.transform', config.model.transform, models.TRANSFORMS)
    check_choice('config.model.density', config.model.density, models.DENSITIES)
    check_choice('config.model.shared_init', config.model.shared_init, SHARED_INITS)
    check_choice('config.data.source', config.data.source, SOURCES)
    check_choice('config.model.embedding', _embedding(config), EMBEDDINGS)
    if _embedding(config) == 'vae':
        if config.data.source != 'digits' or config.data.get('format', 'image') != 'flat':
            raise ConfigError(
                "config.model.embedding='vae' needs config.data.source='digits' and config.data.format='flat'"
            )
        for field in ('embed_dim', 'ae_hidden'):
            check_number(f'config.model.{field}', config.model.get(field), integer=True, positive=True)
        check_number('config.train.ae_steps', config.train.get('ae_steps'), integer=True, positive=True)
        check_number('config.optim.ae_lr', config.optim.get('ae_lr'), positive=True)
    image = _is_image(config)
    for field in ('transform', 'density'):
        kind = config.model[field]
        if (kind in models.IMAGE_KINDS) != image:
            need = IMAGE_DATA if kind in models.IMAGE_KINDS else POINT_DATA
            raise ConfigError(f'config.model.{field}={kind!r} needs {need}')
    for section in ('flow_kwargs', 'density_kwargs'):
        for field, value in config.model[section].items():
            check_number(f'config.model.{section}.{field}', value, integer=True, positive=True)
    check_number('config.train.fit_steps', config.train.fit_steps, integer=True, positive=True)
    check_number('config.optim.fit_lr', config.optim.fit_lr, positive=True)
    check_number('config.optim.shared_lr', config.optim.shared_lr)  # <= 0: T's own rate
    check_bool('config.train.refit_private', config.train.get('refit_private', False))


def nets(config: Any, shape: tuple[int, ...]):
    """(T's flow, the density family M) for examples of `shape` (the space T works in)."""
    flow = models.make_flow(config.model.transform, shape, **config.model.flow_kwargs)
    return flow, models.make_density(config.model.density, shape, **config.model.density_kwargs)


def _vae(config: Any, x: jax.Array) -> models.VAE:
    """The VAE embedding of flat images x [n, d]."""
    return models.VAE(config.model.embed_dim, config.model.ae_hidden, x.shape[-1])


def embedded(state: TrainState, batch: dict, config: Any) -> dict:
    """The batch with 'a' and 'b' replaced by the frozen VAE posterior means (or as it is)."""
    if _embedding(config) != 'vae':
        return batch

    def embed(x):
        mean, _ = _vae(config, x).apply(state.params('embedding'), x, method=models.VAE.encode)
        return jax.lax.stop_gradient(mean)

    return batch | {'a': embed(batch['a']), 'b': embed(batch['b'])}


def _held_out(config: Any, info: dict) -> bool:
    """Whether the private models are fit with early stopping on held-out data."""
    return 'validation' in info and config.model.density != 'gaussian'


def _as_array(x) -> jax.Array:
    """An info array as a device array (zeros of its shape when `describe` gave only the shape)."""
    return jnp.zeros(x.shape, x.dtype) if isinstance(x, jax.ShapeDtypeStruct) else jnp.asarray(x)


def init(rng: jax.Array, batch: dict, info: dict, config: Any) -> TrainState:
    """The private, shared and transform players (and the VAE with an embedding); with held-out
    data, the held-out examples and the best private parameters so far (`extra`)."""
    use_vae = _embedding(config) == 'vae'
    k1, k2, k3 = jax.random.split(rng, 3)
    shape = (config.model.embed_dim,) if use_vae else batch['a'].shape[1:]
    flow, density = nets(config, shape)
    a = jnp.zeros((1, *shape))
    dparams = density.init(k2, a)
    fit_tx = optax.adam(config.optim.fit_lr)
    shared_lr = config.optim.shared_lr if config.optim.shared_lr > 0 else config.optim.lr
    players = {
        'private_a': Player.create(dparams, fit_tx),
        'private_b': Player.create(dparams, fit_tx),
        'shared': Player.create(dparams, optax.adam(shared_lr)),
        'transform': Player.create(flow.init(k1, a), optax.adam(config.optim.lr)),
    }
    if use_vae:
        x = jnp.asarray(batch['a'][:1])
        players['embedding'] = Player.create(_vae(config, x).init(k3, x, k3), optax.adam(config.optim.ae_lr))
    extra = {}
    if _held_out(config, info):
        held = info['validation']
        extra = {
            'validation': {'a': _as_array(held['a']), 'b': _as_array(held['b'])},
            'best': {'private_a': dparams, 'private_b': dparams},
            'best_nll': {'private_a': jnp.float32(jnp.inf), 'private_b': jnp.float32(jnp.inf)},
        }
    return TrainState.create(players, extra)


def ae_step(state: TrainState, batch: dict, rng: jax.Array, config: Any):
    """Stage 'autoencode': one VAE step on both domains' flat images (the negative ELBO)."""
    x = jnp.concatenate([batch['a'], batch['b']])

    def loss_fn(params):
        logits, mean, log_var = _vae(config, x).apply(params, x, rng)
        return losses.vae_loss(logits, jnp.clip(x, 0.0, 1.0), mean, log_var)

    loss, grads = jax.value_and_grad(loss_fn)(state.params('embedding'))
    players = dict(state.players)
    players['embedding'] = players['embedding'].apply_gradients(grads)
    return state.replace(players=players), {'loss/vae': loss}


def fit_privates(players: dict, batch: dict, config: Any):
    """One fit of P_A on batch['a'] and P_B on batch['b'] (closed form for Gaussians)."""
    players = dict(players)
    out = {}
    density = nets(config, batch['a'].shape[1:])[1]
    for name, x in (('private_a', batch['a']), ('private_b', batch['b'])):
        player = players[name]
        if config.model.density == 'gaussian':
            params = {'params': models.gaussian_ml_params(x)}
            player = player.replace(params=params)
            nll = -jnp.mean(density.apply(params, x))
        else:
            nll, grads = jax.value_and_grad(lambda p, x=x: -jnp.mean(density.apply(p, x)))(player.params)
            player = player.apply_gradients(grads)
        players[name] = player
        out[f'loss/nll_{name[-1]}'] = nll
    return players, out


def fit_step(state: TrainState, batch: dict, rng: jax.Array, config: Any, *, last_step: int = -1):
    """Stage 'fit_private': fit P_A and P_B; the shared model starts as `model.shared_init` says.

    With held-out data, keep the parameters of the lowest held-out NLL so far, and install them
    at the stage's last step (`last_step`, the global step index)."""
    del rng
    batch = embedded(state, batch, config)
    players, out = fit_privates(state.players, batch, config)
    extra = state.extra
    if 'best' in extra:
        held = embedded(state, extra['validation'], config)
        density = nets(config, batch['a'].shape[1:])[1]
        best, best_nll = dict(extra['best']), dict(extra['best_nll'])
        at_end = state.step == last_step
        for name, x in (('private_a', held['a']), ('private_b', held['b'])):
            nll = -jnp.mean(density.apply(players[name].params, x))
            better = nll < best_nll[name]
            best[name] = jax.tree.map(
                lambda new, old, b=better: jnp.where(b, new, old), players[name].params, best[name]
            )
            best_nll[name] = jnp.where(better, nll, best_nll[name])
            out[f'fit/held_out_nll_{name[-1]}'] = nll
            params = jax.tree.map(lambda b, p, e=at_end: jnp.where(e, b, p), best[name], players[name].params)
            players[name] = players[name].replace(params=params)
        extra = extra | {'best': best, 'best_nll': best_nll}
    shared = players['shared']
    if config.model.shared_init != 'scratch':  # else S keeps M's initialisation, never stepped before 'lrmf'
        start = players[config.model.shared_init].params
        players['shared'] = shared.replace(params=start, opt_state=shared.tx.init(start))
    return state.replace(players=players, extra=extra), out


def transform(state: TrainState, tparams: dict, a: jax.Array, config: Any):
    """(T(a), log|det dT/da|) for the trained T, or f_B(f_A^-1(a)) for back-to-back."""
    flow, density = nets(config, a.shape[1:])
    if config.loss.objective != 'back_to_back':
        return flow.apply(tparams, a)
    z, ld_a = density.apply(state.params('private_a'), a, method=models.FlowDensity.to_latent)
    ta, ld_b = density.apply(state.params('private_b'), z, method=models.FlowDensity.from_latent)
    return ta, ld_a + ld_b


def lrmf_terms(tparams: dict, sparams: dict, state: TrainState, batch: dict, config: Any):
    """(`losses.lrmf_loss` of T and the shared model S on an embedded batch, (its aux, T(A)))."""
    ta, logdet = transform(state, tparams, batch['a'], config)
    density = nets(config, batch['a'].shape[1:])[1]
    logp_a = jax.lax.stop_gradient(density.apply(state.params('private_a'), batch['a']))
    logp_b = jax.lax.stop_gradient(density.apply(state.params('private_b'), batch['b']))
    loss, aux = losses.lrmf_loss(logdet, density.apply(sparams, ta), density.apply(sparams, batch['b']), logp_a, logp_b)
    return loss, (aux, ta)


def baseline_loss(tparams: dict, state: TrainState, batch: dict, config: Any) -> jax.Array:
    """The MMD^2 or Sinkhorn divergence between T(A) and B (the baselines' objective)."""
    ta, _ = transform(state, tparams, batch['a'], config)
    if config.loss.objective == 'mmd':
        return losses.mmd2(ta, batch['b'], bandwidth=config.loss.mmd_bandwidth)
    return losses.sinkhorn_divergence(ta, batch['b'], epsilon=config.loss.sinkhorn_epsilon)


def lrmf_step(state: TrainState, batch: dict, rng: jax.Array, config: Any):
    """Stage 'lrmf': one Adam step on T (by its objective) and on S (by the LRMF loss)."""
    del rng
    objective = config.loss.objective
    batch = embedded(state, batch, config)
    (loss, (aux, ta)), (g_t, g_s) = jax.value_and_grad(lrmf_terms, argnums=(0, 1), has_aux=True)(
        state.params('transform'), state.params('shared'), state, batch, config
    )
    mean_err, cov_err = metrics.moments_error(ta, batch['b'])
    players = dict(state.players)
    out = {}
    if objective in ('mmd', 'sinkhorn'):
        base, g_t = jax.value_and_grad(baseline_loss)(state.params('transform'), state, batch, config)
        out[f'loss/{objective}'] = base
    if objective != 'back_to_back':
        players['transform'] = players['transform'].apply_gradients(g_t)
    players['shared'] = players['shared'].apply_gradients(g_s)
    if config.train.get('refit_private', False) and config.model.density != 'gaussian':
        players, fit_metrics = fit_privates(players, batch, config)  # step for step with the shared model
        out |= fit_metrics
    out |= {
        'loss/lrmf': loss,
        'lrmf/gap_a': aux['gap_a'],
        'lrmf/gap_b': aux['gap_b'],
        'align/mean_error': mean_err,
        'align/cov_error': cov_err,
        'grad_norm/transform': optax.global_norm(g_t),
        'grad_norm/shared': optax.global_norm(g_s),
    }
    if config.model.density == 'gaussian':
        out['align/gaussian_lr_distance'] = losses.gaussian_lr_distance(ta, batch['b'])
    return state.replace(players=players), out


def eval_step(state: TrainState, batch: dict, config: Any) -> dict:
    batch = embedded(state, batch, config)
    loss, (_, ta) = lrmf_terms(state.params('transform'), state.params('shared'), state, batch, config)
    mean_err, cov_err = metrics.moments_error(ta, batch['b'])
    return {'lrmf': loss, 'mean_error': mean_err, 'cov_error': cov_err}


def sample(state: TrainState, batch: dict, config: Any) -> dict:
    batch = embedded(state, batch, config)
    ta, _ = transform(state, state.params('transform'), batch['a'], config)
    keep = 32 if ta.ndim > 2 else len(ta)  # a few images, or every point
    out = {'a': batch['a'], 'b': batch['b'], 'ta': ta, 'label_a': batch['label_a'], 'label_b': batch['label_b']}
    return {k: v[:keep] for k, v in out.items()}


def evaluate(state: TrainState, pools: dict, info: dict, config: Any) -> dict[str, Any]:
    """The certificate (LRMF loss) on both splits, moment errors, and the label accuracies."""
    out: dict[str, Any] = {
        'objective': config.loss.objective,
        'transform': config.model.transform,
        'density': config.model.density,
        'paper': PAPER,
    }
    embedded_pools = {}
    for split in ('train', 'test'):
        batch = embedded(state, {k: jnp.asarray(v) for k, v in pools[split].items()}, config)
        loss, (aux, ta) = lrmf_terms(state.params('transform'), state.params('shared'), state, batch, config)
        out[f'{split}_lrmf_loss'] = float(loss)
        out[f'{split}_gap_a'] = float(aux['gap_a'])
        out[f'{split}_gap_b'] = float(aux['gap_b'])
        mean_err, cov_err = metrics.moments_error(ta, batch['b'])
        out[f'{split}_mean_error'] = float(mean_err)
        out[f'{split}_cov_error'] = float(cov_err)
        embedded_pools[split] = (batch, ta)
        n = min(len(ta), len(batch['b']))
        if ta.ndim == 2 and ta.shape[1] <= 32:
            out[f'{split}_gaussian_lr_distance'] = float(losses.gaussian_lr_distance(ta[:n], batch['b'][:n]))
    test, ta = embedded_pools['test']
    mean0, cov0 = metrics.moments_error(test['a'], test['b'])
    out['test_mean_error_before'] = float(mean0)
    out['test_cov_error_before'] = float(cov0)
    if config.data.source in ('moons', 'mixture'):  # moon arms, or mixture modes
        out |= metrics.arm_accuracies(test, ta)
    if config.data.source == 'digits':
        out |= metrics.digit_accuracies(embedded_pools)
    return out


def make(config: Any) -> Method:
    """Build the LRMF Method for `config` (wiring only: the bodies are the functions above)."""
    validate(config)

    fit_steps = 1 if config.model.density == 'gaussian' else config.train.fit_steps
    autoencode = (Stage('autoencode', ae_step, config.train.ae_steps),) if _embedding(config) == 'vae' else ()
    last_fit = sum(s.steps for s in autoencode) + fit_steps - 1  # the global index of the stage's last step
    stages = (
        *autoencode,
        Stage('fit_private', functools.partial(fit_step, last_step=last_fit), fit_steps),
        Stage('lrmf', lrmf_step, config.train.steps),
    )
    return bind_config(
        config,
        init=init,
        train_step=lrmf_step,
        eval_step=eval_step,
        sample=sample,
        evaluate=evaluate,
        plot=figures.plot,
        stages=stages,
    )
