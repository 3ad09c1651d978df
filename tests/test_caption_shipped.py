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
    result = shipped(scene.image, beam_size=3)
    assert np.allclose(result.attention.sum(axis=(1, 2)), 1.0)
    peaks = {np.unravel_index(np.argmax(m), m.shape) for m in result.attention}
    assert len(peaks) >= 3, "every word looks at the same place"
    flat = result.attention.reshape(len(result.words), -1)
    assert np.abs(flat[:, None, :] - flat[None, :, :]).sum(2).max() > 0.5


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
    assert len(result.words) >= 4 and not result.has_attention
    assert np.allclose(result.attention, 1.0 / result.attention[0].size)
