"""Scenes: 128x128 pictures of 1 to 4 coloured shapes, with masks, boxes and relational captions.

Each scene is one to four objects on a background, painted in one of four styles. An
object has a shape (circle, square, triangle, star, diamond), a colour (red, orange,
yellow, green, blue, purple, pink) and a size word (small or large). Every choice below
is drawn from the scene's own generator, so a scene is a pure function of (seed, split,
index); everything is decided before anything is painted, so ``render=False`` gives the
same scene, attributes and captions without the pixels.

Objects. Counts 1, 2, 3 and 4 have probabilities ``OBJECT_COUNT_PROBABILITIES`` (0.2, 0.25,
0.3, 0.25). Each object's (colour, shape) is drawn uniformly from the combinations its
split allows. Squares, triangles and diamonds (a narrow rhombus standing on a point) turn
by at most 15 degrees, so a square never reads as a diamond; stars turn freely.

Sizes. An object's size radius is a fraction of the image side, continuous within its
size word's range: ``small`` is 7.5%-11.5%, ``large`` 15%-20% (``SIZE_RANGES``). No
radius falls between 11.5% and 15%, so the word is always true and a model can learn it
from the radius alone: small means a radius below ``SIZE_THRESHOLD`` (13.25% of the side,
the middle of the gap), large above. Polygons reach a little further than the circle
(``SHAPE_EXTENT``) so all shapes of one radius look about as big. Each word is drawn with
probability 1/2; the radius is uniform in its range, except that a crowded layout that
does not fit shrinks its radii towards the bottom of their ranges (see Placement).

Colours. Each object's colour is a shade drawn from its name's box in hue, saturation and
value (:data:`~t2i_core.data.palette.SHADE_RANGES`): wide (MS Paint's colours fall inside)
yet disjoint in hue, so yellow and orange never meet (orange ends at 34 degrees, yellow
starts at 46). The shade is kept on the object (``rgb``).

Styles (one per scene, ``STYLES``):

- ``shaded``: a lit, rounded shading of the shade and a soft drop shadow (the original look);
- ``flat``: one flat fill, as a paint program's bucket fill;
- ``outline``: only an outline of the shade, ``pen_width`` pixels wide (1.6%-3% of the
  side, the same for every object of the scene), drawn inside the shape's edge; the
  inside shows the background;
- ``hand-drawn``: a flat fill whose outline wobbles like a freehand drawing (the clean
  polygon's corners nudged, its edges cut into short pieces and displaced by a smooth wave
  and a little noise, :func:`~t2i_core.data.rendering.hand_drawn`; a circle becomes a
  slightly uneven ellipse). The wobble comes from the object's ``wobble_seed``.

Backgrounds: ``white`` (white or near-white: a paint program's page), ``dark`` (a plain,
near-black grey), ``plain`` (one muted tone), ``gradient``, ``noise`` and ``texture`` (a
faded scikit-image photo); the first three are ``PLAIN_BACKGROUNDS``.

Held-out style. ``heldout-style`` is flat fill on a plain background (white, plain or
dark), the look of a paint program drawing. ``train``, ``val``, ``test`` and
``heldout-combos`` never draw that pair: their flat scenes always lie on a gradient,
noise or texture, and their plain backgrounds carry only shaded, outline or hand-drawn
objects. Styles there have probabilities 0.3 shaded, 0.2 flat, 0.2 outline, 0.3
hand-drawn; backgrounds of the non-flat styles 0.35 white, 0.15 plain, 0.15 dark, 0.35
gradient/noise/texture together. ``heldout-style`` draws white 0.5, plain 0.25, dark 0.25.

Degradations, after painting: a Gaussian blur (sigma 0.3-1 pixel at 128 px, scaled with
the image) with probability 0.25, then JPEG compression at quality 30-90 with probability
0.3; both deterministic. The sample's attributes record ``blur`` (0 for none) and
``jpeg_quality`` (0 for none).

Placement. Every object lies fully inside the image, and objects do not overlap: the
pixels any two objects touch at all (any coverage) are at least ``MIN_GAP`` (2) pixels
apart (a (2 * MIN_GAP + 1)-pixel square around one never meets the other). Objects are
placed largest first by rejection sampling: up to ``PLACEMENT_TRIES`` positions each,
uniform over the pixels not certainly taken; when one finds no room the layout starts
over with every radius moved towards the bottom of its size range (by
``attempt / LAYOUT_TRIES`` of the way), and after ``QUADRANTS_AFTER`` failed layouts a
scene of three or four objects puts each in its own quarter of the image, so four large
objects still fit. About 97 scenes in 100 fit at the first layout.

Masks. An object's ``mask`` is its filled shape region: the image pixels where the
filled shape covers at least half the pixel (coverage measured on a canvas
``SUPERSAMPLE`` times finer). It is the object's area in every style: for ``outline``
the drawn pixels are the ring inside the mask's edge and the inside of the ring belongs
to the object too (it is where a person points at the object), for ``hand-drawn`` it is
the wobbly shape as drawn. Every pixel an object paints is one its filled shape
touches: in the mask, or an anti-aliased edge pixel covered by less than half (at a
star's tip a short run of them). Objects do not overlap, so nothing covers a mask. The
shaded style's shadow is not part of the mask.

Captions. The canonical caption (``captions[0]``) is a function of the scene, so a
captioner can learn it exactly. Objects are named left to right by centre x, each as
``a SIZE COLOUR SHAPE``. The relation from object A to object B is ``to the left of`` /
``to the right of`` when ``|dx| >= |dy|`` (dx, dy = A's centre minus B's, y down), else
``above`` / ``below``. Grammar::

    1 object:  a SIZE COLOUR SHAPE
    2 objects: a SIZE COLOUR SHAPE REL a SIZE COLOUR SHAPE
    3 objects: ... and a SIZE COLOUR SHAPE REL the SHAPE
    4 objects: ... and a SIZE COLOUR SHAPE REL the SHAPE and a SIZE COLOUR SHAPE REL the SHAPE

Each object after the second is related to the object named just before it, which is
referred back to by its shape word alone (``the square``). Examples::

    a small red circle
    a small red circle to the left of a large blue square
    a small red circle to the left of a large blue square and a small green star above the square
    ... above the square and a large pink diamond to the right of the star

A canonical caption has at most 34 words (four objects, every relation ``to the ... of``).

Paraphrases (``captions[1:]``, all true of the scene), in this order: the first relation
reversed (``a large blue square to the right of a small red circle ...``; two objects or
more); ``there is`` before the canonical caption; and a count with a generic noun
followed by the objects left to right, once for each of ``objects``, ``shapes`` and
``things`` (``there are three objects a small red circle a large blue square and a small
green star``; ``there is one shape a small red circle``). Lower case, no punctuation.

Groundings. For every caption and every whitespace-separated word, ``groundings`` gives
the index (into ``objects``, i.e. painting order) of the object a size, colour or shape
word names, ``None`` for every other word (count words and generic nouns too). A
back-reference ``the square`` grounds its shape word to the object it refers to. This
is the ground truth for asking whether a captioner's attention looks at the object a
word names.

Held-out combinations. ``HELDOUT_COMBOS`` holds five colour-shape pairs, one per shape and
each with a different colour, so every colour and every shape is still seen in training
with other partners. ``train``, ``val``, ``test`` and ``heldout-style`` never contain
them; every scene of ``heldout-combos`` contains at least one (its other objects may be
anything).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from typing import Any, ClassVar

import numpy as np
import torch
from PIL import Image, ImageDraw

from .palette import shade
from .preview import make_image_grid
from .rendering import (
    SUPERSAMPLE,
    composite,
    degrade,
    downsample_alpha,
    drop_shadow,
    ellipse_polygon,
    hand_drawn,
    make_background,
    mask_to_alpha,
    new_mask,
    regular_polygon,
    shaded_fill,
    star_polygon,
)
from .world import Sample, World, image_to_tensor

SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star", "diamond")
# Saturated colours that stand out from the backgrounds; white, black, gray and brown are
# left out because they vanish on white, dark or stone backgrounds.
COLOURS: tuple[str, ...] = ("red", "orange", "yellow", "green", "blue", "purple", "pink")
SIZES: tuple[str, ...] = ("small", "large")
STYLES: tuple[str, ...] = ("shaded", "flat", "outline", "hand-drawn")
PLAIN_BACKGROUNDS: tuple[str, ...] = ("white", "plain", "dark")
TEXTURED_BACKGROUNDS: tuple[str, ...] = ("gradient", "noise", "texture")
BACKGROUNDS: tuple[str, ...] = PLAIN_BACKGROUNDS + TEXTURED_BACKGROUNDS

# (colour, shape) pairs that train/val/test never show: one per shape, each a different colour.
HELDOUT_COMBOS: frozenset[tuple[str, str]] = frozenset(
    {
        ("red", "star"),
        ("blue", "circle"),
        ("green", "triangle"),
        ("yellow", "square"),
        ("purple", "diamond"),
    }
)
SEEN_COMBOS: tuple[tuple[str, str], ...] = tuple(
    (c, s) for c in COLOURS for s in SHAPES if (c, s) not in HELDOUT_COMBOS
)
ALL_COMBOS: tuple[tuple[str, str], ...] = tuple((c, s) for c in COLOURS for s in SHAPES)

MAX_OBJECTS = 4
# Probability of 1, 2, 3 and 4 objects: mostly relational scenes, four common enough to learn.
OBJECT_COUNT_PROBABILITIES = (0.2, 0.25, 0.3, 0.25)

# Size radius as a fraction of the image side: a range per size word, with a gap between.
SIZE_RANGES = {"small": (0.075, 0.115), "large": (0.15, 0.20)}
SIZE_THRESHOLD = 0.1325  # the middle of the gap: small radii lie below it, large ones above

# The split's look: style probabilities (in STYLES order) and background probabilities
# (in BACKGROUNDS order) per style. The training splits never pair flat with a plain
# background; heldout-style is exactly that pair.
TRAINING_STYLE_PROBABILITIES = (0.3, 0.2, 0.2, 0.3)
TRAINING_BACKGROUND_PROBABILITIES = {
    "flat": (0.0, 0.0, 0.0, 1 / 3, 1 / 3, 1 / 3),
    "other": (0.35, 0.15, 0.15, 0.12, 0.11, 0.12),
}
HELDOUT_STYLE_BACKGROUND_PROBABILITIES = (0.5, 0.25, 0.25, 0.0, 0.0, 0.0)

# Each shape's furthest point from its centre, in size radii. Polygons are drawn a little
# bigger than the circle so that all shapes of one size look about as big (similar area).
SHAPE_EXTENT = {"circle": 1.0, "square": 1.25, "triangle": 1.4, "star": 1.4, "diamond": 1.3}
# The radius of the largest disc around the centre inside each shape, in size radii
# (square 1.25 cos 45, triangle 1.4 / 2, star 1.4 * 0.48 * cos 36, diamond 1.3 * 0.8 / hypot(1.3, 0.8)).
SHAPE_INNER = {"circle": 1.0, "square": 0.88, "triangle": 0.7, "star": 0.54, "diamond": 0.68}
DIAMOND_HALF_WIDTH = 0.8  # the diamond's half-width in size radii: a narrow rhombus, never a square
# Largest random rotation in radians, small enough that a square never looks like a diamond;
# the star's +-36 degrees covers every orientation of its 72-degree symmetry.
MAX_ROTATION = {"circle": 0.0, "square": 0.2, "triangle": 0.25, "star": np.pi / 5, "diamond": 0.15}

# Hand-drawn outlines (fractions of the distance from the centre; see rendering.hand_drawn).
WOBBLE = 0.04
CORNER_JITTER = 0.03
CIRCLE_ASPECT = 0.06  # a hand-drawn circle's radii differ from the size radius by up to this fraction
# How much less far a hand-drawn outline may keep in (0.99: a 48-gon's edges cut inside its circle by 0.2%).
HAND_INNER = 0.99 * (1 - CORNER_JITTER) * (1 - CIRCLE_ASPECT) * (1 - WOBBLE)

MIN_GAP = 2  # pixels between the touched pixels of any two objects
COVERAGE_THRESHOLD = 0.5  # a pixel belongs to an object's mask at this coverage or more
PLACEMENT_TRIES = 60  # candidate positions per object before the layout starts over
LAYOUT_TRIES = 40  # layouts, each with smaller radii, before giving up
QUADRANTS_AFTER = 3  # failed layouts after which scenes of 3-4 objects put each in its own quarter

# Looks, in size radii (offset, blur) or fractions (darkness, shading), and pen widths.
SHADOW_OFFSET = 0.14
SHADOW_BLUR = 0.12
SHADOW_DARKNESS = 0.38
SHADING_STRENGTH = 0.3
PEN_WIDTH = (0.016, 0.03)  # outline width as a fraction of the image side

# Degradations: probability and range (blur sigma in pixels at 128 px; JPEG quality).
BLUR_PROBABILITY, BLUR_SIGMA = 0.25, (0.3, 1.0)
JPEG_PROBABILITY, JPEG_QUALITY = 0.3, (30, 90)

COUNT_WORDS = ("one", "two", "three", "four")
GENERIC_NOUNS = ("object", "shape", "thing")


@dataclass
class SceneObject:
    """One object of a scene and where it is.

    ``centre`` is (x, y) and ``radius`` the size radius, both in image pixels (x right,
    y down); ``rotation`` is in radians. ``mask`` is a bool array (image_size, image_size):
    the pixels the filled shape covers by >= 0.5 (its area in every style). ``box`` is
    (x0, y0, x1, y1) in pixels, the tight box of ``mask`` with x1, y1 exclusive.
    ``rgb`` is the shade it is painted in (floats in [0, 1]); ``wobble_seed`` seeds its
    hand-drawn outline, None for a clean geometric one.
    """

    shape: str
    colour: str
    size: str
    centre: tuple[float, float]
    radius: float
    rotation: float
    mask: np.ndarray | None = field(default=None, repr=False)
    box: tuple[int, int, int, int] = (0, 0, 0, 0)
    rgb: tuple[float, float, float] = (0.0, 0.0, 0.0)
    wobble_seed: int | None = None


@dataclass(frozen=True)
class Look:
    """How a scene is painted; drawn before painting, so ``render=False`` knows it too.

    ``style`` is one of ``STYLES``, ``background`` one of ``BACKGROUNDS`` (painted from its
    own generator seeded with ``background_seed``); ``pen_width`` is the outline width in
    image pixels (outline style); ``blur`` the Gaussian blur's sigma in pixels (0: none) and
    ``jpeg_quality`` the JPEG quality (None: not compressed).
    """

    style: str
    background: str
    background_seed: int
    pen_width: float = 0.0
    blur: float = 0.0
    jpeg_quality: int | None = None


@dataclass
class SceneSample(Sample):
    """A scene: its image, its objects (in painting order), per-word groundings and its look.

    ``groundings[c][w]`` is the index into ``objects`` of the object that word ``w`` of
    ``captions[c]`` names (size, colour and shape words), or None.
    """

    image: Image.Image | None = None
    objects: list[SceneObject] = field(default_factory=list)
    groundings: list[list[int | None]] = field(default_factory=list)
    background: str = ""
    style: str = ""
    look: Look | None = None


# ---------------------------------------------------------------------------- geometry
def object_outline(
    shape: str, cx: float, cy: float, radius: float, rotation: float
) -> list[tuple[float, float]] | None:
    """The clean polygon of ``shape`` around (cx, cy) in canvas pixels, or None for a circle."""
    if shape == "circle":
        return None
    if shape == "square":
        # regular_polygon puts a vertex at the top; an eighth of a turn (45 degrees) levels the sides.
        return regular_polygon(cx, cy, SHAPE_EXTENT["square"] * radius, 4, np.pi / 4 + rotation)
    if shape == "triangle":
        return regular_polygon(cx, cy, SHAPE_EXTENT["triangle"] * radius, 3, rotation)
    if shape == "star":
        return star_polygon(cx, cy, SHAPE_EXTENT["star"] * radius, 5, inner=0.48, rotation=rotation)
    if shape == "diamond":
        half_h, half_w = SHAPE_EXTENT["diamond"] * radius, DIAMOND_HALF_WIDTH * radius
        corners = np.asarray([(0.0, -half_h), (half_w, 0.0), (0.0, half_h), (-half_w, 0.0)])
        turn = np.asarray([[np.cos(rotation), -np.sin(rotation)], [np.sin(rotation), np.cos(rotation)]])
        return [(cx + x, cy + y) for x, y in corners @ turn.T]
    raise ValueError(f"unknown shape {shape!r}; choose one of {SHAPES}")


def _canvas_geometry(obj: SceneObject) -> tuple[float, float, float]:
    """``obj``'s centre (cx, cy) and size radius on the supersampled canvas."""
    # Pillow's pixel centres are at integer coordinates; image pixel x spans canvas [4x, 4x+4).
    return obj.centre[0] * SUPERSAMPLE - 0.5, obj.centre[1] * SUPERSAMPLE - 0.5, obj.radius * SUPERSAMPLE


