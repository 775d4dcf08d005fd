"""Drawing primitives of the synthetic "shapes" world of the mini-study.

An object class is a (shape, texture) pair (:class:`~mmfrozen.datasets.ShapesWorld` chooses
which of the 12 outlines and 4 surface textures). Everything else about an instance is a nuisance drawn at random: size, aspect ratio, rotation,
foreground and texture colours, texture phase and angle, background gradient, noise and clutter
(thin lines and small blobs that belong to no class). A classifier therefore has to learn shape
and texture, not colour, and a detector trained on few instances of a class profits from
features that already know them.
"""
from typing import List, Tuple

import numpy as np
from PIL import Image, ImageDraw

SHAPES: Tuple[str, ...] = ('circle', 'square', 'triangle', 'pentagon', 'hexagon', 'star',
                           'cross', 'ring', 'crescent', 'arrow', 'diamond', 'heart')
TEXTURES: Tuple[str, ...] = ('solid', 'striped', 'dotted', 'checkered')


def _regular(n: int, phase: float = -np.pi / 2) -> np.ndarray:
    t = phase + np.arange(n) * 2 * np.pi / n
    return np.stack([np.cos(t), np.sin(t)], 1)


def _outline(shape: str) -> List[Tuple[np.ndarray, int]]:
    """Polygons in the unit disc, each with the mask value it is filled with (255 or 0)."""
    if shape == 'circle':
        return [(_regular(28), 255)]
    if shape == 'square':
        return [(_regular(4, np.pi / 4), 255)]
    if shape == 'triangle':
        return [(_regular(3) + [0, 0.2], 255)]
    if shape == 'pentagon':
        return [(_regular(5), 255)]
    if shape == 'hexagon':
        return [(_regular(6), 255)]
    if shape == 'star':
        pts = _regular(10) * np.where(np.arange(10) % 2 == 0, 1.0, 0.42)[:, None]
        return [(pts, 255)]
    if shape == 'cross':
        a, b = 0.95, 0.33
        return [(np.array([[-b, -a], [b, -a], [b, -b], [a, -b], [a, b], [b, b], [b, a], [-b, a],
                           [-b, b], [-a, b], [-a, -b], [-b, -b]]), 255)]
    if shape == 'ring':
        return [(_regular(28), 255), (_regular(28) * 0.55, 0)]
    if shape == 'crescent':
        return [(_regular(28), 255), (_regular(28) * 0.85 + [0.45, -0.1], 0)]
    if shape == 'arrow':
        return [(np.array([[-0.95, -0.28], [0.15, -0.28], [0.15, -0.75], [0.95, 0.0],
                           [0.15, 0.75], [0.15, 0.28], [-0.95, 0.28]]), 255)]
    if shape == 'diamond':
        return [(np.array([[0, -1.0], [0.5, 0], [0, 1.0], [-0.5, 0]]), 255)]
    if shape == 'heart':
        t = np.linspace(0, 2 * np.pi, 32, endpoint=False)
        x = 16 * np.sin(t) ** 3
        y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
        return [(np.stack([x, y + 2.5], 1) / 17.0, 255)]
    raise KeyError(f'unknown shape {shape!r}; known: {SHAPES}')


_OUTLINES = {s: _outline(s) for s in SHAPES}


def random_colour(rng: np.random.Generator, avoid: np.ndarray = None,
                  min_dist: float = 90.0) -> np.ndarray:
    """A random RGB colour, at least ``min_dist`` (L2) away from ``avoid`` if given."""
    for _ in range(50):
        c = rng.integers(0, 256, 3).astype(np.float64)
        if avoid is None or np.linalg.norm(c - avoid) >= min_dist:
            return c
    return 255.0 - avoid


def draw_background(size: int, rng: np.random.Generator, clutter: int) -> np.ndarray:
    """A float HxWx3 canvas: colour gradient, noise, ``clutter`` thin lines and small blobs."""
    c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    t = np.linspace(0, 1, size)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * t[None, :] + np.sin(angle) * t[:, None]
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    img = c0 + (c1 - c0) * ramp[..., None] * 0.6
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw_clutter(pil, rng, clutter)
    return np.asarray(pil).astype(np.float64)


