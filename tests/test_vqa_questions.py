"""Questions about Scenes: answers that match the ground truth, unambiguous, held-out phrasings kept out of training."""

import re

import pytest

from t2i_core.data.questions import (
    ANSWERS,
    HELDOUT_TEMPLATES,
    POSITION_MARGIN,
    QUESTION_TYPES,
    TEMPLATES,
    Question,
    question_vocabulary_words,
    scene_questions,
    split_questions,
    template_pattern,
)
from t2i_core.data.scenes import COLOURS, HELDOUT_COMBOS, SHAPES, SIZES, SceneObject, ScenesWorld
from t2i_core.data.vocabulary import tokenize


@pytest.fixture(scope="module")
def train_scenes():
    world = ScenesWorld("train", size=150)
    return [world.sample(i, render=False) for i in range(len(world))]


@pytest.fixture(scope="module")
def train_questions(train_scenes):
    return [q for s in train_scenes for q in scene_questions(s.objects, s.index, "train", per_kind=2)]


def obj(shape, colour, x, y, size="small"):
    return SceneObject(shape=shape, colour=colour, size=size, centre=(float(x), float(y)), radius=14.0, rotation=0.0)


def matching(objects, words):
    """Objects whose colour, shape (singular or plural) and size agree with every attribute word in ``words``."""
    colours = [w for w in words if w in COLOURS]
    shapes = [w.rstrip("s") if w.rstrip("s") in SHAPES else w for w in words if w in SHAPES or w.rstrip("s") in SHAPES]
    sizes = [w for w in words if w in SIZES]
    return [o for o in objects if all(o.colour == c for c in colours) and all(o.shape == s for s in shapes) and all(o.size == z for z in sizes)]


def expected_answer(question: Question, objects) -> str:
    """The answer worked out again from the question's words and the scene's objects, independently of the generator."""
    words = tokenize(question.text)
    if question.kind in ("colour", "shape"):
        # the object phrase follows "the"
        phrase = words[words.index("the") + 1 :]
        found = matching(objects, phrase)
        assert len(found) == 1, (question, found)
        return found[0].colour if question.kind == "colour" else found[0].shape
    if question.kind == "count":
        return str(len(matching(objects, words)))
    if question.kind == "exist":
        return "yes" if matching(objects, words) else "no"
    # position: the reference is the last word; the side is named before it
    reference = [o for o in objects if o.shape == words[-1]]
    assert len(reference) == 1, question
    ref = reference[0]
    side = next(s for s in ("left", "right", "above", "below") if s in words)
    sign = {"left": (-1, 0), "right": (1, 0), "above": (0, -1), "below": (0, 1)}[side]
    others = [o for o in objects if o is not ref]
    offsets = [sign[0] * (o.centre[0] - ref.centre[0]) + sign[1] * (o.centre[1] - ref.centre[1]) for o in others]
    found = [o for o, d in zip(others, offsets) if d > 0]
    assert len(found) == 1, question
    assert all(abs(d) >= POSITION_MARGIN for d in offsets), question  # no borderline object
    return found[0].shape


def test_every_answer_matches_the_scene_ground_truth(train_scenes, train_questions):
    by_index = {s.index: s for s in train_scenes}
    assert len(train_questions) > 600
    for q in train_questions:
        assert q.answer in ANSWERS
        assert q.answer == expected_answer(q, by_index[q.scene].objects), q


def test_every_question_type_is_asked_and_answers_vary(train_questions):
    kinds = {k: [q for q in train_questions if q.kind == k] for k in QUESTION_TYPES}
    for kind, questions in kinds.items():
        assert len(questions) >= 60, kind
        assert len({q.answer for q in questions}) >= 2, kind
    exist = [q.answer for q in kinds["exist"]]
    assert 0.3 < exist.count("yes") / len(exist) < 0.7


