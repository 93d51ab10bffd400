"""PuppetGAN (Usman, Dufour, Saenko, Bregler, ICCV 2019): change one attribute of a real image
using only synthetic demonstrations. See puppet/README.md."""


def __getattr__(name: str):
    """`puppet.manipulate` is `puppet.apply.manipulate`, imported on first use: importing the method's modules
    (`puppet.losses`, `puppet.method`) never loads the loop that the runner needs."""
    if name == 'manipulate':
        from puppet.apply import manipulate

        return manipulate
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
