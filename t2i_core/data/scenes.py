"""Scenes: 128x128 pictures of 1 to 3 coloured shapes, with masks, boxes and relational captions.

Each scene is a muted background (plain, gradient, noise or texture) with one to three
objects. An object has a shape (circle, square, triangle, star, diamond), a colour (red,
orange, yellow, green, blue, purple, pink) and a size: small (radius 11% of the image
side) or large (19%), each +-1%; polygons reach a little further than the circle so all
shapes of a size look about as big. Squares, triangles and diamonds (a narrow rhombus
standing on a point) turn by at most 15 degrees, so a square never reads as a diamond;
stars turn freely. Each object's (colour, shape) is drawn uniformly from the combinations
its split allows. Objects are painted in order, later over earlier, each with a soft drop
shadow and a lit, rounded shading, on a canvas ``SUPERSAMPLE`` times the image size that
is then box-filtered, so every edge is anti-aliased.

Placement. Every object lies fully inside the image. Positions are drawn by rejection
sampling: a new object is accepted only if, after it is painted, every earlier object
keeps a visible mask of at least ``MIN_VISIBLE_FRACTION`` (80%) of the pixels of its own
unoccluded mask. Both masks are the image pixels where the object's coverage is >= 0.5
(coverage from the supersampled canvas, reduced with ``downsample_alpha``); the visible
one is after the later objects have covered it.

Captions. The canonical caption (``captions[0]``) is a function of the scene, so a
captioner can learn it exactly. Objects are named left to right by centre x, each as
``a SIZE COLOUR SHAPE``. The relation from object A to object B is ``to the left of`` /
``to the right of`` when ``|dx| >= |dy|`` (dx, dy = A's centre minus B's, y down), else
``above`` / ``below``. Grammar::

    1 object:  a SIZE COLOUR SHAPE
    2 objects: a SIZE COLOUR SHAPE REL a SIZE COLOUR SHAPE
    3 objects: a SIZE COLOUR SHAPE REL a SIZE COLOUR SHAPE and a SIZE COLOUR SHAPE REL the SHAPE

In the three-object form the third object is related to the second, which is referred
back to by its shape word alone (``the square``). Examples::

    a small red circle
    a small red circle to the left of a large blue square
    a small red circle to the left of a large blue square and a small green star above the square

Paraphrases (``captions[1:]``, all true of the scene): the first relation reversed
(``a large blue square to the right of a small red circle ...``) and ``there is`` before
the canonical caption. Lower case, no punctuation.

Groundings. For every caption and every whitespace-separated word, ``groundings`` gives
the index (into ``objects``, i.e. painting order) of the object a size, colour or shape
word names, ``None`` for every other word. The back-reference ``the square`` grounds its
shape word to the second-named object. This is the ground truth for asking whether a
captioner's attention looks at the object a word names.

Held-out combinations. ``HELDOUT_COMBOS`` holds five colour-shape pairs, one per shape and
each with a different colour, so every colour and every shape is still seen in training
with other partners. ``train``, ``val`` and ``test`` never contain them; every scene of
``heldout-combos`` contains at least one (its other objects may be anything).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from PIL import Image

from .palette import jitter_colour
from .rendering import (
    BACKGROUND_KINDS,
    SUPERSAMPLE,
    composite,
    downsample,
    downsample_alpha,
    drop_shadow,
    make_background,
    mask_to_alpha,
    new_mask,
    regular_polygon,
    shaded_fill,
    star_polygon,
)
from .world import Sample, World, image_to_tensor

SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star", "diamond")
# Saturated colours that stand out from the muted background tones; white, black, gray
# and brown are left out because they vanish on paper, charcoal or stone backgrounds.
COLOURS: tuple[str, ...] = ("red", "orange", "yellow", "green", "blue", "purple", "pink")
SIZES: tuple[str, ...] = ("small", "large")

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

MAX_OBJECTS = 3
# Probability of 1, 2 and 3 objects: mostly relational scenes.
OBJECT_COUNT_PROBABILITIES = (0.2, 0.35, 0.45)

# Size radius as a fraction of the image side, and its jitter (uniform, +-).
SIZE_RADIUS = {"small": 0.11, "large": 0.19}
SIZE_JITTER = 0.01

# Each shape's furthest point from its centre, in size radii. Polygons are drawn a little
# bigger than the circle so that all shapes of one size look about as big (similar area).
SHAPE_EXTENT = {"circle": 1.0, "square": 1.25, "triangle": 1.4, "star": 1.4, "diamond": 1.3}
DIAMOND_HALF_WIDTH = 0.8  # the diamond's half-width in size radii: a narrow rhombus, never a square
# Largest random rotation in radians, small enough that a square never looks like a diamond;
# the star's +-36 degrees covers every orientation of its 72-degree symmetry.
MAX_ROTATION = {"circle": 0.0, "square": 0.2, "triangle": 0.25, "star": np.pi / 5, "diamond": 0.15}

MIN_VISIBLE_FRACTION = 0.8
COVERAGE_THRESHOLD = 0.5  # a pixel belongs to an object's mask at this coverage or more
PLACEMENT_TRIES = 100  # candidate positions per object before the layout starts over
LAYOUT_TRIES = 100  # layouts before giving up (three objects fit at the first try almost always)

# Looks, in size radii (offset, blur) or fractions (darkness, shading).
SHADOW_OFFSET = 0.14
SHADOW_BLUR = 0.12
SHADOW_DARKNESS = 0.38
SHADING_STRENGTH = 0.3


@dataclass
class SceneObject:
    """One object of a scene and where it is.

    ``centre`` is (x, y) and ``radius`` the size radius, both in image pixels (x right,
    y down); ``rotation`` is in radians. ``mask`` is a bool array (image_size, image_size):
    the pixels where the object's coverage is >= 0.5 after later objects covered it.
    ``box`` is (x0, y0, x1, y1) in pixels, the tight box of ``mask`` with x1, y1 exclusive.
    """

    shape: str
    colour: str
    size: str
    centre: tuple[float, float]
    radius: float
    rotation: float
    mask: np.ndarray | None = field(default=None, repr=False)
    box: tuple[int, int, int, int] = (0, 0, 0, 0)


@dataclass
class SceneSample(Sample):
    """A scene: its image, its objects (in painting order) and per-word groundings.

    ``groundings[c][w]`` is the index into ``objects`` of the object that word ``w`` of
    ``captions[c]`` names (size, colour and shape words), or None.
    """

    image: Image.Image | None = None
    objects: list[SceneObject] = field(default_factory=list)
    groundings: list[list[int | None]] = field(default_factory=list)
    background: str = ""


def object_outline(
    shape: str, cx: float, cy: float, radius: float, rotation: float
) -> list[tuple[float, float]] | None:
    """The polygon of ``shape`` around (cx, cy) in canvas pixels, or None for a circle."""
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


def object_coverage(obj: SceneObject, image_size: int) -> Image.Image:
    """``obj`` alone as a coverage mask (Pillow L) on the supersampled canvas.

    The canvas is (image_size * SUPERSAMPLE) pixels square; ``obj``'s centre and radius,
    in image pixels, are scaled up to it. ``downsample_alpha(mask_to_alpha(...))`` gives
    the object's unoccluded per-pixel coverage.
    """
    canvas_size = image_size * SUPERSAMPLE
    # Pillow's pixel centres are at integer coordinates; image pixel x spans canvas [4x, 4x+4).
    cx = obj.centre[0] * SUPERSAMPLE - 0.5
    cy = obj.centre[1] * SUPERSAMPLE - 0.5
    radius = obj.radius * SUPERSAMPLE
    mask, pen = new_mask(canvas_size)
    outline = object_outline(obj.shape, cx, cy, radius, obj.rotation)
    if outline is None:
        pen.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=255)
    else:
        pen.polygon(outline, fill=255)
    return mask


@dataclass
class _Footprint:
    """Where one object is on the canvas: its window and its coverage there.

    ``window`` is (x0, y0, x1, y1) in image pixels, x1 and y1 exclusive, holding the whole
    object; ``mask`` (Pillow L) and ``alpha`` (floats in [0, 1], shape
    (SUPERSAMPLE * (y1 - y0), SUPERSAMPLE * (x1 - x0))) are the object's unoccluded
    coverage in that window at canvas resolution.
    Working in windows keeps rendering cheap: an object covers a small part of the canvas.
    """

    window: tuple[int, int, int, int]
    mask: Image.Image
    alpha: np.ndarray

    def cover(self, below: _Footprint, below_visible: np.ndarray) -> np.ndarray | None:
        """``below``'s visible coverage (in its window) after this footprint is painted over it.

        None when the windows do not meet, so callers can skip recounting ``below``'s pixels.
        """
        x0, y0 = max(self.window[0], below.window[0]), max(self.window[1], below.window[1])
        x1, y1 = min(self.window[2], below.window[2]), min(self.window[3], below.window[3])
        if x0 >= x1 or y0 >= y1:
            return None
        covered = below_visible.copy()
        k = SUPERSAMPLE
        bx, by = below.window[0], below.window[1]
        sx, sy = self.window[0], self.window[1]
        covered[k * (y0 - by) : k * (y1 - by), k * (x0 - bx) : k * (x1 - bx)] *= (
            1.0 - self.alpha[k * (y0 - sy) : k * (y1 - sy), k * (x0 - sx) : k * (x1 - sx)]
        )
        return covered


def _footprint(obj: SceneObject, image_size: int) -> _Footprint:
    """``obj``'s window and unoccluded coverage there (see :class:`_Footprint`)."""
    reach = SHAPE_EXTENT[obj.shape] * obj.radius + 1.0
    x0 = max(0, int(np.floor(obj.centre[0] - reach)))
    y0 = max(0, int(np.floor(obj.centre[1] - reach)))
    x1 = min(image_size, int(np.ceil(obj.centre[0] + reach)))
    y1 = min(image_size, int(np.ceil(obj.centre[1] + reach)))
    k = SUPERSAMPLE
    mask = object_coverage(obj, image_size).crop((k * x0, k * y0, k * x1, k * y1))
    return _Footprint((x0, y0, x1, y1), mask, mask_to_alpha(mask))