def test_ambiguous_questions_are_not_asked():
    # Two circles of the same size: "what color is the circle?" has no single answer.
    twins = [obj("circle", "red", 30, 60), obj("circle", "blue", 90, 60)]
    for seed in range(20):
        questions = scene_questions(twins, 0, "train", per_kind=3, seed=seed)
        assert not [q for q in questions if q.kind == "colour"]
        # Each circle is the reference of nothing (its shape is not unique).
        assert not [q for q in questions if q.kind == "position"]
    # A third object only 5 px right of the reference: "what is left of the square?" would be borderline.
    close = [obj("square", "red", 60, 60), obj("star", "blue", 20, 60), obj("circle", "green", 65, 100)]
    for seed in range(30):
        for q in scene_questions(close, 0, "train", per_kind=3, seed=seed):
            if q.kind == "position" and q.text.endswith("square?"):
                assert "left" not in q.text and "right" not in q.text, q


def test_position_question_on_a_clear_layout():
    scene = [obj("triangle", "red", 80, 64), obj("star", "blue", 20, 64)]
    texts = {(q.text, q.answer) for seed in range(40) for q in scene_questions(scene, 0, "train", seed=seed, kinds=["position"])}
    assert any("left of the triangle" in t and a == "star" for t, a in texts)
    assert any("right of the star" in t and a == "triangle" for t, a in texts)
    assert not any("above" in t or "below" in t for t, _ in texts)  # same height: neither is above


def test_questions_are_a_pure_function_of_scene_and_seed(train_scenes):
    s = train_scenes[3]
    assert scene_questions(s.objects, s.index, "train") == scene_questions(s.objects, s.index, "train")
    different = [scene_questions(t.objects, t.index, "train", seed=1) != scene_questions(t.objects, t.index, "train") for t in train_scenes[:20]]
    assert any(different)


def test_no_heldout_phrasing_leaks_into_training_questions(train_questions):
    heldout = [template_pattern(kind, t) for kind, t in HELDOUT_TEMPLATES.items()]
    for q in train_questions:
        assert not q.heldout_phrasing
        assert not any(p.match(q.text) for p in heldout), q.text


def test_heldout_phrasings_use_only_heldout_templates_and_known_words():
    world = ScenesWorld("test", size=40)
    questions = split_questions(world, phrasing="heldout")
    assert {q.kind for q in questions} == set(QUESTION_TYPES)
    known = set(question_vocabulary_words())
    for q in questions:
        assert q.heldout_phrasing
        assert template_pattern(q.kind, q.template).match(q.text)
        assert set(tokenize(q.text)) <= known, q.text  # new phrasing, but no new word
    # The held-out templates are not word-for-word training templates.
    for kind, t in HELDOUT_TEMPLATES.items():
        assert TEMPLATES[kind][t] not in TEMPLATES[kind][:t]


def test_only_the_heldout_combos_split_asks_about_heldout_pairs(train_questions):
    def names_heldout_pair(text):
        return any(re.search(rf"\b{c} {s}", text) for c, s in HELDOUT_COMBOS)

    assert not any(names_heldout_pair(q.text) for q in train_questions)
    heldout = split_questions(ScenesWorld("heldout-combos", size=60))
    assert any(names_heldout_pair(q.text) for q in heldout)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="phrasing"):
        scene_questions([obj("circle", "red", 60, 60)], 0, "train", phrasing="new")
    with pytest.raises(ValueError, match="kinds"):
        scene_questions([obj("circle", "red", 60, 60)], 0, "train", kinds=["colour", "size"])


def test_focus_names_the_objects_a_question_is_about(train_scenes, train_questions):
    by_index = {s.index: s for s in train_scenes}
    for q in train_questions:
        objects = by_index[q.scene].objects
        words = re.findall(r"[a-z]+", q.text)
        if q.kind in ("count", "exist"):
            assert q.focus == (), q
        elif q.kind == "colour":
            (k,) = q.focus
            assert objects[k].shape in words and objects[k].colour == q.answer, q
        elif q.kind == "shape":
            (k,) = q.focus
            assert objects[k].colour in words and objects[k].shape == q.answer, q
        else:  # position: the reference (named last), then the answer
            reference, answer = q.focus
            assert reference != answer
            assert objects[reference].shape == words[-1], q
            assert objects[answer].shape == q.answer, q
