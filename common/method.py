"""The method contract: what a method gives the training loop (`common.train`), and what it gets.

A method is a `Method` of pure functions, in the spirit of optax's GradientTransformation. It is
built once by `<method>.method.make(config)`, which binds the config (no function below takes
it again). Data flows one way: the loop builds the dataset once and hands the method what it
needs, so no method calls `common.data` or imports the loop.

    init(rng, example_batch, info) -> TrainState
        example_batch: the first training batch (its shapes and dtypes; `init` runs under jit);
        info: what the data source knows besides the batches (e.g. 'true_map' of a synthetic
        point pair: the exact map that aligns A to B, or None when there is none).
    train_step(state, batch, rng) -> (state, metrics)       # pure; jitted once by the loop
    eval_step(state, batch) -> metrics                      # on the test split's first batch
    sample(state, batch) -> dict of arrays                  # kept for plots (and saved to disk)
    evaluate(state, pools, info) -> dict                    # the final numbers -> results.json
        pools: {'train': ..., 'test': ...}, each split whole as one dict of NumPy arrays
        (the batch schema: 'a', 'b', labels or factors where the source has them); info: as
        for init (e.g. 'render': the exact images of any factors, from a 3D-shapes source, so
        a metric is handed the ground truth and never renders it).
    stages: tuple of Stage(name, train_step, steps)         # optional phases, run in order,
                                                            # with a checkpoint between them
    plot(state, samples, workdir, info) -> list of paths    # optional figures, after evaluate
        samples: [(step, sample dict)] of every evaluation of the run, oldest first.

The state a method builds (`TrainState` of named `Player`s) is defined here too, so a method
imports the contract and its own modules, never the loop's: a single-player method (a transform)
and a two-player one (generator vs discriminator) share one type, so the loop, the checkpoints
and resume treat them alike. `extra` holds non-trainable arrays a method carries between steps.

Metrics are scalars with stable names (`loss/<term>`, `grad_norm/<player>`, ...); the loop adds
`eval/` to eval_step's names. A non-finite training metric stops the run, naming the step and the term.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import flax.struct
import jax
import jax.numpy as jnp
import optax

Metrics = dict[str, jax.Array]


@flax.struct.dataclass
class Player:
    """One player's parameters and optimizer state; `tx` is static (not saved)."""

    params: Any
    opt_state: Any
    tx: optax.GradientTransformation = flax.struct.field(pytree_node=False)

    @classmethod
    def create(cls, params: Any, tx: optax.GradientTransformation) -> Player:
        return cls(params=params, opt_state=tx.init(params), tx=tx)

    def apply_gradients(self, grads: Any) -> Player:
        """One optimizer update (descent on the gradient given)."""
        updates, opt_state = self.tx.update(grads, self.opt_state, self.params)
        return self.replace(params=optax.apply_updates(self.params, updates), opt_state=opt_state)


@flax.struct.dataclass
class TrainState:
    """step: the global step; players: name -> Player; extra: name -> array."""

    step: jax.Array
    players: dict[str, Player]
    extra: dict[str, Any]

    @classmethod
    def create(cls, players: dict[str, Player], extra: dict[str, Any] | None = None) -> TrainState:
        return cls(step=jnp.zeros((), jnp.int32), players=players, extra=dict(extra or {}))

    def params(self, name: str) -> Any:
        return self.players[name].params


class Stage(NamedTuple):
    """A named training phase with its own step function and number of steps."""

    name: str
    train_step: Callable[[TrainState, dict[str, jax.Array], jax.Array], tuple[TrainState, Metrics]]
    steps: int


class Method(NamedTuple):
    """The method contract (see the module docstring)."""

    init: Callable[[jax.Array, dict[str, jax.Array], dict[str, Any]], TrainState]
    train_step: Callable[[TrainState, dict[str, jax.Array], jax.Array], tuple[TrainState, Metrics]]
    eval_step: Callable[[TrainState, dict[str, jax.Array]], Metrics]
    sample: Callable[[TrainState, dict[str, jax.Array]], dict[str, jax.Array]]
    evaluate: Callable[[TrainState, dict[str, dict[str, Any]], dict[str, Any]], dict[str, Any]]
    stages: tuple[Stage, ...] = ()
    plot: Callable[[TrainState, list[tuple[int, dict[str, Any]]], str, dict[str, Any]], list[str]] | None = None


def bind_config(config: Any, *, stages: tuple[Stage, ...] = (), **functions: Callable | None) -> Method:
    """A Method of module-level functions that each take the config as their keyword `config`:
    `bind_config(config, init=init, train_step=train_step, ...)` binds it once (None stays None),
    and so for each stage's step, so every method's `make` is wiring only, written one way."""

    def bind(fn: Callable | None) -> Callable | None:
        return None if fn is None else functools.partial(fn, config=config)

    bound_stages = tuple(Stage(s.name, bind(s.train_step), s.steps) for s in stages)
    return Method(**{k: bind(fn) for k, fn in functions.items()}, stages=bound_stages)
