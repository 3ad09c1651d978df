"""Caption metrics (pycocoevalcap wrappers) and attention pointing on Scenes masks."""

import numpy as np
import pytest

from t2i_core.data import load_world
from t2i_core.evaluation.captioning import (
    caption_metrics,
    corpus_bleu4,
    named_objects,
    point_scores,
    pointing_report,
)

REFERENCES = [
    ["a small red circle to the left of a large blue square", "there is a small red circle to the left of a large blue square"],
    ["a large green star", "there is a large green star"],
]


def test_perfect_captions_score_the_maximum_and_wrong_ones_less():
    perfect = caption_metrics([r[0] for r in REFERENCES], REFERENCES)
    assert perfect["BLEU-1"] == pytest.approx(1.0) and perfect["BLEU-4"] == pytest.approx(1.0, abs=1e-6)
    assert perfect["ROUGE-L"] == pytest.approx(1.0) and perfect["METEOR"] > 0.9
    wrong = caption_metrics(["a large blue square above a small red circle", "a small purple diamond"], REFERENCES)
    for key in ("BLEU-1", "BLEU-4", "METEOR", "ROUGE-L", "CIDEr"):
        assert wrong[key] < perfect[key], key
    assert wrong["BLEU-4"] < 0.5


def test_bleu4_helper_agrees_with_the_full_metrics_and_survives_empty_captions():
    predictions = ["a small red circle to the left of a large green square", ""]
    assert corpus_bleu4(predictions, REFERENCES) == pytest.approx(caption_metrics(predictions, REFERENCES, meteor=False)["BLEU-4"])
    with pytest.raises(ValueError, match="2 predictions but 1 reference sets"):
        corpus_bleu4(predictions, REFERENCES[:1])


@pytest.fixture(scope="module")
def scenes():
    world = load_world("scenes", "test", size=40, seed=0)
    return [world.sample(i, render=False) for i in range(len(world))]


def test_a_reference_caption_is_grounded_by_the_scenes_own_groundings(scenes):
    scene = next(s for s in scenes if len(s.objects) == 3)
    words = scene.captions[0].split()
    named = named_objects(words, scene)
    assert [words[p] for p, _ in named] == [w for w, g in zip(words, scene.groundings[0]) if g is not None and w not in ("small", "large")]
    assert all(len(objects) == 1 for _, objects in named)


def test_a_wrong_colour_is_not_scored_but_counted(scenes):
    scene = next(s for s in scenes if len(s.objects) == 1)
    obj = scene.objects[0]
    other = "blue" if obj.colour != "blue" else "red"
    named = named_objects(["a", obj.size, other, obj.shape], scene)
    assert named == []
    report = pointing_report([(["a", obj.size, other, obj.shape], np.full((4, 256), 1 / 256))], [scene], 16)
    assert report["unmatched_words"] == 2 and report["scored_words"] == 0


def test_a_map_peaked_on_the_object_points_and_one_elsewhere_does_not(scenes):
    scene = scenes[0]
    mask = scene.objects[0].mask  # (128, 128)
    ys, xs = np.nonzero(mask)
    cy, cx = int(np.median(ys)) // 8, int(np.median(xs)) // 8
    on = np.zeros((16, 16))
    on[cy, cx] = 1.0
    hit, mass = point_scores(on, mask)
    assert hit == 1.0 and mass > 0.5
    off = np.zeros((16, 16))
    far = np.unravel_index(np.argmax(np.abs(np.arange(16)[:, None] - cy) + np.abs(np.arange(16)[None, :] - cx)), (16, 16))
    off[far] = 1.0
    assert point_scores(off, mask) == (0.0, 0.0)


def test_a_uniform_map_scores_chance(scenes):
    mask = scenes[0].objects[0].mask
    hit, mass = point_scores(np.full((16, 16), 1 / 256), mask)
    assert hit == pytest.approx(mask.mean(), abs=1e-6) and mass == pytest.approx(mask.mean(), abs=1e-6)


def _objects(*pairs):
    from t2i_core.data.scenes import SceneObject

    return [SceneObject(shape, colour, "small", (10.0 + 30 * k, 64.0), 8.0, 0.0) for k, (colour, shape) in enumerate(pairs)]


class _Scene:
    def __init__(self, objects):
        self.objects = objects


def test_every_colour_and_shape_of_the_scene_is_named_in_any_order_and_with_any_size_word():
    from t2i_core.evaluation.captioning import objects_named

    scene = _objects(("red", "circle"), ("blue", "square"), ("green", "star"))
    right = "a small red circle to the left of a large blue square and a small green star above the square"
    other_order = "there are three shapes a large green star a small blue square and a large red circle"
    assert objects_named(right.split(), scene) == 3
    assert objects_named(other_order.split(), scene) == 3


def test_a_missing_object_or_colours_swapped_between_objects_is_not_every_object_named():
    from t2i_core.evaluation.captioning import naming_report, objects_named

    scene = _objects(("red", "circle"), ("blue", "square"), ("green", "star"))
    missing = "a small red circle to the left of a large blue square"
    swapped = "a small blue circle to the left of a large red square and a small green star above the square"
    back_reference_only = "a small red circle to the left of a large blue square and a small green thing above the star"
    assert objects_named(missing.split(), scene) == 2
    assert objects_named(swapped.split(), scene) == 1  # only the green star is named as it is
    assert objects_named(back_reference_only.split(), scene) == 2  # "the star" says no colour
    right = "a small red circle to the left of a large blue square and a small green star above the square"
    report = naming_report([right.split(), missing.split(), swapped.split()], [_Scene(scene)] * 3)
    assert report["all_objects_named"] == pytest.approx(1 / 3)
    assert report["objects_named"] == pytest.approx((3 + 2 + 1) / 9)


def test_two_objects_of_one_colour_and_shape_must_both_be_named():
    from t2i_core.evaluation.captioning import objects_named

    twins = _objects(("red", "circle"), ("red", "circle"))
    assert objects_named("a small red circle".split(), twins) == 1
    assert objects_named("a small red circle to the left of a large red circle".split(), twins) == 2


def test_a_flower_caption_counts_only_with_both_colours_in_their_roles():
    from t2i_core.evaluation.captioning import flower_roles_report

    flower = {"petal_colour": "red", "stem_colour": "yellow"}
    captions = [
        "a red flower with a yellow stem",  # right
        "a yellow flower with a red stem",  # the colours swapped between the roles
        "a small red circle to the left of a large yellow square",  # a Scenes caption of a flower
        ["a", "red", "flower", "with", "a", "green", "stem"],  # words work too; the stem is wrong
    ]
    report = flower_roles_report(captions, [flower] * 4)
    assert report == {"roles_named": 0.25, "petal_named": 0.5, "stem_named": 0.25}