@lru_cache(maxsize=64)
def _outline_offsets(shape: str, radius: float, rotation: float, wobble_seed: int | None) -> np.ndarray | None:
    """The drawn outline around (0, 0) in canvas pixels, shape (P, 2), or None for a clean circle.

    Cached: placement tries many centres for one object, and the outline only moves.
    """
    if wobble_seed is None:
        clean = object_outline(shape, 0.0, 0.0, radius, rotation)
        return None if clean is None else np.asarray(clean)
    rng = np.random.default_rng(wobble_seed)
    if shape == "circle":
        rx, ry = radius * (1 + rng.uniform(-CIRCLE_ASPECT, CIRCLE_ASPECT, size=2))
        clean = ellipse_polygon(0.0, 0.0, rx, ry, rng.uniform(0, np.pi), points=48)
    else:
        clean = object_outline(shape, 0.0, 0.0, radius, rotation)
    # Pieces about a fifth of the radius long: a few per edge, as a hand draws them.
    return np.asarray(hand_drawn(clean, (0.0, 0.0), rng, step=0.2 * radius, wobble=WOBBLE, corner_jitter=CORNER_JITTER))


def _outline_points(obj: SceneObject, dx: float = 0.0, dy: float = 0.0) -> list[float] | None:
    """``obj``'s drawn outline as Pillow's flat [x0, y0, x1, y1, ...], moved by (-dx, -dy); None for a clean circle."""
    offsets = _outline_offsets(obj.shape, obj.radius * SUPERSAMPLE, obj.rotation, obj.wobble_seed)
    if offsets is None:
        return None
    cx, cy, _ = _canvas_geometry(obj)
    return (offsets + np.asarray([cx - dx, cy - dy])).ravel().tolist()


