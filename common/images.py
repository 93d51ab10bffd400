"""Folders of images in and out: what the apply commands read and write.

Reading converts any PNG or JPEG (any size, any mode: grey, RGB, RGBA, palette) to the run's
channels and size, as float32 in [-1, 1]; a folder is listed once and decoded in batches, so
memory stays flat for any folder size. Writing never touches a folder that holds anything: the
output folder must be new or empty. Every refusal is a `ConfigError` of one line naming the
folder, file or flag.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from common.errors import ConfigError

EXTENSIONS = ('.png', '.jpg', '.jpeg')


def list_images(folder: str, flag: str) -> list[str]:
    """The PNG / JPEG files directly in `folder`, sorted by name (`flag` names it in errors)."""
    if not folder:
        raise ConfigError(f'{flag} is empty; give a folder of PNG or JPEG images')
    if not os.path.isdir(folder):
        raise ConfigError(f'{flag}={folder} is not a folder; give a folder of PNG or JPEG images')
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(EXTENSIONS) and not n.startswith('.'))
    if not names:
        raise ConfigError(f'{flag}={folder} holds no PNG or JPEG image ({", ".join(EXTENSIONS)})')
    return [os.path.join(folder, n) for n in names]


def load(path: str, size: int, channels: int) -> np.ndarray:
    """One image as [size, size, channels] float32 in [-1, 1] (resized, converted to grey or RGB)."""
    from PIL import Image

    if channels not in (1, 3):
        raise ConfigError(f'channels={channels} is not supported; allowed: 1 (grey) or 3 (RGB)')
    try:
        with Image.open(path) as img:
            img = img.convert('L' if channels == 1 else 'RGB')
            if img.size != (size, size):
                img = img.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
            x = np.asarray(img, np.float32)
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise ConfigError(f'{path} is not a readable image ({type(e).__name__}); remove or replace it') from None
    x = x[..., None] if channels == 1 else x
    return x / 127.5 - 1.0


def resize_array(x: np.ndarray, size: int) -> np.ndarray:
    """A uint8 image [h, w, c] (c: 1 or 3) as [size, size, c] float32 in [-1, 1], resized as `load`."""
    from PIL import Image

    x = np.asarray(x, np.uint8)
    img = Image.fromarray(x[..., 0] if x.shape[-1] == 1 else x)
    if img.size != (size, size):
        img = img.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    out = np.asarray(img, np.float32).reshape(size, size, x.shape[-1])
    return out / 127.5 - 1.0


def check_readable(paths: Sequence[str]) -> None:
    """Open every image's header before anything is written (the first unreadable one named)."""
    from PIL import Image

    for path in paths:
        try:
            with Image.open(path) as img:
                img.verify()
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
            raise ConfigError(f'{path} is not a readable image ({type(e).__name__}); remove or replace it') from None


def load_all(paths: Sequence[str], size: int, channels: int) -> np.ndarray:
    """[len(paths), size, size, channels] float32 in [-1, 1]."""
    return np.stack([load(p, size, channels) for p in paths]).astype(np.float32)


