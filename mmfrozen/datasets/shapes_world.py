"""``ShapesWorld``: the design of the mini-study's generated world, in one value.

A class is a (texture, shape) pair. Which outlines and surface textures exist, how coarse the
textures are and how noisy the sensor is are the world's design; everything else about an
instance (size, aspect ratio, rotation, colours, texture phase, background, clutter) is drawn at
random by the generators. The same world makes the upstream classification set and the
downstream detection set, as ImageNet and COCO/LVIS share their classes in "Proper Reuse of
Image Classification Features Improves Object Detection" (Vasconcelos et al., CVPR 2022).
"""
from dataclasses import asdict, dataclass
from typing import Any, Dict, Tuple

import numpy as np

from .shapes import SHAPES, TEXTURES, finish, render_object

#: The mini-study's outlines: the 8 of :data:`SHAPES` that stay distinct at 20-60 px (pentagon,
#: hexagon, crescent and diamond are left out: at that size they read as circle, circle, ring
#: and square).
STUDY_SHAPES: Tuple[str, ...] = ('circle', 'square', 'triangle', 'star', 'cross', 'ring',
                                 'arrow', 'heart')


@dataclass(frozen=True)
class ShapesWorld:
    """Classes and rendering knobs of a generated shapes x textures world.

    Args:
        shapes: Outlines, a subset of :data:`~mmfrozen.datasets.shapes.SHAPES`.
        textures: Surfaces, a subset of :data:`~mmfrozen.datasets.shapes.TEXTURES`.
        texture_period: Range of the texture period, as a multiple of the object's radius.
        dot_radius: Radius of the dots of the ``dotted`` texture, in periods.
        noise: Standard deviation of the sensor noise added to every pixel (0-255 scale).
    """
    shapes: Tuple[str, ...] = STUDY_SHAPES
    textures: Tuple[str, ...] = TEXTURES
    texture_period: Tuple[float, float] = (0.55, 0.75)
    dot_radius: float = 0.22
    noise: float = 6.0

    def __post_init__(self) -> None:
        object.__setattr__(self, 'shapes', tuple(self.shapes))
        object.__setattr__(self, 'textures', tuple(self.textures))
        object.__setattr__(self, 'texture_period', tuple(self.texture_period))
        for name, values, known in (('shapes', self.shapes, SHAPES),
                                    ('textures', self.textures, TEXTURES)):
            unknown = [v for v in values if v not in known]
            if not values or unknown or len(set(values)) != len(values):
                raise ValueError(f'ShapesWorld.{name} must be distinct values from {known}, '
                                 f'got {values}')
        lo, hi = self.texture_period
        if not 0 < lo <= hi or not 0 < self.dot_radius < 0.5 or self.noise < 0:
            raise ValueError(f'ShapesWorld: need 0 < texture_period[0] <= texture_period[1], '
                             f'0 < dot_radius < 0.5 and noise >= 0, got {self.texture_period}, '
                             f'{self.dot_radius}, {self.noise}')

    @property
    def classes(self) -> Tuple[str, ...]:
        """Class names ``'<texture>-<shape>'``, textures varying slowest."""
        return tuple(f'{t}-{s}' for t in self.textures for s in self.shapes)

    @property
    def num_classes(self) -> int:
        return len(self.shapes) * len(self.textures)

    def render(self, canvas: np.ndarray, label: int, centre: Tuple[float, float], radius: float,
               rng: np.random.Generator) -> np.ndarray:
        """Paint one instance of class ``label`` onto ``canvas`` in place; returns its mask."""
        tex_kind, shape = self.classes[label].split('-', 1)
        return render_object(canvas, shape, tex_kind, centre, radius, rng,
                             period=self.texture_period, dot_radius=self.dot_radius)

    def finish(self, canvas: np.ndarray, rng: np.random.Generator):
        """Add this world's sensor noise and quantise the canvas to an 8-bit RGB image."""
        return finish(canvas, rng, noise=self.noise)

    def to_dict(self) -> Dict[str, Any]:
        """Plain values (JSON-serialisable), e.g. for cache keys and reports."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