def _mask_pixels(alpha: np.ndarray) -> int:
    """How many image pixels a canvas-resolution coverage map covers by >= COVERAGE_THRESHOLD."""
    return int(np.count_nonzero(downsample_alpha(alpha) >= COVERAGE_THRESHOLD))


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


def _phrase(objects: list[SceneObject], k: int) -> list[tuple[str, int | None]]:
    """``a SIZE COLOUR SHAPE`` for object ``k``, each word paired with what it grounds to."""
    obj = objects[k]
    return [("a", None), (obj.size, k), (obj.colour, k), (obj.shape, k)]


def _relation_words(text: str) -> list[tuple[str, int | None]]:
    """Words that name no object ("to the left of", "there is"), each paired with None."""
    return [(word, None) for word in text.split()]


def scene_captions(objects: list[SceneObject]) -> tuple[list[str], list[list[int | None]]]:
    """The captions of a scene (canonical first) and, for each, the grounding of every word.

    ``objects`` are in painting order; captions name them left to right (see the module
    docstring for the grammar). Groundings index into ``objects``.
    """
    order = sorted(range(len(objects)), key=lambda k: objects[k].centre[0])
    if len(order) == 1:
        canonical = _phrase(objects, order[0])
        tokens = [canonical, _relation_words("there is") + canonical]
    else:
        a, b = order[0], order[1]
        canonical = _phrase(objects, a) + _relation_words(relation(objects[a], objects[b])) + _phrase(objects, b)
        reversed_first = _phrase(objects, b) + _relation_words(relation(objects[b], objects[a])) + _phrase(objects, a)
        if len(order) == 3:
            c = order[2]
            third = (
                [("and", None)]
                + _phrase(objects, c)
                + _relation_words(relation(objects[c], objects[b]))
                + [("the", None), (objects[b].shape, b)]
            )
            canonical = canonical + third
            reversed_first = reversed_first + third
        tokens = [canonical, reversed_first, _relation_words("there is") + canonical]
    captions = [" ".join(word for word, _ in words) for words in tokens]
    groundings = [[target for _, target in words] for words in tokens]
    return captions, groundings