def draw_clutter(pil: Image.Image, rng: np.random.Generator, n: int) -> None:
    """Draw ``n`` distractors (thin lines, small blobs) of no class onto ``pil`` in place."""
    size = pil.size[0]
    draw = ImageDraw.Draw(pil)
    for _ in range(n):
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            x0, y0, x1, y1 = (float(v) for v in rng.uniform(0, size, 4))
            draw.line([(x0, y0), (x1, y1)], fill=colour, width=1)
        else:
            r = float(rng.uniform(1, max(1.5, size / 40)))
            cx, cy = (float(v) for v in rng.uniform(0, size, 2))
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)


def shape_mask(shape: str, size: int, centre: Tuple[float, float], radius: float,
               aspect: float, angle: float) -> np.ndarray:
    """Boolean ``size x size`` mask of ``shape`` (unit-disc outline scaled by ``radius``)."""
    mask = Image.new('L', (size, size), 0)
    draw = ImageDraw.Draw(mask)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    for pts, value in _OUTLINES[shape]:
        p = (pts * [aspect, 1.0]) @ rot.T * radius + centre
        draw.polygon([(float(x), float(y)) for x, y in p], fill=value)
    return np.asarray(mask) > 127


def texture(kind: str, size: int, radius: float, angle: float, rng: np.random.Generator,
            period: Tuple[float, float] = (0.55, 0.75), dot_radius: float = 0.22) -> np.ndarray:
    """Boolean ``size x size`` pattern (True = second colour).

    The pattern's period is ``radius`` times a factor drawn from ``period`` (at least 3 px);
    dots have a radius of ``dot_radius`` periods.
    """
    if kind == 'solid':
        return np.zeros((size, size), bool)
    period = max(3.0, radius * rng.uniform(*period))
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    u = np.cos(angle) * x + np.sin(angle) * y + rng.uniform(0, period)
    v = -np.sin(angle) * x + np.cos(angle) * y + rng.uniform(0, period)
    if kind == 'striped':
        return (u % period) < period / 2
    if kind == 'checkered':
        return ((u // (period / 1.4)) + (v // (period / 1.4))) % 2 == 0
    if kind == 'dotted':
        du, dv = (u % period) - period / 2, (v % period) - period / 2
        return du * du + dv * dv < (period * dot_radius) ** 2
    raise KeyError(f'unknown texture {kind!r}; known: {TEXTURES}')


def render_object(canvas: np.ndarray, shape: str, tex_kind: str, centre: Tuple[float, float],
                  radius: float, rng: np.random.Generator,
                  period: Tuple[float, float] = (0.55, 0.75),
                  dot_radius: float = 0.22) -> np.ndarray:
    """Paint one ``shape`` with surface ``tex_kind`` onto ``canvas`` (float HxWx3) in place.

    Aspect ratio, rotation, colours and texture phase are drawn from ``rng``; ``period`` and
    ``dot_radius`` are passed to :func:`texture`.

    Returns:
        The boolean mask of the painted pixels.
    """
    size = canvas.shape[0]
    angle = float(rng.uniform(0, 2 * np.pi))
    aspect = float(rng.uniform(0.75, 1.25))
    mask = shape_mask(shape, size, centre, radius, aspect, angle)
    fg = random_colour(rng, avoid=canvas[mask].mean(0) if mask.any() else None)
    second = random_colour(rng, avoid=fg, min_dist=120.0)
    pattern = texture(tex_kind, size, radius, angle + float(rng.uniform(-0.3, 0.3)), rng,
                      period, dot_radius)
    colour = np.where(pattern[..., None], second, fg)
    shade = rng.normal(0, 6.0, canvas.shape)
    canvas[mask] = np.clip(colour[mask] + shade[mask], 0, 255)
    return mask


def finish(canvas: np.ndarray, rng: np.random.Generator, noise: float = 6.0) -> Image.Image:
    """Add sensor noise and quantise the float canvas to an 8-bit RGB image."""
    img = canvas + rng.normal(0, noise, canvas.shape)
    return Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8))
