"""The train state: one or more named players, each with its parameters and optimizer state.

A single-player method (a transform) and a two-player one (transform vs discriminator,
generator vs discriminator) share one type, so the loop, the checkpoints and resume treat them
alike. `extra` holds non-trainable arrays a method carries between steps (e.g. warm starts).
"""

from __future__ import annotations

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax


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
