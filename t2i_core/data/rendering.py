"""Drawing primitives for the image worlds: backgrounds, shaded shapes, anti-aliasing.

Images are painted on a float canvas (H, W, 3) in [0, 1]. Shapes are drawn as coverage
masks with Pillow at ``SUPERSAMPLE`` times the target size, so every edge is anti-aliased
by area coverage. Flowers paint the whole canvas at that size and reduce it with a box
filter; Scenes reduce only each object's coverage and composite at the target size,
which gives the same edges for a flat colour at a sixteenth of the cost. Each object's
own mask is kept so worlds can return ground truth for where an object is.

Besides the painting itself: hand-drawn outlines (:func:`hand_drawn`), and the
degradations of a picture that went through a camera or the web (:func:`degrade`:
Gaussian blur, JPEG compression).
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SUPERSAMPLE = 4

# Greyscale textures that ship inside scikit-image (no download): tinted and faded,
# they give backgrounds a real-world grain without competing with the objects' colours.
TEXTURE_NAMES = ("brick", "grass", "gravel", "moon", "camera", "coffee", "rocket", "chelsea")

# Muted background tones: far from the saturated palette so objects stand out.
BACKGROUND_TONES = np.asarray(
    [
        (0.80, 0.84, 0.88),  # pale sky
        (0.86, 0.82, 0.74),  # sand
        (0.74, 0.78, 0.74),  # sage
        (0.30, 0.33, 0.40),  # slate
        (0.20, 0.22, 0.25),  # charcoal
        (0.88, 0.86, 0.84),  # paper
        (0.62, 0.66, 0.72),  # dusk
        (0.45, 0.42, 0.40),  # stone
    ],
    dtype=np.float32,
)

# The kinds drawn when no kind is asked for (Flowers draws from these: keep them as they are).
BACKGROUND_KINDS = ("plain", "gradient", "noise", "texture")
# Kinds drawn only when asked for: the white of a paint program's page and a plain dark one.
PAGE_KINDS = ("white", "dark")


@lru_cache(maxsize=None)
def _texture(name: str) -> np.ndarray:
    """A scikit-image sample photo as greyscale floats in [0, 1], shape (H, W)."""
    import skimage.data

    image = np.asarray(getattr(skimage.data, name)(), dtype=np.float32)
    if image.ndim == 3:
        image = image[..., :3].mean(axis=2)
    return image / 255.0


def _resize(array: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of a (h, w) float array to (size, size)."""
    image = Image.fromarray(array.astype(np.float32), mode="F")
    return np.asarray(image.resize((size, size), Image.Resampling.BILINEAR), dtype=np.float32)


