"""Questions about Scenes, with answers read off each scene's ground truth.

Five kinds of question, each asked only when its answer is unambiguous in the scene:

- ``colour``: "what color is the circle?" The object is named by its shape, or by size
  and shape when two objects share the shape; skipped when even that does not single
  it out.
- ``shape``: "what shape is the red object?" Named by colour, or size and colour.
- ``count``: "how many squares are there?" Counts shapes, colours ("red objects") or
  both ("red squares"); 0 to 3.
- ``exist``: "is there a blue star?" Yes or no, half of each where the scene allows.
- ``position``: "what is left of the triangle?" The answer is the shape of the one object
  on that side of the reference object (named by its shape, which must be unique).
  Sides follow CLEVR: "left of" means a centre further left, whatever the vertical
  offset, by at least ``POSITION_MARGIN`` pixels; every other object must be at least
  that far on the other side, so no object is a borderline case.

Phrasings. Every kind has a few templates; the last one of each (``HELDOUT_TEMPLATES``)
is never used for training: it re-orders words the training templates use, so a model
can read it, and ``heldout-phrasings`` measures whether it generalises to it.

Splits. Questions name only (colour, shape) pairs the scene split can contain: train,
val and test scenes never show Scenes' held-out combinations, so their questions never
mention them ("is there a red star?" would always be "no" and teach a shortcut);
questions on ``heldout-combos`` scenes do.

Every question is a pure function of (scene, seed): :func:`scene_questions` draws from
its own generator, so the same scene always gets the same questions.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

import numpy as np

from .scenes import ALL_COMBOS, COLOURS, SEEN_COMBOS, SHAPES, SIZES, SceneObject

QUESTION_TYPES: tuple[str, ...] = ("colour", "shape", "count", "exist", "position")
COUNTS: tuple[str, ...] = ("0", "1", "2", "3")
ANSWERS: tuple[str, ...] = (*COLOURS, *SHAPES, *COUNTS, "yes", "no")
PHRASINGS: tuple[str, ...] = ("train", "heldout")
POSITION_MARGIN = 12.0  # pixels (about a tenth of the side): sides closer than this to the reference are not asked about
RELATIONS: dict[str, tuple[str, ...]] = {
    "left": ("left of", "to the left of"),
    "right": ("right of", "to the right of"),
    "above": ("above",),
    "below": ("below",),
}

# {object}: "circle" / "small circle"; {colour_object}: "red object" / "large red object";
# {things}: "squares" / "red objects" / "red squares"; {thing}: "a blue star" / "an orange object";
# {relation}: "left of", "to the left of", "above", ...; {reference}: a shape.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "colour": (
        "what color is the {object}?",
        "what colour is the {object}?",
        "what is the color of the {object}?",
        "which color does the {object} have?",
        "what color does the {object} have?",  # held out
    ),
    "shape": (
        "what shape is the {colour_object}?",
        "what is the shape of the {colour_object}?",
        "which shape does the {colour_object} have?",
        "what shape does the {colour_object} have?",  # held out
    ),
    "count": (
        "how many {things} are there?",
        "what number of {things} are there?",
        "how many {things} are in the picture?",
        "what number of {things} are in the picture?",  # held out
    ),
    "exist": (
        "is there {thing}?",
        "is there {thing} in the picture?",
        "are there any {things}?",
        "are there any {things} in the picture?",  # held out
    ),
    "position": (
        "what is {relation} the {reference}?",
        "what shape is {relation} the {reference}?",
        "what object is {relation} the {reference}?",
        "which shape is {relation} the {reference}?",  # held out
    ),
}
HELDOUT_TEMPLATES: dict[str, int] = {kind: len(templates) - 1 for kind, templates in TEMPLATES.items()}


@dataclass(frozen=True)
class Question:
    """One question about one scene.

    ``kind`` is one of :data:`QUESTION_TYPES`; ``template`` indexes ``TEMPLATES[kind]``;
    ``answer`` is one of :data:`ANSWERS`; ``scene`` is the scene's index in its split.
    ``focus`` lists the objects (indices into the scene's objects) a reader must look at,
    in order: the object a colour or shape question names; for a position question the
    reference object, then the answer. Count and existence questions have none. Training
    may supervise an attention hop with them; answering never reads them.
    """

    text: str
    answer: str
    kind: str
    template: int
    scene: int
    focus: tuple[int, ...] = ()

    @property
    def heldout_phrasing(self) -> bool:
        return self.template == HELDOUT_TEMPLATES[self.kind]

    def to_dict(self) -> dict:
        return asdict(self)


def template_pattern(kind: str, template: int) -> re.Pattern:
    """A regex that matches every question written with ``TEMPLATES[kind][template]``."""
    text = TEMPLATES[kind][template]
    pattern = re.escape(text)
    for slot in ("object", "colour_object", "things", "thing", "relation", "reference"):
        pattern = pattern.replace(re.escape("{" + slot + "}"), "[a-z ]+?")
    return re.compile(f"^{pattern}$")


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _plural(shape: str) -> str:
    return shape + "s"


def _unique(objects: Sequence[SceneObject], k: int, keys: Iterable[str]) -> bool:
    """Whether object ``k`` is the only one with its values of the attributes ``keys``."""
    keys = tuple(keys)
    mine = tuple(getattr(objects[k], a) for a in keys)
    return sum(tuple(getattr(o, a) for a in keys) == mine for o in objects) == 1


def _offset(obj: SceneObject, reference: SceneObject, side: str) -> float:
    """How far ``obj``'s centre is on ``side`` of ``reference``'s, in pixels (negative: the other side)."""
    dx = obj.centre[0] - reference.centre[0]
    dy = obj.centre[1] - reference.centre[1]  # y grows down
    return {"left": -dx, "right": dx, "above": -dy, "below": dy}[side]


class _Asker:
    """Draws questions of each kind for one scene; each method returns (slots, answer, focus) or None."""

    def __init__(self, objects: Sequence[SceneObject], combos: Sequence[tuple[str, str]], rng: np.random.Generator):
        self.objects, self.combos, self.rng = list(objects), list(combos), rng

    def colour(self):
        candidates = []
        for k, obj in enumerate(self.objects):
            if _unique(self.objects, k, ["shape"]):
                candidates.append((obj.shape, obj.colour, k))
            elif _unique(self.objects, k, ["size", "shape"]):
                candidates.append((f"{obj.size} {obj.shape}", obj.colour, k))
        if not candidates:
            return None
        name, answer, k = candidates[self.rng.integers(len(candidates))]
        return {"object": name}, answer, (k,)

    def shape(self):
        candidates = []
        for k, obj in enumerate(self.objects):
            if _unique(self.objects, k, ["colour"]):
                candidates.append((f"{obj.colour} object", obj.shape, k))
            elif _unique(self.objects, k, ["size", "colour"]):
                candidates.append((f"{obj.size} {obj.colour} object", obj.shape, k))
        if not candidates:
            return None
        name, answer, k = candidates[self.rng.integers(len(candidates))]
        return {"colour_object": name}, answer, (k,)

    def _description(self, present: bool) -> tuple[str | None, str | None]:
        """(colour, shape) to ask about, one of them possibly None: present in the scene or drawn from the split's pairs."""
        if present:
            obj = self.objects[self.rng.integers(len(self.objects))]
            colour, shape = obj.colour, obj.shape
        else:
            colour, shape = self.combos[self.rng.integers(len(self.combos))]
        which = self.rng.random()
        if which < 0.4:
            return None, shape
        if which < 0.7:
            return colour, None
        return colour, shape

    def _count(self, colour: str | None, shape: str | None) -> int:
        return sum((colour is None or o.colour == colour) and (shape is None or o.shape == shape) for o in self.objects)

    @staticmethod
    def _things(colour: str | None, shape: str | None) -> str:
        return " ".join(w for w in (colour, _plural(shape) if shape else "objects") if w)

    def count(self):
        colour, shape = self._description(present=self.rng.random() < 0.75)
        return {"things": self._things(colour, shape)}, str(self._count(colour, shape)), ()

    def exist(self):
        want_yes = self.rng.random() < 0.5
        for _ in range(20):  # a "no" needs a description that matches nothing; retry a few times
            colour, shape = self._description(present=want_yes)
            n = self._count(colour, shape)
            if (n > 0) == want_yes:
                break
        noun = " ".join(w for w in (colour, shape or "object") if w)
        return {"thing": f"{_article(noun)} {noun}", "things": self._things(colour, shape)}, "yes" if n > 0 else "no", ()

    def position(self):
        candidates = []
        for r, reference in enumerate(self.objects):
            if not _unique(self.objects, r, ["shape"]):
                continue
            others = [k for k in range(len(self.objects)) if k != r]
            for side in RELATIONS:
                offsets = [_offset(self.objects[k], reference, side) for k in others]
                on_side = [k for k, d in zip(others, offsets) if d >= POSITION_MARGIN]
                borderline = [d for d in offsets if -POSITION_MARGIN < d < POSITION_MARGIN]
                if len(on_side) == 1 and not borderline:
                    candidates.append((side, r, on_side[0]))
        if not candidates:
            return None
        side, r, k = candidates[self.rng.integers(len(candidates))]
        relation = RELATIONS[side][self.rng.integers(len(RELATIONS[side]))]
        return {"relation": relation, "reference": self.objects[r].shape}, self.objects[k].shape, (r, k)


def scene_questions(
    objects: Sequence[SceneObject],
    scene: int,
    split: str,
    phrasing: str = "train",
    per_kind: int = 1,
    seed: int = 0,
    kinds: Sequence[str] = QUESTION_TYPES,
) -> list[Question]:
    """Up to ``per_kind`` questions of each kind about one scene, with their answers.

    Args:
        objects: the scene's objects (``ScenesWorld.sample(i).objects``).
        scene: the scene's index (recorded in each question, and part of the draw's seed).
        split: the scene's split; ``heldout-combos`` may name every (colour, shape) pair,
            the others only the pairs their scenes can show.
        phrasing: ``train`` (every template but the held-out one) or ``heldout`` (only it).
        per_kind: questions drawn per kind; duplicates are dropped, kinds a scene cannot
            ask unambiguously (position in a one-object scene) are skipped.
        seed: with ``scene`` and ``split``, fixes every choice.
    """
    if phrasing not in PHRASINGS:
        raise ValueError(f"unknown phrasing {phrasing!r}; choose one of {PHRASINGS}")
    unknown = sorted(set(kinds) - set(QUESTION_TYPES))
    if unknown:
        raise ValueError(f"unknown question kinds {unknown}; choose from {QUESTION_TYPES}")
    split_code = sum(ord(c) for c in split)
    rng = np.random.default_rng([seed, split_code, scene, PHRASINGS.index(phrasing)])
    combos = ALL_COMBOS if split == "heldout-combos" else SEEN_COMBOS
    asker = _Asker(objects, combos, rng)
    questions: list[Question] = []
    seen: set[str] = set()
    for kind in kinds:
        held = HELDOUT_TEMPLATES[kind]
        templates = [held] if phrasing == "heldout" else [t for t in range(len(TEMPLATES[kind])) if t != held]
        for _ in range(per_kind):
            drawn = getattr(asker, kind)()
            if drawn is None:
                break
            slots, answer, focus = drawn
            template = templates[rng.integers(len(templates))]
            text = TEMPLATES[kind][template].format(**slots)
            if text in seen:
                continue
            seen.add(text)
            questions.append(Question(text=text, answer=answer, kind=kind, template=int(template), scene=scene, focus=focus))
    return questions


def scene_objects(world) -> list[list[SceneObject]]:
    """The objects of every scene of ``world`` (a ``ScenesWorld``), placed but not painted.

    Placing is rejection sampling (about 2 ms a scene): callers that need the objects
    more than once place them once with this and pass them on.
    """
    return [world.sample(i, render=False).objects for i in range(len(world))]


def split_questions(world, phrasing: str = "train", per_kind: int = 1, seed: int = 0,
                    scenes: Sequence[Sequence[SceneObject]] | None = None) -> list[Question]:
    """Questions about every scene of ``world`` (a ``ScenesWorld``).

    ``scenes``: the world's :func:`scene_objects`, if the caller already has them.
    """
    scenes = scene_objects(world) if scenes is None else scenes
    return [q for i, objects in enumerate(scenes) for q in scene_questions(objects, i, world.split, phrasing, per_kind, seed)]


def question_vocabulary_words() -> list[str]:
    """Every word the training templates can produce (colours, shapes, sizes, plurals, template words)."""
    from .vocabulary import tokenize

    words = set(COLOURS) | set(SHAPES) | set(SIZES) | {_plural(s) for s in SHAPES} | {"object", "objects", "a", "an"}
    for kind, templates in TEMPLATES.items():
        for t, text in enumerate(templates):
            if t != HELDOUT_TEMPLATES[kind]:
                words |= set(tokenize(re.sub(r"\{[a-z_]+\}", " ", text)))
    for forms in RELATIONS.values():
        for form in forms:
            words |= set(tokenize(form))
    return sorted(words)
