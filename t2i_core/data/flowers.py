"""The Flowers world: one flower per image, captions that name its parts in varied order.

Each flower has six attributes, all ground truth:

==============  ==========================================================
petal_colour    one of ``FLOWER_COLOURS`` (8 named colours)
stem_colour     one of ``FLOWER_COLOURS``, never the petal colour; the
                leaves share it
centre_colour   one of ``CENTRE_COLOURS``, never the petal colour
petal_shape     ``round`` or ``pointed``
petal_count     5 or 8
size            ``small`` or ``large`` (radius of the flower head)
==============  ==========================================================

Caption grammar
---------------
A caption is one of ``TEMPLATES`` with the attribute words filled in. Every template
names the petal colour and the stem colour; some also name the size, the petal count
and shape, or the centre colour. The templates name the two colours in both orders
("a red flower with a yellow stem", "the stem is yellow and the petals are red"), so
that only a text encoder that reads word order can tell which colour goes where: the
average of word vectors of "a red flower with a yellow stem" and of "a yellow flower
with a red stem" is the same vector.

A captioner learns one phrasing, ``CAPTIONER_TEMPLATE`` ("a red flower with a yellow
stem"), a function of the flower alone; :func:`read_colour_roles` reads the petal and the
stem colour back out of any template's caption.

Held out
--------
- ``HELDOUT_PAIRS``: eight (petal, stem) colour pairs never seen in training, each in
  one order only, so its swapped twin stays in training; every colour appears once as a
  held-out petal and once as a held-out stem. Split ``heldout-pairs`` holds them (with
  seen templates): a test of compositional generalisation.
- ``TEMPLATES`` marked ``heldout``: three phrasings never seen in training. Split
  ``heldout-templates`` uses only those (with seen pairs): a test of paraphrase.

``train``, ``val`` and ``test`` draw from the 48 seen pairs and the 13 seen templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from .palette import jitter_colour
from .rendering import (
    SUPERSAMPLE,
    composite,
    downsample,
    drop_shadow,
    make_background,
    mask_to_alpha,
    new_mask,
    shaded_fill,
)
from .world import Sample, World, image_to_tensor

FLOWER_COLOURS: tuple[str, ...] = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "white")
CENTRE_COLOURS: tuple[str, ...] = ("yellow", "brown", "black")
PETAL_SHAPES: tuple[str, ...] = ("round", "pointed")
PETAL_COUNTS: tuple[int, ...] = (5, 8)
SIZES: tuple[str, ...] = ("small", "large")
COUNT_WORDS = {5: "five", 8: "eight"}

# Categorical attribute -> its values, in label-index order (the order classifiers use).
ATTRIBUTE_VALUES: dict[str, tuple] = {
    "petal_colour": FLOWER_COLOURS,
    "stem_colour": FLOWER_COLOURS,
    "centre_colour": CENTRE_COLOURS,
    "petal_shape": PETAL_SHAPES,
    "petal_count": PETAL_COUNTS,
    "size": SIZES,
}

# (petal, stem) pairs held out of training, each in one order only.
HELDOUT_PAIRS: frozenset[tuple[str, str]] = frozenset(
    {
        ("red", "blue"),
        ("yellow", "purple"),
        ("white", "green"),
        ("orange", "pink"),
        ("blue", "yellow"),
        ("pink", "white"),
        ("green", "orange"),
        ("purple", "red"),
    }
)
ALL_PAIRS: tuple[tuple[str, str], ...] = tuple(
    (p, s) for p in FLOWER_COLOURS for s in FLOWER_COLOURS if p != s
)
SEEN_PAIRS: tuple[tuple[str, str], ...] = tuple(p for p in ALL_PAIRS if p not in HELDOUT_PAIRS)


_A_BEFORE_VOWEL = re.compile(r"\ba (?=[aeiou])")


@dataclass(frozen=True)
class CaptionTemplate:
    """A caption pattern. Slots: {petal} {stem} {centre} {shape} {count} {size}."""

    name: str
    text: str
    heldout: bool = False

    def fill(self, attributes: dict[str, Any]) -> str:
        """The caption for a flower with ``attributes`` ("an" before a vowel: "an orange stem")."""
        text = self.text.format(
            petal=attributes["petal_colour"],
            stem=attributes["stem_colour"],
            centre=attributes["centre_colour"],
            shape=attributes["petal_shape"],
            count=COUNT_WORDS[attributes["petal_count"]],
            size=attributes["size"],
        )
        return _A_BEFORE_VOWEL.sub("an ", text)

    @property
    def petal_first(self) -> bool:
        """Whether the petal colour is named before the stem colour."""
        return self.text.index("{petal}") < self.text.index("{stem}")


TEMPLATES: tuple[CaptionTemplate, ...] = (
    CaptionTemplate("petal-flower-stem", "a {petal} flower with a {stem} stem"),
    CaptionTemplate("has-petals-stem", "this flower has {petal} petals and a {stem} stem"),
    CaptionTemplate("has-stem-petals", "this flower has a {stem} stem and {petal} petals"),
    CaptionTemplate("stem-is-petals-are", "the stem is {stem} and the petals are {petal}"),
    CaptionTemplate("petals-are-stem-is", "the petals are {petal} and the stem is {stem}"),
    CaptionTemplate("petals-on-stem", "a flower with {petal} petals on a {stem} stem"),
    CaptionTemplate("on-stem-sits", "on a {stem} stem sits a {petal} flower"),
    CaptionTemplate("stem-holds", "a {stem} stem holds up {petal} petals"),
    CaptionTemplate("size-count-shape", "a {size} {petal} flower with {count} {shape} petals and a {stem} stem"),
    CaptionTemplate("stem-with-bloom", "a {stem} stem with a {size} {petal} bloom"),
    CaptionTemplate("centre", "this {petal} flower has a {centre} centre and a {stem} stem"),
    CaptionTemplate("count-around-centre", "{count} {petal} petals around a {centre} centre on a {stem} stem"),
    CaptionTemplate("stem-leaves", "a {stem} stem and leaves below a {petal} flower"),
    # Held out: phrasings never seen in training, to test paraphrase.
    CaptionTemplate("whose-petals", "a flower whose petals are {petal} and whose stem is {stem}", heldout=True),
    CaptionTemplate("colour-of-stem", "{stem} is the colour of the stem and {petal} is the colour of the petals", heldout=True),
    CaptionTemplate("petals-sit-on", "the {petal} petals of this flower sit on a {stem} stem", heldout=True),
)
TEMPLATES_BY_NAME = {t.name: t for t in TEMPLATES}
SEEN_TEMPLATES = tuple(t for t in TEMPLATES if not t.heldout)
HELDOUT_TEMPLATES = tuple(t for t in TEMPLATES if t.heldout)


# The phrasing a captioner learns for a flower: the one template that is a function of the
# flower's petal and stem colours alone, so it can be learned exactly (the others are drawn at random).
CAPTIONER_TEMPLATE = TEMPLATES_BY_NAME["petal-flower-stem"]


def captioner_caption(attributes: dict[str, Any]) -> str:
    """The caption a captioner is trained to write for a flower: "a red flower with a yellow stem"."""
    return CAPTIONER_TEMPLATE.fill(attributes)


# Words that a colour directly before them gives to the petals ("a red flower") or the stem.
PETAL_NOUNS = frozenset({"flower", "flowers", "petal", "petals", "bloom", "blossom"})
STEM_NOUNS = frozenset({"stem", "stems"})


def read_colour_roles(caption: str) -> dict[str, str | None]:
    """The petal and the stem colour a caption states, by role: ``{"petal_colour": ..., "stem_colour": ...}``.

    A colour word (``FLOWER_COLOURS``) belongs to the petals or the stem when it comes
    directly before a petal noun ("a red flower", "red petals", "a red bloom") or "stem",
    after "petals are" / "stem is", or as "red is the colour of the stem". That reads every
    phrasing of ``TEMPLATES``, held-out ones included; a colour anywhere else ("a yellow
    centre", "a red circle") is no one's. A role is None when the caption gives it no
    colour, or two different ones.
    """
    words = re.findall(r"[a-z]+", caption.lower())
    found: dict[str, set[str]] = {"petal_colour": set(), "stem_colour": set()}

    def role_of(noun: str) -> str | None:
        return "petal_colour" if noun in PETAL_NOUNS else "stem_colour" if noun in STEM_NOUNS else None

    for i, word in enumerate(words):
        if word not in FLOWER_COLOURS:
            continue
        after, before = words[i + 1 : i + 7], words[max(0, i - 2) : i]
        role = role_of(after[0]) if after else None  # "a red flower", "a yellow stem"
        if role is None and len(before) == 2 and before[1] in ("is", "are"):  # "the petals are red"
            role = role_of(before[0])
        if role is None and after[:4] in (["is", "the", "colour", "of"], ["is", "the", "color", "of"]) and len(after) == 6:
            role = role_of(after[5])  # "red is the colour of the petals"
        if role is not None:
            found[role].add(word)
    return {role: colours.pop() if len(colours) == 1 else None for role, colours in found.items()}


# A petal count as a caption may write it: the template's word ("five") or the digits ("5").
_COUNTS_WRITTEN = {word: n for n, word in COUNT_WORDS.items()} | {str(n): n for n in PETAL_COUNTS}
_STATED_PATTERNS = {
    "size": re.compile(r"\b(" + "|".join(SIZES) + r")\b"),
    "petal_shape": re.compile(r"\b(" + "|".join(PETAL_SHAPES) + r")\b"),
    "petal_count": re.compile(r"\b(" + "|".join(_COUNTS_WRITTEN) + r")\b(?=(?:\s+[a-z]+)?\s+petals?\b)"),
    "centre_colour": re.compile(r"\b(" + "|".join(CENTRE_COLOURS) + r")\s+(?:centre|center)\b"),
}


def read_stated_attributes(caption: str) -> dict[str, Any]:
    """Every attribute a caption states, by name: the colours in their roles (:func:`read_colour_roles`),
    the size ("small"/"large"), the petal shape ("round"/"pointed"), the petal count ("five"/"eight"
    or 5/8 before "petals") and the centre colour ("a brown centre"/"center").

    Only what the caption states is returned: ``read_stated_attributes("a red flower")`` is
    ``{"petal_colour": "red"}``. A word stated twice with two different values ("small ... large")
    leaves that attribute out, as :func:`read_colour_roles` does for colours.
    """
    text = caption.lower()
    stated: dict[str, Any] = {role: colour for role, colour in read_colour_roles(text).items() if colour is not None}
    for attribute, pattern in _STATED_PATTERNS.items():
        values = {match.group(1) for match in pattern.finditer(text)}
        if len(values) == 1:
            value = values.pop()
            stated[attribute] = _COUNTS_WRITTEN[value] if attribute == "petal_count" else value
    return stated


def swap_colours(attributes: dict[str, Any]) -> dict[str, Any]:
    """The same flower with petal and stem colours exchanged: the order-swapped twin."""
    swapped = dict(attributes)
    swapped["petal_colour"], swapped["stem_colour"] = attributes["stem_colour"], attributes["petal_colour"]
    return swapped


_COLOUR_WORD = re.compile(r"\b(" + "|".join(FLOWER_COLOURS) + r")\b", re.IGNORECASE)


def swap_colour_words(text: str) -> str:
    """``text`` with its first two different colour words exchanged: the order-swapped twin.

    "a red flower with a yellow stem" -> "a yellow flower with a red stem". The case of
    each word's first letter is kept, and "a"/"an" before a swapped word is fixed.
    Raises ValueError when the text names fewer than two different colours.
    """
    words = [m for m in _COLOUR_WORD.finditer(text)]
    first = words[0] if words else None
    second = next((m for m in words if first and m.group(1).lower() != first.group(1).lower()), None)
    if first is None or second is None:
        raise ValueError(f"name two different colours ({', '.join(FLOWER_COLOURS)}) to swap them")

    def recased(word: str, like: str) -> str:
        return word[0].upper() + word[1:] if like[0].isupper() else word

    a, b = first.group(1).lower(), second.group(1).lower()
    swapped = (text[: first.start()] + recased(b, first.group(1)) + text[first.end() : second.start()]
               + recased(a, second.group(1)) + text[second.end() :])
    swapped = re.sub(r"\b([Aa])n (?=(?:red|yellow|green|blue|purple|pink|white)\b)", r"\1 ", swapped)
    return re.sub(r"\b([Aa]) (?=orange\b)", r"\1n ", swapped)


@dataclass
class FlowerSample(Sample):
    """A rendered flower: ``image`` (PIL RGB), the template its ``caption`` came from, and
    ``swapped_caption``, the same template with petal and stem colours exchanged."""

    image: Image.Image | None = None
    template: str = ""
    swapped_caption: str = ""
    templates: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- rendering
def _bezier(p0, p1, p2, steps: int = 24) -> np.ndarray:
    """Points on the quadratic Bezier curve p0 -> p2 pulled towards p1, shape (steps, 2)."""
    t = np.linspace(0, 1, steps)[:, None]
    return (1 - t) ** 2 * np.asarray(p0) + 2 * (1 - t) * t * np.asarray(p1) + t**2 * np.asarray(p2)


def _petal_outline(cx, cy, angle, inner, outer, half_width, shape: str, steps: int = 20) -> list[tuple[float, float]]:
    """The outline of one petal from radius ``inner`` to ``outer`` along ``angle``.

    A round petal has a blunt, elliptical tip; a pointed petal narrows to a sharp tip.
    """
    t = np.linspace(0, 1, steps)
    if shape == "round":
        width = half_width * np.sqrt(np.clip(np.sin(np.pi * t), 0, 1))
    else:
        width = half_width * np.sin(np.pi * t**0.75) * (1 - 0.15 * t)
    along = inner + (outer - inner) * t
    direction = np.array([np.cos(angle), np.sin(angle)])
    normal = np.array([-direction[1], direction[0]])
    left = [(cx + a * direction[0] + w * normal[0], cy + a * direction[1] + w * normal[1]) for a, w in zip(along, width)]
    right = [(cx + a * direction[0] - w * normal[0], cy + a * direction[1] - w * normal[1]) for a, w in zip(along, width)]
    return left + right[::-1]


def _leaf_outline(x, y, angle, length, width, steps: int = 14) -> list[tuple[float, float]]:
    """A lens-shaped leaf starting at (x, y) and pointing along ``angle``."""
    t = np.linspace(0, 1, steps)
    half = width * np.sin(np.pi * t)
    direction = np.array([np.cos(angle), np.sin(angle)])
    normal = np.array([-direction[1], direction[0]])
    along = length * t
    left = [(x + a * direction[0] + w * normal[0], y + a * direction[1] + w * normal[1]) for a, w in zip(along, half)]
    right = [(x + a * direction[0] - w * normal[0], y + a * direction[1] - w * normal[1]) for a, w in zip(along, half)]
    return left + right[::-1]


def render_flower(attributes: dict[str, Any], rng: np.random.Generator, image_size: int = 64) -> tuple[Image.Image, str]:
    """Draw a flower with the given attributes; returns the image and its background kind.

    Args:
        attributes: the six attributes of the module docstring.
        rng: source of everything not fixed by the attributes (pose, jitter, background).
        image_size: output side in pixels; drawn at ``SUPERSAMPLE`` times that and reduced.
    """
    S = image_size * SUPERSAMPLE
    canvas, background = make_background(rng, S)  # (S, S, 3)

    large = attributes["size"] == "large"
    radius = S * (rng.uniform(0.27, 0.31) if large else rng.uniform(0.17, 0.20))
    cx = S * 0.5 + rng.uniform(-0.08, 0.08) * S
    cy = S * (0.36 if large else 0.40) + rng.uniform(-0.04, 0.04) * S

    # Stem: a curved band from below the frame to the flower head, with one or two leaves.
    stem_rgb = jitter_colour(attributes["stem_colour"], rng)
    base = (S * 0.5 + rng.uniform(-0.12, 0.12) * S, S * 1.02)
    bend = ((base[0] + cx) / 2 + rng.uniform(-0.15, 0.15) * S, (base[1] + cy) / 2)
    path = _bezier(base, bend, (cx, cy))
    stem_mask, pen = new_mask(S)
    stem_width = int(S * (0.055 if large else 0.045))
    pen.line([tuple(p) for p in path], fill=255, width=stem_width, joint="curve")
    for k in range(int(rng.integers(1, 3))):
        t = rng.uniform(0.35, 0.7)
        point = path[int(t * (len(path) - 1))]
        side = 1 if (k == 0) == (rng.random() < 0.5) else -1
        angle = -np.pi / 2 + side * rng.uniform(0.7, 1.2)
        pen.polygon(_leaf_outline(point[0], point[1], angle, S * rng.uniform(0.16, 0.22), S * rng.uniform(0.045, 0.06)), fill=255)
    stem_alpha = mask_to_alpha(stem_mask)
    drop_shadow(canvas, stem_mask, (int(S * 0.02), int(S * 0.02)), blur=S * 0.01, darkness=0.25)
    composite(canvas, shaded_fill(stem_rgb, S, (cx, S * 0.7), S * 0.35, light=(-0.6, 0.0), strength=0.3), stem_alpha)

    # Petals: a ring of petals around the centre, drawn as one mask and shaded from the middle.
    count = attributes["petal_count"]
    rotation = rng.uniform(0, 2 * np.pi)
    inner, outer = radius * 0.12, radius
    half_width = radius * (0.30 if count == 5 else 0.19) * (1.15 if attributes["petal_shape"] == "round" else 1.0)
    petal_mask, pen = new_mask(S)
    outlines = []
    for k in range(count):
        angle = rotation + 2 * np.pi * k / count + rng.uniform(-0.05, 0.05)
        outline = _petal_outline(cx, cy, angle, inner, outer * rng.uniform(0.93, 1.0), half_width, attributes["petal_shape"])
        pen.polygon(outline, fill=255)
        outlines.append(outline)
    drop_shadow(canvas, petal_mask, (int(S * 0.025), int(S * 0.03)), blur=S * 0.015, darkness=0.3)
    petal_rgb = jitter_colour(attributes["petal_colour"], rng)
    composite(canvas, shaded_fill(petal_rgb, S, (cx, cy), radius, light=(-0.35, -0.45), strength=0.28), mask_to_alpha(petal_mask))
    # Thin darker edges so neighbouring petals of one colour stay countable.
    edge_mask, pen = new_mask(S)
    for outline in outlines:
        pen.line(outline + [outline[0]], fill=255, width=max(2, S // 110))
    composite(canvas, petal_rgb * 0.62, mask_to_alpha(edge_mask) * 0.55)

    # Centre: a shaded disc with a few seeds.
    centre_rgb = jitter_colour(attributes["centre_colour"], rng)
    centre_radius = radius * 0.26
    centre_mask, pen = new_mask(S)
    pen.ellipse([cx - centre_radius, cy - centre_radius, cx + centre_radius, cy + centre_radius], fill=255)
    composite(canvas, shaded_fill(centre_rgb, S, (cx, cy), centre_radius, strength=0.4), mask_to_alpha(centre_mask))
    seeds_mask, pen = new_mask(S)
    for _ in range(7):
        r, a = centre_radius * 0.6 * np.sqrt(rng.random()), rng.uniform(0, 2 * np.pi)
        sx, sy, dot = cx + r * np.cos(a), cy + r * np.sin(a), centre_radius * 0.12
        pen.ellipse([sx - dot, sy - dot, sx + dot, sy + dot], fill=255)
    composite(canvas, centre_rgb * 0.55, mask_to_alpha(seeds_mask) * 0.7)

    return downsample(canvas), background


# -------------------------------------------------------------------------------- world
class FlowersWorld(World):
    """Flowers for text-to-image, rendered at ``image_size`` (64 by default).

    ``world[i]`` gives a dict for training: ``image`` (3, H, W) floats in [0, 1],
    ``caption`` (str) and ``labels`` (attribute -> index into ``ATTRIBUTE_VALUES``).
    ``world.sample(i)`` gives a :class:`FlowerSample` with the PIL image, every caption
    the split allows for this flower, and the attributes by name.
    """

    name = "flowers"
    splits = {"train": 20000, "val": 1000, "test": 2000, "heldout-pairs": 1000, "heldout-templates": 1000}

    def __init__(self, split: str = "train", size: int | None = None, seed: int = 0, image_size: int = 64):
        super().__init__(split=split, size=size, seed=seed)
        if image_size < 16 or image_size % 4:
            raise ValueError(f"image_size must be a multiple of 4 and at least 16, got {image_size}")
        self.image_size = image_size
        self.pairs = tuple(sorted(HELDOUT_PAIRS)) if split == "heldout-pairs" else SEEN_PAIRS
        self.templates = HELDOUT_TEMPLATES if split == "heldout-templates" else SEEN_TEMPLATES

    def draw_attributes(self, rng: np.random.Generator) -> dict[str, Any]:
        """A random flower allowed in this split."""
        petal, stem = self.pairs[rng.integers(len(self.pairs))]
        centres = [c for c in CENTRE_COLOURS if c != petal]
        return {
            "petal_colour": petal,
            "stem_colour": stem,
            "centre_colour": centres[rng.integers(len(centres))],
            "petal_shape": PETAL_SHAPES[rng.integers(len(PETAL_SHAPES))],
            "petal_count": PETAL_COUNTS[rng.integers(len(PETAL_COUNTS))],
            "size": SIZES[rng.integers(len(SIZES))],
        }

    def sample(self, index: int, render: bool = True) -> FlowerSample:
        index = self._check_index(index)
        rng = self.rng(index)
        attributes = self.draw_attributes(rng)
        chosen = self.templates[rng.integers(len(self.templates))]
        image = None
        if render:
            image, background = render_flower(attributes, rng, self.image_size)
            attributes["background"] = background
        return FlowerSample(
            index=index,
            split=self.split,
            caption=chosen.fill(attributes),
            captions=[t.fill(attributes) for t in self.templates],
            attributes=attributes,
            image=image,
            template=chosen.name,
            swapped_caption=chosen.fill(swap_colours(attributes)),
            templates=[t.name for t in self.templates],
        )

    def __getitem__(self, index: int) -> dict[str, Any]:
        s = self.sample(index)
        labels = {key: values.index(s.attributes[key]) for key, values in ATTRIBUTE_VALUES.items()}
        return {"image": image_to_tensor(s.image), "caption": s.caption, "labels": labels}

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "splits": dict(self.splits),
            "image_size": self.image_size,
            "attributes": {k: list(v) for k, v in ATTRIBUTE_VALUES.items()},
            "seen_pairs": len(SEEN_PAIRS),
            "heldout_pairs": sorted(HELDOUT_PAIRS),
            "templates": {t.name: t.text for t in SEEN_TEMPLATES},
            "heldout_templates": {t.name: t.text for t in HELDOUT_TEMPLATES},
        }

