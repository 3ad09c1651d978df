"""Questions about Scenes, with answers read off each scene's ground truth.

Six kinds of question, each asked only when its answer is unambiguous in the scene:

- ``colour``: "what color is the circle?" The object is named by its shape, or by size
  and shape when two objects share the shape; skipped when even that does not single
  it out.
- ``shape``: "what shape is the red object?" Named by colour, or size and colour.
- ``count``: "how many squares are there?" Counts shapes, colours ("red objects"), both
  ("red squares") or every object ("how many things are there?"); 0 to 4.
- ``exist``: "is there a blue star?" Yes or no, half of each where the scene allows.
- ``position``: "what is left of the triangle?" The answer is the shape of the one object
  on that side of the reference object (named by its shape, which must be unique).
  Sides follow CLEVR: "left of" means a centre further left, whatever the vertical
  offset, by at least ``POSITION_MARGIN`` pixels; every other object must be at least
  that far on the other side, so no object is a borderline case.
- ``absent``: a colour, shape or position question about something the scene does not
  hold: "what colour is the star?" with no star is answered "there is no star", "what
  shape is the blue object?" with nothing blue "there is no blue object". The words are
  those of the other three kinds, so only the picture tells an absent question from a
  present one; a model that never saw them answers with a confident colour instead.

People's words. Objects are also "shapes" and "things" ("how many shapes are there?",
"is there a red thing?"), and "colour" is spelled both ways.

Phrasings. Every kind has a few templates; the last one of each (``HELDOUT_TEMPLATES``)
is never used for training: it re-orders words the training templates use, so a model
can read it, and ``heldout-phrasings`` measures whether it generalises to it. Absent
questions borrow the colour, shape and position templates, and their held-out ones.

Splits. Questions name only (colour, shape) pairs the scene split can contain: train,
val and test scenes never show Scenes' held-out combinations, so their questions never
mention them ("is there a red star?" would always be "no" and teach a shortcut);
questions on ``heldout-combos`` scenes do.

Every question is a pure function of (scene, seed): :func:`scene_questions` draws from
its own generator, so the same scene always gets the same questions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .scenes import ALL_COMBOS, COLOURS, SEEN_COMBOS, SHAPES, SIZES, SceneObject
from .vocabulary import tokenize

QUESTION_TYPES: tuple[str, ...] = ("colour", "shape", "count", "exist", "position", "absent")
COUNTS: tuple[str, ...] = ("0", "1", "2", "3", "4")  # a scene holds at most four objects (scenes.MAX_OBJECTS)
ABSENT_ANSWERS: tuple[str, ...] = (
    *(f"there is no {shape}" for shape in SHAPES),
    *(f"there is no {colour} object" for colour in COLOURS),
)
# "4" and the absent answers come last so that every answer keeps the index it had
# before them: models trained earlier still read their outputs right.
ANSWERS: tuple[str, ...] = (*COLOURS, *SHAPES, *COUNTS[:4], "yes", "no", *COUNTS[4:], *ABSENT_ANSWERS)
PHRASINGS: tuple[str, ...] = ("train", "heldout")
POSITION_MARGIN = 12.0  # pixels (about a tenth of the side): sides closer than this to the reference are not asked about
RELATIONS: dict[str, tuple[str, ...]] = {
    "left": ("left of", "to the left of"),
    "right": ("right of", "to the right of"),
    "above": ("above",),
    "below": ("below",),
}
# What people call an object when they do not name its shape ("how many things are there?").
GENERIC_NOUNS: tuple[str, ...] = ("object", "shape", "thing")
# Chance that a draw of an absent question asks one: about 12% of the training questions
# (two a kind a scene) and 13% of the evaluation's (one a kind).
ABSENT_RATE = 0.7

# {object}: "circle" / "small circle"; {colour_object}: "red object" / "large red thing";
# {things}: "squares" / "red shapes" / "red squares" / "objects"; {thing}: "a blue star" / "an orange thing";
# {relation}: "left of", "to the left of", "above", ...; {reference}: a shape.
_ASKED_TEMPLATES: dict[str, tuple[str, ...]] = {
    "colour": (
        "what color is the {object}?",
        "what colour is the {object}?",
        "what is the color of the {object}?",
        "what is the colour of the {object}?",
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
# An absent question is a colour, shape or position question about a missing object.
ABSENT_FAMILIES: tuple[str, ...] = ("colour", "shape", "position")
TEMPLATES: dict[str, tuple[str, ...]] = {
    **_ASKED_TEMPLATES,
    "absent": tuple(text for family in ABSENT_FAMILIES for text in _ASKED_TEMPLATES[family]),
}


def _heldout_absent_templates() -> tuple[int, ...]:
    """The indices in ``TEMPLATES["absent"]`` of the held-out template of each family."""
    held, start = [], 0
    for family in ABSENT_FAMILIES:
        start += len(_ASKED_TEMPLATES[family])
        held.append(start - 1)
    return tuple(held)


# kind -> the indices of its templates that training never uses (the last of each family).
HELDOUT_TEMPLATES: dict[str, tuple[int, ...]] = {
    **{kind: (len(templates) - 1,) for kind, templates in _ASKED_TEMPLATES.items()},
    "absent": _heldout_absent_templates(),
}


@dataclass(frozen=True)
class Question:
    """One question about one scene.

    ``kind`` is one of :data:`QUESTION_TYPES`; ``template`` indexes ``TEMPLATES[kind]``;
    ``answer`` is one of :data:`ANSWERS`; ``scene`` is the scene's index in its split.
    ``focus`` lists the objects (indices into the scene's objects) a reader must look at,
    in order: the object a colour or shape question names; for a position question the
    reference object, then the answer. Count, existence and absent questions have none.
    Training may supervise an attention hop with them; answering never reads them.
    """

    text: str
    answer: str
    kind: str
    template: int
    scene: int
    focus: tuple[int, ...] = ()

    @property
    def heldout_phrasing(self) -> bool:
        return self.template in HELDOUT_TEMPLATES[self.kind]


_SLOT = re.compile(r"\{([a-z_]+)\}")


def template_pattern(kind: str, template: int) -> re.Pattern:
    """A regex that matches every question written with ``TEMPLATES[kind][template]``."""
    text = TEMPLATES[kind][template]
    pattern = re.escape(text)
    for slot in ("object", "colour_object", "things", "thing", "relation", "reference"):
        pattern = pattern.replace(re.escape("{" + slot + "}"), "[a-z ]+?")
    return re.compile(f"^{pattern}$")


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _plural(noun: str) -> str:
    return noun + "s"


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

    def _pick(self, options: Sequence):
        return options[self.rng.integers(len(options))]

    def _noun(self, nouns: Sequence[str] = GENERIC_NOUNS) -> str:
        """A generic noun for an object whose shape is not named."""
        return self._pick(nouns)

    def colour(self):
        candidates = []
        for k, obj in enumerate(self.objects):
            if _unique(self.objects, k, ["shape"]):
                candidates.append((obj.shape, obj.colour, k))
            elif _unique(self.objects, k, ["size", "shape"]):
                candidates.append((f"{obj.size} {obj.shape}", obj.colour, k))
        if not candidates:
            return None
        name, answer, k = self._pick(candidates)
        return {"object": name}, answer, (k,)

    def shape(self):
        candidates = []
        for k, obj in enumerate(self.objects):
            if _unique(self.objects, k, ["colour"]):
                candidates.append((obj.colour, obj.shape, k))
            elif _unique(self.objects, k, ["size", "colour"]):
                candidates.append((f"{obj.size} {obj.colour}", obj.shape, k))
        if not candidates:
            return None
        name, answer, k = self._pick(candidates)
        noun = self._noun(("object", "thing"))  # "what shape is the red shape?" is not how people ask
        return {"colour_object": f"{name} {noun}"}, answer, (k,)

    def _description(self, present: bool, everything: bool = False) -> tuple[str | None, str | None]:
        """(colour, shape) to ask about, either possibly None: present in the scene or drawn from the split's pairs.

        ``everything``: (None, None), every object, may be drawn too.
        """
        if everything and self.rng.random() < 0.25:
            return None, None
        if present:
            obj = self._pick(self.objects)
            colour, shape = obj.colour, obj.shape
        else:
            colour, shape = self._pick(self.combos)
        which = self.rng.random()
        if which < 0.4:
            return None, shape
        if which < 0.7:
            return colour, None
        return colour, shape

    def _count(self, colour: str | None, shape: str | None) -> int:
        return sum((colour is None or o.colour == colour) and (shape is None or o.shape == shape) for o in self.objects)

    def _things(self, colour: str | None, shape: str | None) -> str:
        """The plural phrase for (colour, shape): "squares", "red squares", "red things", "objects", ..."""
        return " ".join(w for w in (colour, _plural(shape or self._noun())) if w)

    def count(self):
        colour, shape = self._description(present=self.rng.random() < 0.75, everything=True)
        return {"things": self._things(colour, shape)}, str(self._count(colour, shape)), ()

    def exist(self):
        want_yes = self.rng.random() < 0.5
        for _ in range(20):  # a "no" needs a description that matches nothing; retry a few times
            colour, shape = self._description(present=want_yes)
            n = self._count(colour, shape)
            if (n > 0) == want_yes:
                break
        noun = " ".join(w for w in (colour, shape or self._noun()) if w)
        return {"thing": f"{_article(noun)} {noun}", "things": self._things(colour, shape)}, "yes" if n > 0 else "no", ()

    def _sides(self, r: int) -> list[tuple[str, int]]:
        """(side, object) pairs where that object is the only one on that side of object ``r``, none borderline."""
        reference = self.objects[r]
        others = [k for k in range(len(self.objects)) if k != r]
        found = []
        for side in RELATIONS:
            offsets = [_offset(self.objects[k], reference, side) for k in others]
            on_side = [k for k, d in zip(others, offsets) if d >= POSITION_MARGIN]
            borderline = [d for d in offsets if -POSITION_MARGIN < d < POSITION_MARGIN]
            if len(on_side) == 1 and not borderline:
                found.append((side, on_side[0]))
        return found

    def _relation(self, side: str) -> str:
        return self._pick(RELATIONS[side])

    def position(self):
        candidates = [(side, r, k) for r in range(len(self.objects)) if _unique(self.objects, r, ["shape"])
                      for side, k in self._sides(r)]
        if not candidates:
            return None
        side, r, k = self._pick(candidates)
        return {"relation": self._relation(side), "reference": self.objects[r].shape}, self.objects[k].shape, (r, k)

    def absent(self):
        """A colour, shape or position question naming a shape or colour no object has."""
        if self.rng.random() >= ABSENT_RATE:
            return None
        missing_shapes = [s for s in SHAPES if all(o.shape != s for o in self.objects)]
        missing_colours = [c for c in COLOURS if all(o.colour != c for o in self.objects)]
        family = self._pick(ABSENT_FAMILIES)
        if family == "shape" and missing_colours:
            colour = self._pick(missing_colours)
            return {"colour_object": f"{colour} {self._noun(('object', 'thing'))}"}, f"there is no {colour} object", ()
        if not missing_shapes:
            return None
        shape = self._pick(missing_shapes)
        if family == "position":
            return {"relation": self._relation(self._pick(tuple(RELATIONS))), "reference": shape}, f"there is no {shape}", ()
        return {"object": shape}, f"there is no {shape}", ()


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
        phrasing: ``train`` (every template but the held-out ones) or ``heldout`` (only those).
        per_kind: questions drawn per kind; duplicates are dropped, kinds a scene cannot
            ask unambiguously (position in a one-object scene) are skipped, and an absent
            question is drawn only with probability ``ABSENT_RATE`` each time.
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
        phrased = [t for t in range(len(TEMPLATES[kind])) if (t in held) == (phrasing == "heldout")]
        for _ in range(per_kind):
            drawn = getattr(asker, kind)()
            if drawn is None:
                break
            slots, answer, focus = drawn
            # The templates whose slots the draw fills (an absent question fills a colour, shape or position one's).
            templates = [t for t in phrased if set(_SLOT.findall(TEMPLATES[kind][t])) <= slots.keys()]
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
    """Every word the training templates can produce (colours, shapes, sizes, generic nouns, plurals, template words)."""
    nouns = (*SHAPES, *GENERIC_NOUNS)
    words = set(COLOURS) | set(SIZES) | set(nouns) | {_plural(n) for n in nouns} | {"a", "an"}
    for kind, templates in TEMPLATES.items():
        for t, text in enumerate(templates):
            if t not in HELDOUT_TEMPLATES[kind]:
                words |= set(tokenize(re.sub(r"\{[a-z_]+\}", " ", text)))
    for forms in RELATIONS.values():
        for form in forms:
            words |= set(tokenize(form))
    return sorted(words)
