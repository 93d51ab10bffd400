"""A procedural 3D-shapes world: DeepMind shapes3d's six factors, rendered by ray marching in JAX.

`render(factors)` maps factor indices to an image and its segmentation map, exactly, so any
split, paired ground truth, mask or attribute label costs no storage. It is a pure function,
jit- and vmap-able (leading batch axes of `factors` are rendered in one call).

The factors, in shapes3d's order and cardinalities (Burgess & Kim 2018):

  floor_hue 10, wall_hue 10, object_hue 10   hues 0, 0.1, ..., 0.9 (full saturation)
  scale 8                                     0.75 ... 1.25 (object size)
  shape 4                                     cube, cylinder, sphere, capsule
  orientation 15                              -30 ... 30 degrees (camera azimuth about the object)

The scene: a floor (y = 0) and two walls meeting in a corner (x = 3.5 and z = 3.5) behind an
object resting on the floor at the origin; a camera at height 2.4 looks at the object from the
opposite side, turned about the vertical axis by the orientation. Floor, walls and the object
are intersected in closed form (`tracer='analytic'`, the default: a box's slabs, a quadric for
the sphere, the cylinder's side and the capsule's parts, planes for the caps), or, as the first
version did, the object by sphere tracing its signed distance function (`tracer='march'`, kept
as the reference the closed forms are tested against); Lambert
shading from one directional light plus ambient; the image is rendered at twice the size and
averaged down (anti-aliasing). Images are RGB in [-1, 1].

The segmentation map labels each pixel floor (0), wall (1) or object (2) and
draws it in `PALETTE` (the only valid segmentation colours), also in [-1, 1]; it is read from one
of the four sub-samples of each pixel.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

FACTORS = ('floor_hue', 'wall_hue', 'object_hue', 'scale', 'shape', 'orientation')
CARDINALITIES = (10, 10, 10, 8, 4, 15)
SHAPES = ('cube', 'cylinder', 'sphere', 'capsule')
CLASSES = ('floor', 'wall', 'object')
# Valid segmentation colours (floor blue, wall green, object red), in [-1, 1].
PALETTE = np.array([[-1.0, -1.0, 1.0], [-1.0, 1.0, -1.0], [1.0, -1.0, -1.0]], np.float32)
HUES = np.linspace(0.0, 0.9, 10)
SCALES = np.linspace(0.75, 1.25, 8)
ORIENTATIONS = np.linspace(-30.0, 30.0, 15)
# Cameras: name -> (half field of view in degrees, height of the point looked at). 'default' shows
# the room (the object covers ~12% of the frame); 'close' zooms in on the object (~35%), so that a
# change of its scale or orientation moves as many pixels as a change of a hue does.
CAMERAS = {'default': (26.0, 0.9), 'close': (15.0, 0.65)}

# The three role assignments of the many-to-many protocol (WACV 2022 / RIFT): per assignment, the
# shared factors, each domain's specific ones, and the values at which each domain holds the other
# domain's specific factors (`rift.roles` documents them; `common.data` source 'shapes3d' with
# task 'factor_domains' and `data.roles` builds the two domains from them).
ROLE_ASSIGNMENTS = {
    'A': {
        'shared': ('object_hue', 'shape'),
        'specific_a': ('floor_hue', 'wall_hue'),
        'specific_b': ('scale', 'orientation'),
        'fixed_in_a': {'scale': 5, 'orientation': 0},
        'fixed_in_b': {'floor_hue': 0, 'wall_hue': 7},
    },
    'B': {
        'shared': ('wall_hue', 'scale'),
        'specific_a': ('object_hue', 'orientation'),
        'specific_b': ('shape', 'floor_hue'),
        'fixed_in_a': {'shape': 0, 'floor_hue': 5},
        'fixed_in_b': {'object_hue': 2, 'orientation': 7},
    },
    'C': {
        'shared': ('floor_hue', 'orientation'),
        'specific_a': ('wall_hue', 'shape'),
        'specific_b': ('scale', 'object_hue'),
        'fixed_in_a': {'scale': 5, 'object_hue': 8},
        'fixed_in_b': {'wall_hue': 3, 'shape': 2},
    },
}


def holds(fixed: dict[str, int], factors: np.ndarray) -> np.ndarray:
    """[N] bool: whether each scene (factors [N, 6]) has the factors of `fixed` ({name: index}) at
    those values (a role assignment's domain A holds `fixed_in_a`, B `fixed_in_b`)."""
    factors = np.asarray(factors)
    return np.all([factors[..., FACTORS.index(n)] == v for n, v in fixed.items()], axis=0)


_WALL = 3.5
_LIGHT = np.array([-0.45, 0.8, -0.4]) / np.linalg.norm([-0.45, 0.8, -0.4])
_MARCH_STEPS = 32
_BASE_SIZE = 0.75


def _hsv_to_rgb(hue: jax.Array) -> jax.Array:
    """Full-saturation, full-value colour of `hue` in [0, 1): [..., 3] in [0, 1]."""
    k = (jnp.array([5.0, 3.0, 1.0]) + hue[..., None] * 6.0) % 6.0
    return 1.0 - jnp.clip(jnp.minimum(k, 4.0 - k), 0.0, 1.0)


def _object_sdf(p: jax.Array, shape: jax.Array, size: jax.Array) -> jax.Array:
    """Signed distance from points p [..., 3] to the object of `shape` (index) and `size`."""
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    # cube: half-size s, resting on the floor
    q = jnp.abs(jnp.stack([x, y - size, z], -1)) - size
    cube = jnp.linalg.norm(jnp.maximum(q, 0.0), axis=-1) + jnp.minimum(jnp.max(q, -1), 0.0)
    # cylinder: radius s, height 2 s, vertical axis
    d = jnp.stack([jnp.hypot(x, z) - size, jnp.abs(y - size) - size], -1)
    cylinder = jnp.linalg.norm(jnp.maximum(d, 0.0), axis=-1) + jnp.minimum(jnp.max(d, -1), 0.0)
    sphere = jnp.sqrt(x**2 + (y - size) ** 2 + z**2) - size
    # capsule: radius 0.7 s around a vertical segment, total height 2.8 s
    r = 0.7 * size
    seg_y = jnp.clip(y, r, 2.8 * size - r)
    capsule = jnp.sqrt(x**2 + (y - seg_y) ** 2 + z**2) - r
    return jnp.choose(shape, [cube, cylinder, sphere, capsule], mode='clip')


_INF = 1e9


def _quadric_hit(o: jax.Array, d: jax.Array, a: jax.Array, b: jax.Array, c: jax.Array) -> jax.Array:
    """The nearer positive root of a t^2 + 2 b t + c = 0 (the ray's entry), else _INF."""
    disc = b * b - a * c
    t = (-b - jnp.sqrt(jnp.maximum(disc, 0.0))) / jnp.where(a > 1e-12, a, 1.0)
    return jnp.where((disc >= 0.0) & (a > 1e-12) & (t > 0.0), t, _INF)


def _sphere(o, d, center_y, radius):
    """(t, normal) of the ray's entry into the sphere at (0, center_y, 0)."""
    oc = o - jnp.stack([0.0, center_y, 0.0])
    t = _quadric_hit(o, d, jnp.ones(d.shape[:-1]), jnp.sum(oc * d, -1), jnp.sum(oc * oc) - radius**2)
    p = o + t[..., None] * d
    return t, (p - jnp.stack([0.0, center_y, 0.0])) / radius


def _tube(o, d, radius, y_lo, y_hi):
    """(t, normal) of the entry into the side of the vertical cylinder of `radius`, y in [y_lo, y_hi]."""
    a = d[..., 0] ** 2 + d[..., 2] ** 2
    b = o[0] * d[..., 0] + o[2] * d[..., 2]
    t = _quadric_hit(o, d, a, b, o[0] ** 2 + o[2] ** 2 - radius**2)
    p = o + t[..., None] * d
    t = jnp.where((p[..., 1] >= y_lo) & (p[..., 1] <= y_hi), t, _INF)
    return t, p * jnp.array([1.0, 0.0, 1.0]) / radius


def _cap(o, d, radius, y):
    """(t, normal) of the hit from above on the disc of `radius` at height y."""
    down = d[..., 1] < 0.0
    t = (y - o[1]) / jnp.where(down, d[..., 1], -1.0)
    p = o + t[..., None] * d
    t = jnp.where(down & (t > 0.0) & (p[..., 0] ** 2 + p[..., 2] ** 2 <= radius**2), t, _INF)
    return t, jnp.broadcast_to(jnp.array([0.0, 1.0, 0.0]), d.shape)


def _nearest(*hits):
    """The nearest of several (t, normal) hits."""
    t = jnp.stack([h[0] for h in hits])
    k = jnp.argmin(t, 0)
    normal = jnp.stack([h[1] for h in hits])
    return jnp.min(t, 0), jnp.take_along_axis(normal, k[None, ..., None], 0)[0]


def _box(o, d, size):
    """(t, normal) of the entry into the box [-s, s] x [0, 2 s] x [-s, s] (slabs)."""
    lo = jnp.stack([-size, 0.0, -size])
    hi = jnp.stack([size, 2.0 * size, size])
    safe = jnp.where(jnp.abs(d) > 1e-12, d, 1e-12)
    t1, t2 = (lo - o) / safe, (hi - o) / safe
    t_in, t_out = jnp.minimum(t1, t2), jnp.maximum(t1, t2)
    near, far = jnp.max(t_in, -1), jnp.min(t_out, -1)
    t = jnp.where((near <= far) & (near > 0.0), near, _INF)
    axis = jnp.argmax(t_in, -1)
    normal = -jnp.sign(d) * jax.nn.one_hot(axis, 3, dtype=d.dtype)
    return t, normal


def _object_hit(o: jax.Array, d: jax.Array, shape: jax.Array, size: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(distance along each ray to the object, or _INF; the surface normal there), in closed form."""
    r = 0.7 * size  # the capsule's radius; its height is 2.8 s
    hits = (
        _box(o, d, size),
        _nearest(_tube(o, d, size, 0.0, 2.0 * size), _cap(o, d, size, 2.0 * size)),
        _sphere(o, d, size, size),
        _nearest(_tube(o, d, r, r, 2.8 * size - r), _sphere(o, d, r, r), _sphere(o, d, 2.8 * size - r, r)),
    )
    t = jnp.choose(shape, [h[0] for h in hits], mode='clip')
    normal = jnp.stack([h[1] for h in hits])[jnp.clip(shape, 0, 3)]
    return t, normal


def _camera_rays(size: int, azimuth: jax.Array, camera: str = 'default') -> tuple[jax.Array, jax.Array]:
    """Ray origin [3] and unit directions [size, size, 3] of the camera at `azimuth` (radians)."""
    half_angle, target_height = CAMERAS[camera]
    base = jnp.deg2rad(-135.0) + azimuth  # looking from the (-x, -z) quadrant into the corner
    eye = jnp.array([4.6 * jnp.cos(base), 2.4, 4.6 * jnp.sin(base)])
    target = jnp.array([0.0, target_height, 0.0])
    forward = (target - eye) / jnp.linalg.norm(target - eye)
    right = jnp.cross(forward, jnp.array([0.0, 1.0, 0.0]))
    right = right / jnp.linalg.norm(right)
    up = jnp.cross(right, forward)
    span = jnp.tan(jnp.deg2rad(half_angle))
    ticks = (jnp.arange(size) + 0.5) / size * 2.0 - 1.0
    u, v = jnp.meshgrid(ticks * span, -ticks * span)
    dirs = forward + u[..., None] * right + v[..., None] * up
    return eye, dirs / jnp.linalg.norm(dirs, axis=-1, keepdims=True)


def _marched_object(eye, dirs, shape, obj_size, t_plane):
    """(hit, normal) of the object by sphere tracing its SDF (the first renderer's way)."""

    def march(_, t):
        return t + _object_sdf(eye + t[..., None] * dirs, shape, obj_size)

    t_obj = jax.lax.fori_loop(0, _MARCH_STEPS, march, jnp.zeros(dirs.shape[:-1]))
    p_obj = eye + t_obj[..., None] * dirs
    hit_obj = (_object_sdf(p_obj, shape, obj_size) < 2e-3) & (t_obj < t_plane)
    eps = 1e-3
    grad = jnp.stack(
        [_object_sdf(p_obj + o, shape, obj_size) - _object_sdf(p_obj - o, shape, obj_size) for o in jnp.eye(3) * eps],
        -1,
    )
    return hit_obj, grad / (jnp.linalg.norm(grad, axis=-1, keepdims=True) + 1e-9)


def _render_one(factors: jax.Array, size: int, tracer: str = 'analytic', camera: str = 'default'):
    """(rgb in [0, 1] [size, size, 3], class ids [size, size]) for one factor vector."""
    floor_rgb, wall_rgb, object_rgb = (_hsv_to_rgb(jnp.asarray(HUES)[factors[i]]) for i in range(3))
    obj_size = _BASE_SIZE * jnp.asarray(SCALES)[factors[3]]
    shape = factors[4]
    eye, dirs = _camera_rays(size, jnp.deg2rad(jnp.asarray(ORIENTATIONS)[factors[5]]), camera)

    # planes: floor y = 0, walls x = W and z = W (only hits in front of the camera count)
    inf = jnp.float32(1e9)
    t_floor = jnp.where(dirs[..., 1] < 0, -eye[1] / jnp.where(dirs[..., 1] < 0, dirs[..., 1], -1.0), inf)
    t_wx = jnp.where(dirs[..., 0] > 0, (_WALL - eye[0]) / jnp.where(dirs[..., 0] > 0, dirs[..., 0], 1.0), inf)
    t_wz = jnp.where(dirs[..., 2] > 0, (_WALL - eye[2]) / jnp.where(dirs[..., 2] > 0, dirs[..., 2], 1.0), inf)
    t_wall = jnp.minimum(t_wx, t_wz)
    t_plane = jnp.minimum(t_floor, t_wall)

    # the object, in front of the planes
    if tracer == 'march':
        hit_obj, n_obj = _marched_object(eye, dirs, shape, obj_size, t_plane)
    else:
        t_obj, n_obj = _object_hit(eye, dirs, shape, obj_size)
        hit_obj = t_obj < t_plane
    n_wall = jnp.where((t_wx <= t_wz)[..., None], jnp.array([-1.0, 0.0, 0.0]), jnp.array([0.0, 0.0, -1.0]))
    n_floor = jnp.broadcast_to(jnp.array([0.0, 1.0, 0.0]), dirs.shape)

    cls = jnp.where(hit_obj, 2, jnp.where(t_floor < t_wall, 0, 1))
    normal = jnp.where((cls == 2)[..., None], n_obj, jnp.where((cls == 0)[..., None], n_floor, n_wall))
    albedo = jnp.where((cls == 2)[..., None], object_rgb, jnp.where((cls == 0)[..., None], floor_rgb, wall_rgb))
    lambert = jnp.clip(jnp.sum(normal * jnp.asarray(_LIGHT, jnp.float32), -1), 0.0, 1.0)
    # the walls take a fixed extra tone so that the two walls and the corner read as a room
    tone = jnp.where(cls == 1, jnp.where(t_wx <= t_wz, 0.95, 0.75), 1.0)
    rgb = albedo * (0.35 + 0.65 * lambert)[..., None] * tone[..., None]
    return jnp.clip(rgb, 0.0, 1.0), cls


def render(
    factors: jax.Array, size: int = 32, tracer: str = 'analytic', camera: str = 'default'
) -> tuple[jax.Array, jax.Array]:
    """Render scenes from factor indices.

    Args:
      factors: int [..., 6] in the order of `FACTORS`, each below its `CARDINALITIES` entry.
      size: image side in pixels (32 or 64 typical).
      tracer: 'analytic' (closed-form intersections) or 'march' (sphere tracing, the reference).
      camera: a name in `CAMERAS` ('default': the room; 'close': the object fills ~35% of it).

    Returns:
      (image, segmentation): float32 [..., size, size, 3] each, in [-1, 1]; the segmentation is
      drawn in `PALETTE` (floor, wall, object).
    """
    factors = jnp.asarray(factors, jnp.int32)
    batch = factors.shape[:-1]
    flat = factors.reshape(-1, 6)

    def one(f):
        rgb, cls = _render_one(f, 2 * size, tracer, camera)
        image = rgb.reshape(size, 2, size, 2, 3).mean((1, 3))  # 2x2 supersampling
        return image * 2.0 - 1.0, jnp.asarray(PALETTE)[cls[1::2, 1::2]]

    image, seg = jax.vmap(one)(flat)
    return image.reshape(*batch, size, size, 3), seg.reshape(*batch, size, size, 3)


def labels(segmentation: jax.Array) -> jax.Array:
    """Class ids [...] (index into `PALETTE`) of the nearest valid colour of each pixel [..., 3]."""
    dist = jnp.sum((segmentation[..., None, :] - jnp.asarray(PALETTE)) ** 2, -1)
    return jnp.argmin(dist, -1)


def quantize(segmentation: jax.Array) -> jax.Array:
    """Snap each pixel [..., 3] to its nearest valid segmentation colour (used by RH)."""
    return jnp.asarray(PALETTE)[labels(segmentation)]


def sample_factors(rng: np.random.Generator, n: int) -> np.ndarray:
    """n factor vectors drawn uniformly and independently per factor: int32 [n, 6]."""
    return np.stack([rng.integers(0, c, size=n) for c in CARDINALITIES], -1).astype(np.int32)