def _inner_radius(obj: SceneObject) -> float:
    """A disc of this radius (image pixels) around ``obj``'s centre lies inside it, whatever its rotation."""
    inner = SHAPE_INNER[obj.shape] * obj.radius
    if obj.wobble_seed is not None:
        inner = inner * HAND_INNER - 0.75 / SUPERSAMPLE
    return max(0.0, inner)


def _free_centres(
    image_size: int, extent: tuple[float, float, float, float], inner: float, placed: list[SceneObject], quadrant: int | None = None
) -> np.ndarray:
    """Flat indices of the pixels whose centre may take a new object's centre.

    The object (``extent`` from :func:`object_extent`) must stay a pixel off the border,
    and its inner disc (radius ``inner``) must not meet a ``placed`` object's: two discs
    that meet certainly overlap. The object's centre will be its pixel's centre moved by
    up to half a pixel on each axis, hence the margins. Only certain overlaps are ruled
    out here; the exact test comes after. With ``quadrant`` (0-3, row-major), only
    centres in that quarter of the image.
    """
    s = image_size
    left, top, right, bottom = extent
    centres = np.arange(s, dtype=np.float32) + 0.5  # pixel centres along an axis
    free = np.zeros((s, s), dtype=bool)
    free[int(np.ceil(1.5 - top)) : int(np.floor(s - 1.5 - bottom)), int(np.ceil(1.5 - left)) : int(np.floor(s - 1.5 - right))] = True
    if quadrant is not None:
        row, column = divmod(quadrant, 2)
        half = s // 2
        quarter = np.zeros((s, s), dtype=bool)
        quarter[row * half : (row + 1) * half, column * half : (column + 1) * half] = True
        free &= quarter
    for other in placed:
        apart = inner + _inner_radius(other) - np.sqrt(0.5)
        if apart > 0:
            dx2 = (centres - other.centre[0]) ** 2  # (S,)
            dy2 = (centres - other.centre[1]) ** 2  # (S,)
            free &= dy2[:, None] + dx2[None, :] >= apart**2
    return np.flatnonzero(free)