def make_background(
    rng: np.random.Generator, size: int, kind: str | None = None
) -> tuple[np.ndarray, str]:
    """A background canvas of shape (size, size, 3) in [0, 1] and the kind that was drawn.

    Kinds: ``plain`` (one muted tone), ``gradient`` (two tones along a random direction),
    ``noise`` (smooth value noise over a tone), ``texture`` (a faded, tinted crop of a
    scikit-image photo); and, only when asked for, ``white`` (white or near-white, grey
    level 0.94-1.0 with a faint tint) and ``dark`` (a near-black grey, level 0.05-0.22).
    With ``kind=None`` one of ``BACKGROUND_KINDS`` is drawn.
    """
    if kind in PAGE_KINDS:
        # Drawn apart from the tones below, so the older kinds keep their random draws.
        low, high = (0.94, 1.0) if kind == "white" else (0.05, 0.22)
        level = rng.uniform(low, high)
        tint = rng.uniform(-0.015, 0.015, size=3)
        tone = np.clip(level + tint, 0, 1).astype(np.float32)
        return np.broadcast_to(tone, (size, size, 3)).copy(), kind
    if kind is None:
        kind = BACKGROUND_KINDS[rng.integers(len(BACKGROUND_KINDS))]
    tone = BACKGROUND_TONES[rng.integers(len(BACKGROUND_TONES))]
    tone = np.clip(tone + rng.uniform(-0.04, 0.04, size=3), 0, 1).astype(np.float32)
    if kind == "plain":
        canvas = np.broadcast_to(tone, (size, size, 3)).copy()
    elif kind == "gradient":
        other = BACKGROUND_TONES[rng.integers(len(BACKGROUND_TONES))]
        angle = rng.uniform(0, 2 * np.pi)
        ramp = np.linspace(-0.5, 0.5, size, dtype=np.float32)
        # Built from two 1-D ramps by broadcasting: no full coordinate grid.
        t = (np.cos(angle) * ramp[None, :] + np.sin(angle) * ramp[:, None]) / np.float32(np.sqrt(0.5)) * 0.5 + 0.5
        t = np.clip(t, 0, 1)[..., None]  # (size, size, 1)
        canvas = (1 - t) * tone + t * other
    elif kind == "noise":
        cells = int(rng.integers(3, 9))
        coarse = rng.uniform(-1, 1, size=(cells, cells)).astype(np.float32)
        fine = _resize(coarse, size)[..., None]  # (size, size, 1)
        canvas = tone + 0.08 * fine
    elif kind == "texture":
        texture = _texture(TEXTURE_NAMES[rng.integers(len(TEXTURE_NAMES))])
        h, w = texture.shape
        crop = int(rng.integers(min(h, w) // 3, min(h, w) + 1))
        top = int(rng.integers(0, h - crop + 1))
        left = int(rng.integers(0, w - crop + 1))
        patch = _resize(texture[top : top + crop, left : left + crop], size)
        patch = (patch - patch.mean())[..., None]  # (size, size, 1), zero-mean grain
        canvas = tone + 0.25 * patch
    else:
        raise ValueError(f"unknown background kind {kind!r}; choose one of {BACKGROUND_KINDS + PAGE_KINDS}")
    return np.clip(canvas, 0, 1).astype(np.float32), kind


def new_mask(size: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    """An empty coverage mask (Pillow mode L) of size x size and a pen to draw on it."""
    mask = Image.new("L", (size, size), 0)
    return mask, ImageDraw.Draw(mask)


def mask_to_alpha(mask: Image.Image) -> np.ndarray:
    """A Pillow L mask as coverage floats in [0, 1], shape (H, W)."""
    return np.asarray(mask, dtype=np.float32) / 255.0


def shaded_fill(
    rgb: np.ndarray,
    size: int,
    centre: tuple[float, float],
    radius: float,
    light: tuple[float, float] = (-0.45, -0.55),
    strength: float = 0.35,
) -> np.ndarray:
    """A radially shaded colour field of shape (size, size, 3): bright towards ``light``.

    ``centre`` and ``radius`` are in canvas pixels; ``light`` is the highlight's offset from
    the centre in radii. The colour at the highlight is lightened by ``strength`` and the
    far rim darkened by it, which reads as a rounded, lit surface.
    """
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    hx = centre[0] + light[0] * radius
    hy = centre[1] + light[1] * radius
    distance = np.sqrt((xs - hx) ** 2 + (ys - hy) ** 2) / max(radius * 2.0, 1e-6)
    t = np.clip(distance, 0, 1)[..., None]  # (size, size, 1): 0 at the highlight
    lit = rgb + (1 - rgb) * strength * 0.8
    dark = rgb * (1 - strength)
    return ((1 - t) * lit + t * dark).astype(np.float32)


def composite(canvas: np.ndarray, fill: np.ndarray, alpha: np.ndarray) -> None:
    """Paint ``fill`` (H, W, 3) or (3,) over ``canvas`` (H, W, 3) in place with coverage ``alpha`` (H, W)."""
    a = alpha[..., None]
    canvas *= 1 - a
    canvas += a * fill


def drop_shadow(canvas: np.ndarray, mask: Image.Image, offset: tuple[int, int], blur: float, darkness: float = 0.35) -> None:
    """Darken ``canvas`` in place under a blurred, shifted copy of ``mask``: a soft shadow."""
    shadow = mask.filter(ImageFilter.GaussianBlur(blur))
    shifted = Image.new("L", mask.size, 0)
    shifted.paste(shadow, offset)
    canvas *= 1 - darkness * mask_to_alpha(shifted)[..., None]


def downsample(canvas: np.ndarray, factor: int = SUPERSAMPLE) -> Image.Image:
    """The supersampled canvas (H, W, 3) reduced by ``factor`` with a box filter, as PIL RGB."""
    h, w, _ = canvas.shape
    # Two one-axis sums are several times faster than one mean over two strided axes.
    rows = canvas.reshape(h // factor, factor, w, 3).sum(axis=1)  # (h/f, w, 3)
    reduced = rows.reshape(h // factor, w // factor, factor, 3).sum(axis=2) / factor**2  # (h/f, w/f, 3)
    return Image.fromarray(np.round(np.clip(reduced, 0, 1) * 255).astype(np.uint8), "RGB")


def downsample_alpha(alpha: np.ndarray, factor: int = SUPERSAMPLE) -> np.ndarray:
    """A supersampled coverage map (H, W) reduced to pixel coverage (H/factor, W/factor)."""
    h, w = alpha.shape
    rows = alpha.reshape(h // factor, factor, w).sum(axis=1)  # (h/f, w)
    return rows.reshape(h // factor, w // factor, factor).sum(axis=2) / factor**2


def regular_polygon(cx: float, cy: float, radius: float, sides: int, rotation: float = 0.0) -> list[tuple[float, float]]:
    """Vertices of a regular polygon centred at (cx, cy); rotation in radians, 0 = a vertex at the top."""
    angles = rotation - np.pi / 2 + 2 * np.pi * np.arange(sides) / sides
    return [(cx + radius * np.cos(a), cy + radius * np.sin(a)) for a in angles]


def star_polygon(cx: float, cy: float, radius: float, points: int = 5, inner: float = 0.45, rotation: float = 0.0) -> list[tuple[float, float]]:
    """Vertices of a star with ``points`` tips; ``inner`` is the inner radius as a fraction."""
    angles = rotation - np.pi / 2 + np.pi * np.arange(2 * points) / points
    radii = np.where(np.arange(2 * points) % 2 == 0, radius, radius * inner)
    return [(cx + r * np.cos(a), cy + r * np.sin(a)) for r, a in zip(radii, angles)]


def ellipse_polygon(cx: float, cy: float, rx: float, ry: float, rotation: float = 0.0, points: int = 96) -> list[tuple[float, float]]:
    """``points`` vertices on an ellipse centred at (cx, cy), radii rx, ry, turned by ``rotation`` radians."""
    t = 2 * np.pi * np.arange(points) / points
    x, y = rx * np.cos(t), ry * np.sin(t)
    c, s = np.cos(rotation), np.sin(rotation)
    return [(cx + c * a - s * b, cy + s * a + c * b) for a, b in zip(x, y)]


def hand_drawn(
    vertices: list[tuple[float, float]],
    centre: tuple[float, float],
    rng: np.random.Generator,
    step: float,
    wobble: float = 0.035,
    corner_jitter: float = 0.03,
    jitter: float = 0.25,
) -> list[tuple[float, float]]:
    """A closed polygon as a slightly unsteady hand would draw it.

    Each vertex moves by up to ``corner_jitter`` of its distance from ``centre``; the edges
    are cut into pieces about ``step`` pixels long; then every point's distance from
    ``centre`` is scaled by ``1 + d`` where ``d`` is a smooth wave along the outline (three
    sines of 2-6 periods, together at most ``wobble``) plus Gaussian noise of ``jitter``
    pixels. Scaling from the centre keeps a shape that is star-shaped around its centre
    (every shape of the worlds) free of self-crossings. The result reaches at most
    ``(1 + corner_jitter) * (1 + wobble)`` times as far from ``centre`` as ``vertices``
    do, plus ``3 * jitter`` pixels.

    Args:
        vertices: the clean polygon, (x, y) in pixels, in order around the outline.
        centre: (x, y) in pixels, inside the polygon.
        rng: where the wobble is drawn from.
        step: the length of an edge piece in pixels.
    """
    c = np.asarray(centre, dtype=np.float64)
    corners = np.asarray(vertices, dtype=np.float64)  # (V, 2)
    corners = c + (corners - c) * (1 + rng.uniform(-corner_jitter, corner_jitter, size=(len(corners), 1)))
    pieces = []
    for a, b in zip(corners, np.roll(corners, -1, axis=0)):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / step)))
        t = np.arange(n)[:, None] / n
        pieces.append(a + t * (b - a))
    points = np.concatenate(pieces)  # (P, 2)
    along = np.arange(len(points)) / len(points)  # position along the outline in [0, 1)
    periods = rng.integers(2, 7, size=3)
    phases = rng.uniform(0, 2 * np.pi, size=3)
    amplitudes = rng.dirichlet(np.ones(3)) * wobble * rng.uniform(0.5, 1.0)
    wave = (amplitudes[:, None] * np.sin(2 * np.pi * periods[:, None] * along[None] + phases[:, None])).sum(axis=0)  # (P,)
    offsets = points - c
    distance = np.linalg.norm(offsets, axis=1, keepdims=True)  # (P, 1)
    noise = np.clip(rng.normal(0.0, jitter, size=(len(points), 1)), -3 * jitter, 3 * jitter)
    scale = 1 + wave[:, None] + noise / np.maximum(distance, 1e-6)
    return [(float(x), float(y)) for x, y in c + offsets * scale]


def degrade(image: Image.Image, blur: float = 0.0, jpeg_quality: int | None = None) -> Image.Image:
    """``image`` blurred (Gaussian, sigma ``blur`` pixels; 0 for none), then JPEG-compressed at ``jpeg_quality`` (None for none).

    Both are deterministic: the same image and settings give the same bytes (Pillow's
    libjpeg encodes and decodes without randomness).
    """
    if blur > 0:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    if jpeg_quality is not None:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=int(jpeg_quality))
        buffer.seek(0)
        image = Image.open(buffer).convert("RGB")
    return image
