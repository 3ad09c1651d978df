"""Named colours shared by the worlds.

Each name maps to one base RGB colour. Flowers jitter it a little (:func:`jitter_colour`)
so that no two flowers are the same red, while every name stays unambiguous to a
classifier: the bases are far apart and the jitter is small next to those distances.

Scenes draw each of their seven colours from a wide range of shades instead
(:func:`shade`): a box in hue, saturation and value (HSV) per name, wide enough to hold
what people pick in a paint program (MS Paint's red, orange, yellow, green, blue, purple
and pink all fall inside) and narrow enough that no two names share a hue. The hue
intervals are disjoint with gaps of at least 10 degrees (orange ends at 34, yellow starts
at 46); pink and red, 7 degrees apart, are also apart in saturation (pink <= 0.55, red >= 0.72).
"""

from __future__ import annotations

import colorsys

import numpy as np

# Base colours, RGB 0-255. Chosen far apart in hue and lightness so that a shaded,
# jittered "pink" is never mistaken for "red" or "purple".
PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (214, 32, 40),
    "orange": (245, 130, 20),
    "yellow": (250, 212, 35),
    "green": (46, 160, 67),
    "blue": (36, 92, 214),
    "purple": (128, 54, 180),
    "pink": (250, 135, 190),
    "white": (244, 244, 238),
    "brown": (120, 72, 36),
    "black": (30, 30, 34),
    "cyan": (40, 200, 210),
    "gray": (135, 135, 135),
}


def colour(name: str) -> np.ndarray:
    """The base colour of ``name`` as floats in [0, 1], shape (3,)."""
    try:
        return np.asarray(PALETTE[name], dtype=np.float32) / 255.0
    except KeyError:
        raise ValueError(f"unknown colour {name!r}; known: {sorted(PALETTE)}") from None


def jitter_colour(name: str, rng: np.random.Generator, amount: float = 0.05) -> np.ndarray:
    """``name``'s base colour with a small random change of brightness and tint, shape (3,)."""
    base = colour(name)
    brightness = rng.uniform(1.0 - 1.5 * amount, 1.0 + amount)
    tint = rng.uniform(-amount, amount, size=3)
    return np.clip(base * brightness + tint, 0.0, 1.0).astype(np.float32)


# name -> ((hue_lo, hue_hi) in degrees, (saturation_lo, saturation_hi), (value_lo, value_hi)).
# Red's hue interval wraps through 0: it is written from -8 to 6 degrees.
SHADE_RANGES: dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]] = {
    "red": ((-8.0, 6.0), (0.72, 0.95), (0.68, 0.95)),
    "orange": ((16.0, 34.0), (0.78, 0.98), (0.88, 1.0)),
    "yellow": ((46.0, 60.0), (0.72, 0.98), (0.88, 1.0)),
    "green": ((95.0, 150.0), (0.5, 0.85), (0.45, 0.8)),
    "blue": ((200.0, 240.0), (0.6, 0.9), (0.65, 0.95)),
    "purple": ((262.0, 300.0), (0.5, 0.8), (0.5, 0.78)),
    "pink": ((318.0, 345.0), (0.28, 0.55), (0.9, 1.0)),
}


def shade(name: str, rng: np.random.Generator) -> np.ndarray:
    """A shade of ``name`` drawn uniformly from its box in :data:`SHADE_RANGES`, RGB floats (3,) in [0, 1]."""
    try:
        (h0, h1), (s0, s1), (v0, v1) = SHADE_RANGES[name]
    except KeyError:
        raise ValueError(f"no shade range for {name!r}; known: {sorted(SHADE_RANGES)}") from None
    hue, saturation, value = rng.uniform(h0, h1), rng.uniform(s0, s1), rng.uniform(v0, v1)
    return np.asarray(colorsys.hsv_to_rgb((hue / 360.0) % 1.0, saturation, value), dtype=np.float32)