def object_extent(obj: SceneObject) -> tuple[float, float, float, float]:
    """How far ``obj``'s drawn shape reaches from its centre: (left, top, right, bottom) in image pixels.

    ``left`` and ``top`` are <= 0. Every pixel the shape touches lies within
    [centre + left - 0.25, centre + right + 0.25] on x (the same on y): a canvas pixel
    spans a quarter of an image pixel.
    """
    offsets = _outline_offsets(obj.shape, obj.radius * SUPERSAMPLE, obj.rotation, obj.wobble_seed)
    if offsets is None:
        return (-obj.radius, -obj.radius, obj.radius, obj.radius)
    # A vertex at canvas offset v lies at image offset v / SUPERSAMPLE (see _canvas_geometry).
    low, high = offsets.min(axis=0) / SUPERSAMPLE, offsets.max(axis=0) / SUPERSAMPLE
    return (float(low[0]), float(low[1]), float(high[0]), float(high[1]))


def _window(obj: SceneObject, image_size: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) in image pixels, x1 and y1 exclusive: a box that holds all of ``obj`` (and a pixel more)."""
    left, top, right, bottom = object_extent(obj)
    x0 = max(0, int(np.floor(obj.centre[0] + left)) - 1)
    y0 = max(0, int(np.floor(obj.centre[1] + top)) - 1)
    x1 = min(image_size, int(np.ceil(obj.centre[0] + right)) + 1)
    y1 = min(image_size, int(np.ceil(obj.centre[1] + bottom)) + 1)
    return x0, y0, x1, y1


def _window_coverage(obj: SceneObject, window: tuple[int, int, int, int]) -> Image.Image:
    """``obj``'s filled shape as a coverage mask (Pillow L) of ``window`` at canvas resolution."""
    k = SUPERSAMPLE
    x0, y0, x1, y1 = window
    dx, dy = k * x0, k * y0
    mask = Image.new("L", (k * (x1 - x0), k * (y1 - y0)), 0)
    pen = ImageDraw.Draw(mask)
    outline = _outline_points(obj, dx, dy)
    if outline is None:
        cx, cy, radius = _canvas_geometry(obj)
        pen.ellipse([cx - dx - radius, cy - dy - radius, cx - dx + radius, cy - dy + radius], fill=255)
    else:
        pen.polygon(outline, fill=255)
    return mask


