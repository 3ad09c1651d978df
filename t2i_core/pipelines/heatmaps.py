"""Attention maps drawn over images: the one place that turns a map into pixels.

A map is any non-negative 2-D array (an attention map of h x w cells, a generator's soft
mask); it is resized smoothly to the image, scaled to [0, 1] and coloured from dark
purple through orange to pale yellow (an inferno-like ramp, readable on any background),
then blended over the image where the map is high.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

# Anchor colours of the ramp, from low to high.
_RAMP = np.array([
    [0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66], [245, 125, 21], [250, 193, 39], [252, 255, 164],
], dtype=np.float64)


def _ramp(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] -> RGB uint8 on the ramp, interpolated between its anchors."""
    v = np.clip(np.asarray(values, dtype=np.float64), 0, 1) * (len(_RAMP) - 1)
    low = np.floor(v).astype(int).clip(0, len(_RAMP) - 2)
    frac = (v - low)[..., None]
    return np.round(_RAMP[low] * (1 - frac) + _RAMP[low + 1] * frac).astype(np.uint8)


# The ramp at 1024 levels: colouring a map is then one table lookup per pixel (a caption's
# strip colours 20 maps, a photo's map is 512x512), not an interpolation.
_RAMP_TABLE = _ramp(np.linspace(0, 1, 1024))  # (1024, 3)


def colourise(values: np.ndarray) -> np.ndarray:
    """Values (H, W) in [0, 1] -> RGB uint8 (H, W, 3) on the ramp (to 1/1023 of the range)."""
    v = np.clip(np.asarray(values, dtype=np.float64), 0, 1)
    return _RAMP_TABLE[np.round(v * (len(_RAMP_TABLE) - 1)).astype(np.intp)]


def smooth_map(values: np.ndarray, size: tuple[int, int], blur: float = 0.0) -> np.ndarray:
    """A map (h, w) resized to ``size`` = (width, height) bicubically, optionally blurred, scaled to [0, 1]."""
    array = np.asarray(values, dtype=np.float32)
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(f"a map must be a non-empty 2-D array, got shape {array.shape}")
    low, high = float(array.min()), float(array.max())
    if high <= low:
        return np.zeros((size[1], size[0]))
    levels = np.round((array - low) / (high - low) * 255).astype(np.uint8)  # 8 bits are plenty for display
    resized = Image.fromarray(levels, "L").resize(size, Image.Resampling.BICUBIC)
    if blur > 0:
        resized = resized.filter(ImageFilter.GaussianBlur(blur))
    out = np.asarray(resized, dtype=np.float64) / 255.0
    top = out.max()
    return out / top if top > 0 else out


def heatmap_overlay(image: Image.Image, values: np.ndarray, opacity: float = 0.6, blur: float | None = None) -> Image.Image:
    """``image`` with ``values`` (h, w) drawn on top as a smoothed heatmap (an RGB PIL image).

    The heatmap's opacity grows with the value, so low-attention regions show the image.
    ``blur`` defaults to a quarter of one map cell.
    """
    rgb = image.convert("RGB")
    h, w = np.asarray(values).shape[:2]
    if blur is None:
        blur = 0.25 * rgb.size[0] / max(w, 1)
    level = smooth_map(values, rgb.size, blur)  # (H, W) in [0, 1]
    colours = colourise(level).astype(np.float64)
    alpha = (opacity * (0.35 + 0.65 * level))[..., None]
    blended = np.asarray(rgb, dtype=np.float64) * (1 - alpha) + colours * alpha
    return Image.fromarray(np.round(blended).astype(np.uint8), "RGB")