class ScenesWorld(World):
    """1-3 coloured shapes on a muted background, with masks, boxes and relational captions.

    Args:
        split: ``train``, ``val``, ``test`` or ``heldout-combos``.
        size: number of samples; defaults to the split's default size.
        seed: the world's seed.
        image_size: side of the square image in pixels, a multiple of 8 and >= 32; scenes
            are painted at ``image_size * SUPERSAMPLE`` and reduced.
    """

    name: ClassVar[str] = "scenes"
    splits: ClassVar[dict[str, int]] = {"train": 20000, "val": 1000, "test": 2000, "heldout-combos": 1000}

    def __init__(self, split: str = "train", size: int | None = None, seed: int = 0, image_size: int = 128):
        super().__init__(split=split, size=size, seed=seed)
        if image_size < 32 or image_size % 8 != 0:
            raise ValueError(f"image_size must be a multiple of 8 and at least 32, got {image_size}")
        self.image_size = int(image_size)

    # ------------------------------------------------------------------ what is in a scene
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
        self, rng: np.random.Generator, combos: list[tuple[str, str]]
    ) -> tuple[list[SceneObject], list[_Footprint]]:
        """Objects placed by rejection sampling (masks and boxes filled in), and their footprints.

        See the module docstring for the rule. Returns both lists in painting order.
        """
        s = self.image_size
        sizes = [SIZES[rng.integers(len(SIZES))] for _ in combos]
        radii = [s * (SIZE_RADIUS[size] + rng.uniform(-SIZE_JITTER, SIZE_JITTER)) for size in sizes]
        rotations = [rng.uniform(-MAX_ROTATION[shape], MAX_ROTATION[shape]) for _, shape in combos]
        for _ in range(LAYOUT_TRIES):
            objects: list[SceneObject] = []
            footprints: list[_Footprint] = []
            visible: list[np.ndarray] = []  # each object's coverage after later objects, footprint-sized
            full_pixels: list[int] = []  # each object's unoccluded mask size, in image pixels
            for (colour, shape), size, radius, rotation in zip(combos, sizes, radii, rotations):
                # +1 pixel keeps anti-aliased edges off the border.
                reach = SHAPE_EXTENT[shape] * radius + 1.0
                for _ in range(PLACEMENT_TRIES):
                    centre = (float(rng.uniform(reach, s - reach)), float(rng.uniform(reach, s - reach)))
                    obj = SceneObject(shape, colour, size, centre, float(radius), float(rotation))
                    footprint = _footprint(obj, s)
                    covered = [footprint.cover(f, v) for f, v in zip(footprints, visible)]
                    if all(
                        c is None or _mask_pixels(c) >= MIN_VISIBLE_FRACTION * n
                        for c, n in zip(covered, full_pixels)
                    ):
                        break
                else:
                    break  # no room left for this object in this layout: start the layout over
                objects.append(obj)
                footprints.append(footprint)
                visible = [v if c is None else c for v, c in zip(visible, covered)] + [footprint.alpha]
                full_pixels.append(_mask_pixels(footprint.alpha))
            if len(objects) == len(combos):
                for obj, f, v in zip(objects, footprints, visible):
                    obj.mask = np.zeros((s, s), dtype=bool)
                    x0, y0, x1, y1 = f.window
                    obj.mask[y0:y1, x0:x1] = downsample_alpha(v) >= COVERAGE_THRESHOLD
                    obj.box = mask_box(obj.mask)
                return objects, footprints
        raise RuntimeError(f"could not place {len(combos)} objects without heavy overlap")

    def _paint(
        self, rng: np.random.Generator, background: str, objects: list[SceneObject], footprints: list[_Footprint]
    ) -> Image.Image:
        """The scene as a PIL RGB image (image_size square) on a ``background`` of that kind."""
        canvas_size = self.image_size * SUPERSAMPLE
        canvas, _ = make_background(rng, canvas_size, background)  # (canvas, canvas, 3)
        for obj, footprint in zip(objects, footprints):
            radius = obj.radius * SUPERSAMPLE
            x0, y0, x1, y1 = (SUPERSAMPLE * v for v in footprint.window)
            # The shadow falls down and to the right, away from shaded_fill's upper-left light.
            offset = max(1, int(round(SHADOW_OFFSET * radius)))
            blur = SHADOW_BLUR * radius
            spread = offset + int(np.ceil(3 * blur))
            sx1, sy1 = min(canvas_size, x1 + spread), min(canvas_size, y1 + spread)
            sx0, sy0 = max(0, x0 - spread), max(0, y0 - spread)
            shadow_mask = Image.new("L", (sx1 - sx0, sy1 - sy0), 0)
            shadow_mask.paste(footprint.mask, (x0 - sx0, y0 - sy0))
            drop_shadow(canvas[sy0:sy1, sx0:sx1], shadow_mask, (offset, offset), blur, darkness=SHADOW_DARKNESS)
            rgb = jitter_colour(obj.colour, rng)
            h, w = y1 - y0, x1 - x0
            centre = (obj.centre[0] * SUPERSAMPLE - x0, obj.centre[1] * SUPERSAMPLE - y0)
            fill = shaded_fill(rgb, max(h, w), centre, radius * SHAPE_EXTENT[obj.shape], strength=SHADING_STRENGTH)
            composite(canvas[y0:y1, x0:x1], fill[:h, :w], footprint.alpha)  # views: paints the canvas
        return downsample(canvas)

    # ------------------------------------------------------------------ the Dataset
    def sample(self, index: int, render: bool = True) -> SceneSample:
        """Scene ``index``: image, objects with masks and boxes, captions and groundings.

        With ``render=False`` the image is None and everything else is the same (objects are
        still placed, as captions depend on where they are): about a tenth of the time.
        """
        index = self._check_index(index)
        rng = self.rng(index)
        # Everything but the painting is drawn first, so render=False gives the same scene.
        background = BACKGROUND_KINDS[rng.integers(len(BACKGROUND_KINDS))]
        combos = self._draw_combos(rng)
        objects, footprints = self._place(rng, combos)
        image = self._paint(rng, background, objects, footprints) if render else None
        captions, groundings = scene_captions(objects)
        attributes: dict[str, Any] = {"num_objects": len(objects), "background": background}
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
            background=background,
        )

    def __getitem__(self, index: int) -> dict[str, Any]:
        """Scene ``index`` as tensors, padded to ``MAX_OBJECTS`` objects (painting order).

        Returns "image" float (3, H, W) in [0, 1], "caption" str (canonical), "num_objects"
        int, "shapes"/"colours"/"sizes" long (3,) indices into SHAPES/COLOURS/SIZES with -1
        padding, "masks" bool (3, H, W) and "boxes" float (3, 4) (x0, y0, x1, y1), zero-padded.
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

    def describe(self) -> dict[str, Any]:
        """Vocabulary, held-out combinations, caption grammar and placement rule."""
        return {
            **super().describe(),
            "image_size": self.image_size,
            "shapes": list(SHAPES),
            "colours": list(COLOURS),
            "sizes": {
                name: f"radius {fraction:.0%} +- {SIZE_JITTER:.0%} of the side" for name, fraction in SIZE_RADIUS.items()
            },
            "objects_per_scene": dict(zip(range(1, MAX_OBJECTS + 1), OBJECT_COUNT_PROBABILITIES)),
            "heldout_combos": sorted(f"{c} {s}" for c, s in HELDOUT_COMBOS),
            "caption_grammar": (
                "objects named left to right as 'a SIZE COLOUR SHAPE'; the first is related to "
                "the second ('to the left of'/'to the right of' when |dx| >= |dy|, else "
                "'above'/'below'), and a third is added as 'and a SIZE COLOUR SHAPE REL the SHAPE' "
                "relative to the second; paraphrases reverse the first relation or prefix 'there is'"
            ),
            "placement": (
                f"fully inside the image; rejection sampling keeps every object's visible mask "
                f"(pixels with coverage >= {COVERAGE_THRESHOLD} after later objects are painted) "
                f"at >= {MIN_VISIBLE_FRACTION:.0%} of its unoccluded mask's pixels"
            ),
        }