def object_coverage(obj: SceneObject, image_size: int) -> Image.Image:
    """``obj``'s filled shape alone as a coverage mask (Pillow L) on the supersampled canvas.

    The canvas is (image_size * SUPERSAMPLE) pixels square; ``obj``'s centre and radius,
    in image pixels, are scaled up to it. ``downsample_alpha(mask_to_alpha(...)) >= 0.5``
    is the object's mask.
    """
    window = _window(obj, image_size)
    mask, _ = new_mask(image_size * SUPERSAMPLE)
    mask.paste(_window_coverage(obj, window), (SUPERSAMPLE * window[0], SUPERSAMPLE * window[1]))
    return mask


@dataclass
class _Footprint:
    """Where one object is: its window and its filled shape's coverage there.

    ``window`` is (x0, y0, x1, y1) in image pixels, x1 and y1 exclusive, holding the whole
    object; ``alpha`` (floats in [0, 1], shape (y1 - y0, x1 - x0)) is the filled shape's
    coverage of each image pixel of the window, from the supersampled canvas.
    Working in windows keeps rendering cheap: an object covers a small part of the image.
    """

    window: tuple[int, int, int, int]
    alpha: np.ndarray


def _footprint(obj: SceneObject, image_size: int, coverage: Image.Image | None = None) -> _Footprint:
    """``obj``'s window and filled coverage there (see :class:`_Footprint`); the same pixels as :func:`object_coverage`.

    ``coverage``: the window's canvas coverage, if the caller has drawn it already.
    """
    window = _window(obj, image_size)
    coverage = coverage if coverage is not None else _window_coverage(obj, window)
    return _Footprint(window, downsample_alpha(mask_to_alpha(coverage)))


def _touched(coverage: Image.Image) -> np.ndarray:
    """The image pixels (bool, window-sized) that a canvas-resolution coverage mask touches at all."""
    # Pillow's box reduction is many times faster than a numpy max over two strided axes;
    # one covered canvas pixel of 16 averages to 16 of 255, never to 0.
    return np.asarray(coverage.reduce(SUPERSAMPLE)) > 0


def _stroke_alpha(obj: SceneObject, window: tuple[int, int, int, int], pen_width: float) -> np.ndarray:
    """The coverage (``window``-sized, image pixels) of ``obj``'s outline, ``pen_width`` pixels wide inside its edge.

    A line twice as wide, centred on the edge, intersected with the filled shape: the
    stroke never leaves the shape's area.
    """
    k = SUPERSAMPLE
    x0, y0, x1, y1 = window
    points = _outline_points(obj, k * x0, k * y0)
    if points is None:
        cx, cy, radius = _canvas_geometry(obj)
        points = [v for xy in ellipse_polygon(cx - k * x0, cy - k * y0, radius, radius, points=96) for v in xy]
    line = Image.new("L", (k * (x1 - x0), k * (y1 - y0)), 0)
    # Two points past the start, so the line's round joint closes the outline there too.
    ImageDraw.Draw(line).line(points + points[:4], fill=255, width=max(1, round(2 * pen_width * k)), joint="curve")
    stroke = np.minimum(mask_to_alpha(line), mask_to_alpha(_window_coverage(obj, window)))
    return downsample_alpha(stroke)


def _grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """A bool mask (H, W) dilated by a (2 * pixels + 1)-square, same shape."""
    grown = mask.copy()
    for axis in (0, 1):
        step = grown.copy()
        for shift in range(1, pixels + 1):
            if axis == 0:
                step[shift:] |= grown[:-shift]
                step[:-shift] |= grown[shift:]
            else:
                step[:, shift:] |= grown[:, :-shift]
                step[:, :-shift] |= grown[:, shift:]
        grown = step
    return grown