def to_uint8(x: np.ndarray) -> np.ndarray:
    """[H, W, C] in [-1, 1] -> uint8 [H, W, C] (C = 1 squeezed to [H, W])."""
    x = np.clip((np.asarray(x, np.float32) + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)
    return x[..., 0] if x.shape[-1] == 1 else x


def save_png(path: str, x: np.ndarray) -> None:
    """Write [H, W, C] in [-1, 1] as an 8-bit PNG."""
    from PIL import Image

    Image.fromarray(to_uint8(x)).save(path, format='PNG')


def tile(rows: Sequence[Sequence[np.ndarray]], pad: int = 2) -> np.ndarray:
    """A grid of equal-size [H, W, C] images (row-major), white gaps of `pad` pixels between them."""
    h, w, c = np.asarray(rows[0][0]).shape
    ncols = max(len(r) for r in rows)
    out = np.ones((len(rows) * (h + pad) - pad, ncols * (w + pad) - pad, c), np.float32)
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            out[i * (h + pad) : i * (h + pad) + h, j * (w + pad) : j * (w + pad) + w] = img
    return out


def output_folder(out: str, flag: str = '--out', *, create: bool = True) -> str:
    """Create `out` (a new or empty folder); refuse one holding anything, so nothing is overwritten
    (`create=False`: only check, before the slow work)."""
    if not out:
        raise ConfigError(f'{flag} is empty; give a new or empty folder for the outputs')
    if os.path.exists(out) and not os.path.isdir(out):
        raise ConfigError(f'{flag}={out} exists and is not a folder; give a new or empty folder')
    if os.path.isdir(out) and os.listdir(out):
        raise ConfigError(f'{flag}={out} is not empty; nothing was written: give a new or empty folder')
    if create:
        os.makedirs(out, exist_ok=True)
    return out


def output_name(path: str, suffix: str = '') -> str:
    """The PNG name of an output made from the input `path` (its stem, `suffix` appended)."""
    return os.path.splitext(os.path.basename(path))[0] + suffix + '.png'


def batches(n: int, batch_size: int, desc: str) -> Iterator[slice]:
    """Slices of range(n) in batches, with a progress bar on stderr (shown for more than one batch)."""
    from tqdm import tqdm

    starts = range(0, n, batch_size)
    for start in tqdm(starts, desc=desc, unit='batch', disable=len(starts) <= 1, leave=False):
        yield slice(start, min(start + batch_size, n))


def apply_to_folder(
    fn: Callable[..., np.ndarray],
    inputs: Sequence[Sequence[str]],
    names: Sequence[str],
    out: str,
    *,
    size: int,
    channels: int,
    batch_size: int = 64,
    desc: str = 'images',
) -> list[str]:
    """Write `fn(*images)` for each row of `inputs` (a tuple of paths per output) to out/names[i].

    Each column of `inputs` is loaded in batches of `batch_size` (memory stays flat), `fn` maps
    the loaded [B, size, size, channels] arrays to [B, H, W, C] in [-1, 1]. Returns the written paths.
    """
    written = []
    for part in batches(len(names), batch_size, desc):
        columns = [load_all([row[k] for row in inputs[part]], size, channels) for k in range(len(inputs[0]))]
        outputs = np.asarray(fn(*columns))
        for name, img in zip(names[part], outputs, strict=True):
            path = os.path.join(out, name)
            save_png(path, img)
            written.append(path)
    return written


def read_exactly(
    folder: str, wanted: Sequence[str], size: int, channels: int, *, flag: str, expected: str
) -> np.ndarray:
    """[len(wanted), size, size, channels] from folder/<name> for exactly the names `wanted`, in
    that order: a missing or extra image, an unreadable or non-square one is one line naming it
    (`expected` says what the folder should hold)."""
    from PIL import Image

    names = {os.path.basename(p) for p in list_images(folder, flag)}
    missing, extra = [w for w in wanted if w not in names], sorted(names - set(wanted))
    if missing or extra:
        what = f'lacks {missing[0]}' if missing else f'holds {extra[0]}, which is not expected'
        raise ConfigError(f'{folder} {what}; expected {expected}')
    paths = [os.path.join(folder, w) for w in wanted]
    check_readable(paths)
    for path in paths:
        with Image.open(path) as img:
            if img.size[0] != img.size[1]:
                raise ConfigError(f'{path} is {img.size[0]} x {img.size[1]}; allowed: square images (any size)')
    return load_all(paths, size, channels)


def check_new_file(path: str | None, flag: str) -> None:
    """Refuse (one line) an output file that exists: a command never writes over one."""
    if path is not None and os.path.exists(path):
        raise ConfigError(f'{flag}={path} exists; nothing was written: give a new file name')


def save_json(path: str | None, value) -> None:
    """Write `value` to `path` (a new file, see `check_new_file`) and say so; nothing when None."""
    import json

    if path is None:
        return
    with open(path, 'w') as f:
        json.dump(value, f, indent=1)
    print(f'wrote {path}')
