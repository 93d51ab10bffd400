"""One-line checks of config fields and arguments: each names the field and what is allowed, and
raises `common.errors.ConfigError` (which `run.py` prints as one line, exit status 2).

`RENAMED` lists fields that changed name: a config or override that still carries the old name
is refused with a hint to the new one (`check_renamed`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from common.errors import ConfigError

# old field -> (new field, why it was renamed)
RENAMED = {
    'loss.pool_size': ('loss.history_size', '"pool" now means only a data split\'s arrays'),
}


def renamed_hint(field: str) -> str | None:
    """For an old field name ('loss.pool_size'), the one-line hint to its new name; else None."""
    if field not in RENAMED:
        return None
    new, why = RENAMED[field]
    return f"config.{field} was renamed to config.{new} (the GAN's history of generated images; {why})"


def check_renamed(config: Any) -> None:
    """Raise if `config` still carries a field under its old name."""
    for old in RENAMED:
        section, _, name = old.rpartition('.')
        node = config.get(section) if hasattr(config, 'get') else None
        if node is not None and hasattr(node, 'keys') and name in node:
            raise ConfigError(renamed_hint(old))


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
    if isinstance(value, bool) or not ok:
        raise ConfigError(f'{field}={value!r} is not valid; it must be {kind}')
    if value != value or value in (float('inf'), -float('inf')):
        raise ConfigError(f'{field}={value!r} is not valid; it must be a finite number')
    if positive and not value > 0:
        raise ConfigError(f'{field}={value!r} is not valid; it must be {kind} > 0')
    if nonnegative and not value >= 0:
        raise ConfigError(f'{field}={value!r} is not valid; it must be {kind} >= 0')


def check_bool(field: str, value: Any) -> None:
    """Raise unless `value` is True or False."""
    if not isinstance(value, bool):
        raise ConfigError(f'{field}={value!r} is not valid; allowed: True, False')


def get_field(config: Any, path: str) -> Any:
    """config['a.b.c'] with a ConfigError naming the missing field."""
    node = config
    for part in path.split('.'):
        try:
            node = node[part]
        except (KeyError, AttributeError, TypeError):
            raise ConfigError(f'config.{path} is missing') from None
    return node
