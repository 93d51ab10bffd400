"""The one method registry: `config.method` -> the module that builds its Method and the config
module that holds its variants.

`run.py`, the grid runner, the report and the contract test all read this table; a new method is
one line here. Modules are imported on first use, so reading the table loads no method.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any, NamedTuple

from common.errors import ConfigError


class Entry(NamedTuple):
    """method: the module with `make(config) -> Method`; config: the module with `get_config(arg)`
    and `VARIANTS`."""

    method: str
    config: str

    @property
    def config_file(self) -> str:
        """The config module as a path relative to the code root (what `--config=` takes)."""
        return self.config.replace('.', os.sep) + '.py'


METHODS: dict[str, Entry] = {
    'dualadv': Entry('dualadv.method', 'dualadv.config'),
    'lrmf': Entry('lrmf.method', 'lrmf.config'),
    'cyclegan': Entry('common.cyclegan.method', 'common.cyclegan.config'),
    'pix2pix': Entry('common.cyclegan.pix2pix', 'common.cyclegan.config'),
    'puppet': Entry('puppet.method', 'puppet.config'),
    'rift': Entry('rift.method', 'rift.config'),
}


def entry(name: Any) -> Entry:
    """The registry's entry for `config.method`, or a one-line ConfigError naming the allowed ones."""
    if name not in METHODS:
        raise ConfigError(f'config.method={name!r} is not valid; allowed: {", ".join(METHODS)}')
    return METHODS[name]


def method_module(name: str) -> ModuleType:
    """The module of method `name` (its `make`, `validate`, ...)."""
    return importlib.import_module(entry(name).method)


def make(config: Any) -> Any:
    """`<method>.make(config)` for the method `config.method` names: the Method, config bound."""
    return method_module(config.get('method')).make(config)


def config_modules() -> tuple[str, ...]:
    """Every config module, once each, in the table's order."""
    return tuple(dict.fromkeys(e.config for e in METHODS.values()))


def config_files() -> tuple[str, ...]:
    """Every config file, relative to the code root (the values `--config=` allows)."""
    return tuple(dict.fromkeys(e.config_file for e in METHODS.values()))


def with_defaults(recorded: dict, method_name: Any) -> dict:
    """A recorded config with every field added since it was recorded set to its default (the
    method's default config), so a run made before a field existed restores and evaluates as it
    trained (the same rule as `common.grid.same_config`)."""
    import importlib

    if method_name not in METHODS:
        return recorded
    defaults = importlib.import_module(entry(method_name).config).get_config(None).to_dict()

    def fill(rec: dict, default: dict) -> dict:
        out = dict(rec)
        for key, value in default.items():
            if key not in out:
                out[key] = value
            elif isinstance(value, dict) and isinstance(out[key], dict):
                out[key] = fill(out[key], value)
        return out

    return fill(recorded, defaults)
