"""Score guided translations made anywhere (a PyTorch MUNIT, a StarGAN v2, ...) with the
many-to-many protocol and this codebase's committed attribute classifier.

    python -m rift.metrics --write-pairs=PAIRS [--roles=A] [--camera=default] [--num-pairs=512] [--seed=0]
    python -m rift.metrics --pairs=PAIRS --translations=OUT [--direction=both] [--save=scores.json]
    python -m rift.metrics --pairs=PA,PB,PC --translations=TA,TB,TC    # + RD over the three assignments

`--write-pairs` renders the test pairs of one role assignment (3D shapes at 32 px, the renderer's
`camera`) into a new or empty folder:

    PAIRS/pairs.json             roles, camera, size, seed, and every pair's factors (A and B)
    PAIRS/a/0000.png ...         the domain-A scene of pair i (the source of a2b, the guide of b2a)
    PAIRS/b/0000.png ...         the domain-B scene of pair i
    PAIRS/exact/a2b/0000.png ... the exact translations (the renderer's), the protocol's ceiling
    PAIRS/exact/b2a/0000.png ...

Translate them with any model: OUT/a2b/<i>.png = F(a/<i>, b/<i>), OUT/b2a/<i>.png = F(b/<i>, a/<i>)
(PNG of any size: resized to the classifier's 32 px; `python -m rift.apply RUN --sources=PAIRS/a
--guides=PAIRS/b --out=OUT/a2b` does it for a run of this codebase). The score: ACC per factor
and per direction, CP / SA / SF / MB (`rift.metrics.manipulation_accuracy`), the WACV 2022
metrics as their `compute_metrics.py` computes them (both directions), and RD when the three
assignments are given. A missing, extra, unreadable or non-square image is one line naming it.

A runner module (it renders through the data module); `python -m rift.metrics` runs its `main`.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

from common import grid, images
from common.errors import ConfigError
from rift import metrics
from rift.roles import ROLES, exact_translations

SIZE = 32  # the committed classifiers' input
DIRECTIONS = ('a2b', 'b2a')


def _name(i: int) -> str:
    return f'{i:04d}.png'


def write_pairs(out: str, *, roles: str = 'A', camera: str = 'default', num_pairs: int = 512, seed: int = 0) -> str:
    """Render `num_pairs` test pairs of assignment `roles` into `out` (layout above); its pairs.json."""
    import ml_collections

    from common.data import shapes3d as source
    from common.synth import shapes3d

    if roles not in ROLES:
        raise ConfigError(f'--roles={roles!r} is not valid; allowed: {", ".join(map(repr, ROLES))}')
    if camera not in shapes3d.CAMERAS:
        raise ConfigError(f'--camera={camera!r} is not valid; allowed: {", ".join(map(repr, shapes3d.CAMERAS))}')
    if num_pairs < 1 or seed < 0:
        raise ConfigError(f'--num-pairs={num_pairs} / --seed={seed} are not valid; allowed: >= 1 / >= 0')
    images.output_folder(out, '--write-pairs', create=False)
    data = ml_collections.ConfigDict(
        dict(task='factor_domains', roles=roles, image_size=SIZE, camera=camera, pool_size=4 * num_pairs)
    )
    pool, info = source.pool(data, 'test', seed)
    pairs = metrics.test_pairs(pool, num_pairs, seed)
    exact = exact_translations(info['render'], roles, pairs)
    images.output_folder(out, '--write-pairs')
    for folder, batch in (('a', pairs['a']), ('b', pairs['b']), *((f'exact/{d}', exact[d]) for d in DIRECTIONS)):
        os.makedirs(os.path.join(out, folder))
        for i, x in enumerate(np.asarray(batch)):
            images.save_png(os.path.join(out, folder, _name(i)), x)
    meta = {
        'roles': roles,
        'camera': camera,
        'size': SIZE,
        'seed': seed,
        'num_pairs': len(pairs['a']),
        'factors_a': np.asarray(pairs['factors_a']).tolist(),
        'factors_b': np.asarray(pairs['factors_b']).tolist(),
    }
    path = os.path.join(out, 'pairs.json')
    with open(path, 'w') as f:
        json.dump(meta, f)
    return path


def read_pairs(folder: str) -> dict:
    """pairs.json of a `--write-pairs` folder (factors as int arrays)."""
    try:
        with open(os.path.join(folder, 'pairs.json')) as f:
            meta = json.load(f)
        meta['factors_a'] = np.asarray(meta['factors_a'], np.int64)
        meta['factors_b'] = np.asarray(meta['factors_b'], np.int64)
        meta['roles'], meta['camera'], meta['num_pairs']  # noqa: B018 - the fields a score needs
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(
            f'--pairs={folder} holds no readable pairs.json; write one with python -m rift.metrics --write-pairs'
        ) from None
    return meta


def read_translations(folder: str, n: int) -> np.ndarray:
    """[n, 32, 32, 3] from folder/0000.png ... exactly (a missing, extra or non-square one named)."""
    wanted = [_name(i) for i in range(n)]
    expected = f'exactly {wanted[0]} ... {wanted[-1]} ({n} translations)'
    return images.read_exactly(folder, wanted, SIZE, 3, flag='--translations', expected=expected)


def score_folder(pairs_dir: str, translations_dir: str, *, directions=DIRECTIONS, predict=None) -> dict:
    """The protocol's numbers of one assignment's translations (both directions: + WACV 2022)."""
    meta = read_pairs(pairs_dir)
    if predict is None:
        predict = metrics.predictor(meta['camera'], SIZE)
    fa, fb = meta['factors_a'], meta['factors_b']
    out = {'roles': meta['roles'], 'camera': meta['camera'], 'num_pairs': meta['num_pairs']}
    predicted = {}
    for d in directions:
        made = read_translations(os.path.join(translations_dir, d), meta['num_pairs'])
        predicted[d] = np.asarray(predict(made))
        out[d] = metrics.manipulation_accuracy(
            meta['roles'], fa, fb, made, direction=d, predict=lambda _, p=predicted[d]: p
        )
    if len(directions) == 2:
        out['acc'] = float(np.mean([out[d]['acc'] for d in DIRECTIONS]))
        out['wacv2022'] = metrics.wacv2022(meta['roles'], fa, fb, predicted)
    return out


def _lines(score: dict) -> list[str]:
    out = [f'assignment {score["roles"]} ({score["camera"]} camera, {score["num_pairs"]} pairs)']
    for d in DIRECTIONS:
        if d in score:
            s = score[d]
            factors = ', '.join(f'{k} {v:.3f}' for k, v in s['acc_per_factor'].items())
            out.append(
                f'  {d}: ACC {s["acc"]:.3f} ({factors}); CP {s["content_preservation"]:.3f} SA '
                f'{s["style_accuracy"]:.3f} SF {s["source_specific_fixed"]:.3f} MB {s["model_bias"]:.3f}'
            )
    if 'wacv2022' in score:
        w = score['wacv2022']
        out.append(
            f'  ACC {score["acc"]:.3f}; WACV 2022: CP {w["content_preservation"]:.3f} SA {w["style_accuracy"]:.3f} '
            f'Q_trans {w["q_trans"]:.3f} bias {w["model_bias_7"]:.3f} DQ {w["disentanglement_quality"]:.3f}'
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = grid.OneLineParser(prog='python -m rift.metrics', description=__doc__.split('\n')[0])
    parser.add_argument('--write-pairs', default=None, help='render test pairs into this new or empty folder')
    parser.add_argument('--roles', default='A', help="the role assignment of --write-pairs: 'A', 'B' or 'C'")
    parser.add_argument('--camera', default='default', help="the renderer's camera: 'default' or 'close'")
    parser.add_argument('--num-pairs', type=int, default=512, help='pairs to render')
    parser.add_argument('--seed', type=int, default=0, help='which test pairs')
    parser.add_argument('--pairs', default=None, help='folder(s) written by --write-pairs (comma-separated)')
    parser.add_argument('--translations', default=None, help='folder(s) holding a2b/ and b2a/ (comma-separated)')
    parser.add_argument('--direction', default='both', help="'a2b', 'b2a' or 'both'")
    parser.add_argument('--save', default=None, help='also write the scores to this new JSON file')
    args = parser.parse_args(argv)
    try:
        if args.write_pairs is not None:
            path = write_pairs(
                args.write_pairs, roles=args.roles, camera=args.camera, num_pairs=args.num_pairs, seed=args.seed
            )
            print(f'wrote {args.num_pairs} pairs of assignment {args.roles} and their exact translations; {path}')
            return 0
        if args.pairs is None or args.translations is None:
            parser.error('give --write-pairs=DIR, or --pairs=DIR and --translations=DIR')
        if args.direction not in ('a2b', 'b2a', 'both'):
            raise ConfigError(f"--direction={args.direction!r} is not valid; allowed: 'a2b', 'b2a', 'both'")
        images.check_new_file(args.save, '--save')
        pairs, made = args.pairs.split(','), args.translations.split(',')
        if len(pairs) != len(made):
            raise ConfigError(
                f'--pairs names {len(pairs)} folders and --translations {len(made)}; give one per pair set'
            )
        directions = DIRECTIONS if args.direction == 'both' else (args.direction,)
        scores = [score_folder(p, t, directions=directions) for p, t in zip(pairs, made, strict=True)]
    except ConfigError as e:
        parser.error(str(e))
    for s in scores:
        print('\n'.join(_lines(s)))
    out = {'scores': scores}
    per_factor = {(s['roles'], d): s[d]['acc_per_factor'] for s in scores for d in directions}
    if {r for r, _ in per_factor} == set(ROLES) and len(directions) == 2:
        out['relative_discrepancy'] = metrics.relative_discrepancy(per_factor)
        print(f'RD {out["relative_discrepancy"]["rd"]:.1f} (three assignments, both directions)')
    images.save_json(args.save, out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
