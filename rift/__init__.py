"""RIFT (Usman, Bashkirova, Saenko, WACV 2023): guided many-to-many translation with a
capacity-limited style channel, and the many-to-many evaluation protocol (Bashkirova, Usman,
Saenko, WACV 2022). See rift/README.md."""


def __getattr__(name: str):
    """`rift.translate` is `rift.apply.translate`, imported on first use: importing the method's modules
    (`rift.losses`, `rift.method`) never loads the loop that the runner needs."""
    if name == 'translate':
        from rift.apply import translate

        return translate
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