def relation(a: SceneObject, b: SceneObject) -> str:
    """Where ``a`` is from ``b``: left/right when |dx| >= |dy|, else above/below (y grows down)."""
    dx = a.centre[0] - b.centre[0]
    dy = a.centre[1] - b.centre[1]
    if abs(dx) >= abs(dy):
        return "to the left of" if dx < 0 else "to the right of"
    return "above" if dy < 0 else "below"


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """The tight box (x0, y0, x1, y1) of a bool mask (H, W), x1 and y1 exclusive; zeros if empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    columns = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return (0, 0, 0, 0)
    return (int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1)


# ---------------------------------------------------------------------------- captions
def _phrase(objects: list[SceneObject], k: int) -> list[tuple[str, int | None]]:
    """``a SIZE COLOUR SHAPE`` for object ``k``, each word paired with what it grounds to."""
    obj = objects[k]
    return [("a", None), (obj.size, k), (obj.colour, k), (obj.shape, k)]


def _plain_words(text: str) -> list[tuple[str, int | None]]:
    """Words that name no object ("to the left of", "there is"), each paired with None."""
    return [(word, None) for word in text.split()]


def _listing(objects: list[SceneObject], order: list[int], noun: str) -> list[tuple[str, int | None]]:
    """``there are N NOUNs`` and the objects in ``order``, the last one after ``and``."""
    n = len(order)
    words = _plain_words(f"there is one {noun}" if n == 1 else f"there are {COUNT_WORDS[n - 1]} {noun}s")
    for position, k in enumerate(order):
        if n > 1 and position == n - 1:
            words.append(("and", None))
        words += _phrase(objects, k)
    return words


def scene_captions(objects: list[SceneObject]) -> tuple[list[str], list[list[int | None]]]:
    """The captions of a scene (canonical first) and, for each, the grounding of every word.

    ``objects`` are in painting order; captions name them left to right (see the module
    docstring for the grammar). Groundings index into ``objects``.
    """
    order = sorted(range(len(objects)), key=lambda k: (objects[k].centre[0], k))
    if len(order) == 1:
        canonical = _phrase(objects, order[0])
        tokens = [canonical, _plain_words("there is") + canonical]
    else:
        a, b = order[0], order[1]
        canonical = _phrase(objects, a) + _plain_words(relation(objects[a], objects[b])) + _phrase(objects, b)
        reversed_first = _phrase(objects, b) + _plain_words(relation(objects[b], objects[a])) + _phrase(objects, a)
        # Each later object is related to the one named just before it, referred to by its shape.
        rest: list[tuple[str, int | None]] = []
        for previous, k in pairwise(order[1:]):
            rest += (
                [("and", None)]
                + _phrase(objects, k)
                + _plain_words(relation(objects[k], objects[previous]))
                + [("the", None), (objects[previous].shape, previous)]
            )
        tokens = [canonical + rest, reversed_first + rest, _plain_words("there is") + canonical + rest]
    tokens += [_listing(objects, order, noun) for noun in GENERIC_NOUNS]
    captions = [" ".join(word for word, _ in words) for words in tokens]
    groundings = [[target for _, target in words] for words in tokens]
    return captions, groundings


# ---------------------------------------------------------------------------- painting
def _paint_shadow(canvas: np.ndarray, obj: SceneObject, footprint: _Footprint) -> None:
    """Darken ``canvas`` (S, S, 3) in place under ``obj``'s soft drop shadow (down and to the right)."""
    s = canvas.shape[0]
    x0, y0, x1, y1 = footprint.window
    offset = max(1, round(SHADOW_OFFSET * obj.radius))
    blur = SHADOW_BLUR * obj.radius
    spread = offset + int(np.ceil(3 * blur))
    sx0, sy0 = max(0, x0 - spread), max(0, y0 - spread)
    sx1, sy1 = min(s, x1 + spread), min(s, y1 + spread)
    shadow_mask = Image.new("L", (sx1 - sx0, sy1 - sy0), 0)
    shadow_mask.paste(Image.fromarray(np.round(footprint.alpha * 255).astype(np.uint8), "L"), (x0 - sx0, y0 - sy0))
    drop_shadow(canvas[sy0:sy1, sx0:sx1], shadow_mask, (offset, offset), blur, darkness=SHADOW_DARKNESS)


def paint_scene(
    objects: list[SceneObject],
    look: Look,
    image_size: int,
    degrade_image: bool = True,
    footprints: list[_Footprint] | None = None,
) -> Image.Image:
    """``objects`` painted in ``look`` on its background: a PIL RGB image (image_size square).

    Args:
        objects: placed objects (``SceneSample.objects``, or some of them: a scene drawn
            without some of its objects, e.g. its bare background with ``[]``).
        look: the scene's :class:`Look`.
        image_size: the image side in pixels (the world's ``image_size``).
        degrade_image: apply the look's blur and JPEG compression (False: the clean paint).
        footprints: the objects' footprints, if the caller has them (saves redrawing).
    """
    footprints = footprints if footprints is not None else [_footprint(o, image_size) for o in objects]
    canvas, _ = make_background(np.random.default_rng(look.background_seed), image_size, look.background)  # (S, S, 3)
    for obj, footprint in zip(objects, footprints):
        x0, y0, x1, y1 = footprint.window
        region = canvas[y0:y1, x0:x1]  # a view: compositing paints the canvas
        rgb = np.asarray(obj.rgb, dtype=np.float32)
        if look.style == "shaded":
            _paint_shadow(canvas, obj, footprint)
            h, w = y1 - y0, x1 - x0
            # shaded_fill evaluates at integer coordinates: pixel centres, so the centre moves by half a pixel.
            centre = (obj.centre[0] - 0.5 - x0, obj.centre[1] - 0.5 - y0)
            fill = shaded_fill(rgb, max(h, w), centre, obj.radius * SHAPE_EXTENT[obj.shape], strength=SHADING_STRENGTH)
            composite(region, fill[:h, :w], footprint.alpha)
        elif look.style == "outline":
            composite(region, rgb, _stroke_alpha(obj, footprint.window, look.pen_width))
        elif look.style in ("flat", "hand-drawn"):
            composite(region, rgb, footprint.alpha)
        else:
            raise ValueError(f"unknown style {look.style!r}; choose one of {STYLES}")
    image = Image.fromarray(np.round(np.clip(canvas, 0, 1) * 255).astype(np.uint8), "RGB")
    return degrade(image, look.blur, look.jpeg_quality) if degrade_image else image


