"""Smoke evaluation of the shipped captioners: a broken checkpoint cannot land."""

import numpy as np
import pytest

import t2i_core
from t2i_core.data import load_world
from t2i_core.data.vocabulary import Vocabulary
from t2i_core.models.captioning import Captioner


@pytest.fixture(scope="module")
def shipped():
    return t2i_core.load_pipeline("caption", model="show-attend-tell", device="cpu")


def test_shipped_attention_maps_differ_between_the_words_of_one_caption(shipped):
    world = load_world("scenes", "test", size=30, seed=0)
    scene = next(world.sample(i) for i in range(30) if len(world.sample(i, render=False).objects) >= 2)
    attention = shipped(scene.image, beam_size=3).attention[0]  # (words, h, w)
    assert np.allclose(attention.sum(axis=(1, 2)), 1.0)
    peaks = {np.unravel_index(np.argmax(m), m.shape) for m in attention}
    assert len(peaks) >= 3, "every word looks at the same place"
    flat = attention.reshape(len(attention), -1)
    assert np.abs(flat[:, None, :] - flat[None, :, :]).sum(2).max() > 0.5


def test_from_pretrained_on_the_shipped_folder_captions_as_load_pipeline_does(shipped):
    from t2i_core.pipelines.caption import CaptionOutput, CaptionPipeline, shipped_checkpoint

    world = load_world("scenes", "test", size=2, seed=0)
    images = [world.sample(0).image, world.sample(1).image]
    loaded = CaptionPipeline.from_pretrained(shipped_checkpoint("show-attend-tell"), device="cpu")
    one, batch = loaded(images[0]), loaded(images)
    assert type(one) is CaptionOutput and type(batch) is CaptionOutput and len(batch.captions) == 2
    assert one.captions == shipped(images[0]).captions == batch.captions[:1]
    assert one.in_world == [True]


def test_shipped_captioner_smoke_evaluation_on_100_test_scenes():
    """BLEU-4 and pointing of the shipped Show, Attend and Tell on 100 test scenes at beam 3."""
    from t2i_core.evaluation.captioning import evaluate_on_scenes
    from t2i_core.pipelines.caption import shipped_checkpoint

    folder = shipped_checkpoint("show-attend-tell")
    model = Captioner.from_pretrained(folder)
    report = evaluate_on_scenes(model, Vocabulary.load(folder), splits=["test"], size=100, beam_sizes=[3], meteor=False, cache=False)
    metrics = report["splits"]["test"]["beam_3"]
    assert metrics["BLEU-4"] > 0.6, metrics
    assert metrics["pointing_accuracy"] > 0.6, metrics


def test_shipped_show_and_tell_captions_with_uniform_maps():
    """The baseline has no attention: one uniform map per word, and the result says so."""
    world = load_world("scenes", "test", size=3, seed=0)
    result = t2i_core.load_pipeline("caption", model="show-and-tell", device="cpu")(world.sample(2).image, beam_size=3)
    assert len(result.words[0]) >= 4 and not result.has_attention
    assert np.allclose(result.attention[0], 1.0 / result.attention[0][0].size)


# ---------------------------------------------------------------- the captioner of both worlds (issue 12)
def test_the_default_captioner_was_trained_on_scenes_and_flowers():
    from t2i_core.pipelines.caption import shipped_checkpoint, trained_worlds

    assert trained_worlds(shipped_checkpoint("show-attend-tell")) == ("scenes", "flowers")


def test_shipped_captioner_smoke_evaluation_on_100_heldout_style_scenes():
    """Every object named and pointing on flat shapes on plain backgrounds, a look training never shows (targets 0.92 and 0.80)."""
    from t2i_core.evaluation.captioning import evaluate_on_scenes
    from t2i_core.pipelines.caption import shipped_checkpoint

    folder = shipped_checkpoint("show-attend-tell")
    report = evaluate_on_scenes(Captioner.from_pretrained(folder), Vocabulary.load(folder), splits=["heldout-style"], size=100,
                                beam_sizes=[3], meteor=False, cache=False)
    metrics = report["splits"]["heldout-style"]["beam_3"]
    assert metrics["all_objects_named"] >= 0.8, metrics
    assert metrics["pointing_accuracy"] >= 0.7, metrics


def test_the_default_captioner_names_flower_colours_in_their_roles():
    from t2i_core.evaluation.captioning import evaluate_on_flowers
    from t2i_core.pipelines.caption import shipped_checkpoint

    folder = shipped_checkpoint("show-attend-tell")
    report = evaluate_on_flowers(Captioner.from_pretrained(folder), Vocabulary.load(folder), splits=["test"], size=50,
                                 beam_sizes=[3], cache=False)
    assert report["splits"]["flowers-test"]["beam_3"]["roles_named"] >= 0.9, report


@pytest.fixture(scope="module")
def shipped_report():
    from t2i_core.evaluation import shipped_results

    report = shipped_results("caption")
    assert report is not None, "t2i_core/evaluation/results/caption.json is missing"
    return report


def test_shipped_caption_report_covers_every_split_and_holds_its_level(shipped_report):
    """At beam 3 the issue's targets: pointing 0.85 test / 0.80 held-out style (measured 0.997 / 0.995), every
    (colour, shape) named 0.97 test (0.984; 0.966 by the captioner before it) / 0.92 held-out style (0.986)."""
    splits = shipped_report["models"]["show-attend-tell"]["splits"]
    assert {"test", "heldout-combos", "heldout-style", "flowers-test"} <= set(splits)
    test, style = splits["test"]["beam_3"], splits["heldout-style"]["beam_3"]
    assert test["pointing_accuracy"] >= 0.85 and style["pointing_accuracy"] >= 0.80, (test, style)
    assert test["all_objects_named"] >= 0.97 and style["all_objects_named"] >= 0.92, (test, style)
    assert splits["flowers-test"]["beam_3"]["roles_named"] >= 0.95


def test_the_default_captioner_reads_the_generators_flowers():
    """A smoke round trip through the shipped checkpoints (a broken captioner or generator cannot land):
    24 seen prompts, each drawn once by the USE generator and captioned; measured 0.915 on 200."""
    from t2i_core.evaluation.round_trip import evaluate_round_trip
    from t2i_core.evaluation.text2image import seen_prompts
    from t2i_core.pipelines.caption import CaptionPipeline
    from t2i_core.pipelines.text2image import Text2ImagePipeline

    generator, captioner = Text2ImagePipeline("use"), CaptionPipeline("show-attend-tell")
    report = evaluate_round_trip(generator, captioner, seen_prompts(24), seed=0)  # as `eval round-trip` calls it
    assert report["cycle_score"] >= 0.85, report


def test_shipped_round_trip_cycle_score_meets_its_target():
    """Seen prompts -> shipped USE generator -> flower -> default captioner: both colours named in their roles.

    Measured 0.915 with the CPU-trained generator and the eleventh session's captioner (target 0.85; 0.935 with the
    captioner before it, 0.970 with the GPU-trained pair before that); 0.385 before the captioner learned from generated flowers, when it described half of them
    as scenes. Chance is about 1/49."""
    from t2i_core.evaluation import shipped_results

    report = shipped_results("round-trip")
    assert report is not None, "t2i_core/evaluation/results/round-trip.json is missing (python -m t2i_core eval round-trip -o ...)"
    assert report["n"] >= 200 and report["cycle_score"] >= 0.85, report
