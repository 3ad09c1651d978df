"""Named colours shared by the worlds.

Each name maps to one base RGB colour. Samples jitter it a little (:func:`jitter_colour`)
so that no two flowers are the same red, while every name stays unambiguous to a
classifier: the bases are far apart and the jitter is small next to those distances.
"""

from __future__ import annotations

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