class ScenesWorld(World):
    """1-4 coloured shapes in one of four styles on a plain or textured background, with masks, boxes and relational captions.

    Args:
        split: ``train``, ``val``, ``test``, ``heldout-combos`` or ``heldout-style``.
        size: number of samples; defaults to the split's default size.
        seed: the world's seed.
        image_size: side of the square image in pixels, a multiple of 8 and >= 32; shapes'
            coverage is measured at ``image_size * SUPERSAMPLE``.
    """

    name: ClassVar[str] = "scenes"
    render_version: ClassVar[int] = 2  # 2: styles, plain pages, 1-4 objects without overlap, shades, degradations
    splits: ClassVar[dict[str, int]] = {
        "train": 20000,
        "val": 1000,
        "test": 2000,
        "heldout-combos": 1000,
        "heldout-style": 1000,
    }

    def __init__(self, split: str = "train", size: int | None = None, seed: int = 0, image_size: int = 128):
        super().__init__(split=split, size=size, seed=seed)
        if image_size < 32 or image_size % 8 != 0:
            raise ValueError(f"image_size must be a multiple of 8 and at least 32, got {image_size}")
        self.image_size = int(image_size)

    # ------------------------------------------------------------------ what is in a scene
    def _draw_look(self, rng: np.random.Generator) -> Look:
        """The style, background and degradations, as the split allows (see the module docstring)."""
        if self.split == "heldout-style":
            style, backgrounds = "flat", HELDOUT_STYLE_BACKGROUND_PROBABILITIES
        else:
            style = STYLES[int(rng.choice(len(STYLES), p=TRAINING_STYLE_PROBABILITIES))]
            backgrounds = TRAINING_BACKGROUND_PROBABILITIES["flat" if style == "flat" else "other"]
        background = BACKGROUNDS[int(rng.choice(len(BACKGROUNDS), p=backgrounds))]
        background_seed = int(rng.integers(2**32))
        pen_width = float(rng.uniform(*PEN_WIDTH)) * self.image_size if style == "outline" else 0.0
        blur = 0.0
        if rng.random() < BLUR_PROBABILITY:
            blur = round(float(rng.uniform(*BLUR_SIGMA)) * self.image_size / 128, 3)
        jpeg_quality = int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1)) if rng.random() < JPEG_PROBABILITY else None
        return Look(style, background, background_seed, pen_width, blur, jpeg_quality)

    def _draw_combos(self, rng: np.random.Generator) -> list[tuple[str, str]]:
        """The (colour, shape) of each object, in painting order, as the split allows."""
        count = int(rng.choice(np.arange(1, MAX_OBJECTS + 1), p=OBJECT_COUNT_PROBABILITIES))
        if self.split != "heldout-combos":
            return [SEEN_COMBOS[rng.integers(len(SEEN_COMBOS))] for _ in range(count)]
        combos = [ALL_COMBOS[rng.integers(len(ALL_COMBOS))] for _ in range(count)]
        held = sorted(HELDOUT_COMBOS)
        # One slot, at a random depth, is certainly held out; the others may be anything.
        combos[int(rng.integers(count))] = held[rng.integers(len(held))]
        return combos

    def _place(
        self, rng: np.random.Generator, combos: list[tuple[str, str]], style: str
    ) -> tuple[list[SceneObject], list[_Footprint]]:
        """Objects placed without overlap (masks and boxes filled in), and their footprints.

        See the module docstring for the rule. Returns both lists in painting order.
        """
        s = self.image_size
        sizes = [SIZES[rng.integers(len(SIZES))] for _ in combos]
        within = rng.uniform(size=len(combos))  # where each radius lies in its size's range
        rotations = [float(rng.uniform(-MAX_ROTATION[shape], MAX_ROTATION[shape])) for _, shape in combos]
        wobble_seeds = [int(rng.integers(2**31)) if style == "hand-drawn" else None for _ in combos]
        shades = [tuple(float(v) for v in shade(colour, rng)) for colour, _ in combos]
        # The largest first: small objects fill the gaps that are left.
        order = sorted(range(len(combos)), key=lambda k: (-SHAPE_EXTENT[combos[k][1]] * SIZE_RANGES[sizes[k]][1], k))
        for attempt in range(LAYOUT_TRIES):
            shrink = 1.0 - attempt / LAYOUT_TRIES
            # A crowded scene that did not fit a few times gives each object a quarter of its own.
            quadrants = rng.permutation(4) if attempt >= QUADRANTS_AFTER and len(combos) >= 3 else None
            placed: dict[int, tuple[SceneObject, _Footprint]] = {}
            occupied = np.zeros((s, s), dtype=bool)  # pixels within MIN_GAP of a placed object
            for k in order:
                (colour, shape), size = combos[k], sizes[k]
                low, high = SIZE_RANGES[size]
                radius = s * (low + (high - low) * within[k] * shrink)
                obj = SceneObject(shape, colour, size, (0.0, 0.0), float(radius), rotations[k], rgb=shades[k], wobble_seed=wobble_seeds[k])
                # Centres drawn among the pixels left free (a pixel's centre plus a uniform offset
                # of +-0.5): uniform over the free area, with few rejections in a crowded scene.
                quadrant = None if quadrants is None else int(quadrants[len(placed)])
                free = _free_centres(s, object_extent(obj), _inner_radius(obj), [o for o, _ in placed.values()], quadrant)
                for _ in range(PLACEMENT_TRIES if free.size else 0):
                    y, x = divmod(int(free[rng.integers(free.size)]), s)
                    obj = SceneObject(shape, colour, size, (0.0, 0.0), float(radius), rotations[k], rgb=shades[k], wobble_seed=wobble_seeds[k])
                    obj.centre = (x + 0.5 + float(rng.uniform(-0.5, 0.5)), y + 0.5 + float(rng.uniform(-0.5, 0.5)))
                    x0, y0, x1, y1 = window = _window(obj, s)
                    coverage = _window_coverage(obj, window)
                    touched = _touched(coverage)
                    if not (occupied[y0:y1, x0:x1] & touched).any():
                        break
                else:
                    break  # no room left for this object in this layout: start over with smaller radii
                placed[k] = (obj, _footprint(obj, s, coverage))
                gx0, gy0 = max(0, x0 - MIN_GAP), max(0, y0 - MIN_GAP)
                gx1, gy1 = min(s, x1 + MIN_GAP), min(s, y1 + MIN_GAP)
                grown = np.zeros((gy1 - gy0, gx1 - gx0), dtype=bool)
                grown[y0 - gy0 : y1 - gy0, x0 - gx0 : x1 - gx0] = touched
                occupied[gy0:gy1, gx0:gx1] |= _grow(grown, MIN_GAP)
            if len(placed) == len(combos):
                objects, footprints = [], []
                for k in range(len(combos)):
                    obj, footprint = placed[k]
                    obj.mask = np.zeros((s, s), dtype=bool)
                    x0, y0, x1, y1 = footprint.window
                    obj.mask[y0:y1, x0:x1] = footprint.alpha >= COVERAGE_THRESHOLD
                    obj.box = mask_box(obj.mask)
                    objects.append(obj)
                    footprints.append(footprint)
                return objects, footprints
        raise RuntimeError(f"could not place {len(combos)} objects without overlap")

    # ------------------------------------------------------------------ the Dataset
    def sample(self, index: int, render: bool = True) -> SceneSample:
        """Scene ``index``: image, objects with masks and boxes, captions, groundings and look.

        With ``render=False`` the image is None and everything else is the same (objects are
        still placed, as captions depend on where they are).
        """
        index = self._check_index(index)
        rng = self.rng(index)
        # Everything but the painting is drawn first, so render=False gives the same scene.
        look = self._draw_look(rng)
        combos = self._draw_combos(rng)
        objects, footprints = self._place(rng, combos, look.style)
        image = paint_scene(objects, look, self.image_size, footprints=footprints) if render else None
        captions, groundings = scene_captions(objects)
        attributes: dict[str, Any] = {
            "num_objects": len(objects),
            "style": look.style,
            "background": look.background,
            "blur": look.blur,
            "jpeg_quality": look.jpeg_quality or 0,
        }
        for k, obj in enumerate(objects):
            attributes[f"object{k}_shape"] = obj.shape
            attributes[f"object{k}_colour"] = obj.colour
            attributes[f"object{k}_size"] = obj.size
        return SceneSample(
            index=index,
            split=self.split,
            caption=captions[0],
            captions=captions,
            attributes=attributes,
            image=image,
            objects=objects,
            groundings=groundings,
            background=look.background,
            style=look.style,
            look=look,
        )

    def __getitem__(self, index: int) -> dict[str, Any]:
        """Scene ``index`` as tensors, padded to ``MAX_OBJECTS`` (4) objects (painting order).

        Returns "image" float (3, H, W) in [0, 1], "caption" str (canonical), "num_objects"
        int, "shapes"/"colours"/"sizes" long (4,) indices into SHAPES/COLOURS/SIZES with -1
        padding, "masks" bool (4, H, W) and "boxes" float (4, 4) (x0, y0, x1, y1), zero-padded.
        """
        scene = self.sample(index)
        s = self.image_size
        shapes = torch.full((MAX_OBJECTS,), -1, dtype=torch.long)
        colours = torch.full((MAX_OBJECTS,), -1, dtype=torch.long)
        sizes = torch.full((MAX_OBJECTS,), -1, dtype=torch.long)
        masks = torch.zeros((MAX_OBJECTS, s, s), dtype=torch.bool)
        boxes = torch.zeros((MAX_OBJECTS, 4), dtype=torch.float32)
        for k, obj in enumerate(scene.objects):
            shapes[k] = SHAPES.index(obj.shape)
            colours[k] = COLOURS.index(obj.colour)
            sizes[k] = SIZES.index(obj.size)
            masks[k] = torch.from_numpy(obj.mask)
            boxes[k] = torch.tensor(obj.box, dtype=torch.float32)
        return {
            "image": image_to_tensor(scene.image),
            "caption": scene.caption,
            "num_objects": len(scene.objects),
            "shapes": shapes,
            "colours": colours,
            "sizes": sizes,
            "masks": masks,
            "boxes": boxes,
        }

    def preview(self, n: int = 16, columns: int | None = None, scale: int = 2, style: str | None = None):
        """A grid of the first ``n`` samples with their captions, as a PIL image.

        With ``style``, the first ``n`` scenes of the split painted in that style.
        """
        if style is not None and style not in STYLES:
            raise ValueError(f"unknown style {style!r}; choose one of {STYLES}")
        chosen = []
        for i in range(self.size):
            if len(chosen) == n:
                break
            if style is None or self._draw_look(self.rng(i)).style == style:  # the look is drawn first
                chosen.append(i)
        if not chosen:
            raise ValueError(f"the {self.split} split draws no {style} scenes")
        scenes = [self.sample(i) for i in chosen]
        # Six lines: a four-object caption runs to about thirty words.
        return make_image_grid([s.image for s in scenes], [s.caption for s in scenes], columns=columns, scale=scale, caption_lines=6)

    def describe(self) -> dict[str, Any]:
        """Vocabulary, held-out sets, looks, caption grammar and placement rule."""
        return {
            **super().describe(),
            "image_size": self.image_size,
            "shapes": list(SHAPES),
            "colours": list(COLOURS),
            "sizes": {
                name: f"radius {low:.1%}-{high:.1%} of the side" for name, (low, high) in SIZE_RANGES.items()
            },
            "size_rule": f"small below {SIZE_THRESHOLD:.2%} of the side, large above; no radius in the gap between",
            "objects_per_scene": dict(zip(range(1, MAX_OBJECTS + 1), OBJECT_COUNT_PROBABILITIES)),
            "styles": list(STYLES),
            "backgrounds": list(BACKGROUNDS),
            "heldout_combos": sorted(f"{c} {s}" for c, s in HELDOUT_COMBOS),
            "heldout_style": f"flat fill on a plain background ({', '.join(PLAIN_BACKGROUNDS)}); never in the other splits",
            "degradations": (
                f"blur sigma {BLUR_SIGMA[0]}-{BLUR_SIGMA[1]} px with p={BLUR_PROBABILITY}, "
                f"then JPEG quality {JPEG_QUALITY[0]}-{JPEG_QUALITY[1]} with p={JPEG_PROBABILITY}"
            ),
            "caption_grammar": (
                "objects named left to right as 'a SIZE COLOUR SHAPE'; the first is related to "
                "the second ('to the left of'/'to the right of' when |dx| >= |dy|, else "
                "'above'/'below'), and each later one is added as 'and a SIZE COLOUR SHAPE REL the SHAPE' "
                "relative to the one named before it; paraphrases reverse the first relation, prefix "
                "'there is', or count the objects with a generic noun ('there are three shapes a ...')"
            ),
            "placement": (
                f"fully inside the image, no overlap: any two objects' touched pixels are at least "
                f"{MIN_GAP} pixels apart; masks are the filled shapes' pixels with coverage >= {COVERAGE_THRESHOLD}"
            ),
        }
