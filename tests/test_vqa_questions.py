"""Questions about Scenes: answers that match the ground truth, unambiguous, held-out phrasings kept out of training."""

import re

import pytest

from t2i_core.data.questions import (
    ABSENT_ANSWERS,
    ANSWERS,
    COUNTS,
    GENERIC_NOUNS,
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
from t2i_core.data.scenes import COLOURS, HELDOUT_COMBOS, MAX_OBJECTS, SHAPES, SIZES, SceneObject, ScenesWorld
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
    if question.kind == "absent":
        # the missing thing follows "the": a shape ("the star", "left of the star") or a colour ("the blue object")
        phrase = words[words.index("the") + 1 :]
        assert not matching(objects, phrase), question
        shapes = [w for w in phrase if w in SHAPES]
        return f"there is no {shapes[0]}" if shapes else f"there is no {next(w for w in phrase if w in COLOURS)} object"
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
    heldout = [template_pattern(kind, t) for kind, held in HELDOUT_TEMPLATES.items() for t in held]
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
    # The held-out templates are not word-for-word training templates, of any kind.
    training = {text for kind, templates in TEMPLATES.items() for t, text in enumerate(templates) if t not in HELDOUT_TEMPLATES[kind]}
    for kind, held in HELDOUT_TEMPLATES.items():
        assert held and not {TEMPLATES[kind][t] for t in held} & training, kind


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
        if q.kind in ("count", "exist", "absent"):
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


# ---------------------------------------------------------------- the words people use


def scenes_of_one_to_four_objects():
    """Hand-made scenes of 1, 2, 3 and 4 objects (some sharing a shape or a colour), whatever the world draws."""
    objects = [obj("circle", "red", 24, 24), obj("square", "blue", 104, 24), obj("circle", "green", 24, 104, "large"),
               obj("star", "red", 104, 104)]
    return [objects[:n] for n in range(1, 5)]


def generic_count(text: str) -> bool:
    """Whether ``text`` counts every object: "how many objects are there?", "what number of things are in the picture?"."""
    return any(re.fullmatch(rf"(how many|what number of) {noun}s are (there|in the picture)\?", text) for noun in GENERIC_NOUNS)


def test_how_many_objects_are_there_is_answered_with_the_number_of_objects():
    for objects in scenes_of_one_to_four_objects():
        asked = {(q.text, q.answer) for phrasing in ("train", "heldout") for seed in range(60)
                 for q in scene_questions(objects, 0, "train", phrasing=phrasing, per_kind=3, seed=seed, kinds=["count"])
                 if generic_count(q.text)}
        assert {w for text, _ in asked for w in tokenize(text) if w.rstrip("s") in GENERIC_NOUNS} == {"objects", "shapes", "things"}
        assert {answer for _, answer in asked} == {str(len(objects))}, asked
    assert "how many objects are there?" in {q.text for seed in range(60)
                                              for q in scene_questions(objects, 0, "train", per_kind=3, seed=seed, kinds=["count"])}


def test_every_count_a_scene_can_have_is_an_answer():
    assert str(MAX_OBJECTS) in COUNTS and "4" in COUNTS and set(COUNTS) <= set(ANSWERS)


def test_answers_of_models_trained_before_four_and_absent_keep_their_index():
    before = (*COLOURS, *SHAPES, "0", "1", "2", "3", "yes", "no")
    assert ANSWERS[: len(before)] == before
    assert len(set(ANSWERS)) == len(ANSWERS)


def test_generic_nouns_name_objects_in_every_kind_that_does_not_name_a_shape(train_questions):
    def nouns(kind):
        return {w.rstrip("s") for q in train_questions if q.kind == kind for w in tokenize(q.text) if w.rstrip("s") in GENERIC_NOUNS}

    assert nouns("count") == set(GENERIC_NOUNS)  # "how many shapes are there?"
    assert nouns("exist") == set(GENERIC_NOUNS)  # "is there a red thing?"
    assert {"object", "thing"} <= nouns("shape")  # "what shape is the red thing?"
    texts = {q.text for q in train_questions}
    assert any(generic_count(t) for t in texts)
    assert any(re.fullmatch(r"is there an? [a-z]+ (object|shape|thing)\?", t) for t in texts)


def test_colour_is_asked_with_both_spellings(train_questions):
    for kind in ("colour", "absent"):
        words = {w for q in train_questions if q.kind == kind for w in tokenize(q.text)}
        assert {"colour", "color"} <= words, kind
    assert {"what colour is the star?", "what color is the star?"} <= {TEMPLATES["colour"][t].format(object="star") for t in range(2)}


def test_absent_questions_are_asked_only_about_missing_things_and_name_them():
    for objects in scenes_of_one_to_four_objects():
        questions = [q for seed in range(40) for phrasing in ("train", "heldout")
                     for q in scene_questions(objects, 0, "train", phrasing=phrasing, per_kind=2, seed=seed, kinds=["absent"])]
        assert questions
        shapes, colours = {o.shape for o in objects}, {o.colour for o in objects}
        for q in questions:
            assert q.answer in ABSENT_ANSWERS and q.answer == expected_answer(q, objects), q
            missing = q.answer.removeprefix("there is no ").removesuffix(" object")
            assert missing not in shapes | colours, q
            assert re.search(rf"\bthe {missing}\b", q.text), q  # the answer names what the question named
    # Two families by name: a missing shape and a missing colour.
    answers = {q.answer for seed in range(40) for q in scene_questions(scenes_of_one_to_four_objects()[3], 0, "train", seed=seed, kinds=["absent"])}
    assert "there is no triangle" in answers and "there is no yellow object" in answers


def test_absent_questions_read_like_colour_shape_and_position_questions(train_questions):
    # Only the picture tells "what colour is the star?" (a star: its colour) from the same words with no star.
    absent = [q for q in train_questions if q.kind == "absent"]
    patterns = [template_pattern(kind, t) for kind in ("colour", "shape", "position")
                for t in range(len(TEMPLATES[kind])) if t not in HELDOUT_TEMPLATES[kind]]
    assert all(any(p.match(q.text) for p in patterns) for q in absent)
    # Every family is asked, and every missing shape and colour is an answer.
    assert {q.answer for q in absent} == set(ABSENT_ANSWERS)
    assert any(re.search(r"\b(left|right|above|below)\b", q.text) for q in absent)


def test_absent_questions_are_ten_to_fifteen_percent_of_training_questions(train_questions):
    share = sum(q.kind == "absent" for q in train_questions) / len(train_questions)
    assert 0.10 <= share <= 0.15, share


def test_a_colour_question_is_absent_when_nothing_has_the_shape_and_asked_when_one_thing_has():
    with_star = [obj("star", "green", 30, 60), obj("square", "red", 90, 60)]
    without = [obj("circle", "green", 30, 60), obj("square", "red", 90, 60)]
    star_colour = re.compile(r"^(what|which) (is the )?colou?r (is|does|of) the star")

    def about_the_star(objects):
        return {q.answer for seed in range(80) for q in scene_questions(objects, 0, "train", per_kind=2, seed=seed)
                if star_colour.match(q.text)}

    assert about_the_star(with_star) == {"green"}
    assert about_the_star(without) == {"there is no star"}
