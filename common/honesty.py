"""The honesty metrics of adversarial self-defense for cycle-consistent GANs: RH and SN.

Seed: Bashkirova, Usman, Saenko, "Adversarial self-defense for cycle-consistent GANs" (NeurIPS
2019). A CycleGAN between a rich domain (images X) and a poorer one (segmentations) learns to
hide the information the poor domain lacks in near-invisible structured noise inside its
translations, and to decode it on the way back. G_B: image -> segmentation, G_A: segmentation ->
image; X_i a real image, Y_i = X_i the reconstruction target.

The two defences (training terms) are in `common.defenses`.

Metrics, per image norms over all pixels and channels on the 0-255 intensity scale (the
seed's tables are on that scale):

  RH = mean_i ( ||G_A(quantize(G_B(X_i))) - Y_i||_2 - ||G_A(G_B(X_i)) - Y_i||_2 )
       how much the reconstruction degrades when the translated segmentation is snapped pixel
       by pixel to the nearest valid segmentation colour (~0 for an honest translation);
       `quantize_8bit` gives the other reading of "quantize": rounding each intensity to one
       of the 256 levels of an 8-bit image file (what saving the translation as a PNG does);
  SN(sigma) = mean_i ||G_A(G_B(X_i) + N(0, sigma^2)) - G_A(G_B(X_i))||_2
       the reconstruction's sensitivity to noise of sigma intensity levels (0-255 scale).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from common.defenses import add_noise

Fn = Callable[[jax.Array], jax.Array]
LEVELS = 127.5  # [-1, 1] -> [0, 255]: one unit is 127.5 intensity levels


def quantize_8bit(x: jax.Array) -> jax.Array:
    """Round images in [-1, 1] to the 256 levels of an 8-bit file: round(127.5 (x + 1)) / 127.5 - 1."""
    return jnp.round(LEVELS * (jnp.clip(x, -1.0, 1.0) + 1.0)) / LEVELS - 1.0


def _norms(x: jax.Array) -> jax.Array:
    """Per-image L2 norms on the 0-255 scale of x [n, ...] given in [-1, 1] units."""
    return LEVELS * jnp.sqrt(jnp.sum(x.reshape(x.shape[0], -1) ** 2, axis=1))


def reconstruction_honesty(g_a: Fn, g_b: Fn, x: jax.Array, quantize: Fn, y: jax.Array | None = None) -> jax.Array:
    """RH (module doc) over the images x [n, h, w, c] in [-1, 1]; y defaults to x."""
    y = x if y is None else y
    translated = g_b(x)
    honest = _norms(g_a(quantize(translated)) - y)
    cheating = _norms(g_a(translated) - y)
    return jnp.mean(honest - cheating)


def sensitivity_to_noise(g_a: Fn, g_b: Fn, x: jax.Array, sigma: float, rng: jax.Array) -> jax.Array:
    """SN(sigma) (module doc), sigma in intensity levels of the 0-255 scale."""
    translated = g_b(x)
    noisy = add_noise(translated, rng, sigma / LEVELS)
    return jnp.mean(_norms(g_a(noisy) - g_a(translated)))


# ---------------------------------------------------------------------------------------------
# `python -m common.honesty`: RH and SN of a translator run anywhere (any framework), in three
# exchanges of float32 .npy files (PNGs would round away the low-amplitude signal RH measures):
#
#   --write-probes=P [--num=64] [--size=32] [--images=DIR]
#       P/x.npy: [n, h, w, c] probe images in [-1, 1] (3D-shapes renders, or your own images,
#       converted to the size); P/probes.json; P/x/<i>.png to look at.
#   --probes=P --translated=Y.npy --write-perturbed=Q
#       Y.npy = G_B(x), your translations of P/x.npy. Writes Q/<name>.npy, the inputs G_A must
#       reconstruct from: translated, quantized_8bit, quantized (3D-shapes probes: snapped to the
#       segmentation colours), noisy_2 and noisy_8 (Y + N(0, sigma^2), sigma in 0-255 levels;
#       the noise drawn from a fixed key).
#   --probes=P --perturbed=Q --reconstructions=R [--save=FILE]
#       R/<name>.npy = G_A(Q/<name>.npy) for every Q file. Prints and saves RH, RH (8-bit),
#       SN(2), SN(8) and the reconstruction error, by the formulas above.
# ---------------------------------------------------------------------------------------------

SIGMAS = (2.0, 8.0)
NOISE_SEED = 2019


def perturbed_inputs(translated, *, shapes3d_probes: bool) -> dict:
    """{name: G_A's input}: the translation, its quantized versions and its noisy ones (the
    noise from `NOISE_SEED`, as `sensitivity_to_noise` draws it for `jax.random.PRNGKey(NOISE_SEED)`)."""
    from common.synth import shapes3d

    y = jnp.asarray(translated, jnp.float32)
    out = {'translated': y, 'quantized_8bit': quantize_8bit(y)}
    if shapes3d_probes:
        out['quantized'] = shapes3d.quantize(y)
    for sigma in SIGMAS:
        out[f'noisy_{sigma:g}'] = add_noise(y, jax.random.PRNGKey(NOISE_SEED), sigma / LEVELS)
    return out


def scores_from_reconstructions(x, rec: dict) -> dict:
    """RH, RH (8-bit), SN(sigma) and the reconstruction error from G_A's outputs `rec` on each
    `perturbed_inputs` entry (RH only where its quantized entry is given)."""
    x = jnp.asarray(x, jnp.float32)
    cheat = _norms(jnp.asarray(rec['translated']) - x)
    out = {'reconstruction_l2': float(jnp.mean(cheat))}
    for name, key in (('quantized', 'rh'), ('quantized_8bit', 'rh_8bit')):
        if name in rec:
            out[key] = float(jnp.mean(_norms(jnp.asarray(rec[name]) - x) - cheat))
    for sigma in SIGMAS:
        name = f'noisy_{sigma:g}'
        out[f'sn_{sigma:g}'] = float(jnp.mean(_norms(jnp.asarray(rec[name]) - jnp.asarray(rec['translated']))))
    return out


def _npy(path: str, flag: str, shape: tuple | None = None):
    import numpy as np

    from common.errors import ConfigError

    try:
        x = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ConfigError(f'{flag}: {path} is not a readable .npy file ({type(e).__name__})') from None
    if x.ndim != 4 or (shape is not None and x.shape[0] != shape[0]) or not np.all(np.isfinite(x)):
        want = f'[{shape[0]}, h, w, c]' if shape is not None else '[n, h, w, c]'
        raise ConfigError(f'{flag}: {path} holds shape {x.shape} (or non-finite values); allowed: {want} finite floats')
    return x.astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    import json
    import os

    import numpy as np

    from common import grid, images
    from common.errors import ConfigError
    from common.synth import shapes3d

    parser = grid.OneLineParser(prog='python -m common.honesty', description='RH and SN of a translator run anywhere')
    parser.add_argument('--write-probes', default=None, help='write the probe images into this new or empty folder')
    parser.add_argument('--num', type=int, default=64, help='probe images')
    parser.add_argument('--size', type=int, default=32, help='their size')
    parser.add_argument('--images', default=None, help='probes from your own images (default: 3D-shapes renders)')
    parser.add_argument('--probes', default=None, help='a folder written by --write-probes')
    parser.add_argument('--translated', default=None, help='G_B(x) as a .npy file of [n, h, w, c] floats in [-1, 1]')
    parser.add_argument('--write-perturbed', default=None, help="write G_A's inputs into this new or empty folder")
    parser.add_argument('--perturbed', default=None, help='a folder written by --write-perturbed')
    parser.add_argument('--reconstructions', default=None, help='a folder of G_A(<name>.npy) for every perturbed file')
    parser.add_argument('--save', default=None, help='also write the scores to this new JSON file')
    args = parser.parse_args(argv)
    try:
        if args.write_probes is not None:
            if args.num < 1 or args.size < 8:
                raise ConfigError(f'--num={args.num} / --size={args.size} are not valid; allowed: >= 1 / >= 8')
            images.output_folder(args.write_probes, '--write-probes', create=False)
            if args.images is not None:
                paths = images.list_images(args.images, '--images')[: args.num]
                images.check_readable(paths)
                x, source = images.load_all(paths, args.size, 3), 'images'
            else:
                factors = shapes3d.sample_factors(np.random.default_rng([NOISE_SEED, 1]), args.num)
                x, source = np.asarray(shapes3d.render(factors, args.size)[0], np.float32), 'shapes3d'
            images.output_folder(args.write_probes, '--write-probes')
            np.save(os.path.join(args.write_probes, 'x.npy'), x)
            os.makedirs(os.path.join(args.write_probes, 'x'))
            for i, image in enumerate(x):
                images.save_png(os.path.join(args.write_probes, 'x', f'{i:04d}.png'), image)
            with open(os.path.join(args.write_probes, 'probes.json'), 'w') as f:
                json.dump({'source': source, 'num': len(x), 'shape': list(x.shape)}, f)
            print(f'wrote {len(x)} probes ({source}) to {args.write_probes}/x.npy')
            return 0
        if args.probes is None:
            parser.error(
                'give --write-probes=DIR, or --probes=DIR with --translated and --write-perturbed, or '
                'with --perturbed and --reconstructions'
            )
        try:
            with open(os.path.join(args.probes, 'probes.json')) as f:
                meta = json.load(f)
        except (OSError, ValueError):
            raise ConfigError(
                f'--probes={args.probes} holds no readable probes.json; write it with --write-probes'
            ) from None
        x = _npy(os.path.join(args.probes, 'x.npy'), '--probes')
        if args.translated is not None and args.write_perturbed is not None:
            y = _npy(args.translated, '--translated', x.shape)
            images.output_folder(args.write_perturbed, '--write-perturbed', create=False)
            inputs = perturbed_inputs(y, shapes3d_probes=meta.get('source') == 'shapes3d' and y.shape[-1] == 3)
            images.output_folder(args.write_perturbed, '--write-perturbed')
            for name, value in inputs.items():
                np.save(os.path.join(args.write_perturbed, f'{name}.npy'), np.asarray(value, np.float32))
            print(f'wrote {", ".join(inputs)} to {args.write_perturbed}: reconstruct each with G_A')
            return 0
        if args.perturbed is None or args.reconstructions is None:
            parser.error('give --translated with --write-perturbed, or --perturbed with --reconstructions')
        images.check_new_file(args.save, '--save')
        names = (
            sorted(n[:-4] for n in os.listdir(args.perturbed) if n.endswith('.npy'))
            if os.path.isdir(args.perturbed)
            else []
        )
        if 'translated' not in names:
            raise ConfigError(f'--perturbed={args.perturbed} holds no translated.npy; write it with --write-perturbed')
        rec = {n: _npy(os.path.join(args.reconstructions, f'{n}.npy'), '--reconstructions', x.shape) for n in names}
        if any(r.shape != x.shape for r in rec.values()):
            bad = next(n for n, r in rec.items() if r.shape != x.shape)
            raise ConfigError(f'--reconstructions: {bad}.npy holds shape {rec[bad].shape}; allowed: {x.shape}')
        scores = scores_from_reconstructions(x, rec)
    except ConfigError as e:
        parser.error(str(e))
    print(' | '.join(f'{k} {v:.2f}' for k, v in scores.items()) + ' (0-255 scale)')
    images.save_json(args.save, scores)
    return 0


if __name__ == '__main__':
    import sys

    sys.exit(main())
