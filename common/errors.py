"""One exception for bad user input, and small checks that name the field and allowed values.

`run.py` prints a `ConfigError` as one line and exits with status 2; nothing else catches it. The
loop's two ways of stopping a run early live here too, so `run.py` names them without importing
the loop (JAX, orbax) before it has read its flags.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class ConfigError(ValueError):
    """Invalid flag, config value, data source, shape or workdir. The message is one line."""


class NonFiniteLossError(RuntimeError):
    """A training metric became NaN or infinite; the last good checkpoint is kept."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during training: the message says where the run stopped and how to resume it."""


def check_choice(field: str, value: Any, allowed: Iterable[Any]) -> None:
    """Raise if `value` is not one of `allowed`."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ConfigError(f'{field}={value!r} is not valid; allowed: {", ".join(repr(a) for a in allowed)}')


def check_number(
    field: str,
    value: Any,
    *,
    integer: bool = False,
    positive: bool = False,
    nonnegative: bool = False,
) -> None:
    """Raise unless `value` is a finite number (an integer, > 0 or >= 0 where asked)."""
    kind = 'an integer' if integer else 'a number'
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or value != value or value in (float('inf'), -float('inf')):
        raise ConfigError(f'{field}={value!r} is not valid; it must be {kind}')
    if positive and not value > 0:
        raise ConfigError(f'{field}={value!r} is not valid; it must be {kind} > 0')
    if nonnegative and not value >= 0:
        raise ConfigError(f'{field}={value!r} is not valid; it must be {kind} >= 0')


def get_field(config: Any, path: str) -> Any:
    """config['a.b.c'] with a ConfigError naming the missing field."""
    node = config
    for part in path.split('.'):
        try:
            node = node[part]
        except (KeyError, AttributeError, TypeError):
            raise ConfigError(f'config.{path} is missing') from None
    return node
